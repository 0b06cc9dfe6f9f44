//! Access tokens of local logins: signing and checking (HS256 only), and the cache of
//! checked ones. A token names its user by ID and carries the user's token version; the
//! session check (`app::sessions`) compares both with what the database says.

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use passgenau_domain::ids::{ProviderId, UserId};
use passgenau_domain::user::Role;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::identity::Caller;

const ISSUER: &str = "passgenau";
/// Clock skew allowed between instances, in seconds.
pub const LEEWAY_SECONDS: i64 = 5;
/// Largest clock skew any token check may allow (the single-sign-on issuer's,
/// `PASSGENAU_OIDC_LEEWAY_SECONDS`), seconds.
pub const MAX_LEEWAY_SECONDS: u64 = 300;

/// Claims of an access token. Only what the API needs to authorise; no personal data.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The user's ID.
    pub sub: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<ProviderId>,
    /// The user's token version when the token was issued.
    pub ver: i64,
    /// The token's own ID (what a logout revokes).
    pub jti: String,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
}

/// What a token whose signature and times were checked says.
#[derive(Debug, Clone)]
pub struct Verified {
    pub user_id: UserId,
    pub role: Role,
    pub provider_id: Option<ProviderId>,
    pub version: i64,
    pub token_id: String,
    pub expires_at: i64,
}

/// Whom a token is issued to.
pub struct Subject {
    pub user_id: UserId,
    pub role: Role,
    pub provider_id: Option<ProviderId>,
    pub token_version: i64,
}

/// Signing and checking tokens. Only HS256 is accepted: a token that names another
/// algorithm (`none`, RS256 with our secret as a public key, …) is rejected here; tokens
/// of a single-sign-on issuer are checked by `oidc`.
#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub ttl_seconds: i64,
    pub(crate) verified: std::sync::Arc<VerifiedTokens>,
}

impl Tokens {
    pub fn new(secret: &[u8], ttl_seconds: i64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "iat"]);
        validation.leeway = LEEWAY_SECONDS as u64;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_seconds,
            verified: Default::default(),
        }
    }

    /// A token for `subject`, valid for the configured lifetime.
    pub fn issue(&self, subject: &Subject) -> Result<String, ApiError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: subject.user_id.to_string(),
            role: subject.role,
            provider_id: subject.provider_id,
            ver: subject.token_version,
            jti: uuid::Uuid::new_v4().simple().to_string(),
            iss: ISSUER.into(),
            iat: now,
            exp: now + self.ttl_seconds,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(|e| {
            tracing::error!(error = %e, "token signing failed");
            ApiError::internal()
        })
    }

    /// Checks signature, issuer and times. A token lives at most the configured lifetime
    /// from its `iat`, whatever its `exp` says, and an `iat` in the future is refused.
    pub fn verify(&self, token: &str) -> Result<Verified, ApiError> {
        let claims = decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|d| d.claims)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                match e.kind() {
                    ErrorKind::ExpiredSignature => ApiError::unauthorized("the token has expired"),
                    _ => ApiError::unauthorized("the token is not valid"),
                }
            })?;
        let now = chrono::Utc::now().timestamp();
        if claims.iat > now + LEEWAY_SECONDS {
            return Err(ApiError::unauthorized("the token is not valid yet"));
        }
        let expires_at = claims.exp.min(claims.iat.saturating_add(self.ttl_seconds));
        if now >= expires_at + LEEWAY_SECONDS {
            return Err(ApiError::unauthorized("the token has expired"));
        }
        if claims.role == Role::Provider && claims.provider_id.is_none() {
            return Err(ApiError::unauthorized("the token is not valid"));
        }
        let user_id = claims
            .sub
            .parse::<uuid::Uuid>()
            .map(<UserId as passgenau_domain::ids::Id>::from_uuid)
            .map_err(|_| ApiError::unauthorized("the token is not valid"))?;
        Ok(Verified {
            user_id,
            role: claims.role,
            provider_id: claims.provider_id,
            version: claims.ver,
            token_id: claims.jti,
            expires_at,
        })
    }
}

/// Tokens whose signature was checked, until they expire: a client sends the same token
/// with every request, and checking the signature again each time costs more than many a
/// handler. Bounded; only valid tokens enter. Beside each, the caller it last stood for,
/// with the time the account was read and the cache generation then
/// (`app::sessions::Sessions::generation`): while that read is fresh and nothing was
/// forgotten since, the caller is answered from here without looking further.
#[derive(Default)]
pub(crate) struct VerifiedTokens {
    entries: std::sync::Mutex<std::collections::HashMap<String, Entry>>,
}

struct Entry {
    verified: Verified,
    standing: Option<(std::time::Instant, u64, Caller)>,
}

/// What the cache knows of a token.
pub(crate) enum Known {
    /// The caller, from an account read younger than the age asked for.
    Caller(Caller),
    /// Only that the token itself is valid.
    Verified(Verified),
}

const MAX_VERIFIED_TOKENS: usize = 10_000;

impl VerifiedTokens {
    pub(crate) fn get(&self, token: &str, max_age: std::time::Duration, generation: u64) -> Option<Known> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let e = entries.get(token)?;
        if chrono::Utc::now().timestamp() >= e.verified.expires_at {
            return None;
        }
        Some(match &e.standing {
            Some((read_at, g, caller)) if *g == generation && read_at.elapsed() < max_age => {
                Known::Caller(caller.clone())
            }
            _ => Known::Verified(e.verified.clone()),
        })
    }

    pub(crate) fn put(&self, token: &str, verified: &Verified) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_VERIFIED_TOKENS {
            let now = chrono::Utc::now().timestamp();
            entries.retain(|_, e| e.verified.expires_at > now);
            if entries.len() >= MAX_VERIFIED_TOKENS {
                entries.clear();
            }
        }
        entries.insert(
            token.to_string(),
            Entry {
                verified: verified.clone(),
                standing: None,
            },
        );
    }

    /// Remembers the caller a token stood for, judged on an account read at `read_at`.
    pub(crate) fn stood(&self, token: &str, caller: &Caller, read_at: std::time::Instant, generation: u64) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = entries.get_mut(token) {
            e.standing = Some((read_at, generation, caller.clone()));
        }
    }
}
