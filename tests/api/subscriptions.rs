//! Subscriptions and the event feed over the real server: WebSocket clients
//! (the graphql-ws-client crate and a raw one for the protocol's edges),
//! both protocols, the partner view, resumption without gap or duplicate,
//! revocation, and a second replica on the same PostgreSQL database.

use std::time::Duration;

use crate::helpers::{deal, ws, Backend, TestApp};
use futures_util::{SinkExt, StreamExt};
use partnergraph::{config::ServerConfig, domain::Role};
use serde_json::{json, Value};

const REGISTRATION_EVENTS: [&str; 2] = [
    "deal_registration.submitted",
    "deal_registration.status_changed",
];
const EVENTS: &str = "subscription($after: String, $types: [String!]) { events(after: $after, types: $types) { cursor type subjectId data } }";

/// Every key anywhere in a JSON value.
fn keys(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                into.push(key.clone());
                keys(inner, into);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| keys(v, into)),
        _ => {}
    }
}

backend_test!(
    a_partner_subscriber_sees_its_own_changes_in_the_partner_view,
    |app| {
        let a = app.partner("Alpha Referrals").kind("REFERRAL").await;
        let b = app.partner("Beta Referrals").kind("REFERRAL").await;
        let rep_a = app.partner_token(&a, Role::PartnerRep).await;
        let rep_b = app.partner_token(&b, Role::PartnerRep).await;

        // A standard graphql-transport-ws client for A; a raw one for B's whole feed.
        let (_client, mut changes_a) = ws::standard_subscription(
        &app,
        &rep_a,
        "subscription { dealRegistrationStatusChanged { dealRegistration { reference status } previousStatus status cursor } }",
        json!({}),
    )
    .await;
        let mut feed_a = ws::ready(&app, &rep_a).await;
        ws::subscribe(
            &mut feed_a,
            "a",
            EVENTS,
            json!({ "types": REGISTRATION_EVENTS }),
        )
        .await;
        let mut feed_b = ws::ready(&app, &rep_b).await;
        ws::subscribe(&mut feed_b, "b", EVENTS, json!({})).await;
        tokio::time::sleep(Duration::from_millis(200)).await;

        let registration = app
            .register_deal(&rep_a, deal("Globex").with("notes", json!("partner notes")))
            .await;
        app.approve(&registration).await;

        let change = tokio::time::timeout(Duration::from_secs(10), changes_a.next())
            .await
            .expect("A's change arrives")
            .expect("the stream is open")
            .expect("a response");
        let change = &change["data"]["dealRegistrationStatusChanged"];
        assert_eq!(change["status"], "APPROVED");
        assert_eq!(change["previousStatus"], "SUBMITTED");
        assert_eq!(change["dealRegistration"]["status"], "APPROVED");

        // A's feed: submitted, then the status change, in the partner view.
        let submitted = ws::next_payload(&mut feed_a, "a").await;
        assert_eq!(
            submitted["data"]["events"]["type"],
            "deal_registration.submitted"
        );
        let status = ws::next_payload(&mut feed_a, "a").await;
        let event = &status["data"]["events"];
        assert_eq!(event["type"], "deal_registration.status_changed");
        assert_eq!(event["subjectId"], registration);
        assert_eq!(event["data"]["dealRegistration"]["status"], "APPROVED");
        assert_eq!(event["data"]["dealRegistration"]["notes"], "partner notes");
        let mut seen = Vec::new();
        keys(event, &mut seen);
        for internal in ["internalNotes", "partnerId", "reviewedBy", "conflicts"] {
            assert!(
                !seen.contains(&internal.to_owned()),
                "{internal} leaked: {event}"
            );
        }

        // B sees none of it: its first event is its own.
        app.register_deal(&rep_b, deal("Initech")).await;
        let first_b = ws::next_payload(&mut feed_b, "b").await;
        assert_eq!(
            first_b["data"]["events"]["type"],
            "deal_registration.submitted"
        );
        assert_ne!(first_b["data"]["events"]["subjectId"], registration);
        while let Some(other) = ws::next(&mut feed_b, Duration::from_millis(300)).await {
            assert!(!other.to_string().contains("Globex"), "{other}");
            assert_ne!(
                other["payload"]["data"]["events"]["subjectId"],
                registration
            );
        }
    }
);

backend_test!(
    a_client_resuming_from_its_cursor_misses_nothing_and_sees_nothing_twice,
    |app| {
        let partner = app.partner("Resumable").await;
        let types = json!(["partner.tier_changed"]);
        let mut socket = ws::ready(&app, &app.admin).await;
        ws::subscribe(&mut socket, "1", EVENTS, json!({ "types": types })).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        app.update_partner(&partner, json!({ "tier": "SILVER" }))
            .await;
        let first = ws::next_payload(&mut socket, "1").await;
        let cursor = first["data"]["events"]["cursor"]
            .as_str()
            .unwrap()
            .to_owned();
        drop(socket);

        // Three changes while away.
        for tier in ["GOLD", "PLATINUM", "BRONZE"] {
            app.update_partner(&partner, json!({ "tier": tier })).await;
        }
        let mut socket = ws::ready(&app, &app.admin).await;
        ws::subscribe(
            &mut socket,
            "2",
            EVENTS,
            json!({ "types": types, "after": cursor }),
        )
        .await;
        let mut tiers = Vec::new();
        for _ in 0..3 {
            let payload = ws::next_payload(&mut socket, "2").await;
            tiers.push(payload["data"]["events"]["data"]["tier"].clone());
        }
        assert_eq!(tiers, [json!("GOLD"), json!("PLATINUM"), json!("BRONZE")]);
        // Then live ones, and nothing twice.
        app.update_partner(&partner, json!({ "tier": "SILVER" }))
            .await;
        let live = ws::next_payload(&mut socket, "2").await;
        assert_eq!(live["data"]["events"]["data"]["tier"], "SILVER");
        assert!(ws::next(&mut socket, Duration::from_millis(300))
            .await
            .is_none());
    }
);

backend_test!(
    the_events_query_pages_the_same_feed_in_the_partner_view,
    |app| {
        let a = app.partner("Polling A").kind("REFERRAL").await;
        let b = app.partner("Polling B").kind("REFERRAL").await;
        let rep_a = app.partner_token(&a, Role::PartnerRep).await;
        let rep_b = app.partner_token(&b, Role::PartnerRep).await;
        let ra = app.register_deal(&rep_a, deal("Umbrella")).await;
        app.register_deal(&rep_b, deal("Hooli")).await;
        app.approve(&ra).await;

        let query = "query($after: String, $types: [String!]) { events(first: 1, after: $after, types: $types) {
        edges { cursor node { type subjectId data } } pageInfo { hasNextPage endCursor } } }";
        let mut after = Value::Null;
        let mut seen = Vec::new();
        loop {
            let variables = json!({ "after": after, "types": REGISTRATION_EVENTS });
            let (_, body) = app.post(&rep_a, query, variables).await;
            assert!(body["errors"].is_null(), "{body}");
            let page = &body["data"]["events"];
            for edge in page["edges"].as_array().unwrap() {
                seen.push(edge["node"].clone());
            }
            after = page["pageInfo"]["endCursor"].clone();
            if page["pageInfo"]["hasNextPage"] == false {
                break;
            }
        }
        let types: Vec<&str> = seen.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(
            types,
            [
                "deal_registration.submitted",
                "deal_registration.status_changed"
            ]
        );
        assert!(seen.iter().all(|e| e["subjectId"] == ra));
        // Unfiltered, A's feed holds its own partner's events only.
        let (_, body) = app
            .post(
                &rep_a,
                "{ events(first: 100) { edges { node { type data } } } }",
                json!({}),
            )
            .await;
        let all: Vec<&str> = body["data"]["events"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            all,
            [
                "partner.created",
                "deal_registration.submitted",
                "partner.milestone_reached",
                "opportunity.created",
                "deal_registration.status_changed"
            ]
        );
        assert!(!body.to_string().contains("Polling B"), "{body}");
        // Staff see everything, partners' internal event types included.
        let (_, body) = app
            .post(
                &app.admin,
                "{ events(first: 100) { edges { node { type } } } }",
                json!({}),
            )
            .await;
        eprintln!("STAFF {body}");
        let (_, body) = app
            .post(
                &rep_a,
                "{ events(first: 100) { edges { cursor node { type } } } }",
                json!({}),
            )
            .await;
        eprintln!("PARTNER {body}");
        assert!(body["data"]["events"]["edges"].as_array().unwrap().len() > 4);
        // Bad arguments name themselves.
        let (_, body) = app
            .post(
                &rep_a,
                "{ events(types: [\"nope\"]) { edges { cursor } } }",
                json!({}),
            )
            .await;
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("`types`"),
            "{body}"
        );
        let (_, body) = app
            .post(
                &rep_a,
                "{ events(after: \"x\") { edges { cursor } } }",
                json!({}),
            )
            .await;
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("`after`"),
            "{body}"
        );
    }
);

backend_test!(the_protocol_edges_close_with_their_codes, |app| {
    let wait = Duration::from_secs(5);
    // A bad token in connection_init: 4403.
    let mut socket = ws::connect(&app, "graphql-transport-ws").await;
    ws::send(
        &mut socket,
        json!({ "type": "connection_init", "payload": { "authorization": "Bearer pgat_nope" } }),
    )
    .await;
    assert_eq!(ws::close_code(&mut socket, wait).await, Some(4403));
    // Subscribing before the ack: 4401.
    let mut socket = ws::connect(&app, "graphql-transport-ws").await;
    ws::subscribe(&mut socket, "1", "{ viewer { kind } }", json!({})).await;
    assert_eq!(ws::close_code(&mut socket, wait).await, Some(4401));
    // Not JSON: 4400.
    let mut socket = ws::ready(&app, &app.admin).await;
    socket
        .send(tokio_tungstenite::tungstenite::Message::Text("{".into()))
        .await
        .unwrap();
    assert_eq!(ws::close_code(&mut socket, wait).await, Some(4400));
    // A second connection_init: 4429.
    let mut socket = ws::ready(&app, &app.admin).await;
    ws::send(
        &mut socket,
        json!({ "type": "connection_init", "payload": { "Authorization": app.admin } }),
    )
    .await;
    assert_eq!(ws::close_code(&mut socket, wait).await, Some(4429));
    // A second operation with an id in use: 4409.
    let mut socket = ws::ready(&app, &app.admin).await;
    ws::subscribe(&mut socket, "same", EVENTS, json!({})).await;
    ws::subscribe(&mut socket, "same", EVENTS, json!({})).await;
    assert_eq!(ws::close_code(&mut socket, wait).await, Some(4409));
    // No subprotocol we speak: refused before the upgrade.
    let response = app
        .client
        .get(app.url("/graphql"))
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .header("sec-websocket-protocol", "mqtt")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
});

backend_test!(operations_run_over_websocket_like_over_http, |app| {
    // graphql-transport-ws, the token in the upgrade request: a query, pinged.
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(format!(
            "ws://{}/graphql",
            app.address
        ))
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {}", app.admin).parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    ws::send(&mut socket, json!({ "type": "connection_init" })).await;
    assert_eq!(
        ws::next(&mut socket, Duration::from_secs(5)).await.unwrap()["type"],
        "connection_ack"
    );
    ws::send(&mut socket, json!({ "type": "ping" })).await;
    assert_eq!(
        ws::next(&mut socket, Duration::from_secs(5)).await.unwrap()["type"],
        "pong"
    );
    ws::subscribe(&mut socket, "q", "{ viewer { kind role } }", json!({})).await;
    let payload = ws::next_payload(&mut socket, "q").await;
    assert_eq!(payload["data"]["viewer"]["role"], "ADMIN");
    let complete = ws::next(&mut socket, Duration::from_secs(5)).await.unwrap();
    assert_eq!(complete, json!({ "type": "complete", "id": "q" }));
    // A validation error is an `error` message naming the problem.
    ws::subscribe(&mut socket, "bad", "{ viewer { nope } }", json!({})).await;
    let error = ws::next(&mut socket, Duration::from_secs(5)).await.unwrap();
    assert_eq!(error["type"], "error");
    assert_eq!(error["payload"][0]["extensions"]["code"], "BAD_USER_INPUT");

    // The legacy protocol: start, data, complete; stop ends a subscription.
    let mut legacy = ws::connect(&app, "graphql-ws").await;
    ws::send(
        &mut legacy,
        json!({ "type": "connection_init", "payload": { "Authorization": app.admin } }),
    )
    .await;
    assert_eq!(
        ws::next(&mut legacy, Duration::from_secs(5)).await.unwrap()["type"],
        "connection_ack"
    );
    ws::send(
        &mut legacy,
        json!({ "type": "start", "id": "1", "payload": { "query": "{ viewer { kind } }" } }),
    )
    .await;
    let data = ws::next(&mut legacy, Duration::from_secs(5)).await.unwrap();
    assert_eq!(data["type"], "data");
    assert_eq!(data["payload"]["data"]["viewer"]["kind"], "STAFF");
    assert_eq!(
        ws::next(&mut legacy, Duration::from_secs(5)).await.unwrap()["type"],
        "complete"
    );
    let partner = app.partner("Legacy Watch").await;
    ws::send(&mut legacy, json!({ "type": "start", "id": "2", "payload": { "query": "subscription($p: ID) { partnerStatusChanged(partnerId: $p) { status partner { name } } }", "variables": { "p": partner } } })).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.set_partner_status(&partner, "SIGNED").await;
    let data = ws::next(&mut legacy, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(
        data["payload"]["data"]["partnerStatusChanged"]["status"],
        "SIGNED"
    );
    assert_eq!(
        data["payload"]["data"]["partnerStatusChanged"]["partner"]["name"],
        "Legacy Watch"
    );
    ws::send(&mut legacy, json!({ "type": "stop", "id": "2" })).await;
    ws::send(&mut legacy, json!({ "type": "connection_terminate" })).await;
});

backend_test!(a_partner_subscription_obeys_the_partner_view, |app| {
    let a = app.partner("Viewed").kind("REFERRAL").await;
    let rep = app.partner_token(&a, Role::PartnerRep).await;
    let mut socket = ws::ready(&app, &rep).await;
    // An internal field fails exactly like a field that does not exist.
    ws::subscribe(
        &mut socket,
        "1",
        "subscription { dealRegistrationStatusChanged { dealRegistration { internalNotes } } }",
        json!({}),
    )
    .await;
    let refused = ws::next(&mut socket, Duration::from_secs(5)).await.unwrap();
    assert_eq!(refused["type"], "error", "{refused}");
    let message = refused["payload"][0]["message"].as_str().unwrap();
    ws::subscribe(
        &mut socket,
        "2",
        "subscription { dealRegistrationStatusChanged { dealRegistration { noSuchField } } }",
        json!({}),
    )
    .await;
    let unknown = ws::next(&mut socket, Duration::from_secs(5)).await.unwrap();
    assert_eq!(
        message.replace("internalNotes", "X"),
        unknown["payload"][0]["message"]
            .as_str()
            .unwrap()
            .replace("noSuchField", "X")
    );
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_connection_times_out_with_4408() {
    let config = ServerConfig {
        ws_init_timeout: Duration::from_millis(300),
        ..ServerConfig::default()
    };
    let app = TestApp::spawn_with(Backend::Sqlite, config).await.unwrap();
    let mut socket = ws::connect(&app, "graphql-transport-ws").await;
    assert_eq!(
        ws::close_code(&mut socket, Duration::from_secs(5)).await,
        Some(4408)
    );
}

backend_test!(
    a_revoked_token_ends_its_subscriptions_within_five_seconds,
    |app| {
        let created = app
        .admin_data(
            "mutation { createApiClient(input: { name: \"portal\", role: ADMIN, scopes: [\"partners:read\"] }) { apiClient { id clientId } clientSecret } }",
            json!({}),
        )
        .await;
        let client = &created["createApiClient"];
        let response = app
            .client
            .post(app.url("/oauth/token"))
            .basic_auth(
                client["apiClient"]["clientId"].as_str().unwrap(),
                client["clientSecret"].as_str(),
            )
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        let token: Value = response.json().await.unwrap();
        let token = token["access_token"].as_str().unwrap();
        let mut socket = ws::ready(&app, token).await;
        ws::subscribe(
            &mut socket,
            "1",
            "subscription { partnerStatusChanged { status } }",
            json!({}),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        app.admin_data(
            "mutation($id: ID!) { revokeApiClient(input: { id: $id }) { userErrors { code } } }",
            json!({ "id": client["apiClient"]["id"] }),
        )
        .await;
        let started = std::time::Instant::now();
        assert_eq!(
            ws::close_code(&mut socket, Duration::from_secs(5)).await,
            Some(4403)
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_through_one_replica_reaches_a_subscriber_on_another() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        eprintln!("skipped: TEST_POSTGRES_URL is not set");
        return;
    };
    // A second server process's worth of state on the same database.
    let db = partnergraph::db::connect(&app.database_url())
        .await
        .unwrap();
    let state = partnergraph::AppState::new(
        db,
        std::sync::Arc::new(app.clock.clone()),
        ServerConfig::default(),
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let other = listener.local_addr().unwrap().to_string();
    tokio::spawn(partnergraph::serve(listener, state, std::future::pending()));

    let partner = app.partner("Replicated").await;
    let mut socket = ws::ready_at(&other, &app.admin).await;
    ws::subscribe(
        &mut socket,
        "1",
        EVENTS,
        json!({ "types": ["partner.tier_changed"] }),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    app.update_partner(&partner, json!({ "tier": "GOLD" }))
        .await;
    let event = ws::next_payload(&mut socket, "1").await;
    assert_eq!(event["data"]["events"]["data"]["tier"], "GOLD");
    // By NOTIFY, not by the once-a-second poll.
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
}

backend_test!(identical_subscriptions_share_work_but_not_rights, |app| {
    let a = app.partner("Shared A").kind("REFERRAL").await;
    let b = app.partner("Shared B").kind("REFERRAL").await;
    let rep_a = app.partner_token(&a, Role::PartnerRep).await;
    let other_rep_a = app.partner_token(&a, Role::PartnerRep).await;
    let rep_b = app.partner_token(&b, Role::PartnerRep).await;
    // The same query and variables from two of A's tokens and one of B's.
    let mut first_a = ws::ready(&app, &rep_a).await;
    let mut second_a = ws::ready(&app, &other_rep_a).await;
    let mut only_b = ws::ready(&app, &rep_b).await;
    for socket in [&mut first_a, &mut second_a, &mut only_b] {
        let submitted = json!({ "types": ["deal_registration.submitted"] });
        ws::subscribe(socket, "s", EVENTS, submitted).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let registration = app.register_deal(&rep_a, deal("Sharedco")).await;
    for socket in [&mut first_a, &mut second_a] {
        let event = ws::next_payload(socket, "s").await;
        assert_eq!(event["data"]["events"]["subjectId"], registration);
    }
    assert!(ws::next(&mut only_b, Duration::from_millis(300))
        .await
        .is_none());
    // One member leaving does not end the other's subscription.
    ws::send(&mut first_a, json!({ "type": "complete", "id": "s" })).await;
    app.register_deal(&rep_a, deal("Sharedtoo")).await;
    let event = ws::next_payload(&mut second_a, "s").await;
    assert_eq!(
        event["data"]["events"]["type"],
        "deal_registration.submitted"
    );
    assert!(ws::next(&mut first_a, Duration::from_millis(300))
        .await
        .is_none());
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutting_down_closes_sockets_with_going_away() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let mut socket = ws::ready(&app, &app.admin).await;
    ws::subscribe(&mut socket, "1", EVENTS, json!({})).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(app); // stops the server gracefully
    assert_eq!(
        ws::close_code(&mut socket, Duration::from_secs(5)).await,
        Some(1001)
    );
}
