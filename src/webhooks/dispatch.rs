//! The dispatcher: reads the outbox after its stored cursor, in id order,
//! and turns each event into one delivery per endpoint that wants it and may
//! see it, in that endpoint's view. Inserting the deliveries and moving the
//! cursor is one transaction holding the cursor row's lock, so replicas
//! take turns and never dispatch an event twice; outbox ids become visible
//! in commit order, so the cursor never skips a late committer.

use chrono::{DateTime, SecondsFormat, Utc};
use entity::{
    outbox_event, webhook_attempt, webhook_delivery, webhook_dispatch_cursor, webhook_endpoint,
};
use sea_orm::{
    sea_query::{LockType, OnConflict},
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::{DeliveryStatus, EventType};
use crate::{
    events::view::Audience,
    unit_of_work::{Actor, UnitOfWork},
};

/// Outbox events read per transaction.
const BATCH: u64 = 500;

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Dispatched {
    pub events: usize,
    pub deliveries: usize,
}

/// The audience an endpoint's deliveries are shown to.
pub fn audience(endpoint: &webhook_endpoint::Model) -> Audience {
    match endpoint.partner_id {
        None => Audience::Staff,
        Some(partner) => Audience::Partner(partner),
    }
}

/// The body as sent: `{"type","timestamp","data"}`.
pub fn body(event_type: EventType, occurred_at: DateTime<Utc>, data: serde_json::Value) -> String {
    json!({
        "type": event_type,
        "timestamp": occurred_at.to_rfc3339_opts(SecondsFormat::Micros, true),
        "data": data,
    })
    .to_string()
}

/// A delivery due at once.
pub fn new_delivery(
    endpoint_id: Uuid,
    outbox_event_id: Option<i64>,
    event_type: EventType,
    body: String,
    now: DateTime<Utc>,
) -> webhook_delivery::ActiveModel {
    webhook_delivery::ActiveModel {
        id: Set(Uuid::now_v7()),
        endpoint_id: Set(endpoint_id),
        outbox_event_id: Set(outbox_event_id),
        event_type: Set(event_type),
        body: Set(body),
        status: Set(DeliveryStatus::Pending),
        attempt_count: Set(0),
        next_attempt_at: Set(Some(now)),
        lease_until: Set(None),
        leased_by: Set(None),
        last_attempt_at: Set(None),
        created_at: Set(now),
    }
}

/// Deletes an endpoint's deliveries and their attempts, which go with it
/// when it is deleted (an audited change of the endpoint). Explicitly, not
/// by cascade: SQLite enforces foreign keys only when asked.
#[expect(
    clippy::disallowed_methods,
    reason = "delivery bookkeeping: the endpoint's deletion is the audited change"
)]
pub async fn delete_deliveries(db: &impl ConnectionTrait, endpoint_id: Uuid) -> Result<(), DbErr> {
    let deliveries = webhook_delivery::Entity::find()
        .select_only()
        .column(webhook_delivery::Column::Id)
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint_id))
        .into_query();
    webhook_attempt::Entity::delete_many()
        .filter(webhook_attempt::Column::DeliveryId.in_subquery(deliveries))
        .exec(db)
        .await?;
    webhook_delivery::Entity::delete_many()
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint_id))
        .exec(db)
        .await?;
    Ok(())
}

/// One batch: up to [`BATCH`] events after the cursor.
#[expect(
    clippy::disallowed_methods,
    reason = "delivery bookkeeping under the cursor lock: deliveries are not audited"
)]
pub async fn dispatch_batch(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<Dispatched, DbErr> {
    let uow = UnitOfWork::begin(db, Actor::system(), now).await?;
    let txn = uow.conn();
    // The lock that makes replicas take turns (SQLite: the write lock already does).
    let Some(cursor) = webhook_dispatch_cursor::Entity::find_by_id(1)
        .lock(LockType::Update)
        .one(txn)
        .await?
    else {
        return Err(DbErr::RecordNotFound("webhook_dispatch_cursor".into()));
    };
    let events = outbox_event::Entity::find()
        .filter(outbox_event::Column::Id.gt(cursor.last_outbox_id))
        .order_by_asc(outbox_event::Column::Id)
        .limit(BATCH)
        .all(txn)
        .await?;
    let Some(last) = events.last().map(|e| e.id) else {
        return Ok(Dispatched::default());
    };
    let endpoints = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::Enabled.eq(true))
        .all(txn)
        .await?;
    let subscribed: Vec<Vec<EventType>> = endpoints.iter().map(super::event_types).collect();
    let mut deliveries = Vec::new();
    for event in &events {
        for (endpoint, wanted) in endpoints.iter().zip(&subscribed) {
            if event.id <= endpoint.starts_after_event || !wanted.contains(&event.event_type) {
                continue;
            }
            let Some(data) = audience(endpoint).view(event) else {
                continue;
            };
            let body = body(event.event_type, event.occurred_at, data);
            deliveries.push(new_delivery(
                endpoint.id,
                Some(event.id),
                event.event_type,
                body,
                now,
            ));
        }
    }
    let created = deliveries.len();
    let mut rest = deliveries;
    while !rest.is_empty() {
        let chunk: Vec<_> = rest.drain(..rest.len().min(500)).collect();
        webhook_delivery::Entity::insert_many(chunk)
            .on_conflict(
                OnConflict::columns([
                    webhook_delivery::Column::EndpointId,
                    webhook_delivery::Column::OutboxEventId,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }
    let mut cursor = cursor.into_active_model();
    cursor.last_outbox_id = Set(last);
    cursor.update(txn).await?;
    uow.commit().await?;
    Ok(Dispatched {
        events: events.len(),
        deliveries: created,
    })
}

/// Dispatches until the outbox is read to its end.
pub async fn dispatch_all(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<Dispatched, DbErr> {
    let mut total = Dispatched::default();
    loop {
        let batch = dispatch_batch(db, now).await?;
        total.events += batch.events;
        total.deliveries += batch.deliveries;
        if (batch.events as u64) < BATCH {
            return Ok(total);
        }
    }
}
