//! The pipeline (SPEC §4.3): opportunities, stage moves, attribution and CRM
//! upserts. Partner-sourced opportunities are created by registration approval.

use super::set_if;
use chrono::{DateTime, NaiveDate, Utc};
use entity::{deal_registration, opportunity, opportunity_attribution, opportunity_external_id};
use sea_orm::{
    sea_query::{Alias, Expr, ExprTrait, IntoIden, JoinType},
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    FromQueryResult, IntoActiveModel, QueryFilter, QueryResult, QuerySelect, QueryTrait, Select,
    Set,
};
use std::collections::HashMap;
use uuid::Uuid;

use super::{
    deals::{accounts, attribution, conflicts, opportunity as opportunity_record},
    external_ids,
    incentives::accruals,
    milestones,
    pagination::{
        paginate_as, paginate_per_parent, KeyValue, NestedPages, Ordering, Page, PageArgs,
    },
    rows, settings,
    unit_of_work::{violated_unique_constraint, UnitOfWork},
    Caller, Failure, Outcome,
};
use crate::{
    domain::{
        inputs::{DisplayName, ExternalKey, Percent, Weight},
        money::Money,
        AttributionRole, DealRegistrationStatus, MilestoneKind, OpportunitySource,
        OpportunityStage, OrderDirection, PrincipalKind, StageRules, UserError, UserErrorCode,
    },
    error::ApiError,
    policy::{self, RowScope},
};

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

/// A listed opportunity with the relations a pipeline page shows beside it,
/// read by the page query itself: one statement, however many rows.
#[derive(Debug, Clone)]
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
    scope: RowScope,
) -> Select<opportunity::Entity> {
    let registration_on = Condition::all()
        .add(
            Expr::col((deal_registration::Entity, deal_registration::Column::Id))
                .equals((opportunity::Entity, opportunity::Column::DealRegistrationId)),
        )
        .add(policy::registration_rows(scope));
    // Aliased: `policy::attributed_to` reads the same table in a subquery.
    let own = Alias::new("own_attribution");
    let own_on = Condition::all()
        .add(
            Expr::col((own.clone(), opportunity_attribution::Column::OpportunityId))
                .equals((opportunity::Entity, opportunity::Column::Id)),
        )
        .add(match scope.partner() {
            Some(partner_id) => {
                Expr::col((own.clone(), opportunity_attribution::Column::PartnerId)).eq(partner_id)
            }
            None => Expr::value(false),
        });
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
        let open_stages = opportunity::Column::Stage.is_in(accounts::OPEN_STAGES);
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
        |select| with_page_relations(select, caller.principal.into()),
        ordering,
        page,
        cursor_key,
    )
    .await
}

fn cursor_key(row: &ListedOpportunity) -> (KeyValue, KeyValue) {
    let o = &row.opportunity;
    (KeyValue::Time(o.created_at), KeyValue::Uuid(o.id))
}

/// `Partner.opportunities`: the opportunities each partner is credited
/// on, newest first, each with its registration and the caller's own
/// attribution.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OpportunitiesOfPartner;

impl NestedPages for OpportunitiesOfPartner {
    type Row = ListedOpportunity;

    async fn pages(
        &self,
        db: &DatabaseConnection,
        scope: RowScope,
        partners: &[Uuid],
        page: PageArgs,
    ) -> Result<HashMap<Uuid, Page<ListedOpportunity>>, ApiError> {
        // One row per opportunity and credited partner (one attribution per
        // partner and opportunity); aliased apart from the page's own join.
        let credited = Alias::new("credited");
        let mut select = opportunity::Entity::find().filter(policy::opportunity_rows(scope));
        QueryTrait::query(&mut select).join_as(
            JoinType::InnerJoin,
            opportunity_attribution::Entity,
            credited.clone(),
            Expr::col((
                credited.clone(),
                opportunity_attribution::Column::OpportunityId,
            ))
            .equals((opportunity::Entity, opportunity::Column::Id)),
        );
        paginate_per_parent(
            db,
            select,
            Expr::col((credited, opportunity_attribution::Column::PartnerId)),
            partners,
            |select| with_page_relations(select, scope),
            Ordering {
                key: opportunity::Column::CreatedAt,
                id: opportunity::Column::Id,
                direction: OrderDirection::Desc,
            },
            page,
            cursor_key,
        )
        .await
    }
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

impl NewOpportunity {
    /// The opportunity to create: direct, owned by the caller unless the
    /// input names an owner.
    fn draft(
        self,
        caller: &Caller<'_>,
        stage: OpportunityStage,
        crm_managed: bool,
    ) -> opportunity_record::Draft {
        opportunity_record::Draft {
            name: self.name.into_inner(),
            company_name: self.company_name.into_inner(),
            company_domain: self.company_domain,
            source: OpportunitySource::Direct,
            stage,
            amount_minor: self.amount.minor_units,
            currency: self.amount.currency.into_inner(),
            expected_close_date: self.expected_close_date,
            deal_registration_id: None,
            owner_id: self.owner_id.or(caller.principal.staff_user_id),
            next_step: self.next_step,
            discount_bps: self.discount.map(Percent::basis_points),
            margin_bps: self.margin.map(Percent::basis_points),
            competitor_intel: self.competitor_intel,
            internal_notes: self.internal_notes,
            crm_managed,
        }
    }
}

pub async fn create(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    new: NewOpportunity,
) -> Outcome<opportunity::Model> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let draft = new.draft(caller, OpportunityStage::Registered, false);
    let created = opportunity_record::create(&uow, "createOpportunity", draft, None).await?;
    conflicts::flag_for_direct_opportunity(&uow, &created).await?;
    uow.commit().await?;
    Ok(created)
}

async fn load(
    uow: &UnitOfWork,
    caller: &Caller<'_>,
    id: Uuid,
    expected_version: Option<i32>,
) -> Outcome<opportunity::Model> {
    let current = find(uow.conn(), caller, id)
        .await?
        .ok_or_else(opportunity_record::not_found)?;
    if expected_version.is_some_and(|v| v != current.version) {
        return Err(opportunity_record::stale(current.version));
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
        return Err(opportunity_record::not_found());
    };
    let own = attribution::of_partner(uow.conn(), o.id, partner_id).await?;
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
    mut changes: OpportunityChanges,
) -> Outcome<opportunity::Model> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let current = load(&uow, caller, id, Some(expected_version)).await?;
    if caller.principal.kind() == PrincipalKind::Partner {
        partner_may_work(&uow, caller, &current).await?;
        // A partner changes only the next step; the terms are the vendor's.
        changes = OpportunityChanges {
            next_step: changes.next_step,
            ..Default::default()
        };
    }
    let saved = update_in(&uow, "updateOpportunity", &current, changes).await?;
    uow.commit().await?;
    Ok(saved)
}

/// Applies `changes` to `current` in `uow`, audited as `operation`; the
/// CRM's fields stay the CRM's.
pub(crate) async fn update_in(
    uow: &UnitOfWork,
    operation: &str,
    current: &opportunity::Model,
    changes: OpportunityChanges,
) -> Outcome<opportunity::Model> {
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
    set_if(
        &mut changed.name,
        changes.name.map(|name| name.into_inner()),
    );
    set_if(&mut changed.next_step, changes.next_step);
    if let Some(amount) = changes.amount {
        changed.amount_minor = Set(amount.minor_units);
        changed.currency = Set(amount.currency.into_inner());
    }
    set_if(
        &mut changed.expected_close_date,
        changes.expected_close_date,
    );
    set_if(
        &mut changed.discount_bps,
        changes
            .discount
            .map(|discount| discount.map(Percent::basis_points)),
    );
    set_if(
        &mut changed.margin_bps,
        changes
            .margin
            .map(|margin| margin.map(Percent::basis_points)),
    );
    set_if(&mut changed.competitor_intel, changes.competitor_intel);
    set_if(&mut changed.internal_notes, changes.internal_notes);
    opportunity_record::save(uow, operation, current, changed).await
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
    let attributions = attribution::of_opportunity(uow.conn(), id).await?;
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
    let saved = opportunity_record::save(&uow, "moveOpportunityStage", &current, changed).await?;
    for partner_id in attributions.iter().map(|a| a.partner_id) {
        uow.emit(opportunity_record::stage_event(
            &saved,
            from,
            Some(partner_id),
        ))
        .await?;
        if stage == OpportunityStage::ClosedWon {
            milestones::reach(&uow, partner_id, MilestoneKind::FirstClosedWon, now).await?;
        }
    }
    if attributions.is_empty() {
        uow.emit(opportunity_record::stage_event(&saved, from, None))
            .await?;
    }
    if stage == OpportunityStage::ClosedWon {
        accruals::accrue_won(&uow, "moveOpportunityStage", &saved, &attributions).await?;
    }
    uow.commit().await?;
    Ok(saved)
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
    let saved = opportunity_record::save(&uow, "reopenOpportunity", &current, changed).await?;
    uow.emit(opportunity_record::stage_event(&saved, from, None))
        .await?;
    if from == OpportunityStage::ClosedWon {
        accruals::reverse_subject(&uow, "reopenOpportunity", saved.id, "the deal was reopened")
            .await?;
    }
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
    super::partners::require(uow.conn(), caller, partner_id).await?;
    let existing = attribution::of_opportunity(uow.conn(), id).await?;
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
    attribution::credit(&uow, "addOpportunityPartner", id, partner_id, role, credit)
        .await
        .map_err(|error| match violated_unique_constraint(&error) {
            Some("uq_opportunity_attribution_sourced") => already_sourced(),
            _ => error.into(),
        })?;
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
    if !attribution::uncredit(&uow, "removeOpportunityPartner", id, partner_id).await? {
        return Err(UserError::on_field(
            "partnerId",
            UserErrorCode::NotFound,
            "the partner is not credited on this opportunity",
        )
        .into());
    }
    uow.commit().await?;
    Ok(current)
}

/// What a CRM sends: the CRM owns stage, amount and close date.
pub struct CrmOpportunity {
    pub key: ExternalKey,
    pub opportunity: NewOpportunity,
    pub stage: OpportunityStage,
    /// The opportunity to link when the CRM id is not linked yet (the one a
    /// registration's approval opened, so the first sync does not duplicate it).
    pub opportunity_id: Option<Uuid>,
    /// Or the reference of the registration whose opportunity to link.
    pub registration_reference: Option<String>,
}

/// Creates or updates the opportunity linked to the CRM id, linking the one
/// the input names first when the id is not linked yet. Repeating the same
/// upsert changes nothing; it never touches attribution. A new opportunity
/// is direct, and partner registrations holding its account get a conflict.
pub async fn upsert_by_external_id(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    crm: CrmOpportunity,
) -> Outcome<opportunity::Model> {
    const OPERATION: &str = "upsertOpportunityByExternalId";
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let linked = opportunity_external_id::Entity::find_by_id((
        crm.key.system.clone(),
        crm.key.external_id.clone(),
    ))
    .one(uow.conn())
    .await?;
    let named = external_ids::opportunity_named(
        uow.conn(),
        crm.opportunity_id,
        crm.registration_reference.as_deref(),
    )
    .await?;
    let field = if crm.opportunity_id.is_some() {
        "opportunityId"
    } else {
        "registrationReference"
    };
    let target = match (linked, named) {
        (Some(link), Some(named)) if named.id != link.opportunity_id => {
            return Err(UserError::on_field(
                field,
                UserErrorCode::AlreadyExists,
                format!(
                    "{} id `{}` is already linked to opportunity {}",
                    crm.key.system,
                    crm.key.external_id,
                    crate::ids::encode(crate::ids::NodeType::Opportunity, link.opportunity_id)
                ),
            )
            .into())
        }
        (Some(link), _) => Some(
            opportunity::Entity::find_by_id(link.opportunity_id)
                .one(uow.conn())
                .await?
                .ok_or_else(opportunity_record::not_found)?,
        ),
        (None, Some(named)) => {
            let holder = external_ids::Holder::Opportunity(named.id);
            external_ids::link_in(&uow, OPERATION, holder, &crm.key, field).await?;
            Some(named)
        }
        (None, None) => None,
    };
    let now = uow.now();
    let saved = match target {
        Some(current) => {
            let new = crm.opportunity;
            let unchanged = current.crm_managed
                && current.stage == crm.stage
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
            let saved = opportunity_record::save(&uow, OPERATION, &current, changed).await?;
            if saved.stage != current.stage {
                let from = current.stage;
                let attributions = attribution::of_opportunity(uow.conn(), saved.id).await?;
                if from == OpportunityStage::ClosedWon {
                    accruals::reverse_subject(
                        &uow,
                        "upsertOpportunityByExternalId",
                        saved.id,
                        "the deal is no longer won in the CRM",
                    )
                    .await?;
                }
                if crm.stage == OpportunityStage::ClosedWon {
                    accruals::accrue_won(
                        &uow,
                        "upsertOpportunityByExternalId",
                        &saved,
                        &attributions,
                    )
                    .await?;
                }
                for a in &attributions {
                    uow.emit(opportunity_record::stage_event(
                        &saved,
                        from,
                        Some(a.partner_id),
                    ))
                    .await?;
                    if crm.stage == OpportunityStage::ClosedWon {
                        milestones::reach(&uow, a.partner_id, MilestoneKind::FirstClosedWon, now)
                            .await?;
                    }
                }
                if attributions.is_empty() {
                    uow.emit(opportunity_record::stage_event(&saved, from, None))
                        .await?;
                }
            }
            saved
        }
        None => {
            let draft = crm.opportunity.draft(caller, crm.stage, true);
            let created = opportunity_record::create(&uow, OPERATION, draft, None).await?;
            let holder = external_ids::Holder::Opportunity(created.id);
            external_ids::link_in(&uow, OPERATION, holder, &crm.key, "externalId").await?;
            conflicts::flag_for_direct_opportunity(&uow, &created).await?;
            created
        }
    };
    uow.commit().await?;
    Ok(saved)
}
