//! Logins and user accounts.

use passgenau_domain::ids::ProviderId;
use passgenau_domain::user::{valid_username, Role, MAX_PASSWORD_LEN};
use passgenau_domain::FieldError;
use passgenau_store::users::{self as repo, UserRecord};
use passgenau_store::{providers, Store};

use crate::app::error::{check_fields, AppError, AppResult};
use crate::passwords::{hash_password, verify_password};

/// Failed logins are counted over this window (seconds).
pub const LOGIN_WINDOW_SECONDS: i64 = 15 * 60;
/// Guessing one account's password from one address stops after this many failures in
/// the window (per user *and* address, so nobody can lock a colleague out from elsewhere).
pub const MAX_FAILURES_PER_USER: i64 = 5;
/// One address trying many accounts stops after this many failures in the window. Set
/// high: a whole office may reach the server through one proxy address.
pub const MAX_FAILURES_PER_ADDRESS: i64 = 100;

/// The user whose password this is, or `None`; every attempt is recorded, and attempts
/// stop for a while after too many failures ([`AppError::Throttled`]). The password is
/// checked even for an unknown user, so both answers take as long.
pub fn login(store: &Store, username: &str, password: &str, address: &str) -> AppResult<Option<UserRecord>> {
    let since = passgenau_store::records::now() - chrono::Duration::seconds(LOGIN_WINDOW_SECONDS);
    let (by_user, by_address) = store.read(|conn| repo::recent_failures(conn, username, address, since))?;
    if by_user >= MAX_FAILURES_PER_USER || by_address >= MAX_FAILURES_PER_ADDRESS {
        return Err(AppError::Throttled {
            retry_after_seconds: LOGIN_WINDOW_SECONDS,
        });
    }
    let user = if password.len() > MAX_PASSWORD_LEN {
        None
    } else {
        store.read(|conn| repo::by_username(conn, username))?
    };
    let ok = verify_password(password, user.as_ref().map(|u| u.password_hash.as_str()));
    store.write(|conn| repo::record_attempt(conn, username, address, ok))?;
    Ok(user.filter(|_| ok))
}

/// The password rule of every account (`passgenau_domain::user::password_problem`).
fn password_errors(password: &str, username: &str) -> Vec<FieldError> {
    passgenau_domain::user::password_problem(password, username)
        .map(|message| FieldError::new("password", message))
        .into_iter()
        .collect()
}

/// Sets a user's password (`passgenau user reset-password`).
pub fn reset_password(store: &Store, username: &str, password: &str) -> AppResult<()> {
    check_fields(password_errors(password, username))?;
    let hash = hash_password(password).map_err(|_| AppError::Internal("password hashing"))?;
    store.write(|conn| {
        if repo::set_password(conn, username, &hash)? {
            Ok(())
        } else {
            Err(AppError::NotFound("user"))
        }
    })
}

/// Creates a user after checking every field; the API and `passgenau user add` alike.
pub fn add(
    store: &Store,
    username: &str,
    password: &str,
    role: Role,
    provider_id: Option<ProviderId>,
) -> AppResult<UserRecord> {
    let mut errors = Vec::new();
    if !valid_username(username) {
        errors.push(FieldError::new(
            "username",
            "3–64 characters: letters, digits, '.', '_', '-', '@'",
        ));
    }
    errors.extend(password_errors(password, username));
    match (role, provider_id) {
        (Role::Provider, None) => {
            errors.push(FieldError::new("provider_id", "required for the role provider"))
        }
        (r, Some(_)) if r != Role::Provider => {
            errors.push(FieldError::new("provider_id", "only the role provider has one"))
        }
        _ => {}
    }
    check_fields(errors)?;
    let hash = hash_password(password).map_err(|_| AppError::Internal("password hashing"))?;
    store.write(|conn| {
        if let Some(pid) = provider_id {
            if !providers::exists(conn, pid)? {
                return Err(AppError::invalid("provider_id", "unknown provider"));
            }
        }
        let user = UserRecord {
            id: passgenau_domain::ids::new_id(),
            username: username.to_string(),
            password_hash: hash,
            role,
            provider_id,
            created_at: passgenau_store::records::now(),
        };
        repo::insert(conn, &user)?;
        Ok(user)
    })
}
