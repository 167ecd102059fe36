//! The binary as a new user runs it: `token create`, then `serve`, then a
//! GraphQL call with the printed token; and a clean stop on SIGTERM.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use crate::helpers::{
    binary::{cli, free_address, wait_ready, BIN},
    Backend, TestDatabase,
};
use serde_json::{json, Value};

async fn token_create_then_serve(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        eprintln!("skipped: TEST_POSTGRES_URL is not set");
        return;
    };
    let output = cli(
        database.url(),
        [
            "token",
            "create",
            "--role",
            "ADMIN",
            "--email",
            "ana@example.com",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    assert!(
        token.starts_with("pgat_") && !token.contains('\n'),
        "stdout holds only the token: {token:?}"
    );

    let address = free_address();
    let mut server = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            &address,
            "--database-url",
            database.url(),
        ])
        // PostgreSQL needs the server key (SQLite makes a key file).
        .env(
            "PARTNERGRAPH_SECRET_KEY",
            crate::helpers::binary::SECRET_KEY,
        )
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let base = format!("http://{address}");
    wait_ready(&client, &address).await;

    let graphql = |query: &'static str| {
        client
            .post(format!("{base}/graphql"))
            .bearer_auth(&token)
            .json(&json!({ "query": query }))
            .send()
    };
    let created: Value = graphql(
        "mutation { createPartner(input: { name: \"Acme\", type: RESELLER }) { partner { id } } }",
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert!(
        created["data"]["createPartner"]["partner"]["id"].is_string(),
        "{created}"
    );
    let listed: Value = graphql("{ partners { totalCount edges { node { name } } } }")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed["data"]["partners"]["edges"][0]["node"]["name"],
        "Acme"
    );

    // A partner token and a partner-bound OAuth2 client for that partner.
    let partner = created["data"]["createPartner"]["partner"]["id"]
        .as_str()
        .unwrap();
    let run = |args: &[&str]| cli(database.url(), args);
    let output = run(&[
        "token",
        "create",
        "--role",
        "PARTNER_REP",
        "--partner",
        partner,
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let partner_token = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    let viewer: Value = client
        .post(format!("{base}/graphql"))
        .bearer_auth(&partner_token)
        .json(&json!({ "query": "{ viewer { kind role partner { name } } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        viewer["data"]["viewer"],
        json!({ "kind": "PARTNER", "role": "PARTNER_REP", "partner": { "name": "Acme" } })
    );
    assert!(
        !run(&["token", "create", "--role", "PARTNER_REP"])
            .status
            .success(),
        "a partner role needs --partner"
    );
    let output = run(&[
        "client",
        "create",
        "--name",
        "CRM",
        "--partner",
        partner,
        "--scopes",
        "partners:read",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(printed["client_id"].as_str().unwrap().starts_with("pgci_"));
    assert!(printed["client_secret"]
        .as_str()
        .unwrap()
        .starts_with("pgcs_"));

    // SIGTERM: the server stops by itself, well within 10 s.
    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    let stopping = Instant::now();
    loop {
        if let Some(status) = server.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(
            stopping.elapsed() < Duration::from_secs(10),
            "server still running 10 s after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn token_create_then_serve_on_sqlite() {
    token_create_then_serve(Backend::Sqlite).await;
}

#[tokio::test]
async fn token_create_then_serve_on_postgres() {
    token_create_then_serve(Backend::Postgres).await;
}

#[test]
fn schema_command_prints_the_sdl() {
    let output = Command::new(BIN).arg("schema").output().unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        partnergraph::graphql::sdl()
    );
}

#[test]
fn bad_token_arguments_fail_with_a_message() {
    let database = TestDatabase::sqlite();
    for args in [
        vec!["token", "create", "--role", "WIZARD"],
        vec!["token", "create", "--role", "ADMIN", "--ttl", "forever"],
        vec![
            "token",
            "create",
            "--role",
            "ADMIN",
            "--scopes",
            "partners:read,everything",
        ],
    ] {
        let output = cli(database.url(), &args);
        assert!(!output.status.success(), "{args:?}");
        assert!(output.stdout.is_empty());
        assert!(!output.stderr.is_empty());
    }
}
