//! Deal registration rules (SPEC §4.2): status moves, references and the
//! rules of engagement that recommend how a conflict is resolved.

use chrono::{DateTime, Duration, Utc};
pub use entity::enums::{ConflictResolution, DealRegistrationStatus};

/// Whether a registration may move from `from` to `to`.
pub fn can_move(from: DealRegistrationStatus, to: DealRegistrationStatus) -> bool {
    use DealRegistrationStatus::*;
    matches!(
        (from, to),
        (Submitted | UnderReview, Approved | Rejected | Withdrawn)
            | (Submitted, UnderReview)
            | (Approved, Expired)
    )
}

/// `DR-<year>-<6-digit sequence>`.
pub fn reference(year: i32, sequence: u32) -> String {
    format!("DR-{year}-{sequence:06}")
}

/// A recommendation and the rule that produced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recommendation {
    pub resolution: ConflictResolution,
    /// Names the rule applied, for the reviewer and the audit.
    pub rule: &'static str,
}

/// Rule 1: a registration against an open direct opportunity on the same account.
pub fn partner_vs_direct(
    registration_submitted_at: DateTime<Utc>,
    direct_created_at: DateTime<Utc>,
    direct_qualified_before_submission: bool,
) -> Recommendation {
    if direct_qualified_before_submission {
        Recommendation {
            resolution: ConflictResolution::DirectWins,
            rule:
                "direct opportunity was at QUALIFIED or later before the registration was submitted",
        }
    } else if direct_created_at - registration_submitted_at > Duration::days(7) {
        Recommendation {
            resolution: ConflictResolution::PartnerWins,
            rule:
                "registration submitted more than 7 days before the direct opportunity was created",
        }
    } else {
        Recommendation {
            resolution: ConflictResolution::CoSell,
            rule: "registration and direct opportunity within 7 days of each other: co-sell",
        }
    }
}

/// One side of a partner-vs-partner conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    pub approved: bool,
    /// The partner sourced a closed-won deal on this account before.
    pub incumbent: bool,
    pub submitted_at: DateTime<Utc>,
    /// The partner holds an active certification.
    pub certified: bool,
}

/// Rule 2: this registration against another partner's active one.
pub fn partner_vs_partner(this: Claim, other: Claim) -> Recommendation {
    let wins = |this_wins: bool, rule| Recommendation {
        resolution: if this_wins {
            ConflictResolution::PartnerWins
        } else {
            ConflictResolution::OtherPartnerWins
        },
        rule,
    };
    if this.approved != other.approved {
        return wins(
            this.approved,
            "an approved registration beats an unapproved one",
        );
    }
    if this.incumbent != other.incumbent {
        return wins(this.incumbent, "the incumbent partner beats a net-new one");
    }
    let gap = (this.submitted_at - other.submitted_at).abs();
    if gap >= Duration::hours(1) {
        return wins(
            this.submitted_at < other.submitted_at,
            "the earlier registration wins",
        );
    }
    if this.certified != other.certified {
        return wins(
            this.certified,
            "submitted within the same hour: the certified partner wins",
        );
    }
    Recommendation {
        resolution: ConflictResolution::Manual,
        rule: "submitted within the same hour by equally certified partners: a person decides",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use sea_orm::Iterable;
    use ConflictResolution::*;

    fn at(hours: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0)
            .single()
            .unwrap_or_default()
            + Duration::hours(hours)
    }

    #[test]
    fn status_moves_follow_the_spec() {
        use DealRegistrationStatus::*;
        let allowed = [
            (Submitted, Approved),
            (Submitted, Rejected),
            (Submitted, Withdrawn),
            (Submitted, UnderReview),
            (UnderReview, Approved),
            (UnderReview, Rejected),
            (UnderReview, Withdrawn),
            (Approved, Expired),
        ];
        for from in DealRegistrationStatus::iter() {
            for to in DealRegistrationStatus::iter() {
                assert_eq!(
                    can_move(from, to),
                    allowed.contains(&(from, to)),
                    "{from} → {to}"
                );
            }
        }
    }

    #[test]
    fn references_have_six_digits() {
        assert_eq!(reference(2026, 42), "DR-2026-000042");
    }

    #[test]
    fn partner_vs_direct_as_the_spec_says() {
        // (registration submitted, direct created, direct qualified before submission, recommendation)
        let cases = [
            (at(0), at(24 * 30), true, DirectWins),
            (at(0), at(24 * 8), false, PartnerWins),
            (at(0), at(24 * 7), false, CoSell),
            (at(24 * 3), at(0), false, CoSell),
        ];
        for (submitted, created, qualified, expected) in cases {
            assert_eq!(
                partner_vs_direct(submitted, created, qualified).resolution,
                expected
            );
        }
    }

    #[test]
    fn partner_vs_partner_as_the_spec_says() {
        let claim = |approved, incumbent, hours, certified| Claim {
            approved,
            incumbent,
            submitted_at: at(hours),
            certified,
        };
        // (this, other, recommendation)
        let cases = [
            (
                claim(true, false, 10, false),
                claim(false, true, 0, true),
                PartnerWins,
            ),
            (
                claim(false, false, 0, true),
                claim(true, false, 10, false),
                OtherPartnerWins,
            ),
            (
                claim(false, true, 10, false),
                claim(false, false, 0, true),
                PartnerWins,
            ),
            (
                claim(false, false, 0, false),
                claim(false, false, 5, true),
                PartnerWins,
            ),
            (
                claim(false, false, 5, true),
                claim(false, false, 0, true),
                OtherPartnerWins,
            ),
            (
                claim(false, false, 0, true),
                Claim {
                    submitted_at: at(0) + Duration::minutes(30),
                    ..claim(false, false, 0, false)
                },
                PartnerWins,
            ),
            (
                claim(false, false, 0, false),
                Claim {
                    submitted_at: at(0) + Duration::minutes(59),
                    ..claim(false, false, 0, true)
                },
                OtherPartnerWins,
            ),
            (
                claim(false, false, 0, true),
                Claim {
                    submitted_at: at(0) + Duration::minutes(10),
                    ..claim(false, false, 0, true)
                },
                Manual,
            ),
        ];
        for (i, (this, other, expected)) in cases.into_iter().enumerate() {
            assert_eq!(
                partner_vs_partner(this, other).resolution,
                expected,
                "case {i}"
            );
        }
    }
}
