//! `programMetrics` (SPEC §4.5): the program's KPIs over `[from, to)`, each
//! an aggregate statement; ratios keep their numerator and denominator so a
//! dashboard can explain them. Amounts are base-currency minor units.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, IsolationLevel,
    Iterable, QueryResult, TransactionOptions, TransactionTrait, Value,
};
use uuid::Uuid;

use super::sql::{self, int_sum, Converter};
use crate::domain::{
    AttributionRole, MilestoneKind, MilestoneRules, OpportunityStage, PartnerStatus,
};

/// `numerator / denominator`, kept apart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ratio {
    pub numerator: i64,
    pub denominator: i64,
}

/// Partner-sourced, influenced (crediting a partner, not sourced) or direct.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Segment {
    PartnerSourced,
    Influenced,
    Direct,
}

impl Segment {
    pub const ALL: [Segment; 3] = [
        Segment::PartnerSourced,
        Segment::Influenced,
        Segment::Direct,
    ];

    /// The segment's name in SQL results (the GraphQL name of `PipelineSegment`).
    fn label(self) -> &'static str {
        match self {
            Segment::PartnerSourced => "PARTNER_SOURCED",
            Segment::Influenced => "INFLUENCED",
            Segment::Direct => "DIRECT",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Segment::ALL.into_iter().find(|s| s.label() == text)
    }
}

/// SQL naming the segment of opportunity `o`.
fn segment_sql() -> String {
    format!(
        "(CASE WHEN EXISTS (SELECT 1 FROM opportunity_attribution s WHERE s.opportunity_id = o.id AND s.role = '{sourced}') \
           THEN '{partner_sourced}' \
           WHEN EXISTS (SELECT 1 FROM opportunity_attribution s WHERE s.opportunity_id = o.id) \
           THEN '{influenced}' ELSE '{direct}' END)",
        sourced = AttributionRole::Sourced,
        partner_sourced = Segment::PartnerSourced.label(),
        influenced = Segment::Influenced.label(),
        direct = Segment::Direct.label(),
    )
}

/// Count and amount (base minor units) of a set of opportunities.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub count: i64,
    pub amount: i64,
}

/// Won and lost deals closed in the window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcomes {
    pub won: i64,
    pub lost: i64,
    pub won_amount: i64,
    /// Won deals whose amount could be converted (the average's divisor).
    pub won_converted: i64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cohort {
    pub month: String,
    pub partners_signed: i64,
    /// Milestone → partners of the cohort that reached it by its due date.
    pub reached_on_time: BTreeMap<MilestoneKind, i64>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RepAdoption {
    pub owner_id: Uuid,
    pub opportunities: i64,
    pub partner_credited: i64,
    pub with_partner: Outcomes,
    pub without_partner: Outcomes,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProgramMetrics {
    pub partners_by_status: Vec<(PartnerStatus, i64)>,
    pub live_vs_signed: Ratio,
    pub activated_partners: Ratio,
    /// Milestone → (median days from signing, partners that reached it).
    pub milestone_medians: BTreeMap<MilestoneKind, (f64, i64)>,
    pub registrations_submitted: i64,
    pub approval_sla: Ratio,
    pub median_hours_to_decision: Option<f64>,
    pub registration_conversion: Ratio,
    /// (stage, segment) → tally of opportunities created in the window.
    pub pipeline: BTreeMap<(OpportunityStage, Segment), Tally>,
    pub outcomes: BTreeMap<Segment, Outcomes>,
    pub certification_completion: Ratio,
    pub cohorts: Vec<Cohort>,
    pub reps: Vec<RepAdoption>,
    pub unconverted_opportunities: i64,
}

fn n(row: &QueryResult, column: &str) -> Result<i64, DbErr> {
    Ok(row.try_get::<Option<i64>>("", column)?.unwrap_or(0))
}

fn window(from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Value> {
    vec![from.into(), to.into()]
}

/// Every figure, read in one transaction so they agree with each other. On
/// PostgreSQL it is a read-only repeatable-read snapshot with JIT compilation
/// off: compiling these one-off aggregates cost more than it saved (up to
/// 270 ms on the benchmark's segment statement, see the README).
#[expect(
    clippy::disallowed_methods,
    reason = "`SET LOCAL jit = off` for one read-only snapshot"
)]
pub async fn compute(
    db: &DatabaseConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    activation_days: i32,
    converter: &Converter,
) -> Result<ProgramMetrics, DbErr> {
    let txn = if db.get_database_backend() == DatabaseBackend::Postgres {
        let txn = db
            .begin_with_options(TransactionOptions {
                isolation_level: Some(IsolationLevel::RepeatableRead),
                access_mode: Some(AccessMode::ReadOnly),
                ..Default::default()
            })
            .await?;
        txn.execute_unprepared("SET LOCAL jit = off").await?;
        txn
    } else {
        db.begin().await?
    };
    let metrics = compute_in(&txn, from, to, activation_days, converter).await?;
    txn.commit().await?;
    Ok(metrics)
}

async fn compute_in(
    db: &impl ConnectionTrait,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    activation_days: i32,
    converter: &Converter,
) -> Result<ProgramMetrics, DbErr> {
    let d = converter.dialect;
    let mut m = ProgramMetrics::default();
    let won = OpportunityStage::ClosedWon;
    let lost = OpportunityStage::ClosedLost;
    let amount = converter.to_base("o.amount_minor", "o.currency", None);
    let unconverted = converter.unconverted("o.currency");

    // Partners by status, now.
    for row in sql::query(
        db,
        "SELECT status, CAST(COUNT(*) AS BIGINT) AS n FROM partner GROUP BY status ORDER BY status",
        vec![],
    )
    .await?
    {
        m.partners_by_status
            .push((row.try_get("", "status")?, n(&row, "n")?));
    }

    // Live vs signed, and activated partners.
    let since_signing = d.days_between("p.signed_at", "ms.achieved_at");
    let statement = format!(
        "SELECT \
           {signed} AS signed, \
           {live} AS live, \
           {eligible} AS eligible, \
           {activated} AS activated \
         FROM partner p \
         LEFT JOIN partner_milestone ms ON ms.partner_id = p.id AND ms.milestone = '{first_deal}' \
         WHERE p.signed_at IS NOT NULL",
        first_deal = MilestoneKind::FirstRegisteredDeal,
        signed = int_sum("CASE WHEN p.signed_at >= ? AND p.signed_at < ? THEN 1 ELSE 0 END"),
        live = int_sum(&format!(
            "CASE WHEN p.signed_at >= ? AND p.signed_at < ? AND ms.achieved_at IS NOT NULL \
               AND {since_signing} < {activation_days} THEN 1 ELSE 0 END"
        )),
        eligible = int_sum(&format!(
            "CASE WHEN p.signed_at < ? AND p.status <> '{off}' THEN 1 ELSE 0 END",
            off = PartnerStatus::Offboarded
        )),
        activated = int_sum(&format!(
            "CASE WHEN p.signed_at < ? AND p.status <> '{off}' AND EXISTS ( \
               SELECT 1 FROM opportunity_attribution a JOIN opportunity o ON o.id = a.opportunity_id \
               WHERE a.partner_id = p.id AND o.stage = '{won}' AND o.closed_at >= ? AND o.closed_at < ?) \
             THEN 1 ELSE 0 END",
            off = PartnerStatus::Offboarded
        )),
    );
    let mut values = window(from, to);
    values.extend(window(from, to));
    values.push(to.into());
    values.push(to.into());
    values.extend(window(to - Duration::days(90), to));
    if let Some(row) = sql::query(db, &statement, values).await?.first() {
        m.live_vs_signed = Ratio {
            numerator: n(row, "live")?,
            denominator: n(row, "signed")?,
        };
        m.activated_partners = Ratio {
            numerator: n(row, "activated")?,
            denominator: n(row, "eligible")?,
        };
    }

    // Median days from signing to each milestone (partners signed in the window).
    let statement = format!(
        "WITH d AS ( \
           SELECT ms.milestone AS milestone, {since_signing} AS days FROM partner p \
           JOIN partner_milestone ms ON ms.partner_id = p.id \
           WHERE p.signed_at >= ? AND p.signed_at < ?), \
         r AS ( \
           SELECT milestone, days, \
             ROW_NUMBER() OVER (PARTITION BY milestone ORDER BY days) AS rn, \
             COUNT(*) OVER (PARTITION BY milestone) AS n FROM d) \
         SELECT milestone, {median} AS median, CAST(MAX(n) AS BIGINT) AS n FROM r \
         WHERE rn IN ((n + 1) / 2, (n + 2) / 2) GROUP BY milestone",
        median = d.real("AVG(days)"),
    );
    for row in sql::query(db, &statement, window(from, to)).await? {
        let median: Option<f64> = row.try_get("", "median")?;
        m.milestone_medians.insert(
            row.try_get("", "milestone")?,
            (median.unwrap_or_default(), n(&row, "n")?),
        );
    }

    // Registrations: submitted, SLA compliance, conversion.
    let statement = format!(
        "SELECT {submitted} AS submitted, {converted} AS converted, \
           {decided} AS decided, {on_time} AS on_time \
         FROM deal_registration r LEFT JOIN opportunity o ON o.id = r.opportunity_id \
         WHERE (r.submitted_at >= ? AND r.submitted_at < ?) OR (r.decided_at >= ? AND r.decided_at < ?)",
        submitted = int_sum("CASE WHEN r.submitted_at >= ? AND r.submitted_at < ? THEN 1 ELSE 0 END"),
        converted = int_sum(&format!(
            "CASE WHEN r.submitted_at >= ? AND r.submitted_at < ? AND o.stage = '{won}' THEN 1 ELSE 0 END"
        )),
        decided = int_sum("CASE WHEN r.decided_at >= ? AND r.decided_at < ? THEN 1 ELSE 0 END"),
        on_time = int_sum(
            "CASE WHEN r.decided_at >= ? AND r.decided_at < ? AND r.decided_at <= r.sla_due_at THEN 1 ELSE 0 END"
        ),
    );
    let values: Vec<Value> = (0..6).flat_map(|_| window(from, to)).collect();
    if let Some(row) = sql::query(db, &statement, values).await?.first() {
        m.registrations_submitted = n(row, "submitted")?;
        m.registration_conversion = Ratio {
            numerator: n(row, "converted")?,
            denominator: m.registrations_submitted,
        };
        m.approval_sla = Ratio {
            numerator: n(row, "on_time")?,
            denominator: n(row, "decided")?,
        };
    }
    let hours = format!(
        "({} * 24.0)",
        d.days_between("r.submitted_at", "r.decided_at")
    );
    let statement = format!(
        "WITH d AS (SELECT {hours} AS hours FROM deal_registration r \
           WHERE r.decided_at >= ? AND r.decided_at < ?), \
         r AS (SELECT hours, ROW_NUMBER() OVER (ORDER BY hours) AS rn, COUNT(*) OVER () AS n FROM d) \
         SELECT {median} AS median FROM r WHERE rn IN ((n + 1) / 2, (n + 2) / 2)",
        hours = hours,
        median = d.real("AVG(hours)"),
    );
    if let Some(row) = sql::query(db, &statement, window(from, to)).await?.first() {
        m.median_hours_to_decision = row.try_get("", "median")?;
    }

    // Pipeline created in the window, by stage and segment.
    let statement = format!(
        "SELECT o.stage AS stage, {segment} AS segment, CAST(COUNT(*) AS BIGINT) AS n, \
           {sum} AS amount, {unconverted_n} AS unconverted \
         FROM opportunity o WHERE o.created_at >= ? AND o.created_at < ? GROUP BY 1, 2",
        segment = segment_sql(),
        sum = int_sum(&amount),
        unconverted_n = int_sum(&unconverted),
    );
    for row in sql::query(db, &statement, window(from, to)).await? {
        let segment: String = row.try_get("", "segment")?;
        let Some(segment) = Segment::parse(&segment) else {
            continue;
        };
        m.unconverted_opportunities += n(&row, "unconverted")?;
        m.pipeline.insert(
            (row.try_get("", "stage")?, segment),
            Tally {
                count: n(&row, "n")?,
                amount: n(&row, "amount")?,
            },
        );
    }

    // Deals closed in the window, by segment.
    let statement = format!(
        "SELECT {segment} AS segment, {won_n} AS won, {lost_n} AS lost, \
           {won_amount} AS won_amount, {won_converted} AS won_converted \
         FROM opportunity o WHERE o.closed_at >= ? AND o.closed_at < ? \
           AND o.stage IN ('{won}', '{lost}') GROUP BY 1",
        segment = segment_sql(),
        won_n = int_sum(&format!("CASE WHEN o.stage = '{won}' THEN 1 ELSE 0 END")),
        lost_n = int_sum(&format!("CASE WHEN o.stage = '{lost}' THEN 1 ELSE 0 END")),
        won_amount = int_sum(&format!("CASE WHEN o.stage = '{won}' THEN {amount} END")),
        won_converted = int_sum(&format!(
            "CASE WHEN o.stage = '{won}' AND {unconverted} = 0 THEN 1 ELSE 0 END"
        )),
    );
    for row in sql::query(db, &statement, window(from, to)).await? {
        let segment: String = row.try_get("", "segment")?;
        if let Some(segment) = Segment::parse(&segment) {
            m.outcomes.insert(segment, outcomes(&row)?);
        }
    }

    // Certification completion.
    let statement = format!(
        "SELECT CAST(COUNT(*) AS BIGINT) AS enrolled, {earned} AS earned FROM certification \
         WHERE enrolled_at >= ? AND enrolled_at < ?",
        earned = int_sum("CASE WHEN earned_at IS NOT NULL THEN 1 ELSE 0 END"),
    );
    if let Some(row) = sql::query(db, &statement, window(from, to)).await?.first() {
        m.certification_completion = Ratio {
            numerator: n(row, "earned")?,
            denominator: n(row, "enrolled")?,
        };
    }

    // Cohorts by signing month: signed, and milestones reached by their due date.
    let month = d.month_of("p.signed_at");
    let statement = format!(
        "SELECT {month} AS month, CAST(COUNT(*) AS BIGINT) AS n FROM partner p \
         WHERE p.signed_at >= ? AND p.signed_at < ? GROUP BY 1 ORDER BY 1"
    );
    for row in sql::query(db, &statement, window(from, to)).await? {
        m.cohorts.push(Cohort {
            month: row.try_get("", "month")?,
            partners_signed: n(&row, "n")?,
            reached_on_time: BTreeMap::new(),
        });
    }
    let due_day = MilestoneKind::iter()
        .map(|k| format!("WHEN '{k}' THEN {}", k.due_day()))
        .collect::<Vec<_>>()
        .join(" ");
    let statement = format!(
        "SELECT {month} AS month, ms.milestone AS milestone, CAST(COUNT(*) AS BIGINT) AS n \
         FROM partner p JOIN partner_milestone ms ON ms.partner_id = p.id \
         WHERE p.signed_at >= ? AND p.signed_at < ? \
           AND {since_signing} <= (CASE ms.milestone {due_day} ELSE 0 END) \
         GROUP BY 1, 2"
    );
    for row in sql::query(db, &statement, window(from, to)).await? {
        let month: String = row.try_get("", "month")?;
        let kind: MilestoneKind = row.try_get("", "milestone")?;
        if let Some(cohort) = m.cohorts.iter_mut().find(|c| c.month == month) {
            cohort.reached_on_time.insert(kind, n(&row, "n")?);
        }
    }

    // Rep adoption: owners of opportunities created in the window.
    let credited = "EXISTS (SELECT 1 FROM opportunity_attribution s WHERE s.opportunity_id = o.id)";
    let created = "o.created_at >= ? AND o.created_at < ?";
    let closed = "o.closed_at >= ? AND o.closed_at < ?";
    let mut parts = vec![
        format!(
            "{} AS owned",
            int_sum(&format!("CASE WHEN {created} THEN 1 ELSE 0 END"))
        ),
        format!(
            "{} AS credited",
            int_sum(&format!(
                "CASE WHEN {created} AND {credited} THEN 1 ELSE 0 END"
            ))
        ),
    ];
    for (prefix, condition) in [
        ("with", credited.to_owned()),
        ("without", format!("NOT {credited}")),
    ] {
        parts.push(format!(
            "{} AS {prefix}_won",
            int_sum(&format!(
                "CASE WHEN {closed} AND o.stage = '{won}' AND {condition} THEN 1 ELSE 0 END"
            ))
        ));
        parts.push(format!(
            "{} AS {prefix}_lost",
            int_sum(&format!(
                "CASE WHEN {closed} AND o.stage = '{lost}' AND {condition} THEN 1 ELSE 0 END"
            ))
        ));
        parts.push(format!(
            "{} AS {prefix}_won_amount",
            int_sum(&format!(
                "CASE WHEN {closed} AND o.stage = '{won}' AND {condition} THEN {amount} END"
            ))
        ));
        parts.push(format!(
            "{} AS {prefix}_won_converted",
            int_sum(&format!(
                "CASE WHEN {closed} AND o.stage = '{won}' AND {condition} AND {unconverted} = 0 THEN 1 ELSE 0 END"
            ))
        ));
    }
    let statement = format!(
        "SELECT o.owner_id AS owner_id, {} FROM opportunity o \
         WHERE o.owner_id IS NOT NULL AND (({created}) OR ({closed})) \
         GROUP BY o.owner_id",
        parts.join(", ")
    );
    // Placeholders in order: owned, credited, then 4 per side, then the WHERE.
    let mut values: Vec<Value> = Vec::new();
    for _ in 0..(2 + 8 + 2) {
        values.extend(window(from, to));
    }
    for row in sql::query(db, &statement, values).await? {
        let owned = n(&row, "owned")?;
        if owned == 0 {
            continue;
        }
        let side = |prefix: &str| -> Result<Outcomes, DbErr> {
            Ok(Outcomes {
                won: n(&row, &format!("{prefix}_won"))?,
                lost: n(&row, &format!("{prefix}_lost"))?,
                won_amount: n(&row, &format!("{prefix}_won_amount"))?,
                won_converted: n(&row, &format!("{prefix}_won_converted"))?,
            })
        };
        m.reps.push(RepAdoption {
            owner_id: row.try_get("", "owner_id")?,
            opportunities: owned,
            partner_credited: n(&row, "credited")?,
            with_partner: side("with")?,
            without_partner: side("without")?,
        });
    }
    m.reps.sort_by(|a, b| {
        b.opportunities
            .cmp(&a.opportunities)
            .then(a.owner_id.cmp(&b.owner_id))
    });
    Ok(m)
}

fn outcomes(row: &QueryResult) -> Result<Outcomes, DbErr> {
    Ok(Outcomes {
        won: n(row, "won")?,
        lost: n(row, "lost")?,
        won_amount: n(row, "won_amount")?,
        won_converted: n(row, "won_converted")?,
    })
}
