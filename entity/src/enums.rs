//! The enumerations stored in text columns. Each variant's `string_value` is
//! exactly the text the rows hold (the GraphQL name for product enums, the
//! public name for event types), so no migration rewrote any row. That one
//! mapping also gives every other text form: [`std::fmt::Display`],
//! [`std::str::FromStr`] and serde (event payloads, audit snapshots).
//!
//! Rules about these values live in the application's `domain` module;
//! their GraphQL types are declared at the API edge.

use std::{fmt, str::FromStr};

use sea_orm::entity::prelude::*;
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// Text that names no value of the enum it was read as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    pub enum_name: &'static str,
    pub text: String,
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is not a {}", self.text, self.enum_name)
    }
}

impl std::error::Error for UnknownValue {}

/// Display, `FromStr` and serde for stored enums, all through their
/// `string_value`s, so no second spelling can drift from the stored one.
macro_rules! text_forms {
    ($($name:ident),+ $(,)?) => {$(
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_value())
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;

            fn from_str(text: &str) -> Result<Self, UnknownValue> {
                <Self as ActiveEnum>::try_from_value(&text.to_owned()).map_err(|_| UnknownValue {
                    enum_name: stringify!($name),
                    text: text.to_owned(),
                })
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.to_value())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(de::Error::custom)
            }
        }
    )+};
}

/// What kind of business a partner runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum PartnerType {
    #[sea_orm(string_value = "REFERRAL")]
    Referral,
    #[sea_orm(string_value = "RESELLER")]
    Reseller,
    #[sea_orm(string_value = "DISTRIBUTOR")]
    Distributor,
    #[sea_orm(string_value = "SYSTEMS_INTEGRATOR")]
    SystemsIntegrator,
    #[sea_orm(string_value = "MSP")]
    Msp,
    #[sea_orm(string_value = "TECHNOLOGY")]
    Technology,
    #[sea_orm(string_value = "MARKETPLACE")]
    Marketplace,
}

/// A partner's program tier, lowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum PartnerTier {
    /// Every new partner starts here.
    #[default]
    #[sea_orm(string_value = "BRONZE")]
    Bronze,
    #[sea_orm(string_value = "SILVER")]
    Silver,
    #[sea_orm(string_value = "GOLD")]
    Gold,
    #[sea_orm(string_value = "PLATINUM")]
    Platinum,
}

/// Where a partner stands in its lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum PartnerStatus {
    #[sea_orm(string_value = "PROSPECT")]
    Prospect,
    #[sea_orm(string_value = "SIGNED")]
    Signed,
    #[sea_orm(string_value = "ONBOARDING")]
    Onboarding,
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    #[sea_orm(string_value = "DORMANT")]
    Dormant,
    #[sea_orm(string_value = "OFFBOARDED")]
    Offboarded,
}

/// The part a partner contact plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum PartnerContactRole {
    #[sea_orm(string_value = "BDR")]
    Bdr,
    #[sea_orm(string_value = "AE")]
    Ae,
    #[sea_orm(string_value = "SE")]
    Se,
    #[sea_orm(string_value = "CS")]
    Cs,
    #[sea_orm(string_value = "OTHER")]
    Other,
}

/// Roles of principals: four staff roles, then two partner roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Role {
    #[sea_orm(string_value = "ADMIN")]
    Admin,
    #[sea_orm(string_value = "PARTNER_MANAGER")]
    PartnerManager,
    #[sea_orm(string_value = "SALES")]
    Sales,
    #[sea_orm(string_value = "VIEWER")]
    Viewer,
    #[sea_orm(string_value = "PARTNER_ADMIN")]
    PartnerAdmin,
    #[sea_orm(string_value = "PARTNER_REP")]
    PartnerRep,
}

/// Who a principal acts for (`access_token.kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum PrincipalKind {
    #[sea_orm(string_value = "STAFF")]
    Staff,
    #[sea_orm(string_value = "PARTNER")]
    Partner,
}

/// Who made a change, as audit entries and outbox events record it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ActorKind {
    #[sea_orm(string_value = "STAFF")]
    Staff,
    #[sea_orm(string_value = "PARTNER")]
    Partner,
    /// Background jobs and the CLI.
    #[sea_orm(string_value = "SYSTEM")]
    System,
    /// `partnergraph import`; the request id names the file (`import:<file name>`).
    #[sea_orm(string_value = "IMPORT")]
    Import,
}

/// What a certification track certifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum CertificationKind {
    #[sea_orm(string_value = "PRODUCT")]
    Product,
    #[sea_orm(string_value = "SALES")]
    Sales,
    #[sea_orm(string_value = "TECHNICAL")]
    Technical,
}

/// How advanced a certification track is, lowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum CertificationLevel {
    #[sea_orm(string_value = "FOUNDATION")]
    Foundation,
    #[sea_orm(string_value = "PROFESSIONAL")]
    Professional,
    #[sea_orm(string_value = "EXPERT")]
    Expert,
}

/// Where a certification stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum CertificationStatus {
    #[sea_orm(string_value = "IN_PROGRESS")]
    InProgress,
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    #[sea_orm(string_value = "EXPIRED")]
    Expired,
    #[sea_orm(string_value = "REVOKED")]
    Revoked,
}

/// A step on a partner's activation runway, in runway order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum MilestoneKind {
    #[sea_orm(string_value = "AGREEMENT_SIGNED")]
    AgreementSigned,
    #[sea_orm(string_value = "ONBOARDING_COMPLETE")]
    OnboardingComplete,
    #[sea_orm(string_value = "CERTIFICATION_COMPLETE")]
    CertificationComplete,
    #[sea_orm(string_value = "JOINT_GTM_PLAN_SIGNED")]
    JointGtmPlanSigned,
    #[sea_orm(string_value = "FIRST_REGISTERED_DEAL")]
    FirstRegisteredDeal,
    #[sea_orm(string_value = "FIRST_CLOSED_WON")]
    FirstClosedWon,
}

/// Where an opportunity stands; open stages come first, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum OpportunityStage {
    #[sea_orm(string_value = "REGISTERED")]
    Registered,
    #[sea_orm(string_value = "QUALIFIED")]
    Qualified,
    #[sea_orm(string_value = "PROPOSAL")]
    Proposal,
    #[sea_orm(string_value = "NEGOTIATION")]
    Negotiation,
    #[sea_orm(string_value = "CLOSED_WON")]
    ClosedWon,
    #[sea_orm(string_value = "CLOSED_LOST")]
    ClosedLost,
}

/// Where an opportunity came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum OpportunitySource {
    #[sea_orm(string_value = "PARTNER_SOURCED")]
    PartnerSourced,
    #[sea_orm(string_value = "DIRECT")]
    Direct,
}

/// A partner's part in an opportunity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum AttributionRole {
    #[sea_orm(string_value = "SOURCED")]
    Sourced,
    #[sea_orm(string_value = "INFLUENCED")]
    Influenced,
    #[sea_orm(string_value = "CO_SELL")]
    CoSell,
}

/// What the other side of a registration conflict is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ConflictKind {
    #[sea_orm(string_value = "PARTNER_REGISTRATION")]
    PartnerRegistration,
    #[sea_orm(string_value = "DIRECT_OPPORTUNITY")]
    DirectOpportunity,
}

/// Where a deal registration stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum DealRegistrationStatus {
    #[sea_orm(string_value = "SUBMITTED")]
    Submitted,
    #[sea_orm(string_value = "UNDER_REVIEW")]
    UnderReview,
    #[sea_orm(string_value = "APPROVED")]
    Approved,
    #[sea_orm(string_value = "REJECTED")]
    Rejected,
    #[sea_orm(string_value = "WITHDRAWN")]
    Withdrawn,
    #[sea_orm(string_value = "EXPIRED")]
    Expired,
}

/// How a conflict should be (or was) resolved, seen from the registration under review.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ConflictResolution {
    #[sea_orm(string_value = "PARTNER_WINS")]
    PartnerWins,
    #[sea_orm(string_value = "OTHER_PARTNER_WINS")]
    OtherPartnerWins,
    #[sea_orm(string_value = "DIRECT_WINS")]
    DirectWins,
    #[sea_orm(string_value = "CO_SELL")]
    CoSell,
    #[sea_orm(string_value = "MANUAL")]
    Manual,
}

/// Something a partner did that counts toward engagement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ActivityKind {
    #[sea_orm(string_value = "PORTAL_LOGIN")]
    PortalLogin,
    #[sea_orm(string_value = "RESOURCE_DOWNLOAD")]
    ResourceDownload,
    #[sea_orm(string_value = "TRAINING_COMPLETED")]
    TrainingCompleted,
}

/// Where a webhook delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum DeliveryStatus {
    #[sea_orm(string_value = "PENDING")]
    Pending,
    #[sea_orm(string_value = "SUCCEEDED")]
    Succeeded,
    #[sea_orm(string_value = "FAILED")]
    Failed,
}

/// Why a webhook endpoint stopped receiving.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum DisabledReason {
    /// Someone turned it off (`updateWebhookEndpoint(enabled: false)`).
    #[sea_orm(string_value = "MANUAL")]
    Manual,
    /// The receiver answered `410 Gone`.
    #[sea_orm(string_value = "GONE")]
    Gone,
    /// Every attempt failed for five days.
    #[sea_orm(string_value = "FAILING")]
    Failing,
}

/// What an incentive plan pays for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum IncentivePlanKind {
    #[sea_orm(string_value = "COMMISSION")]
    Commission,
    #[sea_orm(string_value = "SPIFF")]
    Spiff,
    #[sea_orm(string_value = "REBATE")]
    Rebate,
    #[sea_orm(string_value = "REFERRAL_FEE")]
    ReferralFee,
}

/// Where an incentive plan stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum IncentivePlanStatus {
    #[sea_orm(string_value = "DRAFT")]
    Draft,
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    #[sea_orm(string_value = "ARCHIVED")]
    Archived,
}

/// The fact that makes a plan accrue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum IncentiveTrigger {
    #[sea_orm(string_value = "OPPORTUNITY_WON")]
    OpportunityWon,
    #[sea_orm(string_value = "REGISTRATION_APPROVED")]
    RegistrationApproved,
}

/// What a plan's percentage is taken of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum IncentiveBasis {
    #[sea_orm(string_value = "OPPORTUNITY_AMOUNT")]
    OpportunityAmount,
    #[sea_orm(string_value = "CREDITED_AMOUNT")]
    CreditedAmount,
    #[sea_orm(string_value = "FLAT")]
    Flat,
}

/// Where a plan's window starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum IncentiveWindowAnchor {
    #[sea_orm(string_value = "PARTNER_SIGNED")]
    PartnerSigned,
    #[sea_orm(string_value = "PLAN_START")]
    PlanStart,
}

/// The period a plan's tiers count over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum IncentiveTierPeriod {
    #[sea_orm(string_value = "MONTH")]
    Month,
    #[sea_orm(string_value = "QUARTER")]
    Quarter,
}

/// How crossing a tier threshold pays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum IncentiveTierMode {
    #[sea_orm(string_value = "MARGINAL")]
    Marginal,
    #[sea_orm(string_value = "RETROACTIVE")]
    Retroactive,
}

/// Where an accrual stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum AccrualStatus {
    #[sea_orm(string_value = "PENDING")]
    Pending,
    #[sea_orm(string_value = "ON_HOLD")]
    OnHold,
    #[sea_orm(string_value = "APPROVED")]
    Approved,
    #[sea_orm(string_value = "REJECTED")]
    Rejected,
    #[sea_orm(string_value = "PAID")]
    Paid,
    #[sea_orm(string_value = "REVERSED")]
    Reversed,
}

/// What a ledger entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum LedgerEntryKind {
    #[sea_orm(string_value = "ACCRUAL")]
    Accrual,
    #[sea_orm(string_value = "APPROVAL")]
    Approval,
    #[sea_orm(string_value = "HOLD")]
    Hold,
    #[sea_orm(string_value = "REJECTION")]
    Rejection,
    #[sea_orm(string_value = "REVERSAL")]
    Reversal,
    #[sea_orm(string_value = "ADJUSTMENT")]
    Adjustment,
    #[sea_orm(string_value = "PAYOUT")]
    Payout,
}

/// Where a payout stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum PayoutStatus {
    #[sea_orm(string_value = "DRAFT")]
    Draft,
    #[sea_orm(string_value = "APPROVED")]
    Approved,
    #[sea_orm(string_value = "PAID")]
    Paid,
    #[sea_orm(string_value = "FAILED")]
    Failed,
    #[sea_orm(string_value = "CANCELED")]
    Canceled,
}

/// The public event types of the outbox (SPEC §6), by their public names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum EventType {
    #[sea_orm(string_value = "partner.created")]
    PartnerCreated,
    #[sea_orm(string_value = "partner.status_changed")]
    PartnerStatusChanged,
    #[sea_orm(string_value = "partner.tier_changed")]
    PartnerTierChanged,
    #[sea_orm(string_value = "partner.milestone_reached")]
    PartnerMilestoneReached,
    #[sea_orm(string_value = "partner.activation_overdue")]
    PartnerActivationOverdue,
    #[sea_orm(string_value = "deal_registration.submitted")]
    DealRegistrationSubmitted,
    #[sea_orm(string_value = "deal_registration.status_changed")]
    DealRegistrationStatusChanged,
    #[sea_orm(string_value = "deal_registration.extended")]
    DealRegistrationExtended,
    #[sea_orm(string_value = "deal_registration.expiring")]
    DealRegistrationExpiring,
    #[sea_orm(string_value = "deal_registration.conflict_detected")]
    DealRegistrationConflictDetected,
    #[sea_orm(string_value = "deal_registration.conflict_resolved")]
    DealRegistrationConflictResolved,
    #[sea_orm(string_value = "opportunity.created")]
    OpportunityCreated,
    #[sea_orm(string_value = "opportunity.stage_changed")]
    OpportunityStageChanged,
    #[sea_orm(string_value = "certification.status_changed")]
    CertificationStatusChanged,
    #[sea_orm(string_value = "certification.expiring")]
    CertificationExpiring,
    /// The delivery `sendTestWebhook` makes; never in the outbox.
    #[sea_orm(string_value = "webhook.test")]
    WebhookTest,
    /// An endpoint stopped receiving (410 Gone, or five days of failure).
    #[sea_orm(string_value = "webhook_endpoint.disabled")]
    WebhookEndpointDisabled,
    /// Program intelligence (internal): recorded activity.
    #[sea_orm(string_value = "partner.activity_recorded")]
    PartnerActivityRecorded,
    /// Program intelligence (internal): the daily tier recommendation changed.
    #[sea_orm(string_value = "partner.tier_recommendation_changed")]
    PartnerTierRecommendationChanged,
    /// A partner asked for more protection on an approved registration.
    #[sea_orm(string_value = "deal_registration.extension_requested")]
    DealRegistrationExtensionRequested,
    /// Staff declined a partner's extension request, with a reason.
    #[sea_orm(string_value = "deal_registration.extension_declined")]
    DealRegistrationExtensionDeclined,
    /// Incentives (internal): a plan version started accruing.
    #[sea_orm(string_value = "incentive_plan.activated")]
    IncentivePlanActivated,
    #[sea_orm(string_value = "accrual.created")]
    AccrualCreated,
    #[sea_orm(string_value = "accrual.status_changed")]
    AccrualStatusChanged,
    /// Internal: staff see the dispute; the partner sees its resolution.
    #[sea_orm(string_value = "accrual.disputed")]
    AccrualDisputed,
    #[sea_orm(string_value = "accrual.dispute_resolved")]
    AccrualDisputeResolved,
    #[sea_orm(string_value = "payout.status_changed")]
    PayoutStatusChanged,
}

/// Where a partner's request to extend a registration's protection stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ExtensionRequestStatus {
    #[sea_orm(string_value = "PENDING")]
    Pending,
    #[sea_orm(string_value = "GRANTED")]
    Granted,
    #[sea_orm(string_value = "DECLINED")]
    Declined,
}

/// What an outbox event is about: each is a node type, so every subject
/// has a global id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum SubjectType {
    #[sea_orm(string_value = "Partner")]
    Partner,
    #[sea_orm(string_value = "DealRegistration")]
    DealRegistration,
    #[sea_orm(string_value = "Opportunity")]
    Opportunity,
    #[sea_orm(string_value = "Certification")]
    Certification,
    #[sea_orm(string_value = "WebhookEndpoint")]
    WebhookEndpoint,
    #[sea_orm(string_value = "IncentivePlan")]
    IncentivePlan,
    #[sea_orm(string_value = "IncentiveAccrual")]
    IncentiveAccrual,
    #[sea_orm(string_value = "Payout")]
    Payout,
}

/// The type of an audited record, by its GraphQL type name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum EntityType {
    #[sea_orm(string_value = "Partner")]
    Partner,
    #[sea_orm(string_value = "PartnerContact")]
    PartnerContact,
    #[sea_orm(string_value = "PartnerActivity")]
    PartnerActivity,
    #[sea_orm(string_value = "CertificationTrack")]
    CertificationTrack,
    #[sea_orm(string_value = "Certification")]
    Certification,
    #[sea_orm(string_value = "DealRegistration")]
    DealRegistration,
    #[sea_orm(string_value = "RegistrationConflict")]
    RegistrationConflict,
    #[sea_orm(string_value = "Opportunity")]
    Opportunity,
    #[sea_orm(string_value = "ApiClient")]
    ApiClient,
    #[sea_orm(string_value = "WebhookEndpoint")]
    WebhookEndpoint,
    #[sea_orm(string_value = "WebhookDelivery")]
    WebhookDelivery,
    #[sea_orm(string_value = "ExchangeRate")]
    ExchangeRate,
    #[sea_orm(string_value = "ProgramSettings")]
    ProgramSettings,
    #[sea_orm(string_value = "IncentivePlan")]
    IncentivePlan,
    #[sea_orm(string_value = "IncentivePlanVersion")]
    IncentivePlanVersion,
    #[sea_orm(string_value = "IncentiveAccrual")]
    IncentiveAccrual,
    #[sea_orm(string_value = "LedgerEntry")]
    LedgerEntry,
    #[sea_orm(string_value = "Payout")]
    Payout,
}

text_forms!(
    PartnerType,
    PartnerTier,
    PartnerStatus,
    PartnerContactRole,
    Role,
    PrincipalKind,
    ActorKind,
    CertificationKind,
    CertificationLevel,
    CertificationStatus,
    MilestoneKind,
    OpportunityStage,
    OpportunitySource,
    AttributionRole,
    ConflictKind,
    DealRegistrationStatus,
    ConflictResolution,
    ActivityKind,
    DeliveryStatus,
    DisabledReason,
    IncentivePlanKind,
    IncentivePlanStatus,
    IncentiveTrigger,
    IncentiveBasis,
    IncentiveWindowAnchor,
    IncentiveTierPeriod,
    IncentiveTierMode,
    AccrualStatus,
    LedgerEntryKind,
    PayoutStatus,
    EventType,
    SubjectType,
    EntityType,
    ExtensionRequestStatus,
);

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::Iterable;

    #[test]
    fn text_forms_are_the_stored_values() {
        assert_eq!(PartnerStatus::Active.to_string(), "ACTIVE");
        assert_eq!(
            PartnerType::SystemsIntegrator.to_value(),
            "SYSTEMS_INTEGRATOR"
        );
        for value in PartnerType::iter() {
            assert_eq!(value.to_string().parse(), Ok(value));
        }
        assert!("gold".parse::<PartnerTier>().is_err());
        assert_eq!(
            serde_json::to_value(MilestoneKind::JointGtmPlanSigned).ok(),
            Some(serde_json::json!("JOINT_GTM_PLAN_SIGNED"))
        );
        assert_eq!(
            serde_json::from_value::<AttributionRole>(serde_json::json!("CO_SELL")).ok(),
            Some(AttributionRole::CoSell)
        );
    }
}
