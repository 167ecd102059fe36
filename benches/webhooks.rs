//! Webhook delivery throughput and commit-to-first-attempt latency.
//!
//! Runs on PostgreSQL when `BENCH_POSTGRES_URL` (or `TEST_POSTGRES_URL`) is
//! set, else on a SQLite file. A fresh database gets the real migrations and
//! one staff endpoint pointing at an axum receiver on loopback, which answers
//! 200 and notes when each `webhook-id` arrived. Then:
//!
//! * **Throughput**: `BENCH_DELIVERIES` events (default 5,000) are committed
//!   through the unit of work and dispatched into deliveries; the real
//!   worker (claims with a lease, signs, POSTs, records each attempt) is
//!   started and timed until the receiver has every one.
//! * **Baseline**: the same number of signed POSTs of the same bodies, sent
//!   by a bare reqwest client with the same concurrency and no database: the
//!   ceiling the HTTP side alone allows on this machine.
//! * **Latency**: `BENCH_LATENCY_EVENTS` single-event commits (default 300),
//!   one after another with the dispatcher and worker running, each timed
//!   from its commit returning to its request reaching the receiver.
//!
//! Run with `cargo bench --bench webhooks`. Receiver, server side and client
//! share this process and the machine's cores.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Benchmarks create databases and seed rows directly.
#![allow(clippy::disallowed_methods)]

mod common;

use common::*;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{extract::State, http::HeaderMap, routing::post, Router};
use chrono::Utc;
use entity::webhook_endpoint;
use partnergraph::{
    clock::{Clock, SystemClock},
    domain::{EventType, SubjectType},
    unit_of_work::{Actor, Event, UnitOfWork},
    webhooks::{self, dispatch, signing, target::TargetPolicy, Settings},
};
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};
use serde_json::json;
use uuid::Uuid;

/// When each webhook-id first arrived, and how many requests came.
#[derive(Clone, Default)]
struct Arrivals(Arc<Mutex<(HashMap<String, Instant>, usize)>>);

impl Arrivals {
    fn count(&self) -> usize {
        self.0.lock().unwrap().1
    }

    fn of(&self, id: &str) -> Option<Instant> {
        self.0.lock().unwrap().0.get(id).copied()
    }

    async fn wait_for(&self, count: usize) {
        while self.count() < count {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

async fn receive(State(arrivals): State<Arrivals>, headers: HeaderMap) -> &'static str {
    let now = Instant::now();
    let id = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut guard = arrivals.0.lock().unwrap();
    guard.0.entry(id).or_insert(now);
    guard.1 += 1;
    "ok"
}

async fn start_receiver() -> (String, Arrivals) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let arrivals = Arrivals::default();
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(arrivals.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}/hook"), arrivals)
}

async fn add_endpoint(db: &DatabaseConnection, url: &str) -> String {
    let secret = signing::new_secret();
    let now = SystemClock.now();
    webhook_endpoint::ActiveModel {
        id: Set(Uuid::now_v7()),
        partner_id: Set(None),
        url: Set(url.to_owned()),
        description: Set(Some("benchmark".into())),
        event_types: Set("partner.created".into()),
        enabled: Set(true),
        disabled_reason: Set(None),
        secret: Set(secret.clone()),
        previous_secret: Set(None),
        previous_secret_expires_at: Set(None),
        failing_since: Set(None),
        starts_after_event: Set(0),
        version: Set(1),
        created_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .unwrap();
    secret
}

/// Commits `count` events, `per_commit` to a unit of work.
async fn commit_events(db: &DatabaseConnection, count: usize, per_commit: usize) {
    let mut left = count;
    while left > 0 {
        let uow = UnitOfWork::begin(db, Actor::system(), SystemClock.now())
            .await
            .unwrap();
        for _ in 0..per_commit.min(left) {
            uow.emit(event()).await.unwrap();
        }
        left -= per_commit.min(left);
        uow.commit().await.unwrap();
    }
}

fn event() -> Event {
    Event {
        event_type: EventType::PartnerCreated,
        subject_type: SubjectType::Partner,
        subject_id: Uuid::now_v7(),
        partner_id: None,
        payload: json!({ "partner": { "id": Uuid::now_v7().to_string(), "name": "Benchmark Partner", "tier": "BRONZE", "status": "PROSPECT" } }),
    }
}

fn settings() -> Settings {
    Settings::new(TargetPolicy {
        allow_private: true,
    })
}

/// The same signed POSTs without any database, at the same concurrency.
async fn baseline(url: &str, secret: &str, count: usize, arrivals: &Arrivals) -> Duration {
    let settings = settings();
    let client = webhooks::http_client(&settings).unwrap();
    let body = dispatch::body(EventType::PartnerCreated, Utc::now(), event().payload);
    let before = arrivals.count();
    let permits = Arc::new(tokio::sync::Semaphore::new(settings.concurrency));
    let started = Instant::now();
    for _ in 0..count {
        let permit = permits.clone().acquire_owned().await.unwrap();
        let (client, url, body, secret) = (
            client.clone(),
            url.to_owned(),
            body.clone(),
            secret.to_owned(),
        );
        tokio::spawn(async move {
            let id = format!("msg_{}", Uuid::now_v7().simple());
            let timestamp = Utc::now().timestamp();
            let signature = signing::signature_header(&[&secret], &id, timestamp, &body).unwrap();
            client
                .post(url)
                .header("webhook-id", id)
                .header("webhook-timestamp", timestamp.to_string())
                .header("webhook-signature", signature)
                .body(body)
                .send()
                .await
                .unwrap();
            drop(permit);
        });
    }
    arrivals.wait_for(before + count).await;
    started.elapsed()
}

struct Results {
    backend: &'static str,
    deliveries: usize,
    dispatch: Duration,
    deliver: Duration,
    baseline: Duration,
    latency: Run,
}

async fn run(postgres: Option<&str>, deliveries: usize, latency_events: usize) -> Results {
    let database = bench_database(postgres).await;
    let db = database.migrated().await;
    let (url, arrivals) = start_receiver().await;
    let secret = add_endpoint(&db, &url).await;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);

    // Throughput: deliveries waiting, then the worker let loose on them.
    commit_events(&db, deliveries, 100).await;
    let started = Instant::now();
    let dispatched = dispatch::dispatch_all(&db, clock.now()).await.unwrap();
    let dispatch = started.elapsed();
    assert_eq!(dispatched.deliveries, deliveries);
    let started = Instant::now();
    let runtime = webhooks::spawn(db.clone(), clock.clone(), settings()).unwrap();
    arrivals.wait_for(deliveries).await;
    let deliver = started.elapsed();

    // Latency: one commit at a time, timed to its arrival.
    let mut histogram = histogram();
    for _ in 0..latency_events {
        let uow = UnitOfWork::begin(&db, Actor::system(), clock.now())
            .await
            .unwrap();
        uow.emit(event()).await.unwrap();
        let before = arrivals.count();
        uow.commit().await.unwrap();
        let committed = Instant::now();
        arrivals.wait_for(before + 1).await;
        let id = latest_delivery_id(&db).await;
        let arrived = arrivals.of(&id).unwrap();
        histogram
            .record(arrived.duration_since(committed).as_micros().max(1) as u64)
            .unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    drop(runtime);
    let latency = Run {
        elapsed: Duration::ZERO,
        histogram,
    };
    let baseline = baseline(&url, &secret, deliveries, &arrivals).await;
    Results {
        backend: if postgres.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        deliveries,
        dispatch,
        deliver,
        baseline,
        latency,
    }
}

async fn latest_delivery_id(db: &DatabaseConnection) -> String {
    use sea_orm::{EntityTrait, QueryOrder};
    let delivery = entity::webhook_delivery::Entity::find()
        .order_by_desc(entity::webhook_delivery::Column::CreatedAt)
        .order_by_desc(entity::webhook_delivery::Column::Id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    webhooks::deliver::message_id(delivery.id)
}

fn main() {
    let deliveries = env_usize("BENCH_DELIVERIES", 5_000);
    let latency_events = env_usize("BENCH_LATENCY_EVENTS", 300);
    let postgres = postgres_url();
    let machine = machine();
    println!("# PartnerGraph webhook benchmark");
    println!("machine: {machine}");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let r = runtime.block_on(run(postgres.as_deref(), deliveries, latency_events));
    let per_second = |d: Duration| r.deliveries as f64 / d.as_secs_f64();
    println!("\n## Summary (markdown)\n");
    println!(
        "Webhooks on {} to a loopback receiver, {} deliveries, on {machine}:\n",
        r.backend, r.deliveries
    );
    println!("| measure | figure |");
    println!("|---|---|");
    println!(
        "| signed deliveries per second (claim, sign, POST, record) | {:.0}/s |",
        per_second(r.deliver)
    );
    println!(
        "| baseline: bare signed POSTs, no database | {:.0}/s ({:.2}x of it) |",
        per_second(r.baseline),
        per_second(r.deliver) / per_second(r.baseline)
    );
    println!(
        "| dispatch (outbox to deliveries) | {:.0} events/s |",
        per_second(r.dispatch)
    );
    println!(
        "| commit to first attempt, p50 / p99 ({} events) | {:.1} ms / {:.1} ms |",
        r.latency.histogram.len(),
        r.latency.p50_ms(),
        r.latency.p99_ms()
    );
}
