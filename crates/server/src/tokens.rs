//! Access tokens: signing and checking (HS256 only), and the cache of checked ones.

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use passgenau_domain::ids::ProviderId;
use passgenau_domain::user::Role;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::identity::Caller;

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
    pub(crate) verified: std::sync::Arc<VerifiedTokens>,
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

/// Tokens whose signature was checked (with this instance's secret), until they expire: a
/// client sends the same token with every request, and checking the signature again each
/// time costs more than many a handler. Bounded; only valid tokens enter.
#[derive(Default)]
pub(crate) struct VerifiedTokens {
    entries: std::sync::Mutex<std::collections::HashMap<String, (Caller, i64)>>,
}

const MAX_VERIFIED_TOKENS: usize = 10_000;

impl VerifiedTokens {
    pub(crate) fn get(&self, token: &str) -> Option<Caller> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let (caller, exp) = entries.get(token)?;
        (chrono::Utc::now().timestamp() < *exp).then(|| caller.clone())
    }

    pub(crate) fn put(&self, token: &str, caller: &Caller, exp: i64) {
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
