//! A company in the partner program.

use sea_orm::entity::prelude::*;

use crate::enums::{PartnerStatus, PartnerTier, PartnerType};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "partner")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    /// Lower-cased name; unique, and what name search matches against.
    #[sea_orm(unique)]
    pub name_key: String,
    pub partner_type: PartnerType,
    pub tier: PartnerTier,
    pub status: PartnerStatus,
    pub website: Option<String>,
    pub signed_at: Option<DateTimeUtc>,
    pub owner_id: Option<Uuid>,
    pub internal_notes: Option<String>,
    /// Margin in basis points (1250 = 12.5 %).
    pub margin_bps: Option<i32>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// When `partner.activation_overdue` was sent (it is sent once).
    pub activation_overdue_notified_at: Option<DateTimeUtc>,
    /// Customer NPS, −100..100, set by staff.
    pub customer_nps: Option<i32>,
    /// The tier the daily job last recommended (`partner.tier_recommendation_changed`
    /// is recorded when it changes).
    pub recommended_tier: Option<PartnerTier>,
    /// When the job last worked out `recommended_tier` (it does so daily).
    pub recommended_tier_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::staff_user::Entity",
        from = "Column::OwnerId",
        to = "super::staff_user::Column::Id"
    )]
    Owner,
    #[sea_orm(has_many = "super::partner_contact::Entity")]
    Contact,
}

impl Related<super::staff_user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Owner.def()
    }
}

impl Related<super::partner_contact::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Contact.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
