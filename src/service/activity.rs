//! Partner activity (SPEC §4.5): what a partner's people did that counts
//! toward engagement, recorded by the partner itself or by staff on its
//! behalf, one at a time or up to [`MAX_BATCH`] at once (all or nothing).
//!
//! A record may carry the sender's `externalId`: sending it again (an LMS or
//! a portal retrying) returns the first record and changes nothing, while
//! the same id for a different activity is refused. The unique index on
//! (partner, external id) holds that rule under concurrency too.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{partner, partner_activity, partner_contact};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde_json::{json, Value};
use uuid::Uuid;

use super::{
    unit_of_work::{Event, UnitOfWork},
    Caller, Failure, Outcome,
};
use crate::{
    domain::{scores::ActivityKind, EventType, SubjectType, UserError, UserErrorCode},
    error::ApiError,
    ids::{self, NodeType},
    policy, record,
};

/// Most records `recordPartnerActivities` takes at once.
pub const MAX_BATCH: usize = 500;

/// Longest accepted `externalId`.
const MAX_EXTERNAL_ID: usize = 200;

/// One activity as the caller sent it, ids already decoded.
#[derive(Debug, Clone)]
pub struct NewActivity {
    /// Required for staff; partners record their own (their partner is implied).
    pub partner_id: Option<Uuid>,
    pub kind: ActivityKind,
    /// `None`: now.
    pub occurred_at: Option<DateTime<Utc>>,
    pub count: i32,
    pub contact_id: Option<Uuid>,
    pub external_id: Option<String>,
}

/// The activity with `id`, if the caller may see it.
pub async fn find(
    db: &impl ConnectionTrait,
    caller: &Caller<'_>,
    id: Uuid,
) -> Result<Option<partner_activity::Model>, ApiError> {
    Ok(partner_activity::Entity::find_by_id(id)
        .filter(policy::activity_rows(caller.principal))
        .one(db)
        .await?)
}

pub fn snapshot(a: &partner_activity::Model) -> Value {
    json!({
        "id": ids::encode(NodeType::PartnerActivity, a.id),
        "partnerId": ids::encode(NodeType::Partner, a.partner_id),
        "kind": a.kind,
        "occurredAt": a.occurred_at,
        "count": a.count,
        "contactId": a.contact_id.map(|id| ids::encode(NodeType::PartnerContact, id)),
        "externalId": a.external_id,
    })
}

record!(partner_activity, PartnerActivity, snapshot);

/// An error on field `field` of the record at `index` (`None`: the single-record mutation).
fn error_at(index: Option<usize>, field: &str, code: UserErrorCode, message: String) -> UserError {
    match index {
        None => UserError::on_field(field, code, message),
        Some(i) => UserError {
            field: Some(vec![
                "input".to_owned(),
                "activities".to_owned(),
                i.to_string(),
                field.to_owned(),
            ]),
            code,
            message,
        },
    }
}

/// Records `activities` in one unit of work: every one, or (with every bad
/// record named) none. `index` in errors is `None` for a single record.
pub async fn record(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    activities: Vec<NewActivity>,
    single: bool,
) -> Outcome<Vec<partner_activity::Model>> {
    if activities.len() > MAX_BATCH {
        return Err(UserError::on_field(
            "activities",
            UserErrorCode::InvalidValue,
            format!("at most {MAX_BATCH} activities at once"),
        )
        .into());
    }
    let at = |i: usize| (!single).then_some(i);
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let now = uow.now();
    let mut errors = Vec::new();
    let mut rows = Vec::with_capacity(activities.len());

    for (i, new) in activities.into_iter().enumerate() {
        let partner_id = match (policy::RowScope::of(caller.principal), new.partner_id) {
            (policy::RowScope::Partner(own), _) => Some(own),
            (policy::RowScope::Nothing, _) => {
                errors.push(error_at(
                    at(i),
                    "partnerId",
                    UserErrorCode::NotFound,
                    "the token is bound to no partner".into(),
                ));
                None
            }
            (policy::RowScope::Everything, Some(id)) => Some(id),
            (policy::RowScope::Everything, None) => {
                errors.push(error_at(
                    at(i),
                    "partnerId",
                    UserErrorCode::InvalidValue,
                    "staff record activity on a partner's behalf: name the partner".into(),
                ));
                None
            }
        };
        let occurred_at = new.occurred_at.unwrap_or(now);
        if occurred_at > now {
            errors.push(error_at(
                at(i),
                "occurredAt",
                UserErrorCode::InvalidValue,
                "must not lie in the future".into(),
            ));
        }
        if new.count < 1 {
            errors.push(error_at(
                at(i),
                "count",
                UserErrorCode::InvalidValue,
                "must be at least 1".into(),
            ));
        }
        let external_id = new.external_id.map(|e| e.trim().to_owned());
        if let Some(e) = &external_id {
            if e.is_empty()
                || e.chars().count() > MAX_EXTERNAL_ID
                || e.chars().any(char::is_control)
            {
                errors.push(error_at(
                    at(i),
                    "externalId",
                    UserErrorCode::InvalidValue,
                    format!("must be 1 to {MAX_EXTERNAL_ID} characters without control characters"),
                ));
            }
        }
        rows.push((
            i,
            partner_id,
            new.kind,
            occurred_at,
            new.count,
            new.contact_id,
            external_id,
        ));
    }

    // The partners and contacts named, each checked once.
    let partner_ids: Vec<Uuid> = rows.iter().filter_map(|r| r.1).collect();
    let visible: Vec<Uuid> = partner::Entity::find()
        .filter(policy::partner_rows(caller.principal))
        .filter(partner::Column::Id.is_in(partner_ids.clone()))
        .all(uow.conn())
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
    let contact_ids: Vec<Uuid> = rows.iter().filter_map(|r| r.5).collect();
    let contacts: HashMap<Uuid, Uuid> = if contact_ids.is_empty() {
        HashMap::new()
    } else {
        partner_contact::Entity::find()
            .filter(partner_contact::Column::Id.is_in(contact_ids))
            .all(uow.conn())
            .await?
            .into_iter()
            .map(|c| (c.id, c.partner_id))
            .collect()
    };
    let external: Vec<String> = rows.iter().filter_map(|r| r.6.clone()).collect();
    let mut existing: HashMap<(Uuid, String), partner_activity::Model> = if external.is_empty() {
        HashMap::new()
    } else {
        partner_activity::Entity::find()
            .filter(partner_activity::Column::PartnerId.is_in(partner_ids))
            .filter(partner_activity::Column::ExternalId.is_in(external))
            .all(uow.conn())
            .await?
            .into_iter()
            .filter_map(|a| Some(((a.partner_id, a.external_id.clone()?), a)))
            .collect()
    };

    let mut recorded = Vec::with_capacity(rows.len());
    for (i, partner_id, kind, occurred_at, count, contact_id, external_id) in rows {
        let Some(partner_id) = partner_id else {
            continue;
        };
        if !visible.contains(&partner_id) {
            errors.push(error_at(
                at(i),
                "partnerId",
                UserErrorCode::NotFound,
                "no partner has this id".into(),
            ));
            continue;
        }
        if let Some(contact) = contact_id {
            if contacts.get(&contact) != Some(&partner_id) {
                errors.push(error_at(
                    at(i),
                    "contactId",
                    UserErrorCode::NotFound,
                    "no contact of this partner has this id".into(),
                ));
                continue;
            }
        }
        let candidate = partner_activity::Model {
            id: Uuid::now_v7(),
            partner_id,
            kind,
            occurred_at,
            count,
            contact_id,
            external_id: external_id.clone(),
            created_at: now,
        };
        if let Some(key) = external_id.map(|e| (partner_id, e)) {
            if let Some(first) = existing.get(&key) {
                if same_activity(first, &candidate) {
                    recorded.push((first.clone(), false));
                } else {
                    errors.push(error_at(
                        at(i),
                        "externalId",
                        UserErrorCode::AlreadyExists,
                        "this externalId was already used for a different activity".into(),
                    ));
                }
                continue;
            }
            existing.insert(key, candidate.clone());
        }
        recorded.push((candidate, true));
    }
    if !errors.is_empty() {
        return Err(Failure::User(errors));
    }

    // Records sent before (or twice in this batch) are answered, not written again.
    let operation = if single {
        "recordPartnerActivity"
    } else {
        "recordPartnerActivities"
    };
    for (activity, _) in recorded.iter().filter(|(_, new)| *new) {
        let row = partner_activity::ActiveModel {
            id: Set(activity.id),
            partner_id: Set(activity.partner_id),
            kind: Set(activity.kind),
            occurred_at: Set(activity.occurred_at),
            count: Set(activity.count),
            contact_id: Set(activity.contact_id),
            external_id: Set(activity.external_id.clone()),
            created_at: Set(activity.created_at),
        };
        uow.create::<partner_activity::Entity>(operation, row)
            .await
            .map_err(|e| write_failure(e, single))?;
        uow.emit(Event {
            event_type: EventType::PartnerActivityRecorded,
            subject_type: SubjectType::Partner,
            subject_id: activity.partner_id,
            partner_id: Some(activity.partner_id),
            payload: json!({ "activity": snapshot(activity) }),
        })
        .await?;
    }
    uow.commit().await?;
    Ok(recorded.into_iter().map(|(activity, _)| activity).collect())
}

/// Whether a re-sent record describes the activity recorded first.
fn same_activity(first: &partner_activity::Model, again: &partner_activity::Model) -> bool {
    first.kind == again.kind
        && first.count == again.count
        && first.contact_id == again.contact_id
        && (first.occurred_at - again.occurred_at)
            .num_milliseconds()
            .abs()
            < 1
}

/// A concurrent first send of the same external id loses the race to the
/// index and is told to send again (which then finds the winner).
fn write_failure(error: sea_orm::DbErr, single: bool) -> Failure {
    if matches!(
        error.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    ) {
        return error_at(
            (!single).then_some(0),
            "externalId",
            UserErrorCode::AlreadyExists,
            "an activity with this externalId was being recorded at the same time; send it again"
                .into(),
        )
        .into();
    }
    error.into()
}
