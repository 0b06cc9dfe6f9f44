//! Passgenau's HTTP API and command line.

pub mod app;
pub mod auth;
pub mod chart;
pub mod cli;
pub mod config;
pub mod demo;
pub mod error;
pub mod extract;
pub mod identity;
pub mod net;
pub mod observe;
pub mod oidc;
pub mod openapi;
pub mod passwords;
pub mod patch;
pub mod query_guard;
pub mod router;
pub mod routes;
pub mod safe_csv;
pub mod state;
pub mod tokens;
