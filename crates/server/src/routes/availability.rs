//! Free places per offer, for providers and specialists. No personal data; answers carry
//! an `ETag` and honour `If-None-Match` (304), so polling systems fetch only changes.

use actix_web::get;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use passgenau_domain::ids::{OfferId, ProviderId};
use passgenau_domain::user::Role;
use passgenau_store::offers::OfferFilter;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::today;
use crate::auth::Caller;
use crate::error::{ApiResult, Problem};
use crate::extract::Pagination;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_availability);
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AvailabilityItem {
    pub offer_id: OfferId,
    pub title: String,
    pub instrument_code: String,
    pub provider_id: ProviderId,
    pub district: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub planned_places: i32,
    pub max_places: i32,
    /// Active placements (reserved, confirmed, started).
    pub occupied: i64,
    pub free: i64,
    pub waitlisted: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AvailabilityList {
    pub items: Vec<AvailabilityItem>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AvailabilityQuery {
    pub instrument: Option<String>,
    pub district: Option<String>,
    pub provider_id: Option<ProviderId>,
    pub starts_from: Option<NaiveDate>,
    pub starts_to: Option<NaiveDate>,
}

/// Free places per open offer
#[utoipa::path(tag = "placements",
    params(AvailabilityQuery, Pagination, ("If-None-Match" = Option<String>, Header, description = "ETag of a previous answer")),
    responses(
        (status = 200, description = "open offers with their places", body = AvailabilityList),
        (status = 304, description = "unchanged since the ETag given"),
        (status = 400, description = "bad query", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/availability")]
pub async fn get_availability(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    q: web::Query<AvailabilityQuery>,
    p: web::Query<Pagination>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::Provider, Role::Specialist, Role::Admin])?;
    let key = req.query_string().to_string();
    let hit = match state.availability.get(&key) {
        Some(hit) => Some(hit),
        None => {
            // One computation per expired answer; the others wait for it.
            let flight = state.availability.flight(&key);
            let _computing = flight.lock().await;
            state.availability.get(&key)
        }
    };
    let (body, etag) = match hit {
        Some(hit) => (hit.body, hit.etag),
        None => {
            let generation = state.availability.generation();
            let body = web::Bytes::from(compute(&state, q.into_inner(), p.into_inner()).await?);
            let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&body))[..32]);
            state.availability.put(
                key,
                generation,
                crate::app::availability_cache::Cached {
                    body: body.clone(),
                    etag: etag.clone(),
                },
            );
            (body, etag)
        }
    };
    let unchanged = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == etag || t.trim() == "*")
        });
    if unchanged {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish());
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .content_type("application/json")
        .body(body))
}

/// The answer itself: a page of open offers that have not ended, with their counts.
async fn compute(state: &AppState, q: AvailabilityQuery, p: Pagination) -> ApiResult<Vec<u8>> {
    let page = p.uuid_page()?;
    let filter = OfferFilter {
        instrument_code: q.instrument,
        provider_id: q.provider_id,
        district: q.district,
        status: Some("open".into()),
        starts_from: q.starts_from,
        starts_to: q.starts_to,
    };
    state
        .db(move |store| {
            let (places, next_cursor) = crate::app::placements::free_places(store, &filter, today(), &page)?;
            let list = AvailabilityList {
                items: places
                    .into_iter()
                    .map(|p| AvailabilityItem {
                        offer_id: p.offer.meta.id,
                        title: p.offer.data.title,
                        instrument_code: p.offer.data.instrument_code,
                        provider_id: p.offer.data.provider_id,
                        district: p.offer.data.district,
                        starts_on: p.offer.data.starts_on,
                        ends_on: p.offer.data.ends_on,
                        planned_places: p.offer.data.planned_places,
                        max_places: p.offer.data.max_places,
                        occupied: p.occupied,
                        free: p.free,
                        waitlisted: p.waitlisted,
                    })
                    .collect(),
                next_cursor,
            };
            serde_json::to_vec(&list).map_err(|_| crate::error::ApiError::internal())
        })
        .await
}
