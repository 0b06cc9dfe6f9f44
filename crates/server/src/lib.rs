//! Passgenau's HTTP API and command line.

pub mod app;
pub mod auth;
pub mod config;
pub mod error;
pub mod extract;
pub mod openapi;
pub mod routes;
pub mod services;
pub mod state;
