//! Placing a customer into an offer, moving a placement through its states, and promoting
//! the waiting list when a place frees up. Everything here runs inside one write
//! transaction that the caller opened, after the offer row is locked
//! (`passgenau_store::allocations`, lock order), so capacity and budget hold across
//! server instances (invariants 1–4).

use chrono::NaiveDate;
use passgenau_domain::decision::{self, Refusal};
use passgenau_domain::eligibility::{RuleBook, Subject};
use passgenau_domain::ids::{CustomerId, OfferId, PlacementId};
use passgenau_domain::placement::{check_transition, is_correction, PlacementStatus, TransitionError};
use passgenau_domain::user::Role;
use passgenau_store::allocations::{self, AllocationEvent, AllocationRecord, Source};
use passgenau_store::audit::Action;
use passgenau_store::customers::CustomerRecord;
use passgenau_store::offers::OfferRecord;
use passgenau_store::providers::ProviderRecord;
use passgenau_store::{customers, households, offers, plans, providers, waitlist, DbConnection, Meta};

use crate::app::audit::access;
use crate::app::error::{missing, AppError, AppResult};
use crate::identity::Caller;

/// What a placement request asks for.
#[derive(Debug, Clone)]
pub struct Request {
    pub customer_id: CustomerId,
    pub offer_id: OfferId,
    pub note: Option<String>,
    /// The deciding specialist's recorded reason to place despite failed rules that leave
    /// the decision to their discretion (never a legal limit or a referral).
    pub override_reason: Option<String>,
    pub source: Source,
}

/// Loads, locks and places: the whole online path of `POST /allocations`.
pub fn reserve(
    conn: &mut DbConnection,
    rules: &RuleBook,
    caller: &Caller,
    route: &str,
    req: &Request,
    today: NaiveDate,
) -> AppResult<AllocationRecord> {
    // held against a merge, which would move the customer's placements meanwhile
    customers::hold(conn, req.customer_id)?;
    let sealed = customers::get(conn, req.customer_id).map_err(missing("customer"))?;
    // lock first, then read the offer: its status and places are then current
    allocations::lock_offer(conn, req.offer_id)?;
    let offer = offers::get(conn, req.offer_id).map_err(missing("offer"))?;
    let provider = providers::get(conn, offer.data.provider_id)?;
    // the placement's creation is the audited access to the customer's record
    sealed.change(conn, &access(caller, Action::Create, route), |conn, customer| {
        let rec = place_locked(conn, rules, caller, req, &customer, &offer, &provider, today)
            .map_err(AppError::from)?;
        Ok::<_, AppError>((rec, None))
    })
}

/// Why [`place_locked`] placed nobody: the decision's refusal, or a failure of the store.
/// The promotion tells them apart; everyone else answers [`AppError::Refused`].
#[derive(Debug)]
pub enum PlaceError {
    Refused(Refusal),
    Failed(AppError),
}

impl From<passgenau_store::StoreError> for PlaceError {
    fn from(e: passgenau_store::StoreError) -> Self {
        PlaceError::Failed(e.into())
    }
}

impl From<PlaceError> for AppError {
    fn from(e: PlaceError) -> Self {
        match e {
            PlaceError::Failed(e) => e,
            PlaceError::Refused(r) => AppError::Refused(r),
        }
    }
}

/// Loads the facts, decides ([`decision::decide`]) and writes the placement, with the
/// offer row already locked. Lock order: the offer (by the caller), then the plan line of
/// the budget year, then the change feed.
#[allow(clippy::too_many_arguments)]
pub fn place_locked(
    conn: &mut DbConnection,
    rules: &RuleBook,
    caller: &Caller,
    req: &Request,
    customer: &CustomerRecord,
    offer: &OfferRecord,
    provider: &ProviderRecord,
    today: NaiveDate,
) -> Result<AllocationRecord, PlaceError> {
    let o = &offer.data;
    // the facts: the history also tells which offers the customer holds a place in now
    let (history, active_offers) = allocations::history(conn, customer.meta.id)?;
    let household = match customer.household_id {
        Some(h) => households::members(conn, h)?,
        None => Vec::new(),
    };
    let occupied = allocations::count_active(conn, offer.meta.id)?;
    let year = decision::budget_year(o, today);
    let budget = plans::lock_budget_line(conn, year, &o.instrument_code)?.map(|l| decision::BudgetLine {
        budget_cents: l.budget_cents,
        committed_cents: l.committed_cents,
    });
    let facts = decision::Facts {
        subject: Subject {
            customer_id: customer.meta.id,
            customer: &customer.data,
            household: &household,
            history: &history,
            decided_on: today,
        },
        offer_id: offer.meta.id,
        offer: o,
        provider: &provider.data,
        active_offers: &active_offers,
        occupied,
        budget,
        today,
        case_closed: customer.closure.is_some(),
    };
    let who = decision::Authority {
        username: &caller.username,
        exception_reason: req.override_reason.as_deref(),
    };
    let grant = decision::decide(&facts, rules, who).map_err(PlaceError::Refused)?;
    // the decision is written: the store decides nothing
    let now = passgenau_store::records::now();
    let exception = grant.verdict.exception.as_ref();
    let rec = AllocationRecord {
        meta: Meta::new(passgenau_domain::ids::new_id(), now),
        customer_id: customer.meta.id,
        offer_id: offer.meta.id,
        instrument_code: o.instrument_code.clone(),
        status: PlacementStatus::Reserved,
        note: req.note.clone(),
        cost_cents: grant.cost_cents,
        budget_year: grant.budget_year,
        started_on: None,
        ended_on: None,
        status_reason: None,
        override_reason: exception.map(|e| e.reason.clone()),
        override_by: exception.map(|e| e.by.clone()),
        source: req.source,
        created_by: caller.username.clone(),
        entry_target_groups: None,
        verdict: Some(grant.verdict),
    };
    allocations::insert(conn, &rec)?;
    allocations::append_event(conn, &event(&rec, None, caller, None, None, now))?;
    Ok(rec)
}

fn event(
    rec: &AllocationRecord,
    from: Option<PlacementStatus>,
    caller: &Caller,
    on: Option<NaiveDate>,
    reason: Option<String>,
    at: chrono::DateTime<chrono::Utc>,
) -> AllocationEvent {
    AllocationEvent {
        id: passgenau_domain::ids::new_id(),
        allocation_id: rec.meta.id,
        customer_id: rec.customer_id,
        offer_id: rec.offer_id,
        instrument_code: rec.instrument_code.clone(),
        from_status: from,
        to_status: rec.status,
        on_date: on,
        reason,
        actor: caller.username.clone(),
        role: caller.role.as_str().to_string(),
        at,
    }
}

/// Loads a placement the caller may see: a provider only those in its own offers; any
/// other is "not found" (the contract: 404, not 403, for what one may not know of).
/// The placement comes sealed: the caller opens it with the audit of its access.
pub fn visible(
    conn: &mut DbConnection,
    caller: &Caller,
    id: PlacementId,
) -> AppResult<(passgenau_store::Personal<AllocationRecord>, OfferRecord)> {
    let offer = offer_if_visible(conn, caller, id)?;
    Ok((allocations::get(conn, id).map_err(missing("placement"))?, offer))
}

/// The offer of a placement the caller may see, without reading the placement itself.
fn offer_if_visible(conn: &mut DbConnection, caller: &Caller, id: PlacementId) -> AppResult<OfferRecord> {
    let offer_id = allocations::offer_of(conn, id).map_err(missing("placement"))?;
    let offer = offers::get(conn, offer_id)?;
    if caller.role == Role::Provider && caller.provider_id != Some(offer.data.provider_id) {
        return Err(AppError::NotFound("placement"));
    }
    Ok(offer)
}

/// What a transition asks for.
#[derive(Debug, Clone)]
pub struct Move {
    pub to: PlacementStatus,
    pub reason: Option<String>,
    pub on: Option<NaiveDate>,
}

/// Moves a placement; frees its place and promotes the waiting list when it leaves the
/// active states.
pub fn transition(
    conn: &mut DbConnection,
    rules: &RuleBook,
    caller: &Caller,
    route: &str,
    id: PlacementId,
    mv: &Move,
    today: NaiveDate,
) -> AppResult<AllocationRecord> {
    let before = offer_if_visible(conn, caller, id)?;
    allocations::lock_offer(conn, before.meta.id)?;
    // re-read under the lock: another instance may have moved it meanwhile; the move is
    // the audited access to it
    let (sealed, offer) = visible(conn, caller, id)?;
    sealed.change(conn, &access(caller, Action::Update, route), |conn, current| {
        let next = apply_move(conn, rules, caller, route, current, &offer, mv, today)?;
        Ok((next, None))
    })
}

/// The move itself, on the placement read under its offer's lock.
#[allow(clippy::too_many_arguments)]
fn apply_move(
    conn: &mut DbConnection,
    rules: &RuleBook,
    caller: &Caller,
    route: &str,
    current: AllocationRecord,
    offer: &OfferRecord,
    mv: &Move,
    today: NaiveDate,
) -> AppResult<AllocationRecord> {
    check_transition(current.status, mv.to, caller.role).map_err(|e| match e {
        TransitionError::Invalid { from, to } => AppError::conflict(
            "invalid_transition",
            format!("a placement cannot go from {} to {}", from.as_str(), to.as_str()),
        ),
        TransitionError::WrongRole { to, allowed } => AppError::Forbidden(format!(
            "only {} may move a placement to {}",
            allowed
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(" or "),
            to.as_str()
        )),
    })?;
    let on = mv.on.unwrap_or(today);
    let correction = is_correction(current.status, mv.to);
    if correction {
        if mv.on.is_none() {
            return Err(date_error("a correction names the right day"));
        }
        if mv.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
            return Err(AppError::invalid(
                "reason",
                "a correction of a recorded day needs a reason",
            ));
        }
    }
    let mut next = current.clone();
    next.status = mv.to;
    next.status_reason = mv.reason.clone().or(current.status_reason.clone());
    match mv.to {
        PlacementStatus::Started => {
            if on > today {
                return Err(date_error("an entry cannot be recorded before it happened"));
            }
            // not before the day the placement was decided for (the offer's start, or the
            // day it was made for a running offer), not after the offer's end
            let earliest = current
                .verdict
                .as_ref()
                .map(|v| v.reference_day)
                .unwrap_or(offer.data.starts_on)
                .max(offer.data.starts_on);
            if on < earliest {
                return Err(date_error(&format!(
                    "an entry cannot be dated before {earliest}, the day the placement was decided for"
                )));
            }
            if on > offer.data.ends_on {
                return Err(date_error("an entry cannot be dated after the offer's end"));
            }
            if current.ended_on.is_some_and(|end| on > end) {
                return Err(date_error("the entry cannot be after the exit"));
            }
            next.started_on = Some(on);
            // the target groups on the day of entry, as the entry statistics count them
            let customer = customers::get(conn, current.customer_id)?
                .open_in(conn, &access(caller, Action::Read, route))?;
            let household = match customer.household_id {
                Some(h) => households::members(conn, h)?,
                None => Vec::new(),
            };
            next.entry_target_groups = Some(passgenau_domain::target_groups::derive(
                customer.meta.id,
                &customer.data,
                &household,
                on,
            ));
        }
        PlacementStatus::Completed | PlacementStatus::Aborted => {
            if on > today {
                return Err(date_error("an exit cannot be recorded before it happened"));
            }
            if current.started_on.is_some_and(|s| on < s) {
                return Err(date_error("the exit cannot be before the entry"));
            }
            next.ended_on = Some(on);
        }
        _ => {}
    }
    let now = passgenau_store::records::now();
    next.meta.version += 1;
    next.meta.updated_at = now;
    allocations::update(conn, &next, current.meta.version)?;
    let promotes = current.status.is_active() && !next.status.is_active();
    if promotes {
        // Lock order: the offer, the plan lines, then the change feed (taken by the first
        // event appended). A promotion below locks the plan line of its own budget year;
        // taking it only after the feed lock deadlocked with a placement of another
        // offer that held that line and waited for the feed.
        let promotion_year = decision::budget_year(&offer.data, today);
        plans::lock_budget_line(conn, promotion_year, &offer.data.instrument_code)?;
    }
    let dated = matches!(
        mv.to,
        PlacementStatus::Started | PlacementStatus::Completed | PlacementStatus::Aborted
    );
    allocations::append_event(
        conn,
        &event(
            &next,
            Some(current.status),
            caller,
            dated.then_some(on),
            mv.reason.clone(),
            now,
        ),
    )?;
    if promotes {
        promote_waitlist(conn, rules, caller, offer, today)?;
    }
    Ok(next)
}

fn date_error(message: &str) -> AppError {
    AppError::invalid("on", message)
}

/// The author of a placement made by a waiting-list promotion.
pub const PROMOTION_AUTHOR: &str = "system:waitlist";

/// Gives a freed place to the first waiting customer who is eligible (invariant 5: the
/// placement is only `reserved`; a person confirms it). Ineligible customers keep waiting;
/// those who meanwhile hold a place in the offer leave the list.
pub fn promote_waitlist(
    conn: &mut DbConnection,
    rules: &RuleBook,
    caller: &Caller,
    offer: &OfferRecord,
    today: NaiveDate,
) -> AppResult<Option<AllocationRecord>> {
    let provider = providers::get(conn, offer.data.provider_id)?;
    let now = passgenau_store::records::now();
    // the system makes the promoted placement (a person confirms it), not whoever freed
    // the place: it is the placement's author, its first event's actor and the reads'
    let system = Caller {
        username: PROMOTION_AUTHOR.into(),
        ..caller.clone()
    };
    let caller = &system;
    let read = access(caller, Action::Read, "waiting list promotion");
    for entry in waitlist::waiting(conn, offer.meta.id)?.open_in(conn, &read)? {
        customers::hold(conn, entry.customer_id)?;
        let customer = match customers::get(conn, entry.customer_id) {
            Ok(c) => c.open_in(conn, &read)?,
            // merged since it was read: its entries now belong to the survivor
            Err(passgenau_store::StoreError::Merged { .. }) => continue,
            Err(e) => return Err(e.into()),
        };
        let req = Request {
            customer_id: entry.customer_id,
            offer_id: offer.meta.id,
            note: Some("from the waiting list".into()),
            override_reason: None,
            source: Source::Waitlist,
        };
        match place_locked(conn, rules, caller, &req, &customer, offer, &provider, today) {
            Ok(rec) => {
                waitlist::close(conn, entry.id, Some(rec.meta.id), now)?;
                return Ok(Some(rec));
            }
            // not eligible now (or the Agentur's): the customer keeps waiting
            Err(PlaceError::Refused(Refusal::NotEligible(_) | Refusal::Referral(_))) => continue,
            // holds a place in the offer meanwhile, or the case closed: leaves the list
            Err(PlaceError::Refused(Refusal::AlreadyAllocated | Refusal::CaseClosed)) => {
                waitlist::close(conn, entry.id, None, now)?;
                continue;
            }
            // no place or no budget after all, or the offer closed: nobody is promoted
            Err(PlaceError::Refused(
                Refusal::CapacityExhausted
                | Refusal::BudgetExhausted { .. }
                | Refusal::OfferClosed
                | Refusal::IntakePaused,
            )) => return Ok(None),
            Err(PlaceError::Failed(e)) => return Err(e),
        }
    }
    Ok(None)
}

// The use cases of `/allocations` and the waiting lists: each owns its transaction.

/// The participants' records of active placements, for a provider (sealed: the caller
/// opens them with the audit of its access); `None` for other roles, who see customer IDs.
fn participants(
    conn: &mut DbConnection,
    caller: &Caller,
    recs: &[AllocationRecord],
) -> AppResult<Option<passgenau_store::Personal<Vec<CustomerRecord>>>> {
    if caller.role != Role::Provider {
        return Ok(None);
    }
    let ids: Vec<CustomerId> = recs
        .iter()
        .filter(|r| r.status.is_active())
        .map(|r| r.customer_id)
        .collect();
    Ok(Some(customers::get_many(conn, &ids)?))
}

/// Who a provider sees in its placements, by customer (empty for other roles).
pub type Participants = std::collections::HashMap<CustomerId, CustomerRecord>;

fn by_customer(found: Option<Vec<CustomerRecord>>) -> Participants {
    found.into_iter().flatten().map(|c| (c.meta.id, c)).collect()
}

/// The participants' records a provider sees beside its placements, opened with the audit
/// of its read (the placements themselves are opened by the caller).
fn participants_shown(
    store: &passgenau_store::Store,
    audit: &mut crate::app::audit::Audited,
    conn: &mut DbConnection,
    caller: &Caller,
    route: &str,
    recs: &[AllocationRecord],
) -> AppResult<Participants> {
    let read = access(caller, Action::Read, route);
    let found = participants(conn, caller, recs)?.map(|p| audit.open(store, &read, p));
    Ok(by_customer(found))
}

/// Reserves a place once per `Idempotency-Key` (a retry gets the first answer, which
/// `render` makes of the placement).
#[allow(clippy::too_many_arguments)]
pub fn create(
    store: &passgenau_store::Store,
    rules: &RuleBook,
    caller: &Caller,
    route: &str,
    key: Option<&str>,
    request_hash: &str,
    req: &Request,
    today: NaiveDate,
    render: impl FnOnce(&AllocationRecord) -> String,
) -> AppResult<crate::app::idempotency::Answer> {
    store.write(|conn| {
        crate::app::idempotency::run(conn, caller, route, key, request_hash, |conn| {
            let rec = reserve(conn, rules, caller, route, req, today)?;
            Ok(crate::app::idempotency::Answer {
                status: 201,
                body: render(&rec),
                subjects: vec![rec.customer_id],
            })
        })
    })
}

/// A note and an exception's reason: at most 2,000 characters, no NUL; a reason not blank.
pub fn precheck_request(note: Option<&str>, override_reason: Option<&str>) -> AppResult<()> {
    if note.is_some_and(|n| n.chars().count() > 2000 || n.contains('\0')) {
        return Err(AppError::invalid("note", "at most 2000 characters, no NUL"));
    }
    if override_reason.is_some_and(|r| r.trim().is_empty() || r.chars().count() > 2000 || r.contains('\0')) {
        return Err(AppError::invalid(
            "override_reason",
            "1 to 2000 characters, no NUL",
        ));
    }
    Ok(())
}

/// A move's reason: at most 2,000 characters, no NUL.
pub fn precheck_move(reason: Option<&str>) -> AppResult<()> {
    if reason.is_some_and(|r| r.chars().count() > 2000 || r.contains('\0')) {
        return Err(AppError::invalid("reason", "at most 2000 characters, no NUL"));
    }
    Ok(())
}

/// A page of the placements the caller may see (a provider: its own offers').
pub fn list(
    store: &passgenau_store::Store,
    audit: &mut crate::app::audit::Audited,
    caller: &Caller,
    route: &str,
    filter: &allocations::AllocationFilter,
    page: &passgenau_store::Page,
) -> AppResult<(passgenau_store::PageOf<AllocationRecord>, Participants)> {
    // a provider sees the placements in its own offers only (invariant 6)
    let filter = allocations::AllocationFilter {
        provider_id: (caller.role == Role::Provider)
            .then_some(caller.provider_id)
            .flatten(),
        ..filter.clone()
    };
    store.read(|conn| {
        let read = access(caller, Action::Read, route);
        let page = audit.open(store, &read, allocations::list(conn, &filter, page)?);
        let people = participants_shown(store, audit, conn, caller, route, &page.items)?;
        Ok((page, people))
    })
}

/// One placement the caller may see.
pub fn get(
    store: &passgenau_store::Store,
    audit: &mut crate::app::audit::Audited,
    caller: &Caller,
    route: &str,
    id: PlacementId,
) -> AppResult<(AllocationRecord, Participants)> {
    store.read(|conn| {
        let (sealed, _) = visible(conn, caller, id)?;
        let rec = audit.open(store, &access(caller, Action::Read, route), sealed);
        let people = participants_shown(store, audit, conn, caller, route, std::slice::from_ref(&rec))?;
        Ok((rec, people))
    })
}

/// Moves a placement ([`transition`]) in a transaction of its own.
pub fn make_move(
    store: &passgenau_store::Store,
    rules: &RuleBook,
    caller: &Caller,
    route: &str,
    id: PlacementId,
    mv: &Move,
    today: NaiveDate,
) -> AppResult<(AllocationRecord, Participants)> {
    store.write(|conn| {
        let rec = transition(conn, rules, caller, route, id, mv, today)?;
        let found = match participants(conn, caller, std::slice::from_ref(&rec))? {
            Some(p) => Some(p.open_in(conn, &access(caller, Action::Read, route))?),
            None => None,
        };
        Ok((rec, by_customer(found)))
    })
}

/// Puts a customer on an offer's waiting list when the offer is full
/// ([`decision::may_wait`]); the entry and its position (1: next in line).
pub fn wait(
    store: &passgenau_store::Store,
    caller: &Caller,
    route: &str,
    offer_id: OfferId,
    customer_id: CustomerId,
    today: NaiveDate,
) -> AppResult<(waitlist::WaitlistEntry, i64)> {
    use decision::WaitRefusal;
    store.write(|conn| {
        allocations::lock_offer(conn, offer_id)?;
        let offer = offers::get(conn, offer_id).map_err(missing("offer"))?;
        customers::hold(conn, customer_id)?;
        let sealed = customers::get(conn, customer_id).map_err(missing("customer"))?;
        sealed.change(conn, &access(caller, Action::Create, route), |conn, customer| {
            let holds_place = allocations::has_active(conn, customer.meta.id, offer_id)?;
            let occupied = allocations::count_active(conn, offer_id)?;
            decision::may_wait(
                &offer.data,
                customer.closure.is_some(),
                holds_place,
                occupied,
                today,
            )
            .map_err(|r| match r {
                WaitRefusal::CaseClosed => {
                    AppError::conflict("case_closed", "the customer's case is closed: reopen it first")
                }
                WaitRefusal::OfferClosed => AppError::conflict("offer_closed", "the offer is closed or over"),
                WaitRefusal::AlreadyAllocated => {
                    AppError::conflict("already_allocated", "the customer holds a place in this offer")
                }
                WaitRefusal::PlacesAvailable => AppError::conflict(
                    "places_available",
                    "the offer has a free place: reserve it with POST /allocations",
                ),
            })?;
            let entry = waitlist::WaitlistEntry {
                id: passgenau_domain::ids::new_id(),
                offer_id,
                customer_id: customer.meta.id,
                status: passgenau_domain::status::WaitlistStatus::Waiting,
                allocation_id: None,
                created_by: caller.username.clone(),
                created_at: passgenau_store::records::now(),
            };
            waitlist::add(conn, &entry)?;
            let position = waitlist::waiting_counts(conn, &[offer_id])?
                .get(&offer_id)
                .copied()
                .unwrap_or(0);
            Ok(((entry, position), None))
        })
    })
}

/// Takes a customer off an offer's waiting list (the entry stays, `removed`, audited as
/// a delete of the customer's entry); 404 when the customer is not waiting there.
pub fn leave_waitlist(
    store: &passgenau_store::Store,
    caller: &Caller,
    route: &str,
    offer_id: OfferId,
    customer_id: CustomerId,
) -> AppResult<()> {
    store.write(|conn| {
        drop(offers::get(conn, offer_id).map_err(missing("offer"))?);
        // the customer's own waiting entries, by ID only: nobody else's is read
        let (entry, _, _) = passgenau_store::merges::waiting(conn, customer_id)?
            .into_iter()
            .find(|(_, offer, _)| *offer == offer_id)
            .ok_or(AppError::NotFound("waiting-list entry"))?;
        waitlist::close(conn, entry, None, passgenau_store::records::now())?;
        let mut entries =
            crate::app::audit::audit_entries(caller, Action::Delete, route, [(Some(customer_id), None)]);
        for e in &mut entries {
            e.fields = Some("waitlist".into());
        }
        passgenau_store::audit::append(conn, &entries)?;
        Ok(())
    })
}

/// An offer's waiting list, next in line first; the customers named are audited as read.
pub fn waiting(
    store: &passgenau_store::Store,
    audit: &mut crate::app::audit::Audited,
    caller: &Caller,
    route: &str,
    offer_id: OfferId,
) -> AppResult<Vec<waitlist::WaitlistEntry>> {
    store.read(|conn| {
        drop(offers::get(conn, offer_id).map_err(missing("offer"))?);
        Ok(audit.open(
            store,
            &access(caller, Action::Read, route),
            waitlist::waiting(conn, offer_id)?,
        ))
    })
}

/// An offer's places now: taken by active placements, free up to `max_places`, and the
/// customers waiting for one.
pub struct Places {
    pub offer: OfferRecord,
    pub occupied: i64,
    pub free: i64,
    pub waitlisted: i64,
}

/// A page of the open offers that have not ended on `today`, with their places (no
/// people named: counts only).
pub fn free_places(
    store: &passgenau_store::Store,
    filter: &passgenau_store::offers::OfferFilter,
    today: NaiveDate,
    page: &passgenau_store::Page,
) -> AppResult<(Vec<Places>, Option<String>)> {
    store.read(|conn| {
        let page = offers::list_running(conn, filter, today, page)?;
        let ids: Vec<OfferId> = page.items.iter().map(|o| o.meta.id).collect();
        let active = allocations::active_counts(conn, &ids)?;
        let waiting = waitlist::waiting_counts(conn, &ids)?;
        let places = page
            .items
            .into_iter()
            .map(|offer| {
                let occupied = active.get(&offer.meta.id).copied().unwrap_or(0);
                Places {
                    occupied,
                    free: (offer.data.places_open() - occupied).max(0),
                    waitlisted: waiting.get(&offer.meta.id).copied().unwrap_or(0),
                    offer,
                }
            })
            .collect();
        Ok((places, page.next))
    })
}
