//! OAuth2 client-credentials clients, and the link from a token to the
//! client it was issued to.

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
                    .table(ApiClient::Table)
                    .col(pk_uuid(ApiClient::Id))
                    .col(string_uniq(ApiClient::ClientId))
                    .col(string(ApiClient::SecretHash))
                    .col(string(ApiClient::Name))
                    .col(string(ApiClient::Role))
                    .col(uuid_null(ApiClient::PartnerId))
                    .col(string(ApiClient::Scopes))
                    .col(uuid_null(ApiClient::CreatedBy))
                    .col(timestamp_with_time_zone(ApiClient::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiClient::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_api_client_partner")
                            .from(ApiClient::Table, ApiClient::PartnerId)
                            .to(Partner::Table, Partner::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_api_client_partner")
                    .table(ApiClient::Table)
                    .col(ApiClient::PartnerId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AccessToken::Table)
                    .add_column(uuid_null(AccessToken::ApiClientId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_access_token_api_client")
                    .table(AccessToken::Table)
                    .col(AccessToken::ApiClientId)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum ApiClient {
    Table,
    Id,
    ClientId,
    SecretHash,
    Name,
    Role,
    PartnerId,
    Scopes,
    CreatedBy,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum AccessToken {
    Table,
    ApiClientId,
}

#[derive(DeriveIden)]
enum Partner {
    Table,
    Id,
}
