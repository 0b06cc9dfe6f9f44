//! The pure placement decision: every refusal, and the order in which they are checked
//! (the offer, the customer's place in it, eligibility, capacity, budget).

mod common;

use common::{customer, d, offer, placed, provider, Case};
use passgenau_domain::decision::{self, Authority, BudgetLine, Facts, Refusal, WaitRefusal};
use passgenau_domain::ids::OfferId;
use passgenau_domain::offer::OfferStatus;
use passgenau_domain::{CustomerData, Spell};
use uuid::Uuid;

const OFFER: OfferId = OfferId::from_uuid(Uuid::from_u128(42));

struct World {
    case: Case,
    offer: passgenau_domain::offer::OfferData,
    active_offers: Vec<OfferId>,
    occupied: i64,
    budget: Option<BudgetLine>,
    case_closed: bool,
}

impl World {
    fn new(c: CustomerData) -> World {
        World {
            case: Case::new(c),
            offer: offer("AVGS_MAT", "2026-01-01", "2026-12-31"),
            active_offers: vec![],
            occupied: 0,
            budget: Some(BudgetLine {
                budget_cents: 1_000,
                committed_cents: 0,
            }),
            case_closed: false,
        }
    }

    fn decide(&self, exception: Option<&str>) -> Result<decision::Grant, Refusal> {
        let today = d("2026-06-01");
        let mut subject = self.case.subject(today);
        subject.decided_on = today;
        let p = provider();
        let facts = Facts {
            subject,
            offer_id: OFFER,
            offer: &self.offer,
            provider: &p,
            active_offers: &self.active_offers,
            occupied: self.occupied,
            budget: self.budget,
            today,
            case_closed: self.case_closed,
        };
        decision::decide(
            &facts,
            &self.case.book,
            Authority {
                username: "ifk.meier",
                exception_reason: exception,
            },
        )
    }
}

fn kind(r: &Result<decision::Grant, Refusal>) -> &'static str {
    match r {
        Ok(_) => "granted",
        Err(Refusal::CaseClosed) => "case_closed",
        Err(Refusal::OfferClosed) => "offer_closed",
        Err(Refusal::AlreadyAllocated) => "already_allocated",
        Err(Refusal::Referral(_)) => "referral",
        Err(Refusal::NotEligible(_)) => "not_eligible",
        Err(Refusal::IntakePaused) => "intake_paused",
        Err(Refusal::CapacityExhausted) => "capacity_exhausted",
        Err(Refusal::BudgetExhausted { .. }) => "budget_exhausted",
    }
}

#[test]
fn a_grant_carries_the_verdict_and_the_budget_year() {
    let w = World::new(customer("1990-01-01"));
    let g = w.decide(None).unwrap();
    assert!(g.verdict.eligible && g.verdict.exception.is_none());
    assert_eq!(g.budget_year, 2026);
    assert_eq!(g.cost_cents, 100);
    assert_eq!(g.verdict.decided_on, d("2026-06-01"));
    // an offer that starts next year is booked against next year's budget
    let mut w = World::new(customer("1990-01-01"));
    w.offer = offer("AVGS_MAT", "2027-02-01", "2027-06-30");
    assert_eq!(w.decide(None).unwrap().budget_year, 2027);
}

#[test]
fn every_refusal_in_its_order() {
    // each step makes one more check fail; the answer is always the first one
    let mut c = customer("1990-01-01");
    c.benefit_spells = vec![Spell::new(d("2015-01-01"), Some(d("2020-12-31")))]; // not eLb
    let mut w = World::new(c);
    w.offer.status = OfferStatus::Closed;
    w.active_offers = vec![OFFER];
    w.occupied = 12;
    w.budget = Some(BudgetLine {
        budget_cents: 1_000,
        committed_cents: 950,
    });
    w.case_closed = true;
    assert_eq!(kind(&w.decide(None)), "case_closed");
    w.case_closed = false;
    assert_eq!(kind(&w.decide(None)), "offer_closed");
    w.offer.status = OfferStatus::Open;
    assert_eq!(kind(&w.decide(None)), "already_allocated");
    w.active_offers.clear();
    assert_eq!(kind(&w.decide(None)), "not_eligible");
    w.case.customer.benefit_spells = vec![Spell::new(d("2015-01-01"), None)];
    w.offer.intake.status = passgenau_domain::offer::IntakeStatus::Paused;
    assert_eq!(kind(&w.decide(None)), "intake_paused");
    w.offer.intake.status = passgenau_domain::offer::IntakeStatus::Open;
    assert_eq!(kind(&w.decide(None)), "capacity_exhausted");
    // the provider's places now cap the offer below max_places
    w.occupied = 2;
    w.offer.intake.places_now = Some(2);
    assert_eq!(kind(&w.decide(None)), "capacity_exhausted");
    w.offer.intake.places_now = None;
    w.occupied = 11;
    assert_eq!(kind(&w.decide(None)), "budget_exhausted");
    w.budget = Some(BudgetLine {
        budget_cents: 1_000,
        committed_cents: 900,
    });
    assert_eq!(kind(&w.decide(None)), "granted", "exactly the last 100 cents");
    w.budget = None;
    assert_eq!(kind(&w.decide(None)), "granted", "no plan line: no cap");
}

#[test]
fn an_offer_that_is_over_is_closed() {
    let mut w = World::new(customer("1990-01-01"));
    w.offer.ends_on = d("2026-05-31");
    assert_eq!(kind(&w.decide(None)), "offer_closed");
}

#[test]
fn a_referral_comes_before_capacity_and_no_exception_lifts_it() {
    let mut w = World::new(customer("1990-01-01"));
    w.offer = offer("FBW", "2026-01-01", "2026-12-31");
    w.occupied = 100;
    assert_eq!(kind(&w.decide(Some("bitte"))), "referral");
}

#[test]
fn an_exception_only_for_discretion() {
    // the AGH extension is the specialist's discretion (§ 16d Abs. 6 Satz 3 SGB II)
    let mut w = World::new(customer("1980-01-01"));
    w.offer = offer("AGH", "2026-01-01", "2026-12-31");
    w.case.history = vec![placed("AGH", "2022-01-01", Some("2023-12-31"))];
    assert_eq!(kind(&w.decide(None)), "not_eligible");
    let g = w.decide(Some("Voraussetzungen liegen weiter vor")).unwrap();
    let ex = g.verdict.exception.unwrap();
    // the cap is reached before, and the offer's own days (fixed entry) exceed it too
    assert_eq!(ex.by, "ifk.meier");
    assert_eq!(ex.rules, ["agh.cap_24_months", "agh.planned_within_cap"]);
    // an exception does not lift capacity or budget
    w.occupied = 12;
    assert_eq!(
        kind(&w.decide(Some("Voraussetzungen liegen weiter vor"))),
        "capacity_exhausted"
    );
    // nor a legal limit: beyond 36 months
    w.occupied = 0;
    w.case.history = vec![placed("AGH", "2022-01-01", Some("2024-12-31"))];
    assert_eq!(kind(&w.decide(Some("trotzdem"))), "not_eligible");
}

#[test]
fn the_waiting_list_is_for_full_open_offers_and_customers_without_a_place() {
    let today = d("2026-06-01");
    let mut o = offer("AVGS_MAT", "2026-01-01", "2026-12-31");
    assert_eq!(decision::may_wait(&o, false, false, 12, today), Ok(()));
    assert_eq!(
        decision::may_wait(&o, true, false, 12, today),
        Err(WaitRefusal::CaseClosed)
    );
    assert_eq!(
        decision::may_wait(&o, false, false, 11, today),
        Err(WaitRefusal::PlacesAvailable)
    );
    assert_eq!(
        decision::may_wait(&o, false, true, 12, today),
        Err(WaitRefusal::AlreadyAllocated)
    );
    o.status = OfferStatus::Closed;
    assert_eq!(
        decision::may_wait(&o, false, true, 11, today),
        Err(WaitRefusal::OfferClosed)
    );
}
