//! Reports over HTTP (roles reporting, admin, specialist); the reports themselves are
//! `app::reports`. Every report also answers `Accept: text/csv`.

use actix_web::get;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use passgenau_domain::user::Role;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::check_year;
use crate::app::reports;
pub use crate::app::reports::{BudgetRow, OutcomeRow, PlanRow, TargetGroupRow, UtilisationRow};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};
use crate::safe_csv::Dialect;
use crate::state::AppState;

const READERS: &[Role] = &[Role::Reporting, Role::Admin, Role::Specialist];

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(plan_report)
        .service(utilisation_report)
        .service(budget_report)
        .service(target_group_report)
        .service(outcome_report)
        .service(utilisation_chart);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    /// The year reported on (2000–2100).
    #[param(minimum = 2000, maximum = 2100)]
    pub year: i32,
    /// CSV in this dialect (implies CSV): `excel-de` for German Excel (`;`, decimal
    /// comma, UTF-8 with BOM), `rfc4180` the standard one. Also as
    /// `Accept: text/csv; dialect=excel-de`.
    #[param(value_type = Option<String>)]
    pub dialect: Option<Dialect>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChartQuery {
    /// The year reported on (2000–2100).
    #[param(minimum = 2000, maximum = 2100)]
    pub year: i32,
}

/// JSON `{"items": rows}`, or CSV with a header row when the client accepts `text/csv`
/// or names a dialect (every cell a spreadsheet would run as a formula neutralised:
/// `crate::safe_csv`).
fn answer<T: Serialize>(req: &HttpRequest, dialect: Option<Dialect>, rows: &[T]) -> ApiResult<HttpResponse> {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let dialect = dialect
        .or_else(|| Dialect::from_media_type(accept))
        .or_else(|| accept.contains("text/csv").then_some(Dialect::Rfc4180));
    if let Some(dialect) = dialect {
        let body = crate::safe_csv::rows_in(rows, dialect).map_err(|_| ApiError::internal())?;
        let kind = match dialect {
            Dialect::Rfc4180 => "text/csv; charset=utf-8",
            Dialect::ExcelDe => "text/csv; charset=utf-8; dialect=excel-de",
        };
        return Ok(HttpResponse::Ok().content_type(kind).body(body));
    }
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": rows })))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanReport {
    pub items: Vec<PlanRow>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UtilisationReport {
    pub items: Vec<UtilisationRow>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BudgetReport {
    pub items: Vec<BudgetRow>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TargetGroupReport {
    pub items: Vec<TargetGroupRow>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomeReport {
    pub items: Vec<OutcomeRow>,
}

/// Plan versus actual
///
/// One row per Zweckbestimmung with its instruments under it, and a total row.
#[utoipa::path(tag = "reports",
    params(YearQuery),
    responses(
        (status = 200, description = "rows (also as text/csv)", body = PlanReport),
        (status = 400, description = "bad year", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no plan for that year", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/reports/plan")]
pub async fn plan_report(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    q: web::Query<YearQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(READERS)?;
    let year = q.year;
    check_year(year, "invalid_query")?;
    let rows = state.db(move |store| Ok(reports::plan(store, year)?)).await?;
    answer(&req, q.dialect, &rows)
}

/// Utilisation per offer
///
/// Take-up of each offer running in the year against the 70–120 % corridor of the
/// framework contracts.
#[utoipa::path(tag = "reports",
    params(YearQuery),
    responses(
        (status = 200, description = "rows (also as text/csv)", body = UtilisationReport),
        (status = 400, description = "bad year", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/reports/utilisation")]
pub async fn utilisation_report(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    q: web::Query<YearQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(READERS)?;
    let year = q.year;
    check_year(year, "invalid_query")?;
    let rows = state
        .db(move |store| Ok(reports::utilisation(store, year)?))
        .await?;
    answer(&req, q.dialect, &rows)
}

/// Budget committed per instrument
#[utoipa::path(tag = "reports",
    params(YearQuery),
    responses(
        (status = 200, description = "rows (also as text/csv)", body = BudgetReport),
        (status = 400, description = "bad year", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/reports/budget")]
pub async fn budget_report(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    q: web::Query<YearQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(READERS)?;
    let year = q.year;
    check_year(year, "invalid_query")?;
    let rows = state.db(move |store| Ok(reports::budget(store, year)?)).await?;
    answer(&req, q.dialect, &rows)
}

/// Entries by target group
#[utoipa::path(tag = "reports",
    params(YearQuery),
    responses(
        (status = 200, description = "rows (also as text/csv)", body = TargetGroupReport),
        (status = 400, description = "bad year", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/reports/target-groups")]
pub async fn target_group_report(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    q: web::Query<YearQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(READERS)?;
    let year = q.year;
    check_year(year, "invalid_query")?;
    let rows = state
        .db(move |store| Ok(reports::target_groups(store, year)?))
        .await?;
    answer(&req, q.dialect, &rows)
}

/// Outcomes: starts, non-starts, drop-outs, completions
#[utoipa::path(tag = "reports",
    params(YearQuery),
    responses(
        (status = 200, description = "rows (also as text/csv)", body = OutcomeReport),
        (status = 400, description = "bad year", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/reports/outcomes")]
pub async fn outcome_report(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    q: web::Query<YearQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(READERS)?;
    let year = q.year;
    check_year(year, "invalid_query")?;
    let rows = state.db(move |store| Ok(reports::outcomes(store, year)?)).await?;
    answer(&req, q.dialect, &rows)
}

/// Utilisation chart (SVG)
///
/// Take-up per instrument in the year, with the corridor's 70 % and 120 % lines.
#[utoipa::path(tag = "reports",
    params(ChartQuery),
    responses(
        (status = 200, description = "an SVG image", content_type = "image/svg+xml"),
        (status = 400, description = "bad year", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/reports/utilisation.svg")]
pub async fn utilisation_chart(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ChartQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(READERS)?;
    let year = q.year;
    check_year(year, "invalid_query")?;
    let bars = state.db(move |store| Ok(reports::take_up(store, year)?)).await?;
    let svg = crate::chart::utilisation_svg(year, &bars).map_err(|e| {
        tracing::error!(error = %e, "chart failed");
        ApiError::internal()
    })?;
    Ok(HttpResponse::Ok().content_type("image/svg+xml").body(svg))
}
