//! § 16d SGB II — Arbeitsgelegenheiten: 24 months within five years from the first entry,
//! up to 12 more by the specialist's decision, never beyond.

mod common;

use common::{customer, d, placed, prior, Case};
use passgenau_domain::eligibility::{agh_period, Kind, RuleBook, RuleParams};

#[test]
fn the_five_years_run_from_the_first_entry() {
    // § 16d Abs. 6 Satz 2 SGB II
    for (source, entries, on, period) in [
        (
            "first entry five years ago to the day: the period has ended",
            vec!["2021-03-01"],
            "2026-03-01",
            ("2026-03-01", "2031-02-28"),
        ),
        (
            "the last day of the five years",
            vec!["2021-03-01"],
            "2026-02-28",
            ("2021-03-01", "2026-02-28"),
        ),
        (
            "a later entry starts the next period",
            vec!["2019-01-01", "2024-06-01"],
            "2025-01-01",
            ("2024-06-01", "2029-05-31"),
        ),
        ("no entry yet", vec![], "2025-01-01", ("2025-01-01", "2029-12-31")),
    ] {
        let entries: Vec<_> = entries.into_iter().map(d).collect();
        assert_eq!(
            agh_period(&entries, d(on)),
            (d(period.0), d(period.1)),
            "{source}"
        );
    }
}

#[test]
fn cap_of_720_days_then_a_discretionary_extension_then_a_limit() {
    // § 16d Abs. 6 Satz 1 (24 months = 720 days, § 191 BGB), Satz 3 (12 more)
    let on = "2025-06-01";
    for (to, cap, limit) in [
        ("2022-12-20", true, true),   // 719 days
        ("2022-12-21", false, true),  // 720 days: the cap is reached, an exception may add
        ("2023-12-15", false, true),  // 1,079 days
        ("2023-12-16", false, false), // 1,080 days: never beyond 36 months
    ] {
        let mut case = Case::new(customer("1980-01-01"));
        case.history = vec![placed("AGH", "2021-01-01", Some(to))];
        assert_eq!(case.rule("AGH", on, "agh.cap_24_months"), cap, "until {to}");
        assert_eq!(case.rule("AGH", on, "agh.extension_limit"), limit, "until {to}");
        let e = case.eligibility("AGH", on);
        assert_eq!(e.overridable(), !cap && limit, "until {to}: {e:?}");
        let failed: Vec<Kind> = e.reasons.iter().filter(|r| !r.passed).map(|r| r.kind).collect();
        if !limit {
            assert!(failed.contains(&Kind::Limit));
        }
    }
}

#[test]
fn prior_participations_count_like_placements() {
    let mut c = customer("1980-01-01");
    c.prior_participations = vec![prior("AGH", "2021-01-01", Some("2022-12-21"), Some("Diakonie"))];
    let case = Case::new(c);
    assert!(!case.rule("AGH", "2025-06-01", "agh.cap_24_months"));
}

#[test]
fn the_extension_is_a_versioned_parameter() {
    let mut case = Case::new(customer("1980-01-01"));
    case.history = vec![placed("AGH", "2021-01-01", Some("2023-06-30"))]; // 911 days
    assert!(case.rule("AGH", "2025-06-01", "agh.extension_limit"));
    case.book = RuleBook::new(vec![passgenau_domain::eligibility::ParamVersion {
        valid_from: d("2025-01-01"),
        params: RuleParams {
            agh_extension_months: 6,
            ..RuleParams::default()
        },
    }])
    .unwrap();
    assert!(
        !case.rule("AGH", "2025-06-01", "agh.extension_limit"),
        "180 more days only"
    );
    // the law's bound: never more than 12
    assert!(RuleBook::new(vec![passgenau_domain::eligibility::ParamVersion {
        valid_from: d("2025-01-01"),
        params: RuleParams {
            agh_extension_months: 13,
            ..RuleParams::default()
        },
    }])
    .is_err());
}

#[test]
fn a_fixed_agh_counts_its_own_days() {
    // § 16d Abs. 6 SGB II: 700 days used, a fixed AGH of 730 more would make 1,430
    let mut case = Case::new(customer("1980-01-01"));
    case.history = vec![placed("AGH", "2024-01-01", Some("2025-11-30"))];
    let o = common::offer("AGH", "2026-01-01", "2027-12-31");
    assert!(
        case.rule("AGH", "2026-01-01", "agh.cap_24_months"),
        "700 < 720 before"
    );
    assert!(!case.offer_rule(&o, "2026-01-01", "agh.planned_within_cap"));
    assert!(
        !case.offer_rule(&o, "2026-01-01", "agh.planned_within_limit"),
        "1,430 > 1,080"
    );
    // 20 more days fit the cap
    let short = common::offer("AGH", "2026-01-01", "2026-01-20");
    assert!(case.offer_rule(&short, "2026-01-01", "agh.planned_within_cap"));
}

#[test]
fn a_placement_reserved_but_not_started_counts_with_its_planned_days() {
    let mut case = Case::new(customer("1980-01-01"));
    let mut reserved = placed("AGH", "2024-01-01", None);
    reserved.started_on = None;
    reserved.active = true;
    reserved.offer_period = (d("2024-01-01"), d("2025-12-31"));
    reserved.reserved_on = d("2024-01-01");
    case.history = vec![reserved];
    assert!(
        !case.rule("AGH", "2026-01-01", "agh.cap_24_months"),
        "730 planned days count"
    );
}
