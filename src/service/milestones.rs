//! Recording activation milestones (SPEC §4.1), once each: the write that
//! partner, registration, pipeline and certification changes share. Reading
//! the runway is `activation`.

use chrono::{DateTime, Utc};
use entity::{certification, certification_track, partner_milestone};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, Set};
use serde_json::{json, Value};
use uuid::Uuid;

use super::settings;
use crate::{
    domain::{
        certifications::certification_complete, CertificationKind, CertificationStatus, EntityType,
        EventType, MilestoneKind, SubjectType,
    },
    error::ApiError,
    ids::{self, NodeType},
    unit_of_work::{Event, Record, UnitOfWork},
};

/// A milestone is audited as a change of its partner.
impl Record for partner_milestone::Entity {
    const AUDIT_TYPE: EntityType = EntityType::Partner;

    fn id(row: &partner_milestone::Model) -> Uuid {
        row.partner_id
    }

    fn id_column() -> partner_milestone::Column {
        partner_milestone::Column::PartnerId
    }

    /// Keyed by partner and milestone.
    fn locate(row: &partner_milestone::Model) -> Condition {
        Condition::all()
            .add(partner_milestone::Column::PartnerId.eq(row.partner_id))
            .add(partner_milestone::Column::Milestone.eq(row.milestone))
    }

    fn snapshot(row: &partner_milestone::Model) -> Value {
        json!({ "milestone": row.milestone, "achievedAt": row.achieved_at })
    }
}

/// Records that `partner_id` reached `milestone` at `at`, once: a second call
/// changes nothing and emits nothing. Returns whether it was new.
pub async fn reach(
    uow: &UnitOfWork,
    partner_id: Uuid,
    milestone: MilestoneKind,
    at: DateTime<Utc>,
) -> Result<bool, sea_orm::DbErr> {
    let row = partner_milestone::ActiveModel {
        partner_id: Set(partner_id),
        milestone: Set(milestone),
        achieved_at: Set(at),
    };
    let key = [
        partner_milestone::Column::PartnerId,
        partner_milestone::Column::Milestone,
    ];
    let created = uow
        .create_unless_exists::<partner_milestone::Entity>("reachMilestone", row, key)
        .await?;
    if created.is_none() {
        return Ok(false);
    }
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
        .filter(super::deals::accounts::counted_certifications())
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
