//! Login, the caller's identity, and user accounts.

use actix_web::http::StatusCode;
use actix_web::{get, post};
use actix_web::{web, HttpResponse};
use passgenau_domain::ids::{ProviderId, UserId};
use passgenau_domain::user::{valid_username, Role, MAX_PASSWORD_LEN, MIN_PASSWORD_LEN};
use passgenau_domain::FieldError;
use passgenau_store::users::{self as repo, UserRecord};
use passgenau_store::{providers, Store};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{hash_password, verify_password, Caller, ANY_ROLE};
use crate::error::{check_fields, ApiError, ApiResult, Problem};
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
        .db(move |store| {
            let since = passgenau_store::records::now() - chrono::Duration::seconds(LOGIN_WINDOW_SECONDS);
            let (by_user, by_address) =
                store.read(|conn| repo::recent_failures(conn, &username, &address, since))?;
            if by_user >= MAX_FAILURES_PER_USER || by_address >= MAX_FAILURES_PER_ADDRESS {
                return Err(ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_attempts",
                    "too many failed logins: wait before trying again",
                )
                .with_header(
                    actix_web::http::header::RETRY_AFTER,
                    LOGIN_WINDOW_SECONDS.to_string(),
                ));
            }
            let user = if body.password.len() > MAX_PASSWORD_LEN {
                None
            } else {
                store.read(|conn| repo::by_username(conn, &username))?
            };
            let ok = verify_password(&body.password, user.as_ref().map(|u| u.password_hash.as_str()));
            store.read(|conn| repo::record_attempt(conn, &username, &address, ok))?;
            Ok(user.filter(|_| ok))
        })
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

/// Failed logins are counted over this window (seconds).
pub const LOGIN_WINDOW_SECONDS: i64 = 15 * 60;
/// Guessing one account's password from one address stops after this many failures in
/// the window (per user *and* address, so nobody can lock a colleague out from elsewhere).
pub const MAX_FAILURES_PER_USER: i64 = 5;
/// One address trying many accounts stops after this many failures in the window. Set
/// high: a whole office may reach the server through one proxy address.
pub const MAX_FAILURES_PER_ADDRESS: i64 = 100;

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
        .db(move |store| add_user(store, &body.username, &body.password, body.role, body.provider_id))
        .await?;
    Ok(HttpResponse::Created().json(UserResponse {
        id: user.id,
        username: user.username,
        role: user.role,
        provider_id: user.provider_id,
        created_at: user.created_at,
    }))
}

/// Creates a user after checking every field; shared by the API and `passgenau user add`.
pub fn add_user(
    store: &Store,
    username: &str,
    password: &str,
    role: Role,
    provider_id: Option<ProviderId>,
) -> ApiResult<UserRecord> {
    let mut errors = Vec::new();
    if !valid_username(username) {
        errors.push(FieldError::new(
            "username",
            "3–64 characters: letters, digits, '.', '_', '-', '@'",
        ));
    }
    let chars = password.chars().count();
    if !(MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&chars) {
        errors.push(FieldError::new(
            "password",
            format!("must be {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} characters"),
        ));
    }
    match (role, provider_id) {
        (Role::Provider, None) => {
            errors.push(FieldError::new("provider_id", "required for the role provider"))
        }
        (r, Some(_)) if r != Role::Provider => {
            errors.push(FieldError::new("provider_id", "only the role provider has one"))
        }
        _ => {}
    }
    check_fields(errors)?;
    let hash = hash_password(password)?;
    store.write(|conn| {
        if let Some(pid) = provider_id {
            if !providers::exists(conn, pid)? {
                return Err(ApiError::validation(vec![FieldError::new(
                    "provider_id",
                    "unknown provider",
                )]));
            }
        }
        let user = UserRecord {
            id: passgenau_domain::ids::new_id(),
            username: username.to_string(),
            password_hash: hash,
            role,
            provider_id,
            created_at: passgenau_store::records::now(),
        };
        repo::insert(conn, &user)?;
        Ok(user)
    })
}
