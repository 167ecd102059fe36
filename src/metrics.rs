//! Prometheus metrics (SPEC §8), served as text on `GET /metrics`.
//!
//! One registry per `AppState`, not a process global, so tests that start
//! several servers in one process each count their own.

use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry, TextEncoder,
};
use sea_orm::DatabaseConnection;

/// The metrics of one server. Building them cannot fail in practice (fixed
/// names, fresh registry); if it ever did, the server runs without metrics
/// rather than not at all.
pub struct Metrics(Option<Inner>);

struct Inner {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    sql_statements: IntCounterVec,
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
        db.set_metric_callback(move |info| if info.failed { failed.inc() } else { ok.inc() });
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

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let Some(inner) = &self.0 else {
            return String::new();
        };
        let mut buffer = Vec::new();
        if TextEncoder::new()
            .encode(&inner.registry.gather(), &mut buffer)
            .is_err()
        {
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

impl Inner {
    fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("partnergraph".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new(
                "graphql_requests_total",
                "GraphQL requests by operation type and outcome",
            ),
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
        let sql_statements = IntCounterVec::new(
            Opts::new(
                "sql_statements_total",
                "SQL statements executed, by outcome",
            ),
            &["outcome"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(sql_statements.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
            sql_statements,
        })
    }
}
