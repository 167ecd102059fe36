//! Webhooks (SPEC §6): the outbox fanned out to registered endpoints,
//! signed the Standard Webhooks way, delivered at least once with retries.
//!
//! - [`dispatch`] turns outbox events into deliveries (one per endpoint that
//!   wants the event and may see it, in its view), under the cursor row lock;
//! - [`deliver`] claims due deliveries with a lease and sends them;
//! - [`signing`] is the `webhook-signature` header and the `whsec_` secrets;
//! - [`target`] is the SSRF guard for URLs and resolved addresses.
//!
//! Everything lives in the database, so a crash or restart loses nothing
//! and several replicas share the work.

pub mod deliver;
pub mod dispatch;
pub mod secrets;
pub mod signing;
pub mod target;

use std::{
    sync::{Arc, LazyLock},
    time::Duration as StdDuration,
};

use chrono::Duration;
pub use entity::enums::{DeliveryStatus, DisabledReason, EventType};
use entity::webhook_endpoint;
use sea_orm::DatabaseConnection;
use serde_json::{json, Value};

use crate::{
    clock::SharedClock,
    ids::{self, NodeType},
};

/// How long the secret before a rotation keeps signing.
pub const ROTATION_OVERLAP: Duration = Duration::hours(24);

/// The endpoint as audit entries and events record it (never its secrets),
/// keyed by GraphQL field names so the partner view can project it.
pub fn snapshot(endpoint: &webhook_endpoint::Model) -> Value {
    json!({
        "id": ids::encode(NodeType::WebhookEndpoint, endpoint.id),
        "url": endpoint.url,
        "description": endpoint.description,
        "eventTypes": event_types(endpoint),
        "enabled": endpoint.enabled,
        "disabledReason": endpoint.disabled_reason,
        "partnerId": endpoint.partner_id.map(|id| ids::encode(NodeType::Partner, id)),
        "version": endpoint.version,
    })
}

crate::versioned_record!(webhook_endpoint, WebhookEndpoint, snapshot);

/// The event types an endpoint receives. Its `event_types` column holds
/// their names space-separated; this and [`stored_event_types`] are the only
/// code that reads or writes it (names were checked when stored).
pub fn event_types(endpoint: &webhook_endpoint::Model) -> Vec<EventType> {
    endpoint
        .event_types
        .split(' ')
        .filter_map(|name| name.parse().ok())
        .collect()
}

/// The `event_types` column for `types`.
pub fn stored_event_types(types: &[EventType]) -> String {
    types
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Bumped when deliveries become due in this process, so its worker does
/// not wait for the next poll.
static ADDED: LazyLock<tokio::sync::watch::Sender<u64>> =
    LazyLock::new(|| tokio::sync::watch::channel(0).0);

/// New deliveries are due now (dispatched, a test, a redelivery).
pub fn deliveries_added() {
    ADDED.send_modify(|n| *n = n.wrapping_add(1));
}

/// How this process delivers webhooks.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The SSRF guard.
    pub targets: target::TargetPolicy,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// How often to look for work without a wake-up (other replicas' commits, due retries).
    pub poll: StdDuration,
    /// How long a claim holds before another replica may take the delivery over.
    pub lease: Duration,
    /// Per attempt.
    pub timeout: StdDuration,
    /// Names this process in leases and attempts.
    pub replica: String,
    /// On shutdown, how long attempts in flight may run on before they are
    /// cut off and their claims released for another replica.
    pub shutdown_drain: StdDuration,
    /// Open the sealed signing secrets.
    pub keys: crate::secrets::SecretKeys,
    /// Where attempts are counted (the server's, in `serve`).
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl Settings {
    pub fn new(targets: target::TargetPolicy) -> Self {
        Self {
            targets,
            concurrency: 128,
            poll: StdDuration::from_millis(500),
            lease: Duration::seconds(30),
            timeout: StdDuration::from_secs(10),
            replica: format!(
                "pid{}-{}",
                std::process::id(),
                &uuid::Uuid::new_v4().simple().to_string()[..8]
            ),
            shutdown_drain: StdDuration::from_secs(5),
            keys: crate::secrets::SecretKeys::ephemeral(),
            metrics: Arc::default(),
        }
    }
}

/// The HTTP client deliveries go through: 10 s timeout, no redirects
/// followed, and DNS answers checked by the SSRF guard.
pub fn http_client(settings: &Settings) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(settings.timeout)
        .connect_timeout(settings.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(target::resolver(settings.targets))
        .user_agent(concat!("PartnerGraph-Webhooks/", env!("CARGO_PKG_VERSION")))
        .pool_max_idle_per_host(settings.concurrency)
        .build()
}

/// The dispatcher and the delivery worker of one process; stopped at once
/// when dropped, or cleanly by [`Runtime::shutdown`].
pub struct Runtime {
    dispatcher: tokio::task::JoinHandle<()>,
    worker: tokio::task::JoinHandle<()>,
    stop: tokio::sync::watch::Sender<bool>,
}

impl Runtime {
    /// Stops cleanly (SPEC §8): no new claims; attempts in flight finish
    /// within [`Settings::shutdown_drain`] or are cut off, and every claim
    /// this process still holds is released, so another replica retries it
    /// at once instead of waiting out the lease.
    pub async fn shutdown(mut self) {
        self.dispatcher.abort();
        self.stop.send_replace(true);
        let _ = (&mut self.worker).await;
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.dispatcher.abort();
        self.worker.abort();
    }
}

/// Starts the dispatcher (woken by local commits and a short poll, so other
/// replicas' events are picked up too) and the delivery worker.
pub fn spawn(
    db: DatabaseConnection,
    clock: SharedClock,
    settings: Settings,
) -> Result<Runtime, reqwest::Error> {
    let worker = Arc::new(deliver::Worker {
        client: http_client(&settings)?,
        db: db.clone(),
        clock: clock.clone(),
        settings: settings.clone(),
    });
    let dispatcher = {
        let mut committed = crate::signal::committed();
        tokio::spawn(async move {
            loop {
                match dispatch::dispatch_all(&db, clock.now()).await {
                    Ok(done) if done.deliveries > 0 => deliveries_added(),
                    Ok(_) => {}
                    Err(error) => tracing::error!(%error, "webhook dispatch failed; retrying"),
                }
                tokio::select! {
                    changed = committed.changed() => if changed.is_err() { return },
                    () = tokio::time::sleep(settings.poll) => {}
                }
            }
        })
    };
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(deliver::run(worker, ADDED.subscribe(), stopping));
    Ok(Runtime {
        dispatcher,
        worker,
        stop,
    })
}
