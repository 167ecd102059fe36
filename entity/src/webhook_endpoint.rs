//! A webhook endpoint: a staff one (`partner_id` null) or one partner's.
//! The secrets are kept sealed with the server key (`partnergraph::secrets`):
//! every delivery is signed with them, so they cannot be hashed.

use sea_orm::entity::prelude::*;

use crate::enums::DisabledReason;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoint")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Set for a partner's endpoint: it receives that partner's events in their partner view.
    pub partner_id: Option<Uuid>,
    pub url: String,
    pub description: Option<String>,
    /// The event types it receives, space-separated.
    pub event_types: String,
    pub enabled: bool,
    /// Why it was disabled.
    pub disabled_reason: Option<DisabledReason>,
    /// The current signing secret (`whsec_…`), sealed: `enc1:<key id>:…`.
    pub secret: String,
    /// The secret before the last rotation, sealed; it signs too until it expires.
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<DateTimeUtc>,
    /// Since when every attempt has failed; null after a success.
    pub failing_since: Option<DateTimeUtc>,
    /// Only outbox events after this id are delivered (those committed after it was created).
    pub starts_after_event: i64,
    pub version: i32,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
