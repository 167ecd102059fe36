//! Persisted operations (SPEC §7): Apollo's automatic persisted queries
//! protocol, and trusted documents for partner tokens, registered with
//! `partnergraph documents add`.

use std::time::Duration;

use crate::helpers::error_code;
use partnergraph::domain::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const VIEWER: &str = "query Viewer { viewer { kind role } }";

fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

async fn get(
    app: &crate::helpers::TestApp,
    token: &str,
    params: &[(&str, String)],
) -> (StatusCode, Value) {
    let response = app
        .client
        .get(app.url("/graphql"))
        .query(params)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

backend_test!(automatic_persisted_queries, |app| {
    let hash = sha256(VIEWER);
    // 1. The hash alone: unknown yet.
    let (status, body) = app
        .post_json(&app.admin, json!({ "extensions": persisted(&hash) }))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(error_code(&body), "PERSISTED_QUERY_NOT_FOUND", "{body}");
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");
    // 2. The text with its hash: checked, run and remembered.
    let (_, body) = app
        .post_json(
            &app.admin,
            json!({ "query": VIEWER, "extensions": persisted(&hash) }),
        )
        .await;
    assert_eq!(body["data"]["viewer"]["kind"], "STAFF", "{body}");
    // 3. The hash alone now runs, by POST and by GET.
    let (_, body) = app
        .post_json(&app.admin, json!({ "extensions": persisted(&hash) }))
        .await;
    assert_eq!(body["data"]["viewer"]["role"], "ADMIN", "{body}");
    let (status, body) = get(
        &app,
        &app.admin,
        &[
            ("operationName", "Viewer".into()),
            ("extensions", persisted(&hash).to_string()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["viewer"]["kind"], "STAFF", "{body}");
    // A hash that is not the text's is refused.
    let (status, _) = app
        .post_json(
            &app.admin,
            json!({ "query": "{ viewer { kind } }", "extensions": persisted(&hash) }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Malformed `persistedQuery`.
    let (status, _) = app
        .post_json(
            &app.admin,
            json!({ "extensions": { "persistedQuery": { "version": 1 } } }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A persisted mutation still needs POST.
    let mutation = "mutation { updateSettings(input: {}) { userErrors { code } } }";
    let mutation_hash = sha256(mutation);
    app.post_json(
        &app.admin,
        json!({ "query": mutation, "extensions": persisted(&mutation_hash) }),
    )
    .await;
    let (status, _) = get(
        &app,
        &app.admin,
        &[("extensions", persisted(&mutation_hash).to_string())],
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
});

fn trusted() -> partnergraph::config::ServerConfig {
    partnergraph::config::ServerConfig {
        trusted_documents: true,
        ..Default::default()
    }
}

backend_test!(trusted_documents_limit_partner_tokens, trusted(), |app| {
    let partner = app.partner("Acme").await;
    let token = app.partner_token(&partner, Role::PartnerAdmin).await;

    // Registered by the operator with the CLI: a document file and a
    // graphql-codegen manifest.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("viewer.graphql");
    std::fs::write(&file, VIEWER).unwrap();
    let partners = "query Mine { partners { totalCount } }";
    let manifest = dir.path().join("persisted-documents.json");
    std::fs::write(&manifest, json!({ sha256(partners): partners }).to_string()).unwrap();
    let output = std::process::Command::new(crate::helpers::binary::BIN)
        .args(["documents", "add"])
        .arg(&file)
        .arg(&manifest)
        .args(["--database-url", &app.database_url()])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        printed,
        format!("{}\n{}\n", sha256(VIEWER), sha256(partners))
    );

    // Registered: by text, or by hash alone.
    let (_, body) = app.post_json(&token, json!({ "query": VIEWER })).await;
    assert_eq!(body["data"]["viewer"]["kind"], "PARTNER", "{body}");
    let (_, body) = app
        .post_json(
            &token,
            json!({ "extensions": persisted(&sha256(partners)) }),
        )
        .await;
    assert_eq!(body["data"]["partners"]["totalCount"], 1, "{body}");
    let (_, body) = get(
        &app,
        &token,
        &[("extensions", persisted(&sha256(VIEWER)).to_string())],
    )
    .await;
    assert_eq!(body["data"]["viewer"]["kind"], "PARTNER", "{body}");

    // Anything else is refused, before parsing, even APQ's registration step.
    for other in ["{ viewer { kind } }", "{{{ not even GraphQL"] {
        let (_, body) = app.post_json(&token, json!({ "query": other })).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
        assert!(body["data"].is_null());
        let (_, body) = app
            .post_json(
                &token,
                json!({ "query": other, "extensions": persisted(&sha256(other)) }),
            )
            .await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    }
    let (_, body) = app
        .post_json(&token, json!({ "extensions": persisted(&sha256("{ x }")) }))
        .await;
    assert_eq!(error_code(&body), "PERSISTED_QUERY_NOT_FOUND", "{body}");

    // Over WebSocket too.
    let mut socket = crate::helpers::ws::ready(&app, &token).await;
    crate::helpers::ws::subscribe(&mut socket, "1", "{ viewer { kind } }", json!({})).await;
    let message = crate::helpers::ws::next(&mut socket, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(message["type"], "error", "{message}");
    assert_eq!(message["payload"][0]["extensions"]["code"], "FORBIDDEN");
    crate::helpers::ws::subscribe(&mut socket, "2", VIEWER, json!({})).await;
    let payload = crate::helpers::ws::next_payload(&mut socket, "2").await;
    assert_eq!(payload["data"]["viewer"]["kind"], "PARTNER");

    // Staff tokens are not limited.
    let (_, body) = app
        .post_json(&app.admin, json!({ "query": "{ viewer { kind } }" }))
        .await;
    assert_eq!(body["data"]["viewer"]["kind"], "STAFF", "{body}");
});
