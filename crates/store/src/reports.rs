//! Aggregates for the reports, computed in the database (counts and sums per group).

use passgenau_domain::ids::{OfferId, ProviderId};
use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::codec::id_from_str;
use crate::connection::DbConnection;
use crate::error::StoreResult;
use crate::schema::{allocations, offers};

fn year_bounds(year: i32) -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(NaiveDate::MIN),
        NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(NaiveDate::MAX),
    )
}

/// Entries (*Eintritte*: placements started in the year) per instrument.
pub fn entries_by_instrument(conn: &mut DbConnection, year: i32) -> StoreResult<HashMap<String, i64>> {
    let (from, to) = year_bounds(year);
    Ok(allocations::table
        .filter(allocations::started_on.between(from, to))
        .group_by(allocations::instrument_code)
        .select((allocations::instrument_code, diesel::dsl::count_star()))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect())
}

/// Placements of a budget year counted per instrument and status.
pub fn status_counts(conn: &mut DbConnection, year: i32) -> StoreResult<Vec<(String, String, i64)>> {
    Ok(allocations::table
        .filter(allocations::budget_year.eq(year))
        .group_by((allocations::instrument_code, allocations::status))
        .select((
            allocations::instrument_code,
            allocations::status,
            diesel::dsl::count_star(),
        ))
        .load(conn)?)
}

/// Cost of a budget year's placements per instrument and status.
pub fn cost_by_status(conn: &mut DbConnection, year: i32) -> StoreResult<Vec<(String, String, i64)>> {
    Ok(allocations::table
        .filter(allocations::budget_year.eq(year))
        .group_by((allocations::instrument_code, allocations::status))
        .select((
            allocations::instrument_code,
            allocations::status,
            diesel::dsl::sql::<BigInt>("CAST(COALESCE(SUM(cost_cents), 0) AS BIGINT)"),
        ))
        .load(conn)?)
}

/// One offer of the utilisation report.
#[derive(Debug, Clone)]
pub struct OfferUse {
    pub offer_id: OfferId,
    pub title: String,
    pub instrument_code: String,
    pub provider_id: ProviderId,
    pub planned_places: i32,
    pub max_places: i32,
    /// Placements of the offer that started in the year.
    pub entries: i64,
    /// Placements active now (reserved, confirmed, started).
    pub active: i64,
    /// Active placements that have not started yet (reserved, confirmed).
    pub pending: i64,
}

/// Offers running in the year with their entries and current occupancy.
pub fn offer_use(conn: &mut DbConnection, year: i32) -> StoreResult<Vec<OfferUse>> {
    let (from, to) = year_bounds(year);
    let rows: Vec<(String, String, String, String, i32, i32)> = offers::table
        .filter(offers::starts_on.le(to))
        .filter(offers::ends_on.ge(from))
        .order(offers::id.asc())
        .select((
            offers::id,
            offers::title,
            offers::instrument_code,
            offers::provider_id,
            offers::planned_places,
            offers::max_places,
        ))
        .load(conn)?;
    let ids: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    let mut entries: HashMap<String, i64> = HashMap::new();
    let mut by_status: HashMap<(String, String), i64> = HashMap::new();
    for chunk in ids.chunks(1_000) {
        let e: Vec<(String, i64)> = allocations::table
            .filter(allocations::offer_id.eq_any(chunk))
            .filter(allocations::started_on.between(from, to))
            .group_by(allocations::offer_id)
            .select((allocations::offer_id, diesel::dsl::count_star()))
            .load(conn)?;
        entries.extend(e);
        let s: Vec<(String, String, i64)> = allocations::table
            .filter(allocations::offer_id.eq_any(chunk))
            .filter(allocations::status.eq_any(["reserved", "confirmed", "started"]))
            .group_by((allocations::offer_id, allocations::status))
            .select((
                allocations::offer_id,
                allocations::status,
                diesel::dsl::count_star(),
            ))
            .load(conn)?;
        for (o, st, n) in s {
            by_status.insert((o, st), n);
        }
    }
    rows.into_iter()
        .map(|(id, title, code, provider, planned, max)| {
            let get = |s: &str| by_status.get(&(id.clone(), s.to_string())).copied().unwrap_or(0);
            let pending = get("reserved") + get("confirmed");
            Ok(OfferUse {
                offer_id: id_from_str(&id)?,
                title,
                instrument_code: code,
                provider_id: id_from_str(&provider)?,
                planned_places: planned,
                max_places: max,
                entries: entries.get(&id).copied().unwrap_or(0),
                active: pending + get("started"),
                pending,
            })
        })
        .collect()
}

/// The target groups recorded at entry of every placement that started in the year (one
/// JSON array per entry; `None` for entries recorded before target groups were kept).
pub fn entry_target_groups(conn: &mut DbConnection, year: i32) -> StoreResult<Vec<Option<String>>> {
    let (from, to) = year_bounds(year);
    Ok(allocations::table
        .filter(allocations::started_on.between(from, to))
        .select(allocations::entry_target_groups)
        .load(conn)?)
}

/// One event of the change feed.
#[derive(Debug, Clone)]
pub struct FeedEvent {
    pub seq: i64,
    pub id: String,
    pub at: chrono::DateTime<chrono::Utc>,
    pub allocation_id: String,
    pub customer_id: String,
    pub offer_id: String,
    pub instrument_code: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub on_date: Option<NaiveDate>,
}

type FeedRow = (
    i64,
    String,
    chrono::NaiveDateTime,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    Option<NaiveDate>,
);

/// Events after `after_seq`, at or after `since`, in `seq` order.
pub fn feed(
    conn: &mut DbConnection,
    after_seq: Option<i64>,
    since: Option<chrono::DateTime<chrono::Utc>>,
    limit: i64,
) -> StoreResult<Vec<FeedEvent>> {
    use crate::schema::allocation_events as e;
    let mut q = e::table.into_boxed();
    if let Some(s) = after_seq {
        q = q.filter(e::seq.gt(s));
    }
    if let Some(t) = since {
        q = q.filter(e::at.ge(crate::records::to_db_time(t)));
    }
    let rows: Vec<FeedRow> = q
        .order(e::seq.asc())
        .limit(limit)
        .select((
            e::seq,
            e::id,
            e::at,
            e::allocation_id,
            e::customer_id,
            e::offer_id,
            e::instrument_code,
            e::from_status,
            e::to_status,
            e::on_date,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| FeedEvent {
            seq: r.0,
            id: r.1,
            at: crate::records::from_db_time(r.2),
            allocation_id: r.3,
            customer_id: r.4,
            offer_id: r.5,
            instrument_code: r.6,
            from_status: r.7,
            to_status: r.8,
            on_date: r.9,
        })
        .collect())
}
