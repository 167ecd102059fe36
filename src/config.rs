//! Typed configuration, checked at start-up. No globals: it travels in `AppState`.

use std::{num::NonZeroU32, time::Duration};

/// Limits of SPEC §7. Each can be changed by flag or environment variable.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest request body in bytes.
    pub max_body_bytes: usize,
    /// Deepest nesting of data fields. Introspection (`__schema`, `__type`)
    /// has its own fixed bound instead (`graphql::document::depth`), so the
    /// query every tool sends always passes.
    pub max_depth: usize,
    /// Highest query complexity (a connection costs `first` × its selection).
    pub max_complexity: usize,
    /// Most aliases in one document.
    pub max_aliases: usize,
    /// Query-cost points one principal may spend in a burst; 0 turns the
    /// cost limit off. At least `max_complexity`, so every allowed query can run.
    pub query_cost_budget: u32,
    /// Points that flow back into a principal's budget per second.
    pub query_cost_refill_per_second: u32,
    /// Token endpoint requests per minute for one client id.
    pub token_requests_per_minute_per_client: NonZeroU32,
    /// Token endpoint requests per minute from one IP address.
    pub token_requests_per_minute_per_ip: NonZeroU32,
    /// GraphQL requests over HTTP that run at once (`http::admission`);
    /// `None`: [`IN_FLIGHT_PER_POOL_CONNECTION`] × the database pool.
    pub max_in_flight: Option<usize>,
    /// How long a request may wait for a free slot before it is answered
    /// 503: past it, the server is behind and queueing only adds latency.
    pub queue_wait: Duration,
    /// Open WebSocket connections; one more is answered 503 before the upgrade.
    pub max_websockets: usize,
}

/// Requests in flight per database connection by default: a request holds
/// a connection for part of its time only (parsing, serializing, DataLoader
/// waits), so a few per connection keep the pool busy without a long queue.
pub const IN_FLIGHT_PER_POOL_CONNECTION: usize = 4;

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            max_depth: 12,
            max_complexity: 25_000,
            max_aliases: 30,
            query_cost_budget: 100_000,
            query_cost_refill_per_second: 10_000,
            token_requests_per_minute_per_client: NonZeroU32::new(30).unwrap_or(NonZeroU32::MIN),
            token_requests_per_minute_per_ip: NonZeroU32::new(120).unwrap_or(NonZeroU32::MIN),
            max_in_flight: None,
            queue_wait: Duration::from_millis(100),
            max_websockets: 20_000,
        }
    }
}

/// What the server needs besides its database connection.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub limits: Limits,
    /// How long graceful shutdown waits for in-flight requests; below the
    /// 10 s in which SPEC §8 has the process exit.
    pub shutdown_grace: Duration,
    /// How long a WebSocket may stay open without `connection_init`.
    pub ws_init_timeout: Duration,
    /// How often open WebSocket sessions' tokens are checked for revocation
    /// and expiry (a revoked token's subscriptions end within this).
    pub session_check_interval: Duration,
    /// Let webhooks reach loopback, private and other internal addresses, and
    /// plain `http` (tests, private networks). Off: the SSRF guard refuses them.
    pub webhook_allow_private: bool,
    /// How long a token's successful lookup is remembered (`auth::cache`):
    /// other replicas honour a revoked token for at most this long. Zero
    /// asks the database on every request.
    pub token_cache_ttl: Duration,
    /// Partner tokens run only trusted documents, the operations registered
    /// by hash with `partnergraph documents add` (`http::persisted`).
    pub trusted_documents: bool,
    /// The server key (and previous keys) that seal webhook signing secrets
    /// at rest (`secrets`). The default is a key of this process only; the
    /// binary always sets the configured one.
    pub secret_keys: crate::secrets::SecretKeys,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            shutdown_grace: Duration::from_secs(8),
            ws_init_timeout: Duration::from_secs(10),
            session_check_interval: Duration::from_secs(2),
            webhook_allow_private: false,
            token_cache_ttl: Duration::from_secs(1),
            trusted_documents: false,
            secret_keys: crate::secrets::SecretKeys::ephemeral(),
        }
    }
}
