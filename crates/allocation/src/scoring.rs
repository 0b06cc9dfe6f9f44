//! The score of one offer for one customer: an integer sum of published, configurable
//! factors (`docs/scoring.md`). Every factor that contributes is one explanation item;
//! the items add up to the score. Gender and nationality are never factors (AMAS lesson,
//! DSGVO Art. 22; domain rules, "Data protection").

use std::borrow::Cow;

use chrono::{Datelike, NaiveDate};
use passgenau_domain::offer::OfferData;
use passgenau_domain::{CustomerData, GermanLevel, TargetGroup, VocationalQualification};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One contribution to a score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ExplanationItem {
    /// Factor name, e.g. `same_district`.
    // A constant when the engine builds the item: borrowed, not allocated.
    pub factor: Cow<'static, str>,
    /// What was found, e.g. `Stadtbezirk 3`.
    pub value: String,
    pub points: i64,
}

/// The factors and their points. Defaults follow the AMIP 2021's priorities; a Jobcenter
/// may change them in configuration (`scoring` in the config file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ScoringConfig {
    /// Every eligible offer starts here, so scores stay positive and comparable.
    pub base: i64,
    /// The offer is meant for a target group the customer belongs to (per group).
    pub offer_target_group: i64,
    /// The customer belongs to a priority group of the AMIP 2021 (per group).
    pub priority_long_term_recipient: i64,
    pub priority_single_parent: i64,
    pub priority_u25: i64,
    pub priority_refugee: i64,
    pub priority_health: i64,
    pub priority_solo_self_employed: i64,
    /// German level meets the offer's minimum by at most one step (the course fits).
    pub german_fit: i64,
    /// No vocational qualification and the instrument leads to one (FbW, BaE, AsA, EQ).
    pub qualification_fit: i64,
    /// Offer in the customer's district; else in the same postal area (first 3 digits).
    pub same_district: i64,
    pub same_postal_area: i64,
    /// Start within 14 days / 6 weeks / 3 months (a running rolling offer counts as now).
    pub start_within_14_days: i64,
    pub start_within_6_weeks: i64,
    pub start_within_3_months: i64,
    /// The offer is below 70 % of its planned places: filling it keeps the framework
    /// contract inside its 70–120 % corridor.
    pub below_corridor: i64,
    /// The customer had the same instrument within the last 24 months
    /// (*Maßnahmekarrieren*); negative.
    pub repeat_same_instrument: i64,
    /// AGH is subordinate to direct integration (§ 16d Abs. 1 SGB II); negative.
    pub agh_subordinate: i64,
}

impl Default for ScoringConfig {
    fn default() -> Self {
        ScoringConfig {
            base: 100,
            offer_target_group: 30,
            priority_long_term_recipient: 15,
            priority_single_parent: 15,
            priority_u25: 10,
            priority_refugee: 10,
            priority_health: 5,
            priority_solo_self_employed: 5,
            german_fit: 10,
            qualification_fit: 15,
            same_district: 20,
            same_postal_area: 10,
            start_within_14_days: 15,
            start_within_6_weeks: 10,
            start_within_3_months: 5,
            below_corridor: 10,
            repeat_same_instrument: -25,
            agh_subordinate: -20,
        }
    }
}

/// The lower edge of the framework contracts' corridor (seed chapter 4: 70–120 %).
pub const CORRIDOR_LOW_PERCENT: i64 = 70;

/// What scoring needs to know of the offer beyond its data.
#[derive(Debug, Clone, Copy)]
pub struct OfferState {
    /// Placements that count as entries or hold a place (for the corridor).
    pub occupied: i64,
}

/// What scoring needs to know of the customer beyond the record.
#[derive(Debug, Clone)]
pub struct CustomerFacts<'a> {
    pub customer: &'a CustomerData,
    pub groups: &'a [TargetGroup],
    /// Instrument codes of placements that started within the last 24 months.
    pub recent_instruments: &'a [String],
}

fn german_step(level: GermanLevel) -> i32 {
    level as i32
}

/// Scores one eligible offer; returns the total and its explanation (items sum to it).
pub fn score(
    cfg: &ScoringConfig,
    facts: &CustomerFacts,
    offer: &OfferData,
    state: OfferState,
    today: NaiveDate,
) -> (i64, Vec<ExplanationItem>) {
    let mut items = Vec::with_capacity(8);
    factors(cfg, facts, offer, state, today, |factor, value, points| {
        items.push(ExplanationItem {
            factor: Cow::Borrowed(factor),
            value: value(),
            points,
        })
    });
    (items.iter().map(|i| i.points).sum(), items)
}

/// The score alone, without building explanation texts (the ranking's hot path).
pub fn points(
    cfg: &ScoringConfig,
    facts: &CustomerFacts,
    offer: &OfferData,
    state: OfferState,
    today: NaiveDate,
) -> i64 {
    let mut total = 0;
    factors(cfg, facts, offer, state, today, |_, _, points| total += points);
    total
}

/// Every factor that contributes, as (factor, value text on demand, points). Generic in
/// `emit`, so the score-only caller ([`points`]) compiles without the texts. The factors
/// fall into three parts by what they read ([`customer_factors`], [`offer_factors`],
/// [`instrument_factors`]); the ranking adds up the customer's part once per request and
/// the instrument's part once per instrument (see `recommend`), the explanation lists them
/// all in this order.
fn factors<E: FnMut(&'static str, &dyn Fn() -> String, i64)>(
    cfg: &ScoringConfig,
    facts: &CustomerFacts,
    offer: &OfferData,
    state: OfferState,
    today: NaiveDate,
    mut emit: E,
) {
    customer_factors(cfg, facts, &mut emit);
    offer_factors(cfg, facts, offer, state, today, &mut emit);
    instrument_factors(cfg, facts, &offer.instrument_code, &mut emit);
}

/// Calls `emit` for a factor that contributes (points other than 0).
fn nonzero<E: FnMut(&'static str, &dyn Fn() -> String, i64)>(
    emit: &mut E,
) -> impl FnMut(&'static str, &dyn Fn() -> String, i64) + '_ {
    move |factor, value, points| {
        if points != 0 {
            emit(factor, value, points)
        }
    }
}

/// The factors that read the customer alone: the same for every offer.
fn customer_factors<E: FnMut(&'static str, &dyn Fn() -> String, i64)>(
    cfg: &ScoringConfig,
    facts: &CustomerFacts,
    emit: &mut E,
) {
    let mut push = nonzero(emit);
    push("base", &|| "eligible offer with a free place".into(), cfg.base);
    for (group, points) in [
        (TargetGroup::LongTermRecipient, cfg.priority_long_term_recipient),
        (TargetGroup::SingleParent, cfg.priority_single_parent),
        (TargetGroup::U25, cfg.priority_u25),
        (TargetGroup::Refugee, cfg.priority_refugee),
        (TargetGroup::Health, cfg.priority_health),
        (TargetGroup::SoloSelfEmployed, cfg.priority_solo_self_employed),
    ] {
        if facts.groups.contains(&group) {
            push("amip_priority", &|| group.as_str().into(), points);
        }
    }
}

/// The factors that read the instrument (and the customer): the same for every offer of
/// one instrument.
fn instrument_factors<E: FnMut(&'static str, &dyn Fn() -> String, i64)>(
    cfg: &ScoringConfig,
    facts: &CustomerFacts,
    code: &str,
    emit: &mut E,
) {
    let mut push = nonzero(emit);
    let unqualified = matches!(
        facts.customer.vocational_qualification,
        VocationalQualification::None | VocationalQualification::Partial
    );
    if unqualified && matches!(code, "FBW" | "BAE" | "ASA" | "EQ") {
        push(
            "qualification_fit",
            &|| format!("{code} leads to a qualification"),
            cfg.qualification_fit,
        );
    }
    if facts.recent_instruments.iter().any(|r| r == code) {
        push(
            "repeat_same_instrument",
            &|| format!("{code} within the last 24 months"),
            cfg.repeat_same_instrument,
        );
    }
    if code == "AGH" {
        push(
            "agh_subordinate",
            &|| "direct integration first (§ 16d SGB II)".into(),
            cfg.agh_subordinate,
        );
    }
}

/// The factors that read the offer itself: its target groups, German level, place, start
/// and occupancy.
fn offer_factors<E: FnMut(&'static str, &dyn Fn() -> String, i64)>(
    cfg: &ScoringConfig,
    facts: &CustomerFacts,
    offer: &OfferData,
    state: OfferState,
    today: NaiveDate,
    emit: &mut E,
) {
    let mut push = nonzero(emit);
    // a group that may not decide (migration_background) adds no points
    for g in offer
        .target_groups
        .iter()
        .filter(|g| g.may_decide() && facts.groups.contains(g))
    {
        push(
            "offer_target_group",
            &|| g.as_str().into(),
            cfg.offer_target_group,
        );
    }
    if let Some(min) = offer.min_german_level {
        let level = facts.customer.german_level;
        let gap = german_step(level) - german_step(min);
        if (0..=1).contains(&gap) {
            push(
                "german_fit",
                &|| format!("{level:?} for a course from {min:?}"),
                cfg.german_fit,
            );
        }
    }
    match (
        &facts.customer.district,
        &facts.customer.postal_code,
        &offer.postal_code,
    ) {
        (Some(d), _, _) if crate::same_text(d, &offer.district) => {
            push("same_district", &|| d.clone(), cfg.same_district)
        }
        (_, Some(a), Some(b)) if a.len() >= 3 && b.len() >= 3 && a.get(..3) == b.get(..3) => push(
            "same_postal_area",
            &|| format!("{}xx", a.get(..3).unwrap_or_default()),
            cfg.same_postal_area,
        ),
        _ => {}
    }
    let (days, start_points) = start_soon(cfg, offer, today);
    push("start_soon", &|| format!("starts in {days} days"), start_points);
    if below_corridor(offer, state) {
        push(
            "below_corridor",
            &|| {
                format!(
                    "{} of {} planned places filled",
                    state.occupied, offer.planned_places
                )
            },
            cfg.below_corridor,
        );
    }
}

/// Days until the offer starts (0 once it runs) and the `start_soon` points for them.
fn start_soon(cfg: &ScoringConfig, offer: &OfferData, today: NaiveDate) -> (i64, i64) {
    // days as day numbers: the same result as `(start - today).num_days()`, cheaper
    let days = i64::from(offer.starts_on.max(today).num_days_from_ce() - today.num_days_from_ce());
    let points = if days <= 14 {
        cfg.start_within_14_days
    } else if days <= 42 {
        cfg.start_within_6_weeks
    } else if days <= 91 {
        cfg.start_within_3_months
    } else {
        0
    };
    (days, points)
}

/// Whether the offer is below the lower edge of its corridor (`below_corridor`).
fn below_corridor(offer: &OfferData, state: OfferState) -> bool {
    offer.planned_places > 0 && state.occupied * 100 < CORRIDOR_LOW_PERCENT * i64::from(offer.planned_places)
}

/// The most [`offer_factors`] can give the offer for any customer, apart from its place
/// (see [`place_bound`]): the factors that read only the offer and the day (start,
/// corridor) as they are, those that also read the customer (target groups, German level)
/// at their best. The ranking visits offers in the order of this bound and stops where no
/// offer left can enter the list shown, so it must never be below the real part (tested).
pub fn offer_bound(cfg: &ScoringConfig, offer: &OfferData, state: OfferState, today: NaiveDate) -> i64 {
    let deciding = offer.target_groups.iter().filter(|g| g.may_decide()).count();
    let groups = cfg.offer_target_group.max(0) * deciding as i64;
    let german = if offer.min_german_level.is_some() {
        cfg.german_fit.max(0)
    } else {
        0
    };
    let corridor = if below_corridor(offer, state) {
        cfg.below_corridor
    } else {
        0
    };
    groups + german + start_soon(cfg, offer, today).1 + corridor
}

/// The most the place factors (`same_district`, else `same_postal_area`) give this
/// customer for an offer in `district`: exactly `same_district` in the customer's own
/// district, else at most `same_postal_area` (when the customer has a postal code).
pub fn place_bound(cfg: &ScoringConfig, customer: &CustomerData, district: &str) -> i64 {
    match (&customer.district, &customer.postal_code) {
        (Some(d), _) if crate::same_text(d, district) => cfg.same_district,
        (_, Some(a)) if a.len() >= 3 => cfg.same_postal_area.max(0),
        _ => 0,
    }
}

/// The score in parts for the ranking: the customer's part once, the instrument's part
/// once per instrument, the offer's part per offer. `customer + instrument(code) +
/// offer(o)` equals [`points`] of `o` (tested).
pub struct PointParts<'a> {
    cfg: &'a ScoringConfig,
    facts: &'a CustomerFacts<'a>,
    /// The customer's part.
    pub customer: i64,
}

impl<'a> PointParts<'a> {
    pub fn new(cfg: &'a ScoringConfig, facts: &'a CustomerFacts<'a>) -> Self {
        let mut customer = 0;
        customer_factors(cfg, facts, &mut |_: &'static str, _: &dyn Fn() -> String, p| {
            customer += p
        });
        PointParts { cfg, facts, customer }
    }

    /// The part of the offers of instrument `code`.
    pub fn instrument(&self, code: &str) -> i64 {
        let mut total = 0;
        instrument_factors(
            self.cfg,
            self.facts,
            code,
            &mut |_: &'static str, _: &dyn Fn() -> String, p| total += p,
        );
        total
    }

    /// The offer's own part.
    pub fn offer(&self, offer: &OfferData, state: OfferState, today: NaiveDate) -> i64 {
        let mut total = 0;
        offer_factors(
            self.cfg,
            self.facts,
            offer,
            state,
            today,
            &mut |_: &'static str, _: &dyn Fn() -> String, p| total += p,
        );
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use passgenau_domain::offer::{Entry, OfferStatus};
    use passgenau_domain::{Gender, Spell};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn customer() -> CustomerData {
        CustomerData {
            customer_number: "K".into(),
            first_name: "A".into(),
            last_name: "B".into(),
            date_of_birth: d("1990-01-01"),
            gender: Gender::Female,
            nationality: "DE".into(),
            postal_code: Some("40210".into()),
            district: Some("Stadtbezirk 1".into()),
            vocational_qualification: VocationalQualification::None,
            german_level: GermanLevel::B1,
            health_restrictions: false,
            severely_disabled: false,
            rehabilitant: false,
            refugee: false,
            solo_self_employed: false,
            benefit_spells: vec![Spell::new(d("2015-01-01"), None)],
            unemployment_spells: vec![],
            employment_spells: vec![],
            self_employment_spells: vec![],
            prior_participations: vec![],
            job_ready: false,
            seriously_impeded_placement: false,
            contact: Default::default(),
            legal_hold: false,
        }
    }

    fn offer(code: &str) -> OfferData {
        OfferData {
            instrument_code: code.into(),
            provider_id: passgenau_domain::ids::ProviderId::default(),
            title: "T".into(),
            district: "Stadtbezirk 1".into(),
            postal_code: Some("40211".into()),
            starts_on: d("2026-12-01"),
            ends_on: d("2027-06-30"),
            entry: Entry::Fixed,
            planned_places: 10,
            max_places: 12,
            cost_per_place_cents: 100,
            target_groups: vec![TargetGroup::LongTermRecipient],
            min_age: None,
            max_age: None,
            min_german_level: Some(GermanLevel::A2),
            max_german_level: None,
            measure_approved_until: None,
            status: OfferStatus::Open,
            intake: Default::default(),
        }
    }

    #[test]
    fn items_add_up_and_points_agree() {
        let c = customer();
        let groups = [
            TargetGroup::LongTermRecipient,
            TargetGroup::NoVocationalQualification,
        ];
        let recent = vec!["AGH".to_string()];
        let facts = CustomerFacts {
            customer: &c,
            groups: &groups,
            recent_instruments: &recent,
        };
        let cfg = ScoringConfig::default();
        for code in ["AVGS_MAT", "AGH", "FBW"] {
            let o = offer(code);
            let (total, items) = score(&cfg, &facts, &o, OfferState { occupied: 3 }, d("2026-11-24"));
            assert_eq!(total, items.iter().map(|i| i.points).sum::<i64>());
            assert_eq!(
                total,
                points(&cfg, &facts, &o, OfferState { occupied: 3 }, d("2026-11-24"))
            );
            let factors: Vec<&str> = items.iter().map(|i| i.factor.as_ref()).collect();
            assert!(factors.contains(&"same_district") && factors.contains(&"below_corridor"));
            assert!(factors.contains(&"german_fit") && factors.contains(&"start_soon"));
            assert_eq!(factors.contains(&"agh_subordinate"), code == "AGH");
            assert_eq!(factors.contains(&"repeat_same_instrument"), code == "AGH");
            assert_eq!(factors.contains(&"qualification_fit"), code == "FBW");
            let parts = PointParts::new(&cfg, &facts);
            assert_eq!(
                parts.customer
                    + parts.instrument(code)
                    + parts.offer(&o, OfferState { occupied: 3 }, d("2026-11-24")),
                total
            );
        }
    }

    /// The ranking skips offers whose bound cannot reach the list shown: the bound must
    /// never be below the offer's real part, whatever the customer and the configuration.
    #[test]
    fn offer_bounds_are_never_below_the_offer_part() {
        let today = d("2026-11-24");
        let negative = ScoringConfig {
            same_district: -5,
            same_postal_area: -7,
            offer_target_group: -10,
            german_fit: -1,
            below_corridor: -4,
            start_within_6_weeks: -2,
            ..ScoringConfig::default()
        };
        let all_groups = [
            TargetGroup::LongTermRecipient,
            TargetGroup::U25,
            TargetGroup::Refugee,
        ];
        let mut checked = 0;
        for cfg in [ScoringConfig::default(), negative] {
            for (district, postal) in [
                (Some("Stadtbezirk 1"), Some("40210")),
                (Some("Stadtbezirk 4"), Some("40211")),
                (None, Some("40219")),
                (None, None),
            ] {
                for level in [GermanLevel::A1, GermanLevel::B1, GermanLevel::C2] {
                    let mut c = customer();
                    c.district = district.map(str::to_string);
                    c.postal_code = postal.map(str::to_string);
                    c.german_level = level;
                    for groups in [&all_groups[..0], &all_groups[..1], &all_groups[..]] {
                        let facts = CustomerFacts {
                            customer: &c,
                            groups,
                            recent_instruments: &[],
                        };
                        let parts = PointParts::new(&cfg, &facts);
                        for (i, start) in ["2026-10-01", "2026-12-01", "2027-01-20", "2027-06-01"]
                            .iter()
                            .enumerate()
                        {
                            let mut o = offer("AVGS_MAT");
                            o.starts_on = d(start);
                            o.target_groups = all_groups[..i % 4].to_vec();
                            o.min_german_level = [None, Some(GermanLevel::A2), Some(GermanLevel::B2)][i % 3];
                            for occupied in [0, 6, 9] {
                                let state = OfferState { occupied };
                                let bound =
                                    offer_bound(&cfg, &o, state, today) + place_bound(&cfg, &c, &o.district);
                                assert!(parts.offer(&o, state, today) <= bound);
                                checked += 1;
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(checked, 2 * 4 * 3 * 3 * 4 * 3);
    }

    #[test]
    fn gender_and_nationality_never_change_a_score() {
        let cfg = ScoringConfig::default();
        let o = offer("AVGS_MAT");
        let base = customer();
        let groups = [TargetGroup::LongTermRecipient];
        let facts = CustomerFacts {
            customer: &base,
            groups: &groups,
            recent_instruments: &[],
        };
        let reference = points(&cfg, &facts, &o, OfferState { occupied: 0 }, d("2026-11-24"));
        for (gender, nat) in [
            (Gender::Male, "DE"),
            (Gender::Diverse, "TR"),
            (Gender::Unspecified, "SY"),
        ] {
            let mut c = base.clone();
            c.gender = gender;
            c.nationality = nat.into();
            let facts = CustomerFacts {
                customer: &c,
                groups: &groups,
                recent_instruments: &[],
            };
            assert_eq!(
                points(&cfg, &facts, &o, OfferState { occupied: 0 }, d("2026-11-24")),
                reference
            );
        }
    }
}
