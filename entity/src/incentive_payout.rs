//! A payout to one partner in one currency: the ledger entries it gathered
//! (`incentive_payout_line`) summed.

use sea_orm::entity::prelude::*;

use crate::enums::PayoutStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "incentive_payout")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub partner_id: Uuid,
    pub currency: String,
    /// Entries up to the end of this day are gathered.
    pub period_end: Date,
    pub amount_minor: i64,
    pub status: PayoutStatus,
    pub external_reference: Option<String>,
    pub failure_reason: Option<String>,
    pub paid_at: Option<DateTimeUtc>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
