//! Program intelligence (SPEC §4.5): partner activity records, customer NPS
//! and the recorded tier recommendation on partners, exchange rates, the
//! `showTierProgressToPartners` setting, and the indexes the metrics read by.

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
                    .table(PartnerActivity::Table)
                    .col(pk_uuid(PartnerActivity::Id))
                    .col(uuid(PartnerActivity::PartnerId))
                    .col(string(PartnerActivity::Kind))
                    .col(timestamp_with_time_zone(PartnerActivity::OccurredAt))
                    .col(integer(PartnerActivity::Count))
                    .col(uuid_null(PartnerActivity::ContactId))
                    .col(string_null(PartnerActivity::ExternalId))
                    .col(timestamp_with_time_zone(PartnerActivity::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_partner_activity_partner")
                            .from(PartnerActivity::Table, PartnerActivity::PartnerId)
                            .to(Partner::Table, Partner::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_partner_activity_partner_time")
                    .table(PartnerActivity::Table)
                    .col(PartnerActivity::PartnerId)
                    .col(PartnerActivity::OccurredAt)
                    .to_owned(),
            )
            .await?;
        // A re-sent record (an LMS or portal retrying) finds the first one.
        manager
            .create_index(
                Index::create()
                    .name("uq_partner_activity_external_id")
                    .table(PartnerActivity::Table)
                    .col(PartnerActivity::PartnerId)
                    .col(PartnerActivity::ExternalId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        for column in [
            ColumnDef::new(Partner::CustomerNps)
                .integer()
                .null()
                .to_owned(),
            ColumnDef::new(Partner::RecommendedTier)
                .string()
                .null()
                .to_owned(),
            ColumnDef::new(Partner::RecommendedTierAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Partner::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(ProgramSettings::Table)
                    .add_column(
                        ColumnDef::new(ProgramSettings::ShowTierProgressToPartners)
                            .boolean()
                            .not_null()
                            .default(true),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ExchangeRate::Table)
                    .col(string(ExchangeRate::Currency).primary_key())
                    .col(string(ExchangeRate::RateToBase))
                    .col(timestamp_with_time_zone(ExchangeRate::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        for (name, column) in [
            ("ix_opportunity_closed_at", Opportunity::ClosedAt),
            ("ix_opportunity_owner", Opportunity::OwnerId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Opportunity::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("ix_deal_registration_partner_submitted")
                    .table(DealRegistration::Table)
                    .col(DealRegistration::PartnerId)
                    .col(DealRegistration::SubmittedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_deal_registration_submitted_at")
                    .table(DealRegistration::Table)
                    .col(DealRegistration::SubmittedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum PartnerActivity {
    Table,
    Id,
    PartnerId,
    Kind,
    OccurredAt,
    Count,
    ContactId,
    ExternalId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Partner {
    Table,
    Id,
    CustomerNps,
    RecommendedTier,
    RecommendedTierAt,
}

#[derive(DeriveIden)]
enum ProgramSettings {
    Table,
    ShowTierProgressToPartners,
}

#[derive(DeriveIden)]
enum ExchangeRate {
    Table,
    Currency,
    RateToBase,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Opportunity {
    Table,
    ClosedAt,
    OwnerId,
}

#[derive(DeriveIden)]
enum DealRegistration {
    Table,
    PartnerId,
    SubmittedAt,
}
