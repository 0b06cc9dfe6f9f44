//! User accounts. Passwords are stored only as argon2id hashes (made by the caller).

use diesel::prelude::*;
use passgenau_domain::ids::{ProviderId, UserId};
use passgenau_domain::user::Role;
use uuid::Uuid;

use crate::codec::{id_from_str, opt_id};
use crate::connection::DbConnection;
use crate::error::{StoreError, StoreResult};
use crate::records::{from_db_time, to_db_time};
use crate::schema::users;

#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: UserId,
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub provider_id: Option<ProviderId>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
struct UserRow {
    id: String,
    username: String,
    password_hash: String,
    role: String,
    provider_id: Option<String>,
    created_at: chrono::NaiveDateTime,
}

impl TryFrom<UserRow> for UserRecord {
    type Error = StoreError;
    fn try_from(r: UserRow) -> StoreResult<Self> {
        Ok(UserRecord {
            id: id_from_str(&r.id)?,
            role: Role::parse(&r.role).ok_or_else(|| StoreError::corrupt(&r.role))?,
            username: r.username,
            password_hash: r.password_hash,
            provider_id: opt_id(r.provider_id.as_deref())?,
            created_at: from_db_time(r.created_at),
        })
    }
}

pub fn insert(conn: &mut DbConnection, u: &UserRecord) -> StoreResult<()> {
    diesel::insert_into(users::table)
        .values(UserRow {
            id: u.id.to_string(),
            username: u.username.clone(),
            password_hash: u.password_hash.clone(),
            role: u.role.as_str().to_string(),
            provider_id: u.provider_id.map(|p| p.to_string()),
            created_at: to_db_time(u.created_at),
        })
        .execute(conn)
        .map_err(|e| match StoreError::from(e) {
            StoreError::Conflict { .. } => StoreError::Conflict {
                code: "duplicate_username",
                message: "this username is taken".into(),
            },
            StoreError::Reference { .. } => StoreError::Reference {
                field: "provider_id",
                message: "no such provider".into(),
            },
            other => other,
        })?;
    Ok(())
}

pub fn by_username(conn: &mut DbConnection, username: &str) -> StoreResult<Option<UserRecord>> {
    users::table
        .filter(users::username.eq(username))
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()?
        .map(UserRecord::try_from)
        .transpose()
}

/// Sets a user's password hash; `false` when there is no such user.
pub fn set_password(conn: &mut DbConnection, username: &str, password_hash: &str) -> StoreResult<bool> {
    let n = diesel::update(users::table.filter(users::username.eq(username)))
        .set(users::password_hash.eq(password_hash))
        .execute(conn)?;
    Ok(n == 1)
}

/// Records a login attempt (the audit of failed logins and the rate limit's memory).
pub fn record_attempt(
    conn: &mut DbConnection,
    username: &str,
    address: &str,
    success: bool,
) -> StoreResult<()> {
    use crate::schema::login_attempts as l;
    diesel::insert_into(l::table)
        .values((
            l::id.eq(Uuid::now_v7().to_string()),
            l::at.eq(to_db_time(crate::records::now())),
            l::username.eq(username),
            l::address.eq(address),
            l::success.eq(success),
        ))
        .execute(conn)?;
    Ok(())
}

/// Failed attempts since `since` for a username from an address, and for the address.
pub fn recent_failures(
    conn: &mut DbConnection,
    username: &str,
    address: &str,
    since: chrono::DateTime<chrono::Utc>,
) -> StoreResult<(i64, i64)> {
    use crate::schema::login_attempts as l;
    let since = to_db_time(since);
    let by_user = l::table
        .filter(l::username.eq(username))
        .filter(l::address.eq(address))
        .filter(l::success.eq(false))
        .filter(l::at.ge(since))
        .count()
        .get_result(conn)?;
    let by_address = l::table
        .filter(l::address.eq(address))
        .filter(l::success.eq(false))
        .filter(l::at.ge(since))
        .count()
        .get_result(conn)?;
    Ok((by_user, by_address))
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
