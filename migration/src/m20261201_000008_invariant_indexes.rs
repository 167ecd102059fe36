//! Rules that were checked before a write are now held by the database, so
//! two concurrent requests cannot both pass the check (one certification
//! per contact and track was already an index: `uq_certification_contact_track`):
//! - at most one `SOURCED` partner per opportunity;
//! - one pending (`SUBMITTED` or `UNDER_REVIEW`) registration per partner
//!   and account, by normalised domain and by normalised company name.
//!
//! Partial unique indexes: the same SQL on SQLite and PostgreSQL. Creating
//! one fails, naming it, on a database that already holds duplicates made by
//! the old race; resolve those rows first.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEXES: &[&str] = &[
    "CREATE UNIQUE INDEX uq_opportunity_attribution_sourced \
       ON opportunity_attribution (opportunity_id) WHERE role = 'SOURCED'",
    "CREATE UNIQUE INDEX uq_deal_registration_pending_domain \
       ON deal_registration (partner_id, domain_key) WHERE status IN ('SUBMITTED', 'UNDER_REVIEW')",
    "CREATE UNIQUE INDEX uq_deal_registration_pending_company \
       ON deal_registration (partner_id, company_key) WHERE status IN ('SUBMITTED', 'UNDER_REVIEW')",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for sql in INDEXES {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
