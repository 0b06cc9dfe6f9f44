//! Authentication (argon2id passwords, HS256 JWTs) and role checks.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use passgenau_domain::user::Role;

use crate::error::ApiError;
pub use crate::identity::{Caller, ANY_ROLE, CASEWORK};
use crate::state::AppState;
pub use crate::tokens::{Claims, Tokens};

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(caller(req))
    }
}

fn caller(req: &HttpRequest) -> Result<Caller, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(ApiError::internal)?;
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("send Authorization: Bearer <token>"))?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("malformed Authorization header"))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .ok_or_else(|| ApiError::unauthorized("send Authorization: Bearer <token>"))?;
    let token = token.trim();
    if let Some(caller) = state.tokens.verified.get(token) {
        return Ok(caller);
    }
    let claims = state.tokens.verify(token)?;
    if claims.role == Role::Provider && claims.provider_id.is_none() {
        return Err(ApiError::unauthorized("the token is not valid"));
    }
    let caller = Caller {
        username: claims.sub,
        role: claims.role,
        provider_id: claims.provider_id,
    };
    state.tokens.verified.put(token, &caller, claims.exp);
    Ok(caller)
}
