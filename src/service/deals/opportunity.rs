//! The opportunity record: its snapshot, its one constructor, its versioned
//! save and its events.

use chrono::{DateTime, NaiveDate, Utc};
use entity::{opportunity, opportunity_external_id};
use sea_orm::{ColumnTrait, Condition, DbErr, Set};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{
    domain::{
        accounts::normalize_company_name, EntityType, EventType, OpportunitySource,
        OpportunityStage, StageRules, SubjectType, UserError, UserErrorCode,
    },
    ids::{self, NodeType},
    service::Failure,
    unit_of_work::{Event, Record, UnitOfWork, UpdateError},
    versioned_record,
};

/// The full (internal) view of an opportunity, keyed by GraphQL field names.
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

versioned_record!(opportunity, Opportunity, snapshot);

/// A CRM link is audited as a change of its opportunity; it is keyed by
/// `(system, externalId)`.
impl Record for opportunity_external_id::Entity {
    const AUDIT_TYPE: EntityType = EntityType::Opportunity;

    fn id(row: &opportunity_external_id::Model) -> Uuid {
        row.opportunity_id
    }

    fn id_column() -> opportunity_external_id::Column {
        opportunity_external_id::Column::OpportunityId
    }

    fn locate(row: &opportunity_external_id::Model) -> Condition {
        Condition::all()
            .add(opportunity_external_id::Column::System.eq(row.system.as_str()))
            .add(opportunity_external_id::Column::ExternalId.eq(row.external_id.as_str()))
    }

    fn snapshot(row: &opportunity_external_id::Model) -> Value {
        json!({ "externalIds": [{ "system": row.system, "externalId": row.external_id }] })
    }
}

/// What differs between opportunities when they are created. The account
/// keys, the stage dates and the bookkeeping columns follow from it.
#[derive(Debug, Clone)]
pub struct Draft {
    pub name: String,
    pub company_name: String,
    /// Already normalised (`accounts::normalize_domain`).
    pub company_domain: String,
    pub source: OpportunitySource,
    pub stage: OpportunityStage,
    pub amount_minor: i64,
    pub currency: String,
    pub expected_close_date: NaiveDate,
    pub deal_registration_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    pub next_step: Option<String>,
    pub discount_bps: Option<i32>,
    pub margin_bps: Option<i32>,
    pub competitor_intel: Option<String>,
    pub internal_notes: Option<String>,
    /// The CRM owns stage, amount and close date.
    pub crm_managed: bool,
}

impl Draft {
    /// The row to insert, created at `now`: an opportunity created past
    /// `QUALIFIED` was qualified, and a closed one closed, at `now`.
    pub fn row(self, id: Uuid, now: DateTime<Utc>) -> opportunity::ActiveModel {
        let company_key = normalize_company_name(&self.company_name);
        opportunity::ActiveModel {
            id: Set(id),
            name: Set(self.name),
            company_name: Set(self.company_name),
            domain_key: Set(self.company_domain.clone()),
            company_domain: Set(self.company_domain),
            company_key: Set(company_key),
            source: Set(self.source),
            stage: Set(self.stage),
            next_step: Set(self.next_step),
            amount_minor: Set(self.amount_minor),
            currency: Set(self.currency),
            expected_close_date: Set(self.expected_close_date),
            closed_at: Set(self.stage.is_closed().then_some(now)),
            closed_lost_reason: Set(None),
            qualified_at: Set((self.stage >= OpportunityStage::Qualified).then_some(now)),
            deal_registration_id: Set(self.deal_registration_id),
            owner_id: Set(self.owner_id),
            discount_bps: Set(self.discount_bps),
            margin_bps: Set(self.margin_bps),
            competitor_intel: Set(self.competitor_intel),
            internal_notes: Set(self.internal_notes),
            crm_managed: Set(self.crm_managed),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
        }
    }
}

/// Creates the opportunity, audited under `operation`, and emits
/// `opportunity.created` (for `partner_id` when a partner sourced it).
pub async fn create(
    uow: &UnitOfWork,
    operation: &str,
    draft: Draft,
    partner_id: Option<Uuid>,
) -> Result<opportunity::Model, DbErr> {
    let created = uow
        .create::<opportunity::Entity>(operation, draft.row(Uuid::now_v7(), uow.now()))
        .await?;
    uow.emit(Event {
        event_type: EventType::OpportunityCreated,
        subject_type: SubjectType::Opportunity,
        subject_id: created.id,
        partner_id,
        payload: json!({ "opportunity": snapshot(&created) }),
    })
    .await?;
    Ok(created)
}

pub fn not_found() -> Failure {
    UserError::on_field("id", UserErrorCode::NotFound, "no opportunity has this id").into()
}

pub fn stale(version: i32) -> Failure {
    UserError::on_field(
        "expectedVersion",
        UserErrorCode::StaleVersion,
        format!("the opportunity changed since you read it; it is at version {version} or later"),
    )
    .into()
}

/// Writes `changed` if the row is still at `current.version`, with audit.
pub async fn save(
    uow: &UnitOfWork,
    operation: &str,
    current: &opportunity::Model,
    changed: opportunity::ActiveModel,
) -> Result<opportunity::Model, Failure> {
    uow.update::<opportunity::Entity>(operation, current, changed)
        .await
        .map_err(|error| match error {
            UpdateError::Stale(Some(version)) => stale(version),
            UpdateError::Stale(None) => not_found(),
            UpdateError::Db(error) => error.into(),
        })
}

/// `opportunity.stage_changed` for one partner involved (each sees its
/// own), or for staff only when no partner is.
pub fn stage_event(
    o: &opportunity::Model,
    from: OpportunityStage,
    partner_id: Option<Uuid>,
) -> Event {
    Event {
        event_type: EventType::OpportunityStageChanged,
        subject_type: SubjectType::Opportunity,
        subject_id: o.id,
        partner_id,
        payload: json!({ "opportunity": snapshot(o), "previousStage": from, "stage": o.stage }),
    }
}
