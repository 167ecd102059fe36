//! The partner status moves of SPEC §4.1.

use super::PartnerStatus::{self, *};

/// Whether a partner may move from `from` to `to`:
/// `PROSPECT → SIGNED → ONBOARDING → ACTIVE`, `ACTIVE ↔ DORMANT`, and any
/// status except `OFFBOARDED` itself → `OFFBOARDED` (final).
pub fn can_move(from: PartnerStatus, to: PartnerStatus) -> bool {
    matches!(
        (from, to),
        (Prospect, Signed)
            | (Signed, Onboarding)
            | (Onboarding, Active)
            | (Active, Dormant)
            | (Dormant, Active)
    ) || (to == Offboarded && from != Offboarded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::resolver_utils::EnumType;

    #[test]
    fn status_moves_follow_the_spec() {
        // Every allowed move; everything else is INVALID_TRANSITION.
        let allowed = [
            (Prospect, Signed),
            (Signed, Onboarding),
            (Onboarding, Active),
            (Active, Dormant),
            (Dormant, Active),
            (Prospect, Offboarded),
            (Signed, Offboarded),
            (Onboarding, Offboarded),
            (Active, Offboarded),
            (Dormant, Offboarded),
        ];
        for from in PartnerStatus::items() {
            for to in PartnerStatus::items() {
                let expected = allowed.contains(&(from.value, to.value));
                assert_eq!(
                    can_move(from.value, to.value),
                    expected,
                    "{} → {}",
                    from.name,
                    to.name
                );
            }
        }
    }

    #[test]
    fn offboarded_is_final() {
        for to in PartnerStatus::items() {
            assert!(!can_move(Offboarded, to.value));
        }
    }

    #[test]
    fn no_skipping_ahead() {
        assert!(!can_move(Prospect, Active));
        assert!(!can_move(Signed, Active));
        assert!(!can_move(Active, Signed));
        assert!(!can_move(Prospect, Dormant));
    }
}
