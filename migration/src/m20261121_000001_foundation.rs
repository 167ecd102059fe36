//! Staff users, partners, contacts, access tokens, program settings, audit
//! log and the event outbox.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    // The whole foundation lands or none of it, on SQLite too.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(StaffUser::Table)
                    .col(pk_uuid(StaffUser::Id))
                    .col(string_uniq(StaffUser::Email))
                    .col(string(StaffUser::Name))
                    .col(string(StaffUser::Role))
                    .col(timestamp_with_time_zone(StaffUser::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Partner::Table)
                    .col(pk_uuid(Partner::Id))
                    .col(string(Partner::Name))
                    .col(string(Partner::NameKey))
                    .col(string(Partner::PartnerType))
                    .col(string(Partner::Tier))
                    .col(string(Partner::Status))
                    .col(string_null(Partner::Website))
                    .col(timestamp_with_time_zone_null(Partner::SignedAt))
                    .col(uuid_null(Partner::OwnerId))
                    .col(text_null(Partner::InternalNotes))
                    .col(integer_null(Partner::MarginBps))
                    .col(integer(Partner::Version))
                    .col(timestamp_with_time_zone(Partner::CreatedAt))
                    .col(timestamp_with_time_zone(Partner::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_partner_owner")
                            .from(Partner::Table, Partner::OwnerId)
                            .to(StaffUser::Table, StaffUser::Id),
                    )
                    .to_owned(),
            )
            .await?;
        unique_index(
            manager,
            "uq_partner_name_key",
            Partner::Table,
            &[Partner::NameKey],
        )
        .await?;
        index(
            manager,
            "ix_partner_created_at",
            Partner::Table,
            &[Partner::CreatedAt, Partner::Id],
        )
        .await?;
        index(
            manager,
            "ix_partner_status",
            Partner::Table,
            &[Partner::Status],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(PartnerContact::Table)
                    .col(pk_uuid(PartnerContact::Id))
                    .col(uuid(PartnerContact::PartnerId))
                    .col(string(PartnerContact::Name))
                    .col(string(PartnerContact::Email))
                    .col(string(PartnerContact::Role))
                    .col(integer(PartnerContact::Version))
                    .col(timestamp_with_time_zone(PartnerContact::CreatedAt))
                    .col(timestamp_with_time_zone(PartnerContact::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_partner_contact_partner")
                            .from(PartnerContact::Table, PartnerContact::PartnerId)
                            .to(Partner::Table, Partner::Id),
                    )
                    .to_owned(),
            )
            .await?;
        unique_index(
            manager,
            "uq_partner_contact_email",
            PartnerContact::Table,
            &[PartnerContact::PartnerId, PartnerContact::Email],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(AccessToken::Table)
                    .col(pk_uuid(AccessToken::Id))
                    .col(string_uniq(AccessToken::TokenHash))
                    .col(string(AccessToken::Kind))
                    .col(string(AccessToken::Role))
                    .col(uuid_null(AccessToken::StaffUserId))
                    .col(uuid_null(AccessToken::PartnerId))
                    .col(string(AccessToken::Scopes))
                    .col(timestamp_with_time_zone(AccessToken::CreatedAt))
                    .col(timestamp_with_time_zone(AccessToken::ExpiresAt))
                    .col(timestamp_with_time_zone_null(AccessToken::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_access_token_staff_user")
                            .from(AccessToken::Table, AccessToken::StaffUserId)
                            .to(StaffUser::Table, StaffUser::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_access_token_partner")
                            .from(AccessToken::Table, AccessToken::PartnerId)
                            .to(Partner::Table, Partner::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProgramSettings::Table)
                    .col(integer(ProgramSettings::Id).primary_key())
                    .col(integer(ProgramSettings::ProtectionDays))
                    .col(integer(ProgramSettings::MaxExtensions))
                    .col(integer(ProgramSettings::ExtensionMaxDays))
                    .col(integer(ProgramSettings::ReviewSlaHours))
                    .col(integer(ProgramSettings::RegistrationExpiringDays))
                    .col(integer(ProgramSettings::CertificationExpiringDays))
                    .col(boolean(ProgramSettings::CertificationGating))
                    .col(integer(ProgramSettings::InfluenceWeightBps))
                    .col(integer(ProgramSettings::RequiredSalesCertifications))
                    .col(integer(ProgramSettings::RequiredTechnicalCertifications))
                    .col(integer(ProgramSettings::ActivationDays))
                    .col(string(ProgramSettings::BaseCurrency))
                    .col(integer(ProgramSettings::Version))
                    .col(timestamp_with_time_zone(ProgramSettings::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // The defaults of SPEC §4.6, as the one settings record.
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(ProgramSettings::Table)
                    .columns([
                        ProgramSettings::Id,
                        ProgramSettings::ProtectionDays,
                        ProgramSettings::MaxExtensions,
                        ProgramSettings::ExtensionMaxDays,
                        ProgramSettings::ReviewSlaHours,
                        ProgramSettings::RegistrationExpiringDays,
                        ProgramSettings::CertificationExpiringDays,
                        ProgramSettings::CertificationGating,
                        ProgramSettings::InfluenceWeightBps,
                        ProgramSettings::RequiredSalesCertifications,
                        ProgramSettings::RequiredTechnicalCertifications,
                        ProgramSettings::ActivationDays,
                        ProgramSettings::BaseCurrency,
                        ProgramSettings::Version,
                        ProgramSettings::UpdatedAt,
                    ])
                    .values_panic([
                        1.into(),
                        90.into(),
                        1.into(),
                        90.into(),
                        48.into(),
                        15.into(),
                        30.into(),
                        true.into(),
                        3000.into(),
                        2.into(),
                        1.into(),
                        120.into(),
                        "USD".into(),
                        1.into(),
                        Expr::current_timestamp(),
                    ])
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditEntry::Table)
                    .col(big_pk_auto(AuditEntry::Id))
                    .col(timestamp_with_time_zone(AuditEntry::OccurredAt))
                    .col(string(AuditEntry::ActorKind))
                    .col(uuid_null(AuditEntry::ActorId))
                    .col(uuid_null(AuditEntry::TokenId))
                    .col(string_null(AuditEntry::RequestId))
                    .col(string(AuditEntry::Operation))
                    .col(string(AuditEntry::EntityType))
                    .col(uuid(AuditEntry::EntityId))
                    .col(json_binary(AuditEntry::Changes))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_audit_entry_entity",
            AuditEntry::Table,
            &[AuditEntry::EntityType, AuditEntry::EntityId],
        )
        .await?;
        index(
            manager,
            "ix_audit_entry_actor",
            AuditEntry::Table,
            &[AuditEntry::ActorId],
        )
        .await?;
        index(
            manager,
            "ix_audit_entry_occurred_at",
            AuditEntry::Table,
            &[AuditEntry::OccurredAt],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(OutboxEvent::Table)
                    .col(big_pk_auto(OutboxEvent::Id))
                    .col(uuid_uniq(OutboxEvent::EventId))
                    .col(string(OutboxEvent::EventType))
                    .col(timestamp_with_time_zone(OutboxEvent::OccurredAt))
                    .col(string(OutboxEvent::ActorKind))
                    .col(uuid_null(OutboxEvent::ActorId))
                    .col(string(OutboxEvent::SubjectType))
                    .col(uuid(OutboxEvent::SubjectId))
                    .col(uuid_null(OutboxEvent::PartnerId))
                    .col(json_binary(OutboxEvent::Payload))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_outbox_event_partner",
            OutboxEvent::Table,
            &[OutboxEvent::PartnerId, OutboxEvent::Id],
        )
        .await?;
        Ok(())
    }
}

async fn index<T: IntoIden + Copy + 'static>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    columns: &[T],
) -> Result<(), DbErr> {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for column in columns {
        stmt.col(*column);
    }
    manager.create_index(stmt).await
}

async fn unique_index<T: IntoIden + Copy + 'static>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    columns: &[T],
) -> Result<(), DbErr> {
    let mut stmt = Index::create();
    stmt.name(name).table(table).unique();
    for column in columns {
        stmt.col(*column);
    }
    manager.create_index(stmt).await
}

#[derive(DeriveIden, Clone, Copy)]
enum StaffUser {
    Table,
    Id,
    Email,
    Name,
    Role,
    CreatedAt,
}

// `PartnerType` is the column name, not a stutter.
#[allow(clippy::enum_variant_names)]
#[derive(DeriveIden, Clone, Copy)]
enum Partner {
    Table,
    Id,
    Name,
    NameKey,
    PartnerType,
    Tier,
    Status,
    Website,
    SignedAt,
    OwnerId,
    InternalNotes,
    MarginBps,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PartnerContact {
    Table,
    Id,
    PartnerId,
    Name,
    Email,
    Role,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum AccessToken {
    Table,
    Id,
    TokenHash,
    Kind,
    Role,
    StaffUserId,
    PartnerId,
    Scopes,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProgramSettings {
    Table,
    Id,
    ProtectionDays,
    MaxExtensions,
    ExtensionMaxDays,
    ReviewSlaHours,
    RegistrationExpiringDays,
    CertificationExpiringDays,
    CertificationGating,
    InfluenceWeightBps,
    RequiredSalesCertifications,
    RequiredTechnicalCertifications,
    ActivationDays,
    BaseCurrency,
    Version,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditEntry {
    Table,
    Id,
    OccurredAt,
    ActorKind,
    ActorId,
    TokenId,
    RequestId,
    Operation,
    EntityType,
    EntityId,
    Changes,
}

#[derive(DeriveIden, Clone, Copy)]
enum OutboxEvent {
    Table,
    Id,
    EventId,
    EventType,
    OccurredAt,
    ActorKind,
    ActorId,
    SubjectType,
    SubjectId,
    PartnerId,
    Payload,
}
