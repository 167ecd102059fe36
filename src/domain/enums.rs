//! The product's enumerations. Each is stored in the database as its
//! GraphQL name (`ACTIVE`, `GOLD`, …), so the API and the rows use one
//! spelling; [`DbEnum`] converts in both directions.

use async_graphql::{resolver_utils::EnumType, Enum};

/// Conversion between an enum and the text stored in its column.
pub trait DbEnum: EnumType {
    fn as_str(self) -> &'static str {
        Self::items()
            .iter()
            .find(|item| item.value == self)
            .map(|item| item.name)
            .unwrap_or_default()
    }

    fn parse(text: &str) -> Option<Self> {
        Self::items()
            .iter()
            .find(|item| item.name == text)
            .map(|item| item.value)
    }
}

impl<T: EnumType> DbEnum for T {}

/// What kind of business a partner runs.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
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
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
pub enum PartnerTier {
    /// The entry tier; every new partner starts here.
    #[default]
    Bronze,
    /// The second tier.
    Silver,
    /// The third tier.
    Gold,
    /// The top tier.
    Platinum,
}

/// Where a partner stands in its lifecycle.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
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
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
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
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
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

impl Role {
    pub fn kind(self) -> PrincipalKind {
        match self {
            Role::Admin | Role::PartnerManager | Role::Sales | Role::Viewer => PrincipalKind::Staff,
            Role::PartnerAdmin | Role::PartnerRep => PrincipalKind::Partner,
        }
    }
}

/// Who a principal acts for.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    /// The vendor's own people and systems.
    Staff,
    /// A partner's people and systems.
    Partner,
}

/// Sort direction.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum OrderDirection {
    /// Smallest first.
    #[default]
    Asc,
    /// Largest first.
    Desc,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_through_their_stored_names() {
        assert_eq!(PartnerStatus::Active.as_str(), "ACTIVE");
        assert_eq!(
            PartnerType::SystemsIntegrator.as_str(),
            "SYSTEMS_INTEGRATOR"
        );
        for item in PartnerType::items() {
            assert_eq!(PartnerType::parse(item.name), Some(item.value));
        }
        assert_eq!(PartnerTier::parse("gold"), None);
    }
}
