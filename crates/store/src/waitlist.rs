//! Waiting lists per offer, first come first served.

use passgenau_domain::ids::{CustomerId, HouseholdId, OfferId, PlacementId, WaitlistEntryId};
use std::collections::HashMap;

use diesel::prelude::*;

use passgenau_domain::status::WaitlistStatus;

use crate::codec::{enum_from_str, id_from_str, opt_id};
use crate::connection::DbConnection;
use crate::error::{StoreError, StoreResult};
use crate::personal::{Personal, Subjects};
use crate::records::{from_db_time, to_db_time};
use crate::schema::waitlist;

#[derive(Debug, Clone, PartialEq)]
pub struct WaitlistEntry {
    pub id: WaitlistEntryId,
    pub offer_id: OfferId,
    pub customer_id: CustomerId,
    pub status: WaitlistStatus,
    pub allocation_id: Option<PlacementId>,
    pub created_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl Subjects for WaitlistEntry {
    fn subjects(&self) -> Vec<(Option<CustomerId>, Option<HouseholdId>)> {
        vec![(Some(self.customer_id), None)]
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = waitlist)]
struct Row {
    id: String,
    offer_id: String,
    customer_id: String,
    status: String,
    allocation_id: Option<String>,
    created_by: String,
    created_at: chrono::NaiveDateTime,
}

fn entry(r: Row) -> StoreResult<WaitlistEntry> {
    Ok(WaitlistEntry {
        id: id_from_str(&r.id)?,
        offer_id: id_from_str(&r.offer_id)?,
        customer_id: id_from_str(&r.customer_id)?,
        status: enum_from_str(&r.status)?,
        allocation_id: opt_id(r.allocation_id.as_deref())?,
        created_by: r.created_by,
        created_at: from_db_time(r.created_at),
    })
}

pub fn add(conn: &mut DbConnection, e: &WaitlistEntry) -> StoreResult<()> {
    diesel::insert_into(waitlist::table)
        .values((
            waitlist::id.eq(e.id.to_string()),
            waitlist::offer_id.eq(e.offer_id.to_string()),
            waitlist::customer_id.eq(e.customer_id.to_string()),
            waitlist::status.eq(e.status.as_str()),
            waitlist::created_by.eq(&e.created_by),
            waitlist::created_at.eq(to_db_time(e.created_at)),
            waitlist::updated_at.eq(to_db_time(e.created_at)),
        ))
        .execute(conn)
        .map_err(|e| match StoreError::from(e) {
            StoreError::Conflict { .. } => StoreError::Conflict {
                code: "already_waitlisted",
                message: "the customer is already waiting for this offer".into(),
            },
            other => other,
        })?;
    Ok(())
}

/// Waiting entries of an offer, first come first served.
/// An offer's waiting customers, next in line first; sealed: the entries name them.
pub fn waiting(conn: &mut DbConnection, offer_id: OfferId) -> StoreResult<Personal<Vec<WaitlistEntry>>> {
    waitlist::table
        .filter(waitlist::offer_id.eq(offer_id.to_string()))
        .filter(waitlist::status.eq(WaitlistStatus::Waiting.as_str()))
        .order(waitlist::id.asc())
        .select(Row::as_select())
        .load(conn)?
        .into_iter()
        .map(entry)
        .collect::<StoreResult<Vec<_>>>()
        .map(Personal::seal)
}

/// Number of waiting customers per offer.
pub fn waiting_counts(conn: &mut DbConnection, offer_ids: &[OfferId]) -> StoreResult<HashMap<OfferId, i64>> {
    let keys: Vec<String> = offer_ids.iter().map(ToString::to_string).collect();
    let mut out = HashMap::new();
    for chunk in keys.chunks(1_000) {
        let rows: Vec<(String, i64)> = waitlist::table
            .filter(waitlist::offer_id.eq_any(chunk))
            .filter(waitlist::status.eq(WaitlistStatus::Waiting.as_str()))
            .group_by(waitlist::offer_id)
            .select((waitlist::offer_id, diesel::dsl::count_star()))
            .load(conn)?;
        for (id, n) in rows {
            out.insert(id_from_str(&id)?, n);
        }
    }
    Ok(out)
}

/// Marks a waiting entry as promoted to the given placement (or removed, without one).
pub fn close(
    conn: &mut DbConnection,
    id: WaitlistEntryId,
    allocation_id: Option<PlacementId>,
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<()> {
    diesel::update(waitlist::table.find(id.to_string()))
        .set((
            waitlist::status.eq(if allocation_id.is_some() {
                WaitlistStatus::Promoted
            } else {
                WaitlistStatus::Removed
            }
            .as_str()),
            waitlist::allocation_id.eq(allocation_id.map(|a| a.to_string())),
            waitlist::updated_at.eq(to_db_time(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Every waiting-list entry of a customer, whatever its state (the access export).
pub fn of_customer(
    conn: &mut DbConnection,
    customer: CustomerId,
) -> StoreResult<Personal<Vec<WaitlistEntry>>> {
    waitlist::table
        .filter(waitlist::customer_id.eq(customer.to_string()))
        .order(waitlist::id.asc())
        .select(Row::as_select())
        .load(conn)?
        .into_iter()
        .map(entry)
        .collect::<StoreResult<Vec<_>>>()
        .map(Personal::seal)
}
