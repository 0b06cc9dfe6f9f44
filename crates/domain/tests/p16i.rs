//! § 16i SGB II — Teilhabe am Arbeitsmarkt.

mod common;

use chrono::Days;
use common::{applicant, child, customer, d, offer, placed, prior, Case};
use passgenau_domain::Spell;

#[test]
fn age_25_on_the_start_day() {
    // § 16i Abs. 3 Satz 1 Nr. 1 SGB II with § 187 Abs. 2 Satz 2 BGB
    let case = Case::new(customer("2000-06-15"));
    for (on, ok) in [("2025-06-14", false), ("2025-06-15", true)] {
        assert_eq!(case.rule("P16I", on, "p16i.age_25"), ok, "{on}");
    }
}

#[test]
fn six_years_within_seven_are_2190_days() {
    // § 16i Abs. 3 Satz 1 Nr. 2 SGB II, § 191 BGB: (benefit days before the start, ok)
    let on = d("2026-03-01");
    for (days, ok) in [(2_190, true), (2_189, false), (2_555, true)] {
        let mut c = customer("1970-01-01");
        // the spell covers exactly `days` days and ends the day before the start
        let from = on.checked_sub_days(Days::new(days)).unwrap();
        c.benefit_spells = vec![
            Spell::new(from, Some(on.pred_opt().unwrap())),
            Spell::new(on, None),
        ];
        assert_eq!(
            Case::new(c).rule("P16I", "2026-03-01", "p16i.benefit_years"),
            ok,
            "{days} days"
        );
    }
    // 2,190 days with a break of a year still count (insgesamt)
    let mut c = customer("1970-01-01");
    c.benefit_spells = vec![
        Spell::new(d("2019-03-02"), Some(d("2020-03-01"))),
        Spell::new(d("2021-03-01"), None),
    ];
    let case = Case::new(c);
    assert!(case.rule("P16I", "2026-03-01", "p16i.benefit_years"));
}

#[test]
fn five_years_with_a_minor_child_or_a_severe_disability() {
    // § 16i Abs. 3 Satz 3 SGB II: benefits in the last five years (1,825 days)
    let on = "2026-03-01";
    let five_years = |c: &mut passgenau_domain::CustomerData, days: u64| {
        let from = d(on).checked_sub_days(Days::new(days)).unwrap();
        c.benefit_spells = vec![Spell::new(from, None)];
    };
    for (child_in_bg, disabled, days, ok) in [
        (false, false, 1_825, false),
        (true, false, 1_825, true),
        (true, false, 1_824, false),
        (false, true, 1_825, true),
    ] {
        let mut c = customer("1980-01-01");
        c.severely_disabled = disabled;
        five_years(&mut c, days);
        let mut case = Case::new(c);
        if child_in_bg {
            case.household = vec![applicant("1980-01-01"), child("2012-05-01")];
        }
        assert_eq!(
            case.rule("P16I", on, "p16i.benefit_years"),
            ok,
            "child {child_in_bg}, disabled {disabled}, {days} days"
        );
    }
}

#[test]
fn a_child_turning_18_on_the_start_day_no_longer_reduces_the_period() {
    // § 16i Abs. 3 Satz 3 SGB II: "minderjährig" (§ 2 BGB), age on the start day
    let mut c = customer("1980-01-01");
    c.benefit_spells = vec![Spell::new(d("2021-01-01"), None)];
    let mut case = Case::new(c);
    case.household = vec![applicant("1980-01-01"), child("2008-05-01")];
    assert!(case.rule("P16I", "2026-04-30", "p16i.benefit_years"));
    assert!(!case.rule("P16I", "2026-05-01", "p16i.benefit_years"));
}

#[test]
fn only_short_employment_or_self_employment_in_the_period() {
    // § 16i Abs. 3 Satz 1 Nr. 3 SGB II: "kurzzeitig" is practice (183 days by default)
    let on = "2026-01-01";
    let mut c = customer("1970-01-01");
    c.employment_spells = vec![Spell::new(d("2021-01-01"), Some(d("2021-07-02")))]; // 183 days
    assert!(Case::new(c.clone()).rule("P16I", on, "p16i.short_employment_only"));
    c.employment_spells = vec![Spell::new(d("2021-01-01"), Some(d("2021-07-03")))]; // 184 days
    assert!(!Case::new(c.clone()).rule("P16I", on, "p16i.short_employment_only"));
    // self-employment counts like employment
    c.employment_spells = vec![Spell::new(d("2021-01-01"), Some(d("2021-04-01")))];
    c.self_employment_spells = vec![Spell::new(d("2022-01-01"), Some(d("2022-04-03")))]; // 91 + 93 = 184 days
    assert!(!Case::new(c.clone()).rule("P16I", on, "p16i.short_employment_only"));
    // work before the seven years does not count
    c.employment_spells = vec![Spell::new(d("2010-01-01"), Some(d("2018-12-31")))];
    c.self_employment_spells = vec![];
    assert!(Case::new(c).rule("P16I", on, "p16i.short_employment_only"));
}

#[test]
fn five_years_of_subsidy_in_all() {
    // § 16i Abs. 3 Satz 1 Nr. 4 SGB II, § 191 BGB: 1,825 days, placements and prior alike
    let on = "2026-01-01";
    let mut case = Case::new(customer("1970-01-01"));
    case.history = vec![placed("P16I", "2019-01-01", Some("2023-12-30"))]; // 1,825 days
    assert!(!case.rule("P16I", on, "p16i.cap_5_years"));
    case.history = vec![placed("P16I", "2019-01-01", Some("2023-12-29"))]; // 1,824 days
    assert!(case.rule("P16I", on, "p16i.cap_5_years"));
    let mut c = customer("1970-01-01");
    c.prior_participations = vec![prior("P16I", "2019-01-01", Some("2023-12-30"), None)];
    assert!(
        !Case::new(c).rule("P16I", on, "p16i.cap_5_years"),
        "prior participations count alike"
    );
}

#[test]
fn the_planned_length_must_fit_in_what_is_left() {
    // § 16i Abs. 3 Satz 1 Nr. 4, Abs. 8 SGB II
    let mut case = Case::new(customer("1970-01-01"));
    // no earlier subsidy: five calendar years from the start (§ 188 Abs. 2 BGB)
    let job = offer("P16I", "2026-02-01", "2031-01-31");
    assert!(case.offer_rule(&job, "2026-02-01", "p16i.planned_length"));
    let job = offer("P16I", "2026-02-01", "2031-02-01");
    assert!(!case.offer_rule(&job, "2026-02-01", "p16i.planned_length"));
    // two years used: 1,825 - 730 days left (§ 191 BGB)
    case.history = vec![placed("P16I", "2020-01-01", Some("2021-12-30"))]; // 730 days
    let job = offer("P16I", "2026-02-01", "2029-01-30"); // 1,095 days
    assert!(case.offer_rule(&job, "2026-02-01", "p16i.planned_length"));
    let job = offer("P16I", "2026-02-01", "2029-01-31"); // 1,096 days
    assert!(!case.offer_rule(&job, "2026-02-01", "p16i.planned_length"));
}

#[test]
fn in_force_since_2019_and_permanent() {
    // Teilhabechancengesetz from 1.1.2019; § 81 SGB II a.F. (the time limit) is gone
    let case = Case::new(customer("1970-01-01"));
    assert!(!case.rule("P16I", "2018-12-31", "p16i.in_force"));
    assert!(case.rule("P16I", "2019-01-01", "p16i.in_force"));
    assert!(case.rule("P16I", "2026-06-01", "p16i.in_force"));
}

#[test]
fn satz_3_judges_short_employment_in_its_five_years() {
    // § 16i Abs. 3 Satz 3 SGB II: a year of work six years ago fails the seven-year route,
    // but the customer qualifies by the five years, in which they did not work
    let mut c = customer("1980-01-01");
    c.benefit_spells = vec![Spell::new(d("2019-01-01"), None)];
    c.employment_spells = vec![Spell::new(d("2020-01-01"), Some(d("2020-12-31")))];
    let mut case = Case::new(c);
    assert!(
        !case.rule("P16I", "2026-12-01", "p16i.short_employment_only"),
        "no child: seven years"
    );
    case.household = vec![applicant("1980-01-01"), child("2015-01-01")];
    assert!(
        case.rule("P16I", "2026-12-01", "p16i.short_employment_only"),
        "Satz 3: five years"
    );
}

#[test]
fn a_reserved_job_counts_against_the_five_years() {
    // two § 16i jobs of five years each, reserved one after the other
    let mut case = Case::new(customer("1970-01-01"));
    let mut first = placed("P16I", "2027-01-01", None);
    first.started_on = None;
    first.active = true;
    first.offer_period = (d("2027-01-01"), d("2031-12-31"));
    first.reserved_on = d("2026-12-01");
    case.history = vec![first];
    assert!(!case.rule("P16I", "2032-01-01", "p16i.cap_5_years"));
}
