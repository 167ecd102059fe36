//! The product's enumerations. The stored ones are the entity crate's typed
//! enums (stored as their GraphQL names: `ACTIVE`, `GOLD`, …), re-exported
//! here with the rules about them; their GraphQL types are declared once in
//! `graphql::enums`.

use async_graphql::Enum;
pub use entity::enums::{
    AccrualStatus, ActorKind, EntityType, EventType, ExtensionRequestStatus, IncentiveBasis,
    IncentivePlanKind, IncentivePlanStatus, IncentiveTierMode, IncentiveTierPeriod,
    IncentiveTrigger, IncentiveWindowAnchor, LedgerEntryKind, PartnerContactRole, PartnerStatus,
    PartnerTier, PartnerType, PayoutStatus, PrincipalKind, Role, SubjectType,
};

/// Which side of the program a role belongs to.
pub trait RoleKind {
    fn kind(self) -> PrincipalKind;
}

impl RoleKind for Role {
    fn kind(self) -> PrincipalKind {
        match self {
            Role::Admin | Role::PartnerManager | Role::Sales | Role::Viewer => PrincipalKind::Staff,
            Role::PartnerAdmin | Role::PartnerRep => PrincipalKind::Partner,
        }
    }
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
    use sea_orm::{ActiveEnum, Iterable};

    #[test]
    fn enums_round_trip_through_their_stored_names() {
        assert_eq!(PartnerStatus::Active.to_value(), "ACTIVE");
        assert_eq!(
            PartnerType::SystemsIntegrator.to_value(),
            "SYSTEMS_INTEGRATOR"
        );
        for value in PartnerType::iter() {
            assert_eq!(value.to_value().parse(), Ok(value));
        }
        assert!("gold".parse::<PartnerTier>().is_err());
    }

    #[test]
    fn roles_belong_to_staff_or_partners() {
        assert_eq!(Role::Viewer.kind(), PrincipalKind::Staff);
        assert_eq!(Role::PartnerRep.kind(), PrincipalKind::Partner);
    }
}
