//! THE partner view (SPEC §3), declared once and read top to bottom.
//!
//! A partner principal sees exactly the types, fields, arguments, input
//! fields and enum values listed here, and nothing else: a field that nobody
//! marked partner-safe is internal. Everything that shows data to partners
//! takes its view from this table:
//! - the partner schema (`graphql::partner_schema`), which partner requests
//!   are validated against and partner introspection is answered from, so an
//!   internal field is rejected exactly like a field that does not exist;
//! - `schema.partner.graphql`, printed from that schema;
//! - event payloads (subscriptions, webhooks), through [`project`].
//!
//! Which *rows* a partner sees is the other half of the policy, in
//! `policy::partner_rows` and friends.

/// The partner-visible part of one type.
#[derive(Debug, Clone, Copy)]
pub enum Visible {
    /// Every field (object, input object) or value (enum) of the type.
    All,
    /// Only these fields or values.
    Only(&'static [&'static str]),
}

use Visible::{All, Only};

use crate::domain::EventType;

/// Type name → what partners see of it. Types not listed are internal.
#[rustfmt::skip]
pub const PARTNER_VIEW: &[(&str, Visible)] = &[
    // Entry points.
    ("Query", Only(&["viewer", "node", "nodes", "partners", "partner", "apiClients", "certificationTracks", "certifications", "dealRegistrations", "opportunities", "events", "webhookEndpoints", "accruals", "payouts"])),
    ("Mutation", Only(&[
        "addPartnerContact", "updatePartnerContact", "deactivatePartnerContact", "grantPortalAccess",
        "revokePortalAccess", "createApiClient", "revokeApiClient", "submitDealRegistration", "updateDealRegistration",
        "withdrawDealRegistration", "requestRegistrationExtension", "updateOpportunity", "moveOpportunityStage",
        "createWebhookEndpoint", "updateWebhookEndpoint", "deleteWebhookEndpoint", "rotateWebhookSecret",
        "sendTestWebhook", "redeliverWebhookDelivery", "recordPartnerActivity", "recordPartnerActivities",
        "disputeAccrual",
    ])),
    ("Node", All),
    ("Viewer", Only(&["kind", "role", "partner", "contact", "scopes"])),
    // Partners: their own row only (row scoping), partner-safe fields only.
    ("Partner", Only(&["id", "name", "type", "tier", "status", "website", "signedAt", "activation", "performance", "tierProgress", "contacts", "certifications", "dealRegistrations", "opportunities", "accruals", "payouts", "statement", "incentiveProgress"])),
    // A partner admin manages its own contacts and their portal access (issue 13).
    ("PartnerContact", Only(&["id", "name", "email", "role", "certifications", "active", "deactivatedAt", "portalRole", "version"])),
    ("PartnerConnection", All),
    ("PartnerEdge", All),
    ("PartnerContactConnection", All),
    ("PartnerContactEdge", All),
    ("PageInfo", All),
    ("PartnerFilterInput", All),
    ("PartnerOrder", All),
    ("PartnerOrderField", All),
    ("OrderDirection", All),
    ("PartnerType", All),
    ("PartnerTier", All),
    ("PartnerStatus", All),
    ("PartnerContactRole", All),
    ("AddPartnerContactInput", All),
    ("AddPartnerContactPayload", All),
    ("UpdatePartnerContactInput", All),
    ("DeactivatePartnerContactInput", All),
    ("GrantPortalAccessInput", All),
    ("RevokePortalAccessInput", All),
    ("PartnerContactPayload", All),
    // The activation runway (milestones, due dates, live) of the own partner.
    ("Activation", All),
    ("ActivationMilestone", All),
    ("MilestoneKind", All),
    // The own partner's results and tier progress (never the internal scores).
    ("PartnerPerformance", All),
    ("MonthlyRevenue", All),
    ("Ratio", All),
    ("TierProgress", All),
    ("TierCriterion", All),
    ("TierCriterionKind", All),
    // The own partner's activity (its partner is implied).
    ("PartnerActivity", All),
    ("ActivityKind", All),
    ("RecordPartnerActivityInput", Only(&["kind", "occurredAt", "count", "contactId", "externalId"])),
    ("RecordPartnerActivitiesInput", All),
    ("RecordPartnerActivityPayload", All),
    ("RecordPartnerActivitiesPayload", All),
    // Certification tracks, and the own contacts' certifications.
    ("CertificationTrack", All),
    ("CertificationTrackConnection", All),
    ("CertificationTrackEdge", All),
    ("Certification", All),
    ("CertificationConnection", All),
    ("CertificationEdge", All),
    ("CertificationFilterInput", All),
    ("CertificationKind", All),
    ("CertificationLevel", All),
    ("CertificationStatus", All),
    // The own partner's deal registrations (never conflicts, reviewer or internal notes).
    ("DealRegistration", Only(&[
        "id", "reference", "status", "companyName", "companyDomain", "customerContactName", "customerContactEmail",
        "estimatedAmount", "expectedCloseDate", "product", "notes", "submittedAt", "submittedBy", "decidedAt",
        "decisionReason", "protectionStartsAt", "protectionEndsAt", "protectionActive", "extensionCount", "slaDueAt",
        "opportunity", "version", "extensionRequest",
    ])),
    // The partner asks for more protection and sees the outcome (issue 13).
    ("ExtensionRequest", All),
    ("ExtensionRequestStatus", All),
    ("RequestRegistrationExtensionInput", All),
    ("DealRegistrationConnection", All),
    ("DealRegistrationEdge", All),
    ("DealRegistrationStatus", All),
    ("DealRegistrationFilterInput", Only(&["status", "submittedFrom", "submittedTo", "expiringWithinDays", "slaBreached"])),
    ("SubmitDealRegistrationInput", Only(&[
        "companyName", "companyDomain", "customerContactName", "customerContactEmail", "estimatedAmount",
        "expectedCloseDate", "product", "notes",
    ])),
    ("UpdateDealRegistrationInput", Only(&[
        "id", "expectedVersion", "customerContactName", "customerContactEmail", "estimatedAmount", "expectedCloseDate",
        "product", "notes",
    ])),
    ("DealRegistrationIdInput", All),
    ("DealRegistrationPayload", All),
    ("MoneyInput", All),
    // Opportunities attributed to the own partner: its own credit only.
    ("Opportunity", Only(&[
        "id", "name", "companyName", "companyDomain", "source", "stage", "nextStep", "amount", "expectedCloseDate",
        "closedAt", "closedLostReason", "dealRegistration", "myAttribution", "version",
    ])),
    ("OpportunityConnection", All),
    ("OpportunityEdge", All),
    ("OpportunityFilterInput", Only(&["stage", "source", "open", "expectedCloseFrom", "expectedCloseTo"])),
    ("UpdateOpportunityInput", Only(&["id", "expectedVersion", "nextStep"])),
    ("MoveOpportunityStageInput", All),
    ("OpportunityPayload", All),
    ("OpportunityStage", All),
    ("OpportunitySource", All),
    ("MyAttribution", All),
    ("AttributionRole", All),
    ("Money", All),
    ("CurrencyCode", All),
    ("Decimal", All),
    ("Date", All),
    // Who is asking.
    ("PrincipalKind", All),
    ("Role", Only(&["PARTNER_ADMIN", "PARTNER_REP"])),
    // The partner's own OAuth2 clients (PARTNER_ADMIN).
    ("ApiClient", Only(&["id", "clientId", "name", "role", "scopes", "createdAt", "revokedAt"])),
    ("ApiClientConnection", All),
    ("ApiClientEdge", All),
    ("CreateApiClientInput", Only(&["name", "role", "scopes"])),
    ("CreateApiClientPayload", All),
    ("RevokeApiClientInput", All),
    ("RevokeApiClientPayload", All),
    // The own partner's webhook endpoints (PARTNER_ADMIN with `webhooks:manage`);
    // their deliveries carry the partner view of the partner's own events.
    ("WebhookEndpoint", All),
    ("WebhookEndpointConnection", All),
    ("WebhookEndpointEdge", All),
    ("WebhookDelivery", All),
    ("WebhookDeliveryConnection", All),
    ("WebhookDeliveryEdge", All),
    ("WebhookAttempt", All),
    ("WebhookDeliveryStatus", All),
    ("WebhookDisabledReason", All),
    ("CreateWebhookEndpointInput", All),
    ("CreateWebhookEndpointPayload", All),
    ("UpdateWebhookEndpointInput", All),
    ("WebhookEndpointIdInput", All),
    ("WebhookDeliveryIdInput", All),
    ("WebhookEndpointPayload", All),
    ("DeleteWebhookEndpointPayload", All),
    ("RotateWebhookSecretPayload", All),
    ("WebhookDeliveryPayload", All),
    // The own partner's events, their data in the partner view (`PARTNER_EVENTS`).
    ("Subscription", All),
    ("Event", All),
    ("EventConnection", All),
    ("EventEdge", All),
    ("DealRegistrationStatusChange", All),
    ("OpportunityStageChange", All),
    ("CertificationStatusChange", All),
    ("PartnerStatusChange", All),
    ("JSON", All),
    // The own partner's money (SPEC §4.8): its accruals with their partner-safe
    // explanation (never staff's note), plans by name and partner description
    // only (never their terms, eligibility or previews), its payouts,
    // statements and ledger lines (never the ledger's global cursor), and
    // disputes of its own accruals.
    ("IncentiveAccrual", Only(&[
        "id", "partner", "plan", "planVersion", "trigger", "opportunity", "triggeredAt", "role", "amount", "status",
        "holdUntil", "reason", "explanation", "disputedAt", "disputeReason", "disputeResolution", "createdAt", "version",
    ])),
    ("IncentiveAccrualConnection", All),
    ("IncentiveAccrualEdge", All),
    ("AccrualFilterInput", Only(&["planId", "opportunityId", "status", "disputed"])),
    ("AccrualStatus", All),
    ("IncentiveTrigger", All),
    ("IncentivePlan", Only(&["id", "name", "partnerDescription"])),
    ("Payout", Only(&["id", "partner", "amount", "periodEnd", "status", "externalReference", "failureReason", "paidAt", "createdAt", "version"])),
    ("PayoutConnection", All),
    ("PayoutEdge", All),
    ("PayoutFilterInput", Only(&["status"])),
    ("PayoutStatus", All),
    ("IncentiveStatement", All),
    ("LedgerEntry", Only(&["id", "kind", "amount", "accrualId", "payoutId", "correctsId", "reason", "occurredAt"])),
    ("LedgerEntryKind", All),
    ("IncentiveProgress", All),
    ("IncentiveRoleRate", All),
    ("IncentiveWindowProgress", All),
    ("IncentiveTierPeriodProgress", All),
    ("DisputeAccrualInput", All),
    ("IncentiveAccrualPayload", All),
    // Shared vocabulary.
    ("UserError", All),
    ("UserErrorCode", All),
    ("DateTime", All),
];

/// What partners see of `type_name`, or `None` when the type is internal.
pub fn visible(type_name: &str) -> Option<Visible> {
    PARTNER_VIEW
        .iter()
        .find(|(name, _)| *name == type_name)
        .map(|(_, v)| *v)
}

/// Whether partners see `field` (or enum value) of `type_name`.
pub fn is_visible(type_name: &str, field: &str) -> bool {
    match visible(type_name) {
        Some(All) => true,
        Some(Only(fields)) => fields.contains(&field),
        None => false,
    }
}

/// The partner view of a JSON snapshot of a `type_name` (keys are GraphQL
/// field names, as audit and outbox snapshots are written): internal keys
/// are dropped, and so is everything of an internal type. A reference key
/// `fooId` is kept when the field `foo` is visible.
pub fn project(type_name: &str, snapshot: &serde_json::Value) -> Option<serde_json::Value> {
    visible(type_name)?;
    let object = snapshot.as_object()?;
    let shown = |key: &str| {
        is_visible(type_name, key)
            || key
                .strip_suffix("Id")
                .is_some_and(|field| is_visible(type_name, field))
    };
    Some(serde_json::Value::Object(
        object
            .iter()
            .filter(|(key, _)| shown(key))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect(),
    ))
}

/// One key of an event payload, as partners see it.
#[derive(Debug, Clone, Copy)]
pub enum PayloadKey {
    /// A snapshot of this GraphQL type, projected by [`project`].
    Snapshot(&'static str),
    /// A plain value (a status, a date) shown as it is.
    Value,
}

use PayloadKey::{Snapshot, Value};

/// Event type → the payload keys partners see. Event types not listed
/// (`deal_registration.conflict_detected`) never reach partners; keys not
/// listed are dropped.
#[rustfmt::skip]
pub const PARTNER_EVENTS: &[(EventType, &[(&str, PayloadKey)])] = &[
    (EventType::PartnerCreated, &[("partner", Snapshot("Partner"))]),
    (EventType::PartnerStatusChanged, &[("partner", Snapshot("Partner")), ("previousStatus", Value), ("status", Value)]),
    (EventType::PartnerTierChanged, &[("partner", Snapshot("Partner")), ("previousTier", Value), ("tier", Value)]),
    (EventType::PartnerMilestoneReached, &[("partnerId", Value), ("milestone", Value), ("achievedAt", Value)]),
    (EventType::PartnerActivationOverdue, &[("partnerId", Value), ("signedAt", Value), ("deadline", Value)]),
    (EventType::DealRegistrationSubmitted, &[("dealRegistration", Snapshot("DealRegistration"))]),
    (EventType::DealRegistrationStatusChanged, &[("dealRegistration", Snapshot("DealRegistration")), ("previousStatus", Value), ("status", Value)]),
    (EventType::DealRegistrationExtended, &[("dealRegistration", Snapshot("DealRegistration")), ("days", Value), ("reason", Value)]),
    (EventType::DealRegistrationExtensionRequested, &[("dealRegistration", Snapshot("DealRegistration")), ("days", Value), ("reason", Value)]),
    (EventType::DealRegistrationExtensionDeclined, &[("dealRegistration", Snapshot("DealRegistration")), ("reason", Value)]),
    (EventType::DealRegistrationExpiring, &[("dealRegistration", Snapshot("DealRegistration")), ("protectionEndsAt", Value)]),
    (EventType::DealRegistrationConflictResolved, &[("dealRegistration", Snapshot("DealRegistration")), ("outcome", Value)]),
    (EventType::OpportunityCreated, &[("opportunity", Snapshot("Opportunity"))]),
    (EventType::OpportunityStageChanged, &[("opportunity", Snapshot("Opportunity")), ("previousStage", Value), ("stage", Value)]),
    (EventType::CertificationStatusChanged, &[("certification", Snapshot("Certification")), ("previousStatus", Value), ("status", Value)]),
    (EventType::CertificationExpiring, &[("certification", Snapshot("Certification")), ("expiresAt", Value)]),
    (EventType::WebhookTest, &[("message", Value)]),
    (EventType::WebhookEndpointDisabled, &[("webhookEndpoint", Snapshot("WebhookEndpoint")), ("reason", Value)]),
    (EventType::AccrualCreated, &[("accrual", Snapshot("IncentiveAccrual"))]),
    (EventType::AccrualStatusChanged, &[("accrual", Snapshot("IncentiveAccrual")), ("previousStatus", Value), ("status", Value)]),
    (EventType::AccrualDisputeResolved, &[("accrual", Snapshot("IncentiveAccrual")), ("resolution", Value)]),
    (EventType::PayoutStatusChanged, &[("payout", Snapshot("Payout")), ("previousStatus", Value), ("status", Value)]),
];

/// Whether partners receive events of this type at all.
pub fn event_visible(event_type: EventType) -> bool {
    PARTNER_EVENTS.iter().any(|(t, _)| *t == event_type)
}

/// The partner view of an event payload, or `None` for an internal event type.
pub fn project_event(
    event_type: EventType,
    payload: &serde_json::Value,
) -> Option<serde_json::Value> {
    let (_, keys) = PARTNER_EVENTS.iter().find(|(t, _)| *t == event_type)?;
    let object = payload.as_object()?;
    Some(serde_json::Value::Object(
        keys.iter()
            .filter_map(|(key, kind)| {
                let value = object.get(*key)?;
                let shown = match kind {
                    Snapshot(type_name) => project(type_name, value)?,
                    Value => value.clone(),
                };
                Some(((*key).to_owned(), shown))
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unlisted_means_internal() {
        assert!(is_visible("Partner", "name"));
        assert!(!is_visible("Partner", "internalNotes"));
        assert!(!is_visible("Partner", "marginPercent"));
        assert!(!is_visible("ProgramSettings", "protectionDays"));
        assert!(!is_visible("Role", "ADMIN"));
        assert!(is_visible("Role", "PARTNER_REP"));
    }

    #[test]
    fn projection_drops_internal_keys_and_types() {
        let snapshot =
            json!({ "id": "x", "name": "Acme", "internalNotes": "secret", "marginPercent": "12" });
        assert_eq!(
            project("Partner", &snapshot),
            Some(json!({ "id": "x", "name": "Acme" }))
        );
        assert_eq!(project("AuditEntry", &snapshot), None);
    }

    #[test]
    fn event_payloads_keep_only_declared_keys() {
        let payload = json!({
            "dealRegistration": { "id": "r", "status": "APPROVED", "internalNotes": "x", "partnerId": "p" },
            "days": 30,
            "recommendations": ["DIRECT_WINS"],
        });
        assert_eq!(
            project_event(EventType::DealRegistrationExtended, &payload),
            Some(json!({ "dealRegistration": { "id": "r", "status": "APPROVED" }, "days": 30 }))
        );
        assert_eq!(
            project_event(EventType::DealRegistrationConflictDetected, &payload),
            None
        );
        assert!(!event_visible(EventType::DealRegistrationConflictDetected));
    }
}
