//! Load shedding: past what the server sustains, answer at once instead of
//! queueing until timeouts pile up.
//!
//! GraphQL requests over HTTP run at most `max_in_flight` at a time. A
//! request that finds no free slot waits up to `queue_wait` for one, then is
//! answered `503` with `Retry-After: 1` and a GraphQL-shaped error, so a
//! client backs off instead of holding a connection. WebSocket connections
//! have their own bound, checked before the upgrade (a long-lived socket
//! must not hold a request slot). Health, readiness, metrics and the OAuth
//! endpoints are not behind either: probes must answer most when the server
//! is busiest. Every request turned away is counted in
//! `partnergraph_requests_shed_total` by reason.

use std::{future::Future, sync::Arc, time::Duration};

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::response;
use crate::{
    config::{Limits, IN_FLIGHT_PER_POOL_CONNECTION},
    metrics::{Metrics, Shed},
};

/// The `extensions.code` of a request turned away under load.
pub const OVERLOADED_CODE: &str = "SERVICE_UNAVAILABLE";

/// The server's admission bounds, shared by every request.
#[derive(Debug)]
pub struct Admission {
    requests: Arc<Semaphore>,
    queue_wait: Duration,
    websockets: Arc<Semaphore>,
    metrics: Arc<Metrics>,
}

impl Admission {
    /// `pool_size`: the database pool's connections, from which the default
    /// in-flight bound is derived.
    pub fn new(limits: &Limits, pool_size: u32, metrics: Arc<Metrics>) -> Self {
        let in_flight = limits
            .max_in_flight
            .unwrap_or(pool_size as usize * IN_FLIGHT_PER_POOL_CONNECTION)
            .max(1);
        Self {
            requests: Arc::new(Semaphore::new(in_flight)),
            queue_wait: limits.queue_wait,
            websockets: Arc::new(Semaphore::new(limits.max_websockets.max(1))),
            metrics,
        }
    }

    /// A slot for one request, or `None` when none frees up within the queue wait.
    async fn request_slot(&self) -> Option<OwnedSemaphorePermit> {
        if let Ok(permit) = self.requests.clone().try_acquire_owned() {
            return Some(permit);
        }
        let waiting = self.requests.clone().acquire_owned();
        match tokio::time::timeout(self.queue_wait, waiting).await {
            Ok(Ok(permit)) => Some(permit),
            _ => None,
        }
    }

    /// Runs one GraphQL request in a slot, or answers 503 without running it.
    pub async fn run(&self, request: impl Future<Output = Response>) -> Response {
        let Some(_slot) = self.request_slot().await else {
            self.metrics.shed(Shed::Overloaded);
            return Overloaded("the server is at capacity; retry in a second").into_response();
        };
        let _running = self.metrics.request_in_flight();
        request.await
    }

    /// A slot for one WebSocket connection, held while it is open; `Err` is
    /// the answer to give instead of upgrading.
    pub fn websocket_slot(&self) -> Result<OwnedSemaphorePermit, Overloaded> {
        self.websockets.clone().try_acquire_owned().map_err(|_| {
            self.metrics.shed(Shed::WebSocketLimit);
            Overloaded("too many open WebSocket connections; retry in a second")
        })
    }
}

/// Work turned away: `503 Service Unavailable`, `Retry-After: 1`, this
/// message in the GraphQL response shape.
#[derive(Debug)]
pub struct Overloaded(&'static str);

impl IntoResponse for Overloaded {
    fn into_response(self) -> Response {
        let mut response =
            response::error(StatusCode::SERVICE_UNAVAILABLE, OVERLOADED_CODE, self.0)
                .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        response
    }
}
