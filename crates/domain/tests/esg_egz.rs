//! § 16b SGB II — Einstiegsgeld (24 months per job taken up) and §§ 88 ff. SGB III —
//! Eingliederungszuschuss (12, 24, 36, 60 or 96 months; no pools).

mod common;

use common::{customer, d, offer, placed, Case, PROVIDER_ID};
use passgenau_domain::Spell;

#[test]
fn einstiegsgeld_for_at_most_24_months_per_job() {
    // § 16b Abs. 2 Satz 1 SGB II
    let mut case = Case::new(customer("1985-01-01"));
    assert!(case.offer_rule(
        &offer("ESG", "2026-02-01", "2028-01-31"),
        "2026-02-01",
        "esg.max_24_months_per_job"
    ));
    assert!(!case.offer_rule(
        &offer("ESG", "2026-02-01", "2028-02-01"),
        "2026-02-01",
        "esg.max_24_months_per_job"
    ));
    // an earlier ESG for another job does not use up a lifetime cap
    case.history = vec![placed("ESG", "2022-01-01", Some("2023-12-31"))];
    let e = case.for_offer(&offer("ESG", "2026-02-01", "2028-01-31"), "2026-02-01");
    assert!(e.eligible, "{e:?}");
}

#[test]
fn egz_durations_by_person() {
    // (source, severely disabled, rehabilitant, born, months of the offer, ok, overridable)
    let cases = [
        (
            "§ 89 Satz 2 SGB III: 12 months",
            false,
            false,
            "1985-01-01",
            12,
            true,
            false,
        ),
        (
            "§ 89 Satz 2 SGB III: not 13",
            false,
            false,
            "1985-01-01",
            13,
            false,
            false,
        ),
        (
            "§ 89 Satz 3 SGB III: 36 from 55, begun by 2028",
            false,
            false,
            "1970-01-01",
            36,
            true,
            false,
        ),
        (
            "§ 90 Abs. 1 SGB III: 24 for disabled people",
            false,
            true,
            "1985-01-01",
            24,
            true,
            false,
        ),
        (
            "§ 90 Abs. 1 SGB III: not 25",
            false,
            true,
            "1985-01-01",
            25,
            false,
            false,
        ),
        (
            "§ 90 Abs. 2 SGB III: 60 for besonders betroffene, by assessment",
            true,
            false,
            "1985-01-01",
            60,
            false,
            true,
        ),
        (
            "§ 90 Abs. 2 SGB III: never 61 under 55",
            true,
            false,
            "1985-01-01",
            61,
            false,
            false,
        ),
        (
            "§ 90 Abs. 2 Satz 2 SGB III: 96 from 55",
            true,
            false,
            "1968-01-01",
            96,
            false,
            true,
        ),
    ];
    for (source, severely, rehab, born, months, ok, overridable) in cases {
        let mut c = customer(born);
        c.severely_disabled = severely;
        c.rehabilitant = rehab;
        let case = Case::new(c);
        let start = d("2026-02-01");
        let end = passgenau_domain::dates::period_end(start, months);
        let o = offer("EGZ", "2026-02-01", &end.to_string());
        let e = case.for_offer(&o, "2026-02-01");
        assert_eq!(e.eligible, ok, "{source}: {e:#?}");
        assert_eq!(e.overridable(), overridable, "{source}: {e:#?}");
    }
}

#[test]
fn egz_not_for_a_former_employer() {
    // § 92 Abs. 1 Nr. 2 SGB III
    let mut c = customer("1985-01-01");
    c.employment_spells = vec![Spell::at(d("2024-01-01"), Some(d("2024-12-31")), PROVIDER_ID)];
    let case = Case::new(c);
    assert!(!case.offer_rule(
        &offer("EGZ", "2026-02-01", "2026-12-31"),
        "2026-02-01",
        "former_employer_4_years"
    ));
}
