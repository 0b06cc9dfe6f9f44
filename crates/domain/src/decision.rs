//! The placement decision: one pure function over the facts loaded in the placement's
//! transaction (the offer row locked), returning a grant or a typed refusal. Online
//! placement, waiting-list promotion and cohort accepts all decide here; the waiting
//! list's own checks are [`may_wait`]. The refusals come in a fixed order — the offer,
//! the customer's place in it, eligibility, capacity (invariant 1), budget (invariant 2)
//! — so a request always hears the first reason that stops it.

use crate::ids::OfferId;
use chrono::{Datelike, NaiveDate};

use crate::eligibility::{self, Reason, Refusal as VerdictRefusal, RuleBook, Subject, Verdict};
use crate::offer::OfferData;
use crate::provider::ProviderData;

/// The plan line of the instrument in the placement's budget year: its budget and the
/// cost committed so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetLine {
    pub budget_cents: i64,
    pub committed_cents: i64,
}

/// Everything the decision reads, loaded in one transaction.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// The customer, household and history; `decided_on` is today.
    pub subject: Subject<'a>,
    pub offer_id: OfferId,
    pub offer: &'a OfferData,
    pub provider: &'a ProviderData,
    /// Offers the customer holds an active placement in.
    pub active_offers: &'a [OfferId],
    /// Active placements in the offer (reserved, confirmed, started).
    pub occupied: i64,
    /// The plan line of [`budget_year`], if the year has a plan with a budget for it.
    pub budget: Option<BudgetLine>,
    pub today: NaiveDate,
    /// Whether the customer's case is closed (`crate::retention::Closure`).
    pub case_closed: bool,
}

/// Who decides, and their reason where they decide against a discretionary rule.
#[derive(Debug, Clone, Copy)]
pub struct Authority<'a> {
    pub username: &'a str,
    pub exception_reason: Option<&'a str>,
}

/// Why a placement is not made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The customer's case is closed: no new placement until it is reopened (the file
    /// waits for its erasure, § 84 SGB X; valid from 1.1.2021).
    CaseClosed,
    /// The offer is closed or over.
    OfferClosed,
    /// The customer already holds an active placement in the offer (invariant 3).
    AlreadyAllocated,
    /// Another authority decides (FbW and Reha from 2025): refer the customer.
    Referral(Vec<Reason>),
    /// A rule failed and no allowed exception was given (invariant 4).
    NotEligible(Vec<Reason>),
    /// The provider has paused its intake of the offer.
    IntakePaused,
    /// No free place (invariant 1).
    CapacityExhausted,
    /// The place's cost does not fit in what is left of the budget (invariant 2).
    BudgetExhausted {
        year: i32,
        code: String,
        committed_cents: i64,
        budget_cents: i64,
    },
}

/// A placement that may be made: the verdict to store, the budget year and the cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub verdict: Verdict,
    pub budget_year: i32,
    pub cost_cents: i64,
}

/// The year whose budget a placement in `offer` is booked against: the year of its
/// reference day (the offer's start, or today for a running offer).
pub fn budget_year(offer: &OfferData, today: NaiveDate) -> i32 {
    eligibility::reference_day(offer, today).year()
}

/// Decides a placement.
pub fn decide(f: &Facts, book: &RuleBook, who: Authority) -> Result<Grant, Refusal> {
    if f.case_closed {
        return Err(Refusal::CaseClosed);
    }
    if !f.offer.is_open_on(f.today) {
        return Err(Refusal::OfferClosed);
    }
    if f.active_offers.contains(&f.offer_id) {
        return Err(Refusal::AlreadyAllocated);
    }
    let on = eligibility::reference_day(f.offer, f.today);
    let found = eligibility::for_offer(&f.subject, f.offer, f.provider, on, book);
    let verdict = Verdict::new(&found, book, f.today, on)
        .decide(who.exception_reason.map(|reason| (who.username, reason)))
        .map_err(|r| match r {
            VerdictRefusal::Referral(reasons) => Refusal::Referral(reasons),
            VerdictRefusal::NotEligible(reasons) => Refusal::NotEligible(reasons),
        })?;
    if f.offer.intake.status == crate::offer::IntakeStatus::Paused {
        return Err(Refusal::IntakePaused);
    }
    // the provider's places now (`places_now`), never more than `max_places`
    if f.occupied >= f.offer.places_open() {
        return Err(Refusal::CapacityExhausted);
    }
    let year = on.year();
    if let Some(line) = f.budget {
        if line.committed_cents + f.offer.cost_per_place_cents > line.budget_cents {
            return Err(Refusal::BudgetExhausted {
                year,
                code: f.offer.instrument_code.clone(),
                committed_cents: line.committed_cents,
                budget_cents: line.budget_cents,
            });
        }
    }
    Ok(Grant {
        verdict,
        budget_year: year,
        cost_cents: f.offer.cost_per_place_cents,
    })
}

/// Why a customer may not join an offer's waiting list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitRefusal {
    /// The customer's case is closed.
    CaseClosed,
    OfferClosed,
    AlreadyAllocated,
    /// The offer has a free place: the customer is placed, not queued.
    PlacesAvailable,
}

/// The waiting list's checks, in the placement's order: a list is for a full offer that
/// is still open, and for customers without a place in it.
pub fn may_wait(
    offer: &OfferData,
    case_closed: bool,
    holds_place: bool,
    occupied: i64,
    today: NaiveDate,
) -> Result<(), WaitRefusal> {
    if case_closed {
        return Err(WaitRefusal::CaseClosed);
    }
    if !offer.is_open_on(today) {
        return Err(WaitRefusal::OfferClosed);
    }
    if holds_place {
        return Err(WaitRefusal::AlreadyAllocated);
    }
    if occupied < offer.places_open() {
        return Err(WaitRefusal::PlacesAvailable);
    }
    Ok(())
}
