//! Partner scores and performance (SPEC §4.5) as GraphQL types, loaded for a
//! whole page of partners at once: each key carries its window, and the
//! loader runs one aggregate per distinct window, grouped by partner.

use std::collections::HashMap;

use async_graphql::{dataloader::Loader, SimpleObject};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::{
    enums::PartnerTier,
    loaders::Loaders,
    scalars::{CurrencyCode, Decimal, Money},
};
use crate::{
    domain::{
        self, inputs,
        money::minor_digits,
        scores::{
            EngagementBand, EngagementComponentKind, EngagementCounts, TierCriterionKind,
            TierQualification as Qualification,
        },
    },
    error::ApiError,
    service::{exchange_rates, scores, settings},
};

type LoadError = std::sync::Arc<sea_orm::DbErr>;

fn db_error(error: ApiError) -> LoadError {
    std::sync::Arc::new(sea_orm::DbErr::Custom(format!("{error:?}")))
}

/// Groups keys by their window so each window is one statement.
fn by_window<W: Eq + std::hash::Hash + Copy, K>(
    keys: &[K],
    split: impl Fn(&K) -> (Uuid, W),
) -> HashMap<W, Vec<Uuid>> {
    let mut groups: HashMap<W, Vec<Uuid>> = HashMap::new();
    for key in keys {
        let (partner, window) = split(key);
        groups.entry(window).or_default().push(partner);
    }
    groups
}

/// A partner's engagement counts over `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EngagementOf {
    pub partner: Uuid,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Loader<EngagementOf> for Loaders {
    type Value = EngagementCounts;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[EngagementOf],
    ) -> Result<HashMap<EngagementOf, Self::Value>, Self::Error> {
        let mut result = HashMap::new();
        for ((from, to), partners) in by_window(keys, |k| (k.partner, (k.from, k.to))) {
            let counts = scores::engagement_counts(&self.db, &partners, from, to).await?;
            for partner in partners {
                let value = counts.get(&partner).copied().unwrap_or_default();
                result.insert(EngagementOf { partner, from, to }, value);
            }
        }
        Ok(result)
    }
}

/// A partner's tier qualification as of a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TierOf {
    pub partner: Uuid,
    pub as_of: DateTime<Utc>,
}

impl Loader<TierOf> for Loaders {
    type Value = Qualification;
    type Error = LoadError;

    async fn load(&self, keys: &[TierOf]) -> Result<HashMap<TierOf, Self::Value>, Self::Error> {
        let settings = settings::get(&self.db).await.map_err(db_error)?;
        let converter = exchange_rates::converter(&self.db, &settings)
            .await
            .map_err(db_error)?;
        let mut result = HashMap::new();
        for (as_of, partners) in by_window(keys, |k| (k.partner, k.as_of)) {
            let found = scores::tier_qualifications(
                &self.db,
                &partners,
                as_of,
                &converter,
                &settings.base_currency,
            )
            .await?;
            for (partner, value) in found {
                result.insert(TierOf { partner, as_of }, value);
            }
        }
        Ok(result)
    }
}

/// A partner's performance over `[from, to)`, with the base currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PerformanceOf {
    pub partner: Uuid,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Loader<PerformanceOf> for Loaders {
    type Value = (scores::Performance, String);
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[PerformanceOf],
    ) -> Result<HashMap<PerformanceOf, Self::Value>, Self::Error> {
        let settings = settings::get(&self.db).await.map_err(db_error)?;
        let converter = exchange_rates::converter(&self.db, &settings)
            .await
            .map_err(db_error)?;
        let mut result = HashMap::new();
        for ((from, to), partners) in by_window(keys, |k| (k.partner, (k.from, k.to))) {
            let found = scores::performances(&self.db, &partners, from, to, &converter).await?;
            for (partner, value) in found {
                result.insert(
                    PerformanceOf { partner, from, to },
                    (value, settings.base_currency.clone()),
                );
            }
        }
        Ok(result)
    }
}

/// Base minor units as `Money`.
pub fn money(minor: i64, base: &str) -> Money {
    Money::from(domain::money::Money {
        minor_units: minor,
        currency: inputs::CurrencyCode::stored(base.to_owned()),
    })
}

/// `total / n`, rounded half away from zero to the base's minor unit.
pub fn average(total: i64, n: i64, base: &str) -> Option<Money> {
    if n <= 0 {
        return None;
    }
    Some(money(
        domain::money::div_round_half_away(i128::from(total), i128::from(n)),
        base,
    ))
}

/// A share, with what it is a share of.
#[derive(SimpleObject, Debug, Clone, Copy)]
#[graphql(serial)]
pub struct Ratio {
    /// The count that qualified.
    pub numerator: i64,
    /// The count it is a share of.
    pub denominator: i64,
    /// `numerator / denominator`, between 0 and 1; null when the denominator is 0.
    pub value: Option<f64>,
}

impl Ratio {
    pub fn of(numerator: i64, denominator: i64) -> Self {
        Self {
            numerator,
            denominator,
            value: (denominator != 0).then(|| numerator as f64 / denominator as f64),
        }
    }
}

/// A share of money, with what it is a share of.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(serial)]
pub struct MoneyRatio {
    /// The amount that qualified.
    pub numerator: Money,
    /// The amount it is a share of.
    pub denominator: Money,
    /// `numerator / denominator`; null when the denominator is 0.
    pub value: Option<f64>,
}

impl MoneyRatio {
    pub fn of(numerator: i64, denominator: i64, base: &str) -> Self {
        Self {
            numerator: money(numerator, base),
            denominator: money(denominator, base),
            value: (denominator != 0).then(|| numerator as f64 / denominator as f64),
        }
    }
}

/// One part of an engagement score.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(serial)]
pub struct EngagementComponent {
    /// What was counted.
    pub kind: EngagementComponentKind,
    /// How many in the window.
    pub count: i64,
    /// The points they earned (count × weight).
    pub points: Decimal,
}

/// How engaged a partner was over a window (SPEC §4.5), with its parts.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(serial)]
pub struct Engagement {
    /// The sum of the components' points.
    pub score: Decimal,
    /// The band the score falls in.
    pub band: EngagementBand,
    /// Start of the window (included).
    pub from: DateTime<Utc>,
    /// End of the window (excluded).
    pub to: DateTime<Utc>,
    /// Each counted kind with its points.
    pub components: Vec<EngagementComponent>,
}

impl Engagement {
    pub fn new(counts: &EngagementCounts, from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        let e = domain::scores::engagement(counts);
        Self {
            score: Decimal(e.score.normalize()),
            band: e.band,
            from,
            to,
            components: e
                .components
                .into_iter()
                .map(|c| EngagementComponent {
                    kind: c.kind,
                    count: c.count,
                    points: Decimal(c.points.normalize()),
                })
                .collect(),
        }
    }
}

/// One criterion of the tier qualification score.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(serial)]
pub struct TierCriterion {
    /// Which criterion.
    pub criterion: TierCriterionKind,
    /// The value judged: revenue in base-currency units, a count, the
    /// certification level (0 none, 1 foundation only, 2 professional or
    /// expert, 3 every active track), the NPS (null when unknown), or a score.
    pub value: Option<Decimal>,
    /// Points earned.
    pub points: i32,
    /// Most points the criterion can earn.
    pub max_points: i32,
}

fn criteria(q: &Qualification) -> Vec<TierCriterion> {
    q.criteria
        .iter()
        .map(|c| TierCriterion {
            criterion: c.kind,
            value: c.value.map(|v| Decimal(v.normalize())),
            points: c.points,
            max_points: c.kind.max_points(),
        })
        .collect()
}

/// Which tier a partner qualifies for (SPEC §4.5), criterion by criterion.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(serial)]
pub struct TierQualification {
    /// 0 to 100, the sum of the criteria's points.
    pub score: i32,
    /// `PLATINUM` from 80, `GOLD` from 55, `SILVER` from 30, else `BRONZE`.
    pub recommended_tier: PartnerTier,
    /// The time the trailing windows end at.
    pub as_of: DateTime<Utc>,
    /// Each criterion with its value and points.
    pub criteria: Vec<TierCriterion>,
    /// Points still needed for the tier above the recommended one; null at `PLATINUM`.
    pub points_to_next_tier: Option<i32>,
}

impl TierQualification {
    pub fn new(q: &Qualification, as_of: DateTime<Utc>) -> Self {
        Self {
            score: q.score,
            recommended_tier: q.recommended_tier.into(),
            as_of,
            criteria: criteria(q),
            points_to_next_tier: domain::scores::points_to_next_tier(q),
        }
    }
}

/// Where the partner stands and how to advance (SPEC §4.5).
#[derive(SimpleObject, Debug, Clone)]
#[graphql(serial)]
pub struct TierProgress {
    /// The partner's tier now.
    pub current_tier: PartnerTier,
    /// The tier its score qualifies for.
    pub recommended_tier: PartnerTier,
    /// 0 to 100.
    pub score: i32,
    /// Each criterion with its value and points.
    pub criteria: Vec<TierCriterion>,
    /// The tier above the recommended one; null at `PLATINUM`.
    pub next_tier: Option<PartnerTier>,
    /// Points still needed for `nextTier`; null at `PLATINUM`.
    pub points_to_next_tier: Option<i32>,
}

impl TierProgress {
    pub fn new(current_tier: domain::PartnerTier, q: &Qualification) -> Self {
        Self {
            current_tier: current_tier.into(),
            recommended_tier: q.recommended_tier.into(),
            score: q.score,
            criteria: criteria(q),
            next_tier: domain::scores::next_tier(q.recommended_tier).map(Into::into),
            points_to_next_tier: domain::scores::points_to_next_tier(q),
        }
    }
}

/// Won revenue of one month.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(serial)]
pub struct MonthlyRevenue {
    /// `YYYY-MM`, the month of closing (UTC).
    pub month: String,
    /// Closed-won revenue (full amounts).
    pub revenue: Money,
    /// Deals won.
    pub deals_won: i64,
}

/// A partner's results over a window (SPEC §4.5), over opportunities
/// crediting it in any role; amounts in the base currency.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(serial)]
pub struct PartnerPerformance {
    /// Start of the window (included).
    pub from: DateTime<Utc>,
    /// End of the window (excluded).
    pub to: DateTime<Utc>,
    /// Opportunities closed won in the window.
    pub deals_won: i64,
    /// Opportunities closed lost in the window.
    pub deals_lost: i64,
    /// Their full amounts.
    pub closed_won_revenue: Money,
    /// Amount × the partner's credit.
    pub credited_revenue: Money,
    /// Open opportunities now (full amounts).
    pub open_pipeline: Money,
    /// How many are open now.
    pub open_opportunities: i64,
    /// Deal registrations submitted in the window.
    pub registrations_submitted: i64,
    /// Deal registrations approved in the window.
    pub registrations_approved: i64,
    /// Closed-won revenue per won deal (converted ones); null without wins.
    pub average_won_deal_size: Option<Money>,
    /// Days from creation to close of won deals, on average; null without wins.
    pub average_sales_cycle_days: Option<f64>,
    /// Won of won + lost.
    pub win_rate: Ratio,
    /// Closed-won revenue by month of closing.
    pub revenue_by_month: Vec<MonthlyRevenue>,
    /// Opportunities left out of the sums because their currency has no exchange rate.
    pub unconverted_opportunities: i64,
}

impl PartnerPerformance {
    pub fn new(
        p: &scores::Performance,
        base: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Self {
        Self {
            from,
            to,
            deals_won: p.deals_won,
            deals_lost: p.deals_lost,
            closed_won_revenue: money(p.closed_won_revenue, base),
            credited_revenue: money(p.credited_revenue, base),
            open_pipeline: money(p.open_pipeline, base),
            open_opportunities: p.open_opportunities,
            registrations_submitted: p.registrations_submitted,
            registrations_approved: p.registrations_approved,
            average_won_deal_size: average(p.closed_won_revenue, p.won_converted, base),
            average_sales_cycle_days: p
                .average_sales_cycle_days
                .map(|d| (d * 100.0).round() / 100.0),
            win_rate: Ratio::of(p.deals_won, p.deals_won + p.deals_lost),
            revenue_by_month: p
                .by_month
                .iter()
                .map(|(month, revenue, deals)| MonthlyRevenue {
                    month: month.clone(),
                    revenue: money(*revenue, base),
                    deals_won: *deals,
                })
                .collect(),
            unconverted_opportunities: p.unconverted_opportunities,
        }
    }
}

/// Checks a window: `from` not after `to` (an empty window counts nothing),
/// at most ten years long.
pub fn check_window(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    from_name: &str,
    to_name: &str,
) -> Result<(), ApiError> {
    if from > to {
        return Err(ApiError::BadUserInput(format!(
            "`{from_name}` must not be after `{to_name}`"
        )));
    }
    if to - from > Duration::days(3653) {
        return Err(ApiError::BadUserInput(format!(
            "the window from `{from_name}` to `{to_name}` may be at most ten years long"
        )));
    }
    Ok(())
}

/// The base currency's code, for showing amounts.
pub fn base_code(base: &str) -> CurrencyCode {
    CurrencyCode(inputs::CurrencyCode::stored(base.to_owned()))
}

/// Digits of the base currency.
pub fn base_digits(base: &str) -> u32 {
    minor_digits(&inputs::CurrencyCode::stored(base.to_owned()))
}

/// Loads, one batch per figure and window, the scores a page of partners
/// selects (`node` is the look-ahead at a partner), so the page costs the
/// same number of statements however many partners it holds.
pub async fn prefetch(
    ctx: &async_graphql::Context<'_>,
    node: async_graphql::Lookahead<'_>,
    partners: &[Uuid],
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    use super::loaders;
    if partners.is_empty() {
        return Ok(());
    }
    for field in node.field("engagement").selection_fields() {
        let args = arguments(&field);
        let days = args
            .iter()
            .find(|(n, _)| n == "windowDays")
            .and_then(|(_, v)| match v {
                async_graphql::Value::Number(n) => n.as_i64(),
                _ => None,
            })
            .unwrap_or(30);
        let to = time_argument(&args, "asOf").unwrap_or(now);
        let from = to - Duration::days(days);
        let keys = partners
            .iter()
            .map(|&partner| EngagementOf { partner, from, to });
        loaders::prefetch(ctx, keys).await?;
    }
    let mut tier_times = Vec::new();
    for field in node.field("tierQualification").selection_fields() {
        tier_times.push(time_argument(&arguments(&field), "asOf").unwrap_or(now));
    }
    if node.field("tierProgress").exists() {
        tier_times.push(now);
    }
    tier_times.sort();
    tier_times.dedup();
    for as_of in tier_times {
        let keys = partners.iter().map(|&partner| TierOf { partner, as_of });
        loaders::prefetch(ctx, keys).await?;
    }
    for field in node.field("performance").selection_fields() {
        let args = arguments(&field);
        let to = time_argument(&args, "to").unwrap_or(now);
        let from = time_argument(&args, "from").unwrap_or(to - Duration::days(365));
        if from > to {
            continue; // the field itself answers the error
        }
        let keys = partners
            .iter()
            .map(|&partner| PerformanceOf { partner, from, to });
        loaders::prefetch(ctx, keys).await?;
    }
    Ok(())
}

fn arguments(field: &async_graphql::SelectionField<'_>) -> Vec<(String, async_graphql::Value)> {
    field
        .arguments()
        .map(|args| {
            args.into_iter()
                .map(|(name, value)| (name.to_string(), value))
                .collect()
        })
        .unwrap_or_default()
}

fn time_argument(args: &[(String, async_graphql::Value)], name: &str) -> Option<DateTime<Utc>> {
    args.iter()
        .find(|(n, _)| n == name)
        .and_then(|(_, v)| match v {
            async_graphql::Value::String(s) => DateTime::parse_from_rfc3339(s)
                .ok()
                .map(|t| t.with_timezone(&Utc)),
            _ => None,
        })
}
