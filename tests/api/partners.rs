//! Partners through the API: create, read back every way, change, and the
//! audit and outbox rows each change leaves.

use crate::helpers::error_code;
use serde_json::{json, Value};

const CREATE: &str = "mutation($input: CreatePartnerInput!) { createPartner(input: $input) {
    partner { id name type tier status website marginPercent internalNotes version owner { email } }
    userErrors { field code message } } }";

const UPDATE: &str = "mutation($input: UpdatePartnerInput!) { updatePartner(input: $input) {
    partner { id name tier website version } userErrors { field code message } } }";

const STATUS: &str =
    "mutation($input: ChangePartnerStatusInput!) { changePartnerStatus(input: $input) {
    partner { status signedAt version } userErrors { field code message } } }";

fn user_errors(data: &Value, mutation: &str) -> Vec<(String, String)> {
    data[mutation]["userErrors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let field = e["field"]
                .as_array()
                .map(|f| f.last().unwrap().as_str().unwrap().to_owned())
                .unwrap_or_default();
            (field, e["code"].as_str().unwrap().to_owned())
        })
        .collect()
}

backend_test!(
    created_partner_reads_back_through_partners_partner_and_node,
    |app| {
        let input = json!({ "name": "Acme", "type": "RESELLER", "website": "https://acme.example", "marginPercent": "12.5" });
        let data = app.admin_data(CREATE, json!({ "input": input })).await;
        let partner = &data["createPartner"]["partner"];
        assert_eq!(data["createPartner"]["userErrors"], json!([]));
        assert_eq!(partner["status"], "PROSPECT");
        assert_eq!(partner["tier"], "BRONZE");
        assert_eq!(partner["marginPercent"], "12.5");
        assert_eq!(partner["version"], 1);
        assert_eq!(partner["owner"]["email"], "admin@example.com");
        let id = partner["id"].as_str().unwrap();

        let data = app
            .admin_data(
                "query($id: ID!) {
                partners { totalCount edges { node { id name } } }
                partner(id: $id) { name }
                node(id: $id) { id ... on Partner { name } }
                nodes(ids: [$id, \"bm9wZQ\"]) { id }
            }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(data["partners"]["totalCount"], 1);
        assert_eq!(data["partners"]["edges"][0]["node"]["id"], id);
        assert_eq!(data["partner"]["name"], "Acme");
        assert_eq!(data["node"]["name"], "Acme");
        assert_eq!(data["nodes"], json!([{ "id": id }, null]));
    }
);

backend_test!(
    each_mutation_leaves_one_audit_row_and_its_event_and_failures_leave_none,
    |app| {
        let id = app.partner("Acme").await;
        assert_eq!(
            (
                app.count("audit_entry").await,
                app.count("outbox_event").await
            ),
            (1, 1)
        );

        // Refused: duplicate name (case-insensitive), invalid website, unknown id.
        let data = app
            .admin_data(
                CREATE,
                json!({ "input": { "name": "ACME", "type": "MSP" } }),
            )
            .await;
        assert_eq!(
            user_errors(&data, "createPartner"),
            vec![("name".into(), "ALREADY_EXISTS".into())]
        );
        let data = app
            .admin_data(
                CREATE,
                json!({ "input": { "name": "Other", "type": "MSP", "website": "notaurl" } }),
            )
            .await;
        assert_eq!(
            user_errors(&data, "createPartner"),
            vec![("website".into(), "INVALID_VALUE".into())]
        );
        let data = app
            .admin_data(STATUS, json!({ "input": { "id": id, "status": "ACTIVE" } }))
            .await;
        assert_eq!(
            user_errors(&data, "changePartnerStatus"),
            vec![("status".into(), "INVALID_TRANSITION".into())]
        );
        assert_eq!(
            (
                app.count("audit_entry").await,
                app.count("outbox_event").await
            ),
            (1, 1)
        );

        let data = app
            .admin_data(STATUS, json!({ "input": { "id": id, "status": "SIGNED" } }))
            .await;
        assert_eq!(data["changePartnerStatus"]["partner"]["status"], "SIGNED");
        assert_eq!(
            data["changePartnerStatus"]["partner"]["signedAt"],
            "2026-11-21T09:00:00+00:00"
        );
        let data = app
            .admin_data(
                UPDATE,
                json!({ "input": { "id": id, "expectedVersion": 2, "tier": "GOLD" } }),
            )
            .await;
        assert_eq!(data["updatePartner"]["partner"]["tier"], "GOLD");
        assert_eq!(
            (
                app.count("audit_entry").await,
                app.count("outbox_event").await
            ),
            // Becoming SIGNED also reaches AGREEMENT_SIGNED: its own audit row and event.
            (4, 4)
        );

        let audit = app
        .admin_data("{ auditLog { totalCount edges { node { operation entityId actorKind requestId changes } } } }", json!({}))
        .await;
        let entries = audit["auditLog"]["edges"].as_array().unwrap();
        let operations: Vec<&str> = entries
            .iter()
            .map(|e| e["node"]["operation"].as_str().unwrap())
            .collect();
        assert_eq!(
            operations,
            [
                "updatePartner",
                "reachMilestone",
                "changePartnerStatus",
                "createPartner"
            ]
        );
        let tier_change = &entries[0]["node"];
        assert_eq!(tier_change["entityId"], id);
        assert_eq!(tier_change["actorKind"], "STAFF");
        assert!(!tier_change["requestId"].as_str().unwrap().is_empty());
        assert_eq!(
            tier_change["changes"]["tier"],
            json!({ "before": "BRONZE", "after": "GOLD" })
        );

        use entity::outbox_event;
        use sea_orm::{EntityTrait, QueryOrder};
        let events = outbox_event::Entity::find()
            .order_by_asc(outbox_event::Column::Id)
            .all(&app.db)
            .await
            .unwrap();
        let types: Vec<String> = events.iter().map(|e| e.event_type.to_string()).collect();
        assert_eq!(
            types,
            [
                "partner.created",
                "partner.status_changed",
                "partner.milestone_reached",
                "partner.tier_changed"
            ]
        );
        assert_eq!(events[1].payload["previousStatus"], "PROSPECT");
        assert_eq!(events[1].payload["status"], "SIGNED");
        assert_eq!(events[2].payload["milestone"], "AGREEMENT_SIGNED");
        assert_eq!(events[3].payload["tier"], "GOLD");
        assert!(events
            .iter()
            .all(|e| e.partner_id == events[0].partner_id && e.partner_id.is_some()));
    }
);

backend_test!(stale_versions_are_refused, |app| {
    let id = app.partner("Acme").await;
    let data = app
        .admin_data(
            UPDATE,
            json!({ "input": { "id": id, "expectedVersion": 1, "name": "Acme Ltd" } }),
        )
        .await;
    assert_eq!(data["updatePartner"]["partner"]["version"], 2);
    let data = app
        .admin_data(
            UPDATE,
            json!({ "input": { "id": id, "expectedVersion": 1, "name": "Acme Inc" } }),
        )
        .await;
    assert_eq!(
        user_errors(&data, "updatePartner"),
        vec![("expectedVersion".into(), "STALE_VERSION".into())]
    );
    assert!(data["updatePartner"]["partner"].is_null());
    let data = app
        .admin_data(
            "query($id: ID!) { partner(id: $id) { name } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(data["partner"]["name"], "Acme Ltd");
});

backend_test!(
    updates_clear_optional_fields_with_null_and_keep_absent_ones,
    |app| {
        let data = app
        .admin_data(CREATE, json!({ "input": { "name": "Acme", "type": "MSP", "website": "https://a.example", "internalNotes": "n" } }))
        .await;
        let id = data["createPartner"]["partner"]["id"].as_str().unwrap();
        let data = app
            .admin_data(
                UPDATE,
                json!({ "input": { "id": id, "expectedVersion": 1, "website": null } }),
            )
            .await;
        assert!(data["updatePartner"]["partner"]["website"].is_null());
        let data = app
            .admin_data(
                "query($id: ID!) { partner(id: $id) { internalNotes } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(data["partner"]["internalNotes"], "n");
    }
);

backend_test!(every_invalid_field_is_named, |app| {
    let input = json!({ "name": " ", "type": "MSP", "website": "ftp://x", "marginPercent": "101" });
    let data = app.admin_data(CREATE, json!({ "input": input })).await;
    let mut errors = user_errors(&data, "createPartner");
    errors.sort();
    assert_eq!(
        errors,
        vec![
            ("marginPercent".into(), "INVALID_VALUE".into()),
            ("name".into(), "INVALID_VALUE".into()),
            ("website".into(), "INVALID_VALUE".into()),
        ]
    );
    assert_eq!(app.count("partner").await, 0);
});

backend_test!(contacts_are_added_once_per_email, |app| {
    let id = app.partner("Acme").await;
    let add = "mutation($input: AddPartnerContactInput!) { addPartnerContact(input: $input) {
        contact { id name email role } userErrors { field code } } }";
    let contact =
        json!({ "partnerId": id, "name": "Ana", "email": "Ana@Acme.example", "role": "AE" });
    let data = app.admin_data(add, json!({ "input": contact })).await;
    assert_eq!(
        data["addPartnerContact"]["contact"]["email"],
        "ana@acme.example"
    );
    let data = app.admin_data(add, json!({ "input": contact })).await;
    assert_eq!(
        user_errors(&data, "addPartnerContact"),
        vec![("email".into(), "ALREADY_EXISTS".into())]
    );
    let bad = json!({ "partnerId": id, "name": "Bo", "email": "not-an-email", "role": "SE" });
    let data = app.admin_data(add, json!({ "input": bad })).await;
    assert_eq!(
        user_errors(&data, "addPartnerContact"),
        vec![("email".into(), "INVALID_VALUE".into())]
    );

    let data = app
        .admin_data("query($id: ID!) { partner(id: $id) { contacts { totalCount edges { node { name role } } } } }", json!({ "id": id }))
        .await;
    assert_eq!(data["partner"]["contacts"]["totalCount"], 1);
    assert_eq!(
        data["partner"]["contacts"]["edges"][0]["node"]["role"],
        "AE"
    );
    assert_eq!(app.count("audit_entry").await, 2);
});

backend_test!(partners_page_forwards_and_backwards_with_filters, |app| {
    for name in ["Delta", "alpha", "Charlie", "bravo", "Echo"] {
        app.partner(name).await;
    }
    let page = "query($first: Int, $after: String, $last: Int, $before: String, $filter: PartnerFilterInput, $order: PartnerOrder) {
        partners(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $order) {
            totalCount edges { node { name } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";
    let names = |data: &Value| -> Vec<String> {
        data["partners"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["name"].as_str().unwrap().to_owned())
            .collect()
    };

    let first = app.admin_data(page, json!({ "first": 2 })).await;
    assert_eq!(names(&first), ["alpha", "bravo"]);
    assert_eq!(first["partners"]["totalCount"], 5);
    assert_eq!(first["partners"]["pageInfo"]["hasNextPage"], true);
    let after = first["partners"]["pageInfo"]["endCursor"].clone();
    let second = app
        .admin_data(page, json!({ "first": 2, "after": after }))
        .await;
    assert_eq!(names(&second), ["Charlie", "Delta"]);
    let third = app
        .admin_data(
            page,
            json!({ "first": 2, "after": second["partners"]["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(names(&third), ["Echo"]);
    assert_eq!(third["partners"]["pageInfo"]["hasNextPage"], false);

    let back = app
        .admin_data(
            page,
            json!({ "last": 2, "before": third["partners"]["pageInfo"]["startCursor"] }),
        )
        .await;
    assert_eq!(names(&back), ["Charlie", "Delta"]);
    assert_eq!(back["partners"]["pageInfo"]["hasPreviousPage"], true);

    let desc = app
        .admin_data(
            page,
            json!({ "first": 2, "order": { "field": "NAME", "direction": "DESC" } }),
        )
        .await;
    assert_eq!(names(&desc), ["Echo", "Delta"]);
    let by_time = app
        .admin_data(
            page,
            json!({ "last": 1, "order": { "field": "CREATED_AT" } }),
        )
        .await;
    assert_eq!(names(&by_time), ["Echo"]);

    let search = app
        .admin_data(page, json!({ "filter": { "search": "HAR" } }))
        .await;
    assert_eq!(names(&search), ["Charlie"]);
    assert_eq!(search["partners"]["totalCount"], 1);
    let wildcard = app
        .admin_data(page, json!({ "filter": { "search": "%" } }))
        .await;
    assert_eq!(wildcard["partners"]["totalCount"], 0);
    let status = app
        .admin_data(
            page,
            json!({ "filter": { "status": ["ACTIVE"], "tier": ["BRONZE"] } }),
        )
        .await;
    assert_eq!(status["partners"]["totalCount"], 0);
    let typed = app
        .admin_data(
            page,
            json!({ "filter": { "type": ["RESELLER"], "tier": ["BRONZE"] } }),
        )
        .await;
    assert_eq!(typed["partners"]["totalCount"], 5);

    let (_, body) = app.post(&app.admin, page, json!({ "first": 1000 })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("first"));
    let (_, body) = app
        .post(&app.admin, page, json!({ "first": 1, "after": "garbage" }))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
});

backend_test!(
    settings_are_read_by_staff_and_changed_by_admins_with_audit,
    |app| {
        let data = app.admin_data("{ settings { protectionDays reviewSlaHours influenceWeight baseCurrency version } }", json!({})).await;
        assert_eq!(
            data["settings"],
            json!({ "protectionDays": 90, "reviewSlaHours": 48, "influenceWeight": "0.3", "baseCurrency": "USD", "version": 1 })
        );
        let update = "mutation($input: UpdateSettingsInput!) { updateSettings(input: $input) {
        settings { protectionDays influenceWeight version } userErrors { field code } } }";
        let data = app.admin_data(update, json!({ "input": { "protectionDays": 60, "influenceWeight": "0.25", "expectedVersion": 1 } })).await;
        assert_eq!(
            data["updateSettings"]["settings"],
            json!({ "protectionDays": 60, "influenceWeight": "0.25", "version": 2 })
        );
        let data = app
            .admin_data(
                update,
                json!({ "input": { "protectionDays": 0, "baseCurrency": "euro" } }),
            )
            .await;
        let mut errors = user_errors(&data, "updateSettings");
        errors.sort();
        assert_eq!(
            errors,
            vec![
                ("baseCurrency".into(), "INVALID_VALUE".into()),
                ("protectionDays".into(), "INVALID_VALUE".into())
            ]
        );
        let data = app
            .admin_data(
                update,
                json!({ "input": { "protectionDays": 30, "expectedVersion": 1 } }),
            )
            .await;
        assert_eq!(
            user_errors(&data, "updateSettings"),
            vec![("expectedVersion".into(), "STALE_VERSION".into())]
        );
        assert_eq!(app.count("audit_entry").await, 1);
    }
);
