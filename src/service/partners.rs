//! Partners and their contacts: reads scoped by the policy, writes through
//! the unit of work.

use super::set_if;
use entity::{partner, partner_contact, staff_user};
use sea_orm::{
    sea_query::{Expr, ExprTrait, LikeExpr},
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel,
    QueryFilter, Set,
};
use serde_json::{json, Value};
use uuid::Uuid;

use super::{
    pagination::{paginate, paginate_per_parent, KeyValue, NestedPages, Ordering, Page, PageArgs},
    unit_of_work::{violated_unique_constraint, Event, UnitOfWork, UpdateError},
    Caller, Failure, Outcome,
};
use crate::{
    domain::{
        inputs::{DisplayName, EmailAddress, Percent, WebsiteUrl},
        partner_status, EventType, MilestoneKind, OrderDirection, PartnerContactRole,
        PartnerStatus, PartnerTier, PartnerType, PrincipalKind, Role, RoleKind, SubjectType,
        UserError, UserErrorCode,
    },
    error::ApiError,
    ids::{self, NodeType},
    policy::{self, RowScope},
    versioned_record,
};
use std::collections::HashMap;

/// Filters of the `partners` connection; empty lists mean "any".
#[derive(Debug, Default, Clone)]
pub struct PartnerFilter {
    pub statuses: Vec<PartnerStatus>,
    pub tiers: Vec<PartnerTier>,
    pub types: Vec<PartnerType>,
    /// Case-insensitive substring of the name.
    pub search: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PartnerSort {
    #[default]
    Name,
    CreatedAt,
}

pub async fn list(
    db: &impl ConnectionTrait,
    caller: &Caller<'_>,
    filter: PartnerFilter,
    sort: PartnerSort,
    direction: OrderDirection,
    page: PageArgs,
) -> Result<Page<partner::Model>, ApiError> {
    let mut condition = policy::partner_rows(caller.principal);
    if !filter.statuses.is_empty() {
        condition = condition.add(partner::Column::Status.is_in(filter.statuses));
    }
    if !filter.tiers.is_empty() {
        condition = condition.add(partner::Column::Tier.is_in(filter.tiers));
    }
    if !filter.types.is_empty() {
        condition = condition.add(partner::Column::PartnerType.is_in(filter.types));
    }
    if let Some(search) = filter
        .search
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
    {
        let escaped = search
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        condition = condition.add(
            Expr::col(partner::Column::NameKey)
                .like(LikeExpr::new(format!("%{escaped}%")).escape('\\')),
        );
    }
    let key = match sort {
        PartnerSort::Name => partner::Column::NameKey,
        PartnerSort::CreatedAt => partner::Column::CreatedAt,
    };
    let ordering = Ordering {
        key,
        id: partner::Column::Id,
        direction,
    };
    paginate(
        db,
        partner::Entity::find().filter(condition),
        ordering,
        page,
        move |p| {
            let key = match sort {
                PartnerSort::Name => KeyValue::Text(p.name_key.clone()),
                PartnerSort::CreatedAt => KeyValue::Time(p.created_at),
            };
            (key, KeyValue::Uuid(p.id))
        },
    )
    .await
}

/// The partner with `id`, if the caller may see it.
pub async fn find(
    db: &impl ConnectionTrait,
    caller: &Caller<'_>,
    id: Uuid,
) -> Result<Option<partner::Model>, ApiError> {
    Ok(partner::Entity::find_by_id(id)
        .filter(policy::partner_rows(caller.principal))
        .one(db)
        .await?)
}

/// The partner named by an input's `partnerId`, if the caller may see it;
/// otherwise the user error on that field.
pub async fn require(
    db: &impl ConnectionTrait,
    caller: &Caller<'_>,
    id: Uuid,
) -> Outcome<partner::Model> {
    find(db, caller, id).await?.ok_or_else(|| {
        UserError::on_field(
            "partnerId",
            UserErrorCode::NotFound,
            "no partner has this id",
        )
        .into()
    })
}

/// `Partner.contacts`: each partner's contacts, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContactsOfPartner;

impl NestedPages for ContactsOfPartner {
    type Row = partner_contact::Model;

    async fn pages(
        &self,
        db: &DatabaseConnection,
        scope: RowScope,
        partners: &[Uuid],
        page: PageArgs,
    ) -> Result<HashMap<Uuid, Page<partner_contact::Model>>, ApiError> {
        let ordering = Ordering {
            key: partner_contact::Column::CreatedAt,
            id: partner_contact::Column::Id,
            direction: OrderDirection::Asc,
        };
        paginate_per_parent(
            db,
            partner_contact::Entity::find().filter(policy::contact_rows(scope)),
            Expr::col((partner_contact::Entity, partner_contact::Column::PartnerId)),
            partners,
            |select| select,
            ordering,
            page,
            |c: &partner_contact::Model| (KeyValue::Time(c.created_at), KeyValue::Uuid(c.id)),
        )
        .await
    }
}

pub async fn find_contact(
    db: &impl ConnectionTrait,
    caller: &Caller<'_>,
    id: Uuid,
) -> Result<Option<partner_contact::Model>, ApiError> {
    Ok(partner_contact::Entity::find_by_id(id)
        .filter(policy::contact_rows(caller.principal))
        .one(db)
        .await?)
}

/// The full (internal) view of a partner, as audit entries and events carry
/// it. Keys are the GraphQL field names, so the partner view can be
/// projected by the visibility policy.
pub fn snapshot(p: &partner::Model) -> Value {
    json!({
        "id": ids::encode(NodeType::Partner, p.id),
        "name": p.name,
        "type": p.partner_type,
        "tier": p.tier,
        "status": p.status,
        "website": p.website,
        "signedAt": p.signed_at,
        "ownerId": p.owner_id.map(|id| ids::encode(NodeType::StaffUser, id)),
        "internalNotes": p.internal_notes,
        "marginPercent": p.margin_bps.map(|b| Percent::from_basis_points(b).as_decimal().to_string()),
        "customerNps": p.customer_nps,
        "version": p.version,
    })
}

versioned_record!(partner, Partner, snapshot);

fn contact_snapshot(c: &partner_contact::Model) -> Value {
    json!({
        "id": ids::encode(NodeType::PartnerContact, c.id),
        "partnerId": ids::encode(NodeType::Partner, c.partner_id),
        "name": c.name,
        "email": c.email,
        "role": c.role,
        "portalRole": c.portal_role,
        "deactivatedAt": c.deactivated_at,
        "version": c.version,
    })
}

versioned_record!(partner_contact, PartnerContact, contact_snapshot);

pub struct NewPartner {
    pub name: DisplayName,
    pub partner_type: PartnerType,
    pub tier: PartnerTier,
    pub website: Option<WebsiteUrl>,
    /// `None`: the caller's own staff user.
    pub owner_id: Option<Uuid>,
    pub internal_notes: Option<String>,
    pub margin: Option<Percent>,
}

pub(crate) fn duplicate_name() -> UserError {
    UserError::on_field(
        "name",
        UserErrorCode::AlreadyExists,
        "a partner with this name already exists",
    )
}

/// Maps a failed insert or update: a unique-name race becomes the same user
/// error the up-front check gives.
fn write_failure(error: sea_orm::DbErr) -> Failure {
    match violated_unique_constraint(&error) {
        Some("uq_partner_name_key") => duplicate_name().into(),
        Some("uq_partner_contact_email") => duplicate_email().into(),
        _ => error.into(),
    }
}

pub(crate) async fn name_taken(
    db: &impl ConnectionTrait,
    name: &DisplayName,
    except: Option<Uuid>,
) -> Result<bool, ApiError> {
    let mut query = partner::Entity::find().filter(partner::Column::NameKey.eq(name.key()));
    if let Some(id) = except {
        query = query.filter(partner::Column::Id.ne(id));
    }
    Ok(query.one(db).await?.is_some())
}

/// The partner with this name (names are unique, case-insensitively).
pub(crate) async fn named(
    db: &impl ConnectionTrait,
    name: &DisplayName,
) -> Result<Option<partner::Model>, sea_orm::DbErr> {
    partner::Entity::find()
        .filter(partner::Column::NameKey.eq(name.key()))
        .one(db)
        .await
}

async fn check_owner(db: &impl ConnectionTrait, owner_id: Uuid) -> Outcome<()> {
    if staff_user::Entity::find_by_id(owner_id)
        .one(db)
        .await?
        .is_none()
    {
        return Err(UserError::on_field(
            "ownerId",
            UserErrorCode::NotFound,
            "no staff user has this id",
        )
        .into());
    }
    Ok(())
}

pub async fn create(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    new: NewPartner,
) -> Outcome<partner::Model> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let created = create_in(&uow, caller, "createPartner", new).await?;
    uow.commit().await?;
    Ok(created)
}

/// Creates a partner in `uow` (`partner.created`), audited as `operation`.
pub(crate) async fn create_in(
    uow: &UnitOfWork,
    caller: &Caller<'_>,
    operation: &str,
    new: NewPartner,
) -> Outcome<partner::Model> {
    if name_taken(uow.conn(), &new.name, None).await? {
        return Err(duplicate_name().into());
    }
    let owner_id = new.owner_id.or(caller.principal.staff_user_id);
    if let Some(owner_id) = new.owner_id {
        check_owner(uow.conn(), owner_id).await?;
    }
    let now = uow.now();
    let row = partner::ActiveModel {
        id: Set(Uuid::now_v7()),
        name_key: Set(new.name.key()),
        name: Set(new.name.into_inner()),
        partner_type: Set(new.partner_type),
        tier: Set(new.tier),
        status: Set(PartnerStatus::Prospect),
        website: Set(new.website.map(WebsiteUrl::into_inner)),
        signed_at: Set(None),
        owner_id: Set(owner_id),
        internal_notes: Set(new.internal_notes),
        margin_bps: Set(new.margin.map(Percent::basis_points)),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        activation_overdue_notified_at: Set(None),
        customer_nps: Set(None),
        recommended_tier: Set(None),
        recommended_tier_at: Set(None),
    };
    let created = uow
        .create::<partner::Entity>(operation, row)
        .await
        .map_err(write_failure)?;
    uow.emit(partner_event(
        EventType::PartnerCreated,
        &created,
        json!({ "partner": snapshot(&created) }),
    ))
    .await?;
    Ok(created)
}

fn partner_event(event_type: EventType, p: &partner::Model, payload: Value) -> Event {
    Event {
        event_type,
        subject_type: SubjectType::Partner,
        subject_id: p.id,
        partner_id: Some(p.id),
        payload,
    }
}

/// Changes to a partner; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Default)]
pub struct PartnerChanges {
    pub name: Option<DisplayName>,
    pub partner_type: Option<PartnerType>,
    pub tier: Option<PartnerTier>,
    pub website: Option<Option<WebsiteUrl>>,
    pub owner_id: Option<Option<Uuid>>,
    pub internal_notes: Option<Option<String>>,
    pub margin: Option<Option<Percent>>,
    /// Customer NPS, −100..100 (checked by the caller).
    pub customer_nps: Option<Option<i32>>,
}

fn stale_version(current: i32) -> Failure {
    UserError::on_field(
        "expectedVersion",
        UserErrorCode::StaleVersion,
        format!("the partner changed since you read it; it is now at version {current}"),
    )
    .into()
}

fn partner_not_found() -> Failure {
    UserError::on_field("id", UserErrorCode::NotFound, "no partner has this id").into()
}

/// Loads the partner to change, scoped to what the caller may see, and checks
/// the version the caller read.
async fn load_for_change(
    uow: &UnitOfWork,
    caller: &Caller<'_>,
    id: Uuid,
    expected_version: Option<i32>,
) -> Outcome<partner::Model> {
    let current = find(uow.conn(), caller, id)
        .await?
        .ok_or_else(partner_not_found)?;
    match expected_version {
        Some(expected) if expected != current.version => Err(stale_version(current.version)),
        _ => Ok(current),
    }
}

/// Writes `changed` only if the row is still at `current.version`: the
/// optimistic lock that makes sure no update is silently lost.
pub(crate) async fn save(
    uow: &UnitOfWork,
    operation: &str,
    current: &partner::Model,
    changed: partner::ActiveModel,
) -> Outcome<partner::Model> {
    uow.update::<partner::Entity>(operation, current, changed)
        .await
        .map_err(|error| match error {
            UpdateError::Stale(Some(version)) => stale_version(version),
            UpdateError::Stale(None) => partner_not_found(),
            UpdateError::Db(error) => write_failure(error),
        })
}

pub async fn update(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    id: Uuid,
    expected_version: i32,
    changes: PartnerChanges,
) -> Outcome<partner::Model> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let current = load_for_change(&uow, caller, id, Some(expected_version)).await?;
    let updated = update_in(&uow, "updatePartner", &current, changes).await?;
    uow.commit().await?;
    Ok(updated)
}

/// Applies `changes` to `current` in `uow` (`partner.tier_changed` when
/// the tier moves), audited as `operation`.
pub(crate) async fn update_in(
    uow: &UnitOfWork,
    operation: &str,
    current: &partner::Model,
    changes: PartnerChanges,
) -> Outcome<partner::Model> {
    let mut changed = current.clone().into_active_model();
    if let Some(name) = changes.name {
        if name_taken(uow.conn(), &name, Some(current.id)).await? {
            return Err(duplicate_name().into());
        }
        changed.name_key = Set(name.key());
        changed.name = Set(name.into_inner());
    }
    set_if(&mut changed.partner_type, changes.partner_type);
    set_if(&mut changed.tier, changes.tier);
    set_if(
        &mut changed.website,
        changes
            .website
            .map(|website| website.map(WebsiteUrl::into_inner)),
    );
    if let Some(owner_id) = changes.owner_id {
        if let Some(owner_id) = owner_id {
            check_owner(uow.conn(), owner_id).await?;
        }
        changed.owner_id = Set(owner_id);
    }
    set_if(&mut changed.internal_notes, changes.internal_notes);
    set_if(
        &mut changed.margin_bps,
        changes
            .margin
            .map(|margin| margin.map(Percent::basis_points)),
    );
    set_if(&mut changed.customer_nps, changes.customer_nps);
    let updated = save(uow, operation, current, changed).await?;
    if updated.tier != current.tier {
        let payload = json!({ "partner": snapshot(&updated), "previousTier": current.tier, "tier": updated.tier });
        uow.emit(partner_event(
            EventType::PartnerTierChanged,
            &updated,
            payload,
        ))
        .await?;
    }
    Ok(updated)
}

pub async fn change_status(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    id: Uuid,
    status: PartnerStatus,
    expected_version: Option<i32>,
) -> Outcome<partner::Model> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let current = load_for_change(&uow, caller, id, expected_version).await?;
    let from = current.status;
    if !partner_status::can_move(from, status) {
        return Err(UserError::on_field(
            "status",
            UserErrorCode::InvalidTransition,
            format!("a {from} partner cannot become {status}"),
        )
        .into());
    }
    let mut changed = current.clone().into_active_model();
    changed.status = Set(status);
    if status == PartnerStatus::Signed && current.signed_at.is_none() {
        // The 120-day activation clock starts here.
        changed.signed_at = Set(Some(uow.now()));
    }
    let updated = save(&uow, "changePartnerStatus", &current, changed).await?;
    let payload = json!({ "partner": snapshot(&updated), "previousStatus": current.status, "status": updated.status });
    uow.emit(partner_event(
        EventType::PartnerStatusChanged,
        &updated,
        payload,
    ))
    .await?;
    if status == PartnerStatus::Signed {
        super::milestones::reach(&uow, id, MilestoneKind::AgreementSigned, uow.now()).await?;
    }
    uow.commit().await?;
    Ok(updated)
}

pub struct NewContact {
    pub partner_id: Uuid,
    pub name: DisplayName,
    pub email: EmailAddress,
    pub role: PartnerContactRole,
}

fn duplicate_email() -> UserError {
    UserError::on_field(
        "email",
        UserErrorCode::AlreadyExists,
        "this partner already has a contact with this e-mail",
    )
}

pub async fn add_contact(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    new: NewContact,
) -> Outcome<partner_contact::Model> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    if find(uow.conn(), caller, new.partner_id).await?.is_none() {
        return Err(UserError::on_field(
            "partnerId",
            UserErrorCode::NotFound,
            "no partner has this id",
        )
        .into());
    }
    let contact = add_contact_in(&uow, "addPartnerContact", new).await?;
    uow.commit().await?;
    Ok(contact)
}

/// Adds a contact to a partner the caller has checked it may see, in `uow`.
pub(crate) async fn add_contact_in(
    uow: &UnitOfWork,
    operation: &str,
    new: NewContact,
) -> Outcome<partner_contact::Model> {
    let taken = partner_contact::Entity::find()
        .filter(
            Condition::all()
                .add(partner_contact::Column::PartnerId.eq(new.partner_id))
                .add(partner_contact::Column::Email.eq(new.email.as_str())),
        )
        .one(uow.conn())
        .await?;
    if taken.is_some() {
        return Err(duplicate_email().into());
    }
    let now = uow.now();
    let row = partner_contact::ActiveModel {
        id: Set(Uuid::now_v7()),
        partner_id: Set(new.partner_id),
        name: Set(new.name.into_inner()),
        email: Set(new.email.into_inner()),
        role: Set(new.role),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        deactivated_at: Set(None),
        portal_role: Set(None),
        portal_granted_at: Set(None),
    };
    uow.create::<partner_contact::Entity>(operation, row)
        .await
        .map_err(write_failure)
}

fn contact_not_found(field: &str) -> Failure {
    UserError::on_field(
        field,
        UserErrorCode::NotFound,
        "no partner contact has this id",
    )
    .into()
}

/// Loads a contact to change (scoped to what the caller may see) and checks
/// the version the caller read.
async fn load_contact(
    uow: &UnitOfWork,
    caller: &Caller<'_>,
    (field, id): (&str, Uuid),
    expected_version: Option<i32>,
) -> Outcome<partner_contact::Model> {
    let current = find_contact(uow.conn(), caller, id)
        .await?
        .ok_or_else(|| contact_not_found(field))?;
    match expected_version {
        Some(expected) if expected != current.version => Err(UserError::on_field(
            "expectedVersion",
            UserErrorCode::StaleVersion,
            format!(
                "the contact changed since you read it; it is now at version {}",
                current.version
            ),
        )
        .into()),
        _ => Ok(current),
    }
}

async fn save_contact(
    uow: &UnitOfWork,
    operation: &str,
    current: &partner_contact::Model,
    changed: partner_contact::ActiveModel,
) -> Outcome<partner_contact::Model> {
    uow.update::<partner_contact::Entity>(operation, current, changed)
        .await
        .map_err(|error| match error {
            UpdateError::Stale(Some(version)) => UserError::on_field(
                "expectedVersion",
                UserErrorCode::StaleVersion,
                format!("the contact changed since you read it; it is now at version {version}"),
            )
            .into(),
            UpdateError::Stale(None) => contact_not_found("id"),
            UpdateError::Db(error) => write_failure(error),
        })
}

/// Changes to a contact; `None` leaves a field as it is.
#[derive(Default)]
pub struct ContactChanges {
    pub name: Option<DisplayName>,
    pub email: Option<EmailAddress>,
    pub role: Option<PartnerContactRole>,
}

/// `updatePartnerContact`.
pub async fn update_contact(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    id: Uuid,
    expected_version: i32,
    changes: ContactChanges,
) -> Outcome<partner_contact::Model> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let current = load_contact(&uow, caller, ("id", id), Some(expected_version)).await?;
    let saved = update_contact_in(&uow, "updatePartnerContact", &current, changes).await?;
    uow.commit().await?;
    Ok(saved)
}

/// Applies `changes` to `current` in `uow`, audited as `operation`.
pub(crate) async fn update_contact_in(
    uow: &UnitOfWork,
    operation: &str,
    current: &partner_contact::Model,
    changes: ContactChanges,
) -> Outcome<partner_contact::Model> {
    let mut changed = current.clone().into_active_model();
    if let Some(email) = changes.email {
        let taken = partner_contact::Entity::find()
            .filter(partner_contact::Column::PartnerId.eq(current.partner_id))
            .filter(partner_contact::Column::Email.eq(email.as_str()))
            .filter(partner_contact::Column::Id.ne(current.id))
            .one(uow.conn())
            .await?;
        if taken.is_some() {
            return Err(duplicate_email().into());
        }
        changed.email = Set(email.into_inner());
    }
    if let Some(name) = changes.name {
        changed.name = Set(name.into_inner());
    }
    if let Some(role) = changes.role {
        changed.role = Set(role);
    }
    save_contact(uow, operation, current, changed).await
}

/// `deactivatePartnerContact`: the contact stays, for history and its
/// certifications, but no longer counts for gating or thresholds, and its
/// portal access ends with its tokens.
pub async fn deactivate_contact(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    id: Uuid,
    expected_version: Option<i32>,
) -> Outcome<partner_contact::Model> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let current = load_contact(&uow, caller, ("id", id), expected_version).await?;
    let saved = deactivate_contact_in(&uow, "deactivatePartnerContact", &current).await?;
    uow.commit().await?;
    // Only now: a lookup racing the commit must not keep the token alive.
    crate::auth::cache::tokens_revoked(db).await;
    Ok(saved)
}

/// Deactivates `current` in `uow` and revokes its tokens; the caller tells
/// the token cache after the commit (`auth::cache::tokens_revoked`).
pub(crate) async fn deactivate_contact_in(
    uow: &UnitOfWork,
    operation: &str,
    current: &partner_contact::Model,
) -> Outcome<partner_contact::Model> {
    if current.deactivated_at.is_some() {
        return Err(UserError::on_field(
            "id",
            UserErrorCode::InvalidTransition,
            "the contact is already deactivated",
        )
        .into());
    }
    let now = uow.now();
    let mut changed = current.clone().into_active_model();
    changed.deactivated_at = Set(Some(now));
    changed.portal_role = Set(None);
    changed.portal_granted_at = Set(None);
    let saved = save_contact(uow, operation, current, changed).await?;
    crate::auth::clients::revoke_tokens_of_contact(uow.conn(), current.id, now).await?;
    Ok(saved)
}

/// `grantPortalAccess`: the contact may act in a portal with `role` (a
/// partner role), through the portal's token exchange.
pub async fn grant_portal_access(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    id: Uuid,
    role: Role,
) -> Outcome<partner_contact::Model> {
    if role.kind() != PrincipalKind::Partner {
        return Err(UserError::on_field(
            "role",
            UserErrorCode::InvalidValue,
            "portal access is a partner role: PARTNER_ADMIN or PARTNER_REP",
        )
        .into());
    }
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let current = load_contact(&uow, caller, ("contactId", id), None).await?;
    if current.deactivated_at.is_some() {
        return Err(UserError::on_field(
            "contactId",
            UserErrorCode::InvalidTransition,
            "a deactivated contact cannot have portal access",
        )
        .into());
    }
    if current.portal_role == Some(role) {
        uow.commit().await?;
        return Ok(current);
    }
    let downgraded = current.portal_role.is_some();
    let mut changed = current.clone().into_active_model();
    changed.portal_role = Set(Some(role));
    changed.portal_granted_at = Set(Some(uow.now()));
    let saved = save_contact(&uow, "grantPortalAccess", &current, changed).await?;
    if downgraded {
        // Tokens carry the role they were issued with: a changed role takes
        // effect with the next exchange.
        crate::auth::clients::revoke_tokens_of_contact(uow.conn(), id, uow.now()).await?;
    }
    uow.commit().await?;
    if downgraded {
        crate::auth::cache::tokens_revoked(db).await;
    }
    Ok(saved)
}

/// `revokePortalAccess`: the contact's portal tokens stop at once (open
/// subscriptions end within the session check's interval).
pub async fn revoke_portal_access(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    id: Uuid,
) -> Outcome<partner_contact::Model> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let current = load_contact(&uow, caller, ("contactId", id), None).await?;
    let saved = if current.portal_role.is_some() {
        let mut changed = current.clone().into_active_model();
        changed.portal_role = Set(None);
        changed.portal_granted_at = Set(None);
        save_contact(&uow, "revokePortalAccess", &current, changed).await?
    } else {
        current
    };
    crate::auth::clients::revoke_tokens_of_contact(uow.conn(), id, uow.now()).await?;
    uow.commit().await?;
    crate::auth::cache::tokens_revoked(db).await;
    Ok(saved)
}
