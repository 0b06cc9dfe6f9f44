//! HTTP routes, one module per resource. Handlers are thin: check the role, extract,
//! call the use case of `crate::app`, map its answer to HTTP.

pub mod allocations;
pub mod api_keys;
pub mod audit;
pub mod availability;
pub mod customers;
pub mod engine;
pub mod exports;
pub mod households;
pub mod imports;
pub mod instruments;
pub mod lifecycle;
pub mod offers;
pub mod ops;
pub mod plans;
pub mod providers;
pub mod reports;
pub mod runs;
pub mod users;

use actix_web::dev::{ServiceFactory, ServiceRequest};
use actix_web::http::header;
use actix_web::HttpResponse;
use serde::Serialize;
use utoipa_actix_web::{scope, UtoipaApp};

use crate::error::ApiError;

/// An answer of an idempotent creation as sent: its status, the JSON body, and the ETag
/// of the record's `version` in it (a replay sends the stored answer the same way).
/// A `201` also says where the new record is (`Location`: `{collection}/{id}`).
pub fn replay(answer: crate::app::idempotency::Answer, collection: &str) -> HttpResponse {
    let parsed = serde_json::from_str::<serde_json::Value>(&answer.body).ok();
    let version = parsed.as_ref().and_then(|v| v["version"].as_i64()).unwrap_or(1);
    let mut out = HttpResponse::build(
        actix_web::http::StatusCode::from_u16(answer.status).unwrap_or(actix_web::http::StatusCode::OK),
    );
    out.insert_header((header::ETAG, crate::extract::etag(version)));
    if answer.status == 201 {
        if let Some(id) = parsed.as_ref().and_then(|v| v["id"].as_str()) {
            out.insert_header((header::LOCATION, format!("{collection}/{id}")));
        }
    }
    out.content_type("application/json").body(answer.body)
}

/// A `201` of a new record with its `ETag` and `Location`.
pub fn created<T: Serialize>(location: String, version: i64, body: &T) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::ETAG, crate::extract::etag(version)))
        .insert_header((header::LOCATION, location))
        .json(body)
}

/// A single resource with its `ETag`.
pub fn with_etag<T: Serialize>(status: actix_web::http::StatusCode, version: i64, body: &T) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, crate::extract::etag(version)))
        .json(body)
}

/// Today's date in UTC, the default reference date of derived values.
/// The years plans and reports cover; the spec states the same bounds (`minimum`,
/// `maximum` of every `year` parameter).
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// 400 for a year outside [`YEARS`]; `code` names where it came from (`invalid_id` for a
/// path segment, `invalid_query` for a query parameter).
pub fn check_year(year: i32, code: &'static str) -> Result<(), ApiError> {
    if YEARS.contains(&year) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            code,
            "year",
            "must be between 2000 and 2100",
        ))
    }
}

pub fn today() -> chrono::NaiveDate {
    crate::app::today()
}

/// Every documented route, registered once: the router and the OpenAPI document
/// (`crate::openapi::spec_json`) are both made from this list, so they cannot drift.
pub fn documented<T>(app: UtoipaApp<T>) -> UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.service(ops::healthz)
        .service(ops::readyz)
        .service(ops::metrics)
        .service(ops::openapi_json)
        .service(
            scope("/api/v1")
                .configure(customers::configure)
                .configure(lifecycle::configure)
                .configure(households::configure)
                .configure(instruments::configure)
                .configure(providers::configure)
                .configure(offers::configure)
                .configure(audit::configure)
                .configure(engine::configure)
                .configure(allocations::configure)
                .configure(availability::configure)
                .configure(plans::configure)
                .configure(reports::configure)
                .configure(exports::configure)
                .configure(runs::configure)
                // the router tries routes in this order: the daily ones first
                .configure(users::configure)
                .configure(api_keys::configure)
                .configure(imports::configure),
        )
}
