//! What a use case can answer besides its result. The routes map each to HTTP in one
//! place (`impl From<AppError> for ApiError`), so no handler decides a status and nothing
//! matches on an error's code.

use passgenau_domain::FieldError;
use passgenau_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The record the request names does not exist (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// `If-Match` names another version than the current one (412).
    #[error("the record changed since it was read")]
    Stale,
    /// The content breaks rules of the record (422 `validation_failed`).
    #[error("{}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// A patched record is not of the record's shape (400 `invalid_field`).
    #[error("{}: {}", .0.field, .0.message)]
    Malformed(FieldError),
    /// The request contradicts the state of other records (409, with its code).
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    /// A new person is probably recorded already: these (ID, customer number) (409
    /// `possible_duplicate`).
    #[error("possible duplicate")]
    PossibleDuplicate(Vec<(passgenau_domain::ids::CustomerId, String)>),
    /// The placement decision refused (its problem: 409 or 422 with the contract's code).
    #[error("refused: {0:?}")]
    Refused(passgenau_domain::decision::Refusal),
    /// The caller's role may not do this to this record (403, with why).
    #[error("{0}")]
    Forbidden(String),
    /// No valid credential: the token or key is unknown, ended or not valid (401).
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// A password the caller gave to prove who they are is wrong (403
    /// `invalid_credentials`).
    #[error("the password is wrong")]
    WrongPassword,
    /// Too many failed attempts: try again after this many seconds (429).
    #[error("too many attempts")]
    Throttled { retry_after_seconds: i64 },
    /// A bug or a failed dependency that no request can cause (500; logged, not shown).
    #[error("internal: {0}")]
    Internal(&'static str),
    /// The same `Idempotency-Key` came with another body (422).
    #[error("the idempotency key was used with another body")]
    KeyReused,
    /// The store failed (or reported a conflict of its own).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AppError {
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        AppError::Conflict {
            code,
            detail: detail.into(),
        }
    }

    /// One invalid field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Invalid(vec![FieldError::new(field, message)])
    }
}

impl From<crate::patch::Malformed> for AppError {
    fn from(e: crate::patch::Malformed) -> Self {
        AppError::Malformed(e.0)
    }
}

impl From<passgenau_store::DieselError> for AppError {
    fn from(e: passgenau_store::DieselError) -> Self {
        AppError::Store(e.into())
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// `Ok` without field errors, else [`AppError::Invalid`].
pub fn check_fields(errors: Vec<FieldError>) -> AppResult<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(errors))
    }
}

/// [`AppError::Stale`] unless `version` is one the caller read (`if_match`; `None`: the
/// caller did not say, any version will do).
pub fn check_version(if_match: Option<&[i64]>, version: i64) -> AppResult<()> {
    if if_match.is_some_and(|v| !v.contains(&version)) {
        Err(AppError::Stale)
    } else {
        Ok(())
    }
}

/// The store's "not found" as [`AppError::NotFound`] naming `what`.
pub fn missing(what: &'static str) -> impl Fn(StoreError) -> AppError {
    move |e| match e {
        StoreError::NotFound => AppError::NotFound(what),
        other => AppError::Store(other),
    }
}
