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
//!
//! Run with `cargo bench --bench partners`. Environment:
//! `BENCH_ITERATIONS` (default 500), `BENCH_WARMUP` (default 50),
//! `BENCH_POSTGRES_URL` (falls back to `TEST_POSTGRES_URL`).
//!
//! Client and server share this process (and its cores), so the GraphQL
//! figures include the client's HTTP work too; the baseline has no HTTP at
//! all. Resident memory is that of this whole process.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    fmt::Write as _,
    hint::black_box,
    sync::Arc,
    time::{Duration, Instant},
};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, Utc};
use entity::partner;
use hdrhistogram::Histogram;
use partnergraph::{
    auth::{token, ScopeSet},
    clock::{Clock, SystemClock},
    config::ServerConfig,
    db,
    domain::Role,
    ids::{self, NodeType},
    AppState,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, Set, Statement, TransactionTrait};
use serde_json::{json, Value};
use tokio::sync::oneshot;
use uuid::Uuid;

const PARTNERS: usize = 10_000;
const SEED_CHUNK: usize = 500;
const PAGE: usize = 100;

const QUERY: &str = "{ partners(first: 100) { totalCount edges { cursor node { id name type tier status website signedAt version } } pageInfo { hasNextPage endCursor } } }";

const COUNT_SQL: &str = "SELECT COUNT(*) AS n FROM partner";
const PAGE_SQL: &str = "SELECT id, name, partner_type, tier, status, website, signed_at, version FROM partner ORDER BY name_key, id LIMIT 101";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn label(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// A database that exists for one benchmark run and is removed after it.
enum BenchDatabase {
    Sqlite {
        _dir: tempfile::TempDir,
        url: String,
    },
    Postgres {
        admin_url: String,
        name: String,
        url: String,
    },
}

impl BenchDatabase {
    async fn create(backend: Backend, postgres_url: Option<&str>) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("bench.db").display()
                );
                BenchDatabase::Sqlite { _dir: dir, url }
            }
            Backend::Postgres => {
                let admin_url = postgres_url
                    .expect("a PostgreSQL run needs a URL")
                    .to_owned();
                let name = format!("pg_bench_{}", Uuid::new_v4().simple());
                let admin = sea_orm::Database::connect(&admin_url)
                    .await
                    .expect("cannot connect to BENCH_POSTGRES_URL");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .unwrap();
                admin.close().await.unwrap();
                let mut parsed = url::Url::parse(&admin_url).unwrap();
                parsed.set_path(&format!("/{name}"));
                let url = parsed.to_string();
                BenchDatabase::Postgres {
                    admin_url,
                    name,
                    url,
                }
            }
        }
    }

    fn url(&self) -> &str {
        match self {
            BenchDatabase::Sqlite { url, .. } | BenchDatabase::Postgres { url, .. } => url,
        }
    }
}

impl Drop for BenchDatabase {
    fn drop(&mut self) {
        if let BenchDatabase::Postgres {
            admin_url, name, ..
        } = self
        {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            let target = name.clone();
            // Drop runs outside async; a runtime of its own removes the database.
            let dropped = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    let admin = sea_orm::Database::connect(&admin_url).await?;
                    admin
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS {target} WITH (FORCE)"
                        ))
                        .await?;
                    admin.close().await
                })
            })
            .join();
            match dropped {
                Ok(Ok(())) => eprintln!("dropped database {name}"),
                other => eprintln!("WARNING: could not drop database {name}: {other:?}"),
            }
        }
    }
}

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
                    partner_type: Set("RESELLER".to_owned()),
                    tier: Set("BRONZE".to_owned()),
                    status: Set("ACTIVE".to_owned()),
                    website: Set(Some(format!("https://partner-{n:05}.example.com"))),
                    signed_at: Set(Some(signed_at)),
                    owner_id: Set(None),
                    internal_notes: Set(Some(format!("Benchmark partner number {n}."))),
                    margin_bps: Set(Some(1000 + (n % 500) as i32)),
                    version: Set(1),
                    created_at: Set(now),
                    updated_at: Set(now),
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
    let state = AppState::new(db.clone(), Arc::new(SystemClock), ServerConfig::default()).unwrap();
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

    async fn stop(self) {
        drop(self.client);
        let _ = self.shutdown.send(());
        self.task.await.unwrap().unwrap();
    }
}

/// Latencies in microseconds and the wall time of the whole loop.
struct Run {
    histogram: Histogram<u64>,
    elapsed: Duration,
}

impl Run {
    fn throughput(&self) -> f64 {
        self.histogram.len() as f64 / self.elapsed.as_secs_f64()
    }

    fn p50_ms(&self) -> f64 {
        self.histogram.value_at_quantile(0.50) as f64 / 1000.0
    }

    fn p99_ms(&self) -> f64 {
        self.histogram.value_at_quantile(0.99) as f64 / 1000.0
    }

    fn summary(&self) -> String {
        format!(
            "{:>9.1} req/s   p50 {:>7.3} ms   p99 {:>7.3} ms   mean {:>7.3} ms   max {:>8.3} ms",
            self.throughput(),
            self.p50_ms(),
            self.p99_ms(),
            self.histogram.mean() / 1000.0,
            self.histogram.max() as f64 / 1000.0,
        )
    }
}

async fn measure<F, Fut, T>(iterations: usize, mut op: F) -> Run
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
    let start = Instant::now();
    for _ in 0..iterations {
        let t = Instant::now();
        black_box(op().await);
        histogram
            .record(t.elapsed().as_micros().max(1) as u64)
            .unwrap();
    }
    Run {
        histogram,
        elapsed: start.elapsed(),
    }
}

struct BackendResult {
    backend: Backend,
    graphql: Run,
    baseline: Run,
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
    let database = BenchDatabase::create(backend, postgres_url).await;
    let db = db::connect(database.url()).await.unwrap();
    db::migrate(&db).await.unwrap();

    let started = Instant::now();
    seed(&db, SystemClock.now()).await;
    println!(
        "seeded {PARTNERS} partners in {:.2} s (bulk inserts of {SEED_CHUNK})",
        started.elapsed().as_secs_f64()
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
    let result = BackendResult {
        backend,
        graphql,
        baseline,
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

    server.stop().await;
    db.close().await.unwrap();
    drop(database);
    result
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    format!("{cpus} × {model}")
}

fn env_usize(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => value
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, not `{value}`")),
        _ => default,
    }
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

fn main() {
    let iterations = env_usize("BENCH_ITERATIONS", 500);
    let warmup = env_usize("BENCH_WARMUP", 50);
    let postgres_url = ["BENCH_POSTGRES_URL", "TEST_POSTGRES_URL"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|u| !u.is_empty()));
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
}
