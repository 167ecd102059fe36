//! A webhook receiver on loopback that keeps every request it gets, as a
//! Standard Webhooks consumer would see it.

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicU16, AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use axum::{body::Bytes, extract::State, http::HeaderMap, routing::post, Router};
use serde_json::Value;

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    pub fn webhook_id(&self) -> String {
        self.headers["webhook-id"].to_str().unwrap().to_owned()
    }

    /// Verifies like any Standard Webhooks consumer would.
    pub fn verifies_with(&self, secret: &str) -> bool {
        standardwebhooks::Webhook::new(secret)
            .unwrap()
            .verify(&self.body, &self.headers)
            .is_ok()
    }
}

/// A webhook receiver on loopback at `/hook`; it answers 200 at once unless
/// told otherwise ([`Receiver::answer_with`], [`Receiver::answer_after`]).
#[derive(Clone)]
pub struct Receiver {
    pub address: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
    delay_ms: Arc<AtomicU64>,
}

async fn record(
    State(receiver): State<Receiver>,
    headers: HeaderMap,
    body: Bytes,
) -> axum::http::StatusCode {
    receiver
        .received
        .lock()
        .unwrap()
        .push(Received { headers, body });
    let delay = receiver.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    axum::http::StatusCode::from_u16(receiver.status.load(Ordering::SeqCst)).unwrap()
}

impl Receiver {
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0".parse().unwrap()).await
    }

    pub async fn start_on(address: SocketAddr) -> Self {
        let listener = tokio::net::TcpListener::bind(address).await.unwrap();
        let receiver = Receiver {
            address: listener.local_addr().unwrap(),
            received: Arc::default(),
            status: Arc::new(AtomicU16::new(200)),
            delay_ms: Arc::default(),
        };
        let app = Router::new()
            .route("/hook", post(record))
            .with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        receiver
    }

    /// Answers every later request with `status`.
    pub fn answer_with(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    /// Keeps every later request waiting `delay` before answering (a slow
    /// receiver); the request counts as received on arrival.
    pub fn answer_after(&self, delay: Duration) {
        self.delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.address)
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until `count` requests arrived.
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        for _ in 0..400 {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("expected {count} deliveries, got {}", self.received().len());
    }
}
