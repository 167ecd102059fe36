//! The GraphQL types of the stored enums, declared once: each mirrors its
//! entity enum variant for variant (`remote` derives `From` both ways), and
//! carries the descriptions the schema shows. A GraphQL value's name is the
//! text its entity enum stores (checked below).

use async_graphql::Enum;

/// A list argument of enum values as their stored types (none when absent).
pub fn stored_all<G: Into<E>, E>(values: Option<Vec<G>>) -> Vec<E> {
    values
        .unwrap_or_default()
        .into_iter()
        .map(Into::into)
        .collect()
}

/// What kind of business a partner runs.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::PartnerType")]
pub enum PartnerType {
    /// Refers customers and earns a fee; does not resell.
    Referral,
    /// Buys and resells licences to its customers.
    Reseller,
    /// Sells through its own network of resellers.
    Distributor,
    /// Implements and integrates the product for customers.
    SystemsIntegrator,
    /// Runs the product for customers as a managed service.
    Msp,
    /// Builds a product that integrates with ours.
    Technology,
    /// Sells through a cloud marketplace.
    Marketplace,
}

/// A partner's program tier.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::PartnerTier")]
pub enum PartnerTier {
    /// The entry tier; every new partner starts here.
    Bronze,
    /// The second tier.
    Silver,
    /// The third tier.
    Gold,
    /// The top tier.
    Platinum,
}

/// Where a partner stands in its lifecycle.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::PartnerStatus")]
pub enum PartnerStatus {
    /// In talks; nothing signed yet.
    Prospect,
    /// The agreement is signed; the 120-day activation clock runs.
    Signed,
    /// Being onboarded.
    Onboarding,
    /// Selling.
    Active,
    /// Was active, has gone quiet.
    Dormant,
    /// Left the program. Final.
    Offboarded,
}

/// The part a partner contact plays.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::PartnerContactRole")]
pub enum PartnerContactRole {
    /// Business development representative.
    Bdr,
    /// Account executive.
    Ae,
    /// Sales or solutions engineer.
    Se,
    /// Customer success.
    Cs,
    /// Any other role.
    Other,
}

/// Roles of principals. Staff roles act across the program; partner roles
/// act for one partner.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::Role")]
pub enum Role {
    /// Everything, including OAuth clients, settings and the audit log.
    Admin,
    /// Runs partners: create and change partners, contacts, milestones, reviews.
    PartnerManager,
    /// Reads partners and pipeline; works direct opportunities.
    Sales,
    /// Reads everything internal, changes nothing.
    Viewer,
    /// A partner's administrator.
    PartnerAdmin,
    /// A partner's sales representative.
    PartnerRep,
}

/// Who a principal acts for.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::PrincipalKind")]
pub enum PrincipalKind {
    /// The vendor's own people and systems.
    Staff,
    /// A partner's people and systems.
    Partner,
}

/// What a certification track certifies.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::CertificationKind")]
pub enum CertificationKind {
    /// Knowledge of the product.
    Product,
    /// Selling the product.
    Sales,
    /// Implementing and supporting the product.
    Technical,
}

/// How advanced a certification track is.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::CertificationLevel")]
pub enum CertificationLevel {
    /// The first level.
    Foundation,
    /// The second level.
    Professional,
    /// The highest level.
    Expert,
}

/// Where a certification stands.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::CertificationStatus")]
pub enum CertificationStatus {
    /// Enrolled, not yet earned.
    InProgress,
    /// Earned and valid until `expiresAt`.
    Active,
    /// Its validity ran out.
    Expired,
    /// Withdrawn by staff.
    Revoked,
}

/// A step on a partner's activation runway.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::MilestoneKind")]
pub enum MilestoneKind {
    /// The partner agreement is signed (day 0; recorded when the partner becomes `SIGNED`).
    AgreementSigned,
    /// Onboarding is done (due day 14; recorded with `recordMilestone`).
    OnboardingComplete,
    /// The program's required certifications are held (due day 42; recorded by the system).
    CertificationComplete,
    /// A joint go-to-market plan is signed (due day 42; recorded with `recordMilestone`).
    JointGtmPlanSigned,
    /// The first deal registration is submitted (due day 70; recorded by the system). The partner is then live.
    FirstRegisteredDeal,
    /// The first attributed opportunity closes won (due day 120; recorded by the system).
    FirstClosedWon,
}

/// Where an opportunity stands; open stages come first, in order.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::OpportunityStage")]
pub enum OpportunityStage {
    /// Created from an approved deal registration.
    Registered,
    /// Qualified: there is a real need, budget and timeline.
    Qualified,
    /// A proposal is with the customer.
    Proposal,
    /// Terms are being negotiated.
    Negotiation,
    /// Won. Final unless an admin reopens it.
    ClosedWon,
    /// Lost, with a reason. Final unless an admin reopens it.
    ClosedLost,
}

/// Where an opportunity came from.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::OpportunitySource")]
pub enum OpportunitySource {
    /// A partner registered it.
    PartnerSourced,
    /// The vendor's own sales team found it.
    Direct,
}

/// A partner's part in an opportunity.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::AttributionRole")]
pub enum AttributionRole {
    /// Brought the deal (credit 1.0); at most one per opportunity.
    Sourced,
    /// Helped win it (credit: the program's influence weight).
    Influenced,
    /// Sold it together with the vendor (credit: the agreed split).
    CoSell,
}

/// What the other side of a registration conflict is.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::ConflictKind")]
pub enum ConflictKind {
    /// Another partner's active registration on the same account.
    PartnerRegistration,
    /// An open direct opportunity on the same account.
    DirectOpportunity,
}

/// Where a partner's request to extend a registration's protection stands.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::ExtensionRequestStatus")]
pub enum ExtensionRequestStatus {
    /// Waiting for staff to grant (`extendDealRegistration`) or decline it.
    Pending,
    /// Staff extended the protection.
    Granted,
    /// Staff declined it, with a reason the partner sees.
    Declined,
}

/// Where a deal registration stands.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::DealRegistrationStatus")]
pub enum DealRegistrationStatus {
    /// Submitted, waiting for review.
    Submitted,
    /// A reviewer took it, or it conflicts with another claim on the account.
    UnderReview,
    /// Approved: the partner's claim is protected until `protectionEndsAt`.
    Approved,
    /// Rejected, with a reason the partner sees.
    Rejected,
    /// Withdrawn by the partner.
    Withdrawn,
    /// Protection ran out while the opportunity was still open.
    Expired,
}

/// How a conflict should be (or was) resolved, seen from the registration under review.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::ConflictResolution")]
pub enum ConflictResolution {
    /// This registration's partner gets the deal.
    PartnerWins,
    /// The other partner's registration gets the deal.
    OtherPartnerWins,
    /// The vendor's direct opportunity keeps the deal (the partner may be attributed `INFLUENCED`).
    DirectWins,
    /// Partner and direct team sell together and split the credit.
    CoSell,
    /// No rule decides; a person must.
    Manual,
}

/// Something a partner did that counts toward engagement.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::ActivityKind")]
pub enum ActivityKind {
    /// Someone at the partner signed in to the portal.
    PortalLogin,
    /// Someone at the partner downloaded a resource (a deck, a datasheet).
    ResourceDownload,
    /// Someone at the partner completed a training.
    TrainingCompleted,
}

/// What an incentive plan pays for.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::IncentivePlanKind")]
pub enum IncentivePlanKind {
    /// A share of the revenue a partner brings.
    Commission,
    /// A short-term bonus for a specific push (a product, a quarter).
    Spiff,
    /// Money back on volume bought or sold.
    Rebate,
    /// A fee for a referred customer.
    ReferralFee,
}

/// Where an incentive plan stands.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::IncentivePlanStatus")]
pub enum IncentivePlanStatus {
    /// Being written; accrues nothing.
    Draft,
    /// Accrues under its current version.
    Active,
    /// Accrues no more; what it earned stays.
    Archived,
}

/// The fact that makes a plan accrue.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::IncentiveTrigger")]
pub enum IncentiveTrigger {
    /// An opportunity the partner is credited on moves to `CLOSED_WON`.
    OpportunityWon,
    /// The partner's deal registration is approved.
    RegistrationApproved,
}

/// What a plan's percentage is taken of.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::IncentiveBasis")]
pub enum IncentiveBasis {
    /// The opportunity's amount.
    OpportunityAmount,
    /// The opportunity's amount × the partner's attribution credit.
    CreditedAmount,
    /// No percentage: each role earns a fixed amount.
    Flat,
}

/// Where a plan's window starts.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::IncentiveWindowAnchor")]
pub enum IncentiveWindowAnchor {
    /// When the partner signed.
    PartnerSigned,
    /// When the plan starts (`startsAt`).
    PlanStart,
}

/// The period a plan's tiers count over (calendar, UTC).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::IncentiveTierPeriod")]
pub enum IncentiveTierPeriod {
    /// A calendar month.
    Month,
    /// A calendar quarter.
    Quarter,
}

/// How crossing a tier threshold pays.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::IncentiveTierMode")]
pub enum IncentiveTierMode {
    /// Only the amount past a threshold earns the higher rate.
    Marginal,
    /// Crossing a threshold re-rates the whole period at the higher rate.
    Retroactive,
}

/// Where an accrual stands.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::AccrualStatus")]
pub enum AccrualStatus {
    /// Earned; waits for its hold period to end (`holdUntil`).
    Pending,
    /// Held by staff; `reason` says why.
    OnHold,
    /// Approved; the next payout gathers it.
    Approved,
    /// Rejected by staff; `reason` says why.
    Rejected,
    /// Paid out.
    Paid,
    /// Undone because the deal was reopened; if it had been paid, the next
    /// payout takes it back.
    Reversed,
}

/// What a ledger entry records.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::LedgerEntryKind")]
pub enum LedgerEntryKind {
    /// Money earned under a plan.
    Accrual,
    /// An accrual approved (no amount).
    Approval,
    /// An accrual held (no amount).
    Hold,
    /// An accrual rejected: minus its amount.
    Rejection,
    /// An accrual reversed: minus its amount.
    Reversal,
    /// A correction by staff, of either sign.
    Adjustment,
    /// Money paid out: minus the payout's amount.
    Payout,
}

/// Where a payout stands.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::PayoutStatus")]
pub enum PayoutStatus {
    /// Gathered; waits for approval.
    Draft,
    /// Approved; waits to be paid.
    Approved,
    /// Paid (`externalReference`).
    Paid,
    /// Not paid (`failureReason`); its entries go to the next payout.
    Failed,
    /// Called off; its entries go to the next payout.
    Canceled,
}

#[cfg(test)]
mod tests {
    use async_graphql::resolver_utils::EnumType;
    use sea_orm::ActiveEnum;

    /// Every GraphQL name is the stored text of the same value.
    fn same_names<G, E>()
    where
        G: EnumType + Into<E>,
        E: ActiveEnum<Value = String>
            + sea_orm::Iterable
            + Into<G>
            + Copy
            + PartialEq
            + std::fmt::Debug,
    {
        let items = G::items();
        assert_eq!(items.len(), E::iter().count());
        for item in items {
            let stored: E = item.value.into();
            assert_eq!(stored.to_value(), item.name);
        }
    }

    #[test]
    fn graphql_names_are_the_stored_names() {
        use super::*;
        use crate::graphql::webhooks::{WebhookDeliveryStatus, WebhookDisabledReason};
        same_names::<PartnerType, entity::enums::PartnerType>();
        same_names::<PartnerTier, entity::enums::PartnerTier>();
        same_names::<PartnerStatus, entity::enums::PartnerStatus>();
        same_names::<PartnerContactRole, entity::enums::PartnerContactRole>();
        same_names::<Role, entity::enums::Role>();
        same_names::<PrincipalKind, entity::enums::PrincipalKind>();
        same_names::<CertificationKind, entity::enums::CertificationKind>();
        same_names::<CertificationLevel, entity::enums::CertificationLevel>();
        same_names::<CertificationStatus, entity::enums::CertificationStatus>();
        same_names::<MilestoneKind, entity::enums::MilestoneKind>();
        same_names::<OpportunityStage, entity::enums::OpportunityStage>();
        same_names::<OpportunitySource, entity::enums::OpportunitySource>();
        same_names::<AttributionRole, entity::enums::AttributionRole>();
        same_names::<ConflictKind, entity::enums::ConflictKind>();
        same_names::<DealRegistrationStatus, entity::enums::DealRegistrationStatus>();
        same_names::<ExtensionRequestStatus, entity::enums::ExtensionRequestStatus>();
        same_names::<ConflictResolution, entity::enums::ConflictResolution>();
        same_names::<ActivityKind, entity::enums::ActivityKind>();
        same_names::<IncentivePlanKind, entity::enums::IncentivePlanKind>();
        same_names::<IncentivePlanStatus, entity::enums::IncentivePlanStatus>();
        same_names::<IncentiveTrigger, entity::enums::IncentiveTrigger>();
        same_names::<IncentiveBasis, entity::enums::IncentiveBasis>();
        same_names::<IncentiveWindowAnchor, entity::enums::IncentiveWindowAnchor>();
        same_names::<IncentiveTierPeriod, entity::enums::IncentiveTierPeriod>();
        same_names::<IncentiveTierMode, entity::enums::IncentiveTierMode>();
        same_names::<AccrualStatus, entity::enums::AccrualStatus>();
        same_names::<LedgerEntryKind, entity::enums::LedgerEntryKind>();
        same_names::<PayoutStatus, entity::enums::PayoutStatus>();
        same_names::<WebhookDeliveryStatus, entity::enums::DeliveryStatus>();
        same_names::<WebhookDisabledReason, entity::enums::DisabledReason>();
    }
}
