//! What a partner's pipeline page costs on top of the database.
//!
//! PostgreSQL only (`BENCH_POSTGRES_URL`, falling back to `TEST_POSTGRES_URL`;
//! without either the benchmark says so and exits). It creates a fresh
//! database with the real migrations, seeds 1,000 partners and 100,000
//! partner-sourced opportunities (100 per partner, interleaved in time), each
//! with an approved deal registration and one `SOURCED` attribution, starts
//! the real server on 127.0.0.1:0 and then times, one request after the other:
//!
//! * **GraphQL**: `opportunities(first: 50)` with `totalCount`, cursors,
//!   `pageInfo`, each opportunity's deal registration and the caller's own
//!   attribution, POSTed over HTTP with a keep-alive client as a PARTNER_REP
//!   of one partner (the 42nd seeded).
//! * **Baseline**: the same page read through the same pool with two raw SQL
//!   statements (a count, then one join of 51 rows), decoded and serialized to
//!   a JSON document of the same shape.
//!
//! The two alternate in blocks so that machine noise hits both alike. The
//! requirement is that the pipeline page costs at most 2× the raw-SQL time
//! per request.
//!
//! Run with `cargo bench --bench pipeline`. Environment:
//! `BENCH_ITERATIONS` (default 500), `BENCH_WARMUP` (default 50, and at
//! least 2.5 s),
//! `BENCH_POSTGRES_URL` (falls back to `TEST_POSTGRES_URL`).
//!
//! Client and server share this process (and its cores), so the GraphQL
//! figures include the client's HTTP work too; the baseline has no HTTP at
//! all.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Benchmarks create databases and seed rows directly.
#![allow(clippy::disallowed_methods)]

mod common;

use common::*;

use std::{
    fmt::Write as _,
    hint::black_box,
    sync::Arc,
    time::{Duration, Instant},
};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use entity::{deal_registration, opportunity_attribution, partner};
use partnergraph::{
    auth::{token, ScopeSet},
    clock::{Clock, SystemClock},
    config::ServerConfig,
    domain::{
        inputs::{CurrencyCode, Weight},
        money::Money,
        AttributionRole, DealRegistrationStatus, OpportunitySource, OpportunityStage,
        PartnerStatus, PartnerTier, PartnerType, Role,
    },
    ids::{self, NodeType},
    service::deals::opportunity::Draft,
    AppState,
};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, Set, Statement, TransactionTrait,
};
use serde_json::{json, Value};
use tokio::sync::oneshot;
use uuid::Uuid;

const PARTNERS: usize = 1_000;
const OPPORTUNITIES_PER_PARTNER: usize = 100;
const OPPORTUNITIES: usize = PARTNERS * OPPORTUNITIES_PER_PARTNER;
const SEED_CHUNK: usize = 1_000;
const PAGE: usize = 50;

/// The least time spent warming up before timing.
const WARMUP_TIME: Duration = Duration::from_millis(2_500);

/// The partner whose rep asks for the page (by seeding order, 1-based).
const PRINCIPAL_PARTNER: usize = 42;

const QUERY: &str = "{ opportunities(first: 50) { totalCount edges { cursor node { id name stage amount { amount currency } expectedCloseDate dealRegistration { id reference status } myAttribution { role credit } } } pageInfo { hasNextPage endCursor } } }";

/// Opportunities the partner is credited on (one attribution per partner and
/// opportunity, by a unique index, so this counts opportunities).
const COUNT_SQL: &str = "SELECT COUNT(*) AS n FROM opportunity_attribution WHERE partner_id = $1";
/// The page: one join, newest first, one row more than the page to tell
/// whether there is a next one. A partner sees only its own registrations.
const PAGE_SQL: &str = "\
SELECT o.id, o.name, o.stage, o.amount_minor, o.currency, o.expected_close_date, o.created_at, \
       r.id AS registration_id, r.reference, r.status AS registration_status, \
       a.role, a.credit_bps \
FROM opportunity o \
JOIN opportunity_attribution a ON a.opportunity_id = o.id AND a.partner_id = $1 \
LEFT JOIN deal_registration r ON r.id = o.deal_registration_id AND r.partner_id = $1 \
ORDER BY o.created_at DESC, o.id DESC \
LIMIT 51";

const STAGES: [OpportunityStage; 4] = [
    OpportunityStage::Registered,
    OpportunityStage::Qualified,
    OpportunityStage::Proposal,
    OpportunityStage::Negotiation,
];

/// Inserts `rows` in chunks of [`SEED_CHUNK`] through `txn`.
async fn insert_chunked<A, I>(txn: &sea_orm::DatabaseTransaction, rows: I)
where
    A: sea_orm::ActiveModelTrait,
    I: IntoIterator<Item = A>,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(SEED_CHUNK).collect();
        <A::Entity as EntityTrait>::insert_many(chunk)
            .exec_without_returning(txn)
            .await
            .unwrap();
    }
}

/// Bulk-inserts partners, opportunities, registrations and attributions
/// straight through SeaORM in one transaction. This is benchmark data, so it
/// skips the unit of work (no audit entries, no outbox events, no conflict
/// checks). Opportunity `i` belongs to partner `i % PARTNERS`, so every
/// partner's opportunities are spread over the whole time range, and
/// `created_at` is `base + i` seconds, so the order is total and meaningful.
/// Returns the id of the [`PRINCIPAL_PARTNER`]th partner.
async fn seed(db: &DatabaseConnection) -> Uuid {
    let base = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let at = |i: usize| base + chrono::Duration::seconds(i as i64);
    let partner_ids: Vec<Uuid> = (0..PARTNERS).map(|_| Uuid::now_v7()).collect();
    let opportunity_ids: Vec<Uuid> = (0..OPPORTUNITIES).map(|_| Uuid::now_v7()).collect();
    let registration_ids: Vec<Uuid> = (0..OPPORTUNITIES).map(|_| Uuid::now_v7()).collect();
    let partner_of = |i: usize| partner_ids[i % PARTNERS];
    let close_date = |i: usize| {
        NaiveDate::from_ymd_opt(2027, 1, 1).unwrap() + chrono::Duration::days((i % 365) as i64)
    };
    let amount = |i: usize| 100_000 + (i as i64 * 7_919) % 10_000_000;

    let txn = db.begin().await.unwrap();
    insert_chunked(
        &txn,
        partner_ids.iter().enumerate().map(|(n, &id)| {
            let name = format!("Partner {:05}", n + 1);
            partner::ActiveModel {
                id: Set(id),
                name_key: Set(name.to_lowercase()),
                name: Set(name),
                partner_type: Set(PartnerType::Referral),
                tier: Set(PartnerTier::Bronze),
                status: Set(PartnerStatus::Active),
                website: Set(Some(format!("https://partner-{:05}.example.com", n + 1))),
                signed_at: Set(Some(base)),
                owner_id: Set(None),
                internal_notes: Set(None),
                margin_bps: Set(None),
                version: Set(1),
                created_at: Set(base),
                updated_at: Set(base),
                activation_overdue_notified_at: Set(None),
                customer_nps: Set(None),
                recommended_tier: Set(None),
                recommended_tier_at: Set(None),
            }
        }),
    )
    .await;
    // `opportunity.deal_registration_id` has no foreign key, so opportunities
    // can point at their registrations before those exist; the registrations'
    // `opportunity_id` (which has one) then finds its opportunity.
    insert_chunked(
        &txn,
        (0..OPPORTUNITIES).map(|i| {
            Draft {
                name: format!("Deal {i:06}"),
                company_name: format!("Customer {i:06}"),
                company_domain: format!("customer-{i:06}.example"),
                source: OpportunitySource::PartnerSourced,
                stage: STAGES[i % STAGES.len()],
                amount_minor: amount(i),
                currency: "USD".to_owned(),
                expected_close_date: close_date(i),
                deal_registration_id: Some(registration_ids[i]),
                owner_id: None,
                next_step: None,
                discount_bps: None,
                margin_bps: None,
                competitor_intel: None,
                internal_notes: None,
                crm_managed: false,
            }
            .row(opportunity_ids[i], at(i))
        }),
    )
    .await;
    insert_chunked(
        &txn,
        (0..OPPORTUNITIES).map(|i| deal_registration::ActiveModel {
            id: Set(registration_ids[i]),
            reference: Set(format!("DR-2026-{:06}", i + 1)),
            partner_id: Set(partner_of(i)),
            status: Set(DealRegistrationStatus::Approved),
            company_name: Set(format!("Customer {i:06}")),
            company_domain: Set(format!("customer-{i:06}.example")),
            company_key: Set(format!("customer {i:06}")),
            domain_key: Set(format!("customer-{i:06}.example")),
            customer_contact_name: Set("Carla Customer".to_owned()),
            customer_contact_email: Set(format!("carla@customer-{i:06}.example")),
            amount_minor: Set(amount(i)),
            currency: Set("USD".to_owned()),
            expected_close_date: Set(close_date(i)),
            product: Set(None),
            notes: Set(None),
            internal_notes: Set(None),
            submitted_at: Set(at(i)),
            submitted_by: Set("bench".to_owned()),
            reviewer_id: Set(None),
            decided_at: Set(Some(at(i))),
            decision_reason: Set(None),
            protection_starts_at: Set(Some(at(i))),
            protection_ends_at: Set(Some(at(i) + chrono::Duration::days(90))),
            extension_count: Set(0),
            sla_due_at: Set(at(i) + chrono::Duration::days(2)),
            expiring_notified_for: Set(None),
            opportunity_id: Set(Some(opportunity_ids[i])),
            version: Set(1),
            created_at: Set(at(i)),
            updated_at: Set(at(i)),
            ..Default::default()
        }),
    )
    .await;
    insert_chunked(
        &txn,
        (0..OPPORTUNITIES).map(|i| opportunity_attribution::ActiveModel {
            id: Set(Uuid::now_v7()),
            opportunity_id: Set(opportunity_ids[i]),
            partner_id: Set(partner_of(i)),
            role: Set(AttributionRole::Sourced),
            credit_bps: Set(10_000),
            created_at: Set(at(i)),
        }),
    )
    .await;
    txn.commit().await.unwrap();
    // Fresh statistics, so the planner sees the real row counts.
    db.execute_unprepared("ANALYZE").await.unwrap();
    partner_ids[PRINCIPAL_PARTNER - 1]
}

/// The page the server would answer with, from two raw SQL statements.
///
/// How close it is: the JSON has the same shape, field names and values
/// (global ids via `ids::encode`, the same cursors, decimals written the same
/// way), and the run checks that it equals the server's answer as a JSON
/// value; only key order and whitespace may differ in the bytes.
async fn baseline(db: &DatabaseConnection, partner_id: Uuid) -> Vec<u8> {
    let count = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            COUNT_SQL,
            [partner_id.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    let total_count: i64 = count.try_get("", "n").unwrap();
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            PAGE_SQL,
            [partner_id.into()],
        ))
        .await
        .unwrap();
    let has_next_page = rows.len() > PAGE;
    let mut end_cursor = None;
    let edges: Vec<Value> = rows
        .iter()
        .take(PAGE)
        .map(|row| {
            let id: Uuid = row.try_get("", "id").unwrap();
            let name: String = row.try_get("", "name").unwrap();
            let stage: String = row.try_get("", "stage").unwrap();
            let amount_minor: i64 = row.try_get("", "amount_minor").unwrap();
            let currency: String = row.try_get("", "currency").unwrap();
            let expected_close_date: NaiveDate = row.try_get("", "expected_close_date").unwrap();
            let created_at: DateTime<Utc> = row.try_get("", "created_at").unwrap();
            let registration_id: Option<Uuid> = row.try_get("", "registration_id").unwrap();
            let reference: Option<String> = row.try_get("", "reference").unwrap();
            let registration_status: Option<String> =
                row.try_get("", "registration_status").unwrap();
            let role: String = row.try_get("", "role").unwrap();
            let credit_bps: i32 = row.try_get("", "credit_bps").unwrap();
            // The same cursor the connection issues: sort key and id.
            let cursor_key = json!([{ "Time": created_at }, { "Uuid": id }]);
            let cursor = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&cursor_key).unwrap());
            end_cursor = Some(cursor.clone());
            let amount = Money {
                minor_units: amount_minor,
                currency: CurrencyCode::stored(currency),
            };
            let registration = registration_id.map(|rid| {
                json!({
                    "id": ids::encode(NodeType::DealRegistration, rid),
                    "reference": reference,
                    "status": registration_status,
                })
            });
            json!({
                "cursor": cursor,
                "node": {
                    "id": ids::encode(NodeType::Opportunity, id),
                    "name": name,
                    "stage": stage,
                    "amount": {
                        "amount": amount.amount().to_string(),
                        "currency": amount.currency.as_str(),
                    },
                    "expectedCloseDate": expected_close_date.format("%Y-%m-%d").to_string(),
                    "dealRegistration": registration,
                    "myAttribution": {
                        "role": role,
                        "credit": Weight::from_basis_points(credit_bps).as_decimal().to_string(),
                    },
                }
            })
        })
        .collect();
    let body = json!({
        "data": {
            "opportunities": {
                "totalCount": total_count,
                "edges": edges,
                "pageInfo": { "hasNextPage": has_next_page, "endCursor": end_cursor },
            }
        }
    });
    serde_json::to_vec(&body).unwrap()
}

struct Server {
    base_url: String,
    url: String,
    /// The handle the server uses, on the same pool as every other.
    db: DatabaseConnection,
    client: reqwest::Client,
    /// A PARTNER_REP token of the principal partner.
    token: String,
    /// The JSON request body, serialized once.
    body: String,
    shutdown: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start_server(db: &DatabaseConnection, partner_id: Uuid) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    // The query-cost rate limit would throttle a benchmark by design; it is off here.
    let limits = partnergraph::config::Limits {
        query_cost_budget: 0,
        ..Default::default()
    };
    let config = ServerConfig {
        limits,
        ..ServerConfig::default()
    };
    let state = AppState::new(db.clone(), Arc::new(SystemClock), config).unwrap();
    // The server's own handle on the pool (it counts SQL statements for
    // /metrics); the baseline reads through it too, so both pay the same.
    let app_db = state.db.clone();
    let (shutdown, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(partnergraph::serve(listener, state, async {
        let _ = stopped.await;
    }));

    let new = token::NewToken {
        role: Role::PartnerRep,
        staff_user_id: None,
        partner_id: Some(partner_id),
        scopes: ScopeSet::all(),
        ttl: chrono::Duration::days(1),
        api_client_id: None,
    };
    let token = token::issue(db, new, SystemClock.now())
        .await
        .unwrap()
        .1
        .expose()
        .to_owned();

    let client = reqwest::Client::builder()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    Server {
        base_url: format!("http://{address}"),
        url: format!("http://{address}/graphql"),
        db: app_db,
        client,
        token,
        body: json!({ "query": QUERY }).to_string(),
        shutdown,
        task,
    }
}

impl Server {
    /// One GraphQL request for the pipeline page; returns the raw response body.
    async fn pipeline(&self) -> impl AsRef<[u8]> {
        let response = self
            .client
            .post(&self.url)
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(self.body.clone())
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

    async fn stop(self) {
        drop(self.client);
        let _ = self.shutdown.send(());
        self.task.await.unwrap().unwrap();
    }
}

struct Results {
    graphql: Run,
    baseline: Run,
    seed_secs: f64,
    statements: Option<(i64, i64)>,
}

impl Results {
    fn p50_ratio(&self) -> f64 {
        self.graphql.p50_ms() / self.baseline.p50_ms()
    }

    fn p99_ratio(&self) -> f64 {
        self.graphql.p99_ms() / self.baseline.p99_ms()
    }

    fn mean_ratio(&self) -> f64 {
        self.graphql.mean_ms() / self.baseline.mean_ms()
    }

    /// GraphQL's throughput over the baseline's (below 1 is slower).
    fn throughput_ratio(&self) -> f64 {
        self.graphql.throughput() / self.baseline.throughput()
    }
}

async fn run(postgres_url: &str, warmup: usize, iterations: usize) -> Results {
    let database = bench_database(Some(postgres_url)).await;
    let db = database.migrated().await;

    let started = Instant::now();
    let partner_id = seed(&db).await;
    let seed_secs = started.elapsed().as_secs_f64();
    println!(
        "seeded {PARTNERS} partners and {OPPORTUNITIES} opportunities (each with a registration \
         and an attribution) in {seed_secs:.2} s (bulk inserts of {SEED_CHUNK}, then ANALYZE)"
    );
    println!("principal: PARTNER_REP of partner {PRINCIPAL_PARTNER:05} ({partner_id})");

    let server = start_server(&db, partner_id).await;

    // Check the page before timing it, and that the baseline produces what
    // the server produces, or it measures something else.
    let graphql_body: Value = serde_json::from_slice(server.pipeline().await.as_ref()).unwrap();
    assert!(
        graphql_body.get("errors").is_none(),
        "GraphQL errors: {graphql_body}"
    );
    let page = &graphql_body["data"]["opportunities"];
    assert_eq!(
        page["totalCount"],
        json!(OPPORTUNITIES_PER_PARTNER),
        "{graphql_body}"
    );
    assert_eq!(page["edges"].as_array().map(Vec::len), Some(PAGE));
    assert_eq!(page["pageInfo"]["hasNextPage"], json!(true));
    let first = &page["edges"][0]["node"];
    assert_eq!(first["dealRegistration"]["status"], json!("APPROVED"));
    assert_eq!(
        first["myAttribution"],
        json!({ "role": "SOURCED", "credit": "1" })
    );
    println!(
        "check: {PAGE} edges of totalCount {OPPORTUNITIES_PER_PARTNER}, with registration and attribution"
    );
    let baseline_body: Value =
        serde_json::from_slice(&baseline(&server.db, partner_id).await).unwrap();
    if graphql_body == baseline_body {
        println!("check: the baseline's JSON equals the GraphQL response (as a JSON value)");
    } else {
        println!("WARNING: the baseline's JSON differs from the GraphQL response");
        println!("  graphql : {:.600}", graphql_body.to_string());
        println!("  baseline: {:.600}", baseline_body.to_string());
    }

    // Statements per request, from the server's own counter (which the
    // baseline's handle feeds too). The /metrics scrape itself runs none.
    let statements = async {
        let before = server.sql_statements().await?;
        black_box(server.pipeline().await);
        let between = server.sql_statements().await?;
        black_box(baseline(&server.db, partner_id).await);
        let after = server.sql_statements().await?;
        Some((between - before, after - between))
    }
    .await;
    match statements {
        Some((g, b)) => println!("SQL statements per request: GraphQL {g}, baseline {b}"),
        None => println!("SQL statements per request: n/a (no counter in /metrics)"),
    }

    // At least WARMUP_TIME too: long enough for the server's token cache to
    // expire once, so its pool has grown to what the steady state uses
    // (opening a PostgreSQL connection mid-run costs one request ~90 ms).
    let warming = Instant::now();
    let mut warmed = 0;
    while warmed < warmup || warming.elapsed() < WARMUP_TIME {
        black_box(server.pipeline().await);
        black_box(baseline(&server.db, partner_id).await);
        warmed += 1;
    }

    let (graphql, baseline) = measure_alternating(
        iterations,
        || server.pipeline(),
        || baseline(&server.db, partner_id),
    )
    .await;

    server.stop().await;
    db.close().await.unwrap();
    drop(database);
    Results {
        graphql,
        baseline,
        seed_secs,
        statements,
    }
}

fn table(r: &Results, iterations: usize, machine: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "A partner's pipeline page, `opportunities(first: {PAGE})` with registration and attribution, as a PARTNER_REP on PostgreSQL with {OPPORTUNITIES} opportunities across {PARTNERS} partners; {iterations} sequential requests each in {BLOCKS} alternating blocks, on {machine}:\n"
    );
    let _ = writeln!(
        out,
        "| Path | Throughput (req/s) | p50 (ms) | p99 (ms) | mean (ms) |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|");
    for (path, run) in [
        ("GraphQL over HTTP", &r.graphql),
        ("raw SQL baseline (count + one join)", &r.baseline),
    ] {
        let _ = writeln!(
            out,
            "| {path} | {:.0} | {:.2} | {:.2} | {:.3} |",
            run.throughput(),
            run.p50_ms(),
            run.p99_ms(),
            run.mean_ms()
        );
    }
    let _ = writeln!(
        out,
        "| **GraphQL / baseline** | {:.2}× | {:.2}× | {:.2}× | {:.2}× |",
        r.throughput_ratio(),
        r.p50_ratio(),
        r.p99_ratio(),
        r.mean_ratio()
    );
    if let Some((g, b)) = r.statements {
        let _ = writeln!(
            out,
            "\nSQL statements per request: GraphQL {g}, baseline {b}."
        );
    }
    let _ = writeln!(
        out,
        "\nRequirement: the pipeline page costs at most 2× the raw-SQL time per request (time ratios ≤ 2.00×; throughput ratio ≥ 0.50×)."
    );
    out
}

fn main() {
    let iterations = env_usize("BENCH_ITERATIONS", 500);
    let warmup = env_usize("BENCH_WARMUP", 50);
    let postgres_url = postgres_url();
    let machine = machine();

    println!("# PartnerGraph pipeline benchmark");
    let Some(postgres_url) = postgres_url else {
        println!(
            "skipped: this benchmark runs on PostgreSQL only; set BENCH_POSTGRES_URL (or TEST_POSTGRES_URL)"
        );
        return;
    };
    println!("machine: {machine}");
    println!("iterations: {iterations} (after {warmup} warm-up requests each)");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let results = runtime.block_on(run(&postgres_url, warmup, iterations));

    println!("\n## Results\n");
    println!("seeding: {:.2} s", results.seed_secs);
    println!("GraphQL over HTTP : {}", results.graphql.summary());
    println!("raw SQL baseline  : {}", results.baseline.summary());
    println!(
        "GraphQL / baseline: p50 {:.2}x   p99 {:.2}x   mean {:.2}x   throughput {:.2}x",
        results.p50_ratio(),
        results.p99_ratio(),
        results.mean_ratio(),
        results.throughput_ratio()
    );
    let within = |ratio: f64| if ratio <= 2.0 { "yes" } else { "NO" };
    println!(
        "at most 2x         : p50 {}   p99 {}   mean {}",
        within(results.p50_ratio()),
        within(results.p99_ratio()),
        within(results.mean_ratio())
    );

    println!("\n## Summary (markdown)\n");
    print!("{}", table(&results, iterations, &machine));
}
