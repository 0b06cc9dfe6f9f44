//! Customer records.

use chrono::NaiveDate;
use diesel::prelude::*;
use passgenau_domain::ids::{CustomerId, HouseholdId};
use passgenau_domain::retention::Closure;
use passgenau_domain::CustomerData;

use crate::codec::{enum_from_str, enum_to_str, id_from_str, json_from_str, json_to_str, opt_id};
use crate::connection::DbConnection;
use crate::error::{StoreError, StoreResult};
use crate::personal::{Personal, Subjects};
use crate::records::{from_db_time, to_db_time, Meta, Page, PageOf};
use crate::schema::customers;

/// A stored customer. `household_id` is kept by the household membership routes.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerRecord {
    pub meta: Meta<CustomerId>,
    pub household_id: Option<HouseholdId>,
    pub data: CustomerData,
    /// Set by the closure routes (`PUT`/`DELETE /customers/{id}/closure`) only.
    pub closure: Option<Closure>,
}

impl Subjects for CustomerRecord {
    fn subjects(&self) -> Vec<(Option<CustomerId>, Option<HouseholdId>)> {
        vec![(Some(self.meta.id), self.household_id)]
    }
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = customers)]
#[diesel(treat_none_as_null = true)]
struct CustomerRow {
    id: String,
    customer_number: String,
    first_name: String,
    last_name: String,
    date_of_birth: NaiveDate,
    gender: String,
    nationality: String,
    postal_code: Option<String>,
    district: Option<String>,
    household_id: Option<String>,
    vocational_qualification: String,
    german_level: String,
    health_restrictions: bool,
    severely_disabled: bool,
    rehabilitant: bool,
    refugee: bool,
    solo_self_employed: bool,
    benefit_spells: String,
    unemployment_spells: String,
    employment_spells: String,
    version: i64,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
    self_employment_spells: String,
    prior_participations: String,
    job_ready: bool,
    seriously_impeded_placement: bool,
    contact: String,
    closed_on: Option<NaiveDate>,
    closure_reason: Option<String>,
    legal_hold: bool,
}

impl From<&CustomerRecord> for CustomerRow {
    fn from(r: &CustomerRecord) -> Self {
        let d = &r.data;
        CustomerRow {
            id: r.meta.id.to_string(),
            customer_number: d.customer_number.clone(),
            first_name: d.first_name.clone(),
            last_name: d.last_name.clone(),
            date_of_birth: d.date_of_birth,
            gender: enum_to_str(&d.gender),
            nationality: d.nationality.clone(),
            postal_code: d.postal_code.clone(),
            district: d.district.clone(),
            household_id: r.household_id.map(|h| h.to_string()),
            vocational_qualification: enum_to_str(&d.vocational_qualification),
            german_level: enum_to_str(&d.german_level),
            health_restrictions: d.health_restrictions,
            severely_disabled: d.severely_disabled,
            rehabilitant: d.rehabilitant,
            refugee: d.refugee,
            solo_self_employed: d.solo_self_employed,
            benefit_spells: json_to_str(&d.benefit_spells),
            unemployment_spells: json_to_str(&d.unemployment_spells),
            employment_spells: json_to_str(&d.employment_spells),
            version: r.meta.version,
            created_at: to_db_time(r.meta.created_at),
            updated_at: to_db_time(r.meta.updated_at),
            self_employment_spells: json_to_str(&d.self_employment_spells),
            prior_participations: json_to_str(&d.prior_participations),
            job_ready: d.job_ready,
            seriously_impeded_placement: d.seriously_impeded_placement,
            contact: json_to_str(&d.contact),
            closed_on: r.closure.as_ref().map(|c| c.closed_on),
            closure_reason: r.closure.as_ref().map(|c| c.reason.clone()),
            legal_hold: d.legal_hold,
        }
    }
}

impl TryFrom<CustomerRow> for CustomerRecord {
    type Error = StoreError;

    fn try_from(r: CustomerRow) -> StoreResult<Self> {
        Ok(CustomerRecord {
            meta: Meta {
                id: id_from_str(&r.id)?,
                version: r.version,
                created_at: from_db_time(r.created_at),
                updated_at: from_db_time(r.updated_at),
            },
            household_id: opt_id(r.household_id.as_deref())?,
            data: CustomerData {
                customer_number: r.customer_number,
                first_name: r.first_name,
                last_name: r.last_name,
                date_of_birth: r.date_of_birth,
                gender: enum_from_str(&r.gender)?,
                nationality: r.nationality,
                postal_code: r.postal_code,
                district: r.district,
                vocational_qualification: enum_from_str(&r.vocational_qualification)?,
                german_level: enum_from_str(&r.german_level)?,
                health_restrictions: r.health_restrictions,
                severely_disabled: r.severely_disabled,
                rehabilitant: r.rehabilitant,
                refugee: r.refugee,
                solo_self_employed: r.solo_self_employed,
                benefit_spells: json_from_str(&r.benefit_spells)?,
                unemployment_spells: json_from_str(&r.unemployment_spells)?,
                employment_spells: json_from_str(&r.employment_spells)?,
                self_employment_spells: json_from_str(&r.self_employment_spells)?,
                prior_participations: json_from_str(&r.prior_participations)?,
                job_ready: r.job_ready,
                seriously_impeded_placement: r.seriously_impeded_placement,
                contact: json_from_str(&r.contact)?,
                legal_hold: r.legal_hold,
            },
            closure: match (r.closed_on, r.closure_reason) {
                (Some(closed_on), reason) => Some(Closure {
                    closed_on,
                    reason: reason.unwrap_or_default(),
                }),
                (None, _) => None,
            },
        })
    }
}

fn duplicate_number(e: diesel::result::Error) -> StoreError {
    match StoreError::from(e) {
        StoreError::Conflict { .. } => StoreError::Conflict {
            code: "duplicate_customer_number",
            message: "a customer with this customer_number exists".into(),
        },
        other => other,
    }
}

fn indexed(r: &CustomerRecord) -> crate::customer_search::Indexed<'_> {
    (
        r.meta.id,
        &r.data.first_name,
        &r.data.last_name,
        r.data.date_of_birth,
    )
}

pub fn insert(conn: &mut DbConnection, record: &CustomerRecord) -> StoreResult<()> {
    diesel::insert_into(customers::table)
        .values(CustomerRow::from(record))
        .execute(conn)
        .map_err(duplicate_number)?;
    crate::customer_search::insert(conn, &[indexed(record)])
}

/// The customer; [`StoreError::Merged`] for the tombstone of a merged duplicate.
pub fn get(conn: &mut DbConnection, id: CustomerId) -> StoreResult<Personal<CustomerRecord>> {
    // on the concrete connection: see `on_backend!`
    let key = id.to_string();
    let (row, merged_into, erased): (CustomerRow, Option<String>, Option<chrono::NaiveDateTime>) =
        crate::on_backend!(conn, |c| customers::table
            .find(&key)
            .select((
                CustomerRow::as_select(),
                customers::merged_into,
                customers::erased_at
            ))
            .get_result(c))?;
    if erased.is_some() {
        return Err(StoreError::NotFound);
    }
    if let Some(into) = merged_into {
        return Err(StoreError::Merged {
            into: id_from_str(&into)?,
        });
    }
    Ok(Personal::seal(row.try_into()?))
}

/// Holds the customer's row against a merge until the transaction ends (PostgreSQL: `FOR
/// SHARE`; SQLite has one writer): a placement or waiting-list entry made for a record
/// is made before a merge of it moves its records, or sees the tombstone.
pub fn hold(conn: &mut DbConnection, id: CustomerId) -> StoreResult<()> {
    if let DbConnection::Postgresql(pg) = conn {
        diesel::sql_query("SELECT id FROM customers WHERE id = $1 FOR SHARE")
            .bind::<diesel::sql_types::Text, _>(id.to_string())
            .execute(pg)?;
    }
    Ok(())
}

/// Locks both customers' rows for a merge (PostgreSQL: `FOR UPDATE`, in ID order, so two
/// merges of one pair cannot deadlock).
pub fn lock_pair(conn: &mut DbConnection, a: CustomerId, b: CustomerId) -> StoreResult<()> {
    if let DbConnection::Postgresql(pg) = conn {
        diesel::sql_query("SELECT id FROM customers WHERE id IN ($1, $2) ORDER BY id FOR UPDATE")
            .bind::<diesel::sql_types::Text, _>(a.to_string())
            .bind::<diesel::sql_types::Text, _>(b.to_string())
            .execute(pg)?;
    }
    Ok(())
}

/// Makes `duplicate` a tombstone pointing to `survivor`: it leaves the name index, and
/// its version moves on, so a change read before fails.
pub fn tombstone(
    conn: &mut DbConnection,
    duplicate: CustomerId,
    survivor: CustomerId,
    reason: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<()> {
    let n = diesel::update(
        customers::table
            .find(duplicate.to_string())
            .filter(customers::merged_into.is_null()),
    )
    .set((
        customers::merged_into.eq(Some(survivor.to_string())),
        customers::merged_at.eq(Some(to_db_time(now))),
        customers::merge_reason.eq(Some(reason)),
        customers::household_id.eq(None::<String>),
        customers::version.eq(customers::version + 1),
        customers::updated_at.eq(to_db_time(now)),
    ))
    .execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    crate::customer_search::forget(conn, duplicate)
}

/// Customers by ID, in no particular order; unknown IDs and tombstones are left out.
pub fn get_many(conn: &mut DbConnection, ids: &[CustomerId]) -> StoreResult<Personal<Vec<CustomerRecord>>> {
    let keys: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let mut out = Vec::with_capacity(keys.len());
    // Bounded IN lists: SQLite allows at most 32,766 bound parameters per statement.
    for chunk in keys.chunks(1_000) {
        let rows = customers::table
            .filter(customers::id.eq_any(chunk))
            .filter(customers::merged_into.is_null())
            .filter(customers::erased_at.is_null())
            .select(CustomerRow::as_select())
            .load(conn)?;
        for r in rows {
            out.push(r.try_into()?);
        }
    }
    Ok(Personal::seal(out))
}

pub use crate::customer_search::CustomerFilter;

pub fn list(
    conn: &mut DbConnection,
    filter: &CustomerFilter,
    page: &Page,
) -> StoreResult<Personal<PageOf<CustomerRecord>>> {
    let mut q = customers::table
        .filter(customers::merged_into.is_null())
        .filter(customers::erased_at.is_null())
        .select(CustomerRow::as_select())
        .into_boxed();
    if let Some(d) = filter.date_of_birth {
        q = q.filter(customers::date_of_birth.eq(d));
    }
    if let Some(v) = &filter.customer_number {
        q = q.filter(customers::customer_number.eq(v.clone()));
    }
    if let Some(v) = &filter.last_name {
        q = q.filter(customers::last_name.eq(v.clone()));
    }
    if let Some(v) = &filter.district {
        q = q.filter(customers::district.eq(v.clone()));
    }
    if let Some(v) = &filter.postal_code {
        q = q.filter(customers::postal_code.eq(v.clone()));
    }
    if let Some(v) = filter.household_id {
        q = q.filter(customers::household_id.eq(v.to_string()));
    }
    if let Some(after) = &page.after {
        q = q.filter(customers::id.gt(after.clone()));
    }
    let rows = q.order(customers::id.asc()).limit(page.limit + 1).load(conn)?;
    let records = rows
        .into_iter()
        .map(CustomerRecord::try_from)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Personal::seal(PageOf::from_rows(records, page.limit, |r| {
        r.meta.id.to_string()
    })))
}

/// Writes `record` (whose `meta.version` is already the new version) if the stored
/// version is still `expected_version`.
pub fn update(conn: &mut DbConnection, record: &CustomerRecord, expected_version: i64) -> StoreResult<()> {
    let n = diesel::update(
        customers::table
            .filter(customers::id.eq(record.meta.id.to_string()))
            .filter(customers::version.eq(expected_version)),
    )
    .set(CustomerRow::from(record))
    .execute(conn)
    .map_err(duplicate_number)?;
    if n == 0 {
        // only whether it exists (NotFound rather than stale): the record stays sealed
        drop(get(conn, record.meta.id)?);
        return Err(StoreError::PreconditionFailed);
    }
    crate::customer_search::write(conn, &[indexed(record)])
}

/// Moves a customer into (or out of) a household; bumps the version.
pub fn set_household(
    conn: &mut DbConnection,
    id: CustomerId,
    household_id: Option<HouseholdId>,
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<()> {
    let n = diesel::update(customers::table.find(id.to_string()))
        .set((
            customers::household_id.eq(household_id.map(|h| h.to_string())),
            customers::version.eq(customers::version + 1),
            customers::updated_at.eq(to_db_time(now)),
        ))
        .execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Number of customers (for the demo seed and benchmarks).
pub fn count(conn: &mut DbConnection) -> StoreResult<i64> {
    Ok(customers::table.count().get_result(conn)?)
}

/// Inserts many customers in few statements (the demo seed); all or nothing with the
/// caller's transaction.
pub fn insert_many(conn: &mut DbConnection, records: &[CustomerRecord]) -> StoreResult<()> {
    let rows: Vec<CustomerRow> = records.iter().map(CustomerRow::from).collect();
    // 23 columns: 1,000 rows stay below SQLite's 32,766 bound parameters
    crate::insert_rows!(&mut *conn, customers::table, &rows, 1_000).map_err(duplicate_number)?;
    let people: Vec<_> = records.iter().map(indexed).collect();
    crate::customer_search::insert(conn, &people)
}

/// Closes (`Some`) or reopens (`None`) the case; bumps the version.
pub fn set_closure(
    conn: &mut DbConnection,
    id: CustomerId,
    closure: Option<&Closure>,
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<()> {
    let n = diesel::update(
        customers::table
            .find(id.to_string())
            .filter(customers::erased_at.is_null()),
    )
    .set((
        customers::closed_on.eq(closure.map(|c| c.closed_on)),
        customers::closure_reason.eq(closure.map(|c| c.reason.clone())),
        customers::version.eq(customers::version + 1),
        customers::updated_at.eq(to_db_time(now)),
    ))
    .execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Closed, unheld, unerased cases closed on or before `closed_by`, at most `limit`, by ID.
pub fn closed_unheld(
    conn: &mut DbConnection,
    closed_by: NaiveDate,
    after: Option<CustomerId>,
    limit: i64,
) -> StoreResult<Vec<CustomerId>> {
    let mut q = customers::table.into_boxed();
    if let Some(a) = after {
        q = q.filter(customers::id.gt(a.to_string()));
    }
    q.filter(customers::closed_on.le(closed_by))
        .filter(customers::erased_at.is_null())
        .filter(customers::legal_hold.eq(false))
        .filter(customers::merged_into.is_null())
        .order(customers::id.asc())
        .limit(limit)
        .select(customers::id)
        .load::<String>(conn)?
        .iter()
        .map(|s| id_from_str(s))
        .collect()
}

/// The tombstones of duplicates merged into `id`.
pub fn merged_into(conn: &mut DbConnection, id: CustomerId) -> StoreResult<Vec<CustomerId>> {
    customers::table
        .filter(customers::merged_into.eq(id.to_string()))
        .select(customers::id)
        .load::<String>(conn)?
        .iter()
        .map(|s| id_from_str(s))
        .collect()
}

/// Blanks every personal column of the customer's row, which stays only as the pseudonym
/// its placements and events name (IDs keep no meaning outside the database); the row is
/// then found by nothing and answers 404. Also for tombstones of merged duplicates.
pub fn blank(conn: &mut DbConnection, id: CustomerId, now: chrono::DateTime<chrono::Utc>) -> StoreResult<()> {
    let key = id.to_string();
    let n = diesel::update(customers::table.find(&key).filter(customers::erased_at.is_null()))
        .set((
            // unique, and says nothing of the person
            customers::customer_number.eq(format!("erased:{key}")),
            customers::first_name.eq(""),
            customers::last_name.eq(""),
            customers::date_of_birth.eq(NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default()),
            customers::gender.eq(""),
            customers::nationality.eq(""),
            customers::postal_code.eq(None::<String>),
            customers::district.eq(None::<String>),
            customers::household_id.eq(None::<String>),
            customers::vocational_qualification.eq(""),
            customers::german_level.eq(""),
            (
                customers::health_restrictions.eq(false),
                customers::severely_disabled.eq(false),
                customers::rehabilitant.eq(false),
                customers::refugee.eq(false),
                customers::solo_self_employed.eq(false),
                customers::job_ready.eq(false),
                customers::seriously_impeded_placement.eq(false),
                customers::legal_hold.eq(false),
            ),
            (
                customers::benefit_spells.eq("[]"),
                customers::unemployment_spells.eq("[]"),
                customers::employment_spells.eq("[]"),
                customers::self_employment_spells.eq("[]"),
                customers::prior_participations.eq("[]"),
                customers::contact.eq("{}"),
                customers::merge_reason.eq(None::<String>),
                customers::closed_on.eq(None::<NaiveDate>),
                customers::closure_reason.eq(None::<String>),
            ),
            customers::erased_at.eq(Some(to_db_time(now))),
            customers::version.eq(customers::version + 1),
            customers::updated_at.eq(to_db_time(now)),
        ))
        .execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    crate::customer_search::forget(conn, id)
}

/// Whether the customer's row is erased (and so only a pseudonym).
pub fn is_erased(conn: &mut DbConnection, id: CustomerId) -> StoreResult<bool> {
    let at: Option<chrono::NaiveDateTime> = customers::table
        .find(id.to_string())
        .select(customers::erased_at)
        .first(conn)?;
    Ok(at.is_some())
}

/// Locks the customer's row until the transaction ends (PostgreSQL: `FOR UPDATE`; SQLite
/// has one writer): a closure, a reopening, a legal hold, a placement (`hold`) or an
/// erasure of the same person waits for this one and then sees what it wrote.
pub fn lock(conn: &mut DbConnection, id: CustomerId) -> StoreResult<()> {
    if let DbConnection::Postgresql(pg) = conn {
        diesel::sql_query("SELECT id FROM customers WHERE id = $1 FOR UPDATE")
            .bind::<diesel::sql_types::Text, _>(id.to_string())
            .execute(pg)?;
    }
    Ok(())
}

/// The customer number as stored (also of a tombstone), if the row exists.
pub fn number_of(conn: &mut DbConnection, id: CustomerId) -> StoreResult<Option<String>> {
    Ok(customers::table
        .find(id.to_string())
        .select(customers::customer_number)
        .first(conn)
        .optional()?)
}
