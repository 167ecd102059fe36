//! A ledger entry gathered by a payout.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "incentive_payout_line")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub payout_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub ledger_entry_id: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
