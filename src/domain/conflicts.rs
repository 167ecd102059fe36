//! Deciding a registration conflict (SPEC §4.2): which resolutions fit which
//! kind of conflict, and what each does to both sides. The recommendation
//! rules (rules of engagement) are in `registrations`; this is what happens
//! once a person has chosen.

use super::{AttributionRole, ConflictKind, ConflictResolution};

/// The co-sell split a partner gets when it joins a direct opportunity (50 %).
pub const CO_SELL_SPLIT_BPS: i32 = 5_000;

/// What a resolution does, seen from the registration under review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// The registration under review is approved (or stays approved); when
    /// false it is rejected. The other partner's registration, if any, moves
    /// the opposite way.
    pub registration_wins: bool,
    /// How the registration's partner is credited on the conflicting direct
    /// opportunity.
    pub direct_credit: Option<DirectCredit>,
}

/// Credit on the direct opportunity of a `DIRECT_OPPORTUNITY` conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectCredit {
    /// The registration is approved onto the direct opportunity (no new
    /// opportunity), the partner attributed `CO_SELL` at [`CO_SELL_SPLIT_BPS`].
    CoSell,
    /// The registration loses; the partner is attributed `INFLUENCED` at the
    /// program's influence weight.
    Influenced,
}

impl DirectCredit {
    pub fn role(self) -> AttributionRole {
        match self {
            DirectCredit::CoSell => AttributionRole::CoSell,
            DirectCredit::Influenced => AttributionRole::Influenced,
        }
    }
}

/// What `resolution` decides for a conflict of `kind`, or `None` when it is
/// not a decision for that kind (`MANUAL` only ever recommends).
pub fn decide(kind: ConflictKind, resolution: ConflictResolution) -> Option<Decision> {
    use ConflictKind::*;
    use ConflictResolution::*;
    let decision = |registration_wins, direct_credit| {
        Some(Decision {
            registration_wins,
            direct_credit,
        })
    };
    match (kind, resolution) {
        (_, Manual) => None,
        (PartnerRegistration, PartnerWins) => decision(true, None),
        (PartnerRegistration, OtherPartnerWins) => decision(false, None),
        (PartnerRegistration, DirectWins | CoSell) => None,
        (DirectOpportunity, PartnerWins) => decision(true, None),
        (DirectOpportunity, CoSell) => decision(true, Some(DirectCredit::CoSell)),
        (DirectOpportunity, DirectWins) => decision(false, Some(DirectCredit::Influenced)),
        (DirectOpportunity, OtherPartnerWins) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConflictKind::*;
    use ConflictResolution::*;

    #[test]
    fn each_resolution_does_what_the_spec_says() {
        // (kind, resolution, registration wins, credit on the direct opportunity)
        let fitting = [
            (PartnerRegistration, PartnerWins, true, None),
            (PartnerRegistration, OtherPartnerWins, false, None),
            (DirectOpportunity, PartnerWins, true, None),
            (DirectOpportunity, CoSell, true, Some(DirectCredit::CoSell)),
            (
                DirectOpportunity,
                DirectWins,
                false,
                Some(DirectCredit::Influenced),
            ),
        ];
        for (kind, resolution, registration_wins, direct_credit) in fitting {
            assert_eq!(
                decide(kind, resolution),
                Some(Decision {
                    registration_wins,
                    direct_credit
                }),
                "{kind:?} {resolution:?}"
            );
        }
    }

    #[test]
    fn resolutions_of_the_other_kind_and_manual_do_not_fit() {
        let unfit = [
            (PartnerRegistration, DirectWins),
            (PartnerRegistration, CoSell),
            (PartnerRegistration, Manual),
            (DirectOpportunity, OtherPartnerWins),
            (DirectOpportunity, Manual),
        ];
        for (kind, resolution) in unfit {
            assert_eq!(decide(kind, resolution), None, "{kind:?} {resolution:?}");
        }
    }

    #[test]
    fn credit_roles() {
        assert_eq!(DirectCredit::CoSell.role(), AttributionRole::CoSell);
        assert_eq!(DirectCredit::Influenced.role(), AttributionRole::Influenced);
    }
}
