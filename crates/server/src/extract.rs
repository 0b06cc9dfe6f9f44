//! Request extraction that never fails with anything but a clear problem+json 4xx.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::ApiError;

/// Largest accepted request body. Records are small; anything larger is a mistake or an
/// attack and is answered 413 before it is parsed.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// The raw bytes of a JSON body: wrong content type → 415, too large → 413. Used where
/// the exact bytes matter (idempotent retries compare them).
pub struct JsonBytes(pub web::Bytes);

impl FromRequest for JsonBytes {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                let mime = v.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            })
            .unwrap_or(false);
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = bytes.await.map_err(|e| {
                if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "payload_too_large",
                        format!("request bodies are limited to {MAX_BODY_BYTES} bytes"),
                    )
                } else {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "unreadable_body",
                        "the request body could not be read",
                    )
                }
            })?;
            if !content_type_ok {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "send the body as application/json",
                ));
            }
            Ok(JsonBytes(bytes))
        })
    }
}

/// A JSON body, parsed strictly: what [`JsonBytes`] checks, then syntax error → 400
/// `malformed_json`; unknown field, wrong type, bad enum value or impossible date → 400
/// `invalid_field` naming the field's path.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let bytes = JsonBytes::from_request(req, payload);
        Box::pin(async move {
            let JsonBytes(bytes) = bytes.await?;
            parse_json(&bytes).map(ApiJson)
        })
    }
}

/// Parses JSON with the path of the failing field in the error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        json_error(&path, &inner)
    })?;
    de.end().map_err(|e| json_error(".", &e))?;
    Ok(value)
}

/// A JSON object of `T`'s fields with one boolean beside them (`flag`, false when left
/// out), as `POST /customers` takes `confirm_distinct_person`.
pub fn parse_json_with_flag<T: DeserializeOwned>(bytes: &[u8], flag: &str) -> Result<(T, bool), ApiError> {
    let serde_json::Value::Object(mut map) = parse_json::<serde_json::Value>(bytes)? else {
        return Err(ApiError::bad_request(
            "invalid_field",
            "body",
            "must be a JSON object",
        ));
    };
    let set = match map.remove(flag) {
        None => false,
        Some(serde_json::Value::Bool(b)) => b,
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_field",
                flag,
                "must be true or false",
            ))
        }
    };
    let value: T = serde_path_to_error::deserialize(serde_json::Value::Object(map)).map_err(|e| {
        let path = e.path().to_string();
        json_error(&path, &e.into_inner())
    })?;
    Ok((value, set))
}

fn json_error(path: &str, e: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the body is not valid JSON: {e}"),
        ),
        Category::Data => {
            let field = if path == "." || path.is_empty() {
                "body"
            } else {
                path
            };
            // serde's message names the line and column, which help no API client
            let msg = e.to_string();
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
            ApiError::bad_request("invalid_field", field, msg)
        }
    }
}

/// `?limit=&cursor=` of every list.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Pagination {
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

impl Pagination {
    /// Validated page; a cursor is an opaque key that must look like one of ours.
    pub fn page(&self, cursor_is_valid: impl Fn(&str) -> bool) -> Result<passgenau_store::Page, ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::bad_request(
                "invalid_query",
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        if let Some(c) = &self.cursor {
            if !cursor_is_valid(c) {
                return Err(ApiError::bad_request(
                    "invalid_cursor",
                    "cursor",
                    "not a cursor of this list",
                ));
            }
        }
        Ok(passgenau_store::Page {
            limit,
            after: self.cursor.clone(),
        })
    }

    /// For lists keyed by UUID.
    pub fn uuid_page(&self) -> Result<passgenau_store::Page, ApiError> {
        self.page(|c| uuid::Uuid::parse_str(c).is_ok())
    }
}

/// Error handler for query strings (`web::QueryConfig`).
pub fn query_error(err: actix_web::error::QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let msg = err.to_string();
    let msg = msg
        .strip_prefix("Query deserialize error: ")
        .unwrap_or(&msg)
        .to_string();
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", msg).into()
}

/// Error handler for path segments (`web::PathConfig`): a malformed ID is a 400.
pub fn path_error(err: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_id",
        format!("malformed path parameter: {err}"),
    )
    .into()
}

/// Error handler for actix's own JSON extractor (used nowhere on purpose; kept so that a
/// stray `web::Json` still answers problem+json).
pub fn json_config_error(err: actix_web::error::JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", err.to_string()).into()
}

/// The entity tag of a record version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// `If-Match` as its tags: `None` when absent. A tag that is not one of ours can never
/// match and gives 412.
pub fn if_match(req: &HttpRequest) -> Result<Option<Vec<String>>, ApiError> {
    let Some(v) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let s = v
        .to_str()
        .map_err(|_| ApiError::bad_request("invalid_header", "If-Match", "not a valid header value"))?;
    Ok(Some(
        s.split(',')
            .map(|t| t.trim().trim_start_matches("W/").to_string())
            .collect(),
    ))
}

/// `If-Match` as the record versions it names, for the use cases: `None` when absent or
/// `*` (any version); a tag that is not one of ours names none, so it never matches.
pub fn if_match_versions(req: &HttpRequest) -> Result<Option<Vec<i64>>, ApiError> {
    let Some(tags) = if_match(req)? else {
        return Ok(None);
    };
    if tags.iter().any(|t| t == "*") {
        return Ok(None);
    }
    Ok(Some(
        tags.iter()
            .filter_map(|t| t.strip_prefix('"')?.strip_suffix('"')?.parse().ok())
            .collect(),
    ))
}

/// `Idempotency-Key`: 1–255 visible ASCII characters.
pub fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(v) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let s = v.to_str().unwrap_or("");
    if s.is_empty() || s.len() > 255 || !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::bad_request(
            "invalid_header",
            "Idempotency-Key",
            "must be 1–255 visible ASCII characters",
        ));
    }
    Ok(Some(s.to_string()))
}

/// "METHOD /route/{pattern}" of a request, as recorded in the audit log.
pub fn route_of(req: &HttpRequest) -> String {
    format!(
        "{} {}",
        req.method(),
        req.match_pattern().unwrap_or_else(|| req.path().to_string())
    )
}
