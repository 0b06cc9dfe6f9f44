//! Whether a credential still stands: the one place that compares a request's token or
//! key with what the database says of its account.
//!
//! Revocation across instances (issue #17, `docs/identities.md`): every account has a
//! token version; a token carries the version it was issued under. Disabling, a role or
//! provider change and a password change or reset bump the version, which ends every
//! token of the account; a logout records the one token it ends. Each instance keeps what
//! it read of an account for [`FRESH_FOR`], so a change made on any instance holds on
//! every other one within that time, and a request costs one database read per account
//! and instance at most that often. The instance that made the change forgets its copy
//! at once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use passgenau_domain::ids::{ApiKeyId, UserId};
use passgenau_domain::user::{UserSource, UserStatus};
use passgenau_store::api_keys::{self, ApiKeyRecord};
use passgenau_store::audit::Action;
use passgenau_store::users::{self as repo, SessionFacts, UserRecord};
use passgenau_store::{Store, StoreError};

use crate::app::error::{AppError, AppResult};
use crate::identity::{Caller, Principal};
use crate::oidc::OidcIdentity;
use crate::tokens::Verified;

/// How long an instance trusts what it read of an account (under the one second the
/// contract allows, leaving room for the request that reads it).
pub const FRESH_FOR: Duration = Duration::from_millis(500);
/// What every API key starts with, so that a key is told from a token without a lookup.
pub const API_KEY_PREFIX: &str = "pgk_";
/// The name failed API-key attempts are recorded under (the login throttle's memory).
pub const API_KEY_ATTEMPT: &str = "(api key)";
/// Last use of a key is written at most this often.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

const ENDED: &str = "the token is no longer valid";

/// What was read of an account, and when (`None`: there is no such account).
pub type Read = (Instant, Option<Arc<SessionFacts>>);

/// An instance's recent reads of accounts and keys.
#[derive(Default)]
pub struct Sessions {
    users: RwLock<HashMap<UserId, Read>>,
    keys: RwLock<HashMap<String, (Instant, Arc<ApiKeyRecord>)>>,
    /// Single-sign-on subjects and the accounts recorded for them (never changes).
    subjects: RwLock<HashMap<String, UserId>>,
    key_touched: Mutex<HashMap<ApiKeyId, Instant>>,
    forgotten: AtomicU64,
}

const MAX_ENTRIES: usize = 10_000;

impl Sessions {
    /// What this instance read of an account less than [`FRESH_FOR`] ago (`Some(None)`:
    /// there is no such account).
    pub fn fresh_user(&self, id: UserId) -> Option<Option<Arc<SessionFacts>>> {
        self.fresh_user_read(id).map(|(_, facts)| facts)
    }

    /// [`Sessions::fresh_user`] with the instant it was read.
    pub fn fresh_user_read(&self, id: UserId) -> Option<Read> {
        let users = self.users.read().unwrap_or_else(|p| p.into_inner());
        let (at, facts) = users.get(&id)?;
        (at.elapsed() < FRESH_FOR).then(|| (*at, facts.clone()))
    }

    /// Counts what this instance forgot: a caller remembered under an older generation
    /// is judged again (`tokens::VerifiedTokens`).
    pub fn generation(&self) -> u64 {
        self.forgotten.load(Ordering::Acquire)
    }

    /// Reads an account for the session check and keeps it.
    pub fn load_user(&self, store: &Store, id: UserId) -> AppResult<Option<Arc<SessionFacts>>> {
        // fresh from before the read: a change committed during it is seen by the next
        let read_at = Instant::now();
        let facts = store.read(|conn| repo::session_facts(conn, id))?.map(Arc::new);
        let mut users = self.users.write().unwrap_or_else(|p| p.into_inner());
        if users.len() >= MAX_ENTRIES {
            users.retain(|_, (at, _)| at.elapsed() < FRESH_FOR);
        }
        users.insert(id, (read_at, facts.clone()));
        Ok(facts)
    }

    /// Forgets an account this instance changed, so its next request reads it again.
    pub fn forget_user(&self, id: UserId) {
        self.users.write().unwrap_or_else(|p| p.into_inner()).remove(&id);
        self.forgotten.fetch_add(1, Ordering::AcqRel);
    }

    pub fn fresh_key(&self, hash: &str) -> Option<Arc<ApiKeyRecord>> {
        let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
        let (at, key) = keys.get(hash)?;
        (at.elapsed() < FRESH_FOR).then(|| key.clone())
    }

    pub fn forget_key(&self, id: ApiKeyId) {
        self.keys
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, (_, k)| k.id != id);
    }

    pub fn subject(&self, subject: &str) -> Option<UserId> {
        self.subjects
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(subject)
            .copied()
    }
}

/// The caller a local token stands for, if the account still says so: it exists, is
/// active and local, has the token's role and provider, the token's version (or kept this
/// very token), and no logout ended the token.
pub fn token_standing(facts: Option<&SessionFacts>, token: &Verified) -> AppResult<Caller> {
    let facts = facts.ok_or(AppError::Unauthenticated(ENDED))?;
    let user = &facts.user;
    let version_holds =
        token.version == user.token_version || user.kept_token.as_deref() == Some(token.token_id.as_str());
    if user.status != UserStatus::Active
        || user.source != UserSource::Local
        || !version_holds
        || user.role != token.role
        || user.provider_id != token.provider_id
        || facts.revoked.contains(&token.token_id)
    {
        return Err(AppError::Unauthenticated(ENDED));
    }
    Ok(person(user, &token.token_id, token.expires_at))
}

/// The caller an account is, with the token it came with.
fn person(user: &UserRecord, token_id: &str, expires_at: i64) -> Caller {
    Caller {
        username: user.username.clone(),
        role: user.role,
        provider_id: user.provider_id,
        principal: Principal::User {
            id: user.id,
            token_id: token_id.to_string(),
            expires_at,
        },
    }
}

/// The caller a single-sign-on token stands for: its account is active and has the
/// token's role and provider (`Ok(None)`: the account's record must first take the
/// token's role or provider, see [`oidc_account`]).
pub fn oidc_standing(facts: Option<&SessionFacts>, identity: &OidcIdentity) -> AppResult<Option<Caller>> {
    let facts = facts.ok_or(AppError::Unauthenticated(ENDED))?;
    let user = &facts.user;
    if user.status != UserStatus::Active
        || user.source != UserSource::Oidc
        || facts.revoked.contains(&identity.token_id)
    {
        return Err(AppError::Unauthenticated(ENDED));
    }
    if user.role != identity.role || user.provider_id != identity.provider_id {
        return Ok(None);
    }
    Ok(Some(person(user, &identity.token_id, identity.expires_at)))
}

/// The account of a single-sign-on subject: recorded on first use (`source: "oidc"`),
/// and given the role and provider the issuer now says (the issuer decides them; an admin
/// can disable the account here). Both changes are audited.
pub fn oidc_account(store: &Store, sessions: &Sessions, identity: &OidcIdentity) -> AppResult<Caller> {
    let id = match sessions.subject(&identity.subject) {
        Some(id) => id,
        None => {
            let recorded = store.write(|conn| {
                if let Some(user) = repo::by_external_subject(conn, &identity.subject)? {
                    return Ok(user.id);
                }
                let mut user = UserRecord::new(
                    identity.username.clone(),
                    String::new(),
                    identity.role,
                    identity.provider_id,
                    UserSource::Oidc,
                );
                user.external_subject = Some(identity.subject.clone());
                user.last_login_at = Some(user.created_at);
                repo::insert(conn, &user).map_err(oidc_store_error)?;
                crate::app::audit::record_account(
                    conn,
                    &user.username,
                    identity.role,
                    Action::Create,
                    "single sign-on (first use)",
                    user.id.uuid(),
                    &["role", "provider_id"],
                )?;
                Ok::<_, AppError>(user.id)
            });
            let id = match recorded {
                Ok(id) => id,
                // a parallel first use recorded the subject meanwhile
                Err(e) => store
                    .read(|conn| repo::by_external_subject(conn, &identity.subject))?
                    .map(|u| u.id)
                    .ok_or(e)?,
            };
            sessions
                .subjects
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .insert(identity.subject.clone(), id);
            id
        }
    };
    let facts = sessions.load_user(store, id)?;
    if let Some(caller) = oidc_standing(facts.as_deref(), identity)? {
        return Ok(caller);
    }
    store.write(|conn| {
        let Some(mut user) = repo::for_change(conn, id)? else {
            return Err(AppError::Unauthenticated(ENDED));
        };
        user.role = identity.role;
        user.provider_id = identity.provider_id;
        repo::save(conn, &user).map_err(oidc_store_error)?;
        crate::app::audit::record_account(
            conn,
            &user.username,
            identity.role,
            Action::Update,
            "single sign-on (the issuer's role)",
            user.id.uuid(),
            &["role", "provider_id"],
        )?;
        Ok(())
    })?;
    let facts = sessions.load_user(store, id)?;
    oidc_standing(facts.as_deref(), identity)?.ok_or(AppError::Unauthenticated(ENDED))
}

fn oidc_store_error(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict { .. } => {
            AppError::Unauthenticated("the single-sign-on username is taken by a local account")
        }
        StoreError::Reference { .. } => AppError::Unauthenticated("the token names an unknown provider"),
        other => AppError::Store(other),
    }
}

/// The hex SHA-256 of an API key, as stored.
pub fn key_hash(key: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(key.as_bytes()))
}

/// The caller an API key stands for, if it is neither revoked nor past its last day.
pub fn key_standing(key: &ApiKeyRecord, today: chrono::NaiveDate) -> AppResult<Caller> {
    if key.revoked_at.is_some() || key.expires_on.is_some_and(|last| today > last) {
        return Err(AppError::Unauthenticated("the API key is revoked or expired"));
    }
    Ok(Caller {
        username: format!("api-key:{}", key.name),
        role: key.role,
        provider_id: key.provider_id,
        principal: Principal::ApiKey { id: key.id },
    })
}

/// Looks an API key up (a key this instance read recently is answered without this).
/// Unknown keys are counted like failed logins from `address`, and after as many as a
/// login may fail, that address is answered 429 before any lookup. A valid key is never
/// throttled: it is 256 random bits, so only a wrong key is worth stopping.
pub fn load_key(store: &Store, sessions: &Sessions, key: &str, address: &str) -> AppResult<Caller> {
    let hash = key_hash(key);
    let read_at = Instant::now();
    let found = store.read(|conn| api_keys::by_hash(conn, &hash))?;
    let Some(found) = found else {
        crate::app::attempts::begin_attempt(store, API_KEY_ATTEMPT, address, None, false)?;
        return Err(AppError::Unauthenticated("the API key is not valid"));
    };
    let found = Arc::new(found);
    let caller = key_standing(&found, crate::app::today())?;
    let due = {
        let mut touched = sessions.key_touched.lock().unwrap_or_else(|p| p.into_inner());
        let due = touched
            .get(&found.id)
            .is_none_or(|at| at.elapsed() >= TOUCH_EVERY);
        if due {
            touched.insert(found.id, Instant::now());
        }
        due
    };
    if due {
        let now = passgenau_store::records::now();
        store.write(|conn| api_keys::touch(conn, found.id, now))?;
    }
    let mut keys = sessions.keys.write().unwrap_or_else(|p| p.into_inner());
    if keys.len() >= MAX_ENTRIES {
        keys.retain(|_, (at, _)| at.elapsed() < FRESH_FOR);
    }
    keys.insert(hash, (read_at, found));
    Ok(caller)
}
