//! Webhooks: endpoints (staff or one partner's), the deliveries fanned out
//! from the outbox, each attempt made, and the dispatcher's cursor.

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
                    .table(WebhookEndpoint::Table)
                    .col(pk_uuid(WebhookEndpoint::Id))
                    .col(uuid_null(WebhookEndpoint::PartnerId))
                    .col(text(WebhookEndpoint::Url))
                    .col(text_null(WebhookEndpoint::Description))
                    .col(text(WebhookEndpoint::EventTypes))
                    .col(boolean(WebhookEndpoint::Enabled))
                    .col(string_null(WebhookEndpoint::DisabledReason))
                    .col(string(WebhookEndpoint::Secret))
                    .col(string_null(WebhookEndpoint::PreviousSecret))
                    .col(timestamp_with_time_zone_null(
                        WebhookEndpoint::PreviousSecretExpiresAt,
                    ))
                    .col(timestamp_with_time_zone_null(WebhookEndpoint::FailingSince))
                    .col(big_integer(WebhookEndpoint::StartsAfterEvent))
                    .col(integer(WebhookEndpoint::Version))
                    .col(uuid_null(WebhookEndpoint::CreatedBy))
                    .col(timestamp_with_time_zone(WebhookEndpoint::CreatedAt))
                    .col(timestamp_with_time_zone(WebhookEndpoint::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_endpoint_partner")
                            .from(WebhookEndpoint::Table, WebhookEndpoint::PartnerId)
                            .to(Partner::Table, Partner::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_endpoint_partner")
                    .table(WebhookEndpoint::Table)
                    .col(WebhookEndpoint::PartnerId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookDelivery::Table)
                    .col(pk_uuid(WebhookDelivery::Id))
                    .col(uuid(WebhookDelivery::EndpointId))
                    .col(big_integer_null(WebhookDelivery::OutboxEventId))
                    .col(string(WebhookDelivery::EventType))
                    .col(text(WebhookDelivery::Body))
                    .col(string(WebhookDelivery::Status))
                    .col(integer(WebhookDelivery::AttemptCount))
                    .col(timestamp_with_time_zone_null(
                        WebhookDelivery::NextAttemptAt,
                    ))
                    .col(timestamp_with_time_zone_null(WebhookDelivery::LeaseUntil))
                    .col(string_null(WebhookDelivery::LeasedBy))
                    .col(timestamp_with_time_zone_null(
                        WebhookDelivery::LastAttemptAt,
                    ))
                    .col(timestamp_with_time_zone(WebhookDelivery::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_delivery_endpoint")
                            .from(WebhookDelivery::Table, WebhookDelivery::EndpointId)
                            .to(WebhookEndpoint::Table, WebhookEndpoint::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // One delivery per (endpoint, event): a dispatcher that runs twice
        // over the same events inserts nothing new.
        manager
            .create_index(
                Index::create()
                    .name("uq_webhook_delivery_endpoint_event")
                    .table(WebhookDelivery::Table)
                    .col(WebhookDelivery::EndpointId)
                    .col(WebhookDelivery::OutboxEventId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // What the worker claims: pending and due.
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_delivery_due")
                    .table(WebhookDelivery::Table)
                    .col(WebhookDelivery::Status)
                    .col(WebhookDelivery::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_delivery_endpoint_created")
                    .table(WebhookDelivery::Table)
                    .col(WebhookDelivery::EndpointId)
                    .col(WebhookDelivery::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookAttempt::Table)
                    .col(pk_uuid(WebhookAttempt::Id))
                    .col(uuid(WebhookAttempt::DeliveryId))
                    .col(timestamp_with_time_zone(WebhookAttempt::AttemptedAt))
                    .col(integer_null(WebhookAttempt::StatusCode))
                    .col(integer(WebhookAttempt::LatencyMs))
                    .col(text_null(WebhookAttempt::Error))
                    .col(string(WebhookAttempt::Replica))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_attempt_delivery")
                            .from(WebhookAttempt::Table, WebhookAttempt::DeliveryId)
                            .to(WebhookDelivery::Table, WebhookDelivery::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_attempt_delivery")
                    .table(WebhookAttempt::Table)
                    .col(WebhookAttempt::DeliveryId)
                    .col(WebhookAttempt::AttemptedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookDispatchCursor::Table)
                    .col(integer(WebhookDispatchCursor::Id).primary_key())
                    .col(big_integer(WebhookDispatchCursor::LastOutboxId))
                    .to_owned(),
            )
            .await?;
        // The one row the dispatchers of every replica lock in turn.
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(WebhookDispatchCursor::Table)
                    .columns([
                        WebhookDispatchCursor::Id,
                        WebhookDispatchCursor::LastOutboxId,
                    ])
                    .values_panic([1.into(), 0.into()])
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum WebhookEndpoint {
    Table,
    Id,
    PartnerId,
    Url,
    Description,
    EventTypes,
    Enabled,
    DisabledReason,
    Secret,
    PreviousSecret,
    PreviousSecretExpiresAt,
    FailingSince,
    StartsAfterEvent,
    Version,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookDelivery {
    Table,
    Id,
    EndpointId,
    OutboxEventId,
    EventType,
    Body,
    Status,
    AttemptCount,
    NextAttemptAt,
    LeaseUntil,
    LeasedBy,
    LastAttemptAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum WebhookAttempt {
    Table,
    Id,
    DeliveryId,
    AttemptedAt,
    StatusCode,
    LatencyMs,
    Error,
    Replica,
}

#[derive(DeriveIden)]
enum WebhookDispatchCursor {
    Table,
    Id,
    LastOutboxId,
}

#[derive(DeriveIden)]
enum Partner {
    Table,
    Id,
}
