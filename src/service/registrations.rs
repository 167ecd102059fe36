//! Deal registrations (SPEC §4.2), the use cases: the registration queue,
//! submission with certification gating and duplicate and conflict
//! detection, changes while undecided, review, and extension. The record,
//! its decisions and conflicts are `service::deals`.

use super::set_if;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use entity::{deal_registration, registration_sequence};
use sea_orm::{
    sea_query::{Expr, ExprTrait, OnConflict},
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, Set,
};
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

use super::{
    deals::{accounts, conflicts, registration},
    milestones,
    pagination::{paginate, paginate_per_parent, KeyValue, NestedPages, Ordering, Page, PageArgs},
    settings,
    unit_of_work::{violated_unique_constraint, UnitOfWork},
    Caller, Failure, Outcome,
};
use crate::{
    domain::{
        accounts::{normalize_company_name, normalize_domain},
        inputs::{DisplayName, EmailAddress},
        money::Money,
        registrations::reference,
        CertificationKind, ConflictResolution, DealRegistrationStatus, EventType,
        ExtensionRequestStatus, MilestoneKind, OrderDirection, PartnerType, PrincipalKind,
        UserError, UserErrorCode,
    },
    error::ApiError,
    policy::{self, RowScope},
};

pub use super::deals::{
    conflicts::{of_registration as conflicts, resolve as resolve_conflict},
    registration::find,
};

use DealRegistrationStatus as Status;

// ---- reads ----

#[derive(Debug, Default, Clone)]
pub struct RegistrationFilter {
    pub statuses: Vec<Status>,
    pub partner_id: Option<Uuid>,
    pub submitted_from: Option<DateTime<Utc>>,
    pub submitted_to: Option<DateTime<Utc>>,
    pub expiring_within_days: Option<i32>,
    pub sla_breached: Option<bool>,
}

pub async fn list(
    db: &impl ConnectionTrait,
    caller: &Caller<'_>,
    filter: RegistrationFilter,
    page: PageArgs,
) -> Result<Page<deal_registration::Model>, ApiError> {
    let mut condition = policy::registration_rows(caller.principal);
    if !filter.statuses.is_empty() {
        condition =
            condition.add(deal_registration::Column::Status.is_in(filter.statuses.iter().copied()));
    }
    if let Some(partner_id) = filter.partner_id {
        condition = condition.add(deal_registration::Column::PartnerId.eq(partner_id));
    }
    if let Some(from) = filter.submitted_from {
        condition = condition.add(deal_registration::Column::SubmittedAt.gte(from));
    }
    if let Some(to) = filter.submitted_to {
        condition = condition.add(deal_registration::Column::SubmittedAt.lt(to));
    }
    if let Some(days) = filter.expiring_within_days {
        if !(0..=3650).contains(&days) {
            return Err(ApiError::BadUserInput(
                "`expiringWithinDays` must be between 0 and 3650".into(),
            ));
        }
        condition = condition
            .add(deal_registration::Column::Status.eq(Status::Approved))
            .add(deal_registration::Column::ProtectionEndsAt.gt(caller.now))
            .add(
                deal_registration::Column::ProtectionEndsAt
                    .lte(caller.now + Duration::days(i64::from(days))),
            );
    }
    if let Some(breached) = filter.sla_breached {
        let undecided =
            deal_registration::Column::Status.is_in([Status::Submitted, Status::UnderReview]);
        let late = Condition::any()
            .add(
                Condition::all()
                    .add(undecided)
                    .add(deal_registration::Column::SlaDueAt.lt(caller.now)),
            )
            .add(
                Condition::all()
                    .add(deal_registration::Column::DecidedAt.is_not_null())
                    .add(
                        Expr::col(deal_registration::Column::DecidedAt)
                            .gt(Expr::col(deal_registration::Column::SlaDueAt)),
                    ),
            );
        condition = condition.add(if breached { late } else { late.not() });
    }
    paginate(
        db,
        deal_registration::Entity::find().filter(condition),
        newest_first(),
        page,
        cursor_key,
    )
    .await
}

fn newest_first() -> Ordering<deal_registration::Column> {
    Ordering {
        key: deal_registration::Column::CreatedAt,
        id: deal_registration::Column::Id,
        direction: OrderDirection::Desc,
    }
}

fn cursor_key(r: &deal_registration::Model) -> (KeyValue, KeyValue) {
    (KeyValue::Time(r.created_at), KeyValue::Uuid(r.id))
}

/// `Partner.dealRegistrations`: each partner's registrations, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RegistrationsOfPartner;

impl NestedPages for RegistrationsOfPartner {
    type Row = deal_registration::Model;

    async fn pages(
        &self,
        db: &DatabaseConnection,
        scope: RowScope,
        partners: &[Uuid],
        page: PageArgs,
    ) -> Result<HashMap<Uuid, Page<deal_registration::Model>>, ApiError> {
        paginate_per_parent(
            db,
            deal_registration::Entity::find().filter(policy::registration_rows(scope)),
            Expr::col((
                deal_registration::Entity,
                deal_registration::Column::PartnerId,
            )),
            partners,
            |select| select,
            newest_first(),
            page,
            cursor_key,
        )
        .await
    }
}

// ---- submit ----

/// A registration as submitted, already parsed at the boundary.
pub struct NewRegistration {
    /// Required for staff; a partner principal registers for its own partner.
    pub partner_id: Option<Uuid>,
    pub company_name: DisplayName,
    pub company_domain: String,
    pub customer_contact_name: DisplayName,
    pub customer_contact_email: EmailAddress,
    pub estimated_amount: Money,
    pub expected_close_date: NaiveDate,
    pub product: Option<String>,
    pub notes: Option<String>,
}

/// Checks a domain as the partner typed it; returns its normalised form.
pub fn parse_company_domain(raw: &str) -> Result<String, String> {
    let domain = normalize_domain(raw);
    let ok = domain.contains('.')
        && domain.len() <= 253
        && domain.split('.').all(|label| {
            !label.is_empty() && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    if ok {
        Ok(domain)
    } else {
        Err("must be a domain such as acme.com".into())
    }
}

/// The next reference of the year: a sequence, bookkeeping rather than a
/// change anyone audits.
#[expect(
    clippy::disallowed_methods,
    reason = "the yearly reference sequence is bookkeeping, not an audited change"
)]
async fn next_reference(uow: &UnitOfWork) -> Result<String, DbErr> {
    let year = uow.now().year();
    registration_sequence::Entity::insert(registration_sequence::ActiveModel {
        year: Set(year),
        last: Set(0),
    })
    .on_conflict(
        OnConflict::column(registration_sequence::Column::Year)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(uow.conn())
    .await?;
    // The update takes the row lock, so concurrent submissions number in turn.
    registration_sequence::Entity::update_many()
        .col_expr(
            registration_sequence::Column::Last,
            Expr::col(registration_sequence::Column::Last).add(1),
        )
        .filter(registration_sequence::Column::Year.eq(year))
        .exec(uow.conn())
        .await?;
    let last = registration_sequence::Entity::find_by_id(year)
        .one(uow.conn())
        .await?
        .map_or(1, |s| s.last);
    Ok(reference(year, u32::try_from(last).unwrap_or_default()))
}

/// Who submitted, as the partner will see it.
fn submitter(caller: &Caller<'_>) -> String {
    match caller.principal.kind() {
        PrincipalKind::Partner => format!("{} (partner)", caller.principal.role),
        PrincipalKind::Staff => format!("{} (on the partner's behalf)", caller.principal.role),
    }
}

/// An expected close date must not be before the caller's today.
fn not_in_the_past(date: NaiveDate, caller: &Caller<'_>) -> Outcome<()> {
    if date < caller.now.date_naive() {
        return Err(UserError::on_field(
            "expectedCloseDate",
            UserErrorCode::InvalidValue,
            "must not be in the past",
        )
        .into());
    }
    Ok(())
}

fn duplicate_registration() -> Failure {
    UserError::on_field(
        "companyDomain",
        UserErrorCode::DuplicateRegistration,
        "you already have an active registration for this account",
    )
    .into()
}

pub async fn submit(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    new: NewRegistration,
) -> Outcome<deal_registration::Model> {
    const OPERATION: &str = "submitDealRegistration";
    let Some(partner_id) = caller.principal.partner_for(new.partner_id) else {
        return Err(UserError::on_field(
            "partnerId",
            UserErrorCode::InvalidValue,
            "staff submit on a partner's behalf: give `partnerId`",
        )
        .into());
    };
    not_in_the_past(new.expected_close_date, caller)?;
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let registration = submit_in(&uow, caller, OPERATION, partner_id, new).await?;
    uow.commit().await?;
    Ok(registration)
}

/// Submits in `uow` for `partner_id` (the import's unit holds many): the
/// same gating, duplicate and conflict detection, events and milestone.
pub(crate) async fn submit_in(
    uow: &UnitOfWork,
    caller: &Caller<'_>,
    operation: &str,
    partner_id: Uuid,
    new: NewRegistration,
) -> Outcome<deal_registration::Model> {
    not_in_the_past(new.expected_close_date, caller)?;
    let partner = super::partners::require(uow.conn(), caller, partner_id).await?;
    let settings = settings::get(uow.conn()).await?;
    let gated = settings.certification_gating && partner.partner_type != PartnerType::Referral;
    if gated && !accounts::certified(uow.conn(), partner.id, Some(CertificationKind::Sales)).await?
    {
        return Err(UserError {
            field: None,
            code: UserErrorCode::CertificationRequired,
            message:
                "the partner needs a contact with an active SALES certification to register deals"
                    .into(),
        }
        .into());
    }
    let now = uow.now();
    // A portal user submits as themselves.
    let contact = match caller.principal.contact_id {
        Some(id) => entity::partner_contact::Entity::find_by_id(id)
            .one(uow.conn())
            .await?
            .filter(|c| c.partner_id == partner.id),
        None => None,
    };
    let submitted_by = match &contact {
        Some(c) => format!("{} <{}>", c.name, c.email),
        None => submitter(caller),
    };
    let domain_key = new.company_domain.clone();
    let company_key = normalize_company_name(new.company_name.as_str());
    let claims = deal_registration::Entity::find()
        .filter(accounts::same_account_registrations(
            &domain_key,
            &company_key,
        ))
        .filter(accounts::active_claims(now))
        .all(uow.conn())
        .await?;
    if claims.iter().any(|c| c.partner_id == partner.id) {
        return Err(duplicate_registration());
    }
    // Other partners' active registrations and open direct opportunities:
    // with any, the registration starts under review.
    let found = conflicts::find_for_submission(
        uow.conn(),
        partner.id,
        (&domain_key, &company_key),
        &claims,
        now,
    )
    .await?;
    let status = if found.is_empty() {
        Status::Submitted
    } else {
        Status::UnderReview
    };
    let row = deal_registration::ActiveModel {
        id: Set(Uuid::now_v7()),
        reference: Set(next_reference(uow).await?),
        partner_id: Set(partner.id),
        status: Set(status),
        company_name: Set(new.company_name.as_str().to_owned()),
        company_domain: Set(new.company_domain),
        company_key: Set(company_key),
        domain_key: Set(domain_key),
        customer_contact_name: Set(new.customer_contact_name.into_inner()),
        customer_contact_email: Set(new.customer_contact_email.into_inner()),
        amount_minor: Set(new.estimated_amount.minor_units),
        currency: Set(new.estimated_amount.currency.into_inner()),
        expected_close_date: Set(new.expected_close_date),
        product: Set(new.product),
        notes: Set(new.notes),
        internal_notes: Set(None),
        submitted_at: Set(now),
        submitted_by: Set(submitted_by),
        reviewer_id: Set(None),
        decided_at: Set(None),
        decision_reason: Set(None),
        protection_starts_at: Set(None),
        protection_ends_at: Set(None),
        extension_count: Set(0),
        sla_due_at: Set(now + Duration::hours(i64::from(settings.review_sla_hours))),
        expiring_notified_for: Set(None),
        opportunity_id: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        submitted_by_contact_id: Set(contact.map(|c| c.id)),
        submitted_by_staff_id: Set(caller.principal.staff_user_id),
        extension_request_days: Set(None),
        extension_request_reason: Set(None),
        extension_requested_at: Set(None),
        extension_request_status: Set(None),
        extension_request_decided_at: Set(None),
        extension_decline_reason: Set(None),
    };
    let registration = uow
        .create::<deal_registration::Entity>(operation, row)
        .await
        .map_err(|error| match violated_unique_constraint(&error) {
            // A concurrent submission for the same account won the race.
            Some(
                "uq_deal_registration_pending_domain" | "uq_deal_registration_pending_company",
            ) => duplicate_registration(),
            _ => error.into(),
        })?;
    for conflict in &found {
        conflicts::record(uow, operation, registration.id, conflict).await?;
    }
    uow.emit(registration::event(
        EventType::DealRegistrationSubmitted,
        &registration,
        json!({}),
    ))
    .await?;
    if !found.is_empty() {
        let recommendations: Vec<ConflictResolution> =
            found.iter().map(|c| c.recommendation.resolution).collect();
        uow.emit(registration::event(
            EventType::DealRegistrationConflictDetected,
            &registration,
            json!({ "recommendations": recommendations }),
        ))
        .await?;
    }
    milestones::reach(uow, partner.id, MilestoneKind::FirstRegisteredDeal, now).await?;
    Ok(registration)
}

// ---- changes and decisions ----

/// Changes while undecided.
#[derive(Default)]
pub struct RegistrationChanges {
    pub customer_contact_name: Option<DisplayName>,
    pub customer_contact_email: Option<EmailAddress>,
    pub estimated_amount: Option<Money>,
    pub expected_close_date: Option<NaiveDate>,
    pub product: Option<Option<String>>,
    pub notes: Option<Option<String>>,
    pub internal_notes: Option<Option<String>>,
}

pub async fn update(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    id: Uuid,
    expected_version: i32,
    mut changes: RegistrationChanges,
) -> Outcome<deal_registration::Model> {
    if !caller.principal.writes_internal_fields() {
        changes.internal_notes = None;
    }
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let current = registration::load(&uow, caller, id, Some(expected_version), None).await?;
    let saved = update_in(&uow, caller, "updateDealRegistration", &current, changes).await?;
    uow.commit().await?;
    Ok(saved)
}

/// Changes `current` while undecided, in `uow` (the import's unit holds many).
pub(crate) async fn update_in(
    uow: &UnitOfWork,
    caller: &Caller<'_>,
    operation: &str,
    current: &deal_registration::Model,
    changes: RegistrationChanges,
) -> Outcome<deal_registration::Model> {
    if let Some(date) = changes.expected_close_date {
        not_in_the_past(date, caller)?;
    }
    let status = current.status;
    if !matches!(status, Status::Submitted | Status::UnderReview) {
        return Err(UserError::on_field(
            "id",
            UserErrorCode::InvalidTransition,
            "a decided registration cannot be changed",
        )
        .into());
    }
    let mut changed = current.clone().into_active_model();
    set_if(
        &mut changed.customer_contact_name,
        changes.customer_contact_name.map(|name| name.into_inner()),
    );
    set_if(
        &mut changed.customer_contact_email,
        changes
            .customer_contact_email
            .map(|email| email.into_inner()),
    );
    if let Some(amount) = changes.estimated_amount {
        changed.amount_minor = Set(amount.minor_units);
        changed.currency = Set(amount.currency.into_inner());
    }
    set_if(
        &mut changed.expected_close_date,
        changes.expected_close_date,
    );
    set_if(&mut changed.product, changes.product);
    set_if(&mut changed.notes, changes.notes);
    set_if(&mut changed.internal_notes, changes.internal_notes);
    registration::save(uow, operation, current, changed).await
}

pub async fn withdraw(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    id: Uuid,
) -> Outcome<deal_registration::Model> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let current = registration::load(&uow, caller, id, None, Some(Status::Withdrawn)).await?;
    let mut changed = current.clone().into_active_model();
    changed.status = Set(Status::Withdrawn);
    changed.decided_at = Set(Some(uow.now()));
    let saved = registration::save(&uow, "withdrawDealRegistration", &current, changed).await?;
    uow.commit().await?;
    Ok(saved)
}

pub async fn reject(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    id: Uuid,
    reason: String,
) -> Outcome<deal_registration::Model> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let current = registration::load(&uow, caller, id, None, Some(Status::Rejected)).await?;
    let saved =
        registration::reject(&uow, caller, &current, reason, "rejectDealRegistration").await?;
    uow.commit().await?;
    Ok(saved)
}

/// Protection length for an approval: the override (1–365 days) or the setting.
fn protection_days(override_days: Option<i32>, default_days: i32) -> Result<i64, Failure> {
    match override_days {
        Some(days) if !(1..=365).contains(&days) => Err(UserError::on_field(
            "protectionDays",
            UserErrorCode::InvalidValue,
            "must be between 1 and 365",
        )
        .into()),
        Some(days) => Ok(i64::from(days)),
        None => Ok(i64::from(default_days)),
    }
}

pub async fn approve(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    id: Uuid,
    override_days: Option<i32>,
) -> Outcome<deal_registration::Model> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let settings = settings::get(uow.conn()).await?;
    let days = protection_days(override_days, settings.protection_days)?;
    let current = registration::load(&uow, caller, id, None, Some(Status::Approved)).await?;
    let saved = registration::approve(&uow, caller, &current, days, None).await?;
    uow.commit().await?;
    Ok(saved)
}

pub async fn extend(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    id: Uuid,
    days: i32,
    reason: String,
) -> Outcome<deal_registration::Model> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let settings = settings::get(uow.conn()).await?;
    if !(1..=settings.extension_max_days).contains(&days) {
        return Err(UserError::on_field(
            "days",
            UserErrorCode::InvalidValue,
            format!("must be between 1 and {}", settings.extension_max_days),
        )
        .into());
    }
    let current = registration::load(&uow, caller, id, None, None).await?;
    let protected_until = current.protection_ends_at.filter(|end| *end > uow.now());
    let Some(ends) = protected_until.filter(|_| current.status == Status::Approved) else {
        return Err(UserError::on_field(
            "id",
            UserErrorCode::InvalidTransition,
            "only an approved, still protected registration can be extended",
        )
        .into());
    };
    if current.extension_count >= settings.max_extensions {
        return Err(UserError::on_field(
            "id",
            UserErrorCode::InvalidTransition,
            format!(
                "the registration was already extended {} time(s), the most allowed",
                current.extension_count
            ),
        )
        .into());
    }
    let mut changed = current.clone().into_active_model();
    changed.protection_ends_at = Set(Some(ends + Duration::days(i64::from(days))));
    changed.extension_count = Set(current.extension_count + 1);
    changed.decision_reason = Set(Some(reason.clone()));
    // Extending grants the partner's pending request, if there is one.
    if current.extension_request_status == Some(ExtensionRequestStatus::Pending) {
        changed.extension_request_status = Set(Some(ExtensionRequestStatus::Granted));
        changed.extension_request_decided_at = Set(Some(uow.now()));
    }
    let saved = registration::save(&uow, "extendDealRegistration", &current, changed).await?;
    uow.emit(registration::event(
        EventType::DealRegistrationExtended,
        &saved,
        json!({ "days": days, "reason": reason }),
    ))
    .await?;
    uow.commit().await?;
    Ok(saved)
}

// ---- partner-requested extensions ----

/// `requestRegistrationExtension`: the owning partner asks for `days` more
/// protection while it is still active; one request at a time. Staff see it
/// on the registration and grant it (`extendDealRegistration`) or decline it.
pub async fn request_extension(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    id: Uuid,
    days: i32,
    reason: String,
) -> Outcome<deal_registration::Model> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let settings = settings::get(uow.conn()).await?;
    if !(1..=settings.extension_max_days).contains(&days) {
        return Err(UserError::on_field(
            "days",
            UserErrorCode::InvalidValue,
            format!("must be between 1 and {}", settings.extension_max_days),
        )
        .into());
    }
    let current = registration::load(&uow, caller, id, None, None).await?;
    let protected = current.status == Status::Approved
        && current
            .protection_ends_at
            .is_some_and(|end| end > uow.now());
    if !protected {
        return Err(UserError::on_field(
            "id",
            UserErrorCode::InvalidTransition,
            "only an approved, still protected registration can be extended",
        )
        .into());
    }
    if current.extension_request_status == Some(ExtensionRequestStatus::Pending) {
        return Err(UserError::on_field(
            "id",
            UserErrorCode::AlreadyExists,
            "an extension request for this registration is already waiting for a decision",
        )
        .into());
    }
    if current.extension_count >= settings.max_extensions {
        return Err(UserError::on_field(
            "id",
            UserErrorCode::InvalidTransition,
            format!(
                "the registration was already extended {} time(s), the most allowed",
                current.extension_count
            ),
        )
        .into());
    }
    let mut changed = current.clone().into_active_model();
    changed.extension_request_days = Set(Some(days));
    changed.extension_request_reason = Set(Some(reason.clone()));
    changed.extension_requested_at = Set(Some(uow.now()));
    changed.extension_request_status = Set(Some(ExtensionRequestStatus::Pending));
    changed.extension_request_decided_at = Set(None);
    changed.extension_decline_reason = Set(None);
    // Versioned: of two concurrent requests, one answers STALE_VERSION.
    let saved = registration::save(&uow, "requestRegistrationExtension", &current, changed).await?;
    uow.emit(registration::event(
        EventType::DealRegistrationExtensionRequested,
        &saved,
        json!({ "days": days, "reason": reason }),
    ))
    .await?;
    uow.commit().await?;
    Ok(saved)
}

/// `declineRegistrationExtension`: staff turn a pending request down, with
/// a reason the partner sees.
pub async fn decline_extension(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    id: Uuid,
    reason: String,
) -> Outcome<deal_registration::Model> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let current = registration::load(&uow, caller, id, None, None).await?;
    if current.extension_request_status != Some(ExtensionRequestStatus::Pending) {
        return Err(UserError::on_field(
            "id",
            UserErrorCode::InvalidTransition,
            "the registration has no extension request waiting for a decision",
        )
        .into());
    }
    let mut changed = current.clone().into_active_model();
    changed.extension_request_status = Set(Some(ExtensionRequestStatus::Declined));
    changed.extension_request_decided_at = Set(Some(uow.now()));
    changed.extension_decline_reason = Set(Some(reason.clone()));
    let saved = registration::save(&uow, "declineRegistrationExtension", &current, changed).await?;
    uow.emit(registration::event(
        EventType::DealRegistrationExtensionDeclined,
        &saved,
        json!({ "reason": reason }),
    ))
    .await?;
    uow.commit().await?;
    Ok(saved)
}
