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
use crate::tokens::Known;
pub use crate::tokens::{Claims, Subject, Tokens};

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(state) = req.app_data::<web::Data<AppState>>() else {
            return ready(Err(ApiError::internal())).boxed_local();
        };
        let token = match bearer(req) {
            Ok(t) => t,
            Err(e) => return ready(Err(e)).boxed_local(),
        };
        match fast(state, token) {
            Ok(Ok(caller)) => ready(Ok(caller)).boxed_local(),
            Err(e) => ready(Err(e)).boxed_local(),
            Ok(Err(step)) => {
                let state = state.clone();
                let token = token.to_string();
                let address = crate::net::client_address(req, &state.trusted_proxies);
                async move {
                    let s = state.clone();
                    state
                        .db(move |store| Ok(slow(&s, store, step, &token, &address)?))
                        .await
                }
                .boxed_local()
            }
        }
    }
}

/// The credential of `Authorization: Bearer …`.
fn bearer(req: &HttpRequest) -> Result<&str, ApiError> {
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
    Ok(token.trim())
}

/// What the credential check needs the database for.
enum Step {
    /// A local token with a valid signature, whose account must be read.
    Local(crate::tokens::Verified),
    /// An API key or a single-sign-on token, to be looked up.
    Lookup,
}

/// The caller from what this instance read less than `FRESH_FOR` ago, or what is left to
/// ask the database.
fn fast(state: &AppState, token: &str) -> Result<Result<Caller, Step>, ApiError> {
    if token.starts_with(API_KEY_PREFIX) {
        let Some(key) = state.sessions.fresh_key(&sessions::key_hash(token)) else {
            return Ok(Err(Step::Lookup));
        };
        return Ok(Ok(sessions::key_standing(&key, crate::app::today())?));
    }
    // a token checked before is ours: no header to parse
    let generation = state.sessions.generation();
    let known = state.tokens.verified.get(token, sessions::FRESH_FOR, generation);
    if known.is_none() && Oidc::claims_algorithm(token) {
        let Some(oidc) = &state.oidc else {
            return Err(ApiError::unauthorized("the token is not valid"));
        };
        let Some(identity) = oidc.checked(token) else {
            return Ok(Err(Step::Lookup));
        };
        let Some(id) = state.sessions.subject(&identity.subject) else {
            return Ok(Err(Step::Lookup));
        };
        let Some(facts) = state.sessions.fresh_user(id) else {
            return Ok(Err(Step::Lookup));
        };
        return Ok(match sessions::oidc_standing(facts.as_deref(), &identity)? {
            Some(caller) => Ok(caller),
            None => Err(Step::Lookup),
        });
    }
    let verified = match known {
        Some(Known::Caller(caller)) => return Ok(Ok(caller)),
        Some(Known::Verified(v)) => v,
        None => {
            let v = state.tokens.verify(token)?;
            state.tokens.verified.put(token, &v);
            v
        }
    };
    match state.sessions.fresh_user_read(verified.user_id) {
        Some((read_at, facts)) => {
            let caller = sessions::token_standing(facts.as_deref(), &verified)?;
            state.tokens.verified.stood(token, &caller, read_at, generation);
            Ok(Ok(caller))
        }
        None => Ok(Err(Step::Local(verified))),
    }
}

/// The caller after reading what the database says of the credential's account.
fn slow(
    state: &AppState,
    store: &passgenau_store::Store,
    step: Step,
    token: &str,
    address: &str,
) -> Result<Caller, AppError> {
    match step {
        Step::Local(verified) => {
            let facts = state.sessions.load_user(store, verified.user_id)?;
            sessions::token_standing(facts.as_deref(), &verified)
        }
        Step::Lookup if token.starts_with(API_KEY_PREFIX) => {
            sessions::load_key(store, &state.sessions, token, address)
        }
        Step::Lookup => {
            let oidc = state
                .oidc
                .as_ref()
                .ok_or(AppError::Unauthenticated("the token is not valid"))?;
            let identity = oidc.check(token).map_err(AppError::Unauthenticated)?;
            sessions::oidc_account(store, &state.sessions, &identity)
        }
    }
}
