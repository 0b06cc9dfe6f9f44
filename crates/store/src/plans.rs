//! Yearly plans: planned entries and budgets per instrument.

use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::{StoreError, StoreResult};
use crate::records::{from_db_time, to_db_time};
use crate::schema::{plan_instruments, plans};

#[derive(Debug, Clone, PartialEq)]
pub struct PlanLine {
    pub code: String,
    pub planned_entries: i32,
    pub previous_year_planned_entries: Option<i32>,
    /// `None`: no budget cap for this instrument (capacity alone limits).
    pub budget_cents: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub year: i32,
    pub budget_cents: Option<i64>,
    pub version: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub lines: Vec<PlanLine>,
}

pub fn get(conn: &mut DbConnection, year: i32) -> StoreResult<Plan> {
    let (budget_cents, version, created_at, updated_at): (
        Option<i64>,
        i64,
        chrono::NaiveDateTime,
        chrono::NaiveDateTime,
    ) = plans::table
        .find(year)
        .select((
            plans::budget_cents,
            plans::version,
            plans::created_at,
            plans::updated_at,
        ))
        .get_result(conn)?;
    let lines = plan_instruments::table
        .filter(plan_instruments::year.eq(year))
        .order(plan_instruments::code.asc())
        .select((
            plan_instruments::code,
            plan_instruments::planned_entries,
            plan_instruments::previous_year_planned_entries,
            plan_instruments::budget_cents,
        ))
        .load::<(String, i32, Option<i32>, Option<i64>)>(conn)?
        .into_iter()
        .map(
            |(code, planned_entries, previous_year_planned_entries, budget_cents)| PlanLine {
                code,
                planned_entries,
                previous_year_planned_entries,
                budget_cents,
            },
        )
        .collect();
    Ok(Plan {
        year,
        budget_cents,
        version,
        created_at: from_db_time(created_at),
        updated_at: from_db_time(updated_at),
        lines,
    })
}

/// Replaces the plan of a year. `expected_version`: `None` creates or replaces
/// unconditionally; `Some(v)` replaces only the stored version `v` (412 otherwise).
pub fn put(conn: &mut DbConnection, plan: &Plan, expected_version: Option<i64>) -> StoreResult<()> {
    // A new plan line sums the cost committed so far (trigger of migration
    // `budget_committed`). On PostgreSQL no placement may be in flight meanwhile, or the
    // sum would miss it and the running total stay short for good: SHARE waits for the
    // writers of placements to finish and holds new ones back until this commits (plans
    // are written a few times a year). It is the first lock taken here, so no placement
    // holding a plan line waits for this transaction. SQLite: one writer at a time anyway.
    if let DbConnection::Postgresql(pg) = conn {
        diesel::sql_query("LOCK TABLE allocations IN SHARE MODE").execute(pg)?;
    }
    let existing: Option<i64> = plans::table
        .find(plan.year)
        .select(plans::version)
        .get_result(conn)
        .optional()?;
    match (existing, expected_version) {
        (Some(v), Some(e)) if v != e => return Err(StoreError::PreconditionFailed),
        (None, Some(_)) => return Err(StoreError::PreconditionFailed),
        _ => {}
    }
    let now = to_db_time(plan.updated_at);
    match existing {
        Some(_) => {
            diesel::update(plans::table.find(plan.year))
                .set((
                    plans::budget_cents.eq(plan.budget_cents),
                    plans::version.eq(plan.version),
                    plans::updated_at.eq(now),
                ))
                .execute(conn)?;
            diesel::delete(plan_instruments::table.filter(plan_instruments::year.eq(plan.year)))
                .execute(conn)?;
        }
        None => {
            diesel::insert_into(plans::table)
                .values((
                    plans::year.eq(plan.year),
                    plans::budget_cents.eq(plan.budget_cents),
                    plans::version.eq(plan.version),
                    plans::created_at.eq(to_db_time(plan.created_at)),
                    plans::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
    }
    for line in &plan.lines {
        diesel::insert_into(plan_instruments::table)
            .values((
                plan_instruments::year.eq(plan.year),
                plan_instruments::code.eq(&line.code),
                plan_instruments::planned_entries.eq(line.planned_entries),
                plan_instruments::previous_year_planned_entries.eq(line.previous_year_planned_entries),
                plan_instruments::budget_cents.eq(line.budget_cents),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The current version of a year's plan, if any.
pub fn version(conn: &mut DbConnection, year: i32) -> StoreResult<Option<i64>> {
    Ok(plans::table
        .find(year)
        .select(plans::version)
        .get_result(conn)
        .optional()?)
}

/// A plan line's budget and the cost committed against it (kept by the database on every
/// change of a placement: migration `budget_committed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetLine {
    pub budget_cents: i64,
    pub committed_cents: i64,
}

/// What is committed against each plan line of a year, by instrument: the running totals
/// the placements check under the line's lock ([`lock_budget_line`]), so the budget report
/// shows the very numbers the decisions saw.
pub fn committed(conn: &mut DbConnection, year: i32) -> StoreResult<std::collections::HashMap<String, i64>> {
    Ok(plan_instruments::table
        .filter(plan_instruments::year.eq(year))
        .select((plan_instruments::code, plan_instruments::committed_cents))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect())
}

/// The budget of an instrument in a year and what is committed against it; `None` when no
/// plan line or no cap is set. Read without a lock: for estimates (cohort runs), not for
/// a decision that commits budget (see [`lock_budget_line`]).
pub fn budget_line(conn: &mut DbConnection, year: i32, code: &str) -> StoreResult<Option<BudgetLine>> {
    read_budget_line(conn, year, code, false)
}

/// [`budget_line`] under the line's lock (PostgreSQL: `FOR UPDATE`, held to the end of
/// the transaction; SQLite: the transaction holds the database's write lock). Invariant 2:
/// every placement that commits budget checks and adds to it under this lock.
pub fn lock_budget_line(conn: &mut DbConnection, year: i32, code: &str) -> StoreResult<Option<BudgetLine>> {
    read_budget_line(conn, year, code, true)
}

fn read_budget_line(
    conn: &mut DbConnection,
    year: i32,
    code: &str,
    lock: bool,
) -> StoreResult<Option<BudgetLine>> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
        budget_cents: Option<i64>,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        committed_cents: i64,
    }
    let sql = match (&*conn, lock) {
        (DbConnection::Postgresql(_), true) => {
            "SELECT budget_cents, committed_cents FROM plan_instruments WHERE year = $1 AND code = $2 FOR UPDATE"
        }
        (DbConnection::Postgresql(_), false) => {
            "SELECT budget_cents, committed_cents FROM plan_instruments WHERE year = $1 AND code = $2"
        }
        (DbConnection::Sqlite(_), _) => {
            "SELECT budget_cents, committed_cents FROM plan_instruments WHERE year = ? AND code = ?"
        }
    };
    let row: Option<Row> = crate::on_backend!(conn, |c| diesel::sql_query(sql)
        .bind::<diesel::sql_types::Integer, _>(year)
        .bind::<diesel::sql_types::Text, _>(code)
        .get_result(c)
        .optional())?;
    Ok(row.and_then(|r| {
        r.budget_cents.map(|budget_cents| BudgetLine {
            budget_cents,
            committed_cents: r.committed_cents,
        })
    }))
}
