//! Legal edge cases of the eligibility rules, one table per rule.

use chrono::{Months, NaiveDate};
use passgenau_domain::eligibility::{self, PastPlacement, RuleParams, Subject};
use passgenau_domain::household::{HouseholdMember, HouseholdRole};
use passgenau_domain::offer::{Entry, OfferData, OfferStatus};
use passgenau_domain::provider::ProviderData;
use passgenau_domain::{CustomerData, Gender, GermanLevel, Spell, TargetGroup, VocationalQualification};
use uuid::Uuid;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn minus_months(on: NaiveDate, m: u32) -> NaiveDate {
    on.checked_sub_months(Months::new(m)).unwrap()
}

fn customer(dob: &str) -> CustomerData {
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
        benefit_spells: vec![],
        unemployment_spells: vec![],
        employment_spells: vec![],
    }
}

struct Case {
    customer: CustomerData,
    household: Vec<HouseholdMember>,
    history: Vec<PastPlacement>,
}

impl Case {
    fn new(c: CustomerData) -> Self {
        Case {
            customer: c,
            household: vec![],
            history: vec![],
        }
    }

    fn rule(&self, code: &str, on: NaiveDate, rule: &str) -> bool {
        let s = Subject {
            customer_id: Uuid::nil(),
            customer: &self.customer,
            household: &self.household,
            history: &self.history,
        };
        let reasons = eligibility::instrument_rules(&s, code, on, &RuleParams::default());
        let r = reasons
            .iter()
            .find(|r| r.rule == rule)
            .unwrap_or_else(|| panic!("no rule {rule} in {reasons:?}"));
        assert!(!r.detail.is_empty() && !r.source.is_empty());
        r.passed
    }
}

#[test]
fn p16i_age_is_counted_on_the_start_day() {
    let c = Case::new(customer("2000-06-15"));
    for (on, ok) in [("2025-06-14", false), ("2025-06-15", true), ("2025-06-16", true)] {
        assert_eq!(c.rule("P16I", d(on), "p16i.age_25"), ok, "{on}");
    }
}

#[test]
fn p16i_needs_72_of_84_months_or_60_with_child_or_disability() {
    let on = d("2025-03-01");
    for (months, child, disabled, ok) in [
        (72, false, false, true),
        (71, false, false, false),
        (84, false, false, true),
        (60, false, false, false),
        (60, true, false, true),
        (59, true, false, false),
        (60, false, true, true),
        (59, false, true, false),
    ] {
        let mut c = customer("1970-01-01");
        c.severely_disabled = disabled;
        c.benefit_spells = vec![Spell::new(minus_months(on, months), None)];
        let mut case = Case::new(c);
        if child {
            case.household = vec![
                HouseholdMember {
                    id: Uuid::now_v7(),
                    customer_id: Some(Uuid::nil()),
                    role: HouseholdRole::Applicant,
                    date_of_birth: d("1970-01-01"),
                },
                HouseholdMember {
                    id: Uuid::now_v7(),
                    customer_id: None,
                    role: HouseholdRole::Child,
                    date_of_birth: d("2010-05-01"),
                },
            ];
        }
        assert_eq!(
            case.rule("P16I", on, "p16i.benefit_years"),
            ok,
            "{months} months, child {child}, disabled {disabled}"
        );
    }
}

#[test]
fn p16i_child_exception_ends_when_the_child_turns_18() {
    let on = d("2028-05-01");
    let mut c = customer("1970-01-01");
    c.benefit_spells = vec![Spell::new(minus_months(on, 60), None)];
    let mut case = Case::new(c);
    case.household = vec![HouseholdMember {
        id: Uuid::now_v7(),
        customer_id: None,
        role: HouseholdRole::Child,
        date_of_birth: d("2010-05-01"), // 18 on the start day
    }];
    assert!(!case.rule("P16I", on, "p16i.benefit_years"));
    assert!(case.rule("P16I", d("2028-04-30"), "p16i.benefit_years"));
}

#[test]
fn p16i_short_employment_and_lifetime_cap() {
    let on = d("2025-01-01");
    let mut c = customer("1970-01-01");
    c.employment_spells = vec![Spell::new(d("2020-01-01"), Some(d("2020-07-01")))]; // 183 days
    assert!(Case::new(c.clone()).rule("P16I", on, "p16i.short_employment_only"));
    c.employment_spells = vec![Spell::new(d("2020-01-01"), Some(d("2020-07-02")))]; // 184 days
    assert!(!Case::new(c.clone()).rule("P16I", on, "p16i.short_employment_only"));
    // employment before the 84-month window does not count
    c.employment_spells = vec![Spell::new(d("2010-01-01"), Some(d("2016-12-31")))];
    assert!(Case::new(c.clone()).rule("P16I", on, "p16i.short_employment_only"));

    let past = |from: &str, to: &str| PastPlacement {
        instrument_code: "P16I".into(),
        provider_id: Uuid::nil(),
        started_on: Some(d(from)),
        ended_on: Some(d(to)),
    };
    let mut case = Case::new(c);
    case.history = vec![past("2019-01-01", "2023-12-31")]; // 60 months
    assert!(!case.rule("P16I", on, "p16i.lifetime_cap"));
    case.history = vec![past("2019-01-01", "2023-11-30")]; // 59 months
    assert!(case.rule("P16I", on, "p16i.lifetime_cap"));
}

#[test]
fn p16i_is_in_force_from_2019_and_stays() {
    let c = Case::new(customer("1970-01-01"));
    assert!(!c.rule("P16I", d("2018-12-31"), "p16i.in_force"));
    assert!(c.rule("P16I", d("2019-01-01"), "p16i.in_force"));
    // entries after 31.12.2024 are possible since the 2023 reform made § 16i permanent
    assert!(c.rule("P16I", d("2026-06-01"), "p16i.in_force"));
}

#[test]
fn p16e_needs_two_years_of_unemployment() {
    let mut c = customer("1980-01-01");
    c.unemployment_spells = vec![Spell::new(d("2021-03-01"), None)];
    let case = Case::new(c);
    assert!(!case.rule("P16E", d("2023-02-27"), "p16e.unemployed_2_years"));
    assert!(case.rule("P16E", d("2023-02-28"), "p16e.unemployed_2_years"));
}

#[test]
fn agh_cap_is_24_months_in_5_years_and_overridable() {
    let on = d("2025-01-01");
    let agh = |from: &str, to: &str| PastPlacement {
        instrument_code: "AGH".into(),
        provider_id: Uuid::nil(),
        started_on: Some(d(from)),
        ended_on: Some(d(to)),
    };
    let mut case = Case::new(customer("1980-01-01"));
    case.history = vec![agh("2021-01-01", "2022-12-31")]; // 24 months
    let s = Subject {
        customer_id: Uuid::nil(),
        customer: &case.customer,
        household: &case.household,
        history: &case.history,
    };
    let e = &eligibility::for_instruments(&s, ["AGH"], on, &RuleParams::default())[0];
    assert!(!e.eligible);
    assert!(
        e.overridable(),
        "the AGH cap may be exceeded by recorded exception"
    );
    case.history = vec![agh("2021-01-01", "2022-11-30")]; // 23 months
    assert!(case.rule("AGH", on, "agh.cap_24_in_5_years"));
    // AGH more than five years back does not count
    case.history = vec![agh("2017-01-01", "2019-12-31")];
    assert!(case.rule("AGH", on, "agh.cap_24_in_5_years"));
}

#[test]
fn fbw_moves_to_the_agentur_on_1_january_2025() {
    let mut c = customer("1990-01-01");
    c.vocational_qualification = VocationalQualification::Vocational;
    let case = Case::new(c);
    assert!(case.rule("FBW", d("2024-12-31"), "fbw.jobcenter_funds"));
    assert!(!case.rule("FBW", d("2025-01-01"), "fbw.jobcenter_funds"));
}

#[test]
fn fbw_three_year_rule_for_the_unqualified() {
    let mut c = customer("1990-01-01");
    c.employment_spells = vec![Spell::new(d("2015-01-01"), Some(d("2017-12-31")))];
    assert!(Case::new(c.clone()).rule("FBW", d("2021-01-01"), "fbw.three_year_rule"));
    c.employment_spells = vec![Spell::new(d("2015-01-01"), Some(d("2017-06-30")))];
    assert!(!Case::new(c).rule("FBW", d("2021-01-01"), "fbw.three_year_rule"));
}

#[test]
fn statutory_age_limit_follows_section_7a() {
    use eligibility::statutory_age_limit_date as limit;
    assert_eq!(limit(d("1946-05-10")), d("2011-05-31")); // 65
    assert_eq!(limit(d("1950-05-10")), d("2015-09-30")); // 65 + 4 months
    assert_eq!(limit(d("1960-05-10")), d("2026-09-30")); // 66 + 4 months
    assert_eq!(limit(d("1964-03-10")), d("2031-03-31")); // 67
    let case = Case::new(customer("1964-03-10"));
    assert!(case.rule("AGH", d("2031-03-31"), "elb.age"));
    assert!(!case.rule("AGH", d("2031-04-01"), "elb.age"));
    assert!(
        !Case::new(customer("2012-01-01")).rule("AGH", d("2026-12-31"), "elb.age"),
        "under 15"
    );
}

#[test]
fn young_people_instruments_need_age_under_25() {
    let case = Case::new(customer("2001-06-01"));
    assert!(case.rule("BAE", d("2026-05-31"), "bae.age"));
    assert!(!case.rule("BAE", d("2026-06-01"), "bae.age"));
    assert!(case.rule("ASA", d("2026-05-31"), "asa.no_qualification"));
    assert!(case.rule("EQ", d("2026-05-31"), "eq.age"));
}

fn offer(code: &str) -> OfferData {
    OfferData {
        instrument_code: code.into(),
        provider_id: Uuid::nil(),
        title: "T".into(),
        district: "D".into(),
        postal_code: None,
        starts_on: d("2026-03-01"),
        ends_on: d("2026-08-31"),
        entry: Entry::Fixed,
        planned_places: 10,
        max_places: 12,
        cost_per_place_cents: 100,
        target_groups: vec![],
        min_age: None,
        max_age: None,
        min_german_level: None,
        status: OfferStatus::Open,
    }
}

fn offer_rule(c: &CustomerData, o: &OfferData, p: &ProviderData, on: &str, rule: &str) -> bool {
    let s = Subject {
        customer_id: Uuid::nil(),
        customer: c,
        household: &[],
        history: &[],
    };
    let groups = passgenau_domain::target_groups::derive(Uuid::nil(), c, &[], d(on));
    let reasons = eligibility::offer_rules(&s, &groups, o, p, d(on), &RuleParams::default());
    reasons
        .iter()
        .find(|r| r.rule == rule)
        .unwrap_or_else(|| panic!("{rule}: {reasons:?}"))
        .passed
}

#[test]
fn offer_limits_and_azav_on_the_start_day() {
    let c = customer("2001-03-01");
    let p = |until: Option<&str>| ProviderData {
        name: "P".into(),
        azav_certified_until: until.map(d),
        contact_email: None,
    };
    let mut o = offer("AVGS_MAT");
    assert!(offer_rule(
        &c,
        &o,
        &p(Some("2026-03-01")),
        "2026-03-01",
        "provider.azav_valid"
    ));
    assert!(!offer_rule(
        &c,
        &o,
        &p(Some("2026-02-28")),
        "2026-03-01",
        "provider.azav_valid"
    ));
    assert!(!offer_rule(&c, &o, &p(None), "2026-03-01", "provider.azav_valid"));
    o.min_age = Some(18);
    o.max_age = Some(24);
    assert!(offer_rule(&c, &o, &p(None), "2026-02-28", "offer.age_limits")); // 24
    assert!(!offer_rule(&c, &o, &p(None), "2026-03-01", "offer.age_limits")); // 25 on the start day
    o.min_german_level = Some(GermanLevel::B2);
    assert!(!offer_rule(&c, &o, &p(None), "2026-03-01", "offer.german_level"));
    o.min_german_level = Some(GermanLevel::B1);
    assert!(offer_rule(&c, &o, &p(None), "2026-03-01", "offer.german_level"));
    o.target_groups = vec![TargetGroup::SingleParent];
    assert!(!offer_rule(&c, &o, &p(None), "2026-03-01", "offer.target_groups"));
    o.target_groups = vec![TargetGroup::SingleParent, TargetGroup::NoVocationalQualification];
    assert!(offer_rule(&c, &o, &p(None), "2026-03-01", "offer.target_groups"));
    o.status = OfferStatus::Closed;
    assert!(!offer_rule(&c, &o, &p(None), "2026-03-01", "offer.open"));
}

#[test]
fn mag_duration_six_weeks_or_twelve_for_lza() {
    let mut c = customer("1980-01-01");
    let p = ProviderData {
        name: "P".into(),
        azav_certified_until: None,
        contact_email: None,
    };
    let mut o = offer("MAG");
    o.starts_on = d("2026-03-02");
    o.ends_on = d("2026-04-12"); // 6 weeks
    assert!(offer_rule(&c, &o, &p, "2026-03-02", "mag.duration"));
    o.ends_on = d("2026-04-19"); // 7 weeks
    assert!(!offer_rule(&c, &o, &p, "2026-03-02", "mag.duration"));
    c.unemployment_spells = vec![Spell::new(d("2024-01-01"), None)];
    assert!(offer_rule(&c, &o, &p, "2026-03-02", "mag.duration"));
}

/// The ranking asks `instrument_passes` (no texts, stops at the first failure); the
/// specialist sees `instrument_rules`. Both must always agree.
#[test]
fn text_free_check_agrees_with_the_reasons() {
    let codes = [
        "P16I",
        "P16E",
        "AGH",
        "FBW",
        "ESG",
        "EGZ",
        "ASA",
        "BAE",
        "EQ",
        "P16H",
        "P16C",
        "REHA",
        "AVGS_MAT",
        "MAG",
        "ADMIN_ADDED",
    ];
    let mut checked = 0;
    for (i, dob) in [
        "1960-03-01",
        "1975-07-15",
        "1990-01-31",
        "2001-12-24",
        "2008-06-01",
    ]
    .into_iter()
    .enumerate()
    {
        let mut c = customer(dob);
        c.severely_disabled = i % 2 == 0;
        c.solo_self_employed = i == 3;
        if i % 2 == 1 {
            c.vocational_qualification = VocationalQualification::Vocational;
        }
        c.benefit_spells = vec![Spell {
            from: d("2012-01-01"),
            to: None,
        }];
        c.unemployment_spells = vec![Spell {
            from: d("2016-05-01"),
            to: if i == 2 { Some(d("2019-01-01")) } else { None },
        }];
        let mut case = Case::new(c);
        case.history = vec![PastPlacement {
            instrument_code: "AGH".into(),
            provider_id: Uuid::nil(),
            started_on: Some(d("2020-01-01")),
            ended_on: Some(d("2021-12-31")),
        }];
        for on in [
            "2018-06-01",
            "2021-03-15",
            "2024-12-31",
            "2025-01-01",
            "2026-11-24",
        ] {
            let s = Subject {
                customer_id: Uuid::nil(),
                customer: &case.customer,
                household: &case.household,
                history: &case.history,
            };
            for code in codes {
                let reasons = eligibility::instrument_rules(&s, code, d(on), &RuleParams::default());
                assert_eq!(
                    eligibility::instrument_passes(&s, code, d(on), &RuleParams::default()),
                    reasons.iter().all(|r| r.passed),
                    "{code} on {on} for {dob}: {reasons:?}"
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 5 * 5 * 15);
}
