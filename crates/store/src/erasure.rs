//! What an erasure removes outside the customer's own row (`customers::blank`). Which
//! cases are erased and when is decided in `app::erasure`; here only the statements.

use diesel::prelude::*;
use passgenau_domain::ids::{CustomerId, HouseholdId};

use crate::connection::DbConnection;
use crate::error::StoreResult;
use crate::schema::{
    allocations, customers, household_members, households, idempotency_keys, import_jobs, run_proposals,
    waitlist,
};

/// The person's entries as a household member; the household itself, with its other
/// members' entries, once no recorded customer is left in it. Returns the household
/// removed, if any.
pub fn leave_household(
    conn: &mut DbConnection,
    customer: CustomerId,
    household: Option<HouseholdId>,
) -> StoreResult<Option<HouseholdId>> {
    diesel::delete(household_members::table.filter(household_members::customer_id.eq(customer.to_string())))
        .execute(conn)?;
    let Some(h) = household else { return Ok(None) };
    let key = h.to_string();
    let others: i64 = customers::table
        .filter(customers::household_id.eq(&key))
        .filter(customers::id.ne(customer.to_string()))
        .count()
        .get_result(conn)?;
    let linked: i64 = household_members::table
        .filter(household_members::household_id.eq(&key))
        .filter(household_members::customer_id.is_not_null())
        .count()
        .get_result(conn)?;
    if others > 0 || linked > 0 {
        return Ok(None);
    }
    // nobody recorded is left: the entries of children and partners without a record of
    // their own go with the household number
    diesel::update(customers::table.filter(customers::household_id.eq(&key)))
        .set(customers::household_id.eq(None::<String>))
        .execute(conn)?;
    diesel::delete(household_members::table.filter(household_members::household_id.eq(&key)))
        .execute(conn)?;
    diesel::delete(households::table.find(&key)).execute(conn)?;
    Ok(Some(h))
}

/// The free-text note and override reason of the person's placements (the reasons of
/// state changes stay, as the change feed shows them: docs/data-protection.md).
pub fn clear_placement_notes(conn: &mut DbConnection, customer: CustomerId) -> StoreResult<usize> {
    Ok(
        diesel::update(allocations::table.filter(allocations::customer_id.eq(customer.to_string())))
            .set((
                allocations::note.eq(None::<String>),
                allocations::override_reason.eq(None::<String>),
            ))
            .execute(conn)?,
    )
}

/// The person's waiting-list entries and cohort proposals (with their explanations).
pub fn drop_entries_and_proposals(conn: &mut DbConnection, customer: CustomerId) -> StoreResult<usize> {
    let key = customer.to_string();
    let w = diesel::delete(waitlist::table.filter(waitlist::customer_id.eq(&key))).execute(conn)?;
    let p = diesel::delete(run_proposals::table.filter(run_proposals::customer_id.eq(&key))).execute(conn)?;
    Ok(w + p)
}

/// Stored answers of idempotent requests that hold `needle` (the person's ID: every
/// answer that shows the person names it).
pub fn drop_stored_answers(conn: &mut DbConnection, needle: &str) -> StoreResult<usize> {
    Ok(diesel::delete(
        idempotency_keys::table.filter(
            idempotency_keys::response_body
                .like(like_pattern(needle))
                .escape('\\'),
        ),
    )
    .execute(conn)?)
}

/// Replaces `needle` (the person's customer number) in the messages of the rejected
/// lines that imports reported (a probable duplicate names the recorded person's
/// number): each report is read, changed in its messages only and written back whole,
/// so line numbers and fields that happen to hold the same digits stay as they were.
pub fn scrub_import_reports(conn: &mut DbConnection, needle: &str, replacement: &str) -> StoreResult<usize> {
    if needle.is_empty() {
        return Ok(0);
    }
    // as the number stands in the stored JSON (quotes and backslashes escaped)
    let escaped = serde_json::to_string(needle).unwrap_or_default();
    let escaped = escaped.trim_matches('"');
    let jobs: Vec<(String, String)> = import_jobs::table
        .filter(import_jobs::rejected.like(like_pattern(escaped)).escape('\\'))
        .select((import_jobs::id, import_jobs::rejected))
        .load(conn)?;
    let mut changed = 0;
    for (id, text) in jobs {
        let mut lines: Vec<passgenau_domain::import::Rejection> = crate::codec::json_from_str(&text)?;
        let mut touched = false;
        for l in &mut lines {
            if l.message.contains(needle) {
                l.message = l.message.replace(needle, replacement);
                touched = true;
            }
        }
        if touched {
            diesel::update(import_jobs::table.find(&id))
                .set(import_jobs::rejected.eq(crate::codec::json_to_str(&lines)))
                .execute(conn)?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// `%needle%` with LIKE's wildcards in `needle` escaped (IDs and numbers hold none but
/// `_`, which would match any character).
fn like_pattern(needle: &str) -> String {
    format!(
        "%{}%",
        needle
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    )
}
