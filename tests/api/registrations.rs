//! Deal registrations, as a partner rep and a partner manager use them.

use crate::helpers::deal;
use chrono::Duration;
use partnergraph::{clock::Clock, domain::Role};
use sea_orm::{ActiveModelTrait, Set};
use serde_json::json;

const APPROVE: &str = "mutation($id: ID!) { approveDealRegistration(input: { id: $id }) {
    dealRegistration { status protectionEndsAt opportunity { id stage source } } userErrors { field code message } } }";

backend_test!(
    a_rep_registers_a_manager_approves_and_the_partner_sees_protection,
    |app| {
        let acme = app.partner("Acme").sales_certified().await;
        let rep = app.partner_token(&acme, Role::PartnerRep).await;
        let manager = app
            .token(Role::PartnerManager, "pm@example.com", None)
            .await;

        let submitted = app
            .submit_deal(&rep, deal("Globex Corporation").domain("globex.com"))
            .await;
        assert_eq!(submitted["userErrors"], json!([]));
        let registration = &submitted["dealRegistration"];
        assert_eq!(registration["status"], "SUBMITTED");
        assert_eq!(registration["reference"], "DR-2026-000001");
        assert_eq!(registration["slaDueAt"], "2026-11-23T09:00:00+00:00");
        assert_eq!(
            registration["estimatedAmount"],
            json!({ "amount": "25000.00", "currency": "EUR" })
        );
        let id = registration["id"].as_str().unwrap().to_owned();
        let milestones: Vec<String> = app
            .events("partner.milestone_reached")
            .await
            .iter()
            .map(|e| e.payload["milestone"].as_str().unwrap().to_owned())
            .collect();
        assert!(milestones.contains(&"FIRST_REGISTERED_DEAL".to_owned()));

        let (_, body) = app.post(&manager, APPROVE, json!({ "id": id })).await;
        let approved = &body["data"]["approveDealRegistration"]["dealRegistration"];
        assert_eq!(approved["status"], "APPROVED", "{body}");
        assert_eq!(approved["protectionEndsAt"], "2027-02-19T09:00:00+00:00");
        assert_eq!(approved["opportunity"]["stage"], "REGISTERED");
        assert_eq!(approved["opportunity"]["source"], "PARTNER_SOURCED");

        let (_, body) = app
        .post(
            &rep,
            "query($id: ID!) { node(id: $id) { ... on DealRegistration { status protectionEndsAt protectionActive
                opportunity { stage myAttribution { role credit } } } }
                dealRegistrations { totalCount } }",
            json!({ "id": id }),
        )
        .await;
        assert_eq!(body["data"]["node"]["status"], "APPROVED", "{body}");
        assert_eq!(body["data"]["node"]["protectionActive"], true);
        assert_eq!(
            body["data"]["node"]["opportunity"]["myAttribution"],
            json!({ "role": "SOURCED", "credit": "1" })
        );
        assert_eq!(body["data"]["dealRegistrations"]["totalCount"], 1);
        for internal in ["internalNotes", "conflicts", "partner"] {
            let (_, body) = app.post(&rep, &format!("query($id: ID!) {{ node(id: $id) {{ ... on DealRegistration {{ {internal} }} }} }}"), json!({ "id": id })).await;
            assert_eq!(
                body["errors"][0]["message"],
                format!("Unknown field \"{internal}\" on type \"DealRegistration\".")
            );
        }
        for internal in [
            "discountPercent",
            "marginPercent",
            "internalNotes",
            "attributions",
            "competitorIntel",
        ] {
            let (_, body) = app.post(&rep, &format!("{{ dealRegistrations {{ edges {{ node {{ opportunity {{ {internal} }} }} }} }} }}"), json!({})).await;
            assert_eq!(
                body["errors"][0]["message"],
                format!("Unknown field \"{internal}\" on type \"Opportunity\".")
            );
        }

        // Another partner sees none of it.
        let other = app.partner("Initech").kind("REFERRAL").await;
        let other_rep = app.partner_token(&other, Role::PartnerRep).await;
        let (_, body) = app
            .post(
                &other_rep,
                "query($id: ID!) { node(id: $id) { id } dealRegistrations { totalCount } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(
            body["data"],
            json!({ "node": null, "dealRegistrations": { "totalCount": 0 } })
        );
    }
);

backend_test!(conflicts_follow_the_rules_of_engagement, |app| {
    let acme = app.partner("Acme").sales_certified().await;
    let beta = app.partner("Beta").kind("REFERRAL").await;
    let gamma = app.partner("Gamma").kind("REFERRAL").await;
    let first = app
        .submit_deal(
            &app.partner_token(&acme, Role::PartnerRep).await,
            deal("Globex Corporation").domain("globex.com"),
        )
        .await;
    let first_id = first["dealRegistration"]["id"].as_str().unwrap().to_owned();
    app.admin_data(APPROVE, json!({ "id": first_id })).await;

    // The same company with other capitalisation, a suffix and a full URL.
    app.clock.advance(Duration::days(2));
    let second = app
        .submit_deal(
            &app.partner_token(&beta, Role::PartnerRep).await,
            deal("GLOBEX inc.").domain("https://www.Globex.com/contact"),
        )
        .await;
    assert_eq!(second["dealRegistration"]["status"], "UNDER_REVIEW");
    let second_id = second["dealRegistration"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let conflicts = app
        .admin_data(
            "query($id: ID!) { node(id: $id) { ... on DealRegistration { conflicts { id kind rule recommendation otherRegistration { id } } } } }",
            json!({ "id": second_id }),
        )
        .await;
    let conflict = &conflicts["node"]["conflicts"][0];
    assert_eq!(conflict["kind"], "PARTNER_REGISTRATION");
    assert_eq!(conflict["recommendation"], "OTHER_PARTNER_WINS");
    assert_eq!(
        conflict["rule"],
        "an approved registration beats an unapproved one"
    );
    assert_eq!(conflict["otherRegistration"]["id"], first_id.as_str());

    // A direct opportunity already at QUALIFIED on another account. (Direct
    // opportunities arrive with the pipeline work; the row is seeded here.)
    let now = app.clock.now();
    let mut row = partnergraph::service::deals::opportunity::Draft {
        name: "Umbrella renewal".into(),
        company_name: "Umbrella".into(),
        company_domain: "umbrella.example".into(),
        source: entity::OpportunitySource::Direct,
        stage: entity::OpportunityStage::Qualified,
        amount_minor: 100_000,
        currency: "EUR".into(),
        expected_close_date: chrono::NaiveDate::from_ymd_opt(2027, 1, 31).unwrap(),
        deal_registration_id: None,
        owner_id: None,
        next_step: None,
        discount_bps: Some(1500),
        margin_bps: None,
        competitor_intel: None,
        internal_notes: None,
        crm_managed: false,
    }
    .row(uuid::Uuid::now_v7(), now - Duration::days(10));
    row.qualified_at = Set(Some(now - Duration::days(1)));
    row.insert(&app.db).await.unwrap();
    let third = app
        .submit_deal(
            &app.partner_token(&gamma, Role::PartnerRep).await,
            deal("Umbrella, Inc.").domain("www.umbrella.example"),
        )
        .await;
    assert_eq!(third["dealRegistration"]["status"], "UNDER_REVIEW");
    let third_id = third["dealRegistration"]["id"].as_str().unwrap().to_owned();
    let conflicts = app
        .admin_data("query($id: ID!) { node(id: $id) { ... on DealRegistration { conflicts { id kind recommendation otherOpportunity { id } } } } }", json!({ "id": third_id }))
        .await;
    let conflict = &conflicts["node"]["conflicts"][0];
    assert_eq!(conflict["kind"], "DIRECT_OPPORTUNITY");
    assert_eq!(conflict["recommendation"], "DIRECT_WINS");
    assert_eq!(
        app.events("deal_registration.conflict_detected")
            .await
            .len(),
        2
    );

    // Resolving as recommended: the partner's registration is rejected and it is credited as influencer.
    let resolve = "mutation($c: ID!) { resolveRegistrationConflict(input: { conflictId: $c, resolution: DIRECT_WINS, rationale: \"qualified first\" }) {
        dealRegistration { status decisionReason } userErrors { field code } } }";
    let data = app
        .admin_data(resolve, json!({ "c": conflict["id"] }))
        .await;
    assert_eq!(
        data["resolveRegistrationConflict"]["dealRegistration"]["status"], "REJECTED",
        "{data}"
    );
    let opportunity = app
        .admin_data("query($id: ID!) { node(id: $id) { ... on Opportunity { attributions { role credit partner { name } } } } }", json!({ "id": conflict["otherOpportunity"]["id"] }))
        .await;
    assert_eq!(
        opportunity["node"]["attributions"],
        json!([{ "role": "INFLUENCED", "credit": "0.3", "partner": { "name": "Gamma" } }])
    );
    let resolved = app.events("deal_registration.conflict_resolved").await;
    assert_eq!(resolved.len(), 1);
    assert!(
        !resolved[0].payload.to_string().contains("Umbrella renewal"),
        "the other side stays unnamed"
    );
});

backend_test!(gating_duplicates_and_every_bad_field, |app| {
    let reseller = app.partner("Uncertified Resale").await;
    let referral = app.partner("Referrer").kind("REFERRAL").await;
    let gated = app
        .submit_deal(
            &app.partner_token(&reseller, Role::PartnerRep).await,
            deal("Globex").domain("globex.com"),
        )
        .await;
    assert_eq!(gated["userErrors"][0]["code"], "CERTIFICATION_REQUIRED");
    let rep = app.partner_token(&referral, Role::PartnerRep).await;
    let ok = app
        .submit_deal(&rep, deal("Globex").domain("globex.com"))
        .await;
    assert_eq!(ok["userErrors"], json!([]));
    let again = app
        .submit_deal(&rep, deal("GLOBEX LLC").domain("www.globex.com"))
        .await;
    assert_eq!(again["userErrors"][0]["code"], "DUPLICATE_REGISTRATION");

    let bad = deal(" ")
        .domain("not a domain")
        .with("customerContactEmail", json!("nope"))
        .with("expectedCloseDate", json!("2026-01-01"))
        .amount("-5", "EUR");
    let result = app.submit_deal(&rep, bad).await;
    let mut fields: Vec<String> = result["userErrors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"][1].as_str().unwrap().to_owned())
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "companyDomain",
            "companyName",
            "customerContactEmail",
            "estimatedAmount",
            "expectedCloseDate"
        ]
    );
    let past = deal("Initech")
        .domain("initech.com")
        .with("expectedCloseDate", json!("2026-01-01"));
    assert_eq!(
        app.submit_deal(&rep, past).await["userErrors"][0]["field"],
        json!(["input", "expectedCloseDate"])
    );
    let staff = app
        .submit_deal(&app.admin, deal("Hooli").domain("hooli.com"))
        .await;
    assert_eq!(
        staff["userErrors"][0]["field"],
        json!(["input", "partnerId"])
    );
    assert_eq!(app.count("deal_registration").await, 1);
});

backend_test!(
    protection_reminds_once_at_day_75_and_expires_at_day_90,
    |app| {
        let acme = app.partner("Acme").kind("REFERRAL").await;
        let submitted = app
            .submit_deal(
                &app.partner_token(&acme, Role::PartnerRep).await,
                deal("Globex").domain("globex.com"),
            )
            .await;
        let id = submitted["dealRegistration"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        app.admin_data(APPROVE, json!({ "id": id })).await;
        let run = || app.run_jobs();

        app.clock.advance(Duration::days(74));
        assert_eq!(run().await.registration_reminders, 0);
        app.clock.advance(Duration::days(1));
        assert_eq!(run().await.registration_reminders, 1);
        assert_eq!(run().await.registration_reminders, 0);
        app.clock.advance(Duration::days(15) - Duration::minutes(1));
        assert_eq!(run().await.registrations_expired, 0);
        app.clock.advance(Duration::minutes(1));
        assert_eq!(run().await.registrations_expired, 1);
        assert_eq!(run().await.registrations_expired, 0);
        assert_eq!(app.events("deal_registration.expiring").await.len(), 1);
        let status = app
            .admin_data(
                "query($id: ID!) { node(id: $id) { ... on DealRegistration { status } } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(status["node"]["status"], "EXPIRED");
    }
);

backend_test!(rejections_need_a_reason_and_extensions_have_limits, |app| {
    let acme = app.partner("Acme").kind("REFERRAL").await;
    let rep = app.partner_token(&acme, Role::PartnerRep).await;
    let a = app
        .submit_deal(&rep, deal("Globex").domain("globex.com"))
        .await["dealRegistration"]["id"]
        .clone();
    let b = app
        .submit_deal(&rep, deal("Initech").domain("initech.com"))
        .await["dealRegistration"]["id"]
        .clone();
    let reject = "mutation($id: ID!, $r: String!) { rejectDealRegistration(input: { id: $id, reason: $r }) { dealRegistration { status decisionReason } userErrors { field code } } }";
    let data = app.admin_data(reject, json!({ "id": a, "r": "  " })).await;
    assert_eq!(
        data["rejectDealRegistration"]["userErrors"][0]["field"],
        json!(["input", "reason"])
    );
    let data = app
        .admin_data(
            reject,
            json!({ "id": a, "r": "Customer is a direct account" }),
        )
        .await;
    assert_eq!(
        data["rejectDealRegistration"]["dealRegistration"]["status"],
        "REJECTED"
    );
    let (_, body) = app
        .post(
            &rep,
            "query($id: ID!) { node(id: $id) { ... on DealRegistration { decisionReason } } }",
            json!({ "id": a }),
        )
        .await;
    assert_eq!(
        body["data"]["node"]["decisionReason"],
        "Customer is a direct account"
    );
    let data = app
        .admin_data(reject, json!({ "id": a, "r": "again" }))
        .await;
    assert_eq!(
        data["rejectDealRegistration"]["userErrors"][0]["code"],
        "INVALID_TRANSITION"
    );

    app.admin_data(APPROVE, json!({ "id": b })).await;
    let extend = "mutation($id: ID!, $d: Int!) { extendDealRegistration(input: { id: $id, days: $d, reason: \"slipped a quarter\" }) {
        dealRegistration { protectionEndsAt extensionCount } userErrors { field code } } }";
    let data = app.admin_data(extend, json!({ "id": b, "d": 91 })).await;
    assert_eq!(
        data["extendDealRegistration"]["userErrors"][0]["field"],
        json!(["input", "days"])
    );
    let data = app.admin_data(extend, json!({ "id": b, "d": 30 })).await;
    assert_eq!(
        data["extendDealRegistration"]["dealRegistration"],
        json!({ "protectionEndsAt": "2027-03-21T09:00:00+00:00", "extensionCount": 1 })
    );
    let data = app.admin_data(extend, json!({ "id": b, "d": 30 })).await;
    assert_eq!(
        data["extendDealRegistration"]["userErrors"][0]["code"],
        "INVALID_TRANSITION"
    );
    assert_eq!(app.events("deal_registration.extended").await.len(), 1);

    // Partners cannot review.
    let (_, body) = app.post(&rep, APPROVE, json!({ "id": b })).await;
    assert!(body.get("data").is_none(), "{body}");
});
