//! Where partners stand under the active plans they qualify for
//! (`Partner.incentiveProgress`): for a whole list of partners at once, in
//! a fixed number of statements (the plans, the certification gates, what
//! each partner earned), however many partners.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use entity::{incentive_plan, incentive_plan_version, partner};
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

use super::{accruals, plans};
use crate::domain::{
    incentives::{self as rules, Anchors, Earned, History},
    IncentiveTrigger,
};

/// Where a partner stands under one active plan it qualifies for.
#[derive(Debug, Clone)]
pub struct Progress {
    pub plan: incentive_plan::Model,
    pub version: incentive_plan_version::Model,
    /// Everything standing that it earned under the plan.
    pub earned_minor: i64,
    /// What the cap leaves, if the plan has one.
    pub cap_left_minor: Option<i64>,
    /// Deals counted in the window, and when the window ends (none: the
    /// partner has not signed, for a window anchored at signing).
    pub window: Option<(u32, Option<i32>, Option<DateTime<Utc>>)>,
    /// The current tier period's start and basis so far.
    pub tier_period: Option<(DateTime<Utc>, i64)>,
}

/// Each partner's progress under every active plan it qualifies for.
pub async fn of_partners(
    db: &impl ConnectionTrait,
    partners: &[partner::Model],
    now: DateTime<Utc>,
) -> Result<HashMap<Uuid, Vec<Progress>>, DbErr> {
    let mut active = Vec::new();
    for trigger in [
        IncentiveTrigger::OpportunityWon,
        IncentiveTrigger::RegistrationApproved,
    ] {
        active.extend(plans::active_versions(db, trigger).await?);
    }
    let mut all: HashMap<Uuid, Vec<Progress>> =
        partners.iter().map(|p| (p.id, Vec::new())).collect();
    if active.is_empty() || partners.is_empty() {
        return Ok(all);
    }
    let partner_ids: Vec<Uuid> = partners.iter().map(|p| p.id).collect();
    let tracks: Vec<Uuid> = active
        .iter()
        .filter_map(|(_, v)| v.certification_track_id)
        .collect();
    let certified = accruals::certified(db, &tracks, &partner_ids).await?;
    let plan_ids = active.iter().map(|(plan, _)| plan.id).collect();
    let mut earned: HashMap<(Uuid, Uuid), Vec<Earned>> = HashMap::new();
    for (plan, partner, fact) in accruals::earned_by(db, plan_ids, partner_ids).await? {
        earned.entry((plan, partner)).or_default().push(fact);
    }

    for p in partners {
        for (plan, version) in &active {
            let gate_passed = version
                .certification_track_id
                .is_none_or(|track| certified.contains(&(p.id, track)));
            if !accruals::type_and_tier_qualify(version, p) || !gate_passed {
                continue;
            }
            let rules_of = plans::rules_of(version)?;
            let anchors = Anchors {
                partner_signed_at: p.signed_at,
                plan_starts_at: version.starts_at,
            };
            let so_far = earned.get(&(plan.id, p.id)).map_or(&[][..], Vec::as_slice);
            let history = History::of(&rules_of, anchors, now, so_far);
            let window = rules_of.window.map(|w| {
                let anchor = match w.anchor {
                    rules::WindowAnchor::PartnerSigned => anchors.partner_signed_at,
                    rules::WindowAnchor::PlanStart => Some(anchors.plan_starts_at),
                };
                (
                    history.window_count,
                    version.window_max_count,
                    anchor.map(|a| a + Duration::days(w.days)),
                )
            });
            let tier_period = rules_of
                .tiers
                .as_ref()
                .map(|t| (rules::period_start(t.period, now), history.period_basis));
            all.entry(p.id).or_default().push(Progress {
                cap_left_minor: version.cap_minor.map(|cap| (cap - history.earned).max(0)),
                earned_minor: history.earned,
                window,
                tier_period,
                plan: plan.clone(),
                version: version.clone(),
            });
        }
    }
    Ok(all)
}
