//! A partner contact's certification on one track.

use sea_orm::entity::prelude::*;

use crate::enums::CertificationStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "certification")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The contact's partner, kept here so row scoping is one condition.
    pub partner_id: Uuid,
    pub contact_id: Uuid,
    pub track_id: Uuid,
    pub status: CertificationStatus,
    pub enrolled_at: DateTimeUtc,
    pub earned_at: Option<DateTimeUtc>,
    pub expires_at: Option<DateTimeUtc>,
    /// The `expires_at` that `certification.expiring` was sent for; a renewal
    /// moves `expires_at`, so the next reminder is due again.
    pub expiring_notified_for: Option<DateTimeUtc>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
