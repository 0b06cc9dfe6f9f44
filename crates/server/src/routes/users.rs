//! Login, the caller's identity, and user accounts.

use actix_web::http::StatusCode;
use actix_web::{get, post};
use actix_web::{web, HttpResponse};
use passgenau_domain::ids::{ProviderId, UserId};
use passgenau_domain::user::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::users;
use crate::auth::{Caller, ANY_ROLE};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::ApiJson;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(login).service(me).service(create_user);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LoginResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: i64,
    pub role: Role,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MeResponse {
    pub username: String,
    pub role: Role,
    pub provider_id: Option<ProviderId>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    pub password: String,
    pub role: Role,
    /// Required for, and only for, the role `provider`.
    #[serde(default)]
    pub provider_id: Option<ProviderId>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserResponse {
    pub id: UserId,
    pub username: String,
    pub role: Role,
    pub provider_id: Option<ProviderId>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Log in
///
/// Exchanges username and password for a bearer token.
#[utoipa::path(tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "a token", body = LoginResponse),
        (status = 400, description = "malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "invalid_credentials", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "too_many_attempts (with Retry-After)", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    ApiJson(body): ApiJson<LoginRequest>,
) -> ApiResult<HttpResponse> {
    // the connection's address: X-Forwarded-For would let a client choose its own
    let address = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into());
    let username: String = body.username.chars().take(64).collect();
    let user = state
        .db(move |store| Ok(users::login(store, &username, &body.password, &address)?))
        .await?
        .ok_or_else(invalid_credentials)?;
    let token = state.tokens.issue(&user.username, user.role, user.provider_id)?;
    Ok(HttpResponse::Ok().json(LoginResponse {
        access_token: token,
        token_type: "Bearer".into(),
        expires_in: state.tokens.ttl_seconds,
        role: user.role,
    }))
}

fn invalid_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "unknown username or wrong password",
    )
}

/// Who am I
#[utoipa::path(tag = "auth",
    responses(
        (status = 200, description = "the caller", body = MeResponse),
        (status = 401, description = "no or bad token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/me")]
pub async fn me(caller: Caller) -> ApiResult<HttpResponse> {
    caller.require(ANY_ROLE)?;
    Ok(HttpResponse::Ok().json(MeResponse {
        username: caller.username,
        role: caller.role,
        provider_id: caller.provider_id,
    }))
}

/// Create a user (admin)
#[utoipa::path(tag = "auth",
    request_body = NewUser,
    responses(
        (status = 201, description = "created", body = UserResponse),
        (status = 400, description = "malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "duplicate_username", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation_failed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[post("/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewUser>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::Admin])?;
    let user = state
        .db(move |store| {
            Ok(users::add(
                store,
                &body.username,
                &body.password,
                body.role,
                body.provider_id,
            )?)
        })
        .await?;
    Ok(HttpResponse::Created().json(UserResponse {
        id: user.id,
        username: user.username,
        role: user.role,
        provider_id: user.provider_id,
        created_at: user.created_at,
    }))
}
