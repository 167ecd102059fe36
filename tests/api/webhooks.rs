//! Webhooks end to end (SPEC §6): a real axum receiver on loopback, the real
//! dispatcher and worker, deliveries checked with the Standard Webhooks
//! library, on SQLite and on PostgreSQL.

use std::{collections::HashMap, sync::Arc, time::Duration};

use crate::helpers::{binary::free_address, receiver::Receiver, TestApp};
use partnergraph::{
    config::ServerConfig,
    domain::Role,
    policy::partner_view,
    webhooks::{self, target::TargetPolicy, Settings},
};
use serde_json::{json, Value};

/// Private webhook targets allowed: the receiver is on loopback.
fn private_targets() -> ServerConfig {
    ServerConfig {
        webhook_allow_private: true,
        ..ServerConfig::default()
    }
}

/// The dispatcher and a worker for this test's database.
fn start_webhooks(app: &TestApp, replica: &str) -> webhooks::Runtime {
    let mut settings = Settings::new(TargetPolicy {
        allow_private: true,
    });
    settings.poll = Duration::from_millis(50);
    settings.replica = replica.to_owned();
    webhooks::spawn(app.db.clone(), Arc::new(app.clock.clone()), settings).unwrap()
}

const CREATE: &str = "mutation($input: CreateWebhookEndpointInput!) {
    createWebhookEndpoint(input: $input) {
        webhookEndpoint { id url eventTypes enabled version }
        secret
        userErrors { field code message }
    } }";

/// Registers an endpoint as `token`; returns its id and secret.
async fn create_endpoint(
    app: &TestApp,
    token: &str,
    url: &str,
    types: &[&str],
) -> (String, String) {
    let (_, body) = app
        .post(
            token,
            CREATE,
            json!({ "input": { "url": url, "eventTypes": types } }),
        )
        .await;
    let payload = &body["data"]["createWebhookEndpoint"];
    assert_eq!(payload["userErrors"], json!([]), "{body}");
    let secret = payload["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    (
        payload["webhookEndpoint"]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
        secret,
    )
}

const DELIVERIES: &str = "query($id: ID!) { node(id: $id) { ... on WebhookEndpoint {
    enabled disabledReason failingSince
    deliveries(first: 50) { totalCount edges { node {
        id webhookId eventType status attemptCount nextAttemptAt payload
        attempts { attemptedAt statusCode latencyMs error succeeded }
    } } } } } }";

async fn endpoint_state(app: &TestApp, token: &str, endpoint: &str) -> Value {
    let (_, body) = app.post(token, DELIVERIES, json!({ "id": endpoint })).await;
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["node"].clone()
}

/// Polls the endpoint until `done` holds.
async fn wait_until(app: &TestApp, endpoint: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..400 {
        let state = endpoint_state(app, &app.admin, endpoint).await;
        if done(&state) {
            return state;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "the endpoint never reached the expected state: {}",
        endpoint_state(app, &app.admin, endpoint).await
    );
}

fn deliveries(state: &Value) -> Vec<Value> {
    state["deliveries"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

/// A tier change that touches internal fields too, which no payload may carry.
async fn set_tier(app: &TestApp, partner: &str, tier: &str) {
    let changes =
        json!({ "tier": tier, "internalNotes": "secret margin talk", "marginPercent": "12.5" });
    app.update_partner(partner, changes).await;
}

backend_test!(
    staff_endpoints_receive_signed_events_with_attempts_on_record,
    private_targets(),
    |app| {
        let receiver = Receiver::start().await;
        let _webhooks = start_webhooks(&app, "replica-a");
        let (endpoint, secret) =
            create_endpoint(&app, &app.admin, &receiver.url(), &["partner.created"]).await;
        let acme = app.partner("Acme").await;

        let received = receiver.wait_for(1).await;
        let delivery = &received[0];
        assert!(delivery.verifies_with(&secret), "the signature must verify");
        assert!(!delivery.verifies_with(&partnergraph::webhooks::signing::new_secret()));
        let body = delivery.json();
        assert_eq!(body["type"], "partner.created");
        assert_eq!(body["data"]["partner"]["id"], acme.as_str());
        assert!(body["timestamp"].is_string());
        // Staff endpoints get the full payload.
        assert!(body["data"]["partner"].get("internalNotes").is_some());

        let state = wait_until(&app, &endpoint, |s| {
            deliveries(s)
                .first()
                .is_some_and(|d| d["status"] == "SUCCEEDED")
        })
        .await;
        let recorded = &deliveries(&state)[0];
        assert_eq!(recorded["webhookId"], delivery.webhook_id().as_str());
        assert_eq!(recorded["eventType"], "partner.created");
        assert_eq!(recorded["attemptCount"], 1);
        assert_eq!(recorded["payload"], body);
        assert_eq!(recorded["attempts"][0]["statusCode"], 200);
        assert_eq!(recorded["attempts"][0]["succeeded"], true);
        assert_eq!(recorded["nextAttemptAt"], Value::Null);

        // Only the types asked for.
        set_tier(&app, &acme, "GOLD").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(receiver.received().len(), 1);

        // The list, and the test event to this endpoint only.
        let data = app
            .admin_data(
                "{ webhookEndpoints { totalCount edges { node { id url } } } }",
                json!({}),
            )
            .await;
        assert_eq!(data["webhookEndpoints"]["totalCount"], 1);
        let data = app
        .admin_data(
            "mutation($id: ID!) { sendTestWebhook(input: { id: $id }) { webhookDelivery { eventType status } userErrors { message } } }",
            json!({ "id": endpoint }),
        )
        .await;
        assert_eq!(
            data["sendTestWebhook"]["webhookDelivery"]["eventType"],
            "webhook.test"
        );
        let received = receiver.wait_for(2).await;
        assert_eq!(received[1].json()["type"], "webhook.test");
        assert!(received[1].verifies_with(&secret));
    }
);

backend_test!(
    a_partner_endpoint_gets_only_its_own_events_in_the_partner_view,
    private_targets(),
    |app| {
        let receiver = Receiver::start().await;
        let _webhooks = start_webhooks(&app, "replica-a");
        let acme = app.partner("Acme").await;
        let globex = app.partner("Globex").await;
        let token = app.partner_token(&acme, Role::PartnerAdmin).await;

        // Internal event types and unknown ones are refused, naming the field.
        for refused in [
            "deal_registration.conflict_detected",
            "no.such_type",
            "webhook.test",
        ] {
            let (_, body) = app
                .post(
                    &token,
                    CREATE,
                    json!({ "input": { "url": receiver.url(), "eventTypes": [refused] } }),
                )
                .await;
            let errors = &body["data"]["createWebhookEndpoint"]["userErrors"];
            assert_eq!(errors[0]["field"], json!(["input", "eventTypes"]), "{body}");
        }
        // A partner rep may not manage webhooks.
        let rep = app.partner_token(&acme, Role::PartnerRep).await;
        let (_, body) = app
        .post(&rep, CREATE, json!({ "input": { "url": receiver.url(), "eventTypes": ["partner.tier_changed"] } }))
        .await;
        assert_eq!(crate::helpers::error_code(&body), "FORBIDDEN");

        let (endpoint, secret) =
            create_endpoint(&app, &token, &receiver.url(), &["partner.tier_changed"]).await;
        set_tier(&app, &globex, "GOLD").await;
        set_tier(&app, &acme, "SILVER").await;

        let received = receiver.wait_for(1).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(receiver.received().len(), 1, "only Acme's own event");
        let delivery = &received[0];
        assert!(delivery.verifies_with(&secret));
        let body = delivery.json();
        assert_eq!(body["type"], "partner.tier_changed");
        let partner = body["data"]["partner"].as_object().unwrap();
        assert_eq!(partner["id"], acme.as_str());
        // The leak check: every key of the payload is partner-visible.
        for key in partner.keys() {
            assert!(
                partner_view::is_visible("Partner", key),
                "internal field `{key}` reached a partner webhook: {body}"
            );
        }
        assert!(!delivery.body.windows(6).any(|w| w == b"secret"), "{body}");

        // The partner sees its own endpoint and deliveries; another partner sees neither.
        let state = endpoint_state(&app, &token, &endpoint).await;
        assert_eq!(state["deliveries"]["totalCount"], 1);
        let other = app.partner_token(&globex, Role::PartnerAdmin).await;
        let (_, body) = app
            .post(&other, DELIVERIES, json!({ "id": endpoint }))
            .await;
        assert_eq!(body["data"]["node"], Value::Null);
        let (_, body) = app
            .post(&other, "{ webhookEndpoints { totalCount } }", json!({}))
            .await;
        assert_eq!(body["data"]["webhookEndpoints"]["totalCount"], 0);
        let (_, body) = app
        .post(&other, "mutation($id: ID!) { deleteWebhookEndpoint(input: { id: $id }) { userErrors { field code } } }", json!({ "id": endpoint }))
        .await;
        assert_eq!(
            body["data"]["deleteWebhookEndpoint"]["userErrors"][0]["code"],
            "NOT_FOUND"
        );
    }
);

backend_test!(
    a_receiver_that_was_down_gets_the_event_on_a_retry,
    private_targets(),
    |app| {
        // A port with nobody listening yet.
        let address = free_address().parse().unwrap();
        let _webhooks = start_webhooks(&app, "replica-a");
        let url = format!("http://{address}/hook");
        let (endpoint, secret) =
            create_endpoint(&app, &app.admin, &url, &["partner.created"]).await;
        app.partner("Acme").await;

        // (Each field is read on its own, so wait for both the delivery and the endpoint.)
        let state = wait_until(&app, &endpoint, |s| {
            s["failingSince"].is_string()
                && deliveries(s)
                    .first()
                    .is_some_and(|d| d["attemptCount"] == 1)
        })
        .await;
        let delivery = &deliveries(&state)[0];
        assert_eq!(delivery["status"], "PENDING");
        assert_eq!(delivery["attempts"][0]["statusCode"], Value::Null);
        assert!(delivery["attempts"][0]["error"]
            .as_str()
            .unwrap()
            .contains("connect"));
        assert!(state["failingSince"].is_string(), "{state}");

        // Back up; five seconds later (on the app clock) the retry is due.
        let receiver = Receiver::start_on(address).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(receiver.received().is_empty(), "not before it is due");
        app.clock.advance(chrono::Duration::seconds(5));
        let received = receiver.wait_for(1).await;
        assert!(received[0].verifies_with(&secret));
        let state = wait_until(&app, &endpoint, |s| {
            deliveries(s)[0]["status"] == "SUCCEEDED" && s["failingSince"].is_null()
        })
        .await;
        assert_eq!(deliveries(&state)[0]["attemptCount"], 2);
    }
);

backend_test!(
    gone_disables_the_endpoint_and_so_do_five_days_of_failure,
    private_targets(),
    |app| {
        let receiver = Receiver::start().await;
        let _webhooks = start_webhooks(&app, "replica-a");
        let (endpoint, _) =
            create_endpoint(&app, &app.admin, &receiver.url(), &["partner.created"]).await;
        receiver.answer_with(410);
        app.partner("Acme").await;
        let state = wait_until(&app, &endpoint, |s| {
            s["enabled"] == false
                && deliveries(s)
                    .first()
                    .is_some_and(|d| d["status"] == "FAILED")
        })
        .await;
        assert_eq!(state["disabledReason"], "GONE");
        let data = app
        .admin_data("{ events(types: [\"webhook_endpoint.disabled\"]) { edges { node { type data } } } }", json!({}))
        .await;
        let events = data["events"]["edges"].as_array().unwrap();
        assert_eq!(events.len(), 1, "{data}");
        assert_eq!(events[0]["node"]["data"]["reason"], "GONE");

        // Failing, not gone: disabled once every attempt failed for five days.
        receiver.answer_with(500);
        let (failing, _) =
            create_endpoint(&app, &app.admin, &receiver.url(), &["partner.created"]).await;
        app.partner("Globex").await;
        let state = wait_until(&app, &failing, |s| s["failingSince"].is_string()).await;
        assert!(state["enabled"] == true);
        app.clock.advance(chrono::Duration::days(5));
        app.partner("Initech").await;
        let state = wait_until(&app, &failing, |s| s["enabled"] == false).await;
        assert_eq!(state["disabledReason"], "FAILING");
        // Turning it back on starts afresh.
        let data = app
        .admin_data(
            "mutation($id: ID!) { updateWebhookEndpoint(input: { id: $id, enabled: true, expectedVersion: 1 }) { webhookEndpoint { enabled } userErrors { code } } }",
            json!({ "id": failing }),
        )
        .await;
        assert_eq!(
            data["updateWebhookEndpoint"]["userErrors"][0]["code"],
            "STALE_VERSION"
        );
        let data = app
        .admin_data(
            "mutation($id: ID!) { updateWebhookEndpoint(input: { id: $id, enabled: true, expectedVersion: 2 }) { webhookEndpoint { enabled disabledReason failingSince version } userErrors { code } } }",
            json!({ "id": failing }),
        )
        .await;
        assert_eq!(
            data["updateWebhookEndpoint"]["webhookEndpoint"],
            json!({ "enabled": true, "disabledReason": null, "failingSince": null, "version": 3 })
        );
    }
);

backend_test!(
    after_a_rotation_both_secrets_sign_for_a_day,
    private_targets(),
    |app| {
        let receiver = Receiver::start().await;
        let _webhooks = start_webhooks(&app, "replica-a");
        let (endpoint, old) =
            create_endpoint(&app, &app.admin, &receiver.url(), &["partner.created"]).await;
        let data = app
        .admin_data(
            "mutation($id: ID!) { rotateWebhookSecret(input: { id: $id }) { secret webhookEndpoint { previousSecretExpiresAt } userErrors { message } } }",
            json!({ "id": endpoint }),
        )
        .await;
        let new = data["rotateWebhookSecret"]["secret"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_ne!(new, old);
        assert_eq!(
            data["rotateWebhookSecret"]["webhookEndpoint"]["previousSecretExpiresAt"],
            "2026-11-22T09:00:00+00:00"
        );
        let test =
            "mutation($id: ID!) { sendTestWebhook(input: { id: $id }) { userErrors { message } } }";
        app.admin_data(test, json!({ "id": endpoint })).await;
        let received = receiver.wait_for(1).await;
        let signatures = received[0].headers["webhook-signature"].to_str().unwrap();
        assert_eq!(signatures.split(' ').count(), 2, "{signatures}");
        assert!(received[0].verifies_with(&old));
        assert!(received[0].verifies_with(&new));

        app.clock.advance(chrono::Duration::hours(25));
        app.admin_data(test, json!({ "id": endpoint })).await;
        let received = receiver.wait_for(2).await;
        assert!(!received[1].verifies_with(&old), "the old secret expired");
        assert!(received[1].verifies_with(&new));
    }
);

backend_test!(
    a_delivery_can_be_redelivered_with_the_same_webhook_id,
    private_targets(),
    |app| {
        let receiver = Receiver::start().await;
        let _webhooks = start_webhooks(&app, "replica-a");
        let (endpoint, secret) =
            create_endpoint(&app, &app.admin, &receiver.url(), &["partner.created"]).await;
        app.partner("Acme").await;
        receiver.wait_for(1).await;
        let state = wait_until(&app, &endpoint, |s| {
            deliveries(s)[0]["status"] == "SUCCEEDED"
        })
        .await;
        let delivery = deliveries(&state)[0]["id"].as_str().unwrap().to_owned();
        let data = app
        .admin_data(
            "mutation($id: ID!) { redeliverWebhookDelivery(input: { id: $id }) { webhookDelivery { status attemptCount } userErrors { message } } }",
            json!({ "id": delivery }),
        )
        .await;
        assert_eq!(
            data["redeliverWebhookDelivery"]["webhookDelivery"],
            json!({ "status": "PENDING", "attemptCount": 0 })
        );
        let received = receiver.wait_for(2).await;
        assert_eq!(received[0].webhook_id(), received[1].webhook_id());
        assert_eq!(received[0].body, received[1].body);
        assert!(received[1].verifies_with(&secret));
        let state = wait_until(&app, &endpoint, |s| {
            deliveries(s)[0]["status"] == "SUCCEEDED"
        })
        .await;
        assert_eq!(
            deliveries(&state)[0]["attempts"].as_array().unwrap().len(),
            2
        );
        // Deleting removes the endpoint with its deliveries.
        let data = app
        .admin_data("mutation($id: ID!) { deleteWebhookEndpoint(input: { id: $id }) { deletedWebhookEndpointId userErrors { message } } }", json!({ "id": endpoint }))
        .await;
        assert_eq!(
            data["deleteWebhookEndpoint"]["deletedWebhookEndpointId"],
            endpoint.as_str()
        );
        assert_eq!(app.count("webhook_delivery").await, 0);
        assert_eq!(app.count("webhook_attempt").await, 0);
    }
);

backend_test!(
    two_workers_on_one_database_make_each_attempt_once,
    private_targets(),
    |app| {
        let receiver = Receiver::start().await;
        let (endpoint, secret) =
            create_endpoint(&app, &app.admin, &receiver.url(), &["partner.created"]).await;
        let _a = start_webhooks(&app, "replica-a");
        let _b = start_webhooks(&app, "replica-b");
        const N: usize = 40;
        for i in 0..N {
            app.partner(&format!("Partner {i}")).await;
        }
        let received = receiver.wait_for(N).await;
        wait_until(&app, &endpoint, |s| {
            s["deliveries"]["totalCount"] == N
                && deliveries(s).iter().all(|d| d["status"] == "SUCCEEDED")
        })
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let received_now = receiver.received();
        assert_eq!(
            received_now.len(),
            N,
            "each delivery attempted exactly once"
        );
        let mut by_id: HashMap<String, usize> = HashMap::new();
        for r in &received {
            assert!(r.verifies_with(&secret));
            *by_id.entry(r.webhook_id()).or_default() += 1;
        }
        assert_eq!(by_id.len(), N);
        assert_eq!(app.count("webhook_attempt").await, N as i64);
    }
);

/// Without `--webhook-allow-private`, internal targets and plain http are refused.
async fn refuses_internal_targets(app: TestApp) {
    for url in [
        "http://hooks.example.com/in",
        "https://127.0.0.1/hook",
        "https://10.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://localhost/hook",
        "https://localhost:8443/hook",
        "ftp://hooks.example.com/in",
        "not a url",
    ] {
        let (_, body) = app
            .post(
                &app.admin,
                CREATE,
                json!({ "input": { "url": url, "eventTypes": ["partner.created"] } }),
            )
            .await;
        let payload = &body["data"]["createWebhookEndpoint"];
        assert_eq!(payload["webhookEndpoint"], Value::Null, "{url}: {body}");
        assert_eq!(
            payload["userErrors"][0]["field"],
            json!(["input", "url"]),
            "{url}: {body}"
        );
        assert_eq!(payload["userErrors"][0]["code"], "INVALID_VALUE");
    }
    // A public https URL is accepted (it is not contacted at registration).
    let (_, body) = app
        .post(&app.admin, CREATE, json!({ "input": { "url": "https://8.8.8.8/hook", "eventTypes": ["partner.created"] } }))
        .await;
    assert_eq!(
        body["data"]["createWebhookEndpoint"]["userErrors"],
        json!([]),
        "{body}"
    );
}

backend_test!(internal_targets_are_refused_at_registration, |app| {
    refuses_internal_targets(app).await;
});

backend_test!(
    deliveries_check_the_target_again_after_resolving_it,
    private_targets(),
    |app| {
        // Registered while private targets were allowed; the worker no longer allows them.
        let receiver = Receiver::start().await;
        let url = format!("https://localhost:{}/hook", receiver.address.port());
        let (endpoint, _) = create_endpoint(&app, &app.admin, &url, &["partner.created"]).await;
        let mut settings = Settings::new(TargetPolicy::default());
        settings.poll = Duration::from_millis(50);
        let _strict =
            webhooks::spawn(app.db.clone(), Arc::new(app.clock.clone()), settings).unwrap();
        app.partner("Acme").await;
        let state = wait_until(&app, &endpoint, |s| {
            deliveries(s)
                .first()
                .is_some_and(|d| d["attemptCount"] == 1)
        })
        .await;
        let error = deliveries(&state)[0]["attempts"][0]["error"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            error.contains("resolves only to internal addresses"),
            "{error}"
        );
        assert!(receiver.received().is_empty());
    }
);

backend_test!(
    a_dead_replicas_lease_expires_and_another_replica_retries,
    private_targets(),
    |app| {
        let receiver = Receiver::start().await;
        let (endpoint, secret) =
            create_endpoint(&app, &app.admin, &receiver.url(), &["partner.created"]).await;
        app.partner("Acme").await;
        use partnergraph::clock::Clock;
        webhooks::dispatch::dispatch_all(&app.db, app.clock.now())
            .await
            .unwrap();
        // A replica claims the delivery and dies before attempting it.
        let mut settings = Settings::new(TargetPolicy {
            allow_private: true,
        });
        settings.replica = "dead-replica".into();
        let dead = webhooks::deliver::Worker {
            client: webhooks::http_client(&settings).unwrap(),
            db: app.db.clone(),
            clock: Arc::new(app.clock.clone()),
            settings,
        };
        let claimed = dead.claim(10).await.unwrap();
        assert_eq!(claimed.len(), 1);

        let _alive = start_webhooks(&app, "live-replica");
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(receiver.received().is_empty(), "leased to the dead replica");
        app.clock.advance(chrono::Duration::seconds(31));
        let received = receiver.wait_for(1).await;
        assert!(received[0].verifies_with(&secret));
        wait_until(&app, &endpoint, |s| {
            deliveries(s)[0]["status"] == "SUCCEEDED"
        })
        .await;
        // Had it woken up, the dead replica could no longer record anything.
        assert!(!dead.record(&claimed[0], None, None).await.unwrap());
        assert_eq!(app.count("webhook_attempt").await, 1);
    }
);
