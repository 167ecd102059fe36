//! The terms of one version of an incentive plan. Never changed once
//! written: a change to a plan is a new version, and what was earned keeps
//! the version it was computed under.

use sea_orm::entity::prelude::*;

use crate::enums::{
    IncentiveBasis, IncentiveTierMode, IncentiveTierPeriod, IncentiveTrigger, IncentiveWindowAnchor,
};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "incentive_plan_version")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub plan_id: Uuid,
    /// 1, 2, … within the plan.
    pub number: i32,
    /// What partners read about the plan; nothing else of it is partner-visible.
    pub partner_description: String,
    pub trigger: IncentiveTrigger,
    pub basis: IncentiveBasis,
    pub currency: String,
    /// `[{"role": "SOURCED", "rateBps": 1000} | {"role": …, "flatMinor": 50000}]`.
    pub role_payouts: Json,
    /// Partner types that qualify (`[]`: all).
    pub partner_types: Json,
    /// Partner tiers that qualify (`[]`: all).
    pub partner_tiers: Json,
    /// A certification track some contact of the partner must hold.
    pub certification_track_id: Option<Uuid>,
    pub window_anchor: Option<IncentiveWindowAnchor>,
    pub window_days: Option<i32>,
    pub window_max_count: Option<i32>,
    pub tier_period: Option<IncentiveTierPeriod>,
    pub tier_mode: Option<IncentiveTierMode>,
    /// `[{"aboveMinor": 0, "rateBps": 500}, …]`, ordered; `[]` without tiers.
    pub tier_brackets: Json,
    pub cap_minor: Option<i64>,
    pub hold_days: i32,
    /// The plan's start, for windows anchored at it.
    pub starts_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
