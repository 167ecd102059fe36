//! Migrations: replicas that start together migrate one after the other.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Backend, TestDatabase};
use partnergraph::db;

async fn concurrent_migrations_both_succeed(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        eprintln!("skipped: TEST_POSTGRES_URL is not set");
        return;
    };
    let (a, b) = (
        db::connect(database.url()).await.unwrap(),
        db::connect(database.url()).await.unwrap(),
    );
    assert!(!db::is_ready(&a).await, "a fresh database is not ready");
    let (first, second) = tokio::join!(db::migrate(&a), db::migrate(&b));
    first.unwrap();
    second.unwrap();
    assert!(db::is_ready(&a).await && db::is_ready(&b).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_migrations_on_postgres() {
    concurrent_migrations_both_succeed(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_on_sqlite() {
    concurrent_migrations_both_succeed(Backend::Sqlite).await;
}
