//! Providers (*Träger*).

use diesel::prelude::*;
use passgenau_domain::ids::ProviderId;
use passgenau_domain::provider::ProviderData;

use crate::codec::id_from_str;
use crate::connection::DbConnection;
use crate::error::{StoreError, StoreResult};
use crate::records::{from_db_time, to_db_time, Meta, Page, PageOf};
use crate::schema::providers;

#[derive(Debug, Clone, PartialEq)]
pub struct ProviderRecord {
    pub meta: Meta<ProviderId>,
    pub data: ProviderData,
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = providers)]
#[diesel(treat_none_as_null = true)]
struct ProviderRow {
    id: String,
    name: String,
    azav_certified_until: Option<chrono::NaiveDate>,
    contact_email: Option<String>,
    version: i64,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

impl From<&ProviderRecord> for ProviderRow {
    fn from(r: &ProviderRecord) -> Self {
        ProviderRow {
            id: r.meta.id.to_string(),
            name: r.data.name.clone(),
            azav_certified_until: r.data.azav_certified_until,
            contact_email: r.data.contact_email.clone(),
            version: r.meta.version,
            created_at: to_db_time(r.meta.created_at),
            updated_at: to_db_time(r.meta.updated_at),
        }
    }
}

impl TryFrom<ProviderRow> for ProviderRecord {
    type Error = StoreError;
    fn try_from(r: ProviderRow) -> StoreResult<Self> {
        Ok(ProviderRecord {
            meta: Meta {
                id: id_from_str(&r.id)?,
                version: r.version,
                created_at: from_db_time(r.created_at),
                updated_at: from_db_time(r.updated_at),
            },
            data: ProviderData {
                name: r.name,
                azav_certified_until: r.azav_certified_until,
                contact_email: r.contact_email,
            },
        })
    }
}

pub fn insert(conn: &mut DbConnection, rec: &ProviderRecord) -> StoreResult<()> {
    diesel::insert_into(providers::table)
        .values(ProviderRow::from(rec))
        .execute(conn)?;
    Ok(())
}

pub fn get(conn: &mut DbConnection, id: ProviderId) -> StoreResult<ProviderRecord> {
    // on the concrete connection: see `on_backend!`
    let key = id.to_string();
    let row: ProviderRow = crate::on_backend!(conn, |c| providers::table
        .find(&key)
        .select(ProviderRow::as_select())
        .get_result(c))?;
    row.try_into()
}

pub fn exists(conn: &mut DbConnection, id: ProviderId) -> StoreResult<bool> {
    Ok(diesel::select(diesel::dsl::exists(providers::table.find(id.to_string()))).get_result(conn)?)
}

pub fn list(conn: &mut DbConnection, name: Option<&str>, page: &Page) -> StoreResult<PageOf<ProviderRecord>> {
    let mut q = providers::table.select(ProviderRow::as_select()).into_boxed();
    if let Some(n) = name {
        q = q.filter(providers::name.eq(n.to_string()));
    }
    if let Some(after) = &page.after {
        q = q.filter(providers::id.gt(after.clone()));
    }
    let rows = q.order(providers::id.asc()).limit(page.limit + 1).load(conn)?;
    let recs = rows
        .into_iter()
        .map(ProviderRecord::try_from)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(PageOf::from_rows(recs, page.limit, |r| r.meta.id.to_string()))
}

pub fn update(conn: &mut DbConnection, rec: &ProviderRecord, expected_version: i64) -> StoreResult<()> {
    let n = diesel::update(
        providers::table
            .filter(providers::id.eq(rec.meta.id.to_string()))
            .filter(providers::version.eq(expected_version)),
    )
    .set(ProviderRow::from(rec))
    .execute(conn)?;
    if n == 0 {
        get(conn, rec.meta.id)?;
        return Err(StoreError::PreconditionFailed);
    }
    Ok(())
}

/// Every provider by ID (a Jobcenter works with hundreds, not millions).
pub fn all(conn: &mut DbConnection) -> StoreResult<std::collections::HashMap<ProviderId, ProviderRecord>> {
    providers::table
        .select(ProviderRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|r| ProviderRecord::try_from(r).map(|p| (p.meta.id, p)))
        .collect()
}
