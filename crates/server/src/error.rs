//! One error type for every handler, answered as `application/problem+json` (RFC 9457)
//! with a machine-readable `code`. No error path answers 500 unless a bug was hit; the
//! cause of a 500 or 503 is logged without personal data and never sent to the client.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use passgenau_domain::FieldError;
use passgenau_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every error answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the problem type: `/problems/{code}`.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Machine-readable code that clients act on, e.g. `duplicate_customer_number`.
    pub code: String,
    /// Field-level problems of a request body or query.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// With `not_eligible`: every rule with its outcome.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasons: Option<Vec<passgenau_domain::eligibility::Reason>>,
    /// With `possible_duplicate`: the recorded people the new one probably is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidates: Option<Vec<DuplicateCandidate>>,
    /// With 404 for a merged duplicate: the record it was merged into.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<passgenau_domain::ids::CustomerId>,
}

/// A recorded person a new record probably duplicates.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct DuplicateCandidate {
    pub id: passgenau_domain::ids::CustomerId,
    pub customer_number: String,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub errors: Vec<FieldError>,
    /// Extra headers (e.g. `Allow` on 405, `WWW-Authenticate` on 401).
    pub headers: Vec<(header::HeaderName, String)>,
    /// What few problems carry beside the code (boxed: most errors carry none of it).
    pub details: Option<Box<Details>>,
}

/// The parts of a problem only some codes have.
#[derive(Debug, Clone, Default)]
pub struct Details {
    pub reasons: Option<Vec<passgenau_domain::eligibility::Reason>>,
    pub candidates: Option<Vec<DuplicateCandidate>>,
    pub merged_into: Option<passgenau_domain::ids::CustomerId>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            errors: Vec::new(),
            headers: Vec::new(),
            details: None,
        }
    }

    /// 422 `not_eligible` with every rule's outcome.
    pub fn not_eligible(reasons: Vec<passgenau_domain::eligibility::Reason>) -> Self {
        let failed: Vec<String> = reasons
            .iter()
            .filter(|r| !r.passed)
            .map(|r| r.detail.clone())
            .collect();
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_eligible",
            format!("the customer is not eligible: {}", failed.join("; ")),
        );
        e.details = Some(Box::new(Details {
            reasons: Some(reasons),
            ..Details::default()
        }));
        e
    }

    /// The Agentur für Arbeit decides (FbW and Reha from 2025): the Jobcenter refers the
    /// customer and books nothing.
    pub fn referral_required(reasons: Vec<passgenau_domain::eligibility::Reason>) -> Self {
        let why: Vec<String> = reasons
            .iter()
            .filter(|r| !r.passed && r.kind == passgenau_domain::eligibility::Kind::Competence)
            .map(|r| r.detail.clone())
            .collect();
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "referral_required",
            format!("not the Jobcenter's to grant: {}", why.join("; ")),
        );
        e.details = Some(Box::new(Details {
            reasons: Some(reasons),
            ..Details::default()
        }));
        e
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    pub fn with_header(mut self, name: header::HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn bad_request(code: &'static str, field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::new(StatusCode::BAD_REQUEST, code, format!("{field}: {message}"))
            .with_errors(vec![FieldError::new(field, message)])
    }

    /// 422: the request is well-formed but its content breaks a rule.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", detail).with_errors(errors)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
            .with_header(header::WWW_AUTHENTICATE, "Bearer")
    }

    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "your role may not do this")
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found"))
    }

    pub fn precondition_failed() -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition_failed",
            "the record was changed since you read it (If-Match does not match the current ETag)",
        )
    }

    pub fn method_not_allowed(allow: &str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!("this resource allows {allow}"),
        )
        .with_header(header::ALLOW, allow)
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "an unexpected error occurred; it has been logged",
        )
    }

    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "the database is unavailable or busy; retry later",
        )
        .with_header(header::RETRY_AFTER, "1")
    }

    fn title(&self) -> &'static str {
        self.status.canonical_reason().unwrap_or("Error")
    }

    pub fn problem(&self) -> Problem {
        Problem {
            type_: format!("/problems/{}", self.code),
            title: self.title().to_string(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.to_string(),
            errors: self.errors.clone(),
            reasons: self.details.as_ref().and_then(|d| d.reasons.clone()),
            candidates: self.details.as_ref().and_then(|d| d.candidates.clone()),
            merged_into: self.details.as_ref().and_then(|d| d.merged_into),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status);
        resp.content_type("application/problem+json");
        for (name, value) in &self.headers {
            resp.insert_header((name.clone(), value.clone()));
        }
        resp.json(self.problem())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::not_found("record"),
            StoreError::Merged { into } => ApiError {
                details: Some(Box::new(Details {
                    merged_into: Some(into),
                    ..Details::default()
                })),
                ..ApiError::new(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    format!("customer not found: merged into {into}"),
                )
            },
            StoreError::Conflict { code, message } => ApiError::new(StatusCode::CONFLICT, code, message),
            StoreError::Reference { field, message } => {
                ApiError::validation(vec![FieldError::new(field, message)])
            }
            StoreError::PreconditionFailed => ApiError::precondition_failed(),
            StoreError::Unavailable(cause) => {
                tracing::warn!(%cause, "database unavailable");
                ApiError::unavailable()
            }
            StoreError::Corrupt(cause) | StoreError::Database(cause) => {
                tracing::error!(%cause, "database error");
                ApiError::internal()
            }
        }
    }
}

impl From<crate::identity::Forbidden> for ApiError {
    fn from(_: crate::identity::Forbidden) -> Self {
        ApiError::forbidden()
    }
}

/// The HTTP answer of each typed error of the application layer.
impl From<crate::app::AppError> for ApiError {
    fn from(e: crate::app::AppError) -> Self {
        use crate::app::AppError;
        match e {
            AppError::NotFound(what) => ApiError::not_found(what),
            AppError::Stale => ApiError::precondition_failed(),
            AppError::Invalid(errors) => ApiError::validation(errors),
            AppError::Malformed(e) => ApiError::bad_request("invalid_field", &e.field, e.message),
            AppError::Conflict { code, detail } => ApiError::conflict(code, detail),
            AppError::PossibleDuplicate(found) => ApiError {
                details: Some(Box::new(Details {
                    candidates: Some(
                        found
                            .into_iter()
                            .map(|(id, customer_number)| DuplicateCandidate { id, customer_number })
                            .collect(),
                    ),
                    ..Details::default()
                })),
                ..ApiError::conflict(
                    "possible_duplicate",
                    "this person is probably recorded already (same date of birth, matching names): \
                     use a candidate, or send confirm_distinct_person: true",
                )
            },
            AppError::KeyReused => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this Idempotency-Key was used with another body",
            ),
            AppError::Refused(r) => refusal(r),
            AppError::Forbidden(detail) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", detail),
            AppError::Unauthenticated(detail) => ApiError::unauthorized(detail),
            AppError::WrongPassword => ApiError::new(
                StatusCode::FORBIDDEN,
                "invalid_credentials",
                "the current password is wrong",
            ),
            AppError::Throttled { retry_after_seconds } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                "too many attempts: wait before trying again",
            )
            .with_header(header::RETRY_AFTER, retry_after_seconds.to_string()),
            AppError::Internal(what) => {
                tracing::error!(what, "internal error");
                ApiError::internal()
            }
            AppError::Store(e) => e.into(),
        }
    }
}

/// The problem a refusal answers with (the contract's codes).
fn refusal(r: passgenau_domain::decision::Refusal) -> ApiError {
    use passgenau_domain::decision::Refusal;
    match r {
        Refusal::CaseClosed => {
            ApiError::conflict("case_closed", "the customer's case is closed: reopen it first")
        }
        Refusal::OfferClosed => ApiError::conflict("offer_closed", "the offer is closed or over"),
        Refusal::AlreadyAllocated => ApiError::conflict(
            "already_allocated",
            "the customer already holds an active placement in this offer",
        ),
        Refusal::Referral(reasons) => ApiError::referral_required(reasons),
        Refusal::NotEligible(reasons) => ApiError::not_eligible(reasons),
        Refusal::IntakePaused => ApiError::conflict(
            "intake_paused",
            "the provider has paused its intake of this offer",
        ),
        Refusal::CapacityExhausted => ApiError::conflict("capacity_exhausted", "the offer has no free place"),
        Refusal::BudgetExhausted {
            year,
            code,
            committed_cents,
            budget_cents,
        } => ApiError::conflict(
            "budget_exhausted",
            format!("the {year} budget of {code} is committed ({committed_cents} of {budget_cents} cents)"),
        ),
    }
}

impl From<diesel_error::Error> for ApiError {
    fn from(e: diesel_error::Error) -> Self {
        StoreError::from(e).into()
    }
}

/// Re-exported so handlers can use `?` on diesel errors inside store transactions.
pub mod diesel_error {
    pub use passgenau_store::DieselError as Error;
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        tracing::error!("blocking task failed");
        ApiError::internal()
    }
}
