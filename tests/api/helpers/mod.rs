//! The black-box test harness and one helper per thing: the real server on
//! port 0 with a fresh database built by the real migrations for every test
//! (a new SQLite file, or a new PostgreSQL database when `TEST_POSTGRES_URL`
//! is set), talked to over HTTP and WebSocket; the binary itself where a
//! test needs a process of its own.

mod app;
pub mod binary;
mod certifications;
mod database;
mod deals;
mod outbox;
mod partners;
pub mod receiver;
mod tokens;
pub mod ws;

pub use app::{error_code, TestApp};
pub use database::{Backend, TestDatabase};
pub use deals::deal;

/// Declares a test that runs once on SQLite and once on PostgreSQL (the
/// PostgreSQL run is skipped, saying so, when `TEST_POSTGRES_URL` is unset),
/// on a server with the default configuration or the one given.
macro_rules! backend_test {
    ($name:ident, |$app:ident| $body:block) => {
        backend_test!(
            $name,
            partnergraph::config::ServerConfig::default(),
            |$app| $body
        );
    };
    ($name:ident, $config:expr, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($app: $crate::helpers::TestApp) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::helpers::TestApp::spawn_with($crate::helpers::Backend::Sqlite, $config);
                run(app.await.unwrap()).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                match $crate::helpers::TestApp::spawn_with($crate::helpers::Backend::Postgres, $config).await {
                    Some(app) => run(app).await,
                    None => eprintln!("skipped: TEST_POSTGRES_URL is not set"),
                }
            }
        }
    };
}
