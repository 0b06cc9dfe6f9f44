//! Verdicts kept with a placement (exceptions only where the law leaves discretion),
//! versioned parameters, prior participations validated, and the rule table itself.

mod common;

use common::{customer, d, offer, placed, prior, Case};
use passgenau_domain::eligibility::{
    self, Kind, ParamVersion, Refusal, RuleBook, RuleParams, Verdict, RULES,
};
use passgenau_domain::participation::check_prior;
use passgenau_domain::{Spell, VocationalQualification};

fn known(code: &str) -> bool {
    ["AGH", "P16I", "EQ", "AVGS_MAT"].contains(&code)
}

#[test]
fn prior_participations_are_checked_like_spells() {
    let dob = d("1980-01-01");
    let today = d("2026-12-01");
    // (case, participation, field in error)
    for (case, p, field) in [
        (
            "to before from",
            prior("AGH", "2020-05-01", Some("2020-04-30"), None),
            "prior_participations[0].to",
        ),
        (
            "unknown instrument",
            prior("XYZ", "2020-05-01", None, None),
            "prior_participations[0].instrument_code",
        ),
        (
            "starts in the future",
            prior("AGH", "2026-12-02", None, None),
            "prior_participations[0].from",
        ),
        (
            "ends in the future",
            prior("AGH", "2026-01-01", Some("2027-01-01"), None),
            "prior_participations[0].to",
        ),
        (
            "before birth",
            prior("AGH", "1979-12-31", Some("1980-02-01"), None),
            "prior_participations[0].from",
        ),
        (
            "blank firm",
            prior("AGH", "2020-01-01", Some("2020-02-01"), Some("  ")),
            "prior_participations[0].provider_or_employer",
        ),
    ] {
        let errors = check_prior(&[p], dob, today, &known);
        assert!(errors.iter().any(|e| e.field == field), "{case}: {errors:?}");
    }
    assert!(check_prior(
        &[prior("AGH", "2020-01-01", Some("2020-02-01"), Some("Diakonie"))],
        dob,
        today,
        &known
    )
    .is_empty());
}

#[test]
fn an_exception_only_where_the_law_leaves_discretion() {
    let book = RuleBook::default();
    // the AGH extension: discretionary — the exception is recorded with who and why
    let mut case = Case::new(customer("1980-01-01"));
    case.history = vec![placed("AGH", "2021-01-01", Some("2022-12-31"))];
    let e = case.eligibility("AGH", "2025-06-01");
    let v = Verdict::new(&e, &book, d("2025-06-01"), d("2025-06-01"));
    assert!(matches!(v.clone().decide(None), Err(Refusal::NotEligible(_))));
    let granted = v
        .decide(Some(("ifk.meier", "prerequisites still hold; integration plan")))
        .unwrap();
    let ex = granted.exception.expect("recorded");
    assert_eq!(ex.by, "ifk.meier");
    assert_eq!(ex.rules, vec!["agh.cap_24_months".to_string()]);
    assert_eq!(granted.rules_version, eligibility::RULES_VERSION);
    // beyond 36 months: a limit — no exception places
    case.history = vec![placed("AGH", "2021-01-01", Some("2023-12-31"))];
    let e = case.eligibility("AGH", "2025-06-01");
    let v = Verdict::new(&e, &book, d("2025-06-01"), d("2025-06-01"));
    assert!(matches!(
        v.decide(Some(("ifk.meier", "because"))),
        Err(Refusal::NotEligible(_))
    ));
    // a referral is never overridden
    let mut c = customer("1990-01-01");
    c.vocational_qualification = VocationalQualification::Vocational;
    let e = Case::new(c).for_offer(&offer("FBW", "2026-02-01", "2026-12-31"), "2026-02-01");
    let v = Verdict::new(&e, &book, d("2026-01-10"), d("2026-02-01"));
    assert!(matches!(
        v.decide(Some(("admin", "please"))),
        Err(Refusal::Referral(_))
    ));
    // an eligible verdict records no exception even if one is offered
    let e = Case::new(customer("1990-01-01")).eligibility("AVGS_MAT", "2026-02-01");
    let v = Verdict::new(&e, &book, d("2026-02-01"), d("2026-02-01"))
        .decide(Some(("x", "y")))
        .unwrap();
    assert!(v.exception.is_none());
}

#[test]
fn parameters_apply_from_their_day() {
    let old = RuleParams::default();
    let new = RuleParams {
        p16i_short_employment_max_days: 90,
        ..RuleParams::default()
    };
    let book = RuleBook::new(vec![
        ParamVersion {
            valid_from: d("2019-01-01"),
            params: old.clone(),
        },
        ParamVersion {
            valid_from: d("2027-01-01"),
            params: new.clone(),
        },
    ])
    .unwrap();
    assert_eq!(book.on(d("2026-12-31")), &old);
    assert_eq!(book.on(d("2027-01-01")), &new);
    assert_eq!(book.on(d("2010-01-01")), &old, "the earliest also before its day");
    let mut c = customer("1970-01-01");
    c.employment_spells = vec![Spell::new(d("2022-01-01"), Some(d("2022-04-30")))]; // 120 days
    let mut case = Case::new(c);
    case.book = book.clone();
    assert!(case.rule("P16I", "2026-12-31", "p16i.short_employment_only"));
    assert!(!case.rule("P16I", "2027-01-01", "p16i.short_employment_only"));
    let e = case.eligibility("P16I", "2027-01-01");
    let v = Verdict::new(&e, &book, d("2026-12-01"), d("2027-01-01"));
    assert_eq!(v.parameters_valid_from, d("2027-01-01"));
    assert_eq!(v.parameters["p16i_short_employment_max_days"], 90);
    assert!(RuleBook::new(vec![]).is_err());
    assert!(RuleBook::new(vec![
        ParamVersion {
            valid_from: d("2020-01-01"),
            params: old.clone()
        },
        ParamVersion {
            valid_from: d("2020-01-01"),
            params: old
        },
    ])
    .is_err());
}

#[test]
fn every_rule_names_its_source_and_validity() {
    let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), RULES.len(), "rule ids are unique");
    for r in RULES {
        assert!(!r.source.is_empty(), "{}", r.id);
        let legal = r.source.contains('§') || r.source.starts_with("offer");
        assert!(legal, "{}: a statute or the offer", r.id);
        if !r.id.starts_with("offer.") {
            assert!(r.valid_from.is_some(), "{}: a validity", r.id);
        }
        if r.kind == Kind::Competence {
            assert!(r.source.contains("66a"), "{}: the transition rule", r.id);
        }
    }
    // the legal-rules document names every rule
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/legal-rules.md"))
        .expect("docs/legal-rules.md");
    for r in RULES {
        assert!(
            doc.contains(&format!("`{}`", r.id)),
            "docs/legal-rules.md does not list `{}`",
            r.id
        );
    }
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
        "P16F",
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
        c.job_ready = i == 1;
        if i % 2 == 1 {
            c.vocational_qualification = VocationalQualification::Vocational;
        }
        c.benefit_spells = vec![Spell::new(
            d("2012-01-01"),
            if i == 4 { Some(d("2024-12-31")) } else { None },
        )];
        c.unemployment_spells = vec![Spell::new(
            d("2016-05-01"),
            if i == 2 { Some(d("2019-01-01")) } else { None },
        )];
        let mut case = Case::new(c);
        case.history = vec![placed("AGH", "2020-01-01", Some("2021-12-31"))];
        for on in [
            "2018-06-01",
            "2021-03-15",
            "2024-12-31",
            "2025-01-01",
            "2026-07-01",
        ] {
            let s = case.subject(d(on));
            for code in codes {
                let reasons = eligibility::instrument_rules(&s, code, d(on), &case.book);
                assert_eq!(
                    eligibility::instrument_passes(&s, code, d(on), &case.book),
                    reasons.iter().all(|r| r.passed),
                    "{code} on {on} for {dob}: {reasons:?}"
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 5 * 5 * 16);
}
