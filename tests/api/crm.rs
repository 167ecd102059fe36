//! The CRM round trip (issue 13): external ids on partners and
//! opportunities, linking instead of duplicating on the CRM's first sync,
//! and conflicts when a CRM or staff create a direct opportunity on an
//! account a partner holds.

use crate::helpers::{deal, error_code, TestApp};
use chrono::Duration;
use partnergraph::domain::Role;
use serde_json::{json, Value};

const UPSERT: &str = "mutation($input: UpsertOpportunityByExternalIdInput!) { upsertOpportunityByExternalId(input: $input) {
    opportunity { id name source stage version amount { amount currency } expectedCloseDate externalIds { system id }
        attributions { role credit partner { name } } dealRegistration { reference status } }
    userErrors { field code message } } }";

const REGISTRATION: &str =
    "query($id: ID!) { node(id: $id) { ... on DealRegistration { reference status
    conflicts { kind recommendation rule otherOpportunity { id source } } opportunity { id } } } }";

/// What the CRM sends for the Hooli deal once its own opportunity exists.
fn crm_hooli() -> Value {
    json!({ "system": "Salesforce", "externalId": "006HOOLI", "name": "Hooli platform deal",
        "companyName": "Hooli", "companyDomain": "hooli.example", "stage": "QUALIFIED",
        "amount": { "amount": "31000.00", "currency": "EUR" }, "expectedCloseDate": "2027-04-30" })
}

async fn upsert(app: &TestApp, input: Value) -> Value {
    app.admin_data(UPSERT, json!({ "input": input })).await["upsertOpportunityByExternalId"].clone()
}

backend_test!(
    register_approve_then_crm_upsert_leaves_one_linked_opportunity,
    |app| {
        let acme = app.partner("Acme").kind("REFERRAL").await;
        let rep = app.partner_token(&acme, Role::PartnerRep).await;
        let submitted = app.submit_deal(&rep, deal("Hooli")).await;
        let registration = submitted["dealRegistration"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let reference = submitted["dealRegistration"]["reference"].clone();
        let opportunity = app.approve(&registration).await;
        let version = app.version_of(&opportunity, "Opportunity").await;

        // The CRM's first sync names the registration: it links and updates
        // the opportunity approval opened.
        let mut first_sync = crm_hooli();
        first_sync["registrationReference"] = reference.clone();
        let synced = upsert(&app, first_sync.clone()).await;
        assert_eq!(synced["userErrors"], json!([]), "{synced}");
        let synced = &synced["opportunity"];
        assert_eq!(synced["id"], opportunity.as_str());
        assert_eq!(synced["source"], "PARTNER_SOURCED");
        assert_eq!(synced["stage"], "QUALIFIED");
        assert_eq!(synced["name"], "Hooli platform deal");
        assert_eq!(
            synced["amount"],
            json!({ "amount": "31000.00", "currency": "EUR" })
        );
        assert_eq!(synced["expectedCloseDate"], "2027-04-30");
        assert_eq!(
            synced["externalIds"],
            json!([{ "system": "salesforce", "id": "006HOOLI" }])
        );
        assert_eq!(
            synced["attributions"],
            json!([{ "role": "SOURCED", "credit": "1", "partner": { "name": "Acme" } }]),
            "attribution untouched"
        );
        assert_eq!(synced["dealRegistration"]["reference"], reference);
        assert_eq!(synced["version"], version + 1);
        assert_eq!(app.count("opportunity").await, 1);

        // Re-running the upsert, with or without the reference, changes nothing.
        let audited = app.count("audit_entry").await;
        let events = app.count("outbox_event").await;
        let again = upsert(&app, first_sync).await;
        assert_eq!(again["opportunity"], *synced);
        let later = upsert(&app, crm_hooli()).await;
        assert_eq!(later["opportunity"], *synced);
        assert_eq!(app.count("opportunity").await, 1);
        assert_eq!(app.count("audit_entry").await, audited);
        assert_eq!(app.count("outbox_event").await, events);

        // No conflict was raised against the partner's own deal.
        let node = app
            .admin_data(REGISTRATION, json!({ "id": registration }))
            .await;
        assert_eq!(node["node"]["status"], "APPROVED");
        assert_eq!(node["node"]["conflicts"], json!([]));

        // The CRM owns stage, amount and close date from now on.
        let (_, body) = app
            .post(&rep, "mutation($id: ID!) { moveOpportunityStage(input: { id: $id, stage: PROPOSAL }) { userErrors { code message } } }", json!({ "id": opportunity }))
            .await;
        assert_eq!(
            body["data"]["moveOpportunityStage"]["userErrors"][0]["code"], "INVALID_TRANSITION",
            "{body}"
        );
        let mut moved = crm_hooli();
        moved["stage"] = json!("PROPOSAL");
        assert_eq!(
            upsert(&app, moved).await["opportunity"]["stage"],
            "PROPOSAL"
        );

        // Found by its CRM id, case-insensitively in the system's name.
        let found = app
            .admin_data(
                "{ opportunityByExternalId(system: \"SALESFORCE\", externalId: \"006HOOLI\") { id } none: opportunityByExternalId(system: \"salesforce\", externalId: \"nope\") { id } }",
                json!({}),
            )
            .await;
        assert_eq!(
            found,
            json!({ "opportunityByExternalId": { "id": opportunity }, "none": null })
        );

        // A second CRM id for a linked opportunity, or the same CRM id for
        // another one, is refused, naming the current holder to staff.
        let mut other = crm_hooli();
        other["externalId"] = json!("006OTHER");
        other["opportunityId"] = json!(opportunity);
        let refused = upsert(&app, other).await;
        assert_eq!(refused["userErrors"][0]["code"], "ALREADY_EXISTS");
        assert_eq!(
            refused["userErrors"][0]["field"],
            json!(["input", "opportunityId"])
        );
        assert!(refused["userErrors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("006HOOLI"));
        let beta = app.partner("Beta").kind("REFERRAL").await;
        let beta_rep = app.partner_token(&beta, Role::PartnerRep).await;
        let other_registration = app.register_deal(&beta_rep, deal("Pied Piper")).await;
        let other_opportunity = app.approve(&other_registration).await;
        let mut taken = crm_hooli();
        taken["opportunityId"] = json!(other_opportunity);
        let refused = upsert(&app, taken).await;
        assert_eq!(refused["userErrors"][0]["code"], "ALREADY_EXISTS");
        assert!(refused["userErrors"][0]["message"]
            .as_str()
            .unwrap()
            .contains(&opportunity));
        let mut unknown = crm_hooli();
        unknown["externalId"] = json!("006NEW");
        unknown["registrationReference"] = json!("DR-2026-999999");
        let refused = upsert(&app, unknown).await;
        assert_eq!(
            refused["userErrors"],
            json!([{ "field": ["input", "registrationReference"], "code": "NOT_FOUND", "message": "no deal registration has this reference" }])
        );
    }
);

backend_test!(
    a_direct_opportunity_on_an_account_a_partner_holds_raises_a_conflict,
    |app| {
        let acme = app.partner("Acme").kind("REFERRAL").await;
        let rep = app.partner_token(&acme, Role::PartnerRep).await;
        let registration = app.register_deal(&rep, deal("Hooli")).await;
        app.approve(&registration).await;
        let short = app.register_deal(&rep, deal("Initech")).await;
        app.admin_data(
            "mutation($id: ID!) { approveDealRegistration(input: { id: $id, protectionDays: 5 }) { userErrors { code } } }",
            json!({ "id": short }),
        )
        .await;
        app.clock.advance(Duration::days(10));

        // The CRM syncs an unknown id on Hooli's account without naming the
        // partner's opportunity: it is created, not silently duplicated.
        let created = upsert(&app, crm_hooli()).await;
        assert_eq!(created["userErrors"], json!([]), "{created}");
        assert_eq!(created["opportunity"]["source"], "DIRECT");
        let direct = created["opportunity"]["id"].clone();
        let node = app
            .admin_data(REGISTRATION, json!({ "id": registration }))
            .await;
        assert_eq!(node["node"]["status"], "APPROVED", "approval stands");
        let conflicts = &node["node"]["conflicts"];
        assert_eq!(conflicts.as_array().unwrap().len(), 1, "{node}");
        assert_eq!(conflicts[0]["kind"], "DIRECT_OPPORTUNITY");
        assert_eq!(conflicts[0]["otherOpportunity"]["id"], direct);
        // Registered ten days before the direct opportunity: the partner wins.
        assert_eq!(conflicts[0]["recommendation"], "PARTNER_WINS");
        let detected = app.events("deal_registration.conflict_detected").await;
        assert_eq!(detected.len(), 1);

        // Staff creating one does the same; protection that ran out claims nothing.
        let sales = app.token(Role::Sales, "sales@example.com", None).await;
        let create = "mutation($input: CreateOpportunityInput!) { createOpportunity(input: $input) { opportunity { id } userErrors { code } } }";
        let initech = json!({ "name": "Initech direct", "companyName": "Initech", "companyDomain": "initech.example",
            "amount": { "amount": "5000", "currency": "USD" }, "expectedCloseDate": "2027-02-28" });
        let (_, body) = app.post(&sales, create, json!({ "input": initech })).await;
        assert_eq!(
            body["data"]["createOpportunity"]["userErrors"],
            json!([]),
            "{body}"
        );
        let node = app.admin_data(REGISTRATION, json!({ "id": short })).await;
        assert_eq!(node["node"]["conflicts"], json!([]), "{node}");
        assert_eq!(
            app.events("deal_registration.conflict_detected")
                .await
                .len(),
            1
        );

        // The partner never learns of the conflict.
        let (_, body) = app
            .post(
                &rep,
                "{ events(first: 100) { edges { node { type } } } }",
                json!({}),
            )
            .await;
        assert!(!body.to_string().contains("conflict_detected"), "{body}");
    }
);

const LINK: &str = "mutation($input: ExternalIdInput!) { linkExternalId(input: $input) {
    partner { id externalIds { system id } } opportunity { id externalIds { system id } } userErrors { field code message } } }";
const UNLINK: &str = "mutation($input: ExternalIdInput!) { unlinkExternalId(input: $input) {
    partner { id externalIds { system id } } opportunity { id } userErrors { field code message } } }";
const UPSERT_PARTNER: &str = "mutation($input: UpsertPartnerByExternalIdInput!) { upsertPartnerByExternalId(input: $input) {
    partner { id name website tier status type version externalIds { system id } } userErrors { field code message } } }";

backend_test!(partners_link_unlink_and_upsert_by_their_crm_ids, |app| {
    let upsert_partner = |input: Value| {
        let app = &app;
        // Every upsert runs twice: the second changes nothing.
        async move {
            let first = app
                .admin_data(UPSERT_PARTNER, json!({ "input": input }))
                .await["upsertPartnerByExternalId"]
                .clone();
            let second = app
                .admin_data(UPSERT_PARTNER, json!({ "input": input }))
                .await["upsertPartnerByExternalId"]
                .clone();
            assert_eq!(first, second, "a repeated upsert changed something");
            first
        }
    };
    let globex =
        json!({ "system": "HubSpot", "externalId": "A-1", "name": "Globex", "type": "RESELLER" });
    let created = upsert_partner(globex.clone()).await;
    assert_eq!(created["userErrors"], json!([]), "{created}");
    let partner = &created["partner"];
    assert_eq!(partner["name"], "Globex");
    assert_eq!(partner["tier"], "BRONZE");
    assert_eq!(partner["status"], "PROSPECT");
    assert_eq!(
        partner["externalIds"],
        json!([{ "system": "hubspot", "id": "A-1" }])
    );
    let id = partner["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.count("partner").await,
        1,
        "the upsert ran twice, one partner"
    );
    assert_eq!(app.events("partner.created").await.len(), 1);

    // The CRM owns name and website; tier and status stay ours.
    app.update_partner(&id, json!({ "tier": "GOLD" })).await;
    let renamed = upsert_partner(json!({ "system": "hubspot", "externalId": "A-1",
            "name": "Globex Corporation", "website": "https://globex.example" }))
    .await;
    assert_eq!(renamed["partner"]["name"], "Globex Corporation");
    assert_eq!(renamed["partner"]["website"], "https://globex.example/");
    assert_eq!(renamed["partner"]["tier"], "GOLD");
    assert_eq!(renamed["partner"]["type"], "RESELLER");
    let found = app
        .admin_data(
            "{ partnerByExternalId(system: \"hubspot\", externalId: \"A-1\") { id name } }",
            json!({}),
        )
        .await;
    assert_eq!(found["partnerByExternalId"]["id"], id.as_str());

    // An existing partner is linked, not duplicated.
    let initech = app.partner("Initech").await;
    let refused = upsert_partner(
        json!({ "system": "hubspot", "externalId": "B-2", "name": "initech", "type": "MSP" }),
    )
    .await;
    assert_eq!(refused["userErrors"][0]["code"], "ALREADY_EXISTS");
    assert_eq!(refused["userErrors"][0]["field"], json!(["input", "name"]));
    assert!(refused["userErrors"][0]["message"]
        .as_str()
        .unwrap()
        .contains(&initech));
    let refused =
        upsert_partner(json!({ "system": "hubspot", "externalId": "B-2", "name": "Hooli" })).await;
    assert_eq!(
        refused["userErrors"],
        json!([{ "field": ["input", "type"], "code": "INVALID_VALUE", "message": "a new partner needs its type" }])
    );
    let linked = upsert_partner(
        json!({ "system": "hubspot", "externalId": "B-2", "id": initech, "name": "Initech" }),
    )
    .await;
    assert_eq!(linked["partner"]["id"], initech.as_str(), "{linked}");
    assert_eq!(app.count("partner").await, 2);

    // One id per system and type; one id per record and system.
    let link = |id: &str, external: &str| json!({ "input": { "id": id, "system": "hubspot", "externalId": external } });
    let data = app.admin_data(LINK, link(&initech, "A-1")).await;
    let error = &data["linkExternalId"]["userErrors"][0];
    assert_eq!(error["code"], "ALREADY_EXISTS");
    assert!(error["message"].as_str().unwrap().contains(&id), "{error}");
    let data = app.admin_data(LINK, link(&initech, "C-3")).await;
    assert_eq!(
        data["linkExternalId"]["userErrors"][0]["code"],
        "ALREADY_EXISTS"
    );
    let data = app.admin_data(LINK, link(&initech, "B-2")).await;
    assert_eq!(
        data["linkExternalId"]["userErrors"],
        json!([]),
        "linking again is a no-op"
    );
    let data = app.admin_data(UNLINK, link(&initech, "A-1")).await;
    assert_eq!(
        data["unlinkExternalId"]["userErrors"][0]["code"],
        "NOT_FOUND"
    );
    let data = app.admin_data(UNLINK, link(&initech, "B-2")).await;
    assert_eq!(
        data["unlinkExternalId"]["partner"]["externalIds"],
        json!([])
    );
    let data = app.admin_data(LINK, link(&initech, "C-3")).await;
    assert_eq!(
        data["linkExternalId"]["partner"]["externalIds"],
        json!([{ "system": "hubspot", "id": "C-3" }])
    );
    let changes = app
            .admin_data(
                "query($id: ID!) { auditLog(filter: { entityId: $id }) { edges { node { operation } } } }",
                json!({ "id": initech }),
            )
            .await;
    let operations = changes.to_string();
    for operation in [
        "linkExternalId",
        "unlinkExternalId",
        "upsertPartnerByExternalId",
    ] {
        assert!(
            operations.contains(operation),
            "{operation} not audited: {operations}"
        );
    }

    // Opportunities link the same way; an id of another type is no record.
    let acme = app.partner("Acme").kind("REFERRAL").await;
    let (_, opportunity) = app.sourced_opportunity(&acme, deal("Hooli")).await;
    let sales = app.token(Role::Sales, "sales@example.com", None).await;
    let (_, body) = app.post(&sales, LINK, link(&opportunity, "006-1")).await;
    assert_eq!(
        body["data"]["linkExternalId"]["opportunity"]["externalIds"],
        json!([{ "system": "hubspot", "id": "006-1" }]),
        "{body}"
    );
    let (_, body) = app.post(&sales, LINK, link(&initech, "D-4")).await;
    assert_eq!(
        error_code(&body),
        "FORBIDDEN",
        "sales cannot change partners: {body}"
    );
    let data = app.admin_data(LINK, link("bm90LWFuLWlk", "E-5")).await;
    assert_eq!(data["linkExternalId"]["userErrors"][0]["code"], "NOT_FOUND");

    // Partner principals can never link, unlink or look up by external id.
    let partner_admin = app.partner_token(&acme, Role::PartnerAdmin).await;
    for query in [
            "{ partnerByExternalId(system: \"hubspot\", externalId: \"A-1\") { id } }",
            "{ opportunityByExternalId(system: \"hubspot\", externalId: \"006-1\") { id } }",
            "mutation { linkExternalId(input: { id: \"x\", system: \"a\", externalId: \"b\" }) { userErrors { code } } }",
            "mutation { unlinkExternalId(input: { id: \"x\", system: \"a\", externalId: \"b\" }) { userErrors { code } } }",
            "mutation { upsertPartnerByExternalId(input: { system: \"a\", externalId: \"b\", name: \"c\" }) { userErrors { code } } }",
            "{ partners { edges { node { externalIds { id } } } } }",
        ] {
            let (_, body) = app.post(&partner_admin, query, json!({})).await;
            assert!(body.get("data").is_none(), "{query}: {body}");
            assert!(
                body["errors"][0]["message"].as_str().unwrap().starts_with("Unknown field"),
                "{body}"
            );
        }
});
