//! Contacts and portal users (issue 13): contacts are changed and
//! deactivated; a portal's backend exchanges its token for one acting as a
//! contact (RFC 8693, the form request a standard OAuth2 client sends), and
//! what that token does is recorded as done by the contact.

use std::time::Duration;

use crate::helpers::{deal, error_code, ws, TestApp};
use oauth2::{
    basic::{BasicClient, BasicTokenResponse},
    ClientId, ClientSecret, TokenResponse, TokenUrl,
};
use partnergraph::domain::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";

const GRANT: &str =
    "mutation($id: ID!, $role: Role!) { grantPortalAccess(input: { contactId: $id, role: $role }) {
    contact { id portalRole active } userErrors { field code message } } }";

/// An OAuth2 client created by the admin: (client_id, secret).
async fn client(app: &TestApp, partner: Option<&str>, scopes: &[&str]) -> (String, String) {
    let data = app
        .admin_data(
            "mutation($input: CreateApiClientInput!) { createApiClient(input: $input) {
                apiClient { clientId } clientSecret userErrors { field code message } } }",
            json!({ "input": { "name": "Portal backend", "partnerId": partner, "scopes": scopes } }),
        )
        .await;
    let created = &data["createApiClient"];
    assert_eq!(created["userErrors"], json!([]), "{created}");
    (
        created["apiClient"]["clientId"]
            .as_str()
            .unwrap()
            .to_owned(),
        created["clientSecret"].as_str().unwrap().to_owned(),
    )
}

/// The portal's own token, from the standard client library (client credentials).
async fn portal_token(app: &TestApp, (id, secret): &(String, String)) -> String {
    let http = oauth2::reqwest::Client::builder()
        .redirect(oauth2::reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    BasicClient::new(ClientId::new(id.clone()))
        .set_client_secret(ClientSecret::new(secret.clone()))
        .set_token_uri(TokenUrl::new(app.url("/oauth/token")).unwrap())
        .exchange_client_credentials()
        .request_async(&http)
        .await
        .unwrap()
        .access_token()
        .secret()
        .clone()
}

/// The RFC 8693 request exactly as an OAuth2 client library sends it: HTTP
/// Basic client authentication and a form body. (The `oauth2` crate has no
/// token exchange; its response type reads the answer below.)
async fn exchange(
    app: &TestApp,
    (id, secret): &(String, String),
    subject_token: &str,
    contact: &str,
) -> (StatusCode, Value) {
    let response = app
        .client
        .post(app.url("/oauth/token"))
        .basic_auth(id, Some(secret))
        .form(&[
            ("grant_type", TOKEN_EXCHANGE),
            ("subject_token", subject_token),
            ("subject_token_type", ACCESS_TOKEN),
            ("requested_token_type", ACCESS_TOKEN),
            ("requested_subject", contact),
        ])
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

backend_test!(
    a_portal_acts_as_its_contact_until_portal_access_is_revoked,
    |app| {
        let acme = app.partner("Acme").kind("REFERRAL").await;
        let pat = app.contact(&acme, "pat@acme.example").await;
        let data = app
            .admin_data(GRANT, json!({ "id": pat, "role": "PARTNER_REP" }))
            .await;
        assert_eq!(
            data["grantPortalAccess"]["contact"]["portalRole"],
            "PARTNER_REP"
        );
        let portal = client(
            &app,
            Some(&acme),
            &[
                "portal",
                "partners:read",
                "registrations:read",
                "registrations:write",
            ],
        )
        .await;
        let own = portal_token(&app, &portal).await;

        let (status, body) = exchange(&app, &portal, &own, &pat).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["issued_token_type"], ACCESS_TOKEN);
        let token: BasicTokenResponse = serde_json::from_value(body.clone()).unwrap();
        assert_eq!(token.expires_in(), Some(Duration::from_secs(900)));
        let scopes: Vec<String> = token
            .scopes()
            .unwrap()
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            scopes,
            ["partners:read", "registrations:read", "registrations:write"],
            "the portal's scopes, less `portal`"
        );
        let as_pat = token.access_token().secret().clone();
        let viewer = app
            .post(
                &as_pat,
                "{ viewer { kind role partner { name } contact { email portalRole } } }",
                json!({}),
            )
            .await
            .1;
        assert_eq!(
            viewer["data"]["viewer"],
            json!({ "kind": "PARTNER", "role": "PARTNER_REP", "partner": { "name": "Acme" },
                "contact": { "email": "pat@acme.example", "portalRole": "PARTNER_REP" } })
        );

        // What the token does is recorded as done by Pat.
        let submitted = app.submit_deal(&as_pat, deal("Hooli")).await;
        assert_eq!(submitted["userErrors"], json!([]), "{submitted}");
        let registration = submitted["dealRegistration"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let (_, body) = app
            .post(
                &as_pat,
                "query($id: ID!) { node(id: $id) { ... on DealRegistration { submittedBy } } }",
                json!({ "id": registration }),
            )
            .await;
        assert_eq!(
            body["data"]["node"]["submittedBy"], "Person <pat@acme.example>",
            "{body}"
        );
        let audit = app
            .admin_data(
                "query($id: ID!) { auditLog(filter: { entityId: $id }) { edges { node { operation actorKind actorId } } } }",
                json!({ "id": registration }),
            )
            .await;
        assert_eq!(
            audit["auditLog"]["edges"][0]["node"],
            json!({ "operation": "submitDealRegistration", "actorKind": "PARTNER", "actorId": pat })
        );
        // Staff see the person, and later the reviewer, as objects.
        app.approve(&registration).await;
        let staff_view = app
            .admin_data(
                "query($id: ID!) { node(id: $id) { ... on DealRegistration {
                    submitter { __typename ... on PartnerContact { id email } ... on StaffUser { id } }
                    reviewer { email } } } }",
                json!({ "id": registration }),
            )
            .await;
        assert_eq!(
            staff_view["node"],
            json!({ "submitter": { "__typename": "PartnerContact", "id": pat, "email": "pat@acme.example" },
                "reviewer": { "email": "admin@example.com" } })
        );
        let on_behalf = app
            .submit_deal(&app.admin, deal("Initech").with("partnerId", json!(acme)))
            .await;
        let on_behalf = on_behalf["dealRegistration"]["id"].clone();
        let staff_view = app
            .admin_data(
                "query($id: ID!) { node(id: $id) { ... on DealRegistration { submitter { __typename ... on StaffUser { email } } reviewer { email } } } }",
                json!({ "id": on_behalf }),
            )
            .await;
        assert_eq!(
            staff_view["node"],
            json!({ "submitter": { "__typename": "StaffUser", "email": "admin@example.com" }, "reviewer": null })
        );
        let pat_id =
            partnergraph::ids::decode_as(partnergraph::ids::NodeType::PartnerContact, &pat);
        let registration_id = partnergraph::ids::decode_as(
            partnergraph::ids::NodeType::DealRegistration,
            &registration,
        );
        let actors: Vec<_> = app
            .events("deal_registration.submitted")
            .await
            .into_iter()
            .filter(|e| Some(e.subject_id) == registration_id)
            .map(|e| (e.actor_kind, e.actor_id))
            .collect();
        assert_eq!(actors, [(partnergraph::domain::ActorKind::Partner, pat_id)]);

        // A live subscription, then the contact loses portal access.
        let mut socket = ws::ready(&app, &as_pat).await;
        ws::subscribe(
            &mut socket,
            "1",
            "subscription { dealRegistrationStatusChanged { status } }",
            json!({}),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let data = app
            .admin_data(
                "mutation($id: ID!) { revokePortalAccess(input: { contactId: $id }) { contact { portalRole } userErrors { code } } }",
                json!({ "id": pat }),
            )
            .await;
        assert_eq!(
            data["revokePortalAccess"]["contact"]["portalRole"],
            Value::Null
        );
        let started = std::time::Instant::now();
        let (_, body) = app.post(&as_pat, "{ viewer { kind } }", json!({})).await;
        assert_eq!(
            error_code(&body),
            "UNAUTHENTICATED",
            "refused at once: {body}"
        );
        assert_eq!(
            ws::close_code(&mut socket, Duration::from_secs(5)).await,
            Some(4403)
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        // And no new token for Pat.
        let (status, body) = exchange(&app, &portal, &own, &pat).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"], "invalid_target");
    }
);

backend_test!(
    a_portal_may_act_only_for_its_own_partners_portal_users,
    |app| {
        let acme = app.partner("Acme").kind("REFERRAL").await;
        let beta = app.partner("Beta").kind("REFERRAL").await;
        let pat = app.contact(&acme, "pat@acme.example").await;
        let no_access = app.contact(&acme, "nia@acme.example").await;
        let bob = app.contact(&beta, "bob@beta.example").await;
        for contact in [&pat, &bob] {
            app.admin_data(GRANT, json!({ "id": contact, "role": "PARTNER_ADMIN" }))
                .await;
        }
        let data = app
            .admin_data(GRANT, json!({ "id": pat, "role": "SALES" }))
            .await;
        assert_eq!(
            data["grantPortalAccess"]["userErrors"][0]["field"],
            json!(["input", "role"])
        );
        let portal = client(&app, Some(&acme), &["portal", "partners:read"]).await;
        let own = portal_token(&app, &portal).await;
        let refused = |expected: &'static str| {
            move |(status, body): (StatusCode, Value)| {
                assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
                assert_eq!(body["error"], expected, "{body}");
            }
        };
        // Another partner's contact, a contact without access, no contact at all.
        refused("invalid_target")(exchange(&app, &portal, &own, &bob).await);
        refused("invalid_target")(exchange(&app, &portal, &own, &no_access).await);
        refused("invalid_target")(exchange(&app, &portal, &own, &acme).await);
        // Not this client's token, not a valid token, an exchanged token.
        let other = client(&app, Some(&acme), &["portal", "partners:read"]).await;
        let others = portal_token(&app, &other).await;
        refused("invalid_grant")(exchange(&app, &portal, &others, &pat).await);
        refused("invalid_grant")(exchange(&app, &portal, "pgat_nope", &pat).await);
        let (_, body) = exchange(&app, &portal, &own, &pat).await;
        let as_pat = body["access_token"].as_str().unwrap().to_owned();
        refused("invalid_grant")(exchange(&app, &portal, &as_pat, &pat).await);
        // A client that is no portal.
        let sync = client(&app, Some(&acme), &["partners:read"]).await;
        let syncs = portal_token(&app, &sync).await;
        refused("unauthorized_client")(exchange(&app, &sync, &syncs, &pat).await);
        // A malformed request.
        let response = app
            .client
            .post(app.url("/oauth/token"))
            .basic_auth(&portal.0, Some(&portal.1))
            .form(&[
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token", own.as_str()),
                ("requested_subject", pat.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request");

        // A staff portal acts for any partner's portal users, as a partner.
        let staff_portal = client(&app, None, &["portal", "partners:read"]).await;
        let staffs = portal_token(&app, &staff_portal).await;
        let (status, body) = exchange(&app, &staff_portal, &staffs, &bob).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let as_bob = body["access_token"].as_str().unwrap();
        let (_, body) = app
            .post(
                as_bob,
                "{ viewer { kind role } partners { totalCount edges { node { name } } } }",
                json!({}),
            )
            .await;
        assert_eq!(
            body["data"],
            json!({ "viewer": { "kind": "PARTNER", "role": "PARTNER_ADMIN" },
                "partners": { "totalCount": 1, "edges": [{ "node": { "name": "Beta" } }] } })
        );
    }
);

backend_test!(contacts_change_and_leave, |app| {
    let acme = app.partner("Acme").sales_certified().await;
    let admin = app.partner_token(&acme, Role::PartnerAdmin).await;
    let list = "query($id: ID!) { partner(id: $id) { contacts { edges { node { id email active version certifications { totalCount } } } } } }";
    let data = app.admin_data(list, json!({ "id": acme })).await;
    let seller = data["partner"]["contacts"]["edges"][0]["node"].clone();
    let other = app.contact(&acme, "other@acme.example").await;

    // A partner admin changes its own contacts; e-mails stay unique.
    let update =
        "mutation($input: UpdatePartnerContactInput!) { updatePartnerContact(input: $input) {
        contact { name email role version } userErrors { field code } } }";
    let (_, body) = app
        .post(
            &admin,
            update,
            json!({ "input": { "id": other, "expectedVersion": 1, "name": "Otto", "role": "SE" } }),
        )
        .await;
    assert_eq!(
        body["data"]["updatePartnerContact"]["contact"],
        json!({ "name": "Otto", "email": "other@acme.example", "role": "SE", "version": 2 }),
        "{body}"
    );
    let (_, body) = app
        .post(
            &admin,
            update,
            json!({ "input": { "id": other, "expectedVersion": 2, "email": seller["email"] } }),
        )
        .await;
    assert_eq!(
        body["data"]["updatePartnerContact"]["userErrors"],
        json!([{ "field": ["input", "email"], "code": "ALREADY_EXISTS" }])
    );
    let (_, body) = app
        .post(
            &admin,
            update,
            json!({ "input": { "id": other, "expectedVersion": 1, "name": "Late" } }),
        )
        .await;
    assert_eq!(
        body["data"]["updatePartnerContact"]["userErrors"][0]["code"],
        "STALE_VERSION"
    );

    // The certified seller leaves: kept, with its certification, but the
    // partner no longer passes the certification gate.
    let rep = app.partner_token(&acme, Role::PartnerRep).await;
    let deactivate = "mutation($id: ID!) { deactivatePartnerContact(input: { id: $id }) { contact { active deactivatedAt } userErrors { code } } }";
    let (_, body) = app
        .post(&rep, deactivate, json!({ "id": seller["id"] }))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "a rep manages no contacts");
    let (_, body) = app
        .post(&admin, deactivate, json!({ "id": seller["id"] }))
        .await;
    assert_eq!(
        body["data"]["deactivatePartnerContact"]["contact"]["active"], false,
        "{body}"
    );
    let (_, body) = app
        .post(&admin, deactivate, json!({ "id": seller["id"] }))
        .await;
    assert_eq!(
        body["data"]["deactivatePartnerContact"]["userErrors"][0]["code"],
        "INVALID_TRANSITION"
    );
    let data = app.admin_data(list, json!({ "id": acme })).await;
    let kept = &data["partner"]["contacts"]["edges"][0]["node"];
    assert_eq!(kept["active"], false);
    assert_eq!(kept["certifications"]["totalCount"], 1);
    let refused = app.submit_deal(&rep, deal("Hooli")).await;
    assert_eq!(refused["userErrors"][0]["code"], "CERTIFICATION_REQUIRED");
    let data = app
        .admin_data(GRANT, json!({ "id": seller["id"], "role": "PARTNER_REP" }))
        .await;
    assert_eq!(
        data["grantPortalAccess"]["userErrors"][0]["code"],
        "INVALID_TRANSITION"
    );

    // Another partner's contact is no contact at all.
    let beta = app.partner("Beta").await;
    let bob = app.contact(&beta, "bob@beta.example").await;
    let (_, body) = app.post(&admin, deactivate, json!({ "id": bob })).await;
    assert_eq!(
        body["data"]["deactivatePartnerContact"]["userErrors"][0]["code"],
        "NOT_FOUND"
    );
});
