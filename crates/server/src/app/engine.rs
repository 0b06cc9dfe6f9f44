//! The engine online for one customer: eligibility with reasons, and ranked
//! recommendations. Both read the customer's record, audited as read.

use chrono::NaiveDate;
use passgenau_allocation::{CustomerContext, Recommendation, ScoringConfig};
use passgenau_domain::eligibility::{self, Eligibility, Reason, RuleBook};
use passgenau_domain::ids::CustomerId;
use passgenau_store::audit::Action;
use passgenau_store::{allocations, customers, households, Access, DbConnection, Store};

use crate::app::audit::access;
use crate::app::audit::Audited;
use crate::app::error::{missing, AppResult};
use crate::app::offer_snapshot::SnapshotCache;
use crate::identity::Caller;

/// Loads what the rules read of a customer: record, household, history, active offers.
/// The record is opened with the audit of the caller's read.
fn context(
    conn: &mut DbConnection,
    id: CustomerId,
    store: &Store,
    audit: &mut Audited,
    read: &Access,
) -> AppResult<CustomerContext> {
    let rec = audit.open(
        store,
        read,
        customers::get(conn, id).map_err(missing("customer"))?,
    );
    let household = match rec.household_id {
        Some(h) => households::members(conn, h)?,
        None => Vec::new(),
    };
    let (history, active_offers) = allocations::history(conn, id)?;
    Ok(CustomerContext {
        id,
        data: rec.data,
        household,
        history,
        active_offers,
    })
}

/// Every instrument of the catalogue judged for the customer as of `as_of`.
pub fn eligibility(
    store: &Store,
    audit: &mut Audited,
    caller: &Caller,
    route: &str,
    id: CustomerId,
    as_of: NaiveDate,
    rules: &RuleBook,
) -> AppResult<Vec<Eligibility>> {
    let read = access(caller, Action::Read, route);
    store.read(|conn| {
        let ctx = context(conn, id, store, audit, &read)?;
        let codes: Vec<String> = crate::app::catalogue::all(conn)?
            .into_iter()
            .map(|i| i.data.code)
            .collect();
        let subject = ctx.subject(as_of);
        Ok(eligibility::for_instruments(
            &subject,
            codes.iter().map(String::as_str),
            as_of,
            rules,
        ))
    })
}

/// What the ranking gives: the offers, best first, and the rules that hold offers back
/// for the customer as a whole (the placement-first rule from 1.7.2026).
pub struct Ranked {
    pub items: Vec<Recommendation>,
    pub notices: Vec<Reason>,
}

/// The eligible open offers with a free place, ranked. The connection goes back to the
/// pool before the ranking, which runs while the audit batch is written.
#[allow(clippy::too_many_arguments)]
pub fn recommendations(
    store: &Store,
    audit: &mut Audited,
    caller: &Caller,
    route: &str,
    id: CustomerId,
    query: (Option<&str>, usize, NaiveDate, NaiveDate),
    offers: &SnapshotCache,
    rules: &RuleBook,
    scoring: &ScoringConfig,
) -> AppResult<Ranked> {
    let (instrument, limit, as_of, today) = query;
    let read = access(caller, Action::Read, route);
    let (ctx, snapshot) = store.read(|conn| {
        let ctx = context(conn, id, store, audit, &read)?;
        AppResult::Ok((ctx, offers.get(conn, as_of, today)?))
    })?;
    let notices = eligibility::placement_first_notice(&ctx.subject(as_of), as_of)
        .into_iter()
        .collect();
    Ok(Ranked {
        items: snapshot.recommend(&ctx, instrument, limit, rules, scoring),
        notices,
    })
}
