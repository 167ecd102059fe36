//! Certification tracks, partner contacts' certifications, achieved
//! activation milestones, and the job bookkeeping that keeps reminders to one.

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
                    .table(CertificationTrack::Table)
                    .col(pk_uuid(CertificationTrack::Id))
                    .col(string(CertificationTrack::Code))
                    .col(string(CertificationTrack::Name))
                    .col(string(CertificationTrack::Kind))
                    .col(string(CertificationTrack::Level))
                    .col(integer(CertificationTrack::ValidityMonths))
                    .col(boolean(CertificationTrack::Active))
                    .col(integer(CertificationTrack::Version))
                    .col(timestamp_with_time_zone(CertificationTrack::CreatedAt))
                    .col(timestamp_with_time_zone(CertificationTrack::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_certification_track_code")
                    .table(CertificationTrack::Table)
                    .col(CertificationTrack::Code)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Certification::Table)
                    .col(pk_uuid(Certification::Id))
                    .col(uuid(Certification::PartnerId))
                    .col(uuid(Certification::ContactId))
                    .col(uuid(Certification::TrackId))
                    .col(string(Certification::Status))
                    .col(timestamp_with_time_zone(Certification::EnrolledAt))
                    .col(timestamp_with_time_zone_null(Certification::EarnedAt))
                    .col(timestamp_with_time_zone_null(Certification::ExpiresAt))
                    .col(timestamp_with_time_zone_null(
                        Certification::ExpiringNotifiedFor,
                    ))
                    .col(integer(Certification::Version))
                    .col(timestamp_with_time_zone(Certification::CreatedAt))
                    .col(timestamp_with_time_zone(Certification::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_certification_partner")
                            .from(Certification::Table, Certification::PartnerId)
                            .to(Partner::Table, Partner::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_certification_contact")
                            .from(Certification::Table, Certification::ContactId)
                            .to(PartnerContact::Table, PartnerContact::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_certification_track")
                            .from(Certification::Table, Certification::TrackId)
                            .to(CertificationTrack::Table, CertificationTrack::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_certification_contact_track")
                    .table(Certification::Table)
                    .col(Certification::ContactId)
                    .col(Certification::TrackId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_certification_status_expires")
                    .table(Certification::Table)
                    .col(Certification::Status)
                    .col(Certification::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_certification_partner")
                    .table(Certification::Table)
                    .col(Certification::PartnerId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PartnerMilestone::Table)
                    .col(uuid(PartnerMilestone::PartnerId))
                    .col(string(PartnerMilestone::Milestone))
                    .col(timestamp_with_time_zone(PartnerMilestone::AchievedAt))
                    .primary_key(
                        Index::create()
                            .name("pk_partner_milestone")
                            .col(PartnerMilestone::PartnerId)
                            .col(PartnerMilestone::Milestone),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_partner_milestone_partner")
                            .from(PartnerMilestone::Table, PartnerMilestone::PartnerId)
                            .to(Partner::Table, Partner::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(Partner::Table)
                    .add_column(timestamp_with_time_zone_null(
                        Partner::ActivationOverdueNotifiedAt,
                    ))
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum CertificationTrack {
    Table,
    Id,
    Code,
    Name,
    Kind,
    Level,
    ValidityMonths,
    Active,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Certification {
    Table,
    Id,
    PartnerId,
    ContactId,
    TrackId,
    Status,
    EnrolledAt,
    EarnedAt,
    ExpiresAt,
    ExpiringNotifiedFor,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PartnerMilestone {
    Table,
    PartnerId,
    Milestone,
    AchievedAt,
}

#[derive(DeriveIden)]
enum Partner {
    Table,
    Id,
    ActivationOverdueNotifiedAt,
}

#[derive(DeriveIden)]
enum PartnerContact {
    Table,
    Id,
}
