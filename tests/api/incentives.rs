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
