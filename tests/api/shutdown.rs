//! SIGTERM (SPEC §8) on the real binary, with a receiver too slow to finish
//! its webhooks in time: the process exits within 10 s, closes its
//! WebSockets with 1001, and releases the claims of the attempts it cut
//! off, so another replica delivers them at once rather than after the
//! 30 s lease.

use std::{collections::HashSet, time::Duration};

use crate::helpers::{
    binary::{admin_token, count_where, free_address, graphql, wait_ready, Server},
    receiver::Receiver,
    ws, Backend, TestDatabase,
};
use serde_json::json;

const HELD: usize = 5;

fn serve(database_url: &str, address: &str) -> Server {
    let args = ["--jobs-interval", "0", "--webhook-allow-private"];
    Server::start(database_url, address, &args)
}

async fn sigterm_finishes_or_releases_everything(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        eprintln!("skipped: TEST_POSTGRES_URL is not set");
        return;
    };
    let url = database.url().to_owned();
    let token = admin_token(&url);
    let receiver = Receiver::start().await;
    receiver.answer_after(Duration::from_secs(120));
    let client = reqwest::Client::new();
    let address = free_address();
    let first = serve(&url, &address);
    wait_ready(&client, &address).await;

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
    for n in 0..HELD {
        let answer = graphql(
            &client,
            &address,
            &token,
            "mutation($name: String!) { createPartner(input: { name: $name, type: RESELLER }) { partner { id } } }",
            json!({ "name": format!("Held {n}") }),
        )
        .await;
        assert!(
            answer["data"]["createPartner"]["partner"]["id"].is_string(),
            "{answer}"
        );
    }
    // Every attempt is in flight: the receiver holds them all.
    let held: HashSet<String> = receiver
        .wait_for(HELD)
        .await
        .iter()
        .map(|r| r.webhook_id())
        .collect();
    assert_eq!(held.len(), HELD);
    let db = database.migrated().await;
    assert_eq!(
        count_where(&db, "webhook_delivery", "leased_by IS NOT NULL").await,
        HELD as i64
    );
    let mut socket = ws::ready_at(&address, &token).await;
    ws::subscribe(
        &mut socket,
        "1",
        "subscription { events { cursor } }",
        json!({}),
    )
    .await;

    // The receiver is quick again for whoever retries. On PostgreSQL a
    // second replica runs beside the first; SQLite is one process at a time.
    receiver.answer_after(Duration::ZERO);
    let second_address = free_address();
    let mut second = None;
    if backend == Backend::Postgres {
        second = Some(serve(&url, &second_address));
        wait_ready(&client, &second_address).await;
    }

    let (took, success) =
        tokio::task::spawn_blocking(move || first.terminate(Duration::from_secs(20)))
            .await
            .unwrap();
    let exited = tokio::time::Instant::now();
    assert!(success, "a clean exit");
    assert!(took < Duration::from_secs(10), "exited after {took:?}");
    assert_eq!(
        ws::close_code(&mut socket, Duration::from_secs(2)).await,
        Some(1001),
        "WebSockets are told the server is going away"
    );
    if second.is_none() {
        // Nothing is leased by the process that left, and nothing was lost.
        assert_eq!(
            count_where(
                &db,
                "webhook_delivery",
                "leased_by IS NULL AND lease_until IS NULL AND status = 'PENDING'"
            )
            .await,
            HELD as i64
        );
        second = Some(serve(&url, &second_address));
    }

    let redelivered = receiver.wait_for(2 * HELD).await;
    let after_exit = exited.elapsed();
    let again: HashSet<String> = redelivered[HELD..].iter().map(|r| r.webhook_id()).collect();
    assert_eq!(
        again, held,
        "the released deliveries, with their webhook-ids"
    );
    // A replica already running picks them up within its poll; on SQLite the
    // restart is included. Either way far below the 30 s lease.
    let bound = if backend == Backend::Postgres { 2 } else { 10 };
    assert!(
        after_exit < Duration::from_secs(bound),
        "redelivered {after_exit:?} after the exit"
    );
    drop(second);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_or_releases_everything_on_sqlite() {
    sigterm_finishes_or_releases_everything(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_or_releases_everything_on_postgres() {
    sigterm_finishes_or_releases_everything(Backend::Postgres).await;
}
