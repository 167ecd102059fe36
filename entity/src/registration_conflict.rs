//! A conflict found for a registration: the other side, the rule applied,
//! the recommendation and, once decided, the resolution.

use sea_orm::entity::prelude::*;

use crate::enums::{ConflictKind, ConflictResolution};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "registration_conflict")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub registration_id: Uuid,
    pub kind: ConflictKind,
    pub other_registration_id: Option<Uuid>,
    pub other_opportunity_id: Option<Uuid>,
    pub rule: String,
    pub recommendation: ConflictResolution,
    pub resolution: Option<ConflictResolution>,
    pub rationale: Option<String>,
    pub resolved_by: Option<Uuid>,
    pub resolved_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
