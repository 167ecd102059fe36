//! Deal registrations (SPEC §4.2): submission with certification gating,
//! duplicate and conflict detection, review, protection and extension.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use entity::{
    certification, certification_track, deal_registration, opportunity, opportunity_attribution,
    registration_conflict, registration_sequence,
};
use sea_orm::{
    sea_query::{Expr, ExprTrait, OnConflict, Query},
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, IntoActiveModel, QueryFilter, Set,
};
use serde_json::{json, Value};
use uuid::Uuid;

use super::{
    activation,
    pagination::{paginate, KeyValue, Ordering, Page, PageArgs},
    settings,
    unit_of_work::{violated_unique_constraint, Change, Event, UnitOfWork},
    Caller, Failure, Outcome,
};
use crate::{
    domain::{
        accounts::{normalize_company_name, normalize_domain},
        inputs::{DisplayName, EmailAddress},
        money::Money,
        registrations::{can_move, partner_vs_direct, partner_vs_partner, reference, Claim},
        AttributionRole, CertificationKind, CertificationStatus, ConflictKind, ConflictResolution,
        DealRegistrationStatus, EntityType, EventType, MilestoneKind, OpportunitySource,
        OpportunityStage, OrderDirection, PartnerType, PrincipalKind, SubjectType, UserError,
        UserErrorCode,
    },
    error::ApiError,
    ids::{self, NodeType},
    policy,
};

use DealRegistrationStatus as Status;

/// The partner-facing and internal view of a registration, keyed by GraphQL
/// field names (the partner view is projected from it by the policy).
pub fn snapshot(r: &deal_registration::Model) -> Value {
    json!({
        "id": ids::encode(NodeType::DealRegistration, r.id),
        "reference": r.reference,
        "partnerId": ids::encode(NodeType::Partner, r.partner_id),
        "status": r.status,
        "companyName": r.company_name,
        "companyDomain": r.company_domain,
        "customerContactName": r.customer_contact_name,
        "customerContactEmail": r.customer_contact_email,
        "estimatedAmount": { "minorUnits": r.amount_minor, "currency": r.currency },
        "expectedCloseDate": r.expected_close_date,
        "product": r.product,
        "notes": r.notes,
        "internalNotes": r.internal_notes,
        "submittedAt": r.submitted_at,
        "submittedBy": r.submitted_by,
        "decidedAt": r.decided_at,
        "decisionReason": r.decision_reason,
        "protectionStartsAt": r.protection_starts_at,
        "protectionEndsAt": r.protection_ends_at,
        "extensionCount": r.extension_count,
        "slaDueAt": r.sla_due_at,
        "version": r.version,
    })
}

fn registration_event(event_type: EventType, r: &deal_registration::Model, extra: Value) -> Event {
    let mut payload = json!({ "dealRegistration": snapshot(r) });
    if let (Some(payload), Some(extra)) = (payload.as_object_mut(), extra.as_object()) {
        payload.extend(extra.clone());
    }
    Event {
        event_type,
        subject_type: SubjectType::DealRegistration,
        subject_id: r.id,
        partner_id: Some(r.partner_id),
        payload,
    }
}

/// Registrations that still claim their account at `now`.
fn active_claims(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(deal_registration::Column::Status.is_in([Status::Submitted, Status::UnderReview]))
        .add(
            Condition::all()
                .add(deal_registration::Column::Status.eq(Status::Approved))
                .add(deal_registration::Column::ProtectionEndsAt.gt(now)),
        )
}

fn same_account_registrations(domain_key: &str, company_key: &str) -> Condition {
    Condition::any()
        .add(deal_registration::Column::DomainKey.eq(domain_key))
        .add(deal_registration::Column::CompanyKey.eq(company_key))
}

fn same_account_opportunities(domain_key: &str, company_key: &str) -> Condition {
    Condition::any()
        .add(opportunity::Column::DomainKey.eq(domain_key))
        .add(opportunity::Column::CompanyKey.eq(company_key))
}

fn open_stages() -> [OpportunityStage; 4] {
    [
        OpportunityStage::Registered,
        OpportunityStage::Qualified,
        OpportunityStage::Proposal,
        OpportunityStage::Negotiation,
    ]
}

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
        condition = condition.add(deal_registration::Column::Status.is_in(filter.statuses));
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
    let ordering = Ordering {
        key: deal_registration::Column::CreatedAt,
        id: deal_registration::Column::Id,
        direction: OrderDirection::Desc,
    };
    paginate(
        db,
        deal_registration::Entity::find().filter(condition),
        ordering,
        page,
        |r| (KeyValue::Time(r.created_at), KeyValue::Uuid(r.id)),
    )
    .await
}

pub async fn find(
    db: &impl ConnectionTrait,
    caller: &Caller<'_>,
    id: Uuid,
) -> Result<Option<deal_registration::Model>, ApiError> {
    Ok(deal_registration::Entity::find_by_id(id)
        .filter(policy::registration_rows(caller.principal))
        .one(db)
        .await?)
}

pub async fn conflicts(
    db: &impl ConnectionTrait,
    registration_id: Uuid,
) -> Result<Vec<registration_conflict::Model>, DbErr> {
    registration_conflict::Entity::find()
        .filter(registration_conflict::Column::RegistrationId.eq(registration_id))
        .all(db)
        .await
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

/// Whether `partner_id` has a contact with an active certification (of `kind`, if given).
async fn certified(
    db: &impl ConnectionTrait,
    partner_id: Uuid,
    kind: Option<CertificationKind>,
) -> Result<bool, DbErr> {
    let mut condition = Condition::all()
        .add(certification::Column::PartnerId.eq(partner_id))
        .add(certification::Column::Status.eq(CertificationStatus::Active));
    if let Some(kind) = kind {
        let mut tracks = Query::select();
        tracks
            .column(certification_track::Column::Id)
            .from(certification_track::Entity)
            .and_where(certification_track::Column::Kind.eq(kind));
        condition = condition.add(certification::Column::TrackId.in_subquery(tracks.to_owned()));
    }
    Ok(certification::Entity::find()
        .filter(condition)
        .one(db)
        .await?
        .is_some())
}

/// Whether the partner sourced a closed-won deal on this account before.
async fn incumbent(
    db: &impl ConnectionTrait,
    partner_id: Uuid,
    domain_key: &str,
    company_key: &str,
) -> Result<bool, DbErr> {
    let mut sourced = Query::select();
    sourced
        .column(opportunity_attribution::Column::OpportunityId)
        .from(opportunity_attribution::Entity)
        .and_where(opportunity_attribution::Column::PartnerId.eq(partner_id))
        .and_where(opportunity_attribution::Column::Role.eq(AttributionRole::Sourced));
    Ok(opportunity::Entity::find()
        .filter(same_account_opportunities(domain_key, company_key))
        .filter(opportunity::Column::Stage.eq(OpportunityStage::ClosedWon))
        .filter(opportunity::Column::Id.in_subquery(sourced.to_owned()))
        .one(db)
        .await?
        .is_some())
}

/// Who submitted, as the partner will see it.
fn submitter(caller: &Caller<'_>) -> String {
    match caller.principal.kind() {
        PrincipalKind::Partner => format!("{} (partner)", caller.principal.role),
        PrincipalKind::Staff => format!("{} (on the partner's behalf)", caller.principal.role),
    }
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
    let partner_id = match (caller.principal.kind(), new.partner_id) {
        (PrincipalKind::Partner, _) => caller.principal.partner_id,
        (PrincipalKind::Staff, partner_id) => partner_id,
    };
    let Some(partner_id) = partner_id else {
        return Err(UserError::on_field(
            "partnerId",
            UserErrorCode::InvalidValue,
            "staff submit on a partner's behalf: give `partnerId`",
        )
        .into());
    };
    if new.expected_close_date < caller.now.date_naive() {
        return Err(UserError::on_field(
            "expectedCloseDate",
            UserErrorCode::InvalidValue,
            "must not be in the past",
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
    let settings = settings::get(uow.conn()).await?;
    let gated = settings.certification_gating && partner.partner_type != PartnerType::Referral;
    if gated && !certified(uow.conn(), partner.id, Some(CertificationKind::Sales)).await? {
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
    let domain_key = new.company_domain.clone();
    let company_key = normalize_company_name(new.company_name.as_str());
    let claims = deal_registration::Entity::find()
        .filter(same_account_registrations(&domain_key, &company_key))
        .filter(active_claims(now))
        .all(uow.conn())
        .await?;
    if claims.iter().any(|c| c.partner_id == partner.id) {
        return Err(duplicate_registration());
    }
    let registration = deal_registration::ActiveModel {
        id: Set(Uuid::now_v7()),
        reference: Set(next_reference(&uow).await?),
        partner_id: Set(partner.id),
        status: Set(Status::Submitted),
        company_name: Set(new.company_name.as_str().to_owned()),
        company_domain: Set(new.company_domain),
        company_key: Set(company_key.clone()),
        domain_key: Set(domain_key.clone()),
        customer_contact_name: Set(new.customer_contact_name.into_inner()),
        customer_contact_email: Set(new.customer_contact_email.into_inner()),
        amount_minor: Set(new.estimated_amount.minor_units),
        currency: Set(new.estimated_amount.currency.into_inner()),
        expected_close_date: Set(new.expected_close_date),
        product: Set(new.product),
        notes: Set(new.notes),
        internal_notes: Set(None),
        submitted_at: Set(now),
        submitted_by: Set(submitter(caller)),
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
    }
    .insert(uow.conn())
    .await
    .map_err(|error| match violated_unique_constraint(&error) {
        // A concurrent submission for the same account won the race.
        Some("uq_deal_registration_pending_domain" | "uq_deal_registration_pending_company") => {
            duplicate_registration()
        }
        _ => error.into(),
    })?;

    // Conflicts: other partners' active registrations and open direct opportunities.
    let mut found = Vec::new();
    let this_claim = Claim {
        approved: false,
        incumbent: incumbent(uow.conn(), partner.id, &domain_key, &company_key).await?,
        submitted_at: now,
        certified: certified(uow.conn(), partner.id, None).await?,
    };
    for other in claims {
        let other_claim = Claim {
            approved: other.status == Status::Approved,
            incumbent: incumbent(uow.conn(), other.partner_id, &domain_key, &company_key).await?,
            submitted_at: other.submitted_at,
            certified: certified(uow.conn(), other.partner_id, None).await?,
        };
        let recommendation = partner_vs_partner(this_claim, other_claim);
        found.push((
            ConflictKind::PartnerRegistration,
            Some(other.id),
            None,
            recommendation,
        ));
    }
    let direct = opportunity::Entity::find()
        .filter(same_account_opportunities(&domain_key, &company_key))
        .filter(opportunity::Column::Source.eq(OpportunitySource::Direct))
        .filter(opportunity::Column::Stage.is_in(open_stages()))
        .all(uow.conn())
        .await?;
    for opportunity in direct {
        let qualified_before = opportunity.qualified_at.is_some_and(|q| q <= now);
        let recommendation = partner_vs_direct(now, opportunity.created_at, qualified_before);
        found.push((
            ConflictKind::DirectOpportunity,
            None,
            Some(opportunity.id),
            recommendation,
        ));
    }
    let registration = if found.is_empty() {
        registration
    } else {
        for (kind, other_registration, other_opportunity, recommendation) in &found {
            registration_conflict::ActiveModel {
                id: Set(Uuid::now_v7()),
                registration_id: Set(registration.id),
                kind: Set(*kind),
                other_registration_id: Set(*other_registration),
                other_opportunity_id: Set(*other_opportunity),
                rule: Set(recommendation.rule.to_owned()),
                recommendation: Set(recommendation.resolution),
                resolution: Set(None),
                rationale: Set(None),
                resolved_by: Set(None),
                resolved_at: Set(None),
                created_at: Set(now),
            }
            .insert(uow.conn())
            .await?;
        }
        let mut under_review = registration.into_active_model();
        under_review.status = Set(Status::UnderReview);
        under_review.update(uow.conn()).await?
    };
    let after = snapshot(&registration);
    uow.audit(Change {
        operation: "submitDealRegistration",
        entity_type: EntityType::DealRegistration,
        entity_id: registration.id,
        before: None,
        after: Some(&after),
    })
    .await?;
    uow.emit(registration_event(
        EventType::DealRegistrationSubmitted,
        &registration,
        json!({}),
    ))
    .await?;
    if !found.is_empty() {
        let recommendations: Vec<ConflictResolution> =
            found.iter().map(|(_, _, _, r)| r.resolution).collect();
        uow.emit(registration_event(
            EventType::DealRegistrationConflictDetected,
            &registration,
            json!({ "recommendations": recommendations }),
        ))
        .await?;
    }
    activation::reach(&uow, partner.id, MilestoneKind::FirstRegisteredDeal, now).await?;
    uow.commit().await?;
    Ok(registration)
}

// ---- decisions ----

fn not_found() -> Failure {
    UserError::on_field(
        "id",
        UserErrorCode::NotFound,
        "no deal registration has this id",
    )
    .into()
}

fn refuse_move(from: Status, to: Status) -> Failure {
    UserError::on_field(
        "id",
        UserErrorCode::InvalidTransition,
        format!("a {from} registration cannot become {to}"),
    )
    .into()
}

/// Loads the registration (scoped), checks the version and the move.
async fn load(
    uow: &UnitOfWork,
    caller: &Caller<'_>,
    id: Uuid,
    expected_version: Option<i32>,
    to: Option<Status>,
) -> Outcome<deal_registration::Model> {
    let current = find(uow.conn(), caller, id).await?.ok_or_else(not_found)?;
    if expected_version.is_some_and(|v| v != current.version) {
        return Err(UserError::on_field(
            "expectedVersion",
            UserErrorCode::StaleVersion,
            format!(
                "the registration changed since you read it; it is now at version {}",
                current.version
            ),
        )
        .into());
    }
    if let Some(to) = to {
        let from = current.status;
        if !can_move(from, to) {
            return Err(refuse_move(from, to));
        }
    }
    Ok(current)
}

/// Writes `changed` if the row is still at `current.version`, audits it and
/// emits `deal_registration.status_changed` when the status moved.
async fn save(
    uow: &UnitOfWork,
    operation: &str,
    current: &deal_registration::Model,
    mut changed: deal_registration::ActiveModel,
) -> Outcome<deal_registration::Model> {
    changed.version = Set(current.version + 1);
    changed.updated_at = Set(uow.now());
    let result = deal_registration::Entity::update_many()
        .set(changed)
        .filter(deal_registration::Column::Id.eq(current.id))
        .filter(deal_registration::Column::Version.eq(current.version))
        .exec(uow.conn())
        .await?;
    if result.rows_affected == 0 {
        return Err(UserError::on_field(
            "expectedVersion",
            UserErrorCode::StaleVersion,
            "the registration changed meanwhile; read it again",
        )
        .into());
    }
    let saved = deal_registration::Entity::find_by_id(current.id)
        .one(uow.conn())
        .await?
        .ok_or_else(not_found)?;
    let (before, after) = (snapshot(current), snapshot(&saved));
    uow.audit(Change {
        operation,
        entity_type: EntityType::DealRegistration,
        entity_id: saved.id,
        before: Some(&before),
        after: Some(&after),
    })
    .await?;
    if saved.status != current.status {
        let extra = json!({ "previousStatus": current.status, "status": saved.status });
        uow.emit(registration_event(
            EventType::DealRegistrationStatusChanged,
            &saved,
            extra,
        ))
        .await?;
    }
    Ok(saved)
}

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
    changes: RegistrationChanges,
) -> Outcome<deal_registration::Model> {
    if changes
        .expected_close_date
        .is_some_and(|d| d < caller.now.date_naive())
    {
        return Err(UserError::on_field(
            "expectedCloseDate",
            UserErrorCode::InvalidValue,
            "must not be in the past",
        )
        .into());
    }
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let current = load(&uow, caller, id, Some(expected_version), None).await?;
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
    if let Some(name) = changes.customer_contact_name {
        changed.customer_contact_name = Set(name.into_inner());
    }
    if let Some(email) = changes.customer_contact_email {
        changed.customer_contact_email = Set(email.into_inner());
    }
    if let Some(amount) = changes.estimated_amount {
        changed.amount_minor = Set(amount.minor_units);
        changed.currency = Set(amount.currency.into_inner());
    }
    if let Some(date) = changes.expected_close_date {
        changed.expected_close_date = Set(date);
    }
    if let Some(product) = changes.product {
        changed.product = Set(product);
    }
    if let Some(notes) = changes.notes {
        changed.notes = Set(notes);
    }
    if let Some(notes) = changes.internal_notes {
        changed.internal_notes = Set(notes);
    }
    let saved = save(&uow, "updateDealRegistration", &current, changed).await?;
    uow.commit().await?;
    Ok(saved)
}

pub async fn withdraw(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    id: Uuid,
) -> Outcome<deal_registration::Model> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let current = load(&uow, caller, id, None, Some(Status::Withdrawn)).await?;
    let mut changed = current.clone().into_active_model();
    changed.status = Set(Status::Withdrawn);
    changed.decided_at = Set(Some(uow.now()));
    let saved = save(&uow, "withdrawDealRegistration", &current, changed).await?;
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
    let current = load(&uow, caller, id, None, Some(Status::Rejected)).await?;
    let saved = decide_rejected(&uow, caller, &current, reason, "rejectDealRegistration").await?;
    uow.commit().await?;
    Ok(saved)
}

async fn decide_rejected(
    uow: &UnitOfWork,
    caller: &Caller<'_>,
    current: &deal_registration::Model,
    reason: String,
    operation: &str,
) -> Outcome<deal_registration::Model> {
    let mut changed = current.clone().into_active_model();
    changed.status = Set(Status::Rejected);
    changed.decided_at = Set(Some(uow.now()));
    changed.decision_reason = Set(Some(reason));
    changed.reviewer_id = Set(caller.principal.staff_user_id);
    save(uow, operation, current, changed).await
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
    let current = load(&uow, caller, id, None, Some(Status::Approved)).await?;
    let saved = decide_approved(&uow, caller, &current, days, None).await?;
    uow.commit().await?;
    Ok(saved)
}

/// Approves: protection starts, and the opportunity is created at
/// `REGISTERED`, `PARTNER_SOURCED`, with the partner `SOURCED` — or, for a
/// co-sell, the registration joins the existing direct opportunity.
async fn decide_approved(
    uow: &UnitOfWork,
    caller: &Caller<'_>,
    current: &deal_registration::Model,
    days: i64,
    join_opportunity: Option<Uuid>,
) -> Outcome<deal_registration::Model> {
    let now = uow.now();
    let opportunity_id = match join_opportunity {
        Some(id) => id,
        None => create_sourced_opportunity(uow, current).await?,
    };
    let mut changed = current.clone().into_active_model();
    changed.status = Set(Status::Approved);
    changed.decided_at = Set(Some(now));
    changed.reviewer_id = Set(caller.principal.staff_user_id);
    changed.protection_starts_at = Set(Some(now));
    changed.protection_ends_at = Set(Some(now + Duration::days(days)));
    changed.opportunity_id = Set(Some(opportunity_id));
    save(uow, "approveDealRegistration", current, changed).await
}

async fn create_sourced_opportunity(
    uow: &UnitOfWork,
    r: &deal_registration::Model,
) -> Result<Uuid, DbErr> {
    let now = uow.now();
    let created = opportunity::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(format!("{} ({})", r.company_name, r.reference)),
        company_name: Set(r.company_name.clone()),
        company_domain: Set(r.company_domain.clone()),
        company_key: Set(r.company_key.clone()),
        domain_key: Set(r.domain_key.clone()),
        source: Set(OpportunitySource::PartnerSourced),
        stage: Set(OpportunityStage::Registered),
        next_step: Set(None),
        amount_minor: Set(r.amount_minor),
        currency: Set(r.currency.clone()),
        expected_close_date: Set(r.expected_close_date),
        closed_at: Set(None),
        closed_lost_reason: Set(None),
        qualified_at: Set(None),
        deal_registration_id: Set(Some(r.id)),
        owner_id: Set(None),
        discount_bps: Set(None),
        margin_bps: Set(None),
        competitor_intel: Set(None),
        internal_notes: Set(None),
        crm_managed: Set(false),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(uow.conn())
    .await?;
    attribute(
        uow,
        created.id,
        r.partner_id,
        AttributionRole::Sourced,
        10_000,
    )
    .await?;
    let after = super::opportunities::snapshot(&created);
    uow.audit(Change {
        operation: "approveDealRegistration",
        entity_type: EntityType::Opportunity,
        entity_id: created.id,
        before: None,
        after: Some(&after),
    })
    .await?;
    uow.emit(Event {
        event_type: EventType::OpportunityCreated,
        subject_type: SubjectType::Opportunity,
        subject_id: created.id,
        partner_id: Some(r.partner_id),
        payload: json!({ "opportunity": after }),
    })
    .await?;
    Ok(created.id)
}

/// Gives `partner_id` a role on an opportunity (once per partner).
pub async fn attribute(
    uow: &UnitOfWork,
    opportunity_id: Uuid,
    partner_id: Uuid,
    role: AttributionRole,
    credit_bps: i32,
) -> Result<(), DbErr> {
    opportunity_attribution::Entity::insert(opportunity_attribution::ActiveModel {
        id: Set(Uuid::now_v7()),
        opportunity_id: Set(opportunity_id),
        partner_id: Set(partner_id),
        role: Set(role),
        credit_bps: Set(credit_bps),
        created_at: Set(uow.now()),
    })
    .on_conflict(
        OnConflict::columns([
            opportunity_attribution::Column::OpportunityId,
            opportunity_attribution::Column::PartnerId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(uow.conn())
    .await?;
    Ok(())
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
    let current = load(&uow, caller, id, None, None).await?;
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
    let saved = save(&uow, "extendDealRegistration", &current, changed).await?;
    uow.emit(registration_event(
        EventType::DealRegistrationExtended,
        &saved,
        json!({ "days": days, "reason": reason }),
    ))
    .await?;
    uow.commit().await?;
    Ok(saved)
}

/// `resolveRegistrationConflict`: the decision and its rationale are kept;
/// both parties' registrations move accordingly and each is told the outcome,
/// never who the other party is.
pub async fn resolve_conflict(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    conflict_id: Uuid,
    resolution: ConflictResolution,
    rationale: String,
) -> Outcome<deal_registration::Model> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let Some(conflict) = registration_conflict::Entity::find_by_id(conflict_id)
        .one(uow.conn())
        .await?
    else {
        return Err(UserError::on_field(
            "conflictId",
            UserErrorCode::NotFound,
            "no registration conflict has this id",
        )
        .into());
    };
    if conflict.resolved_at.is_some() {
        return Err(UserError::on_field(
            "conflictId",
            UserErrorCode::InvalidTransition,
            "the conflict is already resolved",
        )
        .into());
    }
    let fits = match (conflict.kind, resolution) {
        (_, ConflictResolution::Manual) => false,
        (ConflictKind::PartnerRegistration, r) => matches!(
            r,
            ConflictResolution::PartnerWins | ConflictResolution::OtherPartnerWins
        ),
        (ConflictKind::DirectOpportunity, r) => matches!(
            r,
            ConflictResolution::PartnerWins
                | ConflictResolution::DirectWins
                | ConflictResolution::CoSell
        ),
    };
    if !fits {
        return Err(UserError::on_field(
            "resolution",
            UserErrorCode::InvalidValue,
            "not a decision for this kind of conflict",
        )
        .into());
    }
    let settings = settings::get(uow.conn()).await?;
    let current = load(&uow, caller, conflict.registration_id, None, None).await?;
    let lost =
        "another claim on this account was preferred under the rules of engagement".to_owned();
    let mut decided = current.clone();
    let this_wins = matches!(
        resolution,
        ConflictResolution::PartnerWins | ConflictResolution::CoSell
    );
    if this_wins && current.status != Status::Approved {
        let join = (resolution == ConflictResolution::CoSell)
            .then_some(conflict.other_opportunity_id)
            .flatten();
        decided = decide_approved(
            &uow,
            caller,
            &current,
            i64::from(settings.protection_days),
            join,
        )
        .await?;
        if let Some(opportunity_id) = join {
            let split = 5_000;
            attribute(
                &uow,
                opportunity_id,
                current.partner_id,
                AttributionRole::CoSell,
                split,
            )
            .await?;
        }
    } else if !this_wins && can_move(current.status, Status::Rejected) {
        decided = decide_rejected(
            &uow,
            caller,
            &current,
            lost.clone(),
            "resolveRegistrationConflict",
        )
        .await?;
        if let (ConflictResolution::DirectWins, Some(opportunity_id)) =
            (resolution, conflict.other_opportunity_id)
        {
            attribute(
                &uow,
                opportunity_id,
                current.partner_id,
                AttributionRole::Influenced,
                settings.influence_weight_bps,
            )
            .await?;
        }
    }
    // The other partner's registration moves the opposite way.
    if let Some(other_id) = conflict.other_registration_id {
        if let Some(other) = deal_registration::Entity::find_by_id(other_id)
            .one(uow.conn())
            .await?
        {
            let other_status = other.status;
            if this_wins && can_move(other_status, Status::Rejected) {
                let other = decide_rejected(
                    &uow,
                    caller,
                    &other,
                    lost.clone(),
                    "resolveRegistrationConflict",
                )
                .await?;
                uow.emit(registration_event(
                    EventType::DealRegistrationConflictResolved,
                    &other,
                    json!({ "outcome": "LOST" }),
                ))
                .await?;
            } else if !this_wins && can_move(other_status, Status::Approved) {
                let other = decide_approved(
                    &uow,
                    caller,
                    &other,
                    i64::from(settings.protection_days),
                    None,
                )
                .await?;
                uow.emit(registration_event(
                    EventType::DealRegistrationConflictResolved,
                    &other,
                    json!({ "outcome": "WON" }),
                ))
                .await?;
            }
        }
    }
    let mut resolved = conflict.clone().into_active_model();
    resolved.resolution = Set(Some(resolution));
    resolved.rationale = Set(Some(rationale.clone()));
    resolved.resolved_by = Set(caller.principal.staff_user_id);
    resolved.resolved_at = Set(Some(uow.now()));
    resolved.update(uow.conn()).await?;
    let after = json!({ "resolution": resolution, "rationale": rationale, "recommendation": conflict.recommendation });
    uow.audit(Change {
        operation: "resolveRegistrationConflict",
        entity_type: EntityType::RegistrationConflict,
        entity_id: conflict.id,
        before: None,
        after: Some(&after),
    })
    .await?;
    let outcome = if this_wins { "WON" } else { "LOST" };
    uow.emit(registration_event(
        EventType::DealRegistrationConflictResolved,
        &decided,
        json!({ "outcome": outcome }),
    ))
    .await?;
    uow.commit().await?;
    Ok(decided)
}
