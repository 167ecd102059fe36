//! Migrations: replicas that start together migrate one after the other.

use crate::helpers::{Backend, TestDatabase};
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

/// Foreign keys whose column leads no index, as `table.column`.
async fn unindexed_foreign_keys(backend: Backend) -> Option<Vec<String>> {
    use sea_orm::{ConnectionTrait, Statement};
    let database = TestDatabase::create(backend).await?;
    let conn = database.migrated().await;
    let sql = match backend {
        Backend::Postgres => {
            "SELECT c.conrelid::regclass::text || '.' || a.attname AS fk FROM pg_constraint c \
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
             WHERE c.contype = 'f' AND NOT EXISTS ( \
               SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1]) \
             ORDER BY 1"
        }
        Backend::Sqlite => {
            "SELECT m.name || '.' || f.\"from\" AS fk FROM sqlite_master m \
             JOIN pragma_foreign_key_list(m.name) f \
             WHERE m.type = 'table' AND f.seq = 0 AND NOT EXISTS ( \
               SELECT 1 FROM pragma_index_list(m.name) l \
               JOIN pragma_index_info(l.name) i ON i.seqno = 0 \
               WHERE i.name = f.\"from\") \
             ORDER BY 1"
        }
    };
    let rows = conn
        .query_all_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await
        .unwrap();
    Some(
        rows.iter()
            .map(|r| r.try_get::<String>("", "fk").unwrap())
            .collect(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_foreign_key_is_indexed() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        if let Some(missing) = unindexed_foreign_keys(backend).await {
            assert!(
                missing.is_empty(),
                "{backend:?}: foreign keys without an index: {missing:?}"
            );
        }
    }
}
