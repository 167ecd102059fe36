//! What incentives cost at scale (issue 17 item 9): accruals on stage moves,
//! and a period's payouts.
//!
//! It creates a fresh database with the real migrations (PostgreSQL when
//! `BENCH_POSTGRES_URL` or `TEST_POSTGRES_URL` is set, a SQLite file
//! otherwise), seeds 1,000 partners and 100,000 opportunities in
//! `NEGOTIATION` (each with a `SOURCED` partner, every 4th with an
//! `INFLUENCED` one too), starts the real server on 127.0.0.1:0, creates
//! and activates 10 plans through the API (every kind, role rates, a
//! fast-start window, quarterly tiers in both modes, a cap, a hold), and
//! then closes the opportunities as `CLOSED_WON` with the real
//! `moveOpportunityStage` mutation over HTTP, as an admin:
//!
//! * **Sequential**: `BENCH_ITERATIONS` closes with the plans active and as
//!   many with no active plan (the baseline), in alternating blocks (the
//!   benchmark flips the plans' status between blocks), one request after
//!   the other. Requirement: accrual adds at most 20 % to a stage move.
//! * **Concurrent**: the same, `BENCH_CONCURRENT` closes each side from
//!   `BENCH_TASKS` tasks at once: what the ledger lock costs.
//! * **The rest**: every remaining opportunity closed with accrual, from
//!   `BENCH_TASKS` tasks, until 100,000 deals have accrued; then the
//!   invariants (a window pays at most its count per partner, a cap is never
//!   passed, one accrual per plan version, partner and deal) are checked.
//! * **Payouts**: one SQL update approves what is due (standing in for the
//!   row-by-row hold-ending job, which is not measured here), then one
//!   `createPayouts(periodEnd: today, currency: USD)` request gathers every
//!   partner's approved entries: its wall time and SQL statements (the
//!   server's own counter, from /metrics).
//!
//! Run with `cargo bench --bench incentives`. Environment:
//! `BENCH_OPPORTUNITIES` (deals that accrue, default 100000),
//! `BENCH_ITERATIONS` (sequential closes per side, default 1000),
//! `BENCH_CONCURRENT` (concurrent closes per side, default 2000),
//! `BENCH_TASKS` (default 16), `BENCH_POSTGRES_URL`.
//!
//! Client and server share this process (and its cores), so latencies
//! include the client's HTTP work too, on both sides alike.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Benchmarks create databases and seed rows directly.
#![allow(clippy::disallowed_methods)]

mod common;

use common::*;

use std::{
    fmt::Write as _,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use chrono::{NaiveDate, TimeZone, Utc};
use entity::{opportunity_attribution, partner};
use partnergraph::{
    auth::{token, ScopeSet},
    clock::{Clock, SystemClock},
    config::ServerConfig,
    domain::{
        AttributionRole, OpportunitySource, OpportunityStage, PartnerStatus, PartnerTier,
        PartnerType, Role,
    },
    ids::{self, NodeType},
    service::deals::opportunity::Draft,
    AppState,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, Set, Statement, TransactionTrait};
use serde_json::{json, Value};
use tokio::sync::oneshot;
use uuid::Uuid;

const PARTNERS: usize = 1_000;
const PLANS: usize = 10;
const SEED_CHUNK: usize = 1_000;
/// Every `INFLUENCED_EVERY`th deal credits a second partner as `INFLUENCED`.
const INFLUENCED_EVERY: usize = 4;
/// Alternating blocks of the concurrent comparison.
const CONCURRENT_BLOCKS: usize = 4;

const CLOSE: &str = "mutation($id: ID!) { moveOpportunityStage(input: { id: $id, stage: CLOSED_WON }) { opportunity { stage } userErrors { message } } }";

/// The 10 plans: every kind, every basis, role rates, a fast-start window,
/// quarterly tiers in both modes, an eligibility rule, a cap and a hold.
fn plans() -> Vec<(&'static str, &'static str, Value)> {
    let rates = |sourced: &str, influenced: &str| {
        json!([
            { "role": "SOURCED", "ratePercent": sourced },
            { "role": "INFLUENCED", "ratePercent": influenced },
        ])
    };
    let tiers = |mode: &str| {
        json!({ "period": "QUARTER", "mode": mode, "brackets": [
            { "above": "0", "ratePercent": "2" },
            { "above": "250000", "ratePercent": "3" },
            { "above": "1000000", "ratePercent": "4" },
        ] })
    };
    let terms = |basis: &str, hold: i32| {
        json!({
            "partnerDescription": "A benchmark plan.",
            "basis": basis, "currency": "USD", "holdDays": hold,
            "startsAt": "2026-01-01T00:00:00Z",
        })
    };
    let with = |mut base: Value, extra: Value| {
        if let (Some(base), Some(extra)) = (base.as_object_mut(), extra.as_object()) {
            base.extend(extra.clone());
        }
        base
    };
    vec![
        (
            "Core commission",
            "COMMISSION",
            with(
                terms("CREDITED_AMOUNT", 0),
                json!({ "rates": rates("10", "2.5") }),
            ),
        ),
        (
            "Fast start",
            "SPIFF",
            with(
                terms("FLAT", 0),
                json!({ "rates": [{ "role": "SOURCED", "flatAmount": "500" }],
                        "window": { "anchor": "PARTNER_SIGNED", "days": 90, "maxCount": 3 } }),
            ),
        ),
        (
            "Launch window",
            "SPIFF",
            with(
                terms("FLAT", 0),
                json!({ "rates": [{ "role": "SOURCED", "flatAmount": "100" }, { "role": "INFLUENCED", "flatAmount": "25" }],
                        "window": { "anchor": "PLAN_START", "days": 3650, "maxCount": 20 } }),
            ),
        ),
        (
            "Marginal tiers",
            "COMMISSION",
            with(
                terms("OPPORTUNITY_AMOUNT", 0),
                json!({ "rates": [{ "role": "SOURCED", "ratePercent": "0" }], "tiers": tiers("MARGINAL") }),
            ),
        ),
        (
            "Retroactive tiers",
            "REBATE",
            with(
                terms("OPPORTUNITY_AMOUNT", 0),
                json!({ "rates": [{ "role": "SOURCED", "ratePercent": "0" }], "tiers": tiers("RETROACTIVE") }),
            ),
        ),
        (
            "Capped co-sell",
            "COMMISSION",
            with(
                terms("CREDITED_AMOUNT", 0),
                json!({ "rates": rates("5", "5"), "cap": "20000" }),
            ),
        ),
        (
            "Held referral fee",
            "REFERRAL_FEE",
            with(
                terms("FLAT", 30),
                json!({ "rates": [{ "role": "SOURCED", "flatAmount": "250" }] }),
            ),
        ),
        (
            "Reseller rebate",
            "REBATE",
            with(
                terms("OPPORTUNITY_AMOUNT", 0),
                json!({ "rates": [{ "role": "SOURCED", "ratePercent": "1" }],
                        "eligibility": { "partnerTypes": ["RESELLER", "DISTRIBUTOR"] } }),
            ),
        ),
        (
            "Gold accelerator",
            "COMMISSION",
            with(
                terms("CREDITED_AMOUNT", 0),
                json!({ "rates": rates("1.5", "0.5"), "eligibility": { "partnerTiers": ["GOLD"] } }),
            ),
        ),
        (
            "Influence bonus",
            "SPIFF",
            with(
                terms("CREDITED_AMOUNT", 0),
                json!({ "rates": [{ "role": "INFLUENCED", "ratePercent": "4" }] }),
            ),
        ),
    ]
}

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

/// Bulk-inserts partners, opportunities and attributions straight through
/// SeaORM (benchmark data: no audit, no events). Opportunity `i` is sourced
/// by partner `i % PARTNERS`, so each partner's deals spread over the whole
/// run. Partners signed between 0 and 99 days ago, so some are inside the
/// fast-start window and some past it. The opportunities' ids, in order.
async fn seed(db: &DatabaseConnection, opportunities: usize) -> Vec<Uuid> {
    let now = Utc::now();
    let base = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let partner_ids: Vec<Uuid> = (0..PARTNERS).map(|_| Uuid::now_v7()).collect();
    let opportunity_ids: Vec<Uuid> = (0..opportunities).map(|_| Uuid::now_v7()).collect();
    let types = [
        PartnerType::Referral,
        PartnerType::Reseller,
        PartnerType::Distributor,
        PartnerType::SystemsIntegrator,
    ];
    let tiers = [PartnerTier::Bronze, PartnerTier::Silver, PartnerTier::Gold];
    let txn = db.begin().await.unwrap();
    insert_chunked(
        &txn,
        partner_ids.iter().enumerate().map(|(n, &id)| {
            let name = format!("Partner {:05}", n + 1);
            partner::ActiveModel {
                id: Set(id),
                name_key: Set(name.to_lowercase()),
                name: Set(name),
                partner_type: Set(types[n % types.len()]),
                tier: Set(tiers[n % tiers.len()]),
                status: Set(PartnerStatus::Active),
                website: Set(None),
                signed_at: Set(Some(now - chrono::Duration::days((n % 100) as i64))),
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
    let amount = |i: usize| 100_000 + (i as i64 * 7_919) % 9_900_000;
    insert_chunked(
        &txn,
        (0..opportunities).map(|i| {
            Draft {
                name: format!("Deal {i:06}"),
                company_name: format!("Customer {i:06}"),
                company_domain: format!("customer-{i:06}.example"),
                source: OpportunitySource::PartnerSourced,
                stage: OpportunityStage::Negotiation,
                amount_minor: amount(i),
                currency: "USD".to_owned(),
                expected_close_date: NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
                deal_registration_id: None,
                owner_id: None,
                next_step: None,
                discount_bps: None,
                margin_bps: None,
                competitor_intel: None,
                internal_notes: None,
                crm_managed: false,
            }
            .row(
                opportunity_ids[i],
                base + chrono::Duration::seconds(i as i64),
            )
        }),
    )
    .await;
    let attribution =
        |i: usize, partner: usize, role, credit_bps| opportunity_attribution::ActiveModel {
            id: Set(Uuid::now_v7()),
            opportunity_id: Set(opportunity_ids[i]),
            partner_id: Set(partner_ids[partner % PARTNERS]),
            role: Set(role),
            credit_bps: Set(credit_bps),
            created_at: Set(base),
        };
    insert_chunked(
        &txn,
        (0..opportunities).flat_map(|i| {
            let sourced = attribution(i, i, AttributionRole::Sourced, 10_000);
            let influenced = (i % INFLUENCED_EVERY == 0)
                .then(|| attribution(i, i + 1, AttributionRole::Influenced, 3_000));
            std::iter::once(sourced).chain(influenced)
        }),
    )
    .await;
    txn.commit().await.unwrap();
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        db.execute_unprepared("ANALYZE").await.unwrap();
    }
    opportunity_ids
}

struct Server {
    base_url: String,
    url: String,
    db: DatabaseConnection,
    client: reqwest::Client,
    token: String,
    shutdown: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start_server(db: &DatabaseConnection, tasks: usize) -> Server {
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
    let app_db = state.db.clone();
    let (shutdown, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(partnergraph::serve(listener, state, async {
        let _ = stopped.await;
    }));
    let now = SystemClock.now();
    let admin = token::staff_user_for(db, "bench-admin@vendor.example", Role::Admin, now)
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
    let token = token::issue(db, new, now)
        .await
        .unwrap()
        .1
        .expose()
        .to_owned();
    let client = reqwest::Client::builder()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(tasks)
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    Server {
        base_url: format!("http://{address}"),
        url: format!("http://{address}/graphql"),
        db: app_db,
        client,
        token,
        shutdown,
        task,
    }
}

impl Server {
    async fn graphql(&self, query: &str, variables: Value) -> Value {
        let response = self
            .client
            .post(&self.url)
            .bearer_auth(&self.token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");
        assert!(body.get("errors").is_none(), "{body}");
        body["data"].clone()
    }

    /// Closes one opportunity as won, as the mutation does.
    async fn close(&self, id: Uuid) {
        let data = self
            .graphql(
                CLOSE,
                json!({ "id": ids::encode(NodeType::Opportunity, id) }),
            )
            .await;
        assert_eq!(
            data["moveOpportunityStage"]["opportunity"]["stage"], "CLOSED_WON",
            "{data}"
        );
    }

    /// The server's count of successful SQL statements, from /metrics.
    async fn sql_statements(&self) -> i64 {
        let text = self
            .client
            .get(format!("{}/metrics", self.base_url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find(|l| l.starts_with("partnergraph_sql_statements_total{outcome=\"ok\"}"))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|n| n.parse::<f64>().ok())
            .map(|n| n as i64)
            .expect("the server counts its SQL statements")
    }

    /// Creates and activates the plans through the API.
    async fn create_plans(&self) {
        for (name, kind, terms) in plans() {
            let data = self
                .graphql(
                    "mutation($input: CreateIncentivePlanInput!) { createIncentivePlan(input: $input) { incentivePlan { id } userErrors { field message } } }",
                    json!({ "input": { "name": name, "kind": kind, "terms": terms } }),
                )
                .await;
            let id = data["createIncentivePlan"]["incentivePlan"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("plan {name}: {data}"))
                .to_owned();
            let data = self
                .graphql(
                    "mutation($id: ID!) { activateIncentivePlan(input: { id: $id }) { incentivePlan { status } userErrors { message } } }",
                    json!({ "id": id }),
                )
                .await;
            assert_eq!(
                data["activateIncentivePlan"]["incentivePlan"]["status"],
                "ACTIVE"
            );
        }
    }

    /// Turns the plans on (`ACTIVE`) or off (`DRAFT`) between blocks, by
    /// SQL: the baseline is the same move with no active plan.
    async fn plans_active(&self, active: bool) {
        let (to, from) = if active {
            ("ACTIVE", "DRAFT")
        } else {
            ("DRAFT", "ACTIVE")
        };
        self.db
            .execute_unprepared(&format!(
                "UPDATE incentive_plan SET status = '{to}' WHERE status = '{from}'"
            ))
            .await
            .unwrap();
    }

    async fn stop(self) {
        drop(self.client);
        let _ = self.shutdown.send(());
        self.task.await.unwrap().unwrap();
    }
}

/// The opportunities still open, handed out one at a time.
struct Deals {
    ids: Vec<Uuid>,
    next: AtomicUsize,
}

impl Deals {
    fn take(&self) -> Uuid {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        *self.ids.get(i).expect("enough seeded opportunities")
    }
}

/// `count` closes from `tasks` tasks at once: their latencies and wall time.
async fn close_concurrently(
    server: &Arc<Server>,
    deals: &Arc<Deals>,
    count: usize,
    tasks: usize,
) -> Run {
    let started = Instant::now();
    let left = Arc::new(AtomicUsize::new(count));
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let (server, deals, left) = (server.clone(), deals.clone(), left.clone());
        handles.push(tokio::spawn(async move {
            let mut histogram = histogram();
            while left
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok()
            {
                let t = Instant::now();
                server.close(deals.take()).await;
                histogram
                    .record(t.elapsed().as_micros().max(1) as u64)
                    .unwrap();
            }
            histogram
        }));
    }
    let mut histogram = histogram();
    for handle in handles {
        histogram.add(handle.await.unwrap()).unwrap();
    }
    Run {
        histogram,
        elapsed: started.elapsed(),
    }
}

fn merge(into: &mut Run, run: Run) {
    into.histogram.add(run.histogram).unwrap();
    into.elapsed += run.elapsed;
}

fn empty_run() -> Run {
    Run {
        histogram: histogram(),
        elapsed: Duration::ZERO,
    }
}

/// The same work with accrual and without, in alternating blocks (odd
/// blocks run the baseline first).
async fn alternate(
    server: &Arc<Server>,
    deals: &Arc<Deals>,
    per_side: usize,
    blocks: usize,
    tasks: usize,
) -> (Run, Run) {
    let (mut with, mut without) = (empty_run(), empty_run());
    for block in 0..blocks {
        let n = per_side / blocks + usize::from(block < per_side % blocks);
        for accrue in [block % 2 == 0, block % 2 == 1] {
            server.plans_active(accrue).await;
            let run = close_concurrently(server, deals, n, tasks).await;
            merge(if accrue { &mut with } else { &mut without }, run);
        }
    }
    server.plans_active(true).await;
    (with, without)
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// Checks what concurrency must not break; panics naming the rule.
async fn check_invariants(db: &DatabaseConnection) -> Vec<String> {
    let mut notes = Vec::new();
    let over_window = count(
        db,
        "SELECT COUNT(*) FROM (SELECT a.partner_id FROM incentive_accrual a \
         JOIN incentive_plan p ON p.id = a.plan_id WHERE p.name = 'Fast start' \
         GROUP BY a.partner_id HAVING COUNT(*) > 3) t",
    )
    .await;
    assert_eq!(
        over_window, 0,
        "a partner got more than 3 fast-start bonuses"
    );
    let over_cap = count(
        db,
        "SELECT COUNT(*) FROM (SELECT a.partner_id FROM incentive_accrual a \
         JOIN incentive_plan p ON p.id = a.plan_id WHERE p.name = 'Capped co-sell' \
         GROUP BY a.partner_id HAVING SUM(a.amount_minor) > 2000000) t",
    )
    .await;
    assert_eq!(over_cap, 0, "a partner earned past the cap");
    let twice = count(
        db,
        "SELECT COUNT(*) FROM (SELECT 1 FROM incentive_accrual \
         GROUP BY plan_version_id, partner_id, subject_id HAVING COUNT(*) > 1) t",
    )
    .await;
    assert_eq!(twice, 0, "a deal accrued twice under one plan version");
    let unposted = count(
        db,
        "SELECT COUNT(*) FROM incentive_accrual a WHERE NOT EXISTS (SELECT 1 FROM \
         incentive_ledger_entry e WHERE e.accrual_id = a.id AND e.kind = 'ACCRUAL' \
         AND e.amount_minor = a.amount_minor)",
    )
    .await;
    assert_eq!(unposted, 0, "an accrual without its ledger entry");
    let capped = count(
        db,
        "SELECT COUNT(*) FROM (SELECT a.partner_id FROM incentive_accrual a \
         JOIN incentive_plan p ON p.id = a.plan_id WHERE p.name = 'Capped co-sell' \
         GROUP BY a.partner_id HAVING SUM(a.amount_minor) = 2000000) t",
    )
    .await;
    let fast = count(
        db,
        "SELECT COUNT(*) FROM incentive_accrual a JOIN incentive_plan p ON p.id = a.plan_id \
         WHERE p.name = 'Fast start'",
    )
    .await;
    notes.push(format!(
        "invariants hold: no fast-start window past 3 deals ({fast} bonuses), no cap passed \
         ({capped} partners exactly at it), one accrual per plan version, partner and deal, \
         every accrual on the ledger"
    ));
    notes
}

struct Results {
    backend: &'static str,
    seed_secs: f64,
    sequential: (Run, Run),
    statements_per_close: (i64, i64),
    concurrent: (Run, Run),
    rest: Run,
    rest_count: usize,
    accruals: i64,
    deals_accrued: i64,
    approve_secs: f64,
    approved: usize,
    payout_secs: f64,
    payout_statements: i64,
    payouts: usize,
    notes: Vec<String>,
}

async fn run(
    postgres_url: Option<&str>,
    opportunities: usize,
    iterations: usize,
    concurrent: usize,
    tasks: usize,
) -> Results {
    let database = bench_database(postgres_url).await;
    let db = database.migrated().await;
    let backend = if postgres_url.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    // The deals that accrue, plus the baseline's (which close with no plan active).
    let baseline_moves = iterations + concurrent + 2;
    let started = Instant::now();
    let ids = seed(&db, opportunities + baseline_moves).await;
    let seed_secs = started.elapsed().as_secs_f64();
    println!(
        "seeded {PARTNERS} partners and {} opportunities in {seed_secs:.2} s",
        ids.len()
    );
    let server = Arc::new(start_server(&db, tasks).await);
    server.create_plans().await;
    println!("{PLANS} plans active");
    let deals = Arc::new(Deals {
        ids,
        next: AtomicUsize::new(0),
    });

    // SQL statements of one close each way, from the server's own counter.
    let before = server.sql_statements().await;
    server.close(deals.take()).await;
    let with = server.sql_statements().await - before;
    server.plans_active(false).await;
    let before = server.sql_statements().await;
    server.close(deals.take()).await;
    let without = server.sql_statements().await - before;
    server.plans_active(true).await;
    println!("SQL statements per close: with accrual {with}, without {without}");

    let sequential = alternate(&server, &deals, iterations, BLOCKS, 1).await;
    println!("sequential: with    {}", sequential.0.summary());
    println!("sequential: without {}", sequential.1.summary());
    let concurrent_runs = alternate(&server, &deals, concurrent, CONCURRENT_BLOCKS, tasks).await;
    println!("{tasks} tasks: with    {}", concurrent_runs.0.summary());
    println!("{tasks} tasks: without {}", concurrent_runs.1.summary());

    // Closed with accrual so far: the first close, and one side of each comparison.
    let accrued_so_far = 1 + iterations + concurrent;
    let rest_count = opportunities.saturating_sub(accrued_so_far);
    let rest = close_concurrently(&server, &deals, rest_count, tasks).await;
    println!(
        "the rest ({rest_count} closes, {tasks} tasks): {}",
        rest.summary()
    );

    let accruals = count(&db, "SELECT COUNT(*) FROM incentive_accrual").await;
    let deals_accrued = count(
        &db,
        "SELECT COUNT(DISTINCT subject_id) FROM incentive_accrual",
    )
    .await;
    println!("{accruals} accruals on {deals_accrued} deals");
    let notes = check_invariants(&db).await;
    for note in &notes {
        println!("{note}");
    }

    // The hold ends for every plan but the held one. The hold-ending job
    // approves row by row (an audited update, an entry and an event each),
    // which is not what this measures: one statement stands in for it.
    let started = Instant::now();
    let db_backend = db.get_database_backend();
    let placeholder = if db_backend == sea_orm::DbBackend::Postgres {
        "$1"
    } else {
        "?"
    };
    let approved = db
        .execute_raw(Statement::from_sql_and_values(
            db_backend,
            format!("UPDATE incentive_accrual SET status = 'APPROVED' WHERE status = 'PENDING' AND hold_until <= {placeholder}"),
            [Utc::now().into()],
        ))
        .await
        .unwrap()
        .rows_affected() as usize;
    let approve_secs = started.elapsed().as_secs_f64();
    println!("{approved} accruals approved (their hold ended) in {approve_secs:.2} s");

    let today = Utc::now().date_naive();
    let before = server.sql_statements().await;
    let started = Instant::now();
    let data = server
        .graphql(
            "mutation($end: Date!) { createPayouts(input: { periodEnd: $end, currency: \"USD\" }) { payouts { id } userErrors { message } } }",
            json!({ "end": today }),
        )
        .await;
    let payout_secs = started.elapsed().as_secs_f64();
    let payout_statements = server.sql_statements().await - before;
    let payouts = data["createPayouts"]["payouts"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(payouts > 0, "{data}");
    let lines = count(&db, "SELECT COUNT(*) FROM incentive_payout_line").await;
    println!(
        "createPayouts: {payouts} payouts gathering {lines} entries in {payout_secs:.3} s, {payout_statements} SQL statements"
    );

    let server = Arc::try_unwrap(server)
        .ok()
        .expect("no task holds the server");
    server.stop().await;
    db.close().await.unwrap();
    drop(database);
    Results {
        backend,
        seed_secs,
        sequential,
        statements_per_close: (with, without),
        concurrent: concurrent_runs,
        rest,
        rest_count,
        accruals,
        deals_accrued,
        approve_secs,
        approved,
        payout_secs,
        payout_statements,
        payouts,
        notes,
    }
}

fn ratio(a: f64, b: f64) -> String {
    format!("{:+.1} %", (a / b - 1.0) * 100.0)
}

fn table(
    r: &Results,
    iterations: usize,
    concurrent: usize,
    tasks: usize,
    machine: &str,
    load: &str,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Closing opportunities as `CLOSED_WON` (`moveOpportunityStage` over HTTP, as an admin) on {} with {PARTNERS} partners and {PLANS} active plans, against the same move with no active plan, on {machine} (load average before the run: {load}):\n",
        r.backend
    );
    let _ = writeln!(
        out,
        "| Closes | Side | req/s | p50 (ms) | p99 (ms) | mean (ms) |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|");
    let rows: [(String, &Run, &Run); 2] = [
        (
            format!("{iterations} sequential, {BLOCKS} alternating blocks"),
            &r.sequential.0,
            &r.sequential.1,
        ),
        (
            format!("{concurrent} from {tasks} tasks, {CONCURRENT_BLOCKS} alternating blocks"),
            &r.concurrent.0,
            &r.concurrent.1,
        ),
    ];
    for (what, with, without) in rows {
        for (side, run) in [("with accrual", with), ("no active plan", without)] {
            let _ = writeln!(
                out,
                "| {what} | {side} | {:.0} | {:.2} | {:.2} | {:.2} |",
                run.throughput(),
                run.p50_ms(),
                run.p99_ms(),
                run.mean_ms()
            );
        }
        let _ = writeln!(
            out,
            "| | **accrual adds** | {} | {} | {} | {} |",
            ratio(without.throughput(), with.throughput()),
            ratio(with.p50_ms(), without.p50_ms()),
            ratio(with.p99_ms(), without.p99_ms()),
            ratio(with.mean_ms(), without.mean_ms()),
        );
    }
    let (with, without) = r.statements_per_close;
    let _ = writeln!(
        out,
        "\nSQL statements per close: {with} with accrual, {without} without. The rest ({} closes from {tasks} tasks): {}; {} accruals on {} deals. {}",
        r.rest_count,
        r.rest.summary().trim(),
        r.accruals,
        r.deals_accrued,
        r.notes.join("; ")
    );
    let _ = writeln!(
        out,
        "\nPayouts: {} accruals approved by one SQL update in {:.1} s (standing in for the hold-ending job); `createPayouts` made {} payouts in {:.3} s with {} SQL statements (seeding took {:.1} s).",
        r.approved, r.approve_secs, r.payouts, r.payout_secs, r.payout_statements, r.seed_secs
    );
    let _ = writeln!(
        out,
        "\nRequirement: accrual adds at most 20 % to a stage move's latency; payouts are one set-based statement per period, not one per partner."
    );
    out
}

fn main() {
    let opportunities = env_usize("BENCH_OPPORTUNITIES", 100_000);
    let iterations = env_usize("BENCH_ITERATIONS", 1_000);
    let concurrent = env_usize("BENCH_CONCURRENT", 2_000);
    let tasks = env_usize("BENCH_TASKS", 16).max(1);
    let postgres_url = postgres_url();
    let machine = machine();
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned());

    println!("# PartnerGraph incentives benchmark");
    println!("machine: {machine}; load average: {load}");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let results = runtime.block_on(run(
        postgres_url.as_deref(),
        opportunities,
        iterations,
        concurrent,
        tasks,
    ));
    println!("\n## Summary (markdown)\n");
    print!(
        "{}",
        table(&results, iterations, concurrent, tasks, &machine, &load)
    );
}
