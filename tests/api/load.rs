//! Load shedding (`http::admission`): past its in-flight bound the server
//! answers 503 with `Retry-After` at once, in the GraphQL error shape, while
//! probes keep answering; WebSockets past their bound are refused before the
//! upgrade. Every request turned away is counted in `/metrics`.
//!
//! A request is held in its slot by a mutation that waits on a database lock
//! this test takes (SQLite's write lock; a PostgreSQL table lock), so the
//! server is "busy" for exactly as long as the test says.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use reqwest::StatusCode;
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseTransaction, SqliteTransactionMode, Statement,
    TransactionOptions, TransactionTrait,
};
use serde_json::{json, Value};

use crate::helpers::{ws, TestApp};

const CREATE: &str =
    "mutation($name: String!) { createPartner(input: { name: $name, type: RESELLER }) { partner { id } } }";
const READ: &str = "{ partners(first: 1) { totalCount } }";

fn limits(in_flight: usize, queue_wait_ms: u64) -> partnergraph::config::ServerConfig {
    let mut config = partnergraph::config::ServerConfig::default();
    config.limits.max_in_flight = Some(in_flight);
    config.limits.queue_wait = Duration::from_millis(queue_wait_ms);
    config.limits.max_websockets = 1;
    config
}

/// A transaction that keeps partners from being created until it ends.
async fn block_partner_writes(app: &TestApp) -> DatabaseTransaction {
    let backend = app.db.get_database_backend();
    let options = TransactionOptions {
        sqlite_transaction_mode: (backend == DatabaseBackend::Sqlite)
            .then_some(SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    let txn = app.db.begin_with_options(options).await.unwrap();
    if backend == DatabaseBackend::Postgres {
        txn.execute_raw(Statement::from_string(
            backend,
            "LOCK TABLE partner IN SHARE MODE",
        ))
        .await
        .unwrap();
    }
    txn
}

/// Starts a partner creation that waits on `block_partner_writes`, and
/// returns once it holds the only slot (seen in `/metrics`, which takes none).
async fn occupy_the_slot(app: &TestApp) -> tokio::task::JoinHandle<(StatusCode, Value)> {
    let (client, url, token) = (app.client.clone(), app.url("/graphql"), app.admin.clone());
    let held = tokio::spawn(async move {
        let response = client
            .post(url)
            .bearer_auth(token)
            .json(&json!({ "query": CREATE, "variables": { "name": format!("Held {}", uuid::Uuid::now_v7()) } }))
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while metric(app, "partnergraph_graphql_requests_in_flight").await != 1 {
        if held.is_finished() {
            panic!("the held request did not wait: {:?}", held.await.unwrap());
        }
        assert!(
            Instant::now() < deadline,
            "the held request never took its slot"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    held
}

/// `partnergraph_requests_shed_total` for `reason`, from `/metrics`.
async fn shed(app: &TestApp, reason: &str) -> u64 {
    metric(
        app,
        &format!("partnergraph_requests_shed_total{{reason=\"{reason}\"}}"),
    )
    .await
}

/// The value of the metric line that starts with `name` (labels included).
async fn metric(app: &TestApp, name: &str) -> u64 {
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let prefix = format!("{name} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(|n| n.parse().unwrap())
        .unwrap_or_else(|| panic!("no {prefix}in /metrics"))
}

backend_test!(overloaded_requests_get_503_at_once, limits(1, 0), |app| {
    let before = shed(&app, "overloaded").await;
    let blocker = block_partner_writes(&app).await;
    let held = occupy_the_slot(&app).await;

    // Twenty requests at once while the only slot is taken: each is turned
    // away at once with a 503 a client can act on, none waits.
    let started = Instant::now();
    let answers = join_all((0..20).map(|_| async {
        let response = app
            .client
            .post(app.url("/graphql"))
            .bearer_auth(&app.admin)
            .json(&json!({ "query": READ }))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let retry_after = response.headers().get("retry-after").cloned();
        let body: Value = response.json().await.unwrap();
        (status, retry_after, body)
    }))
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "shed requests are answered at once, not queued ({:?})",
        started.elapsed()
    );
    for (status, retry_after, body) in &answers {
        assert_eq!(*status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(retry_after.as_ref().unwrap(), "1");
        assert_eq!(
            body["errors"][0]["extensions"]["code"],
            "SERVICE_UNAVAILABLE"
        );
        assert!(body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("capacity"));
    }
    // GET queries share the bound.
    let by_get = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", READ)])
        .bearer_auth(&app.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(by_get.status(), StatusCode::SERVICE_UNAVAILABLE);

    // Probes are never shed.
    for probe in ["/healthz", "/readyz", "/metrics"] {
        let status = app
            .client
            .get(app.url(probe))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, StatusCode::OK, "{probe}");
    }
    assert_eq!(shed(&app, "overloaded").await, before + 21);

    // The held request finishes once the database lets it; the slot frees.
    blocker.commit().await.unwrap();
    let (status, body) = held.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["data"]["createPartner"]["partner"]["id"].is_string(),
        "{body}"
    );
    let data = app.admin_data(READ, json!({})).await;
    assert_eq!(data["partners"]["totalCount"], 1);
});

backend_test!(
    a_request_waits_for_a_slot_up_to_the_queue_wait,
    limits(1, 300),
    |app| {
        let blocker = block_partner_writes(&app).await;
        let held = occupy_the_slot(&app).await;

        // A slot that frees within the wait: the request runs.
        let waiting = app.post(&app.admin, READ, json!({}));
        let release = async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            blocker.commit().await.unwrap();
        };
        let ((status, body), ()) = tokio::join!(waiting, release);
        assert_eq!(status, StatusCode::OK, "{body}");
        let (_, body) = held.await.unwrap();
        assert!(
            body["data"]["createPartner"]["partner"]["id"].is_string(),
            "{body}"
        );

        // A slot that stays taken: 503 once the wait has passed, not before.
        let blocker = block_partner_writes(&app).await;
        let held = occupy_the_slot(&app).await;
        let started = Instant::now();
        let (status, _) = app.post(&app.admin, READ, json!({})).await;
        let waited = started.elapsed();
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            waited >= Duration::from_millis(290) && waited < Duration::from_secs(3),
            "waited {waited:?}"
        );
        blocker.commit().await.unwrap();
        let (_, body) = held.await.unwrap();
        assert!(
            body["data"]["createPartner"]["partner"]["id"].is_string(),
            "{body}"
        );
        let data = app.admin_data(READ, json!({})).await;
        assert_eq!(data["partners"]["totalCount"], 2);
    }
);

backend_test!(
    websockets_past_the_limit_are_refused_before_the_upgrade,
    limits(8, 0),
    |app| {
        let before = shed(&app, "websocket_limit").await;
        let first = ws::ready(&app, &app.admin).await;

        let mut request =
            tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
                format!("ws://{}/graphql", app.address),
            )
            .unwrap();
        request.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        match tokio_tungstenite::connect_async(request.clone()).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
                assert_eq!(response.headers()["retry-after"], "1");
                let body: Value =
                    serde_json::from_slice(response.body().as_deref().unwrap()).unwrap();
                assert_eq!(
                    body["errors"][0]["extensions"]["code"],
                    "SERVICE_UNAVAILABLE"
                );
            }
            other => panic!("a second WebSocket over the limit of 1 was not refused: {other:?}"),
        }
        assert_eq!(shed(&app, "websocket_limit").await, before + 1);
        // HTTP requests are not held back by the WebSocket bound.
        app.admin_data(READ, json!({})).await;

        // Once the first closes, its slot is free again.
        drop(first);
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if tokio_tungstenite::connect_async(request.clone())
                .await
                .is_ok()
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the closed socket's slot never freed"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
);
