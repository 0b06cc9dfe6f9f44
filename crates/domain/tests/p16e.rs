//! § 16e SGB II — Eingliederung von Langzeitarbeitslosen, with § 18 SGB III counting.

mod common;

use common::{customer, d, offer, placed, Case, PROVIDER_ID};
use passgenau_domain::Spell;

#[test]
fn two_years_of_unemployment_counted_as_18_sgb_iii() {
    // § 16e Abs. 1 Satz 1, 2 SGB II; § 188 Abs. 2 BGB: two years from 1.3.2021 end on
    // 28.2.2023, so the customer qualifies from 1.3.2023
    let mut c = customer("1980-01-01");
    c.unemployment_spells = vec![Spell::new(d("2021-03-01"), None)];
    let case = Case::new(c.clone());
    assert!(!case.rule("P16E", "2023-02-28", "p16e.unemployed_2_years"));
    assert!(case.rule("P16E", "2023-03-01", "p16e.unemployed_2_years"));

    // § 18 Abs. 1 Satz 2 SGB III: six weeks of illness do not interrupt
    c.unemployment_spells = vec![
        Spell::new(d("2021-03-01"), Some(d("2021-09-30"))),
        Spell::new(d("2021-11-12"), None), // 42 days without a spell
    ];
    assert!(Case::new(c.clone()).rule("P16E", "2023-03-01", "p16e.unemployed_2_years"));
    // a § 45 measure of any length does not interrupt
    c.unemployment_spells = vec![
        Spell::new(d("2021-03-01"), Some(d("2021-09-30"))),
        Spell::new(d("2022-01-01"), None),
    ];
    let mut case = Case::new(c.clone());
    assert!(
        !case.rule("P16E", "2023-03-01", "p16e.unemployed_2_years"),
        "three months without a reason restart"
    );
    case.history = vec![placed("AVGS_MAT", "2021-10-01", Some("2021-12-31"))];
    assert!(
        case.rule("P16E", "2023-03-01", "p16e.unemployed_2_years"),
        "a § 45 measure bridges"
    );

    // § 18 Abs. 2 Nr. 5 SGB III: employment of up to six months in all is left out — it
    // neither counts nor restarts the period
    c.employment_spells = vec![Spell::new(d("2021-10-01"), Some(d("2021-12-31")))]; // 92 days
    let case = Case::new(c.clone());
    assert!(
        !case.rule("P16E", "2023-03-01", "p16e.unemployed_2_years"),
        "92 days do not count"
    );
    assert!(
        case.rule("P16E", "2023-06-01", "p16e.unemployed_2_years"),
        "moved on by 92 days"
    );
    // longer employment restarts the period
    c.unemployment_spells = vec![
        Spell::new(d("2020-01-01"), Some(d("2020-12-31"))),
        Spell::new(d("2021-09-01"), None),
    ];
    c.employment_spells = vec![Spell::new(d("2021-01-01"), Some(d("2021-08-31")))]; // 243 days
    assert!(!Case::new(c).rule("P16E", "2023-06-01", "p16e.unemployed_2_years"));
}

#[test]
fn a_contract_of_at_least_two_years() {
    // § 16e Abs. 1 Satz 1 SGB II
    let case = Case::new(customer("1980-01-01"));
    assert!(case.offer_rule(
        &offer("P16E", "2026-02-01", "2028-01-31"),
        "2026-02-01",
        "p16e.contract_2_years"
    ));
    assert!(!case.offer_rule(
        &offer("P16E", "2026-02-01", "2028-01-30"),
        "2026-02-01",
        "p16e.contract_2_years"
    ));
}

#[test]
fn not_at_a_former_employer() {
    // § 16e Abs. 3 Satz 1 SGB II with § 92 Abs. 1 Nr. 2 SGB III: more than three months
    // (90 days, § 191 BGB) in the four years before the start exclude
    let job = offer("P16E", "2026-02-01", "2028-01-31");
    let mut c = customer("1980-01-01");
    c.employment_spells = vec![Spell::at(d("2023-01-01"), Some(d("2023-03-31")), PROVIDER_ID)]; // 90 days
    assert!(Case::new(c.clone()).offer_rule(&job, "2026-02-01", "former_employer_4_years"));
    c.employment_spells = vec![Spell::at(d("2023-01-01"), Some(d("2023-04-01")), PROVIDER_ID)]; // 91 days
    assert!(!Case::new(c.clone()).offer_rule(&job, "2026-02-01", "former_employer_4_years"));
    // more than four years ago, or at another employer: no exclusion
    c.employment_spells = vec![Spell::at(d("2021-01-01"), Some(d("2021-12-31")), PROVIDER_ID)];
    assert!(Case::new(c.clone()).offer_rule(&job, "2026-02-01", "former_employer_4_years"));
    c.employment_spells = vec![Spell::new(d("2023-01-01"), Some(d("2023-12-31")))];
    assert!(Case::new(c).offer_rule(&job, "2026-02-01", "former_employer_4_years"));
}

#[test]
fn a_job_in_a_short_gap_interrupts() {
    // § 18 Abs. 1 Satz 2 SGB III covers illness and other non-employment, not a job
    let mut c = customer("1980-01-01");
    c.unemployment_spells = vec![
        Spell::new(d("2020-01-01"), Some(d("2020-06-30"))),
        Spell::new(d("2020-08-01"), None),
    ];
    let statistical = passgenau_domain::target_groups::unemployed_since(&c, d("2021-03-01"));
    assert_eq!(
        statistical,
        Some(d("2020-01-01")),
        "31 days without a record: bridged"
    );
    c.employment_spells = vec![Spell::new(d("2020-07-01"), Some(d("2020-07-31")))];
    let statistical = passgenau_domain::target_groups::unemployed_since(&c, d("2021-03-01"));
    assert_eq!(
        statistical,
        Some(d("2020-08-01")),
        "a job restarts the statistical count"
    );
    // for a benefit the job is left out (§ 18 Abs. 2 Nr. 5): two years from 1.1.2020 plus
    // the 31 days
    let case = Case::new(c);
    assert!(!case.rule("P16E", "2022-01-31", "p16e.unemployed_2_years"));
    assert!(case.rule("P16E", "2022-02-01", "p16e.unemployed_2_years"));
}
