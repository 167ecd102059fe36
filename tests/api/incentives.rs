//! Incentives and payouts (SPEC §4.8): plans, accruals on won deals, the
//! append-only ledger, payouts and statements, the partner's view.

use partnergraph::clock::Clock;
use sea_orm::{ActiveModelTrait, ConnectionTrait, NotSet, Set, Statement};

use crate::helpers::TestApp;

/// Runs `sql` on the test database; the error text, if it failed.
async fn raw(app: &TestApp, sql: &str) -> Option<String> {
    let backend = app.db.get_database_backend();
    app.db
        .execute_raw(Statement::from_string(backend, sql.to_owned()))
        .await
        .err()
        .map(|e| e.to_string())
}

backend_test!(the_ledger_refuses_updates_and_deletes, |app| {
    let partner = app.partner("Acme").await;
    let partner_id =
        partnergraph::ids::decode_as(partnergraph::ids::NodeType::Partner, &partner).unwrap();
    entity::incentive_ledger_entry::ActiveModel {
        seq: NotSet,
        id: Set(uuid::Uuid::now_v7()),
        partner_id: Set(partner_id),
        kind: Set(entity::LedgerEntryKind::Adjustment),
        amount_minor: Set(100),
        currency: Set("EUR".into()),
        accrual_id: Set(None),
        payout_id: Set(None),
        corrects_id: Set(None),
        reason: Set(Some("welcome bonus".into())),
        occurred_at: Set(app.clock.now()),
    }
    .insert(&app.db)
    .await
    .unwrap();
    let update = raw(&app, "UPDATE incentive_ledger_entry SET amount_minor = 1").await;
    assert!(update.is_some_and(|e| e.contains("append-only")));
    let delete = raw(&app, "DELETE FROM incentive_ledger_entry").await;
    assert!(delete.is_some_and(|e| e.contains("append-only")));
    assert_eq!(
        app.count_where("incentive_ledger_entry", "amount_minor = 100")
            .await,
        1
    );
});

use chrono::Duration;
use partnergraph::domain::Role;
use serde_json::{json, Value};

use crate::helpers::deal;

const CREATE_PLAN: &str =
    "mutation($input: CreateIncentivePlanInput!) { createIncentivePlan(input: $input) {
    incentivePlan { id status currentVersion } userErrors { field code message } } }";

/// Creates and activates a plan named `name` with `terms`; its id.
pub(crate) async fn active_plan(app: &TestApp, name: &str, terms: Value) -> String {
    let data = app
        .admin_data(
            CREATE_PLAN,
            json!({ "input": { "name": name, "kind": "COMMISSION", "terms": terms } }),
        )
        .await;
    let id = data["createIncentivePlan"]["incentivePlan"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no plan: {data}"))
        .to_owned();
    let data = app
        .admin_data(
            "mutation($id: ID!) { activateIncentivePlan(input: { id: $id }) { incentivePlan { status } userErrors { code } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        data["activateIncentivePlan"]["incentivePlan"]["status"], "ACTIVE",
        "{data}"
    );
    id
}

/// 10 % SOURCED and 2.5 % INFLUENCED of the credited amount, in EUR.
pub(crate) fn commission() -> Value {
    json!({
        "partnerDescription": "10% of every deal you source, 2.5% of your credited share of deals you influence.",
        "basis": "CREDITED_AMOUNT", "currency": "EUR", "holdDays": 30,
        "rates": [
            { "role": "SOURCED", "ratePercent": "10" },
            { "role": "INFLUENCED", "ratePercent": "2.5" },
        ],
    })
}

/// 500 EUR for each of the first 3 deals won within 90 days of signing.
pub(crate) fn fast_start() -> Value {
    json!({
        "partnerDescription": "500 EUR for each of your first 3 deals won within 90 days of signing.",
        "basis": "FLAT", "currency": "EUR", "holdDays": 30,
        "rates": [{ "role": "SOURCED", "flatAmount": "500" }],
        "window": { "anchor": "PARTNER_SIGNED", "days": 90, "maxCount": 3 },
    })
}

const ACCRUALS: &str =
    "query($partner: ID!) { accruals(filter: { partnerId: $partner }, first: 100) {
    totalCount edges { node { id amount { amount currency } status holdUntil reason explanation
    plan { name } planVersion role opportunity { id } } } } }";

/// The partner's accruals as the admin sees them, oldest first.
async fn accruals_of(app: &TestApp, partner: &str) -> Vec<Value> {
    let data = app
        .admin_data(ACCRUALS, json!({ "partner": partner }))
        .await;
    let mut list: Vec<Value> = data["accruals"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    list.reverse();
    list
}

fn amounts(accruals: &[Value]) -> Vec<String> {
    accruals
        .iter()
        .map(|a| a["amount"]["amount"].as_str().unwrap().to_owned())
        .collect()
}

const STATEMENT: &str = "query($id: ID!, $from: DateTime!, $to: DateTime!) { partner(id: $id) {
    statement(from: $from, to: $to, currency: \"EUR\") {
      openingBalance { amount } accrued { amount } reversed { amount } adjusted { amount }
      paid { amount } closingBalance { amount } payable { amount } note
      lines { kind amount { amount } reason } } } }";

async fn statement(app: &TestApp, token: &str, partner: &str) -> Value {
    let (_, body) = app
        .post(
            token,
            STATEMENT,
            json!({ "id": partner, "from": "2026-01-01T00:00:00Z", "to": "2028-01-01T00:00:00Z" }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["partner"]["statement"].clone()
}

fn decimal(v: &Value) -> rust_decimal::Decimal {
    v["amount"].as_str().unwrap().parse().unwrap()
}

/// The statement's closing balance is its opening balance plus its lines.
fn assert_reconciles(statement: &Value) {
    let lines: rust_decimal::Decimal = statement["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| decimal(&l["amount"]))
        .sum();
    assert_eq!(
        decimal(&statement["openingBalance"]) + lines,
        decimal(&statement["closingBalance"]),
        "{statement}"
    );
    let parts = ["accrued", "reversed", "adjusted", "paid"]
        .iter()
        .map(|k| decimal(&statement[*k]))
        .sum::<rust_decimal::Decimal>();
    assert_eq!(parts, lines, "{statement}");
}

async fn pay_out(app: &TestApp, period_end: &str) -> Vec<Value> {
    let data = app
        .admin_data(
            "mutation($end: Date!) { createPayouts(input: { periodEnd: $end, currency: \"EUR\" }) {
                payouts { id amount { amount } status partner { id } } userErrors { field message } } }",
            json!({ "end": period_end }),
        )
        .await;
    let payouts = data["createPayouts"]["payouts"].as_array().unwrap().clone();
    for payout in &payouts {
        let id = &payout["id"];
        let data = app
            .admin_data(
                "mutation($id: ID!) {
                    approvePayout(input: { id: $id }) { payout { status } userErrors { message } } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(
            data["approvePayout"]["payout"]["status"], "APPROVED",
            "{data}"
        );
        let data = app
            .admin_data(
                "mutation($id: ID!) { markPayoutPaid(input: { id: $id, externalReference: \"SEPA-1\" }) {
                    payout { status } userErrors { message } } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(data["markPayoutPaid"]["payout"]["status"], "PAID", "{data}");
    }
    payouts
}

backend_test!(
    a_commission_and_a_fast_start_bonus_pay_and_explain_themselves,
    |app| {
        active_plan(&app, "Resale commission", commission()).await;
        active_plan(&app, "Fast start", fast_start()).await;
        let acme = app.partner("Acme").signed().sales_certified().await;
        let mut day = 0;
        for (i, won_on) in [30, 60, 85, 95].into_iter().enumerate() {
            app.clock.advance(Duration::days(won_on - day));
            day = won_on;
            let rep = app.partner_token(&acme, Role::PartnerRep).await;
            app.won_deal(&rep, deal(&format!("Customer {i}"))).await;
        }
        let accruals = accruals_of(&app, &acme).await;
        // Each deal earns 10 % of 25,000.00; the first three earn the bonus too.
        let mut earned = amounts(&accruals);
        earned.sort();
        assert_eq!(
            earned,
            ["2500.00", "2500.00", "2500.00", "2500.00", "500.00", "500.00", "500.00"]
        );
        let second_bonus = accruals
            .iter()
            .filter(|a| a["plan"]["name"] == "Fast start")
            .nth(1)
            .unwrap();
        assert_eq!(
            second_bonus["explanation"],
            json!([
                "Plan \"Fast start\", version 1",
                "Deal 2 of 3 fast-start deals within 90 days of signing",
                "Fixed amount for a sourced deal: 500.00 EUR",
            ])
        );
        let commission = accruals
            .iter()
            .find(|a| a["plan"]["name"] == "Resale commission")
            .unwrap();
        assert_eq!(
            commission["explanation"],
            json!([
                "Plan \"Resale commission\", version 1",
                "Deal amount 25,000.00 EUR × your credit 100% = 25,000.00 EUR",
                "Sourced rate 10% earns 2,500.00 EUR",
            ])
        );
        assert!(accruals.iter().all(|a| a["status"] == "PENDING"));
        let rep = app.partner_token(&acme, Role::PartnerRep).await;
        let (_, body) = app
            .post(
                &rep,
                "query($id: ID!) { partner(id: $id) { incentiveProgress { plan { name } window { dealsCounted maxCount } } } }",
                json!({ "id": acme }),
            )
            .await;
        let fast = body["data"]["partner"]["incentiveProgress"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"))
            .iter()
            .find(|p| p["plan"]["name"] == "Fast start")
            .cloned()
            .unwrap();
        assert_eq!(fast["window"], json!({ "dealsCounted": 3, "maxCount": 3 }));

        // The hold ends 30 days after the last deal: the job approves, a payout pays.
        app.clock.advance(Duration::days(31));
        assert_eq!(app.run_jobs().await.accruals_approved, 7);
        assert_eq!(app.run_jobs().await.accruals_approved, 0, "approved once");
        let payouts = pay_out(&app, &app.clock_date()).await;
        assert_eq!(payouts.len(), 1);
        assert_eq!(payouts[0]["amount"]["amount"], "11500.00");
        assert!(accruals_of(&app, &acme)
            .await
            .iter()
            .all(|a| a["status"] == "PAID"));

        let admin_view = statement(&app, &app.admin, &acme).await;
        assert_reconciles(&admin_view);
        assert_eq!(admin_view["accrued"]["amount"], "11500.00");
        assert_eq!(admin_view["paid"]["amount"], "-11500.00");
        assert_eq!(admin_view["closingBalance"]["amount"], "0.00");
        // The partner reads the same statement.
        let rep = app.partner_token(&acme, Role::PartnerRep).await;
        assert_eq!(statement(&app, &rep, &acme).await, admin_view);
    }
);

backend_test!(role_rates_and_both_tier_modes_on_one_deal, |app| {
    active_plan(&app, "Commission", commission()).await;
    let tiers = |mode: &str| {
        json!({
            "partnerDescription": "5% up to 50,000 a quarter, 8% above.",
            "basis": "OPPORTUNITY_AMOUNT", "currency": "EUR", "holdDays": 0,
            "rates": [{ "role": "SOURCED", "ratePercent": "0" }],
            "tiers": { "period": "QUARTER", "mode": mode, "brackets": [
                { "above": "0", "ratePercent": "5" }, { "above": "50000", "ratePercent": "8" },
            ] },
        })
    };
    active_plan(&app, "Marginal tiers", tiers("MARGINAL")).await;
    active_plan(&app, "Retroactive tiers", tiers("RETROACTIVE")).await;
    let acme = app.partner("Acme").signed().sales_certified().await;
    let beta = app.partner("Beta").signed().await;
    let (_, opportunity) = app
        .sourced_opportunity(&acme, deal("Big Customer").amount("100000.00", "EUR"))
        .await;
    let data = app
        .admin_data(
            "mutation($o: ID!, $p: ID!) { addOpportunityPartner(input: { opportunityId: $o, partnerId: $p, role: INFLUENCED }) { userErrors { message } } }",
            json!({ "o": opportunity, "p": beta }),
        )
        .await;
    assert_eq!(data["addOpportunityPartner"]["userErrors"], json!([]));
    for stage in ["QUALIFIED", "CLOSED_WON"] {
        app.admin_data(
            "mutation($id: ID!, $stage: OpportunityStage!) { moveOpportunityStage(input: { id: $id, stage: $stage }) { userErrors { message } } }",
            json!({ "id": opportunity, "stage": stage }),
        )
        .await;
    }
    let mut acme_earned = amounts(&accruals_of(&app, &acme).await);
    acme_earned.sort();
    // 10 % of 100,000; tiers on 100,000: marginal 2,500 + 4,000, retroactive 8,000.
    assert_eq!(acme_earned, ["10000.00", "6500.00", "8000.00"]);
    // The partner sees where it stands under each plan.
    let rep = app.partner_token(&acme, Role::PartnerRep).await;
    let (_, body) = app
        .post(
            &rep,
            "query($id: ID!) { partner(id: $id) { incentiveProgress { plan { name }
                rates { role ratePercent } earned { amount }
                tierPeriod { basisSoFar { amount } currentRatePercent nextThreshold { amount } } } } }",
            json!({ "id": acme }),
        )
        .await;
    let progress = body["data"]["partner"]["incentiveProgress"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .clone();
    let marginal = progress
        .iter()
        .find(|p| p["plan"]["name"] == "Marginal tiers")
        .unwrap();
    assert_eq!(marginal["earned"]["amount"], "6500.00");
    assert_eq!(
        marginal["tierPeriod"],
        json!({ "basisSoFar": { "amount": "100000.00" }, "currentRatePercent": "8", "nextThreshold": null })
    );
    let beta_accruals = accruals_of(&app, &beta).await;
    // INFLUENCED: 2.5 % of 30 % of 100,000; the tier plans pay SOURCED only.
    assert_eq!(amounts(&beta_accruals), ["750.00"]);
    assert_eq!(
        beta_accruals[0]["explanation"][1],
        "Deal amount 100,000.00 EUR × your credit 30% = 30,000.00 EUR"
    );
});

backend_test!(
    reopening_after_payout_leaves_a_negative_entry_the_next_payout_nets,
    |app| {
        active_plan(&app, "Commission", commission()).await;
        let acme = app.partner("Acme").signed().sales_certified().await;
        let rep = app.partner_token(&acme, Role::PartnerRep).await;
        let first = app.won_deal(&rep, deal("First")).await;
        let ids: Vec<Value> = accruals_of(&app, &acme)
            .await
            .iter()
            .map(|a| a["id"].clone())
            .collect();
        // Staff approve early, in bulk; a bad id is named and nothing changes.
        let review = "mutation($ids: [ID!]!) { approveAccruals(input: { ids: $ids }) {
        accruals { status } userErrors { field code } } }";
        let data = app
            .admin_data(review, json!({ "ids": [ids[0], "nonsense"] }))
            .await;
        assert_eq!(
            data["approveAccruals"]["userErrors"],
            json!([{ "field": ["input", "ids", "1"], "code": "NOT_FOUND" }])
        );
        assert_eq!(accruals_of(&app, &acme).await[0]["status"], "PENDING");
        let data = app.admin_data(review, json!({ "ids": ids })).await;
        assert_eq!(
            data["approveAccruals"]["accruals"],
            json!([{ "status": "APPROVED" }])
        );
        let paid = pay_out(&app, &app.clock_date()).await;
        assert_eq!(paid[0]["amount"]["amount"], "2500.00");
        let ledger_before = app.count("incentive_ledger_entry").await;

        let data = app
        .admin_data(
            "mutation($id: ID!) { reopenOpportunity(input: { id: $id, stage: NEGOTIATION }) { userErrors { message } } }",
            json!({ "id": first }),
        )
        .await;
        assert_eq!(data["reopenOpportunity"]["userErrors"], json!([]));
        let reversed = accruals_of(&app, &acme).await;
        assert_eq!(reversed[0]["status"], "REVERSED");
        assert!(reversed[0]["reason"]
            .as_str()
            .unwrap()
            .contains("already paid"));
        // One new entry; none edited (the database refuses it anyway).
        assert_eq!(app.count("incentive_ledger_entry").await, ledger_before + 1);
        let rep = app.partner_token(&acme, Role::PartnerRep).await;
        let owed = statement(&app, &rep, &acme).await;
        assert_reconciles(&owed);
        assert_eq!(owed["closingBalance"]["amount"], "-2500.00");
        assert_eq!(owed["payable"]["amount"], "-2500.00");
        assert!(
            owed["note"].as_str().unwrap().contains("carried forward"),
            "{owed}"
        );
        // No payout while the balance is negative.
        assert_eq!(pay_out(&app, &app.clock_date()).await, Vec::<Value>::new());

        // A bigger deal later: the next payout nets the reversal.
        app.won_deal(&rep, deal("Second").amount("50000.00", "EUR"))
            .await;
        let pending: Vec<Value> = accruals_of(&app, &acme)
            .await
            .iter()
            .filter(|a| a["status"] == "PENDING")
            .map(|a| a["id"].clone())
            .collect();
        app.admin_data(review, json!({ "ids": pending })).await;
        let netted = pay_out(&app, &app.clock_date()).await;
        assert_eq!(netted[0]["amount"]["amount"], "2500.00");
        let settled = statement(&app, &app.admin, &acme).await;
        assert_reconciles(&settled);
        assert_eq!(settled["closingBalance"]["amount"], "0.00");
        assert_eq!(settled["payable"]["amount"], "0.00");
        assert_eq!(settled["note"], Value::Null);

        // Finance exports the month's payouts as CSV with stable columns.
        let month = app.clock_date()[..7].to_owned();
        let output = crate::helpers::binary::cli(
            &app.database_url(),
            ["export", "payouts", "--period", month.as_str()],
        );
        assert!(output.status.success(), "{output:?}");
        let csv = String::from_utf8(output.stdout).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "id,partnerId,partner,amount,currency,periodEnd,status,externalReference,failureReason,paidAt,createdAt"
        );
        assert_eq!(lines.len(), 3, "{csv}");
        assert!(
            lines[1].contains(",Acme,2500.00,EUR,") && lines[1].contains(",PAID,SEPA-1,"),
            "{csv}"
        );
    }
);

backend_test!(
    a_preview_of_a_changed_plan_shows_what_would_have_been_paid_and_writes_nothing,
    |app| {
        let plan = active_plan(&app, "Commission", commission()).await;
        let acme = app.partner("Acme").signed().sales_certified().await;
        let rep = app.partner_token(&acme, Role::PartnerRep).await;
        app.won_deal(&rep, deal("One")).await;
        app.won_deal(&rep, deal("Two").amount("40000.00", "EUR"))
            .await;
        let mut changed = commission();
        changed["rates"][0]["ratePercent"] = json!("12");
        let tables = [
            "incentive_accrual",
            "incentive_ledger_entry",
            "incentive_plan_version",
            "audit_entry",
            "outbox_event",
        ];
        let mut before = Vec::new();
        for table in tables {
            before.push(app.count(table).await);
        }
        let data = app
        .admin_data(
            "query($plan: ID!, $terms: IncentivePlanTermsInput) {
                previewIncentivePlan(planId: $plan, terms: $terms, from: \"2026-10-01T00:00:00Z\", to: \"2027-01-01T00:00:00Z\") {
                  total { amount currency } dealsConsidered lines { amount { amount } explanation } } }",
            json!({ "plan": plan, "terms": changed }),
        )
        .await;
        let preview = &data["previewIncentivePlan"];
        // 12 % of 25,000 and of 40,000.
        assert_eq!(
            preview["total"],
            json!({ "amount": "7800.00", "currency": "EUR" })
        );
        assert_eq!(preview["dealsConsidered"], 2);
        assert_eq!(
            preview["lines"][0]["explanation"][2],
            "Sourced rate 12% earns 3,000.00 EUR"
        );
        let mut after = Vec::new();
        for table in tables {
            after.push(app.count(table).await);
        }
        assert_eq!(before, after, "a preview writes nothing");
        // The saved plan's own preview matches what was accrued.
        let data = app
        .admin_data(
            "query($plan: ID!) { previewIncentivePlan(planId: $plan, from: \"2026-10-01T00:00:00Z\", to: \"2027-01-01T00:00:00Z\") { total { amount } } }",
            json!({ "plan": plan }),
        )
        .await;
        assert_eq!(data["previewIncentivePlan"]["total"]["amount"], "6500.00");
        // Partners cannot preview.
        let (_, body) = app
        .post(
            &rep,
            "query($plan: ID!) { previewIncentivePlan(planId: $plan, from: \"2026-10-01T00:00:00Z\", to: \"2027-01-01T00:00:00Z\") { dealsConsidered } }",
            json!({ "plan": plan }),
        )
        .await;
        assert!(body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Unknown field"));
    }
);

backend_test!(
    a_partner_sees_its_own_money_and_nothing_of_another_partners,
    |app| {
        active_plan(&app, "Commission", commission()).await;
        let acme = app.partner("Acme").signed().sales_certified().await;
        let beta = app.partner("Beta").signed().sales_certified().await;
        let acme_rep = app.partner_token(&acme, Role::PartnerAdmin).await;
        let beta_rep = app.partner_token(&beta, Role::PartnerRep).await;
        app.won_deal(&acme_rep, deal("Acme Customer")).await;
        app.won_deal(&beta_rep, deal("Beta Customer")).await;
        let beta_accrual = accruals_of(&app, &beta).await[0]["id"].clone();
        let note = "mutation($ids: [ID!]!) { holdAccruals(input: { ids: $ids, reason: \"Checking the invoice\", note: \"finance suspects a duplicate\" }) { userErrors { code } } }";
        app.admin_data(note, json!({ "ids": [beta_accrual] })).await;

        let (_, mine) = app
        .post(
            &acme_rep,
            "{ accruals { totalCount edges { node { amount { amount } status holdUntil reason explanation plan { name partnerDescription } } } }
               payouts { totalCount } }",
            json!({}),
        )
        .await;
        assert_eq!(mine["data"]["accruals"]["totalCount"], 1, "{mine}");
        assert_eq!(
            mine["data"]["accruals"]["edges"][0]["node"]["plan"]["partnerDescription"],
            commission()["partnerDescription"]
        );
        let (_, theirs) = app
            .post(
                &acme_rep,
                "query($a: ID!, $b: ID!) { node(id: $a) { id } partner(id: $b) { id }
               filtered: accruals(filter: { opportunityId: $a }) { totalCount } }",
                json!({ "a": beta_accrual, "b": beta }),
            )
            .await;
        assert_eq!(
            theirs["data"],
            json!({ "node": null, "partner": null, "filtered": { "totalCount": 0 } })
        );
        for internal in [
            "{ accruals { edges { node { note } } } }",
            "{ accruals { edges { node { plan { terms { currency } } } } } }",
            "{ incentivePlans { totalCount } }",
            "{ ledgerEntries { cursor } }",
        ] {
            let (_, body) = app.post(&acme_rep, internal, json!({})).await;
            assert!(
                body["errors"][0]["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("Unknown field")),
                "{internal}: {body}"
            );
        }
        // Disputing another partner's accrual fails like an id of nothing.
        let dispute = "mutation($id: ID!) { disputeAccrual(input: { id: $id, reason: \"too low\" }) { accrual { id } userErrors { code } } }";
        let (_, body) = app
            .post(&acme_rep, dispute, json!({ "id": beta_accrual }))
            .await;
        assert_eq!(
            body["data"]["disputeAccrual"]["userErrors"],
            json!([{ "code": "NOT_FOUND" }])
        );
        // Events: its own accrual.created, in the partner view (no staff note).
        let (_, events) = app
            .post(
                &acme_rep,
                "{ events(first: 100) { edges { node { type data } } } }",
                json!({}),
            )
            .await;
        let text = events.to_string();
        assert!(text.contains("accrual.created"), "{text}");
        assert!(
            !text.contains("Beta") && !text.contains("duplicate"),
            "{text}"
        );
        let (_, events) = app
            .post(
                &beta_rep,
                "{ events(first: 100) { edges { node { type data } } } }",
                json!({}),
            )
            .await;
        let text = events.to_string();
        assert!(
            text.contains("Checking the invoice") && !text.contains("duplicate"),
            "{text}"
        );
    }
);

backend_test!(
    concurrent_closes_of_one_partners_deals_keep_its_window_and_cap,
    |app| {
        active_plan(&app, "Fast start", fast_start()).await;
        let mut capped = commission();
        capped["cap"] = json!("6000");
        active_plan(&app, "Capped commission", capped).await;
        let acme = app.partner("Acme").signed().sales_certified().await;
        let mut opportunities = Vec::new();
        for i in 0..6 {
            let (_, opportunity) = app
                .sourced_opportunity(&acme, deal(&format!("Customer {i}")))
                .await;
            app.admin_data(
                "mutation($id: ID!) { moveOpportunityStage(input: { id: $id, stage: QUALIFIED }) { userErrors { message } } }",
                json!({ "id": opportunity }),
            )
            .await;
            opportunities.push(opportunity);
        }
        let closes = opportunities.iter().map(|id| {
            app.post(
                &app.admin,
                "mutation($id: ID!) { moveOpportunityStage(input: { id: $id, stage: CLOSED_WON }) { opportunity { stage } userErrors { code } } }",
                json!({ "id": id }),
            )
        });
        for (_, body) in futures_util::future::join_all(closes).await {
            assert_eq!(
                body["data"]["moveOpportunityStage"]["opportunity"]["stage"], "CLOSED_WON",
                "{body}"
            );
        }
        // Six deals closed at once: three fast-start bonuses, and the
        // commission (2,500.00 a deal) stops at its cap of 6,000.00.
        let accruals = accruals_of(&app, &acme).await;
        let bonuses = accruals
            .iter()
            .filter(|a| a["plan"]["name"] == "Fast start")
            .count();
        assert_eq!(bonuses, 3);
        let commission_minor: i64 = accruals
            .iter()
            .filter(|a| a["plan"]["name"] == "Capped commission")
            .map(|a| {
                let amount = a["amount"]["amount"].as_str().unwrap_or("0");
                (amount.parse::<f64>().unwrap_or(0.0) * 100.0).round() as i64
            })
            .sum();
        assert_eq!(commission_minor, 600_000);
    }
);

backend_test!(concurrent_closes_of_one_deal_accrue_once, |app| {
    active_plan(&app, "Commission", commission()).await;
    let acme = app.partner("Acme").signed().sales_certified().await;
    let (_, opportunity) = app.sourced_opportunity(&acme, deal("Raced")).await;
    app.admin_data(
        "mutation($id: ID!) { moveOpportunityStage(input: { id: $id, stage: QUALIFIED }) { userErrors { message } } }",
        json!({ "id": opportunity }),
    )
    .await;
    let close = || {
        app.post(
            &app.admin,
            "mutation($id: ID!) { moveOpportunityStage(input: { id: $id, stage: CLOSED_WON }) { opportunity { stage } userErrors { code } } }",
            json!({ "id": opportunity }),
        )
    };
    let (a, b) = tokio::join!(close(), close());
    let won = [a.1, b.1]
        .iter()
        .filter(|body| body["data"]["moveOpportunityStage"]["opportunity"]["stage"] == "CLOSED_WON")
        .count();
    assert_eq!(won, 1);
    assert_eq!(app.count("incentive_accrual").await, 1);
    assert_eq!(
        app.count_where("incentive_ledger_entry", "kind = 'ACCRUAL'")
            .await,
        1
    );
});

backend_test!(
    a_new_version_accrues_from_now_on_and_earned_money_keeps_its_version,
    |app| {
        let plan = active_plan(&app, "Commission", commission()).await;
        let acme = app.partner("Acme").signed().sales_certified().await;
        let rep = app.partner_token(&acme, Role::PartnerRep).await;
        app.won_deal(&rep, deal("Before")).await;
        let mut richer = commission();
        richer["rates"][0]["ratePercent"] = json!("20");
        let data = app
        .admin_data(
            "mutation($input: UpdateIncentivePlanInput!) { updateIncentivePlan(input: $input) {
                incentivePlan { currentVersion versions { number rates { role ratePercent } } } userErrors { field message } } }",
            json!({ "input": { "id": plan, "expectedVersion": 2, "terms": richer } }),
        )
        .await;
        let updated = &data["updateIncentivePlan"]["incentivePlan"];
        assert_eq!(updated["currentVersion"], 2, "{data}");
        assert_eq!(updated["versions"][0]["rates"][0]["ratePercent"], "20");
        assert_eq!(updated["versions"][1]["rates"][0]["ratePercent"], "10");
        app.won_deal(&rep, deal("After")).await;
        let accruals = accruals_of(&app, &acme).await;
        let versions: Vec<(Value, Value)> = accruals
            .iter()
            .map(|a| (a["planVersion"].clone(), a["amount"]["amount"].clone()))
            .collect();
        assert_eq!(
            versions,
            [(json!(1), json!("2500.00")), (json!(2), json!("5000.00"))]
        );
        // Bad terms name their fields.
        let mut bad = commission();
        bad["rates"] = json!([{ "role": "SOURCED" }]);
        bad["holdDays"] = json!(400);
        let data = app
        .admin_data(
            "mutation($input: UpdateIncentivePlanInput!) { updateIncentivePlan(input: $input) { userErrors { field code } } }",
            json!({ "input": { "id": plan, "terms": bad } }),
        )
        .await;
        assert_eq!(
            data["updateIncentivePlan"]["userErrors"],
            json!([
                { "field": ["input", "terms.rates"], "code": "INVALID_VALUE" },
                { "field": ["input", "terms.holdDays"], "code": "INVALID_VALUE" },
            ])
        );
        // The activation and the new version are announced (internal).
        assert_eq!(app.events("incentive_plan.activated").await.len(), 2);
    }
);

backend_test!(registration_approval_pays_a_referral_fee, |app| {
    let mut fee = json!({
        "partnerDescription": "100 EUR for every approved registration.",
        "trigger": "REGISTRATION_APPROVED", "basis": "FLAT", "currency": "EUR", "holdDays": 0,
        "rates": [{ "role": "SOURCED", "flatAmount": "100" }],
    });
    active_plan(&app, "Referral fee", fee.take()).await;
    let acme = app.partner("Acme").signed().sales_certified().await;
    let (_, opportunity) = app.sourced_opportunity(&acme, deal("Referred")).await;
    let accruals = accruals_of(&app, &acme).await;
    assert_eq!(amounts(&accruals), ["100.00"]);
    assert_eq!(accruals[0]["opportunity"], Value::Null);
    // Winning the deal later pays nothing more under a registration plan.
    for stage in ["QUALIFIED", "CLOSED_WON"] {
        app.admin_data(
            "mutation($id: ID!, $stage: OpportunityStage!) { moveOpportunityStage(input: { id: $id, stage: $stage }) { userErrors { message } } }",
            json!({ "id": opportunity, "stage": stage }),
        )
        .await;
    }
    assert_eq!(accruals_of(&app, &acme).await.len(), 1);
    // A hold of 0 days: the next job run approves it.
    assert_eq!(app.run_jobs().await.accruals_approved, 1);
});

backend_test!(
    disputes_adjustments_failed_payouts_and_the_ledger_feed,
    |app| {
        active_plan(&app, "Commission", commission()).await;
        let acme = app.partner("Acme").signed().sales_certified().await;
        let admin = app.partner_token(&acme, Role::PartnerAdmin).await;
        app.won_deal(&admin, deal("Disputed")).await;
        let accrual = accruals_of(&app, &acme).await[0]["id"].clone();

        let dispute = "mutation($id: ID!) { disputeAccrual(input: { id: $id, reason: \"The deal was 30,000\" }) {
        accrual { disputedAt disputeReason } userErrors { code } } }";
        let (_, body) = app.post(&admin, dispute, json!({ "id": accrual })).await;
        assert_eq!(
            body["data"]["disputeAccrual"]["accrual"]["disputeReason"],
            "The deal was 30,000"
        );
        let (_, again) = app.post(&admin, dispute, json!({ "id": accrual })).await;
        assert_eq!(
            again["data"]["disputeAccrual"]["userErrors"],
            json!([{ "code": "ALREADY_EXISTS" }])
        );
        let data = app
            .admin_data(
                "{ accruals(filter: { disputed: true }) { totalCount } }",
                json!({}),
            )
            .await;
        assert_eq!(data["accruals"]["totalCount"], 1);
        let data = app
        .admin_data(
            "mutation($id: ID!, $p: ID!) {
                resolveAccrualDispute(input: { id: $id, resolution: \"Right: 500 added\" }) { accrual { disputeResolution } userErrors { code } }
                postIncentiveAdjustment(input: { partnerId: $p, amount: { amount: \"500.00\", currency: \"EUR\" }, reason: \"Dispute: the deal was 30,000\" }) { ledgerEntry { kind amount { amount } } userErrors { code } }
                minus: postIncentiveAdjustment(input: { partnerId: $p, amount: { amount: \"-20.00\", currency: \"EUR\" }, reason: \"Bank fee\" }) { ledgerEntry { amount { amount } } userErrors { code } }
                zero: postIncentiveAdjustment(input: { partnerId: $p, amount: { amount: \"0\", currency: \"EUR\" }, reason: \" \" }) { userErrors { field code } }
            }",
            json!({ "id": accrual, "p": acme }),
        )
        .await;
        assert_eq!(
            data["resolveAccrualDispute"]["accrual"]["disputeResolution"],
            "Right: 500 added"
        );
        assert_eq!(
            data["postIncentiveAdjustment"]["ledgerEntry"],
            json!({ "kind": "ADJUSTMENT", "amount": { "amount": "500.00" } })
        );
        assert_eq!(data["minus"]["ledgerEntry"]["amount"]["amount"], "-20.00");
        assert_eq!(
            data["zero"]["userErrors"],
            json!([
                { "field": ["input", "reason"], "code": "INVALID_VALUE" },
                { "field": ["input", "amount"], "code": "INVALID_VALUE" },
            ])
        );
        // The partner sees the resolution (and never its own dispute event's staff view).
        let (_, events) = app
            .post(
                &admin,
                "{ events(first: 100) { edges { node { type } } } }",
                json!({}),
            )
            .await;
        let types = events.to_string();
        assert!(types.contains("accrual.dispute_resolved"), "{types}");
        assert!(!types.contains("accrual.disputed\""), "{types}");

        // A failed payout hands its entries to the next one.
        app.clock.advance(Duration::days(31));
        app.run_jobs().await;
        let data = app
        .admin_data(
            "mutation($end: Date!) { createPayouts(input: { periodEnd: $end, currency: \"EUR\" }) { payouts { id amount { amount } } } }",
            json!({ "end": app.clock_date() }),
        )
        .await;
        let payout = data["createPayouts"]["payouts"][0].clone();
        assert_eq!(payout["amount"]["amount"], "2980.00");
        let data = app
        .admin_data(
            "mutation($id: ID!) { failPayout(input: { id: $id, reason: \"IBAN closed\" }) { payout { status failureReason } } }",
            json!({ "id": payout["id"] }),
        )
        .await;
        assert_eq!(data["failPayout"]["payout"]["status"], "FAILED");
        let paid = pay_out(&app, &app.clock_date()).await;
        assert_eq!(paid[0]["amount"]["amount"], "2980.00");
        // The dispute window (30 days by default) has closed for this accrual.
        let admin = app.partner_token(&acme, Role::PartnerAdmin).await;
        let (_, late) = app
        .post(
            &admin,
            "mutation($id: ID!) { disputeAccrual(input: { id: $id, reason: \"again\" }) { userErrors { code } } }",
            json!({ "id": accrual }),
        )
        .await;
        assert_eq!(
            late["data"]["disputeAccrual"]["userErrors"],
            json!([{ "code": "INVALID_TRANSITION" }])
        );

        // The window is a setting.
        let data = app
        .admin_data(
            "mutation { updateSettings(input: { incentiveDisputeDays: 400 }) { userErrors { field code } } }",
            json!({}),
        )
        .await;
        assert_eq!(
            data["updateSettings"]["userErrors"],
            json!([{ "field": ["input", "incentiveDisputeDays"], "code": "INVALID_VALUE" }])
        );
        app.admin_data(
        "mutation { updateSettings(input: { incentiveDisputeDays: 90 }) { settings { incentiveDisputeDays } } }",
        json!({}),
    )
    .await;
        let (_, reopened) = app
        .post(
            &admin,
            "mutation($id: ID!) { disputeAccrual(input: { id: $id, reason: \"again\" }) { accrual { disputeReason disputeResolution } } }",
            json!({ "id": accrual }),
        )
        .await;
        assert_eq!(
            reopened["data"]["disputeAccrual"]["accrual"],
            json!({ "disputeReason": "again", "disputeResolution": null })
        );

        // Finance follows the ledger from a cursor, without gaps or repeats.
        let feed = "query($after: String) { ledgerEntries(after: $after, first: 3) { cursor hasMore entries { kind amount { amount } } } }";
        let mut after = Value::Null;
        let mut kinds = Vec::new();
        loop {
            let data = app.admin_data(feed, json!({ "after": after })).await;
            let page = &data["ledgerEntries"];
            for entry in page["entries"].as_array().unwrap() {
                kinds.push(entry["kind"].as_str().unwrap().to_owned());
            }
            after = page["cursor"].clone();
            if page["hasMore"] == false {
                break;
            }
        }
        assert_eq!(
            kinds,
            ["ACCRUAL", "ADJUSTMENT", "ADJUSTMENT", "APPROVAL", "PAYOUT"]
        );
        assert_eq!(
            app.count("incentive_ledger_entry").await,
            kinds.len() as i64
        );
    }
);
