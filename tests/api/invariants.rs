//! Rules held by the database, not only checked before a write: concurrent
//! requests that each pass the check still leave exactly one of each, and
//! the losers get the same user error as the check gives.

use crate::helpers::TestApp;
use futures_util::future::join_all;
use partnergraph::domain::Role;
use serde_json::{json, Value};

async fn partner(app: &TestApp, name: &str) -> String {
    let data = app
        .admin_data(
            "mutation($n: String!) { createPartner(input: { name: $n, type: REFERRAL }) { partner { id } } }",
            json!({ "n": name }),
        )
        .await;
    data["createPartner"]["partner"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The user errors of every response, failing on any top-level error.
fn user_errors(responses: &[(reqwest::StatusCode, Value)], field: &str) -> Vec<Value> {
    responses
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, reqwest::StatusCode::OK, "{body}");
            assert!(body.get("errors").is_none(), "{body}");
            body["data"][field]["userErrors"].clone()
        })
        .collect()
}

async fn count_where(app: &TestApp, table: &str, condition: &str) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let backend = app.db.get_database_backend();
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT COUNT(*) AS n FROM {table} WHERE {condition}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

backend_test!(concurrent_sourced_attributions_leave_one, |app| {
    let mut partners = Vec::new();
    for i in 0..8 {
        partners.push(partner(&app, &format!("Partner {i}")).await);
    }
    let data = app
        .admin_data(
            "mutation { createOpportunity(input: { name: \"Deal\", companyName: \"Hooli\", companyDomain: \"hooli.example\", amount: { amount: \"1000\", currency: \"USD\" }, expectedCloseDate: \"2027-03-01\" }) { opportunity { id } } }",
            json!({}),
        )
        .await;
    let opportunity = data["createOpportunity"]["opportunity"]["id"].clone();
    let add = "mutation($o: ID!, $p: ID!) { addOpportunityPartner(input: { opportunityId: $o, partnerId: $p, role: SOURCED }) { userErrors { field code } } }";
    let responses = join_all(
        partners
            .iter()
            .map(|p| app.post(&app.admin, add, json!({ "o": opportunity, "p": p }))),
    )
    .await;
    let errors = user_errors(&responses, "addOpportunityPartner");
    let winners = errors
        .iter()
        .filter(|e| e.as_array().unwrap().is_empty())
        .count();
    assert_eq!(winners, 1, "{errors:?}");
    for lost in errors.iter().filter(|e| !e.as_array().unwrap().is_empty()) {
        assert_eq!(lost[0]["code"], "ALREADY_EXISTS");
        assert_eq!(lost[0]["field"], json!(["input", "role"]));
    }
    assert_eq!(
        count_where(&app, "opportunity_attribution", "role = 'SOURCED'").await,
        1
    );
    assert_eq!(
        count_where(&app, "audit_entry", "operation = 'addOpportunityPartner'").await,
        1
    );
});

backend_test!(concurrent_submissions_for_one_account_leave_one, |app| {
    let acme = partner(&app, "Acme").await;
    let rep = app.partner_token(&acme, Role::PartnerRep).await;
    let submit = "mutation($input: SubmitDealRegistrationInput!) { submitDealRegistration(input: $input) { dealRegistration { id } userErrors { field code } } }";
    let input = json!({ "input": {
        "companyName": "Globex", "companyDomain": "globex.example",
        "customerContactName": "Carla", "customerContactEmail": "carla@globex.example",
        "estimatedAmount": { "amount": "1000", "currency": "USD" }, "expectedCloseDate": "2027-01-31",
    } });
    let responses = join_all((0..6).map(|_| app.post(&rep, submit, input.clone()))).await;
    let errors = user_errors(&responses, "submitDealRegistration");
    let winners = errors
        .iter()
        .filter(|e| e.as_array().unwrap().is_empty())
        .count();
    assert_eq!(winners, 1, "{errors:?}");
    for lost in errors.iter().filter(|e| !e.as_array().unwrap().is_empty()) {
        assert_eq!(lost[0]["code"], "DUPLICATE_REGISTRATION");
    }
    assert_eq!(app.count("deal_registration").await, 1);
    assert_eq!(
        count_where(
            &app,
            "outbox_event",
            "event_type = 'deal_registration.submitted'"
        )
        .await,
        1
    );
});

backend_test!(concurrent_awards_and_revocations_leave_one_of_each, |app| {
    let acme = partner(&app, "Acme").await;
    let data = app
        .admin_data(
            "mutation($p: ID!) { addPartnerContact(input: { partnerId: $p, name: \"Ana\", email: \"ana@acme.example\", role: AE }) { contact { id } } }",
            json!({ "p": acme }),
        )
        .await;
    let contact = data["addPartnerContact"]["contact"]["id"].clone();
    let data = app
        .admin_data(
            "mutation { createCertificationTrack(input: { code: \"SALES-101\", name: \"Sales\", kind: SALES, level: FOUNDATION }) { certificationTrack { id } } }",
            json!({}),
        )
        .await;
    let track = data["createCertificationTrack"]["certificationTrack"]["id"].clone();
    assert!(track.is_string(), "{data}");

    let award = "mutation($c: ID!, $t: ID!) { awardCertification(input: { contactId: $c, trackId: $t }) { certification { id } userErrors { field code } } }";
    let responses =
        join_all((0..6).map(|_| app.post(&app.admin, award, json!({ "c": contact, "t": track }))))
            .await;
    let errors = user_errors(&responses, "awardCertification");
    assert!(
        errors.iter().any(|e| e.as_array().unwrap().is_empty()),
        "{errors:?}"
    );
    for lost in errors.iter().filter(|e| !e.as_array().unwrap().is_empty()) {
        assert!(
            ["ALREADY_EXISTS", "STALE_VERSION"].contains(&lost[0]["code"].as_str().unwrap()),
            "{lost}"
        );
    }
    assert_eq!(
        app.count("certification").await,
        1,
        "one row per contact and track"
    );
    let id = responses
        .iter()
        .find_map(|(_, b)| {
            b["data"]["awardCertification"]["certification"]["id"]
                .as_str()
                .map(str::to_owned)
        })
        .unwrap();

    let revoke = "mutation($id: ID!) { revokeCertification(input: { id: $id }) { certification { status } userErrors { code } } }";
    let responses =
        join_all((0..4).map(|_| app.post(&app.admin, revoke, json!({ "id": id })))).await;
    let errors = user_errors(&responses, "revokeCertification");
    let winners = errors
        .iter()
        .filter(|e| e.as_array().unwrap().is_empty())
        .count();
    assert_eq!(winners, 1, "{errors:?}");
    assert_eq!(
        count_where(&app, "audit_entry", "operation = 'revokeCertification'").await,
        1
    );
    assert_eq!(
        count_where(
            &app,
            "outbox_event",
            "event_type = 'certification.status_changed'"
        )
        .await,
        2,
        "IN_PROGRESS → ACTIVE once, ACTIVE → REVOKED once"
    );
});

/// Two changes sent at once with the same `expectedVersion`: exactly one
/// lands, the other is `STALE_VERSION`, and the audit log holds one entry.
async fn race(app: &TestApp, token: &str, mutation: &str, field: &str, inputs: [Value; 2]) {
    let query = format!(
        "mutation($input: {}Input!) {{ {field}(input: $input) {{ userErrors {{ code }} }} }}",
        capitalised(field)
    );
    let [a, b] = inputs;
    let (first, second) = tokio::join!(
        app.post(token, &query, json!({ "input": a })),
        app.post(token, &query, json!({ "input": b }))
    );
    let errors = user_errors(&[first, second], field);
    let codes: Vec<&str> = errors
        .iter()
        .flat_map(|e| e.as_array().unwrap().iter())
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["STALE_VERSION"], "{mutation}: {errors:?}");
    assert_eq!(
        count_where(app, "audit_entry", &format!("operation = '{mutation}'")).await,
        1,
        "{mutation}"
    );
}

fn capitalised(field: &str) -> String {
    let mut chars = field.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

async fn version_of(app: &TestApp, id: &Value, fragment: &str) -> i64 {
    let data = app
        .admin_data(
            &format!("query($id: ID!) {{ node(id: $id) {{ ... on {fragment} {{ version }} }} }}"),
            json!({ "id": id }),
        )
        .await;
    data["node"]["version"].as_i64().unwrap()
}

backend_test!(
    every_versioned_mutation_keeps_one_of_two_concurrent_changes,
    partnergraph::config::ServerConfig {
        webhook_allow_private: true,
        ..Default::default()
    },
    |app| {
        let acme = partner(&app, "Acme").await;
        let id = json!(acme);
        let v = version_of(&app, &id, "Partner").await;
        race(
            &app,
            &app.admin,
            "updatePartner",
            "updatePartner",
            [
                json!({ "id": acme, "expectedVersion": v, "name": "Acme One" }),
                json!({ "id": acme, "expectedVersion": v, "name": "Acme Two" }),
            ],
        )
        .await;
        let v = version_of(&app, &id, "Partner").await;
        race(
            &app,
            &app.admin,
            "changePartnerStatus",
            "changePartnerStatus",
            [
                json!({ "id": acme, "status": "SIGNED", "expectedVersion": v }),
                json!({ "id": acme, "status": "OFFBOARDED", "expectedVersion": v }),
            ],
        )
        .await;

        // A registration (as its partner's rep), then its opportunity.
        let rep = app.partner_token(&acme, Role::PartnerRep).await;
        let (_, body) = app
            .post(&rep, "mutation($input: SubmitDealRegistrationInput!) { submitDealRegistration(input: $input) { dealRegistration { id } } }", json!({ "input": {
                "companyName": "Globex", "companyDomain": "globex.example",
                "customerContactName": "Carla", "customerContactEmail": "carla@globex.example",
                "estimatedAmount": { "amount": "1000", "currency": "USD" }, "expectedCloseDate": "2027-01-31",
            } }))
            .await;
        let registration = body["data"]["submitDealRegistration"]["dealRegistration"]["id"].clone();
        let v = version_of(&app, &registration, "DealRegistration").await;
        race(
            &app,
            &rep,
            "updateDealRegistration",
            "updateDealRegistration",
            [
                json!({ "id": registration, "expectedVersion": v, "customerContactName": "Ana" }),
                json!({ "id": registration, "expectedVersion": v, "customerContactName": "Bo" }),
            ],
        )
        .await;
        let data = app
            .admin_data("mutation($id: ID!) { approveDealRegistration(input: { id: $id }) { dealRegistration { opportunity { id } } } }", json!({ "id": registration }))
            .await;
        let opportunity =
            data["approveDealRegistration"]["dealRegistration"]["opportunity"]["id"].clone();
        let v = version_of(&app, &opportunity, "Opportunity").await;
        race(
            &app,
            &app.admin,
            "updateOpportunity",
            "updateOpportunity",
            [
                json!({ "id": opportunity, "expectedVersion": v, "nextStep": "Call" }),
                json!({ "id": opportunity, "expectedVersion": v, "nextStep": "Demo" }),
            ],
        )
        .await;
        let v = version_of(&app, &opportunity, "Opportunity").await;
        race(
            &app,
            &app.admin,
            "moveOpportunityStage",
            "moveOpportunityStage",
            [
                json!({ "id": opportunity, "expectedVersion": v, "stage": "QUALIFIED" }),
                json!({ "id": opportunity, "expectedVersion": v, "stage": "PROPOSAL" }),
            ],
        )
        .await;

        let data = app
            .admin_data("mutation { createCertificationTrack(input: { code: \"SE-1\", name: \"SE\", kind: TECHNICAL, level: FOUNDATION }) { certificationTrack { id version } } }", json!({}))
            .await;
        let track = &data["createCertificationTrack"]["certificationTrack"];
        race(
            &app,
            &app.admin,
            "updateCertificationTrack",
            "updateCertificationTrack",
            [
                json!({ "id": track["id"], "expectedVersion": track["version"], "name": "SE One" }),
                json!({ "id": track["id"], "expectedVersion": track["version"], "name": "SE Two" }),
            ],
        )
        .await;

        let data = app.admin_data("{ settings { version } }", json!({})).await;
        let v = data["settings"]["version"].clone();
        race(
            &app,
            &app.admin,
            "updateSettings",
            "updateSettings",
            [
                json!({ "expectedVersion": v, "protectionDays": 30 }),
                json!({ "expectedVersion": v, "protectionDays": 60 }),
            ],
        )
        .await;

        let data = app
            .admin_data("mutation { createWebhookEndpoint(input: { url: \"http://127.0.0.1:9/hook\", eventTypes: [\"partner.created\"] }) { webhookEndpoint { id version } userErrors { message } } }", json!({}))
            .await;
        let endpoint = &data["createWebhookEndpoint"]["webhookEndpoint"];
        assert!(endpoint["id"].is_string(), "{data}");
        race(&app, &app.admin, "updateWebhookEndpoint", "updateWebhookEndpoint", [
            json!({ "id": endpoint["id"], "expectedVersion": endpoint["version"], "description": "one" }),
            json!({ "id": endpoint["id"], "expectedVersion": endpoint["version"], "description": "two" }),
        ])
        .await;
    }
);
