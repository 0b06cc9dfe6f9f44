//! Operations: liveness, readiness, the API description.

use actix_web::get;
use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, Problem};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: String,
}

/// Liveness: 200 while the process runs
#[utoipa::path(tag = "operations",
    responses((status = 200, description = "alive", body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok".into() })
}

/// Readiness: 200 when the database answers, else 503
#[utoipa::path(tag = "operations",
    responses(
        (status = 200, description = "ready", body = Health),
        (status = 503, description = "the database does not answer", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.db(|store| Ok(store.ping()?)).await?;
    Ok(HttpResponse::Ok().json(Health {
        status: "ready".into(),
    }))
}

/// The OpenAPI description (identical to `openapi/openapi.json`)
#[utoipa::path(tag = "operations",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
#[get("/openapi.json")]
pub async fn openapi_json(spec: web::Data<ServedSpec>) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(spec.0)
}

/// The served OpenAPI document, handed in by the router that the document describes.
pub struct ServedSpec(pub &'static str);

/// Prometheus metrics (admin on the API port; anyone on the ops port)
#[utoipa::path(tag = "operations",
    responses(
        (status = 200, description = "Prometheus text format", content_type = "text/plain"),
        (status = 401, description = "no or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an admin", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/metrics")]
pub async fn metrics(caller: crate::auth::Caller) -> Result<HttpResponse, ApiError> {
    caller.require(&[passgenau_domain::user::Role::Admin])?;
    Ok(metrics_text())
}

/// The metrics without authentication, for the ops port only.
pub async fn metrics_open() -> HttpResponse {
    metrics_text()
}

fn metrics_text() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(crate::observe::metrics().render())
}
