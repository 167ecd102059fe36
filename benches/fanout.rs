//! Fan-out of one event to many WebSocket subscribers on one server process
//! (SPEC §6, issue 6): the real `partnergraph` binary on a SQLite file, N
//! `graphql-transport-ws` clients in this process subscribed to
//! `events(types: ["partner.tier_changed"])`, then a series of partner tier
//! changes. For each change, every subscriber's delivery latency is measured
//! from the moment the mutation was sent (so it includes the mutation's own
//! HTTP round trip and commit), and the server's resident memory is read
//! from /proc.
//!
//! `cargo bench --bench fanout` (BENCH_SUBSCRIBERS, default 10,000;
//! BENCH_EVENTS, default 20).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use common::{env_usize, histogram, machine, TestDatabase};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::{mpsc, Semaphore};
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};

const BINARY: &str = env!("CARGO_BIN_EXE_partnergraph");

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

async fn start_server(database_url: &str) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("127.0.0.1:{port}");
    let child = Command::new(BINARY)
        .args(["serve", "--listen", &address, "--jobs-interval", "0"])
        // One principal opens every subscription here; its query-cost
        // budget is not what this measures.
        .args(["--query-cost-budget", "0"])
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        // PostgreSQL needs the server key that seals webhook secrets.
        .env(
            "PARTNERGRAPH_SECRET_KEY",
            "YmVuY2htYXJrLXNlcnZlci1rZXktMzItYnl0ZXMhISE=",
        )
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server { child, address };
    let client = reqwest::Client::new();
    for _ in 0..200 {
        let ready = client
            .get(format!("http://{}/readyz", server.address))
            .send()
            .await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not become ready");
}

async fn graphql(address: &str, token: &str, query: &str, variables: Value) -> Value {
    let body: Value = reqwest::Client::new()
        .post(format!("http://{address}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(body["errors"].is_null(), "{body}");
    body["data"].clone()
}

/// One subscriber: connects, subscribes, then reports the arrival time of
/// each event it receives, numbered in arrival order.
async fn subscriber(
    address: String,
    token: String,
    ready: mpsc::UnboundedSender<()>,
    arrivals: mpsc::UnboundedSender<(usize, Instant)>,
) {
    let mut request = format!("ws://{address}/graphql")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } });
    socket
        .send(Message::Text(init.to_string().into()))
        .await
        .unwrap();
    let _ack = socket.next().await;
    let subscribe = json!({ "type": "subscribe", "id": "1", "payload": {
        "query": "subscription { events(types: [\"partner.tier_changed\"]) { cursor type data } }" } });
    socket
        .send(Message::Text(subscribe.to_string().into()))
        .await
        .unwrap();
    let _ = ready.send(());
    let mut seen = 0;
    while let Some(Ok(message)) = socket.next().await {
        if let Message::Text(text) = message {
            if text.contains("\"next\"") {
                let _ = arrivals.send((seen, Instant::now()));
                seen += 1;
            }
        }
    }
}

async fn run(subscribers: usize, events: usize) {
    // Migrated by the binary, as an operator would.
    let database = TestDatabase::sqlite();
    let database_url = database.url();
    cli(database_url, &["migrate"]);
    let token = cli(database_url, &["token", "create", "--role", "ADMIN"]);
    let server = start_server(database_url).await;
    let (idle_rss, _) = server.memory_mib();
    let partner = graphql(
        &server.address,
        &token,
        "mutation { createPartner(input: { name: \"Fan-out\", type: RESELLER }) { partner { id version } } }",
        json!({}),
    )
    .await["createPartner"]["partner"]
        .clone();

    let connect_started = Instant::now();
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel();
    let (arrivals_tx, mut arrivals_rx) = mpsc::unbounded_channel();
    let connecting = Arc::new(Semaphore::new(256));
    for _ in 0..subscribers {
        let permit = connecting.clone().acquire_owned().await.unwrap();
        let (address, token) = (server.address.clone(), token.clone());
        let (ready, arrivals) = (ready_tx.clone(), arrivals_tx.clone());
        tokio::spawn(async move {
            let (signal, mut subscribed) = mpsc::unbounded_channel();
            let task = tokio::spawn(subscriber(address, token, signal, arrivals));
            let _ = subscribed.recv().await;
            drop(permit);
            let _ = ready.send(());
            let _ = task.await;
        });
    }
    for _ in 0..subscribers {
        ready_rx.recv().await.unwrap();
    }
    // Let the last subscriptions reach the bus.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let connect_secs = connect_started.elapsed().as_secs_f64();
    let (connected_rss, _) = server.memory_mib();

    let mut latency = histogram();
    let mut mutation = histogram();
    let first_version = partner["version"].as_i64().unwrap();
    let mut missing = 0usize;
    for (index, version) in (0..events).zip(first_version..) {
        let tier = if index % 2 == 0 { "GOLD" } else { "SILVER" };
        let sent = Instant::now();
        graphql(
            &server.address,
            &token,
            "mutation($id: ID!, $v: Int!, $tier: PartnerTier!) { updatePartner(input: { id: $id, expectedVersion: $v, tier: $tier }) { partner { version } } }",
            json!({ "id": partner["id"], "v": version, "tier": tier }),
        )
        .await;
        mutation
            .record(sent.elapsed().as_micros().max(1) as u64)
            .unwrap();
        let mut received = 0;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while received < subscribers {
            match tokio::time::timeout_at(deadline, arrivals_rx.recv()).await {
                Ok(Some((seen, at))) => {
                    assert_eq!(seen, index, "events arrive in order, once each");
                    latency
                        .record(at.duration_since(sent).as_micros().max(1) as u64)
                        .unwrap();
                    received += 1;
                }
                _ => break,
            }
        }
        missing += subscribers - received;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (after_rss, peak_rss) = server.memory_mib();
    let ms = |h: &hdrhistogram::Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1000.0;

    println!("\n## Results\n");
    println!("subscribers connected: {subscribers} in {connect_secs:.1} s");
    println!(
        "events: {events}; deliveries: {}; missing: {missing}",
        latency.len()
    );
    println!(
        "delivery latency from the mutation's start: p50 {:.1} ms   p99 {:.1} ms   max {:.1} ms",
        ms(&latency, 0.5),
        ms(&latency, 0.99),
        latency.max() as f64 / 1000.0
    );
    println!(
        "the mutation itself (HTTP round trip incl. commit): p50 {:.1} ms   p99 {:.1} ms",
        ms(&mutation, 0.5),
        ms(&mutation, 0.99)
    );
    println!(
        "server RSS: idle {idle_rss:.1} MiB   with subscribers {connected_rss:.1} MiB   after fan-out {after_rss:.1} MiB   peak {peak_rss:.1} MiB"
    );
    println!("\n## Summary (markdown)\n");
    println!("| Subscribers | Events | Deliveries | p50 (ms) | p99 (ms) | max (ms) | Server RSS idle → subscribed → peak |");
    println!("|---:|---:|---:|---:|---:|---:|---|");
    println!(
        "| {subscribers} | {events} | {} | {:.1} | {:.1} | {:.1} | {idle_rss:.0} → {connected_rss:.0} → {peak_rss:.0} MiB |",
        latency.len(),
        ms(&latency, 0.5),
        ms(&latency, 0.99),
        latency.max() as f64 / 1000.0
    );
    println!(
        "\nRequirement: p99 delivery under 250 ms and under 300 MB of server memory with 10,000 subscribers."
    );
}

fn main() {
    let subscribers = env_usize("BENCH_SUBSCRIBERS", 10_000);
    let events = env_usize("BENCH_EVENTS", 20);
    println!("# PartnerGraph WebSocket fan-out benchmark");
    println!("machine: {}", machine());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(subscribers, events));
}
