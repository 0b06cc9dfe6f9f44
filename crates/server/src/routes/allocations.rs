//! Placements (*Zuweisungen*): reserve a place, follow it through its states, and the
//! waiting lists. Providers see and move only placements in their own offers, with the
//! participant shown as `{customer_number, first_name, last_name, date_of_birth}` while
//! the placement runs (§ 69 SGB X, § 50 SGB II), and nothing else.

use actix_web::http::StatusCode;
use actix_web::{delete, get, post};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use passgenau_domain::ids::{CustomerId, OfferId, PlacementId, WaitlistEntryId};
use passgenau_domain::placement::PlacementStatus;
use passgenau_domain::user::Role;
use passgenau_store::allocations::{AllocationFilter, AllocationRecord, Source};
use passgenau_store::customers::CustomerRecord;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{today, with_etag};
use crate::app::{idempotency, placements};
use crate::auth::{Caller, CASEWORK};
use crate::error::{ApiResult, Problem};
use crate::extract::{idempotency_key, parse_json, route_of, ApiJson, JsonBytes, Pagination};
use crate::state::AppState;

const PLACEMENT_ROLES: &[Role] = &[Role::Specialist, Role::Admin, Role::Provider];

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_allocation)
        .service(list_allocations)
        .service(get_allocation)
        .service(transition_allocation)
        .service(add_to_waitlist)
        .service(list_waitlist)
        .service(leave_waitlist);
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAllocation {
    pub customer_id: CustomerId,
    pub offer_id: OfferId,
    #[serde(default)]
    pub note: Option<String>,
    /// The deciding specialist's (or admin's) recorded reason to place despite failed
    /// rules that the law leaves to their discretion (`overridable` reasons, e.g. the AGH
    /// extension of § 16d Abs. 6 Satz 3 SGB II or the placement-first exception). A legal
    /// limit or a referral is never overridden. The reason and the person are recorded in
    /// the placement's `verdict`.
    #[serde(default)]
    pub override_reason: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    pub to: PlacementStatus,
    #[serde(default)]
    pub reason: Option<String>,
    /// Date of the entry (`started`) or exit (`completed`, `aborted`); default today.
    #[serde(default)]
    pub on: Option<NaiveDate>,
}

/// What a provider sees of its participant.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Participant {
    pub customer_number: String,
    pub first_name: String,
    pub last_name: String,
    pub date_of_birth: NaiveDate,
    /// How to invite the participant: the channel the customer chose and only its data
    /// (§ 69 Abs. 1 Nr. 1 SGB X: what the measure needs); `null` when none is chosen.
    pub contact: Option<passgenau_domain::customer::ChannelData>,
}

/// A placement. Providers get no `customer_id`, `note`, override or author fields, and
/// the `participant` only while the placement is active.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AllocationResponse {
    pub id: PlacementId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<CustomerId>,
    pub offer_id: OfferId,
    /// The offer in short (title, provider, district, dates), for the screen.
    pub offer: Option<super::offers::OfferSummary>,
    pub instrument_code: String,
    pub status: PlacementStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant: Option<Participant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub cost_cents: i64,
    pub budget_year: i32,
    pub started_on: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
    pub status_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub override_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub override_by: Option<String>,
    /// `specialist`, `waitlist` or `cohort`.
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// The verdict the placement was made on (rules version, parameters, every reason,
    /// the exception); single placements only, never for providers; `null` for
    /// placements made before verdicts were kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<passgenau_domain::eligibility::Verdict>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AllocationList {
    pub items: Vec<AllocationResponse>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AllocationQuery {
    pub customer_id: Option<CustomerId>,
    pub offer_id: Option<OfferId>,
    pub status: Option<PlacementStatus>,
}

pub fn respond(
    r: &AllocationRecord,
    caller: &Caller,
    participant: Option<Participant>,
) -> AllocationResponse {
    let provider = caller.role == Role::Provider;
    AllocationResponse {
        id: r.meta.id,
        customer_id: (!provider).then_some(r.customer_id),
        offer_id: r.offer_id,
        offer: None,
        instrument_code: r.instrument_code.clone(),
        status: r.status,
        participant: if provider && r.status.is_active() {
            participant
        } else {
            None
        },
        note: if provider { None } else { r.note.clone() },
        cost_cents: r.cost_cents,
        budget_year: r.budget_year,
        started_on: r.started_on,
        ended_on: r.ended_on,
        status_reason: r.status_reason.clone(),
        override_reason: if provider { None } else { r.override_reason.clone() },
        override_by: if provider { None } else { r.override_by.clone() },
        source: passgenau_store::codec::enum_to_str(&r.source),
        created_by: (!provider).then(|| r.created_by.clone()),
        verdict: if provider { None } else { r.verdict.clone() },
        version: r.meta.version,
        created_at: r.meta.created_at,
        updated_at: r.meta.updated_at,
    }
}

/// What a provider is shown of a participant.
fn participant(c: &CustomerRecord) -> Participant {
    Participant {
        customer_number: c.data.customer_number.clone(),
        first_name: c.data.first_name.clone(),
        last_name: c.data.last_name.clone(),
        date_of_birth: c.data.date_of_birth,
        contact: c.data.contact.chosen(c.data.postal_code.as_deref()),
    }
}

/// A placement as the caller sees it, with the participant a provider may see.
fn shown(r: &AllocationRecord, caller: &Caller, people: &placements::Participants) -> AllocationResponse {
    respond(r, caller, people.get(&r.customer_id).map(participant))
}

/// Reserve a place
///
/// Checks eligibility as of the offer's start (today for a running offer), capacity and
/// budget in one transaction. Honours `Idempotency-Key`.
#[utoipa::path(tag = "placements",
    request_body = NewAllocation,
    params(("Idempotency-Key" = Option<String>, Header, description = "makes a retry safe")),
    responses(
        (status = 201, description = "reserved", body = AllocationResponse),
        (status = 400, description = "malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "role may not place", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "unknown customer or offer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "capacity_exhausted, budget_exhausted, already_allocated, offer_closed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "not_eligible (with reasons; an exception is not allowed for them), referral_required (the Agentur für Arbeit decides: FbW and Reha from 2025), idempotency_key_reused", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[post("/allocations")]
pub async fn create_allocation(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    JsonBytes(body): JsonBytes,
) -> ApiResult<HttpResponse> {
    caller.require(CASEWORK)?;
    let key = idempotency_key(&req)?;
    let new: NewAllocation = parse_json(&body)?;
    placements::precheck_request(new.note.as_deref(), new.override_reason.as_deref())?;
    let route = route_of(&req);
    let hash = idempotency::hash(&body);
    let request = placements::Request {
        customer_id: new.customer_id,
        offer_id: new.offer_id,
        note: new.note.clone(),
        override_reason: new.override_reason.clone(),
        source: Source::Specialist,
    };
    let answer = state
        .db({
            let state = state.clone();
            move |store| {
                let summary = super::offers::summaries(store, [request.offer_id])?.remove(&request.offer_id);
                Ok(placements::create(
                    store,
                    &state.rules,
                    &caller,
                    &route,
                    key.as_deref(),
                    &hash,
                    &request,
                    today(),
                    |rec| {
                        let body = AllocationResponse {
                            offer: summary,
                            ..respond(rec, &caller, None)
                        };
                        serde_json::to_string(&body).expect("responses serialise")
                    },
                )?)
            }
        })
        .await;
    state.availability.invalidate();
    crate::observe::metrics().placement(match &answer {
        Ok(_) => "reserved",
        Err(e) => e.code,
    });
    Ok(super::replay(answer?, "/api/v1/allocations"))
}

/// List placements
///
/// Providers see only placements in their own offers.
#[utoipa::path(tag = "placements",
    params(AllocationQuery, Pagination),
    responses(
        (status = 200, description = "a page of placements", body = AllocationList),
        (status = 400, description = "bad query", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/allocations")]
pub async fn list_allocations(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    q: web::Query<AllocationQuery>,
    p: web::Query<Pagination>,
) -> ApiResult<HttpResponse> {
    caller.require(PLACEMENT_ROLES)?;
    let page = p.uuid_page()?;
    let q = q.into_inner();
    let route = route_of(&req);
    let filter = AllocationFilter {
        customer_id: q.customer_id,
        offer_id: q.offer_id,
        status: q.status,
        provider_id: None,
    };
    let list = state
        .db_audited(move |store, audit| {
            let (page, people) = placements::list(store, audit, &caller, &route, &filter, &page)?;
            let offers = super::offers::summaries(store, page.items.iter().map(|r| r.offer_id))?;
            Ok(AllocationList {
                items: page
                    .items
                    .iter()
                    .map(|r| AllocationResponse {
                        // a list stays small: the verdict is on the single placement
                        verdict: None,
                        offer: offers.get(&r.offer_id).cloned(),
                        ..shown(r, &caller, &people)
                    })
                    .collect(),
                next_cursor: page.next,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Read a placement
#[utoipa::path(tag = "placements",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "the placement", body = AllocationResponse),
        (status = 404, description = "unknown, or in another provider's offer", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/allocations/{id}")]
pub async fn get_allocation(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<PlacementId>,
) -> ApiResult<HttpResponse> {
    caller.require(PLACEMENT_ROLES)?;
    let id = id.into_inner();
    let route = route_of(&req);
    let (rec, body) = state
        .db_audited(move |store, audit| {
            let (rec, people) = placements::get(store, audit, &caller, &route, id)?;
            let body = AllocationResponse {
                offer: super::offers::summaries(store, [rec.offer_id])?.remove(&rec.offer_id),
                ..shown(&rec, &caller, &people)
            };
            Ok((rec, body))
        })
        .await?;
    Ok(with_etag(StatusCode::OK, rec.meta.version, &body))
}

/// Move a placement to another state
///
/// `reserved → confirmed → started → completed | aborted` (provider);
/// `reserved | confirmed → declined | no_show` (provider) or `cancelled` (specialist).
/// A freed place goes to the first eligible customer on the offer's waiting list.
#[utoipa::path(tag = "placements",
    params(("id" = Uuid, Path)),
    request_body = TransitionRequest,
    responses(
        (status = 200, description = "the placement in its new state", body = AllocationResponse),
        (status = 400, description = "malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "the transition belongs to another role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "unknown, or in another provider's offer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "invalid_transition", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "impossible date", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[post("/allocations/{id}/transitions")]
pub async fn transition_allocation(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<PlacementId>,
    ApiJson(body): ApiJson<TransitionRequest>,
) -> ApiResult<HttpResponse> {
    caller.require(PLACEMENT_ROLES)?;
    placements::precheck_move(body.reason.as_deref())?;
    let id = id.into_inner();
    let route = route_of(&req);
    let rules = state.rules.clone();
    let (rec, resp) = state
        .db(move |store| {
            let mv = placements::Move {
                to: body.to,
                reason: body.reason.clone(),
                on: body.on,
            };
            let (rec, people) = placements::make_move(store, &rules, &caller, &route, id, &mv, today())?;
            let resp = AllocationResponse {
                offer: super::offers::summaries(store, [rec.offer_id])?.remove(&rec.offer_id),
                ..shown(&rec, &caller, &people)
            };
            Ok((rec, resp))
        })
        .await?;
    state.availability.invalidate();
    Ok(with_etag(StatusCode::OK, rec.meta.version, &resp))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWaitlistEntry {
    pub customer_id: CustomerId,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WaitlistResponse {
    pub id: WaitlistEntryId,
    pub offer_id: OfferId,
    /// The offer in short, for the screen.
    pub offer: Option<super::offers::OfferSummary>,
    pub customer_id: CustomerId,
    /// 1 for the next in line.
    pub position: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WaitlistList {
    pub items: Vec<WaitlistResponse>,
    pub next_cursor: Option<String>,
}

/// Put a customer on an offer's waiting list
///
/// Only for a full offer (with a free place, reserve it directly).
#[utoipa::path(tag = "placements",
    params(("id" = Uuid, Path)),
    request_body = NewWaitlistEntry,
    responses(
        (status = 201, description = "waiting", body = WaitlistResponse),
        (status = 400, description = "malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "unknown offer or customer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "already_waitlisted, already_allocated, places_available, offer_closed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[post("/offers/{id}/waitlist")]
pub async fn add_to_waitlist(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<OfferId>,
    ApiJson(body): ApiJson<NewWaitlistEntry>,
) -> ApiResult<HttpResponse> {
    caller.require(CASEWORK)?;
    let offer_id = id.into_inner();
    let route = route_of(&req);
    let entry = state
        .db(move |store| {
            let (entry, position) =
                placements::wait(store, &caller, &route, offer_id, body.customer_id, today())?;
            Ok(WaitlistResponse {
                id: entry.id,
                offer_id,
                offer: super::offers::summaries(store, [offer_id])?.remove(&offer_id),
                customer_id: entry.customer_id,
                position,
                created_at: entry.created_at,
            })
        })
        .await?;
    state.availability.invalidate();
    Ok(HttpResponse::Created()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/api/v1/offers/{offer_id}/waitlist/{}", entry.customer_id),
        ))
        .json(entry))
}

/// An offer's waiting list, next in line first
#[utoipa::path(tag = "placements",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "waiting customers", body = WaitlistList),
        (status = 404, description = "unknown offer", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/offers/{id}/waitlist")]
pub async fn list_waitlist(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<OfferId>,
) -> ApiResult<HttpResponse> {
    caller.require(CASEWORK)?;
    let offer_id = id.into_inner();
    let route = route_of(&req);
    let list = state
        .db_audited(move |store, audit| {
            let entries = placements::waiting(store, audit, &caller, &route, offer_id)?;
            let offer = super::offers::summaries(store, [offer_id])?.remove(&offer_id);
            Ok(WaitlistList {
                items: entries
                    .iter()
                    .enumerate()
                    .map(|(i, e)| WaitlistResponse {
                        id: e.id,
                        offer_id,
                        offer: offer.clone(),
                        customer_id: e.customer_id,
                        position: i as i64 + 1,
                        created_at: e.created_at,
                    })
                    .collect(),
                next_cursor: None,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Take a customer off an offer's waiting list (admin, specialist)
#[utoipa::path(tag = "placements",
    params(("id" = Uuid, Path, description = "the offer"), ("customer_id" = Uuid, Path)),
    responses(
        (status = 204, description = "the customer no longer waits"),
        (status = 404, description = "unknown offer, or the customer is not waiting for it", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[delete("/offers/{id}/waitlist/{customer_id}")]
pub async fn leave_waitlist(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(OfferId, CustomerId)>,
) -> ApiResult<HttpResponse> {
    caller.require(CASEWORK)?;
    let (offer_id, customer_id) = path.into_inner();
    let route = route_of(&req);
    state
        .db(move |store| {
            Ok(placements::leave_waitlist(
                store,
                &caller,
                &route,
                offer_id,
                customer_id,
            )?)
        })
        .await?;
    state.availability.invalidate();
    Ok(HttpResponse::NoContent().finish())
}
