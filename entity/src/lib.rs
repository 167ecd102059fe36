//! SeaORM entities of PartnerGraph: tables, columns and relations only.
//!
//! This crate knows nothing about GraphQL or business rules. Enumerations are
//! typed ([`enums`]) and stored as their product names (`ACTIVE`, `GOLD`, …)
//! in text columns.

pub mod access_token;
pub mod api_client;
pub mod audit_entry;
pub mod certification;
pub mod certification_track;
pub mod deal_registration;
pub mod enums;
pub mod exchange_rate;
pub mod idempotency_key;
pub mod incentive_accrual;
pub mod incentive_ledger_entry;
pub mod incentive_payout;
pub mod incentive_payout_line;
pub mod incentive_plan;
pub mod incentive_plan_version;
pub mod opportunity;
pub mod opportunity_attribution;
pub mod opportunity_external_id;
pub mod outbox_event;
pub mod partner;
pub mod partner_activity;
pub mod partner_contact;
pub mod partner_external_id;
pub mod partner_milestone;
pub mod program_settings;
pub mod registration_conflict;
pub mod registration_sequence;
pub mod staff_user;
pub mod webhook_attempt;
pub mod webhook_delivery;
pub mod webhook_dispatch_cursor;
pub mod webhook_endpoint;

pub use enums::*;

pub mod prelude {
    pub use super::access_token::Entity as AccessToken;
    pub use super::api_client::Entity as ApiClient;
    pub use super::audit_entry::Entity as AuditEntry;
    pub use super::certification::Entity as Certification;
    pub use super::certification_track::Entity as CertificationTrack;
    pub use super::idempotency_key::Entity as IdempotencyKey;
    pub use super::outbox_event::Entity as OutboxEvent;
    pub use super::partner::Entity as Partner;
    pub use super::partner_contact::Entity as PartnerContact;
    pub use super::partner_milestone::Entity as PartnerMilestone;
    pub use super::program_settings::Entity as ProgramSettings;
    pub use super::staff_user::Entity as StaffUser;
}
