//! One audited change: who, when, what, and the changed fields before and after.

use sea_orm::entity::prelude::*;

use crate::enums::{ActorKind, EntityType};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_entry")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub occurred_at: DateTimeUtc,
    pub actor_kind: ActorKind,
    pub actor_id: Option<Uuid>,
    pub token_id: Option<Uuid>,
    pub request_id: Option<String>,
    pub operation: String,
    pub entity_type: EntityType,
    pub entity_id: Uuid,
    /// `{"field": {"before": …, "after": …}}` for every changed field.
    pub changes: Json,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
