//! Ranking the open offers for one customer: eligible offers with a free place, best
//! first, each with its score breakdown. Eligibility is judged as of each offer's
//! reference day (its start, or today when it is already running).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use hashbrown::HashMap;

use chrono::{Months, NaiveDate};
use passgenau_domain::eligibility::{self, PastPlacement, RuleBook, Subject};
use passgenau_domain::household::HouseholdMember;
use passgenau_domain::ids::{CustomerId, OfferId};
use passgenau_domain::offer::OfferData;
use passgenau_domain::provider::ProviderData;
use passgenau_domain::{target_groups, CustomerData, TargetGroup};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::scoring::{
    offer_bound, place_bound, score, CustomerFacts, ExplanationItem, OfferState, PointParts, ScoringConfig,
};

/// The customer with what the rules read.
#[derive(Debug, Clone)]
pub struct CustomerContext {
    pub id: CustomerId,
    pub data: CustomerData,
    pub household: Vec<HouseholdMember>,
    pub history: Vec<PastPlacement>,
    /// Offers the customer already holds an active placement in (never recommended again).
    pub active_offers: Vec<OfferId>,
}

impl CustomerContext {
    /// The customer as the rules judge them, for a decision taken on `decided_on`.
    pub fn subject(&self, decided_on: NaiveDate) -> Subject<'_> {
        Subject {
            customer_id: self.id,
            customer: &self.data,
            household: &self.household,
            history: &self.history,
            decided_on,
        }
    }
}

/// One open offer with its occupancy.
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    pub id: OfferId,
    pub offer: &'a OfferData,
    pub provider: &'a ProviderData,
    /// Active placements (reserved, confirmed, started).
    pub active: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Recommendation {
    pub offer_id: OfferId,
    pub instrument_code: String,
    pub score: i64,
    pub free: i64,
    pub starts_on: NaiveDate,
    pub explanation: Vec<ExplanationItem>,
}

/// Scores of every eligible candidate with a free place, best first (score descending,
/// then earlier start, then offer ID): `(score, index into candidates)`. No texts are
/// built; [`explain`] makes the breakdown of the ones shown.
pub fn rank_points(
    ctx: &CustomerContext,
    candidates: &[Candidate],
    today: NaiveDate,
    rules: &RuleBook,
    cfg: &ScoringConfig,
) -> Vec<(i64, usize)> {
    let known = Known::of(ctx, today);
    let mut scored = eligible_points(ctx, &known.facts(ctx), candidates, today, rules, cfg);
    scored.sort_unstable_by(|a, b| rank_order(candidates, a, b));
    scored
}

/// What the score reads of the customer as of today, derived once per ranking.
struct Known {
    groups: Vec<TargetGroup>,
    recent_instruments: Vec<String>,
}

impl Known {
    fn of(ctx: &CustomerContext, today: NaiveDate) -> Known {
        Known {
            groups: target_groups::derive(ctx.id, &ctx.data, &ctx.household, today),
            recent_instruments: recent_instruments(ctx, today),
        }
    }

    fn facts<'a>(&'a self, ctx: &'a CustomerContext) -> CustomerFacts<'a> {
        CustomerFacts {
            customer: &ctx.data,
            groups: &self.groups,
            recent_instruments: &self.recent_instruments,
        }
    }
}

/// The ranking order: score descending, then earlier start, then offer ID (a total order,
/// so the result does not depend on the sorting algorithm).
fn rank_order(candidates: &[Candidate], (sa, a): &(i64, usize), (sb, b): &(i64, usize)) -> Ordering {
    let (a, b) = (&candidates[*a], &candidates[*b]);
    sb.cmp(sa)
        .then(a.offer.starts_on.cmp(&b.offer.starts_on))
        // as a number: the same order as the bytes, without a call to memcmp
        .then(a.id.uuid().as_u128().cmp(&b.id.uuid().as_u128()))
}

/// Unordered `(score, index)` of every eligible candidate with a free place.
fn eligible_points(
    ctx: &CustomerContext,
    facts: &CustomerFacts,
    candidates: &[Candidate],
    today: NaiveDate,
    rules: &RuleBook,
    cfg: &ScoringConfig,
) -> Vec<(i64, usize)> {
    let parts = PointParts::new(cfg, facts);
    let mut judge = Judge::new(ctx, today, rules, facts.groups);
    let mut instrument = InstrumentPoints::default();
    let mut scored: Vec<(i64, usize)> = Vec::with_capacity(candidates.len() / 2);
    for (i, c) in candidates.iter().enumerate() {
        if !judge.admits(c) {
            continue;
        }
        let state = OfferState { occupied: c.active };
        scored.push((
            parts.customer
                + instrument.of(&parts, &c.offer.instrument_code)
                + parts.offer(c.offer, state, today),
            i,
        ));
    }
    scored
}

/// Which candidates one customer may be placed in: a free place, none held already, the
/// instrument's and the offer's rules as of the offer's reference day. Instrument rules
/// depend on the instrument and the day only: each pair is judged once, and the previous
/// pair's verdict is reused without a lookup, so candidates grouped by instrument and day
/// (as the offer snapshot holds them) cost one comparison each while the instrument fails.
/// The customer's target groups are derived once per day.
struct Judge<'a> {
    ctx: &'a CustomerContext,
    subject: Subject<'a>,
    today: NaiveDate,
    rules: &'a RuleBook,
    instrument_ok: HashMap<(&'a str, NaiveDate), bool>,
    groups_on: HashMap<NaiveDate, usize>,
    groups: Vec<Vec<TargetGroup>>,
    /// The last (instrument, day) judged, and the index of the day's target groups if its
    /// rules pass.
    last: Option<(&'a str, NaiveDate, Option<usize>)>,
}

impl<'a> Judge<'a> {
    /// `today_groups`: the customer's target groups today, derived already for the score.
    fn new(
        ctx: &'a CustomerContext,
        today: NaiveDate,
        rules: &'a RuleBook,
        today_groups: &[TargetGroup],
    ) -> Self {
        let mut groups_on = HashMap::default();
        groups_on.insert(today, 0);
        Judge {
            ctx,
            subject: ctx.subject(today),
            today,
            rules,
            instrument_ok: HashMap::default(),
            groups_on,
            groups: vec![today_groups.to_vec()],
            last: None,
        }
    }

    /// If the rules of instrument `code` pass on day `on`: the index of that day's groups.
    fn instrument(&mut self, code: &'a str, on: NaiveDate) -> Option<usize> {
        if let Some((c, d, verdict)) = self.last {
            if d == on && crate::same_text(c, code) {
                return verdict;
            }
        }
        let (subject, rules) = (&self.subject, self.rules);
        let ok = *self
            .instrument_ok
            .entry((code, on))
            .or_insert_with(|| eligibility::instrument_passes(subject, code, on, rules));
        let verdict = ok.then(|| {
            let (ctx, groups) = (self.ctx, &mut self.groups);
            *self.groups_on.entry(on).or_insert_with(|| {
                groups.push(target_groups::derive(ctx.id, &ctx.data, &ctx.household, on));
                groups.len() - 1
            })
        });
        self.last = Some((code, on, verdict));
        verdict
    }

    /// Whether the customer may be placed in the candidate.
    fn admits(&mut self, c: &Candidate<'a>) -> bool {
        let on = eligibility::reference_day(c.offer, self.today);
        let Some(g) = self.instrument(&c.offer.instrument_code, on) else {
            return false;
        };
        c.offer.places_open() > c.active
            && !self.ctx.active_offers.contains(&c.id)
            && eligibility::offer_passes(
                &self.subject,
                &self.groups[g],
                c.offer,
                c.provider,
                on,
                self.rules,
            )
    }
}

/// The instrument's part of the score, computed again only when the instrument changes
/// (the candidates come grouped by instrument).
#[derive(Default)]
struct InstrumentPoints<'a> {
    last: Option<(&'a str, i64)>,
}

impl<'a> InstrumentPoints<'a> {
    fn of(&mut self, parts: &PointParts, code: &'a str) -> i64 {
        match self.last {
            Some((c, p)) if crate::same_text(c, code) => p,
            _ => {
                let p = parts.instrument(code);
                self.last = Some((code, p));
                p
            }
        }
    }
}

fn recent_instruments(ctx: &CustomerContext, today: NaiveDate) -> Vec<String> {
    let since = today
        .checked_sub_months(Months::new(24))
        .unwrap_or(NaiveDate::MIN);
    ctx.history
        .iter()
        .filter(|p| p.started_on.is_some_and(|s| s >= since))
        .map(|p| p.instrument_code.clone())
        .collect()
}

/// The score breakdown of one candidate for the customer (the items add up to the score).
pub fn explain(
    ctx: &CustomerContext,
    c: &Candidate,
    today: NaiveDate,
    cfg: &ScoringConfig,
) -> (i64, Vec<ExplanationItem>) {
    let known = Known::of(ctx, today);
    score(
        cfg,
        &known.facts(ctx),
        c.offer,
        OfferState { occupied: c.active },
        today,
    )
}

/// Ranks `candidates` for the customer and returns the best `limit`. Deterministic: score
/// descending, then earlier start, then offer ID.
pub fn recommend(
    ctx: &CustomerContext,
    candidates: &[Candidate],
    limit: usize,
    today: NaiveDate,
    rules: &RuleBook,
    cfg: &ScoringConfig,
) -> Vec<Recommendation> {
    let arrangement = Arrangement::new(candidates, today, cfg);
    recommend_arranged(ctx, candidates, &arrangement, None, limit, today, rules, cfg)
}

/// Candidates arranged for the ranking of one day and one scoring configuration: grouped
/// by instrument and district, each group in the order of its offers' [`offer_bound`],
/// highest first. Made once per offer snapshot, used by every recommendation against it
/// (see [`recommend_arranged`]).
#[derive(Debug, Clone)]
pub struct Arrangement {
    day: NaiveDate,
    cfg: ScoringConfig,
    /// Candidate indices, group after group.
    order: Vec<u32>,
    /// The offer bound of each entry of `order`.
    bounds: Vec<i64>,
    groups: Vec<Group>,
}

#[derive(Debug, Clone)]
struct Group {
    code: String,
    district: String,
    /// Its entries in `order`.
    from: usize,
    to: usize,
    /// The highest offer bound in the group (of its first entry).
    best: i64,
}

impl Arrangement {
    pub fn new(candidates: &[Candidate], day: NaiveDate, cfg: &ScoringConfig) -> Arrangement {
        let mut keyed: Vec<(&str, &str, i64, u32)> = candidates
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let state = OfferState { occupied: c.active };
                (
                    c.offer.instrument_code.as_str(),
                    c.offer.district.as_str(),
                    offer_bound(cfg, c.offer, state, day),
                    i as u32,
                )
            })
            .collect();
        keyed.sort_unstable_by(|a, b| (a.0, a.1, b.2, a.3).cmp(&(b.0, b.1, a.2, b.3)));
        let mut groups: Vec<Group> = Vec::new();
        for (k, (code, district, bound, _)) in keyed.iter().enumerate() {
            match groups.last_mut() {
                Some(g) if g.code == *code && g.district == *district => g.to = k + 1,
                _ => groups.push(Group {
                    code: code.to_string(),
                    district: district.to_string(),
                    from: k,
                    to: k + 1,
                    best: *bound,
                }),
            }
        }
        Arrangement {
            day,
            cfg: cfg.clone(),
            order: keyed.iter().map(|k| k.3).collect(),
            bounds: keyed.iter().map(|k| k.2).collect(),
            groups,
        }
    }

    /// Whether it was made for these candidates' day and configuration.
    fn fits(&self, candidates: &[Candidate], day: NaiveDate, cfg: &ScoringConfig) -> bool {
        self.day == day && self.cfg == *cfg && self.order.len() == candidates.len()
    }
}

/// The best `limit` of a ranking, kept while the candidates are visited. Its first entry
/// (a max-heap in the order "worse is greater") is the worst of those kept.
struct Best {
    limit: usize,
    heap: BinaryHeap<Worse>,
}

/// A scored candidate ordered so that the worse one in the ranking order compares greater:
/// lower score, then later start, then higher offer ID (the order of [`rank_order`]).
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Worse {
    neg_score: i64,
    start: NaiveDate,
    id: u128,
    index: usize,
}

impl Best {
    /// Whether no candidate whose score is at most `bound` can enter any more.
    fn closed_to(&self, bound: i64) -> bool {
        self.limit == 0
            || (self.heap.len() == self.limit && self.heap.peek().is_some_and(|w| bound < -w.neg_score))
    }

    fn offer(&mut self, w: Worse) {
        if self.heap.len() < self.limit {
            self.heap.push(w);
        } else if self.heap.peek().is_some_and(|top| w < *top) {
            self.heap.pop();
            self.heap.push(w);
        }
    }

    /// `(score, index)`, best first.
    fn ranked(self) -> Vec<(i64, usize)> {
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|w| (-w.neg_score, w.index))
            .collect()
    }
}

/// [`recommend`] against candidates arranged beforehand, only of instrument `only` if
/// given. The same result as ranking every candidate: offers are visited group by group,
/// highest bound first, and a group (or the rest of one) is left out only once `limit`
/// offers are kept that score more than its bound, so none of it could enter. An
/// arrangement made for another day, configuration or candidate list is made anew.
#[allow(clippy::too_many_arguments)]
pub fn recommend_arranged(
    ctx: &CustomerContext,
    candidates: &[Candidate],
    arrangement: &Arrangement,
    only: Option<&str>,
    limit: usize,
    today: NaiveDate,
    rules: &RuleBook,
    cfg: &ScoringConfig,
) -> Vec<Recommendation> {
    if !arrangement.fits(candidates, today, cfg) {
        let fresh = Arrangement::new(candidates, today, cfg);
        return recommend_arranged(ctx, candidates, &fresh, only, limit, today, rules, cfg);
    }
    let known = Known::of(ctx, today);
    let facts = known.facts(ctx);
    let parts = PointParts::new(cfg, &facts);
    // Each group's bound for this customer: the customer's and the instrument's part
    // (`fixed`), the most its place can give, and the bound of its best offer.
    let mut instrument = InstrumentPoints::default();
    let mut groups: Vec<(i64, i64, i64, &Group)> = arrangement
        .groups
        .iter()
        .filter(|g| only.is_none_or(|code| crate::same_text(code, &g.code)))
        .map(|g| {
            let fixed = parts.customer + instrument.of(&parts, &g.code);
            let place = place_bound(cfg, &ctx.data, &g.district);
            (fixed + place + g.best, fixed, place, g)
        })
        .collect();
    groups.sort_unstable_by_key(|g| std::cmp::Reverse(g.0));

    let mut judge = Judge::new(ctx, today, rules, facts.groups);
    let mut best = Best {
        limit,
        heap: BinaryHeap::with_capacity(limit.min(candidates.len()) + 1),
    };
    for (group_bound, fixed, place, g) in groups {
        if best.closed_to(group_bound) {
            break; // the groups are in the order of their bound: none after can enter
        }
        for k in g.from..g.to {
            if best.closed_to(fixed + place + arrangement.bounds[k]) {
                break; // the rest of the group has lower bounds
            }
            let i = arrangement.order[k] as usize;
            let c = &candidates[i];
            if !judge.admits(c) {
                continue;
            }
            let offer_points = parts.offer(c.offer, OfferState { occupied: c.active }, today);
            debug_assert!(
                offer_points <= place + arrangement.bounds[k],
                "bound below the offer's part"
            );
            best.offer(Worse {
                neg_score: -(fixed + offer_points),
                start: c.offer.starts_on,
                id: c.id.uuid().as_u128(),
                index: i,
            });
        }
    }
    best.ranked()
        .into_iter()
        .map(|(total, i)| {
            let c = &candidates[i];
            let (score_total, explanation) =
                score(cfg, &facts, c.offer, OfferState { occupied: c.active }, today);
            debug_assert_eq!(score_total, total);
            Recommendation {
                offer_id: c.id,
                instrument_code: c.offer.instrument_code.clone(),
                score: score_total,
                free: c.offer.places_open() - c.active,
                starts_on: c.offer.starts_on,
                explanation,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use passgenau_domain::ids::ProviderId;
    use passgenau_domain::offer::{Entry, OfferStatus};
    use passgenau_domain::{Gender, GermanLevel, Spell, VocationalQualification};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn customer(born: &str, district: &str) -> CustomerData {
        CustomerData {
            customer_number: "K-1".into(),
            first_name: "Erika".into(),
            last_name: "Muster".into(),
            date_of_birth: d(born),
            gender: Gender::Female,
            nationality: "SY".into(),
            postal_code: Some("40233".into()),
            district: Some(district.into()),
            vocational_qualification: VocationalQualification::None,
            german_level: GermanLevel::B1,
            health_restrictions: true,
            severely_disabled: false,
            rehabilitant: false,
            refugee: true,
            solo_self_employed: false,
            benefit_spells: vec![Spell::new(d("2015-03-01"), None)],
            unemployment_spells: vec![Spell::new(d("2018-08-01"), None)],
            employment_spells: vec![],
            self_employment_spells: vec![],
            prior_participations: vec![],
            job_ready: false,
            seriously_impeded_placement: false,
            contact: Default::default(),
            legal_hold: false,
        }
    }

    /// The fast ranking (rules without texts, the score in parts, runs of grouped offers)
    /// gives what the full rules and the explained score give, offer by offer, in any
    /// order of the candidates.
    #[test]
    fn ranking_agrees_with_the_full_rules_and_scores() {
        let today = d("2026-11-24");
        let codes = ["AVGS_MAT", "AGH", "FBW", "EGZ", "MAG", "BAE", "EQ", "P16E"];
        let groups = [
            vec![],
            vec![TargetGroup::Refugee],
            vec![TargetGroup::U25, TargetGroup::LongTermRecipient],
        ];
        let providers = [
            ProviderData {
                name: "P".into(),
                azav_certified_until: Some(d("2030-01-01")),
                contact_email: None,
            },
            ProviderData {
                name: "Q".into(),
                azav_certified_until: Some(d("2026-12-31")),
                contact_email: None,
            },
        ];
        let offers: Vec<OfferData> = (0..400)
            .map(|i| OfferData {
                instrument_code: codes[i % codes.len()].into(),
                provider_id: ProviderId::default(),
                title: format!("Angebot {i}"),
                district: format!("Stadtbezirk {}", i % 4 + 1),
                postal_code: Some(format!("40{:03}", (i * 7) % 400)),
                starts_on: today + chrono::Duration::days((i % 9) as i64 * 20 - 40),
                ends_on: today + chrono::Duration::days(150 + (i % 5) as i64 * 40),
                entry: if i % 2 == 0 { Entry::Rolling } else { Entry::Fixed },
                planned_places: 10,
                max_places: 12,
                cost_per_place_cents: 100_000,
                target_groups: groups[i % 3].clone(),
                min_age: (i % 11 == 0).then_some(25),
                max_age: (i % 13 == 0).then_some(30),
                min_german_level: (i % 4 == 0).then_some(GermanLevel::B2),
                max_german_level: None,
                measure_approved_until: (i % 5 != 0).then_some(d("2027-12-31")),
                status: OfferStatus::Open,
                intake: Default::default(),
            })
            .collect();
        let ids: Vec<OfferId> = (0..offers.len() as u128)
            .map(|n| OfferId::from_uuid(uuid::Uuid::from_u128(n * 7919 % 1009)))
            .collect();
        let candidates: Vec<Candidate> = offers
            .iter()
            .enumerate()
            .map(|(i, o)| Candidate {
                id: ids[i],
                offer: o,
                provider: &providers[i % 2],
                active: (i % 14) as i64,
            })
            .collect();
        let mut grouped = candidates.clone();
        grouped.sort_by_key(|c| {
            (
                c.offer.instrument_code.clone(),
                eligibility::reference_day(c.offer, today),
            )
        });
        let rules = RuleBook::default();
        // the defaults, and factors a Jobcenter may set to zero or below (the bounds of the
        // pruned ranking must hold for those too)
        let unusual = ScoringConfig {
            same_district: -5,
            same_postal_area: 25,
            offer_target_group: -10,
            start_within_14_days: -3,
            german_fit: 0,
            below_corridor: 40,
            ..ScoringConfig::default()
        };
        for (cfg, born, district) in [
            (ScoringConfig::default(), "1984-05-10", "Stadtbezirk 2"),
            (ScoringConfig::default(), "2003-02-01", "Stadtbezirk 9"),
            (unusual.clone(), "1984-05-10", "Stadtbezirk 2"),
            (unusual, "2003-02-01", "Stadtbezirk 9"),
        ] {
            let ctx = CustomerContext {
                id: CustomerId::default(),
                data: customer(born, district),
                household: vec![],
                history: vec![PastPlacement {
                    instrument_code: "AGH".into(),
                    provider_id: ProviderId::default(),
                    started_on: Some(d("2025-05-01")),
                    ended_on: Some(d("2025-08-31")),
                    active: false,
                    offer_period: (d("2025-05-01"), d("2025-08-31")),
                    reserved_on: d("2025-05-01"),
                }],
                active_offers: vec![ids[3]],
            };
            let subject = ctx.subject(today);
            // the reference: full rules with reasons, the explained score, a plain sort
            let mut expected: Vec<(i64, NaiveDate, OfferId)> = candidates
                .iter()
                .filter(|c| {
                    let on = eligibility::reference_day(c.offer, today);
                    c.offer.places_open() > c.active
                        && !ctx.active_offers.contains(&c.id)
                        && eligibility::for_offer(&subject, c.offer, c.provider, on, &rules).eligible
                })
                .map(|c| (explain(&ctx, c, today, &cfg).0, c.offer.starts_on, c.id))
                .collect();
            expected.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
            assert!(
                expected.len() > 20,
                "too few eligible offers to compare: {}",
                expected.len()
            );
            for cands in [&candidates, &grouped] {
                let got: Vec<(i64, NaiveDate, OfferId)> = recommend(&ctx, cands, 500, today, &rules, &cfg)
                    .into_iter()
                    .map(|r| (r.score, r.starts_on, r.offer_id))
                    .collect();
                assert_eq!(got, expected);
                for limit in [1, 2, 7, 20, 60] {
                    let top: Vec<(i64, NaiveDate, OfferId)> =
                        recommend(&ctx, cands, limit, today, &rules, &cfg)
                            .into_iter()
                            .map(|r| (r.score, r.starts_on, r.offer_id))
                            .collect();
                    assert_eq!(top, expected[..limit], "limit {limit}");
                }
                // one instrument only, against a shared arrangement
                let arrangement = Arrangement::new(cands, today, &cfg);
                let only: Vec<(i64, NaiveDate, OfferId)> =
                    recommend_arranged(&ctx, cands, &arrangement, Some("EGZ"), 5, today, &rules, &cfg)
                        .into_iter()
                        .map(|r| (r.score, r.starts_on, r.offer_id))
                        .collect();
                let egz: Vec<_> = expected
                    .iter()
                    .filter(|e| {
                        cands
                            .iter()
                            .any(|c| c.id == e.2 && c.offer.instrument_code == "EGZ")
                    })
                    .take(5)
                    .cloned()
                    .collect();
                assert!(!egz.is_empty());
                assert_eq!(only, egz);
            }
        }
    }
}
