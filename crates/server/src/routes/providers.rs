//! Providers (*Träger*): admins write, every role reads.

use actix_web::http::StatusCode;
use actix_web::{get, patch, post};
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use passgenau_domain::ids::ProviderId;
use passgenau_domain::provider::ProviderData;
use passgenau_domain::user::Role;
use passgenau_store::providers::ProviderRecord;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::with_etag;
use crate::app::providers;
use crate::auth::{Caller, ANY_ROLE};
use crate::error::{ApiResult, Problem};
use crate::extract::{if_match_versions, ApiJson, Pagination};
use crate::patch::MergePatch;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_providers)
        .service(get_provider)
        .service(create_provider)
        .service(update_provider);
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProviderResponse {
    pub id: ProviderId,
    #[serde(flatten)]
    pub data: ProviderData,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProviderList {
    pub items: Vec<ProviderResponse>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProviderQuery {
    /// Exact name.
    pub name: Option<String>,
}

fn respond(r: &ProviderRecord) -> ProviderResponse {
    ProviderResponse {
        id: r.meta.id,
        data: r.data.clone(),
        version: r.meta.version,
        created_at: r.meta.created_at,
        updated_at: r.meta.updated_at,
    }
}

/// The provider as `caller` may see it: without contact data for another provider.
fn view(r: &ProviderRecord, caller: &Caller) -> ProviderResponse {
    let mut v = respond(r);
    if !caller.sees_terms_of(r.meta.id) {
        v.data.contact_email = None;
    }
    v
}

/// List providers
#[utoipa::path(tag = "providers",
    params(ProviderQuery, Pagination),
    responses(
        (status = 200, description = "a page of providers", body = ProviderList),
        (status = 400, description = "bad query", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/providers")]
pub async fn list_providers(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ProviderQuery>,
    p: web::Query<Pagination>,
) -> ApiResult<HttpResponse> {
    caller.require(ANY_ROLE)?;
    let page = p.uuid_page()?;
    let name = q.into_inner().name;
    let list = state
        .db(move |store| {
            let page = providers::list(store, name.as_deref(), &page)?;
            Ok(ProviderList {
                items: page.items.iter().map(|r| view(r, &caller)).collect(),
                next_cursor: page.next,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Read a provider
#[utoipa::path(tag = "providers",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "the provider", body = ProviderResponse),
        (status = 404, description = "unknown provider", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/providers/{id}")]
pub async fn get_provider(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<ProviderId>,
) -> ApiResult<HttpResponse> {
    caller.require(ANY_ROLE)?;
    let id = id.into_inner();
    let rec = state.db(move |store| Ok(providers::get(store, id)?)).await?;
    Ok(with_etag(StatusCode::OK, rec.meta.version, &view(&rec, &caller)))
}

/// Create a provider (admin)
#[utoipa::path(tag = "providers",
    request_body = ProviderData,
    responses(
        (status = 201, description = "created", body = ProviderResponse),
        (status = 400, description = "malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation_failed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[post("/providers")]
pub async fn create_provider(
    state: web::Data<AppState>,
    caller: Caller,
    ApiJson(data): ApiJson<ProviderData>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::Admin])?;
    providers::precheck(&data)?;
    let rec = state.db(move |store| Ok(providers::create(store, data)?)).await?;
    Ok(super::created(
        format!("/api/v1/providers/{}", rec.meta.id),
        rec.meta.version,
        &respond(&rec),
    ))
}

/// The body of the PATCH of a `ProviderData`.
pub type ProviderPatch = MergePatch<ProviderData>;

/// Update a provider (admin)
#[utoipa::path(tag = "providers",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version you read")),
    request_body(content = ProviderPatch, description = "the fields to change"),
    responses(
        (status = 200, description = "updated", body = ProviderResponse),
        (status = 400, description = "malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "unknown provider", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation_failed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[patch("/providers/{id}")]
pub async fn update_provider(
    state: web::Data<AppState>,
    caller: Caller,
    req: actix_web::HttpRequest,
    id: web::Path<ProviderId>,
    ApiJson(patch): ApiJson<ProviderPatch>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::Admin])?;
    let id = id.into_inner();
    let versions = if_match_versions(&req)?;
    let rec = state
        .db(move |store| Ok(providers::update(store, id, versions.as_deref(), patch)?))
        .await?;
    Ok(with_etag(StatusCode::OK, rec.meta.version, &respond(&rec)))
}
