//! Partners, their contacts and owners: types, queries and mutations.

use async_graphql::{Context, Enum, InputObject, MaybeUndefined, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use entity::{partner, partner_contact, staff_user};
use uuid::Uuid;

use super::{
    connection::{connection, page_args},
    context,
    enums::{stored_all, PartnerContactRole, PartnerStatus, PartnerTier, PartnerType, Role},
    loaders::{self, StaffUserId},
    payload::{mutate, InputCheck},
    scalars::Decimal,
    scores::{
        check_window, Engagement, EngagementOf, PartnerPerformance, PerformanceOf, TierOf,
        TierProgress, TierQualification,
    },
};
use crate::{
    auth::Action,
    domain::{
        inputs::{free_text, DisplayName, EmailAddress, Percent, WebsiteUrl},
        OrderDirection, UserError,
    },
    error::{ApiError, ApiResult},
    ids::{self, NodeType},
    service::partners::{
        self as service, ContactChanges, NewContact, NewPartner, PartnerChanges, PartnerFilter,
        PartnerSort,
    },
};

/// A company in the partner program.
pub struct Partner(partner::Model);

impl From<partner::Model> for Partner {
    fn from(model: partner::Model) -> Self {
        Self(model)
    }
}

impl Partner {
    /// The partner with `id`, if the caller may see it.
    pub async fn load(ctx: &Context<'_>, id: Uuid) -> ApiResult<Option<Partner>> {
        let scope = crate::policy::RowScope::of(&context::request(ctx)?.principal);
        Ok(
            super::loaders::load(ctx, super::loaders::PartnerById(id, scope))
                .await?
                .map(Partner),
        )
    }
}

/// A company in the partner program.
#[Object]
impl Partner {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::Partner, self.0.id))
    }

    /// The partner's company name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// What kind of business the partner runs.
    #[graphql(name = "type")]
    async fn partner_type(&self) -> PartnerType {
        self.0.partner_type.into()
    }

    /// Program tier.
    async fn tier(&self) -> PartnerTier {
        self.0.tier.into()
    }

    /// Lifecycle status.
    async fn status(&self) -> PartnerStatus {
        self.0.status.into()
    }

    /// The partner's website.
    async fn website(&self) -> Option<&str> {
        self.0.website.as_deref()
    }

    /// When the partner agreement was signed; the 120-day activation clock starts here.
    async fn signed_at(&self) -> Option<DateTime<Utc>> {
        self.0.signed_at
    }

    /// The staff member who owns the relationship.
    async fn owner(&self, ctx: &Context<'_>) -> ApiResult<Option<StaffUser>> {
        let Some(owner_id) = self.0.owner_id else {
            return Ok(None);
        };
        Ok(loaders::load(ctx, StaffUserId(owner_id))
            .await?
            .map(StaffUser))
    }

    /// Notes for staff only.
    async fn internal_notes(&self) -> Option<&str> {
        self.0.internal_notes.as_deref()
    }

    /// The partner's margin in percent, e.g. `12.5`.
    async fn margin_percent(&self) -> Option<Decimal> {
        self.0
            .margin_bps
            .map(|b| Decimal(Percent::from_basis_points(b).as_decimal()))
    }

    /// The partner's people.
    async fn contacts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n contacts (at most 100; default 20).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Return contacts after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n contacts (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Return contacts before this cursor.")] before: Option<String>,
    ) -> ApiResult<PartnerContactConnection> {
        let page = super::loaders::nested_page(
            ctx,
            service::ContactsOfPartner,
            self.0.id,
            page_args(ctx, first, after, last, before),
        )
        .await?;
        Ok(PartnerContactConnection::from_page(page, PartnerContact))
    }

    /// The 120-day activation runway: milestones with due and achieved dates.
    async fn activation(&self, ctx: &Context<'_>) -> ApiResult<super::activation::Activation> {
        let request = context::request(ctx)?;
        let settings = super::loaders::settings(ctx).await?;
        let achieved: Vec<_> = super::loaders::load(ctx, super::loaders::MilestonesOf(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(|m| (m.milestone, m.achieved_at))
            .collect();
        Ok(crate::domain::activation::runway(
            self.0.signed_at,
            &achieved,
            settings.activation_days,
            request.now,
        )
        .into())
    }

    /// Certifications of the partner's contacts.
    async fn certifications(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n certifications (at most 100; default 20).")]
        first: Option<i32>,
        #[graphql(desc = "Return certifications after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n certifications (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Return certifications before this cursor.")] before: Option<String>,
    ) -> ApiResult<super::certifications::CertificationConnection> {
        super::certifications::nested_certifications(
            ctx,
            crate::service::certifications::CertificationsOf::Partner,
            self.0.id,
            page_args(ctx, first, after, last, before),
        )
        .await
    }

    /// The partner's deal registrations, newest first.
    async fn deal_registrations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n registrations (at most 100; default 20).")]
        first: Option<i32>,
        #[graphql(desc = "Return registrations after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n registrations (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Return registrations before this cursor.")] before: Option<String>,
    ) -> ApiResult<super::registrations::DealRegistrationConnection> {
        super::registrations::nested_registrations(
            ctx,
            self.0.id,
            page_args(ctx, first, after, last, before),
        )
        .await
    }

    /// Opportunities the partner is credited on, newest first.
    async fn opportunities(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n opportunities (at most 100; default 20).")]
        first: Option<i32>,
        #[graphql(desc = "Return opportunities after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n opportunities (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Return opportunities before this cursor.")] before: Option<String>,
    ) -> ApiResult<super::pipeline::OpportunityConnection> {
        super::pipeline::nested_opportunities(
            ctx,
            self.0.id,
            page_args(ctx, first, after, last, before),
        )
        .await
    }

    /// The partner's accruals, newest first (a partner: its own).
    async fn accruals(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only accruals in one of these statuses.")] status: Option<
            Vec<super::enums::AccrualStatus>,
        >,
        #[graphql(desc = "Return the first n accruals (at most 100; default 20).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Return accruals after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n accruals (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Return accruals before this cursor.")] before: Option<String>,
    ) -> ApiResult<super::incentives::IncentiveAccrualConnection> {
        let of = crate::service::incentives::accruals::AccrualsOfPartner {
            statuses: super::enums::stored_all(status),
        };
        super::incentives::nested_accruals(
            ctx,
            of,
            self.0.id,
            page_args(ctx, first, after, last, before),
        )
        .await
    }

    /// Where the partner stands under each active incentive plan it
    /// qualifies for: the rates that apply, earned so far, the window's
    /// count, the tier period's total, what the cap leaves.
    async fn incentive_progress(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Vec<super::incentives::IncentiveProgress>> {
        super::incentives::progress_of(ctx, &self.0).await
    }

    /// The partner's payouts, newest first.
    async fn payouts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n payouts (at most 100; default 20).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Return payouts after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n payouts (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Return payouts before this cursor.")] before: Option<String>,
    ) -> ApiResult<super::incentives::PayoutConnection> {
        super::incentives::nested_payouts(
            ctx,
            self.0.id,
            page_args(ctx, first, after, last, before),
        )
        .await
    }

    /// The partner's incentive statement for `[from, to)` in one currency:
    /// opening balance, accrued, reversed, adjusted, paid, closing balance
    /// and every line, reconciling to the cent.
    async fn statement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The start of the period (included).")] from: DateTime<Utc>,
        #[graphql(desc = "The end of the period (excluded).")] to: DateTime<Utc>,
        #[graphql(desc = "The currency; the program's base currency when absent.")]
        currency: Option<super::scalars::CurrencyCode>,
    ) -> ApiResult<super::incentives::IncentiveStatement> {
        super::incentives::statement_of(ctx, self.0.id, from, to, currency).await
    }

    /// How engaged the partner was over the trailing `windowDays` before
    /// `asOf` (SPEC §4.5), with each component's points. Staff only.
    async fn engagement(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Length of the trailing window in days, 1 to 730.",
            default = 30
        )]
        window_days: i32,
        #[graphql(desc = "End of the window (excluded); now when absent.")] as_of: Option<
            DateTime<Utc>,
        >,
    ) -> ApiResult<Engagement> {
        let request = context::request(ctx)?;
        request.principal.authorize(Action::ReadScores)?;
        if !(1..=730).contains(&window_days) {
            return Err(ApiError::BadUserInput(
                "`windowDays` must be between 1 and 730".into(),
            ));
        }
        let to = as_of.unwrap_or(request.now);
        let from = to - chrono::Duration::days(i64::from(window_days));
        let key = EngagementOf {
            partner: self.0.id,
            from,
            to,
        };
        let counts = loaders::load(ctx, key).await?.unwrap_or_default();
        Ok(Engagement::new(&counts, from, to))
    }

    /// The tier the partner qualifies for as of `asOf` (SPEC §4.5), criterion by criterion. Staff only.
    async fn tier_qualification(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "End of the trailing windows (excluded); now when absent.")] as_of: Option<
            DateTime<Utc>,
        >,
    ) -> ApiResult<Option<TierQualification>> {
        let request = context::request(ctx)?;
        request.principal.authorize(Action::ReadScores)?;
        let as_of = as_of.unwrap_or(request.now);
        let key = TierOf {
            partner: self.0.id,
            as_of,
        };
        Ok(loaders::load(ctx, key)
            .await?
            .map(|q| TierQualification::new(&q, as_of)))
    }

    /// Customer NPS, −100 to 100, set by staff; null when unknown. Staff only.
    async fn customer_nps(&self, ctx: &Context<'_>) -> ApiResult<Option<i32>> {
        context::request(ctx)?
            .principal
            .authorize(Action::ReadScores)?;
        Ok(self.0.customer_nps)
    }

    /// Where the partner stands on the tier rubric and what it needs for the
    /// next tier. A partner sees its own; null for partners when the program
    /// turned `showTierProgressToPartners` off.
    async fn tier_progress(&self, ctx: &Context<'_>) -> ApiResult<Option<TierProgress>> {
        let request = context::request(ctx)?;
        request.principal.authorize(Action::ReadPartners)?;
        if !request.principal.is_staff()
            && !super::loaders::settings(ctx)
                .await?
                .show_tier_progress_to_partners
        {
            return Ok(None);
        }
        let key = TierOf {
            partner: self.0.id,
            as_of: request.now,
        };
        let current = self.0.tier;
        Ok(loaders::load(ctx, key)
            .await?
            .map(|q| TierProgress::new(current, &q)))
    }

    /// The partner's results over `[from, to)` (SPEC §4.5), in the base
    /// currency: over opportunities crediting it in any role. Needs `pipeline:read`.
    async fn performance(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Start of the window (included); 365 days before `to` when absent.")]
        from: Option<DateTime<Utc>>,
        #[graphql(desc = "End of the window (excluded); now when absent.")] to: Option<
            DateTime<Utc>,
        >,
    ) -> ApiResult<Option<PartnerPerformance>> {
        let request = context::request(ctx)?;
        request.principal.authorize(Action::ReadPipeline)?;
        let to = to.unwrap_or(request.now);
        let from = from.unwrap_or(to - chrono::Duration::days(365));
        check_window(from, to, "from", "to")?;
        let key = PerformanceOf {
            partner: self.0.id,
            from,
            to,
        };
        Ok(loaders::load(ctx, key)
            .await?
            .map(|(p, base)| PartnerPerformance::new(&p, &base, from, to)))
    }

    /// The partner's ids in outside systems (CRMs). Staff only.
    async fn external_ids(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Vec<super::registrations::ExternalId>> {
        context::request(ctx)?
            .principal
            .authorize(Action::ReadExternalIds)?;
        Ok(
            super::loaders::load(ctx, super::loaders::ExternalIdsOfPartner(self.0.id))
                .await?
                .unwrap_or_default()
                .into_iter()
                .map(|e| super::registrations::ExternalId {
                    system: e.system,
                    id: e.external_id,
                })
                .collect(),
        )
    }

    /// Bumped by every change; pass it as `expectedVersion` when updating.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// When the partner was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the partner last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A person at a partner company.
pub struct PartnerContact(partner_contact::Model);

impl From<partner_contact::Model> for PartnerContact {
    fn from(model: partner_contact::Model) -> Self {
        Self(model)
    }
}

/// A person at a partner company.
#[Object]
impl PartnerContact {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::PartnerContact, self.0.id))
    }

    /// Full name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// E-mail address (lower-case).
    async fn email(&self) -> &str {
        &self.0.email
    }

    /// The part the contact plays.
    async fn role(&self) -> PartnerContactRole {
        self.0.role.into()
    }

    /// The contact's certifications.
    async fn certifications(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n certifications (at most 100; default 20).")]
        first: Option<i32>,
        #[graphql(desc = "Return certifications after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n certifications (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Return certifications before this cursor.")] before: Option<String>,
    ) -> ApiResult<super::certifications::CertificationConnection> {
        super::certifications::nested_certifications(
            ctx,
            crate::service::certifications::CertificationsOf::Contact,
            self.0.id,
            page_args(ctx, first, after, last, before),
        )
        .await
    }

    /// Whether the contact is still with the partner. A deactivated contact
    /// is kept for history and certifications but no longer counts for
    /// certification gating or thresholds, and has no portal access.
    async fn active(&self) -> bool {
        self.0.deactivated_at.is_none()
    }

    /// When the contact was deactivated.
    async fn deactivated_at(&self) -> Option<DateTime<Utc>> {
        self.0.deactivated_at
    }

    /// The partner role the contact acts with in a portal; null without portal access.
    async fn portal_role(&self) -> Option<Role> {
        self.0.portal_role.map(Into::into)
    }

    /// Bumped by every change; pass it as `expectedVersion` when updating.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// When the contact was added.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A person at the vendor: partner managers, sales, admins.
pub struct StaffUser(staff_user::Model);

impl From<staff_user::Model> for StaffUser {
    fn from(model: staff_user::Model) -> Self {
        Self(model)
    }
}

/// A person at the vendor: partner managers, sales, admins.
#[Object]
impl StaffUser {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::StaffUser, self.0.id))
    }

    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// E-mail address.
    async fn email(&self) -> &str {
        &self.0.email
    }

    /// The role the user was created with.
    async fn role(&self) -> Role {
        self.0.role.into()
    }
}

connection!(PartnerConnection, PartnerEdge, Partner, "partners");
connection!(
    PartnerContactConnection,
    PartnerContactEdge,
    PartnerContact,
    "partner contacts"
);

/// Narrows the `partners` list; all given conditions must hold.
#[derive(InputObject, Default)]
pub struct PartnerFilterInput {
    /// Only partners in one of these statuses.
    pub status: Option<Vec<PartnerStatus>>,
    /// Only partners in one of these tiers.
    pub tier: Option<Vec<PartnerTier>>,
    /// Only partners of one of these types.
    #[graphql(name = "type")]
    pub partner_type: Option<Vec<PartnerType>>,
    /// Only partners whose name contains this text (case-insensitive).
    pub search: Option<String>,
}

/// What to sort partners by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum PartnerOrderField {
    /// Name, case-insensitive.
    #[default]
    Name,
    /// Creation time.
    CreatedAt,
}

/// Sort order of the `partners` list.
#[derive(InputObject, Default)]
pub struct PartnerOrder {
    /// The field to sort by.
    #[graphql(default)]
    pub field: PartnerOrderField,
    /// Ascending or descending.
    #[graphql(default)]
    pub direction: OrderDirection,
}

#[derive(Default)]
pub struct PartnerQuery;

#[Object]
impl PartnerQuery {
    /// Partners you may see, filtered and ordered (by name unless told otherwise).
    #[allow(clippy::too_many_arguments)]
    async fn partners(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions the partners must meet.")] filter: Option<PartnerFilterInput>,
        #[graphql(desc = "Sort order; by name ascending when absent.")] order_by: Option<
            PartnerOrder,
        >,
        #[graphql(desc = "Return the first n partners (at most 100; default 20).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Return partners after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n partners (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Return partners before this cursor.")] before: Option<String>,
    ) -> ApiResult<PartnerConnection> {
        let request = context::request(ctx)?;
        request.principal.authorize(Action::ReadPartners)?;
        let filter = filter.unwrap_or_default();
        let order = order_by.unwrap_or_default();
        let sort = match order.field {
            PartnerOrderField::Name => PartnerSort::Name,
            PartnerOrderField::CreatedAt => PartnerSort::CreatedAt,
        };
        let filter = PartnerFilter {
            statuses: stored_all(filter.status),
            tiers: stored_all(filter.tier),
            types: stored_all(filter.partner_type),
            search: filter.search,
        };
        let page = service::list(
            context::db(ctx)?,
            &request.caller(),
            filter,
            sort,
            order.direction,
            page_args(ctx, first, after, last, before),
        )
        .await?;
        let ids: Vec<Uuid> = page.edges.iter().map(|(_, p)| p.id).collect();
        let node = ctx.look_ahead().field("edges").field("node");
        super::scores::prefetch(ctx, node, &ids, request.now).await?;
        Ok(PartnerConnection::from_page(page, Partner))
    }

    /// One partner by id, or null when there is none you may see.
    async fn partner(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partner's global id.")] id: ID,
    ) -> ApiResult<Option<Partner>> {
        let request = context::request(ctx)?;
        request.principal.authorize(Action::ReadPartners)?;
        let Some(id) = ids::decode_as(NodeType::Partner, &id) else {
            return Ok(None);
        };
        Partner::load(ctx, id).await
    }
}

/// A new partner.
#[derive(InputObject)]
pub struct CreatePartnerInput {
    /// Company name; unique across the program (case-insensitive).
    pub name: String,
    /// What kind of business the partner runs.
    #[graphql(name = "type")]
    pub partner_type: PartnerType,
    /// Program tier; `BRONZE` when absent.
    pub tier: Option<PartnerTier>,
    /// Website, an http or https URL.
    pub website: Option<String>,
    /// The owning staff user; you, when absent.
    pub owner_id: Option<ID>,
    /// Notes for staff only.
    pub internal_notes: Option<String>,
    /// Margin in percent, 0 to 100, at most two decimals.
    pub margin_percent: Option<Decimal>,
}

/// Changes to a partner. Absent fields stay as they are; `null` clears an optional field.
#[derive(InputObject)]
pub struct UpdatePartnerInput {
    /// The partner's global id.
    pub id: ID,
    /// The `version` you read; the change is refused with `STALE_VERSION` if the partner changed since.
    pub expected_version: i32,
    /// New company name.
    pub name: Option<String>,
    /// New partner type.
    #[graphql(name = "type")]
    pub partner_type: Option<PartnerType>,
    /// New tier.
    pub tier: Option<PartnerTier>,
    /// New website; null clears it.
    pub website: MaybeUndefined<String>,
    /// New owning staff user; null clears it.
    pub owner_id: MaybeUndefined<ID>,
    /// New internal notes; null clears them.
    pub internal_notes: MaybeUndefined<String>,
    /// New margin in percent; null clears it.
    pub margin_percent: MaybeUndefined<Decimal>,
    /// Customer NPS, −100 to 100; null clears it.
    pub customer_nps: MaybeUndefined<i32>,
}

/// A partner status change.
#[derive(InputObject)]
pub struct ChangePartnerStatusInput {
    /// The partner's global id.
    pub id: ID,
    /// The new status; must be an allowed move from the current one.
    pub status: PartnerStatus,
    /// The `version` you read, if you want the change refused when the partner changed since.
    pub expected_version: Option<i32>,
}

/// A new contact at a partner.
#[derive(InputObject)]
pub struct AddPartnerContactInput {
    /// The partner's global id.
    pub partner_id: ID,
    /// Full name.
    pub name: String,
    /// E-mail address; unique per partner.
    pub email: String,
    /// The part the contact plays.
    pub role: PartnerContactRole,
}

/// Changes to a contact; absent fields stay as they are.
#[derive(InputObject)]
pub struct UpdatePartnerContactInput {
    /// The contact's global id.
    pub id: ID,
    /// The `version` you read.
    pub expected_version: i32,
    /// New full name.
    pub name: Option<String>,
    /// New e-mail address; unique per partner.
    pub email: Option<String>,
    /// New part the contact plays.
    pub role: Option<PartnerContactRole>,
}

/// A contact to deactivate.
#[derive(InputObject)]
pub struct DeactivatePartnerContactInput {
    /// The contact's global id.
    pub id: ID,
    /// The `version` you read, if the change should be refused when the contact changed since.
    pub expected_version: Option<i32>,
}

/// Portal access to grant.
#[derive(InputObject)]
pub struct GrantPortalAccessInput {
    /// The contact's global id.
    pub contact_id: ID,
    /// The partner role the contact acts with: `PARTNER_ADMIN` or `PARTNER_REP`.
    pub role: Role,
}

/// Portal access to revoke.
#[derive(InputObject)]
pub struct RevokePortalAccessInput {
    /// The contact's global id.
    pub contact_id: ID,
}

/// The result of a contact mutation.
#[derive(SimpleObject)]
pub struct PartnerContactPayload {
    /// The contact, unless `userErrors` says why not.
    pub contact: Option<PartnerContact>,
    /// Why the input was refused; empty on success.
    pub user_errors: Vec<UserError>,
}

fn contact_payload(
    (contact, user_errors): (Option<partner_contact::Model>, Vec<UserError>),
) -> PartnerContactPayload {
    PartnerContactPayload {
        contact: contact.map(PartnerContact),
        user_errors,
    }
}

/// The result of `createPartner`.
#[derive(SimpleObject)]
pub struct CreatePartnerPayload {
    /// The new partner, unless `userErrors` says why not.
    pub partner: Option<Partner>,
    /// Why the input was refused; empty on success.
    pub user_errors: Vec<UserError>,
}

/// The result of `updatePartner`.
#[derive(SimpleObject)]
pub struct UpdatePartnerPayload {
    /// The changed partner, unless `userErrors` says why not.
    pub partner: Option<Partner>,
    /// Why the input was refused; empty on success.
    pub user_errors: Vec<UserError>,
}

/// The result of `changePartnerStatus`.
#[derive(SimpleObject)]
pub struct ChangePartnerStatusPayload {
    /// The partner in its new status, unless `userErrors` says why not.
    pub partner: Option<Partner>,
    /// Why the change was refused; empty on success.
    pub user_errors: Vec<UserError>,
}

/// The result of `addPartnerContact`.
#[derive(SimpleObject)]
pub struct AddPartnerContactPayload {
    /// The new contact, unless `userErrors` says why not.
    pub contact: Option<PartnerContact>,
    /// Why the input was refused; empty on success.
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct PartnerMutation;

#[Object]
impl PartnerMutation {
    /// Adds a partner in status `PROSPECT`. Needs `PARTNER_MANAGER` or `ADMIN` and `partners:write`.
    async fn create_partner(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new partner.")] input: CreatePartnerInput,
    ) -> ApiResult<CreatePartnerPayload> {
        let (partner, user_errors) = mutate(ctx, Action::WritePartners, |request| async move {
            let new = InputCheck::parse(|check| {
                let name = check.field("name", DisplayName::parse(&input.name));
                let website = check.optional("website", input.website, |w| WebsiteUrl::parse(&w));
                let owner_id = input
                    .owner_id
                    .and_then(|id| check.id("ownerId", NodeType::StaffUser, &id));
                let internal_notes =
                    check.optional("internalNotes", input.internal_notes, free_text);
                let margin = check.optional("marginPercent", input.margin_percent, |d| {
                    Percent::parse(d.0)
                });
                Some(NewPartner {
                    name: name?,
                    partner_type: input.partner_type.into(),
                    tier: input.tier.map(Into::into).unwrap_or_default(),
                    website,
                    owner_id,
                    internal_notes,
                    margin,
                })
            })?;
            service::create(context::db(ctx)?, &request.caller(), new).await
        })
        .await?;
        Ok(CreatePartnerPayload {
            partner: partner.map(Partner),
            user_errors,
        })
    }

    /// Changes a partner's details. Needs `PARTNER_MANAGER` or `ADMIN` and `partners:write`.
    async fn update_partner(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The changes.")] input: UpdatePartnerInput,
    ) -> ApiResult<UpdatePartnerPayload> {
        let (partner, user_errors) = mutate(ctx, Action::WritePartners, |request| async move {
            let (id, changes) = InputCheck::parse(|check| {
                let id = check.id("id", NodeType::Partner, &input.id);
                let changes = PartnerChanges {
                    name: check.optional("name", input.name, |n| DisplayName::parse(&n)),
                    partner_type: input.partner_type.map(Into::into),
                    tier: input.tier.map(Into::into),
                    website: check.clearable("website", input.website, |w| WebsiteUrl::parse(&w)),
                    owner_id: match input.owner_id {
                        MaybeUndefined::Undefined => None,
                        MaybeUndefined::Null => Some(None),
                        MaybeUndefined::Value(id) => {
                            check.id("ownerId", NodeType::StaffUser, &id).map(Some)
                        }
                    },
                    internal_notes: check.clearable(
                        "internalNotes",
                        input.internal_notes,
                        free_text,
                    ),
                    margin: check.clearable("marginPercent", input.margin_percent, |d| {
                        Percent::parse(d.0)
                    }),
                    customer_nps: check.clearable(
                        "customerNps",
                        input.customer_nps,
                        crate::domain::inputs::customer_nps,
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
        .await?;
        Ok(UpdatePartnerPayload {
            partner: partner.map(Partner),
            user_errors,
        })
    }

    /// Moves a partner along its lifecycle: `PROSPECT → SIGNED → ONBOARDING →
    /// ACTIVE`, `ACTIVE ↔ DORMANT`, any → `OFFBOARDED` (final). Other moves
    /// answer `INVALID_TRANSITION`. Needs `PARTNER_MANAGER` or `ADMIN` and `partners:write`.
    async fn change_partner_status(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partner and its new status.")] input: ChangePartnerStatusInput,
    ) -> ApiResult<ChangePartnerStatusPayload> {
        let (partner, user_errors) = mutate(ctx, Action::WritePartners, |request| async move {
            let id = InputCheck::parse(|check| check.id("id", NodeType::Partner, &input.id))?;
            service::change_status(
                context::db(ctx)?,
                &request.caller(),
                id,
                input.status.into(),
                input.expected_version,
            )
            .await
        })
        .await?;
        Ok(ChangePartnerStatusPayload {
            partner: partner.map(Partner),
            user_errors,
        })
    }

    /// Adds a contact to a partner. Needs `PARTNER_MANAGER` or `ADMIN` (or a
    /// `PARTNER_ADMIN`, for its own partner) and `partners:write`.
    async fn add_partner_contact(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new contact.")] input: AddPartnerContactInput,
    ) -> ApiResult<AddPartnerContactPayload> {
        let (contact, user_errors) = mutate(ctx, Action::WriteContacts, |request| async move {
            let new = InputCheck::parse(|check| {
                let partner_id = check.id("partnerId", NodeType::Partner, &input.partner_id);
                let name = check.field("name", DisplayName::parse(&input.name));
                let email = check.field("email", EmailAddress::parse(&input.email));
                Some(NewContact {
                    partner_id: partner_id?,
                    name: name?,
                    email: email?,
                    role: input.role.into(),
                })
            })?;
            service::add_contact(context::db(ctx)?, &request.caller(), new).await
        })
        .await?;
        Ok(AddPartnerContactPayload {
            contact: contact.map(PartnerContact),
            user_errors,
        })
    }

    /// Changes a contact's name, e-mail or role. Needs `PARTNER_MANAGER` or
    /// `ADMIN` (or a `PARTNER_ADMIN`, for its own partner) and `partners:write`.
    async fn update_partner_contact(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The changes.")] input: UpdatePartnerContactInput,
    ) -> ApiResult<PartnerContactPayload> {
        mutate(ctx, Action::WriteContacts, |request| async move {
            let (id, changes) = InputCheck::parse(|check| {
                let id = check.id("id", NodeType::PartnerContact, &input.id);
                let changes = ContactChanges {
                    name: check.optional("name", input.name, |n| DisplayName::parse(&n)),
                    email: check.optional("email", input.email, |e| EmailAddress::parse(&e)),
                    role: input.role.map(Into::into),
                };
                Some((id?, changes))
            })?;
            service::update_contact(
                context::db(ctx)?,
                &request.caller(),
                id,
                input.expected_version,
                changes,
            )
            .await
        })
        .await
        .map(contact_payload)
    }

    /// Deactivates a contact who left: kept for history and certifications,
    /// no longer counted for certification gating or thresholds; its portal
    /// access and tokens end at once. Rights as for `updatePartnerContact`.
    async fn deactivate_partner_contact(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The contact.")] input: DeactivatePartnerContactInput,
    ) -> ApiResult<PartnerContactPayload> {
        mutate(ctx, Action::WriteContacts, |request| async move {
            let id =
                InputCheck::parse(|check| check.id("id", NodeType::PartnerContact, &input.id))?;
            service::deactivate_contact(
                context::db(ctx)?,
                &request.caller(),
                id,
                input.expected_version,
            )
            .await
        })
        .await
        .map(contact_payload)
    }

    /// Lets a contact act in a portal with a partner role: the portal's
    /// backend (an OAuth2 client with the `portal` scope) exchanges its token
    /// for one acting as the contact (RFC 8693, `POST /oauth/token`).
    /// Rights as for `updatePartnerContact`.
    async fn grant_portal_access(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The contact and its portal role.")] input: GrantPortalAccessInput,
    ) -> ApiResult<PartnerContactPayload> {
        mutate(ctx, Action::WriteContacts, |request| async move {
            let id = InputCheck::parse(|check| {
                check.id("contactId", NodeType::PartnerContact, &input.contact_id)
            })?;
            service::grant_portal_access(
                context::db(ctx)?,
                &request.caller(),
                id,
                input.role.into(),
            )
            .await
        })
        .await
        .map(contact_payload)
    }

    /// Ends a contact's portal access: its tokens are refused at once and its
    /// open subscriptions end within seconds. Rights as for `updatePartnerContact`.
    async fn revoke_portal_access(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The contact.")] input: RevokePortalAccessInput,
    ) -> ApiResult<PartnerContactPayload> {
        mutate(ctx, Action::WriteContacts, |request| async move {
            let id = InputCheck::parse(|check| {
                check.id("contactId", NodeType::PartnerContact, &input.contact_id)
            })?;
            service::revoke_portal_access(context::db(ctx)?, &request.caller(), id).await
        })
        .await
        .map(contact_payload)
    }
}
