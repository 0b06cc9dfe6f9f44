//! Bedarfsgemeinschaften and their members.

use diesel::prelude::*;
use passgenau_domain::household::{HouseholdData, HouseholdMember};
use passgenau_domain::ids::{CustomerId, HouseholdId, MemberId};

use crate::codec::{enum_from_str, enum_to_str, id_from_str, opt_id};
use crate::connection::DbConnection;
use crate::error::{StoreError, StoreResult};
use crate::personal::{Personal, Subjects};
use crate::records::{from_db_time, to_db_time, Meta, Page, PageOf};
use crate::schema::{household_members, households};

#[derive(Debug, Clone, PartialEq)]
pub struct HouseholdRecord {
    pub meta: Meta<HouseholdId>,
    pub data: HouseholdData,
    pub members: Vec<HouseholdMember>,
}

/// The household itself and every member with a customer record.
impl Subjects for HouseholdRecord {
    fn subjects(&self) -> Vec<(Option<CustomerId>, Option<HouseholdId>)> {
        std::iter::once((None, Some(self.meta.id)))
            .chain(
                self.members
                    .iter()
                    .filter_map(|m| m.customer_id.map(|c| (Some(c), Some(self.meta.id)))),
            )
            .collect()
    }
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = households)]
#[diesel(treat_none_as_null = true)]
struct HouseholdRow {
    id: String,
    household_number: String,
    district: Option<String>,
    version: i64,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = household_members)]
struct MemberRow {
    id: String,
    household_id: String,
    customer_id: Option<String>,
    role: String,
    date_of_birth: chrono::NaiveDate,
    created_at: chrono::NaiveDateTime,
}

fn row(meta: &Meta<HouseholdId>, data: &HouseholdData) -> HouseholdRow {
    HouseholdRow {
        id: meta.id.to_string(),
        household_number: data.household_number.clone(),
        district: data.district.clone(),
        version: meta.version,
        created_at: to_db_time(meta.created_at),
        updated_at: to_db_time(meta.updated_at),
    }
}

fn member(r: MemberRow) -> StoreResult<(HouseholdId, HouseholdMember)> {
    Ok((
        id_from_str(&r.household_id)?,
        HouseholdMember {
            id: id_from_str(&r.id)?,
            customer_id: opt_id(r.customer_id.as_deref())?,
            role: enum_from_str(&r.role)?,
            date_of_birth: r.date_of_birth,
        },
    ))
}

fn duplicate_number(e: diesel::result::Error) -> StoreError {
    match StoreError::from(e) {
        StoreError::Conflict { .. } => StoreError::Conflict {
            code: "duplicate_household_number",
            message: "a household with this household_number exists".into(),
        },
        other => other,
    }
}

pub fn insert(conn: &mut DbConnection, meta: &Meta<HouseholdId>, data: &HouseholdData) -> StoreResult<()> {
    diesel::insert_into(households::table)
        .values(row(meta, data))
        .execute(conn)
        .map_err(duplicate_number)?;
    Ok(())
}

/// Members of the given households, grouped by household ID.
fn members_of(conn: &mut DbConnection, ids: &[String]) -> StoreResult<Vec<(HouseholdId, HouseholdMember)>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(1_000) {
        let rows = household_members::table
            .filter(household_members::household_id.eq_any(chunk))
            .order(household_members::id.asc())
            .select(MemberRow::as_select())
            .load(conn)?;
        for r in rows {
            out.push(member(r)?);
        }
    }
    Ok(out)
}

fn assemble(conn: &mut DbConnection, rows: Vec<HouseholdRow>) -> StoreResult<Vec<HouseholdRecord>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut by_household: std::collections::HashMap<HouseholdId, Vec<HouseholdMember>> = Default::default();
    for (h, m) in members_of(conn, &ids)? {
        by_household.entry(h).or_default().push(m);
    }
    rows.into_iter()
        .map(|r| {
            let id = id_from_str(&r.id)?;
            Ok(HouseholdRecord {
                meta: Meta {
                    id,
                    version: r.version,
                    created_at: from_db_time(r.created_at),
                    updated_at: from_db_time(r.updated_at),
                },
                data: HouseholdData {
                    household_number: r.household_number,
                    district: r.district,
                },
                members: by_household.remove(&id).unwrap_or_default(),
            })
        })
        .collect()
}

pub fn get(conn: &mut DbConnection, id: HouseholdId) -> StoreResult<Personal<HouseholdRecord>> {
    let r = households::table
        .find(id.to_string())
        .select(HouseholdRow::as_select())
        .get_result(conn)?;
    Ok(Personal::seal(assemble(conn, vec![r])?.remove(0)))
}

/// Households by ID with their members, in no particular order; unknown IDs are left out.
pub fn get_many(conn: &mut DbConnection, ids: &[HouseholdId]) -> StoreResult<Personal<Vec<HouseholdRecord>>> {
    let keys: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let mut rows = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(1_000) {
        rows.extend(
            households::table
                .filter(households::id.eq_any(chunk))
                .select(HouseholdRow::as_select())
                .load(conn)?,
        );
    }
    Ok(Personal::seal(assemble(conn, rows)?))
}

/// How many members a household has; `NotFound` when there is no such household.
pub fn member_count(conn: &mut DbConnection, id: HouseholdId) -> StoreResult<usize> {
    let key = id.to_string();
    let exists: i64 = households::table
        .filter(households::id.eq(&key))
        .count()
        .get_result(conn)?;
    if exists == 0 {
        return Err(StoreError::NotFound);
    }
    let n: i64 = household_members::table
        .filter(household_members::household_id.eq(&key))
        .count()
        .get_result(conn)?;
    Ok(n as usize)
}

/// The members of one household (for deriving a customer's target groups).
pub fn members(conn: &mut DbConnection, household_id: HouseholdId) -> StoreResult<Vec<HouseholdMember>> {
    // `=` rather than `IN (…)`: diesel does not cache statements with a bound list, so
    // SQLite would re-prepare this one on every recommendation and eligibility request.
    // on the concrete connection: see `on_backend!`
    let key = household_id.to_string();
    let rows: Vec<MemberRow> = crate::on_backend!(conn, |c| household_members::table
        .filter(household_members::household_id.eq(&key))
        .order(household_members::id.asc())
        .select(MemberRow::as_select())
        .load(c))?;
    rows.into_iter().map(|r| member(r).map(|(_, m)| m)).collect()
}

/// Members of many households at once, keyed by household.
pub fn members_by_household(
    conn: &mut DbConnection,
    household_ids: &[HouseholdId],
) -> StoreResult<std::collections::HashMap<HouseholdId, Vec<HouseholdMember>>> {
    let ids: Vec<String> = household_ids.iter().map(ToString::to_string).collect();
    let mut map: std::collections::HashMap<HouseholdId, Vec<HouseholdMember>> = Default::default();
    for (h, m) in members_of(conn, &ids)? {
        map.entry(h).or_default().push(m);
    }
    Ok(map)
}

pub fn list(
    conn: &mut DbConnection,
    household_number: Option<&str>,
    district: Option<&str>,
    page: &Page,
) -> StoreResult<Personal<PageOf<HouseholdRecord>>> {
    let mut q = households::table.select(HouseholdRow::as_select()).into_boxed();
    if let Some(n) = household_number {
        q = q.filter(households::household_number.eq(n.to_string()));
    }
    if let Some(d) = district {
        q = q.filter(households::district.eq(d.to_string()));
    }
    if let Some(after) = &page.after {
        q = q.filter(households::id.gt(after.clone()));
    }
    let rows = q.order(households::id.asc()).limit(page.limit + 1).load(conn)?;
    let recs = assemble(conn, rows)?;
    Ok(Personal::seal(PageOf::from_rows(recs, page.limit, |r| {
        r.meta.id.to_string()
    })))
}

pub fn update(
    conn: &mut DbConnection,
    meta: &Meta<HouseholdId>,
    data: &HouseholdData,
    expected_version: i64,
) -> StoreResult<()> {
    let n = diesel::update(
        households::table
            .filter(households::id.eq(meta.id.to_string()))
            .filter(households::version.eq(expected_version)),
    )
    .set(row(meta, data))
    .execute(conn)
    .map_err(duplicate_number)?;
    if n == 0 {
        // only whether it exists (NotFound rather than stale): the record stays sealed
        drop(get(conn, meta.id)?);
        return Err(StoreError::PreconditionFailed);
    }
    Ok(())
}

/// Bumps the household's version (its members are part of its representation).
pub fn touch(
    conn: &mut DbConnection,
    id: HouseholdId,
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<()> {
    let n = diesel::update(households::table.find(id.to_string()))
        .set((
            households::version.eq(households::version + 1),
            households::updated_at.eq(to_db_time(now)),
        ))
        .execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub fn add_member(
    conn: &mut DbConnection,
    household_id: HouseholdId,
    m: &HouseholdMember,
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<()> {
    diesel::insert_into(household_members::table)
        .values(MemberRow {
            id: m.id.to_string(),
            household_id: household_id.to_string(),
            customer_id: m.customer_id.map(|c| c.to_string()),
            role: enum_to_str(&m.role),
            date_of_birth: m.date_of_birth,
            created_at: to_db_time(now),
        })
        .execute(conn)
        .map_err(|e| match StoreError::from(e) {
            StoreError::Conflict { .. } => StoreError::Conflict {
                code: "already_member",
                message: "this customer already belongs to a household".into(),
            },
            other => other,
        })?;
    Ok(())
}

/// Removes a member; returns the removed member, or NotFound when it is not in that
/// household.
pub fn remove_member(
    conn: &mut DbConnection,
    household_id: HouseholdId,
    member_id: MemberId,
) -> StoreResult<HouseholdMember> {
    let r = household_members::table
        .filter(household_members::id.eq(member_id.to_string()))
        .filter(household_members::household_id.eq(household_id.to_string()))
        .select(MemberRow::as_select())
        .get_result(conn)?;
    let (_, m) = member(r)?;
    diesel::delete(household_members::table.find(member_id.to_string())).execute(conn)?;
    Ok(m)
}

/// Inserts many households with their members (the demo seed).
pub fn insert_many(
    conn: &mut DbConnection,
    households: &[(Meta<HouseholdId>, HouseholdData)],
    members: &[(HouseholdId, HouseholdMember)],
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<()> {
    let rows: Vec<HouseholdRow> = households.iter().map(|(m, d)| row(m, d)).collect();
    crate::insert_rows!(&mut *conn, households::table, &rows, 2_000).map_err(duplicate_number)?;
    let rows: Vec<MemberRow> = members
        .iter()
        .map(|(h, m)| MemberRow {
            id: m.id.to_string(),
            household_id: h.to_string(),
            customer_id: m.customer_id.map(|c| c.to_string()),
            role: enum_to_str(&m.role),
            date_of_birth: m.date_of_birth,
            created_at: to_db_time(now),
        })
        .collect();
    crate::insert_rows!(&mut *conn, household_members::table, &rows, 3_000)?;
    Ok(())
}
