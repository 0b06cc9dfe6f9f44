//! The change feed for reporting jobs: every state change of every placement, in a stable
//! order, pseudonymous. A job stores `resume_cursor` and continues from it later without
//! gaps or repeats (the store orders `seq` by commit, see `allocations::order_feed`).

use actix_web::get;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use hmac::{Hmac, Mac};
use passgenau_domain::user::Role;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(allocation_events);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// Only events at or after this instant (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// `next_cursor` or `resume_cursor` of an earlier page.
    pub cursor: Option<String>,
    /// Page size, 1–5000 (default 500).
    #[param(minimum = 1, maximum = 5000)]
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FeedItem {
    /// Position in the feed (ascending).
    pub seq: i64,
    pub id: String,
    pub at: DateTime<Utc>,
    pub allocation_id: String,
    /// Stable per customer, not reversible without the key kept in the database.
    pub customer_pseudonym: String,
    pub offer_id: String,
    pub instrument_code: String,
    pub from_status: Option<String>,
    pub to_status: String,
    /// Entry or exit date for `started`, `completed`, `aborted`.
    pub on_date: Option<NaiveDate>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FeedPage {
    pub items: Vec<FeedItem>,
    /// Set when a full page was returned: more may follow at once.
    pub next_cursor: Option<String>,
    /// Where to continue later, also after a short or empty page.
    pub resume_cursor: Option<String>,
}

/// HMAC-SHA256 of the customer ID under the instance's pseudonym key, 32 hex digits.
pub fn pseudonym(key: &[u8], customer_id: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(customer_id.as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..16])
}

/// The change feed of placements (reporting, admin)
#[utoipa::path(tag = "reports",
    params(FeedQuery),
    responses(
        (status = 200, description = "a page of events, oldest first", body = FeedPage),
        (status = 400, description = "bad query or cursor", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/exports/allocation-events")]
pub async fn allocation_events(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<FeedQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::Reporting, Role::Admin])?;
    let q = q.into_inner();
    let limit = q.limit.unwrap_or(500);
    if !(1..=5_000).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_query",
            "limit",
            "must be between 1 and 5000",
        ));
    }
    let after =
        match &q.cursor {
            None => None,
            Some(c) => Some(c.parse::<i64>().ok().filter(|v| *v >= 0).ok_or_else(|| {
                ApiError::bad_request("invalid_cursor", "cursor", "not a cursor of this feed")
            })?),
        };
    let key = state.pseudonym_key.clone();
    let page = state
        .db(move |store| {
            let events = crate::app::reports::feed(store, after, q.since, limit)?;
            let full = events.len() as i64 == limit;
            let last = events.last().map(|e| e.seq);
            let items: Vec<FeedItem> = events
                .into_iter()
                .map(|e| FeedItem {
                    seq: e.seq,
                    customer_pseudonym: pseudonym(&key, &e.customer_id),
                    id: e.id,
                    at: e.at,
                    allocation_id: e.allocation_id,
                    offer_id: e.offer_id,
                    instrument_code: e.instrument_code,
                    from_status: e.from_status,
                    to_status: e.to_status,
                    on_date: e.on_date,
                })
                .collect();
            let resume = last.or(after).map(|s| s.to_string());
            Ok::<_, ApiError>(FeedPage {
                items,
                next_cursor: if full { resume.clone() } else { None },
                resume_cursor: resume,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}
