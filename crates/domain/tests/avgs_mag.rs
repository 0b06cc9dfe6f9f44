//! § 16 Abs. 1 SGB II with § 45 SGB III — AVGS at a provider (MAT) and at an employer
//! (MAG).

mod common;

use common::{customer, d, offer, provider, Case};
use passgenau_domain::eligibility;
use passgenau_domain::Spell;

#[test]
fn mat_needs_the_provider_and_the_measure_approved_on_the_start_day() {
    // § 45 Abs. 4 Satz 3 Nr. 1, §§ 176, 178, 179 SGB III
    let case = Case::new(customer("1990-01-01"));
    let mut o = offer("AVGS_MAT", "2026-03-01", "2026-08-31");
    for (until, ok) in [
        (Some("2026-03-01"), true),
        (Some("2026-02-28"), false),
        (None, false),
    ] {
        o.measure_approved_until = until.map(d);
        assert_eq!(
            case.offer_rule(&o, "2026-03-01", "avgs.measure_approved"),
            ok,
            "{until:?}"
        );
    }
    o.measure_approved_until = Some(d("2030-01-01"));
    let mut p = provider();
    p.azav_certified_until = Some(d("2026-02-28"));
    let s = case.subject(d("2026-03-01"));
    let reasons = eligibility::offer_rules(&s, &[], &o, &p, d("2026-03-01"), &case.book);
    assert!(
        !reasons
            .iter()
            .find(|r| r.rule == "avgs.provider_approved")
            .unwrap()
            .passed
    );
}

#[test]
fn mag_six_weeks_or_twelve_for_lza_or_a_recorded_assessment() {
    // § 45 Abs. 2 Satz 2 SGB III: six weeks; § 45 Abs. 8: twelve for LZA (§ 18) or
    // seriously impeded placement (a recorded assessment, not "severely disabled")
    let six = offer("MAG", "2026-03-02", "2026-04-12"); // 42 days
    let seven = offer("MAG", "2026-03-02", "2026-04-19"); // 49 days
    let thirteen = offer("MAG", "2026-03-02", "2026-05-31"); // 91 days
    let mut c = customer("1980-01-01");
    let case = Case::new(c.clone());
    assert!(case.offer_rule(&six, "2026-03-02", "mag.duration"));
    assert!(!case.offer_rule(&seven, "2026-03-02", "mag.duration"));
    c.severely_disabled = true;
    assert!(
        !Case::new(c.clone()).offer_rule(&seven, "2026-03-02", "mag.duration"),
        "disability alone is not it"
    );
    c.severely_disabled = false;
    c.unemployment_spells = vec![Spell::new(d("2025-03-01"), None)];
    assert!(
        Case::new(c.clone()).offer_rule(&seven, "2026-03-02", "mag.duration"),
        "LZA"
    );
    assert!(
        !Case::new(c.clone()).offer_rule(&thirteen, "2026-03-02", "mag.duration"),
        "not 13 weeks"
    );
    c.unemployment_spells = vec![Spell::new(d("2025-03-03"), None)];
    assert!(
        !Case::new(c.clone()).offer_rule(&seven, "2026-03-02", "mag.duration"),
        "one day short of LZA"
    );
    c.seriously_impeded_placement = true;
    assert!(
        Case::new(c).offer_rule(&seven, "2026-03-02", "mag.duration"),
        "recorded assessment"
    );
}

#[test]
fn avgs_is_discretionary() {
    // § 16 Abs. 1 SGB II with § 45 SGB III: no entitlement
    let case = Case::new(customer("1990-01-01"));
    assert!(case.rule("AVGS_MAT", "2026-03-01", "avgs.discretionary"));
}
