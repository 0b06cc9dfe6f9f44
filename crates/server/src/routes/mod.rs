//! HTTP routes, one module per resource. Handlers are thin: extract, check the role,
//! call the store inside one transaction, answer.

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
use actix_web::{web, HttpResponse, Route};
use chrono::Utc;
use serde::Serialize;

use crate::error::ApiError;

/// Answers 405 with `Allow` for a method a resource does not have.
pub fn not_allowed(allow: &'static str) -> Route {
    web::route().to(move || async move { Err::<HttpResponse, _>(ApiError::method_not_allowed(allow)) })
}

/// A single resource with its `ETag`.
pub fn with_etag<T: Serialize>(status: actix_web::http::StatusCode, version: i64, body: &T) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, crate::extract::etag(version)))
        .json(body)
}

pub use crate::services::audit::audit_entries;

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

/// Applies a JSON merge patch (RFC 7396) to a record's writable form and parses the result
/// strictly, so a PATCH is validated exactly like a create.
pub fn merge_patch<T>(current: &T, patch: serde_json::Value) -> Result<T, ApiError>
where
    T: Serialize + serde::de::DeserializeOwned,
{
    if !patch.is_object() {
        return Err(ApiError::bad_request(
            "invalid_field",
            "body",
            "a PATCH body must be a JSON object",
        ));
    }
    let mut doc = serde_json::to_value(current).map_err(|_| ApiError::internal())?;
    merge(&mut doc, patch);
    let bytes = serde_json::to_vec(&doc).map_err(|_| ApiError::internal())?;
    crate::extract::parse_json(&bytes)
}

fn merge(target: &mut serde_json::Value, patch: serde_json::Value) {
    match patch {
        serde_json::Value::Object(p) => {
            if !target.is_object() {
                *target = serde_json::Value::Object(Default::default());
            }
            let t = target.as_object_mut().expect("object");
            for (k, v) in p {
                if v.is_null() {
                    t.insert(k, serde_json::Value::Null);
                } else {
                    merge(t.entry(k).or_insert(serde_json::Value::Null), v);
                }
            }
        }
        other => *target = other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_replaces_sets_null_and_recurses() {
        let mut doc = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": [1]});
        merge(&mut doc, json!({"a": 5, "b": {"d": null}, "e": [2, 3]}));
        assert_eq!(doc, json!({"a": 5, "b": {"c": 2, "d": null}, "e": [2, 3]}));
    }
}
