//! Logs through `tracing`: human-readable by default, JSON lines with
//! `LOG_FORMAT=json`, filtered by `RUST_LOG`. Traces, when an OTLP endpoint
//! is given (`--otlp-endpoint` / `OTEL_EXPORTER_OTLP_ENDPOINT`), go out by
//! OTLP/HTTP (protobuf) from our own spans: `request` (with `request_id`)
//! → `graphql` (operation name and type) → `service` (a mutation's use
//! case) → `sql` (each statement, recorded when it finishes, with its
//! duration). Nothing is exported otherwise.

use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::{trace::SdkTracerProvider, Resource};
use tracing_subscriber::{
    filter::Targets, fmt, layer::SubscriberExt, util::SubscriberInitExt, EnvFilter, Layer,
};

/// Libraries whose most detailed logs carry message contents, and so
/// tokens: tungstenite logs every WebSocket message it receives at `trace`
/// (`connection_init` holds the bearer token). Capped below that whatever
/// `RUST_LOG` asks, because secrets never appear in logs (SPEC §8);
/// `tests/api/secrets.rs` reads a `trace` log for every secret it issued.
const NEVER_BELOW: &[&str] = &["tungstenite=debug"];

/// Keeps the trace exporter; flushes what it holds when dropped (at exit).
pub struct Telemetry(Option<SdkTracerProvider>);

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.0.take() {
            if let Err(error) = provider.shutdown_with_timeout(Duration::from_secs(2)) {
                eprintln!("traces not flushed: {error}");
            }
        }
    }
}

/// The OTLP/HTTP exporter for `endpoint` (the collector's base URL, as
/// `OTEL_EXPORTER_OTLP_ENDPOINT` gives it; traces go to `/v1/traces`).
fn tracer_provider(endpoint: &str) -> Result<SdkTracerProvider, String> {
    let url = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(url)
        .with_timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| e.to_string())?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            Resource::builder()
                .with_service_name("partnergraph")
                .build(),
        )
        .build())
}

pub fn init(otlp_endpoint: Option<&str>) -> Telemetry {
    let mut filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    for directive in NEVER_BELOW {
        if let Ok(directive) = directive.parse() {
            filter = filter.add_directive(directive);
        }
    }
    let json = std::env::var("LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let logs = if json {
        fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_writer(std::io::stderr)
            .boxed()
    } else {
        fmt::layer().with_writer(std::io::stderr).boxed()
    };
    let (provider, problem) = match otlp_endpoint.filter(|e| !e.trim().is_empty()) {
        None => (None, None),
        Some(endpoint) => match tracer_provider(endpoint) {
            Ok(provider) => (Some(provider), None),
            Err(error) => (None, Some(error)),
        },
    };
    // Our spans only, whatever RUST_LOG says: the trace is the request's way
    // through this code, not the libraries' inner workings.
    let traces = provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("partnergraph"))
            .with_filter(Targets::new().with_target("partnergraph", tracing::Level::DEBUG))
    });
    // A second init (tests start several servers) is not an error.
    let _ = tracing_subscriber::registry()
        .with(logs.with_filter(filter))
        .with(traces)
        .try_init();
    if let Some(problem) = problem {
        tracing::error!(%problem, "cannot export traces; running without");
    }
    Telemetry(provider)
}
