//! The engine online: eligibility with reasons and ranked recommendations for one
//! customer (specialists and admins). Both read the customer's data and are audited.

use actix_web::get;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use passgenau_allocation::{CustomerContext, Recommendation};
use passgenau_domain::eligibility::{self, Eligibility};
use passgenau_domain::ids::CustomerId;
use passgenau_store::{allocations, customers, households, instruments, DbConnection, Page};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::today;
use crate::auth::{Caller, CASEWORK};
use crate::error::{missing, ApiError, ApiResult, Problem};
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

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RecommendationList {
    pub items: Vec<Recommendation>,
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

/// Loads what the rules read of a customer: record, household, history, active offers.
fn context(conn: &mut DbConnection, id: CustomerId) -> ApiResult<CustomerContext> {
    let rec = customers::get(conn, id).map_err(missing("customer"))?;
    let household = match rec.household_id {
        Some(h) => households::members(conn, h)?,
        None => Vec::new(),
    };
    let (history, active_offers) = allocations::history(conn, id)?;
    Ok(CustomerContext {
        id,
        data: rec.data,
        household,
        history,
        active_offers,
    })
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
    let list = state
        .db_audited(move |store, audit| {
            store.read(|conn| {
                let ctx = context(conn, id)?;
                let codes: Vec<String> = instruments::list(
                    conn,
                    None,
                    &Page {
                        limit: 10_000,
                        after: None,
                    },
                )?
                .items
                .into_iter()
                .map(|i| i.data.code)
                .collect();
                audit.reads(store, &caller, &route, [(Some(id), None)]);
                let subject = ctx.subject(as_of);
                Ok(EligibilityList {
                    items: eligibility::for_instruments(
                        &subject,
                        codes.iter().map(String::as_str),
                        as_of,
                        &rules,
                    ),
                    as_of,
                })
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
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
    let rules = state.rules.clone();
    let scoring = state.scoring.clone();
    let cache = state.offer_snapshot.clone();
    let list = state
        .db_audited(move |store, audit| {
            // the connection goes back to the pool before the ranking, which runs while
            // the audit batch is written (the answer waits for its commit)
            let (ctx, snapshot) = store
                .read(|conn| Ok::<_, ApiError>((context(conn, id)?, cache.get(conn, as_of, today())?)))?;
            audit.reads(store, &caller, &route, [(Some(id), None)]);
            let subject = ctx.subject(as_of);
            let notices = eligibility::placement_first_notice(&subject, as_of)
                .into_iter()
                .collect();
            Ok(RecommendationList {
                items: snapshot.recommend(&ctx, q.instrument.as_deref(), limit, &rules, &scoring),
                as_of,
                notices,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}
