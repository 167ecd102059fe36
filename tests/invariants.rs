//! Rules held by the database, not only checked before a write: concurrent
//! requests that each pass the check still leave exactly one of each, and
//! the losers get the same user error as the check gives.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::TestApp;
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
