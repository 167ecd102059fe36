//! PartnerGraph: the GraphQL API that runs a partner program.
//!
//! `main.rs` is only the command line; everything else lives here so tests
//! and benchmarks drive the same code the binary runs.

pub mod auth;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod http;
pub mod ids;
pub mod jobs;
pub mod metrics;
pub mod policy;
pub mod service;
pub mod telemetry;
pub mod webhooks;

pub use http::{router, serve, AppState};
