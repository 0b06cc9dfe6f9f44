//! Placements, their change events, and the locks that keep capacity and budget exact.
//!
//! Lock order (every transaction that touches placements takes them in this order): first
//! the offer row (`lock_offer`), then the plan lines of the instrument, by ascending year
//! (`plans::lock_budget_line`, or the running total's trigger when a placement's status
//! changes whether it commits budget), last the change feed (`order_feed`, taken by
//! `append_event`). On SQLite the write transaction is `BEGIN IMMEDIATE`, which holds the
//! database's single write lock, so the row locks are not needed there.

use passgenau_domain::ids::{CustomerId, HouseholdId, OfferId, PlacementId, ProviderId};
use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use passgenau_domain::eligibility::PastPlacement;
use passgenau_domain::placement::PlacementStatus;
use uuid::Uuid;

use crate::codec::{enum_from_str, enum_to_str, id_from_str};
use crate::connection::DbConnection;
use crate::error::{StoreError, StoreResult};
use crate::personal::{Personal, Subjects};
use crate::records::{from_db_time, to_db_time, Meta, Page, PageOf};
use crate::schema::{allocation_events, allocations, offers};

/// How a placement came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Specialist,
    Waitlist,
    Cohort,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AllocationRecord {
    pub meta: Meta<PlacementId>,
    pub customer_id: CustomerId,
    pub offer_id: OfferId,
    pub instrument_code: String,
    pub status: PlacementStatus,
    pub note: Option<String>,
    pub cost_cents: i64,
    pub budget_year: i32,
    pub started_on: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
    pub status_reason: Option<String>,
    pub override_reason: Option<String>,
    pub override_by: Option<String>,
    pub source: Source,
    pub created_by: String,
    /// The customer's target groups on the day of entry (set when the placement starts);
    /// reports count entries by them, as the BA does.
    pub entry_target_groups: Option<Vec<passgenau_domain::TargetGroup>>,
    /// The verdict the placement was made on (`None` for placements made before verdicts
    /// were kept).
    pub verdict: Option<passgenau_domain::eligibility::Verdict>,
}

impl Subjects for AllocationRecord {
    fn subjects(&self) -> Vec<(Option<CustomerId>, Option<HouseholdId>)> {
        vec![(Some(self.customer_id), None)]
    }
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = allocations)]
#[diesel(treat_none_as_null = true)]
struct AllocationRow {
    id: String,
    customer_id: String,
    offer_id: String,
    instrument_code: String,
    status: String,
    note: Option<String>,
    cost_cents: i64,
    budget_year: i32,
    started_on: Option<NaiveDate>,
    ended_on: Option<NaiveDate>,
    status_reason: Option<String>,
    override_reason: Option<String>,
    override_by: Option<String>,
    source: String,
    created_by: String,
    version: i64,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
    entry_target_groups: Option<String>,
    verdict: Option<String>,
}

impl From<&AllocationRecord> for AllocationRow {
    fn from(r: &AllocationRecord) -> Self {
        AllocationRow {
            id: r.meta.id.to_string(),
            customer_id: r.customer_id.to_string(),
            offer_id: r.offer_id.to_string(),
            instrument_code: r.instrument_code.clone(),
            status: r.status.as_str().to_string(),
            note: r.note.clone(),
            cost_cents: r.cost_cents,
            budget_year: r.budget_year,
            started_on: r.started_on,
            ended_on: r.ended_on,
            status_reason: r.status_reason.clone(),
            override_reason: r.override_reason.clone(),
            override_by: r.override_by.clone(),
            source: enum_to_str(&r.source),
            created_by: r.created_by.clone(),
            version: r.meta.version,
            created_at: to_db_time(r.meta.created_at),
            updated_at: to_db_time(r.meta.updated_at),
            entry_target_groups: r.entry_target_groups.as_ref().map(crate::codec::json_to_str),
            verdict: r.verdict.as_ref().map(crate::codec::json_to_str),
        }
    }
}

impl TryFrom<AllocationRow> for AllocationRecord {
    type Error = StoreError;
    fn try_from(r: AllocationRow) -> StoreResult<Self> {
        Ok(AllocationRecord {
            meta: Meta {
                id: id_from_str(&r.id)?,
                version: r.version,
                created_at: from_db_time(r.created_at),
                updated_at: from_db_time(r.updated_at),
            },
            customer_id: id_from_str(&r.customer_id)?,
            offer_id: id_from_str(&r.offer_id)?,
            instrument_code: r.instrument_code,
            status: enum_from_str(&r.status)?,
            note: r.note,
            cost_cents: r.cost_cents,
            budget_year: r.budget_year,
            started_on: r.started_on,
            ended_on: r.ended_on,
            status_reason: r.status_reason,
            override_reason: r.override_reason,
            override_by: r.override_by,
            source: enum_from_str(&r.source)?,
            created_by: r.created_by,
            entry_target_groups: r
                .entry_target_groups
                .as_deref()
                .map(crate::codec::json_from_str)
                .transpose()?,
            verdict: r
                .verdict
                .as_deref()
                .map(crate::codec::json_from_str)
                .transpose()?,
        })
    }
}

fn active_strs() -> [&'static str; 3] {
    PlacementStatus::ACTIVE.map(PlacementStatus::as_str)
}

/// Locks the offer row until the transaction ends (PostgreSQL); every placement change of
/// that offer serialises here, across server instances.
pub fn lock_offer(conn: &mut DbConnection, offer_id: OfferId) -> StoreResult<()> {
    if let DbConnection::Postgresql(pg) = conn {
        diesel::sql_query("SELECT id FROM offers WHERE id = $1 FOR UPDATE")
            .bind::<diesel::sql_types::Text, _>(offer_id.to_string())
            .execute(pg)?;
    }
    Ok(())
}

/// Active placements (reserved, confirmed, started) of an offer.
pub fn count_active(conn: &mut DbConnection, offer_id: OfferId) -> StoreResult<i64> {
    // on the concrete connection (see `on_backend!`): it runs inside every placement's
    // write transaction, where SQLite's one writer waits for it
    let key = offer_id.to_string();
    Ok(crate::on_backend!(conn, |c| allocations::table
        .filter(allocations::offer_id.eq(&key))
        .filter(allocations::status.eq_any(active_strs()))
        .count()
        .get_result(c))?)
}

/// Active placements per offer, for many offers at once.
pub fn active_counts(conn: &mut DbConnection, offer_ids: &[OfferId]) -> StoreResult<HashMap<OfferId, i64>> {
    let keys: Vec<String> = offer_ids.iter().map(ToString::to_string).collect();
    let mut out = HashMap::with_capacity(keys.len());
    for chunk in keys.chunks(1_000) {
        let rows: Vec<(String, i64)> = allocations::table
            .filter(allocations::offer_id.eq_any(chunk))
            .filter(allocations::status.eq_any(active_strs()))
            .group_by(allocations::offer_id)
            .select((allocations::offer_id, diesel::dsl::count_star()))
            .load(conn)?;
        for (id, n) in rows {
            out.insert(id_from_str(&id)?, n);
        }
    }
    Ok(out)
}

/// Whether the customer holds an active placement in the offer.
pub fn has_active(conn: &mut DbConnection, customer_id: CustomerId, offer_id: OfferId) -> StoreResult<bool> {
    Ok(diesel::select(diesel::dsl::exists(
        allocations::table
            .filter(allocations::customer_id.eq(customer_id.to_string()))
            .filter(allocations::offer_id.eq(offer_id.to_string()))
            .filter(allocations::status.eq_any(active_strs())),
    ))
    .get_result(conn)?)
}

pub fn insert(conn: &mut DbConnection, r: &AllocationRecord) -> StoreResult<()> {
    diesel::insert_into(allocations::table)
        .values(AllocationRow::from(r))
        .execute(conn)
        .map_err(|e| match StoreError::from(e) {
            StoreError::Conflict { .. } => StoreError::Conflict {
                code: "already_allocated",
                message: "the customer already holds an active placement in this offer".into(),
            },
            other => other,
        })?;
    Ok(())
}

/// A placement, sealed: it names its customer.
pub fn get(conn: &mut DbConnection, id: PlacementId) -> StoreResult<Personal<AllocationRecord>> {
    let rec: AllocationRecord = allocations::table
        .find(id.to_string())
        .select(AllocationRow::as_select())
        .get_result(conn)?
        .try_into()?;
    Ok(Personal::seal(rec))
}

/// The offer a placement is in (to lock it before the placement is read).
pub fn offer_of(conn: &mut DbConnection, id: PlacementId) -> StoreResult<OfferId> {
    let offer: String = allocations::table
        .find(id.to_string())
        .select(allocations::offer_id)
        .get_result(conn)?;
    id_from_str(&offer)
}

/// Writes a changed placement if its stored version is still `expected_version`.
pub fn update(conn: &mut DbConnection, r: &AllocationRecord, expected_version: i64) -> StoreResult<()> {
    let n = diesel::update(
        allocations::table
            .filter(allocations::id.eq(r.meta.id.to_string()))
            .filter(allocations::version.eq(expected_version)),
    )
    .set(AllocationRow::from(r))
    .execute(conn)?;
    if n == 0 {
        return Err(StoreError::PreconditionFailed);
    }
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct AllocationFilter {
    pub customer_id: Option<CustomerId>,
    pub offer_id: Option<OfferId>,
    pub status: Option<PlacementStatus>,
    /// Only placements in offers of this provider.
    pub provider_id: Option<ProviderId>,
}

pub fn list(
    conn: &mut DbConnection,
    f: &AllocationFilter,
    page: &Page,
) -> StoreResult<Personal<PageOf<AllocationRecord>>> {
    let mut q = allocations::table.select(AllocationRow::as_select()).into_boxed();
    if let Some(c) = f.customer_id {
        q = q.filter(allocations::customer_id.eq(c.to_string()));
    }
    if let Some(o) = f.offer_id {
        q = q.filter(allocations::offer_id.eq(o.to_string()));
    }
    if let Some(s) = f.status {
        q = q.filter(allocations::status.eq(s.as_str()));
    }
    if let Some(p) = f.provider_id {
        q = q.filter(
            allocations::offer_id.eq_any(
                offers::table
                    .filter(offers::provider_id.eq(p.to_string()))
                    .select(offers::id),
            ),
        );
    }
    if let Some(after) = &page.after {
        q = q.filter(allocations::id.gt(after.clone()));
    }
    let rows = q.order(allocations::id.asc()).limit(page.limit + 1).load(conn)?;
    let recs = rows
        .into_iter()
        .map(AllocationRecord::try_from)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Personal::seal(PageOf::from_rows(recs, page.limit, |r| {
        r.meta.id.to_string()
    })))
}

/// instrument, provider, status, started, ended, offer, the offer's start and end, made at
type HistoryRow = (
    String,
    String,
    String,
    Option<NaiveDate>,
    Option<NaiveDate>,
    String,
    NaiveDate,
    NaiveDate,
    chrono::NaiveDateTime,
);

/// A customer's placements as the eligibility rules read them, with the offer's provider.
pub fn history(
    conn: &mut DbConnection,
    customer_id: CustomerId,
) -> StoreResult<(Vec<PastPlacement>, Vec<OfferId>)> {
    // on the concrete connection: see `on_backend!`
    let key = customer_id.to_string();
    let rows: Vec<HistoryRow> = crate::on_backend!(conn, |c| allocations::table
        .inner_join(offers::table)
        .filter(allocations::customer_id.eq(&key))
        .select((
            allocations::instrument_code,
            offers::provider_id,
            allocations::status,
            allocations::started_on,
            allocations::ended_on,
            allocations::offer_id,
            offers::starts_on,
            offers::ends_on,
            allocations::created_at,
        ))
        .load(c))?;
    let mut history = CustomerHistory::default();
    for row in rows {
        add_to_history(&mut history, row)?;
    }
    Ok(history)
}

/// Adds one placement row to a customer's history: the placement as the rules read it,
/// and its offer among those held now if it is active.
fn add_to_history(history: &mut CustomerHistory, row: HistoryRow) -> StoreResult<()> {
    let (code, provider, status, started_on, ended_on, offer, offer_from, offer_to, created) = row;
    let status: PlacementStatus = enum_from_str(&status)?;
    if status.is_active() {
        history.1.push(id_from_str(&offer)?);
    }
    history.0.push(PastPlacement {
        instrument_code: code,
        provider_id: id_from_str(&provider)?,
        started_on,
        ended_on,
        active: status.is_active(),
        offer_period: (offer_from, offer_to),
        reserved_on: created.date(),
    });
    Ok(())
}

/// One state change, for the change feed.
#[derive(Debug, Clone)]
pub struct AllocationEvent {
    pub id: Uuid,
    pub allocation_id: PlacementId,
    pub customer_id: CustomerId,
    pub offer_id: OfferId,
    pub instrument_code: String,
    pub from_status: Option<PlacementStatus>,
    pub to_status: PlacementStatus,
    pub on_date: Option<NaiveDate>,
    pub reason: Option<String>,
    pub actor: String,
    pub role: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// Key of the advisory lock that orders the change feed on PostgreSQL.
const FEED_LOCK_KEY: i64 = 0x7061_7373_6665_6564; // "passfeed"

/// Makes `seq` follow commit order on PostgreSQL: a sequence value is taken at insert,
/// but transactions commit in any order, so a reader could pass a lower `seq` that
/// commits later and never see it. Holding this transaction-scoped lock from the event
/// insert to the commit serialises that short window; SQLite's single writer already
/// does.
fn order_feed(conn: &mut DbConnection) -> StoreResult<()> {
    if let DbConnection::Postgresql(pg) = conn {
        diesel::sql_query(format!("SELECT pg_advisory_xact_lock({FEED_LOCK_KEY})")).execute(pg)?;
    }
    Ok(())
}

fn event_row(e: &AllocationEvent) -> EventRow {
    EventRow {
        id: e.id.to_string(),
        allocation_id: e.allocation_id.to_string(),
        customer_id: e.customer_id.to_string(),
        offer_id: e.offer_id.to_string(),
        instrument_code: e.instrument_code.clone(),
        from_status: e.from_status.map(|s| s.as_str().to_string()),
        to_status: e.to_status.as_str().to_string(),
        on_date: e.on_date,
        reason: e.reason.clone(),
        actor: e.actor.clone(),
        role: e.role.clone(),
        at: to_db_time(e.at),
    }
}

#[derive(Insertable, Queryable, Selectable)]
#[diesel(table_name = allocation_events)]
struct EventRow {
    id: String,
    allocation_id: String,
    customer_id: String,
    offer_id: String,
    instrument_code: String,
    from_status: Option<String>,
    to_status: String,
    on_date: Option<NaiveDate>,
    reason: Option<String>,
    actor: String,
    role: String,
    at: chrono::NaiveDateTime,
}

/// Inserts many placements with their events (the demo seed).
pub fn insert_many(
    conn: &mut DbConnection,
    recs: &[AllocationRecord],
    events: &[AllocationEvent],
) -> StoreResult<()> {
    let rows: Vec<AllocationRow> = recs.iter().map(AllocationRow::from).collect();
    crate::insert_rows!(&mut *conn, allocations::table, &rows, 1_000)?;
    order_feed(conn)?;
    let rows: Vec<EventRow> = events.iter().map(event_row).collect();
    crate::insert_rows!(&mut *conn, allocation_events::table, &rows, 2_000)?;
    Ok(())
}

pub fn append_event(conn: &mut DbConnection, e: &AllocationEvent) -> StoreResult<()> {
    order_feed(conn)?;
    diesel::insert_into(allocation_events::table)
        .values((
            allocation_events::id.eq(e.id.to_string()),
            allocation_events::allocation_id.eq(e.allocation_id.to_string()),
            allocation_events::customer_id.eq(e.customer_id.to_string()),
            allocation_events::offer_id.eq(e.offer_id.to_string()),
            allocation_events::instrument_code.eq(&e.instrument_code),
            allocation_events::from_status.eq(e.from_status.map(PlacementStatus::as_str)),
            allocation_events::to_status.eq(e.to_status.as_str()),
            allocation_events::on_date.eq(e.on_date),
            allocation_events::reason.eq(&e.reason),
            allocation_events::actor.eq(&e.actor),
            allocation_events::role.eq(&e.role),
            allocation_events::at.eq(to_db_time(e.at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// A customer's placements as the rules read them, and the offers held now.
pub type CustomerHistory = (Vec<PastPlacement>, Vec<OfferId>);

/// Histories of many customers at once (cohort runs): per customer, the placements as the
/// rules read them and the offers with an active placement.
pub fn histories(
    conn: &mut DbConnection,
    customer_ids: &[CustomerId],
) -> StoreResult<HashMap<CustomerId, CustomerHistory>> {
    let keys: Vec<String> = customer_ids.iter().map(ToString::to_string).collect();
    let mut out: HashMap<CustomerId, CustomerHistory> = HashMap::new();
    for chunk in keys.chunks(1_000) {
        let rows: Vec<(String, HistoryRow)> = allocations::table
            .inner_join(offers::table)
            .filter(allocations::customer_id.eq_any(chunk))
            .select((
                allocations::customer_id,
                (
                    allocations::instrument_code,
                    offers::provider_id,
                    allocations::status,
                    allocations::started_on,
                    allocations::ended_on,
                    allocations::offer_id,
                    offers::starts_on,
                    offers::ends_on,
                    allocations::created_at,
                ),
            ))
            .load(conn)?;
        for (customer, row) in rows {
            add_to_history(out.entry(id_from_str(&customer)?).or_default(), row)?;
        }
    }
    Ok(out)
}

impl Subjects for AllocationEvent {
    fn subjects(&self) -> Vec<(Option<CustomerId>, Option<HouseholdId>)> {
        vec![(Some(self.customer_id), None)]
    }
}

/// Every state change of a customer's placements, in order (the access export).
pub fn events_of(
    conn: &mut DbConnection,
    customer: CustomerId,
) -> StoreResult<Personal<Vec<AllocationEvent>>> {
    allocation_events::table
        .filter(allocation_events::customer_id.eq(customer.to_string()))
        .order(allocation_events::seq.asc())
        .select(EventRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|r| {
            Ok(AllocationEvent {
                id: id_from_str(&r.id)?,
                allocation_id: id_from_str(&r.allocation_id)?,
                customer_id: id_from_str(&r.customer_id)?,
                offer_id: id_from_str(&r.offer_id)?,
                instrument_code: r.instrument_code,
                from_status: r.from_status.as_deref().map(enum_from_str).transpose()?,
                to_status: enum_from_str(&r.to_status)?,
                on_date: r.on_date,
                reason: r.reason,
                actor: r.actor,
                role: r.role,
                at: from_db_time(r.at),
            })
        })
        .collect::<StoreResult<Vec<_>>>()
        .map(Personal::seal)
}

/// The customers holding an active placement in the offer (reserved, confirmed,
/// started), by ID.
pub fn active_customers(conn: &mut DbConnection, offer_id: OfferId) -> StoreResult<Vec<CustomerId>> {
    allocations::table
        .filter(allocations::offer_id.eq(offer_id.to_string()))
        .filter(allocations::status.eq_any(active_strs()))
        .order(allocations::customer_id.asc())
        .select(allocations::customer_id)
        .load::<String>(conn)?
        .iter()
        .map(|s| id_from_str(s))
        .collect()
}
