//! `/metrics` (SPEC §8), scraped from the real binary while a workload runs:
//! every metric is there with its help text, and each one moves with what
//! the server does (requests, SQL, WebSocket sessions and subscriptions,
//! the outbox and the bus, webhook attempts and pending deliveries, jobs,
//! the token cache, query-cost throttles, the database pool, the process).

use std::time::Duration;

use crate::helpers::{
    binary::{admin_token, free_address, graphql, wait_ready, Server},
    receiver::Receiver,
    ws, Backend, TestDatabase,
};
use serde_json::json;

/// Every metric, by the name its `# HELP` line carries.
const NAMES: &[&str] = &[
    "partnergraph_graphql_requests_total",
    "partnergraph_graphql_request_duration_seconds",
    "partnergraph_sql_statements_total",
    "partnergraph_websocket_sessions",
    "partnergraph_graphql_subscriptions",
    "partnergraph_outbox_head_cursor",
    "partnergraph_outbox_bus_cursor",
    "partnergraph_outbox_lag_events",
    "partnergraph_outbox_lag_seconds",
    "partnergraph_webhook_dispatch_lag_events",
    "partnergraph_webhook_attempts_total",
    "partnergraph_webhook_deliveries",
    "partnergraph_jobs_runs_total",
    "partnergraph_jobs_items_total",
    "partnergraph_token_cache_lookups_total",
    "partnergraph_query_cost_throttled_total",
    "partnergraph_db_pool_connections",
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "process_open_fds",
    "process_max_fds",
    "process_start_time_seconds",
];

async fn scrape(client: &reqwest::Client, address: &str) -> String {
    let response = client
        .get(format!("http://{address}/metrics"))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    response.text().await.unwrap()
}

/// The value of the sample `series` (name and labels exactly as printed).
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no sample {series} in:\n{text}"))
}

const SLOW_QUERY: &str = "{ partners(first: 100) { edges { node { id name } } } }";

async fn every_metric_moves_under_a_workload(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        eprintln!("skipped: TEST_POSTGRES_URL is not set");
        return;
    };
    let url = database.url().to_owned();
    let token = admin_token(&url);
    let receiver = Receiver::start().await;
    let client = reqwest::Client::new();
    let address = free_address();
    // Jobs every second; a small query-cost budget, so throttling shows.
    let args = [
        "--jobs-interval",
        "1",
        "--webhook-allow-private",
        "--max-complexity",
        "500",
        "--query-cost-budget",
        "500",
        "--query-cost-refill",
        "1",
    ];
    let server = Server::start(&url, &address, &args);
    wait_ready(&client, &address).await;

    let before = scrape(&client, &address).await;
    assert!(value(&before, "process_resident_memory_bytes") > 1e6);
    assert!(value(&before, "process_open_fds") > 0.0);
    assert_eq!(value(&before, "partnergraph_websocket_sessions"), 0.0);
    assert_eq!(
        value(
            &before,
            "partnergraph_webhook_attempts_total{outcome=\"succeeded\"}"
        ),
        0.0
    );
    let idle = value(&before, "partnergraph_db_pool_connections{state=\"idle\"}");
    let in_use = value(
        &before,
        "partnergraph_db_pool_connections{state=\"in_use\"}",
    );
    assert!(idle + in_use >= 1.0, "the pool has connections");
    let sql_before = value(&before, "partnergraph_sql_statements_total{outcome=\"ok\"}");

    // A subscriber, a webhook endpoint on a slow receiver, and changes.
    let mut socket = ws::ready_at(&address, &token).await;
    ws::subscribe(
        &mut socket,
        "1",
        "subscription { events { cursor type } }",
        json!({}),
    )
    .await;
    receiver.answer_after(Duration::from_secs(2));
    let created = graphql(
        &client,
        &address,
        &token,
        "mutation($url: String!) { createWebhookEndpoint(input: { url: $url, eventTypes: [\"partner.created\"] }) { userErrors { message } } }",
        json!({ "url": receiver.url() }),
    )
    .await;
    assert_eq!(
        created["data"]["createWebhookEndpoint"]["userErrors"],
        json!([]),
        "{created}"
    );
    for n in 0..3 {
        graphql(
            &client,
            &address,
            &token,
            "mutation($name: String!) { createPartner(input: { name: $name, type: RESELLER }) { partner { id } } }",
            json!({ "name": format!("Measured {n}") }),
        )
        .await;
    }
    let event = ws::next_payload(&mut socket, "1").await;
    assert_eq!(event["data"]["events"]["type"], "partner.created");
    receiver.wait_for(1).await;

    // Attempts in flight: their deliveries are pending.
    let during = scrape(&client, &address).await;
    assert!(
        value(
            &during,
            "partnergraph_webhook_deliveries{status=\"pending\"}"
        ) >= 1.0,
        "{during}"
    );
    assert_eq!(value(&during, "partnergraph_websocket_sessions"), 1.0);
    assert_eq!(value(&during, "partnergraph_graphql_subscriptions"), 1.0);
    let head = value(&during, "partnergraph_outbox_head_cursor");
    assert!(head >= 3.0, "{during}");
    assert!(value(&during, "partnergraph_outbox_bus_cursor") <= head);
    assert!(
        value(
            &during,
            "partnergraph_graphql_requests_total{operation_type=\"mutation\",outcome=\"ok\"}"
        ) >= 4.0
    );
    assert!(value(&during, "partnergraph_sql_statements_total{outcome=\"ok\"}") > sql_before);
    assert!(
        value(
            &during,
            "partnergraph_token_cache_lookups_total{result=\"hit\"}"
        ) >= 1.0
    );
    assert!(
        value(
            &during,
            "partnergraph_token_cache_lookups_total{result=\"miss\"}"
        ) >= 1.0
    );

    // Spend the query-cost budget.
    let mut throttled = false;
    for _ in 0..50 {
        let answer = graphql(&client, &address, &token, SLOW_QUERY, json!({})).await;
        if answer["errors"][0]["extensions"]["code"] == "RATE_LIMITED" {
            throttled = true;
            break;
        }
    }
    assert!(throttled, "the budget runs out");

    // Delivered, caught up, jobs run; then the subscriber leaves.
    receiver.answer_after(Duration::ZERO);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let after = loop {
        let text = scrape(&client, &address).await;
        let settled = value(
            &text,
            "partnergraph_webhook_attempts_total{outcome=\"succeeded\"}",
        ) >= 3.0
            && value(&text, "partnergraph_webhook_deliveries{status=\"pending\"}") == 0.0
            && value(&text, "partnergraph_outbox_lag_events") == 0.0
            && value(&text, "partnergraph_jobs_runs_total{outcome=\"ok\"}") >= 1.0;
        if settled {
            break text;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the figures did not settle:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        value(&after, "partnergraph_outbox_bus_cursor"),
        value(&after, "partnergraph_outbox_head_cursor")
    );
    assert_eq!(value(&after, "partnergraph_outbox_lag_seconds"), 0.0);
    assert_eq!(
        value(&after, "partnergraph_webhook_dispatch_lag_events"),
        0.0
    );
    assert_eq!(
        value(&after, "partnergraph_webhook_deliveries{status=\"failed\"}"),
        0.0
    );
    assert!(
        value(
            &after,
            "partnergraph_query_cost_throttled_total{operation_type=\"query\"}"
        ) >= 1.0
    );
    // Whole seconds in the prometheus crate: present, possibly still 0.
    assert!(value(&after, "process_cpu_seconds_total") >= 0.0);
    for name in NAMES {
        assert!(
            after
                .lines()
                .any(|l| l.starts_with(&format!("# HELP {name} ")) && l.len() > name.len() + 12),
            "{name} has help text:\n{after}"
        );
    }
    drop(socket);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let text = scrape(&client, &address).await;
        if value(&text, "partnergraph_websocket_sessions") == 0.0
            && value(&text, "partnergraph_graphql_subscriptions") == 0.0
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the socket was not counted out:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_metric_moves_under_a_workload_on_sqlite() {
    every_metric_moves_under_a_workload(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_metric_moves_under_a_workload_on_postgres() {
    every_metric_moves_under_a_workload(Backend::Postgres).await;
}

// A scrape reads the database through a connection whose statements are not
// counted: `sql_statements_total` (which tests count N+1 with) stays put.
backend_test!(a_scrape_does_not_count_its_own_statements, |app| {
    app.admin_data(
        "{ partners(first: 5) { totalCount } }",
        serde_json::Value::Null,
    )
    .await;
    let first = app.sql_statements().await;
    assert!(first > 0);
    assert_eq!(app.sql_statements().await, first);
});
