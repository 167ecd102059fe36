//! What the program-intelligence figures (SPEC §4.5, issue 11) cost on top of
//! the database.
//!
//! PostgreSQL only (`BENCH_POSTGRES_URL`, falling back to `TEST_POSTGRES_URL`;
//! without either the benchmark says so and exits). It creates a fresh
//! database with the real migrations, seeds 1,000 partners signed over 15
//! months (with milestones, contacts and certifications), 100,000
//! opportunities (partner-sourced, influenced, co-sell and direct; won, lost
//! and open; in USD, EUR and GBP with exchange rates and in CAD without),
//! 50,000 deal registrations and 500,000 activity records with bulk
//! `INSERT … SELECT generate_series` (`benches/metrics_seed.sql`), starts the
//! real `partnergraph` binary on a loopback port and times, one request after
//! the other, two shapes, each beside a raw-SQL baseline:
//!
//! * **programMetrics** for a year, every figure selected, as an ADMIN; the
//!   baseline runs the service's aggregate statements (their SQL text copied,
//!   money converted in SQL the same way) and the owners' lookup, decodes the
//!   rows and serializes a JSON document of the same shape.
//! * **the scored page**: `partners(first: 100)` with `engagement`,
//!   `tierQualification` and `performance` for each partner; the baseline
//!   reads the page and runs the seven aggregates grouped by partner, scores
//!   the rows with the same pure rules and serializes the same JSON.
//!
//! Each pair alternates in blocks so that machine noise hits both alike. The
//! server is a separate process, so its resident memory (`/proc/PID/status`)
//! is measured honestly: after start-up and warm-up ("idle") and after the
//! timed run. Targets: each shape at most 1.5× its baseline; server RSS after
//! the run within 30 MB of idle.
//!
//! Run with `cargo bench --bench metrics`. Environment: `BENCH_ITERATIONS`
//! (scored pages, default 100), `BENCH_METRICS_ITERATIONS` (programMetrics,
//! default 20), `BENCH_WARMUP` (default 3 of each, and at least 2.5 s),
//! `BENCH_POSTGRES_URL` (falls back to `TEST_POSTGRES_URL`).
//!
//! The baseline reads through a pool of this process (the server has its
//! own), so its figures have no HTTP, no token check and no GraphQL at all.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Benchmarks create databases and seed rows directly.
#![allow(clippy::disallowed_methods)]

mod common;

use common::*;

use std::{
    collections::HashMap,
    fmt::Write as _,
    hint::black_box,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, Utc};
use partnergraph::{
    auth::{token, ScopeSet},
    domain::{
        inputs::CurrencyCode,
        money::Money,
        scores::{self, ActivityKind, CertificationDepth, EngagementCounts, TierInputs},
        Role,
    },
    ids::{self, NodeType},
};
use rust_decimal::Decimal;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, QueryResult, Statement, TransactionTrait, Value,
};
use serde_json::{json, Value as Json};
use uuid::Uuid;

const BINARY: &str = env!("CARGO_BIN_EXE_partnergraph");

const PARTNERS: usize = 1_000;
const OPPORTUNITIES: usize = 100_000;
const REGISTRATIONS: usize = 50_000;
const ACTIVITIES: usize = 500_000;
const PAGE: usize = 100;

/// The seed, with `:as_of` for the time its 15 months end at.
const SEED_SQL: &str = include_str!("metrics_seed.sql");

/// Where the windows end: the seeded data lies in the 15 months before.
const AS_OF: &str = "2026-12-01T00:00:00Z";
/// A year before [`AS_OF`]: `programMetrics` and `performance` cover `[FROM, AS_OF)`.
const FROM: &str = "2025-12-01T00:00:00Z";
/// Base currency of the program (the migrations' default).
const BASE: &str = "USD";
/// The seeded rates as the service turns them into fractions
/// (`domain::exchange::Conversion`): base first, then by currency code.
/// EUR 1.08 = 27/25, GBP 1.27 = 127/100; CAD has no rate.
const CONVERSIONS: [(&str, i64, i64); 3] = [("USD", 1, 1), ("EUR", 27, 25), ("GBP", 127, 100)];
/// `programCosts` given to programMetrics, in the base currency.
const PROGRAM_COSTS: &str = "2500000";
/// Influence weight of the default settings (basis points).
const INFLUENCE_WEIGHT_BPS: i64 = 3_000;
/// Activation days of the default settings.
const ACTIVATION_DAYS: i64 = 120;

/// The least time spent warming up before timing.
const WARMUP_TIME: Duration = Duration::from_millis(2_500);

const METRICS_QUERY: &str = r#"{ programMetrics(from: "2025-12-01T00:00:00Z", to: "2026-12-01T00:00:00Z", programCosts: { amount: "2500000", currency: "USD" }) {
  baseCurrency
  partnersByStatus { status count }
  liveVsSigned { numerator denominator value }
  activatedPartnerRate { numerator denominator value }
  medianDaysToFirstRegistration
  milestoneMedians { milestone medianDays partners }
  registrationsSubmitted
  approvalSlaCompliance { numerator denominator value }
  medianHoursToDecision
  registrationConversion { numerator denominator value }
  pipeline { stage
    partnerSourced { count amount { amount currency } }
    influenced { count amount { amount currency } }
    direct { count amount { amount currency } } }
  partnerSourcedShare { numerator { amount } denominator { amount } value }
  winRates { segment outcomes { won lost winRate { numerator denominator value } wonRevenue { amount } averageWonDealSize { amount } } }
  certificationCompletion { numerator denominator value }
  cohorts { month partnersSigned milestones { milestone reachedByDueDate { numerator denominator value } } }
  roi { partnerSourcedRevenue { amount } influencedRevenue { amount } influenceWeight attributedRevenue { amount } programCosts { amount } roiPercent }
  repAdoption { repsWithPartnerDeals { numerator denominator value }
    reps { owner { email name } opportunities partnerCredited attachRate { numerator denominator value }
      withPartner { won lost winRate { numerator denominator value } wonRevenue { amount } averageWonDealSize { amount } }
      withoutPartner { won lost winRate { numerator denominator value } wonRevenue { amount } averageWonDealSize { amount } } } }
  unconvertedOpportunities
} }"#;

const PAGE_QUERY: &str = r#"{ partners(first: 100) { edges { cursor node { id name tier
  engagement(asOf: "2026-12-01T00:00:00Z") { score band components { kind count points } }
  tierQualification(asOf: "2026-12-01T00:00:00Z") { score recommendedTier pointsToNextTier criteria { criterion value points maxPoints } }
  performance(from: "2025-12-01T00:00:00Z", to: "2026-12-01T00:00:00Z") {
    dealsWon dealsLost closedWonRevenue { amount currency } creditedRevenue { amount currency }
    openPipeline { amount currency } openOpportunities registrationsSubmitted registrationsApproved
    averageWonDealSize { amount currency } averageSalesCycleDays winRate { numerator denominator value }
    revenueByMonth { month revenue { amount currency } dealsWon } unconvertedOpportunities } } }
  pageInfo { hasNextPage endCursor } } }"#;

fn as_of() -> DateTime<Utc> {
    AS_OF.parse().unwrap()
}

fn from() -> DateTime<Utc> {
    FROM.parse().unwrap()
}

/// Runs the seed script (which ends with `ANALYZE`) in one transaction.
async fn seed(db: &DatabaseConnection) {
    let script = SEED_SQL.replace(":as_of", &format!("'{AS_OF}'::timestamptz"));
    db.execute_unprepared(&format!("BEGIN;\n{script}\nCOMMIT;"))
        .await
        .unwrap();
}

// ---------------------------------------------------------------------------
// The baseline's SQL: the statements the service runs (src/service/scores.rs,
// src/service/program_metrics.rs, src/service/sql.rs), written out for
// PostgreSQL with the seeded exchange rates.
// ---------------------------------------------------------------------------

/// `?` → `$1`, `$2`, … (as `service::sql` numbers them).
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            let _ = write!(out, "${n}");
        } else {
            out.push(c);
        }
    }
    out
}

fn placeholders(n: usize) -> String {
    vec!["?"; n.max(1)].join(", ")
}

fn int_sum(expr: &str) -> String {
    format!("CAST(SUM({expr}) AS BIGINT)")
}

fn days_between(start: &str, end: &str) -> String {
    format!("(EXTRACT(EPOCH FROM ({end} - {start})) / 86400.0)")
}

fn month_of(time: &str) -> String {
    format!("to_char({time} AT TIME ZONE 'UTC', 'YYYY-MM')")
}

fn real(expr: &str) -> String {
    format!("CAST({expr} AS DOUBLE PRECISION)")
}

/// The amount in base minor units, NULL without a rate (`Converter::to_base`).
fn to_base(amount: &str, currency: &str, credit_bps: Option<&str>) -> String {
    let mut sql = format!("(CASE {currency}");
    for (code, num, den) in CONVERSIONS {
        let (value, den) = match credit_bps {
            Some(credit) => (format!("({amount} * {credit})"), den * 10_000),
            None => (amount.to_owned(), den),
        };
        let half = den / 2;
        let _ = write!(
            sql,
            " WHEN '{code}' THEN ((CASE WHEN {value} < 0 THEN -1 ELSE 1 END) * TRUNC((ABS(CAST({value} AS NUMERIC)) * {num} + {half}) / {den}))"
        );
    }
    sql.push_str(" ELSE NULL END)");
    sql
}

/// 1 when the currency has no rate (`Converter::unconverted`).
fn unconverted(currency: &str) -> String {
    let known: Vec<String> = CONVERSIONS
        .iter()
        .map(|(c, _, _)| format!("'{c}'"))
        .collect();
    format!(
        "(CASE WHEN {currency} IN ({}) THEN 0 ELSE 1 END)",
        known.join(", ")
    )
}

const SEGMENT: &str = "(CASE WHEN EXISTS (SELECT 1 FROM opportunity_attribution s WHERE s.opportunity_id = o.id AND s.role = 'SOURCED') \
       THEN 'PARTNER_SOURCED' \
       WHEN EXISTS (SELECT 1 FROM opportunity_attribution s WHERE s.opportunity_id = o.id) \
       THEN 'INFLUENCED' ELSE 'DIRECT' END)";

const MILESTONES: [(&str, i64); 6] = [
    ("AGREEMENT_SIGNED", 0),
    ("ONBOARDING_COMPLETE", 14),
    ("CERTIFICATION_COMPLETE", 42),
    ("JOINT_GTM_PLAN_SIGNED", 42),
    ("FIRST_REGISTERED_DEAL", 70),
    ("FIRST_CLOSED_WON", 120),
];
const STAGES: [&str; 6] = [
    "REGISTERED",
    "QUALIFIED",
    "PROPOSAL",
    "NEGOTIATION",
    "CLOSED_WON",
    "CLOSED_LOST",
];
const STATUSES: [&str; 6] = [
    "PROSPECT",
    "SIGNED",
    "ONBOARDING",
    "ACTIVE",
    "DORMANT",
    "OFFBOARDED",
];
const SEGMENTS: [&str; 3] = ["PARTNER_SOURCED", "INFLUENCED", "DIRECT"];

/// One statement with its placeholders' values, by a closure of the window.
struct Sql {
    name: &'static str,
    text: String,
    values: fn(DateTime<Utc>, DateTime<Utc>) -> Vec<Value>,
}

/// The program-wide statements of `service::program_metrics::compute`, in order.
struct MetricsSql {
    statements: Vec<Sql>,
}

fn windows(from: DateTime<Utc>, to: DateTime<Utc>, n: usize) -> Vec<Value> {
    (0..n).flat_map(|_| [from.into(), to.into()]).collect()
}

impl MetricsSql {
    fn new() -> Self {
        let (won, lost) = ("CLOSED_WON", "CLOSED_LOST");
        let amount = to_base("o.amount_minor", "o.currency", None);
        let unconverted = unconverted("o.currency");
        let since_signing = days_between("p.signed_at", "ms.achieved_at");
        let mut statements = vec![Sql {
            name: "partners by status",
            text: "SELECT status, CAST(COUNT(*) AS BIGINT) AS n FROM partner GROUP BY status ORDER BY status".into(),
            values: |_, _| vec![],
        }];
        statements.push(Sql {
            name: "live vs signed, activated",
            text: format!(
                "SELECT {signed} AS signed, {live} AS live, {eligible} AS eligible, {activated} AS activated \
                 FROM partner p \
                 LEFT JOIN partner_milestone ms ON ms.partner_id = p.id AND ms.milestone = 'FIRST_REGISTERED_DEAL' \
                 WHERE p.signed_at IS NOT NULL",
                signed = int_sum("CASE WHEN p.signed_at >= ? AND p.signed_at < ? THEN 1 ELSE 0 END"),
                live = int_sum(&format!(
                    "CASE WHEN p.signed_at >= ? AND p.signed_at < ? AND ms.achieved_at IS NOT NULL \
                       AND {since_signing} < {ACTIVATION_DAYS} THEN 1 ELSE 0 END"
                )),
                eligible = int_sum("CASE WHEN p.signed_at < ? AND p.status <> 'OFFBOARDED' THEN 1 ELSE 0 END"),
                activated = int_sum(&format!(
                    "CASE WHEN p.signed_at < ? AND p.status <> 'OFFBOARDED' AND EXISTS ( \
                       SELECT 1 FROM opportunity_attribution a JOIN opportunity o ON o.id = a.opportunity_id \
                       WHERE a.partner_id = p.id AND o.stage = '{won}' AND o.closed_at >= ? AND o.closed_at < ?) \
                     THEN 1 ELSE 0 END"
                )),
            ),
            values: |from, to| {
                let mut v = windows(from, to, 2);
                v.push(to.into());
                v.push(to.into());
                v.extend(windows(to - chrono::Duration::days(90), to, 1));
                v
            },
        });
        statements.push(Sql {
            name: "milestone medians",
            text: format!(
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
                median = real("AVG(days)"),
            ),
            values: |from, to| windows(from, to, 1),
        });
        statements.push(Sql {
            name: "registrations",
            text: format!(
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
            ),
            values: |from, to| windows(from, to, 6),
        });
        let hours = format!(
            "({} * 24.0)",
            days_between("r.submitted_at", "r.decided_at")
        );
        statements.push(Sql {
            name: "median hours to decision",
            text: format!(
                "WITH d AS (SELECT {hours} AS hours FROM deal_registration r \
                   WHERE r.decided_at >= ? AND r.decided_at < ?), \
                 r AS (SELECT hours, ROW_NUMBER() OVER (ORDER BY hours) AS rn, COUNT(*) OVER () AS n FROM d) \
                 SELECT {median} AS median FROM r WHERE rn IN ((n + 1) / 2, (n + 2) / 2)",
                median = real("AVG(hours)"),
            ),
            values: |from, to| windows(from, to, 1),
        });
        statements.push(Sql {
            name: "pipeline by stage and segment",
            text: format!(
                "SELECT o.stage AS stage, {SEGMENT} AS segment, CAST(COUNT(*) AS BIGINT) AS n, \
                   {sum} AS amount, {unconverted_n} AS unconverted \
                 FROM opportunity o WHERE o.created_at >= ? AND o.created_at < ? GROUP BY 1, 2",
                sum = int_sum(&amount),
                unconverted_n = int_sum(&unconverted),
            ),
            values: |from, to| windows(from, to, 1),
        });
        statements.push(Sql {
            name: "outcomes by segment",
            text: format!(
                "SELECT {SEGMENT} AS segment, {won_n} AS won, {lost_n} AS lost, \
                   {won_amount} AS won_amount, {won_converted} AS won_converted \
                 FROM opportunity o WHERE o.closed_at >= ? AND o.closed_at < ? \
                   AND o.stage IN ('{won}', '{lost}') GROUP BY 1",
                won_n = int_sum(&format!("CASE WHEN o.stage = '{won}' THEN 1 ELSE 0 END")),
                lost_n = int_sum(&format!("CASE WHEN o.stage = '{lost}' THEN 1 ELSE 0 END")),
                won_amount = int_sum(&format!("CASE WHEN o.stage = '{won}' THEN {amount} END")),
                won_converted = int_sum(&format!(
                    "CASE WHEN o.stage = '{won}' AND {unconverted} = 0 THEN 1 ELSE 0 END"
                )),
            ),
            values: |from, to| windows(from, to, 1),
        });
        statements.push(Sql {
            name: "certification completion",
            text: format!(
                "SELECT CAST(COUNT(*) AS BIGINT) AS enrolled, {earned} AS earned FROM certification \
                 WHERE enrolled_at >= ? AND enrolled_at < ?",
                earned = int_sum("CASE WHEN earned_at IS NOT NULL THEN 1 ELSE 0 END"),
            ),
            values: |from, to| windows(from, to, 1),
        });
        let month = month_of("p.signed_at");
        statements.push(Sql {
            name: "cohorts",
            text: format!(
                "SELECT {month} AS month, CAST(COUNT(*) AS BIGINT) AS n FROM partner p \
                 WHERE p.signed_at >= ? AND p.signed_at < ? GROUP BY 1 ORDER BY 1"
            ),
            values: |from, to| windows(from, to, 1),
        });
        let due_day = MILESTONES
            .iter()
            .map(|(k, d)| format!("WHEN '{k}' THEN {d}"))
            .collect::<Vec<_>>()
            .join(" ");
        statements.push(Sql {
            name: "cohort milestones on time",
            text: format!(
                "SELECT {month} AS month, ms.milestone AS milestone, CAST(COUNT(*) AS BIGINT) AS n \
                 FROM partner p JOIN partner_milestone ms ON ms.partner_id = p.id \
                 WHERE p.signed_at >= ? AND p.signed_at < ? \
                   AND {since_signing} <= (CASE ms.milestone {due_day} ELSE 0 END) \
                 GROUP BY 1, 2"
            ),
            values: |from, to| windows(from, to, 1),
        });
        let credited =
            "EXISTS (SELECT 1 FROM opportunity_attribution s WHERE s.opportunity_id = o.id)";
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
        statements.push(Sql {
            name: "rep adoption",
            text: format!(
                "SELECT o.owner_id AS owner_id, {} FROM opportunity o \
                 WHERE o.owner_id IS NOT NULL AND (({created}) OR ({closed})) \
                 GROUP BY o.owner_id",
                parts.join(", ")
            ),
            values: |from, to| windows(from, to, 12),
        });
        for s in &mut statements {
            s.text = numbered(&s.text);
        }
        MetricsSql { statements }
    }
}

async fn rows(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Vec<QueryResult> {
    db.query_all_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        values,
    ))
    .await
    .unwrap()
}

fn n(row: &QueryResult, column: &str) -> i64 {
    row.try_get::<Option<i64>>("", column).unwrap().unwrap_or(0)
}

fn text(row: &QueryResult, column: &str) -> String {
    row.try_get("", column).unwrap()
}

/// Base minor units as the API writes money.
fn money(minor: i64) -> Json {
    let m = Money {
        minor_units: minor,
        currency: CurrencyCode::stored(BASE.to_owned()),
    };
    json!({ "amount": m.amount().to_string(), "currency": BASE })
}

fn ratio(numerator: i64, denominator: i64) -> Json {
    json!({
        "numerator": numerator,
        "denominator": denominator,
        "value": (denominator != 0).then(|| numerator as f64 / denominator as f64),
    })
}

/// `total / n` rounded half away from zero (`graphql::scores::average`).
fn average(total: i64, n: i64) -> Json {
    if n <= 0 {
        return Json::Null;
    }
    let (total, n) = (i128::from(total), i128::from(n));
    let rounded = if total >= 0 {
        (2 * total + n) / (2 * n)
    } else {
        -((-2 * total + n) / (2 * n))
    };
    money(i64::try_from(rounded).unwrap())
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[derive(Default, Clone, Copy)]
struct Outcomes {
    won: i64,
    lost: i64,
    won_amount: i64,
    won_converted: i64,
}

impl Outcomes {
    fn of(row: &QueryResult, prefix: &str) -> Self {
        Outcomes {
            won: n(row, &format!("{prefix}won")),
            lost: n(row, &format!("{prefix}lost")),
            won_amount: n(row, &format!("{prefix}won_amount")),
            won_converted: n(row, &format!("{prefix}won_converted")),
        }
    }

    fn json(&self) -> Json {
        json!({
            "won": self.won,
            "lost": self.lost,
            "winRate": ratio(self.won, self.won + self.lost),
            "wonRevenue": { "amount": money(self.won_amount)["amount"] },
            "averageWonDealSize": average(self.won_amount, self.won_converted)
                .get("amount").map(|a| json!({ "amount": a })),
        })
    }
}

/// programMetrics as raw SQL: the eleven aggregates and the owners' lookup,
/// decoded and serialized as the same JSON document.
async fn metrics_baseline(db: &DatabaseConnection, sql: &MetricsSql) -> Vec<u8> {
    // The same snapshot and session setting as the service: one read-only
    // repeatable-read transaction with JIT compilation off.
    let txn = db
        .begin_with_options(sea_orm::TransactionOptions {
            isolation_level: Some(sea_orm::IsolationLevel::RepeatableRead),
            access_mode: Some(sea_orm::AccessMode::ReadOnly),
            ..Default::default()
        })
        .await
        .unwrap();
    txn.execute_unprepared("SET LOCAL jit = off").await.unwrap();
    let (from, to) = (from(), as_of());
    let mut results = Vec::with_capacity(sql.statements.len());
    for s in &sql.statements {
        results.push(rows(&txn, &s.text, (s.values)(from, to)).await);
    }
    txn.commit().await.unwrap();
    let [status, live, medians, registrations, hours, pipeline, outcomes, certification, cohorts, reached, reps] =
        <[Vec<QueryResult>; 11]>::try_from(results).ok().unwrap();

    let by_status: HashMap<String, i64> = status
        .iter()
        .map(|r| (text(r, "status"), n(r, "n")))
        .collect();
    let live = &live[0];
    let medians: HashMap<String, (Option<f64>, i64)> = medians
        .iter()
        .map(|r| {
            (
                text(r, "milestone"),
                (r.try_get("", "median").unwrap(), n(r, "n")),
            )
        })
        .collect();
    let registrations = &registrations[0];
    let median_hours: Option<f64> = hours
        .first()
        .and_then(|r| r.try_get::<Option<f64>>("", "median").unwrap());

    let mut tallies: HashMap<(String, String), (i64, i64)> = HashMap::new();
    let mut unconverted_total = 0;
    for r in &pipeline {
        unconverted_total += n(r, "unconverted");
        tallies.insert(
            (text(r, "stage"), text(r, "segment")),
            (n(r, "n"), n(r, "amount")),
        );
    }
    let tally = |stage: &str, segment: &str| {
        let (count, amount) = tallies
            .get(&(stage.to_owned(), segment.to_owned()))
            .copied()
            .unwrap_or_default();
        json!({ "count": count, "amount": money(amount) })
    };
    let sourced_amount: i64 = tallies
        .iter()
        .filter(|((_, s), _)| s == "PARTNER_SOURCED")
        .map(|(_, (_, a))| a)
        .sum();
    let total_amount: i64 = tallies.values().map(|(_, a)| a).sum();
    let outcomes: HashMap<String, Outcomes> = outcomes
        .iter()
        .map(|r| (text(r, "segment"), Outcomes::of(r, "")))
        .collect();
    let outcome = |s: &str| outcomes.get(s).copied().unwrap_or_default();
    let certification = &certification[0];

    let mut reached_by: HashMap<(String, String), i64> = HashMap::new();
    for r in &reached {
        reached_by.insert((text(r, "month"), text(r, "milestone")), n(r, "n"));
    }
    let cohorts: Vec<Json> = cohorts
        .iter()
        .map(|r| {
            let month = text(r, "month");
            let signed = n(r, "n");
            json!({
                "month": month,
                "partnersSigned": signed,
                "milestones": MILESTONES.iter().map(|(m, _)| json!({
                    "milestone": m,
                    "reachedByDueDate": ratio(
                        reached_by.get(&(month.clone(), (*m).to_owned())).copied().unwrap_or(0),
                        signed,
                    ),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();

    // Owners: one lookup for all of them (the server's loader batches too).
    let mut reps: Vec<(Uuid, i64, i64, Outcomes, Outcomes)> = reps
        .iter()
        .map(|r| {
            (
                r.try_get("", "owner_id").unwrap(),
                n(r, "owned"),
                n(r, "credited"),
                Outcomes::of(r, "with_"),
                Outcomes::of(r, "without_"),
            )
        })
        .filter(|r| r.1 > 0)
        .collect();
    reps.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let owner_ids: Vec<Value> = reps.iter().map(|r| r.0.into()).collect();
    let owners: HashMap<Uuid, (String, String)> = rows(
        db,
        &numbered(&format!(
            "SELECT id, email, name FROM staff_user WHERE id IN ({})",
            placeholders(owner_ids.len())
        )),
        owner_ids,
    )
    .await
    .iter()
    .map(|r| {
        (
            r.try_get("", "id").unwrap(),
            (text(r, "email"), text(r, "name")),
        )
    })
    .collect();
    let adopting = reps.iter().filter(|r| r.2 > 0).count() as i64;
    let reps_json: Vec<Json> = reps
        .iter()
        .map(|(owner, owned, credited, with, without)| {
            json!({
                "owner": owners.get(owner).map(|(email, name)| json!({ "email": email, "name": name })),
                "opportunities": owned,
                "partnerCredited": credited,
                "attachRate": ratio(*credited, *owned),
                "withPartner": with.json(),
                "withoutPartner": without.json(),
            })
        })
        .collect();

    // ROI, as the resolver computes it.
    let costs = PROGRAM_COSTS.parse::<i64>().unwrap() * 100;
    let sourced = outcome("PARTNER_SOURCED").won_amount;
    let influenced = outcome("INFLUENCED").won_amount;
    let weight = Decimal::new(INFLUENCE_WEIGHT_BPS, 4);
    let weighted = (Decimal::from(influenced) * weight)
        .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    let attributed = sourced + i64::try_from(weighted).unwrap();
    let percent = (Decimal::from(attributed - costs) / Decimal::from(costs) * Decimal::from(100))
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);

    let median = |m: &str| medians.get(m).copied();
    let body = json!({ "data": { "programMetrics": {
        "baseCurrency": BASE,
        "partnersByStatus": STATUSES.iter().map(|s| json!({
            "status": s, "count": by_status.get(*s).copied().unwrap_or(0),
        })).collect::<Vec<_>>(),
        "liveVsSigned": ratio(n(live, "live"), n(live, "signed")),
        "activatedPartnerRate": ratio(n(live, "activated"), n(live, "eligible")),
        "medianDaysToFirstRegistration": median("FIRST_REGISTERED_DEAL")
            .map(|(d, _)| round2(d.unwrap_or_default())),
        "milestoneMedians": MILESTONES.iter().map(|(m, _)| {
            let found = median(m);
            json!({
                "milestone": m,
                "medianDays": found.map(|(d, _)| round2(d.unwrap_or_default())),
                "partners": found.map(|(_, n)| n).unwrap_or(0),
            })
        }).collect::<Vec<_>>(),
        "registrationsSubmitted": n(registrations, "submitted"),
        "approvalSlaCompliance": ratio(n(registrations, "on_time"), n(registrations, "decided")),
        "medianHoursToDecision": median_hours.map(round2),
        "registrationConversion": ratio(n(registrations, "converted"), n(registrations, "submitted")),
        "pipeline": STAGES.iter().map(|s| json!({
            "stage": s,
            "partnerSourced": tally(s, "PARTNER_SOURCED"),
            "influenced": tally(s, "INFLUENCED"),
            "direct": tally(s, "DIRECT"),
        })).collect::<Vec<_>>(),
        "partnerSourcedShare": {
            "numerator": { "amount": money(sourced_amount)["amount"] },
            "denominator": { "amount": money(total_amount)["amount"] },
            "value": (total_amount != 0).then(|| sourced_amount as f64 / total_amount as f64),
        },
        "winRates": SEGMENTS.iter().map(|s| json!({
            "segment": s, "outcomes": outcome(s).json(),
        })).collect::<Vec<_>>(),
        "certificationCompletion": ratio(n(certification, "earned"), n(certification, "enrolled")),
        "cohorts": cohorts,
        "roi": {
            "partnerSourcedRevenue": { "amount": money(sourced)["amount"] },
            "influencedRevenue": { "amount": money(influenced)["amount"] },
            "influenceWeight": weight.normalize().to_string(),
            "attributedRevenue": { "amount": money(attributed)["amount"] },
            "programCosts": { "amount": money(costs)["amount"] },
            "roiPercent": percent.to_string(),
        },
        "repAdoption": {
            "repsWithPartnerDeals": ratio(adopting, reps.len() as i64),
            "reps": reps_json,
        },
        "unconvertedOpportunities": unconverted_total,
    } } });
    serde_json::to_vec(&body).unwrap()
}

/// Each programMetrics statement's time, run once in a read-only transaction,
/// with PostgreSQL's JIT compilation as configured or turned off for it
/// (`SET LOCAL jit = off`): where a request's time goes.
async fn statement_times(db: &DatabaseConnection, sql: &MetricsSql, jit: bool) -> Vec<f64> {
    let (from, to) = (from(), as_of());
    let txn = db.begin().await.unwrap();
    if !jit {
        txn.execute_unprepared("SET LOCAL jit = off").await.unwrap();
    }
    let mut times = Vec::new();
    for s in &sql.statements {
        let started = Instant::now();
        black_box(
            txn.query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                &s.text,
                (s.values)(from, to),
            ))
            .await
            .unwrap(),
        );
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    txn.rollback().await.unwrap();
    times
}

/// The per-partner statements of `service::scores` for a page of `PAGE` partners.
struct PageSql {
    page: String,
    engagement: String,
    revenue: String,
    certification: String,
    opportunities: String,
    registrations: String,
    months: String,
}

impl PageSql {
    fn new() -> Self {
        let list = placeholders(PAGE);
        let (won, lost) = ("CLOSED_WON", "CLOSED_LOST");
        let amount = to_base("o.amount_minor", "o.currency", None);
        let credited = to_base("o.amount_minor", "o.currency", Some("a.credit_bps"));
        let unconverted = unconverted("o.currency");
        let engagement = format!(
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
        );
        let revenue = format!(
            "SELECT a.partner_id, {sum} AS revenue FROM opportunity_attribution a \
               JOIN opportunity o ON o.id = a.opportunity_id \
               WHERE a.partner_id IN ({list}) AND a.role = 'SOURCED' AND o.stage = '{won}' \
                 AND o.closed_at >= ? AND o.closed_at < ? GROUP BY a.partner_id",
            sum = int_sum(&amount),
        );
        let certification = format!(
            "SELECT p.id AS partner_id, p.customer_nps AS nps, \
               CAST(COUNT(c.id) AS BIGINT) AS active, \
               {advanced} AS advanced, \
               CAST(COUNT(DISTINCT CASE WHEN t.active THEN c.track_id END) AS BIGINT) AS covered, \
               CAST((SELECT COUNT(*) FROM certification_track WHERE active) AS BIGINT) AS tracks \
             FROM partner p \
             LEFT JOIN certification c ON c.partner_id = p.id AND c.status = 'ACTIVE' \
               AND (c.expires_at IS NULL OR c.expires_at > ?) \
             LEFT JOIN certification_track t ON t.id = c.track_id \
             WHERE p.id IN ({list}) GROUP BY p.id, p.customer_nps",
            advanced = int_sum("CASE WHEN t.level IN ('PROFESSIONAL', 'EXPERT') THEN 1 ELSE 0 END"),
        );
        let opportunities = format!(
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
            cycle = real(&format!(
                "AVG(CASE WHEN o.stage = '{won}' THEN {} END)",
                days_between("o.created_at", "o.closed_at")
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
        let registrations = format!(
            "SELECT partner_id, \
               {submitted} AS submitted, {approved_n} AS approved \
             FROM deal_registration \
             WHERE partner_id IN ({list}) \
               AND ((submitted_at >= ? AND submitted_at < ?) OR (decided_at >= ? AND decided_at < ?)) \
             GROUP BY partner_id",
            submitted = int_sum("CASE WHEN submitted_at >= ? AND submitted_at < ? THEN 1 ELSE 0 END"),
            approved_n = int_sum(
                "CASE WHEN decided_at >= ? AND decided_at < ? AND status IN ('APPROVED', 'EXPIRED') THEN 1 ELSE 0 END"
            ),
        );
        let months = format!(
            "SELECT a.partner_id, {month} AS month, {revenue} AS revenue, CAST(COUNT(*) AS BIGINT) AS deals \
             FROM opportunity_attribution a JOIN opportunity o ON o.id = a.opportunity_id \
             WHERE a.partner_id IN ({list}) AND o.stage = '{won}' AND o.closed_at >= ? AND o.closed_at < ? \
             GROUP BY a.partner_id, {month} ORDER BY 2",
            month = month_of("o.closed_at"),
            revenue = int_sum(&amount),
        );
        PageSql {
            page: "SELECT id, name, name_key, tier FROM partner ORDER BY name_key ASC, id ASC LIMIT $1"
                .into(),
            engagement: numbered(&engagement),
            revenue: numbered(&revenue),
            certification: numbered(&certification),
            opportunities: numbered(&opportunities),
            registrations: numbered(&registrations),
            months: numbered(&months),
        }
    }
}

/// `engagement_counts` for the page over `[from, to)`.
async fn engagement_counts(
    db: &DatabaseConnection,
    sql: &PageSql,
    ids: &[Value],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> HashMap<Uuid, EngagementCounts> {
    let mut values = Vec::with_capacity(3 * (ids.len() + 2));
    for _ in 0..3 {
        values.extend(ids.iter().cloned());
        values.push(from.into());
        values.push(to.into());
    }
    let mut counts: HashMap<Uuid, EngagementCounts> = HashMap::new();
    for row in rows(db, &sql.engagement, values).await {
        let partner: Uuid = row.try_get("", "partner_id").unwrap();
        let kind = text(&row, "kind");
        let count = n(&row, "n");
        let entry = counts.entry(partner).or_default();
        match kind.as_str() {
            "REGISTRATIONS" => entry.registrations_submitted = count,
            "CLOSED_WON" => entry.opportunities_closed_won = count,
            other => match other.parse() {
                Ok(ActivityKind::PortalLogin) => entry.portal_logins = count,
                Ok(ActivityKind::ResourceDownload) => entry.resource_downloads = count,
                Ok(ActivityKind::TrainingCompleted) => entry.trainings_completed = count,
                Err(_) => {}
            },
        }
    }
    counts
}

/// The GraphQL name of a value of an API-only enum (band, criterion).
fn graphql_name<T: async_graphql::resolver_utils::EnumType>(value: T) -> &'static str {
    T::items()
        .iter()
        .find(|item| item.value == value)
        .map(|item| item.name)
        .unwrap()
}

fn decimal(d: Decimal) -> Json {
    Json::String(d.normalize().to_string())
}

#[derive(Default)]
struct Performance {
    won: i64,
    lost: i64,
    won_revenue: i64,
    credited: i64,
    won_converted: i64,
    cycle: Option<f64>,
    open_amount: i64,
    open_n: i64,
    unconverted: i64,
    submitted: i64,
    approved: i64,
    months: Vec<(String, i64, i64)>,
}

/// The scored page as raw SQL: the page, then the seven aggregates over its
/// partners, scored with the same rules and serialized as the same JSON.
async fn page_baseline(db: &DatabaseConnection, sql: &PageSql) -> Vec<u8> {
    let (from, to) = (from(), as_of());
    let page = rows(db, &sql.page, vec![((PAGE + 1) as i64).into()]).await;
    let has_next_page = page.len() > PAGE;
    let partners: Vec<(Uuid, String, String, String)> = page
        .iter()
        .take(PAGE)
        .map(|r| {
            (
                r.try_get("", "id").unwrap(),
                text(r, "name"),
                text(r, "name_key"),
                text(r, "tier"),
            )
        })
        .collect();
    let ids: Vec<Value> = partners.iter().map(|p| p.0.into()).collect();
    let with_ids = |mut values: Vec<Value>| {
        let mut all = ids.clone();
        all.append(&mut values);
        all
    };

    // engagement (30 days), tier qualification (90-day counts, 365-day
    // revenue, certifications), performance (three statements).
    let engagement = engagement_counts(db, sql, &ids, to - chrono::Duration::days(30), to).await;
    let recent = engagement_counts(db, sql, &ids, to - chrono::Duration::days(90), to).await;
    let revenue: HashMap<Uuid, i64> = rows(
        db,
        &sql.revenue,
        with_ids(vec![(to - chrono::Duration::days(365)).into(), to.into()]),
    )
    .await
    .iter()
    .map(|r| (r.try_get("", "partner_id").unwrap(), n(r, "revenue")))
    .collect();
    let mut certification_values: Vec<Value> = vec![to.into()];
    certification_values.extend(ids.iter().cloned());
    let mut qualifications = HashMap::new();
    for r in rows(db, &sql.certification, certification_values).await {
        let partner: Uuid = r.try_get("", "partner_id").unwrap();
        let depth = CertificationDepth::of(
            n(&r, "active"),
            n(&r, "advanced") > 0,
            n(&r, "covered"),
            n(&r, "tracks"),
        );
        let counts = recent.get(&partner).copied().unwrap_or_default();
        let inputs = TierInputs {
            sourced_revenue: Decimal::new(revenue.get(&partner).copied().unwrap_or(0), 2),
            registrations: counts.registrations_submitted,
            certification_depth: depth,
            customer_nps: r.try_get("", "nps").unwrap(),
            engagement: scores::engagement(&counts).score,
        };
        qualifications.insert(partner, scores::tier_qualification(&inputs));
    }
    let mut performance: HashMap<Uuid, Performance> = HashMap::new();
    for r in rows(
        db,
        &sql.opportunities,
        with_ids(vec![from.into(), to.into()]),
    )
    .await
    {
        let p = performance
            .entry(r.try_get("", "partner_id").unwrap())
            .or_default();
        p.won = n(&r, "won");
        p.lost = n(&r, "lost");
        p.won_revenue = n(&r, "won_revenue");
        p.credited = n(&r, "credited");
        p.won_converted = n(&r, "won_converted");
        p.cycle = r.try_get("", "cycle").unwrap();
        p.open_amount = n(&r, "open_amount");
        p.open_n = n(&r, "open_n");
        p.unconverted = n(&r, "unconverted");
    }
    let mut values: Vec<Value> = vec![from.into(), to.into(), from.into(), to.into()];
    values.extend(ids.iter().cloned());
    values.extend([from.into(), to.into(), from.into(), to.into()]);
    for r in rows(db, &sql.registrations, values).await {
        let p = performance
            .entry(r.try_get("", "partner_id").unwrap())
            .or_default();
        p.submitted = n(&r, "submitted");
        p.approved = n(&r, "approved");
    }
    for r in rows(db, &sql.months, with_ids(vec![from.into(), to.into()])).await {
        performance
            .entry(r.try_get("", "partner_id").unwrap())
            .or_default()
            .months
            .push((text(&r, "month"), n(&r, "revenue"), n(&r, "deals")));
    }

    let mut end_cursor = None;
    let edges: Vec<Json> = partners
        .iter()
        .map(|(id, name, name_key, tier)| {
            let cursor_key = json!([{ "Text": name_key }, { "Uuid": id }]);
            let cursor = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&cursor_key).unwrap());
            end_cursor = Some(cursor.clone());
            let e = scores::engagement(&engagement.get(id).copied().unwrap_or_default());
            let q = qualifications.get(id);
            let none = Performance::default();
            let p = performance.get(id).unwrap_or(&none);
            json!({
                "cursor": cursor,
                "node": {
                    "id": ids::encode(NodeType::Partner, *id),
                    "name": name,
                    "tier": tier,
                    "engagement": {
                        "score": decimal(e.score),
                        "band": graphql_name(e.band),
                        "components": e.components.iter().map(|c| json!({
                            "kind": graphql_name(c.kind), "count": c.count, "points": decimal(c.points),
                        })).collect::<Vec<_>>(),
                    },
                    "tierQualification": q.map(|q| json!({
                        "score": q.score,
                        "recommendedTier": q.recommended_tier,
                        "pointsToNextTier": scores::points_to_next_tier(q),
                        "criteria": q.criteria.iter().map(|c| json!({
                            "criterion": graphql_name(c.kind),
                            "value": c.value.map(decimal),
                            "points": c.points,
                            "maxPoints": c.kind.max_points(),
                        })).collect::<Vec<_>>(),
                    })),
                    "performance": {
                        "dealsWon": p.won,
                        "dealsLost": p.lost,
                        "closedWonRevenue": money(p.won_revenue),
                        "creditedRevenue": money(p.credited),
                        "openPipeline": money(p.open_amount),
                        "openOpportunities": p.open_n,
                        "registrationsSubmitted": p.submitted,
                        "registrationsApproved": p.approved,
                        "averageWonDealSize": average(p.won_revenue, p.won_converted),
                        "averageSalesCycleDays": p.cycle.map(round2),
                        "winRate": ratio(p.won, p.won + p.lost),
                        "revenueByMonth": p.months.iter().map(|(month, revenue, deals)| json!({
                            "month": month, "revenue": money(*revenue), "dealsWon": deals,
                        })).collect::<Vec<_>>(),
                        "unconvertedOpportunities": p.unconverted,
                    },
                }
            })
        })
        .collect();
    let body = json!({ "data": { "partners": {
        "edges": edges,
        "pageInfo": { "hasNextPage": has_next_page, "endCursor": end_cursor },
    } } });
    serde_json::to_vec(&body).unwrap()
}

/// Statements per request of each baseline.
const METRICS_BASELINE_STATEMENTS: i64 = 12;
const PAGE_BASELINE_STATEMENTS: i64 = 8;

// ---------------------------------------------------------------------------
// The server: the real binary, its memory read from /proc.
// ---------------------------------------------------------------------------

struct Server {
    child: Child,
    base_url: String,
    url: String,
    client: reqwest::Client,
    token: String,
    metrics_body: String,
    page_body: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_server(database_url: &str, token: String) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("127.0.0.1:{port}");
    let child = Command::new(BINARY)
        .args(["serve", "--listen", &address, "--jobs-interval", "0"])
        // The query-cost rate limit would throttle a benchmark by design.
        .args(["--query-cost-budget", "0"])
        .args(["--database-url", database_url])
        .env("RUST_LOG", "warn")
        // PostgreSQL needs the server key that seals webhook secrets.
        .env(
            "PARTNERGRAPH_SECRET_KEY",
            "YmVuY2htYXJrLXNlcnZlci1rZXktMzItYnl0ZXMhISE=",
        )
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::builder()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let server = Server {
        child,
        base_url: format!("http://{address}"),
        url: format!("http://{address}/graphql"),
        client,
        token,
        metrics_body: json!({ "query": METRICS_QUERY }).to_string(),
        page_body: json!({ "query": PAGE_QUERY }).to_string(),
    };
    for _ in 0..400 {
        let ready = server
            .client
            .get(format!("{}/readyz", server.base_url))
            .send()
            .await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not become ready");
}

impl Server {
    /// `VmRSS` and `VmHWM` (peak) of the server, in MiB.
    fn memory_mib(&self) -> (f64, f64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kb| kb.parse::<f64>().ok())
                .map_or(0.0, |kb| kb / 1024.0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    async fn post(&self, body: &str) -> impl AsRef<[u8]> {
        let response = self
            .client
            .post(&self.url)
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body = response.bytes().await.unwrap();
        assert_eq!(
            status,
            reqwest::StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&body)
        );
        body
    }

    async fn metrics(&self) -> impl AsRef<[u8]> {
        self.post(&self.metrics_body).await
    }

    async fn page(&self) -> impl AsRef<[u8]> {
        self.post(&self.page_body).await
    }

    /// The server's count of successful SQL statements, from /metrics.
    async fn sql_statements(&self) -> Option<i64> {
        let text = self
            .client
            .get(format!("{}/metrics", self.base_url))
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        text.lines()
            .find(|l| l.starts_with("partnergraph_sql_statements_total{outcome=\"ok\"}"))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|n| n.parse::<f64>().ok())
            .map(|n| n as i64)
    }
}

/// Compares the GraphQL answer with the baseline's, as JSON values; prints
/// the first differing paths.
fn compare(name: &str, graphql: &Json, baseline: &Json) -> bool {
    fn walk(path: String, a: &Json, b: &Json, out: &mut Vec<String>) {
        match (a, b) {
            (Json::Object(x), Json::Object(y)) => {
                for (k, v) in x {
                    walk(
                        format!("{path}.{k}"),
                        v,
                        y.get(k).unwrap_or(&Json::Null),
                        out,
                    );
                }
                for k in y.keys().filter(|k| !x.contains_key(*k)) {
                    out.push(format!("{path}.{k}: missing in GraphQL"));
                }
            }
            (Json::Array(x), Json::Array(y)) if x.len() == y.len() => {
                for (i, (v, w)) in x.iter().zip(y).enumerate() {
                    walk(format!("{path}[{i}]"), v, w, out);
                }
            }
            (Json::Number(x), Json::Number(y)) if x.as_f64() == y.as_f64() => {}
            _ if a == b => {}
            _ => out.push(format!("{path}: GraphQL {a} / baseline {b}")),
        }
    }
    let mut differences = Vec::new();
    walk(String::new(), graphql, baseline, &mut differences);
    if differences.is_empty() {
        println!("check: the {name} baseline's JSON equals the GraphQL response (as a JSON value)");
        true
    } else {
        println!(
            "WARNING: the {name} baseline's JSON differs from the GraphQL response in {} places:",
            differences.len()
        );
        for d in differences.iter().take(10) {
            println!("  {d:.300}");
        }
        false
    }
}

struct Pair {
    graphql: Run,
    baseline: Run,
    statements: Option<i64>,
    baseline_statements: i64,
    same_json: bool,
    iterations: usize,
}

impl Pair {
    fn p50_ratio(&self) -> f64 {
        self.graphql.p50_ms() / self.baseline.p50_ms()
    }

    fn p99_ratio(&self) -> f64 {
        self.graphql.p99_ms() / self.baseline.p99_ms()
    }

    fn mean_ratio(&self) -> f64 {
        self.graphql.mean_ms() / self.baseline.mean_ms()
    }

    fn throughput_ratio(&self) -> f64 {
        self.graphql.throughput() / self.baseline.throughput()
    }
}

struct Results {
    seed_secs: f64,
    metrics: Pair,
    page: Pair,
    rss_started: f64,
    rss_idle: f64,
    rss_after: f64,
    rss_peak: f64,
    /// Each programMetrics statement: name, ms with JIT, ms without.
    statement_ms: Vec<(&'static str, f64, f64)>,
}

async fn warm_up<FA, FutA, A, FB, FutB, B>(warmup: usize, mut a: FA, mut b: FB)
where
    FA: FnMut() -> FutA,
    FutA: std::future::Future<Output = A>,
    FB: FnMut() -> FutB,
    FutB: std::future::Future<Output = B>,
{
    let warming = Instant::now();
    let mut warmed = 0;
    while warmed < warmup || warming.elapsed() < WARMUP_TIME {
        black_box(a().await);
        black_box(b().await);
        warmed += 1;
    }
}

async fn run(
    postgres_url: &str,
    warmup: usize,
    page_iterations: usize,
    metrics_iterations: usize,
) -> Results {
    let database = bench_database(Some(postgres_url)).await;
    let db = database.migrated().await;

    let started = Instant::now();
    seed(&db).await;
    let seed_secs = started.elapsed().as_secs_f64();
    println!(
        "seeded {PARTNERS} partners, {OPPORTUNITIES} opportunities, {REGISTRATIONS} registrations and \
         {ACTIVITIES} activity records in {seed_secs:.1} s (INSERT … SELECT generate_series, then ANALYZE)"
    );

    let now = Utc::now();
    let admin = token::staff_user_for(&db, "bench-admin@vendor.example", Role::Admin, now)
        .await
        .unwrap();
    let new = token::NewToken {
        role: Role::Admin,
        staff_user_id: Some(admin.id),
        partner_id: None,
        scopes: ScopeSet::all(),
        ttl: chrono::Duration::days(1),
        api_client_id: None,
    };
    let token = token::issue(&db, new, now)
        .await
        .unwrap()
        .1
        .expose()
        .to_owned();

    let server = start_server(database.url(), token).await;
    let (rss_started, _) = server.memory_mib();

    // Check both shapes before timing them, and that each baseline produces
    // what the server produces, or it measures something else.
    let metrics_sql = MetricsSql::new();
    let page_sql = PageSql::new();
    let graphql: Json = serde_json::from_slice(server.metrics().await.as_ref()).unwrap();
    assert!(graphql.get("errors").is_none(), "GraphQL errors: {graphql}");
    let m = &graphql["data"]["programMetrics"];
    println!(
        "check: programMetrics over the year: {} registrations submitted, {} reps, {} unconverted opportunities",
        m["registrationsSubmitted"],
        m["repAdoption"]["reps"].as_array().map_or(0, Vec::len),
        m["unconvertedOpportunities"]
    );
    let baseline: Json =
        serde_json::from_slice(&metrics_baseline(&db, &metrics_sql).await).unwrap();
    let metrics_same = compare("programMetrics", &graphql, &baseline);

    let graphql: Json = serde_json::from_slice(server.page().await.as_ref()).unwrap();
    assert!(graphql.get("errors").is_none(), "GraphQL errors: {graphql}");
    let edges = graphql["data"]["partners"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), PAGE);
    println!(
        "check: scored page of {} partners; the first: engagement {}, tier score {}, {} deals won",
        edges.len(),
        edges[0]["node"]["engagement"]["score"],
        edges[0]["node"]["tierQualification"]["score"],
        edges[0]["node"]["performance"]["dealsWon"],
    );
    let baseline: Json = serde_json::from_slice(&page_baseline(&db, &page_sql).await).unwrap();
    let page_same = compare("scored page", &graphql, &baseline);

    // Statements per request, from the server's own counter.
    let count = |which: u8| {
        let server = &server;
        async move {
            let before = server.sql_statements().await?;
            if which == 0 {
                black_box(server.metrics().await);
            } else {
                black_box(server.page().await);
            }
            let after = server.sql_statements().await?;
            Some(after - before)
        }
    };
    let metrics_statements = count(0).await;
    let page_statements = count(1).await;

    // Warm-up: both shapes and both baselines, at least WARMUP_TIME each,
    // long enough for the server's token cache to expire once.
    warm_up(
        warmup,
        || server.metrics(),
        || metrics_baseline(&db, &metrics_sql),
    )
    .await;
    warm_up(warmup, || server.page(), || page_baseline(&db, &page_sql)).await;
    let (rss_idle, _) = server.memory_mib();
    println!("server RSS: {rss_started:.1} MiB after start-up, {rss_idle:.1} MiB after warm-up");

    let (graphql, baseline) = measure_alternating(
        metrics_iterations,
        || server.metrics(),
        || metrics_baseline(&db, &metrics_sql),
    )
    .await;
    println!("programMetrics GraphQL : {}", graphql.summary());
    println!("programMetrics baseline: {}", baseline.summary());
    let metrics = Pair {
        graphql,
        baseline,
        statements: metrics_statements,
        baseline_statements: METRICS_BASELINE_STATEMENTS,
        same_json: metrics_same,
        iterations: metrics_iterations,
    };
    let (graphql, baseline) = measure_alternating(
        page_iterations,
        || server.page(),
        || page_baseline(&db, &page_sql),
    )
    .await;
    println!("scored page GraphQL    : {}", graphql.summary());
    println!("scored page baseline   : {}", baseline.summary());
    let page = Pair {
        graphql,
        baseline,
        statements: page_statements,
        baseline_statements: PAGE_BASELINE_STATEMENTS,
        same_json: page_same,
        iterations: page_iterations,
    };
    // Let the allocator settle as an idle server would, then read.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (rss_after, rss_peak) = server.memory_mib();

    // Where programMetrics' time goes: each statement, best of three, with
    // and without JIT compilation.
    let best = |runs: Vec<Vec<f64>>| -> Vec<f64> {
        (0..runs[0].len())
            .map(|i| runs.iter().map(|r| r[i]).fold(f64::INFINITY, f64::min))
            .collect()
    };
    let mut with_jit = Vec::new();
    let mut without_jit = Vec::new();
    for _ in 0..3 {
        with_jit.push(statement_times(&db, &metrics_sql, true).await);
        without_jit.push(statement_times(&db, &metrics_sql, false).await);
    }
    let statement_ms: Vec<(&'static str, f64, f64)> = metrics_sql
        .statements
        .iter()
        .map(|s| s.name)
        .zip(best(with_jit).into_iter().zip(best(without_jit)))
        .map(|(name, (on, off))| (name, on, off))
        .collect();

    drop(server);
    db.close().await.unwrap();
    drop(database);
    Results {
        seed_secs,
        metrics,
        page,
        rss_started,
        rss_idle,
        rss_after,
        rss_peak,
        statement_ms,
    }
}

fn table(r: &Results, machine: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "PostgreSQL, {PARTNERS} partners, {OPPORTUNITIES} opportunities, {REGISTRATIONS} registrations, {ACTIVITIES} activity records; sequential requests in {BLOCKS} alternating blocks, on {machine}:\n"
    );
    let _ = writeln!(
        out,
        "| Shape | Path | Requests | Throughput (req/s) | p50 (ms) | p99 (ms) | mean (ms) | SQL statements |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|");
    for (shape, pair) in [
        ("`programMetrics`, a year", &r.metrics),
        ("scored page, 100 partners", &r.page),
    ] {
        let statements = pair
            .statements
            .map_or_else(|| "n/a".to_owned(), |s| s.to_string());
        for (path, run, statements) in [
            ("GraphQL over HTTP", &pair.graphql, statements),
            (
                "raw SQL baseline",
                &pair.baseline,
                pair.baseline_statements.to_string(),
            ),
        ] {
            let _ = writeln!(
                out,
                "| {shape} | {path} | {} | {:.1} | {:.2} | {:.2} | {:.2} | {statements} |",
                pair.iterations,
                run.throughput(),
                run.p50_ms(),
                run.p99_ms(),
                run.mean_ms()
            );
        }
        let _ = writeln!(
            out,
            "| {shape} | **GraphQL / baseline** | | {:.2}× | {:.2}× | {:.2}× | {:.2}× | |",
            pair.throughput_ratio(),
            pair.p50_ratio(),
            pair.p99_ratio(),
            pair.mean_ratio()
        );
    }
    let _ = writeln!(
        out,
        "\nServer RSS: {:.1} MiB after start-up, {:.1} MiB idle after warm-up, {:.1} MiB after the run ({:+.1} MiB; peak {:.1} MiB).",
        r.rss_started,
        r.rss_idle,
        r.rss_after,
        r.rss_after - r.rss_idle,
        r.rss_peak
    );
    let _ = writeln!(
        out,
        "\nprogramMetrics' statements, each run alone (best of three), with PostgreSQL's JIT compilation on (as configured) and off:\n"
    );
    let _ = writeln!(out, "| Statement | JIT on (ms) | JIT off (ms) |");
    let _ = writeln!(out, "|---|---:|---:|");
    let (mut on_total, mut off_total) = (0.0, 0.0);
    for (name, on, off) in &r.statement_ms {
        on_total += on;
        off_total += off;
        let _ = writeln!(out, "| {name} | {on:.1} | {off:.1} |");
    }
    let _ = writeln!(out, "| **all** | {on_total:.1} | {off_total:.1} |");
    let _ = writeln!(
        out,
        "\nTargets: each shape at most 1.5× its baseline (time ratios ≤ 1.50×); server RSS after the run within 30 MB of idle."
    );
    out
}

fn main() {
    let page_iterations = env_usize("BENCH_ITERATIONS", 100);
    let metrics_iterations = env_usize("BENCH_METRICS_ITERATIONS", 20);
    let warmup = env_usize("BENCH_WARMUP", 3);
    let postgres_url = postgres_url();
    let machine = machine();

    println!("# PartnerGraph program-metrics benchmark");
    let Some(postgres_url) = postgres_url else {
        println!(
            "skipped: this benchmark runs on PostgreSQL only; set BENCH_POSTGRES_URL (or TEST_POSTGRES_URL)"
        );
        return;
    };
    println!("machine: {machine}");
    println!(
        "iterations: programMetrics {metrics_iterations}, scored page {page_iterations} (after at least {warmup} warm-up requests each)"
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let r = runtime.block_on(run(
        &postgres_url,
        warmup,
        page_iterations,
        metrics_iterations,
    ));

    println!("\n## Results\n");
    println!("seeding: {:.1} s", r.seed_secs);
    let within = |ratio: f64| if ratio <= 1.5 { "yes" } else { "NO" };
    for (name, pair) in [("programMetrics", &r.metrics), ("scored page", &r.page)] {
        println!("{name}:");
        println!("  GraphQL over HTTP : {}", pair.graphql.summary());
        println!("  raw SQL baseline  : {}", pair.baseline.summary());
        println!(
            "  GraphQL / baseline: p50 {:.2}x   p99 {:.2}x   mean {:.2}x   throughput {:.2}x   (at most 1.5x: p50 {} p99 {} mean {}; same JSON: {})",
            pair.p50_ratio(),
            pair.p99_ratio(),
            pair.mean_ratio(),
            pair.throughput_ratio(),
            within(pair.p50_ratio()),
            within(pair.p99_ratio()),
            within(pair.mean_ratio()),
            if pair.same_json { "yes" } else { "NO" },
        );
    }
    let growth = r.rss_after - r.rss_idle;
    println!(
        "server RSS: started {:.1} MiB, idle {:.1} MiB, after {:.1} MiB ({growth:+.1} MiB; within 30 MB: {}), peak {:.1} MiB",
        r.rss_started,
        r.rss_idle,
        r.rss_after,
        if growth * 1.048_576 <= 30.0 { "yes" } else { "NO" },
        r.rss_peak
    );

    println!("\n## Summary (markdown)\n");
    print!("{}", table(&r, &machine));
}
