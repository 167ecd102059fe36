//! An activation milestone a partner reached; at most one row per kind.

use sea_orm::entity::prelude::*;

use crate::enums::MilestoneKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "partner_milestone")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub partner_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub milestone: MilestoneKind,
    pub achieved_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
