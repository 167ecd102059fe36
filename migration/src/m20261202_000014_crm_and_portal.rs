//! CRM round trip and portal users (issue 13):
//! - `partner_external_id`: a partner's id in an outside system (a CRM),
//!   unique per system like `opportunity_external_id`; a record holds at
//!   most one id per system (both tables), so a CRM record and ours pair
//!   one to one;
//! - partner contacts can be deactivated (kept for history) and granted
//!   portal access with a partner role;
//! - an access token may act as a contact (RFC 8693 token exchange by a
//!   portal's backend), so it can be revoked with the contact's access;
//! - a registration remembers who submitted it (contact or staff user) and
//!   the partner's extension request with its outcome.

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
                    .table(PartnerExternalId::Table)
                    .col(uuid(PartnerExternalId::PartnerId))
                    .col(string(PartnerExternalId::System))
                    .col(string(PartnerExternalId::ExternalId))
                    .primary_key(
                        Index::create()
                            .name("pk_partner_external_id")
                            .col(PartnerExternalId::System)
                            .col(PartnerExternalId::ExternalId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_partner_external_id_partner")
                            .from(PartnerExternalId::Table, PartnerExternalId::PartnerId)
                            .to(Partner::Table, Partner::Id),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        for sql in [
            "CREATE UNIQUE INDEX uq_partner_external_id_system ON partner_external_id (partner_id, system)",
            "CREATE UNIQUE INDEX uq_opportunity_external_id_system ON opportunity_external_id (opportunity_id, system)",
        ] {
            db.execute_unprepared(sql).await?;
        }

        for column in [
            ColumnDef::new(PartnerContact::DeactivatedAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(PartnerContact::PortalRole)
                .string()
                .null()
                .to_owned(),
            ColumnDef::new(PartnerContact::PortalGrantedAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(PartnerContact::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .alter_table(
                Table::alter()
                    .table(AccessToken::Table)
                    .add_column(ColumnDef::new(AccessToken::ContactId).uuid().null())
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared("CREATE INDEX ix_access_token_contact ON access_token (contact_id)")
            .await?;

        for column in [
            ColumnDef::new(DealRegistration::SubmittedByContactId)
                .uuid()
                .null()
                .to_owned(),
            ColumnDef::new(DealRegistration::SubmittedByStaffId)
                .uuid()
                .null()
                .to_owned(),
            ColumnDef::new(DealRegistration::ExtensionRequestDays)
                .integer()
                .null()
                .to_owned(),
            ColumnDef::new(DealRegistration::ExtensionRequestReason)
                .text()
                .null()
                .to_owned(),
            ColumnDef::new(DealRegistration::ExtensionRequestedAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(DealRegistration::ExtensionRequestStatus)
                .string()
                .null()
                .to_owned(),
            ColumnDef::new(DealRegistration::ExtensionRequestDecidedAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(DealRegistration::ExtensionDeclineReason)
                .text()
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(DealRegistration::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum PartnerExternalId {
    Table,
    PartnerId,
    System,
    ExternalId,
}

#[derive(DeriveIden)]
enum Partner {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum PartnerContact {
    Table,
    DeactivatedAt,
    PortalRole,
    PortalGrantedAt,
}

#[derive(DeriveIden)]
enum AccessToken {
    Table,
    ContactId,
}

#[derive(DeriveIden)]
enum DealRegistration {
    Table,
    SubmittedByContactId,
    SubmittedByStaffId,
    ExtensionRequestDays,
    ExtensionRequestReason,
    ExtensionRequestedAt,
    ExtensionRequestStatus,
    ExtensionRequestDecidedAt,
    ExtensionDeclineReason,
}
