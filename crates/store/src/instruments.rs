//! The instrument catalogue.

use diesel::prelude::*;
use passgenau_domain::catalogue::{self, Instrument};

use crate::codec::{enum_from_str, enum_to_str};
use crate::connection::DbConnection;
use crate::error::{StoreError, StoreResult};
use crate::records::{from_db_time, now, to_db_time, Page, PageOf};
use crate::schema::instruments;

#[derive(Debug, Clone, PartialEq)]
pub struct InstrumentRecord {
    pub version: i64,
    pub builtin: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub data: Instrument,
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = instruments)]
struct InstrumentRow {
    code: String,
    name: String,
    legal_basis: String,
    purpose_group: String,
    funding: String,
    builtin: bool,
    version: i64,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

impl From<&InstrumentRecord> for InstrumentRow {
    fn from(r: &InstrumentRecord) -> Self {
        InstrumentRow {
            code: r.data.code.clone(),
            name: r.data.name.clone(),
            legal_basis: r.data.legal_basis.clone(),
            purpose_group: enum_to_str(&r.data.purpose_group),
            funding: enum_to_str(&r.data.funding),
            builtin: r.builtin,
            version: r.version,
            created_at: to_db_time(r.created_at),
            updated_at: to_db_time(r.updated_at),
        }
    }
}

impl TryFrom<InstrumentRow> for InstrumentRecord {
    type Error = StoreError;
    fn try_from(r: InstrumentRow) -> StoreResult<Self> {
        Ok(InstrumentRecord {
            version: r.version,
            builtin: r.builtin,
            created_at: from_db_time(r.created_at),
            updated_at: from_db_time(r.updated_at),
            data: Instrument {
                code: r.code,
                name: r.name,
                legal_basis: r.legal_basis,
                purpose_group: enum_from_str(&r.purpose_group)?,
                funding: enum_from_str(&r.funding)?,
            },
        })
    }
}

/// Adds the built-in catalogue where its codes are missing; never overwrites an admin's
/// edits. Safe to run from several instances at once.
pub fn ensure_builtin(conn: &mut DbConnection) -> StoreResult<()> {
    let t = now();
    for data in catalogue::builtin() {
        let rec = InstrumentRecord {
            version: 1,
            builtin: true,
            created_at: t,
            updated_at: t,
            data,
        };
        let row = InstrumentRow::from(&rec);
        crate::on_backend!(&mut *conn, |c| diesel::insert_into(instruments::table)
            .values(&row)
            .on_conflict(instruments::code)
            .do_nothing()
            .execute(c))?;
    }
    Ok(())
}

pub fn insert(conn: &mut DbConnection, rec: &InstrumentRecord) -> StoreResult<()> {
    diesel::insert_into(instruments::table)
        .values(InstrumentRow::from(rec))
        .execute(conn)
        .map_err(|e| match StoreError::from(e) {
            StoreError::Conflict { .. } => StoreError::Conflict {
                code: "duplicate_instrument_code",
                message: "an instrument with this code exists".into(),
            },
            other => other,
        })?;
    Ok(())
}

pub fn get(conn: &mut DbConnection, code: &str) -> StoreResult<InstrumentRecord> {
    instruments::table
        .find(code)
        .select(InstrumentRow::as_select())
        .get_result(conn)?
        .try_into()
}

pub fn list(
    conn: &mut DbConnection,
    purpose_group: Option<&str>,
    page: &Page,
) -> StoreResult<PageOf<InstrumentRecord>> {
    let mut q = instruments::table.select(InstrumentRow::as_select()).into_boxed();
    if let Some(pg) = purpose_group {
        q = q.filter(instruments::purpose_group.eq(pg.to_string()));
    }
    if let Some(after) = &page.after {
        q = q.filter(instruments::code.gt(after.clone()));
    }
    let rows = q
        .order(instruments::code.asc())
        .limit(page.limit + 1)
        .load(conn)?;
    let recs = rows
        .into_iter()
        .map(InstrumentRecord::try_from)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(PageOf::from_rows(recs, page.limit, |r| r.data.code.clone()))
}

/// Writes `rec` (code unchanged, version already bumped) if the stored version matches.
pub fn update(conn: &mut DbConnection, rec: &InstrumentRecord, expected_version: i64) -> StoreResult<()> {
    let n = diesel::update(
        instruments::table
            .filter(instruments::code.eq(&rec.data.code))
            .filter(instruments::version.eq(expected_version)),
    )
    .set(InstrumentRow::from(rec))
    .execute(conn)?;
    if n == 0 {
        get(conn, &rec.data.code)?;
        return Err(StoreError::PreconditionFailed);
    }
    Ok(())
}
