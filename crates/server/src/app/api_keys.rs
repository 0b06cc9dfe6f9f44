//! API keys of partner systems (role `provider`, bound to one provider) and reporting
//! jobs (role `reporting`): made by an admin, shown once, kept as a hash, revoked at once.

use passgenau_domain::ids::{ApiKeyId, ProviderId};
use passgenau_domain::user::{role_provider_problem, Role};
use passgenau_domain::FieldError;
use passgenau_store::api_keys::{self as repo, ApiKeyRecord};
use passgenau_store::audit::Action;
use passgenau_store::{providers, Page, PageOf, Store};
use rand::RngCore;

use crate::app::audit::record_account;
use crate::app::error::{check_fields, AppError, AppResult};
use crate::app::sessions::{key_hash, Sessions, API_KEY_PREFIX};
use crate::identity::Caller;

/// What a new key is made of.
pub struct NewKey {
    pub name: String,
    pub role: Role,
    pub provider_id: Option<ProviderId>,
    pub expires_on: Option<chrono::NaiveDate>,
}

/// A key name: 1–100 printable characters, not only blanks.
fn name_problem(name: &str) -> Option<&'static str> {
    let n = name.chars().count();
    if !(1..=100).contains(&n) || name.trim().is_empty() || name.chars().any(char::is_control) {
        Some("1–100 printable characters")
    } else {
        None
    }
}

/// Makes a key; the record and the key itself, which is not kept and is shown this once.
pub fn create(store: &Store, caller: &Caller, new: NewKey) -> AppResult<(ApiKeyRecord, String)> {
    let mut errors = Vec::new();
    if let Some(p) = name_problem(&new.name) {
        errors.push(FieldError::new("name", p));
    }
    if !matches!(new.role, Role::Provider | Role::Reporting) {
        errors.push(FieldError::new(
            "role",
            "an API key acts as provider or reporting; people log in",
        ));
    } else if let Some(p) = role_provider_problem(new.role, new.provider_id.is_some()) {
        errors.push(FieldError::new("provider_id", p));
    }
    if new.expires_on.is_some_and(|d| d < crate::app::today()) {
        errors.push(FieldError::new("expires_on", "must not be in the past"));
    }
    check_fields(errors)?;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let key = format!("{API_KEY_PREFIX}{}", hex::encode(bytes));
    let record = ApiKeyRecord {
        id: ApiKeyId::new(),
        name: new.name,
        role: new.role,
        provider_id: new.provider_id,
        key_hash: key_hash(&key),
        expires_on: new.expires_on,
        created_at: passgenau_store::records::now(),
        created_by: caller.username.clone(),
        last_used_at: None,
        revoked_at: None,
    };
    store.write(|conn| {
        if let Some(pid) = record.provider_id {
            if !providers::exists(conn, pid)? {
                return Err(AppError::invalid("provider_id", "unknown provider"));
            }
        }
        repo::insert(conn, &record)?;
        record_account(
            conn,
            &caller.username,
            caller.role,
            Action::Create,
            "POST /api/v1/api-keys",
            record.id.uuid(),
            &["name", "role", "provider_id", "expires_on"],
        )?;
        Ok(())
    })?;
    Ok((record, key))
}

/// Keys not revoked (admin).
pub fn list(store: &Store, page: &Page) -> AppResult<PageOf<ApiKeyRecord>> {
    Ok(store.read(|conn| repo::list(conn, page))?)
}

/// Revokes a key: this instance refuses it at once, every other within a second.
pub fn revoke(store: &Store, sessions: &Sessions, caller: &Caller, id: ApiKeyId) -> AppResult<()> {
    let now = passgenau_store::records::now();
    store.write(|conn| {
        if !repo::revoke(conn, id, now)? {
            return Err(AppError::NotFound("API key"));
        }
        record_account(
            conn,
            &caller.username,
            caller.role,
            Action::Delete,
            "DELETE /api/v1/api-keys/{id}",
            id.uuid(),
            &[],
        )?;
        Ok(())
    })?;
    sessions.forget_key(id);
    Ok(())
}
