//! The engine online over HTTP (specialists and admins); the use cases are `app::engine`.

use actix_web::get;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use passgenau_allocation::Recommendation;
use passgenau_domain::eligibility::{self, Eligibility};
use passgenau_domain::ids::CustomerId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::today;
use crate::app::engine;
use crate::auth::{Caller, CASEWORK};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::route_of;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_eligibility).service(get_recommendations);
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EligibilityList {
    pub items: Vec<Eligibility>,
    pub as_of: NaiveDate,
}

/// A recommended offer with its summary for the screen.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RecommendationItem {
    #[serde(flatten)]
    pub recommendation: Recommendation,
    /// The offer in short (title, provider, district, dates).
    pub offer: Option<super::offers::OfferSummary>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RecommendationList {
    pub items: Vec<RecommendationItem>,
    pub as_of: NaiveDate,
    /// Rules that hold offers back for this customer as a whole, e.g. the placement-first
    /// rule from 1.7.2026 for a job-ready customer (measures are then not ranked).
    pub notices: Vec<eligibility::Reason>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EligibilityQuery {
    /// Reference date (default today).
    pub as_of: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecommendationQuery {
    /// At most this many offers (1–500, default 20).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
    /// Only offers of this instrument code.
    pub instrument: Option<String>,
    /// Reference date (default today).
    pub as_of: Option<NaiveDate>,
}

/// Eligibility for every instrument
///
/// One item per instrument of the catalogue, each rule with its outcome, a readable detail
/// and its legal source, as of `as_of` (default today).
#[utoipa::path(tag = "engine",
    params(("id" = Uuid, Path), EligibilityQuery),
    responses(
        (status = 200, description = "eligibility per instrument", body = EligibilityList),
        (status = 404, description = "unknown customer", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/customers/{id}/eligibility")]
pub async fn get_eligibility(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<CustomerId>,
    q: web::Query<EligibilityQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(CASEWORK)?;
    let id = id.into_inner();
    let as_of = q.as_of.unwrap_or_else(today);
    let route = route_of(&req);
    let rules = state.rules.clone();
    let items = state
        .db_audited(move |store, audit| {
            Ok(engine::eligibility(
                store, audit, &caller, &route, id, as_of, &rules,
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(EligibilityList { items, as_of }))
}

/// Ranked offers for a customer
///
/// Eligible open offers with a free place, best first; each item's explanation `points`
/// add up to its `score` (factors: `docs/scoring.md`).
#[utoipa::path(tag = "engine",
    params(("id" = Uuid, Path), RecommendationQuery),
    responses(
        (status = 200, description = "ranked offers", body = RecommendationList),
        (status = 400, description = "bad query", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "unknown customer", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/customers/{id}/recommendations")]
pub async fn get_recommendations(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<CustomerId>,
    q: web::Query<RecommendationQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(CASEWORK)?;
    let q = q.into_inner();
    let limit = q.limit.unwrap_or(20);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_query",
            "limit",
            "must be between 1 and 500",
        ));
    }
    let id = id.into_inner();
    let as_of = q.as_of.unwrap_or_else(today);
    let route = route_of(&req);
    let state2 = state.clone();
    let ranked = state
        .db_audited(move |store, audit| {
            let query = (q.instrument.as_deref(), limit, as_of, today());
            let ranked = engine::recommendations(
                store,
                audit,
                &caller,
                &route,
                id,
                query,
                &state2.offer_snapshot,
                &state2.rules,
                &state2.scoring,
            )?;
            let offers = super::offers::summaries(store, ranked.items.iter().map(|r| r.offer_id))?;
            let items: Vec<RecommendationItem> = ranked
                .items
                .into_iter()
                .map(|r| RecommendationItem {
                    offer: offers.get(&r.offer_id).cloned(),
                    recommendation: r,
                })
                .collect();
            Ok((items, ranked.notices))
        })
        .await?;
    Ok(HttpResponse::Ok().json(RecommendationList {
        items: ranked.0,
        as_of,
        notices: ranked.1,
    }))
}
