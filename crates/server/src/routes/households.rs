//! Bedarfsgemeinschaften (§ 7 Abs. 3 SGB II) and their members. A member may be a customer
//! (then the customer's `household_id` follows the membership) or a person without a
//! customer record, e.g. a child.

use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use passgenau_domain::customer::check_not_future;
use passgenau_domain::household::{HouseholdData, HouseholdMember, HouseholdRole, MAX_MEMBERS};
use passgenau_domain::ids::{CustomerId, HouseholdId, MemberId};
use passgenau_domain::{FieldError, Validate};
use passgenau_store::audit::{self, Action};
use passgenau_store::households::{self as repo, HouseholdRecord};
use passgenau_store::{customers, DbConnection, Meta, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{audit_entries, today, with_etag};
use crate::auth::{Caller, CASEWORK};
use crate::error::{check_fields, missing, ApiError, ApiResult, Problem};
use crate::extract::{check_if_match, if_match, route_of, ApiJson, Pagination};
use crate::patch::MergePatch;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_household)
        .service(get_household)
        .service(list_households)
        .service(update_household)
        .service(add_member)
        .service(remove_member);
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MemberResponse {
    pub id: MemberId,
    pub customer_id: Option<CustomerId>,
    pub role: HouseholdRole,
    pub date_of_birth: NaiveDate,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HouseholdResponse {
    pub id: HouseholdId,
    pub household_number: String,
    pub district: Option<String>,
    pub members: Vec<MemberResponse>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HouseholdList {
    pub items: Vec<HouseholdResponse>,
    pub next_cursor: Option<String>,
}

/// A new member: either a customer (`customer_id`; the date of birth is taken from the
/// customer record) or a person without one (`date_of_birth` required).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    #[serde(default)]
    pub customer_id: Option<CustomerId>,
    pub role: HouseholdRole,
    #[serde(default)]
    pub date_of_birth: Option<NaiveDate>,
}

/// Body of `POST /households`; `members` may be given at once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHousehold {
    pub household_number: String,
    #[serde(default)]
    pub district: Option<String>,
    #[serde(default)]
    pub members: Vec<NewMember>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HouseholdQuery {
    pub household_number: Option<String>,
    pub district: Option<String>,
}

fn respond(r: &HouseholdRecord) -> HouseholdResponse {
    HouseholdResponse {
        id: r.meta.id,
        household_number: r.data.household_number.clone(),
        district: r.data.district.clone(),
        members: r.members.iter().map(member_response).collect(),
        version: r.meta.version,
        created_at: r.meta.created_at,
        updated_at: r.meta.updated_at,
    }
}

fn member_response(m: &HouseholdMember) -> MemberResponse {
    MemberResponse {
        id: m.id,
        customer_id: m.customer_id,
        role: m.role,
        date_of_birth: m.date_of_birth,
    }
}

/// Audit subjects of a household: the household itself and every member with a record.
fn subjects(r: &HouseholdRecord) -> Vec<(Option<CustomerId>, Option<HouseholdId>)> {
    std::iter::once((None, Some(r.meta.id)))
        .chain(
            r.members
                .iter()
                .filter_map(|m| m.customer_id.map(|c| (Some(c), Some(r.meta.id)))),
        )
        .collect()
}

/// Validates a new member and adds it inside the caller's transaction; links the customer.
fn insert_member(
    conn: &mut DbConnection,
    household_id: HouseholdId,
    existing: usize,
    new: &NewMember,
    field: &str,
) -> ApiResult<HouseholdMember> {
    if existing >= MAX_MEMBERS {
        return Err(ApiError::validation(vec![FieldError::new(
            field,
            format!("a household has at most {MAX_MEMBERS} members"),
        )]));
    }
    let now = passgenau_store::records::now();
    let date_of_birth = match (new.customer_id, new.date_of_birth) {
        (Some(cid), given) => {
            let c = customers::get(conn, cid).map_err(|e| match e {
                StoreError::NotFound => ApiError::validation(vec![FieldError::new(
                    format!("{field}.customer_id"),
                    "no such customer",
                )]),
                other => other.into(),
            })?;
            if given.is_some_and(|d| d != c.data.date_of_birth) {
                return Err(ApiError::validation(vec![FieldError::new(
                    format!("{field}.date_of_birth"),
                    "differs from the customer's date of birth; leave it out",
                )]));
            }
            c.data.date_of_birth
        }
        (None, Some(d)) => {
            check_fields(
                check_not_future(&format!("{field}.date_of_birth"), d, today())
                    .into_iter()
                    .collect(),
            )?;
            d
        }
        (None, None) => {
            return Err(ApiError::validation(vec![FieldError::new(
                format!("{field}.date_of_birth"),
                "required for a member without customer_id",
            )]))
        }
    };
    let m = HouseholdMember {
        id: passgenau_domain::ids::new_id(),
        customer_id: new.customer_id,
        role: new.role,
        date_of_birth,
    };
    repo::add_member(conn, household_id, &m, now)?;
    if let Some(cid) = m.customer_id {
        customers::set_household(conn, cid, Some(household_id), now)?;
    }
    Ok(m)
}

/// Create a household
#[utoipa::path(tag = "households",
    request_body = NewHousehold,
    responses(
        (status = 201, description = "created", body = HouseholdResponse),
        (status = 400, description = "malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "duplicate_household_number or already_member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation_failed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[post("/households")]
pub async fn create_household(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    ApiJson(body): ApiJson<NewHousehold>,
) -> ApiResult<HttpResponse> {
    caller.require(CASEWORK)?;
    let data = HouseholdData {
        household_number: body.household_number,
        district: body.district,
    };
    check_fields(data.validate())?;
    let route = route_of(&req);
    let rec = state
        .db(move |store| {
            store.write(|conn| {
                let meta = Meta::new(passgenau_domain::ids::new_id(), passgenau_store::records::now());
                repo::insert(conn, &meta, &data)?;
                for (i, m) in body.members.iter().enumerate() {
                    insert_member(conn, meta.id, i, m, &format!("members[{i}]"))?;
                }
                let rec = repo::get(conn, meta.id)?;
                audit::append(
                    conn,
                    &audit_entries(&caller, Action::Create, &route, subjects(&rec)),
                )?;
                Ok(rec)
            })
        })
        .await?;
    Ok(with_etag(StatusCode::CREATED, rec.meta.version, &respond(&rec)))
}

/// Read a household with its members
#[utoipa::path(tag = "households",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "the household", body = HouseholdResponse),
        (status = 404, description = "unknown household", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/households/{id}")]
pub async fn get_household(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<HouseholdId>,
) -> ApiResult<HttpResponse> {
    caller.require(CASEWORK)?;
    let id = id.into_inner();
    let route = route_of(&req);
    let rec = state
        .db_audited(move |store, audit| {
            store
                .read(|conn| {
                    let rec = repo::get(conn, id)?;
                    audit.reads(store, &caller, &route, subjects(&rec));
                    Ok(rec)
                })
                .map_err(missing("household"))
        })
        .await?;
    Ok(with_etag(StatusCode::OK, rec.meta.version, &respond(&rec)))
}

/// List households
#[utoipa::path(tag = "households",
    params(HouseholdQuery, Pagination),
    responses(
        (status = 200, description = "a page of households", body = HouseholdList),
        (status = 400, description = "bad query", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/households")]
pub async fn list_households(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    q: web::Query<HouseholdQuery>,
    p: web::Query<Pagination>,
) -> ApiResult<HttpResponse> {
    caller.require(CASEWORK)?;
    let page = p.uuid_page()?;
    let route = route_of(&req);
    let q = q.into_inner();
    let list = state
        .db_audited(move |store, audit| {
            store.read(|conn| {
                let page = repo::list(conn, q.household_number.as_deref(), q.district.as_deref(), &page)?;
                audit.reads(store, &caller, &route, page.items.iter().flat_map(subjects));
                Ok(HouseholdList {
                    items: page.items.iter().map(respond).collect(),
                    next_cursor: page.next,
                })
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// The body of the PATCH of a `HouseholdData`.
pub type HouseholdPatch = MergePatch<HouseholdData>;

/// Update a household
///
/// A JSON merge patch of `household_number` and `district`; members have their own routes.
#[utoipa::path(tag = "households",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version you read")),
    request_body(content = HouseholdPatch, description = "the fields to change"),
    responses(
        (status = 200, description = "updated", body = HouseholdResponse),
        (status = 400, description = "malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "unknown household", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "duplicate_household_number", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation_failed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[patch("/households/{id}")]
pub async fn update_household(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<HouseholdId>,
    ApiJson(patch): ApiJson<HouseholdPatch>,
) -> ApiResult<HttpResponse> {
    caller.require(CASEWORK)?;
    let id = id.into_inner();
    let tags = if_match(&req)?;
    let route = route_of(&req);
    let rec = state
        .db(move |store| {
            store.write(|conn| {
                let current = repo::get(conn, id).map_err(missing("household"))?;
                check_if_match(&tags, current.meta.version)?;
                let data: HouseholdData = patch.apply(&current.data)?;
                check_fields(data.validate())?;
                let mut meta = current.meta.clone();
                meta.version += 1;
                meta.updated_at = passgenau_store::records::now();
                repo::update(conn, &meta, &data, current.meta.version)?;
                let rec = repo::get(conn, id)?;
                audit::append(
                    conn,
                    &audit_entries(&caller, Action::Update, &route, subjects(&rec)),
                )?;
                Ok(rec)
            })
        })
        .await?;
    Ok(with_etag(StatusCode::OK, rec.meta.version, &respond(&rec)))
}

/// Add a member to a household
#[utoipa::path(tag = "households",
    params(("id" = Uuid, Path)),
    request_body = NewMember,
    responses(
        (status = 201, description = "added", body = MemberResponse),
        (status = 400, description = "malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "unknown household", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "already_member: the customer belongs to a household", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation_failed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[post("/households/{id}/members")]
pub async fn add_member(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<HouseholdId>,
    ApiJson(new): ApiJson<NewMember>,
) -> ApiResult<HttpResponse> {
    caller.require(CASEWORK)?;
    let id = id.into_inner();
    let route = route_of(&req);
    let m = state
        .db(move |store| {
            store.write(|conn| {
                let current = repo::get(conn, id).map_err(missing("household"))?;
                let m = insert_member(conn, id, current.members.len(), &new, "body")?;
                repo::touch(conn, id, passgenau_store::records::now())?;
                audit::append(
                    conn,
                    &audit_entries(&caller, Action::Update, &route, [(m.customer_id, Some(id))]),
                )?;
                Ok(m)
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(member_response(&m)))
}

/// Remove a member from a household
#[utoipa::path(tag = "households",
    params(("id" = Uuid, Path), ("member_id" = Uuid, Path)),
    responses(
        (status = 204, description = "removed"),
        (status = 404, description = "unknown household or member", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[delete("/households/{id}/members/{member_id}")]
pub async fn remove_member(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(HouseholdId, MemberId)>,
) -> ApiResult<HttpResponse> {
    caller.require(CASEWORK)?;
    let (id, member_id) = path.into_inner();
    let route = route_of(&req);
    state
        .db(move |store| {
            store.write(|conn| {
                let m = repo::remove_member(conn, id, member_id).map_err(missing("household member"))?;
                let now = passgenau_store::records::now();
                if let Some(cid) = m.customer_id {
                    customers::set_household(conn, cid, None, now)?;
                }
                repo::touch(conn, id, now)?;
                audit::append(
                    conn,
                    &audit_entries(&caller, Action::Delete, &route, [(m.customer_id, Some(id))]),
                )?;
                Ok(())
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
