//! Bearer tokens and role rights (SPEC §2).

use crate::helpers::error_code;
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

// A token's lookup is remembered for `token_cache_ttl`; a revocation this
// process did not make (another replica's) takes effect within that time.
backend_test!(
    token_lookups_are_remembered_for_a_moment_only,
    partnergraph::config::ServerConfig {
        token_cache_ttl: std::time::Duration::from_secs(2),
        ..Default::default()
    },
    |app| {
        // Any revocation in this process makes every kept lookup stale, and
        // other tests of this binary revoke tokens: if one did between the
        // two requests, measure again with a new token.
        let (token, first, second) = 'measured: {
            for _ in 0..10 {
                let revocations = partnergraph::auth::cache::revocations();
                let token = app.token(Role::Viewer, "cached@example.com", None).await;
                let ask = || app.post(&token, "{ viewer { kind } }", json!({}));
                let before = app.sql_statements().await;
                assert_eq!(ask().await.0, StatusCode::OK);
                let first = app.sql_statements().await - before;
                let before = app.sql_statements().await;
                assert_eq!(ask().await.0, StatusCode::OK);
                let second = app.sql_statements().await - before;
                if partnergraph::auth::cache::revocations() == revocations {
                    break 'measured (token, first, second);
                }
            }
            panic!("other tests revoked tokens during every measurement");
        };
        let ask = || app.post(&token, "{ viewer { kind } }", json!({}));
        assert_eq!(
            second,
            first - 1,
            "the second request skips the token lookup"
        );

        // Revoked behind this server's back, as another replica would.
        let revoked = std::time::Instant::now();
        sea_orm::ConnectionTrait::execute_unprepared(
            &app.db,
            "UPDATE access_token SET revoked_at = created_at",
        )
        .await
        .unwrap();
        loop {
            let (status, body) = ask().await;
            if status == StatusCode::UNAUTHORIZED {
                assert_eq!(error_code(&body), "UNAUTHENTICATED");
                break;
            }
            assert!(
                revoked.elapsed() < std::time::Duration::from_secs(4),
                "a revoked token still works after the cache's lifetime"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
);
