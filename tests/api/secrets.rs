//! Secrets at rest and in logs: webhook signing secrets are sealed with the
//! server key (`partnergraph::secrets`), a rotated server key still opens
//! what the old one sealed, rows written in plain text are sealed at start,
//! PostgreSQL refuses to start without a key; and no secret or token the
//! binary issues or receives appears in its logs, even at `trace`.

use std::{
    process::{Command, Stdio},
    time::Duration,
};

use crate::helpers::{
    binary::{
        admin_token, cli, count_where, free_address, graphql, serve_command, wait_ready, Server,
        BIN,
    },
    receiver::Receiver,
    ws, Backend, TestDatabase,
};
use partnergraph::{config::ServerConfig, secrets::SecretKeys};
use serde_json::{json, Value};

const CREATE: &str = "mutation($url: String!) { createWebhookEndpoint(input: { url: $url, eventTypes: [\"partner.created\"] }) { webhookEndpoint { id } secret userErrors { message } } }";
const ROTATE: &str = "mutation($id: ID!) { rotateWebhookSecret(input: { id: $id }) { secret userErrors { message } } }";
const CREATE_PARTNER: &str = "mutation($name: String!) { createPartner(input: { name: $name, type: RESELLER }) { partner { id } } }";

fn private_targets() -> ServerConfig {
    ServerConfig {
        webhook_allow_private: true,
        ..ServerConfig::default()
    }
}

/// The stored `(secret, previous_secret)` of every endpoint.
async fn stored(db: &sea_orm::DatabaseConnection) -> Vec<(String, Option<String>)> {
    use sea_orm::EntityTrait;
    entity::webhook_endpoint::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.secret, e.previous_secret))
        .collect()
}

backend_test!(
    webhook_secrets_are_stored_sealed,
    private_targets(),
    |app| {
        let receiver = Receiver::start().await;
        let data = app
            .admin_data(CREATE, json!({ "url": receiver.url() }))
            .await;
        let secret = data["createWebhookEndpoint"]["secret"]
            .as_str()
            .unwrap()
            .to_owned();
        let id = data["createWebhookEndpoint"]["webhookEndpoint"]["id"].clone();
        let rotated = app.admin_data(ROTATE, json!({ "id": id })).await;
        let new = rotated["rotateWebhookSecret"]["secret"]
            .as_str()
            .unwrap()
            .to_owned();
        let rows = stored(&app.db).await;
        assert_eq!(rows.len(), 1);
        let (current, previous) = &rows[0];
        let previous = previous.as_deref().unwrap();
        for (value, plain) in [(current.as_str(), &new), (previous, &secret)] {
            assert!(value.starts_with("enc1:"), "{value}");
            // Neither the secret nor its key material (after `whsec_`).
            assert!(
                !value.contains(plain.trim_start_matches("whsec_")),
                "{value}"
            );
        }
        // Deliveries sign with both, opened from the sealed values.
        let mut worker =
            partnergraph::webhooks::Settings::new(partnergraph::webhooks::target::TargetPolicy {
                allow_private: true,
            });
        worker.poll = Duration::from_millis(50);
        let _webhooks = partnergraph::webhooks::spawn(
            app.db.clone(),
            std::sync::Arc::new(app.clock.clone()),
            worker,
        )
        .unwrap();
        app.partner("Sealed").await;
        let delivery = &receiver.wait_for(1).await[0];
        assert!(delivery.verifies_with(&new));
        assert!(delivery.verifies_with(&secret));
    }
);

/// A clean exit on SIGTERM.
fn stop(server: Server) {
    let (_, success) = server.terminate(Duration::from_secs(15));
    assert!(success);
}

/// Starts the binary with `keys` (`PARTNERGRAPH_SECRET_KEY`, `…_PREVIOUS`)
/// and waits until it is ready.
async fn start_with_keys(url: &str, address: &str, keys: (Option<&str>, Option<&str>)) -> Server {
    let mut command = serve_command(
        url,
        address,
        &["--jobs-interval", "0", "--webhook-allow-private"],
    );
    command.env_remove("PARTNERGRAPH_SECRET_KEY");
    if let Some(key) = keys.0 {
        command.env("PARTNERGRAPH_SECRET_KEY", key);
    }
    if let Some(previous) = keys.1 {
        command.env("PARTNERGRAPH_SECRET_KEY_PREVIOUS", previous);
    }
    let server = Server::spawn(command);
    wait_ready(&reqwest::Client::new(), address).await;
    server
}

/// What `serve` says when it refuses to start with `keys`.
fn refusal(url: &str, keys: (Option<&str>, Option<&str>)) -> String {
    let mut command = Command::new(BIN);
    command
        .args(["serve", "--listen", &free_address()])
        .env("DATABASE_URL", url)
        .env_remove("PARTNERGRAPH_SECRET_KEY")
        .stdout(Stdio::null());
    if let Some(key) = keys.0 {
        command.env("PARTNERGRAPH_SECRET_KEY", key);
    }
    if let Some(previous) = keys.1 {
        command.env("PARTNERGRAPH_SECRET_KEY_PREVIOUS", previous);
    }
    let output = command.output().unwrap();
    assert!(!output.status.success(), "it must refuse to start");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

async fn server_keys_rotate_and_plain_rows_are_sealed(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        eprintln!("skipped: TEST_POSTGRES_URL is not set");
        return;
    };
    let url = database.url().to_owned();
    let db = database.migrated().await;
    let token = admin_token(&url);
    let client = reqwest::Client::new();
    let receiver = Receiver::start().await;
    let address = free_address();

    // The first key: on SQLite a key file made beside the database; on
    // PostgreSQL none is made, and the server refuses to start without one.
    let first_key = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => {
            let said = refusal(&url, (None, None));
            assert!(said.contains("PARTNERGRAPH_SECRET_KEY"), "{said}");
            Some(SecretKeys::generate())
        }
    };
    let server = start_with_keys(&url, &address, (first_key.as_deref(), None)).await;
    let first_key = first_key.unwrap_or_else(|| {
        let path = partnergraph::secrets::key_file_for(&url).unwrap();
        std::fs::read_to_string(path).unwrap().trim().to_owned()
    });
    let first_id = SecretKeys::parse(&first_key, None)
        .unwrap()
        .current_id()
        .to_owned();
    let (mut secrets, mut ids) = (Vec::new(), Vec::new());
    for _ in 0..2 {
        let answer = graphql(
            &client,
            &address,
            &token,
            CREATE,
            json!({ "url": receiver.url() }),
        )
        .await;
        let created = &answer["data"]["createWebhookEndpoint"];
        secrets.push(created["secret"].as_str().unwrap().to_owned());
        ids.push(
            created["webhookEndpoint"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let sealed_with = |rows: &[(String, Option<String>)], id: &str| {
        rows.iter()
            .all(|(s, _)| s.starts_with(&format!("enc1:{id}:")))
    };
    assert!(sealed_with(&stored(&db).await, &first_id));
    stop(server);

    // One row as an earlier version left it: the secret in plain text.
    use sea_orm::{sea_query::Expr, ColumnTrait, EntityTrait, QueryFilter};
    let plain = &secrets[1];
    let legacy =
        partnergraph::ids::decode_as(partnergraph::ids::NodeType::WebhookEndpoint, &ids[1])
            .unwrap();
    entity::webhook_endpoint::Entity::update_many()
        .col_expr(
            entity::webhook_endpoint::Column::Secret,
            Expr::value(plain.clone()),
        )
        .filter(entity::webhook_endpoint::Column::Id.eq(legacy))
        .exec(&db)
        .await
        .unwrap();
    assert_eq!(
        count_where(&db, "webhook_endpoint", &format!("secret = '{plain}'")).await,
        1
    );

    // Rotate the server key: the new one current, the old one previous.
    let second_key = SecretKeys::generate();
    let second_id = SecretKeys::parse(&second_key, None)
        .unwrap()
        .current_id()
        .to_owned();
    let server = start_with_keys(&url, &address, (Some(&second_key), Some(&first_key))).await;
    let rows = stored(&db).await;
    assert!(
        sealed_with(&rows, &second_id),
        "resealed at start: {rows:?}"
    );
    graphql(
        &client,
        &address,
        &token,
        CREATE_PARTNER,
        json!({ "name": "Rotated" }),
    )
    .await;
    let received = receiver.wait_for(2).await;
    for secret in &secrets {
        assert!(
            received.iter().any(|r| r.verifies_with(secret)),
            "old secrets still sign"
        );
    }
    stop(server);

    // Everything is sealed with the new key now: the old one may go.
    let server = start_with_keys(&url, &address, (Some(&second_key), None)).await;
    graphql(
        &client,
        &address,
        &token,
        CREATE_PARTNER,
        json!({ "name": "Without the old key" }),
    )
    .await;
    let received = receiver.wait_for(4).await;
    for secret in &secrets {
        assert!(received[2..].iter().any(|r| r.verifies_with(secret)));
    }
    stop(server);

    // A key that opens none of them is refused at start, by key id.
    let said = refusal(&url, (Some(&SecretKeys::generate()), None));
    assert!(
        said.contains(&second_id) && said.contains("PARTNERGRAPH_SECRET_KEY_PREVIOUS"),
        "{said}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_keys_rotate_and_plain_rows_are_sealed_on_sqlite() {
    server_keys_rotate_and_plain_rows_are_sealed(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_keys_rotate_and_plain_rows_are_sealed_on_postgres() {
    server_keys_rotate_and_plain_rows_are_sealed(Backend::Postgres).await;
}

/// Every secret the binary issues or is sent, in every flow that handles
/// one (tokens from the CLI and the token endpoint, client secrets, webhook
/// secrets and their rotation, signed deliveries, WebSocket `connection_init`,
/// revocation, a wrong token), then the server's `trace` log (JSON lines)
/// read for each of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_or_token_reaches_the_logs() {
    let database = TestDatabase::sqlite();
    let url = database.url().to_owned();
    let log_dir = tempfile::tempdir().unwrap();
    let log_path = log_dir.path().join("server.log");
    let mut issued = vec![admin_token(&url)];
    let token = issued[0].clone();
    let created = cli(
        &url,
        [
            "client",
            "create",
            "--name",
            "Logs",
            "--scopes",
            "partners:read",
        ],
    );
    assert!(created.status.success(), "{created:?}");
    let created: Value = serde_json::from_slice(&created.stdout).unwrap();
    let client_id = created["client_id"].as_str().unwrap().to_owned();
    issued.push(created["client_secret"].as_str().unwrap().to_owned());

    let address = free_address();
    let mut command = serve_command(
        &url,
        &address,
        &["--jobs-interval", "0", "--webhook-allow-private"],
    );
    command
        .env("RUST_LOG", "trace")
        .env("LOG_FORMAT", "json")
        .stderr(std::fs::File::create(&log_path).unwrap());
    let server = Server::spawn(command);
    let client = reqwest::Client::new();
    wait_ready(&client, &address).await;
    let receiver = Receiver::start().await;

    let endpoint = graphql(
        &client,
        &address,
        &token,
        CREATE,
        json!({ "url": receiver.url() }),
    )
    .await;
    issued.push(
        endpoint["data"]["createWebhookEndpoint"]["secret"]
            .as_str()
            .unwrap()
            .to_owned(),
    );
    let id = endpoint["data"]["createWebhookEndpoint"]["webhookEndpoint"]["id"].clone();
    let rotated = graphql(&client, &address, &token, ROTATE, json!({ "id": id })).await;
    issued.push(
        rotated["data"]["rotateWebhookSecret"]["secret"]
            .as_str()
            .unwrap()
            .to_owned(),
    );
    graphql(
        &client,
        &address,
        &token,
        CREATE_PARTNER,
        json!({ "name": "Logged" }),
    )
    .await;
    let delivery = receiver.wait_for(1).await.remove(0);
    issued.push(
        delivery.headers["webhook-signature"]
            .to_str()
            .unwrap()
            .to_owned(),
    );

    let form = format!(
        "grant_type=client_credentials&client_id={client_id}&client_secret={}",
        issued[1]
    );
    let granted: Value = client
        .post(format!("http://{address}/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = granted["access_token"].as_str().unwrap().to_owned();
    issued.push(access.clone());
    let mut socket = ws::ready_at(&address, &access).await;
    ws::send(
        &mut socket,
        json!({ "type": "subscribe", "id": "1", "payload": { "query": "{ viewer { kind } }" } }),
    )
    .await;
    assert!(ws::next(&mut socket, Duration::from_secs(5))
        .await
        .is_some());
    let wrong = "pg_this_token_does_not_exist_0123456789";
    issued.push(wrong.to_owned());
    graphql(&client, &address, wrong, "{ viewer { kind } }", json!({})).await;
    let revoked = client
        .post(format!("http://{address}/oauth/revoke"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "token={access}&client_id={client_id}&client_secret={}",
            issued[1]
        ))
        .send()
        .await
        .unwrap();
    assert!(revoked.status().is_success(), "{revoked:?}");
    drop(socket);
    let (_, success) = server.terminate(Duration::from_secs(15));
    assert!(success);

    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.lines().count() > 50, "a trace log was written:\n{log}");
    for secret in &issued {
        // The whole value, and the part after any well-known prefix.
        let core = secret.rsplit(['_', ',']).next().unwrap_or(secret);
        let line = log.lines().find(|l| l.contains(secret.as_str()));
        assert!(line.is_none(), "`{secret}` is in the log: {line:?}");
        assert!(
            core.len() < 16 || !log.contains(core),
            "part of `{secret}` is in the log"
        );
    }
}
