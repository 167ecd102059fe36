//! A partner's claim on a customer deal.

use sea_orm::entity::prelude::*;

use crate::enums::DealRegistrationStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deal_registration")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `DR-<year>-<6 digits>`.
    #[sea_orm(unique)]
    pub reference: String,
    pub partner_id: Uuid,
    pub status: DealRegistrationStatus,
    pub company_name: String,
    pub company_domain: String,
    pub company_key: String,
    pub domain_key: String,
    pub customer_contact_name: String,
    pub customer_contact_email: String,
    pub amount_minor: i64,
    pub currency: String,
    pub expected_close_date: Date,
    pub product: Option<String>,
    /// The partner's own notes.
    pub notes: Option<String>,
    pub internal_notes: Option<String>,
    pub submitted_at: DateTimeUtc,
    /// Who submitted it, as shown back to the partner.
    pub submitted_by: String,
    pub reviewer_id: Option<Uuid>,
    pub decided_at: Option<DateTimeUtc>,
    pub decision_reason: Option<String>,
    pub protection_starts_at: Option<DateTimeUtc>,
    pub protection_ends_at: Option<DateTimeUtc>,
    pub extension_count: i32,
    pub sla_due_at: DateTimeUtc,
    /// The `protection_ends_at` that `deal_registration.expiring` was sent for.
    pub expiring_notified_for: Option<DateTimeUtc>,
    pub opportunity_id: Option<Uuid>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
