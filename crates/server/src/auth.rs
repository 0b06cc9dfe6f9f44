//! Authentication: the bearer credential of a request (a local token, a single-sign-on
//! token or an API key) made into a [`Caller`] by `app::sessions`, which says whether it
//! still stands. A request whose account this instance read less than
//! `sessions::FRESH_FOR` ago needs no database; otherwise one read, off the async workers.

use futures_util::future::{ready, FutureExt, LocalBoxFuture};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};

use crate::app::sessions::{self, API_KEY_PREFIX};
use crate::app::AppError;
use crate::error::ApiError;
pub use crate::identity::{Caller, ANY_ROLE, CASEWORK};
use crate::oidc::Oidc;
use crate::state::AppState;
pub use crate::tokens::{Claims, Subject, Tokens};

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = match req.app_data::<web::Data<AppState>>() {
            Some(s) => s.clone(),
            None => return ready(Err(ApiError::internal())).boxed_local(),
        };
        let token = match bearer(req) {
            Ok(t) => t,
            Err(e) => return ready(Err(e)).boxed_local(),
        };
        match fast(&state, &token) {
            Ok(Some(caller)) => ready(Ok(caller)).boxed_local(),
            Err(e) => ready(Err(e)).boxed_local(),
            Ok(None) => {
                let address = crate::net::client_address(req, &state.trusted_proxies);
                async move {
                    let s = state.clone();
                    state
                        .db(move |store| Ok(slow(&s, store, &token, &address)?))
                        .await
                }
                .boxed_local()
            }
        }
    }
}

/// The credential of `Authorization: Bearer …`.
fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
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
    Ok(token.trim().to_string())
}

/// The caller from what this instance knows already; `Ok(None)` when the database must
/// be asked.
fn fast(state: &AppState, token: &str) -> Result<Option<Caller>, ApiError> {
    if token.starts_with(API_KEY_PREFIX) {
        let Some(key) = state.sessions.fresh_key(&sessions::key_hash(token)) else {
            return Ok(None);
        };
        return Ok(Some(sessions::key_standing(&key, crate::app::today())?));
    }
    if Oidc::claims_algorithm(token) {
        let Some(oidc) = &state.oidc else {
            return Err(ApiError::unauthorized("the token is not valid"));
        };
        let Some(identity) = oidc.checked(token) else {
            return Ok(None);
        };
        let Some(id) = state.sessions.subject(&identity.subject) else {
            return Ok(None);
        };
        let Some(facts) = state.sessions.fresh_user(id) else {
            return Ok(None);
        };
        return Ok(sessions::oidc_standing(facts.as_deref(), &identity)?);
    }
    let verified = match state.tokens.verified.get(token) {
        Some(v) => v,
        None => {
            let v = state.tokens.verify(token)?;
            state.tokens.verified.put(token, &v);
            v
        }
    };
    let Some(facts) = state.sessions.fresh_user(verified.user_id) else {
        return Ok(None);
    };
    Ok(Some(sessions::token_standing(facts.as_deref(), &verified)?))
}

/// The caller after reading what the database says of the credential's account.
fn slow(
    state: &AppState,
    store: &passgenau_store::Store,
    token: &str,
    address: &str,
) -> Result<Caller, AppError> {
    if token.starts_with(API_KEY_PREFIX) {
        return sessions::load_key(store, &state.sessions, token, address);
    }
    if let (true, Some(oidc)) = (Oidc::claims_algorithm(token), &state.oidc) {
        let identity = oidc.check(token).map_err(AppError::Unauthenticated)?;
        return sessions::oidc_account(store, &state.sessions, &identity);
    }
    let verified = state
        .tokens
        .verified
        .get(token)
        .ok_or(AppError::Unauthenticated("the token is not valid"))?;
    let facts = state.sessions.load_user(store, verified.user_id)?;
    sessions::token_standing(facts.as_deref(), &verified)
}
