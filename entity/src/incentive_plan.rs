//! An incentive plan: its identity and lifecycle. Its terms live in
//! immutable versions (`incentive_plan_version`); `current_version` is the
//! number of the newest, which accrues from now on.

use sea_orm::entity::prelude::*;

use crate::enums::{IncentivePlanKind, IncentivePlanStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "incentive_plan")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub kind: IncentivePlanKind,
    pub status: IncentivePlanStatus,
    /// The number of the newest version.
    pub current_version: i32,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
