//! A sales opportunity: partner-sourced (from an approved registration) or direct.

use sea_orm::entity::prelude::*;

use crate::enums::{OpportunitySource, OpportunityStage};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "opportunity")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub company_name: String,
    pub company_domain: String,
    /// Normalised company name, for conflict matching.
    pub company_key: String,
    /// Normalised domain, for conflict matching.
    pub domain_key: String,
    pub source: OpportunitySource,
    pub stage: OpportunityStage,
    pub next_step: Option<String>,
    pub amount_minor: i64,
    pub currency: String,
    pub expected_close_date: Date,
    pub closed_at: Option<DateTimeUtc>,
    pub closed_lost_reason: Option<String>,
    /// When it first reached `QUALIFIED` or a later stage.
    pub qualified_at: Option<DateTimeUtc>,
    pub deal_registration_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    pub discount_bps: Option<i32>,
    pub margin_bps: Option<i32>,
    pub competitor_intel: Option<String>,
    pub internal_notes: Option<String>,
    /// A CRM owns stage, amount and close date.
    pub crm_managed: bool,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
