//! At-least-once across a crash (SPEC §6): the real binary is killed with
//! SIGKILL in the middle of a burst of 1,000 changes and started again;
//! every committed event still reaches the webhook receiver, and
//! deduplicating by `webhook-id` sees each exactly once.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use crate::helpers::{
    binary::{cli, free_address, wait_ready, Server},
    receiver::{Received, Receiver},
    Backend, TestDatabase,
};
use serde_json::{json, Value};

const CHANGES: usize = 1000;

/// webhook-id → the partner id in the body, of every request so far.
fn seen(receiver: &Receiver) -> HashMap<String, String> {
    let partner = |r: &Received| {
        r.json()["data"]["partner"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    receiver
        .received()
        .iter()
        .map(|r| (r.webhook_id(), partner(r)))
        .collect()
}

/// Jobs off, loopback webhook targets allowed, no query-cost budget.
fn serve(database_url: &str, address: &str) -> Server {
    let args = [
        "--jobs-interval",
        "0",
        "--webhook-allow-private",
        "--query-cost-budget",
        "0",
    ];
    Server::start(database_url, address, &args)
}

async fn graphql(
    client: &reqwest::Client,
    address: &str,
    token: &str,
    query: &str,
    variables: Value,
) -> Result<Value, reqwest::Error> {
    client
        .post(format!("http://{address}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await?
        .json()
        .await
}

async fn survives_a_kill_during_a_burst(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        eprintln!("skipped: TEST_POSTGRES_URL is not set");
        return;
    };
    let url = database.url().to_owned();
    let output = cli(&url, ["token", "create", "--role", "ADMIN"]);
    assert!(output.status.success(), "{output:?}");
    let token = String::from_utf8(output.stdout).unwrap().trim().to_owned();

    let receiver = Receiver::start().await;
    let hook = receiver.url();

    let address = free_address();
    let client = reqwest::Client::new();
    let server = serve(&url, &address);
    wait_ready(&client, &address).await;
    let created = graphql(
        &client,
        &address,
        &token,
        "mutation($url: String!) { createWebhookEndpoint(input: { url: $url, eventTypes: [\"partner.created\"] }) { userErrors { message } } }",
        json!({ "url": hook }),
    )
    .await
    .unwrap();
    assert_eq!(
        created["data"]["createWebhookEndpoint"]["userErrors"],
        json!([]),
        "{created}"
    );

    // The burst: eight writers; the server dies under them part-way.
    let committed = Arc::new(AtomicUsize::new(0));
    let mut writers = Vec::new();
    for writer in 0..8 {
        let (client, address, token, committed) = (
            client.clone(),
            address.clone(),
            token.clone(),
            committed.clone(),
        );
        writers.push(tokio::spawn(async move {
            for n in (writer..CHANGES).step_by(8) {
                let answer = graphql(
                    &client,
                    &address,
                    &token,
                    "mutation($name: String!) { createPartner(input: { name: $name, type: RESELLER }) { partner { id } } }",
                    json!({ "name": format!("Burst {n}") }),
                )
                .await;
                match answer {
                    Ok(body) if body["data"]["createPartner"]["partner"]["id"].is_string() => {
                        committed.fetch_add(1, Ordering::SeqCst);
                    }
                    _ => return,
                }
            }
        }));
    }
    while committed.load(Ordering::SeqCst) < CHANGES / 3 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill(); // SIGKILL
    for writer in writers {
        writer.await.unwrap();
    }

    // Back up: what was committed (answered or not) is in the outbox.
    let server = serve(&url, &address);
    wait_ready(&client, &address).await;
    let feed = graphql(
        &client,
        &address,
        &token,
        "{ partners(first: 100) { totalCount } }",
        json!({}),
    )
    .await
    .unwrap();
    let expected = feed["data"]["partners"]["totalCount"].as_u64().unwrap() as usize;
    assert!(expected >= committed.load(Ordering::SeqCst));
    assert!(expected < CHANGES, "the kill came before the burst ended");
    // Claims the dead process held run out after their 30 s lease.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while seen(&receiver).len() < expected {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} of {expected} events delivered",
            seen(&receiver).len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seen = seen(&receiver);
    let partners: HashSet<&String> = seen.values().collect();
    assert_eq!(seen.len(), expected, "each event once after deduplication");
    assert_eq!(partners.len(), expected, "one event per created partner");
    assert!(receiver.received().len() >= expected);
    server.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_arrives_after_a_kill_on_sqlite() {
    survives_a_kill_during_a_burst(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_arrives_after_a_kill_on_postgres() {
    survives_a_kill_during_a_burst(Backend::Postgres).await;
}
