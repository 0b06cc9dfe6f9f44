//! Persistence for Passgenau: one diesel code path over SQLite (embedded default) and
//! PostgreSQL (production). The store loads and writes records; it decides nothing —
//! rules live in `passgenau-domain`, orchestration in the HTTP crate.
//!
//! Transactions: [`Store::write`] opens `BEGIN IMMEDIATE` on SQLite (a deferred
//! transaction would fail with SQLITE_BUSY instead of waiting when it later writes) and a
//! plain transaction on PostgreSQL, where writers serialise on row locks.

pub mod allocations;
pub mod api_keys;
pub mod audit;
pub mod audit_group;
pub mod codec;
pub mod connection;
pub mod customer_search;
pub mod customers;
pub mod db;
pub mod erasure;
pub mod error;
pub mod households;
pub mod idempotency;
pub mod imports;
pub mod instruments;
pub mod merges;
pub mod offers;
pub mod personal;
pub mod plans;
pub mod providers;
pub mod records;
pub mod reports;
pub mod runs;
pub mod schema;
pub mod settings;
pub mod sqlite;
pub mod users;
pub mod waitlist;

pub use connection::{Backend, DbConnection};
pub use db::Store;
pub use diesel::result::Error as DieselError;
pub use error::StoreError;
pub use personal::{Access, Personal, Subjects};
pub use records::{Meta, Page, PageOf};
