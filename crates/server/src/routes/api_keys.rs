//! API keys of partner systems and reporting jobs (admin).

use actix_web::http::header;
use actix_web::{delete, get, post};
use actix_web::{web, HttpResponse};
use passgenau_domain::ids::{ApiKeyId, ProviderId};
use passgenau_domain::user::Role;
use passgenau_store::api_keys::ApiKeyRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::api_keys::{self, NewKey};
use crate::auth::Caller;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, Pagination};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_key).service(list_keys).service(revoke_key);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    /// What the key is for, e.g. the partner system's name (shown in the audit log).
    pub name: String,
    /// `provider` (with `provider_id`) or `reporting`.
    pub role: Role,
    #[serde(default)]
    pub provider_id: Option<ProviderId>,
    /// The last day the key works; without it, until revoked.
    #[serde(default)]
    pub expires_on: Option<chrono::NaiveDate>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApiKeyResponse {
    pub id: ApiKeyId,
    pub name: String,
    pub role: Role,
    pub provider_id: Option<ProviderId>,
    pub expires_on: Option<chrono::NaiveDate>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The admin who made it.
    pub created_by: String,
    /// To the minute.
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub record: ApiKeyResponse,
    /// The key, shown this once: send it as `Authorization: Bearer <key>`.
    pub key: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApiKeyList {
    pub items: Vec<ApiKeyResponse>,
    pub next_cursor: Option<String>,
}

fn respond(k: &ApiKeyRecord) -> ApiKeyResponse {
    ApiKeyResponse {
        id: k.id,
        name: k.name.clone(),
        role: k.role,
        provider_id: k.provider_id,
        expires_on: k.expires_on,
        created_at: k.created_at,
        created_by: k.created_by.clone(),
        last_used_at: k.last_used_at,
    }
}

/// Create an API key (admin)
///
/// The answer holds the key itself, this once; only its hash is kept.
#[utoipa::path(tag = "users",
    request_body = NewApiKey,
    responses(
        (status = 201, description = "created", body = CreatedApiKey),
        (status = 400, description = "malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation_failed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[post("/api-keys")]
pub async fn create_key(
    state: web::Data<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewApiKey>,
) -> ApiResult<HttpResponse> {
    caller.require_person(&[Role::Admin])?;
    let new = NewKey {
        name: body.name,
        role: body.role,
        provider_id: body.provider_id,
        expires_on: body.expires_on,
    };
    let (record, key) = state
        .db(move |store| Ok(api_keys::create(store, &caller, new)?))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/api-keys/{}", record.id)))
        .json(CreatedApiKey {
            record: respond(&record),
            key,
        }))
}

/// List API keys (admin)
///
/// Keys not revoked, with their last use; never the keys themselves.
#[utoipa::path(tag = "users",
    params(Pagination),
    responses(
        (status = 200, description = "a page of keys", body = ApiKeyList),
        (status = 400, description = "bad query", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an admin", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/api-keys")]
pub async fn list_keys(
    state: web::Data<AppState>,
    caller: Caller,
    p: web::Query<Pagination>,
) -> ApiResult<HttpResponse> {
    caller.require_person(&[Role::Admin])?;
    let page = p.uuid_page()?;
    let list = state
        .db(move |store| {
            let page = api_keys::list(store, &page)?;
            Ok(ApiKeyList {
                items: page.items.iter().map(respond).collect(),
                next_cursor: page.next,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Revoke an API key (admin)
///
/// Refused at once on this instance, within a second on every other.
#[utoipa::path(tag = "users",
    params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "revoked"),
        (status = 403, description = "not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "unknown or revoked already", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[delete("/api-keys/{id}")]
pub async fn revoke_key(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<ApiKeyId>,
) -> ApiResult<HttpResponse> {
    caller.require_person(&[Role::Admin])?;
    let id = id.into_inner();
    let sessions = state.sessions.clone();
    state
        .db(move |store| Ok(api_keys::revoke(store, &sessions, &caller, id)?))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
