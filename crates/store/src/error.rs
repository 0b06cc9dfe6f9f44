//! Store errors, mapped by the HTTP layer onto problem+json answers.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// The record is the tombstone of a duplicate merged into `into`.
    #[error("merged into {into}")]
    Merged { into: passgenau_domain::ids::CustomerId },
    /// A unique constraint was hit; `code` names the conflict for clients.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// A referenced record (e.g. the instrument of an offer) does not exist.
    #[error("{field}: {message}")]
    Reference { field: &'static str, message: String },
    /// The record changed since the caller read it (optimistic concurrency, `If-Match`).
    #[error("the record was changed by someone else")]
    PreconditionFailed,
    /// The database cannot be reached or is busy; the request may be retried.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Stored data could not be read back (a bug or manual tampering).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(String),
}

impl StoreError {
    pub fn corrupt(what: impl std::fmt::Display) -> Self {
        StoreError::Corrupt(what.to_string())
    }
}

impl From<DieselError> for StoreError {
    fn from(e: DieselError) -> Self {
        match e {
            DieselError::NotFound => StoreError::NotFound,
            DieselError::DatabaseError(kind, info) => {
                let msg = info.message().to_string();
                match kind {
                    DatabaseErrorKind::UniqueViolation => StoreError::Conflict {
                        code: "conflict",
                        message: msg,
                    },
                    DatabaseErrorKind::ForeignKeyViolation => StoreError::Reference {
                        field: "reference",
                        message: msg,
                    },
                    DatabaseErrorKind::ClosedConnection
                    | DatabaseErrorKind::UnableToSendCommand
                    | DatabaseErrorKind::SerializationFailure => StoreError::Unavailable(msg),
                    // SQLite reports a busy database (after the busy timeout) as a generic
                    // error; it is a transient condition, not a bug.
                    _ if msg.contains("database is locked") || msg.contains("database is busy") => {
                        StoreError::Unavailable(msg)
                    }
                    // PostgreSQL broke a lock cycle (40P01, which diesel does not name):
                    // transient, the retry succeeds
                    _ if msg.contains("deadlock detected") => StoreError::Unavailable(msg),
                    _ if msg.contains("terminating connection")
                        || msg.contains("server closed the connection") =>
                    {
                        StoreError::Unavailable(msg)
                    }
                    _ => StoreError::Database(msg),
                }
            }
            DieselError::BrokenTransactionManager => StoreError::Unavailable("broken transaction".into()),
            other => StoreError::Database(other.to_string()),
        }
    }
}

impl From<diesel::r2d2::PoolError> for StoreError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
