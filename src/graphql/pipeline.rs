//! The pipeline: `opportunities` and the mutations that work it.

use async_graphql::{Context, InputObject, MaybeUndefined, Object, SimpleObject, ID};
use entity::opportunity;

use super::{
    connection::{connection, empty_page, filter_id, page_args},
    context,
    enums::{stored_all, AttributionRole, OpportunitySource, OpportunityStage},
    loaders::{self, AttributionsOf, OpportunityById, RegistrationById},
    payload::{mutate, InputCheck},
    registrations::{money_input, DealRegistration, MoneyInput, Opportunity},
    scalars::{Date, Decimal},
};
use crate::{
    auth::Action,
    domain::{
        inputs::{free_text, DisplayName, ExternalKey, InvalidInput, Percent, Weight},
        UserError, UserErrorCode,
    },
    error::ApiResult,
    ids::NodeType,
    service::{
        opportunities::{
            self as service, CrmOpportunity, ListedOpportunity, NewOpportunity, OpportunityChanges,
            OpportunityFilter,
        },
        registrations::parse_company_domain,
    },
};

connection!(
    OpportunityConnection,
    OpportunityEdge,
    Opportunity,
    "opportunities"
);

/// Narrows the `opportunities` list; all given conditions must hold.
#[derive(InputObject, Default)]
pub struct OpportunityFilterInput {
    /// Only opportunities at one of these stages.
    pub stage: Option<Vec<OpportunityStage>>,
    /// Only opportunities from this source.
    pub source: Option<OpportunitySource>,
    /// Only opportunities this partner is credited on.
    pub partner_id: Option<ID>,
    /// Only open (true) or closed (false) opportunities.
    pub open: Option<bool>,
    /// Only opportunities expected to close on or after this date.
    pub expected_close_from: Option<Date>,
    /// Only opportunities expected to close on or before this date.
    pub expected_close_to: Option<Date>,
}

/// The opportunities matching `filter`, as a connection.
pub async fn opportunities_of(
    ctx: &Context<'_>,
    filter: OpportunityFilter,
    page: crate::service::pagination::PageArgs,
) -> ApiResult<OpportunityConnection> {
    let request = context::request(ctx)?;
    request.principal.authorize(Action::ReadPipeline)?;
    let page = service::list(context::db(ctx)?, &request.caller(), filter, page).await?;
    prefetch_relations(ctx, &page).await?;
    Ok(OpportunityConnection::from_page(page, Opportunity::from))
}

/// One of a list's partners' opportunities, as a connection, read with
/// those of its siblings.
pub async fn nested_opportunities(
    ctx: &Context<'_>,
    partner_id: uuid::Uuid,
    page: crate::service::pagination::PageArgs,
) -> ApiResult<OpportunityConnection> {
    context::request(ctx)?
        .principal
        .authorize(Action::ReadPipeline)?;
    let page =
        super::loaders::nested_page(ctx, service::OpportunitiesOfPartner, partner_id, page).await?;
    prefetch_relations(ctx, &page).await?;
    Ok(OpportunityConnection::from_page(page, Opportunity::from))
}

/// Loads, one batch each, what the query selects beyond what the page
/// query read (each opportunity's and registration's summary and the
/// caller's own attribution): whole opportunities or registrations when it
/// asks for more than their summaries, and every partner credited, and those
/// partners, when it selects `attributions`.
async fn prefetch_relations(
    ctx: &Context<'_>,
    page: &crate::service::pagination::Page<ListedOpportunity>,
) -> ApiResult<()> {
    let scope = crate::policy::RowScope::of(&context::request(ctx)?.principal);
    let node = ctx.look_ahead().field("edges").field("node");
    if beyond(&node, Opportunity::SUMMARY_FIELDS) {
        let opportunities = page
            .edges
            .iter()
            .map(|(_, row)| OpportunityById(row.opportunity.id, scope));
        loaders::prefetch(ctx, opportunities).await?;
    }
    let registration = node.field("dealRegistration");
    if beyond(&registration, DealRegistration::SUMMARY_FIELDS) {
        let registrations = page
            .edges
            .iter()
            .filter_map(|(_, row)| row.registration.as_ref())
            .map(|summary| RegistrationById(summary.id, scope));
        loaders::prefetch(ctx, registrations).await?;
    }
    let attributions = node.field("attributions");
    if !attributions.exists() {
        return Ok(());
    }
    let opportunities = page.edges.iter().map(|(_, row)| row.opportunity.id);
    if attributions.field("partner").exists() {
        loaders::prefetch_attributions_with_partners(ctx, opportunities, scope).await
    } else {
        loaders::prefetch(ctx, opportunities.map(AttributionsOf)).await?;
        Ok(())
    }
}

/// Whether the selection of `field` asks for anything outside `summary`.
fn beyond(field: &async_graphql::Lookahead<'_>, summary: &[&str]) -> bool {
    field.selection_fields().iter().any(|field| {
        field
            .selection_set()
            .any(|child| !summary.contains(&child.name()))
    })
}

#[derive(Default)]
pub struct PipelineQuery;

#[Object]
impl PipelineQuery {
    /// Opportunities you may see, newest first (a partner: those it is credited on). Needs `pipeline:read`.
    async fn opportunities(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions the opportunities must meet.")] filter: Option<
            OpportunityFilterInput,
        >,
        #[graphql(desc = "Return the first n opportunities (at most 100; default 20).")]
        first: Option<i32>,
        #[graphql(desc = "Return opportunities after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n opportunities (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Return opportunities before this cursor.")] before: Option<String>,
    ) -> ApiResult<OpportunityConnection> {
        let filter = filter.unwrap_or_default();
        let page = page_args(ctx, first, after, last, before);
        let Ok(partner_id) = filter_id(filter.partner_id, NodeType::Partner) else {
            let page = empty_page::<ListedOpportunity>(ctx, Action::ReadPipeline, &page)?;
            return Ok(OpportunityConnection::from_page(page, Opportunity::from));
        };
        let filter = OpportunityFilter {
            stages: stored_all(filter.stage),
            source: filter.source.map(Into::into),
            partner_id,
            open: filter.open,
            expected_close_from: filter.expected_close_from.map(|d| d.0),
            expected_close_to: filter.expected_close_to.map(|d| d.0),
        };
        opportunities_of(ctx, filter, page).await
    }
}

/// A direct opportunity.
#[derive(InputObject)]
pub struct CreateOpportunityInput {
    /// Display name.
    pub name: String,
    /// The customer company's name.
    pub company_name: String,
    /// The customer company's domain.
    pub company_domain: String,
    /// The deal's value; more than zero.
    pub amount: MoneyInput,
    /// When it is expected to close.
    pub expected_close_date: Date,
    /// The next step agreed.
    pub next_step: Option<String>,
    /// The owning staff user; you when absent.
    pub owner_id: Option<ID>,
    /// Discount in percent.
    pub discount_percent: Option<Decimal>,
    /// Margin in percent.
    pub margin_percent: Option<Decimal>,
    /// What is known about competitors.
    pub competitor_intel: Option<String>,
    /// Notes for staff only.
    pub internal_notes: Option<String>,
}

/// Changes to an opportunity; absent fields stay as they are, `null` clears.
#[derive(InputObject)]
pub struct UpdateOpportunityInput {
    /// The opportunity's global id.
    pub id: ID,
    /// The `version` you read.
    pub expected_version: i32,
    /// New display name.
    pub name: Option<String>,
    /// New next step.
    pub next_step: MaybeUndefined<String>,
    /// New value (not on CRM-linked opportunities).
    pub amount: Option<MoneyInput>,
    /// New expected close date (not on CRM-linked opportunities).
    pub expected_close_date: Option<Date>,
    /// New discount in percent.
    pub discount_percent: MaybeUndefined<Decimal>,
    /// New margin in percent.
    pub margin_percent: MaybeUndefined<Decimal>,
    /// New competitor intelligence.
    pub competitor_intel: MaybeUndefined<String>,
    /// New internal notes.
    pub internal_notes: MaybeUndefined<String>,
}

/// A stage move.
#[derive(InputObject)]
pub struct MoveOpportunityStageInput {
    /// The opportunity's global id.
    pub id: ID,
    /// The new stage.
    pub stage: OpportunityStage,
    /// The `version` you read, if the move should be refused when the opportunity changed since.
    pub expected_version: Option<i32>,
    /// Why it was lost; required for `CLOSED_LOST`.
    pub closed_lost_reason: Option<String>,
}

/// A closed opportunity to reopen.
#[derive(InputObject)]
pub struct ReopenOpportunityInput {
    /// The opportunity's global id.
    pub id: ID,
    /// The open stage to reopen at.
    pub stage: OpportunityStage,
}

/// A partner to credit.
#[derive(InputObject)]
pub struct AddOpportunityPartnerInput {
    /// The opportunity's global id.
    pub opportunity_id: ID,
    /// The partner's global id.
    pub partner_id: ID,
    /// Its part in the deal.
    pub role: AttributionRole,
    /// For `CO_SELL`: its share of the credit, 0 to 1 (0.5 when absent).
    pub credit: Option<Decimal>,
}

/// A partner credit to remove.
#[derive(InputObject)]
pub struct RemoveOpportunityPartnerInput {
    /// The opportunity's global id.
    pub opportunity_id: ID,
    /// The partner's global id.
    pub partner_id: ID,
}

/// An opportunity as a CRM knows it.
#[derive(InputObject)]
pub struct UpsertOpportunityByExternalIdInput {
    /// The CRM, e.g. `salesforce`.
    pub system: String,
    /// The opportunity's id in that CRM.
    pub external_id: String,
    /// The opportunity to link when the CRM id is not linked yet, e.g. the
    /// one a registration's approval opened; it is updated instead of a new
    /// one being created.
    pub opportunity_id: Option<ID>,
    /// Or the reference (`DR-…`) of the registration whose opportunity to link.
    pub registration_reference: Option<String>,
    /// Display name.
    pub name: String,
    /// The customer company's name.
    pub company_name: String,
    /// The customer company's domain.
    pub company_domain: String,
    /// The stage in the CRM.
    pub stage: OpportunityStage,
    /// The value in the CRM.
    pub amount: MoneyInput,
    /// The close date in the CRM.
    pub expected_close_date: Date,
}

/// The result of an opportunity mutation.
#[derive(SimpleObject)]
pub struct OpportunityPayload {
    /// The opportunity, unless `userErrors` says why not.
    pub opportunity: Option<Opportunity>,
    /// Why the input was refused; empty on success.
    pub user_errors: Vec<UserError>,
}

fn payload(
    (opportunity, user_errors): (Option<opportunity::Model>, Vec<UserError>),
) -> OpportunityPayload {
    OpportunityPayload {
        opportunity: opportunity.map(Opportunity::from),
        user_errors,
    }
}

/// The account and money fields every new opportunity needs.
fn new_opportunity(
    check: &mut InputCheck,
    name: &str,
    company_name: &str,
    company_domain: &str,
    amount: MoneyInput,
) -> Option<(
    DisplayName,
    DisplayName,
    String,
    crate::domain::money::Money,
)> {
    let name = check.field("name", DisplayName::parse(name));
    let company_name = check.field("companyName", DisplayName::parse(company_name));
    let domain = check.field(
        "companyDomain",
        parse_company_domain(company_domain).map_err(InvalidInput),
    );
    let amount = money_input(check, "amount", amount);
    Some((name?, company_name?, domain?, amount?))
}

#[derive(Default)]
pub struct PipelineMutation;

#[Object]
impl PipelineMutation {
    /// Creates a direct opportunity; partner registrations on the same account
    /// go to review with a conflict. Needs `SALES`, `PARTNER_MANAGER` or `ADMIN` and `pipeline:write`.
    async fn create_opportunity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The opportunity.")] input: CreateOpportunityInput,
    ) -> ApiResult<OpportunityPayload> {
        mutate(ctx, Action::CreateOpportunities, |request| async move {
            let new = InputCheck::parse(|check| {
                let basics = new_opportunity(
                    check,
                    &input.name,
                    &input.company_name,
                    &input.company_domain,
                    input.amount,
                );
                let owner_id = input
                    .owner_id
                    .and_then(|id| check.id("ownerId", NodeType::StaffUser, &id));
                let discount = check.optional("discountPercent", input.discount_percent, |d| {
                    Percent::parse(d.0)
                });
                let margin = check.optional("marginPercent", input.margin_percent, |d| {
                    Percent::parse(d.0)
                });
                let next_step = check.optional("nextStep", input.next_step, free_text);
                let competitor_intel =
                    check.optional("competitorIntel", input.competitor_intel, free_text);
                let internal_notes =
                    check.optional("internalNotes", input.internal_notes, free_text);
                let (name, company_name, company_domain, amount) = basics?;
                Some(NewOpportunity {
                    name,
                    company_name,
                    company_domain,
                    amount,
                    expected_close_date: input.expected_close_date.0,
                    next_step,
                    owner_id,
                    discount,
                    margin,
                    competitor_intel,
                    internal_notes,
                })
            })?;
            service::create(context::db(ctx)?, &request.caller(), new).await
        })
        .await
        .map(payload)
    }

    /// Changes an opportunity. Partners may change only the next step of
    /// opportunities they source. Needs `pipeline:write`.
    async fn update_opportunity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The changes.")] input: UpdateOpportunityInput,
    ) -> ApiResult<OpportunityPayload> {
        mutate(ctx, Action::WritePipeline, |request| async move {
            let (id, changes) = InputCheck::parse(|check| {
                let id = check.id("id", NodeType::Opportunity, &input.id);
                let changes = OpportunityChanges {
                    next_step: check.clearable("nextStep", input.next_step, free_text),
                    name: check.optional("name", input.name, |n| DisplayName::parse(&n)),
                    amount: input.amount.and_then(|m| money_input(check, "amount", m)),
                    expected_close_date: input.expected_close_date.map(|d| d.0),
                    discount: check.clearable("discountPercent", input.discount_percent, |d| {
                        Percent::parse(d.0)
                    }),
                    margin: check.clearable("marginPercent", input.margin_percent, |d| {
                        Percent::parse(d.0)
                    }),
                    competitor_intel: check.clearable(
                        "competitorIntel",
                        input.competitor_intel,
                        free_text,
                    ),
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

    /// Moves an opportunity to another stage. Open stages move either way;
    /// `CLOSED_LOST` needs a reason; closed is final. Partners move only
    /// opportunities they source, never to `CLOSED_WON`. Needs `pipeline:write`.
    async fn move_opportunity_stage(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The opportunity and its new stage.")] input: MoveOpportunityStageInput,
    ) -> ApiResult<OpportunityPayload> {
        mutate(ctx, Action::WritePipeline, |request| async move {
            let id = InputCheck::parse(|check| check.id("id", NodeType::Opportunity, &input.id))?;
            service::move_stage(
                context::db(ctx)?,
                &request.caller(),
                id,
                input.stage.into(),
                input.expected_version,
                input.closed_lost_reason,
            )
            .await
        })
        .await
        .map(payload)
    }

    /// Reopens a closed opportunity. Needs `ADMIN` and `pipeline:write`.
    async fn reopen_opportunity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The opportunity and the stage to reopen at.")]
        input: ReopenOpportunityInput,
    ) -> ApiResult<OpportunityPayload> {
        mutate(ctx, Action::ReopenOpportunities, |request| async move {
            let id = InputCheck::parse(|check| check.id("id", NodeType::Opportunity, &input.id))?;
            service::reopen(context::db(ctx)?, &request.caller(), id, input.stage.into()).await
        })
        .await
        .map(payload)
    }

    /// Credits a partner on an opportunity (at most one `SOURCED`; `SALES`
    /// may add `INFLUENCED` only). Needs `pipeline:write`.
    async fn add_opportunity_partner(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The opportunity, partner and role.")] input: AddOpportunityPartnerInput,
    ) -> ApiResult<OpportunityPayload> {
        mutate(ctx, Action::AttributeOpportunities, |request| async move {
            let (id, partner_id) = InputCheck::parse(|check| {
                let id = check.id(
                    "opportunityId",
                    NodeType::Opportunity,
                    &input.opportunity_id,
                );
                let partner_id = check.id("partnerId", NodeType::Partner, &input.partner_id);
                Some((id?, partner_id?))
            })?;
            let credit = InputCheck::parse(|check| {
                if !request.principal.may_credit(input.role.into()) {
                    check.reject(UserError::on_field(
                        "role",
                        UserErrorCode::InvalidValue,
                        "sales may add INFLUENCED attribution only",
                    ));
                }
                Some(check.optional("credit", input.credit, |c| Weight::parse(c.0)))
            })?;
            service::add_partner(
                context::db(ctx)?,
                &request.caller(),
                id,
                partner_id,
                input.role.into(),
                credit,
            )
            .await
        })
        .await
        .map(payload)
    }

    /// Removes a partner's credit from an opportunity. Needs `PARTNER_MANAGER` or `ADMIN` and `pipeline:write`.
    async fn remove_opportunity_partner(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The opportunity and partner.")] input: RemoveOpportunityPartnerInput,
    ) -> ApiResult<OpportunityPayload> {
        mutate(ctx, Action::AttributeOpportunities, |request| async move {
            let (id, partner_id) = InputCheck::parse(|check| {
                if !request.principal.may(Action::RemoveAttribution) {
                    // Refused before the ids are read, as it always was.
                    check.reject(UserError::on_field(
                        "partnerId",
                        UserErrorCode::InvalidValue,
                        "sales cannot remove attribution",
                    ));
                    return None;
                }
                let id = check.id(
                    "opportunityId",
                    NodeType::Opportunity,
                    &input.opportunity_id,
                );
                let partner_id = check.id("partnerId", NodeType::Partner, &input.partner_id);
                Some((id?, partner_id?))
            })?;
            service::remove_partner(context::db(ctx)?, &request.caller(), id, partner_id).await
        })
        .await
        .map(payload)
    }

    /// Creates or updates the opportunity a CRM knows by `(system, externalId)`,
    /// idempotently. When the CRM id is not linked yet, `opportunityId` or
    /// `registrationReference` names an existing opportunity to link and
    /// update instead of creating one; a new opportunity is direct, and
    /// partner registrations holding its account get a conflict. The CRM
    /// owns stage, amount and close date; attribution is never touched.
    /// Needs `SALES`, `PARTNER_MANAGER` or `ADMIN` and `pipeline:write`.
    async fn upsert_opportunity_by_external_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The opportunity as the CRM knows it.")]
        input: UpsertOpportunityByExternalIdInput,
    ) -> ApiResult<OpportunityPayload> {
        mutate(ctx, Action::CreateOpportunities, |request| async move {
            let crm = InputCheck::parse(|check| {
                let system = check.field("system", ExternalKey::system(&input.system));
                let external_id =
                    check.field("externalId", ExternalKey::external_id(&input.external_id));
                let opportunity_id = input
                    .opportunity_id
                    .and_then(|id| check.id("opportunityId", NodeType::Opportunity, &id));
                let registration_reference = input
                    .registration_reference
                    .map(|r| r.trim().to_owned())
                    .filter(|r| !r.is_empty());
                let basics = new_opportunity(
                    check,
                    &input.name,
                    &input.company_name,
                    &input.company_domain,
                    input.amount,
                );
                let (name, company_name, company_domain, amount) = basics?;
                let opportunity = NewOpportunity {
                    name,
                    company_name,
                    company_domain,
                    amount,
                    expected_close_date: input.expected_close_date.0,
                    next_step: None,
                    owner_id: None,
                    discount: None,
                    margin: None,
                    competitor_intel: None,
                    internal_notes: None,
                };
                Some(CrmOpportunity {
                    key: ExternalKey {
                        system: system?,
                        external_id: external_id?,
                    },
                    opportunity,
                    stage: input.stage.into(),
                    opportunity_id,
                    registration_reference,
                })
            })?;
            service::upsert_by_external_id(context::db(ctx)?, &request.caller(), crm).await
        })
        .await
        .map(payload)
    }
}
