//! A partner's claim on a customer deal.

use sea_orm::entity::prelude::*;

use crate::enums::{DealRegistrationStatus, ExtensionRequestStatus};

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
    /// The partner contact who submitted it (through a portal), if any.
    pub submitted_by_contact_id: Option<Uuid>,
    /// The staff user who submitted it on the partner's behalf, if any.
    pub submitted_by_staff_id: Option<Uuid>,
    /// The partner's latest extension request: days, reason, when, and its outcome.
    pub extension_request_days: Option<i32>,
    pub extension_request_reason: Option<String>,
    pub extension_requested_at: Option<DateTimeUtc>,
    pub extension_request_status: Option<ExtensionRequestStatus>,
    pub extension_request_decided_at: Option<DateTimeUtc>,
    /// Why staff declined it; the partner sees it.
    pub extension_decline_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
