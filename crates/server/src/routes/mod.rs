//! HTTP routes, one module per resource. Handlers are thin: check the role, extract,
//! call the use case of `crate::app`, map its answer to HTTP.

pub mod allocations;
pub mod audit;
pub mod availability;
pub mod customers;
pub mod engine;
pub mod exports;
pub mod households;
pub mod instruments;
pub mod offers;
pub mod ops;
pub mod plans;
pub mod providers;
pub mod reports;
pub mod runs;
pub mod users;

use actix_web::http::header;
use actix_web::HttpResponse;
use chrono::Utc;
use serde::Serialize;

use crate::error::ApiError;

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
    Utc::now().date_naive()
}
