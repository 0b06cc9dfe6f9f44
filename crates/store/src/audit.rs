//! The audit log: who read or changed which customer's or household's data, when, and
//! through which route (§ 35 SGB I, § 67a SGB X with § 22 Abs. 2 BDSG). Append-only.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use passgenau_domain::ids::{CustomerId, HouseholdId};
use uuid::Uuid;

use crate::codec::{id_from_str, opt_id};
use crate::connection::DbConnection;
use crate::error::{StoreError, StoreResult};
use crate::records::{from_db_time, to_db_time, Page, PageOf};
use crate::schema::audit_log;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Read,
    Create,
    Update,
    Delete,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }

    fn parse(s: &str) -> StoreResult<Action> {
        match s {
            "read" => Ok(Action::Read),
            "create" => Ok(Action::Create),
            "update" => Ok(Action::Update),
            "delete" => Ok(Action::Delete),
            other => Err(StoreError::corrupt(other)),
        }
    }
}

#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub role: String,
    pub action: Action,
    pub route: String,
    pub customer_id: Option<CustomerId>,
    pub household_id: Option<HouseholdId>,
    /// For changes: the names of the fields that changed (never their values).
    pub fields: Option<String>,
    /// The account (a user's or an API key's ID) an entry of account management is about.
    pub account_id: Option<Uuid>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_log)]
#[diesel(treat_none_as_default_value = false)]
struct AuditRow {
    id: String,
    at: chrono::NaiveDateTime,
    actor: String,
    role: String,
    action: String,
    route: String,
    customer_id: Option<String>,
    household_id: Option<String>,
    fields: Option<String>,
    account_id: Option<String>,
}

/// Rows per INSERT statement of [`append`] (within SQLite's limit of bound parameters).
pub const ROWS_PER_INSERT: usize = 500;

/// Appends entries, one statement per [`ROWS_PER_INSERT`]; callers that append more
/// than that at once do it inside their transaction.
pub fn append(conn: &mut DbConnection, entries: &[AuditEntry]) -> StoreResult<()> {
    let rows: Vec<AuditRow> = entries
        .iter()
        .map(|e| AuditRow {
            id: e.id.to_string(),
            at: to_db_time(e.at),
            actor: e.actor.clone(),
            role: e.role.clone(),
            action: e.action.as_str().to_string(),
            route: e.route.clone(),
            customer_id: e.customer_id.map(|c| c.to_string()),
            household_id: e.household_id.map(|h| h.to_string()),
            fields: e.fields.clone(),
            account_id: e.account_id.map(|u| u.to_string()),
        })
        .collect();
    crate::insert_rows!(conn, audit_log::table, &rows, ROWS_PER_INSERT, copy)?;
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub customer_id: Option<CustomerId>,
    pub actor: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub account_id: Option<Uuid>,
}

pub fn list(conn: &mut DbConnection, filter: &AuditFilter, page: &Page) -> StoreResult<PageOf<AuditEntry>> {
    let mut q = audit_log::table.select(AuditRow::as_select()).into_boxed();
    if let Some(c) = filter.customer_id {
        q = q.filter(audit_log::customer_id.eq(c.to_string()));
    }
    if let Some(a) = &filter.actor {
        q = q.filter(audit_log::actor.eq(a.clone()));
    }
    if let Some(s) = filter.since {
        q = q.filter(audit_log::at.ge(to_db_time(s)));
    }
    if let Some(u) = filter.account_id {
        q = q.filter(audit_log::account_id.eq(u.to_string()));
    }
    if let Some(after) = &page.after {
        q = q.filter(audit_log::id.gt(after.clone()));
    }
    let rows = q.order(audit_log::id.asc()).limit(page.limit + 1).load(conn)?;
    let entries = rows
        .into_iter()
        .map(|r| {
            Ok(AuditEntry {
                id: id_from_str(&r.id)?,
                at: from_db_time(r.at),
                action: Action::parse(&r.action)?,
                actor: r.actor,
                role: r.role,
                route: r.route,
                customer_id: opt_id(r.customer_id.as_deref())?,
                household_id: opt_id(r.household_id.as_deref())?,
                fields: r.fields,
                account_id: r.account_id.as_deref().map(id_from_str).transpose()?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(PageOf::from_rows(entries, page.limit, |e| e.id.to_string()))
}

/// An entry as stored, every column as its text, for the seal (`app::audit_seal`): the
/// seal covers what the database holds, so a row a parser would refuse is still named.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
pub struct StoredEntry {
    pub id: String,
    pub at: chrono::NaiveDateTime,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub route: String,
    pub customer_id: Option<String>,
    pub household_id: Option<String>,
    pub fields: Option<String>,
    pub account_id: Option<String>,
    /// The entry's place in the chain, from 1; None until it is sealed.
    pub seal_pos: Option<i64>,
    /// The chain's MAC up to and including this entry (hex).
    pub seal: Option<String>,
}

/// Serialises sealers until the transaction ends (PostgreSQL: a transaction-scoped
/// advisory lock; SQLite has one writer), so two instances never extend the chain at once.
pub fn lock_seal(conn: &mut DbConnection) -> StoreResult<()> {
    if let DbConnection::Postgresql(pg) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext('passgenau audit seal'))").execute(pg)?;
    }
    Ok(())
}

/// The last sealed entry's place and seal.
pub fn seal_head(conn: &mut DbConnection) -> StoreResult<Option<(i64, String)>> {
    let row: Option<(Option<i64>, Option<String>)> = audit_log::table
        .filter(audit_log::seal_pos.is_not_null())
        .order(audit_log::seal_pos.desc())
        .select((audit_log::seal_pos, audit_log::seal))
        .first(conn)
        .optional()?;
    Ok(row.and_then(|(p, s)| Some((p?, s.unwrap_or_default()))))
}

/// Up to `limit` entries not sealed yet, oldest first.
pub fn unsealed(conn: &mut DbConnection, limit: i64) -> StoreResult<Vec<StoredEntry>> {
    Ok(audit_log::table
        .filter(audit_log::seal_pos.is_null())
        .order((audit_log::at.asc(), audit_log::id.asc()))
        .limit(limit)
        .select(StoredEntry::as_select())
        .load(conn)?)
}

/// Gives an unsealed entry its place and seal; false if it is sealed already or gone.
pub fn set_seal(conn: &mut DbConnection, id: &str, pos: i64, seal: &str) -> StoreResult<bool> {
    let n = diesel::update(
        audit_log::table
            .filter(audit_log::id.eq(id))
            .filter(audit_log::seal_pos.is_null()),
    )
    .set((audit_log::seal_pos.eq(Some(pos)), audit_log::seal.eq(Some(seal))))
    .execute(conn)?;
    Ok(n == 1)
}

/// Up to `limit` sealed entries after place `after`, in chain order.
pub fn sealed_after(conn: &mut DbConnection, after: i64, limit: i64) -> StoreResult<Vec<StoredEntry>> {
    Ok(audit_log::table
        .filter(audit_log::seal_pos.gt(after))
        .order(audit_log::seal_pos.asc())
        .limit(limit)
        .select(StoredEntry::as_select())
        .load(conn)?)
}

/// Entries not sealed yet, and the oldest one's time.
pub fn unsealed_summary(conn: &mut DbConnection) -> StoreResult<(i64, Option<DateTime<Utc>>)> {
    let n: i64 = audit_log::table
        .filter(audit_log::seal_pos.is_null())
        .count()
        .get_result(conn)?;
    let oldest: Option<chrono::NaiveDateTime> = audit_log::table
        .filter(audit_log::seal_pos.is_null())
        .select(diesel::dsl::min(audit_log::at))
        .first(conn)?;
    Ok((n, oldest.map(from_db_time)))
}
