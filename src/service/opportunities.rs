//! The pipeline (SPEC §4.3): opportunities, stage moves, attribution and CRM
//! upserts. Partner-sourced opportunities are created by registration approval.

use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    deal_registration, opportunity, opportunity_attribution, opportunity_external_id,
    registration_conflict,
};
use sea_orm::{
    sea_query::{Alias, Expr, ExprTrait, IntoIden, JoinType},
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, FromQueryResult, IntoActiveModel, QueryFilter, QueryResult, QuerySelect,
    QueryTrait, Select, Set,
};
use serde_json::{json, Value};
use uuid::Uuid;

use super::{
    activation,
    pagination::{paginate_as, KeyValue, Ordering, Page, PageArgs},
    registrations::{self, attribute},
    rows, settings,
    unit_of_work::{violated_unique_constraint, Change, Event, UnitOfWork},
    Caller, Failure, Outcome,
};
use crate::{
    auth::Principal,
    domain::{
        accounts::normalize_company_name,
        inputs::{DisplayName, Percent, Weight},
        money::Money,
        registrations::partner_vs_direct,
        AttributionRole, ConflictKind, DealRegistrationStatus, EntityType, EventType,
        MilestoneKind, OpportunitySource, OpportunityStage, OrderDirection, PrincipalKind,
        StageRules, SubjectType, UserError, UserErrorCode,
    },
    error::ApiError,
    ids::{self, NodeType},
    policy,
};

pub fn snapshot(o: &opportunity::Model) -> Value {
    json!({
        "id": ids::encode(NodeType::Opportunity, o.id),
        "name": o.name,
        "companyName": o.company_name,
        "companyDomain": o.company_domain,
        "source": o.source,
        "stage": o.stage,
        "nextStep": o.next_step,
        "amount": { "minorUnits": o.amount_minor, "currency": o.currency },
        "expectedCloseDate": o.expected_close_date,
        "closedAt": o.closed_at,
        "closedLostReason": o.closed_lost_reason,
        "dealRegistrationId": o.deal_registration_id.map(|id| ids::encode(NodeType::DealRegistration, id)),
        "discountPercent": o.discount_bps,
        "marginPercent": o.margin_bps,
        "competitorIntel": o.competitor_intel,
        "internalNotes": o.internal_notes,
        "version": o.version,
    })
}

/// The opportunity with `id`, if the caller may see it (partners: only those
/// attributed to their partner).
pub async fn find(
    db: &impl ConnectionTrait,
    caller: &Caller<'_>,
    id: Uuid,
) -> Result<Option<opportunity::Model>, ApiError> {
    Ok(opportunity::Entity::find_by_id(id)
        .filter(policy::opportunity_rows(caller.principal))
        .one(db)
        .await?)
}

/// Every partner's attribution on an opportunity (staff only).
pub async fn attributions(
    db: &impl ConnectionTrait,
    opportunity_id: Uuid,
) -> Result<Vec<opportunity_attribution::Model>, DbErr> {
    opportunity_attribution::Entity::find()
        .filter(opportunity_attribution::Column::OpportunityId.eq(opportunity_id))
        .all(db)
        .await
}

/// One partner's own attribution on an opportunity.
pub async fn attribution_of(
    db: &impl ConnectionTrait,
    opportunity_id: Uuid,
    partner_id: Uuid,
) -> Result<Option<opportunity_attribution::Model>, DbErr> {
    opportunity_attribution::Entity::find()
        .filter(opportunity_attribution::Column::OpportunityId.eq(opportunity_id))
        .filter(opportunity_attribution::Column::PartnerId.eq(partner_id))
        .one(db)
        .await
}

// ---- the pipeline ----

#[derive(Debug, Default, Clone)]
pub struct OpportunityFilter {
    pub stages: Vec<OpportunityStage>,
    pub source: Option<OpportunitySource>,
    pub partner_id: Option<Uuid>,
    pub open: Option<bool>,
    pub expected_close_from: Option<NaiveDate>,
    pub expected_close_to: Option<NaiveDate>,
}

const OPEN: [OpportunityStage; 4] = [
    OpportunityStage::Registered,
    OpportunityStage::Qualified,
    OpportunityStage::Proposal,
    OpportunityStage::Negotiation,
];

/// A listed opportunity with the relations a pipeline page shows beside it,
/// read by the page query itself: one statement, however many rows.
#[derive(Debug)]
pub struct ListedOpportunity {
    pub opportunity: OpportunitySummary,
    /// Its deal registration, if the caller may see it (a partner: only its own).
    pub registration: Option<RegistrationSummary>,
    /// The calling partner's own attribution; none for staff.
    pub own_attribution: Option<opportunity_attribution::Model>,
}

/// What a pipeline row shows of its opportunity; the other columns load, in
/// one batch, only when a query asks for them (`graphql::registrations`).
#[derive(Debug, Clone)]
pub struct OpportunitySummary {
    pub id: Uuid,
    pub name: String,
    pub company_name: String,
    pub source: OpportunitySource,
    pub stage: OpportunityStage,
    pub amount_minor: i64,
    pub currency: String,
    pub expected_close_date: NaiveDate,
    pub closed_at: Option<DateTime<Utc>>,
    pub deal_registration_id: Option<Uuid>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
}

/// What a pipeline row shows of its deal registration. Decoding every
/// column of every joined registration cost more than the rest of the
/// page; the other fields load, in one batch, only when a query asks.
#[derive(Debug, Clone)]
pub struct RegistrationSummary {
    pub id: Uuid,
    pub partner_id: Uuid,
    pub reference: String,
    pub status: DealRegistrationStatus,
    pub protection_ends_at: Option<DateTime<Utc>>,
}

/// The columns the page query selects from one table, read back by
/// position (`rows`). The select list and the reader come from one field
/// list, so positions cannot drift, and a field missing from it does not
/// compile. The first field is the id.
macro_rules! page_columns {
    ($name:ident, $($model:ident)::+, [$id:ident $(, $field:ident)* $(,)?]) => {
        struct $name;

        impl $name {
            const COLUMNS: &'static [&'static str] = &[stringify!($id) $(, stringify!($field))*];

            /// The model in the columns from `start` on; `None` when an
            /// outer join found no row (its id is NULL).
            fn read(row: &QueryResult, start: usize) -> Result<Option<$($model)::+>, DbErr> {
                let Some($id) = rows::read(row, start)? else {
                    return Ok(None);
                };
                let mut at = start;
                // Struct fields are evaluated in the order written.
                Ok(Some($($model)::+ {
                    $id,
                    $($field: {
                        at += 1;
                        rows::read(row, at)?
                    }),*
                }))
            }

            /// Adds the columns, read from `table` (its name or alias).
            fn select(
                mut select: Select<opportunity::Entity>,
                table: impl IntoIden + Clone,
            ) -> Select<opportunity::Entity> {
                for column in Self::COLUMNS {
                    select = select.expr(Expr::col((table.clone(), Alias::new(*column))));
                }
                select
            }
        }
    };
}

page_columns!(
    PageOpportunity,
    OpportunitySummary,
    [
        id,
        name,
        company_name,
        source,
        stage,
        amount_minor,
        currency,
        expected_close_date,
        closed_at,
        deal_registration_id,
        version,
        created_at,
    ]
);

page_columns!(
    JoinedRegistration,
    RegistrationSummary,
    [id, partner_id, reference, status, protection_ends_at]
);

page_columns!(
    JoinedOwnAttribution,
    opportunity_attribution::Model,
    [id, opportunity_id, partner_id, role, credit_bps, created_at]
);

impl FromQueryResult for ListedOpportunity {
    fn from_query_result(row: &QueryResult, _prefix: &str) -> Result<Self, DbErr> {
        let registration_at = PageOpportunity::COLUMNS.len();
        let attribution_at = registration_at + JoinedRegistration::COLUMNS.len();
        Ok(Self {
            opportunity: PageOpportunity::read(row, 0)?
                .ok_or_else(|| DbErr::Type("a page row without an opportunity id".into()))?,
            registration: JoinedRegistration::read(row, registration_at)?,
            own_attribution: JoinedOwnAttribution::read(row, attribution_at)?,
        })
    }
}

/// Joins the registration and the caller's own attribution to the page
/// query. Row scoping sits in the join conditions: a partner's page joins
/// only its own registration (another partner's answers null) and its own
/// attribution.
fn with_page_relations(
    mut select: Select<opportunity::Entity>,
    principal: &Principal,
) -> Select<opportunity::Entity> {
    let registration_on = Condition::all()
        .add(
            Expr::col((deal_registration::Entity, deal_registration::Column::Id))
                .equals((opportunity::Entity, opportunity::Column::DealRegistrationId)),
        )
        .add(policy::registration_rows(principal));
    // Aliased: `policy::attributed_to` reads the same table in a subquery.
    let own = Alias::new("own_attribution");
    let own_on = Condition::all()
        .add(
            Expr::col((own.clone(), opportunity_attribution::Column::OpportunityId))
                .equals((opportunity::Entity, opportunity::Column::Id)),
        )
        .add(
            match principal.partner_id.filter(|_| !principal.is_staff()) {
                Some(partner_id) => {
                    Expr::col((own.clone(), opportunity_attribution::Column::PartnerId))
                        .eq(partner_id)
                }
                None => Expr::value(false),
            },
        );
    QueryTrait::query(&mut select)
        .join(
            JoinType::LeftJoin,
            deal_registration::Entity,
            registration_on,
        )
        .join_as(
            JoinType::LeftJoin,
            opportunity_attribution::Entity,
            own.clone(),
            own_on,
        );
    // In the order `ListedOpportunity::from_query_result` reads them.
    let select = PageOpportunity::select(select.select_only(), opportunity::Entity);
    let select = JoinedRegistration::select(select, deal_registration::Entity);
    JoinedOwnAttribution::select(select, own)
}

/// The opportunities the caller may see, a page at a time, each with its
/// registration and the caller's own attribution.
pub async fn list(
    db: &impl ConnectionTrait,
    caller: &Caller<'_>,
    filter: OpportunityFilter,
    page: PageArgs,
) -> Result<Page<ListedOpportunity>, ApiError> {
    let mut condition = policy::opportunity_rows(caller.principal);
    if !filter.stages.is_empty() {
        condition = condition.add(opportunity::Column::Stage.is_in(filter.stages));
    }
    if let Some(source) = filter.source {
        condition = condition.add(opportunity::Column::Source.eq(source));
    }
    if let Some(partner_id) = filter.partner_id {
        condition = condition.add(policy::attributed_to(partner_id));
    }
    if let Some(open) = filter.open {
        let open_stages = opportunity::Column::Stage.is_in(OPEN);
        condition = condition.add(if open {
            Condition::all().add(open_stages)
        } else {
            Condition::all().add(open_stages).not()
        });
    }
    if let Some(from) = filter.expected_close_from {
        condition = condition.add(opportunity::Column::ExpectedCloseDate.gte(from));
    }
    if let Some(to) = filter.expected_close_to {
        condition = condition.add(opportunity::Column::ExpectedCloseDate.lte(to));
    }
    let ordering = Ordering {
        key: opportunity::Column::CreatedAt,
        id: opportunity::Column::Id,
        direction: OrderDirection::Desc,
    };
    paginate_as(
        db,
        opportunity::Entity::find().filter(condition),
        |select| with_page_relations(select, caller.principal),
        ordering,
        page,
        |row: &ListedOpportunity| {
            let o = &row.opportunity;
            (KeyValue::Time(o.created_at), KeyValue::Uuid(o.id))
        },
    )
    .await
}

pub async fn external_ids(
    db: &impl ConnectionTrait,
    opportunity_id: Uuid,
) -> Result<Vec<opportunity_external_id::Model>, DbErr> {
    opportunity_external_id::Entity::find()
        .filter(opportunity_external_id::Column::OpportunityId.eq(opportunity_id))
        .all(db)
        .await
}

fn not_found() -> Failure {
    UserError::on_field("id", UserErrorCode::NotFound, "no opportunity has this id").into()
}

/// A direct opportunity, or one a CRM upsert creates.
pub struct NewOpportunity {
    pub name: DisplayName,
    pub company_name: DisplayName,
    pub company_domain: String,
    pub amount: Money,
    pub expected_close_date: NaiveDate,
    pub next_step: Option<String>,
    pub owner_id: Option<Uuid>,
    pub discount: Option<Percent>,
    pub margin: Option<Percent>,
    pub competitor_intel: Option<String>,
    pub internal_notes: Option<String>,
}

async fn insert_direct(
    uow: &UnitOfWork,
    caller: &Caller<'_>,
    new: NewOpportunity,
    crm_managed: bool,
) -> Result<opportunity::Model, DbErr> {
    let now = uow.now();
    let company_key = normalize_company_name(new.company_name.as_str());
    opportunity::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(new.name.into_inner()),
        company_name: Set(new.company_name.into_inner()),
        company_domain: Set(new.company_domain.clone()),
        company_key: Set(company_key),
        domain_key: Set(new.company_domain),
        source: Set(OpportunitySource::Direct),
        stage: Set(OpportunityStage::Registered),
        next_step: Set(new.next_step),
        amount_minor: Set(new.amount.minor_units),
        currency: Set(new.amount.currency.into_inner()),
        expected_close_date: Set(new.expected_close_date),
        closed_at: Set(None),
        closed_lost_reason: Set(None),
        qualified_at: Set(None),
        deal_registration_id: Set(None),
        owner_id: Set(new.owner_id.or(caller.principal.staff_user_id)),
        discount_bps: Set(new.discount.map(Percent::basis_points)),
        margin_bps: Set(new.margin.map(Percent::basis_points)),
        competitor_intel: Set(new.competitor_intel),
        internal_notes: Set(new.internal_notes),
        crm_managed: Set(crm_managed),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(uow.conn())
    .await
}

/// Conflict detection when staff create a direct opportunity: every active
/// partner registration on the account gets a conflict and goes to review.
async fn flag_conflicting_registrations(
    uow: &UnitOfWork,
    created: &opportunity::Model,
) -> Outcome<()> {
    let now = uow.now();
    let claims = deal_registration::Entity::find()
        .filter(
            Condition::any()
                .add(deal_registration::Column::DomainKey.eq(created.domain_key.as_str()))
                .add(deal_registration::Column::CompanyKey.eq(created.company_key.as_str())),
        )
        .filter(deal_registration::Column::Status.is_in([
            DealRegistrationStatus::Submitted,
            DealRegistrationStatus::UnderReview,
        ]))
        .all(uow.conn())
        .await?;
    for claim in claims {
        let recommendation = partner_vs_direct(claim.submitted_at, created.created_at, false);
        registration_conflict::ActiveModel {
            id: Set(Uuid::now_v7()),
            registration_id: Set(claim.id),
            kind: Set(ConflictKind::DirectOpportunity),
            other_registration_id: Set(None),
            other_opportunity_id: Set(Some(created.id)),
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
        let mut review = claim.clone().into_active_model();
        review.status = Set(DealRegistrationStatus::UnderReview);
        review.version = Set(claim.version + 1);
        review.updated_at = Set(now);
        // Versioned: a registration decided meanwhile is not put back under review.
        let written = deal_registration::Entity::update_many()
            .set(review)
            .filter(deal_registration::Column::Id.eq(claim.id))
            .filter(deal_registration::Column::Version.eq(claim.version))
            .exec(uow.conn())
            .await?;
        if written.rows_affected == 0 {
            return Err(UserError {
                field: None,
                code: UserErrorCode::StaleVersion,
                message: "a registration on this account changed at the same time; try again"
                    .into(),
            }
            .into());
        }
        let reviewed = deal_registration::Entity::find_by_id(claim.id)
            .one(uow.conn())
            .await?
            .ok_or_else(not_found)?;
        let (before, after) = (
            registrations::snapshot(&claim),
            registrations::snapshot(&reviewed),
        );
        uow.audit(Change {
            operation: "flagRegistrationConflict",
            entity_type: EntityType::DealRegistration,
            entity_id: claim.id,
            before: Some(&before),
            after: Some(&after),
        })
        .await?;
        uow.emit(Event {
            event_type: EventType::DealRegistrationConflictDetected,
            subject_type: SubjectType::DealRegistration,
            subject_id: claim.id,
            partner_id: Some(claim.partner_id),
            payload: json!({ "dealRegistration": registrations::snapshot(&reviewed), "recommendations": [recommendation.resolution] }),
        })
        .await?;
    }
    Ok(())
}

async fn announce_created(
    uow: &UnitOfWork,
    operation: &str,
    created: &opportunity::Model,
) -> Result<(), DbErr> {
    let after = snapshot(created);
    uow.audit(Change {
        operation,
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
        partner_id: None,
        payload: json!({ "opportunity": after }),
    })
    .await
}

pub async fn create(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    new: NewOpportunity,
) -> Outcome<opportunity::Model> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let created = insert_direct(&uow, caller, new, false).await?;
    announce_created(&uow, "createOpportunity", &created).await?;
    flag_conflicting_registrations(&uow, &created).await?;
    uow.commit().await?;
    Ok(created)
}

/// Writes `changed` if the row is still at `current.version`, with audit.
async fn save(
    uow: &UnitOfWork,
    operation: &str,
    current: &opportunity::Model,
    mut changed: opportunity::ActiveModel,
) -> Outcome<opportunity::Model> {
    changed.version = Set(current.version + 1);
    changed.updated_at = Set(uow.now());
    let result = opportunity::Entity::update_many()
        .set(changed)
        .filter(opportunity::Column::Id.eq(current.id))
        .filter(opportunity::Column::Version.eq(current.version))
        .exec(uow.conn())
        .await?;
    if result.rows_affected == 0 {
        return Err(stale(current.version + 1));
    }
    let saved = opportunity::Entity::find_by_id(current.id)
        .one(uow.conn())
        .await?
        .ok_or_else(not_found)?;
    let (before, after) = (snapshot(current), snapshot(&saved));
    uow.audit(Change {
        operation,
        entity_type: EntityType::Opportunity,
        entity_id: saved.id,
        before: Some(&before),
        after: Some(&after),
    })
    .await?;
    Ok(saved)
}

fn stale(version: i32) -> Failure {
    UserError::on_field(
        "expectedVersion",
        UserErrorCode::StaleVersion,
        format!("the opportunity changed since you read it; it is at version {version} or later"),
    )
    .into()
}

async fn load(
    uow: &UnitOfWork,
    caller: &Caller<'_>,
    id: Uuid,
    expected_version: Option<i32>,
) -> Outcome<opportunity::Model> {
    let current = find(uow.conn(), caller, id).await?.ok_or_else(not_found)?;
    if expected_version.is_some_and(|v| v != current.version) {
        return Err(stale(current.version));
    }
    Ok(current)
}

/// What a partner principal may do to an opportunity: only one its partner
/// sources, and never where the CRM owns the stage.
async fn partner_may_work(
    uow: &UnitOfWork,
    caller: &Caller<'_>,
    o: &opportunity::Model,
) -> Outcome<()> {
    let Some(partner_id) = caller.principal.partner_id else {
        return Err(not_found());
    };
    let own = attribution_of(uow.conn(), o.id, partner_id).await?;
    if own.is_none_or(|a| a.role != AttributionRole::Sourced) {
        return Err(UserError::on_field(
            "id",
            UserErrorCode::InvalidValue,
            "only opportunities your partner sources can be changed",
        )
        .into());
    }
    Ok(())
}

#[derive(Default)]
pub struct OpportunityChanges {
    pub name: Option<DisplayName>,
    pub next_step: Option<Option<String>>,
    pub amount: Option<Money>,
    pub expected_close_date: Option<NaiveDate>,
    pub discount: Option<Option<Percent>>,
    pub margin: Option<Option<Percent>>,
    pub competitor_intel: Option<Option<String>>,
    pub internal_notes: Option<Option<String>>,
}

pub async fn update(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    id: Uuid,
    expected_version: i32,
    changes: OpportunityChanges,
) -> Outcome<opportunity::Model> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let current = load(&uow, caller, id, Some(expected_version)).await?;
    if caller.principal.kind() == PrincipalKind::Partner {
        partner_may_work(&uow, caller, &current).await?;
    }
    if current.crm_managed && (changes.amount.is_some() || changes.expected_close_date.is_some()) {
        let field = if changes.amount.is_some() {
            "amount"
        } else {
            "expectedCloseDate"
        };
        return Err(UserError::on_field(
            field,
            UserErrorCode::InvalidValue,
            "the CRM owns this field on a CRM-linked opportunity",
        )
        .into());
    }
    let mut changed = current.clone().into_active_model();
    if let Some(name) = changes.name {
        changed.name = Set(name.into_inner());
    }
    if let Some(next_step) = changes.next_step {
        changed.next_step = Set(next_step);
    }
    if let Some(amount) = changes.amount {
        changed.amount_minor = Set(amount.minor_units);
        changed.currency = Set(amount.currency.into_inner());
    }
    if let Some(date) = changes.expected_close_date {
        changed.expected_close_date = Set(date);
    }
    if let Some(discount) = changes.discount {
        changed.discount_bps = Set(discount.map(Percent::basis_points));
    }
    if let Some(margin) = changes.margin {
        changed.margin_bps = Set(margin.map(Percent::basis_points));
    }
    if let Some(intel) = changes.competitor_intel {
        changed.competitor_intel = Set(intel);
    }
    if let Some(notes) = changes.internal_notes {
        changed.internal_notes = Set(notes);
    }
    let saved = save(&uow, "updateOpportunity", &current, changed).await?;
    uow.commit().await?;
    Ok(saved)
}

/// Moves an opportunity between stages (SPEC §4.3).
pub async fn move_stage(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    id: Uuid,
    stage: OpportunityStage,
    expected_version: Option<i32>,
    closed_lost_reason: Option<String>,
) -> Outcome<opportunity::Model> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let current = load(&uow, caller, id, expected_version).await?;
    let from = current.stage;
    let refuse = |message: &str| -> Failure {
        UserError::on_field("stage", UserErrorCode::InvalidTransition, message).into()
    };
    if from.is_closed() {
        return Err(refuse(
            "a closed opportunity is final unless an admin reopens it",
        ));
    }
    if from == stage {
        return Err(refuse("the opportunity is already at this stage"));
    }
    if current.crm_managed {
        return Err(refuse("the CRM owns the stage of this opportunity"));
    }
    if caller.principal.kind() == PrincipalKind::Partner {
        partner_may_work(&uow, caller, &current).await?;
        if stage == OpportunityStage::ClosedWon {
            return Err(refuse("only staff confirm revenue (CLOSED_WON)"));
        }
    }
    let reason = closed_lost_reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if stage == OpportunityStage::ClosedLost && reason.is_none() {
        return Err(UserError::on_field(
            "closedLostReason",
            UserErrorCode::InvalidValue,
            "a lost opportunity needs a reason",
        )
        .into());
    }
    let attributions = attributions(uow.conn(), id).await?;
    let sourced = attributions
        .iter()
        .any(|a| a.role == AttributionRole::Sourced);
    if current.source == OpportunitySource::PartnerSourced
        && stage != OpportunityStage::Registered
        && !sourced
    {
        return Err(refuse(
            "a partner-sourced opportunity needs a SOURCED partner before it moves past REGISTERED",
        ));
    }
    let now = uow.now();
    let mut changed = current.clone().into_active_model();
    changed.stage = Set(stage);
    if stage >= OpportunityStage::Qualified && current.qualified_at.is_none() {
        changed.qualified_at = Set(Some(now));
    }
    if stage.is_closed() {
        changed.closed_at = Set(Some(now));
        changed.closed_lost_reason = Set(reason);
    }
    let saved = save(&uow, "moveOpportunityStage", &current, changed).await?;
    for partner_id in attributions.iter().map(|a| a.partner_id) {
        uow.emit(stage_event(&saved, from, partner_id)).await?;
        if stage == OpportunityStage::ClosedWon {
            activation::reach(&uow, partner_id, MilestoneKind::FirstClosedWon, now).await?;
        }
    }
    if attributions.is_empty() {
        uow.emit(Event {
            partner_id: None,
            ..stage_event(&saved, from, Uuid::nil())
        })
        .await?;
    }
    uow.commit().await?;
    Ok(saved)
}

/// `opportunity.stage_changed` for one partner involved (each sees its own).
fn stage_event(o: &opportunity::Model, from: OpportunityStage, partner_id: Uuid) -> Event {
    Event {
        event_type: EventType::OpportunityStageChanged,
        subject_type: SubjectType::Opportunity,
        subject_id: o.id,
        partner_id: Some(partner_id),
        payload: json!({ "opportunity": snapshot(o), "previousStage": from, "stage": o.stage }),
    }
}

/// Reopens a closed opportunity at `stage` (ADMIN).
pub async fn reopen(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    id: Uuid,
    stage: OpportunityStage,
) -> Outcome<opportunity::Model> {
    if stage.is_closed() {
        return Err(UserError::on_field(
            "stage",
            UserErrorCode::InvalidValue,
            "reopen to an open stage",
        )
        .into());
    }
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let current = load(&uow, caller, id, None).await?;
    let from = current.stage;
    if !from.is_closed() {
        return Err(UserError::on_field(
            "id",
            UserErrorCode::InvalidTransition,
            "the opportunity is open",
        )
        .into());
    }
    let mut changed = current.clone().into_active_model();
    changed.stage = Set(stage);
    changed.closed_at = Set(None);
    changed.closed_lost_reason = Set(None);
    let saved = save(&uow, "reopenOpportunity", &current, changed).await?;
    uow.emit(Event {
        partner_id: None,
        ..stage_event(&saved, from, Uuid::nil())
    })
    .await?;
    uow.commit().await?;
    Ok(saved)
}

/// Credits a partner on an opportunity: `SOURCED` (1.0, at most one),
/// `INFLUENCED` (the influence weight) or `CO_SELL` (the agreed split).
pub async fn add_partner(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    id: Uuid,
    partner_id: Uuid,
    role: AttributionRole,
    co_sell_credit: Option<Weight>,
) -> Outcome<opportunity::Model> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let current = load(&uow, caller, id, None).await?;
    if super::partners::find(uow.conn(), caller, partner_id)
        .await?
        .is_none()
    {
        return Err(UserError::on_field(
            "partnerId",
            UserErrorCode::NotFound,
            "no partner has this id",
        )
        .into());
    }
    let existing = attributions(uow.conn(), id).await?;
    if existing.iter().any(|a| a.partner_id == partner_id) {
        return Err(UserError::on_field(
            "partnerId",
            UserErrorCode::AlreadyExists,
            "the partner is already credited on this opportunity",
        )
        .into());
    }
    let already_sourced = || -> Failure {
        UserError::on_field(
            "role",
            UserErrorCode::AlreadyExists,
            "the opportunity already has a SOURCED partner",
        )
        .into()
    };
    if role == AttributionRole::Sourced
        && existing.iter().any(|a| a.role == AttributionRole::Sourced)
    {
        return Err(already_sourced());
    }
    let settings = settings::get(uow.conn()).await?;
    let credit = match role {
        AttributionRole::Sourced => 10_000,
        AttributionRole::Influenced => settings.influence_weight_bps,
        AttributionRole::CoSell => co_sell_credit.map_or(5_000, Weight::basis_points),
    };
    // The database holds "at most one SOURCED" too: a concurrent request
    // that passed the check above loses here, with the same answer.
    attribute(&uow, id, partner_id, role, credit)
        .await
        .map_err(|error| match violated_unique_constraint(&error) {
            Some("uq_opportunity_attribution_sourced") => already_sourced(),
            _ => error.into(),
        })?;
    let after = json!({ "partnerId": ids::encode(NodeType::Partner, partner_id), "role": role, "credit": credit });
    uow.audit(Change {
        operation: "addOpportunityPartner",
        entity_type: EntityType::Opportunity,
        entity_id: id,
        before: None,
        after: Some(&after),
    })
    .await?;
    uow.commit().await?;
    Ok(current)
}

pub async fn remove_partner(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    id: Uuid,
    partner_id: Uuid,
) -> Outcome<opportunity::Model> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let current = load(&uow, caller, id, None).await?;
    let removed = opportunity_attribution::Entity::delete_many()
        .filter(opportunity_attribution::Column::OpportunityId.eq(id))
        .filter(opportunity_attribution::Column::PartnerId.eq(partner_id))
        .exec(uow.conn())
        .await?;
    if removed.rows_affected == 0 {
        return Err(UserError::on_field(
            "partnerId",
            UserErrorCode::NotFound,
            "the partner is not credited on this opportunity",
        )
        .into());
    }
    let before = json!({ "partnerId": ids::encode(NodeType::Partner, partner_id) });
    uow.audit(Change {
        operation: "removeOpportunityPartner",
        entity_type: EntityType::Opportunity,
        entity_id: id,
        before: Some(&before),
        after: None,
    })
    .await?;
    uow.commit().await?;
    Ok(current)
}

/// What a CRM sends: the CRM owns stage, amount and close date.
pub struct CrmOpportunity {
    pub system: String,
    pub external_id: String,
    pub opportunity: NewOpportunity,
    pub stage: OpportunityStage,
}

/// Creates or updates the opportunity linked to `(system, external_id)`.
/// Repeating the same upsert changes nothing; it never touches attribution.
pub async fn upsert_by_external_id(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    crm: CrmOpportunity,
) -> Outcome<opportunity::Model> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let linked =
        opportunity_external_id::Entity::find_by_id((crm.system.clone(), crm.external_id.clone()))
            .one(uow.conn())
            .await?;
    let now = uow.now();
    let saved = match linked {
        Some(link) => {
            let current = opportunity::Entity::find_by_id(link.opportunity_id)
                .one(uow.conn())
                .await?
                .ok_or_else(not_found)?;
            let new = crm.opportunity;
            let unchanged = current.stage == crm.stage
                && current.amount_minor == new.amount.minor_units
                && current.currency == new.amount.currency.as_str()
                && current.expected_close_date == new.expected_close_date
                && current.name == new.name.as_str();
            if unchanged {
                uow.commit().await?;
                return Ok(current);
            }
            let mut changed = current.clone().into_active_model();
            changed.name = Set(new.name.into_inner());
            changed.stage = Set(crm.stage);
            changed.amount_minor = Set(new.amount.minor_units);
            changed.currency = Set(new.amount.currency.into_inner());
            changed.expected_close_date = Set(new.expected_close_date);
            changed.crm_managed = Set(true);
            if crm.stage >= OpportunityStage::Qualified && current.qualified_at.is_none() {
                changed.qualified_at = Set(Some(now));
            }
            changed.closed_at = Set(crm
                .stage
                .is_closed()
                .then_some(current.closed_at.unwrap_or(now)));
            let saved = save(&uow, "upsertOpportunityByExternalId", &current, changed).await?;
            if saved.stage != current.stage {
                let from = current.stage;
                for a in attributions(uow.conn(), saved.id).await? {
                    uow.emit(stage_event(&saved, from, a.partner_id)).await?;
                    if crm.stage == OpportunityStage::ClosedWon {
                        activation::reach(&uow, a.partner_id, MilestoneKind::FirstClosedWon, now)
                            .await?;
                    }
                }
            }
            saved
        }
        None => {
            let created = insert_direct(&uow, caller, crm.opportunity, true).await?;
            let mut staged = created.clone().into_active_model();
            staged.stage = Set(crm.stage);
            if crm.stage >= OpportunityStage::Qualified {
                staged.qualified_at = Set(Some(now));
            }
            if crm.stage.is_closed() {
                staged.closed_at = Set(Some(now));
            }
            let created = staged.update(uow.conn()).await?;
            opportunity_external_id::ActiveModel {
                opportunity_id: Set(created.id),
                system: Set(crm.system),
                external_id: Set(crm.external_id),
            }
            .insert(uow.conn())
            .await?;
            announce_created(&uow, "upsertOpportunityByExternalId", &created).await?;
            flag_conflicting_registrations(&uow, &created).await?;
            created
        }
    };
    uow.commit().await?;
    Ok(saved)
}
