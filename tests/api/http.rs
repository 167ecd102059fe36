//! GraphQL over HTTP and the limits of SPEC §7: every bad request gets a
//! clear 4xx or GraphQL error, never a 5xx, a panic or a hang.

use crate::helpers::error_code;
use reqwest::{header, StatusCode};
use serde_json::{json, Value};

async fn raw(
    app: &crate::helpers::TestApp,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> (StatusCode, String) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&app.admin)
        .header(header::CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

backend_test!(malformed_requests_get_4xx_with_a_reason, |app| {
    let (status, body) = raw(&app, "application/json", "{not json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("not valid JSON"), "{body}");

    let (status, body) = raw(&app, "application/json", vec![0xff, 0xfe, b'{']).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("UTF-8"), "{body}");

    let (status, _) = raw(&app, "text/plain", r#"{"query":"{ viewer { kind } }"}"#).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let (status, body) = raw(
        &app,
        "application/json",
        r#"[{"query":"{ viewer { kind } }"}]"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("batched"), "{body}");

    let (status, _) = raw(&app, "application/json", r#"{"query": 5}"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = raw(
        &app,
        "application/json",
        r#"{"query":"{ viewer { kind } }","variables":[1]}"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A body over the limit that the client waits to send (`Expect:
    // 100-continue`) is refused from its Content-Length alone; a raw socket
    // shows it. Bodies sent at once are read first (tests/api/oversized.rs).
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(app.address).await.unwrap();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nAuthorization: Bearer {}\r\nContent-Length: {}\r\n\r\n",
        app.admin,
        2 * 1024 * 1024
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 64];
    let read = socket.read(&mut answer).await.unwrap();
    assert!(String::from_utf8_lossy(&answer[..read]).starts_with("HTTP/1.1 413"));

    let (status, _) = raw(
        &app,
        "application/json; charset=utf-8",
        r#"{"query":"{ viewer { kind } }"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
});

backend_test!(graphql_errors_name_the_problem_without_suggestions, |app| {
    let (status, body) = app
        .post(
            &app.admin,
            "{ partners { edges { node { internalNote } } } }",
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("internalNote"), "{message}");
    assert!(!message.contains("Did you mean"), "{message}");
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert!(body.get("data").is_none());

    let (_, body) = app
        .post(
            &app.admin,
            "{ partners(filter: { status: [HAPPY] }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("HAPPY"));

    let (_, body) = app
        .post(
            &app.admin,
            "query($s: [PartnerStatus!]) { partners(filter: { status: $s }) { totalCount } }",
            json!({ "s": ["HAPPY"] }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");

    let create =
        "mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id } } }";
    let (_, body) = app
        .post(
            &app.admin,
            create,
            json!({ "input": { "name": "A", "type": "MSP", "marginPercent": "abc" } }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("input.marginPercent"),
        "{body}"
    );

    let (_, body) = app.post(&app.admin, "{ viewer { kind ", json!({})).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");

    let (_, body) = app
        .post(&app.admin, "query A { viewer { kind } }", json!({}))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&app.admin)
        .json(&json!({ "query": "query A { viewer { kind } }", "operationName": "B" }))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
});

backend_test!(graphql_response_json_uses_status_codes, |app| {
    let send = |query: &'static str| {
        app.client
            .post(app.url("/graphql"))
            .bearer_auth(&app.admin)
            .header(header::ACCEPT, "application/graphql-response+json")
            .json(&json!({ "query": query }))
            .send()
    };
    let response = send("{ nope }").await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("application/graphql-response+json"));
    let response = send("{ viewer { kind } }").await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = send("{ partners(first: 500) { totalCount } }")
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "a field error still executed"
    );

    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&app.admin)
        .header(header::ACCEPT, "text/xml")
        .json(&json!({ "query": "{ viewer { kind } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_ACCEPTABLE);
});

backend_test!(queries_by_get_and_mutations_only_by_post, |app| {
    let get = |query: &str| {
        app.client
            .get(app.url("/graphql"))
            .bearer_auth(&app.admin)
            .query(&[("query", query)])
            .send()
    };
    let response = get("{ viewer { kind } }").await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["viewer"]["kind"], "STAFF");

    let response =
        get("mutation { createPartner(input: { name: \"X\", type: MSP }) { partner { id } } }")
            .await
            .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()[header::ALLOW], "POST");
    assert_eq!(app.count("partner").await, 0);

    let response = app
        .client
        .get(app.url("/graphql"))
        .header(header::ACCEPT, "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("graphiql"));
});

backend_test!(request_ids_travel_in_and_out, |app| {
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&app.admin)
        .header("x-request-id", "req-123")
        .json(&json!({ "query": "{ viewer { kind } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "req-123");
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert!(!response.headers()["x-request-id"].is_empty());
});

backend_test!(
    depth_complexity_and_alias_limits_answer_query_too_complex,
    |app| {
        let mut deep = String::from("name");
        for _ in 0..14 {
            deep = format!("ofType {{ {deep} }}");
        }
        let (_, body) = app
            .post(
                &app.admin,
                &format!("{{ __type(name: \"Query\") {{ fields {{ type {{ {deep} }} }} }} }}"),
                json!({}),
            )
            .await;
        assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX", "{body}");

        let expensive = "{ partners(first: 100) { edges { node { contacts(first: 100) { edges { node { id name email role } } } } } } }";
        let (_, body) = app.post(&app.admin, expensive, json!({})).await;
        assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX", "{body}");

        let aliases: String = (0..40)
            .map(|i| format!("a{i}: viewer {{ kind }} "))
            .collect();
        let (_, body) = app
            .post(&app.admin, &format!("{{ {aliases} }}"), json!({}))
            .await;
        assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX", "{body}");

        let depth =
            "{ partners { edges { node { contacts { edges { node { id } } } owner { id } } } } }";
        let (_, body) = app.post(&app.admin, depth, json!({})).await;
        assert!(body["errors"].is_null(), "{body}");
    }
);

backend_test!(health_and_readiness, |app| {
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
});

backend_test!(metrics_count_requests_and_sql_statements, |app| {
    app.post(&app.admin, "{ viewer { kind } }", json!({})).await;
    app.post(&app.admin, "{ nope }", json!({})).await;
    app.post("pgat_wrong", "{ viewer { kind } }", json!({}))
        .await;
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    for line in [
        r#"partnergraph_graphql_requests_total{operation_type="query",outcome="ok"} 1"#,
        r#"partnergraph_graphql_requests_total{operation_type="query",outcome="error"} 1"#,
        r#"partnergraph_graphql_requests_total{operation_type="unknown",outcome="unauthenticated"} 1"#,
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
    assert!(text.contains("partnergraph_graphql_request_duration_seconds_bucket"));
    assert!(text.contains(r#"partnergraph_sql_statements_total{outcome="ok"}"#));
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_cost_is_reported_and_limited_per_principal() {
    use partnergraph::config::{Limits, ServerConfig};
    let limits = Limits {
        query_cost_budget: 30_000,
        query_cost_refill_per_second: 1,
        ..Limits::default()
    };
    let app = crate::helpers::TestApp::spawn_with(
        crate::helpers::Backend::Sqlite,
        ServerConfig {
            limits,
            ..ServerConfig::default()
        },
    )
    .await
    .unwrap();
    let cheap = "{ viewer { kind } }";
    let (_, body) = app.post(&app.admin, cheap, json!({})).await;
    let cost = &body["extensions"]["cost"];
    assert_eq!(cost["requestedQueryCost"], 2, "{body}");
    assert_eq!(cost["actualQueryCost"], 2);
    assert_eq!(cost["throttleStatus"]["maximumAvailable"], 30_000);
    assert_eq!(cost["throttleStatus"]["restoreRate"], 1);

    // A page of 100 with a nested page of 100 costs far more than one field.
    let expensive = "{ partners(first: 100) { edges { node { contacts(first: 50) { edges { node { id } } } } } } }";
    let (status, body) = app.post(&app.admin, expensive, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let spent = body["extensions"]["cost"]["requestedQueryCost"]
        .as_i64()
        .unwrap();
    assert!(spent > 15_000, "{body}");
    let (status, body) = app.post(&app.admin, expensive, json!({})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(error_code(&body), "RATE_LIMITED");
    assert!(
        body["errors"][0]["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"]
            .as_i64()
            .unwrap()
            < spent
    );

    // Another principal has its own budget.
    let other = app
        .token(
            partnergraph::domain::Role::Viewer,
            "other@example.com",
            None,
        )
        .await;
    let (status, _) = app.post(&other, expensive, json!({})).await;
    assert_eq!(status, StatusCode::OK);
}

backend_test!(idempotency_keys_replay_mutations_for_a_day, |app| {
    let create = "mutation($name: String!) { createPartner(input: { name: $name, type: MSP }) { partner { id } userErrors { code } } }";
    let send = |key: &'static str, name: &'static str| {
        app.client
            .post(app.url("/graphql"))
            .bearer_auth(&app.admin)
            .header("idempotency-key", key)
            .json(&json!({ "query": create, "variables": { "name": name } }))
            .send()
    };
    let first = send("order-1", "Acme").await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let first: Value = first.json().await.unwrap();
    let again = send("order-1", "Acme").await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(first, again, "the first response, replayed");
    assert_eq!(app.count("partner").await, 1, "the work was not done twice");

    let different = send("order-1", "Other").await.unwrap();
    assert_eq!(different.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let bad_key = send("has space", "Acme").await.unwrap();
    assert_eq!(bad_key.status(), StatusCode::BAD_REQUEST);

    // Another principal's key space is its own; after a day a key is forgotten.
    let other = app
        .token(partnergraph::domain::Role::Admin, "other@example.com", None)
        .await;
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&other)
        .header("idempotency-key", "order-1")
        .json(&json!({ "query": create, "variables": { "name": "Beta" } }))
        .send()
        .await
        .unwrap();
    assert!(response.headers().get("idempotent-replayed").is_none());
    app.clock.advance(chrono::Duration::hours(25));
    let later: Value = send("order-1", "Gamma")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        later["data"]["createPartner"]["partner"]["id"].is_string(),
        "{later}"
    );
    assert_eq!(app.count("partner").await, 3);
});
