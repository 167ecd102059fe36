//! The transactional outbox: one row per state change, written in the same
//! transaction as the change. `id` is the event cursor.

use sea_orm::entity::prelude::*;

use crate::enums::{ActorKind, EventType, SubjectType};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub event_id: Uuid,
    pub event_type: EventType,
    pub occurred_at: DateTimeUtc,
    pub actor_kind: ActorKind,
    pub actor_id: Option<Uuid>,
    pub subject_type: SubjectType,
    pub subject_id: Uuid,
    /// The partner the event concerns, for row scoping of partner principals.
    pub partner_id: Option<Uuid>,
    /// The full (internal) view; partner views are projected from it.
    pub payload: Json,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
