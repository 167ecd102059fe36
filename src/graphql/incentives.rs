//! Incentives and payouts (SPEC §4.8): plans and their versions, accruals,
//! the ledger, payouts, statements and previews. Resolvers parse and call
//! `service::incentives`; partners see what `policy::partner_view` lists,
//! on their own rows only.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use entity::{
    incentive_accrual, incentive_ledger_entry, incentive_payout, incentive_plan,
    incentive_plan_version,
};
use uuid::Uuid;

use super::{
    connection::{connection, empty_page, filter_id, page_args},
    context,
    enums::{
        stored_all, AccrualStatus, AttributionRole, IncentiveBasis, IncentivePlanKind,
        IncentivePlanStatus, IncentiveTierMode, IncentiveTierPeriod, IncentiveTrigger,
        IncentiveWindowAnchor, LedgerEntryKind, PartnerTier, PartnerType, PayoutStatus,
    },
    loaders::{
        self, IncentivePlanById, OpportunityById, PartnerById, PlanVersionById, PlanVersionNumber,
        Scope,
    },
    partners::Partner,
    payload::{mutate, InputCheck},
    registrations::Opportunity,
    scalars::{CurrencyCode, Date, Decimal, Money},
};
use crate::{
    auth::Action,
    domain::{
        incentives::Review,
        inputs::{self, DisplayName, InvalidInput, Percent},
        money, UserError,
    },
    error::{ApiError, ApiResult},
    ids::{self, NodeType},
    service::{
        incentives::{
            accruals::{self, AccrualFilter},
            ledger, payouts,
            plans::{self, RolePayout, Terms, TierBracket, TierTerms, WindowTerms},
            preview,
        },
        pagination::PageArgs,
    },
};

/// Money of the ledger's minor units.
pub fn money_of(minor_units: i64, currency: &str) -> Money {
    money::Money {
        minor_units,
        currency: inputs::CurrencyCode::stored(currency.to_owned()),
    }
    .into()
}

fn percent(bps: i64) -> Decimal {
    Decimal(rust_decimal::Decimal::new(bps, 2).normalize())
}

async fn partner_of(ctx: &Context<'_>, id: Uuid) -> ApiResult<Option<Partner>> {
    let scope = Scope::of(&context::request(ctx)?.principal);
    Ok(loaders::load(ctx, PartnerById(id, scope))
        .await?
        .map(Partner::from))
}

// ---- plans ----

/// An incentive plan: commissions, SPIFFs, rebates or referral fees. Its
/// terms are versioned: a change is a new version, and what was earned keeps
/// the version it was computed under. Partners see only its name and
/// `partnerDescription`.
pub struct IncentivePlan(incentive_plan::Model);

impl From<incentive_plan::Model> for IncentivePlan {
    fn from(model: incentive_plan::Model) -> Self {
        Self(model)
    }
}

/// An incentive plan: commissions, SPIFFs, rebates or referral fees. Its
/// terms are versioned: a change is a new version, and what was earned keeps
/// the version it was computed under. Partners see only its name and
/// `partnerDescription`.
#[Object]
impl IncentivePlan {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::IncentivePlan, self.0.id))
    }

    /// The plan's name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// What the plan pays for.
    async fn kind(&self) -> IncentivePlanKind {
        self.0.kind.into()
    }

    /// Where the plan stands.
    async fn status(&self) -> IncentivePlanStatus {
        self.0.status.into()
    }

    /// What partners read about the plan (its current version's words).
    async fn partner_description(&self, ctx: &Context<'_>) -> ApiResult<String> {
        let current = PlanVersionNumber(self.0.id, self.0.current_version);
        Ok(loaders::load(ctx, current)
            .await?
            .map(|v| v.partner_description)
            .unwrap_or_default())
    }

    /// The number of the version it accrues under now.
    async fn current_version(&self) -> i32 {
        self.0.current_version
    }

    /// The terms of the current version.
    async fn terms(&self, ctx: &Context<'_>) -> ApiResult<Option<IncentivePlanTerms>> {
        let current = PlanVersionNumber(self.0.id, self.0.current_version);
        Ok(loaders::load(ctx, current).await?.map(IncentivePlanTerms))
    }

    /// Every version's terms, newest first.
    async fn versions(&self, ctx: &Context<'_>) -> ApiResult<Vec<IncentivePlanTerms>> {
        Ok(plans::versions(context::db(ctx)?, self.0.id)
            .await?
            .into_iter()
            .map(IncentivePlanTerms)
            .collect())
    }

    /// Bumped by every change; pass it as `expectedVersion` when updating.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// When the plan was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// The terms of one version of a plan; never changed once written.
pub struct IncentivePlanTerms(incentive_plan_version::Model);

/// What one attribution role earns.
#[derive(SimpleObject)]
pub struct IncentiveRoleRate {
    /// The partner's part in the deal.
    pub role: AttributionRole,
    /// The percentage of the basis, e.g. `10` for 10 %; null for a flat amount.
    pub rate_percent: Option<Decimal>,
    /// The fixed amount; null for a rate.
    pub flat_amount: Option<Money>,
}

/// Who qualifies for a plan; empty lists admit everyone.
#[derive(SimpleObject)]
pub struct IncentiveEligibility {
    /// Partner types that qualify (empty: all).
    pub partner_types: Vec<PartnerType>,
    /// Partner tiers that qualify (empty: all).
    pub partner_tiers: Vec<PartnerTier>,
    /// A certification track some contact of the partner must hold, if any.
    pub certification_track_id: Option<ID>,
}

/// "The first `maxCount` deals within `days` of the anchor": `[anchor, anchor + days)`.
#[derive(SimpleObject)]
pub struct IncentiveWindow {
    /// Where the window starts.
    pub anchor: IncentiveWindowAnchor,
    /// Its length in days.
    pub days: i32,
    /// The most deals it pays per partner; null: no limit.
    pub max_count: Option<i32>,
}

/// Tiers over a calendar period.
#[derive(SimpleObject)]
pub struct IncentiveTiers {
    /// The period they count over.
    pub period: IncentiveTierPeriod,
    /// How crossing a threshold pays.
    pub mode: IncentiveTierMode,
    /// The brackets, lowest first.
    pub brackets: Vec<IncentiveTierBracket>,
}

/// The rate above a threshold of a period's basis.
#[derive(SimpleObject)]
pub struct IncentiveTierBracket {
    /// The threshold (the first bracket starts at 0).
    pub above: Money,
    /// The rate in percent.
    pub rate_percent: Decimal,
}

/// The terms of one version of a plan; never changed once written.
#[Object]
impl IncentivePlanTerms {
    /// 1, 2, … within the plan.
    async fn number(&self) -> i32 {
        self.0.number
    }

    /// What partners read about the plan.
    async fn partner_description(&self) -> &str {
        &self.0.partner_description
    }

    /// What makes it accrue.
    async fn trigger(&self) -> IncentiveTrigger {
        self.0.trigger.into()
    }

    /// What its percentages are taken of.
    async fn basis(&self) -> IncentiveBasis {
        self.0.basis.into()
    }

    /// The currency it pays in; deals in other currencies earn nothing under it.
    async fn currency(&self) -> &str {
        &self.0.currency
    }

    /// What each attribution role earns.
    async fn rates(&self) -> Vec<IncentiveRoleRate> {
        plans::payouts_of(&self.0)
            .into_iter()
            .map(|p| IncentiveRoleRate {
                role: p.role.into(),
                rate_percent: p.rate_bps.map(percent),
                flat_amount: p.flat_minor.map(|m| money_of(m, &self.0.currency)),
            })
            .collect()
    }

    /// Who qualifies.
    async fn eligibility(&self) -> IncentiveEligibility {
        IncentiveEligibility {
            partner_types: plans::partner_types_of(&self.0)
                .into_iter()
                .map(Into::into)
                .collect(),
            partner_tiers: plans::partner_tiers_of(&self.0)
                .into_iter()
                .map(Into::into)
                .collect(),
            certification_track_id: self
                .0
                .certification_track_id
                .map(|id| ID(ids::encode(NodeType::CertificationTrack, id))),
        }
    }

    /// The window, if the plan has one.
    async fn window(&self) -> Option<IncentiveWindow> {
        Some(IncentiveWindow {
            anchor: self.0.window_anchor?.into(),
            days: self.0.window_days?,
            max_count: self.0.window_max_count,
        })
    }

    /// The tiers, if the plan has them (they replace the roles' rates).
    async fn tiers(&self) -> Option<IncentiveTiers> {
        Some(IncentiveTiers {
            period: self.0.tier_period?.into(),
            mode: self.0.tier_mode?.into(),
            brackets: plans::brackets_of(&self.0)
                .into_iter()
                .map(|b| IncentiveTierBracket {
                    above: money_of(b.above_minor, &self.0.currency),
                    rate_percent: percent(b.rate_bps),
                })
                .collect(),
        })
    }

    /// The most one partner can earn under the plan.
    async fn cap(&self) -> Option<Money> {
        self.0.cap_minor.map(|m| money_of(m, &self.0.currency))
    }

    /// Days an accrual stays `PENDING` before it is approved.
    async fn hold_days(&self) -> i32 {
        self.0.hold_days
    }

    /// The plan's start (windows anchored at `PLAN_START` start here).
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }

    /// When this version was written.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

// ---- accruals ----

/// What a plan earned a partner for one deal, and where that stands. Its
/// money is in the ledger; `explanation` says how the amount came about.
pub struct IncentiveAccrual(incentive_accrual::Model);

impl From<incentive_accrual::Model> for IncentiveAccrual {
    fn from(model: incentive_accrual::Model) -> Self {
        Self(model)
    }
}

/// What a plan earned a partner for one deal, and where that stands. Its
/// money is in the ledger; `explanation` says how the amount came about.
#[Object]
impl IncentiveAccrual {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::IncentiveAccrual, self.0.id))
    }

    /// The partner who earned it.
    async fn partner(&self, ctx: &Context<'_>) -> ApiResult<Option<Partner>> {
        partner_of(ctx, self.0.partner_id).await
    }

    /// The plan it was earned under.
    async fn plan(&self, ctx: &Context<'_>) -> ApiResult<Option<IncentivePlan>> {
        Ok(loaders::load(ctx, IncentivePlanById(self.0.plan_id))
            .await?
            .map(IncentivePlan))
    }

    /// The number of the plan version it was computed under.
    async fn plan_version(&self, ctx: &Context<'_>) -> ApiResult<i32> {
        Ok(loaders::load(ctx, PlanVersionById(self.0.plan_version_id))
            .await?
            .map_or(0, |v| v.number))
    }

    /// What made the plan accrue.
    async fn trigger(&self) -> IncentiveTrigger {
        self.0.trigger.into()
    }

    /// The won opportunity, for `OPPORTUNITY_WON`.
    async fn opportunity(&self, ctx: &Context<'_>) -> ApiResult<Option<Opportunity>> {
        if self.0.trigger != entity::IncentiveTrigger::OpportunityWon {
            return Ok(None);
        }
        let scope = Scope::of(&context::request(ctx)?.principal);
        Ok(
            loaders::load(ctx, OpportunityById(self.0.subject_id, scope))
                .await?
                .map(Opportunity::from),
        )
    }

    /// When the deal was won or the registration approved.
    async fn triggered_at(&self) -> DateTime<Utc> {
        self.0.triggered_at
    }

    /// The partner's part in the deal.
    async fn role(&self) -> AttributionRole {
        self.0.role.into()
    }

    /// The amount earned, in the plan's currency.
    async fn amount(&self) -> Money {
        money_of(self.0.amount_minor, &self.0.currency)
    }

    /// Where it stands.
    async fn status(&self) -> AccrualStatus {
        self.0.status.into()
    }

    /// When the hold period ends and it is approved (unless held or rejected).
    async fn hold_until(&self) -> DateTime<Utc> {
        self.0.hold_until
    }

    /// Why it is held, rejected or reversed.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }

    /// Staff's own note on it (internal).
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }

    /// How the amount came about, step by step: the plan and version, the
    /// deal amount and credit, the rate or tier, the window position ("Deal
    /// 2 of 3 fast-start deals …"), the cap.
    async fn explanation(&self) -> Vec<String> {
        serde_json::from_value(self.0.explanation.clone()).unwrap_or_default()
    }

    /// When the partner disputed it.
    async fn disputed_at(&self) -> Option<DateTime<Utc>> {
        self.0.disputed_at
    }

    /// What the partner says is wrong.
    async fn dispute_reason(&self) -> Option<&str> {
        self.0.dispute_reason.as_deref()
    }

    /// How staff resolved the dispute; null while it is open.
    async fn dispute_resolution(&self) -> Option<&str> {
        self.0.dispute_resolution.as_deref()
    }

    /// When it was earned.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// Bumped by every change.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

// ---- progress ----

/// Where the partner stands under one active plan it qualifies for.
pub struct IncentiveProgress(crate::service::incentives::progress::Progress);

/// Deals counted in a plan's window.
#[derive(SimpleObject)]
pub struct IncentiveWindowProgress {
    /// Deals the window has paid so far.
    pub deals_counted: i32,
    /// The most it pays; null: no limit.
    pub max_count: Option<i32>,
    /// When the window closes (null until the partner has signed, for a
    /// window that starts at signing).
    pub ends_at: Option<DateTime<Utc>>,
}

/// The current tier period.
#[derive(SimpleObject)]
pub struct IncentiveTierPeriodProgress {
    /// When the period started.
    pub period_start: DateTime<Utc>,
    /// What counts toward the tiers so far this period.
    pub basis_so_far: Money,
    /// The rate of the tier reached.
    pub current_rate_percent: Decimal,
    /// The next threshold, if there is a higher tier.
    pub next_threshold: Option<Money>,
    /// The next tier's rate.
    pub next_rate_percent: Option<Decimal>,
}

/// Where the partner stands under one active plan it qualifies for.
#[Object]
impl IncentiveProgress {
    /// The plan.
    async fn plan(&self) -> IncentivePlan {
        IncentivePlan(self.0.plan.clone())
    }

    /// What applies to the partner: the roles' rates or amounts.
    async fn rates(&self) -> Vec<IncentiveRoleRate> {
        let currency = &self.0.version.currency;
        plans::payouts_of(&self.0.version)
            .into_iter()
            .map(|p| IncentiveRoleRate {
                role: p.role.into(),
                rate_percent: p.rate_bps.map(percent),
                flat_amount: p.flat_minor.map(|m| money_of(m, currency)),
            })
            .collect()
    }

    /// Everything standing that it earned under the plan.
    async fn earned(&self) -> Money {
        money_of(self.0.earned_minor, &self.0.version.currency)
    }

    /// What the plan's cap still leaves, if it has one.
    async fn cap_left(&self) -> Option<Money> {
        self.0
            .cap_left_minor
            .map(|m| money_of(m, &self.0.version.currency))
    }

    /// The window, if the plan has one.
    async fn window(&self) -> Option<IncentiveWindowProgress> {
        let (counted, max_count, ends_at) = self.0.window?;
        Some(IncentiveWindowProgress {
            deals_counted: i32::try_from(counted).unwrap_or(i32::MAX),
            max_count,
            ends_at,
        })
    }

    /// The current tier period, if the plan has tiers.
    async fn tier_period(&self) -> Option<IncentiveTierPeriodProgress> {
        let (start, basis) = self.0.tier_period?;
        let currency = &self.0.version.currency;
        let brackets = plans::brackets_of(&self.0.version);
        let reached = brackets
            .iter()
            .rev()
            .find(|b| basis > b.above_minor || b.above_minor == 0)?;
        let next = brackets
            .iter()
            .find(|b| b.above_minor > reached.above_minor);
        Some(IncentiveTierPeriodProgress {
            period_start: start,
            basis_so_far: money_of(basis, currency),
            current_rate_percent: percent(reached.rate_bps),
            next_threshold: next.map(|b| money_of(b.above_minor, currency)),
            next_rate_percent: next.map(|b| percent(b.rate_bps)),
        })
    }
}

/// A partner's progress under the active plans it qualifies for.
pub async fn progress_of(
    ctx: &Context<'_>,
    partner: &entity::partner::Model,
) -> ApiResult<Vec<IncentiveProgress>> {
    let request = context::request(ctx)?;
    request.principal.authorize(Action::ReadIncentives)?;
    let key = super::loaders::IncentiveProgressOf {
        partner: partner.id,
        as_of: request.now,
    };
    Ok(super::loaders::load(ctx, key)
        .await?
        .unwrap_or_default()
        .into_iter()
        .map(IncentiveProgress)
        .collect())
}

// ---- ledger ----

/// One money fact of the append-only ledger; never changed. A correction
/// is a new entry naming the one it corrects.
pub struct LedgerEntry(incentive_ledger_entry::Model);

/// One money fact of the append-only ledger; never changed. A correction
/// is a new entry naming the one it corrects.
#[Object]
impl LedgerEntry {
    /// Globally unique, opaque id.
    async fn id(&self) -> ID {
        ID(ids::encode(NodeType::LedgerEntry, self.0.id))
    }

    /// Its position in the ledger, for `ledgerEntries(after:)`.
    async fn cursor(&self) -> String {
        self.0.seq.to_string()
    }

    /// The partner whose balance it changes.
    async fn partner(&self, ctx: &Context<'_>) -> ApiResult<Option<Partner>> {
        partner_of(ctx, self.0.partner_id).await
    }

    /// What it records.
    async fn kind(&self) -> LedgerEntryKind {
        self.0.kind.into()
    }

    /// The signed amount.
    async fn amount(&self) -> Money {
        money_of(self.0.amount_minor, &self.0.currency)
    }

    /// The accrual it concerns, if any.
    async fn accrual_id(&self) -> Option<ID> {
        self.0
            .accrual_id
            .map(|id| ID(ids::encode(NodeType::IncentiveAccrual, id)))
    }

    /// The payout a `PAYOUT` entry records.
    async fn payout_id(&self) -> Option<ID> {
        self.0
            .payout_id
            .map(|id| ID(ids::encode(NodeType::Payout, id)))
    }

    /// The entry it corrects (a rejection or reversal corrects an accrual).
    async fn corrects_id(&self) -> Option<ID> {
        self.0
            .corrects_id
            .map(|id| ID(ids::encode(NodeType::LedgerEntry, id)))
    }

    /// Why, in words the partner reads.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }

    /// When it was posted.
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
}

/// A page of the ledger in posting order, for finance systems that follow it.
#[derive(SimpleObject)]
pub struct LedgerEntryFeed {
    /// The entries after the cursor, oldest first.
    pub entries: Vec<LedgerEntry>,
    /// Pass it as `after` to continue; the given cursor when nothing is new.
    pub cursor: Option<String>,
    /// Whether more entries follow at once.
    pub has_more: bool,
}

// ---- payouts ----

/// A payout to a partner: the approved, unpaid entries of a period, summed.
pub struct Payout(incentive_payout::Model);

impl From<incentive_payout::Model> for Payout {
    fn from(model: incentive_payout::Model) -> Self {
        Self(model)
    }
}

/// A payout to a partner: the approved, unpaid entries of a period, summed.
#[Object]
impl Payout {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::Payout, self.0.id))
    }

    /// The partner paid.
    async fn partner(&self, ctx: &Context<'_>) -> ApiResult<Option<Partner>> {
        partner_of(ctx, self.0.partner_id).await
    }

    /// The amount.
    async fn amount(&self) -> Money {
        money_of(self.0.amount_minor, &self.0.currency)
    }

    /// The last day of the period it gathered.
    async fn period_end(&self) -> Date {
        Date(self.0.period_end)
    }

    /// Where it stands.
    async fn status(&self) -> PayoutStatus {
        self.0.status.into()
    }

    /// The payment's reference in the bank or payment system.
    async fn external_reference(&self) -> Option<&str> {
        self.0.external_reference.as_deref()
    }

    /// Why it failed.
    async fn failure_reason(&self) -> Option<&str> {
        self.0.failure_reason.as_deref()
    }

    /// When it was paid.
    async fn paid_at(&self) -> Option<DateTime<Utc>> {
        self.0.paid_at
    }

    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// Bumped by every change.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// A partner's statement for a period in one currency: the opening balance
/// plus the lines is the closing balance, to the cent.
#[derive(SimpleObject)]
pub struct IncentiveStatement {
    /// The statement's currency.
    pub currency: CurrencyCode,
    /// The start of the period (included).
    pub from: DateTime<Utc>,
    /// The end of the period (excluded).
    pub to: DateTime<Utc>,
    /// The balance before `from`.
    pub opening_balance: Money,
    /// Accruals in the period.
    pub accrued: Money,
    /// Reversals and rejections in the period (negative).
    pub reversed: Money,
    /// Adjustments in the period.
    pub adjusted: Money,
    /// Payouts in the period (negative).
    pub paid: Money,
    /// `openingBalance` plus every line.
    pub closing_balance: Money,
    /// What the next payout would gather now.
    pub payable: Money,
    /// Why payouts wait, when the payable balance is negative.
    pub note: Option<String>,
    /// The ledger entries of the period, in posting order.
    pub lines: Vec<LedgerEntry>,
}

impl From<payouts::Statement> for IncentiveStatement {
    fn from(s: payouts::Statement) -> Self {
        let m = |minor| money_of(minor, &s.currency);
        Self {
            currency: CurrencyCode(inputs::CurrencyCode::stored(s.currency.clone())),
            from: s.from,
            to: s.to,
            opening_balance: m(s.opening),
            accrued: m(s.accrued),
            reversed: m(s.reversed),
            adjusted: m(s.adjusted),
            paid: m(s.paid),
            closing_balance: m(s.closing),
            payable: m(s.payable),
            note: s.note.clone(),
            lines: s.lines.into_iter().map(LedgerEntry).collect(),
        }
    }
}

// ---- previews ----

/// What a plan would have paid on the real history of a window. Internal.
#[derive(SimpleObject)]
pub struct IncentivePreview {
    /// Everything it would have paid.
    pub total: Money,
    /// Won deals of the window in the plan's currency.
    pub deals_considered: i32,
    /// Each amount, in close order.
    pub lines: Vec<IncentivePreviewLine>,
}

/// One amount a previewed plan would have paid.
#[derive(SimpleObject)]
pub struct IncentivePreviewLine {
    /// The partner.
    pub partner_id: ID,
    /// The won opportunity.
    pub opportunity_id: ID,
    /// The partner's part in it.
    pub role: AttributionRole,
    /// When it was won.
    pub won_at: DateTime<Utc>,
    /// The amount.
    pub amount: Money,
    /// How the amount came about.
    pub explanation: Vec<String>,
}

connection!(
    IncentivePlanConnection,
    IncentivePlanEdge,
    IncentivePlan,
    "incentive plans"
);
connection!(
    IncentiveAccrualConnection,
    IncentiveAccrualEdge,
    IncentiveAccrual,
    "accruals"
);
connection!(PayoutConnection, PayoutEdge, Payout, "payouts");

/// Narrows an accrual list; all given conditions must hold.
#[derive(InputObject, Default)]
pub struct AccrualFilterInput {
    /// Only this partner's accruals (staff).
    pub partner_id: Option<ID>,
    /// Only accruals under this plan.
    pub plan_id: Option<ID>,
    /// Only accruals for this opportunity.
    pub opportunity_id: Option<ID>,
    /// Only accruals in one of these statuses.
    pub status: Option<Vec<AccrualStatus>>,
    /// Only accruals with an open dispute (true) or without one (false).
    pub disputed: Option<bool>,
}

/// Narrows a payout list.
#[derive(InputObject, Default)]
pub struct PayoutFilterInput {
    /// Only this partner's payouts (staff).
    pub partner_id: Option<ID>,
    /// Only payouts in one of these statuses.
    pub status: Option<Vec<PayoutStatus>>,
}

/// The accruals a filter selects, as a connection.
pub async fn accruals_of(
    ctx: &Context<'_>,
    filter: AccrualFilter,
    page: PageArgs,
) -> ApiResult<IncentiveAccrualConnection> {
    let request = context::request(ctx)?;
    request.principal.authorize(Action::ReadIncentives)?;
    let page = accruals::list(context::db(ctx)?, &request.caller(), filter, page).await?;
    Ok(IncentiveAccrualConnection::from_page(
        page,
        IncentiveAccrual,
    ))
}

/// The accruals and payouts of one of a list's partners, as connections,
/// read with those of its siblings.
pub async fn nested_accruals(
    ctx: &Context<'_>,
    of: accruals::AccrualsOfPartner,
    partner_id: Uuid,
    page: PageArgs,
) -> ApiResult<IncentiveAccrualConnection> {
    context::request(ctx)?
        .principal
        .authorize(Action::ReadIncentives)?;
    let page = super::loaders::nested_page(ctx, of, partner_id, page).await?;
    Ok(IncentiveAccrualConnection::from_page(
        page,
        IncentiveAccrual,
    ))
}

pub async fn nested_payouts(
    ctx: &Context<'_>,
    partner_id: Uuid,
    page: PageArgs,
) -> ApiResult<PayoutConnection> {
    context::request(ctx)?
        .principal
        .authorize(Action::ReadIncentives)?;
    let page =
        super::loaders::nested_page(ctx, payouts::PayoutsOfPartner, partner_id, page).await?;
    Ok(PayoutConnection::from_page(page, Payout))
}

/// A partner's payouts, as a connection.
pub async fn payouts_of(
    ctx: &Context<'_>,
    partner_id: Option<Uuid>,
    statuses: Vec<entity::PayoutStatus>,
    page: PageArgs,
) -> ApiResult<PayoutConnection> {
    let request = context::request(ctx)?;
    request.principal.authorize(Action::ReadIncentives)?;
    let page = payouts::list(
        context::db(ctx)?,
        &request.caller(),
        partner_id,
        statuses,
        page,
    )
    .await?;
    Ok(PayoutConnection::from_page(page, Payout))
}

/// A partner's statement (the partner resolver checks the row is visible).
pub async fn statement_of(
    ctx: &Context<'_>,
    partner_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    currency: Option<CurrencyCode>,
) -> ApiResult<IncentiveStatement> {
    let request = context::request(ctx)?;
    request.principal.authorize(Action::ReadIncentives)?;
    if to <= from {
        return Err(ApiError::BadUserInput("`to` must be after `from`".into()));
    }
    let currency = match currency {
        Some(c) => c.0.as_str().to_owned(),
        None => super::loaders::settings(ctx).await?.base_currency,
    };
    let key = super::loaders::StatementOf {
        partner: partner_id,
        currency,
        from,
        to,
        as_of: request.now,
    };
    super::loaders::load(ctx, key)
        .await?
        .map(Into::into)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("a partner without its statement")))
}

#[derive(Default)]
pub struct IncentiveQuery;

#[Object]
impl IncentiveQuery {
    /// Incentive plans, newest first. Staff with `partners:read`.
    async fn incentive_plans(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only plans in one of these statuses.")] status: Option<
            Vec<IncentivePlanStatus>,
        >,
        #[graphql(desc = "Return the first n plans (at most 100; default 20).")] first: Option<i32>,
        #[graphql(desc = "Return plans after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n plans (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Return plans before this cursor.")] before: Option<String>,
    ) -> ApiResult<IncentivePlanConnection> {
        let request = context::request(ctx)?;
        request.principal.authorize(Action::ReadIncentivePlans)?;
        let page = plans::list(
            context::db(ctx)?,
            stored_all(status),
            page_args(ctx, first, after, last, before),
        )
        .await?;
        Ok(IncentivePlanConnection::from_page(page, IncentivePlan))
    }

    /// Accruals you may see (a partner: its own), newest first. Needs `partners:read`.
    async fn accruals(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions the accruals must meet.")] filter: Option<AccrualFilterInput>,
        #[graphql(desc = "Return the first n accruals (at most 100; default 20).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Return accruals after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n accruals (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Return accruals before this cursor.")] before: Option<String>,
    ) -> ApiResult<IncentiveAccrualConnection> {
        let filter = filter.unwrap_or_default();
        let page = page_args(ctx, first, after, last, before);
        let (Ok(partner_id), Ok(plan_id), Ok(subject_id)) = (
            filter_id(filter.partner_id, NodeType::Partner),
            filter_id(filter.plan_id, NodeType::IncentivePlan),
            filter_id(filter.opportunity_id, NodeType::Opportunity),
        ) else {
            let page = empty_page(ctx, Action::ReadIncentives, &page)?;
            return Ok(IncentiveAccrualConnection::from_page(
                page,
                IncentiveAccrual,
            ));
        };
        let filter = AccrualFilter {
            partner_id,
            plan_id,
            subject_id,
            statuses: stored_all(filter.status),
            disputed: filter.disputed,
        };
        accruals_of(ctx, filter, page).await
    }

    /// Payouts you may see (a partner: its own), newest first. Needs `partners:read`.
    async fn payouts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions the payouts must meet.")] filter: Option<PayoutFilterInput>,
        #[graphql(desc = "Return the first n payouts (at most 100; default 20).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Return payouts after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n payouts (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Return payouts before this cursor.")] before: Option<String>,
    ) -> ApiResult<PayoutConnection> {
        let filter = filter.unwrap_or_default();
        let page = page_args(ctx, first, after, last, before);
        let Ok(partner_id) = filter_id(filter.partner_id, NodeType::Partner) else {
            let page = empty_page(ctx, Action::ReadIncentives, &page)?;
            return Ok(PayoutConnection::from_page(page, Payout));
        };
        payouts_of(ctx, partner_id, stored_all(filter.status), page).await
    }

    /// The ledger in posting order, from a cursor: a resumable feed for
    /// finance. `ADMIN` with the `admin` scope.
    async fn ledger_entries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The `cursor` of the last entry you have; from the start when absent.")]
        after: Option<String>,
        #[graphql(desc = "How many entries, at most 100 (default 100).")] first: Option<i32>,
    ) -> ApiResult<LedgerEntryFeed> {
        let request = context::request(ctx)?;
        request.principal.authorize(Action::ManagePayouts)?;
        let first = first.unwrap_or(100);
        if !(1..=100).contains(&first) {
            return Err(ApiError::BadUserInput(
                "`first` must be between 1 and 100".into(),
            ));
        }
        let from = match &after {
            None => 0,
            Some(cursor) => cursor.parse::<i64>().map_err(|_| {
                ApiError::BadUserInput("`after` is not a cursor this feed issued".into())
            })?,
        };
        let entries = ledger::feed(context::db(ctx)?, from, first as u64).await?;
        let has_more = entries.len() == first as usize;
        let cursor = entries.last().map(|e| e.seq.to_string()).or(after);
        Ok(LedgerEntryFeed {
            entries: entries.into_iter().map(LedgerEntry).collect(),
            cursor,
            has_more,
        })
    }

    /// What a plan would have paid on the deals really won in `[from, to)`,
    /// with explanations, as if it had been active then: a saved plan
    /// (`planId`), changed `terms` for it, or new `terms`. Writes nothing.
    /// Staff with `partners:read`.
    async fn preview_incentive_plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A saved plan; its current terms unless `terms` are given.")]
        plan_id: Option<ID>,
        #[graphql(desc = "Terms to try (a draft or a change).")] terms: Option<
            IncentivePlanTermsInput,
        >,
        #[graphql(desc = "The start of the window (included).")] from: DateTime<Utc>,
        #[graphql(desc = "The end of the window (excluded).")] to: DateTime<Utc>,
    ) -> ApiResult<IncentivePreview> {
        let request = context::request(ctx)?;
        request.principal.authorize(Action::ReadIncentivePlans)?;
        if to <= from {
            return Err(ApiError::BadUserInput("`to` must be after `from`".into()));
        }
        let db = context::db(ctx)?;
        let saved = match &plan_id {
            Some(id) => Some(
                ids::decode_as(NodeType::IncentivePlan, id)
                    .map(|id| plans::find(db, id))
                    .ok_or_else(|| ApiError::BadUserInput("no incentive plan has this id".into()))?
                    .await?
                    .ok_or_else(|| {
                        ApiError::BadUserInput("no incentive plan has this id".into())
                    })?,
            ),
            None => None,
        };
        let now = request.now;
        let plan = saved.clone().unwrap_or(incentive_plan::Model {
            id: Uuid::nil(),
            name: "Preview".into(),
            kind: entity::IncentivePlanKind::Commission,
            status: entity::IncentivePlanStatus::Draft,
            current_version: 0,
            version: 0,
            created_at: now,
            updated_at: now,
        });
        let version = match terms {
            Some(input) => {
                let terms =
                    InputCheck::parse(|check| parse_terms(check, input)).map_err(|failure| {
                        match failure {
                            crate::service::Failure::User(errors) => ApiError::BadUserInput(
                                errors
                                    .into_iter()
                                    .map(|e| e.message)
                                    .collect::<Vec<_>>()
                                    .join("; "),
                            ),
                            crate::service::Failure::Api(error) => error,
                        }
                    })?;
                if let Some(error) = terms.errors().into_iter().next() {
                    return Err(ApiError::BadUserInput(error.message));
                }
                plans::version_row(plan.id, plan.current_version + 1, &terms, now)
            }
            None => match &saved {
                Some(p) => plans::current_version(db, p).await?.ok_or_else(|| {
                    ApiError::internal(anyhow::anyhow!("plan {} has no version", p.id))
                })?,
                None => {
                    return Err(ApiError::BadUserInput(
                        "give `planId`, `terms` or both".into(),
                    ))
                }
            },
        };
        let result = preview::preview(db, &plan, &version, from, to).await?;
        let currency = result.currency.clone();
        Ok(IncentivePreview {
            total: money_of(result.total_minor, &currency),
            deals_considered: i32::try_from(result.deals_considered).unwrap_or(i32::MAX),
            lines: result
                .lines
                .into_iter()
                .map(|l| IncentivePreviewLine {
                    partner_id: ID(ids::encode(NodeType::Partner, l.partner_id)),
                    opportunity_id: ID(ids::encode(NodeType::Opportunity, l.opportunity_id)),
                    role: l.role.into(),
                    won_at: l.at,
                    amount: money_of(l.amount_minor, &currency),
                    explanation: l.explanation,
                })
                .collect(),
        })
    }
}

// ---- inputs ----

/// What one attribution role earns: a rate or a flat amount.
#[derive(InputObject)]
pub struct IncentiveRoleRateInput {
    /// The partner's part in the deal.
    pub role: AttributionRole,
    /// The percentage of the basis, 0 to 100 with at most two decimals.
    pub rate_percent: Option<Decimal>,
    /// A fixed amount in the plan's currency (the `FLAT` basis).
    pub flat_amount: Option<Decimal>,
}

/// Who qualifies; absent lists admit everyone.
#[derive(InputObject)]
pub struct IncentiveEligibilityInput {
    /// Partner types that qualify.
    pub partner_types: Option<Vec<PartnerType>>,
    /// Partner tiers that qualify.
    pub partner_tiers: Option<Vec<PartnerTier>>,
    /// A certification track some contact of the partner must hold.
    pub certification_track_id: Option<ID>,
}

/// A window: `[anchor, anchor + days)`, paying at most `maxCount` deals per partner.
#[derive(InputObject)]
pub struct IncentiveWindowInput {
    /// Where it starts.
    pub anchor: IncentiveWindowAnchor,
    /// Its length in days, 1 to 3650.
    pub days: i32,
    /// The most deals it pays per partner.
    pub max_count: Option<i32>,
}

/// One tier bracket.
#[derive(InputObject)]
pub struct IncentiveTierBracketInput {
    /// The threshold in the plan's currency; the first bracket starts at 0.
    pub above: Decimal,
    /// The rate above it, in percent.
    pub rate_percent: Decimal,
}

/// Tiers over a calendar month or quarter.
#[derive(InputObject)]
pub struct IncentiveTiersInput {
    /// The period they count over.
    pub period: IncentiveTierPeriod,
    /// How crossing a threshold pays.
    pub mode: IncentiveTierMode,
    /// The brackets, lowest first.
    pub brackets: Vec<IncentiveTierBracketInput>,
}

/// The terms of a plan version.
#[derive(InputObject)]
pub struct IncentivePlanTermsInput {
    /// What partners read about the plan (all they see of it).
    pub partner_description: String,
    /// What makes it accrue; `OPPORTUNITY_WON` when absent.
    pub trigger: Option<IncentiveTrigger>,
    /// What its percentages are taken of.
    pub basis: IncentiveBasis,
    /// The currency it pays in.
    pub currency: CurrencyCode,
    /// What each attribution role earns; a role not listed earns nothing.
    pub rates: Vec<IncentiveRoleRateInput>,
    /// Who qualifies; everyone when absent.
    pub eligibility: Option<IncentiveEligibilityInput>,
    /// A window, e.g. "the first 3 deals within 90 days of signing".
    pub window: Option<IncentiveWindowInput>,
    /// Tiers (they replace the roles' rates).
    pub tiers: Option<IncentiveTiersInput>,
    /// The most one partner can earn under the plan.
    pub cap: Option<Decimal>,
    /// Days an accrual stays `PENDING`, 0 to 365; 30 when absent.
    pub hold_days: Option<i32>,
    /// The plan's start; now when absent.
    pub starts_at: Option<DateTime<Utc>>,
}

fn amount_in(currency: &inputs::CurrencyCode, value: Decimal) -> Result<i64, InvalidInput> {
    money::Money::from_decimal(value.0, currency.clone()).map(|m| m.minor_units)
}

fn rate_of(value: Decimal) -> Result<i64, InvalidInput> {
    Percent::parse(value.0).map(|p| i64::from(p.basis_points()))
}

fn parse_terms(check: &mut InputCheck, input: IncentivePlanTermsInput) -> Option<Terms> {
    let currency = input.currency.0;
    let mut payouts = Vec::new();
    for rate in input.rates {
        let rate_bps = check.optional("terms.rates", rate.rate_percent, rate_of);
        let flat_minor =
            check.optional("terms.rates", rate.flat_amount, |a| amount_in(&currency, a));
        payouts.push(RolePayout {
            role: rate.role.into(),
            rate_bps,
            flat_minor,
        });
    }
    let track = match input
        .eligibility
        .as_ref()
        .and_then(|e| e.certification_track_id.as_ref())
    {
        Some(id) => Some(check.id(
            "terms.eligibility.certificationTrackId",
            NodeType::CertificationTrack,
            id,
        )?),
        None => None,
    };
    let (partner_types, partner_tiers) = match input.eligibility {
        Some(e) => (stored_all(e.partner_types), stored_all(e.partner_tiers)),
        None => (Vec::new(), Vec::new()),
    };
    let tiers = match input.tiers {
        Some(t) => {
            let mut brackets = Vec::new();
            for b in t.brackets {
                let above = check.field("terms.tiers.brackets", amount_in(&currency, b.above));
                let rate = check.field("terms.tiers.brackets", rate_of(b.rate_percent));
                brackets.push(TierBracket {
                    above_minor: above?,
                    rate_bps: rate?,
                });
            }
            Some(TierTerms {
                period: t.period.into(),
                mode: t.mode.into(),
                brackets,
            })
        }
        None => None,
    };
    let cap = check.optional("terms.cap", input.cap, |c| amount_in(&currency, c));
    if input.cap.is_some() && cap.is_none() {
        return None;
    }
    Some(Terms {
        partner_description: input.partner_description,
        trigger: input
            .trigger
            .map_or(entity::IncentiveTrigger::OpportunityWon, Into::into),
        basis: input.basis.into(),
        currency,
        payouts,
        partner_types,
        partner_tiers,
        certification_track_id: track,
        window: input.window.map(|w| WindowTerms {
            anchor: w.anchor.into(),
            days: w.days,
            max_count: w.max_count,
        }),
        tiers,
        cap_minor: cap,
        hold_days: input.hold_days.unwrap_or(30),
        starts_at: input.starts_at,
    })
}

/// A new plan, as a `DRAFT`.
#[derive(InputObject)]
pub struct CreateIncentivePlanInput {
    /// The plan's name.
    pub name: String,
    /// What it pays for.
    pub kind: IncentivePlanKind,
    /// Its first version's terms.
    pub terms: IncentivePlanTermsInput,
}

/// A rename and/or new terms (a new version).
#[derive(InputObject)]
pub struct UpdateIncentivePlanInput {
    /// The plan's global id.
    pub id: ID,
    /// The `version` you read, if the change should be refused when the plan changed since.
    pub expected_version: Option<i32>,
    /// A new name.
    pub name: Option<String>,
    /// New terms: a new version, which accrues from now on if the plan is active.
    pub terms: Option<IncentivePlanTermsInput>,
}

/// A plan to activate or archive.
#[derive(InputObject)]
pub struct IncentivePlanIdInput {
    /// The plan's global id.
    pub id: ID,
}

/// Accruals to hold, approve or reject, all or none.
#[derive(InputObject)]
pub struct ReviewAccrualsInput {
    /// 1 to 100 accrual ids.
    pub ids: Vec<ID>,
    /// Why, in words the partner reads; required to reject.
    pub reason: Option<String>,
    /// Staff's own note (internal).
    pub note: Option<String>,
}

/// An amount of either sign.
#[derive(InputObject)]
pub struct SignedMoneyInput {
    /// The amount, e.g. `"-250.00"`.
    pub amount: Decimal,
    /// ISO 4217 currency code.
    pub currency: CurrencyCode,
}

/// An adjustment to a partner's balance.
#[derive(InputObject)]
pub struct PostIncentiveAdjustmentInput {
    /// The partner's global id.
    pub partner_id: ID,
    /// The amount, positive or negative, not zero.
    pub amount: SignedMoneyInput,
    /// Why, in words the partner reads.
    pub reason: String,
}

/// A dispute of an accrual.
#[derive(InputObject)]
pub struct DisputeAccrualInput {
    /// The accrual's global id.
    pub id: ID,
    /// What is wrong with it.
    pub reason: String,
}

/// An answer to a dispute.
#[derive(InputObject)]
pub struct ResolveAccrualDisputeInput {
    /// The accrual's global id.
    pub id: ID,
    /// How it was resolved, in words the partner reads.
    pub resolution: String,
}

/// A period's payouts to make.
#[derive(InputObject)]
pub struct CreatePayoutsInput {
    /// The last day of the period (entries up to its end are gathered).
    pub period_end: Date,
    /// The currency to pay.
    pub currency: CurrencyCode,
}

/// A payout to approve.
#[derive(InputObject)]
pub struct PayoutIdInput {
    /// The payout's global id.
    pub id: ID,
}

/// A payout paid.
#[derive(InputObject)]
pub struct MarkPayoutPaidInput {
    /// The payout's global id.
    pub id: ID,
    /// The payment's reference in the bank or payment system.
    pub external_reference: String,
}

/// A payout that failed.
#[derive(InputObject)]
pub struct FailPayoutInput {
    /// The payout's global id.
    pub id: ID,
    /// Why it failed.
    pub reason: String,
}

/// The result of a plan mutation.
#[derive(SimpleObject)]
pub struct IncentivePlanPayload {
    /// The plan, unless `userErrors` says why not.
    pub incentive_plan: Option<IncentivePlan>,
    /// Why the input was refused; empty on success.
    pub user_errors: Vec<UserError>,
}

/// The result of a bulk accrual review.
#[derive(SimpleObject)]
pub struct ReviewAccrualsPayload {
    /// The accruals as they are now; empty when refused.
    pub accruals: Vec<IncentiveAccrual>,
    /// Why the input was refused (each bad id named); empty on success.
    pub user_errors: Vec<UserError>,
}

/// The result of an accrual mutation.
#[derive(SimpleObject)]
pub struct IncentiveAccrualPayload {
    /// The accrual, unless `userErrors` says why not.
    pub accrual: Option<IncentiveAccrual>,
    /// Why the input was refused; empty on success.
    pub user_errors: Vec<UserError>,
}

/// The result of an adjustment.
#[derive(SimpleObject)]
pub struct PostIncentiveAdjustmentPayload {
    /// The ledger entry posted, unless `userErrors` says why not.
    pub ledger_entry: Option<LedgerEntry>,
    /// Why the input was refused; empty on success.
    pub user_errors: Vec<UserError>,
}

/// The result of `createPayouts`.
#[derive(SimpleObject)]
pub struct CreatePayoutsPayload {
    /// One `DRAFT` payout per partner with a positive payable balance.
    pub payouts: Vec<Payout>,
    /// Why the input was refused; empty on success.
    pub user_errors: Vec<UserError>,
}

/// The result of a payout mutation.
#[derive(SimpleObject)]
pub struct PayoutPayload {
    /// The payout, unless `userErrors` says why not.
    pub payout: Option<Payout>,
    /// Why the input was refused; empty on success.
    pub user_errors: Vec<UserError>,
}

fn plan_payload(
    (plan, user_errors): (Option<incentive_plan::Model>, Vec<UserError>),
) -> IncentivePlanPayload {
    IncentivePlanPayload {
        incentive_plan: plan.map(IncentivePlan),
        user_errors,
    }
}

fn accrual_payload(
    (accrual, user_errors): (Option<incentive_accrual::Model>, Vec<UserError>),
) -> IncentiveAccrualPayload {
    IncentiveAccrualPayload {
        accrual: accrual.map(IncentiveAccrual),
        user_errors,
    }
}

fn payout_payload(
    (payout, user_errors): (Option<incentive_payout::Model>, Vec<UserError>),
) -> PayoutPayload {
    PayoutPayload {
        payout: payout.map(Payout),
        user_errors,
    }
}

async fn review(
    ctx: &Context<'_>,
    input: ReviewAccrualsInput,
    how: Review,
) -> ApiResult<ReviewAccrualsPayload> {
    mutate(ctx, Action::ReviewAccruals, |request| async move {
        let ids: Vec<Option<Uuid>> = input
            .ids
            .iter()
            .map(|id| ids::decode_as(NodeType::IncentiveAccrual, id))
            .collect();
        accruals::review(
            context::db(ctx)?,
            &request.caller(),
            &ids,
            how,
            input.reason,
            input.note,
        )
        .await
    })
    .await
    .map(|(accruals, user_errors)| ReviewAccrualsPayload {
        accruals: accruals
            .unwrap_or_default()
            .into_iter()
            .map(IncentiveAccrual)
            .collect(),
        user_errors,
    })
}

#[derive(Default)]
pub struct IncentiveMutation;

#[Object]
impl IncentiveMutation {
    /// Creates a plan as a `DRAFT` with its first version. `PARTNER_MANAGER`
    /// or `ADMIN` with `partners:write`.
    async fn create_incentive_plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new plan.")] input: CreateIncentivePlanInput,
    ) -> ApiResult<IncentivePlanPayload> {
        mutate(ctx, Action::ManageIncentivePlans, |request| async move {
            let (name, terms) = InputCheck::parse(|check| {
                let name = check.field("name", DisplayName::parse(&input.name));
                let terms = parse_terms(check, input.terms);
                Some((name?, terms?))
            })?;
            plans::create(
                context::db(ctx)?,
                &request.caller(),
                name,
                input.kind.into(),
                terms,
            )
            .await
        })
        .await
        .map(plan_payload)
    }

    /// Renames a plan and/or gives it new terms (a new version; what was
    /// earned keeps its version). `PARTNER_MANAGER` or `ADMIN` with `partners:write`.
    async fn update_incentive_plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The changes.")] input: UpdateIncentivePlanInput,
    ) -> ApiResult<IncentivePlanPayload> {
        mutate(ctx, Action::ManageIncentivePlans, |request| async move {
            let (id, name, terms) = InputCheck::parse(|check| {
                let id = check.id("id", NodeType::IncentivePlan, &input.id);
                let name = check.optional("name", input.name, |n| DisplayName::parse(&n));
                let terms = match input.terms {
                    Some(t) => Some(parse_terms(check, t)?),
                    None => None,
                };
                Some((id?, name, terms))
            })?;
            plans::update(
                context::db(ctx)?,
                &request.caller(),
                id,
                input.expected_version,
                name,
                terms,
            )
            .await
        })
        .await
        .map(plan_payload)
    }

    /// Activates a draft plan: it accrues from now on. `PARTNER_MANAGER` or
    /// `ADMIN` with `partners:write`.
    async fn activate_incentive_plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The plan.")] input: IncentivePlanIdInput,
    ) -> ApiResult<IncentivePlanPayload> {
        mutate(ctx, Action::ManageIncentivePlans, |request| async move {
            let id = InputCheck::parse(|check| check.id("id", NodeType::IncentivePlan, &input.id))?;
            plans::activate(context::db(ctx)?, &request.caller(), id).await
        })
        .await
        .map(plan_payload)
    }

    /// Archives a plan: it accrues no more. `PARTNER_MANAGER` or `ADMIN` with `partners:write`.
    async fn archive_incentive_plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The plan.")] input: IncentivePlanIdInput,
    ) -> ApiResult<IncentivePlanPayload> {
        mutate(ctx, Action::ManageIncentivePlans, |request| async move {
            let id = InputCheck::parse(|check| check.id("id", NodeType::IncentivePlan, &input.id))?;
            plans::archive(context::db(ctx)?, &request.caller(), id).await
        })
        .await
        .map(plan_payload)
    }

    /// Holds up to 100 pending or approved accruals, in one transaction.
    /// `PARTNER_MANAGER` or `ADMIN` with `partners:write`.
    async fn hold_accruals(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The accruals and why.")] input: ReviewAccrualsInput,
    ) -> ApiResult<ReviewAccrualsPayload> {
        review(ctx, input, Review::Hold).await
    }

    /// Approves up to 100 pending or held accruals now, before their hold
    /// ends, in one transaction. `PARTNER_MANAGER` or `ADMIN` with `partners:write`.
    async fn approve_accruals(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The accruals.")] input: ReviewAccrualsInput,
    ) -> ApiResult<ReviewAccrualsPayload> {
        review(ctx, input, Review::Approve).await
    }

    /// Rejects up to 100 unpaid accruals with a reason the partner sees, in
    /// one transaction. `PARTNER_MANAGER` or `ADMIN` with `partners:write`.
    async fn reject_accruals(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The accruals and why.")] input: ReviewAccrualsInput,
    ) -> ApiResult<ReviewAccrualsPayload> {
        review(ctx, input, Review::Reject).await
    }

    /// Posts an adjustment of either sign to a partner's balance.
    /// `PARTNER_MANAGER` or `ADMIN` with `partners:write`.
    async fn post_incentive_adjustment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partner, the amount and why.")] input: PostIncentiveAdjustmentInput,
    ) -> ApiResult<PostIncentiveAdjustmentPayload> {
        mutate(ctx, Action::ReviewAccruals, |request| async move {
            let (partner, amount) = InputCheck::parse(|check| {
                let partner = check.id("partnerId", NodeType::Partner, &input.partner_id);
                let amount = check.field(
                    "amount",
                    money::Money::from_decimal(input.amount.amount.0, input.amount.currency.0),
                );
                Some((partner?, amount?))
            })?;
            accruals::adjust(
                context::db(ctx)?,
                &request.caller(),
                partner,
                amount,
                input.reason,
            )
            .await
        })
        .await
        .map(|(entry, user_errors)| PostIncentiveAdjustmentPayload {
            ledger_entry: entry.map(LedgerEntry),
            user_errors,
        })
    }

    /// Disputes one of your partner's accruals, within the program's dispute
    /// window. `PARTNER_ADMIN` with `partners:write`.
    async fn dispute_accrual(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The accrual and what is wrong.")] input: DisputeAccrualInput,
    ) -> ApiResult<IncentiveAccrualPayload> {
        mutate(ctx, Action::DisputeAccruals, |request| async move {
            let id =
                InputCheck::parse(|check| check.id("id", NodeType::IncentiveAccrual, &input.id))?;
            accruals::dispute(context::db(ctx)?, &request.caller(), id, input.reason).await
        })
        .await
        .map(accrual_payload)
    }

    /// Answers an open dispute. `PARTNER_MANAGER` or `ADMIN` with `partners:write`.
    async fn resolve_accrual_dispute(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The accrual and the answer.")] input: ResolveAccrualDisputeInput,
    ) -> ApiResult<IncentiveAccrualPayload> {
        mutate(ctx, Action::ReviewAccruals, |request| async move {
            let id =
                InputCheck::parse(|check| check.id("id", NodeType::IncentiveAccrual, &input.id))?;
            accruals::resolve_dispute(context::db(ctx)?, &request.caller(), id, input.resolution)
                .await
        })
        .await
        .map(accrual_payload)
    }

    /// Gathers every partner's approved, unpaid entries of a period into one
    /// `DRAFT` payout per partner whose payable balance is positive (one
    /// set-based statement, not one per partner). `ADMIN` with `admin`.
    async fn create_payouts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The period's end and the currency.")] input: CreatePayoutsInput,
    ) -> ApiResult<CreatePayoutsPayload> {
        mutate(ctx, Action::ManagePayouts, |request| async move {
            payouts::create(
                context::db(ctx)?,
                &request.caller(),
                input.period_end.0,
                input.currency.0,
            )
            .await
        })
        .await
        .map(|(made, user_errors)| CreatePayoutsPayload {
            payouts: made.unwrap_or_default().into_iter().map(Payout).collect(),
            user_errors,
        })
    }

    /// Approves a draft payout. `ADMIN` with `admin`.
    async fn approve_payout(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The payout.")] input: PayoutIdInput,
    ) -> ApiResult<PayoutPayload> {
        mutate(ctx, Action::ManagePayouts, |request| async move {
            let id = InputCheck::parse(|check| check.id("id", NodeType::Payout, &input.id))?;
            payouts::approve(context::db(ctx)?, &request.caller(), id).await
        })
        .await
        .map(payout_payload)
    }

    /// Records an approved payout as paid: its amount leaves the partner's
    /// balance and the accruals it paid become `PAID`. `ADMIN` with `admin`.
    async fn mark_payout_paid(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The payout and its payment reference.")] input: MarkPayoutPaidInput,
    ) -> ApiResult<PayoutPayload> {
        mutate(ctx, Action::ManagePayouts, |request| async move {
            let id = InputCheck::parse(|check| check.id("id", NodeType::Payout, &input.id))?;
            payouts::mark_paid(
                context::db(ctx)?,
                &request.caller(),
                id,
                input.external_reference,
            )
            .await
        })
        .await
        .map(payout_payload)
    }

    /// Records that a draft or approved payout failed; its entries go to the
    /// next payout. `ADMIN` with `admin`.
    async fn fail_payout(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The payout and why it failed.")] input: FailPayoutInput,
    ) -> ApiResult<PayoutPayload> {
        mutate(ctx, Action::ManagePayouts, |request| async move {
            let id = InputCheck::parse(|check| check.id("id", NodeType::Payout, &input.id))?;
            payouts::fail(context::db(ctx)?, &request.caller(), id, input.reason).await
        })
        .await
        .map(payout_payload)
    }
}

/// Looks up an incentive node the caller may read.
pub async fn node(
    ctx: &Context<'_>,
    node_type: NodeType,
    id: Uuid,
) -> ApiResult<Option<super::node::Node>> {
    use super::node::Node;
    let request = context::request(ctx)?;
    let db = context::db(ctx)?;
    let caller = request.caller();
    Ok(match node_type {
        NodeType::IncentivePlan if request.principal.may(Action::ReadIncentivePlans) => {
            plans::find(db, id)
                .await?
                .map(|p| Node::IncentivePlan(p.into()))
        }
        NodeType::IncentiveAccrual if request.principal.may(Action::ReadIncentives) => {
            accruals::find(db, &caller, id)
                .await?
                .map(|a| Node::IncentiveAccrual(a.into()))
        }
        NodeType::Payout if request.principal.may(Action::ReadIncentives) => {
            payouts::find(db, &caller, id)
                .await?
                .map(|p| Node::Payout(p.into()))
        }
        _ => None,
    })
}
