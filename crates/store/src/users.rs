//! User accounts. Passwords are stored only as argon2id hashes (made by the caller).

use diesel::prelude::*;
use passgenau_domain::user::Role;
use uuid::Uuid;

use crate::codec::{opt_uuid, uuid_from_str};
use crate::db::DbConnection;
use crate::error::{StoreError, StoreResult};
use crate::records::{from_db_time, to_db_time};
use crate::schema::users;

#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: Uuid,
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub provider_id: Option<Uuid>,
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
            id: uuid_from_str(&r.id)?,
            role: Role::parse(&r.role).ok_or_else(|| StoreError::corrupt(&r.role))?,
            username: r.username,
            password_hash: r.password_hash,
            provider_id: opt_uuid(r.provider_id.as_deref())?,
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
        .first(conn)
        .optional()?
        .map(UserRecord::try_from)
        .transpose()
}
