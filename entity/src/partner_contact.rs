//! A person at a partner company.

use sea_orm::entity::prelude::*;

use crate::enums::{PartnerContactRole, Role};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "partner_contact")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub partner_id: Uuid,
    pub name: String,
    /// Normalised (lower-case) e-mail address; unique per partner.
    pub email: String,
    pub role: PartnerContactRole,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Set once the contact left: kept for history and certifications, no
    /// longer counted for gating or thresholds, no portal access.
    pub deactivated_at: Option<DateTimeUtc>,
    /// The partner role the contact acts with in a portal, when granted.
    pub portal_role: Option<Role>,
    pub portal_granted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::partner::Entity",
        from = "Column::PartnerId",
        to = "super::partner::Column::Id"
    )]
    Partner,
}

impl Related<super::partner::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Partner.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
