//! Single sign-on: access tokens of one configured OpenID Connect issuer (RS256 or
//! ES256), checked against the issuer's key set (a file, or a URL fetched again when a
//! token names a key it does not have, at most once a minute).
//!
//! Checked: the signature with a key of the set, `alg` (only RS256/ES256, and the key's
//! own algorithm where it names one), `iss`, `aud`, `exp` and `nbf` with a bounded clock
//! skew, `iat` not in the future. The role and provider come from configured claims; the
//! account is recorded on first use (`app::sessions`).

use std::sync::RwLock;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use passgenau_domain::ids::ProviderId;
use passgenau_domain::user::{valid_username, Role};
use serde_json::{Map, Value};

pub use crate::tokens::MAX_LEEWAY_SECONDS;

/// What start-up says when the settings or the key set do not work.
type SetupResult<T> = Result<T, String>;
/// A key set from a URL is fetched again at most this often.
const REFETCH_AFTER: Duration = Duration::from_secs(60);

/// The issuer's settings (`PASSGENAU_OIDC_*`).
#[derive(Debug, Clone)]
pub struct OidcSettings {
    pub issuer: String,
    pub audience: String,
    /// A file path, or an `http(s)://` URL.
    pub jwks: String,
    pub role_claim: String,
    pub provider_claim: String,
    pub username_claim: String,
    pub leeway_seconds: u64,
}

impl OidcSettings {
    /// The settings from the environment; `None` without `PASSGENAU_OIDC_ISSUER`.
    pub fn from_env() -> SetupResult<Option<OidcSettings>> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let Some(issuer) = var("PASSGENAU_OIDC_ISSUER") else {
            return Ok(None);
        };
        let audience = var("PASSGENAU_OIDC_AUDIENCE")
            .ok_or("PASSGENAU_OIDC_ISSUER is set: PASSGENAU_OIDC_AUDIENCE is required too")?;
        let jwks = var("PASSGENAU_OIDC_JWKS")
            .ok_or("PASSGENAU_OIDC_ISSUER is set: PASSGENAU_OIDC_JWKS (a file or URL) is required too")?;
        let leeway_seconds = match var("PASSGENAU_OIDC_LEEWAY_SECONDS") {
            None => 60,
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|s| *s <= MAX_LEEWAY_SECONDS)
                .ok_or(format!(
                    "PASSGENAU_OIDC_LEEWAY_SECONDS: 0 to {MAX_LEEWAY_SECONDS}"
                ))?,
        };
        Ok(Some(OidcSettings {
            issuer,
            audience,
            jwks,
            role_claim: var("PASSGENAU_OIDC_ROLE_CLAIM").unwrap_or_else(|| "roles".into()),
            provider_claim: var("PASSGENAU_OIDC_PROVIDER_CLAIM").unwrap_or_else(|| "provider_id".into()),
            username_claim: var("PASSGENAU_OIDC_USERNAME_CLAIM")
                .unwrap_or_else(|| "preferred_username".into()),
            leeway_seconds,
        }))
    }
}

/// Who a checked single-sign-on token says the caller is.
#[derive(Debug, Clone)]
pub struct OidcIdentity {
    /// The issuer's `sub`.
    pub subject: String,
    /// The username the account gets on first use.
    pub username: String,
    pub role: Role,
    pub provider_id: Option<ProviderId>,
    /// `jti`, or a hash of the token when it has none: what a logout ends.
    pub token_id: String,
    pub expires_at: i64,
}

/// Checking the issuer's tokens.
pub struct Oidc {
    settings: OidcSettings,
    keys: RwLock<(JwkSet, Option<Instant>)>,
    /// Most a token may live from its `iat` (the configured token lifetime).
    max_lifetime_seconds: i64,
    /// Tokens checked already, until they expire (as `tokens::VerifiedTokens`).
    verified: std::sync::Mutex<std::collections::HashMap<String, OidcIdentity>>,
}

const MAX_VERIFIED: usize = 10_000;

impl Oidc {
    /// Loads the key set once; start-up fails when it cannot be read.
    pub fn new(settings: OidcSettings, max_lifetime_seconds: i64) -> SetupResult<Oidc> {
        let keys = fetch(&settings.jwks)?;
        Ok(Oidc {
            settings,
            keys: RwLock::new((keys, Some(Instant::now()))),
            max_lifetime_seconds,
            verified: Default::default(),
        })
    }

    /// A token checked before that has not expired.
    pub fn checked(&self, token: &str) -> Option<OidcIdentity> {
        let verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        let id = verified.get(token)?;
        (chrono::Utc::now().timestamp() < id.expires_at).then(|| id.clone())
    }

    /// [`Oidc::verify`], remembering a valid token.
    pub fn check(&self, token: &str) -> Result<OidcIdentity, &'static str> {
        if let Some(id) = self.checked(token) {
            return Ok(id);
        }
        let id = self.verify(token)?;
        let mut verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        if verified.len() >= MAX_VERIFIED {
            let now = chrono::Utc::now().timestamp();
            verified.retain(|_, v| v.expires_at > now);
            if verified.len() >= MAX_VERIFIED {
                verified.clear();
            }
        }
        verified.insert(token.to_string(), id.clone());
        Ok(id)
    }

    /// Whether a token's header names one of the issuer's algorithms (else it is ours or
    /// nobody's).
    pub fn claims_algorithm(token: &str) -> bool {
        matches!(
            decode_header(token).map(|h| h.alg),
            Ok(Algorithm::RS256 | Algorithm::ES256)
        )
    }

    /// Checks a token; the error is what the 401 says.
    pub fn verify(&self, token: &str) -> Result<OidcIdentity, &'static str> {
        let header = decode_header(token).map_err(|_| "the token is not valid")?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err("the token is not valid");
        }
        let key = self.key(header.kid.as_deref(), header.alg)?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_audience(&[&self.settings.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub", "iat"]);
        validation.validate_nbf = true;
        validation.leeway = self.settings.leeway_seconds;
        let claims = decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => "the token has expired",
                _ => "the token is not valid",
            })?
            .claims;
        let now = chrono::Utc::now().timestamp();
        let leeway = self.settings.leeway_seconds as i64;
        let exp = claims
            .get("exp")
            .and_then(Value::as_i64)
            .ok_or("the token is not valid")?;
        // `iat` is required: without it a lifetime could not be capped
        let iat = claims
            .get("iat")
            .and_then(Value::as_i64)
            .ok_or("the token has no iat")?;
        if iat > now + leeway {
            return Err("the token is not valid yet");
        }
        let expires_at = exp.min(iat.saturating_add(self.max_lifetime_seconds));
        if now >= expires_at + leeway {
            return Err("the token has expired");
        }
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty() && s.len() <= 255)
            .ok_or("the token has no subject")?
            .to_string();
        let role = self.role(&claims)?;
        let provider_id = match claims.get(&self.settings.provider_claim) {
            Some(Value::String(p)) if role == Role::Provider => Some(
                p.parse::<ProviderId>()
                    .map_err(|_| "the token's provider is not an ID")?,
            ),
            _ if role == Role::Provider => return Err("the token names no provider"),
            _ => None,
        };
        let username = claims
            .get(&self.settings.username_claim)
            .and_then(Value::as_str)
            .filter(|u| valid_username(u))
            .map(str::to_string)
            .unwrap_or_else(|| fallback_username(&subject));
        let token_id = match claims.get("jti").and_then(Value::as_str) {
            Some(j) if !j.is_empty() && j.len() <= 255 => format!("oidc:{j}"),
            _ => {
                use sha2::Digest;
                format!(
                    "oidc-sha256:{}",
                    hex::encode(sha2::Sha256::digest(token.as_bytes()))
                )
            }
        };
        Ok(OidcIdentity {
            subject,
            username,
            role,
            provider_id,
            token_id,
            expires_at,
        })
    }

    /// The one role of this service the role claim names (a string or a list).
    fn role(&self, claims: &Map<String, Value>) -> Result<Role, &'static str> {
        let names: Vec<&str> = match claims.get(&self.settings.role_claim) {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let mut roles: Vec<Role> = names.into_iter().filter_map(Role::parse).collect();
        roles.sort_by_key(|r| r.as_str());
        roles.dedup();
        match roles.as_slice() {
            [one] => Ok(*one),
            [] => Err("the token names no role of this service"),
            _ => Err("the token names more than one role of this service"),
        }
    }

    /// The key for `kid` (or the only key, when the token names none), fetching the set
    /// again once if a URL's set lacks it.
    fn key(&self, kid: Option<&str>, alg: Algorithm) -> Result<DecodingKey, &'static str> {
        if let Some(key) = self.find(kid, alg) {
            return key;
        }
        if is_url(&self.settings.jwks).unwrap_or(false) {
            let due = {
                let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
                keys.1.is_none_or(|at| at.elapsed() >= REFETCH_AFTER)
            };
            // claimed under the lock, fetched without it: other checks go on meanwhile
            let claimed = due && {
                let mut keys = self.keys.write().unwrap_or_else(|p| p.into_inner());
                let still_due = keys.1.is_none_or(|at| at.elapsed() >= REFETCH_AFTER);
                if still_due {
                    keys.1 = Some(Instant::now());
                }
                still_due
            };
            if claimed {
                match fetch(&self.settings.jwks) {
                    Ok(set) => self.keys.write().unwrap_or_else(|p| p.into_inner()).0 = set,
                    Err(e) => tracing::warn!(error = %e, "fetching the single-sign-on key set failed"),
                }
            }
            if let Some(key) = self.find(kid, alg) {
                return key;
            }
        }
        Err("the token is signed by an unknown key")
    }

    fn find(&self, kid: Option<&str>, alg: Algorithm) -> Option<Result<DecodingKey, &'static str>> {
        let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
        let jwk = match kid {
            Some(kid) => keys.0.find(kid)?,
            None if keys.0.keys.len() == 1 => &keys.0.keys[0],
            None => return None,
        };
        // a key that names its algorithm is used with that one only
        if let Some(named) = jwk.common.key_algorithm {
            if format!("{named:?}") != format!("{alg:?}") {
                return Some(Err("the token's algorithm is not its key's"));
            }
        }
        Some(DecodingKey::from_jwk(jwk).map_err(|_| "the token is signed by an unusable key"))
    }
}

/// `oidc-` and the subject's letters and digits, when the token has no usable username.
fn fallback_username(subject: &str) -> String {
    let clean: String = subject
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
        .take(59)
        .collect();
    format!("oidc-{clean}")
}

/// Whether `source` is a URL this service fetches keys from: `https://`, or `http://` to
/// this host only (a key set over plain HTTP could be swapped in transit).
fn is_url(source: &str) -> SetupResult<bool> {
    if source.starts_with("https://") {
        return Ok(true);
    }
    if let Some(rest) = source.strip_prefix("http://") {
        let host = rest.split(['/', '?']).next().unwrap_or("");
        let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
        if matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
            return Ok(true);
        }
        return Err(format!(
            "PASSGENAU_OIDC_JWKS {source}: keys are fetched over https only"
        ));
    }
    Ok(false)
}

/// Reads a key set from a file or a URL.
fn fetch(source: &str) -> SetupResult<JwkSet> {
    let text = if is_url(source)? {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(5)))
            .build()
            .into();
        agent
            .get(source)
            .call()
            .map_err(|e| format!("PASSGENAU_OIDC_JWKS {source}: {e}"))?
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_string()
            .map_err(|e| format!("PASSGENAU_OIDC_JWKS {source}: {e}"))?
    } else {
        std::fs::read_to_string(source).map_err(|e| format!("PASSGENAU_OIDC_JWKS {source}: {e}"))?
    };
    let set: JwkSet = serde_json::from_str(&text)
        .map_err(|e| format!("PASSGENAU_OIDC_JWKS {source}: not a key set: {e}"))?;
    if set.keys.is_empty() {
        return Err(format!("PASSGENAU_OIDC_JWKS {source}: the key set has no keys"));
    }
    Ok(set)
}
