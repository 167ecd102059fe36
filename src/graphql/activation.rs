//! The activation runway: `Partner.activation` and `recordMilestone`.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::{
    context,
    enums::MilestoneKind,
    partners::Partner,
    payload::{input_id, mutate},
};
use crate::{
    auth::Action,
    domain::{activation::Runway, UserError},
    error::ApiResult,
    ids::NodeType,
    service::activation as service,
};

/// One milestone of the runway.
#[derive(SimpleObject)]
pub struct ActivationMilestone {
    /// Which milestone.
    pub milestone: MilestoneKind,
    /// When it is due, counted from `signedAt`; null before signing.
    pub due_at: Option<DateTime<Utc>>,
    /// When it was reached; null until then.
    pub achieved_at: Option<DateTime<Utc>>,
}

/// A partner's 120-day activation runway.
#[derive(SimpleObject)]
pub struct Activation {
    /// The six milestones, in runway order.
    pub milestones: Vec<ActivationMilestone>,
    /// Whether the partner is live: it registered its first deal.
    pub live: bool,
    /// Whether the partner is past its deadline without being live.
    pub overdue: bool,
    /// When the partner should be live: `signedAt` plus the program's activation days.
    pub deadline: Option<DateTime<Utc>>,
}

impl From<Runway> for Activation {
    fn from(runway: Runway) -> Self {
        Self {
            milestones: runway
                .milestones
                .into_iter()
                .map(|m| ActivationMilestone {
                    milestone: m.milestone.into(),
                    due_at: m.due_at,
                    achieved_at: m.achieved_at,
                })
                .collect(),
            live: runway.live,
            overdue: runway.overdue,
            deadline: runway.deadline,
        }
    }
}

/// A milestone a person records.
#[derive(InputObject)]
pub struct RecordMilestoneInput {
    /// The partner's global id.
    pub partner_id: ID,
    /// `ONBOARDING_COMPLETE` or `JOINT_GTM_PLAN_SIGNED`; the system records the others.
    pub milestone: MilestoneKind,
    /// When it was reached; now when absent. Not in the future.
    pub achieved_at: Option<DateTime<Utc>>,
}

/// The result of `recordMilestone`.
#[derive(SimpleObject)]
pub struct RecordMilestonePayload {
    /// The partner, whose `activation` shows the milestone, unless `userErrors` says why not.
    pub partner: Option<Partner>,
    /// Why the input was refused; empty on success.
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct ActivationMutation;

#[Object]
impl ActivationMutation {
    /// Records `ONBOARDING_COMPLETE` or `JOINT_GTM_PLAN_SIGNED` for a signed
    /// partner. Needs `PARTNER_MANAGER` or `ADMIN` and `partners:write`.
    async fn record_milestone(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partner and the milestone.")] input: RecordMilestoneInput,
    ) -> ApiResult<RecordMilestonePayload> {
        let (partner, user_errors) = mutate(ctx, Action::WritePartners, |request| async move {
            let id = input_id("partnerId", NodeType::Partner, &input.partner_id)?;
            service::record(
                context::db(ctx)?,
                &request.caller(),
                id,
                input.milestone.into(),
                input.achieved_at,
            )
            .await
        })
        .await?;
        Ok(RecordMilestonePayload {
            partner: partner.map(Partner::from),
            user_errors,
        })
    }
}
