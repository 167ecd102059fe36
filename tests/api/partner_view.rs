//! The leak test (SPEC §3): a partner principal reaches no internal field,
//! type or enum value, and no row of another partner, by any path.
//! Extend `PATHS` when a partner-visible type gains internal fields.

use crate::helpers::{deal, TestApp};
use partnergraph::{domain::Role, policy::partner_view};
use serde_json::{json, Value};

/// How a partner query reaches a field of each partner-visible object type;
/// `{}` stands for the field.
const PATHS: &[(&str, &str)] = &[
    ("Query", "{ {} }"),
    ("Mutation", "mutation { {} }"),
    ("Viewer", "{ viewer { {} } }"),
    ("Partner", "{ partners { edges { node { {} } } } }"),
    (
        "PartnerContact",
        "{ partners { edges { node { contacts { edges { node { {} } } } } } } }",
    ),
    ("ApiClient", "{ apiClients { edges { node { {} } } } }"),
    (
        "DealRegistration",
        "{ dealRegistrations { edges { node { {} } } } }",
    ),
    (
        "Opportunity",
        "{ dealRegistrations { edges { node { opportunity { {} } } } } }",
    ),
    ("IncentiveAccrual", "{ accruals { edges { node { {} } } } }"),
    (
        "IncentivePlan",
        "{ accruals { edges { node { plan { {} } } } } }",
    ),
    ("Payout", "{ payouts { edges { node { {} } } } }"),
    (
        "LedgerEntry",
        "{ partners { edges { node { statement(from: \"2026-01-01T00:00:00Z\", to: \"2027-01-01T00:00:00Z\") { lines { {} } } } } } }",
    ),
];

const TYPES: &str = "{ __schema { types { name kind
    fields(includeDeprecated: true) { name args { name } }
    inputFields { name }
    enumValues(includeDeprecated: true) { name } } } }";

fn types(data: &Value) -> Vec<Value> {
    data["__schema"]["types"].as_array().unwrap().clone()
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|v| v["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn unknown_field_error(app: &TestApp, token: &str, type_name: &str, field: &str) {
    let path = PATHS
        .iter()
        .find(|(t, _)| *t == type_name)
        .map(|(_, p)| *p)
        .unwrap_or_else(|| panic!("add a path to reach {type_name} to PATHS in the leak test"));
    let (_, body) = app.post(token, &path.replace("{}", field), json!({})).await;
    assert!(
        body.get("data").is_none(),
        "{type_name}.{field} answered data: {body}"
    );
    assert_eq!(
        body["errors"][0]["message"],
        format!("Unknown field \"{field}\" on type \"{type_name}\"."),
        "{type_name}.{field} must fail exactly like a field that does not exist"
    );
}

backend_test!(
    the_schema_walk_finds_nothing_internal_a_partner_can_reach,
    |app| {
        let acme = app.partner("Acme").await;
        let token = app.partner_token(&acme, Role::PartnerAdmin).await;
        let full = types(&app.admin_data(TYPES, json!({})).await);
        let (_, body) = app.post(&token, TYPES, json!({})).await;
        let seen = types(&body["data"]);

        // A field that does not exist fails the way internal ones must.
        unknown_field_error(&app, &token, "Partner", "noSuchField").await;

        for full_type in &full {
            let name = full_type["name"].as_str().unwrap();
            if name.starts_with("__") {
                continue;
            }
            let partner_type = seen.iter().find(|t| t["name"] == name);
            let Some(partner_type) = partner_type else {
                assert!(
                    partner_view::visible(name).is_none()
                        || ["String", "Int", "Float", "Boolean", "ID"].contains(&name),
                    "{name} is declared partner-visible but partners cannot see it"
                );
                // Internal types do not exist for partners, by any path.
                let (_, body) = app
                    .post(
                        &token,
                        &format!("{{ __type(name: \"{name}\") {{ name }} }}"),
                        json!({}),
                    )
                    .await;
                assert_eq!(
                    body["data"]["__type"],
                    Value::Null,
                    "{name} leaks through __type"
                );
                let (_, body) = app
                    .post(
                        &token,
                        &format!("{{ viewer {{ ... on {name} {{ __typename }} }} }}"),
                        json!({}),
                    )
                    .await;
                assert_eq!(
                    body["errors"][0]["message"],
                    format!("Unknown type \"{name}\""),
                    "{name}"
                );
                continue;
            };
            for (list, what) in [
                ("fields", "field"),
                ("inputFields", "input field"),
                ("enumValues", "enum value"),
            ] {
                let visible = names(&partner_type[list]);
                for member in names(&full_type[list]) {
                    let expected = partner_view::is_visible(name, &member);
                    assert_eq!(
                        visible.contains(&member),
                        expected,
                        "{what} {name}.{member}"
                    );
                    if !expected && list == "fields" {
                        unknown_field_error(&app, &token, name, &member).await;
                    }
                }
            }
        }

        // An internal input field and an internal enum value are refused like unknown ones.
        let (_, body) = app
        .post(&token, "mutation { createApiClient(input: { name: \"x\", scopes: [], partnerId: \"x\" }) { clientSecret } }", json!({}))
        .await;
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.contains("partnerId") && !message.contains("Did you mean"),
            "{message}"
        );
        let (_, body) = app
        .post(&token, "mutation { createApiClient(input: { name: \"x\", scopes: [], role: ADMIN }) { clientSecret } }", json!({}))
        .await;
        let (_, unknown) = app
        .post(&token, "mutation { createApiClient(input: { name: \"x\", scopes: [], role: WIZARD }) { clientSecret } }", json!({}))
        .await;
        assert_eq!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .replace("ADMIN", "X"),
            unknown["errors"][0]["message"]
                .as_str()
                .unwrap()
                .replace("WIZARD", "X")
        );

        // Introspection cannot be mixed into a data query to reach the full schema.
        let (_, body) = app
            .post(
                &token,
                "{ viewer { kind } __type(name: \"ProgramSettings\") { name } }",
                json!({}),
            )
            .await;
        assert!(body.get("data").is_none(), "{body}");
    }
);

backend_test!(partner_a_sees_no_row_of_partner_b_by_any_path, |app| {
    let a = app.partner("Acme").await;
    let b = app.partner("Beta Secret Co").await;
    let add = "mutation($input: AddPartnerContactInput!) { addPartnerContact(input: $input) { contact { id } userErrors { code message } } }";
    let contact = |partner: &str, email: &str| json!({ "input": { "partnerId": partner, "name": "Person", "email": email, "role": "AE" } });
    app.admin_data(add, contact(&a, "ana@acme.example")).await;
    let b_contact = app.admin_data(add, contact(&b, "bob@beta.example")).await["addPartnerContact"]
        ["contact"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let owner = app
        .admin_data(
            "query($id: ID!) { partner(id: $id) { owner { id } } }",
            json!({ "id": b }),
        )
        .await["partner"]["owner"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b_client = app
        .admin_data(
            "mutation($p: ID!) { createApiClient(input: { name: \"B sync\", partnerId: $p, scopes: [\"partners:read\"] }) { apiClient { id } } }",
            json!({ "p": b }),
        )
        .await["createApiClient"]["apiClient"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = app.partner_token(&a, Role::PartnerAdmin).await;

    let mut answers = Vec::new();
    let ask = |query: &str, variables: Value| {
        let query = query.to_owned();
        let app = &app;
        let token = token.clone();
        async move { app.post(&token, &query, variables).await.1 }
    };
    let listed = ask(
        "{ partners { totalCount edges { node { id name contacts { totalCount } } } } }",
        json!({}),
    )
    .await;
    assert_eq!(listed["data"]["partners"]["totalCount"], 1);
    assert_eq!(
        listed["data"]["partners"]["edges"][0]["node"]["id"],
        a.as_str()
    );
    assert_eq!(
        listed["data"]["partners"]["edges"][0]["node"]["contacts"]["totalCount"],
        1
    );
    answers.push(listed);

    let search = ask(
        "{ partners(filter: { search: \"beta\" }) { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(search["data"]["partners"]["totalCount"], 0);
    answers.push(search);
    let last = ask("{ partners(last: 100, orderBy: { field: CREATED_AT }) { totalCount edges { node { id } } } }", json!({})).await;
    assert_eq!(
        last["data"]["partners"]["edges"].as_array().unwrap().len(),
        1
    );
    answers.push(last);

    let lookups = ask(
        "query($a: ID!, $b: ID!, $c: ID!, $o: ID!, $k: ID!) {
            partner(id: $b) { id }
            node(id: $b) { id }
            contact: node(id: $c) { id }
            owner: node(id: $o) { id }
            client: node(id: $k) { id }
            nodes(ids: [$a, $b, $c]) { id }
        }",
        json!({ "a": a, "b": b, "c": b_contact, "o": owner, "k": b_client }),
    )
    .await;
    assert_eq!(
        lookups["data"],
        json!({ "partner": null, "node": null, "contact": null, "owner": null, "client": null, "nodes": [{ "id": a }, null, null] })
    );
    answers.push(lookups);

    let clients = ask("{ apiClients { totalCount } }", json!({})).await;
    assert_eq!(clients["data"]["apiClients"]["totalCount"], 0);
    answers.push(clients);

    // Writing to B's rows fails exactly like writing to rows that do not exist.
    let random_partner =
        partnergraph::ids::encode(partnergraph::ids::NodeType::Partner, uuid::Uuid::now_v7());
    let to_b = ask(add, contact(&b, "eve@acme.example")).await;
    let to_nobody = ask(add, contact(&random_partner, "eve@acme.example")).await;
    assert_eq!(
        to_b["data"]["addPartnerContact"]["userErrors"],
        to_nobody["data"]["addPartnerContact"]["userErrors"]
    );
    assert_eq!(
        to_b["data"]["addPartnerContact"]["userErrors"][0]["code"],
        "NOT_FOUND"
    );
    answers.push(to_b);
    let revoke = "mutation($id: ID!) { revokeApiClient(input: { id: $id }) { userErrors { code message } } }";
    let random_client =
        partnergraph::ids::encode(partnergraph::ids::NodeType::ApiClient, uuid::Uuid::now_v7());
    let revoke_b = ask(revoke, json!({ "id": b_client })).await;
    let revoke_nobody = ask(revoke, json!({ "id": random_client })).await;
    assert_eq!(revoke_b["data"], revoke_nobody["data"]);
    answers.push(revoke_b);
    assert_eq!(app.count("partner_contact").await, 2);

    // Nothing anywhere names partner B.
    for answer in answers {
        let text = answer.to_string();
        assert!(!text.contains("Beta") && !text.contains("bob@"), "{text}");
    }
});

/// The fields a partner's introspection shows for `type_name`.
async fn partner_fields(app: &TestApp, token: &str, type_name: &str) -> Vec<String> {
    let (_, body) = app
        .post(
            token,
            "query($t: String!) { __type(name: $t) { fields { name } } }",
            json!({ "t": type_name }),
        )
        .await;
    names(&body["data"]["__type"]["fields"])
}

backend_test!(
    event_payloads_hold_only_what_the_partner_schema_shows,
    |app| {
        // A referral partner (no certification gate) with a wide spread of events.
        let partner = app.partner("Eventful").kind("REFERRAL").signed().await;
        let rep = app.partner_token(&partner, Role::PartnerRep).await;
        let registration = app.register_deal(&rep, deal("Payload Co")).await;
        let opportunity = app.approve(&registration).await;
        let version = app.version_of(&opportunity, "Opportunity").await;
        app.admin_data(
        "mutation($id: ID!, $v: Int!) { moveOpportunityStage(input: { id: $id, expectedVersion: $v, stage: QUALIFIED }) { userErrors { code message } } }",
        json!({ "id": opportunity, "v": version }),
    )
    .await;
        let (_, body) = app
            .post(
                &rep,
                "mutation($id: ID!) { requestRegistrationExtension(input: { id: $id, days: 20, reason: \"legal review\" }) { userErrors { code } } }",
                json!({ "id": registration }),
            )
            .await;
        assert_eq!(
            body["data"]["requestRegistrationExtension"]["userErrors"],
            json!([]),
            "{body}"
        );
        app.admin_data(
            "mutation($id: ID!) { declineRegistrationExtension(input: { id: $id, reason: \"not yet\" }) { userErrors { code } } }",
            json!({ "id": registration }),
        )
        .await;
        app.admin_data(
        "mutation($id: ID!) { extendDealRegistration(input: { id: $id, days: 10, reason: \"internal reasoning\" }) { userErrors { code } } }",
        json!({ "id": registration }),
    )
    .await;

        let feed = "{ events(first: 100) { edges { node { type data } } } }";
        let (_, partner_feed) = app.post(&rep, feed, json!({})).await;
        let (_, staff_feed) = app.post(&app.admin, feed, json!({})).await;
        let events = partner_feed["data"]["events"]["edges"]
            .as_array()
            .unwrap()
            .clone();
        let types: Vec<&str> = events
            .iter()
            .map(|e| e["node"]["type"].as_str().unwrap())
            .collect();
        for expected in [
            "partner.created",
            "partner.status_changed",
            "partner.milestone_reached",
            "deal_registration.submitted",
            "deal_registration.status_changed",
            "deal_registration.extended",
            "deal_registration.extension_requested",
            "deal_registration.extension_declined",
            "opportunity.created",
            "opportunity.stage_changed",
        ] {
            assert!(
                types.contains(&expected),
                "{expected} missing from {types:?}"
            );
        }
        // Staff saw internal parts the partner did not.
        let staff = staff_feed.to_string();
        let partner_text = partner_feed.to_string();
        for internal in [
            "internalNotes",
            "competitorIntel",
            "discountPercent",
            "marginPercent",
        ] {
            assert!(staff.contains(internal), "staff view lacks {internal}");
            assert!(
                !partner_text.contains(internal),
                "{internal} leaked: {partner_text}"
            );
        }
        // Every key of every snapshot is a field the partner schema shows (or a
        // `fooId` reference to one).
        for event in &events {
            let event_type = event["node"]["type"].as_str().unwrap();
            let (_, declared) = partner_view::PARTNER_EVENTS
                .iter()
                .find(|(t, _)| t.to_string() == event_type)
                .unwrap_or_else(|| panic!("{event_type} reached a partner but is not declared"));
            for (key, value) in event["node"]["data"].as_object().unwrap() {
                let (_, kind) = declared
                    .iter()
                    .find(|(k, _)| k == key)
                    .unwrap_or_else(|| panic!("{event_type}: undeclared key {key}"));
                if let partner_view::PayloadKey::Snapshot(type_name) = kind {
                    let fields = partner_fields(&app, &rep, type_name).await;
                    for field in value.as_object().unwrap().keys() {
                        let reference = field.strip_suffix("Id").unwrap_or(field);
                        assert!(
                            fields.contains(field) || fields.iter().any(|f| f == reference),
                            "{event_type}: {type_name}.{field} is not in the partner schema"
                        );
                    }
                }
            }
        }
    }
);

backend_test!(
    a_portal_users_token_sees_exactly_the_partner_schema,
    |app| {
        let acme = app.partner("Acme").await;
        let pat = app.contact(&acme, "pat@acme.example").await;
        app.admin_data(
            "mutation($id: ID!) { grantPortalAccess(input: { contactId: $id, role: PARTNER_ADMIN }) { userErrors { code } } }",
            json!({ "id": pat }),
        )
        .await;
        let created = app
            .admin_data(
                "mutation($p: ID!) { createApiClient(input: { name: \"Portal\", partnerId: $p, scopes: [\"portal\", \"partners:read\", \"partners:write\"] }) { apiClient { clientId } clientSecret } }",
                json!({ "p": acme }),
            )
            .await;
        let (id, secret) = (
            created["createApiClient"]["apiClient"]["clientId"]
                .as_str()
                .unwrap()
                .to_owned(),
            created["createApiClient"]["clientSecret"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
        let token = |form: Vec<(&'static str, String)>| {
            let app = &app;
            let (id, secret) = (id.clone(), secret.clone());
            async move {
                let body: Value = app
                    .client
                    .post(app.url("/oauth/token"))
                    .basic_auth(id, Some(secret))
                    .form(&form)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                body["access_token"].as_str().unwrap().to_owned()
            }
        };
        let own = token(vec![("grant_type", "client_credentials".into())]).await;
        let as_pat = token(vec![
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange".into(),
            ),
            ("subject_token", own),
            (
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:access_token".into(),
            ),
            ("requested_subject", pat.clone()),
        ])
        .await;
        let partner_admin = app.partner_token(&acme, Role::PartnerAdmin).await;
        let (_, as_contact) = app.post(&as_pat, TYPES, json!({})).await;
        let (_, as_partner) = app.post(&partner_admin, TYPES, json!({})).await;
        assert!(as_contact["data"]["__schema"].is_object(), "{as_contact}");
        assert_eq!(
            as_contact, as_partner,
            "a portal user's token is a partner token"
        );
        for internal in [
            "{ partnerByExternalId(system: \"a\", externalId: \"b\") { id } }",
            "{ partners { edges { node { externalIds { id } internalNotes } } } }",
            "mutation { linkExternalId(input: { id: \"x\", system: \"a\", externalId: \"b\" }) { userErrors { code } } }",
        ] {
            let (_, body) = app.post(&as_pat, internal, json!({})).await;
            assert!(body.get("data").is_none(), "{internal}: {body}");
        }
        // The contact's own portal access shows, nothing more.
        let (_, body) = app
            .post(&as_pat, "{ partners { edges { node { contacts { edges { node { email portalRole active } } } } } } }", json!({}))
            .await;
        assert_eq!(
            body["data"]["partners"]["edges"][0]["node"]["contacts"]["edges"],
            json!([{ "node": { "email": "pat@acme.example", "portalRole": "PARTNER_ADMIN", "active": true } }])
        );
    }
);
