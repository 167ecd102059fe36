//! The pipeline: stage moves, attribution, CRM upserts, and a fixed number of
//! SQL statements per page however many rows it holds.

use crate::helpers::{deal, TestApp};
use partnergraph::{clock::Clock, domain::Role};
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, Set};
use serde_json::{json, Value};

const MOVE: &str = "mutation($id: ID!, $stage: OpportunityStage!, $v: Int, $reason: String) {
    moveOpportunityStage(input: { id: $id, stage: $stage, expectedVersion: $v, closedLostReason: $reason }) {
        opportunity { stage version closedAt } userErrors { field code message } } }";

backend_test!(stage_moves_follow_the_rules, |app| {
    let acme = app.partner("Acme").kind("REFERRAL").await;
    let (rep, opportunity) = app.sourced_opportunity(&acme, deal("Globex")).await;

    let (_, body) = app
        .post(
            &rep,
            MOVE,
            json!({ "id": opportunity, "stage": "QUALIFIED" }),
        )
        .await;
    assert_eq!(
        body["data"]["moveOpportunityStage"]["opportunity"]["stage"], "QUALIFIED",
        "{body}"
    );
    let (_, body) = app
        .post(
            &rep,
            MOVE,
            json!({ "id": opportunity, "stage": "CLOSED_WON" }),
        )
        .await;
    assert_eq!(
        body["data"]["moveOpportunityStage"]["userErrors"][0]["code"],
        "INVALID_TRANSITION"
    );
    let (_, body) = app
        .post(
            &rep,
            MOVE,
            json!({ "id": opportunity, "stage": "CLOSED_LOST" }),
        )
        .await;
    assert_eq!(
        body["data"]["moveOpportunityStage"]["userErrors"][0]["field"],
        json!(["input", "closedLostReason"])
    );
    let (_, body) = app
        .post(
            &rep,
            MOVE,
            json!({ "id": opportunity, "stage": "PROPOSAL" }),
        )
        .await;
    assert_eq!(
        body["data"]["moveOpportunityStage"]["opportunity"]["stage"],
        "PROPOSAL"
    );

    // Two moves from the same version: one wins, the other is told.
    let version = body["data"]["moveOpportunityStage"]["opportunity"]["version"]
        .as_i64()
        .unwrap();
    let manager = app
        .token(Role::PartnerManager, "pm@example.com", None)
        .await;
    let (a, b) = tokio::join!(
        app.post(
            &manager,
            MOVE,
            json!({ "id": opportunity, "stage": "NEGOTIATION", "v": version })
        ),
        app.post(
            &rep,
            MOVE,
            json!({ "id": opportunity, "stage": "QUALIFIED", "v": version })
        ),
    );
    let outcomes: Vec<&Value> = [&a.1, &b.1]
        .iter()
        .map(|b| &b["data"]["moveOpportunityStage"])
        .collect();
    let won = outcomes
        .iter()
        .filter(|o| o["opportunity"].is_object())
        .count();
    let stale = outcomes
        .iter()
        .filter(|o| o["userErrors"][0]["code"] == "STALE_VERSION")
        .count();
    assert_eq!((won, stale), (1, 1), "{outcomes:?}");

    let data = app
        .admin_data(MOVE, json!({ "id": opportunity, "stage": "CLOSED_WON" }))
        .await;
    assert!(
        data["moveOpportunityStage"]["opportunity"]["closedAt"].is_string(),
        "{data}"
    );
    let data = app
        .admin_data(MOVE, json!({ "id": opportunity, "stage": "NEGOTIATION" }))
        .await;
    assert_eq!(
        data["moveOpportunityStage"]["userErrors"][0]["code"],
        "INVALID_TRANSITION"
    );
    let data = app
        .admin_data("mutation($id: ID!) { reopenOpportunity(input: { id: $id, stage: NEGOTIATION }) { opportunity { stage closedAt } } }", json!({ "id": opportunity }))
        .await;
    assert_eq!(
        data["reopenOpportunity"]["opportunity"],
        json!({ "stage": "NEGOTIATION", "closedAt": null })
    );
    let runway = app.admin_data("query($id: ID!) { partner(id: $id) { activation { milestones { milestone achievedAt } } } }", json!({ "id": acme })).await;
    assert!(
        runway["partner"]["activation"]["milestones"][5]["achievedAt"].is_string(),
        "FIRST_CLOSED_WON recorded"
    );
});

backend_test!(direct_opportunities_attribution_and_crm_upserts, |app| {
    let acme = app.partner("Acme").kind("REFERRAL").await;
    let beta = app.partner("Beta").kind("REFERRAL").await;
    let rep = app.partner_token(&acme, Role::PartnerRep).await;
    let registration = app.register_deal(&rep, deal("Hooli")).await;

    let sales = app.token(Role::Sales, "sales@example.com", None).await;
    let create = "mutation($input: CreateOpportunityInput!) { createOpportunity(input: $input) { opportunity { id source stage } userErrors { field code } } }";
    let direct = json!({ "name": "Hooli direct", "companyName": "Hooli Inc", "companyDomain": "https://hooli.example",
        "amount": { "amount": "5000", "currency": "USD" }, "expectedCloseDate": "2027-02-28", "discountPercent": "10" });
    let (_, body) = app.post(&sales, create, json!({ "input": direct })).await;
    let opportunity = body["data"]["createOpportunity"]["opportunity"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        body["data"]["createOpportunity"]["opportunity"]["source"],
        "DIRECT"
    );
    let reviewed = app.admin_data("query($id: ID!) { node(id: $id) { ... on DealRegistration { status conflicts { kind recommendation } } } }", json!({ "id": registration })).await;
    assert_eq!(reviewed["node"]["status"], "UNDER_REVIEW");
    assert_eq!(
        reviewed["node"]["conflicts"][0],
        json!({ "kind": "DIRECT_OPPORTUNITY", "recommendation": "CO_SELL" })
    );

    let add = "mutation($o: ID!, $p: ID!, $r: AttributionRole!) { addOpportunityPartner(input: { opportunityId: $o, partnerId: $p, role: $r }) { userErrors { field code } } }";
    let (_, body) = app
        .post(
            &sales,
            add,
            json!({ "o": opportunity, "p": acme, "r": "SOURCED" }),
        )
        .await;
    assert_eq!(
        body["data"]["addOpportunityPartner"]["userErrors"][0]["field"],
        json!(["input", "role"])
    );
    app.post(
        &sales,
        add,
        json!({ "o": opportunity, "p": acme, "r": "INFLUENCED" }),
    )
    .await;
    app.admin_data(add, json!({ "o": opportunity, "p": beta, "r": "SOURCED" }))
        .await;
    let data = app
        .admin_data(add, json!({ "o": opportunity, "p": beta, "r": "CO_SELL" }))
        .await;
    assert_eq!(
        data["addOpportunityPartner"]["userErrors"][0]["code"],
        "ALREADY_EXISTS"
    );
    let (_, body) = app
        .post(&rep, "{ opportunities { totalCount edges { node { source myAttribution { role credit } } } } }", json!({}))
        .await;
    assert_eq!(body["data"]["opportunities"]["totalCount"], 1, "{body}");
    assert_eq!(
        body["data"]["opportunities"]["edges"][0]["node"]["myAttribution"],
        json!({ "role": "INFLUENCED", "credit": "0.3" })
    );

    // A CRM upsert is idempotent, owns the stage, and leaves attribution alone.
    let upsert = "mutation($input: UpsertOpportunityByExternalIdInput!) { upsertOpportunityByExternalId(input: $input) {
        opportunity { id stage version externalIds { system id } } userErrors { field code } } }";
    let crm = json!({ "system": "Salesforce", "externalId": "006XYZ", "name": "Initech", "companyName": "Initech", "companyDomain": "initech.example",
        "stage": "QUALIFIED", "amount": { "amount": "900", "currency": "USD" }, "expectedCloseDate": "2027-03-31" });
    let first = app.admin_data(upsert, json!({ "input": crm })).await;
    let second = app.admin_data(upsert, json!({ "input": crm })).await;
    assert_eq!(first, second, "the same upsert twice changes nothing");
    let crm_opportunity = first["upsertOpportunityByExternalId"]["opportunity"]["id"].clone();
    assert_eq!(
        first["upsertOpportunityByExternalId"]["opportunity"]["externalIds"],
        json!([{ "system": "salesforce", "id": "006XYZ" }])
    );
    app.admin_data(
        add,
        json!({ "o": crm_opportunity, "p": beta, "r": "SOURCED" }),
    )
    .await;
    let mut moved = crm.clone();
    moved["stage"] = json!("PROPOSAL");
    let data = app.admin_data(upsert, json!({ "input": moved })).await;
    assert_eq!(
        data["upsertOpportunityByExternalId"]["opportunity"]["stage"],
        "PROPOSAL"
    );
    let data = app
        .admin_data(
            MOVE,
            json!({ "id": crm_opportunity, "stage": "NEGOTIATION" }),
        )
        .await;
    assert_eq!(
        data["moveOpportunityStage"]["userErrors"][0]["code"],
        "INVALID_TRANSITION"
    );
    let attributions = app.admin_data("query($id: ID!) { node(id: $id) { ... on Opportunity { attributions { role partner { name } } } } }", json!({ "id": crm_opportunity })).await;
    assert_eq!(
        attributions["node"]["attributions"],
        json!([{ "role": "SOURCED", "partner": { "name": "Beta" } }])
    );
});

/// Seeds `n` approved partner-sourced opportunities straight into the tables.
async fn seed(app: &TestApp, partner: &str, n: usize) {
    use partnergraph::service::deals::opportunity::Draft;
    let partner_id =
        partnergraph::ids::decode_as(partnergraph::ids::NodeType::Partner, partner).unwrap();
    let now = app.clock.now();
    for i in 0..n {
        let opportunity_id = uuid::Uuid::now_v7();
        let registration_id = uuid::Uuid::now_v7();
        Draft {
            name: format!("Deal {i}"),
            company_name: format!("Co {i}"),
            company_domain: format!("co{i}.example"),
            source: entity::OpportunitySource::PartnerSourced,
            stage: entity::OpportunityStage::Registered,
            amount_minor: 100,
            currency: "USD".into(),
            expected_close_date: chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
            deal_registration_id: None,
            owner_id: None,
            next_step: None,
            discount_bps: None,
            margin_bps: None,
            competitor_intel: None,
            internal_notes: None,
            crm_managed: false,
        }
        .row(opportunity_id, now)
        .insert(&app.db)
        .await
        .unwrap();
        entity::deal_registration::ActiveModel {
            id: Set(registration_id),
            reference: Set(format!("DR-2026-{:06}", 900_000 + i)),
            partner_id: Set(partner_id),
            status: Set(entity::DealRegistrationStatus::Approved),
            company_name: Set(format!("Co {i}")),
            company_domain: Set(format!("co{i}.example")),
            company_key: Set(format!("co {i}")),
            domain_key: Set(format!("co{i}.example")),
            customer_contact_name: Set("C".into()),
            customer_contact_email: Set("c@c.example".into()),
            amount_minor: Set(100),
            currency: Set("USD".into()),
            expected_close_date: Set(chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()),
            product: Set(None),
            notes: Set(None),
            internal_notes: Set(None),
            submitted_at: Set(now),
            submitted_by: Set("seed".into()),
            reviewer_id: Set(None),
            decided_at: Set(Some(now)),
            decision_reason: Set(None),
            protection_starts_at: Set(Some(now)),
            protection_ends_at: Set(Some(now + chrono::Duration::days(90))),
            extension_count: Set(0),
            sla_due_at: Set(now),
            expiring_notified_for: Set(None),
            opportunity_id: Set(Some(opportunity_id)),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .unwrap();
        entity::opportunity::ActiveModel {
            id: Set(opportunity_id),
            deal_registration_id: Set(Some(registration_id)),
            ..Default::default()
        }
        .update(&app.db)
        .await
        .unwrap();
        entity::opportunity_attribution::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            opportunity_id: Set(opportunity_id),
            partner_id: Set(partner_id),
            role: Set(entity::AttributionRole::Sourced),
            credit_bps: Set(10_000),
            created_at: Set(now),
        }
        .insert(&app.db)
        .await
        .unwrap();
    }
}

// Every request looks its token up (no token cache), so counts are exact.
backend_test!(
    a_page_of_100_costs_the_statements_of_a_page_of_10,
    partnergraph::config::ServerConfig {
        token_cache_ttl: std::time::Duration::ZERO,
        ..Default::default()
    },
    |app| {
        let acme = app.partner("Acme").kind("REFERRAL").await;
        seed(&app, &acme, 100).await;
        let rep = app.partner_token(&acme, Role::PartnerRep).await;
        let partner_page = "query($n: Int!) { opportunities(first: $n) { edges { node { name dealRegistration { status } myAttribution { role } } } } }";
        let staff_page = "query($n: Int!) { opportunities(first: $n) { edges { node { name dealRegistration { status } attributions { partner { name } } } } } }";
        // Beyond their summaries, rows' opportunities and registrations load
        // for the whole page at once.
        let full_registration = "query($n: Int!) { opportunities(first: $n) { edges { node { name companyDomain dealRegistration { status companyName submittedBy } } } } }";
        // The token (no cache here) and the page (with registration and
        // own attribution joined); for staff the attributions with their
        // partners joined; beyond summaries, whole opportunities and whole
        // registrations, one batch each.
        for (token, query, most) in [
            (&rep, partner_page, 2),
            (&app.admin, staff_page, 3),
            (&rep, full_registration, 4),
        ] {
            let mut costs = Vec::new();
            for n in [10, 100] {
                let before = app.sql_statements().await;
                let (status, body) = app.post(token, query, json!({ "n": n })).await;
                assert_eq!(status, StatusCode::OK);
                assert_eq!(
                    body["data"]["opportunities"]["edges"]
                        .as_array()
                        .unwrap()
                        .len(),
                    n,
                    "{body}"
                );
                assert!(body.get("errors").is_none(), "{body}");
                let first = &body["data"]["opportunities"]["edges"][0]["node"];
                assert_eq!(first["dealRegistration"]["status"], "APPROVED", "{body}");
                if query == full_registration {
                    assert_eq!(first["dealRegistration"]["submittedBy"], "seed", "{body}");
                    assert!(first["companyDomain"].is_string(), "{body}");
                    assert!(first["dealRegistration"]["companyName"].is_string());
                }
                costs.push(app.sql_statements().await - before);
            }
            assert_eq!(
                costs[0], costs[1],
                "statements for 10 rows vs 100 rows: {costs:?}"
            );
            assert!(
                costs[0] <= most,
                "a fixed, small number of statements: {costs:?} for {query}"
            );
        }
    }
);

backend_test!(
    a_partner_sees_only_its_own_registration_and_attribution,
    |app| {
        let acme = app.partner("Acme").kind("REFERRAL").await;
        let beta = app.partner("Beta").kind("REFERRAL").await;
        let (acme_rep, opportunity) = app.sourced_opportunity(&acme, deal("Globex")).await;
        let add = "mutation($o: ID!, $p: ID!) { addOpportunityPartner(input: { opportunityId: $o, partnerId: $p, role: INFLUENCED }) { userErrors { code } } }";
        let data = app
            .admin_data(add, json!({ "o": opportunity, "p": beta }))
            .await;
        assert_eq!(data["addOpportunityPartner"]["userErrors"], json!([]));
        let beta_rep = app.partner_token(&beta, Role::PartnerRep).await;

        // The list reads the relations with the page; `node` loads them alone.
        let fields = "dealRegistration { status } myAttribution { role }";
        let list = format!("{{ opportunities {{ edges {{ node {{ id {fields} }} }} }} }}");
        let node = format!(
            "query($id: ID!) {{ node(id: $id) {{ ... on Opportunity {{ id {fields} }} }} }}"
        );
        let expected = [
            (
                &acme_rep,
                json!({ "status": "APPROVED" }),
                json!({ "role": "SOURCED" }),
            ),
            // Beta is credited, but the registration is Acme's: null for Beta.
            (&beta_rep, Value::Null, json!({ "role": "INFLUENCED" })),
            // Staff see the registration and have no attribution of their own.
            (&app.admin, json!({ "status": "APPROVED" }), Value::Null),
        ];
        for (token, registration, attribution) in expected {
            let want = json!({ "id": opportunity, "dealRegistration": registration, "myAttribution": attribution });
            let (_, body) = app.post(token, &list, json!({})).await;
            assert_eq!(
                body["data"]["opportunities"]["edges"],
                json!([{ "node": want }]),
                "{body}"
            );
            let (_, body) = app.post(token, &node, json!({ "id": opportunity })).await;
            assert_eq!(body["data"]["node"], want, "{body}");
        }
    }
);
