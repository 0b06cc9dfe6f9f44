//! API keys of partner systems and reporting jobs. Only a hash of each key is kept.

use diesel::prelude::*;
use passgenau_domain::ids::{ApiKeyId, ProviderId};
use passgenau_domain::user::Role;

use crate::codec::{id_from_str, opt_id};
use crate::connection::DbConnection;
use crate::error::{StoreError, StoreResult};
use crate::records::{from_db_time, to_db_time, Page, PageOf};
use crate::schema::api_keys;

#[derive(Debug, Clone)]
pub struct ApiKeyRecord {
    pub id: ApiKeyId,
    pub name: String,
    pub role: Role,
    pub provider_id: Option<ProviderId>,
    /// Hex SHA-256 of the key.
    pub key_hash: String,
    /// The last day the key works (inclusive, Europe/Berlin).
    pub expires_on: Option<chrono::NaiveDate>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The admin who made it.
    pub created_by: String,
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = api_keys)]
struct ApiKeyRow {
    id: String,
    name: String,
    role: String,
    provider_id: Option<String>,
    key_hash: String,
    expires_on: Option<chrono::NaiveDate>,
    created_at: chrono::NaiveDateTime,
    created_by: String,
    last_used_at: Option<chrono::NaiveDateTime>,
    revoked_at: Option<chrono::NaiveDateTime>,
}

impl TryFrom<ApiKeyRow> for ApiKeyRecord {
    type Error = StoreError;
    fn try_from(r: ApiKeyRow) -> StoreResult<Self> {
        Ok(ApiKeyRecord {
            id: id_from_str(&r.id)?,
            role: Role::parse(&r.role).ok_or_else(|| StoreError::corrupt(&r.role))?,
            provider_id: opt_id(r.provider_id.as_deref())?,
            name: r.name,
            key_hash: r.key_hash,
            expires_on: r.expires_on,
            created_at: from_db_time(r.created_at),
            created_by: r.created_by,
            last_used_at: r.last_used_at.map(from_db_time),
            revoked_at: r.revoked_at.map(from_db_time),
        })
    }
}

pub fn insert(conn: &mut DbConnection, k: &ApiKeyRecord) -> StoreResult<()> {
    diesel::insert_into(api_keys::table)
        .values(ApiKeyRow {
            id: k.id.to_string(),
            name: k.name.clone(),
            role: k.role.as_str().to_string(),
            provider_id: k.provider_id.map(|p| p.to_string()),
            key_hash: k.key_hash.clone(),
            expires_on: k.expires_on,
            created_at: to_db_time(k.created_at),
            created_by: k.created_by.clone(),
            last_used_at: None,
            revoked_at: None,
        })
        .execute(conn)
        .map_err(|e| match StoreError::from(e) {
            StoreError::Reference { .. } => StoreError::Reference {
                field: "provider_id",
                message: "no such provider".into(),
            },
            other => other,
        })?;
    Ok(())
}

/// The key with this hash, revoked or not.
pub fn by_hash(conn: &mut DbConnection, key_hash: &str) -> StoreResult<Option<ApiKeyRecord>> {
    api_keys::table
        .filter(api_keys::key_hash.eq(key_hash))
        .select(ApiKeyRow::as_select())
        .get_result(conn)
        .optional()?
        .map(ApiKeyRecord::try_from)
        .transpose()
}

pub fn get(conn: &mut DbConnection, id: ApiKeyId) -> StoreResult<Option<ApiKeyRecord>> {
    api_keys::table
        .filter(api_keys::id.eq(id.to_string()))
        .select(ApiKeyRow::as_select())
        .get_result(conn)
        .optional()?
        .map(ApiKeyRecord::try_from)
        .transpose()
}

/// Keys not revoked, oldest first.
pub fn list(conn: &mut DbConnection, page: &Page) -> StoreResult<PageOf<ApiKeyRecord>> {
    let mut q = api_keys::table
        .filter(api_keys::revoked_at.is_null())
        .select(ApiKeyRow::as_select())
        .into_boxed();
    if let Some(after) = &page.after {
        q = q.filter(api_keys::id.gt(after.clone()));
    }
    let rows = q.order(api_keys::id.asc()).limit(page.limit + 1).load(conn)?;
    let recs = rows
        .into_iter()
        .map(ApiKeyRecord::try_from)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(PageOf::from_rows(recs, page.limit, |r| r.id.to_string()))
}

/// Marks a key revoked; `false` when it is unknown or revoked already.
pub fn revoke(conn: &mut DbConnection, id: ApiKeyId, at: chrono::DateTime<chrono::Utc>) -> StoreResult<bool> {
    let n = diesel::update(
        api_keys::table
            .filter(api_keys::id.eq(id.to_string()))
            .filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(Some(to_db_time(at))))
    .execute(conn)?;
    Ok(n == 1)
}

/// Records that a key was used at `at`.
pub fn touch(conn: &mut DbConnection, id: ApiKeyId, at: chrono::DateTime<chrono::Utc>) -> StoreResult<()> {
    diesel::update(api_keys::table.filter(api_keys::id.eq(id.to_string())))
        .set(api_keys::last_used_at.eq(Some(to_db_time(at))))
        .execute(conn)?;
    Ok(())
}
