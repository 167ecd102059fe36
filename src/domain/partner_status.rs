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
    use sea_orm::Iterable;

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
        for from in PartnerStatus::iter() {
            for to in PartnerStatus::iter() {
                let expected = allowed.contains(&(from, to));
                assert_eq!(can_move(from, to), expected, "{from} → {to}");
            }
        }
    }

    #[test]
    fn offboarded_is_final() {
        for to in PartnerStatus::iter() {
            assert!(!can_move(Offboarded, to));
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
