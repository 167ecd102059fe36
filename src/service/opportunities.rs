//! Opportunities as registrations create them, and their attribution. (The
//! pipeline operations — direct opportunities, stage moves, CRM upserts —
//! build on this.)

use entity::{opportunity, opportunity_attribution};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use uuid::Uuid;

use super::Caller;
use crate::{
    error::ApiError,
    ids::{self, NodeType},
    policy,
};

pub fn snapshot(o: &opportunity::Model) -> Value {
    json!({
        "id": ids::encode(NodeType::Opportunity, o.id),
        "name": o.name,
        "companyName": o.company_name,
        "companyDomain": o.company_domain,
        "source": o.source,
        "stage": o.stage,
        "nextStep": o.next_step,
        "amount": { "minorUnits": o.amount_minor, "currency": o.currency },
        "expectedCloseDate": o.expected_close_date,
        "closedAt": o.closed_at,
        "closedLostReason": o.closed_lost_reason,
        "dealRegistrationId": o.deal_registration_id.map(|id| ids::encode(NodeType::DealRegistration, id)),
        "discountPercent": o.discount_bps,
        "marginPercent": o.margin_bps,
        "competitorIntel": o.competitor_intel,
        "internalNotes": o.internal_notes,
        "version": o.version,
    })
}

/// The opportunity with `id`, if the caller may see it (partners: only those
/// attributed to their partner).
pub async fn find(
    db: &impl ConnectionTrait,
    caller: &Caller<'_>,
    id: Uuid,
) -> Result<Option<opportunity::Model>, ApiError> {
    Ok(opportunity::Entity::find_by_id(id)
        .filter(policy::opportunity_rows(caller.principal))
        .one(db)
        .await?)
}

/// Every partner's attribution on an opportunity (staff only).
pub async fn attributions(
    db: &impl ConnectionTrait,
    opportunity_id: Uuid,
) -> Result<Vec<opportunity_attribution::Model>, DbErr> {
    opportunity_attribution::Entity::find()
        .filter(opportunity_attribution::Column::OpportunityId.eq(opportunity_id))
        .all(db)
        .await
}

/// One partner's own attribution on an opportunity.
pub async fn attribution_of(
    db: &impl ConnectionTrait,
    opportunity_id: Uuid,
    partner_id: Uuid,
) -> Result<Option<opportunity_attribution::Model>, DbErr> {
    opportunity_attribution::Entity::find()
        .filter(opportunity_attribution::Column::OpportunityId.eq(opportunity_id))
        .filter(opportunity_attribution::Column::PartnerId.eq(partner_id))
        .one(db)
        .await
}
