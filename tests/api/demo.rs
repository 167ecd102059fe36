//! `serve --demo`: a realistic program seeded through the write path, so that
//! every dashboard of a new user's first hour shows something.

use partnergraph::{clock::Clock, service::demo};
use serde_json::{json, Value};

fn count(data: &Value) -> i64 {
    data["totalCount"].as_i64().unwrap()
}

backend_test!(
    the_demo_program_fills_every_kpi_and_seeds_only_once,
    |app| {
        let now = app.clock.now();
        let seeded = demo::seed(&app.db, now).await.unwrap();
        assert!(seeded.seeded);

        // The size the issue asks for, every status reached, all of it audited.
        assert_eq!(app.count("partner").await, 40);
        let registrations = app.count("deal_registration").await;
        assert!((180..=260).contains(&registrations), "{registrations}");
        let opportunities = app.count("opportunity").await;
        assert!((250..=350).contains(&opportunities), "{opportunities}");
        for status in [
            "PROSPECT",
            "SIGNED",
            "ONBOARDING",
            "ACTIVE",
            "DORMANT",
            "OFFBOARDED",
        ] {
            let n = app
                .count_where("partner", &format!("status = '{status}'"))
                .await;
            assert!(n > 0, "no {status} partner");
        }
        for status in [
            "SUBMITTED",
            "UNDER_REVIEW",
            "APPROVED",
            "REJECTED",
            "WITHDRAWN",
            "EXPIRED",
        ] {
            let n = app
                .count_where("deal_registration", &format!("status = '{status}'"))
                .await;
            assert!(n > 0, "no {status} registration");
        }
        for status in ["IN_PROGRESS", "ACTIVE", "EXPIRED", "REVOKED"] {
            let n = app
                .count_where("certification", &format!("status = '{status}'"))
                .await;
            assert!(n > 0, "no {status} certification");
        }
        for role in ["SOURCED", "INFLUENCED", "CO_SELL"] {
            let n = app
                .count_where("opportunity_attribution", &format!("role = '{role}'"))
                .await;
            assert!(n > 0, "no {role} attribution");
        }
        for kind in ["PARTNER_REGISTRATION", "DIRECT_OPPORTUNITY"] {
            let open = format!("kind = '{kind}' AND resolution IS NULL");
            assert!(
                app.count_where("registration_conflict", &open).await > 0,
                "no open {kind}"
            );
        }
        assert!(app.count("audit_entry").await > 2_000);
        assert!(app.count("outbox_event").await > 2_000);

        // Staff: every KPI of the last year has something in it.
        let from = (now - chrono::Duration::days(365)).to_rfc3339();
        let metrics = app
        .admin_data(
            "query($from: DateTime!, $to: DateTime!) { programMetrics(from: $from, to: $to) {
                liveVsSigned { numerator } activatedPartnerRate { numerator }
                medianDaysToFirstRegistration registrationsSubmitted
                approvalSlaCompliance { numerator denominator } medianHoursToDecision
                registrationConversion { numerator } partnerSourcedShare { value }
                winRates { segment outcomes { won lost } } certificationCompletion { numerator }
                cohorts { partnersSigned } repAdoption { repsWithPartnerDeals { numerator denominator } }
            } }",
            json!({ "from": from, "to": now.to_rfc3339() }),
        )
        .await["programMetrics"]
        .clone();
        for ratio in [
            "liveVsSigned",
            "activatedPartnerRate",
            "registrationConversion",
            "certificationCompletion",
        ] {
            assert!(
                metrics[ratio]["numerator"].as_i64().unwrap() > 0,
                "{ratio}: {metrics}"
            );
        }
        let sla = &metrics["approvalSlaCompliance"];
        assert!(
            sla["numerator"].as_i64() < sla["denominator"].as_i64(),
            "some late decisions: {sla}"
        );
        assert!(metrics["medianHoursToDecision"].as_f64().unwrap() > 0.0);
        for segment in metrics["winRates"].as_array().unwrap() {
            assert!(
                segment["outcomes"]["won"].as_i64().unwrap() > 0,
                "{segment}"
            );
            assert!(
                segment["outcomes"]["lost"].as_i64().unwrap() > 0,
                "{segment}"
            );
        }
        assert!(metrics["cohorts"].as_array().unwrap().len() >= 10);
        let adoption = &metrics["repAdoption"]["repsWithPartnerDeals"];
        assert!(
            adoption["numerator"].as_i64() < adoption["denominator"].as_i64(),
            "{adoption}"
        );

        // The partner tokens it prints see their own partner's deals, and only those.
        let (_, mine) = app
            .post(
                &seeded.partner_rep_token,
                "{ viewer { partner { name } } dealRegistrations(first: 100) { totalCount } }",
                json!({}),
            )
            .await;
        assert_eq!(
            mine["data"]["viewer"]["partner"]["name"],
            seeded.partner_name
        );
        let own = count(&mine["data"]["dealRegistrations"]);
        assert!(own > 0 && own < registrations, "{mine}");
        let (_, admin) = app
            .post(
                &seeded.partner_admin_token,
                "{ viewer { role } }",
                json!({}),
            )
            .await;
        assert_eq!(admin["data"]["viewer"]["role"], "PARTNER_ADMIN");

        // The queries the banner suggests run as printed.
        for (i, (_, query)) in demo::queries(now).iter().enumerate() {
            let token = if i == 2 {
                &seeded.partner_rep_token
            } else {
                &seeded.admin_token
            };
            let (_, body) = app.post(token, query, json!({})).await;
            assert!(body.get("errors").is_none(), "{query}: {body}");
        }

        // A second start seeds nothing and still hands out tokens.
        let again = demo::seed(&app.db, now).await.unwrap();
        assert!(!again.seeded);
        assert_eq!(app.count("partner").await, 40);
        let (_, body) = app
            .post(
                &again.partner_rep_token,
                "{ viewer { partner { name } } }",
                json!({}),
            )
            .await;
        assert_eq!(
            body["data"]["viewer"]["partner"]["name"],
            seeded.partner_name
        );
    }
);
