//! Who sees an outbox event, and in which view: the one rule the `events`
//! query, subscriptions and webhooks share (SPEC §3, §6).

use entity::outbox_event;
use serde_json::Value;
use uuid::Uuid;

use crate::{
    auth::{Action, Principal},
    domain::EventType,
    policy::{partner_view, RowScope},
};

/// Whose eyes an event is shown to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Staff see every event with its full payload.
    Staff,
    /// A partner sees its own partner's partner-visible events, projected.
    Partner(Uuid),
    /// A partner principal bound to no partner sees no event.
    Nobody,
}

impl Audience {
    pub fn of(principal: &Principal) -> Self {
        match RowScope::of(principal) {
            RowScope::Everything => Audience::Staff,
            RowScope::Partner(partner) => Audience::Partner(partner),
            RowScope::Nothing => Audience::Nobody,
        }
    }

    /// Whether this audience receives events of `event_type` at all.
    pub fn receives_type(self, event_type: EventType) -> bool {
        match self {
            Audience::Staff => true,
            Audience::Partner(_) => partner_view::event_visible(event_type),
            Audience::Nobody => false,
        }
    }

    /// The event's `data` as this audience sees it, or `None` if it must not
    /// see the event.
    pub fn view(self, event: &outbox_event::Model) -> Option<Value> {
        Some(match self.shown(event)? {
            Shown::Whole => event.payload.clone(),
            Shown::Projected(data) => data,
        })
    }

    /// Like [`Audience::view`], without copying a payload shown whole.
    pub fn shown(self, event: &outbox_event::Model) -> Option<Shown> {
        match self {
            Audience::Staff => Some(Shown::Whole),
            Audience::Partner(partner) if event.partner_id == Some(partner) => {
                partner_view::project_event(event.event_type, &event.payload).map(Shown::Projected)
            }
            Audience::Partner(_) | Audience::Nobody => None,
        }
    }
}

/// What an audience sees of an event's payload.
#[derive(Debug, Clone)]
pub enum Shown {
    /// The payload as the outbox holds it.
    Whole,
    /// A projection of it.
    Projected(Value),
}

/// Whether the principal's role and scopes let it read events of this type:
/// the same right it needs to read the object the event is about.
pub fn readable(principal: &Principal, event_type: EventType) -> bool {
    use EventType::*;
    let needs = match event_type {
        PartnerCreated
        | PartnerStatusChanged
        | PartnerTierChanged
        | PartnerMilestoneReached
        | PartnerActivationOverdue
        | PartnerActivityRecorded
        | PartnerTierRecommendationChanged => Action::ReadPartners,
        DealRegistrationSubmitted
        | DealRegistrationStatusChanged
        | DealRegistrationExtended
        | DealRegistrationExpiring
        | DealRegistrationConflictDetected
        | DealRegistrationConflictResolved
        | DealRegistrationExtensionRequested
        | DealRegistrationExtensionDeclined => Action::ReadRegistrations,
        OpportunityCreated | OpportunityStageChanged => Action::ReadPipeline,
        CertificationStatusChanged | CertificationExpiring => Action::ReadCertifications,
        WebhookEndpointDisabled => Action::ManageWebhooks,
        IncentivePlanActivated => Action::ReadIncentivePlans,
        AccrualCreated
        | AccrualStatusChanged
        | AccrualDisputed
        | AccrualDisputeResolved
        | PayoutStatusChanged => Action::ReadIncentives,
        // `webhook.test` goes to one endpoint only, never into the feed.
        WebhookTest => return false,
    };
    principal.may(needs) && Audience::of(principal).receives_type(event_type)
}
