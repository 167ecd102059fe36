//! "The outbox has new rows": the wake-up every reader of the outbox waits on.
//!
//! In this process a commit bumps [`committed`] at once. Across replicas the
//! committing transaction also sends `NOTIFY` on [`CHANNEL`], which
//! PostgreSQL delivers to every listener when the transaction commits. A wake
//! only says "read again": readers always re-read the outbox from their own
//! cursor, so a spurious or lost wake costs latency, never an event.

use std::{sync::LazyLock, time::Duration};

use sea_orm::DatabaseConnection;
use tokio::sync::watch;

/// The PostgreSQL notification channel outbox writers notify.
pub const CHANNEL: &str = "partnergraph_outbox";

/// One per process: every database this process writes to shares it, and a
/// reader of another database just finds nothing new.
static COMMITTED: LazyLock<watch::Sender<u64>> = LazyLock::new(|| watch::channel(0).0);

/// Called after a unit of work with events commits.
pub fn outbox_committed() {
    COMMITTED.send_modify(|n| *n = n.wrapping_add(1));
}

/// A receiver that sees a change after every commit with events.
pub fn committed() -> watch::Receiver<u64> {
    COMMITTED.subscribe()
}

/// Calls `wake` on every PostgreSQL notification on `channel` from any
/// replica, and whenever listening starts, restarts or fails, since
/// notifications sent meanwhile are lost. Runs until dropped.
pub async fn listen(db: DatabaseConnection, channel: &'static str, wake: impl Fn()) {
    loop {
        let pool = db.get_postgres_connection_pool().clone();
        match sqlx::postgres::PgListener::connect_with(&pool).await {
            Ok(mut listener) => match listener.listen(channel).await {
                Ok(()) => {
                    wake();
                    // `Ok(None)`: the connection dropped; the next call reconnects.
                    loop {
                        match listener.try_recv().await {
                            Ok(_) => wake(),
                            Err(error) => {
                                tracing::warn!(%error, channel, "listener failed; reconnecting");
                                break;
                            }
                        }
                    }
                }
                Err(error) => tracing::warn!(%error, channel, "cannot LISTEN; retrying"),
            },
            Err(error) => tracing::warn!(%error, channel, "cannot LISTEN; retrying"),
        }
        wake();
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
