//! The login throttle: every attempt to prove who one is (a password at login or at a
//! password change, an API key) is recorded, and after too many failures, or too many
//! successes, refused for a while.

use passgenau_domain::ids::UserId;
use passgenau_store::users as repo;
use passgenau_store::Store;

use crate::app::error::{AppError, AppResult};

/// Failed logins are counted over this window (seconds).
pub const LOGIN_WINDOW_SECONDS: i64 = 15 * 60;
/// Guessing one account's password from one address stops after this many failures in
/// the window (per user *and* address, so nobody can lock a colleague out from elsewhere).
pub const MAX_FAILURES_PER_USER: i64 = 5;
/// One address trying many accounts stops after this many failures in the window. Set
/// high: a whole office may reach the server through one proxy address.
pub const MAX_FAILURES_PER_ADDRESS: i64 = 100;
/// Successful logins of one user from one address are counted over this window (seconds).
pub const SUCCESS_WINDOW_SECONDS: i64 = 60;
/// A client logs in once per working day; more than this many correct logins a minute is
/// a script, and each costs a password hash (`passwords`).
pub const MAX_LOGINS_PER_USER_PER_MINUTE: i64 = 10;

/// Records an attempt of `username` (lower-cased) from `address` as failed, before any
/// password is checked, and then counts: [`AppError::Throttled`] when it failed too often
/// since the window began or since an admin lifted the lockout (or, with
/// `limit_successes`, when it succeeded too often). Attempts of one username serialise,
/// so parallel guesses count each other. A refused attempt is not recorded (its
/// transaction is rolled back). Answers the attempt's ID, for [`attempt_succeeded`].
pub fn begin_attempt(
    store: &Store,
    username: &str,
    address: &str,
    lifted_at: Option<chrono::DateTime<chrono::Utc>>,
    limit_successes: bool,
) -> AppResult<String> {
    let now = passgenau_store::records::now();
    let since = now - chrono::Duration::seconds(LOGIN_WINDOW_SECONDS);
    let user_since = lifted_at.map_or(since, |l| l.max(since));
    store.write(|conn| {
        repo::lock_logins(conn, username)?;
        let id = repo::record_attempt(conn, username, address, false)?;
        // this attempt is among those counted
        let (by_user, by_address) = repo::recent_failures(conn, username, address, user_since, since)?;
        if by_user > MAX_FAILURES_PER_USER || by_address > MAX_FAILURES_PER_ADDRESS {
            return Err(AppError::Throttled {
                retry_after_seconds: LOGIN_WINDOW_SECONDS,
            });
        }
        if limit_successes {
            let recent = now - chrono::Duration::seconds(SUCCESS_WINDOW_SECONDS);
            if repo::recent_successes(conn, username, address, recent)? >= MAX_LOGINS_PER_USER_PER_MINUTE {
                return Err(AppError::Throttled {
                    retry_after_seconds: SUCCESS_WINDOW_SECONDS,
                });
            }
        }
        Ok(id)
    })
}

/// Marks an attempt of [`begin_attempt`] successful, and the account's last login.
pub fn attempt_succeeded(store: &Store, attempt_id: &str, user: Option<UserId>) -> AppResult<()> {
    let now = passgenau_store::records::now();
    store.write(|conn| {
        repo::mark_success(conn, attempt_id)?;
        if let Some(id) = user {
            repo::touch_user(conn, id, now)?;
        }
        Ok(())
    })
}
