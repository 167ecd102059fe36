//! Deal registrations and the opportunities approval creates: types,
//! queries and mutations.

use async_graphql::{Context, InputObject, MaybeUndefined, Object, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{deal_registration, opportunity, opportunity_attribution, registration_conflict};
use std::sync::Arc;

use uuid::Uuid;

use super::{
    connection::{connection, empty_page, filter_id, page_args},
    context,
    enums::{
        stored_all, AttributionRole, ConflictKind, ConflictResolution, DealRegistrationStatus,
        OpportunitySource, OpportunityStage,
    },
    loaders::{
        self, AttributionOfPartner, AttributionsOf, OpportunityById, PartnerById, RegistrationById,
    },
    partners::Partner,
    payload::{input_id, mutate, InputCheck},
    scalars::{Date, Decimal, Money},
};
use crate::{
    auth::Action,
    domain::{
        self,
        inputs::{self, free_text, DisplayName, EmailAddress, InvalidInput, Percent},
        money, UserError, UserErrorCode,
    },
    error::{ApiError, ApiResult},
    ids::{self, NodeType},
    service::{
        opportunities::{self, ListedOpportunity, OpportunitySummary, RegistrationSummary},
        registrations::{
            self as service, NewRegistration, RegistrationChanges, RegistrationFilter,
        },
        Failure,
    },
};

fn money_of(minor_units: i64, currency: &str) -> Money {
    money::Money {
        minor_units,
        currency: inputs::CurrencyCode::stored(currency.to_owned()),
    }
    .into()
}

/// A partner's claim on a customer deal. Shared, so an opportunity that
/// read its registration with the page hands it out without a deep copy.
#[derive(Clone)]
pub struct DealRegistration(Arc<Registration>);

/// A registration read in full, or the summary a pipeline row carries,
/// whose other fields load once, for the whole page in one batch, when a
/// query asks for them.
enum Registration {
    Full(deal_registration::Model),
    Listed {
        summary: RegistrationSummary,
        full: tokio::sync::OnceCell<deal_registration::Model>,
    },
}

impl From<deal_registration::Model> for DealRegistration {
    fn from(model: deal_registration::Model) -> Self {
        Self(Arc::new(Registration::Full(model)))
    }
}

impl From<RegistrationSummary> for DealRegistration {
    fn from(summary: RegistrationSummary) -> Self {
        Self(Arc::new(Registration::Listed {
            summary,
            full: tokio::sync::OnceCell::new(),
        }))
    }
}

/// The fields a summary answers without loading anything.
struct Head<'a> {
    id: Uuid,
    partner_id: Uuid,
    reference: &'a str,
    status: domain::DealRegistrationStatus,
    protection_ends_at: Option<DateTime<Utc>>,
}

impl DealRegistration {
    /// The fields of a registration that answer without loading it.
    pub const SUMMARY_FIELDS: &'static [&'static str] = &[
        "__typename",
        "id",
        "reference",
        "status",
        "partner",
        "protectionEndsAt",
        "protectionActive",
    ];

    fn head(&self) -> Head<'_> {
        match &*self.0 {
            Registration::Full(m) => Head {
                id: m.id,
                partner_id: m.partner_id,
                reference: &m.reference,
                status: m.status,
                protection_ends_at: m.protection_ends_at,
            },
            Registration::Listed { summary: s, .. } => Head {
                id: s.id,
                partner_id: s.partner_id,
                reference: &s.reference,
                status: s.status,
                protection_ends_at: s.protection_ends_at,
            },
        }
    }

    /// The whole registration: at hand, or loaded in the caller's scope.
    async fn model(&self, ctx: &Context<'_>) -> ApiResult<&deal_registration::Model> {
        let (summary, full) = match &*self.0 {
            Registration::Full(model) => return Ok(model),
            Registration::Listed { summary, full } => (summary, full),
        };
        full.get_or_try_init(|| async {
            let scope = crate::policy::RowScope::of(&context::request(ctx)?.principal);
            loaders::load(ctx, RegistrationById(summary.id, scope))
                .await?
                .ok_or_else(|| {
                    ApiError::internal(anyhow::anyhow!(
                        "registration {} vanished from its page",
                        summary.id
                    ))
                })
        })
        .await
    }
}

/// A partner's claim on a customer deal.
// Serial, like `Opportunity`.
#[Object(serial)]
impl DealRegistration {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::DealRegistration, self.head().id))
    }

    /// Human reference, `DR-<year>-<6 digits>`.
    async fn reference(&self) -> &str {
        self.head().reference
    }

    /// Where the registration stands.
    async fn status(&self) -> DealRegistrationStatus {
        self.head().status.into()
    }

    /// The partner that registered the deal.
    async fn partner(&self, ctx: &Context<'_>) -> ApiResult<Option<Partner>> {
        Partner::load(ctx, self.head().partner_id).await
    }

    /// The customer company's name.
    async fn company_name(&self, ctx: &Context<'_>) -> ApiResult<&str> {
        let model = self.model(ctx).await?;
        Ok(&model.company_name)
    }

    /// The customer company's domain.
    async fn company_domain(&self, ctx: &Context<'_>) -> ApiResult<&str> {
        let model = self.model(ctx).await?;
        Ok(&model.company_domain)
    }

    /// The customer's contact person.
    async fn customer_contact_name(&self, ctx: &Context<'_>) -> ApiResult<&str> {
        let model = self.model(ctx).await?;
        Ok(&model.customer_contact_name)
    }

    /// The customer contact's e-mail address.
    async fn customer_contact_email(&self, ctx: &Context<'_>) -> ApiResult<&str> {
        let model = self.model(ctx).await?;
        Ok(&model.customer_contact_email)
    }

    /// The deal's estimated value.
    async fn estimated_amount(&self, ctx: &Context<'_>) -> ApiResult<Money> {
        let model = self.model(ctx).await?;
        Ok(money_of(model.amount_minor, &model.currency))
    }

    /// When the deal is expected to close.
    async fn expected_close_date(&self, ctx: &Context<'_>) -> ApiResult<Date> {
        let model = self.model(ctx).await?;
        Ok(Date(model.expected_close_date))
    }

    /// The product concerned.
    async fn product(&self, ctx: &Context<'_>) -> ApiResult<Option<&str>> {
        let model = self.model(ctx).await?;
        Ok(model.product.as_deref())
    }

    /// The partner's own notes.
    async fn notes(&self, ctx: &Context<'_>) -> ApiResult<Option<&str>> {
        let model = self.model(ctx).await?;
        Ok(model.notes.as_deref())
    }

    /// Notes for staff only.
    async fn internal_notes(&self, ctx: &Context<'_>) -> ApiResult<Option<&str>> {
        let model = self.model(ctx).await?;
        Ok(model.internal_notes.as_deref())
    }

    /// When it was submitted.
    async fn submitted_at(&self, ctx: &Context<'_>) -> ApiResult<DateTime<Utc>> {
        let model = self.model(ctx).await?;
        Ok(model.submitted_at)
    }

    /// Who submitted it.
    async fn submitted_by(&self, ctx: &Context<'_>) -> ApiResult<&str> {
        let model = self.model(ctx).await?;
        Ok(&model.submitted_by)
    }

    /// When it was approved, rejected or withdrawn.
    async fn decided_at(&self, ctx: &Context<'_>) -> ApiResult<Option<DateTime<Utc>>> {
        let model = self.model(ctx).await?;
        Ok(model.decided_at)
    }

    /// Why it was rejected (or extended).
    async fn decision_reason(&self, ctx: &Context<'_>) -> ApiResult<Option<&str>> {
        let model = self.model(ctx).await?;
        Ok(model.decision_reason.as_deref())
    }

    /// When protection started (approval).
    async fn protection_starts_at(&self, ctx: &Context<'_>) -> ApiResult<Option<DateTime<Utc>>> {
        let model = self.model(ctx).await?;
        Ok(model.protection_starts_at)
    }

    /// When protection ends.
    async fn protection_ends_at(&self) -> Option<DateTime<Utc>> {
        self.head().protection_ends_at
    }

    /// Whether the registration is approved and its protection still runs.
    async fn protection_active(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        let now = context::request(ctx)?.now;
        let head = self.head();
        Ok(head.status == domain::DealRegistrationStatus::Approved
            && head.protection_ends_at.is_some_and(|end| end > now))
    }

    /// How often protection was extended.
    async fn extension_count(&self, ctx: &Context<'_>) -> ApiResult<i32> {
        let model = self.model(ctx).await?;
        Ok(model.extension_count)
    }

    /// When a decision is due (review SLA).
    async fn sla_due_at(&self, ctx: &Context<'_>) -> ApiResult<DateTime<Utc>> {
        let model = self.model(ctx).await?;
        Ok(model.sla_due_at)
    }

    /// The opportunity approval created (or joined).
    async fn opportunity(&self, ctx: &Context<'_>) -> ApiResult<Option<Opportunity>> {
        let Some(id) = self.model(ctx).await?.opportunity_id else {
            return Ok(None);
        };
        let scope = crate::policy::RowScope::of(&context::request(ctx)?.principal);
        Ok(loaders::load(ctx, OpportunityById(id, scope))
            .await?
            .map(Opportunity::from))
    }

    /// Conflicts with other claims on the same account.
    async fn conflicts(&self, ctx: &Context<'_>) -> ApiResult<Vec<RegistrationConflict>> {
        Ok(loaders::load(ctx, loaders::ConflictsOf(self.head().id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(RegistrationConflict)
            .collect())
    }

    /// The staff user who decided it (approved or rejected). Staff only.
    async fn reviewer(&self, ctx: &Context<'_>) -> ApiResult<Option<super::partners::StaffUser>> {
        let Some(id) = self.model(ctx).await?.reviewer_id else {
            return Ok(None);
        };
        Ok(loaders::load(ctx, loaders::StaffUserId(id))
            .await?
            .map(super::partners::StaffUser::from))
    }

    /// The person who submitted it: the partner contact (through a portal)
    /// or the staff user (on the partner's behalf); null when an integration
    /// submitted it. Staff only.
    async fn submitter(&self, ctx: &Context<'_>) -> ApiResult<Option<Submitter>> {
        let model = self.model(ctx).await?;
        if let Some(id) = model.submitted_by_contact_id {
            let request = context::request(ctx)?;
            return Ok(crate::service::partners::find_contact(
                context::db(ctx)?,
                &request.caller(),
                id,
            )
            .await?
            .map(|c| Submitter::Contact(c.into())));
        }
        let Some(id) = model.submitted_by_staff_id else {
            return Ok(None);
        };
        Ok(loaders::load(ctx, loaders::StaffUserId(id))
            .await?
            .map(|u| Submitter::Staff(u.into())))
    }

    /// The partner's latest request to extend protection, and its outcome.
    async fn extension_request(&self, ctx: &Context<'_>) -> ApiResult<Option<ExtensionRequest>> {
        let r = self.model(ctx).await?;
        Ok(r.extension_request_status.map(|status| ExtensionRequest {
            days: r.extension_request_days.unwrap_or_default(),
            reason: r.extension_request_reason.clone().unwrap_or_default(),
            requested_at: r.extension_requested_at.unwrap_or(r.submitted_at),
            status: status.into(),
            decided_at: r.extension_request_decided_at,
            decline_reason: r.extension_decline_reason.clone(),
        }))
    }

    /// Bumped by every change; pass it as `expectedVersion` when updating.
    async fn version(&self, ctx: &Context<'_>) -> ApiResult<i32> {
        let model = self.model(ctx).await?;
        Ok(model.version)
    }
}

/// Who submitted a registration: a partner contact or a staff user.
#[derive(async_graphql::Union)]
pub enum Submitter {
    /// A partner contact, through a portal.
    Contact(super::partners::PartnerContact),
    /// A staff user, on the partner's behalf.
    Staff(super::partners::StaffUser),
}

/// A partner's request to extend a registration's protection.
#[derive(SimpleObject)]
pub struct ExtensionRequest {
    /// The days asked for.
    pub days: i32,
    /// Why the partner asks.
    pub reason: String,
    /// When it was asked.
    pub requested_at: DateTime<Utc>,
    /// Waiting, granted or declined.
    pub status: super::enums::ExtensionRequestStatus,
    /// When staff granted or declined it.
    pub decided_at: Option<DateTime<Utc>>,
    /// Why staff declined it.
    pub decline_reason: Option<String>,
}

/// A conflict between a registration and another claim on the same account.
pub struct RegistrationConflict(registration_conflict::Model);

/// A conflict between a registration and another claim on the same account.
#[Object]
impl RegistrationConflict {
    /// Globally unique, opaque id (pass it to `resolveRegistrationConflict`).
    async fn id(&self) -> ID {
        ID(ids::encode(NodeType::RegistrationConflict, self.0.id))
    }

    /// What the other side is.
    async fn kind(&self) -> ConflictKind {
        self.0.kind.into()
    }

    /// The other partner's registration, for `PARTNER_REGISTRATION`.
    async fn other_registration(&self, ctx: &Context<'_>) -> ApiResult<Option<DealRegistration>> {
        let Some(id) = self.0.other_registration_id else {
            return Ok(None);
        };
        let request = context::request(ctx)?;
        Ok(service::find(context::db(ctx)?, &request.caller(), id)
            .await?
            .map(DealRegistration::from))
    }

    /// The direct opportunity, for `DIRECT_OPPORTUNITY`.
    async fn other_opportunity(&self, ctx: &Context<'_>) -> ApiResult<Option<Opportunity>> {
        let Some(id) = self.0.other_opportunity_id else {
            return Ok(None);
        };
        let request = context::request(ctx)?;
        Ok(
            opportunities::find(context::db(ctx)?, &request.caller(), id)
                .await?
                .map(Opportunity::from),
        )
    }

    /// The rule of engagement applied.
    async fn rule(&self) -> &str {
        &self.0.rule
    }

    /// What the rules recommend, seen from the registration under review.
    async fn recommendation(&self) -> ConflictResolution {
        self.0.recommendation.into()
    }

    /// What was decided.
    async fn resolution(&self) -> Option<ConflictResolution> {
        self.0.resolution.map(Into::into)
    }

    /// Why it was decided so.
    async fn rationale(&self) -> Option<&str> {
        self.0.rationale.as_deref()
    }

    /// Who decided (a staff user's global id).
    async fn resolved_by(&self) -> Option<ID> {
        self.0
            .resolved_by
            .map(|id| ID(ids::encode(NodeType::StaffUser, id)))
    }

    /// When it was decided.
    async fn resolved_at(&self) -> Option<DateTime<Utc>> {
        self.0.resolved_at
    }
}

/// A sales opportunity: read in full (`node`, payloads), or as a pipeline
/// row, which carries a summary and its relations as the page query read
/// them; a row's other fields load once, for the whole page in one batch,
/// when a query asks for them.
pub struct Opportunity(Row);

/// Both boxed: an opportunity model is over 400 bytes.
enum Row {
    Full(Box<opportunity::Model>),
    Listed(Box<Listed>),
}

struct Listed {
    summary: OpportunitySummary,
    /// Scoped to the caller, like the row itself.
    registration: Option<DealRegistration>,
    own_attribution: Option<opportunity_attribution::Model>,
    full: tokio::sync::OnceCell<opportunity::Model>,
}

impl From<opportunity::Model> for Opportunity {
    fn from(model: opportunity::Model) -> Self {
        Self(Row::Full(Box::new(model)))
    }
}

impl From<ListedOpportunity> for Opportunity {
    fn from(row: ListedOpportunity) -> Self {
        Self(Row::Listed(Box::new(Listed {
            summary: row.opportunity,
            registration: row.registration.map(DealRegistration::from),
            own_attribution: row.own_attribution,
            full: tokio::sync::OnceCell::new(),
        })))
    }
}

/// The fields a pipeline row answers without loading anything.
struct OpportunityHead<'a> {
    id: Uuid,
    name: &'a str,
    company_name: &'a str,
    source: domain::OpportunitySource,
    stage: domain::OpportunityStage,
    amount_minor: i64,
    currency: &'a str,
    expected_close_date: NaiveDate,
    closed_at: Option<DateTime<Utc>>,
    deal_registration_id: Option<Uuid>,
    version: i32,
}

impl Opportunity {
    /// The fields of an opportunity that answer without loading it.
    pub const SUMMARY_FIELDS: &'static [&'static str] = &[
        "__typename",
        "id",
        "name",
        "companyName",
        "source",
        "stage",
        "amount",
        "expectedCloseDate",
        "closedAt",
        "dealRegistration",
        "myAttribution",
        "attributions",
        "externalIds",
        "version",
    ];

    fn head(&self) -> OpportunityHead<'_> {
        match &self.0 {
            Row::Full(m) => OpportunityHead {
                id: m.id,
                name: &m.name,
                company_name: &m.company_name,
                source: m.source,
                stage: m.stage,
                amount_minor: m.amount_minor,
                currency: &m.currency,
                expected_close_date: m.expected_close_date,
                closed_at: m.closed_at,
                deal_registration_id: m.deal_registration_id,
                version: m.version,
            },
            Row::Listed(listed) => {
                let s = &listed.summary;
                OpportunityHead {
                    id: s.id,
                    name: &s.name,
                    company_name: &s.company_name,
                    source: s.source,
                    stage: s.stage,
                    amount_minor: s.amount_minor,
                    currency: &s.currency,
                    expected_close_date: s.expected_close_date,
                    closed_at: s.closed_at,
                    deal_registration_id: s.deal_registration_id,
                    version: s.version,
                }
            }
        }
    }

    fn listed(&self) -> Option<&Listed> {
        match &self.0 {
            Row::Full(_) => None,
            Row::Listed(listed) => Some(listed),
        }
    }

    /// The whole opportunity: at hand, or loaded in the caller's scope.
    async fn model(&self, ctx: &Context<'_>) -> ApiResult<&opportunity::Model> {
        let listed = match &self.0 {
            Row::Full(model) => return Ok(model),
            Row::Listed(listed) => listed,
        };
        let id = listed.summary.id;
        listed
            .full
            .get_or_try_init(|| async {
                let scope = crate::policy::RowScope::of(&context::request(ctx)?.principal);
                loaders::load(ctx, OpportunityById(id, scope))
                    .await?
                    .ok_or_else(|| {
                        ApiError::internal(anyhow::anyhow!(
                            "opportunity {id} vanished from its page"
                        ))
                    })
            })
            .await
    }
}

/// A partner's credit on an opportunity.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct Attribution {
    /// The credited partner.
    pub partner: Option<Partner>,
    /// Its part in the deal.
    pub role: AttributionRole,
    /// Its share of the credit, between 0 and 1.
    pub credit: Decimal,
}

/// An id in an outside system.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct ExternalId {
    /// The system, e.g. `salesforce`.
    pub system: String,
    /// The id there.
    pub id: String,
}

/// The calling partner's own credit on an opportunity.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct MyAttribution {
    /// Its part in the deal.
    pub role: AttributionRole,
    /// Its share of the credit, between 0 and 1.
    pub credit: Decimal,
}

fn credit(bps: i32) -> Decimal {
    Decimal(inputs::Weight::from_basis_points(bps).as_decimal())
}

/// A sales opportunity.
// Serial: a page row's fields are in memory, and concurrent resolution costs
// a task per field; rows still resolve side by side, so loaders batch
// across the page.
#[Object(serial)]
impl Opportunity {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::Opportunity, self.head().id))
    }

    /// Display name.
    async fn name(&self) -> &str {
        self.head().name
    }

    /// The customer company's name.
    async fn company_name(&self) -> &str {
        self.head().company_name
    }

    /// The customer company's domain.
    async fn company_domain(&self, ctx: &Context<'_>) -> ApiResult<&str> {
        let model = self.model(ctx).await?;
        Ok(&model.company_domain)
    }

    /// Where it came from.
    async fn source(&self) -> OpportunitySource {
        self.head().source.into()
    }

    /// Its stage.
    async fn stage(&self) -> OpportunityStage {
        self.head().stage.into()
    }

    /// The next step agreed.
    async fn next_step(&self, ctx: &Context<'_>) -> ApiResult<Option<&str>> {
        let model = self.model(ctx).await?;
        Ok(model.next_step.as_deref())
    }

    /// The deal's value.
    async fn amount(&self) -> Money {
        let head = self.head();
        money_of(head.amount_minor, head.currency)
    }

    /// When it is expected to close.
    async fn expected_close_date(&self) -> Date {
        Date(self.head().expected_close_date)
    }

    /// When it closed.
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.head().closed_at
    }

    /// Why it was lost.
    async fn closed_lost_reason(&self, ctx: &Context<'_>) -> ApiResult<Option<&str>> {
        let model = self.model(ctx).await?;
        Ok(model.closed_lost_reason.as_deref())
    }

    /// The registration it came from.
    async fn deal_registration(&self, ctx: &Context<'_>) -> ApiResult<Option<DealRegistration>> {
        if let Some(listed) = self.listed() {
            return Ok(listed.registration.clone());
        }
        let Some(id) = self.head().deal_registration_id else {
            return Ok(None);
        };
        let scope = crate::policy::RowScope::of(&context::request(ctx)?.principal);
        Ok(loaders::load(ctx, RegistrationById(id, scope))
            .await?
            .map(DealRegistration::from))
    }

    /// The calling partner's own role and credit; null for staff.
    async fn my_attribution(&self, ctx: &Context<'_>) -> ApiResult<Option<MyAttribution>> {
        let request = context::request(ctx)?;
        let Some(partner_id) = request.principal.partner_id else {
            return Ok(None);
        };
        let loaded;
        let own = match self.listed() {
            Some(listed) => listed.own_attribution.as_ref(),
            None => {
                let key = AttributionOfPartner {
                    opportunity_id: self.head().id,
                    partner_id,
                };
                loaded = loaders::load(ctx, key).await?;
                loaded.as_ref()
            }
        };
        Ok(own.map(|a| MyAttribution {
            role: a.role.into(),
            credit: credit(a.credit_bps),
        }))
    }

    /// Every partner credited on the opportunity.
    async fn attributions(&self, ctx: &Context<'_>) -> ApiResult<Vec<Attribution>> {
        let scope = crate::policy::RowScope::of(&context::request(ctx)?.principal);
        let mut all = Vec::new();
        for a in loaders::load(ctx, AttributionsOf(self.head().id))
            .await?
            .unwrap_or_default()
        {
            let partner = loaders::load(ctx, PartnerById(a.partner_id, scope))
                .await?
                .map(Partner::from);
            all.push(Attribution {
                partner,
                role: a.role.into(),
                credit: credit(a.credit_bps),
            });
        }
        Ok(all)
    }

    /// The opportunity's ids in outside systems (CRMs).
    async fn external_ids(&self, ctx: &Context<'_>) -> ApiResult<Vec<ExternalId>> {
        Ok(
            loaders::load(ctx, loaders::ExternalIdsOfOpportunity(self.head().id))
                .await?
                .unwrap_or_default()
                .into_iter()
                .map(|e| ExternalId {
                    system: e.system,
                    id: e.external_id,
                })
                .collect(),
        )
    }

    /// Discount granted, in percent.
    async fn discount_percent(&self, ctx: &Context<'_>) -> ApiResult<Option<Decimal>> {
        let model = self.model(ctx).await?;
        Ok(model
            .discount_bps
            .map(|b| Decimal(Percent::from_basis_points(b).as_decimal())))
    }

    /// Margin, in percent.
    async fn margin_percent(&self, ctx: &Context<'_>) -> ApiResult<Option<Decimal>> {
        let model = self.model(ctx).await?;
        Ok(model
            .margin_bps
            .map(|b| Decimal(Percent::from_basis_points(b).as_decimal())))
    }

    /// What is known about competitors.
    async fn competitor_intel(&self, ctx: &Context<'_>) -> ApiResult<Option<&str>> {
        let model = self.model(ctx).await?;
        Ok(model.competitor_intel.as_deref())
    }

    /// Notes for staff only.
    async fn internal_notes(&self, ctx: &Context<'_>) -> ApiResult<Option<&str>> {
        let model = self.model(ctx).await?;
        Ok(model.internal_notes.as_deref())
    }

    /// The staff user who owns the deal (rep adoption counts by owner).
    async fn owner(&self, ctx: &Context<'_>) -> ApiResult<Option<super::partners::StaffUser>> {
        let Some(owner_id) = self.model(ctx).await?.owner_id else {
            return Ok(None);
        };
        Ok(loaders::load(ctx, loaders::StaffUserId(owner_id))
            .await?
            .map(super::partners::StaffUser::from))
    }

    /// Bumped by every change.
    async fn version(&self) -> i32 {
        self.head().version
    }
}

connection!(
    DealRegistrationConnection,
    DealRegistrationEdge,
    DealRegistration,
    "deal registrations"
);

/// Narrows the `dealRegistrations` list; all given conditions must hold.
#[derive(InputObject, Default)]
pub struct DealRegistrationFilterInput {
    /// Only registrations in one of these statuses.
    pub status: Option<Vec<DealRegistrationStatus>>,
    /// Only this partner's registrations.
    pub partner_id: Option<ID>,
    /// Only registrations submitted at or after this time.
    pub submitted_from: Option<DateTime<Utc>>,
    /// Only registrations submitted before this time.
    pub submitted_to: Option<DateTime<Utc>>,
    /// Only approved registrations whose protection ends within this many days.
    pub expiring_within_days: Option<i32>,
    /// Only registrations decided (or still undecided) past their SLA (true) or not (false).
    pub sla_breached: Option<bool>,
}

/// The registrations matching `filter`, as a connection.
pub async fn registrations_of(
    ctx: &Context<'_>,
    filter: RegistrationFilter,
    page: crate::service::pagination::PageArgs,
) -> ApiResult<DealRegistrationConnection> {
    let request = context::request(ctx)?;
    request.principal.authorize(Action::ReadRegistrations)?;
    let page = service::list(context::db(ctx)?, &request.caller(), filter, page).await?;
    Ok(DealRegistrationConnection::from_page(
        page,
        DealRegistration::from,
    ))
}

/// One of a list's partners' registrations, as a connection, read with
/// those of its siblings.
pub async fn nested_registrations(
    ctx: &Context<'_>,
    partner_id: uuid::Uuid,
    page: crate::service::pagination::PageArgs,
) -> ApiResult<DealRegistrationConnection> {
    context::request(ctx)?
        .principal
        .authorize(Action::ReadRegistrations)?;
    let page =
        super::loaders::nested_page(ctx, service::RegistrationsOfPartner, partner_id, page).await?;
    Ok(DealRegistrationConnection::from_page(
        page,
        DealRegistration::from,
    ))
}

#[derive(Default)]
pub struct RegistrationQuery;

#[Object]
impl RegistrationQuery {
    /// Deal registrations you may see, newest first. Needs `registrations:read`.
    async fn deal_registrations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions the registrations must meet.")] filter: Option<
            DealRegistrationFilterInput,
        >,
        #[graphql(desc = "Return the first n registrations (at most 100; default 20).")]
        first: Option<i32>,
        #[graphql(desc = "Return registrations after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n registrations (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Return registrations before this cursor.")] before: Option<String>,
    ) -> ApiResult<DealRegistrationConnection> {
        let filter = filter.unwrap_or_default();
        let page = page_args(ctx, first, after, last, before);
        let Ok(partner_id) = filter_id(filter.partner_id, NodeType::Partner) else {
            let page =
                empty_page::<deal_registration::Model>(ctx, Action::ReadRegistrations, &page)?;
            return Ok(DealRegistrationConnection::from_page(
                page,
                DealRegistration::from,
            ));
        };
        let filter = RegistrationFilter {
            statuses: stored_all(filter.status),
            partner_id,
            submitted_from: filter.submitted_from,
            submitted_to: filter.submitted_to,
            expiring_within_days: filter.expiring_within_days,
            sla_breached: filter.sla_breached,
        };
        registrations_of(ctx, filter, page).await
    }
}

/// An amount of money as input.
#[derive(InputObject)]
pub struct MoneyInput {
    /// The amount, e.g. `"25000.00"`.
    pub amount: Decimal,
    /// ISO 4217 currency code, e.g. `EUR`.
    pub currency: String,
}

/// A deal to register.
#[derive(InputObject)]
pub struct SubmitDealRegistrationInput {
    /// The partner (staff only, who register on a partner's behalf).
    pub partner_id: Option<ID>,
    /// The customer company's name.
    pub company_name: String,
    /// The customer company's domain, e.g. `acme.com`.
    pub company_domain: String,
    /// The customer's contact person.
    pub customer_contact_name: String,
    /// The customer contact's e-mail address.
    pub customer_contact_email: String,
    /// The deal's estimated value; more than zero.
    pub estimated_amount: MoneyInput,
    /// When the deal is expected to close; not in the past.
    pub expected_close_date: Date,
    /// The product concerned.
    pub product: Option<String>,
    /// Notes for the reviewer.
    pub notes: Option<String>,
}

/// Changes to an undecided registration; absent fields stay as they are.
#[derive(InputObject)]
pub struct UpdateDealRegistrationInput {
    /// The registration's global id.
    pub id: ID,
    /// The `version` you read.
    pub expected_version: i32,
    /// New customer contact name.
    pub customer_contact_name: Option<String>,
    /// New customer contact e-mail address.
    pub customer_contact_email: Option<String>,
    /// New estimated value.
    pub estimated_amount: Option<MoneyInput>,
    /// New expected close date.
    pub expected_close_date: Option<Date>,
    /// New product; null clears it.
    pub product: MaybeUndefined<String>,
    /// New notes; null clears them.
    pub notes: MaybeUndefined<String>,
    /// New internal notes (staff); null clears them.
    pub internal_notes: MaybeUndefined<String>,
}

/// A registration to act on.
#[derive(InputObject)]
pub struct DealRegistrationIdInput {
    /// The registration's global id.
    pub id: ID,
}

/// An approval.
#[derive(InputObject)]
pub struct ApproveDealRegistrationInput {
    /// The registration's global id.
    pub id: ID,
    /// Protection length in days, 1 to 365; the program setting when absent.
    pub protection_days: Option<i32>,
}

/// A rejection.
#[derive(InputObject)]
pub struct RejectDealRegistrationInput {
    /// The registration's global id.
    pub id: ID,
    /// Why; the partner sees it.
    pub reason: String,
}

/// An extension of protection.
#[derive(InputObject)]
pub struct ExtendDealRegistrationInput {
    /// The registration's global id.
    pub id: ID,
    /// Days to add, up to the program's limit per extension.
    pub days: i32,
    /// Why.
    pub reason: String,
}

/// A decision on a registration conflict.
#[derive(InputObject)]
pub struct ResolveRegistrationConflictInput {
    /// The conflict's global id.
    pub conflict_id: ID,
    /// The decision, seen from the registration under review.
    pub resolution: ConflictResolution,
    /// Why; kept for audit.
    pub rationale: String,
}

/// The result of a deal registration mutation.
#[derive(SimpleObject)]
pub struct DealRegistrationPayload {
    /// The registration, unless `userErrors` says why not.
    pub deal_registration: Option<DealRegistration>,
    /// Why the input was refused; empty on success.
    pub user_errors: Vec<UserError>,
}

pub(super) fn payload(
    (registration, user_errors): (Option<deal_registration::Model>, Vec<UserError>),
) -> DealRegistrationPayload {
    DealRegistrationPayload {
        deal_registration: registration.map(DealRegistration::from),
        user_errors,
    }
}

fn registration_id(id: &ID) -> Result<Uuid, Failure> {
    input_id("id", NodeType::DealRegistration, id)
}

pub fn money_input(check: &mut InputCheck, field: &str, input: MoneyInput) -> Option<money::Money> {
    let currency = check.field(field, inputs::CurrencyCode::parse(&input.currency))?;
    let parsed = check.field(field, money::Money::from_decimal(input.amount.0, currency))?;
    if parsed.minor_units <= 0 {
        check.reject(UserError::on_field(
            field,
            UserErrorCode::InvalidValue,
            "must be more than zero",
        ));
        return None;
    }
    Some(parsed)
}

/// A decision's two fields: the registration and the reason the partner sees.
pub(super) fn registration_and_reason(id: &ID, why: String) -> Result<(Uuid, String), Failure> {
    InputCheck::parse(|check| {
        let id = check.id("id", NodeType::DealRegistration, id);
        let why = check.field("reason", reason(why));
        Some((id?, why?))
    })
}

fn reason(raw: String) -> Result<String, InvalidInput> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        Err(InvalidInput("a reason is required".into()))
    } else if trimmed.chars().count() > 2000 {
        Err(InvalidInput("must be at most 2000 characters".into()))
    } else {
        Ok(trimmed.to_owned())
    }
}

#[derive(Default)]
pub struct RegistrationMutation;

#[Object]
impl RegistrationMutation {
    /// Registers a deal: a partner for itself, staff on a partner's behalf.
    /// Needs `registrations:write`.
    async fn submit_deal_registration(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The deal.")] input: SubmitDealRegistrationInput,
    ) -> ApiResult<DealRegistrationPayload> {
        mutate(ctx, Action::SubmitRegistrations, |request| async move {
            let today = request.now.date_naive();
            let new = InputCheck::parse(|check| {
                let partner_id = input
                    .partner_id
                    .and_then(|id| check.id("partnerId", NodeType::Partner, &id));
                let company_name =
                    check.field("companyName", DisplayName::parse(&input.company_name));
                let company_domain = check.field(
                    "companyDomain",
                    service::parse_company_domain(&input.company_domain).map_err(InvalidInput),
                );
                let customer_contact_name = check.field(
                    "customerContactName",
                    DisplayName::parse(&input.customer_contact_name),
                );
                let customer_contact_email = check.field(
                    "customerContactEmail",
                    EmailAddress::parse(&input.customer_contact_email),
                );
                let estimated_amount =
                    money_input(check, "estimatedAmount", input.estimated_amount);
                let expected_close_date = check.field(
                    "expectedCloseDate",
                    inputs::close_date(input.expected_close_date.0, today),
                );
                let product = check.optional("product", input.product, free_text);
                let notes = check.optional("notes", input.notes, free_text);
                Some(NewRegistration {
                    partner_id,
                    company_name: company_name?,
                    company_domain: company_domain?,
                    customer_contact_name: customer_contact_name?,
                    customer_contact_email: customer_contact_email?,
                    estimated_amount: estimated_amount?,
                    expected_close_date: expected_close_date?,
                    product,
                    notes,
                })
            })?;
            service::submit(context::db(ctx)?, &request.caller(), new).await
        })
        .await
        .map(payload)
    }

    /// Changes an undecided registration. Needs `registrations:write`.
    async fn update_deal_registration(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The changes.")] input: UpdateDealRegistrationInput,
    ) -> ApiResult<DealRegistrationPayload> {
        mutate(ctx, Action::SubmitRegistrations, |request| async move {
            let today = request.now.date_naive();
            let (id, changes) = InputCheck::parse(|check| {
                let id = check.id("id", NodeType::DealRegistration, &input.id);
                let changes = RegistrationChanges {
                    customer_contact_name: check.optional(
                        "customerContactName",
                        input.customer_contact_name,
                        |n| DisplayName::parse(&n),
                    ),
                    customer_contact_email: check.optional(
                        "customerContactEmail",
                        input.customer_contact_email,
                        |e| EmailAddress::parse(&e),
                    ),
                    estimated_amount: input
                        .estimated_amount
                        .and_then(|m| money_input(check, "estimatedAmount", m)),
                    expected_close_date: check.optional(
                        "expectedCloseDate",
                        input.expected_close_date,
                        |d: Date| inputs::close_date(d.0, today),
                    ),
                    product: check.clearable("product", input.product, free_text),
                    notes: check.clearable("notes", input.notes, free_text),
                    internal_notes: check.clearable(
                        "internalNotes",
                        input.internal_notes,
                        free_text,
                    ),
                };
                Some((id?, changes))
            })?;
            service::update(
                context::db(ctx)?,
                &request.caller(),
                id,
                input.expected_version,
                changes,
            )
            .await
        })
        .await
        .map(payload)
    }

    /// Withdraws an undecided registration. Needs `registrations:write`.
    async fn withdraw_deal_registration(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The registration.")] input: DealRegistrationIdInput,
    ) -> ApiResult<DealRegistrationPayload> {
        mutate(ctx, Action::SubmitRegistrations, |request| async move {
            let id = registration_id(&input.id)?;
            service::withdraw(context::db(ctx)?, &request.caller(), id).await
        })
        .await
        .map(payload)
    }

    /// Approves a registration: protection starts and the partner-sourced
    /// opportunity is created at `REGISTERED`. Needs `PARTNER_MANAGER` or `ADMIN` and `registrations:write`.
    async fn approve_deal_registration(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The registration and, optionally, its protection length.")]
        input: ApproveDealRegistrationInput,
    ) -> ApiResult<DealRegistrationPayload> {
        mutate(ctx, Action::ReviewRegistrations, |request| async move {
            let id = registration_id(&input.id)?;
            service::approve(
                context::db(ctx)?,
                &request.caller(),
                id,
                input.protection_days,
            )
            .await
        })
        .await
        .map(payload)
    }

    /// Rejects a registration, with a reason the partner sees. Needs `PARTNER_MANAGER` or `ADMIN` and `registrations:write`.
    async fn reject_deal_registration(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The registration and the reason.")] input: RejectDealRegistrationInput,
    ) -> ApiResult<DealRegistrationPayload> {
        mutate(ctx, Action::ReviewRegistrations, |request| async move {
            let (id, why) = registration_and_reason(&input.id, input.reason)?;
            service::reject(context::db(ctx)?, &request.caller(), id, why).await
        })
        .await
        .map(payload)
    }

    /// Extends an approved registration's protection. Needs `PARTNER_MANAGER` or `ADMIN` and `registrations:write`.
    async fn extend_deal_registration(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The registration, the days to add and the reason.")]
        input: ExtendDealRegistrationInput,
    ) -> ApiResult<DealRegistrationPayload> {
        mutate(ctx, Action::ReviewRegistrations, |request| async move {
            let (id, why) = registration_and_reason(&input.id, input.reason)?;
            service::extend(context::db(ctx)?, &request.caller(), id, input.days, why).await
        })
        .await
        .map(payload)
    }

    /// Decides a registration conflict; both parties' registrations move
    /// accordingly. Needs `PARTNER_MANAGER` or `ADMIN` and `registrations:write`.
    async fn resolve_registration_conflict(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The conflict, the decision and its rationale.")]
        input: ResolveRegistrationConflictInput,
    ) -> ApiResult<DealRegistrationPayload> {
        mutate(ctx, Action::ReviewRegistrations, |request| async move {
            let (conflict, rationale) = InputCheck::parse(|check| {
                let conflict = check.id(
                    "conflictId",
                    NodeType::RegistrationConflict,
                    &input.conflict_id,
                );
                let rationale = check.field("rationale", reason(input.rationale));
                Some((conflict?, rationale?))
            })?;
            service::resolve_conflict(
                context::db(ctx)?,
                &request.caller(),
                conflict,
                input.resolution.into(),
                rationale,
            )
            .await
        })
        .await
        .map(payload)
    }
}
