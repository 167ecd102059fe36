//! Responses kept for `Idempotency-Key` replays (24 hours per principal).

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
                    .table(IdempotencyKey::Table)
                    .col(string(IdempotencyKey::Principal))
                    .col(string(IdempotencyKey::Key))
                    .col(string(IdempotencyKey::RequestHash))
                    .col(integer_null(IdempotencyKey::Status))
                    .col(text_null(IdempotencyKey::ContentType))
                    .col(text_null(IdempotencyKey::Body))
                    .col(timestamp_with_time_zone(IdempotencyKey::CreatedAt))
                    .primary_key(
                        Index::create()
                            .name("pk_idempotency_key")
                            .col(IdempotencyKey::Principal)
                            .col(IdempotencyKey::Key),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_idempotency_key_created_at")
                    .table(IdempotencyKey::Table)
                    .col(IdempotencyKey::CreatedAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum IdempotencyKey {
    Table,
    Principal,
    Key,
    RequestHash,
    Status,
    ContentType,
    Body,
    CreatedAt,
}
