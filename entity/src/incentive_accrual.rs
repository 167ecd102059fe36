//! What one plan version earned one partner for one trigger, and where that
//! stands. The money itself is in the ledger (`incentive_ledger_entry`);
//! this row is the workflow beside it (status, hold, reasons, dispute),
//! versioned, and changed only together with the ledger entry that records
//! the change.

use sea_orm::entity::prelude::*;

use crate::enums::{AccrualStatus, AttributionRole, IncentiveTrigger};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "incentive_accrual")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub partner_id: Uuid,
    pub plan_id: Uuid,
    pub plan_version_id: Uuid,
    pub trigger: IncentiveTrigger,
    /// The opportunity won or the registration approved.
    pub subject_id: Uuid,
    /// When the trigger fired (the close, the approval).
    pub triggered_at: DateTimeUtc,
    pub role: AttributionRole,
    pub credit_bps: i32,
    /// What the fact adds to its tier period, minor units.
    pub basis_minor: i64,
    pub amount_minor: i64,
    pub currency: String,
    pub status: AccrualStatus,
    pub hold_until: DateTimeUtc,
    /// Why it is held, rejected or reversed, in words the partner sees.
    pub reason: Option<String>,
    /// Staff's own note (internal).
    pub note: Option<String>,
    /// The steps that make up the amount, in words (`["…", …]`).
    pub explanation: Json,
    pub disputed_at: Option<DateTimeUtc>,
    pub dispute_reason: Option<String>,
    pub dispute_resolution: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
