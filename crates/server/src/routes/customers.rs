//! Customers over HTTP: the use cases are `app::customers`; here the bodies, the roles and
//! the answers. Target groups are derived on every read as of today or `?as_of=`.

use actix_web::http::StatusCode;
use actix_web::{get, patch, post};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use passgenau_domain::household::HouseholdMember;
use passgenau_domain::ids::{CustomerId, HouseholdId};
use passgenau_domain::search::{MatchKind, Query};
use passgenau_domain::{target_groups, CustomerData, TargetGroup};
use passgenau_store::customers::{CustomerFilter, CustomerRecord};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{today, with_etag};
use crate::app::merges::{self, MergeRequest};
use crate::app::{customers, idempotency};
use crate::auth::{Caller, CASEWORK};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{idempotency_key, if_match_versions, route_of, ApiJson, JsonBytes, Pagination};
use crate::patch::MergePatch;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_customer)
        .service(get_customer)
        .service(list_customers)
        .service(update_customer)
        .service(merge_customers);
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
    /// The case's closure (`PUT /customers/{id}/closure`; read-only here): the retention
    /// period begins the day after `closed_on`. `null` while the case is open.
    #[serde(default)]
    pub closure: Option<passgenau_domain::retention::Closure>,
    /// Derived from the records as of `as_of`; never stored.
    pub target_groups: Vec<TargetGroup>,
    pub as_of: NaiveDate,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// In answers to a search (`q`): how the customer matched.
    #[serde(rename = "match", default, skip_serializing_if = "Option::is_none")]
    pub r#match: Option<MatchKind>,
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
        closure: rec.closure.clone(),
        target_groups: target_groups::derive(rec.meta.id, &rec.data, members, as_of),
        as_of,
        version: rec.meta.version,
        created_at: rec.meta.created_at,
        updated_at: rec.meta.updated_at,
        r#match: None,
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
    /// Search: a customer number, or names (case, accents, `ä` = `ae`, `ß` = `ss` ignored),
    /// their beginnings, or their sound (Kölner Phonetik). Best matches first, each with
    /// `match`; at most `limit`, no cursor.
    pub q: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub customer_number: Option<String>,
    pub last_name: Option<String>,
    pub district: Option<String>,
    pub postal_code: Option<String>,
    pub household_id: Option<HouseholdId>,
    pub as_of: Option<NaiveDate>,
}

/// The body of `POST /customers`: the record, and whether the caller checked that the
/// person is not one of the probable duplicates a first try answered.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewCustomer {
    #[serde(flatten)]
    pub data: CustomerData,
    /// `true` records the person although a recorded one has the same date of birth and a
    /// name alike (the audit entry of the create names it).
    #[serde(default)]
    pub confirm_distinct_person: bool,
}

/// Create a customer
///
/// A person probably recorded already (the same date of birth, first and last names alike
/// in spelling or sound) is 409 `possible_duplicate` with `candidates`; the same body with
/// `"confirm_distinct_person": true` records them. Honours `Idempotency-Key`: the same key
/// with the same body replays the first answer; with another body it is 422
/// `idempotency_key_reused`.
#[utoipa::path(tag = "customers",
    request_body = NewCustomer,
    params(("Idempotency-Key" = Option<String>, Header, description = "makes a retry safe")),
    responses(
        (status = 201, description = "created", body = CustomerResponse),
        (status = 400, description = "malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "duplicate_customer_number, or possible_duplicate with candidates", body = Problem, content_type = "application/problem+json"),
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
    let (data, confirm_distinct) =
        crate::extract::parse_json_with_flag::<CustomerData>(&body, customers::CONFIRMED_DISTINCT)?;
    customers::precheck(&data, today())?;
    let route = route_of(&req);
    let request_hash = idempotency::hash(&body);
    let answer = state
        .db(move |store| {
            Ok(customers::create(
                store,
                &caller,
                &route,
                key.as_deref(),
                &request_hash,
                data,
                confirm_distinct,
                today(),
                |rec| serde_json::to_string(&respond(rec, &[], today())).expect("responses serialise"),
            )?)
        })
        .await?;
    Ok(super::replay(answer, "/api/v1/customers"))
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
        .db_audited(move |store, audit| Ok(customers::get(store, audit, &caller, &route, id)?))
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
    let search = match q.q.as_deref().map(Query::parse).transpose() {
        Ok(search) => search,
        Err(message) => return Err(ApiError::bad_request("invalid_query", "q", message)),
    };
    if search.is_some() && page.after.is_some() {
        return Err(ApiError::bad_request(
            "invalid_query",
            "cursor",
            "a search answers its best matches at once: no cursor",
        ));
    }
    let filter = CustomerFilter {
        date_of_birth: q.date_of_birth,
        customer_number: q.customer_number,
        last_name: q.last_name,
        district: q.district,
        postal_code: q.postal_code,
        household_id: q.household_id,
    };
    let route = route_of(&req);
    if let Some(query) = search {
        let limit = usize::try_from(page.limit).unwrap_or(0);
        let list = state
            .db_audited(move |store, audit| {
                let (found, members) =
                    customers::search(store, audit, &caller, &route, &query, &filter, limit)?;
                let items = found
                    .iter()
                    .map(|(c, kind)| {
                        let m = c
                            .household_id
                            .and_then(|h| members.get(&h))
                            .map(Vec::as_slice)
                            .unwrap_or(&[]);
                        CustomerResponse {
                            r#match: Some(*kind),
                            ..respond(c, m, as_of)
                        }
                    })
                    .collect();
                Ok(CustomerList {
                    items,
                    next_cursor: None,
                })
            })
            .await?;
        return Ok(HttpResponse::Ok().json(list));
    }
    let list = state
        .db_audited(move |store, audit| {
            let (page, members) = customers::list(store, audit, &caller, &route, &filter, &page)?;
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
        .await?;
    Ok(HttpResponse::Ok().json(list))
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
    let versions = if_match_versions(&req)?;
    let route = route_of(&req);
    let (rec, members) = state
        .db(move |store| {
            Ok(customers::update(
                store,
                &caller,
                &route,
                id,
                versions.as_deref(),
                patch,
                today(),
            )?)
        })
        .await?;
    Ok(with_etag(
        StatusCode::OK,
        rec.meta.version,
        &respond(&rec, &members, today()),
    ))
}

/// Merge a duplicate into this customer
///
/// The duplicate's placements (with their history), waiting-list entries, proposals,
/// prior participations and household membership move to this record in one
/// transaction; the duplicate then answers 404 with `merged_into`. 409 `merge_conflict`
/// (nothing changes) when both hold an active place in one offer, await a decision in
/// one cohort run, or belong to two households.
#[utoipa::path(tag = "customers",
    params(("id" = Uuid, Path, description = "the record that survives")),
    request_body = MergeRequest,
    responses(
        (status = 200, description = "the surviving record", body = CustomerResponse),
        (status = 400, description = "malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "unknown customer (or merged: `merged_into`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "merge_conflict", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation_failed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[post("/customers/{id}/merge")]
pub async fn merge_customers(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<CustomerId>,
    ApiJson(body): ApiJson<MergeRequest>,
) -> ApiResult<HttpResponse> {
    caller.require(CASEWORK)?;
    let id = id.into_inner();
    merges::precheck(id, &body)?;
    let route = route_of(&req);
    let (rec, members) = state
        .db(move |store| Ok(merges::merge(store, &caller, &route, id, &body)?))
        .await?;
    Ok(with_etag(
        StatusCode::OK,
        rec.meta.version,
        &respond(&rec, &members, today()),
    ))
}
