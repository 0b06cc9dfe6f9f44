//! Login and logout, the caller's identity, and user accounts over their life.

use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post};
use actix_web::{web, HttpResponse};
use passgenau_domain::ids::{ProviderId, UserId};
use passgenau_domain::user::{Role, UserSource, UserStatus};
use passgenau_store::users::{UserFilter, UserRecord};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::users::{self, AccountData};
use crate::auth::{Caller, Subject, ANY_ROLE};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, Pagination};
use crate::patch::MergePatch;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(login)
        .service(logout)
        .service(me)
        .service(change_own_password)
        .service(list_users)
        .service(get_user)
        .service(create_user)
        .service(update_user)
        .service(set_password)
        .service(lift_lockout);
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
    pub status: UserStatus,
    /// `local` (a password here) or `oidc` (single sign-on).
    pub source: UserSource,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub last_login_at: Option<chrono::DateTime<chrono::Utc>>,
}

fn respond(u: &UserRecord) -> UserResponse {
    UserResponse {
        id: u.id,
        username: u.username.clone(),
        role: u.role,
        provider_id: u.provider_id,
        status: u.status,
        source: u.source,
        created_at: u.created_at,
        last_login_at: u.last_login_at,
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserList {
    pub items: Vec<UserResponse>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
    pub provider_id: Option<ProviderId>,
}

/// The body of `PATCH /users/{id}`: any of `role`, `provider_id`, `status`.
pub type AccountPatch = MergePatch<AccountData>;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    pub new_password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
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
        (status = 403, description = "logins with a password are turned off (`PASSGENAU_LOCAL_LOGIN=false`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "too_many_attempts (with Retry-After)", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    ApiJson(body): ApiJson<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let address = crate::net::client_address(&req, &state.trusted_proxies);
    let username: String = body.username.chars().take(64).collect();
    let local_login = state.local_login;
    let user = state
        .db(move |store| {
            Ok(users::login(
                store,
                &username,
                &body.password,
                &address,
                local_login,
            )?)
        })
        .await?
        .ok_or_else(invalid_credentials)?;
    let token = state.tokens.issue(&Subject {
        user_id: user.id,
        role: user.role,
        provider_id: user.provider_id,
        token_version: user.token_version,
    })?;
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
    caller.require_person(&[Role::Admin])?;
    let user = state
        .db(move |store| {
            Ok(users::add(
                store,
                Some(&caller),
                &body.username,
                &body.password,
                body.role,
                body.provider_id,
            )?)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/users/{}", user.id)))
        .json(respond(&user)))
}

/// Log out
///
/// Ends the presented token on every instance (at once on this one, within a second on
/// the others). The account's other tokens keep working.
#[utoipa::path(tag = "auth",
    responses(
        (status = 204, description = "the token no longer works"),
        (status = 401, description = "no or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "an API key (an admin revokes it)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[post("/auth/logout")]
pub async fn logout(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    caller.require(ANY_ROLE)?;
    let sessions = state.sessions.clone();
    state
        .db(move |store| Ok(users::logout(store, &sessions, &caller)?))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Change my password
///
/// Proven by the current password. The token this is done with keeps working; the
/// account's other tokens end.
#[utoipa::path(tag = "auth",
    request_body = PasswordChange,
    responses(
        (status = 204, description = "changed"),
        (status = 400, description = "malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "no or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "invalid_credentials: the current password is wrong; or an API key", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "external_identity: a single-sign-on account", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation_failed: the new password is too weak", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "too_many_attempts (with Retry-After)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[post("/me/password")]
pub async fn change_own_password(
    state: web::Data<AppState>,
    caller: Caller,
    req: actix_web::HttpRequest,
    ApiJson(body): ApiJson<PasswordChange>,
) -> ApiResult<HttpResponse> {
    caller.require(ANY_ROLE)?;
    let address = crate::net::client_address(&req, &state.trusted_proxies);
    let sessions = state.sessions.clone();
    state
        .db(move |store| {
            Ok(users::change_own_password(
                store,
                &sessions,
                &caller,
                &body.current_password,
                &body.new_password,
                &address,
            )?)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// List users (admin)
#[utoipa::path(tag = "users",
    params(UserQuery, Pagination),
    responses(
        (status = 200, description = "a page of accounts", body = UserList),
        (status = 400, description = "bad query", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an admin", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<UserQuery>,
    p: web::Query<Pagination>,
) -> ApiResult<HttpResponse> {
    caller.require_person(&[Role::Admin])?;
    let page = p.uuid_page()?;
    let q = q.into_inner();
    let filter = UserFilter {
        role: q.role,
        status: q.status,
        provider_id: q.provider_id,
    };
    let list = state
        .db(move |store| {
            let page = users::list(store, &filter, &page)?;
            Ok(UserList {
                items: page.items.iter().map(respond).collect(),
                next_cursor: page.next,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Read a user (admin)
#[utoipa::path(tag = "users",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "the account", body = UserResponse),
        (status = 403, description = "not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "unknown user", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/users/{id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<UserId>,
) -> ApiResult<HttpResponse> {
    caller.require_person(&[Role::Admin])?;
    let id = id.into_inner();
    let user = state.db(move |store| Ok(users::get(store, id)?)).await?;
    Ok(HttpResponse::Ok().json(respond(&user)))
}

/// Change a user's role, provider or status (admin)
///
/// A merge patch of `role`, `provider_id` and `status`. Any change ends every token the
/// user holds, on every instance within a second; `status: "disabled"` keeps them out.
#[utoipa::path(tag = "users",
    params(("id" = Uuid, Path)),
    request_body(content = AccountPatch, description = "the fields to change"),
    responses(
        (status = 200, description = "the account", body = UserResponse),
        (status = 400, description = "malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "unknown user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "own_account or last_admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation_failed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[patch("/users/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<UserId>,
    ApiJson(patch): ApiJson<AccountPatch>,
) -> ApiResult<HttpResponse> {
    caller.require_person(&[Role::Admin])?;
    let id = id.into_inner();
    let sessions = state.sessions.clone();
    let user = state
        .db(move |store| Ok(users::update(store, &sessions, &caller, id, patch)?))
        .await?;
    Ok(HttpResponse::Ok().json(respond(&user)))
}

/// Reset a user's password (admin)
///
/// Ends every token the user holds and lifts a lockout.
#[utoipa::path(tag = "users",
    params(("id" = Uuid, Path)),
    request_body = NewPassword,
    responses(
        (status = 204, description = "set"),
        (status = 400, description = "malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "unknown user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "external_identity: a single-sign-on account", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation_failed: too weak", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[post("/users/{id}/password")]
pub async fn set_password(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<UserId>,
    ApiJson(body): ApiJson<NewPassword>,
) -> ApiResult<HttpResponse> {
    caller.require_person(&[Role::Admin])?;
    let id = id.into_inner();
    let sessions = state.sessions.clone();
    state
        .db(move |store| {
            Ok(users::set_password(
                store,
                &sessions,
                &caller,
                id,
                &body.new_password,
            )?)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Lift a user's lockout (admin)
///
/// Failed logins before now no longer count against the user.
#[utoipa::path(tag = "users",
    params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "lifted"),
        (status = 403, description = "not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "unknown user", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[delete("/users/{id}/lockout")]
pub async fn lift_lockout(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<UserId>,
) -> ApiResult<HttpResponse> {
    caller.require_person(&[Role::Admin])?;
    let id = id.into_inner();
    state
        .db(move |store| Ok(users::lift_lockout(store, &caller, id)?))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
