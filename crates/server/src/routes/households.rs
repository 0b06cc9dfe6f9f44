//! Bedarfsgemeinschaften (§ 7 Abs. 3 SGB II) and their members over HTTP; the use cases
//! are `app::households`.

use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use passgenau_domain::household::{HouseholdData, HouseholdMember, HouseholdRole};
use passgenau_domain::ids::{CustomerId, HouseholdId, MemberId};
use passgenau_store::households::HouseholdRecord;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{today, with_etag};
use crate::app::households;
pub use crate::app::households::NewMember;
use crate::auth::{Caller, CASEWORK};
use crate::error::{ApiResult, Problem};
use crate::extract::{if_match_versions, route_of, ApiJson, Pagination};
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

pub(crate) fn respond(r: &HouseholdRecord) -> HouseholdResponse {
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
    households::precheck(&data)?;
    let route = route_of(&req);
    let rec = state
        .db(move |store| {
            Ok(households::create(
                store,
                &caller,
                &route,
                data,
                &body.members,
                today(),
            )?)
        })
        .await?;
    Ok(super::created(
        format!("/api/v1/households/{}", rec.meta.id),
        rec.meta.version,
        &respond(&rec),
    ))
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
        .db_audited(move |store, audit| Ok(households::get(store, audit, &caller, &route, id)?))
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
            let page = households::list(
                store,
                audit,
                &caller,
                &route,
                q.household_number.as_deref(),
                q.district.as_deref(),
                &page,
            )?;
            Ok(HouseholdList {
                items: page.items.iter().map(respond).collect(),
                next_cursor: page.next,
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
    let versions = if_match_versions(&req)?;
    let route = route_of(&req);
    let rec = state
        .db(move |store| {
            Ok(households::update(
                store,
                &caller,
                &route,
                id,
                versions.as_deref(),
                patch,
            )?)
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
        .db(move |store| Ok(households::add_member(store, &caller, &route, id, &new, today())?))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/api/v1/households/{id}/members/{}", m.id),
        ))
        .json(member_response(&m)))
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
        .db(move |store| Ok(households::remove_member(store, &caller, &route, id, member_id)?))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
