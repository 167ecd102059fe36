//! The event feed as a principal sees it: a page of the outbox for polling
//! clients, and a stream that replays from a cursor and then goes live,
//! without gap or duplicate.
//!
//! The stream subscribes to the bus *before* reading the outbox. Everything
//! up to the bus head at that moment comes from the database, everything
//! after it from the bus; an event read from the database is skipped when
//! the bus brings it again. A subscriber that falls too far behind the bus
//! goes back to the database from its last cursor.

use std::collections::BTreeSet;

use entity::outbox_event;
use futures_util::Stream;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

use super::{
    bus::{EventBus, SharedEvent},
    view::{Audience, Shown},
};
use crate::{domain::EventType, policy::partner_view};

/// What a reader asked for: whose view, which types, which subject.
#[derive(Debug, Clone)]
pub struct Filter {
    pub audience: Audience,
    /// Event types to include; empty means every type the audience receives.
    pub types: BTreeSet<EventType>,
    /// Only events about this subject (a status subscription on one object).
    pub subject_id: Option<uuid::Uuid>,
    /// Only events concerning this partner (staff narrowing a subscription).
    pub partner_id: Option<uuid::Uuid>,
}

/// One event as its reader sees it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub event: SharedEvent,
    shown: Shown,
}

impl Seen {
    /// The payload in the reader's view.
    pub fn data(&self) -> &Value {
        match &self.shown {
            Shown::Whole => &self.event.payload,
            Shown::Projected(data) => data,
        }
    }
}

impl Filter {
    fn admits(&self, event: &outbox_event::Model) -> Option<Shown> {
        if !self.types.is_empty() && !self.types.contains(&event.event_type) {
            return None;
        }
        if self.subject_id.is_some_and(|id| id != event.subject_id) {
            return None;
        }
        if self.partner_id.is_some() && self.partner_id != event.partner_id {
            return None;
        }
        self.audience.shown(event)
    }

    /// The same filter in SQL, so pages and replays read only what they show.
    fn condition(&self) -> Condition {
        let mut condition = Condition::all();
        if !self.types.is_empty() {
            condition = condition.add(outbox_event::Column::EventType.is_in(self.types.clone()));
        }
        if let super::view::Audience::Partner(partner) = self.audience {
            let visible = partner_view::PARTNER_EVENTS.iter().map(|(t, _)| *t);
            condition = condition
                .add(outbox_event::Column::PartnerId.eq(partner))
                .add(outbox_event::Column::EventType.is_in(visible));
        }
        if let Some(subject) = self.subject_id {
            condition = condition.add(outbox_event::Column::SubjectId.eq(subject));
        }
        if let Some(partner) = self.partner_id {
            condition = condition.add(outbox_event::Column::PartnerId.eq(partner));
        }
        condition
    }
}

/// Up to `limit` events after `after` that the filter admits, oldest first,
/// and the cursor of the last row read when the outbox may hold more.
pub async fn page(
    db: &DatabaseConnection,
    filter: &Filter,
    after: i64,
    limit: u64,
) -> Result<(Vec<Seen>, Option<i64>), DbErr> {
    let rows = outbox_event::Entity::find()
        .filter(outbox_event::Column::Id.gt(after))
        .filter(filter.condition())
        .order_by_asc(outbox_event::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let more = (rows.len() as u64 == limit)
        .then(|| rows.last().map(|row| row.id))
        .flatten();
    let seen = rows
        .into_iter()
        .filter_map(|event| {
            let shown = filter.admits(&event)?;
            Some(Seen {
                event: event.into(),
                shown,
            })
        })
        .collect();
    Ok((seen, more))
}

/// Rows read per replay query.
const REPLAY_BATCH: u64 = 200;

/// The events after `after` (or, with `None`, from now on) that the filter
/// admits: first those already in the outbox, then live ones.
pub fn stream(
    db: DatabaseConnection,
    bus: EventBus,
    filter: Filter,
    after: Option<i64>,
) -> impl Stream<Item = Result<Seen, DbErr>> + Send + 'static {
    async_stream::try_stream! {
        let mut live = bus.subscribe();
        let mut cursor = after.unwrap_or(live.head);
        loop {
            // Catch up from the database: it holds at least everything up to
            // the bus head, since the head was read from it.
            if cursor < live.head {
                loop {
                    // Boxed: an idle subscriber should not carry a query's state.
                    let (batch, more) = Box::pin(page(&db, &filter, cursor, REPLAY_BATCH)).await?;
                    for seen in batch {
                        cursor = seen.event.id;
                        yield seen;
                    }
                    match more {
                        Some(last_read) => cursor = last_read,
                        None => break,
                    }
                }
            }
            // Ids are handed out in commit order, so nothing at or below the
            // head can still appear: the bus brings everything after it.
            cursor = cursor.max(live.head);
            loop {
                match live.receiver.recv().await {
                    Ok(event) if event.id <= cursor => {}
                    Ok(event) => {
                        cursor = event.id;
                        if let Some(shown) = filter.admits(&event) {
                            yield Seen { event, shown };
                        }
                    }
                    Err(RecvError::Lagged(_)) => {
                        // Drop what the receiver still holds and re-read it all.
                        live = bus.subscribe();
                        break;
                    }
                    Err(RecvError::Closed) => return,
                }
            }
        }
    }
}
