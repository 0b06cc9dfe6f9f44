//! Yearly plans: planned entries, last year's plan and budgets per instrument. Admins
//! write; admins, specialists and reporting read.

use actix_web::http::StatusCode;
use actix_web::{get, put};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use passgenau_domain::user::Role;
use passgenau_domain::FieldError;
use passgenau_store::plans::{self as repo, Plan, PlanLine};
use passgenau_store::{instruments, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{check_year, with_etag};
use crate::auth::Caller;
use crate::error::{check_fields, missing, ApiError, ApiResult, Problem};
use crate::extract::{if_match, ApiJson};
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
    let plan = state
        .db(move |store| store.read(|conn| repo::get(conn, year)).map_err(missing("plan")))
        .await?;
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
    let mut errors = Vec::new();
    if body.budget_cents.is_some_and(|b| b < 0) {
        errors.push(FieldError::new("budget_cents", "must not be negative"));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, l) in body.instruments.iter().enumerate() {
        if !seen.insert(l.code.clone()) {
            errors.push(FieldError::new(format!("instruments[{i}].code"), "listed twice"));
        }
        if l.planned_entries < 0 {
            errors.push(FieldError::new(
                format!("instruments[{i}].planned_entries"),
                "must not be negative",
            ));
        }
        if l.previous_year_planned_entries.is_some_and(|p| p < 0) {
            errors.push(FieldError::new(
                format!("instruments[{i}].previous_year_planned_entries"),
                "must not be negative",
            ));
        }
        if l.budget_cents.is_some_and(|b| b < 0) {
            errors.push(FieldError::new(
                format!("instruments[{i}].budget_cents"),
                "must not be negative",
            ));
        }
    }
    check_fields(errors)?;
    let tags = if_match(&req)?;
    let plan = state
        .db(move |store| {
            store.write(|conn| {
                let mut unknown = Vec::new();
                for (i, l) in body.instruments.iter().enumerate() {
                    match instruments::get(conn, &l.code) {
                        Ok(_) => {}
                        Err(StoreError::NotFound) => unknown.push(FieldError::new(
                            format!("instruments[{i}].code"),
                            "unknown instrument",
                        )),
                        Err(e) => return Err(e.into()),
                    }
                }
                if !unknown.is_empty() {
                    return Err(ApiError::validation(unknown));
                }
                let current = repo::version(conn, year)?;
                let expected = match &tags {
                    None => None,
                    Some(t) if t.iter().any(|t| t == "*") => {
                        current.ok_or_else(ApiError::precondition_failed).map(Some)?
                    }
                    Some(t) => Some(
                        current
                            .filter(|v| t.contains(&crate::extract::etag(*v)))
                            .ok_or_else(ApiError::precondition_failed)?,
                    ),
                };
                let now = passgenau_store::records::now();
                let plan = Plan {
                    year,
                    budget_cents: body.budget_cents,
                    version: current.unwrap_or(0) + 1,
                    created_at: now,
                    updated_at: now,
                    lines: body
                        .instruments
                        .iter()
                        .map(|l| PlanLine {
                            code: l.code.clone(),
                            planned_entries: l.planned_entries,
                            previous_year_planned_entries: l.previous_year_planned_entries,
                            budget_cents: l.budget_cents,
                        })
                        .collect(),
                };
                repo::put(conn, &plan, expected)?;
                Ok(repo::get(conn, year)?)
            })
        })
        .await?;
    Ok(with_etag(StatusCode::OK, plan.version, &respond(&plan)))
}
