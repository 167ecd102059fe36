//! Trusted documents (persisted operations registered by an operator with
//! `partnergraph documents add`): the document text under its SHA-256 hash.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TrustedDocument::Table)
                    .col(string(TrustedDocument::Hash).primary_key())
                    .col(text(TrustedDocument::Document))
                    .col(timestamp_with_time_zone(TrustedDocument::CreatedAt))
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum TrustedDocument {
    Table,
    Hash,
    Document,
    CreatedAt,
}
