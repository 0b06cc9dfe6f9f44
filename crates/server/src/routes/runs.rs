//! Cohort runs (specialists, admins): queue a run, follow its progress, read its proposals
//! with their explanations, and decide each one. A run places nobody; accepting a proposal
//! reserves the place through the same transaction as `POST /allocations` (capacity,
//! budget and eligibility checked again, 409 when the place is gone).

use actix_web::http::{header, StatusCode};
use actix_web::{get, post};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use passgenau_allocation::cohort::ProposalExplanation;
use passgenau_domain::ids::{CustomerId, OfferId, PlacementId, ProposalId, RunId};
use passgenau_domain::status::{ProposalDecision, RunStatus};
use passgenau_store::runs::{ProposalRecord, RunRow};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::today;
use crate::app::cohort_runs::{self, RunRequest};
use crate::auth::{Caller, CASEWORK};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{route_of, ApiJson, Pagination};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_run)
        .service(list_runs)
        .service(get_run)
        .service(list_proposals)
        .service(decide);
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Progress {
    pub done: i64,
    pub total: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RunResponse {
    pub id: RunId,
    pub status: RunStatus,
    pub progress: Progress,
    pub customers: Option<i64>,
    pub offers: Option<i64>,
    pub arcs: Option<i64>,
    /// Total fit of the proposed assignment.
    pub objective: Option<i64>,
    pub assigned: Option<i64>,
    /// The solver's certificate held.
    pub optimal: Option<bool>,
    pub duration_ms: Option<i64>,
    /// Customers of the run who got no proposal, and why (set when done).
    pub left_out: Option<passgenau_allocation::cohort::LeftOut>,
    pub error: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct QueuedRun {
    pub id: RunId,
    pub status: RunStatus,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProposalResponse {
    pub id: ProposalId,
    pub run_id: RunId,
    pub customer_id: CustomerId,
    pub offer_id: OfferId,
    /// The offer in short, for the screen.
    pub offer: Option<super::offers::OfferSummary>,
    pub score: i64,
    pub explanation: ProposalExplanation,
    pub decision: ProposalDecision,
    pub reason: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub allocation_id: Option<PlacementId>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProposalList {
    pub items: Vec<ProposalResponse>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub accept: bool,
    /// Required when rejecting.
    #[serde(default)]
    pub reason: Option<String>,
}

fn run_response(r: &RunRow) -> ApiResult<RunResponse> {
    Ok(RunResponse {
        id: r.id.parse().map_err(|_| ApiError::internal())?,
        status: r.status()?,
        progress: Progress {
            done: r.progress_done,
            total: r.progress_total,
        },
        customers: r.customers,
        offers: r.offers,
        arcs: r.arcs,
        objective: r.objective,
        assigned: r.assigned,
        optimal: r.optimal,
        duration_ms: r.duration_ms,
        left_out: r.left_out.as_deref().and_then(|j| serde_json::from_str(j).ok()),
        error: r.error.clone(),
        created_by: r.created_by.clone(),
        created_at: passgenau_store::records::from_db_time(r.created_at),
    })
}

pub(crate) fn proposal_response(p: &ProposalRecord) -> ProposalResponse {
    ProposalResponse {
        id: p.id,
        run_id: p.run_id,
        customer_id: p.customer_id,
        offer_id: p.offer_id,
        offer: None,
        score: p.score,
        explanation: serde_json::from_str(&p.explanation).unwrap_or(ProposalExplanation {
            items: vec![],
            next_best: None,
        }),
        decision: p.decision,
        reason: p.reason.clone(),
        decided_by: p.decided_by.clone(),
        decided_at: p.decided_at,
        allocation_id: p.allocation_id,
    }
}

/// Queue a cohort run
#[utoipa::path(tag = "cohort runs",
    request_body = RunRequest,
    responses(
        (status = 202, description = "queued; follow it at the Location", body = QueuedRun),
        (status = 400, description = "malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation_failed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[post("/allocation-runs")]
pub async fn create_run(
    state: web::Data<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<RunRequest>,
) -> ApiResult<HttpResponse> {
    caller.require(CASEWORK)?;
    cohort_runs::precheck(&body)?;
    let id = state
        .db(move |store| Ok(cohort_runs::queue(store, &caller, &body)?))
        .await?;
    state.run_signal.notify();
    Ok(HttpResponse::Accepted()
        .insert_header((header::LOCATION, format!("/api/v1/allocation-runs/{id}")))
        .json(QueuedRun {
            id,
            status: RunStatus::Queued,
        }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunQuery {
    pub status: Option<RunStatus>,
    /// The username that queued the run.
    pub created_by: Option<String>,
    /// Runs queued at or after this time.
    pub since: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RunList {
    pub items: Vec<RunResponse>,
    pub next_cursor: Option<String>,
}

/// List cohort runs, newest first (admin, specialist)
#[utoipa::path(tag = "cohort runs",
    params(RunQuery, Pagination),
    responses(
        (status = 200, description = "a page of runs, newest first", body = RunList),
        (status = 400, description = "bad query", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/allocation-runs")]
pub async fn list_runs(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<RunQuery>,
    p: web::Query<Pagination>,
) -> ApiResult<HttpResponse> {
    caller.require(CASEWORK)?;
    let page = p.uuid_page()?;
    let q = q.into_inner();
    let filter = passgenau_store::runs::RunFilter {
        status: q.status,
        created_by: q.created_by,
        since: q.since,
    };
    let list = state
        .db(move |store| {
            let page = cohort_runs::list(store, &filter, &page)?;
            Ok(RunList {
                items: page
                    .items
                    .iter()
                    .map(run_response)
                    .collect::<ApiResult<Vec<_>>>()?,
                next_cursor: page.next,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// A cohort run's state and figures
#[utoipa::path(tag = "cohort runs",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "the run", body = RunResponse),
        (status = 404, description = "unknown run", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/allocation-runs/{id}")]
pub async fn get_run(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<RunId>,
) -> ApiResult<HttpResponse> {
    caller.require(CASEWORK)?;
    let id = id.into_inner();
    let run = state.db(move |store| Ok(cohort_runs::get(store, id)?)).await?;
    // the run changes while it runs: its ETag is a digest of what is shown
    let body = serde_json::to_vec(&run_response(&run)?).map_err(|_| ApiError::internal())?;
    let etag = format!("\"{}\"", &hex::encode(sha2::Sha256::digest(&body))[..32]);
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag))
        .content_type("application/json")
        .body(body))
}

/// A cohort run's proposals
#[utoipa::path(tag = "cohort runs",
    params(("id" = Uuid, Path), Pagination),
    responses(
        (status = 200, description = "proposals with explanations", body = ProposalList),
        (status = 404, description = "unknown run", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/allocation-runs/{id}/proposals")]
pub async fn list_proposals(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<RunId>,
    p: web::Query<Pagination>,
) -> ApiResult<HttpResponse> {
    caller.require(CASEWORK)?;
    let id = id.into_inner();
    let page = p.uuid_page()?;
    let route = route_of(&req);
    let list = state
        .db_audited(move |store, audit| {
            let page = cohort_runs::proposals(store, audit, &caller, &route, id, &page)?;
            let offers = super::offers::summaries(store, page.items.iter().map(|p| p.offer_id))?;
            Ok(ProposalList {
                items: page
                    .items
                    .iter()
                    .map(|p| ProposalResponse {
                        offer: offers.get(&p.offer_id).cloned(),
                        ..proposal_response(p)
                    })
                    .collect(),
                next_cursor: page.next,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Accept or reject a proposal
///
/// Accepting reserves the place (`reserved`) through the online placement transaction.
#[utoipa::path(tag = "cohort runs",
    params(("id" = Uuid, Path), ("proposal_id" = Uuid, Path)),
    request_body = Decision,
    responses(
        (status = 200, description = "decided", body = ProposalResponse),
        (status = 400, description = "malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "unknown run or proposal", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "already_decided, capacity_exhausted, budget_exhausted, already_allocated, offer_closed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "reason missing on rejection, or not_eligible any more", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[post("/allocation-runs/{id}/proposals/{proposal_id}/decision")]
pub async fn decide(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(RunId, ProposalId)>,
    ApiJson(body): ApiJson<Decision>,
) -> ApiResult<HttpResponse> {
    caller.require(CASEWORK)?;
    let (run_id, proposal_id) = path.into_inner();
    let reason = cohort_runs::precheck_decision(body.accept, body.reason.as_deref())?;
    let route = route_of(&req);
    let rules = state.rules.clone();
    let decided = state
        .db(move |store| {
            let decided = cohort_runs::decide(
                store,
                &rules,
                &caller,
                &route,
                run_id,
                proposal_id,
                body.accept,
                reason.as_deref(),
                today(),
            )?;
            Ok(ProposalResponse {
                offer: super::offers::summaries(store, [decided.offer_id])?.remove(&decided.offer_id),
                ..proposal_response(&decided)
            })
        })
        .await?;
    state.availability.invalidate();
    Ok(HttpResponse::build(StatusCode::OK).json(decided))
}
