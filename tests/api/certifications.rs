//! Certifications, the activation runway and the jobs that keep time, with
//! the clock moved instead of slept.

use chrono::Duration;
use partnergraph::{clock::Clock, domain::Role, jobs};
use serde_json::{json, Value};

const TRACK: &str =
    "mutation($input: CreateCertificationTrackInput!) { createCertificationTrack(input: $input) {
    certificationTrack { id code validityMonths active } userErrors { field code message } } }";
const AWARD: &str =
    "mutation($input: AwardCertificationInput!) { awardCertification(input: $input) {
    certification { id status earnedAt expiresAt } userErrors { field code message } } }";

backend_test!(
    a_certification_reminds_once_expires_on_its_own_and_renews,
    |app| {
        let partner = app.partner("Acme").signed().await;
        let sales = app.track("sales-101", "SALES").await;
        let person = app.contact(&partner, "ana@acme.example").await;
        let awarded = app.award(&person, &sales).await;
        assert_eq!(awarded["userErrors"], json!([]));
        assert_eq!(awarded["certification"]["status"], "ACTIVE");
        assert_eq!(
            awarded["certification"]["earnedAt"],
            "2026-11-21T09:00:00+00:00"
        );
        assert_eq!(
            awarded["certification"]["expiresAt"],
            "2027-11-21T09:00:00+00:00"
        );
        let id = awarded["certification"]["id"].as_str().unwrap().to_owned();

        // 2027-11-21 is 365 days away; the reminder is due 30 days before.
        app.clock.advance(Duration::days(334));
        assert_eq!(app.run_jobs().await.expiry_reminders, 0);
        app.clock.advance(Duration::days(1));
        assert_eq!(app.run_jobs().await.expiry_reminders, 1);
        assert_eq!(app.run_jobs().await.expiry_reminders, 0);
        assert_eq!(app.events("certification.expiring").await.len(), 1);

        app.clock.advance(Duration::days(29) + Duration::hours(23));
        assert_eq!(app.run_jobs().await.certifications_expired, 0);
        app.clock.advance(Duration::hours(1));
        assert_eq!(app.run_jobs().await.certifications_expired, 1);
        assert_eq!(app.run_jobs().await.certifications_expired, 0);
        let status = app
            .admin_data(
                "query($id: ID!) { node(id: $id) { ... on Certification { status } } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(status["node"]["status"], "EXPIRED");
        let changes = app.events("certification.status_changed").await;
        let statuses: Vec<&str> = changes
            .iter()
            .map(|e| e.payload["status"].as_str().unwrap())
            .collect();
        assert_eq!(statuses, ["ACTIVE", "EXPIRED"]);

        // Awarding again renews it, and the next cycle reminds again.
        let renewed = app.award(&person, &sales).await;
        assert_eq!(renewed["certification"]["id"], id.as_str());
        assert_eq!(renewed["certification"]["status"], "ACTIVE");
        assert_eq!(
            renewed["certification"]["expiresAt"],
            "2028-11-21T09:00:00+00:00"
        );
        app.clock.advance(Duration::days(340));
        assert_eq!(app.run_jobs().await.expiry_reminders, 1);
        assert_eq!(app.events("certification.expiring").await.len(), 2);
    }
);

backend_test!(
    certification_complete_is_reached_at_the_second_sales_and_first_technical,
    |app| {
        let partner = app.partner("Acme").signed().await;
        let sales = app.track("SALES-1", "SALES").await;
        let technical = app.track("TECH-1", "TECHNICAL").await;
        let (a, b, c) = (
            app.contact(&partner, "a@acme.example").await,
            app.contact(&partner, "b@acme.example").await,
            app.contact(&partner, "c@acme.example").await,
        );
        let milestones = || async {
            app.events("partner.milestone_reached")
                .await
                .iter()
                .map(|e| e.payload["milestone"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(milestones().await, ["AGREEMENT_SIGNED"]);
        app.award(&a, &sales).await;
        app.award(&c, &technical).await;
        app.award(&a, &sales).await; // the same contact twice is still one seller
        assert_eq!(milestones().await, ["AGREEMENT_SIGNED"], "one award early");
        app.award(&b, &sales).await;
        assert_eq!(
            milestones().await,
            ["AGREEMENT_SIGNED", "CERTIFICATION_COMPLETE"]
        );
        app.award(&b, &sales).await;
        assert_eq!(milestones().await.len(), 2);

        let runway = app
        .admin_data("query($id: ID!) { partner(id: $id) { activation { live overdue deadline milestones { milestone dueAt achievedAt } } } }", json!({ "id": partner }))
        .await;
        let activation = &runway["partner"]["activation"];
        assert_eq!(activation["live"], false);
        assert_eq!(activation["deadline"], "2027-03-21T09:00:00+00:00");
        assert_eq!(
            activation["milestones"][2]["milestone"],
            "CERTIFICATION_COMPLETE"
        );
        assert_eq!(
            activation["milestones"][2]["dueAt"],
            "2027-01-02T09:00:00+00:00"
        );
        assert!(activation["milestones"][2]["achievedAt"].is_string());
        assert!(activation["milestones"][1]["achievedAt"].is_null());
    }
);

backend_test!(milestones_people_record_and_those_they_cannot, |app| {
    let unsigned = app.partner("Unsigned").await;
    let partner = app.partner("Acme").signed().await;
    let record = "mutation($input: RecordMilestoneInput!) { recordMilestone(input: $input) {
        partner { activation { milestones { milestone achievedAt } } } userErrors { field code } } }";
    let data = app
        .admin_data(
            record,
            json!({ "input": { "partnerId": partner, "milestone": "ONBOARDING_COMPLETE" } }),
        )
        .await;
    assert_eq!(data["recordMilestone"]["userErrors"], json!([]));
    assert!(
        data["recordMilestone"]["partner"]["activation"]["milestones"][1]["achievedAt"].is_string()
    );
    let data = app
        .admin_data(
            record,
            json!({ "input": { "partnerId": partner, "milestone": "ONBOARDING_COMPLETE" } }),
        )
        .await;
    assert_eq!(
        data["recordMilestone"]["userErrors"],
        json!([{ "field": ["input", "milestone"], "code": "ALREADY_EXISTS" }])
    );
    let data = app
        .admin_data(
            record,
            json!({ "input": { "partnerId": partner, "milestone": "FIRST_REGISTERED_DEAL" } }),
        )
        .await;
    assert_eq!(
        data["recordMilestone"]["userErrors"][0]["code"],
        "INVALID_VALUE"
    );
    let data = app
        .admin_data(
            record,
            json!({ "input": { "partnerId": unsigned, "milestone": "JOINT_GTM_PLAN_SIGNED" } }),
        )
        .await;
    assert_eq!(
        data["recordMilestone"]["userErrors"],
        json!([{ "field": ["input", "partnerId"], "code": "INVALID_VALUE" }])
    );
    assert_eq!(app.events("partner.milestone_reached").await.len(), 2);
});

backend_test!(a_partner_not_live_at_day_120_is_overdue_once, |app| {
    let partner = app.partner("Acme").signed().await;
    app.partner("Never signed").await;
    app.clock.advance(Duration::days(119));
    assert_eq!(app.run_jobs().await.activation_overdue, 0);
    app.clock.advance(Duration::days(1));
    // Two runners at once, each with its own connection: one notice.
    let other = partnergraph::db::connect(&app.database_url())
        .await
        .unwrap();
    let now = app.clock.now();
    let (first, second) = tokio::join!(jobs::run_due(&app.db, now), jobs::run_due(&other, now));
    assert_eq!(
        first.unwrap().activation_overdue + second.unwrap().activation_overdue,
        1
    );
    assert_eq!(app.run_jobs().await.activation_overdue, 0);
    let notices = app.events("partner.activation_overdue").await;
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].payload["partnerId"], partner.as_str());
    let data = app
        .admin_data(
            "query($id: ID!) { partner(id: $id) { activation { overdue live } } }",
            json!({ "id": partner }),
        )
        .await;
    assert_eq!(
        data["partner"]["activation"],
        json!({ "overdue": true, "live": false })
    );
});

backend_test!(bad_certification_input_is_named, |app| {
    let partner = app.partner("Acme").signed().await;
    let person = app.contact(&partner, "ana@acme.example").await;
    let data = app.admin_data(TRACK, json!({ "input": { "code": "S-1", "name": "S", "kind": "SALES", "level": "EXPERT", "validityMonths": 0 } })).await;
    assert_eq!(
        data["createCertificationTrack"]["userErrors"][0]["field"],
        json!(["input", "validityMonths"])
    );
    app.track("S-1", "SALES").await;
    let data = app.admin_data(TRACK, json!({ "input": { "code": "s-1", "name": "Again", "kind": "SALES", "level": "EXPERT" } })).await;
    assert_eq!(
        data["createCertificationTrack"]["userErrors"][0]["code"],
        "ALREADY_EXISTS"
    );
    let data = app.admin_data(TRACK, json!({ "input": { "code": "no spaces!", "name": "X", "kind": "SALES", "level": "EXPERT" } })).await;
    assert_eq!(
        data["createCertificationTrack"]["userErrors"][0]["field"],
        json!(["input", "code"])
    );

    let retired = app.track("OLD", "PRODUCT").await;
    let data = app
        .admin_data("mutation($id: ID!) { updateCertificationTrack(input: { id: $id, active: false }) { certificationTrack { active version } } }", json!({ "id": retired }))
        .await;
    assert_eq!(
        data["updateCertificationTrack"]["certificationTrack"],
        json!({ "active": false, "version": 2 })
    );
    let data = app.award(&person, &retired).await;
    assert_eq!(
        data["userErrors"],
        json!([{ "field": ["input", "trackId"], "code": "INVALID_VALUE", "message": "the track is not active" }])
    );
    let data = app.award(&partner, &retired).await;
    assert_eq!(
        data["userErrors"][0]["field"],
        json!(["input", "contactId"])
    );
    assert_eq!(app.count("certification").await, 0);
});

backend_test!(partners_see_their_own_contacts_certifications_only, |app| {
    let a = app.partner("Acme").signed().await;
    let b = app.partner("Beta").signed().await;
    let sales = app.track("SALES-1", "SALES").await;
    let ana = app.contact(&a, "ana@acme.example").await;
    let bob = app.contact(&b, "bob@beta.example").await;
    app.award(&ana, &sales).await;
    let bobs = app.award(&bob, &sales).await["certification"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = app.partner_token(&a, Role::PartnerRep).await;

    let (_, body) = app
        .post(
            &token,
            "query($b: ID!, $bob: ID!, $cert: ID!) {
                certifications { totalCount edges { node { contact { email } track { code } status } } }
                other: certifications(filter: { partnerId: $b }) { totalCount }
                bobs: certifications(filter: { contactId: $bob }) { totalCount }
                node(id: $cert) { id }
                certificationTracks { totalCount }
                partners { edges { node { certifications { totalCount } activation { live } contacts { edges { node { certifications { totalCount } } } } } } }
            }",
            json!({ "b": b, "bob": bob, "cert": bobs }),
        )
        .await;
    let data = &body["data"];
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(data["certifications"]["totalCount"], 1);
    assert_eq!(
        data["certifications"]["edges"][0]["node"]["contact"]["email"],
        "ana@acme.example"
    );
    assert_eq!(data["other"]["totalCount"], 0);
    assert_eq!(data["bobs"]["totalCount"], 0);
    assert_eq!(data["node"], Value::Null);
    assert_eq!(data["certificationTracks"]["totalCount"], 1);
    let own = &data["partners"]["edges"][0]["node"];
    assert_eq!(own["certifications"]["totalCount"], 1);
    assert_eq!(
        own["contacts"]["edges"][0]["node"]["certifications"]["totalCount"],
        1
    );
    assert!(!body.to_string().contains("bob@"));

    // Awarding does not exist for partners.
    let (_, body) = app
        .post(
            &token,
            AWARD,
            json!({ "input": { "contactId": ana, "trackId": sales } }),
        )
        .await;
    assert!(body.get("data").is_none(), "{body}");
    assert_eq!(crate::helpers::error_code(&body), "BAD_USER_INPUT");
});
