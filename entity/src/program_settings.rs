//! The one record of program settings (id = 1).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "program_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub protection_days: i32,
    pub max_extensions: i32,
    pub extension_max_days: i32,
    pub review_sla_hours: i32,
    pub registration_expiring_days: i32,
    pub certification_expiring_days: i32,
    pub certification_gating: bool,
    /// Influence credit weight in basis points (3000 = 0.3).
    pub influence_weight_bps: i32,
    pub required_sales_certifications: i32,
    pub required_technical_certifications: i32,
    pub activation_days: i32,
    pub base_currency: String,
    pub version: i32,
    pub updated_at: DateTimeUtc,
    /// Whether partners see their own `tierProgress`.
    pub show_tier_progress_to_partners: bool,
    /// Days after an accrual is created in which its partner may dispute it.
    pub incentive_dispute_days: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
