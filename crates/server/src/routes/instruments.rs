//! The instrument catalogue: every role reads it, admins edit it.

use actix_web::http::StatusCode;
use actix_web::{get, patch, post};
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use passgenau_domain::catalogue::{Instrument, PurposeGroup};
use passgenau_domain::user::Role;
use passgenau_store::instruments::InstrumentRecord;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::with_etag;
use crate::app::catalogue;
use crate::auth::{Caller, ANY_ROLE};
use crate::error::{ApiResult, Problem};
use crate::extract::{if_match_versions, ApiJson, Pagination};
use crate::patch::MergePatch;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_instruments)
        .service(get_instrument)
        .service(create_instrument)
        .service(update_instrument);
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InstrumentResponse {
    #[serde(flatten)]
    pub data: Instrument,
    /// Part of the built-in AMIP 2021 catalogue.
    pub builtin: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InstrumentList {
    pub items: Vec<InstrumentResponse>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InstrumentQuery {
    pub purpose_group: Option<PurposeGroup>,
}

fn respond(r: &InstrumentRecord) -> InstrumentResponse {
    InstrumentResponse {
        data: r.data.clone(),
        builtin: r.builtin,
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

/// List instruments
#[utoipa::path(tag = "catalogue",
    params(InstrumentQuery, Pagination),
    responses(
        (status = 200, description = "a page of instruments, by code", body = InstrumentList),
        (status = 400, description = "bad query", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/instruments")]
pub async fn list_instruments(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<InstrumentQuery>,
    p: web::Query<Pagination>,
) -> ApiResult<HttpResponse> {
    caller.require(ANY_ROLE)?;
    let page = p.page(|c| c.len() <= 32)?;
    let pg = q.purpose_group.map(|g| g.as_str());
    let list = state
        .db(move |store| {
            let page = catalogue::list(store, pg, &page)?;
            Ok(InstrumentList {
                items: page.items.iter().map(respond).collect(),
                next_cursor: page.next,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Read an instrument
#[utoipa::path(tag = "catalogue",
    params(("code" = String, Path)),
    responses(
        (status = 200, description = "the instrument", body = InstrumentResponse),
        (status = 404, description = "unknown code", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/instruments/{code}")]
pub async fn get_instrument(
    state: web::Data<AppState>,
    caller: Caller,
    code: web::Path<String>,
) -> ApiResult<HttpResponse> {
    caller.require(ANY_ROLE)?;
    let code = code.into_inner();
    let rec = state.db(move |store| Ok(catalogue::get(store, &code)?)).await?;
    Ok(with_etag(StatusCode::OK, rec.version, &respond(&rec)))
}

/// Add an instrument (admin)
#[utoipa::path(tag = "catalogue",
    request_body = Instrument,
    responses(
        (status = 201, description = "created", body = InstrumentResponse),
        (status = 400, description = "malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "duplicate_instrument_code", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation_failed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[post("/instruments")]
pub async fn create_instrument(
    state: web::Data<AppState>,
    caller: Caller,
    ApiJson(data): ApiJson<Instrument>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::Admin])?;
    catalogue::precheck(&data)?;
    let rec = state.db(move |store| Ok(catalogue::create(store, data)?)).await?;
    Ok(super::created(
        format!("/api/v1/instruments/{}", rec.data.code),
        rec.version,
        &respond(&rec),
    ))
}

/// The body of the PATCH of a `Instrument`.
pub type InstrumentPatch = MergePatch<Instrument>;

/// Update an instrument (admin)
///
/// A JSON merge patch; the `code` cannot change (clients use it as the key).
#[utoipa::path(tag = "catalogue",
    params(("code" = String, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version you read")),
    request_body(content = InstrumentPatch, description = "the fields to change"),
    responses(
        (status = 200, description = "updated", body = InstrumentResponse),
        (status = 400, description = "malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "unknown code", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation_failed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[patch("/instruments/{code}")]
pub async fn update_instrument(
    state: web::Data<AppState>,
    caller: Caller,
    req: actix_web::HttpRequest,
    code: web::Path<String>,
    ApiJson(patch): ApiJson<InstrumentPatch>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::Admin])?;
    let code = code.into_inner();
    let versions = if_match_versions(&req)?;
    let rec = state
        .db(move |store| Ok(catalogue::update(store, &code, versions.as_deref(), patch)?))
        .await?;
    Ok(with_etag(StatusCode::OK, rec.version, &respond(&rec)))
}
