//! Engine benchmarks: eligibility of one customer for the whole catalogue, and ranking one
//! customer against 2,000 open offers. `cargo bench -p passgenau-allocation`.

use chrono::NaiveDate;
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use passgenau_allocation::recommend::{recommend_arranged, Arrangement};
use passgenau_allocation::{recommend, Candidate, CustomerContext, ScoringConfig};
use passgenau_domain::catalogue;
use passgenau_domain::eligibility::{self, PastPlacement, RuleBook, Subject};
use passgenau_domain::ids::{CustomerId, OfferId, ProviderId};
use passgenau_domain::offer::{Entry, OfferData, OfferStatus};
use passgenau_domain::provider::ProviderData;
use passgenau_domain::{CustomerData, Gender, GermanLevel, Spell, TargetGroup, VocationalQualification};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn customer() -> CustomerData {
    CustomerData {
        customer_number: "K-1".into(),
        first_name: "Erika".into(),
        last_name: "Muster".into(),
        date_of_birth: d("1984-05-10"),
        gender: Gender::Female,
        nationality: "SY".into(),
        postal_code: Some("40233".into()),
        district: Some("Stadtbezirk 2".into()),
        vocational_qualification: VocationalQualification::None,
        german_level: GermanLevel::B1,
        health_restrictions: true,
        severely_disabled: false,
        rehabilitant: false,
        refugee: true,
        solo_self_employed: false,
        benefit_spells: vec![
            Spell::new(d("2015-03-01"), Some(d("2019-12-31"))),
            Spell::new(d("2020-02-01"), None),
        ],
        unemployment_spells: vec![
            Spell::new(d("2016-01-01"), Some(d("2018-06-30"))),
            Spell::new(d("2018-08-01"), None),
        ],
        employment_spells: vec![Spell::new(d("2018-07-01"), Some(d("2018-07-31")))],
        self_employment_spells: vec![],
        prior_participations: vec![],
        job_ready: false,
        seriously_impeded_placement: false,
        contact: Default::default(),
        legal_hold: false,
    }
}

fn bench(c: &mut Criterion) {
    let today = d("2026-11-24");
    let data = customer();
    let history = vec![PastPlacement {
        instrument_code: "AVGS_MAT".into(),
        provider_id: ProviderId::default(),
        started_on: Some(d("2025-05-01")),
        ended_on: Some(d("2025-08-31")),
        active: false,
        offer_period: (d("2025-05-01"), d("2025-08-31")),
        reserved_on: d("2025-05-01"),
    }];
    let codes: Vec<String> = catalogue::builtin().into_iter().map(|i| i.code).collect();
    let rules = RuleBook::default();
    c.bench_function("eligibility: one customer, whole catalogue", |b| {
        b.iter(|| {
            let s = Subject {
                customer_id: CustomerId::default(),
                customer: &data,
                household: &[],
                history: &history,
                decided_on: today,
            };
            black_box(eligibility::for_instruments(
                &s,
                codes.iter().map(String::as_str),
                today,
                &rules,
            ))
        })
    });

    let provider = ProviderData {
        name: "P".into(),
        azav_certified_until: Some(d("2030-01-01")),
        contact_email: None,
    };
    let instruments = ["AVGS_MAT", "AGH", "FBW", "P16I", "EGZ", "MAG", "ESG", "BAE"];
    let offers: Vec<OfferData> = (0..2_000)
        .map(|i| OfferData {
            instrument_code: instruments[i % instruments.len()].into(),
            provider_id: ProviderId::default(),
            title: format!("Angebot {i}"),
            district: format!("Stadtbezirk {}", i % 10 + 1),
            postal_code: Some(format!("40{:03}", i % 700)),
            starts_on: today + chrono::Duration::days((i % 120) as i64 - 30),
            ends_on: today + chrono::Duration::days(200),
            entry: if i % 2 == 0 { Entry::Rolling } else { Entry::Fixed },
            planned_places: 20,
            max_places: 24,
            cost_per_place_cents: 150_000,
            target_groups: if i % 3 == 0 {
                vec![TargetGroup::Refugee]
            } else {
                vec![]
            },
            min_age: None,
            max_age: None,
            min_german_level: if i % 4 == 0 { Some(GermanLevel::A2) } else { None },
            max_german_level: None,
            measure_approved_until: Some(d("2030-01-01")),
            status: OfferStatus::Open,
            intake: Default::default(),
        })
        .collect();
    let ids: Vec<OfferId> = (0..offers.len()).map(|_| OfferId::new()).collect();
    let candidates: Vec<Candidate> = offers
        .iter()
        .zip(&ids)
        .enumerate()
        .map(|(i, (o, id))| Candidate {
            id: *id,
            offer: o,
            provider: &provider,
            active: (i % 25) as i64,
        })
        .collect();
    let ctx = CustomerContext {
        id: CustomerId::default(),
        data: data.clone(),
        household: vec![],
        history: history.clone(),
        active_offers: vec![],
    };
    let cfg = ScoringConfig::default();
    // every offer ranked (the path of cohort runs, and of the ranking before the pruning)
    c.bench_function("ranking: one customer, 2,000 open offers, all ranked", |b| {
        b.iter(|| {
            black_box(passgenau_allocation::recommend::rank_points(
                &ctx,
                &candidates,
                today,
                &rules,
                &cfg,
            ))
        })
    });
    // arrangement made per call (what `recommend` does for a list it has not seen)
    c.bench_function("ranking: one customer, 2,000 open offers, top 50", |b| {
        b.iter(|| black_box(recommend(&ctx, &candidates, 50, today, &rules, &cfg)))
    });
    // as the server's offer snapshot does: arranged once, pruned per request
    let arrangement = Arrangement::new(&candidates, today, &cfg);
    for limit in [20, 50] {
        c.bench_function(
            &format!("ranking: one customer, 2,000 open offers, arranged, top {limit}"),
            |b| {
                b.iter(|| {
                    black_box(recommend_arranged(
                        &ctx,
                        &candidates,
                        &arrangement,
                        None,
                        limit,
                        today,
                        &rules,
                        &cfg,
                    ))
                })
            },
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
