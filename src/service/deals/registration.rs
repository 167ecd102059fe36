//! The deal registration record: its snapshot and events, loading it for a
//! change, its versioned save, and its decisions. Approval creates the
//! opportunity (or joins a direct one, for a co-sell) with the partner
//! credited.

use chrono::Duration;
use entity::deal_registration;
use sea_orm::{ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use serde_json::{json, Value};
use uuid::Uuid;

use super::{attribution, opportunity};
use crate::{
    domain::{
        registrations::can_move, AttributionRole, DealRegistrationStatus as Status, EventType,
        OpportunitySource, OpportunityStage, SubjectType, UserError, UserErrorCode,
    },
    error::ApiError,
    ids::{self, NodeType},
    policy,
    service::{Caller, Failure, Outcome},
    unit_of_work::{Event, UnitOfWork, UpdateError},
    versioned_record,
};

/// The partner-facing and internal view of a registration, keyed by GraphQL
/// field names (the partner view is projected from it by the policy).
pub fn snapshot(r: &deal_registration::Model) -> Value {
    json!({
        "id": ids::encode(NodeType::DealRegistration, r.id),
        "reference": r.reference,
        "partnerId": ids::encode(NodeType::Partner, r.partner_id),
        "status": r.status,
        "companyName": r.company_name,
        "companyDomain": r.company_domain,
        "customerContactName": r.customer_contact_name,
        "customerContactEmail": r.customer_contact_email,
        "estimatedAmount": { "minorUnits": r.amount_minor, "currency": r.currency },
        "expectedCloseDate": r.expected_close_date,
        "product": r.product,
        "notes": r.notes,
        "internalNotes": r.internal_notes,
        "submittedAt": r.submitted_at,
        "submittedBy": r.submitted_by,
        "decidedAt": r.decided_at,
        "decisionReason": r.decision_reason,
        "protectionStartsAt": r.protection_starts_at,
        "protectionEndsAt": r.protection_ends_at,
        "extensionCount": r.extension_count,
        "slaDueAt": r.sla_due_at,
        "extensionRequest": r.extension_request_status.map(|status| json!({
            "days": r.extension_request_days,
            "reason": r.extension_request_reason,
            "requestedAt": r.extension_requested_at,
            "status": status,
            "decidedAt": r.extension_request_decided_at,
            "declineReason": r.extension_decline_reason,
        })),
        "version": r.version,
    })
}

versioned_record!(deal_registration, DealRegistration, snapshot);

/// An event about `r`, carrying its snapshot and `extra` fields.
pub fn event(event_type: EventType, r: &deal_registration::Model, extra: Value) -> Event {
    let mut payload = json!({ "dealRegistration": snapshot(r) });
    if let (Some(payload), Some(extra)) = (payload.as_object_mut(), extra.as_object()) {
        payload.extend(extra.clone());
    }
    Event {
        event_type,
        subject_type: SubjectType::DealRegistration,
        subject_id: r.id,
        partner_id: Some(r.partner_id),
        payload,
    }
}

/// The registration with `id`, if the caller may see it.
pub async fn find(
    db: &impl ConnectionTrait,
    caller: &Caller<'_>,
    id: Uuid,
) -> Result<Option<deal_registration::Model>, ApiError> {
    Ok(deal_registration::Entity::find_by_id(id)
        .filter(policy::registration_rows(caller.principal))
        .one(db)
        .await?)
}

pub fn not_found() -> Failure {
    UserError::on_field(
        "id",
        UserErrorCode::NotFound,
        "no deal registration has this id",
    )
    .into()
}

fn stale(version: i32) -> Failure {
    UserError::on_field(
        "expectedVersion",
        UserErrorCode::StaleVersion,
        format!("the registration changed since you read it; it is now at version {version}"),
    )
    .into()
}

fn refuse_move(from: Status, to: Status) -> Failure {
    UserError::on_field(
        "id",
        UserErrorCode::InvalidTransition,
        format!("a {} registration cannot become {}", from, to),
    )
    .into()
}

/// Loads the registration (scoped), checks the version and the move.
pub async fn load(
    uow: &UnitOfWork,
    caller: &Caller<'_>,
    id: Uuid,
    expected_version: Option<i32>,
    to: Option<Status>,
) -> Outcome<deal_registration::Model> {
    let current = find(uow.conn(), caller, id).await?.ok_or_else(not_found)?;
    if expected_version.is_some_and(|v| v != current.version) {
        return Err(stale(current.version));
    }
    if let Some(to) = to {
        let from = current.status;
        if !can_move(from, to) {
            return Err(refuse_move(from, to));
        }
    }
    Ok(current)
}

/// Writes `changed` if the row is still at `current.version`, audits it and
/// emits `deal_registration.status_changed` when the status moved.
pub async fn save(
    uow: &UnitOfWork,
    operation: &str,
    current: &deal_registration::Model,
    changed: deal_registration::ActiveModel,
) -> Outcome<deal_registration::Model> {
    let saved = uow
        .update::<deal_registration::Entity>(operation, current, changed)
        .await
        .map_err(|error| match error {
            UpdateError::Stale(Some(version)) => stale(version),
            UpdateError::Stale(None) => not_found(),
            UpdateError::Db(error) => error.into(),
        })?;
    if saved.status != current.status {
        let extra = json!({ "previousStatus": current.status, "status": saved.status });
        uow.emit(event(
            EventType::DealRegistrationStatusChanged,
            &saved,
            extra,
        ))
        .await?;
    }
    Ok(saved)
}

/// Rejects with a reason the partner sees.
pub async fn reject(
    uow: &UnitOfWork,
    caller: &Caller<'_>,
    current: &deal_registration::Model,
    reason: String,
    operation: &str,
) -> Outcome<deal_registration::Model> {
    let mut changed = current.clone().into_active_model();
    changed.status = Set(Status::Rejected);
    changed.decided_at = Set(Some(uow.now()));
    changed.decision_reason = Set(Some(reason));
    changed.reviewer_id = Set(caller.principal.staff_user_id);
    save(uow, operation, current, changed).await
}

/// Approves for `days` of protection: the opportunity is created at
/// `REGISTERED`, `PARTNER_SOURCED`, with the partner `SOURCED`; or, for a
/// co-sell, the registration joins the direct opportunity `join`.
pub async fn approve(
    uow: &UnitOfWork,
    caller: &Caller<'_>,
    current: &deal_registration::Model,
    days: i64,
    join: Option<Uuid>,
) -> Outcome<deal_registration::Model> {
    const OPERATION: &str = "approveDealRegistration";
    let now = uow.now();
    let opportunity_id = match join {
        Some(id) => id,
        None => {
            let draft = opportunity::Draft {
                name: format!("{} ({})", current.company_name, current.reference),
                company_name: current.company_name.clone(),
                company_domain: current.company_domain.clone(),
                source: OpportunitySource::PartnerSourced,
                stage: OpportunityStage::Registered,
                amount_minor: current.amount_minor,
                currency: current.currency.clone(),
                expected_close_date: current.expected_close_date,
                deal_registration_id: Some(current.id),
                owner_id: None,
                next_step: None,
                discount_bps: None,
                margin_bps: None,
                competitor_intel: None,
                internal_notes: None,
                crm_managed: false,
            };
            let created =
                opportunity::create(uow, OPERATION, draft, Some(current.partner_id)).await?;
            attribution::credit(
                uow,
                OPERATION,
                created.id,
                current.partner_id,
                AttributionRole::Sourced,
                10_000,
            )
            .await?;
            created.id
        }
    };
    let mut changed = current.clone().into_active_model();
    changed.status = Set(Status::Approved);
    changed.decided_at = Set(Some(now));
    changed.reviewer_id = Set(caller.principal.staff_user_id);
    changed.protection_starts_at = Set(Some(now));
    changed.protection_ends_at = Set(Some(now + Duration::days(days)));
    changed.opportunity_id = Set(Some(opportunity_id));
    let saved = save(uow, OPERATION, current, changed).await?;
    crate::service::incentives::accruals::accrue_approved(uow, OPERATION, &saved).await?;
    Ok(saved)
}
