//! The in-process event bus: one pump per process reads new outbox rows in
//! cursor order and broadcasts them to this process's subscribers.
//!
//! The pump wakes on a local commit, on a PostgreSQL `NOTIFY` from any
//! replica, and once a second regardless, then reads everything after its
//! cursor. A dropped notification (a listener reconnecting, say) therefore
//! costs at most that second, never an event.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use entity::outbox_event;
use sea_orm::{
    ColumnTrait, DatabaseBackend, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use tokio::sync::{broadcast, Notify};

use crate::signal;

/// An outbox row as subscribers receive it.
pub type SharedEvent = Arc<outbox_event::Model>;

/// How many events a subscriber may fall behind before it re-reads the
/// outbox instead (see `feed`).
const CAPACITY: usize = 4096;
/// Rows read per outbox query.
const BATCH: u64 = 500;
/// The longest a pump sleeps without looking, whatever the notifications.
const POLL: Duration = Duration::from_secs(1);

/// Cheap to clone; every clone is the same bus.
#[derive(Clone)]
pub struct EventBus {
    inner: Arc<Inner>,
}

struct Inner {
    sender: broadcast::Sender<SharedEvent>,
    /// The cursor of the last event sent. Held while sending, so a
    /// subscriber that reads it together with subscribing knows exactly which
    /// events its receiver will carry: those after it.
    head: Mutex<i64>,
}

/// A subscription to the live events after `head`.
pub struct Live {
    pub receiver: broadcast::Receiver<SharedEvent>,
    pub head: i64,
}

impl EventBus {
    /// Starts the pump for `db`; it runs as long as the runtime does.
    pub async fn start(db: DatabaseConnection) -> Result<Self, DbErr> {
        let head = latest_cursor(&db).await?;
        let bus = Self {
            inner: Arc::new(Inner {
                sender: broadcast::channel(CAPACITY).0,
                head: Mutex::new(head),
            }),
        };
        let wake = Arc::new(Notify::new());
        if db.get_database_backend() == DatabaseBackend::Postgres {
            let pump = wake.clone();
            tokio::spawn(signal::listen(db.clone(), signal::CHANNEL, move || {
                pump.notify_one()
            }));
        }
        tokio::spawn(pump(db, bus.clone(), wake));
        Ok(bus)
    }

    /// Subscribes to the events after the returned head.
    pub fn subscribe(&self) -> Live {
        let head = self.inner.head.lock().unwrap_or_else(|e| e.into_inner());
        Live {
            receiver: self.inner.sender.subscribe(),
            head: *head,
        }
    }

    /// The cursor of the last event broadcast.
    pub fn head(&self) -> i64 {
        *self.inner.head.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn publish(&self, events: Vec<outbox_event::Model>) {
        let mut head = self.inner.head.lock().unwrap_or_else(|e| e.into_inner());
        for event in events {
            *head = event.id;
            // No receivers is fine: nobody is listening right now.
            let _ = self.inner.sender.send(Arc::new(event));
        }
    }
}

async fn latest_cursor(db: &DatabaseConnection) -> Result<i64, DbErr> {
    Ok(outbox_event::Entity::find()
        .select_only()
        .column_as(outbox_event::Column::Id.max(), "max")
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten()
        .unwrap_or(0))
}

/// The outbox rows after `cursor`, oldest first.
async fn read_after(
    db: &DatabaseConnection,
    cursor: i64,
    limit: u64,
) -> Result<Vec<outbox_event::Model>, DbErr> {
    outbox_event::Entity::find()
        .filter(outbox_event::Column::Id.gt(cursor))
        .order_by_asc(outbox_event::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

async fn pump(db: DatabaseConnection, bus: EventBus, wake: Arc<Notify>) {
    let mut committed = signal::committed();
    loop {
        let cursor = *bus.inner.head.lock().unwrap_or_else(|e| e.into_inner());
        match read_after(&db, cursor, BATCH).await {
            Ok(events) if events.len() as u64 == BATCH => {
                bus.publish(events);
                continue;
            }
            Ok(events) => bus.publish(events),
            Err(error) => tracing::warn!(%error, "cannot read the outbox; retrying"),
        }
        tokio::select! {
            changed = committed.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            () = wake.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}
