//! Cohort runs: a whole group of customers against the open offers at once, as one
//! min-cost flow (design.md, "Batch"):
//!
//! source → customer [1] → eligible offer [−score] → offer → (instrument budget) → sink,
//! plus an "unassigned" bypass customer → sink at cost 0, so the run is always feasible
//! and assigns a customer only where that raises the total fit. An offer's free places
//! are split into convex segments along the 70–120 % corridor of its planned places: a
//! bonus while it is below 70 %, neutral up to 100 %, a penalty in the 20 % option.
//!
//! The result is a set of proposals; nothing is placed (invariant 5: a person decides).

use std::collections::HashMap;

use chrono::NaiveDate;
use passgenau_domain::eligibility::RuleBook;
use passgenau_domain::ids::{CustomerId, OfferId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::flow::{self, Network, Status};
use crate::recommend::{explain, rank_points, Candidate, CustomerContext};
use crate::scoring::{ExplanationItem, ScoringConfig};

/// Per-unit costs of the corridor segments (points).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CorridorCosts {
    /// Bonus for places below 70 % of the planned places.
    pub below: i64,
    /// Penalty for places above 100 % (the framework contract's option).
    pub above: i64,
}

impl Default for CorridorCosts {
    fn default() -> Self {
        CorridorCosts { below: 10, above: 15 }
    }
}

/// Why this offer rather than the next best one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Alternative {
    pub offer_id: OfferId,
    pub score: i64,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProposalExplanation {
    pub items: Vec<ExplanationItem>,
    pub next_best: Option<Alternative>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    pub customer_id: CustomerId,
    pub offer_id: OfferId,
    pub score: i64,
    pub explanation: ProposalExplanation,
}

/// Customers of the run who got no proposal, by why (each counted once, under the first
/// reason that applies).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LeftOut {
    /// No open offer with a free place whose rules they meet.
    pub no_eligible_offer: usize,
    /// Every eligible offer overlaps a placement they hold now ([`conflicts`]).
    pub active_placement_conflict: usize,
    /// Eligible offers, but their places or the budget went to customers for whom they
    /// raise the cohort's total fit more.
    pub not_assigned: usize,
}

/// Whether a candidate overlaps in time with a placement the customer holds now
/// (reserved, confirmed or started): a person attends one measure at a time, so a cohort
/// run never proposes a second one for the same days. This is the Jobcenter's practice
/// (the customer must be available for the measure, § 45 Abs. 1 SGB III "Teilnahme"), not
/// a statute of its own; a specialist placing online still may, and decides it.
pub fn conflicts(ctx: &CustomerContext, c: &Candidate, today: NaiveDate) -> bool {
    let from = passgenau_domain::eligibility::reference_day(c.offer, today);
    let to = c.offer.ends_on;
    ctx.history.iter().filter(|p| p.active).any(|p| {
        p.held().is_some_and(|(held_from, held_to)| {
            // a running placement holds its days to the offer's end
            let held_to = held_to.unwrap_or(p.offer_period.1);
            held_from <= to && from <= held_to
        })
    })
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CohortResult {
    pub proposals: Vec<Proposal>,
    pub customers: usize,
    pub offers: usize,
    pub arcs: usize,
    /// Total fit of the assignment (the negated flow cost).
    pub objective: i64,
    pub assigned: usize,
    pub optimal: bool,
    pub left_out: LeftOut,
}

/// A plan stopped by its progress callback before it finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped;

/// A budget cap shared by the offers of one instrument, in places.
#[derive(Debug, Clone, Copy)]
pub struct BudgetCap {
    pub places: i64,
}

/// Plans the cohort. `customers` and `offers` should come sorted by ID: the run is then
/// deterministic. `budgets` caps the places per instrument code. `progress(done, total)`
/// is called while pairs are scored; when it returns `false` the plan stops there and
/// returns [`Stopped`] (the caller is shutting down or no longer owns the run).
#[allow(clippy::too_many_arguments)]
pub fn plan(
    customers: &[CustomerContext],
    offers: &[Candidate],
    budgets: &HashMap<String, BudgetCap>,
    today: NaiveDate,
    rules: &RuleBook,
    cfg: &ScoringConfig,
    corridor: CorridorCosts,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<CohortResult, Stopped> {
    let c_n = customers.len();
    let o_n = offers.len();
    // instrument budget nodes, in code order
    let mut codes: Vec<&String> = budgets.keys().collect();
    codes.sort();
    let budget_node: HashMap<&str, usize> = codes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), 1 + c_n + o_n + i))
        .collect();
    let source = 0;
    let sink = 1 + c_n + o_n + codes.len();
    let mut net = Network::new(sink + 1);
    net.supply[source] = c_n as i64;
    net.supply[sink] = -(c_n as i64);
    let mut pair_arcs: Vec<(usize, usize, usize, i64)> = Vec::new(); // (arc, customer, offer, score)
    let mut ranked: Vec<Vec<(i64, usize)>> = Vec::with_capacity(c_n);
    let mut left_out = LeftOut::default();
    for (ci, ctx) in customers.iter().enumerate() {
        net.add_arc(source, 1 + ci, 1, 0);
        net.add_arc(1 + ci, sink, 1, 0);
        let mut r = rank_points(ctx, offers, today, rules, cfg);
        let eligible_any = !r.is_empty();
        r.retain(|&(_, oi)| !conflicts(ctx, &offers[oi], today));
        if !eligible_any {
            left_out.no_eligible_offer += 1;
        } else if r.is_empty() {
            left_out.active_placement_conflict += 1;
        }
        for &(score, oi) in &r {
            let a = net.add_arc(1 + ci, 1 + c_n + oi, 1, -score);
            pair_arcs.push((a, ci, oi, score));
        }
        ranked.push(r);
        if (ci % 256 == 255 || ci + 1 == c_n) && !progress(ci + 1, c_n) {
            return Err(Stopped);
        }
    }
    for (oi, c) in offers.iter().enumerate() {
        let node = 1 + c_n + oi;
        let target = budget_node
            .get(c.offer.instrument_code.as_str())
            .copied()
            .unwrap_or(sink);
        // what the provider can fill now caps every tier (`places_open`: 0 while paused)
        let max = c.offer.places_open();
        let planned = i64::from(c.offer.planned_places).min(max);
        let low = (i64::from(c.offer.planned_places) * 7 / 10).min(max);
        let active = c.active;
        let below = (low - active).max(0);
        let within = (planned - active.max(low)).max(0);
        let above = (max - active.max(planned)).max(0);
        for (cap, cost) in [(below, -corridor.below), (within, 0), (above, corridor.above)] {
            if cap > 0 {
                net.add_arc(node, target, cap, cost);
            }
        }
    }
    for code in &codes {
        net.add_arc(
            budget_node[code.as_str()],
            sink,
            budgets[code.as_str()].places.max(0),
            0,
        );
    }
    let arcs = net.arcs.len();
    let sol = flow::solve(&net);
    let mut result = CohortResult {
        customers: c_n,
        offers: o_n,
        arcs,
        optimal: sol.status == Status::Optimal,
        objective: i64::try_from(-sol.cost).unwrap_or(i64::MAX),
        ..Default::default()
    };
    if sol.status != Status::Optimal {
        result.left_out = left_out;
        return Ok(result);
    }
    // proposals, in customer order
    let mut chosen: Vec<Option<(usize, i64)>> = vec![None; c_n];
    for &(a, ci, oi, score) in &pair_arcs {
        if sol.flow[a] > 0 {
            chosen[ci] = Some((oi, score));
        }
    }
    for (ci, pick) in chosen.iter().enumerate() {
        let Some((oi, score)) = *pick else { continue };
        let ctx = &customers[ci];
        let (total, items) = explain(ctx, &offers[oi], today, cfg);
        debug_assert_eq!(total, score);
        let next_best = ranked[ci].iter().find(|(_, o)| *o != oi).map(|&(s, o)| Alternative {
            offer_id: offers[o].id,
            score: s,
            why: if s > score {
                format!(
                    "scores {} more points for this customer, but its places went where they raise the cohort's total fit more",
                    s - score
                )
            } else if s == score {
                "scores the same; the offer that starts earlier (then the lower ID) is preferred".into()
            } else {
                format!("scores {} points less", score - s)
            },
        });
        result.proposals.push(Proposal {
            customer_id: ctx.id,
            offer_id: offers[oi].id,
            score,
            explanation: ProposalExplanation { items, next_best },
        });
    }
    result.assigned = result.proposals.len();
    left_out.not_assigned =
        c_n - result.assigned - left_out.no_eligible_offer - left_out.active_placement_conflict;
    result.left_out = left_out;
    Ok(result)
}
