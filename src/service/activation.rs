//! The activation runway: recording milestones (once each) and reading a
//! partner's runway.

use chrono::{DateTime, Utc};
use entity::{certification, certification_track, partner, partner_milestone};
use sea_orm::{
    sea_query::OnConflict, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::{
    settings,
    unit_of_work::{Change, Event, UnitOfWork},
    Caller, Outcome,
};
use crate::{
    domain::{
        activation::{runway, Runway},
        certifications::certification_complete,
        CertificationKind, CertificationStatus, EntityType, EventType, MilestoneKind,
        MilestoneRules, SubjectType, UserError, UserErrorCode,
    },
    error::ApiError,
    ids::{self, NodeType},
};

/// Records that `partner_id` reached `milestone` at `at`, once: a second call
/// changes nothing and emits nothing. Returns whether it was new. Registration
/// and pipeline code call this for `FIRST_REGISTERED_DEAL` and `FIRST_CLOSED_WON`.
pub async fn reach(
    uow: &UnitOfWork,
    partner_id: Uuid,
    milestone: MilestoneKind,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let inserted = partner_milestone::Entity::insert(partner_milestone::ActiveModel {
        partner_id: Set(partner_id),
        milestone: Set(milestone),
        achieved_at: Set(at),
    })
    .on_conflict(
        OnConflict::columns([
            partner_milestone::Column::PartnerId,
            partner_milestone::Column::Milestone,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(uow.conn())
    .await?;
    if inserted == 0 {
        return Ok(false);
    }
    let after = json!({ "milestone": milestone, "achievedAt": at });
    uow.audit(Change {
        operation: "reachMilestone",
        entity_type: EntityType::Partner,
        entity_id: partner_id,
        before: None,
        after: Some(&after),
    })
    .await?;
    uow.emit(Event {
        event_type: EventType::PartnerMilestoneReached,
        subject_type: SubjectType::Partner,
        subject_id: partner_id,
        partner_id: Some(partner_id),
        payload: json!({
            "partnerId": ids::encode(NodeType::Partner, partner_id),
            "milestone": milestone,
            "achievedAt": at,
        }),
    })
    .await?;
    Ok(true)
}

/// Records `CERTIFICATION_COMPLETE` if the partner now holds the required
/// active certifications (settings: distinct contacts per kind).
pub async fn check_certification_complete(
    uow: &UnitOfWork,
    partner_id: Uuid,
) -> Result<bool, ApiError> {
    let settings = settings::get(uow.conn()).await?;
    let active = certification::Entity::find()
        .filter(certification::Column::PartnerId.eq(partner_id))
        .filter(certification::Column::Status.eq(CertificationStatus::Active))
        .all(uow.conn())
        .await?;
    let tracks = certification_track::Entity::find()
        .filter(certification_track::Column::Id.is_in(active.iter().map(|c| c.track_id)))
        .all(uow.conn())
        .await?;
    let contacts_with = |kind: CertificationKind| {
        let mut contacts: Vec<Uuid> = active
            .iter()
            .filter(|c| tracks.iter().any(|t| t.id == c.track_id && t.kind == kind))
            .map(|c| c.contact_id)
            .collect();
        contacts.sort_unstable();
        contacts.dedup();
        contacts.len()
    };
    let complete = certification_complete(
        contacts_with(CertificationKind::Sales),
        contacts_with(CertificationKind::Technical),
        settings.required_sales_certifications,
        settings.required_technical_certifications,
    );
    if !complete {
        return Ok(false);
    }
    Ok(reach(
        uow,
        partner_id,
        MilestoneKind::CertificationComplete,
        uow.now(),
    )
    .await?)
}

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

/// A partner's runway as of the caller's `now`.
pub async fn runway_of(
    db: &impl ConnectionTrait,
    partner: &partner::Model,
    now: DateTime<Utc>,
) -> Result<Runway, ApiError> {
    let settings = settings::get(db).await?;
    let achieved = achieved(db, partner.id).await?;
    Ok(runway(
        partner.signed_at,
        &achieved,
        settings.activation_days,
        now,
    ))
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
    let Some(partner) = super::partners::find(uow.conn(), caller, partner_id).await? else {
        return Err(UserError::on_field(
            "partnerId",
            UserErrorCode::NotFound,
            "no partner has this id",
        )
        .into());
    };
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
    if !reach(&uow, partner_id, milestone, at).await? {
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
