//! Dates as the BGB counts them, the § 7a age limit, and eLb on the decision day — the
//! rules every instrument shares.

mod common;

use common::{customer, d, Case};
use passgenau_domain::dates::{completed_years, covered_days_before, period_end, years_as_days};
use passgenau_domain::eligibility::statutory_age_limit_date;
use passgenau_domain::Spell;

#[test]
fn completed_years_follow_187_188_bgb() {
    // (source, born, on, age)
    for (source, born, on, age) in [
        (
            "§ 187 Abs. 2 Satz 2 BGB: birthday on the start day",
            "2000-05-01",
            "2025-05-01",
            25,
        ),
        (
            "§ 188 Abs. 2 BGB: the day before the birthday",
            "2000-05-01",
            "2025-04-30",
            24,
        ),
        (
            "§ 188 Abs. 3 BGB: 29 February in a common year",
            "2004-02-29",
            "2029-02-28",
            24,
        ),
        (
            "§ 188 Abs. 3 BGB: 29 February, the day after",
            "2004-02-29",
            "2029-03-01",
            25,
        ),
        (
            "§ 187 Abs. 2 BGB: born on the first of a month",
            "1990-03-01",
            "2015-02-28",
            24,
        ),
        (
            "§ 187 Abs. 2 BGB: born on the first of a month",
            "1990-03-01",
            "2015-03-01",
            25,
        ),
    ] {
        assert_eq!(
            completed_years(d(born), d(on)),
            age,
            "{source}: born {born}, on {on}"
        );
    }
}

#[test]
fn periods_end_the_day_before_the_corresponding_day() {
    for (source, start, months, end) in [
        ("§ 188 Abs. 2 BGB", "2020-01-01", 12, "2020-12-31"),
        ("§ 188 Abs. 2 BGB", "2024-07-15", 24, "2026-07-14"),
        (
            "§ 188 Abs. 3 BGB: the corresponding day is missing",
            "2021-01-31",
            1,
            "2021-02-28",
        ),
        ("§ 188 Abs. 3 BGB: in a leap year", "2024-01-30", 1, "2024-02-29"),
    ] {
        assert_eq!(
            period_end(d(start), months),
            d(end),
            "{source}: {start} + {months} months"
        );
    }
}

#[test]
fn cumulative_periods_count_in_days() {
    // § 191 BGB: six years within seven are 2,190 of the 2,555 days before the day
    let on = d("2026-07-01");
    assert_eq!(years_as_days(6), 2_190);
    // seven calendar years hold two leap days: the 2,555 days begin on 3 July 2019
    let spells = [Spell::new(d("2019-07-03"), None)];
    assert_eq!(covered_days_before(&spells, on, years_as_days(7)), 2_555);
    let spells = [Spell::new(d("2019-07-01"), Some(d("2019-07-03")))];
    assert_eq!(
        covered_days_before(&spells, on, years_as_days(7)),
        1,
        "only the window counts"
    );
}

#[test]
fn the_age_limit_of_7a_is_reached_at_the_end_of_the_month_the_age_is_completed() {
    // (source, born, limit)
    for (source, born, limit) in [
        ("§ 7a Satz 1 SGB II: 65 before 1947", "1946-05-10", "2011-05-31"),
        (
            "§ 7a Satz 2 SGB II: 1950 → 65 + 4 months",
            "1950-05-10",
            "2015-09-30",
        ),
        (
            "§ 7a SGB II: 1960 → 66 + 4 months (domain rules' example)",
            "1960-05-01",
            "2026-08-31",
        ),
        (
            "§ 7a SGB II with § 188 Abs. 2 BGB: born on the 2nd",
            "1960-05-02",
            "2026-09-30",
        ),
        ("§ 7a SGB II: 67 from 1964", "1964-03-10", "2031-03-31"),
        (
            "§ 7a SGB II: 67, born on the first of a month",
            "1964-03-01",
            "2031-02-28",
        ),
    ] {
        assert_eq!(
            statutory_age_limit_date(d(born)),
            d(limit),
            "{source}: born {born}"
        );
    }
    let case = Case::new(customer("1960-05-01"));
    assert!(
        case.rule("AGH", "2026-08-31", "elb.age"),
        "the last day before the limit"
    );
    assert!(!case.rule("AGH", "2026-09-01", "elb.age"), "§ 7a: past the limit");
}

#[test]
fn elb_starts_at_15() {
    // § 7 Abs. 1 Satz 1 Nr. 1 SGB II: 15th birthday on the reference day
    let case = Case::new(customer("2011-09-01"));
    assert!(!case.rule("AGH", "2026-08-31", "elb.age"));
    assert!(case.rule("AGH", "2026-09-01", "elb.age"));
}

#[test]
fn every_instrument_needs_benefits_on_the_decision_day() {
    // § 7 Abs. 1 SGB II: eLb on the decision day — a benefit spell running that day
    let mut c = customer("1980-01-01");
    c.benefit_spells = vec![Spell::new(d("2015-01-01"), Some(d("2026-06-30")))];
    let case = Case::new(c);
    for code in [
        "P16I",
        "P16E",
        "AGH",
        "AVGS_MAT",
        "MAG",
        "EGZ",
        "ESG",
        "EQ",
        "ASA",
        "P16F",
        "ADMIN_ADDED",
    ] {
        assert!(
            case.rule(code, "2026-06-30", "elb.benefit_on_day"),
            "{code}: last day of benefits"
        );
        assert!(
            !case.rule(code, "2026-07-01", "elb.benefit_on_day"),
            "{code}: benefits ended the day before"
        );
        let e = case.eligibility(code, "2026-07-01");
        assert!(!e.eligible, "{code}");
    }
}

#[test]
fn eligible_on_the_decision_day_and_on_the_start() {
    // § 7 Abs. 1 SGB II: not eLb today (benefits from next month) — not placed today for
    // an offer starting later
    let mut c = customer("1980-01-01");
    c.benefit_spells = vec![Spell::new(d("2027-01-01"), None)];
    let mut case = Case::new(c);
    case.decided_on = Some(d("2026-12-01"));
    assert!(!case.rule("AGH", "2027-02-01", "elb.benefit_on_day"));
    case.decided_on = Some(d("2027-01-15"));
    assert!(case.rule("AGH", "2027-02-01", "elb.benefit_on_day"));
}

#[test]
fn an_unborn_child_is_no_minor_child() {
    use passgenau_domain::household::minor_children;
    let bg = [common::child("2022-05-01")];
    assert_eq!(minor_children(&bg, d("2020-06-01")), 0);
    assert_eq!(minor_children(&bg, d("2022-05-01")), 1);
}
