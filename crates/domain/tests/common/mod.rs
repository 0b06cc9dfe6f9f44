//! Builders shared by the rule tables: a customer, a case with household and history, an
//! offer and a provider, and the outcome of one rule.

#![allow(dead_code)]

use chrono::NaiveDate;
use passgenau_domain::eligibility::{self, Eligibility, PastPlacement, Reason, RuleBook, Subject};
use passgenau_domain::household::{HouseholdMember, HouseholdRole};
use passgenau_domain::ids::{CustomerId, MemberId, ProviderId};
use passgenau_domain::offer::{Entry, OfferData, OfferStatus};
use passgenau_domain::participation::PriorParticipation;
use passgenau_domain::provider::ProviderData;
use passgenau_domain::{CustomerData, Gender, GermanLevel, Spell, VocationalQualification};
use uuid::Uuid;

pub fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

pub const PROVIDER_ID: ProviderId =
    ProviderId::from_uuid(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001));

/// An eLb born on `dob`, receiving benefits since 2010 (so the benefit rule passes unless
/// a case changes it).
pub fn customer(dob: &str) -> CustomerData {
    CustomerData {
        customer_number: "K".into(),
        first_name: "A".into(),
        last_name: "B".into(),
        date_of_birth: d(dob),
        gender: Gender::Male,
        nationality: "DE".into(),
        postal_code: None,
        district: None,
        vocational_qualification: VocationalQualification::None,
        german_level: GermanLevel::B1,
        health_restrictions: false,
        severely_disabled: false,
        rehabilitant: false,
        refugee: false,
        solo_self_employed: false,
        benefit_spells: vec![Spell::new(d("2010-01-01").max(d(dob)), None)],
        unemployment_spells: vec![],
        employment_spells: vec![],
        self_employment_spells: vec![],
        prior_participations: vec![],
        job_ready: false,
        seriously_impeded_placement: false,
        contact: Default::default(),
        legal_hold: false,
    }
}

pub fn placed(code: &str, from: &str, to: Option<&str>) -> PastPlacement {
    PastPlacement {
        instrument_code: code.into(),
        provider_id: PROVIDER_ID,
        started_on: Some(d(from)),
        ended_on: to.map(d),
        active: to.is_none(),
        offer_period: (d(from), to.map(d).unwrap_or(d("2099-12-31"))),
        reserved_on: d(from),
    }
}

pub fn prior(code: &str, from: &str, to: Option<&str>, firm: Option<&str>) -> PriorParticipation {
    PriorParticipation {
        instrument_code: code.into(),
        from: d(from),
        to: to.map(d),
        provider_or_employer: firm.map(str::to_string),
    }
}

pub fn child(dob: &str) -> HouseholdMember {
    HouseholdMember {
        id: MemberId::new(),
        customer_id: None,
        role: HouseholdRole::Child,
        date_of_birth: d(dob),
    }
}

pub fn applicant(dob: &str) -> HouseholdMember {
    HouseholdMember {
        id: MemberId::new(),
        customer_id: Some(CustomerId::default()),
        role: HouseholdRole::Applicant,
        date_of_birth: d(dob),
    }
}

pub fn provider() -> ProviderData {
    ProviderData {
        name: "Werkstatt Nord gGmbH".into(),
        azav_certified_until: Some(d("2030-12-31")),
        contact_email: None,
    }
}

pub fn offer(code: &str, starts: &str, ends: &str) -> OfferData {
    OfferData {
        instrument_code: code.into(),
        provider_id: PROVIDER_ID,
        title: "T".into(),
        district: "D".into(),
        postal_code: None,
        starts_on: d(starts),
        ends_on: d(ends),
        entry: Entry::Fixed,
        planned_places: 10,
        max_places: 12,
        cost_per_place_cents: 100,
        target_groups: vec![],
        min_age: None,
        max_age: None,
        min_german_level: None,
        max_german_level: None,
        measure_approved_until: Some(d("2030-12-31")),
        status: OfferStatus::Open,
        intake: Default::default(),
    }
}

/// A customer with household and history, judged as the rules judge them.
#[derive(Clone)]
pub struct Case {
    pub customer: CustomerData,
    pub household: Vec<HouseholdMember>,
    pub history: Vec<PastPlacement>,
    pub book: RuleBook,
    /// The decision day; `None`: the reference day itself.
    pub decided_on: Option<NaiveDate>,
}

impl Case {
    pub fn new(customer: CustomerData) -> Self {
        Case {
            customer,
            household: vec![],
            history: vec![],
            book: RuleBook::default(),
            decided_on: None,
        }
    }

    pub fn subject(&self, on: NaiveDate) -> Subject<'_> {
        Subject {
            customer_id: CustomerId::default(),
            customer: &self.customer,
            household: &self.household,
            history: &self.history,
            decided_on: self.decided_on.unwrap_or(on),
        }
    }

    pub fn reasons(&self, code: &str, on: NaiveDate) -> Vec<Reason> {
        eligibility::instrument_rules(&self.subject(on), code, on, &self.book)
    }

    /// The outcome of `rule` for instrument `code` on `on`; panics if it was not evaluated.
    pub fn rule(&self, code: &str, on: &str, rule: &str) -> bool {
        let reasons = self.reasons(code, d(on));
        let r = reasons
            .iter()
            .find(|r| r.rule == rule)
            .unwrap_or_else(|| panic!("no rule {rule} in {reasons:#?}"));
        assert!(!r.detail.is_empty() && !r.source.is_empty(), "{r:?}");
        r.passed
    }

    pub fn eligibility(&self, code: &str, on: &str) -> Eligibility {
        eligibility::for_instruments(&self.subject(d(on)), [code], d(on), &self.book).remove(0)
    }

    pub fn for_offer(&self, o: &OfferData, on: &str) -> Eligibility {
        eligibility::for_offer(&self.subject(d(on)), o, &provider(), d(on), &self.book)
    }

    /// The outcome of an offer rule for `o` judged on `on`.
    pub fn offer_rule(&self, o: &OfferData, on: &str, rule: &str) -> bool {
        let s = self.subject(d(on));
        let groups = passgenau_domain::target_groups::derive(
            CustomerId::default(),
            &self.customer,
            &self.household,
            d(on),
        );
        let reasons = eligibility::offer_rules(&s, &groups, o, &provider(), d(on), &self.book);
        let r = reasons
            .iter()
            .find(|r| r.rule == rule)
            .unwrap_or_else(|| panic!("no rule {rule} in {reasons:#?}"));
        r.passed
    }
}
