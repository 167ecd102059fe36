//! The black-box tests, one binary (one link instead of one per area): the
//! real server on port 0, a fresh database built by the real migrations for
//! every test, talked to over HTTP and WebSocket. `helpers` holds the one
//! harness and the one helper per thing; each other module is one area.
//! Run one area with `cargo test --test api partners::`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Tests create databases and seed rows directly, beside the code under test.
#![allow(clippy::disallowed_methods)]

// First: its `backend_test!` is used by every module below.
#[macro_use]
mod helpers;

mod auth;
mod backup;
mod certifications;
mod cli;
mod crash;
mod crm;
mod demo;
mod fuzz;
mod http;
mod import;
mod incentives;
mod intelligence;
mod invariants;
mod load;
mod metrics;
mod migrations;
mod oauth;
mod oversized;
mod partner_view;
mod partners;
mod persisted;
mod pipeline;
mod portal;
mod registrations;
mod schema;
mod secrets;
mod shutdown;
mod statements;
mod subscriptions;
mod tools;
mod traces;
mod transfer;
mod webhooks;
