//! `passgenau seed demo`: the AMIP 2021 as a living system. Loads the catalogue, the
//! plans (2021 from the seed; the current and next year alike), providers and offers of
//! the chapter-5 tables, a synthetic population resembling the seed's figures, placements
//! through 2021 (the history the 2021 reports read) and open, partly filled offers for the
//! current and next year, and one user per role.
//!
//! Deterministic from `--seed` (a SplitMix64 stream; dates relative to a fixed reference
//! day), so the same command gives the same data. Idempotent: a second run finds its
//! marker and changes nothing; a database with other data is refused unless `--force`.

pub mod programme;

use passgenau_domain::ids::{CustomerId, HouseholdId, Id, ProviderId};
use std::collections::HashMap;

use chrono::{Datelike, Duration, NaiveDate, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use passgenau_domain::household::{HouseholdData, HouseholdMember, HouseholdRole};
use passgenau_domain::offer::{default_max_places, Entry, OfferData, OfferStatus};
use passgenau_domain::placement::PlacementStatus;
use passgenau_domain::provider::ProviderData;
use passgenau_domain::user::Role;
use passgenau_domain::{
    target_groups, CustomerData, Gender, GermanLevel, Spell, TargetGroup, VocationalQualification,
};
use passgenau_store::allocations::{AllocationEvent, AllocationRecord, Source};
use passgenau_store::customers::CustomerRecord;
use passgenau_store::offers::OfferRecord;
use passgenau_store::plans::{Plan, PlanLine};
use passgenau_store::providers::ProviderRecord;
use passgenau_store::{allocations, customers, households, offers, plans, providers, settings, Meta, Store};
use rand::RngCore;
use uuid::Uuid;

use self::programme::{self as prog, Product};

/// Options of `passgenau seed demo`.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub customers: usize,
    pub seed: u64,
    pub force: bool,
    pub progress: bool,
}

/// What was loaded.
#[derive(Debug, Default)]
pub struct Summary {
    pub customers: usize,
    pub households: usize,
    pub children: usize,
    pub offers: usize,
    pub placements: usize,
    /// (username, role, password) of the users created now.
    pub users: Vec<(String, Role, String)>,
    pub already_loaded: bool,
}

/// SplitMix64: small, fast and the same on every platform and version.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `[0, 1)`.
    pub fn f(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.f() < p
    }
    /// Uniform in `[lo, hi]`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % ((hi - lo + 1) as u64)) as i64
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len() as u64) as usize]
    }
    /// A time-ordered ID (UUID v7 layout) from the stream, so IDs are deterministic too.
    pub fn uuid<I: Id>(&mut self, millis: u64) -> I {
        let r = self.next_u64();
        let s = self.next_u64();
        let mut b = [0u8; 16];
        b[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
        b[6..14].copy_from_slice(&r.to_be_bytes());
        b[14..].copy_from_slice(&s.to_be_bytes()[..2]);
        b[6] = (b[6] & 0x0f) | 0x70;
        b[8] = (b[8] & 0x3f) | 0x80;
        I::from_uuid(Uuid::from_bytes(b))
    }
}

/// The fixed day the population is described on (ages and spells are relative to it).
pub fn reference_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).expect("date")
}

const FIRST_F: &[&str] = &[
    "Anna",
    "Maria",
    "Fatma",
    "Elena",
    "Sarah",
    "Aylin",
    "Olga",
    "Julia",
    "Amina",
    "Sabine",
    "Leonie",
    "Noor",
    "Katarzyna",
    "Mariam",
    "Petra",
    "Hanna",
];
const FIRST_M: &[&str] = &[
    "Thomas", "Mehmet", "Ahmad", "Lukas", "Jan", "Ali", "Michael", "Piotr", "Yusuf", "Stefan", "Daniel",
    "Omar", "Kevin", "Andrzej", "Hamid", "Frank",
];
const LAST: &[&str] = &[
    "Müller",
    "Schmidt",
    "Yılmaz",
    "Schneider",
    "Fischer",
    "Kaya",
    "Weber",
    "Nowak",
    "Meyer",
    "Hassan",
    "Wagner",
    "Becker",
    "Al-Khatib",
    "Hoffmann",
    "Demir",
    "Schulz",
    "Kowalski",
    "Koch",
    "Richter",
    "Haddad",
];
/// Nationalities other than German, weighted by repetition; the first six are the main
/// countries of origin of refugees.
const OTHER_NAT: &[&str] = &[
    "SY", "IQ", "AF", "ER", "IR", "UA", "TR", "TR", "TR", "PL", "PL", "GR", "IT", "RO", "BG", "MA", "RU",
    "XK", "RS", "HR",
];
const REFUGEE_NAT: &[&str] = &["SY", "IQ", "AF", "ER", "IR", "UA"];

struct Person {
    data: CustomerData,
    id: CustomerId,
}

/// Runs the whole seed; prints nothing (the CLI prints the summary). Steps: check that
/// the database may take the demo, make the population and its households, the providers
/// and offers, the placements, write it all in one transaction, add the users.
pub fn demo(store: &Store, opts: &DemoOptions) -> Result<Summary, String> {
    let marker = format!("seed={} customers={}", opts.seed, opts.customers);
    if let Some(done) = check_loadable(store, opts, &marker)? {
        return Ok(done);
    }
    let bar = progress_bar(opts.progress);
    let mut rng = Rng::new(opts.seed);
    let today = Utc::now().date_naive();
    let now = passgenau_store::records::now();

    bar.set_message("population");
    let people = population(&mut rng, opts.customers, millis(reference_day()));
    bar.inc(1);
    bar.set_message("households");
    let (hh, members, children) = bedarfsgemeinschaften(&mut rng, &people, millis(reference_day()));
    bar.inc(1);

    bar.set_message("providers and offers");
    let years = [2021, today.year(), today.year() + 1];
    let provider_recs = providers_of_the_programme(&mut rng, today, now);
    let offer_recs = offers_of_the_programme(&mut rng, &provider_recs, &years, today, now);
    bar.inc(1);

    bar.set_message("placements");
    let (alloc_recs, events) = placements(
        &mut rng,
        &people,
        &members,
        &offer_recs,
        today,
        opts.customers,
        millis,
    );
    bar.inc(1);

    bar.set_message("writing");
    let demo = Loaded {
        providers: &provider_recs,
        offers: &offer_recs,
        people: &people,
        households: &hh,
        members: &members,
        placements: &alloc_recs,
        events: &events,
        plans: plans_for(&years, today),
    };
    write(store, &demo, &marker, now)?;
    bar.inc(1);

    bar.set_message("users");
    let users = demo_users(store, provider_recs[0].meta.id)?;
    bar.inc(1);
    bar.finish_with_message("done");
    Ok(Summary {
        customers: people.len(),
        households: hh.len(),
        children,
        offers: offer_recs.len(),
        placements: alloc_recs.len(),
        users,
        already_loaded: false,
    })
}

/// Milliseconds of 8:00 on `d` (the time part of the demo's UUIDv7 IDs).
fn millis(d: NaiveDate) -> u64 {
    d.and_hms_opt(8, 0, 0)
        .map(|t| t.and_utc().timestamp_millis() as u64)
        .unwrap_or(0)
}

/// Whether the database may take this demo: `Some` when this very demo is loaded already
/// (nothing to do); an error when another demo or other data is there (unless `force`).
fn check_loadable(store: &Store, opts: &DemoOptions, marker: &str) -> Result<Option<Summary>, String> {
    if !(1_000..=200_000).contains(&opts.customers) {
        return Err("--customers must be between 1,000 and 200,000".into());
    }
    store
        .read(|conn| Ok::<_, passgenau_store::StoreError>(loadable(conn, opts, marker)))
        .map_err(|e| e.to_string())?
}

fn loadable(
    conn: &mut passgenau_store::DbConnection,
    opts: &DemoOptions,
    marker: &str,
) -> Result<Option<Summary>, String> {
    if let Some(existing) = settings::get(conn, "demo_seed").map_err(|e| e.to_string())? {
        if existing == marker {
            return Ok(Some(Summary {
                already_loaded: true,
                ..Default::default()
            }));
        }
        // another demo (other seed or size) is loaded: adding a second would mix them
        return Err(format!(
            "the database holds another demo ({existing}); use a fresh database for this one"
        ));
    }
    let holds_data = customers::count(conn).map_err(|e| e.to_string())? > 0
        || !providers::all(conn).map_err(|e| e.to_string())?.is_empty();
    if holds_data && !opts.force {
        return Err(
            "the database already holds data; `passgenau seed demo --force` adds the demo to it".into(),
        );
    }
    Ok(None)
}

fn progress_bar(shown: bool) -> ProgressBar {
    if !shown {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new(7);
    b.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    b
}

/// The providers of the AMIP 2021's tables, AZAV-approved for two more years.
fn providers_of_the_programme(
    rng: &mut Rng,
    today: NaiveDate,
    now: chrono::DateTime<Utc>,
) -> Vec<ProviderRecord> {
    prog::PROVIDERS
        .iter()
        .enumerate()
        .map(|(i, name)| ProviderRecord {
            meta: Meta::new(
                rng.uuid(millis(NaiveDate::from_ymd_opt(2020, 6, 1).unwrap()) + i as u64),
                now,
            ),
            data: ProviderData {
                name: (*name).to_string(),
                azav_certified_until: Some(
                    NaiveDate::from_ymd_opt(today.year() + 2, 12, 31).unwrap_or(today),
                ),
                contact_email: Some(format!("kontakt{}@traeger.example", i + 1)),
            },
        })
        .collect()
}

/// The offers of the chapter-5 tables for each year: 2021 as history (closed), the
/// current and next year open; FbW and Reha only while the Jobcenter decides them.
fn offers_of_the_programme(
    rng: &mut Rng,
    provider_recs: &[ProviderRecord],
    years: &[i32],
    today: NaiveDate,
    now: chrono::DateTime<Utc>,
) -> Vec<(OfferRecord, &'static Product)> {
    let mut offer_recs: Vec<(OfferRecord, &'static Product)> = Vec::new();
    for &year in years {
        for (pi, product) in prog::PRODUCTS.iter().enumerate() {
            if !jobcenter_decides(product.code, year) {
                continue;
            }
            // large products are split into offers of at most 60 places across districts
            let n_offers = ((product.entries_2021 + 59) / 60).max(1);
            for k in 0..n_offers {
                let planned =
                    product.entries_2021 / n_offers + i32::from(k < product.entries_2021 % n_offers);
                let (district, postal) = prog::DISTRICTS[(pi + k as usize) % prog::DISTRICTS.len()];
                let provider = &provider_recs[(pi + k as usize) % provider_recs.len()];
                let starts_on = if product.rolling {
                    NaiveDate::from_ymd_opt(year, 1, 1)
                } else if product.weeks <= 6 {
                    // short measures start every month
                    NaiveDate::from_ymd_opt(year, (k as u32 % 12) + 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(year, [2, 4, 8, 10][k as usize % 4], 1)
                }
                .unwrap_or(today);
                let ends_on = if product.rolling {
                    NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(today)
                } else {
                    starts_on + Duration::weeks(product.weeks) - Duration::days(1)
                };
                let cost = prog::PLAN_2021
                    .iter()
                    .find(|l| l.code == product.code)
                    .map(|l| l.cost_per_place_cents)
                    .unwrap_or(150_000);
                offer_recs.push((
                    OfferRecord {
                        meta: Meta::new(rng.uuid(millis(starts_on) - 86_400_000 * 60), now),
                        data: OfferData {
                            instrument_code: product.code.into(),
                            provider_id: provider.meta.id,
                            title: if n_offers > 1 {
                                format!("{} {year} ({district})", product.title)
                            } else {
                                format!("{} {year}", product.title)
                            },
                            district: district.into(),
                            postal_code: Some(postal.into()),
                            starts_on,
                            ends_on,
                            entry: if product.rolling {
                                Entry::Rolling
                            } else {
                                Entry::Fixed
                            },
                            planned_places: planned,
                            max_places: default_max_places(planned),
                            cost_per_place_cents: cost,
                            target_groups: product.target_groups.to_vec(),
                            min_age: product.min_age,
                            max_age: product.max_age,
                            min_german_level: None,
                            max_german_level: product.german_up_to,
                            // AVGS-MAT and FbW need the measure's own approval
                            measure_approved_until: matches!(product.code, "AVGS_MAT" | "FBW")
                                .then_some(provider.data.azav_certified_until)
                                .flatten(),
                            status: if year < today.year() {
                                OfferStatus::Closed
                            } else {
                                OfferStatus::Open
                            },
                            intake: Default::default(),
                        },
                    },
                    product,
                ));
            }
        }
    }
    offer_recs
}

/// Everything the demo writes.
struct Loaded<'a> {
    providers: &'a [ProviderRecord],
    offers: &'a [(OfferRecord, &'static Product)],
    people: &'a [Person],
    households: &'a Households,
    members: &'a Members,
    placements: &'a [AllocationRecord],
    events: &'a [AllocationEvent],
    plans: Vec<Plan>,
}

/// Writes the demo in one transaction (with its marker), then refreshes the planner's
/// statistics.
fn write(store: &Store, d: &Loaded, marker: &str, now: chrono::DateTime<Utc>) -> Result<(), String> {
    let (provider_recs, offer_recs, people, hh, members, alloc_recs, events, plan_rows) = (
        d.providers,
        d.offers,
        d.people,
        d.households,
        d.members,
        d.placements,
        d.events,
        &d.plans,
    );
    store
        .write(|conn| -> Result<(), passgenau_store::StoreError> {
            passgenau_store::instruments::ensure_builtin(conn)?;
            for p in provider_recs {
                providers::insert(conn, p)?;
            }
            for (o, _) in offer_recs {
                offers::insert(conn, o)?;
            }
            let recs: Vec<CustomerRecord> = people
                .iter()
                .map(|p| CustomerRecord {
                    meta: Meta::new(p.id, now),
                    household_id: None,
                    data: p.data.clone(),
                    closure: None,
                })
                .collect();
            // household links are set from the members below
            let mut recs = recs;
            let by_customer: HashMap<CustomerId, HouseholdId> = members
                .iter()
                .filter_map(|(h, m)| m.customer_id.map(|c| (c, *h)))
                .collect();
            for r in &mut recs {
                r.household_id = by_customer.get(&r.meta.id).copied();
            }
            households::insert_many(conn, hh, &[], now)?;
            customers::insert_many(conn, &recs)?;
            households::insert_many(conn, &[], members, now)?;
            allocations::insert_many(conn, alloc_recs, events)?;
            for plan in plan_rows {
                if plans::version(conn, plan.year)?.is_none() {
                    plans::put(conn, plan, None)?;
                }
            }
            settings::get_or_insert(conn, "demo_seed", marker)?;
            Ok(())
        })
        .map_err(|e| e.to_string())?;
    store.analyze().map_err(|e| e.to_string())
}

/// One user per role, each with a random password shown once; users that exist stay.
fn demo_users(store: &Store, provider_id: ProviderId) -> Result<Vec<(String, Role, String)>, String> {
    let mut users = Vec::new();
    for (name, role) in [
        ("admin", Role::Admin),
        ("ifk.demo", Role::Specialist),
        ("traeger.demo", Role::Provider),
        ("reporting.demo", Role::Reporting),
    ] {
        let exists = store
            .read(|conn| passgenau_store::users::by_username(conn, name))
            .map_err(|e| e.to_string())?
            .is_some();
        if exists {
            continue;
        }
        let mut bytes = [0u8; 12];
        rand::rng().fill_bytes(&mut bytes);
        let password = hex::encode(bytes);
        let provider = (role == Role::Provider).then_some(provider_id);
        crate::app::users::add(store, None, name, &password, role, provider)
            .map_err(|e| crate::error::ApiError::from(e).to_string())?;
        users.push((name.to_string(), role, password));
    }
    Ok(users)
}

/// Customers resembling the seed (chapter 2 and 5): about 71 % without vocational
/// qualification, 47.5 % of another nationality, 19 % with health restrictions, about
/// 7 % of the unemployed under 25, and benefit and unemployment spells that make about
/// two thirds long-term recipients.
fn population(rng: &mut Rng, n: usize, ref_millis: u64) -> Vec<Person> {
    let r = reference_day();
    (0..n)
        .map(|i| {
            let other = rng.chance(0.475);
            let nationality = if other { *rng.pick(OTHER_NAT) } else { "DE" };
            let refugee = other && REFUGEE_NAT.contains(&nationality) && rng.chance(0.75);
            let gender = if rng.chance(0.52) {
                Gender::Female
            } else if rng.chance(0.99) {
                Gender::Male
            } else {
                Gender::Diverse
            };
            let age = if rng.chance(0.075) {
                rng.range(17, 24)
            } else {
                rng.range(25, 63)
            };
            let dob = r - Duration::days(age * 365 + rng.range(0, 364));
            let first = match gender {
                Gender::Female => *rng.pick(FIRST_F),
                _ => *rng.pick(FIRST_M),
            };
            let q = rng.f();
            let vocational_qualification = if q < 0.60 {
                VocationalQualification::None
            } else if q < 0.71 {
                VocationalQualification::Partial
            } else if q < 0.93 {
                VocationalQualification::Vocational
            } else {
                VocationalQualification::Academic
            };
            let german_level = if !other {
                GermanLevel::Native
            } else {
                *rng.pick(&[
                    GermanLevel::A1,
                    GermanLevel::A2,
                    GermanLevel::B1,
                    GermanLevel::B1,
                    GermanLevel::B2,
                    GermanLevel::C1,
                    GermanLevel::Native,
                ])
            };
            let adult_from = dob + Duration::days(18 * 365);
            // benefit receipt: two thirds for more than two years, the rest recently
            let benefit_from = if rng.chance(0.66) {
                r - Duration::days(rng.range(800, 4_000))
            } else {
                r - Duration::days(rng.range(30, 700))
            }
            .max(adult_from.min(r - Duration::days(30)));
            let unemployed = rng.chance(0.45);
            let unemployment_spells = if unemployed {
                let from = if rng.chance(0.5) {
                    r - Duration::days(rng.range(366, 2_500))
                } else {
                    r - Duration::days(rng.range(10, 360))
                };
                vec![Spell::new(from.max(adult_from.min(r - Duration::days(10))), None)]
            } else {
                vec![]
            };
            let employment_spells = if rng.chance(0.4) {
                let from = benefit_from - Duration::days(rng.range(200, 2_000));
                if from > dob + Duration::days(16 * 365) {
                    vec![Spell::new(from, Some(benefit_from - Duration::days(1)))]
                } else {
                    vec![]
                }
            } else {
                vec![]
            };
            let district = *rng.pick(prog::DISTRICTS);
            Person {
                id: rng.uuid(ref_millis - 86_400_000 * 400 + i as u64),
                data: CustomerData {
                    customer_number: format!("DUS-{:07}", i + 1),
                    first_name: first.into(),
                    last_name: (*rng.pick(LAST)).into(),
                    date_of_birth: dob,
                    gender,
                    nationality: nationality.into(),
                    postal_code: Some(district.1.into()),
                    district: Some(district.0.into()),
                    vocational_qualification,
                    german_level,
                    health_restrictions: rng.chance(0.19),
                    severely_disabled: rng.chance(0.05),
                    rehabilitant: rng.chance(0.02),
                    refugee,
                    solo_self_employed: rng.chance(0.04),
                    benefit_spells: vec![Spell::new(benefit_from, None)],
                    // some recently unemployed people with a qualification are assessed as
                    // able to take up work directly (placement first, from 1.7.2026)
                    job_ready: vocational_qualification >= VocationalQualification::Vocational
                        && unemployment_spells
                            .iter()
                            .any(|s| s.from > r - Duration::days(360))
                        && rng.chance(0.5),
                    unemployment_spells,
                    employment_spells,
                    self_employment_spells: vec![],
                    prior_participations: vec![],
                    seriously_impeded_placement: false,
                    contact: contact_of(i, first),
                    legal_hold: false,
                },
            }
        })
        .collect()
}

/// Invented contact data (a stream of its own, so the rest of the population stays as
/// it was): most people give a phone number, some an e-mail address, everyone a street
/// in Düsseldorf; each chose a channel.
fn contact_of(i: usize, first: &str) -> passgenau_domain::customer::Contact {
    use passgenau_domain::customer::{Contact, ContactChannel};
    let mut rng = Rng::new(0x0063_6f6e_7461_6374 ^ i as u64);
    let phone = rng
        .chance(0.8)
        .then(|| format!("+49 211 {}", rng.range(1_000_000, 9_999_999)));
    let email = rng.chance(0.45).then(|| {
        format!(
            "{}.{}@example.org",
            passgenau_domain::search::fold(first).replace(' ', "-"),
            i + 1
        )
    });
    let channel = match (&phone, &email) {
        (_, Some(_)) if rng.chance(0.6) => ContactChannel::Email,
        (Some(_), _) if rng.chance(0.7) => ContactChannel::Phone,
        _ => ContactChannel::Post,
    };
    Contact {
        street: Some(format!("{} {}", rng.pick(STREETS), rng.range(1, 180))),
        city: Some("Düsseldorf".into()),
        phone,
        email,
        preferred_channel: Some(channel),
    }
}

/// Streets of the invented addresses.
const STREETS: &[&str] = &[
    "Königsallee",
    "Luisenstraße",
    "Kölner Straße",
    "Ackerstraße",
    "Bilker Allee",
    "Nordstraße",
    "Münsterstraße",
    "Himmelgeister Straße",
    "Benrather Schloßallee",
    "Grafenberger Allee",
];

/// Customers a block of the export holds: a larger population is written in blocks of
/// this size, each generated like a demo of its own (with the seed plus the block's
/// number) and numbered on.
const EXPORT_BLOCK: usize = 100_000;

/// Writes a population of `customers` as an import file (NDJSON, `docs/import.md`):
/// each block's households (with their members who have no record), then its customers
/// (naming their household). The people are invented and distinct by construction, so
/// the lines say `confirm_distinct_person` (a few share a birthday and a common name).
/// Returns how many households and customers were written.
pub fn export(out: &mut dyn std::io::Write, customers: usize, seed: u64) -> Result<(usize, usize), String> {
    if !(1_000..=1_000_000).contains(&customers) {
        return Err("--customers must be between 1,000 and 1,000,000".into());
    }
    let io = |e: std::io::Error| e.to_string();
    let mut written = (0usize, 0usize);
    let mut block = 0usize;
    while written.1 < customers {
        let n = EXPORT_BLOCK.min(customers - written.1);
        let mut rng = Rng::new(seed.wrapping_add(block as u64));
        let mut people = population(&mut rng, n, millis(reference_day()));
        for (i, p) in people.iter_mut().enumerate() {
            p.data.customer_number = format!("DUS-{:07}", written.1 + i + 1);
            p.data.contact = contact_of(written.1 + i, &p.data.first_name);
        }
        let (hh, members, _) = bedarfsgemeinschaften(&mut rng, &people, millis(reference_day()));
        let mut number_of: HashMap<HouseholdId, String> = HashMap::new();
        let mut home: HashMap<CustomerId, (String, HouseholdRole)> = HashMap::new();
        let mut kids: HashMap<HouseholdId, Vec<serde_json::Value>> = HashMap::new();
        for (i, (meta, _)) in hh.iter().enumerate() {
            number_of.insert(meta.id, format!("BG-{:07}", written.0 + i + 1));
        }
        for (h, m) in &members {
            match m.customer_id {
                Some(c) => {
                    home.insert(c, (number_of[h].clone(), m.role));
                }
                None => kids
                    .entry(*h)
                    .or_default()
                    .push(serde_json::json!({"role": m.role, "date_of_birth": m.date_of_birth})),
            }
        }
        for (meta, data) in &hh {
            let line = serde_json::json!({
                "kind": "household",
                "household_number": number_of[&meta.id],
                "district": data.district,
                "members": kids.remove(&meta.id).unwrap_or_default(),
            });
            serde_json::to_writer(&mut *out, &line).map_err(|e| e.to_string())?;
            out.write_all(b"\n").map_err(io)?;
        }
        for p in &people {
            let mut line = serde_json::to_value(&p.data).map_err(|e| e.to_string())?;
            if let serde_json::Value::Object(map) = &mut line {
                map.insert("kind".into(), "customer".into());
                if let Some((number, role)) = home.get(&p.id) {
                    map.insert("household_number".into(), number.clone().into());
                    map.insert(
                        "household_role".into(),
                        serde_json::to_value(role).map_err(|e| e.to_string())?,
                    );
                }
                map.insert("confirm_distinct_person".into(), true.into());
            }
            serde_json::to_writer(&mut *out, &line).map_err(|e| e.to_string())?;
            out.write_all(b"\n").map_err(io)?;
        }
        written.0 += hh.len();
        written.1 += n;
        block += 1;
    }
    Ok(written)
}

type Households = Vec<(Meta<HouseholdId>, HouseholdData)>;
type Members = Vec<(HouseholdId, HouseholdMember)>;

/// Bedarfsgemeinschaften scaled from the seed (chapter 5.3): at 45,000 customers about
/// 9,700 BGs hold 18,940 minor children, 4,830 of them single parents; couples share a
/// BG; everyone else forms a BG of one.
fn bedarfsgemeinschaften(rng: &mut Rng, people: &[Person], ref_millis: u64) -> (Households, Members, usize) {
    let r = reference_day();
    let scale = people.len() as f64 / 45_000.0;
    let single_parents = (4_830.0 * scale).round() as usize;
    let couples_with_children = (4_870.0 * scale).round() as usize;
    let couples = (3_000.0 * scale).round() as usize;
    let children_total = (18_940.0 * scale).round() as usize;
    let families = single_parents + couples_with_children;
    let now = passgenau_store::records::now();
    let mut hh = Vec::new();
    let mut members = Vec::new();
    // adults suitable as parents: 20–55 on the reference day
    let parent_age: Vec<bool> = people
        .iter()
        .map(|p| (20..=55).contains(&passgenau_domain::customer::age_on(p.data.date_of_birth, r)))
        .collect();
    let mut idx: Vec<usize> = (0..people.len()).filter(|&i| parent_age[i]).collect();
    let mut rest: Vec<usize> = (0..people.len()).filter(|&i| !parent_age[i]).collect();
    // prefer women as single parents, as in the BA statistics (about 90 %)
    let mut keyed: Vec<(bool, usize)> = idx
        .iter()
        .map(|&i| (people[i].data.gender != Gender::Female || rng.chance(0.1), i))
        .collect();
    keyed.sort_unstable();
    idx = keyed.into_iter().map(|(_, i)| i).collect();
    let mut next = idx.into_iter();
    let mut children_left = children_total;
    let mut number = 0usize;
    let mut new_hh = |rng: &mut Rng, district: &Option<String>| {
        number += 1;
        let meta = Meta::new(rng.uuid(ref_millis - 86_400_000 * 500 + number as u64), now);
        hh.push((
            meta.clone(),
            HouseholdData {
                household_number: format!("BG-{number:07}"),
                district: district.clone(),
            },
        ));
        meta.id
    };
    for f in 0..families {
        let Some(a) = next.next() else { break };
        let h = new_hh(rng, &people[a].data.district);
        members.push((h, member(rng, &people[a], HouseholdRole::Applicant)));
        if f >= single_parents {
            if let Some(b) = next.next() {
                members.push((h, member(rng, &people[b], HouseholdRole::Partner)));
            }
        }
        let remaining_families = families - f;
        let kids = (children_left / remaining_families)
            .max(1)
            .min(children_left.max(1));
        let kids = if rng.chance(0.5) && kids > 1 {
            kids - 1
        } else {
            kids + usize::from(rng.chance(0.3))
        };
        let kids = kids.min(children_left).max(usize::from(children_left > 0));
        let parent_age = passgenau_domain::customer::age_on(people[a].data.date_of_birth, r) as i64;
        for _ in 0..kids {
            let age = rng.range(0, (parent_age - 18).clamp(0, 17));
            let dob = r - Duration::days(age * 365 + rng.range(0, 364));
            members.push((
                h,
                HouseholdMember {
                    id: rng.uuid(ref_millis),
                    customer_id: None,
                    role: HouseholdRole::Child,
                    date_of_birth: dob,
                },
            ));
        }
        children_left -= kids;
    }
    rest.extend(next);
    rest.sort_unstable();
    let mut it = rest.into_iter();
    for _ in 0..couples {
        let (Some(a), Some(b)) = (it.next(), it.next()) else {
            break;
        };
        let h = new_hh(rng, &people[a].data.district);
        members.push((h, member(rng, &people[a], HouseholdRole::Applicant)));
        members.push((h, member(rng, &people[b], HouseholdRole::Partner)));
    }
    for a in it {
        let h = new_hh(rng, &people[a].data.district);
        members.push((h, member(rng, &people[a], HouseholdRole::Applicant)));
    }
    (hh, members, children_total - children_left)
}

/// A member with a customer record.
fn member(rng: &mut Rng, p: &Person, role: HouseholdRole) -> HouseholdMember {
    HouseholdMember {
        id: rng.uuid(0x0190_0000_0000),
        customer_id: Some(p.id),
        role,
        date_of_birth: p.data.date_of_birth,
    }
}

/// Who lives with whom, for deriving target groups.
struct HouseholdIndex {
    household_of: HashMap<HouseholdId, Vec<HouseholdMember>>,
    household_of_customer: HashMap<CustomerId, HouseholdId>,
}

impl HouseholdIndex {
    fn new(members: &[(HouseholdId, HouseholdMember)]) -> Self {
        let mut index = HouseholdIndex {
            household_of: HashMap::new(),
            household_of_customer: HashMap::new(),
        };
        for (h, m) in members {
            index.household_of.entry(*h).or_default().push(m.clone());
            if let Some(c) = m.customer_id {
                index.household_of_customer.insert(c, *h);
            }
        }
        index
    }

    fn members_of(&self, customer: CustomerId) -> &[HouseholdMember] {
        self.household_of_customer
            .get(&customer)
            .and_then(|h| self.household_of.get(h))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

/// Candidates by year and target group (`None`: everyone aged 16 or more), judged on
/// 1 June of the year, the day the groups matter.
type Pools = HashMap<(i32, Option<TargetGroup>), Vec<usize>>;

fn candidate_pools(people: &[Person], index: &HouseholdIndex, today: NaiveDate) -> Pools {
    let mut pools: Pools = HashMap::new();
    for (i, p) in people.iter().enumerate() {
        let hm = index.members_of(p.id);
        for year in [2021, today.year(), today.year() + 1] {
            let on = NaiveDate::from_ymd_opt(year, 6, 1).unwrap_or(today);
            if passgenau_domain::customer::age_on(p.data.date_of_birth, on) < 16 {
                continue;
            }
            pools.entry((year, None)).or_default().push(i);
            for g in target_groups::derive(p.id, &p.data, hm, on) {
                pools.entry((year, Some(g))).or_default().push(i);
            }
        }
    }
    pools
}

/// The offer's pool: its target group's (or everyone's) candidates of its age range.
fn pool_of(pools: &Pools, people: &[Person], o: &OfferData, product: &Product) -> Vec<usize> {
    let year = o.starts_on.year();
    pools
        .get(&(year, product.target_groups.first().copied()))
        .or_else(|| pools.get(&(year, None)))
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .copied()
        .filter(|&i| {
            let age = passgenau_domain::customer::age_on(people[i].data.date_of_birth, o.starts_on);
            o.min_age.is_none_or(|m| age >= m) && o.max_age.is_none_or(|m| age <= m)
        })
        .collect()
}

/// How full an offer gets: past years well filled, this year partly, next year barely.
fn fill_share(rng: &mut Rng, year: i32, today: NaiveDate) -> f64 {
    if year < today.year() {
        0.75 + 0.45 * rng.f()
    } else if year == today.year() {
        0.35 + 0.5 * rng.f()
    } else {
        0.05 + 0.15 * rng.f()
    }
}

/// A placement's states with their days: a finished one runs to its end (non-starts,
/// drop-outs, completions); a running or upcoming one stays active, while `active_here`
/// is below the offer's `max_places` (else `None`: no placement).
fn timeline(
    rng: &mut Rng,
    o: &OfferData,
    product: &Product,
    today: NaiveDate,
    active_here: &mut usize,
) -> Option<Vec<(PlacementStatus, NaiveDate)>> {
    let historic = o.starts_on.year() < today.year();
    let span = (o.ends_on - o.starts_on).num_days().max(1);
    let entry_day = if o.entry == Entry::Fixed {
        o.starts_on
    } else {
        o.starts_on + Duration::days(rng.range(0, span.min(330)))
    };
    let reserved_on = entry_day - Duration::days(rng.range(7, 30));
    let outcome = rng.f();
    let mut timeline: Vec<(PlacementStatus, NaiveDate)> = vec![(PlacementStatus::Reserved, reserved_on)];
    let stay = Duration::weeks(product.weeks) - Duration::days(rng.range(0, 7));
    if historic || entry_day + stay < today {
        if outcome < 0.04 {
            timeline.push((PlacementStatus::Declined, reserved_on + Duration::days(3)));
        } else if outcome < 0.07 {
            timeline.push((PlacementStatus::Cancelled, reserved_on + Duration::days(2)));
        } else {
            timeline.push((PlacementStatus::Confirmed, reserved_on + Duration::days(2)));
            if outcome < 0.15 {
                timeline.push((PlacementStatus::NoShow, entry_day));
            } else {
                timeline.push((PlacementStatus::Started, entry_day));
                if outcome < 0.30 {
                    timeline.push((
                        PlacementStatus::Aborted,
                        entry_day + Duration::days(rng.range(7, stay.num_days().max(8))),
                    ));
                } else {
                    timeline.push((PlacementStatus::Completed, entry_day + stay));
                }
            }
        }
    } else if *active_here < o.max_places as usize {
        *active_here += 1;
        if entry_day <= today {
            timeline.push((PlacementStatus::Confirmed, reserved_on + Duration::days(2)));
            timeline.push((PlacementStatus::Started, entry_day));
        } else if rng.chance(0.5) {
            timeline.push((
                PlacementStatus::Confirmed,
                (reserved_on + Duration::days(2)).min(today),
            ));
        }
    } else {
        return None;
    }
    Some(timeline)
}

/// The placement a timeline ends in.
fn placement_record(
    rng: &mut Rng,
    customer: &Person,
    offer: &OfferRecord,
    timeline: &[(PlacementStatus, NaiveDate)],
    index: &HouseholdIndex,
    today: NaiveDate,
    millis: &impl Fn(NaiveDate) -> u64,
) -> AllocationRecord {
    let o = &offer.data;
    let final_status = timeline.last().map(|t| t.0).unwrap_or(PlacementStatus::Reserved);
    let started_on = timeline
        .iter()
        .find(|t| t.0 == PlacementStatus::Started)
        .map(|t| t.1);
    let ended_on = timeline
        .iter()
        .find(|t| matches!(t.0, PlacementStatus::Completed | PlacementStatus::Aborted))
        .map(|t| t.1);
    let created = timeline[0].1.min(today);
    let meta = Meta {
        id: rng.uuid(millis(created)),
        version: timeline.len() as i64,
        created_at: passgenau_store::records::from_db_time(created.and_hms_opt(9, 0, 0).unwrap_or_default()),
        updated_at: passgenau_store::records::from_db_time(
            timeline
                .last()
                .map(|t| t.1)
                .unwrap_or(created)
                .min(today)
                .and_hms_opt(10, 0, 0)
                .unwrap_or_default(),
        ),
    };
    AllocationRecord {
        meta,
        customer_id: customer.id,
        offer_id: offer.meta.id,
        instrument_code: o.instrument_code.clone(),
        status: final_status,
        note: None,
        cost_cents: o.cost_per_place_cents,
        budget_year: o.starts_on.year(),
        started_on,
        ended_on,
        status_reason: match final_status {
            PlacementStatus::Aborted => Some(
                rng.pick(&["Arbeitsaufnahme", "Krankheit", "fehlende Mitwirkung", "Umzug"])
                    .to_string(),
            ),
            PlacementStatus::NoShow => Some("nicht erschienen".into()),
            _ => None,
        },
        override_reason: None,
        override_by: None,
        verdict: None,
        source: Source::Specialist,
        created_by: SEED_ACTOR.into(),
        entry_target_groups: started_on.map(|day| {
            target_groups::derive(customer.id, &customer.data, index.members_of(customer.id), day)
        }),
    }
}

/// The change feed's events of a placement's timeline.
fn events_of(
    rng: &mut Rng,
    rec: &AllocationRecord,
    timeline: &[(PlacementStatus, NaiveDate)],
    today: NaiveDate,
    millis: &impl Fn(NaiveDate) -> u64,
) -> Vec<AllocationEvent> {
    let mut from = None;
    let mut events = Vec::with_capacity(timeline.len());
    for (status, day) in timeline {
        let actor_role = match status {
            PlacementStatus::Reserved | PlacementStatus::Cancelled => "specialist",
            _ => "provider",
        };
        events.push(AllocationEvent {
            id: rng.uuid(millis(*day)),
            allocation_id: rec.meta.id,
            customer_id: rec.customer_id,
            offer_id: rec.offer_id,
            instrument_code: rec.instrument_code.clone(),
            from_status: from,
            to_status: *status,
            on_date: matches!(
                status,
                PlacementStatus::Started | PlacementStatus::Completed | PlacementStatus::Aborted
            )
            .then_some(*day),
            reason: None,
            actor: SEED_ACTOR.into(),
            role: actor_role.into(),
            at: passgenau_store::records::from_db_time(
                (*day).min(today).and_hms_opt(10, 0, 0).unwrap_or_default(),
            ),
        });
        from = Some(*status);
    }
    events
}

/// Who the seed's placements and events name as their author.
const SEED_ACTOR: &str = "demo-seed";

/// Placements: the 2021 programme as history (entries, non-starts, drop-outs,
/// completions), and the current and next year's offers partly filled.
fn placements(
    rng: &mut Rng,
    people: &[Person],
    members: &[(HouseholdId, HouseholdMember)],
    offers: &[(OfferRecord, &Product)],
    today: NaiveDate,
    n: usize,
    millis: impl Fn(NaiveDate) -> u64,
) -> (Vec<AllocationRecord>, Vec<AllocationEvent>) {
    let scale = n as f64 / 45_000.0;
    let index = HouseholdIndex::new(members);
    let pools = candidate_pools(people, &index, today);
    let mut recs = Vec::new();
    let mut events = Vec::new();
    for (offer, product) in offers {
        let o = &offer.data;
        let pool = pool_of(&pools, people, o, product);
        if pool.is_empty() {
            continue;
        }
        let fill = fill_share(rng, o.starts_on.year(), today);
        let wanted = ((f64::from(o.planned_places) * fill * scale).round() as usize).min(pool.len());
        let wanted = if o.starts_on.year() < today.year() {
            wanted
        } else {
            wanted.min(o.max_places as usize)
        };
        let mut chosen = std::collections::HashSet::new();
        let mut active_here = 0usize;
        while chosen.len() < wanted {
            let i = pool[(rng.next_u64() % pool.len() as u64) as usize];
            if !chosen.insert(i) {
                if chosen.len() * 2 > pool.len() {
                    break;
                }
                continue;
            }
            let Some(timeline) = timeline(rng, o, product, today, &mut active_here) else {
                continue;
            };
            let rec = placement_record(rng, &people[i], offer, &timeline, &index, today, &millis);
            events.extend(events_of(rng, &rec, &timeline, today, &millis));
            recs.push(rec);
        }
    }
    // the feed is read in event order: sort by time, then ID
    events.sort_by(|a, b| a.at.cmp(&b.at).then(a.id.cmp(&b.id)));
    (recs, events)
}

/// Whether the Jobcenter decides (and books) the instrument in `year`: FbW and Reha move
/// to the Agentur für Arbeit on 1.1.2025 (Haushaltsfinanzierungsgesetz 2024), so the
/// demo has no Jobcenter offers or plan lines of them from then on.
fn jobcenter_decides(code: &str, year: i32) -> bool {
    let moved = passgenau_domain::eligibility::AGENTUR_DECIDES_FBW_REHA_FROM.year();
    !(matches!(code, "FBW" | "REHA") && year >= moved)
}

/// Plans: 2021 from the seed (with its 2020 figures) and budgets per instrument; the
/// current and next year planned alike, with room in the budget for the demo.
fn plans_for(years: &[i32], today: NaiveDate) -> Vec<Plan> {
    let now = passgenau_store::records::now();
    years
        .iter()
        .map(|&year| Plan {
            year,
            budget_cents: Some(prog::BUDGET_2021_CENTS),
            version: 1,
            created_at: now,
            updated_at: now,
            lines: prog::PLAN_2021
                .iter()
                .filter(|l| jobcenter_decides(l.code, year))
                .map(|l| PlanLine {
                    code: l.code.into(),
                    planned_entries: l.planned_2021,
                    previous_year_planned_entries: Some(if year == 2021 {
                        l.planned_2020
                    } else {
                        l.planned_2021
                    }),
                    // § 16f has no budget cap since 1.1.2019
                    budget_cents: (l.code != "P16F").then(|| {
                        let factor = if year >= today.year() { 2 } else { 1 };
                        i64::from(l.planned_2021.max(10)) * l.cost_per_place_cents * factor
                    }),
                })
                .collect(),
        })
        .collect()
}
