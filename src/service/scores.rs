//! Per-partner figures of SPEC §4.5 (engagement, tier qualification,
//! performance), each computed for a whole page of partners at once: one
//! aggregate statement per figure, grouped by partner, whatever the page size.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DbErr, QueryResult, Value};
use uuid::Uuid;

use super::sql::{self, int_sum, placeholders, Converter, Dialect};
use crate::domain::{
    money::minor_digits,
    scores::{
        self, ActivityKind, CertificationDepth, EngagementCounts, TierInputs, TierQualification,
    },
    AttributionRole, CertificationLevel, CertificationStatus, DealRegistrationStatus,
    OpportunityStage,
};

/// The days of the trailing windows the tier score looks at.
pub const REVENUE_DAYS: i64 = 365;
pub const RECENT_DAYS: i64 = 90;

fn ids(partners: &[Uuid]) -> Vec<Value> {
    partners.iter().map(|id| Value::from(*id)).collect()
}

fn get<T: sea_orm::TryGetable>(row: &QueryResult, column: &str) -> Result<T, DbErr> {
    row.try_get("", column)
}

/// Activity, registrations and attributed wins of each partner in `[from, to)`.
pub async fn engagement_counts(
    db: &impl ConnectionTrait,
    partners: &[Uuid],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<HashMap<Uuid, EngagementCounts>, DbErr> {
    let list = placeholders(partners.len());
    let statement = format!(
        "SELECT partner_id, kind, {sum} AS n FROM partner_activity \
           WHERE partner_id IN ({list}) AND occurred_at >= ? AND occurred_at < ? GROUP BY partner_id, kind \
         UNION ALL \
         SELECT partner_id, 'REGISTRATIONS', CAST(COUNT(*) AS BIGINT) FROM deal_registration \
           WHERE partner_id IN ({list}) AND submitted_at >= ? AND submitted_at < ? GROUP BY partner_id \
         UNION ALL \
         SELECT a.partner_id, 'CLOSED_WON', CAST(COUNT(*) AS BIGINT) FROM opportunity_attribution a \
           JOIN opportunity o ON o.id = a.opportunity_id \
           WHERE a.partner_id IN ({list}) AND o.stage = '{won}' AND o.closed_at >= ? AND o.closed_at < ? \
           GROUP BY a.partner_id",
        sum = int_sum("count"),
        won = OpportunityStage::ClosedWon,
    );
    let mut values = Vec::new();
    for _ in 0..3 {
        values.extend(ids(partners));
        values.push(from.into());
        values.push(to.into());
    }
    let mut counts: HashMap<Uuid, EngagementCounts> = HashMap::new();
    for row in sql::query(db, &statement, values).await? {
        let partner: Uuid = get(&row, "partner_id")?;
        let kind: String = get(&row, "kind")?;
        let n: i64 = get::<Option<i64>>(&row, "n")?.unwrap_or(0);
        let entry = counts.entry(partner).or_default();
        match kind.as_str() {
            "REGISTRATIONS" => entry.registrations_submitted = n,
            "CLOSED_WON" => entry.opportunities_closed_won = n,
            other => match other.parse() {
                Ok(ActivityKind::PortalLogin) => entry.portal_logins = n,
                Ok(ActivityKind::ResourceDownload) => entry.resource_downloads = n,
                Ok(ActivityKind::TrainingCompleted) => entry.trainings_completed = n,
                Err(_) => {}
            },
        }
    }
    Ok(counts)
}

/// Base minor units as base-currency units.
pub fn units(minor: i64, base: &str) -> Decimal {
    Decimal::new(
        minor,
        minor_digits(&crate::domain::inputs::CurrencyCode::stored(
            base.to_owned(),
        )),
    )
}

/// The tier qualification of each partner as of `as_of`.
pub async fn tier_qualifications(
    db: &impl ConnectionTrait,
    partners: &[Uuid],
    as_of: DateTime<Utc>,
    converter: &Converter,
    base: &str,
) -> Result<HashMap<Uuid, TierQualification>, DbErr> {
    let recent =
        engagement_counts(db, partners, as_of - Duration::days(RECENT_DAYS), as_of).await?;
    let list = placeholders(partners.len());

    let revenue_sql = format!(
        "SELECT a.partner_id, {sum} AS revenue FROM opportunity_attribution a \
           JOIN opportunity o ON o.id = a.opportunity_id \
           WHERE a.partner_id IN ({list}) AND a.role = '{sourced}' AND o.stage = '{won}' \
             AND o.closed_at >= ? AND o.closed_at < ? GROUP BY a.partner_id",
        sum = int_sum(&converter.to_base("o.amount_minor", "o.currency", None)),
        sourced = AttributionRole::Sourced,
        won = OpportunityStage::ClosedWon,
    );
    let mut values = ids(partners);
    values.push((as_of - Duration::days(REVENUE_DAYS)).into());
    values.push(as_of.into());
    let mut revenue: HashMap<Uuid, i64> = HashMap::new();
    for row in sql::query(db, &revenue_sql, values).await? {
        revenue.insert(
            get(&row, "partner_id")?,
            get::<Option<i64>>(&row, "revenue")?.unwrap_or(0),
        );
    }

    let certification_sql = format!(
        "SELECT p.id AS partner_id, p.customer_nps AS nps, \
           CAST(COUNT(c.id) AS BIGINT) AS active, \
           {advanced} AS advanced, \
           CAST(COUNT(DISTINCT CASE WHEN t.active THEN c.track_id END) AS BIGINT) AS covered, \
           CAST((SELECT COUNT(*) FROM certification_track WHERE active) AS BIGINT) AS tracks \
         FROM partner p \
         LEFT JOIN certification c ON c.partner_id = p.id AND c.status = '{active}' \
           AND (c.expires_at IS NULL OR c.expires_at > ?) \
           AND c.contact_id IN (SELECT id FROM partner_contact WHERE deactivated_at IS NULL) \
         LEFT JOIN certification_track t ON t.id = c.track_id \
         WHERE p.id IN ({list}) GROUP BY p.id, p.customer_nps",
        advanced = int_sum(&format!(
            "CASE WHEN t.level IN ('{}', '{}') THEN 1 ELSE 0 END",
            CertificationLevel::Professional,
            CertificationLevel::Expert
        )),
        active = CertificationStatus::Active,
    );
    let mut values: Vec<Value> = vec![as_of.into()];
    values.extend(ids(partners));
    let mut result = HashMap::new();
    for row in sql::query(db, &certification_sql, values).await? {
        let partner: Uuid = get(&row, "partner_id")?;
        let depth = CertificationDepth::of(
            get(&row, "active")?,
            get::<Option<i64>>(&row, "advanced")?.unwrap_or(0) > 0,
            get(&row, "covered")?,
            get(&row, "tracks")?,
        );
        let counts = recent.get(&partner).copied().unwrap_or_default();
        let inputs = TierInputs {
            sourced_revenue: units(revenue.get(&partner).copied().unwrap_or(0), base),
            registrations: counts.registrations_submitted,
            certification_depth: depth,
            customer_nps: get(&row, "nps")?,
            engagement: scores::engagement(&counts).score,
        };
        result.insert(partner, scores::tier_qualification(&inputs));
    }
    Ok(result)
}

/// A partner's results over `[from, to)` (SPEC §4.5 `Partner.performance`),
/// amounts in base minor units.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Performance {
    pub deals_won: i64,
    pub deals_lost: i64,
    pub closed_won_revenue: i64,
    pub credited_revenue: i64,
    /// Won deals whose amount could be converted (the average's divisor).
    pub won_converted: i64,
    pub average_sales_cycle_days: Option<f64>,
    pub open_pipeline: i64,
    pub open_opportunities: i64,
    pub registrations_submitted: i64,
    pub registrations_approved: i64,
    pub unconverted_opportunities: i64,
    /// `(YYYY-MM, revenue, deals)` by month of closing.
    pub by_month: Vec<(String, i64, i64)>,
}

pub async fn performances(
    db: &impl ConnectionTrait,
    partners: &[Uuid],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    converter: &Converter,
) -> Result<HashMap<Uuid, Performance>, DbErr> {
    let dialect: Dialect = converter.dialect;
    let list = placeholders(partners.len());
    let won = OpportunityStage::ClosedWon;
    let lost = OpportunityStage::ClosedLost;
    let amount = converter.to_base("o.amount_minor", "o.currency", None);
    let credited = converter.to_base("o.amount_minor", "o.currency", Some("a.credit_bps"));
    let unconverted = converter.unconverted("o.currency");
    let opportunities_sql = format!(
        "SELECT a.partner_id, \
           {won_n} AS won, {lost_n} AS lost, \
           {won_revenue} AS won_revenue, {credited_revenue} AS credited, \
           {won_converted} AS won_converted, \
           {cycle} AS cycle, \
           {open_amount} AS open_amount, {open_n} AS open_n, \
           {unconverted_n} AS unconverted \
         FROM opportunity_attribution a JOIN opportunity o ON o.id = a.opportunity_id \
         WHERE a.partner_id IN ({list}) \
           AND ((o.closed_at >= ? AND o.closed_at < ?) OR o.stage NOT IN ('{won}', '{lost}')) \
         GROUP BY a.partner_id",
        won_n = int_sum(&format!("CASE WHEN o.stage = '{won}' THEN 1 ELSE 0 END")),
        lost_n = int_sum(&format!("CASE WHEN o.stage = '{lost}' THEN 1 ELSE 0 END")),
        won_revenue = int_sum(&format!("CASE WHEN o.stage = '{won}' THEN {amount} END")),
        credited_revenue = int_sum(&format!("CASE WHEN o.stage = '{won}' THEN {credited} END")),
        won_converted = int_sum(&format!(
            "CASE WHEN o.stage = '{won}' AND {unconverted} = 0 THEN 1 ELSE 0 END"
        )),
        cycle = dialect.real(&format!(
            "AVG(CASE WHEN o.stage = '{won}' THEN {} END)",
            dialect.days_between("o.created_at", "o.closed_at")
        )),
        open_amount = int_sum(&format!(
            "CASE WHEN o.stage NOT IN ('{won}', '{lost}') THEN {amount} END"
        )),
        open_n = int_sum(&format!(
            "CASE WHEN o.stage NOT IN ('{won}', '{lost}') THEN 1 ELSE 0 END"
        )),
        unconverted_n = int_sum(&format!(
            "CASE WHEN o.stage <> '{lost}' THEN {unconverted} ELSE 0 END"
        )),
    );
    let mut values = ids(partners);
    values.push(from.into());
    values.push(to.into());
    let mut result: HashMap<Uuid, Performance> = partners
        .iter()
        .map(|p| (*p, Performance::default()))
        .collect();
    let n = |row: &QueryResult, c: &str| get::<Option<i64>>(row, c).map(Option::unwrap_or_default);
    for row in sql::query(db, &opportunities_sql, values).await? {
        let partner: Uuid = get(&row, "partner_id")?;
        let p = result.entry(partner).or_default();
        p.deals_won = n(&row, "won")?;
        p.deals_lost = n(&row, "lost")?;
        p.closed_won_revenue = n(&row, "won_revenue")?;
        p.credited_revenue = n(&row, "credited")?;
        p.won_converted = n(&row, "won_converted")?;
        p.average_sales_cycle_days = get(&row, "cycle")?;
        p.open_pipeline = n(&row, "open_amount")?;
        p.open_opportunities = n(&row, "open_n")?;
        p.unconverted_opportunities = n(&row, "unconverted")?;
    }

    let approved = [
        DealRegistrationStatus::Approved,
        DealRegistrationStatus::Expired,
    ];
    let registrations_sql = format!(
        "SELECT partner_id, \
           {submitted} AS submitted, {approved_n} AS approved \
         FROM deal_registration \
         WHERE partner_id IN ({list}) \
           AND ((submitted_at >= ? AND submitted_at < ?) OR (decided_at >= ? AND decided_at < ?)) \
         GROUP BY partner_id",
        submitted = int_sum("CASE WHEN submitted_at >= ? AND submitted_at < ? THEN 1 ELSE 0 END"),
        approved_n = int_sum(&format!(
            "CASE WHEN decided_at >= ? AND decided_at < ? AND status IN ('{}', '{}') THEN 1 ELSE 0 END",
            approved[0], approved[1]
        )),
    );
    let mut values: Vec<Value> = vec![from.into(), to.into(), from.into(), to.into()];
    values.extend(ids(partners));
    values.extend([from.into(), to.into(), from.into(), to.into()]);
    for row in sql::query(db, &registrations_sql, values).await? {
        let partner: Uuid = get(&row, "partner_id")?;
        let p = result.entry(partner).or_default();
        p.registrations_submitted = n(&row, "submitted")?;
        p.registrations_approved = n(&row, "approved")?;
    }

    let months_sql = format!(
        "SELECT a.partner_id, {month} AS month, {revenue} AS revenue, CAST(COUNT(*) AS BIGINT) AS deals \
         FROM opportunity_attribution a JOIN opportunity o ON o.id = a.opportunity_id \
         WHERE a.partner_id IN ({list}) AND o.stage = '{won}' AND o.closed_at >= ? AND o.closed_at < ? \
         GROUP BY a.partner_id, {month} ORDER BY 2",
        month = dialect.month_of("o.closed_at"),
        revenue = int_sum(&amount),
    );
    let mut values = ids(partners);
    values.push(from.into());
    values.push(to.into());
    for row in sql::query(db, &months_sql, values).await? {
        let partner: Uuid = get(&row, "partner_id")?;
        result.entry(partner).or_default().by_month.push((
            get(&row, "month")?,
            n(&row, "revenue")?,
            n(&row, "deals")?,
        ));
    }
    Ok(result)
}
