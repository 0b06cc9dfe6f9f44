//! Merging a duplicate customer record into the one that survives (`POST
//! /customers/{id}/merge`): one transaction moves the duplicate's placements (with their
//! history), waiting-list entries, proposals, prior participations and household
//! membership, and leaves the duplicate as a tombstone naming the survivor.
//!
//! What conflicts (409 `merge_conflict`, nothing changes): an active place of each in one
//! offer (one person would hold two: invariant 3), undecided proposals of each in one
//! cohort run (one person would be proposed twice), and memberships of two different
//! households (a specialist decides which is right first). Waiting for an offer twice is
//! no conflict: the earlier entry stays, the later one is closed; so is a waiting entry
//! for an offer the person then holds a place in. The survivor's own data stays as it is:
//! its spells and names are what the specialist keeps (correct them with PATCH); only the
//! duplicate's prior participations that the survivor lacks are added.

use passgenau_domain::ids::CustomerId;
use passgenau_domain::FieldError;
use passgenau_store::audit::Action;
use passgenau_store::customers::{self as repo, CustomerRecord};
use passgenau_store::{households, merges, Store, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::audit::access;
use crate::app::customers::WithHousehold;
use crate::app::error::{check_fields, missing, AppError, AppResult};
use crate::identity::Caller;

/// The body of a merge.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The record that is the same person and ends as a tombstone.
    pub duplicate_id: CustomerId,
    /// Why the two are one person (kept with the tombstone).
    pub reason: String,
}

/// Longest reason kept.
pub const MAX_REASON: usize = 500;

/// The checks that need no database.
pub fn precheck(survivor: CustomerId, req: &MergeRequest) -> AppResult<()> {
    let mut errors = Vec::new();
    if req.duplicate_id == survivor {
        errors.push(FieldError::new(
            "duplicate_id",
            "a record cannot be merged into itself",
        ));
    }
    let mut c = passgenau_domain::validation::Checker::default();
    c.text("reason", &req.reason, MAX_REASON);
    errors.extend(c.finish());
    check_fields(errors)
}

fn conflict(detail: String) -> AppError {
    AppError::conflict("merge_conflict", detail)
}

/// Merges `req.duplicate_id` into `survivor`; the survivor as it is then. Audited as an
/// update of both records (the survivor's entry names `merged_from` and what it took
/// over, the duplicate's `merged_into`).
pub fn merge(
    store: &Store,
    caller: &Caller,
    route: &str,
    survivor: CustomerId,
    req: &MergeRequest,
) -> AppResult<WithHousehold> {
    let change = access(caller, Action::Update, route);
    store.write(|conn| {
        repo::lock_pair(conn, survivor, req.duplicate_id)?;
        let kept = repo::get(conn, survivor).map_err(missing("customer"))?;
        let dup = match repo::get(conn, req.duplicate_id) {
            Ok(d) => d,
            Err(StoreError::NotFound) => return Err(AppError::invalid("duplicate_id", "no such customer")),
            Err(StoreError::Merged { into }) => {
                return Err(AppError::invalid(
                    "duplicate_id",
                    format!("merged into {into} already"),
                ))
            }
            Err(e) => return Err(e.into()),
        };
        let dup: CustomerRecord = dup.change(conn, &change, |_, d| {
            Ok::<_, AppError>((d, Some("merged_into".into())))
        })?;
        kept.change(conn, &change, |conn, current| {
            let (a, b) = (current.meta.id, dup.meta.id);
            let kept_offers = merges::active_offers(conn, a)?;
            let both: Vec<String> = merges::active_offers(conn, b)?
                .into_iter()
                .filter(|o| kept_offers.contains(o))
                .map(|o| o.to_string())
                .collect();
            if !both.is_empty() {
                return Err(conflict(format!(
                    "both records hold an active place in offer {}: end one placement first",
                    both.join(", ")
                )));
            }
            let kept_runs = merges::undecided_runs(conn, a)?;
            let runs: Vec<String> = merges::undecided_runs(conn, b)?
                .into_iter()
                .filter(|r| kept_runs.contains(r))
                .map(|r| r.to_string())
                .collect();
            if !runs.is_empty() {
                return Err(conflict(format!(
                    "both records await a decision in cohort run {}: decide the proposals first",
                    runs.join(", ")
                )));
            }
            let (kept_home, dup_home) = (merges::membership(conn, a)?, merges::membership(conn, b)?);
            if let (Some((_, h1)), Some((_, h2))) = (kept_home, dup_home) {
                if h1 != h2 {
                    return Err(conflict(format!(
                        "the records belong to two households ({h1}, {h2}): remove the wrong membership first"
                    )));
                }
            }

            let now = passgenau_store::records::now();
            // one waiting entry per offer: the earlier one
            let mut close = Vec::new();
            let kept_waiting = merges::waiting(conn, a)?;
            for (id, offer, at) in merges::waiting(conn, b)? {
                if let Some(k) = kept_waiting.iter().find(|k| k.1 == offer) {
                    close.push(if k.2 <= at { id } else { k.0 });
                }
            }
            merges::close_waiting(conn, &close, now)?;
            let moved = merges::move_records(conn, b, a)?;
            // a place now held ends the waiting for it
            let holding = merges::active_offers(conn, a)?;
            let done: Vec<_> = merges::waiting(conn, a)?
                .into_iter()
                .filter(|w| holding.contains(&w.1))
                .map(|w| w.0)
                .collect();
            merges::close_waiting(conn, &done, now)?;

            let mut fields = vec!["merged_from"];
            let mut rec = current.clone();
            match (kept_home, dup_home) {
                (None, Some((member, h))) => {
                    merges::move_membership(conn, member, a)?;
                    repo::set_household(conn, a, Some(h), now)?;
                    rec.household_id = Some(h);
                    rec.meta.version += 1;
                    fields.push("household_id");
                }
                (Some(_), Some((member, _))) => merges::remove_membership(conn, member)?,
                _ => {}
            }
            let version = rec.meta.version;
            for p in &dup.data.prior_participations {
                if !rec.data.prior_participations.contains(p) {
                    rec.data.prior_participations.push(p.clone());
                }
            }
            if rec.data.prior_participations != current.data.prior_participations {
                fields.push("prior_participations");
                // the codes were checked when each was recorded; what the union can break
                // is the number, and a date before the survivor's birth
                let errors = passgenau_domain::participation::check_prior(
                    &rec.data.prior_participations,
                    rec.data.date_of_birth,
                    crate::app::today(),
                    &|_| true,
                );
                if !errors.is_empty() {
                    return Err(conflict(format!(
                        "the prior participations of both records do not fit one person: {}",
                        errors
                            .iter()
                            .map(|e| format!("{}: {}", e.field, e.message))
                            .collect::<Vec<_>>()
                            .join("; ")
                    )));
                }
            }
            rec.meta.version += 1;
            rec.meta.updated_at = now;
            repo::update(conn, &rec, version)?;
            repo::tombstone(conn, b, a, req.reason.trim(), now)?;
            tracing::info!(
                placements = moved.placements,
                waitlist_entries = moved.waitlist_entries,
                proposals = moved.proposals,
                "customer records merged"
            );
            let members = match rec.household_id {
                Some(h) => households::members(conn, h)?,
                None => Vec::new(),
            };
            Ok(((rec, members), Some(fields.join(","))))
        })
    })
}
