//! User accounts. Passwords are stored only as argon2id hashes (made by the caller).

use diesel::prelude::*;
use passgenau_domain::ids::{ProviderId, UserId};
use passgenau_domain::user::{Role, UserSource, UserStatus};
use uuid::Uuid;

use crate::codec::{id_from_str, opt_id};
use crate::connection::DbConnection;
use crate::error::{StoreError, StoreResult};
use crate::records::{from_db_time, to_db_time, Page, PageOf};
use crate::schema::users;

#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: UserId,
    pub username: String,
    /// An argon2id PHC string; empty for single-sign-on users (no local password).
    pub password_hash: String,
    pub role: Role,
    pub provider_id: Option<ProviderId>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub status: UserStatus,
    pub source: UserSource,
    /// Tokens carry the version they were issued under; a bump ends them all.
    pub token_version: i64,
    /// The one token of an older version that still counts: the one a user's own password
    /// change was made with.
    pub kept_token: Option<String>,
    /// The issuer's `sub` of a single-sign-on user.
    pub external_subject: Option<String>,
    pub last_login_at: Option<chrono::DateTime<chrono::Utc>>,
    pub lockout_lifted_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl UserRecord {
    /// A new active account of `source` with token version 0.
    pub fn new(
        username: String,
        password_hash: String,
        role: Role,
        provider_id: Option<ProviderId>,
        source: UserSource,
    ) -> Self {
        UserRecord {
            id: passgenau_domain::ids::new_id(),
            username,
            password_hash,
            role,
            provider_id,
            created_at: crate::records::now(),
            status: UserStatus::Active,
            source,
            token_version: 0,
            kept_token: None,
            external_subject: None,
            last_login_at: None,
            lockout_lifted_at: None,
        }
    }
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = users, treat_none_as_null = true)]
struct UserRow {
    id: String,
    username: String,
    password_hash: String,
    role: String,
    provider_id: Option<String>,
    created_at: chrono::NaiveDateTime,
    status: String,
    source: String,
    token_version: i64,
    kept_token: Option<String>,
    external_subject: Option<String>,
    last_login_at: Option<chrono::NaiveDateTime>,
    lockout_lifted_at: Option<chrono::NaiveDateTime>,
}

impl TryFrom<UserRow> for UserRecord {
    type Error = StoreError;
    fn try_from(r: UserRow) -> StoreResult<Self> {
        Ok(UserRecord {
            id: id_from_str(&r.id)?,
            role: Role::parse(&r.role).ok_or_else(|| StoreError::corrupt(&r.role))?,
            status: UserStatus::parse(&r.status).ok_or_else(|| StoreError::corrupt(&r.status))?,
            source: UserSource::parse(&r.source).ok_or_else(|| StoreError::corrupt(&r.source))?,
            username: r.username,
            password_hash: r.password_hash,
            provider_id: opt_id(r.provider_id.as_deref())?,
            created_at: from_db_time(r.created_at),
            token_version: r.token_version,
            kept_token: r.kept_token,
            external_subject: r.external_subject,
            last_login_at: r.last_login_at.map(from_db_time),
            lockout_lifted_at: r.lockout_lifted_at.map(from_db_time),
        })
    }
}

impl From<&UserRecord> for UserRow {
    fn from(u: &UserRecord) -> Self {
        UserRow {
            id: u.id.to_string(),
            username: u.username.clone(),
            password_hash: u.password_hash.clone(),
            role: u.role.as_str().to_string(),
            provider_id: u.provider_id.map(|p| p.to_string()),
            created_at: to_db_time(u.created_at),
            status: u.status.as_str().to_string(),
            source: u.source.as_str().to_string(),
            token_version: u.token_version,
            kept_token: u.kept_token.clone(),
            external_subject: u.external_subject.clone(),
            last_login_at: u.last_login_at.map(to_db_time),
            lockout_lifted_at: u.lockout_lifted_at.map(to_db_time),
        }
    }
}

fn user_conflict(e: diesel::result::Error) -> StoreError {
    match StoreError::from(e) {
        StoreError::Conflict { .. } => StoreError::Conflict {
            code: "duplicate_username",
            message: "this username is taken".into(),
        },
        StoreError::Reference { .. } => StoreError::Reference {
            field: "provider_id",
            message: "no such provider".into(),
        },
        other => other,
    }
}

pub fn insert(conn: &mut DbConnection, u: &UserRecord) -> StoreResult<()> {
    diesel::insert_into(users::table)
        .values(UserRow::from(u))
        .execute(conn)
        .map_err(user_conflict)?;
    Ok(())
}

/// Writes every field of the account as given (the use case decided them).
pub fn save(conn: &mut DbConnection, u: &UserRecord) -> StoreResult<()> {
    let n = diesel::update(users::table.filter(users::id.eq(u.id.to_string())))
        .set(UserRow::from(u))
        .execute(conn)
        .map_err(user_conflict)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

/// The account of a username, whatever its case (usernames are unique ignoring case).
pub fn by_username(conn: &mut DbConnection, username: &str) -> StoreResult<Option<UserRecord>> {
    users::table
        .filter(lower(users::username).eq(username.to_ascii_lowercase()))
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()?
        .map(UserRecord::try_from)
        .transpose()
}

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

pub fn by_id(conn: &mut DbConnection, id: UserId) -> StoreResult<Option<UserRecord>> {
    users::table
        .filter(users::id.eq(id.to_string()))
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()?
        .map(UserRecord::try_from)
        .transpose()
}

/// The single-sign-on account of an issuer's subject.
pub fn by_external_subject(conn: &mut DbConnection, subject: &str) -> StoreResult<Option<UserRecord>> {
    users::table
        .filter(users::external_subject.eq(subject))
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()?
        .map(UserRecord::try_from)
        .transpose()
}

#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
    pub provider_id: Option<ProviderId>,
}

pub fn list(conn: &mut DbConnection, filter: &UserFilter, page: &Page) -> StoreResult<PageOf<UserRecord>> {
    let mut q = users::table.select(UserRow::as_select()).into_boxed();
    if let Some(r) = filter.role {
        q = q.filter(users::role.eq(r.as_str()));
    }
    if let Some(s) = filter.status {
        q = q.filter(users::status.eq(s.as_str()));
    }
    if let Some(p) = filter.provider_id {
        q = q.filter(users::provider_id.eq(p.to_string()));
    }
    if let Some(after) = &page.after {
        q = q.filter(users::id.gt(after.clone()));
    }
    let rows = q.order(users::id.asc()).limit(page.limit + 1).load(conn)?;
    let recs = rows
        .into_iter()
        .map(UserRecord::try_from)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(PageOf::from_rows(recs, page.limit, |r| r.id.to_string()))
}

/// Active admins other than `except` (an account is not left without an admin).
pub fn other_active_admins(conn: &mut DbConnection, except: UserId) -> StoreResult<i64> {
    Ok(users::table
        .filter(users::role.eq(Role::Admin.as_str()))
        .filter(users::status.eq(UserStatus::Active.as_str()))
        .filter(users::id.ne(except.to_string()))
        .count()
        .get_result(conn)?)
}

/// What a request's token is checked against: the account and the ids of its tokens a
/// logout ended. `None` when there is no such account.
#[derive(Debug, Clone)]
pub struct SessionFacts {
    pub user: UserRecord,
    pub revoked: Vec<String>,
}

pub fn session_facts(conn: &mut DbConnection, id: UserId) -> StoreResult<Option<SessionFacts>> {
    use crate::schema::revoked_tokens as r;
    let Some(user) = by_id(conn, id)? else {
        return Ok(None);
    };
    let revoked = r::table
        .filter(r::user_id.eq(id.to_string()))
        .filter(r::expires_at.gt(to_db_time(crate::records::now())))
        .select(r::token_id)
        .load::<String>(conn)?;
    Ok(Some(SessionFacts { user, revoked }))
}

/// Ends one token (a logout) until `until` (when it would be refused anyway); forgets
/// those long past. Logouts of one account serialise on its row.
pub fn revoke_token(
    conn: &mut DbConnection,
    token_id: &str,
    user_id: UserId,
    until: chrono::DateTime<chrono::Utc>,
) -> StoreResult<()> {
    use crate::schema::revoked_tokens as r;
    lock_account(conn, user_id)?;
    diesel::delete(r::table.filter(r::expires_at.lt(to_db_time(crate::records::now())))).execute(conn)?;
    let exists = r::table
        .filter(r::user_id.eq(user_id.to_string()))
        .filter(r::token_id.eq(token_id))
        .count()
        .get_result::<i64>(conn)?;
    if exists == 0 {
        diesel::insert_into(r::table)
            .values((
                r::token_id.eq(token_id),
                r::user_id.eq(user_id.to_string()),
                r::expires_at.eq(to_db_time(until)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Records that a user logged in (or was seen first by single sign-on) at `at`.
pub fn touch_user(conn: &mut DbConnection, id: UserId, at: chrono::DateTime<chrono::Utc>) -> StoreResult<()> {
    diesel::update(users::table.filter(users::id.eq(id.to_string())))
        .set(users::last_login_at.eq(Some(to_db_time(at))))
        .execute(conn)?;
    Ok(())
}

/// Records a login attempt (the audit of failed logins and the rate limit's memory).
pub fn record_attempt(
    conn: &mut DbConnection,
    username: &str,
    address: &str,
    success: bool,
) -> StoreResult<String> {
    use crate::schema::login_attempts as l;
    let id = Uuid::now_v7().to_string();
    diesel::insert_into(l::table)
        .values((
            l::id.eq(&id),
            l::at.eq(to_db_time(crate::records::now())),
            l::username.eq(username),
            l::address.eq(address),
            l::success.eq(success),
        ))
        .execute(conn)?;
    Ok(id)
}

/// Marks a recorded attempt successful (it is recorded as failed before the password is
/// checked, so that parallel guesses count each other).
pub fn mark_success(conn: &mut DbConnection, attempt_id: &str) -> StoreResult<()> {
    use crate::schema::login_attempts as l;
    diesel::update(l::table.filter(l::id.eq(attempt_id)))
        .set(l::success.eq(true))
        .execute(conn)?;
    Ok(())
}

/// Serialises the login attempts of one username until the transaction ends: on
/// PostgreSQL a transaction-scoped advisory lock; on SQLite the write transaction already
/// serialises.
pub fn lock_logins(conn: &mut DbConnection, username: &str) -> StoreResult<()> {
    if let DbConnection::Postgresql(_) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind::<diesel::sql_types::Text, _>(format!("login\u{1f}{username}"))
            .execute(conn)?;
    }
    Ok(())
}

/// The account, its row locked until the transaction ends (PostgreSQL), for a change:
/// two changes of one account cannot overwrite each other.
pub fn for_change(conn: &mut DbConnection, id: UserId) -> StoreResult<Option<UserRecord>> {
    lock_account(conn, id)?;
    by_id(conn, id)
}

/// Locks an account's row until the transaction ends (PostgreSQL).
fn lock_account(conn: &mut DbConnection, id: UserId) -> StoreResult<()> {
    if let DbConnection::Postgresql(pg) = conn {
        diesel::sql_query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
            .bind::<diesel::sql_types::Text, _>(id.to_string())
            .execute(pg)?;
    }
    Ok(())
}

/// Locks the rows of every active admin, in ID order (PostgreSQL), so that two admins
/// demoting each other at once cannot leave none. Taken before any single account's lock.
pub fn lock_admins(conn: &mut DbConnection) -> StoreResult<()> {
    if let DbConnection::Postgresql(pg) = conn {
        diesel::sql_query(
            "SELECT id FROM users WHERE role = 'admin' AND status = 'active' ORDER BY id FOR UPDATE",
        )
        .execute(pg)?;
    }
    Ok(())
}

/// Failed attempts of a username from an address since `user_since`, and failed
/// attempts from the address since `since`.
pub fn recent_failures(
    conn: &mut DbConnection,
    username: &str,
    address: &str,
    user_since: chrono::DateTime<chrono::Utc>,
    since: chrono::DateTime<chrono::Utc>,
) -> StoreResult<(i64, i64)> {
    let by_user = count_attempts(conn, Some(username), address, false, user_since)?;
    let by_address = count_attempts(conn, None, address, false, since)?;
    Ok((by_user, by_address))
}

/// Successful logins of a username from an address since `since`.
pub fn recent_successes(
    conn: &mut DbConnection,
    username: &str,
    address: &str,
    since: chrono::DateTime<chrono::Utc>,
) -> StoreResult<i64> {
    count_attempts(conn, Some(username), address, true, since)
}

fn count_attempts(
    conn: &mut DbConnection,
    username: Option<&str>,
    address: &str,
    success: bool,
    since: chrono::DateTime<chrono::Utc>,
) -> StoreResult<i64> {
    use crate::schema::login_attempts as l;
    let mut q = l::table
        .filter(l::address.eq(address.to_string()))
        .filter(l::success.eq(success))
        .filter(l::at.ge(to_db_time(since)))
        .into_boxed();
    if let Some(u) = username {
        q = q.filter(l::username.eq(u.to_string()));
    }
    Ok(q.count().get_result(conn)?)
}

/// A login attempt as the audit shows it.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub at: chrono::DateTime<chrono::Utc>,
    pub username: String,
    pub address: String,
    pub success: bool,
}

pub fn attempts(
    conn: &mut DbConnection,
    username: Option<&str>,
    since: Option<chrono::DateTime<chrono::Utc>>,
    limit: i64,
) -> StoreResult<Vec<Attempt>> {
    use crate::schema::login_attempts as l;
    let mut q = l::table.into_boxed();
    if let Some(u) = username {
        q = q.filter(l::username.eq(u.to_string()));
    }
    if let Some(s) = since {
        q = q.filter(l::at.ge(to_db_time(s)));
    }
    Ok(q.order(l::id.desc())
        .limit(limit)
        .select((l::at, l::username, l::address, l::success))
        .load::<(chrono::NaiveDateTime, String, String, bool)>(conn)?
        .into_iter()
        .map(|(at, username, address, success)| Attempt {
            at: from_db_time(at),
            username,
            address,
            success,
        })
        .collect())
}
