//! What the GraphQL layer costs on top of the database.
//!
//! For each backend (a fresh SQLite file always; a fresh PostgreSQL database
//! when `BENCH_POSTGRES_URL` or `TEST_POSTGRES_URL` is set) this builds the
//! schema with the real migrations, seeds 10,000 partners, starts the real
//! server on 127.0.0.1:0 and then times, one request after the other:
//!
//! * **GraphQL**: `partners(first: 100)` with `totalCount`, edges, cursors
//!   and `pageInfo`, POSTed over HTTP with a keep-alive client as an ADMIN.
//! * **Baseline**: the same page read through the same pool with two raw SQL
//!   statements (count, then 101 rows), decoded and serialized to the same
//!   JSON document the server answers with.
//! * **Partner principal vs staff**: one seeded partner (the 42nd) gets three
//!   contacts and a PARTNER_REP token; the same `partner(id:)` query (with
//!   its contacts) is then timed as that partner and as the ADMIN, in
//!   alternating blocks so machine noise hits both alike. The requirement is
//!   that the partner costs at most 10% more. `partners(first: 100)` is timed
//!   the same way, but it is not like-for-like: the partner sees one row,
//!   staff a page of 100.
//!
//! Run with `cargo bench --bench partners`. Environment:
//! `BENCH_ITERATIONS` (default 500), `BENCH_WARMUP` (default 50),
//! `BENCH_POSTGRES_URL` (falls back to `TEST_POSTGRES_URL`).
//!
//! Client and server share this process (and its cores), so the GraphQL
//! figures include the client's HTTP work too; the baseline has no HTTP at
//! all. Resident memory is that of this whole process.

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
use chrono::{DateTime, Utc};
use entity::{partner, partner_contact};
use partnergraph::{
    auth::{token, ScopeSet},
    clock::{Clock, SystemClock},
    config::ServerConfig,
    domain::Role,
    ids::{self, NodeType},
    AppState,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set, Statement,
    TransactionTrait,
};
use serde_json::{json, Value};
use tokio::sync::oneshot;
use uuid::Uuid;

const PARTNERS: usize = 10_000;
const SEED_CHUNK: usize = 500;
const PAGE: usize = 100;

const QUERY: &str = "{ partners(first: 100) { totalCount edges { cursor node { id name type tier status website signedAt version } } pageInfo { hasNextPage endCursor } } }";

/// The partner that gets contacts and a partner token (by seeding order).
const PRINCIPAL_PARTNER: usize = 42;
const PRINCIPAL_CONTACTS: usize = 3;

/// The headline principal comparison: the same text for staff and partner.
const PARTNER_QUERY: &str = "query($id: ID!) { partner(id: $id) { id name type tier status website signedAt contacts(first: 10) { totalCount edges { node { id name email role } } } } }";
/// Partner-safe fields only, so the partner may ask it too (1 row vs 100).
const PARTNER_LIST_QUERY: &str =
    "{ partners(first: 100) { totalCount edges { node { id name type tier status website signedAt } } } }";

const COUNT_SQL: &str = "SELECT COUNT(*) AS n FROM partner";
const PAGE_SQL: &str = "SELECT id, name, partner_type, tier, status, website, signed_at, version FROM partner ORDER BY name_key, id LIMIT 101";

/// Bulk-inserts the partners straight through SeaORM. This is benchmark data,
/// so it skips the unit of work (no audit entries, no outbox events).
async fn seed(db: &DatabaseConnection, now: DateTime<Utc>) {
    let signed_at = now - chrono::Duration::days(30);
    let txn = db.begin().await.unwrap();
    let mut numbers = (1..=PARTNERS).peekable();
    while numbers.peek().is_some() {
        let chunk: Vec<partner::ActiveModel> = numbers
            .by_ref()
            .take(SEED_CHUNK)
            .map(|n| {
                let name = format!("Partner {n:05}");
                partner::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    name_key: Set(name.to_lowercase()),
                    name: Set(name),
                    partner_type: Set(entity::PartnerType::Reseller),
                    tier: Set(entity::PartnerTier::Bronze),
                    status: Set(entity::PartnerStatus::Active),
                    website: Set(Some(format!("https://partner-{n:05}.example.com"))),
                    signed_at: Set(Some(signed_at)),
                    owner_id: Set(None),
                    internal_notes: Set(Some(format!("Benchmark partner number {n}."))),
                    margin_bps: Set(Some(1000 + (n % 500) as i32)),
                    version: Set(1),
                    created_at: Set(now),
                    updated_at: Set(now),
                    activation_overdue_notified_at: Set(None),
                    customer_nps: Set(None),
                    recommended_tier: Set(None),
                    recommended_tier_at: Set(None),
                }
            })
            .collect();
        partner::Entity::insert_many(chunk)
            .exec_without_returning(&txn)
            .await
            .unwrap();
    }
    txn.commit().await.unwrap();
    // Fresh statistics, so the planner sees 10,000 rows and not an empty table.
    db.execute_unprepared("ANALYZE").await.unwrap();
}

/// Gives the [`PRINCIPAL_PARTNER`]th seeded partner [`PRINCIPAL_CONTACTS`]
/// contacts (again straight through SeaORM) and returns its id.
async fn seed_contacts(db: &DatabaseConnection, now: DateTime<Utc>) -> Uuid {
    let name_key = format!("partner {PRINCIPAL_PARTNER:05}");
    let partner = partner::Entity::find()
        .filter(partner::Column::NameKey.eq(name_key.as_str()))
        .one(db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no seeded partner `{name_key}`"));
    let contacts: Vec<partner_contact::ActiveModel> = (1..=PRINCIPAL_CONTACTS)
        .map(|n| partner_contact::ActiveModel {
            id: Set(Uuid::now_v7()),
            partner_id: Set(partner.id),
            name: Set(format!("Contact {n} of {}", partner.name)),
            email: Set(format!(
                "contact{n}@partner-{PRINCIPAL_PARTNER:05}.example.com"
            )),
            role: Set(entity::PartnerContactRole::Ae),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    partner_contact::Entity::insert_many(contacts)
        .exec_without_returning(db)
        .await
        .unwrap();
    db.execute_unprepared("ANALYZE").await.unwrap();
    partner.id
}

/// The page the server would answer with, from two raw SQL statements.
async fn baseline(db: &DatabaseConnection) -> Vec<u8> {
    let backend = db.get_database_backend();
    let count = db
        .query_one_raw(Statement::from_string(backend, COUNT_SQL))
        .await
        .unwrap()
        .unwrap();
    let total_count: i64 = count.try_get("", "n").unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(backend, PAGE_SQL))
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
            let partner_type: String = row.try_get("", "partner_type").unwrap();
            let tier: String = row.try_get("", "tier").unwrap();
            let status: String = row.try_get("", "status").unwrap();
            let website: Option<String> = row.try_get("", "website").unwrap();
            let signed_at: Option<DateTime<Utc>> = row.try_get("", "signed_at").unwrap();
            let version: i32 = row.try_get("", "version").unwrap();
            // The same cursor the connection issues: sort key and id.
            let cursor_key = json!([{ "Text": name.to_lowercase() }, { "Uuid": id }]);
            let cursor = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&cursor_key).unwrap());
            end_cursor = Some(cursor.clone());
            json!({
                "cursor": cursor,
                "node": {
                    "id": ids::encode(NodeType::Partner, id),
                    "name": name,
                    "type": partner_type,
                    "tier": tier,
                    "status": status,
                    "website": website,
                    "signedAt": signed_at.map(|t| t.to_rfc3339()),
                    "version": version,
                }
            })
        })
        .collect();
    let body = json!({
        "data": {
            "partners": {
                "totalCount": total_count,
                "edges": edges,
                "pageInfo": { "hasNextPage": has_next_page, "endCursor": end_cursor },
            }
        }
    });
    serde_json::to_vec(&body).unwrap()
}

struct Server {
    url: String,
    /// The handle the server uses, on the same pool as every other.
    db: DatabaseConnection,
    client: reqwest::Client,
    token: String,
    /// The JSON request body, serialized once.
    body: String,
    shutdown: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start_server(db: &DatabaseConnection) -> Server {
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

    let now = SystemClock.now();
    let user = token::staff_user_for(db, "bench-admin@example.com", Role::Admin, now)
        .await
        .unwrap();
    let new = token::NewToken {
        role: Role::Admin,
        staff_user_id: Some(user.id),
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
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    Server {
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
    /// One GraphQL request; returns the raw response body.
    async fn partners(&self) -> impl AsRef<[u8]> {
        self.post(&self.token, &self.body).await
    }

    /// One GraphQL request with `body` as `token`; returns the raw response body.
    async fn post(&self, token: &str, body: &str) -> impl AsRef<[u8]> {
        let response = self
            .client
            .post(&self.url)
            .bearer_auth(token)
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

    /// A PARTNER_REP token for `partner_id`, with every scope.
    async fn partner_token(&self, partner_id: Uuid) -> String {
        let new = token::NewToken {
            role: Role::PartnerRep,
            staff_user_id: None,
            partner_id: Some(partner_id),
            scopes: ScopeSet::all(),
            ttl: chrono::Duration::days(1),
            api_client_id: None,
        };
        token::issue(&self.db, new, SystemClock.now())
            .await
            .unwrap()
            .1
            .expose()
            .to_owned()
    }

    /// `body` as `token`, parsed, with any GraphQL errors failing the run.
    async fn post_json(&self, token: &str, body: &str, who: &str) -> Value {
        let answer: Value = serde_json::from_slice(self.post(token, body).await.as_ref()).unwrap();
        assert!(
            answer.get("errors").is_none(),
            "GraphQL errors as {who}: {answer}"
        );
        answer
    }

    async fn stop(self) {
        drop(self.client);
        let _ = self.shutdown.send(());
        self.task.await.unwrap().unwrap();
    }
}

/// One query timed as staff (ADMIN) and as a partner principal.
struct PrincipalRun {
    query: &'static str,
    /// Whether both principals get the same rows back.
    like_for_like: bool,
    staff: Run,
    partner: Run,
}

impl PrincipalRun {
    fn p50_ratio(&self) -> f64 {
        self.partner.p50_ms() / self.staff.p50_ms()
    }

    fn p99_ratio(&self) -> f64 {
        self.partner.p99_ms() / self.staff.p99_ms()
    }

    fn mean_ratio(&self) -> f64 {
        self.partner.mean_ms() / self.staff.mean_ms()
    }

    fn throughput_ratio(&self) -> f64 {
        self.partner.throughput() / self.staff.throughput()
    }

    fn print(&self) {
        let note = if self.like_for_like {
            ""
        } else {
            " (NOT like-for-like: the partner sees 1 row, staff 100)"
        };
        println!("{}{note}", self.query);
        println!("  as staff (ADMIN)  : {}", self.staff.summary());
        println!("  as partner (REP)  : {}", self.partner.summary());
        println!(
            "  partner / staff   : p50 {:.3}x   p99 {:.3}x   mean {:.3}x   throughput {:.3}x",
            self.p50_ratio(),
            self.p99_ratio(),
            self.mean_ratio(),
            self.throughput_ratio()
        );
        if self.like_for_like {
            let within = |ratio: f64| if ratio <= 1.10 { "yes" } else { "NO" };
            println!(
                "  at most 10% more  : p50 {}   p99 {}   mean {}",
                within(self.p50_ratio()),
                within(self.p99_ratio()),
                within(self.mean_ratio())
            );
        }
    }
}

struct BackendResult {
    backend: Backend,
    graphql: Run,
    baseline: Run,
    principals: Vec<PrincipalRun>,
    rss_kib: Option<u64>,
    peak_kib: Option<u64>,
}

impl BackendResult {
    fn p50_ratio(&self) -> f64 {
        self.graphql.p50_ms() / self.baseline.p50_ms()
    }

    fn p99_ratio(&self) -> f64 {
        self.graphql.p99_ms() / self.baseline.p99_ms()
    }

    fn throughput_ratio(&self) -> f64 {
        self.graphql.throughput() / self.baseline.throughput()
    }
}

/// A `VmRSS:`-style line of /proc/self/status, in KiB.
fn proc_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(
        || "n/a".to_owned(),
        |k| format!("{:.1} MiB", k as f64 / 1024.0),
    )
}

async fn run_backend(
    backend: Backend,
    postgres_url: Option<&str>,
    warmup: usize,
    iterations: usize,
) -> BackendResult {
    println!("\n## {}", backend.label());
    let database = bench_database(postgres_url).await;
    let db = database.migrated().await;

    let started = Instant::now();
    seed(&db, SystemClock.now()).await;
    println!(
        "seeded {PARTNERS} partners in {:.2} s (bulk inserts of {SEED_CHUNK})",
        started.elapsed().as_secs_f64()
    );
    let principal_partner = seed_contacts(&db, SystemClock.now()).await;
    println!(
        "gave partner {PRINCIPAL_PARTNER:05} ({principal_partner}) {PRINCIPAL_CONTACTS} contacts"
    );

    let server = start_server(&db).await;

    // The baseline must produce what the server produces, or it measures
    // something else.
    let graphql_body: Value = serde_json::from_slice(server.partners().await.as_ref()).unwrap();
    let baseline_body: Value = serde_json::from_slice(&baseline(&server.db).await).unwrap();
    assert!(
        graphql_body.get("errors").is_none(),
        "GraphQL errors: {graphql_body}"
    );
    assert_eq!(
        graphql_body["data"]["partners"]["totalCount"],
        json!(PARTNERS)
    );
    assert_eq!(
        graphql_body["data"]["partners"]["edges"]
            .as_array()
            .map(Vec::len),
        Some(PAGE)
    );
    if graphql_body == baseline_body {
        println!("check: the baseline's JSON equals the GraphQL response");
    } else {
        println!("WARNING: the baseline's JSON differs from the GraphQL response");
        println!("  graphql : {:.300}", graphql_body.to_string());
        println!("  baseline: {:.300}", baseline_body.to_string());
    }

    for _ in 0..warmup {
        black_box(server.partners().await);
        black_box(baseline(&server.db).await);
    }

    let graphql = measure(iterations, || server.partners()).await;
    println!("GraphQL over HTTP : {}", graphql.summary());
    let baseline = measure(iterations, || baseline(&server.db)).await;
    println!("raw SQL baseline  : {}", baseline.summary());

    let rss_kib = proc_status_kib("VmRSS:");
    let peak_kib = proc_status_kib("VmHWM:");
    let mut result = BackendResult {
        backend,
        graphql,
        baseline,
        principals: Vec::new(),
        rss_kib,
        peak_kib,
    };
    println!(
        "GraphQL / baseline: p50 {:.2}x   p99 {:.2}x   throughput {:.2}x",
        result.p50_ratio(),
        result.p99_ratio(),
        result.throughput_ratio()
    );
    println!(
        "resident memory after the run: {} (peak {})",
        mib(rss_kib),
        mib(peak_kib)
    );

    result.principals = compare_principals(&server, principal_partner, warmup, iterations).await;

    server.stop().await;
    db.close().await.unwrap();
    drop(database);
    result
}

/// Times [`PARTNER_QUERY`] and [`PARTNER_LIST_QUERY`] as staff and as a
/// partner principal of `partner_id`, after checking both answer alike.
async fn compare_principals(
    server: &Server,
    partner_id: Uuid,
    warmup: usize,
    iterations: usize,
) -> Vec<PrincipalRun> {
    let staff_token = server.token.clone();
    let partner_token = server.partner_token(partner_id).await;
    let global_id = ids::encode(NodeType::Partner, partner_id);
    let one_body = json!({ "query": PARTNER_QUERY, "variables": { "id": global_id } }).to_string();
    let list_body = json!({ "query": PARTNER_LIST_QUERY }).to_string();

    // Both principals must get the same answer, or the comparison is moot.
    let staff_one = server.post_json(&staff_token, &one_body, "staff").await;
    let partner_one = server.post_json(&partner_token, &one_body, "partner").await;
    let partner_data = &staff_one["data"]["partner"];
    assert_eq!(partner_data["id"], json!(global_id), "{staff_one}");
    assert_eq!(
        partner_data["contacts"]["totalCount"],
        json!(PRINCIPAL_CONTACTS),
        "{staff_one}"
    );
    assert_eq!(
        partner_data, &partner_one["data"]["partner"],
        "`partner` differs between staff and partner"
    );
    println!("\ncheck: `partner(id:)` answers staff and partner alike");

    let staff_list = server.post_json(&staff_token, &list_body, "staff").await;
    let partner_list = server
        .post_json(&partner_token, &list_body, "partner")
        .await;
    let rows = |answer: &Value| {
        (
            answer["data"]["partners"]["totalCount"].clone(),
            answer["data"]["partners"]["edges"]
                .as_array()
                .map_or(0, Vec::len),
        )
    };
    assert_eq!(rows(&staff_list), (json!(PARTNERS), PAGE), "{staff_list}");
    assert_eq!(rows(&partner_list), (json!(1), 1), "{partner_list}");
    assert_eq!(
        partner_list["data"]["partners"]["edges"][0]["node"]["id"],
        json!(global_id)
    );
    println!(
        "check: `partners(first: 100)` gives staff {PAGE} of {PARTNERS} rows, the partner 1 of 1"
    );

    for _ in 0..warmup {
        black_box(server.post(&staff_token, &one_body).await);
        black_box(server.post(&partner_token, &one_body).await);
        black_box(server.post(&staff_token, &list_body).await);
        black_box(server.post(&partner_token, &list_body).await);
    }

    let mut runs = Vec::new();
    for (query, like_for_like, body) in [
        ("`partner(id:)` with 3 contacts", true, &one_body),
        ("`partners(first: 100)`", false, &list_body),
    ] {
        let (staff, partner) = measure_alternating(
            iterations,
            || server.post(&staff_token, body),
            || server.post(&partner_token, body),
        )
        .await;
        let run = PrincipalRun {
            query,
            like_for_like,
            staff,
            partner,
        };
        run.print();
        runs.push(run);
    }
    runs
}

fn table(results: &[BackendResult], iterations: usize, machine: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "`partners(first: 100)` over {PARTNERS} partners, {iterations} sequential requests each, on {machine}:\n"
    );
    let _ = writeln!(
        out,
        "| Backend | Path | Throughput (req/s) | p50 (ms) | p99 (ms) | Process RSS after run |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|");
    for r in results {
        let label = r.backend.label();
        let _ = writeln!(
            out,
            "| {label} | GraphQL over HTTP | {:.0} | {:.2} | {:.2} | {} (peak {}) |",
            r.graphql.throughput(),
            r.graphql.p50_ms(),
            r.graphql.p99_ms(),
            mib(r.rss_kib),
            mib(r.peak_kib)
        );
        let _ = writeln!(
            out,
            "| {label} | raw SQL baseline | {:.0} | {:.2} | {:.2} | |",
            r.baseline.throughput(),
            r.baseline.p50_ms(),
            r.baseline.p99_ms()
        );
        let _ = writeln!(
            out,
            "| {label} | **GraphQL / baseline** | {:.2}× | {:.2}× | {:.2}× | |",
            r.throughput_ratio(),
            r.p50_ratio(),
            r.p99_ratio()
        );
    }
    out
}

fn principal_table(results: &[BackendResult], iterations: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Partner principal (PARTNER_REP) vs staff (ADMIN), the same query text, {iterations} requests each in {BLOCKS} alternating blocks:\n"
    );
    let _ = writeln!(
        out,
        "| Backend | Query | Principal | Throughput (req/s) | p50 (ms) | p99 (ms) | mean (ms) |"
    );
    let _ = writeln!(out, "|---|---|---|---:|---:|---:|---:|");
    for r in results {
        let label = r.backend.label();
        for p in &r.principals {
            let query = if p.like_for_like {
                p.query.to_owned()
            } else {
                format!(
                    "{} (not like-for-like: partner 1 row, staff {PAGE})",
                    p.query
                )
            };
            for (who, run) in [("staff", &p.staff), ("partner", &p.partner)] {
                let _ = writeln!(
                    out,
                    "| {label} | {query} | {who} | {:.0} | {:.2} | {:.2} | {:.3} |",
                    run.throughput(),
                    run.p50_ms(),
                    run.p99_ms(),
                    run.mean_ms()
                );
            }
            let _ = writeln!(
                out,
                "| {label} | {query} | **partner / staff** | {:.3}× | {:.3}× | {:.3}× | {:.3}× |",
                p.throughput_ratio(),
                p.p50_ratio(),
                p.p99_ratio(),
                p.mean_ratio()
            );
        }
    }
    let _ = writeln!(
        out,
        "\nRequirement: on `partner(id:)` a partner costs at most 10% more than staff (time ratios ≤ 1.10×; throughput ratio ≥ 0.91×)."
    );
    out
}

fn main() {
    let iterations = env_usize("BENCH_ITERATIONS", 500);
    let warmup = env_usize("BENCH_WARMUP", 50);
    let postgres_url = postgres_url();
    let machine = machine();

    println!("# PartnerGraph partners benchmark");
    println!("machine: {machine}");
    println!("iterations: {iterations} (after {warmup} warm-up requests each)");
    if postgres_url.is_none() {
        println!("PostgreSQL: skipped (set BENCH_POSTGRES_URL to include it)");
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let results = runtime.block_on(async {
        let mut results = vec![run_backend(Backend::Sqlite, None, warmup, iterations).await];
        if let Some(url) = postgres_url.as_deref() {
            results.push(run_backend(Backend::Postgres, Some(url), warmup, iterations).await);
        }
        results
    });

    println!("\n## Summary (markdown)\n");
    print!("{}", table(&results, iterations, &machine));
    println!();
    print!("{}", principal_table(&results, iterations));
}
