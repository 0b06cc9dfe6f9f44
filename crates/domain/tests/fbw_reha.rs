//! FbW and Reha: the Jobcenter until 31.12.2024, the Agentur für Arbeit from 1.1.2025
//! (Haushaltsfinanzierungsgesetz 2024), § 66a with § 66 Abs. 1 SGB II for what was granted
//! before.

mod common;

use common::{customer, d, offer, Case};
use passgenau_domain::eligibility::DecidedBy;
use passgenau_domain::{Spell, VocationalQualification};

#[test]
fn the_agentur_decides_from_1_january_2025() {
    for code in ["FBW", "REHA"] {
        let mut c = customer("1990-01-01");
        c.rehabilitant = true;
        c.vocational_qualification = VocationalQualification::Vocational;
        let case = Case::new(c);
        // (decision day, who decides)
        for (on, by) in [
            ("2024-12-31", DecidedBy::Jobcenter),
            ("2025-01-01", DecidedBy::Agentur),
        ] {
            let e = case.eligibility(code, on);
            assert_eq!(e.decided_by, by, "{code} on {on}: {e:?}");
            assert_eq!(e.eligible, by == DecidedBy::Jobcenter, "{code} on {on}");
            // a referral is an outcome of its own: not "lacks a prerequisite"
            if by == DecidedBy::Agentur {
                assert!(!e.overridable());
                assert_eq!(e.reasons.iter().filter(|r| !r.passed).count(), 1, "{e:?}");
            }
        }
    }
}

#[test]
fn granted_in_2024_for_a_start_in_2025_stays_with_the_jobcenter() {
    // § 66a with § 66 Abs. 1 SGB II: the decision day counts, not the start
    let mut c = customer("1990-01-01");
    c.vocational_qualification = VocationalQualification::Vocational;
    let mut case = Case::new(c);
    let o = offer("FBW", "2025-02-01", "2025-12-31");
    case.decided_on = Some(d("2024-12-15"));
    let e = case.for_offer(&o, "2025-02-01");
    assert_eq!(e.decided_by, DecidedBy::Jobcenter, "{e:?}");
    assert!(e.eligible, "{e:?}");
    case.decided_on = Some(d("2025-01-02"));
    assert_eq!(case.for_offer(&o, "2025-02-01").decided_by, DecidedBy::Agentur);
}

#[test]
fn three_year_rule_for_people_without_a_qualification() {
    // § 81 Abs. 2 Satz 2 SGB III: three years of work = 1,095 days (§ 191 BGB); less is
    // the specialist's discretion (apprenticeship impossible, shortage occupation)
    let mut c = customer("1990-01-01");
    c.employment_spells = vec![Spell::new(d("2015-01-01"), Some(d("2017-12-30")))]; // 1,095 days
    assert!(Case::new(c.clone()).rule("FBW", "2021-01-01", "fbw.three_year_rule"));
    c.employment_spells = vec![Spell::new(d("2015-01-01"), Some(d("2017-12-29")))];
    let case = Case::new(c);
    assert!(!case.rule("FBW", "2021-01-01", "fbw.three_year_rule"));
    assert!(case.eligibility("FBW", "2021-01-01").overridable());
}
