//! The HTTP edge: routes, middleware (request ids, body limit, tracing,
//! panics) and graceful shutdown.

pub mod admission;
pub mod body_limit;
pub mod graphiql;
pub mod graphql;
pub mod health;
pub mod oauth;
pub mod order;
pub mod persisted;
pub mod response;
pub mod ws;

use std::sync::Arc;

use axum::{
    extract::DefaultBodyLimit,
    http::{HeaderName, Request},
    routing::{get, post},
    serve::ListenerExt,
    Router,
};
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tower_http::{
    catch_panic::CatchPanicLayer,
    classify::StatusInRangeAsFailures,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

use crate::{clock::SharedClock, config::ServerConfig, graphql::AppSchema, metrics::Metrics};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub clock: SharedClock,
    pub schema: AppSchema,
    /// What partner principals see: their requests are validated and their
    /// introspection answered against it (`graphql::partner_schema`).
    pub partner_schema: async_graphql::dynamic::Schema,
    pub config: Arc<ServerConfig>,
    pub metrics: Arc<Metrics>,
    /// The database as `/metrics` reads it: statements through this handle
    /// are not counted, so a scrape does not move `sql_statements_total`.
    pub scrape_db: DatabaseConnection,
    pub token_limits: Arc<oauth::TokenEndpointLimits>,
    /// Documents parsed, and partner requests validated, before.
    pub documents: Arc<crate::graphql::documents::Documents>,
    /// What queries cost, read from the schema.
    pub pricing: Arc<crate::graphql::complexity::Pricing>,
    /// The schema's shape, to put responses in request order (`order`).
    pub shape: Arc<order::Shape>,
    /// Persisted operations known by hash (`persisted`).
    pub persisted: Arc<persisted::Store>,
    /// Query-cost budgets per principal; `None` when the limit is off.
    pub cost_limiter: Option<Arc<crate::graphql::cost::CostLimiter>>,
    /// How many requests and WebSockets run at once (load shedding).
    pub admission: Arc<admission::Admission>,
    /// Recent token lookups, so most requests skip that round trip.
    pub principals: Arc<crate::auth::cache::PrincipalCache>,
    /// The event bus and session checker, started by the first WebSocket.
    realtime: Arc<tokio::sync::OnceCell<ws::Realtime>>,
    /// Turns true when the server starts shutting down, so WebSockets (which
    /// graceful shutdown does not wait for) can say goodbye.
    shutting_down: Arc<tokio::sync::watch::Sender<bool>>,
}

impl AppState {
    /// Fails only if the partner view declares a field whose type it hides,
    /// which the test suite rules out.
    pub fn new(
        mut db: DatabaseConnection,
        clock: SharedClock,
        config: ServerConfig,
    ) -> Result<Self, async_graphql::dynamic::SchemaError> {
        let metrics = Arc::new(Metrics::new());
        let scrape_db = db.clone();
        // Before any other clone, so every handle below counts its statements.
        metrics.observe_sql(&mut db);
        let schema = crate::graphql::build_schema(db.clone(), &config);
        let sdl = schema.sdl_with_options(crate::graphql::sdl_options());
        let partner_schema = crate::graphql::partner_schema::build(&sdl)?;
        let pricing = crate::graphql::complexity::Pricing::from_sdl(&sdl)
            .map_err(|e| async_graphql::dynamic::SchemaError(e.to_string()))?;
        let shape = order::Shape::from_sdl(&sdl)
            .map_err(|e| async_graphql::dynamic::SchemaError(e.to_string()))?;
        let pool_size = crate::db::pool_size(db.get_database_backend());
        Ok(Self {
            db,
            clock,
            schema,
            partner_schema,
            pricing: Arc::new(pricing),
            shape: Arc::new(shape),
            persisted: Arc::default(),
            documents: Arc::default(),
            cost_limiter: (config.limits.query_cost_budget > 0).then(|| {
                Arc::new(crate::graphql::cost::CostLimiter::new(
                    config
                        .limits
                        .query_cost_budget
                        .max(config.limits.max_complexity as u32),
                    config.limits.query_cost_refill_per_second,
                ))
            }),
            admission: Arc::new(admission::Admission::new(
                &config.limits,
                pool_size,
                metrics.clone(),
            )),
            principals: Arc::new(crate::auth::cache::PrincipalCache::new(
                config.token_cache_ttl,
                metrics.clone(),
            )),
            token_limits: Arc::new(oauth::TokenEndpointLimits::new(
                config.limits.token_requests_per_minute_per_client,
                config.limits.token_requests_per_minute_per_ip,
            )),
            config: Arc::new(config),
            metrics,
            scrape_db,
            realtime: Arc::default(),
            shutting_down: Arc::new(tokio::sync::watch::channel(false).0),
        })
    }

    /// Resolves once the server is shutting down.
    pub async fn shutdown_started(&self) {
        let mut receiver = self.shutting_down.subscribe();
        let _ = receiver.wait_for(|stopping| *stopping).await;
    }

    /// The event bus and session checker, started on first use.
    pub async fn realtime(&self) -> Result<&ws::Realtime, sea_orm::DbErr> {
        self.realtime
            .get_or_try_init(|| ws::Realtime::start(self))
            .await
    }
}

pub fn router(state: AppState) -> Router {
    let max_body = state.config.limits.max_body_bytes;
    Router::new()
        .route("/graphql", get(ws::get).post(graphql::post))
        .route("/graphiql/{file}", get(graphiql::asset))
        .route("/oauth/token", post(oauth::token))
        .route("/oauth/revoke", post(oauth::revoke))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .with_state(state)
        // Bodies arrive whole and within the limit (`body_limit`).
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn_with_state(
            max_body,
            body_limit::limit,
        ))
        .layer(CatchPanicLayer::custom(response::panic_response))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            // A shed request's 503 (with `Retry-After`) is the server
            // working as designed, not a failure to log at ERROR once per
            // refused request; 500 to 502 are.
            TraceLayer::new(StatusInRangeAsFailures::new(500..=502).into_make_classifier())
                .make_span_with(|request: &Request<_>| {
                    let request_id = request
                        .headers()
                        .get(REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = request.uri().path(),
                        request_id,
                        operation = tracing::field::Empty,
                    )
                }),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// Serves until `shutdown` resolves, then stops accepting, lets in-flight
/// requests finish, and gives up on stragglers after the grace period.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let grace = state.config.shutdown_grace;
    let shutting_down = state.shutting_down.clone();
    // Other replicas' revocations reach this server's token cache at once.
    let _revocations = AbortOnDrop(tokio::spawn(crate::auth::cache::follow_revocations(
        state.db.clone(),
    )));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // Small GraphQL answers should leave at once, not wait for Nagle.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown.await;
        shutting_down.send_replace(true);
        let _ = stop_tx.send(true);
    });
    let deadline = async move {
        let mut stop_rx = stop_rx;
        while !*stop_rx.borrow() {
            if stop_rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        result = server => result,
        () = deadline => {
            tracing::warn!(grace_seconds = grace.as_secs(), "requests still running after the grace period; stopping anyway");
            Ok(())
        }
    }
}

/// Stops a background task when the server that started it stops.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
