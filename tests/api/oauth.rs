//! OAuth2 client credentials with a standard client library (the `oauth2`
//! crate, unchanged), and what its tokens may do.

use std::num::NonZeroU32;

use crate::helpers::{
    binary::{free_address, wait_ready, Server},
    error_code, Backend, TestApp,
};
use oauth2::{
    basic::{BasicClient, BasicErrorResponseType},
    AuthType, ClientId, ClientSecret, EndpointNotSet, EndpointSet, RequestTokenError,
    ResourceOwnerPassword, ResourceOwnerUsername, Scope, TokenResponse, TokenUrl,
};
use partnergraph::config::{Limits, ServerConfig};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Creates a client through GraphQL as the admin; returns (client_id, secret, global id).
async fn create_client(
    app: &TestApp,
    partner_id: Option<&str>,
    scopes: &[&str],
) -> (String, String, String) {
    let data = app
        .admin_data(
            "mutation($input: CreateApiClientInput!) { createApiClient(input: $input) {
                apiClient { id clientId } clientSecret userErrors { field code message } } }",
            json!({ "input": { "name": "CRM sync", "partnerId": partner_id, "scopes": scopes } }),
        )
        .await;
    let payload = &data["createApiClient"];
    assert_eq!(payload["userErrors"], json!([]), "{payload}");
    (
        payload["apiClient"]["clientId"]
            .as_str()
            .unwrap()
            .to_owned(),
        payload["clientSecret"].as_str().unwrap().to_owned(),
        payload["apiClient"]["id"].as_str().unwrap().to_owned(),
    )
}

/// The standard library's client for `id`, authenticating with HTTP Basic.
fn token_client(
    app: &TestApp,
    id: &str,
    secret: &str,
) -> BasicClient<EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet> {
    BasicClient::new(ClientId::new(id.to_owned()))
        .set_client_secret(ClientSecret::new(secret.to_owned()))
        .set_token_uri(TokenUrl::new(app.url("/oauth/token")).unwrap())
}

fn http() -> oauth2::reqwest::Client {
    oauth2::reqwest::Client::builder()
        .redirect(oauth2::reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

backend_test!(
    a_standard_client_gets_a_token_and_calls_graphql_with_it,
    |app| {
        let partner = app.partner("Acme").await;
        app.partner("Other").await;
        let (client_id, secret, _) = create_client(&app, Some(&partner), &["partners:read"]).await;
        let client = token_client(&app, &client_id, &secret);
        let token = client
            .exchange_client_credentials()
            .request_async(&http())
            .await
            .unwrap();
        assert!(token.access_token().secret().starts_with("pgat_"));
        assert_eq!(token.expires_in().map(|d| d.as_secs()), Some(3600));
        assert_eq!(
            token
                .scopes()
                .map(|s| s.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
            Some(vec!["partners:read".into()])
        );

        let (status, body) = app
            .post(
                token.access_token().secret(),
                "{ viewer { kind role partner { id } } partners { totalCount } }",
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["data"]["viewer"]["kind"], "PARTNER");
        assert_eq!(body["data"]["viewer"]["role"], "PARTNER_ADMIN");
        assert_eq!(body["data"]["viewer"]["partner"]["id"], partner.as_str());
        assert_eq!(body["data"]["partners"]["totalCount"], 1);

        // Form-field authentication works too.
        let form_client = BasicClient::new(ClientId::new(client_id))
            .set_client_secret(ClientSecret::new(secret))
            .set_auth_type(AuthType::RequestBody)
            .set_token_uri(TokenUrl::new(app.url("/oauth/token")).unwrap());
        form_client
            .exchange_client_credentials()
            .request_async(&http())
            .await
            .unwrap();
    }
);

backend_test!(
    bad_credentials_grants_and_scopes_get_rfc_6749_errors,
    |app| {
        let (client_id, secret, _) = create_client(&app, None, &["partners:read"]).await;
        let token_url = TokenUrl::new(app.url("/oauth/token")).unwrap();
        let client = |id: &str, secret: &str| {
            BasicClient::new(ClientId::new(id.to_owned()))
                .set_client_secret(ClientSecret::new(secret.to_owned()))
                .set_token_uri(token_url.clone())
        };
        let error_of = |result: Result<
            _,
            RequestTokenError<_, oauth2::basic::BasicErrorResponse>,
        >| match result {
            Err(RequestTokenError::ServerResponse(response)) => response.error().clone(),
            other => panic!(
                "expected an error response, got {:?}",
                other.map(|_: oauth2::basic::BasicTokenResponse| ())
            ),
        };

        let wrong_secret = client(&client_id, "pgcs_wrong")
            .exchange_client_credentials()
            .request_async(&http())
            .await;
        assert_eq!(
            error_of(wrong_secret),
            BasicErrorResponseType::InvalidClient
        );
        let unknown_id = client("pgci_nobody", &secret)
            .exchange_client_credentials()
            .request_async(&http())
            .await;
        assert_eq!(error_of(unknown_id), BasicErrorResponseType::InvalidClient);

        let password = client(&client_id, &secret)
            .exchange_password(
                &ResourceOwnerUsername::new("u".into()),
                &ResourceOwnerPassword::new("p".into()),
            )
            .request_async(&http())
            .await;
        assert_eq!(
            error_of(password),
            BasicErrorResponseType::UnsupportedGrantType
        );

        let too_wide = client(&client_id, &secret)
            .exchange_client_credentials()
            .add_scope(Scope::new("partners:write".into()))
            .request_async(&http())
            .await;
        assert_eq!(error_of(too_wide), BasicErrorResponseType::InvalidScope);

        // The raw answers: 401 for a bad client, and nothing tells an unknown id from a wrong secret.
        let post = |body: String| {
            app.client
                .post(app.url("/oauth/token"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
        };
        let wrong = post(format!(
            "grant_type=client_credentials&client_id={client_id}&client_secret=nope"
        ))
        .await
        .unwrap();
        let unknown =
            post("grant_type=client_credentials&client_id=pgci_x&client_secret=nope".into())
                .await
                .unwrap();
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(wrong.text().await.unwrap(), unknown.text().await.unwrap());
        let json_body = app
            .client
            .post(app.url("/oauth/token"))
            .json(&json!({ "grant_type": "client_credentials" }))
            .send()
            .await
            .unwrap();
        assert_eq!(json_body.status(), StatusCode::BAD_REQUEST);
        let body: Value = json_body.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request");
    }
);

backend_test!(revoked_expired_and_narrow_tokens_stop_at_the_door, |app| {
    let partner = app.partner("Acme").await;
    let (client_id, secret, client_node) = create_client(
        &app,
        Some(&partner),
        &["partners:read", "registrations:read"],
    )
    .await;
    let client = token_client(&app, &client_id, &secret);
    let query = "{ partners { totalCount } }";

    // RFC 7009 revocation. (The library insists on an https revocation URL,
    // which a loopback test server does not have, so the request is sent as
    // the library would send it.)
    let token = client
        .exchange_client_credentials()
        .request_async(&http())
        .await
        .unwrap();
    let (status, _) = app
        .post(token.access_token().secret(), query, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let revoked = app
        .client
        .post(app.url("/oauth/revoke"))
        .basic_auth(&client_id, Some(&secret))
        .form(&[
            ("token", token.access_token().secret().as_str()),
            ("token_type_hint", "access_token"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    let (status, body) = app
        .post(token.access_token().secret(), query, json!({}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&body), "UNAUTHENTICATED");

    // Expiry after an hour.
    let token = client
        .exchange_client_credentials()
        .request_async(&http())
        .await
        .unwrap();
    let (status, _) = app
        .post(token.access_token().secret(), query, json!({}))
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "used once, so its lookup is remembered"
    );
    app.clock.advance(chrono::Duration::minutes(61));
    let (_, body) = app
        .post(token.access_token().secret(), query, json!({}))
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");

    // A token without partners:read cannot read partners.
    let narrow = client
        .exchange_client_credentials()
        .add_scope(Scope::new("registrations:read".into()))
        .request_async(&http())
        .await
        .unwrap();
    let (_, body) = app
        .post(narrow.access_token().secret(), query, json!({}))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");

    // Revoking the client ends every token it holds, at once.
    let token = client
        .exchange_client_credentials()
        .request_async(&http())
        .await
        .unwrap();
    let (status, _) = app
        .post(token.access_token().secret(), query, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let data = app
        .admin_data(
            "mutation($id: ID!) { revokeApiClient(input: { id: $id }) { apiClient { revokedAt } userErrors { code } } }",
            json!({ "id": client_node }),
        )
        .await;
    assert!(
        data["revokeApiClient"]["apiClient"]["revokedAt"].is_string(),
        "{data}"
    );
    let (_, body) = app
        .post(token.access_token().secret(), query, json!({}))
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    let again = client
        .exchange_client_credentials()
        .request_async(&http())
        .await;
    assert!(
        matches!(again, Err(RequestTokenError::ServerResponse(ref r)) if *r.error() == BasicErrorResponseType::InvalidClient)
    );
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_endpoint_is_rate_limited_per_client() {
    let limits = Limits {
        token_requests_per_minute_per_client: NonZeroU32::new(3).unwrap(),
        ..Limits::default()
    };
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        ServerConfig {
            limits,
            ..ServerConfig::default()
        },
    )
    .await
    .unwrap();
    let (client_id, secret, _) = create_client(&app, None, &["partners:read"]).await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let response = app
            .client
            .post(app.url("/oauth/token"))
            .basic_auth(&client_id, Some(&secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_replica_refuses_a_revoked_token_at_once() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        eprintln!("skipped: TEST_POSTGRES_URL is not set");
        return;
    };
    // A second server process on the same database that would remember
    // tokens for a minute: only the revocation's NOTIFY can reach it sooner.
    let address = free_address();
    let args = ["--jobs-interval", "0", "--token-cache-ms", "60000"];
    let _replica = Server::start(&app.database_url(), &address, &args);
    let other = format!("http://{address}/graphql");
    wait_ready(&app.client, &address).await;

    // The replica keeps the wall clock: bring the test's clock to it, so the
    // token issued below has not expired there.
    {
        use partnergraph::clock::Clock;
        app.clock.advance(chrono::Utc::now() - app.clock.now());
    }
    let partner = app.partner("Replicated").await;
    let (client_id, secret, _) = create_client(&app, Some(&partner), &["partners:read"]).await;
    let client = token_client(&app, &client_id, &secret);
    let token = client
        .exchange_client_credentials()
        .request_async(&http())
        .await
        .unwrap();
    let ask_other = || {
        app.client
            .post(&other)
            .bearer_auth(token.access_token().secret())
            .json(&json!({ "query": "{ partners { totalCount } }" }))
            .send()
    };
    assert_eq!(ask_other().await.unwrap().status(), StatusCode::OK);

    // Revoked through the first server (RFC 7009, sent as the library would).
    let revoked = app
        .client
        .post(app.url("/oauth/revoke"))
        .basic_auth(&client_id, Some(&secret))
        .form(&[("token", token.access_token().secret().as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    let started = std::time::Instant::now();
    while ask_other().await.unwrap().status() != StatusCode::UNAUTHORIZED {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(3),
            "the other replica still honours the revoked token"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
