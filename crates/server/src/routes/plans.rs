//! Yearly plans: planned entries, last year's plan and budgets per instrument. Admins
//! write; admins, specialists and reporting read.

use actix_web::http::StatusCode;
use actix_web::{get, put};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use passgenau_domain::user::Role;
use passgenau_store::plans::{Plan, PlanLine};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{check_year, with_etag};
use crate::app::plans;
use crate::auth::Caller;
use crate::error::{ApiResult, Problem};
use crate::extract::{if_match, if_match_versions, ApiJson};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_plan).service(put_plan);
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanInstrument {
    pub code: String,
    pub planned_entries: i32,
    #[serde(default)]
    pub previous_year_planned_entries: Option<i32>,
    /// The instrument's budget for the year; absent or `null`: no budget cap (capacity
    /// alone limits, e.g. § 16f has none since 2019).
    #[serde(default)]
    pub budget_cents: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanBody {
    /// The year's whole Eingliederungstitel (informative; the caps are per instrument).
    #[serde(default)]
    pub budget_cents: Option<i64>,
    pub instruments: Vec<PlanInstrument>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PlanResponse {
    pub year: i32,
    pub budget_cents: Option<i64>,
    pub instruments: Vec<PlanInstrument>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn respond(p: &Plan) -> PlanResponse {
    PlanResponse {
        year: p.year,
        budget_cents: p.budget_cents,
        instruments: p
            .lines
            .iter()
            .map(|l| PlanInstrument {
                code: l.code.clone(),
                planned_entries: l.planned_entries,
                previous_year_planned_entries: l.previous_year_planned_entries,
                budget_cents: l.budget_cents,
            })
            .collect(),
        version: p.version,
        created_at: p.created_at,
        updated_at: p.updated_at,
    }
}

/// Read a year's plan
#[utoipa::path(tag = "plans",
    params(("year" = i32, Path, minimum = 2000, maximum = 2100)),
    responses(
        (status = 200, description = "the plan", body = PlanResponse),
        (status = 404, description = "no plan for that year", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/plans/{year}")]
pub async fn get_plan(
    state: web::Data<AppState>,
    caller: Caller,
    year: web::Path<i32>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::Admin, Role::Specialist, Role::Reporting])?;
    let year = year.into_inner();
    check_year(year, "invalid_id")?;
    let plan = state.db(move |store| Ok(plans::get(store, year)?)).await?;
    Ok(with_etag(StatusCode::OK, plan.version, &respond(&plan)))
}

/// Set a year's plan (admin)
///
/// Replaces the whole plan. Send `If-Match` with the `ETag` you read to avoid overwriting
/// someone else's change.
#[utoipa::path(tag = "plans",
    params(("year" = i32, Path, minimum = 2000, maximum = 2100), ("If-Match" = Option<String>, Header, description = "ETag of the version you read")),
    request_body = PlanBody,
    responses(
        (status = 200, description = "the stored plan", body = PlanResponse),
        (status = 400, description = "malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation_failed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[put("/plans/{year}")]
pub async fn put_plan(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    year: web::Path<i32>,
    ApiJson(body): ApiJson<PlanBody>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::Admin])?;
    let year = year.into_inner();
    check_year(year, "invalid_id")?;
    let lines: Vec<PlanLine> = body
        .instruments
        .iter()
        .map(|l| PlanLine {
            code: l.code.clone(),
            planned_entries: l.planned_entries,
            previous_year_planned_entries: l.previous_year_planned_entries,
            budget_cents: l.budget_cents,
        })
        .collect();
    plans::precheck(body.budget_cents, &lines)?;
    let expect = match if_match(&req)? {
        None => plans::Expect::Any,
        Some(t) if t.iter().any(|t| t == "*") => plans::Expect::Existing,
        Some(_) => plans::Expect::Versions(if_match_versions(&req)?.unwrap_or_default()),
    };
    let plan = state
        .db(move |store| Ok(plans::put(store, year, body.budget_cents, lines, expect)?))
        .await?;
    Ok(with_etag(StatusCode::OK, plan.version, &respond(&plan)))
}
