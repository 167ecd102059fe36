//! Rules held by the database, not only checked before a write: concurrent
//! requests that each pass the check still leave exactly one of each, and
//! the losers get the same user error as the check gives.

use crate::helpers::{deal, TestApp};
use futures_util::future::join_all;
use partnergraph::domain::Role;
use serde_json::{json, Value};

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

backend_test!(concurrent_sourced_attributions_leave_one, |app| {
    let mut partners = Vec::new();
    for i in 0..8 {
        partners.push(app.partner(&format!("Partner {i}")).kind("REFERRAL").await);
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
        app.count_where("opportunity_attribution", "role = 'SOURCED'")
            .await,
        1
    );
    assert_eq!(
        app.count_where("audit_entry", "operation = 'addOpportunityPartner'")
            .await,
        1
    );
});

backend_test!(concurrent_submissions_for_one_account_leave_one, |app| {
    let acme = app.partner("Acme").kind("REFERRAL").await;
    let rep = app.partner_token(&acme, Role::PartnerRep).await;
    let submit = "mutation($input: SubmitDealRegistrationInput!) { submitDealRegistration(input: $input) { dealRegistration { id } userErrors { field code } } }";
    let input = json!({ "input": deal("Globex").amount("1000", "USD") });
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
        app.count_where("outbox_event", "event_type = 'deal_registration.submitted'")
            .await,
        1
    );
});

backend_test!(concurrent_awards_and_revocations_leave_one_of_each, |app| {
    let acme = app.partner("Acme").kind("REFERRAL").await;
    let contact = app.contact(&acme, "ana@acme.example").await;
    let track = app.track("SALES-101", "SALES").await;

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
        app.count_where("audit_entry", "operation = 'revokeCertification'")
            .await,
        1
    );
    assert_eq!(
        app.count_where(
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
        app.count_where("audit_entry", &format!("operation = '{mutation}'"))
            .await,
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

backend_test!(
    every_versioned_mutation_keeps_one_of_two_concurrent_changes,
    partnergraph::config::ServerConfig {
        webhook_allow_private: true,
        ..Default::default()
    },
    |app| {
        let acme = app.partner("Acme").kind("REFERRAL").await;
        let v = app.version_of(&acme, "Partner").await;
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
        let v = app.version_of(&acme, "Partner").await;
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
        let registration = app
            .register_deal(&rep, deal("Globex").amount("1000", "USD"))
            .await;
        let v = app.version_of(&registration, "DealRegistration").await;
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
        let opportunity = app.approve(&registration).await;
        let v = app.version_of(&opportunity, "Opportunity").await;
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
        let v = app.version_of(&opportunity, "Opportunity").await;
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

        let track = app.track("SE-1", "TECHNICAL").await;
        let v = app.version_of(&track, "CertificationTrack").await;
        race(
            &app,
            &app.admin,
            "updateCertificationTrack",
            "updateCertificationTrack",
            [
                json!({ "id": track, "expectedVersion": v, "name": "SE One" }),
                json!({ "id": track, "expectedVersion": v, "name": "SE Two" }),
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
