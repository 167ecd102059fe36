//! The 120-day activation runway (SPEC §4.1).

use chrono::{DateTime, Duration, Utc};
pub use entity::enums::MilestoneKind;
use sea_orm::Iterable;

/// When each milestone is due, and who records it.
pub trait MilestoneRules {
    /// Days after signing by which the milestone is due.
    fn due_day(self) -> i64;
    /// Milestones a person records; the others the system records from the data.
    fn recorded_by_hand(self) -> bool;
}

impl MilestoneRules for MilestoneKind {
    fn due_day(self) -> i64 {
        match self {
            MilestoneKind::AgreementSigned => 0,
            MilestoneKind::OnboardingComplete => 14,
            MilestoneKind::CertificationComplete | MilestoneKind::JointGtmPlanSigned => 42,
            MilestoneKind::FirstRegisteredDeal => 70,
            MilestoneKind::FirstClosedWon => 120,
        }
    }

    fn recorded_by_hand(self) -> bool {
        matches!(
            self,
            MilestoneKind::OnboardingComplete | MilestoneKind::JointGtmPlanSigned
        )
    }
}

/// One milestone with its due and achieved dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MilestoneState {
    pub milestone: MilestoneKind,
    pub due_at: Option<DateTime<Utc>>,
    pub achieved_at: Option<DateTime<Utc>>,
}

/// A partner's runway at `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runway {
    pub milestones: Vec<MilestoneState>,
    /// Live once it reached `FIRST_REGISTERED_DEAL`.
    pub live: bool,
    /// Not live `activation_days` after signing.
    pub overdue: bool,
    pub deadline: Option<DateTime<Utc>>,
}

pub fn runway(
    signed_at: Option<DateTime<Utc>>,
    achieved: &[(MilestoneKind, DateTime<Utc>)],
    activation_days: i32,
    now: DateTime<Utc>,
) -> Runway {
    // Declaration order is runway order.
    let milestones = MilestoneKind::iter()
        .map(|milestone| MilestoneState {
            milestone,
            due_at: signed_at.map(|s| s + Duration::days(milestone.due_day())),
            achieved_at: achieved
                .iter()
                .find(|(m, _)| *m == milestone)
                .map(|(_, at)| *at),
        })
        .collect();
    let live = achieved
        .iter()
        .any(|(m, _)| *m == MilestoneKind::FirstRegisteredDeal);
    let deadline = signed_at.map(|s| s + Duration::days(i64::from(activation_days)));
    Runway {
        milestones,
        live,
        overdue: !live && deadline.is_some_and(|d| now >= d),
        deadline,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(n: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default()
            + Duration::days(n)
    }

    #[test]
    fn due_dates_count_from_signing() {
        let r = runway(Some(day(0)), &[], 120, day(10));
        let due: Vec<_> = r.milestones.iter().map(|m| m.due_at).collect();
        assert_eq!(due, [0, 14, 42, 42, 70, 120].map(|d| Some(day(d))));
        assert_eq!(r.deadline, Some(day(120)));
        assert!(!r.live && !r.overdue);
    }

    #[test]
    fn overdue_at_day_120_unless_live() {
        assert!(!runway(Some(day(0)), &[], 120, day(119)).overdue);
        assert!(runway(Some(day(0)), &[], 120, day(120)).overdue);
        let live = runway(
            Some(day(0)),
            &[(MilestoneKind::FirstRegisteredDeal, day(60))],
            120,
            day(200),
        );
        assert!(live.live && !live.overdue);
        assert!(
            !runway(None, &[], 120, day(500)).overdue,
            "an unsigned partner has no clock"
        );
    }
}
