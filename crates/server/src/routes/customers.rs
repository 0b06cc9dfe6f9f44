//! Customers: create, read, list, update. Every read and change is audited; target groups
//! are derived on every read as of today or `?as_of=`.

use actix_web::http::StatusCode;
use actix_web::{get, patch, post};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use passgenau_domain::customer::check_not_future;
use passgenau_domain::household::HouseholdMember;
use passgenau_domain::ids::{CustomerId, HouseholdId};
use passgenau_domain::{target_groups, CustomerData, TargetGroup, Validate};
use passgenau_store::audit::{self, Action};
use passgenau_store::customers::{self as repo, CustomerFilter, CustomerRecord};
use passgenau_store::{households, instruments, Meta, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{audit_entries, today, with_etag};
use crate::auth::{Caller, CASEWORK};
use crate::error::{check_fields, missing, ApiError, ApiResult, Problem};
use crate::extract::{check_if_match, idempotency_key, if_match, route_of, ApiJson, JsonBytes, Pagination};
use crate::patch::MergePatch;
use crate::services::idempotency;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_customer)
        .service(get_customer)
        .service(list_customers)
        .service(update_customer);
}

/// A customer as the API shows it: the recorded data, the household link and the target
/// groups derived as of `as_of`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CustomerResponse {
    pub id: CustomerId,
    #[serde(flatten)]
    pub data: CustomerData,
    /// Set by the household membership routes (read-only here).
    pub household_id: Option<HouseholdId>,
    /// Derived from the records as of `as_of`; never stored.
    pub target_groups: Vec<TargetGroup>,
    pub as_of: NaiveDate,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CustomerList {
    pub items: Vec<CustomerResponse>,
    pub next_cursor: Option<String>,
}

pub fn respond(rec: &CustomerRecord, members: &[HouseholdMember], as_of: NaiveDate) -> CustomerResponse {
    CustomerResponse {
        id: rec.meta.id,
        data: rec.data.clone(),
        household_id: rec.household_id,
        target_groups: target_groups::derive(rec.meta.id, &rec.data, members, as_of),
        as_of,
        version: rec.meta.version,
        created_at: rec.meta.created_at,
        updated_at: rec.meta.updated_at,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AsOf {
    /// Reference date for derived values (default: today).
    pub as_of: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomerQuery {
    pub customer_number: Option<String>,
    pub last_name: Option<String>,
    pub district: Option<String>,
    pub postal_code: Option<String>,
    pub household_id: Option<HouseholdId>,
    pub as_of: Option<NaiveDate>,
}

/// What needs the day and the catalogue beside the record's own checks (`Validate`): no
/// date of birth or prior participation in the future, prior participations of known
/// instruments (each code looked up once).
fn day_errors(
    conn: &mut passgenau_store::DbConnection,
    data: &CustomerData,
) -> ApiResult<Vec<passgenau_domain::FieldError>> {
    let mut codes: Vec<&str> = data
        .prior_participations
        .iter()
        .map(|p| p.instrument_code.as_str())
        .collect();
    codes.sort_unstable();
    codes.dedup();
    let mut known = Vec::with_capacity(codes.len());
    for code in codes {
        match instruments::get(conn, code) {
            Ok(_) => known.push(code),
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(data.validate_on(today(), &|code| known.contains(&code)))
}

/// Every check of a customer record, reported together.
fn validate_record(conn: &mut passgenau_store::DbConnection, data: &CustomerData) -> ApiResult<()> {
    let mut errors = data.validate();
    errors.extend(day_errors(conn, data)?);
    check_fields(errors)
}

fn load_members(
    conn: &mut passgenau_store::DbConnection,
    rec: &CustomerRecord,
) -> Result<Vec<HouseholdMember>, StoreError> {
    match rec.household_id {
        Some(h) => households::members(conn, h),
        None => Ok(Vec::new()),
    }
}

/// Create a customer
///
/// Honours `Idempotency-Key`: the same key with the same body replays the first answer;
/// with another body it is 422 `idempotency_key_reused`.
#[utoipa::path(tag = "customers",
    request_body = CustomerData,
    params(("Idempotency-Key" = Option<String>, Header, description = "makes a retry safe")),
    responses(
        (status = 201, description = "created", body = CustomerResponse),
        (status = 400, description = "malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "duplicate_customer_number", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation_failed or idempotency_key_reused", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[post("/customers")]
pub async fn create_customer(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    JsonBytes(body): JsonBytes,
) -> ApiResult<HttpResponse> {
    caller.require(CASEWORK)?;
    let key = idempotency_key(&req)?;
    let data: CustomerData = crate::extract::parse_json(&body)?;
    // what needs no database first: a malformed record opens no transaction
    let mut errors = data.validate();
    errors.extend(check_not_future("date_of_birth", data.date_of_birth, today()));
    check_fields(errors)?;
    let route = route_of(&req);
    let request_hash = idempotency::hash(&body);
    let answer = state
        .db(move |store| {
            store.write(|conn| {
                idempotency::run(conn, &caller, &route, key.as_deref(), &request_hash, |conn| {
                    check_fields(day_errors(conn, &data)?)?;
                    let rec = CustomerRecord {
                        meta: Meta::new(passgenau_domain::ids::new_id(), passgenau_store::records::now()),
                        household_id: None,
                        data,
                    };
                    repo::insert(conn, &rec)?;
                    audit::append(
                        conn,
                        &audit_entries(&caller, Action::Create, &route, [(Some(rec.meta.id), None)]),
                    )?;
                    Ok(idempotency::Answer {
                        status: 201,
                        body: serde_json::to_string(&respond(&rec, &[], today()))
                            .map_err(|_| ApiError::internal())?,
                    })
                })
            })
        })
        .await?;
    Ok(answer.into_response())
}

/// Read a customer
#[utoipa::path(tag = "customers",
    params(("id" = Uuid, Path), AsOf),
    responses(
        (status = 200, description = "the customer", body = CustomerResponse),
        (status = 404, description = "unknown customer", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/customers/{id}")]
pub async fn get_customer(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<CustomerId>,
    q: web::Query<AsOf>,
) -> ApiResult<HttpResponse> {
    caller.require(CASEWORK)?;
    let id = id.into_inner();
    let as_of = q.as_of.unwrap_or_else(today);
    let route = route_of(&req);
    let (rec, members) = state
        .db_audited(move |store, audit| {
            store
                .read(|conn| {
                    let rec = repo::get(conn, id)?;
                    let members = load_members(conn, &rec)?;
                    audit.reads(store, &caller, &route, [(Some(id), rec.household_id)]);
                    Ok((rec, members))
                })
                .map_err(missing("customer"))
        })
        .await?;
    Ok(with_etag(
        StatusCode::OK,
        rec.meta.version,
        &respond(&rec, &members, as_of),
    ))
}

/// List customers
#[utoipa::path(tag = "customers",
    params(CustomerQuery, Pagination),
    responses(
        (status = 200, description = "a page of customers", body = CustomerList),
        (status = 400, description = "bad query", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/customers")]
pub async fn list_customers(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    q: web::Query<CustomerQuery>,
    p: web::Query<Pagination>,
) -> ApiResult<HttpResponse> {
    caller.require(CASEWORK)?;
    let page = p.uuid_page()?;
    let q = q.into_inner();
    let as_of = q.as_of.unwrap_or_else(today);
    let filter = CustomerFilter {
        customer_number: q.customer_number,
        last_name: q.last_name,
        district: q.district,
        postal_code: q.postal_code,
        household_id: q.household_id,
    };
    let route = route_of(&req);
    let list = state
        .db_audited(move |store, audit| {
            store.read(|conn| {
                let page = repo::list(conn, &filter, &page)?;
                let hh: Vec<HouseholdId> = page.items.iter().filter_map(|c| c.household_id).collect();
                let members = households::members_by_household(conn, &hh)?;
                audit.reads(
                    store,
                    &caller,
                    &route,
                    page.items.iter().map(|c| (Some(c.meta.id), c.household_id)),
                );
                let items = page
                    .items
                    .iter()
                    .map(|c| {
                        let m = c
                            .household_id
                            .and_then(|h| members.get(&h))
                            .map(Vec::as_slice)
                            .unwrap_or(&[]);
                        respond(c, m, as_of)
                    })
                    .collect();
                Ok(CustomerList {
                    items,
                    next_cursor: page.next,
                })
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Names of the top-level fields that differ between two versions of a record.
fn changed_fields(before: &CustomerData, after: &CustomerData) -> String {
    let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return String::new();
    };
    a.iter()
        .filter(|(k, v)| b.get(*k) != Some(*v))
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// The body of the PATCH of a `CustomerData`.
pub type CustomerPatch = MergePatch<CustomerData>;

/// Update a customer
///
/// A JSON merge patch (RFC 7396) of the fields of `POST /customers`; the result is
/// validated as a whole. Send `If-Match` with the `ETag` you read to avoid lost updates.
#[utoipa::path(tag = "customers",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version you read")),
    request_body(content = CustomerPatch, description = "the fields to change"),
    responses(
        (status = 200, description = "updated", body = CustomerResponse),
        (status = 400, description = "malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "unknown customer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "duplicate_customer_number", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation_failed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[patch("/customers/{id}")]
pub async fn update_customer(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<CustomerId>,
    ApiJson(patch): ApiJson<CustomerPatch>,
) -> ApiResult<HttpResponse> {
    caller.require(CASEWORK)?;
    let id = id.into_inner();
    let tags = if_match(&req)?;
    let route = route_of(&req);
    let (rec, members) = state
        .db(move |store| {
            store.write(|conn| {
                let current = repo::get(conn, id).map_err(missing("customer"))?;
                check_if_match(&tags, current.meta.version)?;
                let data: CustomerData = patch.apply(&current.data)?;
                validate_record(conn, &data)?;
                let mut rec = current.clone();
                rec.data = data;
                rec.meta.version += 1;
                rec.meta.updated_at = passgenau_store::records::now();
                repo::update(conn, &rec, current.meta.version)?;
                let mut entries =
                    audit_entries(&caller, Action::Update, &route, [(Some(id), rec.household_id)]);
                entries[0].fields = Some(changed_fields(&current.data, &rec.data));
                audit::append(conn, &entries)?;
                let members = load_members(conn, &rec)?;
                Ok((rec, members))
            })
        })
        .await?;
    Ok(with_etag(
        StatusCode::OK,
        rec.meta.version,
        &respond(&rec, &members, today()),
    ))
}
