//! Deal registrations and their conflicts, opportunities, attribution and
//! CRM external ids, and the per-year registration reference sequence.

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
                    .table(Opportunity::Table)
                    .col(pk_uuid(Opportunity::Id))
                    .col(string(Opportunity::Name))
                    .col(string(Opportunity::CompanyName))
                    .col(string(Opportunity::CompanyDomain))
                    .col(string(Opportunity::CompanyKey))
                    .col(string(Opportunity::DomainKey))
                    .col(string(Opportunity::Source))
                    .col(string(Opportunity::Stage))
                    .col(text_null(Opportunity::NextStep))
                    .col(big_integer(Opportunity::AmountMinor))
                    .col(string(Opportunity::Currency))
                    .col(date(Opportunity::ExpectedCloseDate))
                    .col(timestamp_with_time_zone_null(Opportunity::ClosedAt))
                    .col(text_null(Opportunity::ClosedLostReason))
                    .col(timestamp_with_time_zone_null(Opportunity::QualifiedAt))
                    .col(uuid_null(Opportunity::DealRegistrationId))
                    .col(uuid_null(Opportunity::OwnerId))
                    .col(integer_null(Opportunity::DiscountBps))
                    .col(integer_null(Opportunity::MarginBps))
                    .col(text_null(Opportunity::CompetitorIntel))
                    .col(text_null(Opportunity::InternalNotes))
                    .col(boolean(Opportunity::CrmManaged))
                    .col(integer(Opportunity::Version))
                    .col(timestamp_with_time_zone(Opportunity::CreatedAt))
                    .col(timestamp_with_time_zone(Opportunity::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            ("ix_opportunity_domain_key", vec![Opportunity::DomainKey]),
            ("ix_opportunity_company_key", vec![Opportunity::CompanyKey]),
            ("ix_opportunity_stage", vec![Opportunity::Stage]),
            (
                "ix_opportunity_created_at",
                vec![Opportunity::CreatedAt, Opportunity::Id],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(Opportunity::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(DealRegistration::Table)
                    .col(pk_uuid(DealRegistration::Id))
                    .col(string_uniq(DealRegistration::Reference))
                    .col(uuid(DealRegistration::PartnerId))
                    .col(string(DealRegistration::Status))
                    .col(string(DealRegistration::CompanyName))
                    .col(string(DealRegistration::CompanyDomain))
                    .col(string(DealRegistration::CompanyKey))
                    .col(string(DealRegistration::DomainKey))
                    .col(string(DealRegistration::CustomerContactName))
                    .col(string(DealRegistration::CustomerContactEmail))
                    .col(big_integer(DealRegistration::AmountMinor))
                    .col(string(DealRegistration::Currency))
                    .col(date(DealRegistration::ExpectedCloseDate))
                    .col(string_null(DealRegistration::Product))
                    .col(text_null(DealRegistration::Notes))
                    .col(text_null(DealRegistration::InternalNotes))
                    .col(timestamp_with_time_zone(DealRegistration::SubmittedAt))
                    .col(string(DealRegistration::SubmittedBy))
                    .col(uuid_null(DealRegistration::ReviewerId))
                    .col(timestamp_with_time_zone_null(DealRegistration::DecidedAt))
                    .col(text_null(DealRegistration::DecisionReason))
                    .col(timestamp_with_time_zone_null(
                        DealRegistration::ProtectionStartsAt,
                    ))
                    .col(timestamp_with_time_zone_null(
                        DealRegistration::ProtectionEndsAt,
                    ))
                    .col(integer(DealRegistration::ExtensionCount))
                    .col(timestamp_with_time_zone(DealRegistration::SlaDueAt))
                    .col(timestamp_with_time_zone_null(
                        DealRegistration::ExpiringNotifiedFor,
                    ))
                    .col(uuid_null(DealRegistration::OpportunityId))
                    .col(integer(DealRegistration::Version))
                    .col(timestamp_with_time_zone(DealRegistration::CreatedAt))
                    .col(timestamp_with_time_zone(DealRegistration::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_deal_registration_partner")
                            .from(DealRegistration::Table, DealRegistration::PartnerId)
                            .to(Partner::Table, Partner::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_deal_registration_opportunity")
                            .from(DealRegistration::Table, DealRegistration::OpportunityId)
                            .to(Opportunity::Table, Opportunity::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "ix_deal_registration_partner",
                vec![DealRegistration::PartnerId, DealRegistration::Status],
            ),
            (
                "ix_deal_registration_domain_key",
                vec![DealRegistration::DomainKey],
            ),
            (
                "ix_deal_registration_company_key",
                vec![DealRegistration::CompanyKey],
            ),
            (
                "ix_deal_registration_status_ends",
                vec![DealRegistration::Status, DealRegistration::ProtectionEndsAt],
            ),
            (
                "ix_deal_registration_created_at",
                vec![DealRegistration::CreatedAt, DealRegistration::Id],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(DealRegistration::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(RegistrationConflict::Table)
                    .col(pk_uuid(RegistrationConflict::Id))
                    .col(uuid(RegistrationConflict::RegistrationId))
                    .col(string(RegistrationConflict::Kind))
                    .col(uuid_null(RegistrationConflict::OtherRegistrationId))
                    .col(uuid_null(RegistrationConflict::OtherOpportunityId))
                    .col(text(RegistrationConflict::Rule))
                    .col(string(RegistrationConflict::Recommendation))
                    .col(string_null(RegistrationConflict::Resolution))
                    .col(text_null(RegistrationConflict::Rationale))
                    .col(uuid_null(RegistrationConflict::ResolvedBy))
                    .col(timestamp_with_time_zone_null(
                        RegistrationConflict::ResolvedAt,
                    ))
                    .col(timestamp_with_time_zone(RegistrationConflict::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_registration_conflict_registration")
                            .from(
                                RegistrationConflict::Table,
                                RegistrationConflict::RegistrationId,
                            )
                            .to(DealRegistration::Table, DealRegistration::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_registration_conflict_registration")
                    .table(RegistrationConflict::Table)
                    .col(RegistrationConflict::RegistrationId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OpportunityAttribution::Table)
                    .col(pk_uuid(OpportunityAttribution::Id))
                    .col(uuid(OpportunityAttribution::OpportunityId))
                    .col(uuid(OpportunityAttribution::PartnerId))
                    .col(string(OpportunityAttribution::Role))
                    .col(integer(OpportunityAttribution::CreditBps))
                    .col(timestamp_with_time_zone(OpportunityAttribution::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_opportunity_attribution_opportunity")
                            .from(
                                OpportunityAttribution::Table,
                                OpportunityAttribution::OpportunityId,
                            )
                            .to(Opportunity::Table, Opportunity::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_opportunity_attribution_partner")
                            .from(
                                OpportunityAttribution::Table,
                                OpportunityAttribution::PartnerId,
                            )
                            .to(Partner::Table, Partner::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_opportunity_attribution_partner")
                    .table(OpportunityAttribution::Table)
                    .col(OpportunityAttribution::OpportunityId)
                    .col(OpportunityAttribution::PartnerId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_opportunity_attribution_partner")
                    .table(OpportunityAttribution::Table)
                    .col(OpportunityAttribution::PartnerId)
                    .col(OpportunityAttribution::OpportunityId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OpportunityExternalId::Table)
                    .col(uuid(OpportunityExternalId::OpportunityId))
                    .col(string(OpportunityExternalId::System))
                    .col(string(OpportunityExternalId::ExternalId))
                    .primary_key(
                        Index::create()
                            .name("pk_opportunity_external_id")
                            .col(OpportunityExternalId::System)
                            .col(OpportunityExternalId::ExternalId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_opportunity_external_id_opportunity")
                            .from(
                                OpportunityExternalId::Table,
                                OpportunityExternalId::OpportunityId,
                            )
                            .to(Opportunity::Table, Opportunity::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RegistrationSequence::Table)
                    .col(integer(RegistrationSequence::Year).primary_key())
                    .col(integer(RegistrationSequence::Last))
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Opportunity {
    Table,
    Id,
    Name,
    CompanyName,
    CompanyDomain,
    CompanyKey,
    DomainKey,
    Source,
    Stage,
    NextStep,
    AmountMinor,
    Currency,
    ExpectedCloseDate,
    ClosedAt,
    ClosedLostReason,
    QualifiedAt,
    DealRegistrationId,
    OwnerId,
    DiscountBps,
    MarginBps,
    CompetitorIntel,
    InternalNotes,
    CrmManaged,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum DealRegistration {
    Table,
    Id,
    Reference,
    PartnerId,
    Status,
    CompanyName,
    CompanyDomain,
    CompanyKey,
    DomainKey,
    CustomerContactName,
    CustomerContactEmail,
    AmountMinor,
    Currency,
    ExpectedCloseDate,
    Product,
    Notes,
    InternalNotes,
    SubmittedAt,
    SubmittedBy,
    ReviewerId,
    DecidedAt,
    DecisionReason,
    ProtectionStartsAt,
    ProtectionEndsAt,
    ExtensionCount,
    SlaDueAt,
    ExpiringNotifiedFor,
    OpportunityId,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RegistrationConflict {
    Table,
    Id,
    RegistrationId,
    Kind,
    OtherRegistrationId,
    OtherOpportunityId,
    Rule,
    Recommendation,
    Resolution,
    Rationale,
    ResolvedBy,
    ResolvedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OpportunityAttribution {
    Table,
    Id,
    OpportunityId,
    PartnerId,
    Role,
    CreditBps,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OpportunityExternalId {
    Table,
    OpportunityId,
    System,
    ExternalId,
}

#[derive(DeriveIden)]
enum RegistrationSequence {
    Table,
    Year,
    Last,
}

#[derive(DeriveIden)]
enum Partner {
    Table,
    Id,
}
