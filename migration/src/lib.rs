//! Forward-only migrations. A migration is never edited after it lands; a
//! change is a new migration.

// Schema changes and seed rows, not domain changes: nothing to audit.
#![allow(clippy::disallowed_methods)]

pub use sea_orm_migration::prelude::*;

mod m20261121_000001_foundation;
mod m20261121_000002_api_clients;
mod m20261121_000003_certifications_and_runway;
mod m20261121_000004_idempotency_keys;
mod m20261121_000005_registrations_and_pipeline;
mod m20261121_000006_webhooks;
mod m20261201_000007_program_intelligence;
mod m20261201_000008_invariant_indexes;
mod m20261201_000010_foreign_key_indexes;
mod m20261201_000011_trusted_documents;
mod m20261202_000012_incentives;
mod m20261202_000014_crm_and_portal;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_foundation::Migration),
            Box::new(m20261121_000002_api_clients::Migration),
            Box::new(m20261121_000003_certifications_and_runway::Migration),
            Box::new(m20261121_000004_idempotency_keys::Migration),
            Box::new(m20261121_000005_registrations_and_pipeline::Migration),
            Box::new(m20261121_000006_webhooks::Migration),
            Box::new(m20261201_000007_program_intelligence::Migration),
            Box::new(m20261201_000008_invariant_indexes::Migration),
            Box::new(m20261201_000010_foreign_key_indexes::Migration),
            Box::new(m20261201_000011_trusted_documents::Migration),
            Box::new(m20261202_000012_incentives::Migration),
            Box::new(m20261202_000014_crm_and_portal::Migration),
        ]
    }
}
