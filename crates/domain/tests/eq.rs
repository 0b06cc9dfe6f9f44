//! § 54a SGB III — Einstiegsqualifizierung: 4 to 12 months (6 to 12 before 1.4.2024), the
//! same-firm exclusions, and no statutory age limit.

mod common;

use common::{customer, d, offer, placed, prior, Case, PROVIDER_ID};
use passgenau_domain::Spell;

#[test]
fn four_to_twelve_months_since_april_2024() {
    let case = Case::new(customer("2005-01-01"));
    for (starts, ends, ok) in [
        ("2026-02-01", "2026-05-31", true),  // four months
        ("2026-02-01", "2026-05-30", false), // one day short
        ("2026-02-01", "2027-01-31", true),  // twelve months
        ("2026-02-01", "2027-02-01", false), // one day more
        ("2024-03-01", "2024-06-30", false), // four months, under the old law: six required
        ("2024-04-01", "2024-07-31", true),  // the switch day
    ] {
        let o = offer("EQ", starts, ends);
        assert_eq!(
            case.offer_rule(&o, starts, "eq.duration"),
            ok,
            "{starts} to {ends}"
        );
    }
}

#[test]
fn not_at_a_firm_of_an_earlier_eq_or_recent_employment() {
    // § 54a Abs. 5 SGB III
    let o = offer("EQ", "2026-02-01", "2026-09-30");
    let mut case = Case::new(customer("2005-01-01"));
    assert!(case.offer_rule(&o, "2026-02-01", "eq.same_firm"));
    case.history = vec![placed("EQ", "2019-02-01", Some("2019-08-31"))]; // any time
    assert!(!case.offer_rule(&o, "2026-02-01", "eq.same_firm"));
    let mut c = customer("2005-01-01");
    c.prior_participations = vec![prior(
        "EQ",
        "2022-02-01",
        Some("2022-08-31"),
        Some(" werkstatt NORD ggmbh "),
    )];
    assert!(
        !Case::new(c.clone()).offer_rule(&o, "2026-02-01", "eq.same_firm"),
        "by name"
    );
    c.prior_participations = vec![prior(
        "EQ",
        "2022-02-01",
        Some("2022-08-31"),
        Some(&PROVIDER_ID.to_string()),
    )];
    assert!(
        !Case::new(c.clone()).offer_rule(&o, "2026-02-01", "eq.same_firm"),
        "by ID"
    );
    c.prior_participations = vec![prior(
        "EQ",
        "2022-02-01",
        Some("2022-08-31"),
        Some("another firm"),
    )];
    assert!(Case::new(c.clone()).offer_rule(&o, "2026-02-01", "eq.same_firm"));
    // insured employment at the firm: within three years excludes, before does not
    c.employment_spells = vec![Spell::at(d("2023-02-01"), Some(d("2023-03-31")), PROVIDER_ID)];
    assert!(!Case::new(c.clone()).offer_rule(&o, "2026-02-01", "eq.same_firm"));
    c.employment_spells = vec![Spell::at(d("2022-01-01"), Some(d("2023-01-31")), PROVIDER_ID)];
    assert!(Case::new(c).offer_rule(&o, "2026-02-01", "eq.same_firm"));
}

#[test]
fn no_statutory_age_limit() {
    // § 54a Abs. 4 SGB III names no age
    let case = Case::new(customer("1980-01-01"));
    let e = case.for_offer(&offer("EQ", "2026-02-01", "2026-09-30"), "2026-02-01");
    assert!(e.eligible, "{e:?}");
    assert!(!e
        .reasons
        .iter()
        .any(|r| r.rule.contains("age") && r.rule != "elb.age"));
}
