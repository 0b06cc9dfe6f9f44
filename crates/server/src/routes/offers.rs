//! Offers: places of one instrument at one provider. Admins and specialists write, every
//! role reads.

use actix_web::http::StatusCode;
use actix_web::{get, patch, post};
use actix_web::{web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use passgenau_domain::ids::{OfferId, ProviderId};
use passgenau_domain::offer::{default_max_places, Entry, OfferData, OfferStatus};
use passgenau_domain::user::Role;
use passgenau_domain::{GermanLevel, TargetGroup};
use passgenau_store::offers::{OfferFilter, OfferRecord};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::with_etag;
use crate::app::offers;
use crate::auth::{Caller, ANY_ROLE};
use crate::error::{ApiResult, Problem};
use crate::extract::{if_match_versions, ApiJson, Pagination};
use crate::patch::MergePatch;
use crate::state::AppState;

const WRITERS: &[Role] = &[Role::Admin, Role::Specialist];

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_offers)
        .service(get_offer)
        .service(create_offer)
        .service(update_offer)
        .service(transfer_offer)
        .service(set_intake);
}

/// Body of `POST /offers`. `max_places` defaults to 120 % of `planned_places` (rounded
/// down), `status` to `open`, `target_groups` to none.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOffer {
    pub instrument_code: String,
    pub provider_id: ProviderId,
    pub title: String,
    pub district: String,
    #[serde(default)]
    pub postal_code: Option<String>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub entry: Entry,
    pub planned_places: i32,
    #[serde(default)]
    pub max_places: Option<i32>,
    pub cost_per_place_cents: i64,
    #[serde(default)]
    pub target_groups: Vec<TargetGroup>,
    #[serde(default)]
    pub min_age: Option<i32>,
    #[serde(default)]
    pub max_age: Option<i32>,
    #[serde(default)]
    pub min_german_level: Option<GermanLevel>,
    /// For people learning German: at most this level.
    #[serde(default)]
    pub max_german_level: Option<GermanLevel>,
    /// Last day of the measure's AZAV approval (AVGS-MAT and FbW need it on the start day).
    #[serde(default)]
    pub measure_approved_until: Option<NaiveDate>,
    #[serde(default)]
    pub status: Option<OfferStatus>,
}

impl From<NewOffer> for OfferData {
    fn from(n: NewOffer) -> Self {
        OfferData {
            max_places: n
                .max_places
                .unwrap_or_else(|| default_max_places(n.planned_places)),
            instrument_code: n.instrument_code,
            provider_id: n.provider_id,
            title: n.title,
            district: n.district,
            postal_code: n.postal_code,
            starts_on: n.starts_on,
            ends_on: n.ends_on,
            entry: n.entry,
            planned_places: n.planned_places,
            cost_per_place_cents: n.cost_per_place_cents,
            target_groups: n.target_groups,
            min_age: n.min_age,
            max_age: n.max_age,
            min_german_level: n.min_german_level,
            max_german_level: n.max_german_level,
            measure_approved_until: n.measure_approved_until,
            status: n.status.unwrap_or(OfferStatus::Open),
            intake: Default::default(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OfferResponse {
    pub id: OfferId,
    #[serde(flatten)]
    pub data: OfferData,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OfferList {
    pub items: Vec<OfferResponse>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OfferQuery {
    pub instrument: Option<String>,
    pub provider_id: Option<ProviderId>,
    pub district: Option<String>,
    pub status: Option<OfferStatus>,
    pub starts_from: Option<NaiveDate>,
    pub starts_to: Option<NaiveDate>,
}

fn respond(r: &OfferRecord) -> OfferResponse {
    OfferResponse {
        id: r.meta.id,
        data: r.data.clone(),
        version: r.meta.version,
        created_at: r.meta.created_at,
        updated_at: r.meta.updated_at,
    }
}

/// The offer as `caller` may see it: without its price for another provider.
fn view(r: &OfferRecord, caller: &Caller) -> serde_json::Value {
    let mut v = serde_json::to_value(respond(r)).expect("offers serialise");
    if !caller.sees_terms_of(r.data.provider_id) {
        if let Some(fields) = v.as_object_mut() {
            fields.remove("cost_per_place_cents");
        }
    }
    v
}

/// List offers
#[utoipa::path(tag = "offers",
    params(OfferQuery, Pagination),
    responses(
        (status = 200, description = "a page of offers", body = OfferList),
        (status = 400, description = "bad query", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/offers")]
pub async fn list_offers(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<OfferQuery>,
    p: web::Query<Pagination>,
) -> ApiResult<HttpResponse> {
    caller.require(ANY_ROLE)?;
    let page = p.uuid_page()?;
    let q = q.into_inner();
    let filter = OfferFilter {
        instrument_code: q.instrument,
        provider_id: q.provider_id,
        district: q.district,
        status: q.status.map(|s| passgenau_store::codec::enum_to_str(&s)),
        starts_from: q.starts_from,
        starts_to: q.starts_to,
    };
    let page = state
        .db(move |store| Ok(offers::list(store, &filter, &page)?))
        .await?;
    // an `OfferList`, each offer as the caller may see it
    let items: Vec<serde_json::Value> = page.items.iter().map(|r| view(r, &caller)).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": items, "next_cursor": page.next})))
}

/// Read an offer
#[utoipa::path(tag = "offers",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "the offer", body = OfferResponse),
        (status = 404, description = "unknown offer", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/offers/{id}")]
pub async fn get_offer(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<OfferId>,
) -> ApiResult<HttpResponse> {
    caller.require(ANY_ROLE)?;
    let id = id.into_inner();
    let rec = state.db(move |store| Ok(offers::get(store, id)?)).await?;
    Ok(with_etag(StatusCode::OK, rec.meta.version, &view(&rec, &caller)))
}

/// Create an offer (admin, specialist)
#[utoipa::path(tag = "offers",
    request_body = NewOffer,
    responses(
        (status = 201, description = "created", body = OfferResponse),
        (status = 400, description = "malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation_failed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[post("/offers")]
pub async fn create_offer(
    state: web::Data<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewOffer>,
) -> ApiResult<HttpResponse> {
    caller.require(WRITERS)?;
    let data = OfferData::from(new);
    let rec = state.db(move |store| Ok(offers::create(store, data)?)).await?;
    state.availability.invalidate();
    Ok(super::created(
        format!("/api/v1/offers/{}", rec.meta.id),
        rec.meta.version,
        &respond(&rec),
    ))
}

/// What a screen shows of an offer beside a placement, proposal, recommendation or
/// waiting-list entry, so it needs no request per row.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OfferSummary {
    pub id: OfferId,
    pub title: String,
    pub instrument_code: String,
    pub provider_id: passgenau_domain::ids::ProviderId,
    pub provider_name: String,
    pub district: String,
    pub starts_on: chrono::NaiveDate,
    pub ends_on: chrono::NaiveDate,
}

impl From<&passgenau_store::offers::OfferBrief> for OfferSummary {
    fn from(b: &passgenau_store::offers::OfferBrief) -> Self {
        OfferSummary {
            id: b.id,
            title: b.title.clone(),
            instrument_code: b.instrument_code.clone(),
            provider_id: b.provider_id,
            provider_name: b.provider_name.clone(),
            district: b.district.clone(),
            starts_on: b.starts_on,
            ends_on: b.ends_on,
        }
    }
}

/// The summaries of the offers `ids` (one query).
pub fn summaries(
    store: &passgenau_store::Store,
    ids: impl IntoIterator<Item = OfferId>,
) -> ApiResult<std::collections::HashMap<OfferId, OfferSummary>> {
    let ids: Vec<OfferId> = ids.into_iter().collect();
    Ok(offers::briefs(store, &ids)?
        .iter()
        .map(|(id, b)| (*id, OfferSummary::from(b)))
        .collect())
}

/// The body of the PATCH of a `OfferData`.
pub type OfferPatch = MergePatch<OfferData>;

/// Update an offer (admin, specialist)
///
/// A JSON merge patch of the offer's fields. `max_places` keeps its value unless given.
#[utoipa::path(tag = "offers",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version you read")),
    request_body(content = OfferPatch, description = "the fields to change"),
    responses(
        (status = 200, description = "updated", body = OfferResponse),
        (status = 400, description = "malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "unknown offer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "offer_has_participants: a new provider_id while placements are active (use the transfer)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation_failed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[patch("/offers/{id}")]
pub async fn update_offer(
    state: web::Data<AppState>,
    caller: Caller,
    req: actix_web::HttpRequest,
    id: web::Path<OfferId>,
    ApiJson(patch): ApiJson<OfferPatch>,
) -> ApiResult<HttpResponse> {
    caller.require(WRITERS)?;
    let id = id.into_inner();
    let versions = if_match_versions(&req)?;
    let rec = state
        .db(move |store| Ok(offers::update(store, id, versions.as_deref(), patch)?))
        .await?;
    state.availability.invalidate();
    Ok(with_etag(StatusCode::OK, rec.meta.version, &respond(&rec)))
}

/// The body of an offer's transfer to another provider.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    pub provider_id: passgenau_domain::ids::ProviderId,
    /// Why (for example "Trägerwechsel nach Insolvenz"), 1–500 characters.
    pub reason: String,
}

/// Transfer an offer with its participants to another provider (admin)
///
/// The only way to give an offer with active placements another provider: each
/// participant's audit log and export records the transfer (the new provider receives
/// their data). `PATCH` of `provider_id` is 409 `offer_has_participants` while there are
/// any.
#[utoipa::path(tag = "offers",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version you read")),
    request_body = TransferRequest,
    responses(
        (status = 200, description = "transferred", body = OfferResponse),
        (status = 400, description = "malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "unknown offer", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation_failed: unknown provider, the same provider, or the reason", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[post("/offers/{id}/transfer")]
pub async fn transfer_offer(
    state: web::Data<AppState>,
    caller: Caller,
    req: actix_web::HttpRequest,
    id: web::Path<OfferId>,
    ApiJson(body): ApiJson<TransferRequest>,
) -> ApiResult<HttpResponse> {
    caller.require(&[passgenau_domain::user::Role::Admin])?;
    let id = id.into_inner();
    let versions = if_match_versions(&req)?;
    let route = crate::extract::route_of(&req);
    let (rec, _) = state
        .db(move |store| {
            Ok(offers::transfer(
                store,
                &caller,
                &route,
                id,
                versions.as_deref(),
                body.provider_id,
                &body.reason,
            )?)
        })
        .await?;
    state.availability.invalidate();
    Ok(with_etag(StatusCode::OK, rec.meta.version, &respond(&rec)))
}

/// The body of a change of intake.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntakeRequest {
    pub status: passgenau_domain::offer::IntakeStatus,
    /// Why (required to pause), 1–500 characters.
    #[serde(default)]
    pub reason: Option<String>,
    /// Places the provider can fill now, 0 to `max_places`; left out: `max_places`.
    #[serde(default)]
    pub places_now: Option<i32>,
}

/// Pause or resume the intake of an offer (its provider, or an admin)
///
/// While paused a reservation is 409 `intake_paused` (waiting lists stay open);
/// `places_now` caps what availability, ranking and cohort runs offer and what
/// placements may take. Audited; the offer shows who changed it, when and why.
#[utoipa::path(tag = "offers",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version you read")),
    request_body = IntakeRequest,
    responses(
        (status = 200, description = "the offer with its intake", body = OfferResponse),
        (status = 400, description = "malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not the offer's provider or an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "unknown offer (or another provider's)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation_failed: places_now beyond max_places, a pause without a reason", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[post("/offers/{id}/intake")]
pub async fn set_intake(
    state: web::Data<AppState>,
    caller: Caller,
    req: actix_web::HttpRequest,
    id: web::Path<OfferId>,
    ApiJson(body): ApiJson<IntakeRequest>,
) -> ApiResult<HttpResponse> {
    use passgenau_domain::user::Role;
    caller.require(&[Role::Provider, Role::Admin])?;
    let id = id.into_inner();
    let versions = if_match_versions(&req)?;
    let route = crate::extract::route_of(&req);
    let change = offers::IntakeChange {
        status: body.status,
        reason: body.reason,
        places_now: body.places_now,
    };
    let rules = state.rules.clone();
    let rec = state
        .db(move |store| {
            Ok(offers::set_intake(
                store,
                &rules,
                &caller,
                &route,
                id,
                versions.as_deref(),
                change,
                super::today(),
            )?)
        })
        .await?;
    state.availability.invalidate();
    state.offer_snapshot.invalidate();
    Ok(with_etag(StatusCode::OK, rec.meta.version, &respond(&rec)))
}
