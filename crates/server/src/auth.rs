//! Authentication (argon2id passwords, HS256 JWTs) and role checks.

use passgenau_domain::ids::ProviderId;
use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use passgenau_domain::user::Role;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::state::AppState;

const ISSUER: &str = "passgenau";

/// Claims of an access token. Only what the API needs to authorise; no personal data.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<ProviderId>,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
}

/// Signing and checking tokens. Only HS256 is accepted: a token that names another
/// algorithm (`none`, RS256 with our secret as a public key, …) is rejected.
#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub ttl_seconds: i64,
    verified: std::sync::Arc<VerifiedTokens>,
}

impl Tokens {
    pub fn new(secret: &[u8], ttl_seconds: i64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_seconds,
            verified: Default::default(),
        }
    }

    pub fn issue(
        &self,
        username: &str,
        role: Role,
        provider_id: Option<ProviderId>,
    ) -> Result<String, ApiError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: username.to_string(),
            role,
            provider_id,
            iss: ISSUER.into(),
            iat: now,
            exp: now + self.ttl_seconds,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(|e| {
            tracing::error!(error = %e, "token signing failed");
            ApiError::internal()
        })
    }

    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|d| d.claims)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                match e.kind() {
                    ErrorKind::ExpiredSignature => ApiError::unauthorized("the token has expired"),
                    _ => ApiError::unauthorized("the token is not valid"),
                }
            })
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub username: String,
    pub role: Role,
    pub provider_id: Option<ProviderId>,
}

impl Caller {
    /// 403 unless the caller has one of the roles.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }
}

/// Roles that work with customer and household records.
pub const CASEWORK: &[Role] = &[Role::Specialist, Role::Admin];
/// Every role.
pub const ANY_ROLE: &[Role] = &[Role::Admin, Role::Specialist, Role::Provider, Role::Reporting];

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

/// Tokens whose signature was checked (with this instance's secret), until they expire: a
/// client sends the same token with every request, and checking the signature again each
/// time costs more than many a handler. Bounded; only valid tokens enter.
#[derive(Default)]
struct VerifiedTokens {
    entries: std::sync::Mutex<std::collections::HashMap<String, (Caller, i64)>>,
}

const MAX_VERIFIED_TOKENS: usize = 10_000;

impl VerifiedTokens {
    fn get(&self, token: &str) -> Option<Caller> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let (caller, exp) = entries.get(token)?;
        (chrono::Utc::now().timestamp() < *exp).then(|| caller.clone())
    }

    fn put(&self, token: &str, caller: &Caller, exp: i64) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_VERIFIED_TOKENS {
            let now = chrono::Utc::now().timestamp();
            entries.retain(|_, (_, e)| *e > now);
            if entries.len() >= MAX_VERIFIED_TOKENS {
                entries.clear();
            }
        }
        entries.insert(token.to_string(), (caller.clone(), exp));
    }
}

/// An argon2id hash (PHC string with its own random salt).
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing failed");
            ApiError::internal()
        })
}

/// Constant-effort check: with no stored hash a dummy hash is verified, so the answer
/// time does not tell whether a username exists.
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| {
        Argon2::default()
            .hash_password(b"not a real password")
            .map(|h| h.to_string())
            .unwrap_or_default()
    });
    let hash = stored.unwrap_or(dummy);
    let ok = PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false);
    ok && stored.is_some()
}
