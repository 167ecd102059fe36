//! Engagement and tier scores (SPEC §4.5): pure arithmetic on counts and
//! amounts the service layer aggregated in SQL.
//!
//! Brackets are read literally, as the spec's bracket rule says: "below A"
//! is `< A`; "A–B" is `≥ A` and `< B`, except when "above B" follows it,
//! which makes it `≥ A` and `≤ B`; "A and more" is `≥ A`. Counts are whole
//! numbers, so a count bracket "2–5" holds 2, 3, 4 and 5.

use async_graphql::Enum;
use rust_decimal::Decimal;

use super::PartnerTier;
pub use entity::enums::ActivityKind;

/// What the engagement score is made of.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum EngagementComponentKind {
    /// Portal logins, 1 point each.
    PortalLogins,
    /// Resource downloads, 0.5 points each.
    ResourceDownloads,
    /// Deal registrations submitted, 5 points each.
    RegistrationsSubmitted,
    /// Opportunities closed won crediting the partner in any role, 10 points each.
    OpportunitiesClosedWon,
    /// Trainings completed, 3 points each.
    TrainingsCompleted,
}

impl EngagementComponentKind {
    pub const ALL: [Self; 5] = [
        Self::PortalLogins,
        Self::ResourceDownloads,
        Self::RegistrationsSubmitted,
        Self::OpportunitiesClosedWon,
        Self::TrainingsCompleted,
    ];

    /// Points per occurrence.
    pub fn weight(self) -> Decimal {
        match self {
            Self::PortalLogins => Decimal::ONE,
            Self::ResourceDownloads => Decimal::new(5, 1),
            Self::RegistrationsSubmitted => Decimal::from(5),
            Self::OpportunitiesClosedWon => Decimal::from(10),
            Self::TrainingsCompleted => Decimal::from(3),
        }
    }
}

/// How engaged a partner is.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum EngagementBand {
    /// Below 10 points.
    Disengaged,
    /// 10 points up to (not including) 25.
    Moderate,
    /// 25 to 50 points, both included.
    Strong,
    /// Above 50 points.
    Top,
}

/// The counts a window's engagement is computed from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EngagementCounts {
    pub portal_logins: i64,
    pub resource_downloads: i64,
    pub registrations_submitted: i64,
    pub opportunities_closed_won: i64,
    pub trainings_completed: i64,
}

impl EngagementCounts {
    pub fn count(&self, kind: EngagementComponentKind) -> i64 {
        match kind {
            EngagementComponentKind::PortalLogins => self.portal_logins,
            EngagementComponentKind::ResourceDownloads => self.resource_downloads,
            EngagementComponentKind::RegistrationsSubmitted => self.registrations_submitted,
            EngagementComponentKind::OpportunitiesClosedWon => self.opportunities_closed_won,
            EngagementComponentKind::TrainingsCompleted => self.trainings_completed,
        }
    }
}

/// One part of the score: the count and the points it earned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Component {
    pub kind: EngagementComponentKind,
    pub count: i64,
    pub points: Decimal,
}

/// A score with the parts that make it up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Engagement {
    pub score: Decimal,
    pub band: EngagementBand,
    pub components: Vec<Component>,
}

pub fn engagement(counts: &EngagementCounts) -> Engagement {
    let components: Vec<Component> = EngagementComponentKind::ALL
        .into_iter()
        .map(|kind| {
            let count = counts.count(kind);
            Component {
                kind,
                count,
                points: Decimal::from(count) * kind.weight(),
            }
        })
        .collect();
    let score = components.iter().map(|c| c.points).sum();
    Engagement {
        score,
        band: engagement_band(score),
        components,
    }
}

/// Below 10 `DISENGAGED`, 10–25 `MODERATE`, 25–50 `STRONG` (50 included,
/// since "above 50" follows), above 50 `TOP`.
pub fn engagement_band(score: Decimal) -> EngagementBand {
    if score < Decimal::from(10) {
        EngagementBand::Disengaged
    } else if score < Decimal::from(25) {
        EngagementBand::Moderate
    } else if score <= Decimal::from(50) {
        EngagementBand::Strong
    } else {
        EngagementBand::Top
    }
}

/// The five criteria of the tier qualification score.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum TierCriterionKind {
    /// Partner-sourced closed-won revenue of the trailing 365 days, in base-currency units (at most 30 points).
    SourcedRevenue,
    /// Deal registrations submitted in the trailing 90 days (at most 15 points).
    RegistrationsSubmitted,
    /// Depth of the contacts' active certifications (at most 15 points).
    CertificationDepth,
    /// Customer NPS set by staff (at most 20 points).
    CustomerNps,
    /// Engagement score of the trailing 90 days (at most 20 points).
    Engagement,
}

impl TierCriterionKind {
    pub const ALL: [Self; 5] = [
        Self::SourcedRevenue,
        Self::RegistrationsSubmitted,
        Self::CertificationDepth,
        Self::CustomerNps,
        Self::Engagement,
    ];

    pub fn max_points(self) -> i32 {
        match self {
            Self::SourcedRevenue => 30,
            Self::RegistrationsSubmitted | Self::CertificationDepth => 15,
            Self::CustomerNps | Self::Engagement => 20,
        }
    }
}

/// How deep a partner's active certifications go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificationDepth {
    None,
    FoundationOnly,
    ProfessionalOrExpert,
    /// An active certification in every active track.
    EveryActiveTrack,
}

impl CertificationDepth {
    /// From what the contacts hold: active certifications, whether any is
    /// above `FOUNDATION`, and how many of the (non-zero) active tracks are covered.
    pub fn of(
        active_certifications: i64,
        any_above_foundation: bool,
        tracks_covered: i64,
        active_tracks: i64,
    ) -> Self {
        if active_certifications == 0 {
            Self::None
        } else if active_tracks > 0 && tracks_covered >= active_tracks {
            Self::EveryActiveTrack
        } else if any_above_foundation {
            Self::ProfessionalOrExpert
        } else {
            Self::FoundationOnly
        }
    }

    /// The value shown for the criterion: 0 none, 1 foundation only,
    /// 2 professional or expert, 3 every active track.
    pub fn level(self) -> i32 {
        match self {
            Self::None => 0,
            Self::FoundationOnly => 1,
            Self::ProfessionalOrExpert => 2,
            Self::EveryActiveTrack => 3,
        }
    }
}

/// What the tier qualification score is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierInputs {
    /// Trailing-365-day partner-sourced closed-won revenue, base-currency units.
    pub sourced_revenue: Decimal,
    /// Registrations submitted in the trailing 90 days.
    pub registrations: i64,
    pub certification_depth: CertificationDepth,
    pub customer_nps: Option<i32>,
    /// Trailing-90-day engagement score.
    pub engagement: Decimal,
}

/// One criterion: the value it looked at and the points it earned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Criterion {
    pub kind: TierCriterionKind,
    /// The value judged, as text (an amount, a count, a level, an NPS, a score).
    pub value: Option<Decimal>,
    pub points: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierQualification {
    pub score: i32,
    pub recommended_tier: PartnerTier,
    pub criteria: Vec<Criterion>,
}

/// Under 50,000: 5; 50,000–150,000: 15; 150,000–500,000: 25; 500,000 and more: 30.
pub fn revenue_points(revenue: Decimal) -> i32 {
    if revenue < Decimal::from(50_000) {
        5
    } else if revenue < Decimal::from(150_000) {
        15
    } else if revenue < Decimal::from(500_000) {
        25
    } else {
        30
    }
}

/// 0–1: 2; 2–5: 8; 6–10: 12; 11+: 15 (whole counts, both ends included).
pub fn registration_points(registrations: i64) -> i32 {
    match registrations {
        i64::MIN..=1 => 2,
        2..=5 => 8,
        6..=10 => 12,
        _ => 15,
    }
}

/// None 0; only `FOUNDATION` 5; any `PROFESSIONAL` or `EXPERT` 10; every active track 15.
pub fn certification_points(depth: CertificationDepth) -> i32 {
    match depth {
        CertificationDepth::None => 0,
        CertificationDepth::FoundationOnly => 5,
        CertificationDepth::ProfessionalOrExpert => 10,
        CertificationDepth::EveryActiveTrack => 15,
    }
}

/// Unknown or below 30: 5; 30–50: 10; 50–70 (70 included, "above 70" follows): 15; above 70: 20.
pub fn nps_points(nps: Option<i32>) -> i32 {
    match nps {
        None => 5,
        Some(n) if n < 30 => 5,
        Some(n) if n < 50 => 10,
        Some(n) if n <= 70 => 15,
        Some(_) => 20,
    }
}

/// Below 15: 5; 15–30: 10; 30–50 (50 included, "above 50" follows): 15; above 50: 20.
pub fn engagement_points(score: Decimal) -> i32 {
    if score < Decimal::from(15) {
        5
    } else if score < Decimal::from(30) {
        10
    } else if score <= Decimal::from(50) {
        15
    } else {
        20
    }
}

/// `PLATINUM` 80 and more, `GOLD` 55–80, `SILVER` 30–55, `BRONZE` below 30.
pub fn recommended_tier(score: i32) -> PartnerTier {
    match score {
        80.. => PartnerTier::Platinum,
        55..=79 => PartnerTier::Gold,
        30..=54 => PartnerTier::Silver,
        _ => PartnerTier::Bronze,
    }
}

/// The least score of `tier`.
pub fn tier_threshold(tier: PartnerTier) -> i32 {
    match tier {
        PartnerTier::Bronze => 0,
        PartnerTier::Silver => 30,
        PartnerTier::Gold => 55,
        PartnerTier::Platinum => 80,
    }
}

/// The tier above `tier`, if any.
pub fn next_tier(tier: PartnerTier) -> Option<PartnerTier> {
    match tier {
        PartnerTier::Bronze => Some(PartnerTier::Silver),
        PartnerTier::Silver => Some(PartnerTier::Gold),
        PartnerTier::Gold => Some(PartnerTier::Platinum),
        PartnerTier::Platinum => None,
    }
}

pub fn tier_qualification(inputs: &TierInputs) -> TierQualification {
    let criteria = vec![
        Criterion {
            kind: TierCriterionKind::SourcedRevenue,
            value: Some(inputs.sourced_revenue),
            points: revenue_points(inputs.sourced_revenue),
        },
        Criterion {
            kind: TierCriterionKind::RegistrationsSubmitted,
            value: Some(Decimal::from(inputs.registrations)),
            points: registration_points(inputs.registrations),
        },
        Criterion {
            kind: TierCriterionKind::CertificationDepth,
            value: Some(Decimal::from(inputs.certification_depth.level())),
            points: certification_points(inputs.certification_depth),
        },
        Criterion {
            kind: TierCriterionKind::CustomerNps,
            value: inputs.customer_nps.map(Decimal::from),
            points: nps_points(inputs.customer_nps),
        },
        Criterion {
            kind: TierCriterionKind::Engagement,
            value: Some(inputs.engagement),
            points: engagement_points(inputs.engagement),
        },
    ];
    let score = criteria.iter().map(|c| c.points).sum();
    TierQualification {
        score,
        recommended_tier: recommended_tier(score),
        criteria,
    }
}

/// Points still needed to reach the tier above the recommended one (`None` at the top).
pub fn points_to_next_tier(q: &TierQualification) -> Option<i32> {
    next_tier(q.recommended_tier).map(|next| tier_threshold(next) - q.score)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap_or_default()
    }

    #[test]
    fn engagement_adds_weighted_components() {
        // A reseller's month: 12 logins, 5 downloads, 2 registrations, 1 won deal, 1 training.
        let e = engagement(&EngagementCounts {
            portal_logins: 12,
            resource_downloads: 5,
            registrations_submitted: 2,
            opportunities_closed_won: 1,
            trainings_completed: 1,
        });
        assert_eq!(e.score, d("37.5"));
        assert_eq!(e.band, EngagementBand::Strong);
        let points: Vec<_> = e.components.iter().map(|c| c.points).collect();
        assert_eq!(points, [d("12"), d("2.5"), d("10"), d("10"), d("3")]);
    }

    #[test]
    fn engagement_bands_on_every_boundary() {
        for (score, band) in [
            ("0", EngagementBand::Disengaged),
            ("9.5", EngagementBand::Disengaged),
            ("10", EngagementBand::Moderate),
            ("24.5", EngagementBand::Moderate),
            ("25", EngagementBand::Strong),
            ("50", EngagementBand::Strong),
            ("50.5", EngagementBand::Top),
            ("51", EngagementBand::Top),
        ] {
            assert_eq!(engagement_band(d(score)), band, "{score}");
        }
    }

    #[test]
    fn revenue_criterion_on_every_boundary() {
        for (revenue, points) in [
            ("0", 5),
            ("49999.99", 5),
            ("50000", 15),
            ("149999.99", 15),
            ("150000", 25),
            ("499999.99", 25),
            ("500000", 30),
            ("2000000", 30),
        ] {
            assert_eq!(revenue_points(d(revenue)), points, "{revenue}");
        }
    }

    #[test]
    fn registration_criterion_on_every_boundary() {
        for (count, points) in [
            (0, 2),
            (1, 2),
            (2, 8),
            (5, 8),
            (6, 12),
            (10, 12),
            (11, 15),
            (40, 15),
        ] {
            assert_eq!(registration_points(count), points, "{count}");
        }
    }

    #[test]
    fn certification_criterion_takes_the_highest_that_applies() {
        use CertificationDepth as C;
        assert_eq!(C::of(0, false, 0, 3), C::None);
        assert_eq!(C::of(2, false, 1, 3), C::FoundationOnly);
        assert_eq!(C::of(2, true, 2, 3), C::ProfessionalOrExpert);
        assert_eq!(C::of(3, false, 3, 3), C::EveryActiveTrack);
        assert_eq!(C::of(0, false, 0, 0), C::None);
        assert_eq!(C::of(1, false, 0, 0), C::FoundationOnly);
        let points: Vec<_> = [
            C::None,
            C::FoundationOnly,
            C::ProfessionalOrExpert,
            C::EveryActiveTrack,
        ]
        .map(certification_points)
        .to_vec();
        assert_eq!(points, [0, 5, 10, 15]);
    }

    #[test]
    fn nps_criterion_on_every_boundary() {
        for (nps, points) in [
            (None, 5),
            (Some(-100), 5),
            (Some(29), 5),
            (Some(30), 10),
            (Some(49), 10),
            (Some(50), 15),
            (Some(70), 15),
            (Some(71), 20),
            (Some(100), 20),
        ] {
            assert_eq!(nps_points(nps), points, "{nps:?}");
        }
    }

    #[test]
    fn engagement_criterion_on_every_boundary() {
        for (score, points) in [
            ("0", 5),
            ("14.5", 5),
            ("15", 10),
            ("29.5", 10),
            ("30", 15),
            ("50", 15),
            ("50.5", 20),
        ] {
            assert_eq!(engagement_points(d(score)), points, "{score}");
        }
    }

    #[test]
    fn recommended_tier_flips_at_30_55_80() {
        for (score, tier) in [
            (0, PartnerTier::Bronze),
            (29, PartnerTier::Bronze),
            (30, PartnerTier::Silver),
            (54, PartnerTier::Silver),
            (55, PartnerTier::Gold),
            (79, PartnerTier::Gold),
            (80, PartnerTier::Platinum),
            (100, PartnerTier::Platinum),
        ] {
            assert_eq!(recommended_tier(score), tier, "{score}");
        }
    }

    #[test]
    fn qualification_sums_criteria_and_says_what_is_missing() {
        let q = tier_qualification(&TierInputs {
            sourced_revenue: d("150000"),
            registrations: 6,
            certification_depth: CertificationDepth::ProfessionalOrExpert,
            customer_nps: Some(50),
            engagement: d("12"),
        });
        assert_eq!(q.score, 25 + 12 + 10 + 15 + 5);
        assert_eq!(q.recommended_tier, PartnerTier::Gold);
        assert_eq!(points_to_next_tier(&q), Some(80 - 67));
        let top = tier_qualification(&TierInputs {
            sourced_revenue: d("500000"),
            registrations: 11,
            certification_depth: CertificationDepth::EveryActiveTrack,
            customer_nps: Some(71),
            engagement: d("51"),
        });
        assert_eq!(top.score, 100);
        assert_eq!(points_to_next_tier(&top), None);
        let floor = tier_qualification(&TierInputs {
            sourced_revenue: Decimal::ZERO,
            registrations: 0,
            certification_depth: CertificationDepth::None,
            customer_nps: None,
            engagement: Decimal::ZERO,
        });
        assert_eq!(floor.score, 17);
        assert_eq!(points_to_next_tier(&floor), Some(13));
    }
}
