//! A person's data over its life over HTTP: the access export, closing and reopening the
//! case, and erasure now. The use cases are `app::export` and `app::lifecycle`.

use actix_web::http::StatusCode;
use actix_web::{delete, get, post, put};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use passgenau_domain::ids::{CustomerId, OfferId, ProviderId};
use passgenau_domain::retention::Closure;
use passgenau_domain::user::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::allocations::AllocationResponse;
use super::audit::AuditItem;
use super::customers::{respond, CustomerResponse};
use super::households::HouseholdResponse;
use super::runs::ProposalResponse;
use super::{today, with_etag};
use crate::app::{export, lifecycle};
use crate::auth::{Caller, CASEWORK};
use crate::error::{ApiResult, Problem};
use crate::extract::{if_match_versions, route_of, ApiJson};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(export_customer)
        .service(close_case)
        .service(reopen_case)
        .service(erase_customer);
}

/// A state change of one of the person's placements.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExportEvent {
    pub placement_id: passgenau_domain::ids::PlacementId,
    pub offer_id: OfferId,
    pub instrument_code: String,
    pub from_status: Option<passgenau_domain::placement::PlacementStatus>,
    pub to_status: passgenau_domain::placement::PlacementStatus,
    pub on_date: Option<chrono::NaiveDate>,
    pub reason: Option<String>,
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// A waiting-list entry of the person, in any state.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExportWaitlistEntry {
    pub id: passgenau_domain::ids::WaitlistEntryId,
    pub offer_id: OfferId,
    pub status: passgenau_domain::status::WaitlistStatus,
    pub placement_id: Option<passgenau_domain::ids::PlacementId>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// An offer through which a provider received the person's data.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RecipientOffer {
    pub offer_id: OfferId,
    pub title: String,
}

/// A recipient of the person's data (Art. 15 Abs. 1 lit. c DSGVO): a provider whose
/// offers hold the person's placements, and which of its users read them (in
/// `accesses`, role `provider`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Recipient {
    pub provider_id: ProviderId,
    pub name: String,
    pub offers: Vec<RecipientOffer>,
}

/// Everything stored about a person (Art. 15 DSGVO, § 83 SGB X).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PersonExport {
    pub exported_at: DateTime<Utc>,
    /// The record with contact data, spells, imported (prior) participations, the legal
    /// hold and the case's closure.
    pub customer: CustomerResponse,
    pub household: Option<HouseholdResponse>,
    /// Every placement with its verdict.
    pub placements: Vec<AllocationResponse>,
    /// Every state change of those placements, in order.
    pub events: Vec<ExportEvent>,
    pub waiting_list: Vec<ExportWaitlistEntry>,
    pub proposals: Vec<ProposalResponse>,
    pub recipients: Vec<Recipient>,
    /// Who read or changed the record, when and through which route (oldest first).
    pub accesses: Vec<AuditItem>,
    /// Why the data are processed and where they come from (Art. 15 Abs. 1 lit. a, g).
    pub purposes: String,
}

const PURPOSES: &str = "Processed by the Jobcenter for the benefits and services of integration into work under \
SGB II (§§ 14-16i SGB II, § 50 SGB II, § 67a ff. SGB X): recorded by its staff from the person's own statements \
and the Jobcenter's files, or imported from its previous system; shown to a provider only for a placement in its \
offer while the placement is active (§ 69 Abs. 1 Nr. 1 SGB X).";

/// Export everything stored about a customer (admin, specialist)
///
/// Art. 15 DSGVO: the record, household, placements with verdicts and events,
/// waiting-list entries, proposals, imported participations, the providers that received
/// the data, and every recorded access. Audited as a read.
#[utoipa::path(tag = "customers",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "everything stored about the person", body = PersonExport),
        (status = 403, description = "not an admin or specialist", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "unknown or erased customer (or merged: `merged_into`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/customers/{id}/export")]
pub async fn export_customer(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<CustomerId>,
) -> ApiResult<HttpResponse> {
    caller.require(CASEWORK)?;
    let id = id.into_inner();
    let route = route_of(&req);
    let as_of = today();
    let shown_as = caller.clone();
    let out = state
        .db_audited(move |store, audit| Ok(export::export(store, audit, &caller, &route, id)?))
        .await?;
    let offers: std::collections::HashMap<_, super::offers::OfferSummary> =
        out.offers.iter().map(|(id, b)| (*id, b.into())).collect();
    let body = PersonExport {
        exported_at: Utc::now(),
        customer: respond(&out.customer, &out.members, as_of),
        household: out.household.as_ref().map(super::households::respond),
        placements: out
            .placements
            .iter()
            .map(|p| AllocationResponse {
                offer: offers.get(&p.offer_id).cloned(),
                ..super::allocations::respond(p, &shown_as, None)
            })
            .collect(),
        events: out
            .events
            .iter()
            .map(|e| ExportEvent {
                placement_id: e.allocation_id,
                offer_id: e.offer_id,
                instrument_code: e.instrument_code.clone(),
                from_status: e.from_status,
                to_status: e.to_status,
                on_date: e.on_date,
                reason: e.reason.clone(),
                actor: e.actor.clone(),
                at: e.at,
            })
            .collect(),
        waiting_list: out
            .waiting
            .iter()
            .map(|w| ExportWaitlistEntry {
                id: w.id,
                offer_id: w.offer_id,
                status: w.status,
                placement_id: w.allocation_id,
                created_by: w.created_by.clone(),
                created_at: w.created_at,
            })
            .collect(),
        proposals: out
            .proposals
            .iter()
            .map(|p| ProposalResponse {
                offer: offers.get(&p.offer_id).cloned(),
                ..super::runs::proposal_response(p)
            })
            .collect(),
        recipients: out
            .recipients
            .into_iter()
            .map(|r| Recipient {
                provider_id: r.provider_id,
                name: r.name,
                offers: r
                    .offers
                    .into_iter()
                    .map(|(offer_id, title)| RecipientOffer { offer_id, title })
                    .collect(),
            })
            .collect(),
        accesses: out.accesses.into_iter().map(super::audit::item).collect(),
        purposes: PURPOSES.into(),
    };
    Ok(HttpResponse::Ok().json(body))
}

/// Close a case (admin, specialist)
///
/// The retention period (`PASSGENAU_RETENTION_YEARS`, default 10) begins the day after
/// `closed_on`; the retention job erases the case once it has ended, unless a legal hold
/// suspends it. A case with active placements or waiting-list entries is 409
/// `active_placements`. Send `If-Match` with the `ETag` you read to avoid lost updates.
#[utoipa::path(tag = "customers",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version you read")),
    request_body = Closure,
    responses(
        (status = 200, description = "the closed case", body = CustomerResponse),
        (status = 400, description = "malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "unknown customer", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not a caseworker, or a closure past the retention period by a non-admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "active_placements", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation_failed: closed_on in the future, reason empty or too long", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[put("/customers/{id}/closure")]
pub async fn close_case(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<CustomerId>,
    ApiJson(body): ApiJson<Closure>,
) -> ApiResult<HttpResponse> {
    caller.require(CASEWORK)?;
    let id = id.into_inner();
    let versions = if_match_versions(&req)?;
    let route = route_of(&req);
    let retention_years = state.retention_years;
    let (rec, members) = state
        .db(move |store| {
            Ok(lifecycle::close(
                store,
                &caller,
                &route,
                id,
                versions.as_deref(),
                body,
                retention_years,
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

/// Reopen a case (admin, specialist)
///
/// The retention clock stops; reopening an open case changes nothing.
#[utoipa::path(tag = "customers",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version you read")),
    responses(
        (status = 200, description = "the open case", body = CustomerResponse),
        (status = 404, description = "unknown customer", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "stale If-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[delete("/customers/{id}/closure")]
pub async fn reopen_case(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<CustomerId>,
) -> ApiResult<HttpResponse> {
    caller.require(CASEWORK)?;
    let id = id.into_inner();
    let versions = if_match_versions(&req)?;
    let route = route_of(&req);
    let (rec, members) = state
        .db(move |store| {
            Ok(lifecycle::reopen(
                store,
                &caller,
                &route,
                id,
                versions.as_deref(),
            )?)
        })
        .await?;
    Ok(with_etag(
        StatusCode::OK,
        rec.meta.version,
        &respond(&rec, &members, today()),
    ))
}

/// The body of an erasure.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErasureRequest {
    /// Why (for example "Antrag nach Art. 17 DSGVO vom 2.12.2026"), 1–200 characters; kept
    /// in the erasure's audit entry, so it must not name the person.
    pub reason: String,
}

/// Erase a person now (admin)
///
/// Art. 17 DSGVO: removes every personal field everywhere it is stored and keeps the
/// placements and their events under the customer's ID as a pseudonym, so reports and
/// the change feed count the same. Only a closed case without a legal hold: 409
/// `retention_required` otherwise. The customer is 404 afterwards.
#[utoipa::path(tag = "customers",
    params(("id" = Uuid, Path)),
    request_body = ErasureRequest,
    responses(
        (status = 204, description = "erased"),
        (status = 400, description = "malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "unknown or erased customer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "retention_required: the case is open or held", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation_failed: reason", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[post("/customers/{id}/erasure")]
pub async fn erase_customer(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<CustomerId>,
    ApiJson(body): ApiJson<ErasureRequest>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::Admin])?;
    let id = id.into_inner();
    let route = route_of(&req);
    state
        .db(move |store| Ok(lifecycle::erase_now(store, &caller, &route, id, &body.reason)?))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
