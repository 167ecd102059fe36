//! A partner's credit on an opportunity.

use sea_orm::entity::prelude::*;

use crate::enums::AttributionRole;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "opportunity_attribution")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub opportunity_id: Uuid,
    pub partner_id: Uuid,
    /// `SOURCED`, `INFLUENCED` or `CO_SELL`.
    pub role: AttributionRole,
    /// Credit in basis points (10000 = 1.0).
    pub credit_bps: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
