//! Program intelligence (SPEC §4.5): activity, engagement, tier
//! qualification and progress, performance, program metrics and exchange
//! rates, driven over HTTP as a client would, with hand-counted answers.

use crate::helpers::{deal, error_code, TestApp};
use partnergraph::domain::Role;
use serde_json::{json, Value};

const RECORD: &str = "mutation($input: RecordPartnerActivityInput!) {
    recordPartnerActivity(input: $input) { activity { id kind count occurredAt externalId } userErrors { field code message } } }";
const RECORD_MANY: &str = "mutation($input: RecordPartnerActivitiesInput!) {
    recordPartnerActivities(input: $input) { activities { id kind count } userErrors { field code message } } }";
const MOVE: &str = "mutation($id: ID!, $stage: OpportunityStage!, $reason: String) {
    moveOpportunityStage(input: { id: $id, stage: $stage, closedLostReason: $reason }) { opportunity { stage } userErrors { code message } } }";
const ENGAGEMENT: &str = "query($id: ID!) { partner(id: $id) {
    engagement { score band components { kind count points } }
    tierQualification { score recommendedTier pointsToNextTier criteria { criterion value points maxPoints } } } }";

async fn no_gating(app: &TestApp) {
    app.admin_data(
        "mutation { updateSettings(input: { certificationGating: false }) { userErrors { code } } }",
        json!({}),
    )
    .await;
}

/// Runs `query` as the admin a minute later: windows end at "now", excluded.
async fn later(app: &TestApp, query: &str, variables: Value) -> Value {
    use partnergraph::clock::Clock;
    app.clock.advance(chrono::Duration::minutes(1));
    let _ = app.clock.now();
    app.admin_data(query, variables).await
}

fn component(engagement: &Value, kind: &str) -> (i64, String) {
    let c = engagement["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == kind)
        .unwrap();
    (
        c["count"].as_i64().unwrap(),
        c["points"].as_str().unwrap().to_owned(),
    )
}

backend_test!(a_resellers_month_gives_the_documented_engagement, |app| {
    no_gating(&app).await;
    let acme = app.partner("Acme").await;
    let rep = app.partner_token(&acme, Role::PartnerRep).await;

    // 12 logins and a training by the partner itself, 5 downloads in one batch.
    let (_, body) = app
        .post(
            &rep,
            RECORD,
            json!({ "input": { "kind": "PORTAL_LOGIN", "count": 12, "externalId": "lms-1" } }),
        )
        .await;
    assert_eq!(
        body["data"]["recordPartnerActivity"]["activity"]["count"], 12,
        "{body}"
    );
    // Sent again (a retry): nothing new.
    let (_, again) = app
        .post(
            &rep,
            RECORD,
            json!({ "input": { "kind": "PORTAL_LOGIN", "count": 12, "externalId": "lms-1" } }),
        )
        .await;
    assert_eq!(
        again["data"]["recordPartnerActivity"]["activity"]["id"],
        body["data"]["recordPartnerActivity"]["activity"]["id"]
    );
    // The same id for another activity is refused.
    let (_, clash) = app
        .post(
            &rep,
            RECORD,
            json!({ "input": { "kind": "PORTAL_LOGIN", "count": 3, "externalId": "lms-1" } }),
        )
        .await;
    assert_eq!(
        clash["data"]["recordPartnerActivity"]["userErrors"][0]["field"],
        json!(["input", "externalId"])
    );
    let downloads: Vec<Value> = (0..5)
        .map(|_| json!({ "kind": "RESOURCE_DOWNLOAD" }))
        .collect();
    let (_, body) = app
        .post(
            &rep,
            RECORD_MANY,
            json!({ "input": { "activities": downloads } }),
        )
        .await;
    assert_eq!(
        body["data"]["recordPartnerActivities"]["activities"]
            .as_array()
            .unwrap()
            .len(),
        5,
        "{body}"
    );
    app.post(
        &rep,
        RECORD,
        json!({ "input": { "kind": "TRAINING_COMPLETED" } }),
    )
    .await;
    // Two registrations, one of them won.
    app.register_deal(&rep, deal("Initech").amount("5000", "USD"))
        .await;
    app.won_deal(&rep, deal("Globex").amount("20000", "USD"))
        .await;

    let data = later(&app, ENGAGEMENT, json!({ "id": acme })).await;
    let engagement = &data["partner"]["engagement"];
    // 12 × 1 + 5 × 0.5 + 2 × 5 + 1 × 10 + 1 × 3 = 37.5
    assert_eq!(engagement["score"], "37.5", "{data}");
    assert_eq!(engagement["band"], "STRONG");
    assert_eq!(component(engagement, "PORTAL_LOGINS"), (12, "12".into()));
    assert_eq!(
        component(engagement, "RESOURCE_DOWNLOADS"),
        (5, "2.5".into())
    );
    assert_eq!(
        component(engagement, "REGISTRATIONS_SUBMITTED"),
        (2, "10".into())
    );
    assert_eq!(
        component(engagement, "OPPORTUNITIES_CLOSED_WON"),
        (1, "10".into())
    );
    assert_eq!(
        component(engagement, "TRAININGS_COMPLETED"),
        (1, "3".into())
    );

    // Tier: revenue 20,000 → 5; 2 registrations → 8; no certifications → 0;
    // NPS unknown → 5; 90-day engagement 37.5 → 15. Total 33: SILVER, 22 to GOLD.
    let tier = &data["partner"]["tierQualification"];
    assert_eq!(tier["score"], 33, "{tier}");
    assert_eq!(tier["recommendedTier"], "SILVER");
    assert_eq!(tier["pointsToNextTier"], 22);

    // Moving across the band boundary: 37.5 → 49.5 → 50 (still STRONG) → 50.5 (TOP).
    for (kind, count, score, band) in [
        ("PORTAL_LOGIN", 12, "49.5", "STRONG"),
        ("RESOURCE_DOWNLOAD", 1, "50", "STRONG"),
        ("RESOURCE_DOWNLOAD", 1, "50.5", "TOP"),
    ] {
        app.post(
            &rep,
            RECORD,
            json!({ "input": { "kind": kind, "count": count } }),
        )
        .await;
        let data = later(&app, ENGAGEMENT, json!({ "id": acme })).await;
        assert_eq!(data["partner"]["engagement"]["score"], score);
        assert_eq!(data["partner"]["engagement"]["band"], band);
    }

    // NPS 71 adds 15 points (5 → 20): 33 + 15 + (engagement now above 50: +5) = 53.
    let version = app.version_of(&acme, "Partner").await;
    let data = app
        .admin_data(
            "mutation($id: ID!, $v: Int!) { updatePartner(input: { id: $id, expectedVersion: $v, customerNps: 71 }) { partner { customerNps } userErrors { field code } } }",
            json!({ "id": acme, "v": version }),
        )
        .await;
    assert_eq!(
        data["updatePartner"]["partner"]["customerNps"], 71,
        "{data}"
    );
    let data = later(&app, ENGAGEMENT, json!({ "id": acme })).await;
    assert_eq!(data["partner"]["tierQualification"]["score"], 53);

    // Activity is audited and evented (internal).
    let events = app
        .admin_data("{ events(types: [\"partner.activity_recorded\"], first: 100) { edges { node { type } } } }", json!({}))
        .await;
    assert_eq!(
        events["events"]["edges"].as_array().unwrap().len(),
        10,
        "{events}"
    );
});

backend_test!(bad_activity_and_windows_are_refused_by_name, |app| {
    let acme = app.partner("Acme").await;
    let future = "2030-01-01T00:00:00Z";
    let (_, body) = app
        .post(
            &app.admin,
            RECORD_MANY,
            json!({ "input": { "activities": [
            { "partnerId": acme, "kind": "PORTAL_LOGIN" },
            { "partnerId": acme, "kind": "PORTAL_LOGIN", "occurredAt": future },
            { "partnerId": acme, "kind": "PORTAL_LOGIN", "count": 0 },
            { "kind": "PORTAL_LOGIN" },
        ] } }),
        )
        .await;
    let errors = body["data"]["recordPartnerActivities"]["userErrors"]
        .as_array()
        .unwrap()
        .clone();
    let fields: Vec<Value> = errors.iter().map(|e| e["field"].clone()).collect();
    assert!(
        fields.contains(&json!(["input", "activities", "1", "occurredAt"])),
        "{body}"
    );
    assert!(
        fields.contains(&json!(["input", "activities", "2", "count"])),
        "{body}"
    );
    assert!(
        fields.contains(&json!(["input", "activities", "3", "partnerId"])),
        "{body}"
    );
    assert_eq!(app.count("partner_activity").await, 0, "all or nothing");

    let too_many: Vec<Value> = (0..501)
        .map(|_| json!({ "partnerId": acme, "kind": "PORTAL_LOGIN" }))
        .collect();
    let (_, body) = app
        .post(
            &app.admin,
            RECORD_MANY,
            json!({ "input": { "activities": too_many } }),
        )
        .await;
    assert_eq!(
        body["data"]["recordPartnerActivities"]["userErrors"][0]["field"],
        json!(["input", "activities"])
    );

    for (query, argument) in [
        ("{ programMetrics(from: \"2026-02-01T00:00:00Z\", to: \"2026-01-01T00:00:00Z\") { registrationsSubmitted } }", "`from`"),
        ("{ programMetrics(from: \"2010-01-01T00:00:00Z\", to: \"2026-01-01T00:00:00Z\") { registrationsSubmitted } }", "`from`"),
        ("{ programMetrics(from: \"2026-01-01T00:00:00Z\", to: \"2026-02-01T00:00:00Z\", programCosts: { amount: \"-5\", currency: \"USD\" }) { registrationsSubmitted } }", "`programCosts`"),
        ("{ programMetrics(from: \"2026-01-01T00:00:00Z\", to: \"2026-02-01T00:00:00Z\", programCosts: { amount: \"5\", currency: \"XYZ\" }) { registrationsSubmitted } }", "`programCosts.currency`"),
    ] {
        let (_, body) = app.post(&app.admin, query, json!({})).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains(argument), "{body}");
    }
    let (_, body) = app
        .post(
            &app.admin,
            "query($id: ID!) { partner(id: $id) { engagement(windowDays: 731) { score } } }",
            json!({ "id": acme }),
        )
        .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("`windowDays`"),
        "{body}"
    );
    for (rate, ok) in [
        ("0", false),
        ("-1", false),
        ("0.000000001", false),
        ("1.1", true),
    ] {
        let data = app
            .admin_data(
                "mutation($r: Decimal!) { setExchangeRate(input: { currency: \"EUR\", rateToBase: $r }) { exchangeRate { rateToBase } userErrors { field } } }",
                json!({ "r": rate }),
            )
            .await;
        let errors = &data["setExchangeRate"]["userErrors"];
        assert_eq!(errors.as_array().unwrap().is_empty(), ok, "{rate}: {data}");
        if !ok {
            assert_eq!(errors[0]["field"], json!(["input", "rateToBase"]));
        }
    }
});

backend_test!(
    performance_converts_currencies_and_partners_see_only_their_own,
    |app| {
        no_gating(&app).await;
        app.admin_data(
        "mutation { setExchangeRate(input: { currency: \"EUR\", rateToBase: \"1.1\" }) { userErrors { code } } }",
        json!({}),
    )
    .await;
        let acme = app.partner("Acme").await;
        let rival = app.partner("Rival").await;
        let rep = app.partner_token(&acme, Role::PartnerRep).await;
        let rival_rep = app.partner_token(&rival, Role::PartnerRep).await;
        app.won_deal(&rep, deal("Globex").amount("10000", "USD"))
            .await;
        app.won_deal(&rep, deal("Umbrella").amount("1000.01", "EUR"))
            .await; // 1,100.011 → 1,100.01
        app.won_deal(&rep, deal("Hooli").amount("500", "GBP")).await; // no rate: left out, counted
        app.register_deal(&rep, deal("Initech").amount("700", "USD"))
            .await;
        app.won_deal(&rival_rep, deal("Soylent").amount("99999", "USD"))
            .await;

        let query = "query($id: ID!) { partner(id: $id) { performance {
        dealsWon closedWonRevenue { amount currency } creditedRevenue { amount }
        openPipeline { amount } registrationsSubmitted registrationsApproved
        averageWonDealSize { amount } winRate { numerator denominator value }
        revenueByMonth { month revenue { amount } dealsWon } unconvertedOpportunities
        tierProgress: __typename } tierProgress { score recommendedTier nextTier pointsToNextTier criteria { criterion points } } } }";
        app.clock.advance(chrono::Duration::minutes(1));
        let (_, body) = app.post(&rep, query, json!({ "id": acme })).await;
        let p = &body["data"]["partner"]["performance"];
        assert_eq!(p["dealsWon"], 3, "{body}");
        assert_eq!(
            p["closedWonRevenue"],
            json!({ "amount": "11100.01", "currency": "USD" })
        );
        assert_eq!(p["creditedRevenue"]["amount"], "11100.01");
        assert_eq!(p["registrationsSubmitted"], 4);
        assert_eq!(p["registrationsApproved"], 3);
        assert_eq!(
            p["averageWonDealSize"]["amount"], "5550.01",
            "two converted wins: 11,100.01 / 2 → 5,550.005 → 5,550.01"
        );
        assert_eq!(
            p["winRate"],
            json!({ "numerator": 3, "denominator": 3, "value": 1.0 })
        );
        assert_eq!(p["unconvertedOpportunities"], 1);
        assert_eq!(p["revenueByMonth"][0]["month"], "2026-11");
        assert!(
            body["data"]["partner"]["tierProgress"]["score"].is_number(),
            "{body}"
        );

        // Another partner's row does not exist for Acme's token; internal scores are unknown fields.
        let (_, body) = app.post(&rep, query, json!({ "id": rival })).await;
        assert_eq!(body["data"]["partner"], Value::Null, "{body}");
        let (_, body) = app
            .post(
                &rep,
                "query($id: ID!) { partner(id: $id) { engagement { score } } }",
                json!({ "id": acme }),
            )
            .await;
        assert_eq!(
            body["errors"][0]["message"],
            "Unknown field \"engagement\" on type \"Partner\"."
        );
        let (_, body) = app
        .post(&rep, "{ programMetrics(from: \"2026-01-01T00:00:00Z\", to: \"2027-01-01T00:00:00Z\") { registrationsSubmitted } }", json!({}))
        .await;
        assert_eq!(
            body["errors"][0]["message"],
            "Unknown field \"programMetrics\" on type \"Query\"."
        );

        // The program can hide tier progress from partners.
        app.admin_data(
        "mutation { updateSettings(input: { showTierProgressToPartners: false }) { userErrors { code } } }",
        json!({}),
    )
    .await;
        let (_, body) = app
            .post(
                &rep,
                "query($id: ID!) { partner(id: $id) { tierProgress { score } } }",
                json!({ "id": acme }),
            )
            .await;
        assert_eq!(
            body["data"]["partner"]["tierProgress"],
            Value::Null,
            "{body}"
        );
    }
);

backend_test!(program_metrics_match_a_hand_count, |app| {
    no_gating(&app).await;
    let acme = app.partner("Acme").signed().await;
    let bolt = app.partner("Bolt").signed().await;
    let _prospect = app.partner("Crux").kind("REFERRAL").await;
    let rep = app.partner_token(&acme, Role::PartnerRep).await;
    // Acme: two registrations, one won (live), one lost.
    app.won_deal(&rep, deal("Globex").amount("10000", "USD"))
        .await;
    let lost = app
        .register_deal(&rep, deal("Initech").amount("4000", "USD"))
        .await;
    let lost_opp = app.approve(&lost).await;
    app.admin_data(
        MOVE,
        json!({ "id": lost_opp, "stage": "CLOSED_LOST", "reason": "budget" }),
    )
    .await;
    // A direct deal by a sales rep, won, influenced by Bolt; another direct one, open.
    let sales = app.token(Role::Sales, "sam@example.com", None).await;
    let create = "mutation($n: String!, $c: String!, $a: Decimal!) { createOpportunity(input: { name: $n, companyName: $c, companyDomain: \"x.example\", amount: { amount: $a, currency: \"USD\" }, expectedCloseDate: \"2027-03-01\" }) { opportunity { id } userErrors { message } } }";
    let (_, body) = app
        .post(
            &sales,
            create,
            json!({ "n": "Big", "c": "Hooli", "a": "50000" }),
        )
        .await;
    let direct = body["data"]["createOpportunity"]["opportunity"]["id"].clone();
    assert!(direct.is_string(), "{body}");
    app.post(
        &sales,
        create,
        json!({ "n": "Small", "c": "Vandelay", "a": "3000" }),
    )
    .await;
    let (_, body) = app
        .post(&sales, "mutation($o: ID!, $p: ID!) { addOpportunityPartner(input: { opportunityId: $o, partnerId: $p, role: INFLUENCED }) { userErrors { message } } }", json!({ "o": direct, "p": bolt }))
        .await;
    assert_eq!(
        body["data"]["addOpportunityPartner"]["userErrors"],
        json!([]),
        "{body}"
    );
    for stage in ["QUALIFIED", "CLOSED_WON"] {
        let (_, body) = app
            .post(&sales, MOVE, json!({ "id": direct, "stage": stage }))
            .await;
        assert_eq!(
            body["data"]["moveOpportunityStage"]["opportunity"]["stage"], stage,
            "{body}"
        );
    }

    let query = "{ programMetrics(from: \"2026-11-01T00:00:00Z\", to: \"2026-12-01T00:00:00Z\", programCosts: { amount: \"20000\", currency: \"USD\" }) {
        partnersByStatus { status count } liveVsSigned { numerator denominator value }
        activatedPartnerRate { numerator denominator } medianDaysToFirstRegistration
        registrationsSubmitted approvalSlaCompliance { numerator denominator } medianHoursToDecision
        registrationConversion { numerator denominator }
        partnerSourcedShare { numerator { amount } denominator { amount } }
        winRates { segment outcomes { won lost winRate { numerator denominator } averageWonDealSize { amount } } }
        cohorts { month partnersSigned milestones { milestone reachedByDueDate { numerator denominator } } }
        roi { partnerSourcedRevenue { amount } influencedRevenue { amount } attributedRevenue { amount } roiPercent }
        repAdoption { repsWithPartnerDeals { numerator denominator } reps { owner { email } opportunities partnerCredited attachRate { value } withPartner { won } withoutPartner { won } } }
    } }";
    let data = app.admin_data(query, json!({})).await;
    let m = &data["programMetrics"];
    let status = |s: &str| {
        m["partnersByStatus"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["status"] == s)
            .unwrap()["count"]
            .clone()
    };
    assert_eq!(status("SIGNED"), 2, "{m}");
    assert_eq!(status("PROSPECT"), 1);
    assert_eq!(
        m["liveVsSigned"],
        json!({ "numerator": 1, "denominator": 2, "value": 0.5 })
    );
    assert_eq!(
        m["activatedPartnerRate"],
        json!({ "numerator": 2, "denominator": 2 }),
        "Acme sourced and Bolt influenced a won deal"
    );
    assert_eq!(m["medianDaysToFirstRegistration"], 0.0);
    assert_eq!(m["registrationsSubmitted"], 2);
    assert_eq!(
        m["approvalSlaCompliance"],
        json!({ "numerator": 2, "denominator": 2 })
    );
    assert_eq!(m["medianHoursToDecision"], 0.0);
    assert_eq!(
        m["registrationConversion"],
        json!({ "numerator": 1, "denominator": 2 })
    );
    // Pipeline created: sourced 10,000 + 4,000; influenced 50,000; direct 3,000.
    assert_eq!(m["partnerSourcedShare"]["numerator"]["amount"], "14000.00");
    assert_eq!(
        m["partnerSourcedShare"]["denominator"]["amount"],
        "67000.00"
    );
    let segment = |s: &str| {
        m["winRates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["segment"] == s)
            .unwrap()["outcomes"]
            .clone()
    };
    assert_eq!(
        segment("PARTNER_SOURCED")["winRate"],
        json!({ "numerator": 1, "denominator": 2 })
    );
    assert_eq!(
        segment("INFLUENCED")["averageWonDealSize"]["amount"],
        "50000.00"
    );
    assert_eq!(segment("DIRECT")["won"], 0);
    // ROI: 10,000 + 50,000 × 0.3 = 25,000 attributed; (25,000 − 20,000) / 20,000 = 25 %.
    assert_eq!(m["roi"]["attributedRevenue"]["amount"], "25000.00");
    assert_eq!(m["roi"]["roiPercent"], "25.00");
    assert_eq!(m["cohorts"][0]["month"], "2026-11");
    assert_eq!(m["cohorts"][0]["partnersSigned"], 2);
    // Rep adoption: the sales rep owns 2, one crediting a partner; the admin owns Acme's 2 (approval creates them).
    let reps = m["repAdoption"]["reps"].as_array().unwrap();
    let sam = reps
        .iter()
        .find(|r| r["owner"]["email"] == "sam@example.com")
        .unwrap();
    assert_eq!(sam["opportunities"], 2, "{m}");
    assert_eq!(sam["partnerCredited"], 1);
    assert_eq!(sam["attachRate"]["value"], 0.5);
    assert_eq!(sam["withPartner"]["won"], 1);
});

backend_test!(the_daily_job_records_a_changed_recommendation_once, |app| {
    use partnergraph::{clock::Clock, jobs};
    let acme = app.partner("Acme").await;
    let report = app.run_jobs().await;
    assert_eq!(
        report.tier_recommendations_changed, 0,
        "the first recommendation is no change"
    );

    // NPS 71 (+15) and 51 points of logins in the last 90 days (+15): 17 → 47, SILVER.
    app.update_partner(&acme, json!({ "customerNps": 71 }))
        .await;
    app.admin_data(
        RECORD,
        json!({ "input": { "partnerId": acme, "kind": "PORTAL_LOGIN", "count": 51 } }),
    )
    .await;
    app.clock.advance(chrono::Duration::hours(1));
    let report = app.run_jobs().await;
    assert_eq!(
        report.tier_recommendations_changed, 0,
        "worked out once a day"
    );
    app.clock.advance(chrono::Duration::days(1));
    let now = app.clock.now();
    let other = partnergraph::db::connect(&app.database_url())
        .await
        .unwrap();
    let (first, second) = tokio::join!(jobs::run_due(&app.db, now), jobs::run_due(&other, now));
    assert_eq!(
        first.unwrap().tier_recommendations_changed + second.unwrap().tier_recommendations_changed,
        1,
        "two runners record the change once"
    );
    let events = app
        .admin_data("{ events(types: [\"partner.tier_recommendation_changed\"]) { edges { node { data } } } }", json!({}))
        .await;
    let edges = events["events"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 1, "{events}");
    assert_eq!(
        edges[0]["node"]["data"]["previousRecommendedTier"],
        "BRONZE"
    );
    assert_eq!(edges[0]["node"]["data"]["recommendedTier"], "SILVER");
});

// Every request looks its token up (no token cache), so counts are exact.
backend_test!(
    a_scored_page_of_partners_costs_a_fixed_number_of_statements,
    partnergraph::config::ServerConfig {
        token_cache_ttl: std::time::Duration::ZERO,
        ..Default::default()
    },
    |app| {
        use partnergraph::clock::Clock;
        for i in 0..100 {
            let id = app.partner(&format!("Partner {i:03}")).await;
            if i % 10 == 0 {
                app.admin_data(
                    RECORD,
                    json!({ "input": { "partnerId": id, "kind": "PORTAL_LOGIN", "count": 3 } }),
                )
                .await;
            }
        }
        app.clock.advance(chrono::Duration::minutes(1));
        let _ = app.clock.now();
        let query = "query($n: Int!) { partners(first: $n) { edges { node { name
        engagement { score band } tierQualification { score recommendedTier }
        performance { dealsWon closedWonRevenue { amount } winRate { value } } } } } }";
        let mut counts = Vec::new();
        for n in [10, 100] {
            let before = app.sql_statements().await;
            let data = app.admin_data(query, json!({ "n": n })).await;
            assert_eq!(
                data["partners"]["edges"].as_array().unwrap().len(),
                n as usize
            );
            counts.push(app.sql_statements().await - before);
            if n == 100 {
                let scored = data["partners"]["edges"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|e| e["node"]["engagement"]["score"] == "3")
                    .count();
                assert_eq!(scored, 10, "{data}");
            }
        }
        assert_eq!(
            counts[0], counts[1],
            "statements for 10 and 100 partners: {counts:?}"
        );
    }
);
