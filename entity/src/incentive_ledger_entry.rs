//! One money fact of the append-only incentive ledger. Never updated or
//! deleted (database triggers refuse it); a correction is a new entry that
//! names the one it corrects. `seq` orders the ledger (the finance feed's
//! cursor); a partner's balance is the sum of its entries.

use sea_orm::entity::prelude::*;

use crate::enums::LedgerEntryKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "incentive_ledger_entry")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    #[sea_orm(unique)]
    pub id: Uuid,
    pub partner_id: Uuid,
    pub kind: LedgerEntryKind,
    /// Signed, in minor units of `currency`.
    pub amount_minor: i64,
    pub currency: String,
    pub accrual_id: Option<Uuid>,
    /// The payout a `PAYOUT` entry records.
    pub payout_id: Option<Uuid>,
    /// The entry this one corrects (a reversal, a rejection).
    pub corrects_id: Option<Uuid>,
    pub reason: Option<String>,
    pub occurred_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
