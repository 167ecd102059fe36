//! Open WebSocket sessions and the tokens they run on. One checker per
//! process asks the database, every `interval`, which of those tokens are
//! still valid, and ends the sessions of any that were revoked or expired:
//! one query per check however many sessions are open (per 500 tokens),
//! rather than one per session.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex, Weak,
    },
    time::Duration,
};

use entity::access_token;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect};
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::clock::SharedClock;

pub struct Sessions {
    open: Mutex<HashMap<u64, (Uuid, oneshot::Sender<()>)>>,
    next_id: AtomicU64,
}

/// Keeps a session registered; dropping it unregisters. `ended` resolves
/// when the session's token stops being valid.
pub struct Session {
    id: u64,
    sessions: Arc<Sessions>,
    pub ended: oneshot::Receiver<()>,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.sessions.lock().remove(&self.id);
    }
}

impl Sessions {
    /// Starts the checker; it stops when the last handle is dropped.
    pub fn start(db: DatabaseConnection, clock: SharedClock, interval: Duration) -> Arc<Self> {
        let sessions = Arc::new(Self {
            open: Mutex::default(),
            next_id: AtomicU64::new(0),
        });
        tokio::spawn(check(Arc::downgrade(&sessions), db, clock, interval));
        sessions
    }

    pub fn register(self: &Arc<Self>, token_id: Uuid) -> Session {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (end, ended) = oneshot::channel();
        self.lock().insert(id, (token_id, end));
        Session {
            id,
            sessions: self.clone(),
            ended,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, (Uuid, oneshot::Sender<()>)>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn end_all_but(&self, valid: &HashSet<Uuid>, checked: &HashSet<Uuid>) {
        let mut open = self.lock();
        let ended: Vec<u64> = open
            .iter()
            .filter(|(_, (token, _))| checked.contains(token) && !valid.contains(token))
            .map(|(id, _)| *id)
            .collect();
        for id in ended {
            if let Some((_, end)) = open.remove(&id) {
                let _ = end.send(());
            }
        }
    }
}

async fn check(
    sessions: Weak<Sessions>,
    db: DatabaseConnection,
    clock: SharedClock,
    interval: Duration,
) {
    loop {
        tokio::time::sleep(interval).await;
        let Some(sessions) = sessions.upgrade() else {
            return;
        };
        let tokens: HashSet<Uuid> = sessions.lock().values().map(|(token, _)| *token).collect();
        if tokens.is_empty() {
            continue;
        }
        match still_valid(&db, &tokens, clock.now()).await {
            Ok(valid) => sessions.end_all_but(&valid, &tokens),
            Err(error) => tracing::warn!(%error, "cannot check WebSocket session tokens"),
        }
    }
}

/// Which of `tokens` are neither revoked nor expired at `now`.
async fn still_valid(
    db: &DatabaseConnection,
    tokens: &HashSet<Uuid>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<HashSet<Uuid>, DbErr> {
    let tokens: Vec<Uuid> = tokens.iter().copied().collect();
    let mut valid = HashSet::new();
    for chunk in tokens.chunks(500) {
        let ids: Vec<Uuid> = access_token::Entity::find()
            .select_only()
            .column(access_token::Column::Id)
            .filter(access_token::Column::Id.is_in(chunk.iter().copied()))
            .filter(access_token::Column::RevokedAt.is_null())
            .filter(access_token::Column::ExpiresAt.gt(now))
            .into_tuple()
            .all(db)
            .await?;
        valid.extend(ids);
    }
    Ok(valid)
}
