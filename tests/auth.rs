//! Bearer tokens and role rights (SPEC §2).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::error_code;
use partnergraph::domain::Role;
use reqwest::StatusCode;
use serde_json::json;

backend_test!(requests_without_a_valid_token_are_unauthenticated, |app| {
    let query = json!({ "query": "{ viewer { kind } }" });
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&query)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    assert!(body.get("data").is_none());

    for bad in ["pgat_nope", "nope", ""] {
        let (status, body) = app.post(bad, "{ viewer { kind } }", json!({})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(error_code(&body), "UNAUTHENTICATED");
    }
});

backend_test!(expired_tokens_stop_working, |app| {
    let token = app.token(Role::Viewer, "viewer@example.com", None).await;
    let (status, _) = app.post(&token, "{ viewer { kind } }", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    app.clock.advance(chrono::Duration::days(2));
    let (status, body) = app.post(&token, "{ viewer { kind } }", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
});

backend_test!(roles_and_scopes_limit_every_operation, |app| {
    let create =
        "mutation { createPartner(input: { name: \"Acme\", type: MSP }) { partner { id } } }";
    let viewer = app.token(Role::Viewer, "viewer@example.com", None).await;
    let manager = app
        .token(Role::PartnerManager, "pm@example.com", None)
        .await;
    let sales = app.token(Role::Sales, "sales@example.com", None).await;
    let narrow = app
        .token(
            Role::Admin,
            "narrow@example.com",
            Some("registrations:read"),
        )
        .await;

    let (_, body) = app.post(&viewer, create, json!({})).await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let (_, body) = app.post(&sales, create, json!({})).await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let (_, body) = app.post(&manager, create, json!({})).await;
    assert!(
        body["data"]["createPartner"]["partner"]["id"].is_string(),
        "{body}"
    );

    let (_, body) = app
        .post(
            &viewer,
            "{ partners { totalCount } settings { version } }",
            json!({}),
        )
        .await;
    assert_eq!(body["data"]["partners"]["totalCount"], 1, "{body}");
    let (_, body) = app
        .post(&narrow, "{ partners { totalCount } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let (_, body) = app
        .post(&narrow, "{ viewer { role scopes } }", json!({}))
        .await;
    assert_eq!(
        body["data"]["viewer"],
        json!({ "role": "ADMIN", "scopes": ["registrations:read"] })
    );

    let (_, body) = app
        .post(&manager, "{ auditLog { totalCount } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let (_, body) = app.post(&manager, "mutation { updateSettings(input: { protectionDays: 10 }) { settings { protectionDays } } }", json!({})).await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let (_, body) = app
        .post(&app.admin, "{ auditLog { totalCount } }", json!({}))
        .await;
    assert_eq!(body["data"]["auditLog"]["totalCount"], 1);
});
