//! A partner's recorded activity: portal logins, resource downloads,
//! completed trainings (SPEC §4.5), counted into engagement.

use sea_orm::entity::prelude::*;

use crate::enums::ActivityKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "partner_activity")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub partner_id: Uuid,
    /// `PORTAL_LOGIN`, `RESOURCE_DOWNLOAD` or `TRAINING_COMPLETED`.
    pub kind: ActivityKind,
    pub occurred_at: DateTimeUtc,
    /// How many times it happened (≥ 1).
    pub count: i32,
    pub contact_id: Option<Uuid>,
    /// The sender's id for it; unique per partner, so a re-sent record is a no-op.
    pub external_id: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
