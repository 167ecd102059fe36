//! Every foreign key gets an index led by its column, so joins and deletes
//! over it do not scan (`tests/api/migrations.rs` lists any that lacks one).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEXES: &[(&str, &str, &str)] = &[
    ("ix_partner_owner", "partner", "owner_id"),
    ("ix_access_token_partner", "access_token", "partner_id"),
    (
        "ix_access_token_staff_user",
        "access_token",
        "staff_user_id",
    ),
    ("ix_certification_track", "certification", "track_id"),
    (
        "ix_deal_registration_opportunity",
        "deal_registration",
        "opportunity_id",
    ),
    (
        "ix_opportunity_external_id_opportunity",
        "opportunity_external_id",
        "opportunity_id",
    ),
    // Joined like foreign keys, without the constraint.
    (
        "ix_opportunity_deal_registration",
        "opportunity",
        "deal_registration_id",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, table, column) in INDEXES {
            db.execute_unprepared(&format!("CREATE INDEX {name} ON {table} ({column})"))
                .await?;
        }
        Ok(())
    }
}
