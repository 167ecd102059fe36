//! Load held (issue 18, item 8): the real `partnergraph` binary under a mixed
//! workload at twice the throughput it sustains, to show that it sheds (503
//! or 429 at once) instead of letting timeouts pile up, that what it accepts
//! stays fast, that memory comes back, and that no committed change misses
//! its event.
//!
//! The workload: reads (`partner(id)`, a page of 20 partners) and writes
//! (`createPartner`), 2 in 5 of each read and 1 in 5 writes, while
//! `BENCH_SUBSCRIBERS` WebSocket clients (default 10) hold an
//! `events(types: ["partner.created"])` subscription and a webhook endpoint
//! on loopback receives every `partner.created` delivery.
//!
//! 1. **Unloaded**: one request at a time (`BENCH_UNLOADED` requests,
//!    default 1,000): the unloaded p99.
//! 2. **Sustainable throughput**: closed loop, `BENCH_CONCURRENCY` clients
//!    (default 16) for a tenth of `BENCH_SECONDS` (at least 5 s): what the
//!    server completes per second.
//! 3. **Overload**: open loop (fixed arrival times, each request timed from
//!    when it was due, so a slow server cannot slow the arrivals) at twice
//!    that rate for `BENCH_SECONDS` (default 60); each request gives up
//!    after 5 s (a timeout).
//! 4. **Events**: every write the server acknowledged must reach every
//!    subscriber and the webhook receiver (by subject id), within 2 minutes.
//! 5. **Memory**: the server's RSS before the overload and after it, once
//!    idle again (events drained, 5 s of quiet).
//!
//! `cargo bench --bench load` (PostgreSQL when `BENCH_POSTGRES_URL` is set,
//! else a SQLite file). The server runs with its default admission limits
//! unless `BENCH_MAX_IN_FLIGHT` / `BENCH_QUEUE_WAIT_MS` set
//! `--max-in-flight` / `--queue-wait-ms`. The query-cost budget is off (one
//! principal sends everything here, and its budget is not what this
//! measures), so sheds are 503s; a 429 would be counted apart.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{
    collections::{HashMap, HashSet},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{extract::State, routing::post, Json, Router};
use common::{bench_database, env_usize, histogram, machine, postgres_url};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};

const BINARY: &str = env!("CARGO_BIN_EXE_partnergraph");
/// A request not answered within this is a timeout.
const TIMEOUT: Duration = Duration::from_secs(5);

const READ_ONE: &str = "query($id: ID!) { partner(id: $id) { id name type status tier } }";
const READ_PAGE: &str = "{ partners(first: 20) { totalCount edges { node { id name status } } } }";
const WRITE: &str = "mutation($name: String!) { createPartner(input: { name: $name, type: RESELLER }) { partner { id } userErrors { code } } }";

struct Server {
    child: Child,
    address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    async fn start(database_url: &str, limits: &[String]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let address = format!("127.0.0.1:{port}");
        let child = Command::new(BINARY)
            .args(["serve", "--listen", &address, "--jobs-interval", "0"])
            .args(["--webhook-allow-private", "--query-cost-budget", "0"])
            .args(limits)
            .env("DATABASE_URL", database_url)
            .env("RUST_LOG", "error")
            // PostgreSQL needs the server key that seals webhook secrets.
            .env(
                "PARTNERGRAPH_SECRET_KEY",
                "YmVuY2htYXJrLXNlcnZlci1rZXktMzItYnl0ZXMhISE=",
            )
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let server = Server { child, address };
        for _ in 0..200 {
            let ready = reqwest::get(format!("http://{}/readyz", server.address)).await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not become ready");
    }

    fn rss_mib(&self) -> f64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }

    /// A counter's value from `/metrics`.
    async fn metric(&self, line_prefix: &str) -> f64 {
        let text = reqwest::get(format!("http://{}/metrics", self.address))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(line_prefix))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0.0)
    }
}

fn cli(database_url: &str, args: &[&str]) -> String {
    let output = Command::new(BINARY)
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// Subject ids as they arrive, from one subscriber or the webhook receiver.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<HashSet<String>>>);

impl Seen {
    fn add(&self, id: &str) {
        self.0.lock().unwrap().insert(id.to_owned());
    }

    fn missing(&self, committed: &HashSet<String>) -> usize {
        let seen = self.0.lock().unwrap();
        committed.difference(&seen).count()
    }
}

async fn receive_webhook(State(seen): State<Seen>, Json(body): Json<Value>) -> &'static str {
    if let Some(id) = body["data"]["partner"]["id"].as_str() {
        seen.add(id);
    }
    "ok"
}

async fn start_receiver() -> (String, Seen) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let seen = Seen::default();
    let app = Router::new()
        .route("/hook", post(receive_webhook))
        .with_state(seen.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}/hook"), seen)
}

/// One `graphql-transport-ws` subscriber noting each created partner's subject id.
async fn subscribe(address: &str, token: &str) -> Seen {
    let mut request = format!("ws://{address}/graphql")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let send = |message: Value| Message::Text(message.to_string().into());
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } });
    socket.send(send(init)).await.unwrap();
    let _ack = socket.next().await;
    let query = "subscription { events(types: [\"partner.created\"]) { subjectId } }";
    let subscribe = json!({ "type": "subscribe", "id": "1", "payload": { "query": query } });
    socket.send(send(subscribe)).await.unwrap();
    let seen = Seen::default();
    let noted = seen.clone();
    tokio::spawn(async move {
        while let Some(Ok(message)) = socket.next().await {
            let Message::Text(text) = message else {
                continue;
            };
            let message: Value = serde_json::from_str(&text).unwrap();
            match message["payload"]["data"]["events"]["subjectId"].as_str() {
                Some(id) => noted.add(id),
                // Pings need no answer here; anything else is worth seeing.
                None if message["type"] == "ping" => {}
                None => eprintln!("subscriber: {message}"),
            }
        }
    });
    seen
}

#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    url: String,
    token: String,
    /// Partners to read.
    partners: Arc<Vec<String>>,
}

/// How one request ended.
enum Outcome {
    /// Answered 200 (a created partner's id for a write).
    Accepted(Option<String>),
    /// Turned away with this status (503 or 429).
    Shed(u16),
    Timeout,
    /// Anything else: a status, or a connection error (0).
    Failed(u16),
}

impl Client {
    /// Request number `n` of the mix: 2 in 5 `partner(id)`, 2 in 5 a page,
    /// 1 in 5 a write; only writes while there is no partner to read.
    async fn send(&self, n: usize) -> Outcome {
        let write = json!({ "query": WRITE, "variables": { "name": format!("Load {}", uuid::Uuid::now_v7()) } });
        let body = match n % 5 {
            _ if self.partners.is_empty() => write,
            0 => write,
            1 | 3 => {
                json!({ "query": READ_ONE, "variables": { "id": self.partners[n % self.partners.len()] } })
            }
            _ => json!({ "query": READ_PAGE }),
        };
        let sent = self
            .http
            .post(&self.url)
            .bearer_auth(&self.token)
            .json(&body)
            .timeout(TIMEOUT)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(error) if error.is_timeout() => return Outcome::Timeout,
            Err(_) => return Outcome::Failed(0),
        };
        let status = response.status().as_u16();
        let body: Value = match response.json().await {
            Ok(body) => body,
            Err(error) if error.is_timeout() => return Outcome::Timeout,
            Err(_) => return Outcome::Failed(status),
        };
        match status {
            200 if body["errors"].is_null() => Outcome::Accepted(
                body["data"]["createPartner"]["partner"]["id"]
                    .as_str()
                    .map(str::to_owned),
            ),
            429 | 503 => Outcome::Shed(status),
            _ => Outcome::Failed(status),
        }
    }
}

/// What a phase's requests came to.
#[derive(Default)]
struct Tally {
    accepted: usize,
    shed: HashMap<u16, usize>,
    timeouts: usize,
    failed: HashMap<u16, usize>,
    latency: Option<Histogram<u64>>,
}

impl Tally {
    fn add(&mut self, outcome: Outcome, latency: Duration, committed: &Mutex<HashSet<String>>) {
        match outcome {
            Outcome::Accepted(created) => {
                self.accepted += 1;
                let micros = latency.as_micros().max(1) as u64;
                self.latency
                    .get_or_insert_with(histogram)
                    .record(micros)
                    .unwrap();
                if let Some(id) = created {
                    committed.lock().unwrap().insert(id);
                }
            }
            Outcome::Shed(status) => *self.shed.entry(status).or_default() += 1,
            Outcome::Timeout => self.timeouts += 1,
            Outcome::Failed(status) => *self.failed.entry(status).or_default() += 1,
        }
    }

    fn p99_ms(&self) -> f64 {
        self.latency
            .as_ref()
            .map_or(0.0, |h| h.value_at_quantile(0.99) as f64 / 1000.0)
    }

    fn p50_ms(&self) -> f64 {
        self.latency
            .as_ref()
            .map_or(0.0, |h| h.value_at_quantile(0.5) as f64 / 1000.0)
    }

    fn shed(&self, status: u16) -> usize {
        self.shed.get(&status).copied().unwrap_or(0)
    }
}

/// `workers` clients, each sending its next request when the last is
/// answered, for `duration` (or `requests` in all).
async fn closed_loop(
    client: &Client,
    workers: usize,
    duration: Duration,
    requests: usize,
    committed: &Arc<Mutex<HashSet<String>>>,
) -> (Tally, Duration) {
    let started = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let (client, next, committed) = (client.clone(), next.clone(), committed.clone());
            tokio::spawn(async move {
                let mut tally = Tally::default();
                loop {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if n >= requests || started.elapsed() >= duration {
                        return tally;
                    }
                    let sent = Instant::now();
                    let outcome = client.send(n).await;
                    tally.add(outcome, sent.elapsed(), &committed);
                }
            })
        })
        .collect();
    let mut total = Tally::default();
    for task in tasks {
        let tally = task.await.unwrap();
        total.accepted += tally.accepted;
        total.timeouts += tally.timeouts;
        for (status, n) in tally.shed {
            *total.shed.entry(status).or_default() += n;
        }
        for (status, n) in tally.failed {
            *total.failed.entry(status).or_default() += n;
        }
        if let Some(latency) = tally.latency {
            total
                .latency
                .get_or_insert_with(histogram)
                .add(latency)
                .unwrap();
        }
    }
    (total, started.elapsed())
}

/// Requests due at a fixed rate for `duration`, each sent when due whatever
/// the server is doing, and timed from when it was due.
async fn open_loop(
    client: &Client,
    rate: f64,
    duration: Duration,
    first: usize,
    committed: &Arc<Mutex<HashSet<String>>>,
) -> (Tally, usize) {
    let (done, mut outcomes) = mpsc::unbounded_channel();
    let started = tokio::time::Instant::now();
    let count = (rate * duration.as_secs_f64()) as usize;
    let mut late = 0;
    for i in 0..count {
        let due = started + Duration::from_secs_f64(i as f64 / rate);
        if tokio::time::Instant::now() > due + Duration::from_millis(10) {
            late += 1;
        }
        tokio::time::sleep_until(due).await;
        let (client, done) = (client.clone(), done.clone());
        tokio::spawn(async move {
            let outcome = client.send(first + i).await;
            let _ = done.send((outcome, due.elapsed()));
        });
    }
    drop(done);
    let mut tally = Tally::default();
    while let Some((outcome, latency)) = outcomes.recv().await {
        tally.add(outcome, latency, committed);
    }
    (tally, late)
}

async fn run() {
    let postgres = postgres_url();
    let database = bench_database(postgres.as_deref()).await;
    let database_url = database.url().to_owned();
    cli(&database_url, &["migrate"]);
    let token = cli(&database_url, &["token", "create", "--role", "ADMIN"]);
    let mut limits = Vec::new();
    for (variable, flag) in [
        ("BENCH_MAX_IN_FLIGHT", "--max-in-flight"),
        ("BENCH_QUEUE_WAIT_MS", "--queue-wait-ms"),
    ] {
        if let Ok(value) = std::env::var(variable) {
            limits.extend([flag.to_owned(), value]);
        }
    }
    let server = Server::start(&database_url, &limits).await;
    let (hook_url, webhook_seen) = start_receiver().await;
    let http = reqwest::Client::builder()
        .tcp_nodelay(true)
        .build()
        .unwrap();
    let endpoint: Value = http
        .post(format!("http://{}/graphql", server.address))
        .bearer_auth(&token)
        .json(&json!({
            "query": "mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { webhookEndpoint { id } userErrors { message } } }",
            "variables": { "input": { "url": hook_url, "eventTypes": ["partner.created"] } }
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        endpoint["data"]["createWebhookEndpoint"]["webhookEndpoint"]["id"].is_string(),
        "{endpoint}"
    );
    let mut subscribers = Vec::new();
    for _ in 0..env_usize("BENCH_SUBSCRIBERS", 10) {
        subscribers.push(subscribe(&server.address, &token).await);
    }
    // Let the subscriptions reach the event bus before the first write.
    tokio::time::sleep(Duration::from_secs(1)).await;

    let committed = Arc::new(Mutex::new(HashSet::new()));
    let mut client = Client {
        http,
        url: format!("http://{}/graphql", server.address),
        token: token.clone(),
        partners: Arc::new(Vec::new()),
    };
    // Partners to read.
    let seed = closed_loop(&client, 4, Duration::MAX, 200, &committed)
        .await
        .0;
    assert_eq!(seed.accepted, 200, "seeding failed");
    client.partners = Arc::new(committed.lock().unwrap().iter().cloned().collect());

    let unloaded = closed_loop(
        &client,
        1,
        Duration::MAX,
        env_usize("BENCH_UNLOADED", 1_000),
        &committed,
    )
    .await
    .0;
    let seconds = env_usize("BENCH_SECONDS", 60).max(1);
    let workers = env_usize("BENCH_CONCURRENCY", 16);
    let sustain_for = Duration::from_secs((seconds as u64 / 10).max(5));
    let (sustained, took) =
        closed_loop(&client, workers, sustain_for, usize::MAX, &committed).await;
    let sustainable = sustained.accepted as f64 / took.as_secs_f64();

    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_before = server.rss_mib();
    let shed_before = server
        .metric("partnergraph_requests_shed_total{reason=\"overloaded\"}")
        .await;
    let rate = 2.0 * sustainable;
    let (overload, late) = open_loop(
        &client,
        rate,
        Duration::from_secs(seconds as u64),
        1_000_000,
        &committed,
    )
    .await;
    let shed_counted = server
        .metric("partnergraph_requests_shed_total{reason=\"overloaded\"}")
        .await
        - shed_before;
    let rss_peak_after = server.rss_mib();

    // Every acknowledged write's event, to every subscriber and the receiver.
    let committed = committed.lock().unwrap().clone();
    let drained_by = Instant::now() + Duration::from_secs(120);
    let missing = |seen: &Seen| seen.missing(&committed);
    while Instant::now() < drained_by
        && (subscribers.iter().any(|s| missing(s) > 0) || missing(&webhook_seen) > 0)
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let subscriber_missing: usize = subscribers.iter().map(missing).sum();
    let webhook_missing = missing(&webhook_seen);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let rss_idle = server.rss_mib();

    let attempted = overload.accepted
        + overload.shed.values().sum::<usize>()
        + overload.timeouts
        + overload.failed.values().sum::<usize>();
    let ratio = overload.p99_ms() / unloaded.p99_ms();
    let settings = if limits.is_empty() {
        "server defaults".to_owned()
    } else {
        limits.join(" ")
    };
    println!(
        "\n## Results ({})\n",
        if postgres.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );
    println!(
        "admission: {settings}; subscribers: {}; webhook endpoint: 1",
        subscribers.len()
    );
    println!(
        "unloaded (1 at a time, {} requests): p50 {:.2} ms   p99 {:.2} ms",
        unloaded.accepted,
        unloaded.p50_ms(),
        unloaded.p99_ms()
    );
    println!(
        "sustainable (closed loop, {workers} clients, {:.0} s): {sustainable:.0} req/s   p99 {:.2} ms   shed {}",
        took.as_secs_f64(),
        sustained.p99_ms(),
        sustained.shed.values().sum::<usize>()
    );
    println!(
        "overload (open loop at {rate:.0} req/s for {seconds} s; {late} sent late): {attempted} requests"
    );
    println!(
        "  accepted {}   shed 503 {} ({shed_counted:.0} counted by /metrics)   shed 429 {}   timeouts {}   other failures {:?}",
        overload.accepted,
        overload.shed(503),
        overload.shed(429),
        overload.timeouts,
        overload.failed
    );
    println!(
        "  accepted latency: p50 {:.2} ms   p99 {:.2} ms = {ratio:.2}× the unloaded p99 (target ≤ 3×)",
        overload.p50_ms(),
        overload.p99_ms()
    );
    println!(
        "events: {} acknowledged writes; missing at subscribers {subscriber_missing} (of {} × {}), at the webhook receiver {webhook_missing}",
        committed.len(),
        subscribers.len(),
        committed.len()
    );
    println!(
        "server RSS: before overload {rss_before:.1} MiB   at its end {rss_peak_after:.1} MiB   idle again {rss_idle:.1} MiB ({:+.1} %)",
        (rss_idle / rss_before - 1.0) * 100.0
    );
    println!("\n## Summary (markdown)\n");
    println!("| Backend | Unloaded p99 | Sustainable | Offered | Accepted | Shed 503/429 | Timeouts | Accepted p99 (× unloaded) | Missing events | RSS before → idle after |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    println!(
        "| {} | {:.2} ms | {sustainable:.0}/s | {rate:.0}/s × {seconds} s | {} | {}/{} | {} | {:.2} ms ({ratio:.1}×) | {} | {rss_before:.0} → {rss_idle:.0} MiB ({:+.0} %) |",
        if postgres.is_some() { "PostgreSQL" } else { "SQLite" },
        unloaded.p99_ms(),
        overload.accepted,
        overload.shed(503),
        overload.shed(429),
        overload.timeouts,
        overload.p99_ms(),
        subscriber_missing + webhook_missing,
        (rss_idle / rss_before - 1.0) * 100.0
    );
    drop(server);
}

fn main() {
    println!("# PartnerGraph load benchmark: shedding at twice the sustainable throughput");
    println!("machine: {}", machine());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "load average at start: {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}
