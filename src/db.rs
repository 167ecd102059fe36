//! Connecting, migrating and checking the database (SQLite or PostgreSQL).

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, DbErr,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};

/// Key of the PostgreSQL advisory lock held while migrating, so replicas that
/// start together migrate one after the other.
const MIGRATION_LOCK_KEY: i64 = 0x5047_4d49_4752; // "PGMIGR"

pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            // WAL lets readers run beside the one writer; writers wait for
            // each other instead of failing at once.
            o.journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    let backend = match url.starts_with("sqlite:") {
        true => DatabaseBackend::Sqlite,
        false => DatabaseBackend::Postgres,
    };
    options
        .max_connections(pool_size(backend))
        .min_connections(1);
    Database::connect(options).await
}

/// Connections in the pool `connect` opens.
pub fn pool_size(backend: DatabaseBackend) -> u32 {
    match backend {
        // The SQLite default pool is a single connection: a DataLoader query
        // would then wait on an open transaction. Keep a few.
        DatabaseBackend::Sqlite => 8,
        _ => 16,
    }
}

/// Applies pending migrations in one transaction that first takes a lock, so
/// replicas (or processes sharing a SQLite file) that start together migrate
/// one after the other: the second waits, then finds nothing to do. The lock
/// is a PostgreSQL advisory lock, or SQLite's write lock (`BEGIN IMMEDIATE`).
#[expect(
    clippy::disallowed_methods,
    reason = "the migration lock, taken before any schema exists"
)]
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let options = TransactionOptions {
        sqlite_transaction_mode: (backend == DatabaseBackend::Sqlite)
            .then_some(SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    let txn = db.begin_with_options(options).await?;
    if backend == DatabaseBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [MIGRATION_LOCK_KEY.into()],
        ))
        .await?;
    }
    Migrator::up(&txn, None).await?;
    txn.commit().await
}

/// Ready means: the database answers and no migration is pending.
pub async fn is_ready(db: &DatabaseConnection) -> bool {
    if db.ping().await.is_err() {
        return false;
    }
    matches!(Migrator::get_pending_migrations(db).await, Ok(pending) if pending.is_empty())
}

/// The file of a SQLite database URL (`sqlite://FILE?…` or `sqlite:FILE`);
/// `None` for PostgreSQL and in-memory databases.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let file = rest.split('?').next().unwrap_or_default();
    if file.is_empty() || file.contains(":memory:") || file.starts_with("file::memory") {
        return None;
    }
    Some(std::path::PathBuf::from(file))
}

/// A consistent copy of a SQLite database into the new file `target`, taken
/// while the server runs: `VACUUM INTO` reads one snapshot (WAL lets writers
/// go on meanwhile), so the copy holds exactly the transactions committed
/// before it began, compacted, and passes `PRAGMA integrity_check`.
#[expect(
    clippy::disallowed_methods,
    reason = "VACUUM INTO writes another file, not this database"
)]
pub async fn backup_sqlite(db: &DatabaseConnection, target: &std::path::Path) -> Result<(), DbErr> {
    let target = target.to_string_lossy().into_owned();
    db.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Sqlite,
        "VACUUM INTO ?",
        [target.into()],
    ))
    .await
    .map(|_| ())
}
