//! The activation runway (SPEC §4.1): a partner's runway, and the
//! milestones people record by hand. Recording any milestone is
//! `milestones::reach`.

use chrono::{DateTime, Utc};
use entity::{partner, partner_milestone};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::{milestones, unit_of_work::UnitOfWork, Caller, Outcome};
use crate::domain::{MilestoneKind, MilestoneRules, UserError, UserErrorCode};

/// The milestones `partner_id` reached.
pub async fn achieved(
    db: &impl ConnectionTrait,
    partner_id: Uuid,
) -> Result<Vec<(MilestoneKind, DateTime<Utc>)>, DbErr> {
    Ok(partner_milestone::Entity::find()
        .filter(partner_milestone::Column::PartnerId.eq(partner_id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.milestone, m.achieved_at))
        .collect())
}

/// `recordMilestone`: the milestones people record (`ONBOARDING_COMPLETE`,
/// `JOINT_GTM_PLAN_SIGNED`), for a signed partner.
pub async fn record(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    partner_id: Uuid,
    milestone: MilestoneKind,
    achieved_at: Option<DateTime<Utc>>,
) -> Outcome<partner::Model> {
    if !milestone.recorded_by_hand() {
        return Err(UserError::on_field(
            "milestone",
            UserErrorCode::InvalidValue,
            format!("{} is recorded by the system from the data", milestone),
        )
        .into());
    }
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let partner = super::partners::require(uow.conn(), caller, partner_id).await?;
    if partner.signed_at.is_none() {
        return Err(UserError::on_field(
            "partnerId",
            UserErrorCode::InvalidValue,
            "the partner has not signed yet",
        )
        .into());
    }
    let at = achieved_at.unwrap_or(uow.now());
    if at > uow.now() {
        return Err(UserError::on_field(
            "achievedAt",
            UserErrorCode::InvalidValue,
            "must not be in the future",
        )
        .into());
    }
    if !milestones::reach(&uow, partner_id, milestone, at).await? {
        return Err(UserError::on_field(
            "milestone",
            UserErrorCode::AlreadyExists,
            "the partner already reached this milestone",
        )
        .into());
    }
    uow.commit().await?;
    Ok(partner)
}
