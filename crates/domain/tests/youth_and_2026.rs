//! Young people's instruments (AsA, BaE, § 16h), the placement-first rule of the
//! 13. SGB II-Änderungsgesetz from 1.7.2026, and § 16f's health scope.

mod common;

use common::{customer, offer, Case};
use passgenau_domain::eligibility::{self, RuleBook};
use passgenau_domain::TargetGroup;

#[test]
fn young_people_are_under_25() {
    // §§ 74 ff., 76 SGB III (age: practice); § 16h Abs. 1 SGB II (law)
    let case = Case::new(customer("2001-06-01"));
    for (code, rule) in [("ASA", "asa.age"), ("BAE", "bae.age"), ("P16H", "p16h.age")] {
        assert!(
            case.rule(code, "2026-05-31", rule),
            "{code}: the day before the 25th birthday"
        );
        assert!(!case.rule(code, "2026-06-01", rule), "{code}: the 25th birthday");
    }
    assert!(case.rule("ASA", "2026-05-31", "asa.no_qualification"));
}

#[test]
fn placement_first_from_1_july_2026() {
    // § 3 Abs. 1 SGB II i.d.F. des 13. SGB II-ÄndG: a job-ready customer's measure needs a
    // recorded exception; work instruments are not held back
    let mut c = customer("1990-01-01");
    c.job_ready = true;
    let case = Case::new(c);
    let before = case.eligibility("AVGS_MAT", "2026-06-30");
    assert!(before.eligible, "{before:?}");
    let after = case.eligibility("AVGS_MAT", "2026-07-01");
    assert!(!after.eligible);
    assert!(
        after.overridable(),
        "an exception with a reason may place: {after:?}"
    );
    assert!(
        case.eligibility("EGZ", "2026-07-01").eligible,
        "direct integration comes first"
    );
    let s = case.subject(common::d("2026-07-01"));
    assert!(eligibility::placement_first_notice(&s, common::d("2026-07-01")).is_some());
    // before 1.7.2026 the notice already warns: offers starting from then are held back
    assert!(eligibility::placement_first_notice(&s, common::d("2026-06-30")).is_some());
    let not_ready = Case::new(customer("1990-01-01"));
    let s = not_ready.subject(common::d("2026-07-01"));
    assert!(eligibility::placement_first_notice(&s, common::d("2026-07-01")).is_none());
    // a customer not assessed as job-ready is not held back
    let case = Case::new(customer("1990-01-01"));
    assert!(case.eligibility("AGH", "2026-07-01").eligible);
}

#[test]
fn section_16f_health_promotion_from_1_july_2026() {
    let case = Case::new(customer("1990-01-01"));
    let mut o = offer("P16F", "2026-06-01", "2026-12-31");
    o.target_groups = vec![TargetGroup::Health];
    assert!(!case.offer_rule(&o, "2026-06-30", "p16f.health_scope"));
    assert!(case.offer_rule(&o, "2026-07-01", "p16f.health_scope"));
    let _ = RuleBook::default();
}
