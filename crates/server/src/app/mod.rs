//! The application layer: one module per use case, between the routes and the store.
//!
//! A use case loads what it needs through the store itself (`Store::write`: one
//! transaction; `Store::read`: one connection, each statement seeing committed data),
//! hands the facts to `domain` or `allocation` to decide (pure), has the
//! store write the decision, and answers a typed result or an [`AppError`]. It knows no
//! HTTP: the routes extract, authorise and map its answer (`routes/`), and nothing here
//! imports them (`scripts/check-layers.sh`). People's records come sealed from the store
//! (`passgenau_store::Personal`) and open only with an audited access ([`audit`]).

pub mod api_keys;
pub mod attempts;
pub mod audit;
pub mod audit_seal;
pub mod availability_cache;
pub mod catalogue;
pub mod cohort_runs;
pub mod customers;
pub mod engine;
pub mod error;
pub mod export;
pub mod households;
pub mod housekeeping;
pub mod idempotency;
pub mod import_format;
pub mod imports;
pub mod lifecycle;
pub mod merges;
pub mod offer_snapshot;
pub mod offers;
pub mod placements;
pub mod plans;
pub mod providers;
pub mod reports;
pub mod sessions;
pub mod users;

pub use error::{AppError, AppResult};

/// Today, as the API counts days.
pub fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}
