//! What a merge of a duplicate customer record reads and moves. Which records conflict
//! and what survives is decided in `app::merges`; here only the queries.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use passgenau_domain::ids::{CustomerId, HouseholdId, MemberId, OfferId, RunId, WaitlistEntryId};
use passgenau_domain::placement::PlacementStatus;
use passgenau_domain::status::WaitlistStatus;

use crate::codec::id_from_str;
use crate::connection::DbConnection;
use crate::error::StoreResult;
use crate::records::{from_db_time, to_db_time};
use crate::schema::{allocation_events, allocations, household_members, run_proposals, waitlist};

/// The offers in which the customer holds an active placement (reserved, confirmed,
/// started).
pub fn active_offers(conn: &mut DbConnection, customer: CustomerId) -> StoreResult<Vec<OfferId>> {
    allocations::table
        .filter(allocations::customer_id.eq(customer.to_string()))
        .filter(allocations::status.eq_any(PlacementStatus::ACTIVE.map(PlacementStatus::as_str)))
        .select(allocations::offer_id)
        .load::<String>(conn)?
        .iter()
        .map(|id| id_from_str(id))
        .collect()
}

/// The cohort runs in which a proposal for the customer awaits a decision.
pub fn undecided_runs(conn: &mut DbConnection, customer: CustomerId) -> StoreResult<Vec<RunId>> {
    run_proposals::table
        .filter(run_proposals::customer_id.eq(customer.to_string()))
        .filter(run_proposals::decision.eq("pending"))
        .select(run_proposals::run_id)
        .distinct()
        .load::<String>(conn)?
        .iter()
        .map(|id| id_from_str(id))
        .collect()
}

/// A waiting-list entry still waiting: its ID, offer and when it was made.
pub type Waiting = (WaitlistEntryId, OfferId, DateTime<Utc>);

pub fn waiting(conn: &mut DbConnection, customer: CustomerId) -> StoreResult<Vec<Waiting>> {
    waitlist::table
        .filter(waitlist::customer_id.eq(customer.to_string()))
        .filter(waitlist::status.eq(WaitlistStatus::Waiting.as_str()))
        .select((waitlist::id, waitlist::offer_id, waitlist::created_at))
        .load::<(String, String, chrono::NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(id, offer, at)| Ok((id_from_str(&id)?, id_from_str(&offer)?, from_db_time(at))))
        .collect()
}

/// The customer's membership of a household: the member's ID and the household.
pub fn membership(
    conn: &mut DbConnection,
    customer: CustomerId,
) -> StoreResult<Option<(MemberId, HouseholdId)>> {
    household_members::table
        .filter(household_members::customer_id.eq(customer.to_string()))
        .select((household_members::id, household_members::household_id))
        .get_result::<(String, String)>(conn)
        .optional()?
        .map(|(m, h)| Ok((id_from_str(&m)?, id_from_str(&h)?)))
        .transpose()
}

/// Makes a household member the record of another customer.
pub fn move_membership(conn: &mut DbConnection, member: MemberId, to: CustomerId) -> StoreResult<()> {
    diesel::update(household_members::table.find(member.to_string()))
        .set(household_members::customer_id.eq(Some(to.to_string())))
        .execute(conn)?;
    Ok(())
}

pub fn remove_membership(conn: &mut DbConnection, member: MemberId) -> StoreResult<()> {
    diesel::delete(household_members::table.find(member.to_string())).execute(conn)?;
    Ok(())
}

/// What a move carried over.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Moved {
    pub placements: usize,
    pub waitlist_entries: usize,
    pub proposals: usize,
}

/// Gives every placement (with its history), waiting-list entry and proposal of `from`
/// to `to`. Entries to close first are the caller's to close (`close_waiting`).
pub fn move_records(conn: &mut DbConnection, from: CustomerId, to: CustomerId) -> StoreResult<Moved> {
    let (from, to) = (from.to_string(), to.to_string());
    let placements = diesel::update(allocations::table.filter(allocations::customer_id.eq(&from)))
        .set(allocations::customer_id.eq(&to))
        .execute(conn)?;
    diesel::update(allocation_events::table.filter(allocation_events::customer_id.eq(&from)))
        .set(allocation_events::customer_id.eq(&to))
        .execute(conn)?;
    let waitlist_entries = diesel::update(waitlist::table.filter(waitlist::customer_id.eq(&from)))
        .set(waitlist::customer_id.eq(&to))
        .execute(conn)?;
    let proposals = diesel::update(run_proposals::table.filter(run_proposals::customer_id.eq(&from)))
        .set(run_proposals::customer_id.eq(&to))
        .execute(conn)?;
    Ok(Moved {
        placements,
        waitlist_entries,
        proposals,
    })
}

/// Closes waiting entries as removed (a merge leaves one entry per person and offer).
pub fn close_waiting(
    conn: &mut DbConnection,
    ids: &[WaitlistEntryId],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let keys: Vec<String> = ids.iter().map(ToString::to_string).collect();
    for chunk in keys.chunks(500) {
        diesel::update(waitlist::table.filter(waitlist::id.eq_any(chunk)))
            .set((
                waitlist::status.eq(WaitlistStatus::Removed.as_str()),
                waitlist::updated_at.eq(to_db_time(now)),
            ))
            .execute(conn)?;
    }
    Ok(())
}
