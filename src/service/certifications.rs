//! Certification tracks and partner contacts' certifications (SPEC §4.4).

use super::set_if;
use chrono::{DateTime, Duration, Utc};
use entity::{certification, certification_track, partner_contact};
use sea_orm::{
    sea_query::{Expr, Query},
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, Set,
};
use serde_json::{json, Value};
use std::collections::HashMap;
use uuid::Uuid;

use super::{
    milestones,
    pagination::{paginate, paginate_per_parent, KeyValue, NestedPages, Ordering, Page, PageArgs},
    unit_of_work::{violated_unique_constraint, Event, UnitOfWork, UpdateError},
    Caller, Failure, Outcome,
};
use crate::{
    domain::{
        certifications::expires_at, inputs::DisplayName, CertificationKind, CertificationLevel,
        CertificationStatus, EventType, OrderDirection, SubjectType, UserError, UserErrorCode,
    },
    error::ApiError,
    ids::{self, NodeType},
    policy::{self, RowScope},
    versioned_record,
};

// ---- tracks ----

/// A track code: 2 to 40 of `A–Z`, `0–9`, `-`, `_`, stored upper-case.
pub fn parse_code(raw: &str) -> Result<String, String> {
    let code = raw.trim().to_uppercase();
    let ok = (2..=40).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(code)
    } else {
        Err("must be 2 to 40 letters, digits, `-` or `_`".into())
    }
}

fn validity(field: &str, months: i32) -> Result<i32, UserError> {
    if (1..=120).contains(&months) {
        Ok(months)
    } else {
        Err(UserError::on_field(
            field,
            UserErrorCode::InvalidValue,
            "must be between 1 and 120 months",
        ))
    }
}

fn track_snapshot(t: &certification_track::Model) -> Value {
    json!({
        "id": ids::encode(NodeType::CertificationTrack, t.id),
        "code": t.code, "name": t.name, "kind": t.kind, "level": t.level,
        "validityMonths": t.validity_months, "active": t.active, "version": t.version,
    })
}

versioned_record!(certification_track, CertificationTrack, track_snapshot);

pub async fn tracks(
    db: &impl ConnectionTrait,
    active_only: bool,
    page: PageArgs,
) -> Result<Page<certification_track::Model>, ApiError> {
    let mut select = certification_track::Entity::find();
    if active_only {
        select = select.filter(certification_track::Column::Active.eq(true));
    }
    let ordering = Ordering {
        key: certification_track::Column::Code,
        id: certification_track::Column::Id,
        direction: OrderDirection::Asc,
    };
    paginate(db, select, ordering, page, |t| {
        (KeyValue::Text(t.code.clone()), KeyValue::Uuid(t.id))
    })
    .await
}

pub async fn find_track(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<certification_track::Model>, DbErr> {
    certification_track::Entity::find_by_id(id).one(db).await
}

pub struct NewTrack {
    pub code: String,
    pub name: DisplayName,
    pub kind: CertificationKind,
    pub level: CertificationLevel,
    pub validity_months: i32,
    pub active: bool,
}

fn duplicate_code() -> Failure {
    UserError::on_field(
        "code",
        UserErrorCode::AlreadyExists,
        "a track with this code already exists",
    )
    .into()
}

pub async fn create_track(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    new: NewTrack,
) -> Outcome<certification_track::Model> {
    let validity_months = validity("validityMonths", new.validity_months)?;
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let taken = certification_track::Entity::find()
        .filter(certification_track::Column::Code.eq(new.code.as_str()))
        .one(uow.conn())
        .await?;
    if taken.is_some() {
        return Err(duplicate_code());
    }
    let now = uow.now();
    let row = certification_track::ActiveModel {
        id: Set(Uuid::now_v7()),
        code: Set(new.code),
        name: Set(new.name.into_inner()),
        kind: Set(new.kind),
        level: Set(new.level),
        validity_months: Set(validity_months),
        active: Set(new.active),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let track = uow
        .create::<certification_track::Entity>("createCertificationTrack", row)
        .await
        .map_err(|e| {
            if violated_unique_constraint(&e).is_some() {
                duplicate_code()
            } else {
                e.into()
            }
        })?;
    uow.commit().await?;
    Ok(track)
}

#[derive(Default)]
pub struct TrackChanges {
    pub name: Option<DisplayName>,
    pub level: Option<CertificationLevel>,
    pub validity_months: Option<i32>,
    pub active: Option<bool>,
}

pub async fn update_track(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    id: Uuid,
    expected_version: Option<i32>,
    changes: TrackChanges,
) -> Outcome<certification_track::Model> {
    let validity_months = changes
        .validity_months
        .map(|m| validity("validityMonths", m))
        .transpose()?;
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let Some(current) = find_track(uow.conn(), id).await? else {
        return Err(UserError::on_field(
            "id",
            UserErrorCode::NotFound,
            "no certification track has this id",
        )
        .into());
    };
    let stale = |version: i32| -> Failure {
        UserError::on_field(
            "expectedVersion",
            UserErrorCode::StaleVersion,
            format!("the track is now at version {version}"),
        )
        .into()
    };
    if expected_version.is_some_and(|v| v != current.version) {
        return Err(stale(current.version));
    }
    let mut changed = current.clone().into_active_model();
    set_if(
        &mut changed.name,
        changes.name.map(|name| name.into_inner()),
    );
    set_if(&mut changed.level, changes.level);
    if let Some(months) = validity_months {
        changed.validity_months = Set(months);
    }
    set_if(&mut changed.active, changes.active);
    let updated = uow
        .update::<certification_track::Entity>("updateCertificationTrack", &current, changed)
        .await
        .map_err(|error| match error {
            UpdateError::Stale(version) => stale(version.unwrap_or(current.version)),
            UpdateError::Db(error) => error.into(),
        })?;
    uow.commit().await?;
    Ok(updated)
}

// ---- certifications ----

/// Filters of the `certifications` list; all given conditions hold.
#[derive(Debug, Default, Clone)]
pub struct CertificationFilter {
    pub partner_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub statuses: Vec<CertificationStatus>,
    pub kind: Option<CertificationKind>,
    pub level: Option<CertificationLevel>,
    /// Active and expiring within this many days of now.
    pub expiring_within_days: Option<i32>,
}

pub async fn list(
    db: &impl ConnectionTrait,
    caller: &Caller<'_>,
    filter: CertificationFilter,
    page: PageArgs,
) -> Result<Page<certification::Model>, ApiError> {
    let mut condition = policy::certification_rows(caller.principal);
    if let Some(partner_id) = filter.partner_id {
        condition = condition.add(certification::Column::PartnerId.eq(partner_id));
    }
    if let Some(contact_id) = filter.contact_id {
        condition = condition.add(certification::Column::ContactId.eq(contact_id));
    }
    if !filter.statuses.is_empty() {
        condition = condition.add(certification::Column::Status.is_in(filter.statuses));
    }
    if filter.kind.is_some() || filter.level.is_some() {
        let mut tracks = Query::select();
        tracks
            .column(certification_track::Column::Id)
            .from(certification_track::Entity);
        if let Some(kind) = filter.kind {
            tracks.and_where(certification_track::Column::Kind.eq(kind));
        }
        if let Some(level) = filter.level {
            tracks.and_where(certification_track::Column::Level.eq(level));
        }
        condition = condition.add(certification::Column::TrackId.in_subquery(tracks.to_owned()));
    }
    if let Some(days) = filter.expiring_within_days {
        if !(0..=3650).contains(&days) {
            return Err(ApiError::BadUserInput(
                "`expiringWithinDays` must be between 0 and 3650".into(),
            ));
        }
        condition = condition
            .add(certification::Column::Status.eq(CertificationStatus::Active))
            .add(
                certification::Column::ExpiresAt.lte(caller.now + Duration::days(i64::from(days))),
            );
    }
    paginate(
        db,
        certification::Entity::find().filter(condition),
        oldest_first(),
        page,
        cursor_key,
    )
    .await
}

fn oldest_first() -> Ordering<certification::Column> {
    Ordering {
        key: certification::Column::CreatedAt,
        id: certification::Column::Id,
        direction: OrderDirection::Asc,
    }
}

fn cursor_key(c: &certification::Model) -> (KeyValue, KeyValue) {
    (KeyValue::Time(c.created_at), KeyValue::Uuid(c.id))
}

/// `Partner.certifications` and `PartnerContact.certifications`: each
/// parent's certifications, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertificationsOf {
    Partner,
    Contact,
}

impl NestedPages for CertificationsOf {
    type Row = certification::Model;

    async fn pages(
        &self,
        db: &DatabaseConnection,
        scope: RowScope,
        parents: &[Uuid],
        page: PageArgs,
    ) -> Result<HashMap<Uuid, Page<certification::Model>>, ApiError> {
        let parent = match self {
            Self::Partner => certification::Column::PartnerId,
            Self::Contact => certification::Column::ContactId,
        };
        paginate_per_parent(
            db,
            certification::Entity::find().filter(policy::certification_rows(scope)),
            Expr::col((certification::Entity, parent)),
            parents,
            |select| select,
            oldest_first(),
            page,
            cursor_key,
        )
        .await
    }
}

pub async fn find(
    db: &impl ConnectionTrait,
    caller: &Caller<'_>,
    id: Uuid,
) -> Result<Option<certification::Model>, ApiError> {
    Ok(certification::Entity::find_by_id(id)
        .filter(policy::certification_rows(caller.principal))
        .one(db)
        .await?)
}

/// Certifications of the given contacts (for a DataLoader-free list field).
pub async fn of_contact(
    db: &impl ConnectionTrait,
    caller: &Caller<'_>,
    contact_id: Uuid,
) -> Result<Vec<certification::Model>, ApiError> {
    Ok(certification::Entity::find()
        .filter(policy::certification_rows(caller.principal))
        .filter(certification::Column::ContactId.eq(contact_id))
        .all(db)
        .await?)
}

pub fn snapshot(c: &certification::Model) -> Value {
    json!({
        "id": ids::encode(NodeType::Certification, c.id),
        "partnerId": ids::encode(NodeType::Partner, c.partner_id),
        "contactId": ids::encode(NodeType::PartnerContact, c.contact_id),
        "trackId": ids::encode(NodeType::CertificationTrack, c.track_id),
        "status": c.status,
        "enrolledAt": c.enrolled_at,
        "earnedAt": c.earned_at,
        "expiresAt": c.expires_at,
        "version": c.version,
    })
}

versioned_record!(certification, Certification, snapshot);

/// `certification.status_changed`, with the certification's snapshot.
pub fn status_event(c: &certification::Model, previous: Option<CertificationStatus>) -> Event {
    Event {
        event_type: EventType::CertificationStatusChanged,
        subject_type: SubjectType::Certification,
        subject_id: c.id,
        partner_id: Some(c.partner_id),
        payload: json!({ "certification": snapshot(c), "previousStatus": previous, "status": c.status }),
    }
}

/// The contact (scoped to what the caller sees) and the active track a
/// certification is for; anything else is a user error naming the field.
async fn contact_and_track(
    uow: &UnitOfWork,
    caller: &Caller<'_>,
    contact_id: Uuid,
    track_id: Uuid,
) -> Outcome<(partner_contact::Model, certification_track::Model)> {
    let contact = super::partners::find_contact(uow.conn(), caller, contact_id).await?;
    let track = find_track(uow.conn(), track_id).await?;
    let mut errors = Vec::new();
    if contact.is_none() {
        errors.push(UserError::on_field(
            "contactId",
            UserErrorCode::NotFound,
            "no partner contact has this id",
        ));
    }
    match &track {
        None => errors.push(UserError::on_field(
            "trackId",
            UserErrorCode::NotFound,
            "no certification track has this id",
        )),
        Some(t) if !t.active => errors.push(UserError::on_field(
            "trackId",
            UserErrorCode::InvalidValue,
            "the track is not active",
        )),
        Some(_) => {}
    }
    match (contact, track) {
        (Some(contact), Some(track)) if errors.is_empty() => Ok((contact, track)),
        _ => Err(Failure::User(errors)),
    }
}

async fn existing(
    uow: &UnitOfWork,
    contact_id: Uuid,
    track_id: Uuid,
) -> Result<Option<certification::Model>, DbErr> {
    certification::Entity::find()
        .filter(
            Condition::all()
                .add(certification::Column::ContactId.eq(contact_id))
                .add(certification::Column::TrackId.eq(track_id)),
        )
        .one(uow.conn())
        .await
}

/// Writes `changed` over `current` (or inserts it when new), with audit and
/// a status event when the status moved.
async fn save(
    uow: &UnitOfWork,
    operation: &str,
    current: Option<&certification::Model>,
    changed: certification::ActiveModel,
) -> Outcome<certification::Model> {
    let saved = match current {
        // Versioned: a concurrent change since `current` was read wins, and
        // this one is refused rather than written over it.
        Some(c) => uow
            .update::<certification::Entity>(operation, c, changed)
            .await
            .map_err(|error| -> Failure {
                match error {
                    UpdateError::Stale(_) => UserError::on_field(
                        "id",
                        UserErrorCode::StaleVersion,
                        "the certification changed at the same time; read it again and retry",
                    )
                    .into(),
                    UpdateError::Db(error) => error.into(),
                }
            })?,
        // One row per contact and track (a unique index): a concurrent first
        // enrolment or award of the same track loses here.
        None => uow
            .create::<certification::Entity>(operation, changed)
            .await
            .map_err(|e| -> Failure {
                match violated_unique_constraint(&e) {
                    Some("uq_certification_contact_track") => UserError::on_field(
                        "trackId",
                        UserErrorCode::AlreadyExists,
                        "the contact was enrolled on or awarded this track at the same time; read it again and retry",
                    )
                    .into(),
                    _ => e.into(),
                }
            })?,
    };
    let previous = current.map(|c| c.status);
    if previous != Some(saved.status) {
        uow.emit(status_event(&saved, previous)).await?;
    }
    Ok(saved)
}

fn fresh(
    contact: &partner_contact::Model,
    track_id: Uuid,
    now: DateTime<Utc>,
) -> certification::ActiveModel {
    certification::ActiveModel {
        id: Set(Uuid::now_v7()),
        partner_id: Set(contact.partner_id),
        contact_id: Set(contact.id),
        track_id: Set(track_id),
        status: Set(CertificationStatus::InProgress),
        enrolled_at: Set(now),
        earned_at: Set(None),
        expires_at: Set(None),
        expiring_notified_for: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// Enrolls a contact on a track (again, after an expiry or revocation).
pub async fn enroll(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    contact_id: Uuid,
    track_id: Uuid,
) -> Outcome<certification::Model> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let saved = enroll_in(&uow, caller, "enrollCertification", contact_id, track_id).await?;
    uow.commit().await?;
    Ok(saved)
}

/// Enrolls in `uow` (the import's unit holds many).
pub(crate) async fn enroll_in(
    uow: &UnitOfWork,
    caller: &Caller<'_>,
    operation: &str,
    contact_id: Uuid,
    track_id: Uuid,
) -> Outcome<certification::Model> {
    let (contact, track) = contact_and_track(uow, caller, contact_id, track_id).await?;
    let current = existing(uow, contact.id, track.id).await?;
    let now = uow.now();
    let changed = match &current {
        None => fresh(&contact, track.id, now),
        Some(c)
            if matches!(
                c.status,
                CertificationStatus::InProgress | CertificationStatus::Active
            ) =>
        {
            return Err(UserError::on_field(
                "trackId",
                UserErrorCode::AlreadyExists,
                "the contact is already enrolled on or holds this track",
            )
            .into());
        }
        Some(c) => {
            let mut again = c.clone().into_active_model();
            again.status = Set(CertificationStatus::InProgress);
            again.enrolled_at = Set(now);
            again
        }
    };
    save(uow, operation, current.as_ref(), changed).await
}

/// Awards a track to a contact: ACTIVE from `earned_at` for the track's
/// validity. Awarding a held track renews it.
pub async fn award(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    contact_id: Uuid,
    track_id: Uuid,
    earned_at: Option<DateTime<Utc>>,
) -> Outcome<certification::Model> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let saved = award_in(
        &uow,
        caller,
        "awardCertification",
        contact_id,
        track_id,
        earned_at,
    )
    .await?;
    uow.commit().await?;
    Ok(saved)
}

/// Awards in `uow` (the import's unit holds many).
pub(crate) async fn award_in(
    uow: &UnitOfWork,
    caller: &Caller<'_>,
    operation: &str,
    contact_id: Uuid,
    track_id: Uuid,
    earned_at: Option<DateTime<Utc>>,
) -> Outcome<certification::Model> {
    let now = uow.now();
    let earned_at = earned_at.unwrap_or(now);
    if earned_at > now {
        return Err(UserError::on_field(
            "earnedAt",
            UserErrorCode::InvalidValue,
            "must not be in the future",
        )
        .into());
    }
    let (contact, track) = contact_and_track(uow, caller, contact_id, track_id).await?;
    let Some(expires) = expires_at(earned_at, track.validity_months) else {
        return Err(ApiError::internal(anyhow::anyhow!(
            "track {} has validity {}",
            track.id,
            track.validity_months
        ))
        .into());
    };
    if expires <= now {
        return Err(UserError::on_field(
            "earnedAt",
            UserErrorCode::InvalidValue,
            "a certification earned then has already expired",
        )
        .into());
    }
    let current = existing(uow, contact.id, track.id).await?;
    let mut changed = match &current {
        None => fresh(&contact, track.id, now),
        Some(c) => c.clone().into_active_model(),
    };
    changed.status = Set(CertificationStatus::Active);
    changed.earned_at = Set(Some(earned_at));
    changed.expires_at = Set(Some(expires));
    let saved = save(uow, operation, current.as_ref(), changed).await?;
    milestones::check_certification_complete(uow, saved.partner_id).await?;
    Ok(saved)
}

pub async fn revoke(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    id: Uuid,
) -> Outcome<certification::Model> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let Some(current) = find(uow.conn(), caller, id).await? else {
        return Err(UserError::on_field(
            "id",
            UserErrorCode::NotFound,
            "no certification has this id",
        )
        .into());
    };
    if current.status == CertificationStatus::Revoked {
        return Err(UserError::on_field(
            "id",
            UserErrorCode::InvalidTransition,
            "the certification is already revoked",
        )
        .into());
    }
    let mut changed = current.clone().into_active_model();
    changed.status = Set(CertificationStatus::Revoked);
    let saved = save(&uow, "revokeCertification", Some(&current), changed).await?;
    uow.commit().await?;
    Ok(saved)
}
