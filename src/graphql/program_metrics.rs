//! `programMetrics` (SPEC §4.5): the program's KPIs, ROI, signing cohorts
//! and rep adoption over a window. Staff with `metrics:read`.

use async_graphql::{Context, Enum, Object, SimpleObject};
use chrono::{DateTime, Utc};
use rust_decimal::{Decimal as RawDecimal, RoundingStrategy};
use sea_orm::Iterable;

use super::{
    context,
    enums::{MilestoneKind, OpportunityStage, PartnerStatus},
    loaders::{self, StaffUserId},
    partners::StaffUser,
    registrations::MoneyInput,
    scalars::{CurrencyCode, Decimal, Money},
    scores::{average, base_code, check_window, money, MoneyRatio, Ratio},
};
use crate::{
    auth::Action,
    domain::{
        self as domain,
        exchange::Conversion,
        inputs::{self, Weight},
        money::{div_round_half_away, Money as DomainMoney},
    },
    error::{ApiError, ApiResult},
    service::{
        exchange_rates,
        program_metrics::{self as service, Outcomes, Segment},
        settings,
    },
};

/// Where an opportunity's revenue comes from.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "Segment")]
pub enum PipelineSegment {
    /// A partner holds its `SOURCED` attribution.
    PartnerSourced,
    /// Not partner-sourced, but it credits a partner (`INFLUENCED` or `CO_SELL`).
    Influenced,
    /// No partner credited.
    Direct,
}

/// Partners in one status.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct PartnerStatusCount {
    /// The status.
    pub status: PartnerStatus,
    /// Partners in it now.
    pub count: i64,
}

/// How long partners signed in the window took to reach a milestone.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct MilestoneMedian {
    /// The milestone.
    pub milestone: MilestoneKind,
    /// Median days from signing; null when no partner reached it.
    pub median_days: Option<f64>,
    /// Partners signed in the window that reached it.
    pub partners: i64,
}

/// Count and amount of opportunities.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct PipelineTally {
    /// How many.
    pub count: i64,
    /// Their amounts in the base currency.
    pub amount: Money,
}

/// Opportunities created in the window, at one current stage.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct PipelineStageMetrics {
    /// The stage they are at now.
    pub stage: OpportunityStage,
    /// Partner-sourced ones.
    pub partner_sourced: PipelineTally,
    /// Influenced ones.
    pub influenced: PipelineTally,
    /// Direct ones.
    pub direct: PipelineTally,
}

/// Won and lost deals closed in the window.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct DealOutcomes {
    /// Deals won.
    pub won: i64,
    /// Deals lost.
    pub lost: i64,
    /// Won of won + lost.
    pub win_rate: Ratio,
    /// Closed-won revenue in the base currency.
    pub won_revenue: Money,
    /// Closed-won revenue per won deal; null without wins.
    pub average_won_deal_size: Option<Money>,
}

impl DealOutcomes {
    fn new(o: &Outcomes, base: &str) -> Self {
        Self {
            won: o.won,
            lost: o.lost,
            win_rate: Ratio::of(o.won, o.won + o.lost),
            won_revenue: money(o.won_amount, base),
            average_won_deal_size: average(o.won_amount, o.won_converted, base),
        }
    }
}

/// Deals of one segment closed in the window.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct SegmentOutcomes {
    /// The segment.
    pub segment: PipelineSegment,
    /// Its won and lost deals.
    pub outcomes: DealOutcomes,
}

/// One milestone of a signing cohort.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct CohortMilestone {
    /// The milestone.
    pub milestone: MilestoneKind,
    /// Partners of the cohort that reached it by its due date, of those signed.
    pub reached_by_due_date: Ratio,
}

/// Partners signed in one month (UTC).
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct SigningCohort {
    /// `YYYY-MM`.
    pub month: String,
    /// Partners signed that month.
    pub partners_signed: i64,
    /// Each milestone's on-time rate.
    pub milestones: Vec<CohortMilestone>,
}

/// Return on the program's costs (SPEC §4.5).
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct ProgramRoi {
    /// Partner-sourced closed-won revenue.
    pub partner_sourced_revenue: Money,
    /// Influenced closed-won revenue (full amounts).
    pub influenced_revenue: Money,
    /// The influence weight applied to it.
    pub influence_weight: Decimal,
    /// Partner-sourced + influenced × weight.
    pub attributed_revenue: Money,
    /// The costs given, in the base currency.
    pub program_costs: Money,
    /// (attributed revenue − costs) / costs × 100, two decimals.
    pub roi_percent: Decimal,
}

/// One staff owner's use of partners.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct RepAdoptionRow {
    /// The owner.
    pub owner: Option<StaffUser>,
    /// Opportunities they own that were created in the window.
    pub opportunities: i64,
    /// Of those, the ones crediting a partner.
    pub partner_credited: i64,
    /// Partner-credited of owned.
    pub attach_rate: Ratio,
    /// Their deals closed in the window that credit a partner.
    pub with_partner: DealOutcomes,
    /// Their deals closed in the window that credit none.
    pub without_partner: DealOutcomes,
}

/// Whether the company's own reps bring partners into their deals.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct RepAdoption {
    /// Staff owners of opportunities created in the window, most opportunities first.
    pub reps: Vec<RepAdoptionRow>,
    /// Reps with at least one partner-credited opportunity, of all reps listed.
    pub reps_with_partner_deals: Ratio,
}

/// The program's KPIs over `[from, to)` (SPEC §4.5); amounts in the base currency.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct ProgramMetrics {
    /// Start of the window (included).
    pub from: DateTime<Utc>,
    /// End of the window (excluded).
    pub to: DateTime<Utc>,
    /// The currency amounts are in.
    pub base_currency: CurrencyCode,
    /// Partners by status, now.
    pub partners_by_status: Vec<PartnerStatusCount>,
    /// Of partners signed in the window, those that reached `FIRST_REGISTERED_DEAL` within the activation days (120 by default).
    pub live_vs_signed: Ratio,
    /// Of partners signed before `to` and not offboarded, those with an attributed deal won in the 90 days before `to`.
    pub activated_partner_rate: Ratio,
    /// Median days from signing to the first registration (partners signed in the window).
    pub median_days_to_first_registration: Option<f64>,
    /// Median days from signing to each milestone (partners signed in the window that reached it).
    pub milestone_medians: Vec<MilestoneMedian>,
    /// Registrations submitted in the window.
    pub registrations_submitted: i64,
    /// Of registrations decided in the window, those decided by `slaDueAt`.
    pub approval_sla_compliance: Ratio,
    /// Median hours from submission to decision (decided in the window).
    pub median_hours_to_decision: Option<f64>,
    /// Of registrations submitted in the window, those whose opportunity is now `CLOSED_WON`.
    pub registration_conversion: Ratio,
    /// Opportunities created in the window by current stage and segment.
    pub pipeline: Vec<PipelineStageMetrics>,
    /// Partner-sourced amount of that pipeline, of its whole amount.
    pub partner_sourced_share: MoneyRatio,
    /// Win rate and average won deal size per segment, over deals closed in the window.
    pub win_rates: Vec<SegmentOutcomes>,
    /// Of certifications enrolled in the window, those earned.
    pub certification_completion: Ratio,
    /// Partners signed in the window, by month of signing.
    pub cohorts: Vec<SigningCohort>,
    /// Return on `programCosts`; null when they were not given.
    pub roi: Option<ProgramRoi>,
    /// Staff reps' use of partners.
    pub rep_adoption: RepAdoption,
    /// Opportunities left out of the pipeline sums because their currency has no exchange rate.
    pub unconverted_opportunities: i64,
}

#[derive(Default)]
pub struct ProgramMetricsQuery;

#[Object]
impl ProgramMetricsQuery {
    /// The program's KPIs over `[from, to)`. Needs `ADMIN`, `PARTNER_MANAGER`
    /// or `VIEWER` and the `metrics:read` scope.
    async fn program_metrics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Start of the window (included).")] from: DateTime<Utc>,
        #[graphql(desc = "End of the window (excluded); at most ten years after `from`.")]
        to: DateTime<Utc>,
        #[graphql(desc = "What the program cost over the window, for ROI; positive.")]
        program_costs: Option<MoneyInput>,
    ) -> ApiResult<ProgramMetrics> {
        let request = context::request(ctx)?;
        request.principal.authorize(Action::ReadProgramMetrics)?;
        check_window(from, to, "from", "to")?;
        let db = context::db(ctx)?;
        let settings = settings::get(db).await?;
        let base = settings.base_currency.clone();
        let converter = exchange_rates::converter(db, &settings).await?;
        let costs = program_costs
            .map(|c| costs_in_base(c, &converter.conversions, &base))
            .transpose()?;
        let m = service::compute(db, from, to, settings.activation_days, &converter).await?;

        let tally = |stage: domain::OpportunityStage, segment: Segment| {
            let t = m
                .pipeline
                .get(&(stage, segment))
                .copied()
                .unwrap_or_default();
            PipelineTally {
                count: t.count,
                amount: money(t.amount, &base),
            }
        };
        let pipeline = domain::OpportunityStage::iter()
            .map(|stage| PipelineStageMetrics {
                stage: stage.into(),
                partner_sourced: tally(stage, Segment::PartnerSourced),
                influenced: tally(stage, Segment::Influenced),
                direct: tally(stage, Segment::Direct),
            })
            .collect();
        let sourced_amount: i64 = m
            .pipeline
            .iter()
            .filter(|((_, s), _)| *s == Segment::PartnerSourced)
            .map(|(_, t)| t.amount)
            .sum();
        let total_amount: i64 = m.pipeline.values().map(|t| t.amount).sum();
        let outcome = |s: Segment| m.outcomes.get(&s).copied().unwrap_or_default();

        let roi = costs.map(|costs| {
            let weight = Weight::from_basis_points(settings.influence_weight_bps);
            let sourced = outcome(Segment::PartnerSourced).won_amount;
            let influenced = outcome(Segment::Influenced).won_amount;
            let attributed = sourced
                + div_round_half_away(
                    i128::from(influenced) * i128::from(settings.influence_weight_bps),
                    10_000,
                );
            let percent = (RawDecimal::from(attributed - costs) / RawDecimal::from(costs)
                * RawDecimal::from(100))
            .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
            ProgramRoi {
                partner_sourced_revenue: money(sourced, &base),
                influenced_revenue: money(influenced, &base),
                influence_weight: Decimal(weight.as_decimal()),
                attributed_revenue: money(attributed, &base),
                program_costs: money(costs, &base),
                roi_percent: Decimal(percent),
            }
        });

        let mut reps = Vec::new();
        for rep in &m.reps {
            reps.push(RepAdoptionRow {
                owner: loaders::load(ctx, StaffUserId(rep.owner_id))
                    .await?
                    .map(StaffUser::from),
                opportunities: rep.opportunities,
                partner_credited: rep.partner_credited,
                attach_rate: Ratio::of(rep.partner_credited, rep.opportunities),
                with_partner: DealOutcomes::new(&rep.with_partner, &base),
                without_partner: DealOutcomes::new(&rep.without_partner, &base),
            });
        }
        let adopting = m.reps.iter().filter(|r| r.partner_credited > 0).count() as i64;

        let medians = |kind: domain::MilestoneKind| m.milestone_medians.get(&kind).copied();
        Ok(ProgramMetrics {
            from,
            to,
            base_currency: base_code(&base),
            partners_by_status: domain::PartnerStatus::iter()
                .map(|status| PartnerStatusCount {
                    status: status.into(),
                    count: m
                        .partners_by_status
                        .iter()
                        .find(|(s, _)| *s == status)
                        .map(|(_, n)| *n)
                        .unwrap_or(0),
                })
                .collect(),
            live_vs_signed: ratio(m.live_vs_signed),
            activated_partner_rate: ratio(m.activated_partners),
            median_days_to_first_registration: medians(domain::MilestoneKind::FirstRegisteredDeal)
                .map(|(days, _)| round2(days)),
            milestone_medians: domain::MilestoneKind::iter()
                .map(|milestone| {
                    let found = medians(milestone);
                    MilestoneMedian {
                        milestone: milestone.into(),
                        median_days: found.map(|(days, _)| round2(days)),
                        partners: found.map(|(_, n)| n).unwrap_or(0),
                    }
                })
                .collect(),
            registrations_submitted: m.registrations_submitted,
            approval_sla_compliance: ratio(m.approval_sla),
            median_hours_to_decision: m.median_hours_to_decision.map(round2),
            registration_conversion: ratio(m.registration_conversion),
            pipeline,
            partner_sourced_share: MoneyRatio::of(sourced_amount, total_amount, &base),
            win_rates: Segment::ALL
                .into_iter()
                .map(|s| SegmentOutcomes {
                    segment: s.into(),
                    outcomes: DealOutcomes::new(&outcome(s), &base),
                })
                .collect(),
            certification_completion: ratio(m.certification_completion),
            cohorts: m
                .cohorts
                .iter()
                .map(|c| SigningCohort {
                    month: c.month.clone(),
                    partners_signed: c.partners_signed,
                    milestones: domain::MilestoneKind::iter()
                        .map(|milestone| CohortMilestone {
                            milestone: milestone.into(),
                            reached_by_due_date: Ratio::of(
                                c.reached_on_time.get(&milestone).copied().unwrap_or(0),
                                c.partners_signed,
                            ),
                        })
                        .collect(),
                })
                .collect(),
            roi,
            rep_adoption: RepAdoption {
                reps_with_partner_deals: Ratio::of(adopting, m.reps.len() as i64),
                reps,
            },
            unconverted_opportunities: m.unconverted_opportunities,
        })
    }
}

fn ratio(r: service::Ratio) -> Ratio {
    Ratio::of(r.numerator, r.denominator)
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// `programCosts` in base minor units: positive, in a currency with a rate.
fn costs_in_base(
    costs: MoneyInput,
    conversions: &[Conversion],
    base: &str,
) -> Result<i64, ApiError> {
    let bad = |why: &str| ApiError::BadUserInput(format!("`programCosts` {why}"));
    let currency = inputs::CurrencyCode::parse(&costs.currency)
        .map_err(|e| ApiError::BadUserInput(format!("`programCosts.currency` {e}")))?;
    if costs.amount.0 <= RawDecimal::ZERO {
        return Err(bad("must be greater than 0"));
    }
    let amount = DomainMoney::from_decimal(costs.amount.0, currency.clone())
        .map_err(|e| ApiError::BadUserInput(format!("`programCosts.amount` {e}")))?;
    let conversion = conversions
        .iter()
        .find(|c| c.currency == currency.as_str())
        .ok_or_else(|| {
            ApiError::BadUserInput(format!(
                "`programCosts.currency` {} has no exchange rate to the base currency {base}; set one with setExchangeRate",
                currency.as_str()
            ))
        })?;
    Ok(conversion.apply(amount.minor_units))
}
