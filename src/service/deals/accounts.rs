//! Account matching for deals (SPEC §4.2): a registration and an opportunity
//! name the same account when their normalised domains or normalised company
//! names are equal; and what still claims an account.

use chrono::{DateTime, Utc};
use entity::{
    certification, certification_track, deal_registration, opportunity, opportunity_attribution,
    partner_contact,
};
use sea_orm::{
    sea_query::Query, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
};
use uuid::Uuid;

use crate::domain::{
    AttributionRole, CertificationKind, CertificationStatus, DealRegistrationStatus,
    OpportunityStage,
};

/// The stages of an open opportunity.
pub const OPEN_STAGES: [OpportunityStage; 4] = [
    OpportunityStage::Registered,
    OpportunityStage::Qualified,
    OpportunityStage::Proposal,
    OpportunityStage::Negotiation,
];

/// Registrations that still claim their account at `now`: undecided, or
/// approved and protected.
pub fn active_claims(now: DateTime<Utc>) -> Condition {
    use DealRegistrationStatus as Status;
    Condition::any()
        .add(deal_registration::Column::Status.is_in([Status::Submitted, Status::UnderReview]))
        .add(
            Condition::all()
                .add(deal_registration::Column::Status.eq(Status::Approved))
                .add(deal_registration::Column::ProtectionEndsAt.gt(now)),
        )
}

pub fn same_account_registrations(domain_key: &str, company_key: &str) -> Condition {
    Condition::any()
        .add(deal_registration::Column::DomainKey.eq(domain_key))
        .add(deal_registration::Column::CompanyKey.eq(company_key))
}

pub fn same_account_opportunities(domain_key: &str, company_key: &str) -> Condition {
    Condition::any()
        .add(opportunity::Column::DomainKey.eq(domain_key))
        .add(opportunity::Column::CompanyKey.eq(company_key))
}

/// Certifications that count for gating and thresholds: those of contacts
/// still active (a deactivated contact's are kept, for history only).
pub fn counted_certifications() -> Condition {
    let mut active_contacts = Query::select();
    active_contacts
        .column(partner_contact::Column::Id)
        .from(partner_contact::Entity)
        .and_where(partner_contact::Column::DeactivatedAt.is_null());
    Condition::all().add(certification::Column::ContactId.in_subquery(active_contacts.to_owned()))
}

/// Whether `partner_id` has an active contact with an active certification
/// (of `kind`, if given).
pub async fn certified(
    db: &impl ConnectionTrait,
    partner_id: Uuid,
    kind: Option<CertificationKind>,
) -> Result<bool, DbErr> {
    let mut condition = Condition::all()
        .add(certification::Column::PartnerId.eq(partner_id))
        .add(certification::Column::Status.eq(CertificationStatus::Active))
        .add(counted_certifications());
    if let Some(kind) = kind {
        let mut tracks = Query::select();
        tracks
            .column(certification_track::Column::Id)
            .from(certification_track::Entity)
            .and_where(certification_track::Column::Kind.eq(kind));
        condition = condition.add(certification::Column::TrackId.in_subquery(tracks.to_owned()));
    }
    Ok(certification::Entity::find()
        .filter(condition)
        .one(db)
        .await?
        .is_some())
}

/// Whether the partner sourced a closed-won deal on this account before.
pub async fn incumbent(
    db: &impl ConnectionTrait,
    partner_id: Uuid,
    domain_key: &str,
    company_key: &str,
) -> Result<bool, DbErr> {
    let mut sourced = Query::select();
    sourced
        .column(opportunity_attribution::Column::OpportunityId)
        .from(opportunity_attribution::Entity)
        .and_where(opportunity_attribution::Column::PartnerId.eq(partner_id))
        .and_where(opportunity_attribution::Column::Role.eq(AttributionRole::Sourced));
    Ok(opportunity::Entity::find()
        .filter(same_account_opportunities(domain_key, company_key))
        .filter(opportunity::Column::Stage.eq(OpportunityStage::ClosedWon))
        .filter(opportunity::Column::Id.in_subquery(sourced.to_owned()))
        .one(db)
        .await?
        .is_some())
}
