//! No nationality, gender or proxy of them in any decision (Art. 3 Abs. 3 GG, § 1 AGG,
//! Art. 9 DSGVO; domain rules, "Equal treatment"): for many varied customers, changing
//! only the nationality — and then only the gender — changes neither the eligibility for
//! any instrument or offer nor the recommendations, their order or their scores. The
//! offers include ones marked for `migration_background` (a proxy of nationality, which
//! must gate nothing and add nothing) and ones for people learning German (gated on the
//! German level, which is allowed).

use chrono::{Days, NaiveDate};
use passgenau_allocation::recommend::{recommend, Candidate, CustomerContext};
use passgenau_allocation::ScoringConfig;
use passgenau_domain::eligibility::{self, PastPlacement, RuleBook, Subject};
use passgenau_domain::household::{HouseholdMember, HouseholdRole};
use passgenau_domain::ids::{CustomerId, MemberId, OfferId, ProviderId};
use passgenau_domain::offer::{Entry, OfferData, OfferStatus};
use passgenau_domain::provider::ProviderData;
use passgenau_domain::{CustomerData, Gender, GermanLevel, Spell, TargetGroup, VocationalQualification};
use uuid::Uuid;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// A small deterministic generator (the test must give the same customers every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const GERMAN: [GermanLevel; 8] = [
    GermanLevel::None,
    GermanLevel::A1,
    GermanLevel::A2,
    GermanLevel::B1,
    GermanLevel::B2,
    GermanLevel::C1,
    GermanLevel::C2,
    GermanLevel::Native,
];
const QUALIFICATION: [VocationalQualification; 4] = [
    VocationalQualification::None,
    VocationalQualification::Partial,
    VocationalQualification::Vocational,
    VocationalQualification::Academic,
];
const NATIONALITIES: [&str; 6] = ["DE", "SY", "TR", "PL", "UA", "AF"];
const GENDERS: [Gender; 4] = [Gender::Female, Gender::Male, Gender::Diverse, Gender::Unspecified];

fn person(rng: &mut Lcg, today: NaiveDate) -> (CustomerData, Vec<HouseholdMember>, Vec<PastPlacement>) {
    let age_days = 16 * 365 + rng.below(48 * 365);
    let dob = today.checked_sub_days(Days::new(age_days)).unwrap();
    let benefit_from = today
        .checked_sub_days(Days::new(30 + rng.below(3_500)))
        .unwrap()
        .max(dob);
    let mut c = CustomerData {
        customer_number: "K".into(),
        first_name: "A".into(),
        last_name: "B".into(),
        date_of_birth: dob,
        gender: GENDERS[rng.below(4) as usize],
        nationality: NATIONALITIES[rng.below(6) as usize].into(),
        postal_code: Some(format!("40{:03}", rng.below(700))),
        district: Some(format!("Stadtbezirk {}", rng.below(10) + 1)),
        vocational_qualification: QUALIFICATION[rng.below(4) as usize],
        german_level: GERMAN[rng.below(8) as usize],
        health_restrictions: rng.chance(20),
        severely_disabled: rng.chance(8),
        rehabilitant: rng.chance(4),
        refugee: rng.chance(25),
        solo_self_employed: rng.chance(5),
        benefit_spells: vec![Spell::new(
            benefit_from,
            if rng.chance(10) { Some(today) } else { None },
        )],
        unemployment_spells: if rng.chance(60) {
            vec![Spell::new(
                today
                    .checked_sub_days(Days::new(rng.below(1_500)))
                    .unwrap()
                    .max(dob),
                None,
            )]
        } else {
            vec![]
        },
        employment_spells: if rng.chance(40) {
            let from = benefit_from
                .checked_sub_days(Days::new(100 + rng.below(900)))
                .unwrap()
                .max(dob);
            vec![Spell::new(from, Some(benefit_from.pred_opt().unwrap().max(from)))]
        } else {
            vec![]
        },
        self_employment_spells: vec![],
        prior_participations: vec![],
        job_ready: rng.chance(15),
        seriously_impeded_placement: rng.chance(10),
        contact: Default::default(),
        legal_hold: false,
    };
    if rng.chance(20) {
        c.prior_participations = vec![passgenau_domain::participation::PriorParticipation {
            instrument_code: ["AGH", "P16I", "EQ"][rng.below(3) as usize].into(),
            from: d("2020-01-01"),
            to: Some(d("2021-06-30")),
            provider_or_employer: None,
        }];
    }
    let household = if rng.chance(30) {
        vec![
            HouseholdMember {
                id: MemberId::from_uuid(Uuid::from_u128(1)),
                customer_id: Some(CustomerId::default()),
                role: HouseholdRole::Applicant,
                date_of_birth: dob,
            },
            HouseholdMember {
                id: MemberId::from_uuid(Uuid::from_u128(2)),
                customer_id: None,
                role: HouseholdRole::Child,
                date_of_birth: today.checked_sub_days(Days::new(rng.below(20 * 365))).unwrap(),
            },
        ]
    } else {
        vec![]
    };
    let history = if rng.chance(30) {
        vec![PastPlacement {
            instrument_code: ["AGH", "AVGS_MAT", "P16I", "MAG"][rng.below(4) as usize].into(),
            provider_id: ProviderId::from_uuid(Uuid::from_u128(7)),
            started_on: Some(d("2024-02-01")),
            ended_on: Some(d("2024-07-31")),
            active: false,
            offer_period: (d("2024-02-01"), d("2024-07-31")),
            reserved_on: d("2024-02-01"),
        }]
    } else {
        vec![]
    };
    (c, household, history)
}

fn offers(today: NaiveDate) -> Vec<OfferData> {
    let codes = [
        "AVGS_MAT", "AGH", "MAG", "EGZ", "ESG", "EQ", "P16E", "P16I", "ASA", "BAE", "FBW", "P16F",
    ];
    let groups = [
        vec![],
        vec![TargetGroup::MigrationBackground],
        vec![TargetGroup::Refugee, TargetGroup::MigrationBackground],
        vec![TargetGroup::SingleParent],
        vec![TargetGroup::U25],
        vec![TargetGroup::LongTermRecipient],
    ];
    (0..300)
        .map(|i| {
            let starts = today.checked_add_days(Days::new((i % 7) as u64 * 15)).unwrap();
            let weeks = [4u64, 6, 26, 52, 104, 130][i % 6];
            OfferData {
                instrument_code: codes[i % codes.len()].into(),
                provider_id: ProviderId::from_uuid(Uuid::from_u128(7 + (i % 3) as u128)),
                title: format!("Angebot {i}"),
                district: format!("Stadtbezirk {}", i % 10 + 1),
                postal_code: Some(format!("40{:03}", (i * 13) % 700)),
                starts_on: starts,
                ends_on: starts.checked_add_days(Days::new(weeks * 7 - 1)).unwrap(),
                entry: if i % 2 == 0 { Entry::Rolling } else { Entry::Fixed },
                planned_places: 10,
                max_places: 12,
                cost_per_place_cents: 100_000,
                target_groups: groups[i % groups.len()].clone(),
                min_age: (i % 11 == 0).then_some(25),
                max_age: (i % 13 == 0).then_some(30),
                min_german_level: (i % 5 == 0).then_some(GermanLevel::A2),
                max_german_level: (i % 7 == 0).then_some(GermanLevel::B1),
                measure_approved_until: Some(d("2030-12-31")),
                status: OfferStatus::Open,
                intake: Default::default(),
            }
        })
        .collect()
}

/// Everything a decision about the customer yields: eligibility for every instrument and
/// every offer, and the recommendations with their scores and explanations.
fn decisions(
    c: &CustomerData,
    household: &[HouseholdMember],
    history: &[PastPlacement],
    candidates: &[Candidate],
    today: NaiveDate,
) -> String {
    let book = RuleBook::default();
    let s = Subject {
        customer_id: CustomerId::default(),
        customer: c,
        household,
        history,
        decided_on: today,
    };
    let codes = [
        "P16I", "P16E", "AGH", "FBW", "REHA", "ESG", "EGZ", "ASA", "BAE", "EQ", "P16H", "P16C", "P16F",
        "AVGS_MAT", "MAG",
    ];
    let mut out = String::new();
    for on in [today, d("2026-06-30"), d("2026-07-01")] {
        let e = eligibility::for_instruments(&s, codes, on, &book);
        out.push_str(&serde_json::to_string(&e).unwrap());
    }
    for cand in candidates {
        let on = eligibility::reference_day(cand.offer, today);
        let e = eligibility::for_offer(&s, cand.offer, cand.provider, on, &book);
        out.push_str(&serde_json::to_string(&e).unwrap());
    }
    let ctx = CustomerContext {
        id: CustomerId::default(),
        data: c.clone(),
        household: household.to_vec(),
        history: history.to_vec(),
        active_offers: vec![],
    };
    let recs = recommend(&ctx, candidates, 50, today, &book, &ScoringConfig::default());
    out.push_str(&serde_json::to_string(&recs).unwrap());
    out
}

#[test]
fn nationality_and_gender_change_no_decision() {
    let today = d("2026-12-01");
    let provider = ProviderData {
        name: "P".into(),
        azav_certified_until: Some(d("2030-12-31")),
        contact_email: None,
    };
    let offers = offers(today);
    let ids: Vec<OfferId> = (0..offers.len() as u128)
        .map(|n| OfferId::from_uuid(Uuid::from_u128(1_000 + n)))
        .collect();
    let candidates: Vec<Candidate> = offers
        .iter()
        .zip(&ids)
        .map(|(o, id)| Candidate {
            id: *id,
            offer: o,
            provider: &provider,
            active: 0,
        })
        .collect();
    let mut rng = Lcg(20261201);
    let (mut recommended, mut eligible_somewhere) = (0, 0);
    for _ in 0..80 {
        let (c, household, history) = person(&mut rng, today);
        let base = decisions(&c, &household, &history, &candidates, today);
        recommended += usize::from(base.contains("\"offer_id\""));
        eligible_somewhere += usize::from(base.contains("\"eligible\":true"));
        for nationality in NATIONALITIES {
            let mut other = c.clone();
            other.nationality = nationality.into();
            assert_eq!(
                decisions(&other, &household, &history, &candidates, today),
                base,
                "nationality {} instead of {} changed a decision",
                nationality,
                c.nationality
            );
        }
        for gender in GENDERS {
            let mut other = c.clone();
            other.gender = gender;
            assert_eq!(
                decisions(&other, &household, &history, &candidates, today),
                base,
                "gender {gender:?} instead of {:?} changed a decision",
                c.gender
            );
        }
    }
    // the test means something only if the customers do get offers
    assert!(
        recommended > 40,
        "only {recommended} of 80 customers got recommendations"
    );
    assert!(eligible_somewhere > 70, "{eligible_somewhere}");
}

/// The counter-check: the derived group exists (reports count it) — it is only kept out
/// of the decisions, so an offer marked for it admits everybody else alike.
#[test]
fn migration_background_is_counted_but_decides_nothing() {
    let today = d("2026-12-01");
    let mut rng = Lcg(7);
    let (mut c, household, _) = person(&mut rng, today);
    c.nationality = "SY".into();
    let groups = passgenau_domain::target_groups::derive(CustomerId::default(), &c, &household, today);
    assert!(groups.contains(&TargetGroup::MigrationBackground));
    assert!(!TargetGroup::MigrationBackground.may_decide());
    assert!(TargetGroup::ALL
        .iter()
        .filter(|g| !g.may_decide())
        .eq([&TargetGroup::MigrationBackground]));
}
