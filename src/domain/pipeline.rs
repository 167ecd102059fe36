//! Pipeline vocabulary (SPEC §4.3).

use async_graphql::Enum;

/// Where an opportunity stands; open stages come first, in order.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
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

impl OpportunityStage {
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            OpportunityStage::ClosedWon | OpportunityStage::ClosedLost
        )
    }
}

/// Where an opportunity came from.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum OpportunitySource {
    /// A partner registered it.
    PartnerSourced,
    /// The vendor's own sales team found it.
    Direct,
}

/// A partner's part in an opportunity.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum AttributionRole {
    /// Brought the deal (credit 1.0); at most one per opportunity.
    Sourced,
    /// Helped win it (credit: the program's influence weight).
    Influenced,
    /// Sold it together with the vendor (credit: the agreed split).
    CoSell,
}

/// What the other side of a registration conflict is.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ConflictKind {
    /// Another partner's active registration on the same account.
    PartnerRegistration,
    /// An open direct opportunity on the same account.
    DirectOpportunity,
}
