//! Offers: places of an instrument at a provider.

use chrono::NaiveDate;
use diesel::prelude::*;
use passgenau_domain::ids::{OfferId, ProviderId};
use passgenau_domain::offer::OfferData;

use crate::codec::{enum_from_str, enum_to_str, id_from_str, json_from_str, json_to_str};
use crate::connection::DbConnection;
use crate::error::{StoreError, StoreResult};
use crate::records::{from_db_time, to_db_time, Meta, Page, PageOf};
use crate::schema::offers;

#[derive(Debug, Clone, PartialEq)]
pub struct OfferRecord {
    pub meta: Meta<OfferId>,
    pub data: OfferData,
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = offers)]
#[diesel(treat_none_as_null = true)]
struct OfferRow {
    id: String,
    instrument_code: String,
    provider_id: String,
    title: String,
    district: String,
    postal_code: Option<String>,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    entry: String,
    planned_places: i32,
    max_places: i32,
    cost_per_place_cents: i64,
    target_groups: String,
    min_age: Option<i32>,
    max_age: Option<i32>,
    min_german_level: Option<String>,
    status: String,
    version: i64,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
    max_german_level: Option<String>,
    measure_approved_until: Option<NaiveDate>,
    intake_status: String,
    intake_reason: Option<String>,
    places_now: Option<i32>,
    intake_changed_at: Option<chrono::NaiveDateTime>,
    intake_changed_by: Option<String>,
}

impl From<&OfferRecord> for OfferRow {
    fn from(r: &OfferRecord) -> Self {
        let d = &r.data;
        OfferRow {
            id: r.meta.id.to_string(),
            instrument_code: d.instrument_code.clone(),
            provider_id: d.provider_id.to_string(),
            title: d.title.clone(),
            district: d.district.clone(),
            postal_code: d.postal_code.clone(),
            starts_on: d.starts_on,
            ends_on: d.ends_on,
            entry: enum_to_str(&d.entry),
            planned_places: d.planned_places,
            max_places: d.max_places,
            cost_per_place_cents: d.cost_per_place_cents,
            target_groups: json_to_str(&d.target_groups),
            min_age: d.min_age,
            max_age: d.max_age,
            min_german_level: d.min_german_level.as_ref().map(enum_to_str),
            status: enum_to_str(&d.status),
            version: r.meta.version,
            created_at: to_db_time(r.meta.created_at),
            updated_at: to_db_time(r.meta.updated_at),
            max_german_level: d.max_german_level.as_ref().map(enum_to_str),
            measure_approved_until: d.measure_approved_until,
            intake_status: enum_to_str(&d.intake.status),
            intake_reason: d.intake.reason.clone(),
            places_now: d.intake.places_now,
            intake_changed_at: d.intake.changed_at.map(to_db_time),
            intake_changed_by: d.intake.changed_by.clone(),
        }
    }
}

impl TryFrom<OfferRow> for OfferRecord {
    type Error = StoreError;
    fn try_from(r: OfferRow) -> StoreResult<Self> {
        Ok(OfferRecord {
            meta: Meta {
                id: id_from_str(&r.id)?,
                version: r.version,
                created_at: from_db_time(r.created_at),
                updated_at: from_db_time(r.updated_at),
            },
            data: OfferData {
                instrument_code: r.instrument_code,
                provider_id: id_from_str(&r.provider_id)?,
                title: r.title,
                district: r.district,
                postal_code: r.postal_code,
                starts_on: r.starts_on,
                ends_on: r.ends_on,
                entry: enum_from_str(&r.entry)?,
                planned_places: r.planned_places,
                max_places: r.max_places,
                cost_per_place_cents: r.cost_per_place_cents,
                target_groups: json_from_str(&r.target_groups)?,
                min_age: r.min_age,
                max_age: r.max_age,
                min_german_level: r.min_german_level.as_deref().map(enum_from_str).transpose()?,
                max_german_level: r.max_german_level.as_deref().map(enum_from_str).transpose()?,
                measure_approved_until: r.measure_approved_until,
                status: enum_from_str(&r.status)?,
                intake: passgenau_domain::offer::Intake {
                    status: enum_from_str(&r.intake_status)?,
                    reason: r.intake_reason,
                    places_now: r.places_now,
                    changed_at: r.intake_changed_at.map(from_db_time),
                    changed_by: r.intake_changed_by,
                },
            },
        })
    }
}

fn reference_error(e: diesel::result::Error) -> StoreError {
    match StoreError::from(e) {
        StoreError::Reference { .. } => StoreError::Reference {
            field: "instrument_code",
            message: "unknown instrument or provider".into(),
        },
        other => other,
    }
}

pub fn insert(conn: &mut DbConnection, rec: &OfferRecord) -> StoreResult<()> {
    diesel::insert_into(offers::table)
        .values(OfferRow::from(rec))
        .execute(conn)
        .map_err(reference_error)?;
    Ok(())
}

pub fn get(conn: &mut DbConnection, id: OfferId) -> StoreResult<OfferRecord> {
    // on the concrete connection: see `on_backend!`
    let key = id.to_string();
    let row: OfferRow = crate::on_backend!(conn, |c| offers::table
        .find(&key)
        .select(OfferRow::as_select())
        .get_result(c))?;
    row.try_into()
}

/// Applies an [`OfferFilter`] to a boxed offers query (a macro: the boxed query's type
/// differs with its selection).
macro_rules! filtered {
    ($q:expr, $f:expr) => {{
        let mut q = $q;
        let f: &OfferFilter = $f;
        if let Some(v) = &f.instrument_code {
            q = q.filter(offers::instrument_code.eq(v.clone()));
        }
        if let Some(v) = f.provider_id {
            q = q.filter(offers::provider_id.eq(v.to_string()));
        }
        if let Some(v) = &f.district {
            q = q.filter(offers::district.eq(v.clone()));
        }
        if let Some(v) = &f.status {
            q = q.filter(offers::status.eq(v.clone()));
        }
        if let Some(v) = f.starts_from {
            q = q.filter(offers::starts_on.ge(v));
        }
        if let Some(v) = f.starts_to {
            q = q.filter(offers::starts_on.le(v));
        }
        q
    }};
}

#[derive(Debug, Clone, Default)]
pub struct OfferFilter {
    pub instrument_code: Option<String>,
    pub provider_id: Option<ProviderId>,
    pub district: Option<String>,
    pub status: Option<String>,
    pub starts_from: Option<NaiveDate>,
    pub starts_to: Option<NaiveDate>,
}

pub fn list(conn: &mut DbConnection, f: &OfferFilter, page: &Page) -> StoreResult<PageOf<OfferRecord>> {
    let mut q = offers::table.select(OfferRow::as_select()).into_boxed();
    q = filtered!(q, f);
    if let Some(after) = &page.after {
        q = q.filter(offers::id.gt(after.clone()));
    }
    let rows = q.order(offers::id.asc()).limit(page.limit + 1).load(conn)?;
    let recs = rows
        .into_iter()
        .map(OfferRecord::try_from)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(PageOf::from_rows(recs, page.limit, |r| r.meta.id.to_string()))
}

pub fn update(conn: &mut DbConnection, rec: &OfferRecord, expected_version: i64) -> StoreResult<()> {
    let n = diesel::update(
        offers::table
            .filter(offers::id.eq(rec.meta.id.to_string()))
            .filter(offers::version.eq(expected_version)),
    )
    .set(OfferRow::from(rec))
    .execute(conn)
    .map_err(reference_error)?;
    if n == 0 {
        get(conn, rec.meta.id)?;
        return Err(StoreError::PreconditionFailed);
    }
    Ok(())
}

/// Every open offer that has not ended by `on` (no pagination: the engine ranks them all).
pub fn open_on(conn: &mut DbConnection, f: &OfferFilter, on: NaiveDate) -> StoreResult<Vec<OfferRecord>> {
    let mut q = offers::table
        .select(OfferRow::as_select())
        .filter(offers::status.eq("open"))
        .filter(offers::ends_on.ge(on))
        .into_boxed();
    q = filtered!(q, f);
    q.order(offers::id.asc())
        .load(conn)?
        .into_iter()
        .map(OfferRecord::try_from)
        .collect()
}

/// A page of open offers that have not ended by `on`, for availability.
pub fn list_running(
    conn: &mut DbConnection,
    f: &OfferFilter,
    on: NaiveDate,
    page: &Page,
) -> StoreResult<PageOf<OfferRecord>> {
    let mut q = offers::table
        .select(OfferRow::as_select())
        .filter(offers::ends_on.ge(on))
        .into_boxed();
    q = filtered!(q, f);
    if let Some(after) = &page.after {
        q = q.filter(offers::id.gt(after.clone()));
    }
    let rows = q.order(offers::id.asc()).limit(page.limit + 1).load(conn)?;
    let recs = rows
        .into_iter()
        .map(OfferRecord::try_from)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(PageOf::from_rows(recs, page.limit, |r| r.meta.id.to_string()))
}

/// What a screen shows of an offer beside a placement, proposal, recommendation or
/// waiting-list entry.
#[derive(Debug, Clone, PartialEq)]
pub struct OfferBrief {
    pub id: OfferId,
    pub title: String,
    pub instrument_code: String,
    pub provider_id: ProviderId,
    pub provider_name: String,
    pub district: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

/// id, title, instrument, provider id and name, district, start and end.
type BriefRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    NaiveDate,
    NaiveDate,
);

/// The briefs of these offers (with their providers' names), in one query per 1,000.
pub fn briefs(
    conn: &mut DbConnection,
    ids: &[OfferId],
) -> StoreResult<std::collections::HashMap<OfferId, OfferBrief>> {
    use crate::schema::providers;
    let mut keys: Vec<String> = ids.iter().map(ToString::to_string).collect();
    keys.sort_unstable();
    keys.dedup();
    let mut out = std::collections::HashMap::with_capacity(keys.len());
    for chunk in keys.chunks(1_000) {
        let rows: Vec<BriefRow> = offers::table
            .inner_join(providers::table)
            .filter(offers::id.eq_any(chunk))
            .select((
                offers::id,
                offers::title,
                offers::instrument_code,
                offers::provider_id,
                providers::name,
                offers::district,
                offers::starts_on,
                offers::ends_on,
            ))
            .load(conn)?;
        for (id, title, instrument_code, provider_id, provider_name, district, starts_on, ends_on) in rows {
            let id: OfferId = id_from_str(&id)?;
            out.insert(
                id,
                OfferBrief {
                    id,
                    title,
                    instrument_code,
                    provider_id: id_from_str(&provider_id)?,
                    provider_name,
                    district,
                    starts_on,
                    ends_on,
                },
            );
        }
    }
    Ok(out)
}
