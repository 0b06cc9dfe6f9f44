//! Logins and user accounts: their life from creation to disabling, and the login
//! throttle. Every change is audited (who did what to which account, and the names of the
//! fields, never a password or token) and ends the tokens it must (`app::sessions`).

use passgenau_domain::ids::{ProviderId, UserId};
use passgenau_domain::user::{
    role_provider_problem, valid_username, Role, UserSource, UserStatus, MAX_PASSWORD_LEN,
};
use passgenau_domain::FieldError;
use passgenau_store::audit::Action;
use passgenau_store::users::{self as repo, UserFilter, UserRecord};
use passgenau_store::{providers, Page, PageOf, Store};
use serde::{Deserialize, Serialize};

use crate::app::attempts::{attempt_succeeded, begin_attempt};
use crate::app::audit::record_account;
use crate::app::error::{check_fields, AppError, AppResult};
use crate::app::sessions::Sessions;
use crate::identity::{Caller, Principal};
use crate::passwords::{hash_password, verify_password};
use crate::patch::MergePatch;

/// The role, provider and status of an account: what an admin may change.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountData {
    pub role: Role,
    /// Required for, and only for, the role `provider`.
    pub provider_id: Option<ProviderId>,
    pub status: UserStatus,
}

/// The user whose password this is, or `None`; every attempt is recorded, and attempts
/// stop for a while after too many failures, or too many successes
/// ([`AppError::Throttled`]). The password is checked even for an unknown or disabled
/// user, so every wrong answer takes as long and says the same. With `local_login` off,
/// only single sign-on signs in.
pub fn login(
    store: &Store,
    username: &str,
    password: &str,
    address: &str,
    local_login: bool,
) -> AppResult<Option<UserRecord>> {
    if !local_login {
        return Err(AppError::Forbidden(
            "logins with a password are turned off here: sign in through single sign-on".into(),
        ));
    }
    let key = username.to_ascii_lowercase();
    let user = store.read(|conn| repo::by_username(conn, username))?;
    let attempt = begin_attempt(
        store,
        &key,
        address,
        user.as_ref().and_then(|u| u.lockout_lifted_at),
        true,
    )?;
    let stored = user
        .as_ref()
        .filter(|_| password.len() <= MAX_PASSWORD_LEN)
        .filter(|u| u.source == UserSource::Local)
        .map(|u| u.password_hash.as_str());
    let ok =
        verify_password(password, stored) && user.as_ref().is_some_and(|u| u.status == UserStatus::Active);
    if ok {
        attempt_succeeded(store, &attempt, user.as_ref().map(|u| u.id))?;
    }
    Ok(user.filter(|_| ok))
}

/// The password rule of every account (`passgenau_domain::user::password_problem`).
fn password_errors(field: &str, password: &str, username: &str) -> Vec<FieldError> {
    passgenau_domain::user::password_problem(password, username)
        .map(|message| FieldError::new(field, message))
        .into_iter()
        .collect()
}

fn hashed(password: &str) -> AppResult<String> {
    hash_password(password).map_err(|_| AppError::Internal("password hashing"))
}

/// Ends every token of an account (bumps its version) but `kept`.
fn end_tokens(user: &mut UserRecord, kept: Option<String>) {
    user.token_version += 1;
    user.kept_token = kept;
}

/// Sets a user's password (`passgenau user reset-password`): ends their tokens and lifts
/// their lockout; audited as the command line.
pub fn reset_password(store: &Store, username: &str, password: &str) -> AppResult<()> {
    check_fields(password_errors("password", password, username))?;
    let hash = hashed(password)?;
    store.write(|conn| {
        let found = repo::by_username(conn, username)?.ok_or(AppError::NotFound("user"))?;
        let mut user = repo::for_change(conn, found.id)?.ok_or(AppError::NotFound("user"))?;
        user.password_hash = hash;
        user.source = UserSource::Local;
        user.lockout_lifted_at = Some(passgenau_store::records::now());
        end_tokens(&mut user, None);
        repo::save(conn, &user)?;
        record_account(
            conn,
            "passgenau user reset-password",
            Role::Admin,
            Action::Update,
            "command line",
            user.id.uuid(),
            &["password"],
        )?;
        Ok(())
    })
}

/// Creates a user after checking every field; the API (audited as `caller`) and
/// `passgenau user add` (audited as the command line) alike.
pub fn add(
    store: &Store,
    caller: Option<&Caller>,
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
    errors.extend(password_errors("password", password, username));
    if let Some(problem) = role_provider_problem(role, provider_id.is_some()) {
        errors.push(FieldError::new("provider_id", problem));
    }
    check_fields(errors)?;
    let hash = hashed(password)?;
    store.write(|conn| {
        if let Some(pid) = provider_id {
            if !providers::exists(conn, pid)? {
                return Err(AppError::invalid("provider_id", "unknown provider"));
            }
        }
        let user = UserRecord::new(username.to_string(), hash, role, provider_id, UserSource::Local);
        repo::insert(conn, &user)?;
        let (actor, actor_role, route) = match caller {
            Some(c) => (c.username.as_str(), c.role, "POST /api/v1/users"),
            None => ("passgenau user add", Role::Admin, "command line"),
        };
        record_account(
            conn,
            actor,
            actor_role,
            Action::Create,
            route,
            user.id.uuid(),
            &["username", "password", "role", "provider_id"],
        )?;
        Ok(user)
    })
}

/// A page of accounts (admin).
pub fn list(store: &Store, filter: &UserFilter, page: &Page) -> AppResult<PageOf<UserRecord>> {
    Ok(store.read(|conn| repo::list(conn, filter, page))?)
}

/// One account (admin).
pub fn get(store: &Store, id: UserId) -> AppResult<UserRecord> {
    store
        .read(|conn| repo::by_id(conn, id))?
        .ok_or(AppError::NotFound("user"))
}

/// Changes an account's role, provider or status (admin). A change of any of them ends
/// the account's tokens on every instance (`app::sessions`). An admin cannot disable or
/// demote their own account, and the last active admin stays one, so that somebody can
/// always manage accounts. A single-sign-on account's role and provider come from the
/// issuer; only its status is changed here.
pub fn update(
    store: &Store,
    sessions: &Sessions,
    caller: &Caller,
    id: UserId,
    patch: MergePatch<AccountData>,
) -> AppResult<UserRecord> {
    let user = store.write(|conn| {
        // the admins' rows first, always in one order: see `repo::lock_admins`
        repo::lock_admins(conn)?;
        let mut user = repo::for_change(conn, id)?.ok_or(AppError::NotFound("user"))?;
        let current = AccountData {
            role: user.role,
            provider_id: user.provider_id,
            status: user.status,
        };
        let next = patch.apply(&current)?;
        let mut changed = Vec::new();
        if next.role != current.role {
            changed.push("role");
        }
        if next.provider_id != current.provider_id {
            changed.push("provider_id");
        }
        if next.status != current.status {
            changed.push("status");
        }
        if changed.is_empty() {
            return Ok(user);
        }
        if user.source == UserSource::Oidc && (changed.contains(&"role") || changed.contains(&"provider_id"))
        {
            return Err(AppError::invalid(
                changed[0],
                "a single-sign-on account's role and provider are set by the identity provider",
            ));
        }
        if let Some(problem) = role_provider_problem(next.role, next.provider_id.is_some()) {
            return Err(AppError::invalid("provider_id", problem));
        }
        if let Some(pid) = next.provider_id.filter(|p| Some(*p) != current.provider_id) {
            if !providers::exists(conn, pid)? {
                return Err(AppError::invalid("provider_id", "unknown provider"));
            }
        }
        let stays_admin = next.role == Role::Admin && next.status == UserStatus::Active;
        let is_admin = current.role == Role::Admin && current.status == UserStatus::Active;
        if is_admin && !stays_admin {
            if matches!(caller.principal, Principal::User { id: me, .. } if me == id) {
                return Err(AppError::conflict(
                    "own_account",
                    "you cannot disable or demote your own account: ask another admin",
                ));
            }
            if repo::other_active_admins(conn, id)? == 0 {
                return Err(AppError::conflict(
                    "last_admin",
                    "this is the last active admin: make another admin first",
                ));
            }
        }
        user.role = next.role;
        user.provider_id = next.provider_id;
        user.status = next.status;
        end_tokens(&mut user, None);
        repo::save(conn, &user)?;
        record_account(
            conn,
            &caller.username,
            caller.role,
            Action::Update,
            "PATCH /api/v1/users/{id}",
            id.uuid(),
            &changed,
        )?;
        Ok(user)
    })?;
    sessions.forget_user(id);
    Ok(user)
}

/// Sets another account's password (admin): ends its tokens and lifts its lockout.
pub fn set_password(
    store: &Store,
    sessions: &Sessions,
    caller: &Caller,
    id: UserId,
    new_password: &str,
) -> AppResult<()> {
    let user = get(store, id)?;
    if user.source != UserSource::Local {
        return Err(AppError::conflict(
            "external_identity",
            "a single-sign-on account has no password here",
        ));
    }
    check_fields(password_errors("new_password", new_password, &user.username))?;
    let hash = hashed(new_password)?;
    store.write(|conn| {
        let mut user = repo::for_change(conn, id)?.ok_or(AppError::NotFound("user"))?;
        user.password_hash = hash;
        user.lockout_lifted_at = Some(passgenau_store::records::now());
        end_tokens(&mut user, None);
        repo::save(conn, &user)?;
        record_account(
            conn,
            &caller.username,
            caller.role,
            Action::Update,
            "POST /api/v1/users/{id}/password",
            id.uuid(),
            &["password"],
        )?;
        Ok::<_, AppError>(())
    })?;
    sessions.forget_user(id);
    Ok(())
}

/// Changes the caller's own password, proven by the current one: the token it is done
/// with keeps working, the account's other tokens end. A wrong current password counts
/// as a failed login from `address` (and is throttled alike).
pub fn change_own_password(
    store: &Store,
    sessions: &Sessions,
    caller: &Caller,
    current_password: &str,
    new_password: &str,
    address: &str,
) -> AppResult<()> {
    let Principal::User { id, ref token_id, .. } = caller.principal else {
        return Err(AppError::Forbidden("an API key has no password".into()));
    };
    let user = get(store, id)?;
    if user.source != UserSource::Local {
        return Err(AppError::conflict(
            "external_identity",
            "a single-sign-on account's password is kept by the identity provider",
        ));
    }
    let key = user.username.to_ascii_lowercase();
    let attempt = begin_attempt(store, &key, address, user.lockout_lifted_at, false)?;
    let ok = current_password.len() <= MAX_PASSWORD_LEN
        && verify_password(current_password, Some(&user.password_hash));
    if !ok {
        return Err(AppError::WrongPassword);
    }
    attempt_succeeded(store, &attempt, None)?;
    check_fields(password_errors("new_password", new_password, &user.username))?;
    let hash = hashed(new_password)?;
    let kept = token_id.clone();
    store.write(|conn| {
        let mut user = repo::for_change(conn, id)?.ok_or(AppError::NotFound("user"))?;
        user.password_hash = hash;
        end_tokens(&mut user, Some(kept));
        repo::save(conn, &user)?;
        record_account(
            conn,
            &caller.username,
            caller.role,
            Action::Update,
            "POST /api/v1/me/password",
            id.uuid(),
            &["password"],
        )?;
        Ok::<_, AppError>(())
    })?;
    sessions.forget_user(id);
    Ok(())
}

/// Ends the token the caller presented.
pub fn logout(store: &Store, sessions: &Sessions, caller: &Caller) -> AppResult<()> {
    let Principal::User {
        id,
        ref token_id,
        expires_at,
    } = caller.principal
    else {
        return Err(AppError::Forbidden(
            "an API key is ended by an admin: DELETE /api/v1/api-keys/{id}".into(),
        ));
    };
    // kept past the token's end by the largest clock skew any check allows
    let until = expires_at.saturating_add(crate::tokens::MAX_LEEWAY_SECONDS as i64);
    let until = chrono::DateTime::from_timestamp(until, 0).unwrap_or_else(chrono::Utc::now);
    store.write(|conn| repo::revoke_token(conn, token_id, id, until))?;
    sessions.forget_user(id);
    Ok(())
}

/// Lifts an account's lockout after failed logins (admin): earlier failures no longer
/// count against it.
pub fn lift_lockout(store: &Store, caller: &Caller, id: UserId) -> AppResult<()> {
    store.write(|conn| {
        let mut user = repo::for_change(conn, id)?.ok_or(AppError::NotFound("user"))?;
        user.lockout_lifted_at = Some(passgenau_store::records::now());
        repo::save(conn, &user)?;
        record_account(
            conn,
            &caller.username,
            caller.role,
            Action::Delete,
            "DELETE /api/v1/users/{id}/lockout",
            id.uuid(),
            &["lockout"],
        )?;
        Ok(())
    })
}
