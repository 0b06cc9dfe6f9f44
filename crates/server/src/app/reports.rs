//! Reports for management and reporting jobs: plan versus actual per Zweckbestimmung and
//! instrument (AMIP 2021 chapter 4), utilisation against the 70–120 % corridor, budget,
//! entries by target group, outcomes, and the change feed. Aggregates only, no personal
//! data (the feed names customers by pseudonym only, made by the route).

use std::collections::HashMap;

use passgenau_domain::catalogue::PurposeGroup;
use passgenau_domain::ids::{OfferId, ProviderId};
use passgenau_domain::placement::PlacementStatus;
use passgenau_domain::reporting::{self, change_percent, corridor, percent, Corridor};
use passgenau_domain::TargetGroup;
use passgenau_store::{plans, reports, Store, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::error::{missing, AppResult};

/// Instrument names and Zweckbestimmungen by code.
pub type Names = HashMap<String, (String, PurposeGroup)>;

fn instrument_names(
    conn: &mut passgenau_store::DbConnection,
) -> Result<HashMap<String, (String, PurposeGroup)>, StoreError> {
    Ok(crate::app::catalogue::all(conn)?
        .into_iter()
        .map(|i| (i.data.code.clone(), (i.data.name, i.data.purpose_group)))
        .collect())
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PlanRow {
    /// `I`…`VIII`; `null` on the total row.
    pub purpose_group: Option<String>,
    /// `null` on the rows of a Zweckbestimmung and on the total row.
    pub instrument_code: Option<String>,
    pub label: String,
    pub planned_entries: i64,
    pub previous_year_planned_entries: Option<i64>,
    /// Change against the previous year's plan in whole percent.
    pub change_percent: Option<i64>,
    /// Entries (*Eintritte*) of the year: placements started in it, counted as cases.
    pub actual_entries: i64,
}

fn plan_rows(
    plan: &plans::Plan,
    names: &HashMap<String, (String, PurposeGroup)>,
    actual: &HashMap<String, i64>,
) -> Vec<PlanRow> {
    let mut rows = Vec::new();
    let (mut tp, mut tq, mut ta) = (0i64, 0i64, 0i64);
    for group in PurposeGroup::ALL {
        let mut lines: Vec<PlanRow> = plan
            .lines
            .iter()
            .filter(|l| names.get(&l.code).map(|n| n.1) == Some(group))
            .map(|l| {
                let prev = l.previous_year_planned_entries.map(i64::from);
                PlanRow {
                    purpose_group: Some(group.as_str().into()),
                    instrument_code: Some(l.code.clone()),
                    label: names.get(&l.code).map(|n| n.0.clone()).unwrap_or_default(),
                    planned_entries: i64::from(l.planned_entries),
                    previous_year_planned_entries: prev,
                    change_percent: prev.and_then(|p| change_percent(i64::from(l.planned_entries), p)),
                    actual_entries: actual.get(&l.code).copied().unwrap_or(0),
                }
            })
            .collect();
        lines.sort_by(|a, b| {
            b.planned_entries
                .cmp(&a.planned_entries)
                .then(a.instrument_code.cmp(&b.instrument_code))
        });
        let p: i64 = lines.iter().map(|l| l.planned_entries).sum();
        let q: i64 = lines.iter().filter_map(|l| l.previous_year_planned_entries).sum();
        let a: i64 = lines.iter().map(|l| l.actual_entries).sum();
        let has_prev = lines.iter().any(|l| l.previous_year_planned_entries.is_some());
        rows.push(PlanRow {
            purpose_group: Some(group.as_str().into()),
            instrument_code: None,
            label: group.label().into(),
            planned_entries: p,
            previous_year_planned_entries: has_prev.then_some(q),
            change_percent: if has_prev { change_percent(p, q) } else { None },
            actual_entries: a,
        });
        rows.extend(lines);
        tp += p;
        tq += q;
        ta += a;
    }
    rows.push(PlanRow {
        purpose_group: None,
        instrument_code: None,
        label: "Summe".into(),
        planned_entries: tp,
        previous_year_planned_entries: Some(tq),
        change_percent: change_percent(tp, tq),
        actual_entries: ta,
    });
    rows
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UtilisationRow {
    pub offer_id: OfferId,
    pub title: String,
    pub instrument_code: String,
    pub provider_id: ProviderId,
    pub provider_name: String,
    pub planned_places: i32,
    pub max_places: i32,
    /// Placements of the offer that started in the year.
    pub entries: i64,
    /// Placements active now (reserved, confirmed, started).
    pub active: i64,
    /// (entries + reserved/confirmed placements) ÷ planned places; 0.85 = 85 %.
    pub utilisation: Option<f64>,
    pub corridor: Option<Corridor>,
}

fn utilisation_rows(conn: &mut passgenau_store::DbConnection, year: i32) -> AppResult<Vec<UtilisationRow>> {
    let providers = passgenau_store::providers::all(conn)?;
    Ok(reports::offer_use(conn, year)?
        .into_iter()
        .map(|o| {
            let u = reporting::utilisation(o.entries + o.pending, i64::from(o.planned_places));
            UtilisationRow {
                offer_id: o.offer_id,
                title: o.title,
                instrument_code: o.instrument_code,
                provider_id: o.provider_id,
                provider_name: providers
                    .get(&o.provider_id)
                    .map(|p| p.data.name.clone())
                    .unwrap_or_default(),
                planned_places: o.planned_places,
                max_places: o.max_places,
                entries: o.entries,
                active: o.active,
                utilisation: u,
                corridor: corridor(u),
            }
        })
        .collect())
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BudgetRow {
    /// `null` on the total row.
    pub instrument_code: Option<String>,
    pub label: String,
    /// The plan's budget; `null`: no cap.
    pub budget_cents: Option<i64>,
    /// Cost of active, completed and aborted placements of the year.
    pub committed_cents: i64,
    pub remaining_cents: Option<i64>,
    pub committed_percent: Option<f64>,
    /// The same amounts in euros (for people; the cents are exact).
    pub budget_eur: Option<f64>,
    pub committed_eur: f64,
    pub remaining_eur: Option<f64>,
}

/// Cents as euros, for display.
fn euros(cents: i64) -> f64 {
    cents as f64 / 100.0
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TargetGroupRow {
    pub target_group: TargetGroup,
    /// Entries of the year by customers of this group on the day of entry (cases).
    pub entries: i64,
    /// Share of all entries of the year, in percent.
    pub share_percent: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OutcomeRow {
    /// `null` on the total row.
    pub instrument_code: Option<String>,
    pub label: String,
    /// Placements of the year (by budget year), any state.
    pub placements: i64,
    /// Entered the measure (started, completed, aborted).
    pub starts: i64,
    /// *Nicht-Antritte*: no-shows and declines.
    pub non_starts: i64,
    /// *Abbrüche*: aborted after the start.
    pub drop_outs: i64,
    pub completions: i64,
    /// non_starts ÷ (starts + non_starts), percent.
    pub non_start_rate: Option<f64>,
    /// drop_outs ÷ starts, percent.
    pub drop_out_rate: Option<f64>,
    /// completions ÷ starts, percent.
    pub completion_rate: Option<f64>,
}

/// Plan versus actual: one row per Zweckbestimmung with its instruments under it, and a
/// total row.
pub fn plan(store: &Store, year: i32) -> AppResult<Vec<PlanRow>> {
    store.read(|conn| {
        let plan = plans::get(conn, year).map_err(missing("plan"))?;
        let names = instrument_names(conn)?;
        let actual = reports::entries_by_instrument(conn, year)?;
        Ok(plan_rows(&plan, &names, &actual))
    })
}

/// Utilisation per offer running in the year, against the 70–120 % corridor.
pub fn utilisation(store: &Store, year: i32) -> AppResult<Vec<UtilisationRow>> {
    store.read(|conn| utilisation_rows(conn, year))
}

/// Budget committed per instrument, and a total row.
pub fn budget(store: &Store, year: i32) -> AppResult<Vec<BudgetRow>> {
    store.read(|conn| {
        let names = instrument_names(conn)?;
        let plan = match plans::get(conn, year) {
            Ok(p) => Some(p),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        };
        // Invariant 2's running totals for every plan line: the numbers the placements
        // checked. An instrument without a line has no budget to commit against; its
        // placements' cost is summed by the rule the database starts a new line from.
        let mut committed = plans::committed(conn, year)?;
        for (code, status, cents) in reports::cost_by_status(conn, year)? {
            let s: PlacementStatus = passgenau_store::codec::enum_from_str(&status)?;
            if s.commits_budget()
                && !plan
                    .as_ref()
                    .is_some_and(|p| p.lines.iter().any(|l| l.code == code))
            {
                *committed.entry(code).or_default() += cents;
            }
        }
        let mut codes: Vec<String> = committed.keys().cloned().collect();
        if let Some(p) = &plan {
            codes.extend(p.lines.iter().map(|l| l.code.clone()));
        }
        codes.sort();
        codes.dedup();
        let mut rows: Vec<BudgetRow> = codes
            .into_iter()
            .map(|code| {
                let budget = plan
                    .as_ref()
                    .and_then(|p| p.lines.iter().find(|l| l.code == code))
                    .and_then(|l| l.budget_cents);
                let c = committed.get(&code).copied().unwrap_or(0);
                BudgetRow {
                    label: names.get(&code).map(|n| n.0.clone()).unwrap_or_default(),
                    instrument_code: Some(code),
                    budget_cents: budget,
                    committed_cents: c,
                    remaining_cents: budget.map(|b| b - c),
                    committed_percent: budget.and_then(|b| percent(c, b)),
                    budget_eur: budget.map(euros),
                    committed_eur: euros(c),
                    remaining_eur: budget.map(|b| euros(b - c)),
                }
            })
            .collect();
        let total: i64 = rows.iter().map(|r| r.committed_cents).sum();
        let budget = plan.as_ref().and_then(|p| p.budget_cents);
        rows.push(BudgetRow {
            instrument_code: None,
            label: "Summe".into(),
            budget_cents: budget,
            committed_cents: total,
            remaining_cents: budget.map(|b| b - total),
            committed_percent: budget.and_then(|b| percent(total, b)),
            budget_eur: budget.map(euros),
            committed_eur: euros(total),
            remaining_eur: budget.map(|b| euros(b - total)),
        });
        Ok(rows)
    })
}

/// Entries of the year by target group (a person in several groups counts in each).
pub fn target_groups(store: &Store, year: i32) -> AppResult<Vec<TargetGroupRow>> {
    store.read(|conn| {
        let entries = reports::entry_target_groups(conn, year)?;
        let total = entries.len() as i64;
        let mut counts: HashMap<TargetGroup, i64> = HashMap::new();
        for groups in entries.iter().flatten() {
            let groups: Vec<TargetGroup> = passgenau_store::codec::json_from_str(groups)?;
            for g in groups {
                *counts.entry(g).or_default() += 1;
            }
        }
        Ok(TargetGroup::ALL
            .iter()
            .map(|g| {
                let n = counts.get(g).copied().unwrap_or(0);
                TargetGroupRow {
                    target_group: *g,
                    entries: n,
                    share_percent: percent(n, total),
                }
            })
            .collect::<Vec<_>>())
    })
}

/// Starts, non-starts, drop-outs and completions per instrument, and a total row.
pub fn outcomes(store: &Store, year: i32) -> AppResult<Vec<OutcomeRow>> {
    store.read(|conn| {
        let names = instrument_names(conn)?;
        let mut by_code: std::collections::BTreeMap<String, [i64; 5]> = Default::default();
        for (code, status, n) in reports::status_counts(conn, year)? {
            let s: PlacementStatus = passgenau_store::codec::enum_from_str(&status)?;
            let e = by_code.entry(code).or_default();
            e[0] += n;
            match s {
                PlacementStatus::Started => e[1] += n,
                PlacementStatus::Completed => {
                    e[1] += n;
                    e[4] += n
                }
                PlacementStatus::Aborted => {
                    e[1] += n;
                    e[3] += n
                }
                PlacementStatus::NoShow | PlacementStatus::Declined => e[2] += n,
                _ => {}
            }
        }
        let row = |code: Option<String>, label: String, c: [i64; 5]| OutcomeRow {
            instrument_code: code,
            label,
            placements: c[0],
            starts: c[1],
            non_starts: c[2],
            drop_outs: c[3],
            completions: c[4],
            non_start_rate: percent(c[2], c[1] + c[2]),
            drop_out_rate: percent(c[3], c[1]),
            completion_rate: percent(c[4], c[1]),
        };
        let mut total = [0i64; 5];
        let mut rows: Vec<OutcomeRow> = by_code
            .into_iter()
            .map(|(code, c)| {
                for (t, x) in total.iter_mut().zip(c) {
                    *t += x;
                }
                row(
                    Some(code.clone()),
                    names.get(&code).map(|n| n.0.clone()).unwrap_or_default(),
                    c,
                )
            })
            .collect();
        rows.push(row(None, "Summe".into(), total));
        Ok(rows)
    })
}

/// Take-up per instrument in percent of its planned places (for the chart), counted as
/// the utilisation report counts it per offer; instruments without planned places are
/// left out.
pub fn take_up(store: &Store, year: i32) -> AppResult<Vec<(String, f64)>> {
    let (offers, names) =
        store.read(|conn| AppResult::Ok((reports::offer_use(conn, year)?, instrument_names(conn)?)))?;
    let mut per: std::collections::BTreeMap<String, (i64, i64)> = Default::default();
    for o in &offers {
        let e = per.entry(o.instrument_code.clone()).or_default();
        e.0 += o.entries + o.pending;
        e.1 += i64::from(o.planned_places);
    }
    Ok(per
        .into_iter()
        .filter(|(_, (_, planned))| *planned > 0)
        .map(|(code, (taken, planned))| {
            let label = names.get(&code).map(|n| n.0.clone()).unwrap_or(code);
            (label, taken as f64 / planned as f64 * 100.0)
        })
        .collect())
}

/// The change feed after `after`, pseudonymised by the caller.
pub fn feed(
    store: &Store,
    after: Option<i64>,
    since: Option<chrono::DateTime<chrono::Utc>>,
    limit: i64,
) -> AppResult<Vec<reports::FeedEvent>> {
    store.read(|conn| Ok(reports::feed(conn, after, since, limit)?))
}
