//! PartnerGraph: the GraphQL API that runs a partner program.
//!
//! `main.rs` is only the command line; everything else lives here so tests
//! and benchmarks drive the same code the binary runs.

// A response is built from thousands of small allocations (values, names,
// decoded columns); glibc's allocator spent a quarter of a pipeline page's
// CPU time on them. Set here, so tests and benchmarks run the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
pub mod secrets;
pub mod service;
pub mod signal;
pub mod telemetry;
pub mod transfer;
pub mod unit_of_work;
pub mod webhooks;

pub use http::{router, serve, AppState};
