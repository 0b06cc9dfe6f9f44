//! Import jobs, and the lookups an import makes by the numbers of the source system.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use passgenau_domain::ids::{CustomerId, HouseholdId, ImportId};
use passgenau_domain::import::{Counts, ImportFormat, ImportStatus, Rejection};

use crate::codec::{enum_from_str, enum_to_str, id_from_str, json_from_str, json_to_str};
use crate::connection::DbConnection;
use crate::customers::CustomerRecord;
use crate::error::StoreResult;
use crate::households::HouseholdRecord;
use crate::personal::Personal;
use crate::records::{from_db_time, to_db_time, Page, PageOf};
use crate::schema::{customers, households, import_jobs};

/// An import job as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportJob {
    pub id: ImportId,
    pub status: ImportStatus,
    pub format: ImportFormat,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub heartbeat_at: Option<DateTime<Utc>>,
    pub bytes_total: i64,
    pub bytes_read: i64,
    pub lines: i64,
    pub counts: Counts,
    pub rejected: Vec<Rejection>,
    pub error: Option<String>,
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = import_jobs)]
#[diesel(treat_none_as_null = true)]
struct JobRow {
    id: String,
    status: String,
    format: String,
    created_by: String,
    created_at: chrono::NaiveDateTime,
    started_at: Option<chrono::NaiveDateTime>,
    finished_at: Option<chrono::NaiveDateTime>,
    heartbeat_at: Option<chrono::NaiveDateTime>,
    bytes_total: i64,
    bytes_read: i64,
    lines: i64,
    imported: i64,
    updated: i64,
    unchanged: i64,
    rejected_count: i64,
    rejected: String,
    error: Option<String>,
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl From<&ImportJob> for JobRow {
    fn from(j: &ImportJob) -> Self {
        JobRow {
            id: j.id.to_string(),
            status: enum_to_str(&j.status),
            format: enum_to_str(&j.format),
            created_by: j.created_by.clone(),
            created_at: to_db_time(j.created_at),
            started_at: j.started_at.map(to_db_time),
            finished_at: j.finished_at.map(to_db_time),
            heartbeat_at: j.heartbeat_at.map(to_db_time),
            bytes_total: j.bytes_total,
            bytes_read: j.bytes_read,
            lines: j.lines,
            imported: count(j.counts.imported),
            updated: count(j.counts.updated),
            unchanged: count(j.counts.unchanged),
            rejected_count: count(j.counts.rejected),
            rejected: json_to_str(&j.rejected),
            error: j.error.clone(),
        }
    }
}

impl TryFrom<JobRow> for ImportJob {
    type Error = crate::StoreError;

    fn try_from(r: JobRow) -> StoreResult<Self> {
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        Ok(ImportJob {
            id: id_from_str(&r.id)?,
            status: enum_from_str(&r.status)?,
            format: enum_from_str(&r.format)?,
            created_by: r.created_by,
            created_at: from_db_time(r.created_at),
            started_at: r.started_at.map(from_db_time),
            finished_at: r.finished_at.map(from_db_time),
            heartbeat_at: r.heartbeat_at.map(from_db_time),
            bytes_total: r.bytes_total,
            bytes_read: r.bytes_read,
            lines: r.lines,
            counts: Counts {
                imported: n(r.imported),
                updated: n(r.updated),
                unchanged: n(r.unchanged),
                rejected: n(r.rejected_count),
            },
            rejected: json_from_str(&r.rejected)?,
            error: r.error,
        })
    }
}

pub fn create(conn: &mut DbConnection, job: &ImportJob) -> StoreResult<()> {
    diesel::insert_into(import_jobs::table)
        .values(JobRow::from(job))
        .execute(conn)?;
    Ok(())
}

/// Writes the job's state (its progress, its end).
pub fn save(conn: &mut DbConnection, job: &ImportJob) -> StoreResult<()> {
    diesel::update(import_jobs::table.find(job.id.to_string()))
        .set(JobRow::from(job))
        .execute(conn)?;
    Ok(())
}

pub fn get(conn: &mut DbConnection, id: ImportId) -> StoreResult<ImportJob> {
    import_jobs::table
        .find(id.to_string())
        .select(JobRow::as_select())
        .get_result(conn)?
        .try_into()
}

/// Jobs, newest first.
pub fn list(conn: &mut DbConnection, page: &Page) -> StoreResult<PageOf<ImportJob>> {
    let mut q = import_jobs::table.select(JobRow::as_select()).into_boxed();
    if let Some(after) = &page.after {
        q = q.filter(import_jobs::id.lt(after.clone()));
    }
    let rows = q.order(import_jobs::id.desc()).limit(page.limit + 1).load(conn)?;
    let jobs = rows
        .into_iter()
        .map(ImportJob::try_from)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(PageOf::from_rows(jobs, page.limit, |j| j.id.to_string()))
}

/// The customers with these customer numbers: the records (sealed), and the numbers of
/// tombstones with the record each was merged into.
pub type ByNumber = (Personal<Vec<CustomerRecord>>, Vec<(String, CustomerId)>);

pub fn customers_by_number(conn: &mut DbConnection, numbers: &[String]) -> StoreResult<ByNumber> {
    let mut ids = Vec::new();
    let mut merged = Vec::new();
    for chunk in numbers.chunks(500) {
        for (id, number, into) in customers::table
            .filter(customers::customer_number.eq_any(chunk))
            .select((customers::id, customers::customer_number, customers::merged_into))
            .load::<(String, String, Option<String>)>(conn)?
        {
            match into {
                Some(into) => merged.push((number, id_from_str(&into)?)),
                None => ids.push(id_from_str(&id)?),
            }
        }
    }
    Ok((crate::customers::get_many(conn, &ids)?, merged))
}

/// The households with these household numbers, with their members (sealed).
pub fn households_by_number(
    conn: &mut DbConnection,
    numbers: &[String],
) -> StoreResult<Personal<Vec<HouseholdRecord>>> {
    let mut ids = Vec::new();
    for chunk in numbers.chunks(500) {
        for id in households::table
            .filter(households::household_number.eq_any(chunk))
            .select(households::id)
            .load::<String>(conn)?
        {
            ids.push(id_from_str(&id)?);
        }
    }
    crate::households::get_many(conn, &ids)
}

/// A household's ID, number, district and number of members.
pub type HouseholdSize = (HouseholdId, String, Option<String>, usize);

/// What a customer line needs of the households it names, no more: ID, number, district
/// and how many members each has. No member is read (so nobody's data is disclosed).
pub fn household_sizes(conn: &mut DbConnection, numbers: &[String]) -> StoreResult<Vec<HouseholdSize>> {
    use crate::schema::household_members;
    let mut out = Vec::new();
    for chunk in numbers.chunks(500) {
        let rows = households::table
            .filter(households::household_number.eq_any(chunk))
            .select((households::id, households::household_number, households::district))
            .load::<(String, String, Option<String>)>(conn)?;
        let ids: Vec<&String> = rows.iter().map(|r| &r.0).collect();
        let counts: std::collections::HashMap<String, i64> = household_members::table
            .filter(household_members::household_id.eq_any(ids))
            .group_by(household_members::household_id)
            .select((household_members::household_id, diesel::dsl::count_star()))
            .load::<(String, i64)>(conn)?
            .into_iter()
            .collect();
        for (id, number, district) in rows {
            let n = counts.get(&id).copied().unwrap_or(0);
            out.push((
                id_from_str(&id)?,
                number,
                district,
                usize::try_from(n).unwrap_or(0),
            ));
        }
    }
    Ok(out)
}
