//! Who a bearer token belongs to, remembered for a moment.
//!
//! Every request presents its token, and looking it up is a database round
//! trip that must finish before anything else can start. What a token grants
//! never changes; only revocation and expiry end it. So a successful lookup
//! is kept for `ttl` (one second by default), never past the token's own
//! expiry by the app clock. A revocation forgets every kept token once it
//! commits ([`tokens_revoked`]): in this process at once, and on PostgreSQL
//! in every other replica too, by `NOTIFY` ([`follow_revocations`]); should
//! that be missed, within `ttl`. Unknown tokens are never kept, so guessing
//! cannot fill the cache.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex,
    },
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr};

use super::{token, Principal};

/// Enough for every token a busy replica sees within a second.
const CAPACITY: usize = 10_000;

/// Bumped after every revocation commits, in any database of this process;
/// an entry looked up before the latest bump is stale.
static REVOCATIONS: AtomicU64 = AtomicU64::new(0);

/// The PostgreSQL channel revocations are announced on.
const CHANNEL: &str = "partnergraph_revocation";

/// Called once a revocation has committed: forgets this process's kept
/// tokens and tells the other replicas to forget theirs.
#[expect(
    clippy::disallowed_methods,
    reason = "a wake-up for other replicas (NOTIFY), not a change"
)]
pub async fn tokens_revoked(db: &DatabaseConnection) {
    forget_all();
    if db.get_database_backend() == DatabaseBackend::Postgres {
        if let Err(error) = db.execute_unprepared(&format!("NOTIFY {CHANNEL}")).await {
            tracing::warn!(%error, "cannot announce a revocation; other replicas forget it within the token cache's lifetime");
        }
    }
}

fn forget_all() {
    REVOCATIONS.fetch_add(1, Ordering::SeqCst);
}

/// How many revocations this process has seen. The count is shared by
/// every server in the process, so a test that runs beside others (one test
/// binary) can tell its own measurement from another test's revocation.
pub fn revocations() -> u64 {
    REVOCATIONS.load(Ordering::SeqCst)
}

/// Forgets the kept tokens whenever another replica announces a revocation,
/// and whenever listening (re)starts, since announcements may have been
/// missed meanwhile. PostgreSQL only (a SQLite file has one server); runs
/// until dropped.
pub async fn follow_revocations(db: DatabaseConnection) {
    if db.get_database_backend() == DatabaseBackend::Postgres {
        crate::signal::listen(db, CHANNEL, forget_all).await;
    }
}

pub struct PrincipalCache {
    ttl: Duration,
    /// By token hash: the clear token is never kept.
    entries: Mutex<HashMap<String, Entry>>,
    /// Counts hits and misses.
    metrics: std::sync::Arc<crate::metrics::Metrics>,
}

struct Entry {
    principal: Principal,
    expires_at: DateTime<Utc>,
    looked_up: Instant,
    /// [`REVOCATIONS`] when the lookup started.
    revocations: u64,
}

impl PrincipalCache {
    /// A `ttl` of zero turns the cache off: every request asks the database.
    pub fn new(ttl: Duration, metrics: std::sync::Arc<crate::metrics::Metrics>) -> Self {
        Self {
            ttl,
            entries: Mutex::default(),
            metrics,
        }
    }

    /// [`token::authenticate`], answered from memory when a lookup of the same
    /// token is recent, was made after the last revocation and the token has
    /// not expired since.
    pub async fn authenticate(
        &self,
        db: &impl ConnectionTrait,
        bearer: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Principal>, DbErr> {
        if self.ttl.is_zero() {
            self.metrics.token_cache(false);
            return token::authenticate(db, bearer, now).await;
        }
        let key = token::hash(bearer);
        // Read before the lookup: a revocation that commits while it runs
        // makes what it finds stale.
        let revocations = REVOCATIONS.load(Ordering::SeqCst);
        if let Some(principal) = self.kept(&key, revocations, now) {
            self.metrics.token_cache(true);
            return Ok(Some(principal));
        }
        self.metrics.token_cache(false);
        let Some((principal, expires_at)) = token::authenticate_until(db, bearer, now).await?
        else {
            return Ok(None);
        };
        self.keep(
            now,
            key,
            Entry {
                principal: principal.clone(),
                expires_at,
                looked_up: Instant::now(),
                revocations,
            },
        );
        Ok(Some(principal))
    }

    fn kept(&self, key: &str, revocations: u64, now: DateTime<Utc>) -> Option<Principal> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let entry = entries.get(key)?;
        self.fresh(entry, revocations, now)
            .then(|| entry.principal.clone())
    }

    fn fresh(&self, entry: &Entry, revocations: u64, now: DateTime<Utc>) -> bool {
        entry.revocations == revocations
            && entry.looked_up.elapsed() < self.ttl
            && entry.expires_at > now
    }

    fn keep(&self, now: DateTime<Utc>, key: String, entry: Entry) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            let revocations = REVOCATIONS.load(Ordering::SeqCst);
            entries.retain(|_, e| self.fresh(e, revocations, now));
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(key, entry);
    }
}
