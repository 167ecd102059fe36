//! One event to one endpoint. The body is stored as sent (already in the
//! endpoint's view), so every attempt signs the same bytes.

use sea_orm::entity::prelude::*;

use crate::enums::{DeliveryStatus, EventType};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_delivery")]
pub struct Model {
    /// Also the `webhook-id` header: stable across attempts, so receivers dedupe.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub endpoint_id: Uuid,
    /// The outbox event delivered; null for `webhook.test`.
    pub outbox_event_id: Option<i64>,
    pub event_type: EventType,
    /// `{"type","timestamp","data"}`, exactly as sent.
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub status: DeliveryStatus,
    pub attempt_count: i32,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<DateTimeUtc>,
    /// A worker's claim: until then no other worker attempts it.
    pub lease_until: Option<DateTimeUtc>,
    /// The replica holding the claim.
    pub leased_by: Option<String>,
    pub last_attempt_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
