//! Prometheus metrics (SPEC §8), served as text on `GET /metrics`.
//!
//! One registry per `AppState`, not a process global, so tests that start
//! several servers in one process each count their own. Three kinds of
//! figures:
//!
//! - counted where they happen: requests and their latency, SQL statements,
//!   webhook attempts by outcome, job runs and the rows they handled, token
//!   cache hits and misses, query-cost throttles, requests shed under load
//!   (`http::admission`); open WebSocket sessions and
//!   subscriptions (gauges held up by [`Held`] guards);
//! - read at scrape time ([`Sampled`]): the outbox head and what the event
//!   bus and the webhook dispatcher have reached (the lag), pending and
//!   failed deliveries, the database pool. `http::health::metrics` reads them
//!   through a connection whose statements are not counted, so a scrape does
//!   not move `sql_statements_total`;
//! - the process (`process_cpu_seconds_total`, `process_resident_memory_bytes`,
//!   `process_open_fds`, …) by the prometheus crate's process collector,
//!   under the standard names, unprefixed.
//!
//! Every other name starts `partnergraph_`.

use std::time::Duration;

use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec,
    Opts, Registry, TextEncoder,
};
use sea_orm::DatabaseConnection;

/// The metrics of one server. Building them cannot fail in practice (fixed
/// names, fresh registry); if it ever did, the server runs without metrics
/// rather than not at all.
pub struct Metrics(Option<Inner>);

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

struct Inner {
    registry: Registry,
    /// The process collector, under its standard (unprefixed) names.
    process: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    sql_statements: IntCounterVec,
    websocket_sessions: IntGauge,
    subscriptions: IntGauge,
    webhook_attempts: IntCounterVec,
    job_runs: IntCounterVec,
    job_items: IntCounterVec,
    token_cache: IntCounterVec,
    throttled: IntCounterVec,
    shed: IntCounterVec,
    in_flight: IntGauge,
    outbox_head: IntGauge,
    outbox_bus: IntGauge,
    outbox_lag_events: IntGauge,
    outbox_lag_seconds: Gauge,
    dispatch_lag_events: IntGauge,
    deliveries: IntGaugeVec,
    pool: IntGaugeVec,
}

/// What a scrape reads from the database and the process.
#[derive(Debug, Default, Clone, Copy)]
pub struct Sampled {
    /// The newest committed outbox cursor.
    pub outbox_head: i64,
    /// The last cursor the event bus broadcast (`None`: no bus in this process yet).
    pub bus_cursor: Option<i64>,
    /// How old the oldest event the bus has not broadcast is.
    pub bus_lag_seconds: f64,
    /// The webhook dispatcher's cursor.
    pub dispatch_cursor: i64,
    pub pending_deliveries: i64,
    pub failed_deliveries: i64,
    pub pool_in_use: i64,
    pub pool_idle: i64,
}

/// Why work was turned away: the `reason` of `requests_shed_total`.
#[derive(Debug, Clone, Copy)]
pub enum Shed {
    /// No slot for a GraphQL request freed up within the queue wait (503).
    Overloaded,
    /// The WebSocket connection limit was reached (503 before the upgrade).
    WebSocketLimit,
    /// The principal's query-cost budget could not pay (429 `RATE_LIMITED`).
    RateLimited,
}

impl Shed {
    const ALL: [Shed; 3] = [Shed::Overloaded, Shed::WebSocketLimit, Shed::RateLimited];

    fn label(self) -> &'static str {
        match self {
            Shed::Overloaded => "overloaded",
            Shed::WebSocketLimit => "websocket_limit",
            Shed::RateLimited => "rate_limited",
        }
    }
}

/// Holds a gauge one higher while it lives (an open socket, a running subscription).
pub struct Held(Option<IntGauge>);

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(gauge) = &self.0 {
            gauge.dec();
        }
    }
}

impl Metrics {
    pub fn new() -> Self {
        match Inner::new() {
            Ok(inner) => Self(Some(inner)),
            Err(error) => {
                tracing::error!(%error, "metrics unavailable");
                Self(None)
            }
        }
    }

    /// Counts every statement run through `db` and the handles cloned from it afterwards.
    pub fn observe_sql(&self, db: &mut DatabaseConnection) {
        let Some(inner) = &self.0 else { return };
        let ok: IntCounter = inner.sql_statements.with_label_values(&["ok"]);
        let failed: IntCounter = inner.sql_statements.with_label_values(&["error"]);
        db.set_metric_callback(move |info| {
            if info.failed {
                failed.inc();
            } else {
                ok.inc();
            }
            // A span per statement for traces, made when it has finished
            // (SeaORM reports statements then), so its duration is an
            // attribute. The SQL has placeholders, never values.
            let span = tracing::debug_span!(
                "sql",
                db.statement = %info.statement.sql,
                duration_ms = info.elapsed.as_secs_f64() * 1000.0,
                failed = info.failed,
            );
            drop(span.enter());
        });
    }

    pub fn record_request(&self, operation_type: &str, outcome: &str, elapsed: Duration) {
        let Some(inner) = &self.0 else { return };
        inner
            .requests
            .with_label_values(&[operation_type, outcome])
            .inc();
        inner
            .latency
            .with_label_values(&[operation_type])
            .observe(elapsed.as_secs_f64());
    }

    fn hold(gauge: Option<&IntGauge>) -> Held {
        Held(gauge.map(|gauge| {
            gauge.inc();
            gauge.clone()
        }))
    }

    /// An open WebSocket connection, until the guard drops.
    pub fn websocket_session(&self) -> Held {
        Self::hold(self.0.as_ref().map(|i| &i.websocket_sessions))
    }

    /// A GraphQL request over HTTP admitted and running, until the guard drops.
    pub fn request_in_flight(&self) -> Held {
        Self::hold(self.0.as_ref().map(|i| &i.in_flight))
    }

    /// A running subscription operation, until the guard drops.
    pub fn subscription(&self) -> Held {
        Self::hold(self.0.as_ref().map(|i| &i.subscriptions))
    }

    /// One webhook attempt: `succeeded` (2xx), `failed` (another status) or
    /// `error` (no answer: refused, timed out, unreachable).
    pub fn webhook_attempt(&self, outcome: &str) {
        let Some(inner) = &self.0 else { return };
        inner.webhook_attempts.with_label_values(&[outcome]).inc();
    }

    /// One run of the scheduled jobs, `ok` or `error`.
    pub fn job_run(&self, outcome: &str) {
        let Some(inner) = &self.0 else { return };
        inner.job_runs.with_label_values(&[outcome]).inc();
    }

    /// Rows one job claimed and handled in a run.
    pub fn job_items(&self, job: &str, items: u64) {
        let Some(inner) = &self.0 else { return };
        inner.job_items.with_label_values(&[job]).inc_by(items);
    }

    /// A token lookup answered from memory (`hit`) or by the database (`miss`).
    pub fn token_cache(&self, hit: bool) {
        let Some(inner) = &self.0 else { return };
        let result = if hit { "hit" } else { "miss" };
        inner.token_cache.with_label_values(&[result]).inc();
    }

    /// A request refused by the query-cost budget (`RATE_LIMITED`).
    pub fn throttled(&self, operation_type: &str) {
        let Some(inner) = &self.0 else { return };
        inner.throttled.with_label_values(&[operation_type]).inc();
        inner
            .shed
            .with_label_values(&[Shed::RateLimited.label()])
            .inc();
    }

    /// A request or connection turned away before it ran (`http::admission`).
    pub fn shed(&self, reason: Shed) {
        let Some(inner) = &self.0 else { return };
        inner.shed.with_label_values(&[reason.label()]).inc();
    }

    /// The Prometheus text exposition of every metric, with `sampled` set first.
    pub fn render(&self, sampled: &Sampled) -> String {
        let Some(inner) = &self.0 else {
            return String::new();
        };
        inner.outbox_head.set(sampled.outbox_head);
        let bus = sampled.bus_cursor.unwrap_or(sampled.outbox_head);
        inner.outbox_bus.set(sampled.bus_cursor.unwrap_or_default());
        inner
            .outbox_lag_events
            .set((sampled.outbox_head - bus).max(0));
        inner
            .outbox_lag_seconds
            .set(sampled.bus_lag_seconds.max(0.0));
        inner
            .dispatch_lag_events
            .set((sampled.outbox_head - sampled.dispatch_cursor).max(0));
        inner
            .deliveries
            .with_label_values(&["pending"])
            .set(sampled.pending_deliveries);
        inner
            .deliveries
            .with_label_values(&["failed"])
            .set(sampled.failed_deliveries);
        inner
            .pool
            .with_label_values(&["in_use"])
            .set(sampled.pool_in_use);
        inner
            .pool
            .with_label_values(&["idle"])
            .set(sampled.pool_idle);
        let mut families = inner.process.gather();
        families.extend(inner.registry.gather());
        let mut buffer = Vec::new();
        if TextEncoder::new().encode(&families, &mut buffer).is_err() {
            return String::new();
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

fn counter(name: &str, help: &str, labels: &[&str]) -> Result<IntCounterVec, prometheus::Error> {
    IntCounterVec::new(Opts::new(name, help), labels)
}

fn gauge(name: &str, help: &str) -> Result<IntGauge, prometheus::Error> {
    IntGauge::with_opts(Opts::new(name, help))
}

impl Inner {
    fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("partnergraph".into()), None)?;
        let process = Registry::new();
        #[cfg(target_os = "linux")]
        process.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))?;
        let requests = counter(
            "graphql_requests_total",
            "GraphQL requests by operation type and outcome",
            &["operation_type", "outcome"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "graphql_request_duration_seconds",
                "GraphQL request latency",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["operation_type"],
        )?;
        let inner = Self {
            requests,
            latency,
            sql_statements: counter(
                "sql_statements_total",
                "SQL statements executed, by outcome",
                &["outcome"],
            )?,
            websocket_sessions: gauge(
                "websocket_sessions",
                "Open GraphQL WebSocket connections",
            )?,
            subscriptions: gauge(
                "graphql_subscriptions",
                "Subscription operations running over WebSocket",
            )?,
            webhook_attempts: counter(
                "webhook_attempts_total",
                "Webhook delivery attempts made by this process, by outcome: succeeded (2xx), failed (another status), error (no answer)",
                &["outcome"],
            )?,
            job_runs: counter(
                "jobs_runs_total",
                "Runs of the scheduled jobs (expiries, reminders, notices), by outcome",
                &["outcome"],
            )?,
            job_items: counter(
                "jobs_items_total",
                "Rows the scheduled jobs claimed and handled, by job",
                &["job"],
            )?,
            token_cache: counter(
                "token_cache_lookups_total",
                "Bearer token lookups, answered from memory (hit) or by the database (miss)",
                &["result"],
            )?,
            throttled: counter(
                "query_cost_throttled_total",
                "Requests refused by the query-cost budget (RATE_LIMITED), by operation type",
                &["operation_type"],
            )?,
            shed: counter(
                "requests_shed_total",
                "Requests and connections turned away before running, by reason: overloaded (503, no free slot within the queue wait), websocket_limit (503, too many open WebSockets), rate_limited (429, query-cost budget spent)",
                &["reason"],
            )?,
            in_flight: gauge(
                "graphql_requests_in_flight",
                "GraphQL requests over HTTP admitted and running (at most the in-flight limit)",
            )?,
            outbox_head: gauge(
                "outbox_head_cursor",
                "Cursor of the newest committed outbox event",
            )?,
            outbox_bus: gauge(
                "outbox_bus_cursor",
                "Cursor of the last event this process's event bus delivered to subscribers (0 before the first WebSocket)",
            )?,
            outbox_lag_events: gauge(
                "outbox_lag_events",
                "Committed events the event bus has not delivered yet (head minus bus cursor)",
            )?,
            outbox_lag_seconds: Gauge::with_opts(Opts::new(
                "outbox_lag_seconds",
                "Age of the oldest committed event the event bus has not delivered yet (0 when caught up)",
            ))?,
            dispatch_lag_events: gauge(
                "webhook_dispatch_lag_events",
                "Committed events the webhook dispatcher has not turned into deliveries yet",
            )?,
            deliveries: IntGaugeVec::new(
                Opts::new(
                    "webhook_deliveries",
                    "Webhook deliveries waiting for an attempt (pending) or given up (failed)",
                ),
                &["status"],
            )?,
            pool: IntGaugeVec::new(
                Opts::new(
                    "db_pool_connections",
                    "Database pool connections, in use or idle",
                ),
                &["state"],
            )?,
            registry,
            process,
        };
        let collectors: Vec<Box<dyn prometheus::core::Collector>> = vec![
            Box::new(inner.requests.clone()),
            Box::new(inner.latency.clone()),
            Box::new(inner.sql_statements.clone()),
            Box::new(inner.websocket_sessions.clone()),
            Box::new(inner.subscriptions.clone()),
            Box::new(inner.webhook_attempts.clone()),
            Box::new(inner.job_runs.clone()),
            Box::new(inner.job_items.clone()),
            Box::new(inner.token_cache.clone()),
            Box::new(inner.throttled.clone()),
            Box::new(inner.shed.clone()),
            Box::new(inner.in_flight.clone()),
            Box::new(inner.outbox_head.clone()),
            Box::new(inner.outbox_bus.clone()),
            Box::new(inner.outbox_lag_events.clone()),
            Box::new(inner.outbox_lag_seconds.clone()),
            Box::new(inner.dispatch_lag_events.clone()),
            Box::new(inner.deliveries.clone()),
            Box::new(inner.pool.clone()),
        ];
        for collector in collectors {
            inner.registry.register(collector)?;
        }
        // Labelled counters show from the start, at zero.
        for outcome in ["succeeded", "failed", "error"] {
            inner.webhook_attempts.with_label_values(&[outcome]);
        }
        for result in ["hit", "miss"] {
            inner.token_cache.with_label_values(&[result]);
        }
        for outcome in ["ok", "error"] {
            inner.job_runs.with_label_values(&[outcome]);
        }
        for reason in Shed::ALL {
            inner.shed.with_label_values(&[reason.label()]);
        }
        Ok(inner)
    }
}
