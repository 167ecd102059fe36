//! Incentives and payouts (SPEC §4.8): plans with immutable versions, the
//! accruals they earn, one append-only money ledger, payouts and the ledger
//! entries each payout gathers, and the dispute window setting.
//!
//! The ledger is held by the database, not only by the code: triggers on
//! SQLite and PostgreSQL refuse every UPDATE and DELETE of a ledger entry,
//! and a unique index makes one accrual per plan version, partner
//! (attribution) and trigger (the subject and the moment it fired: a deal
//! reopened and won again is a new trigger).

use sea_orm_migration::sea_orm::DatabaseBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_LEDGER_GUARDS: &[&str] = &[
    "CREATE TRIGGER incentive_ledger_entry_no_update BEFORE UPDATE ON incentive_ledger_entry \
       BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only: post a correcting entry'); END",
    "CREATE TRIGGER incentive_ledger_entry_no_delete BEFORE DELETE ON incentive_ledger_entry \
       BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only: post a correcting entry'); END",
];

const POSTGRES_LEDGER_GUARDS: &[&str] = &[
    "CREATE FUNCTION incentive_ledger_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ \
       BEGIN RAISE EXCEPTION 'ledger entries are append-only: post a correcting entry'; END $$",
    "CREATE TRIGGER incentive_ledger_entry_no_update BEFORE UPDATE ON incentive_ledger_entry \
       FOR EACH ROW EXECUTE FUNCTION incentive_ledger_entry_append_only()",
    "CREATE TRIGGER incentive_ledger_entry_no_delete BEFORE DELETE ON incentive_ledger_entry \
       FOR EACH ROW EXECUTE FUNCTION incentive_ledger_entry_append_only()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IncentivePlan::Table)
                    .col(pk_uuid(IncentivePlan::Id))
                    .col(string(IncentivePlan::Name))
                    .col(string(IncentivePlan::Kind))
                    .col(string(IncentivePlan::Status))
                    .col(integer(IncentivePlan::CurrentVersion))
                    .col(integer(IncentivePlan::Version))
                    .col(timestamp_with_time_zone(IncentivePlan::CreatedAt))
                    .col(timestamp_with_time_zone(IncentivePlan::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(IncentivePlanVersion::Table)
                    .col(pk_uuid(IncentivePlanVersion::Id))
                    .col(uuid(IncentivePlanVersion::PlanId))
                    .col(integer(IncentivePlanVersion::Number))
                    .col(text(IncentivePlanVersion::PartnerDescription))
                    .col(string(IncentivePlanVersion::Trigger))
                    .col(string(IncentivePlanVersion::Basis))
                    .col(string(IncentivePlanVersion::Currency))
                    .col(json_binary(IncentivePlanVersion::RolePayouts))
                    .col(json_binary(IncentivePlanVersion::PartnerTypes))
                    .col(json_binary(IncentivePlanVersion::PartnerTiers))
                    .col(uuid_null(IncentivePlanVersion::CertificationTrackId))
                    .col(string_null(IncentivePlanVersion::WindowAnchor))
                    .col(integer_null(IncentivePlanVersion::WindowDays))
                    .col(integer_null(IncentivePlanVersion::WindowMaxCount))
                    .col(string_null(IncentivePlanVersion::TierPeriod))
                    .col(string_null(IncentivePlanVersion::TierMode))
                    .col(json_binary(IncentivePlanVersion::TierBrackets))
                    .col(big_integer_null(IncentivePlanVersion::CapMinor))
                    .col(integer(IncentivePlanVersion::HoldDays))
                    .col(timestamp_with_time_zone(IncentivePlanVersion::StartsAt))
                    .col(timestamp_with_time_zone(IncentivePlanVersion::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_incentive_plan_version_plan")
                            .from(IncentivePlanVersion::Table, IncentivePlanVersion::PlanId)
                            .to(IncentivePlan::Table, IncentivePlan::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_incentive_plan_version_number")
                    .table(IncentivePlanVersion::Table)
                    .col(IncentivePlanVersion::PlanId)
                    .col(IncentivePlanVersion::Number)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IncentiveAccrual::Table)
                    .col(pk_uuid(IncentiveAccrual::Id))
                    .col(uuid(IncentiveAccrual::PartnerId))
                    .col(uuid(IncentiveAccrual::PlanId))
                    .col(uuid(IncentiveAccrual::PlanVersionId))
                    .col(string(IncentiveAccrual::Trigger))
                    .col(uuid(IncentiveAccrual::SubjectId))
                    .col(timestamp_with_time_zone(IncentiveAccrual::TriggeredAt))
                    .col(string(IncentiveAccrual::Role))
                    .col(integer(IncentiveAccrual::CreditBps))
                    .col(big_integer(IncentiveAccrual::BasisMinor))
                    .col(big_integer(IncentiveAccrual::AmountMinor))
                    .col(string(IncentiveAccrual::Currency))
                    .col(string(IncentiveAccrual::Status))
                    .col(timestamp_with_time_zone(IncentiveAccrual::HoldUntil))
                    .col(text_null(IncentiveAccrual::Reason))
                    .col(text_null(IncentiveAccrual::Note))
                    .col(json_binary(IncentiveAccrual::Explanation))
                    .col(timestamp_with_time_zone_null(IncentiveAccrual::DisputedAt))
                    .col(text_null(IncentiveAccrual::DisputeReason))
                    .col(text_null(IncentiveAccrual::DisputeResolution))
                    .col(integer(IncentiveAccrual::Version))
                    .col(timestamp_with_time_zone(IncentiveAccrual::CreatedAt))
                    .col(timestamp_with_time_zone(IncentiveAccrual::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_incentive_accrual_partner")
                            .from(IncentiveAccrual::Table, IncentiveAccrual::PartnerId)
                            .to(Partner::Table, Partner::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_incentive_accrual_plan_version")
                            .from(IncentiveAccrual::Table, IncentiveAccrual::PlanVersionId)
                            .to(IncentivePlanVersion::Table, IncentivePlanVersion::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_incentive_accrual_trigger")
                    .table(IncentiveAccrual::Table)
                    .col(IncentiveAccrual::PlanVersionId)
                    .col(IncentiveAccrual::PartnerId)
                    .col(IncentiveAccrual::SubjectId)
                    .col(IncentiveAccrual::TriggeredAt)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "ix_incentive_accrual_partner_plan",
                vec![
                    IncentiveAccrual::PartnerId,
                    IncentiveAccrual::PlanId,
                    IncentiveAccrual::TriggeredAt,
                ],
            ),
            (
                "ix_incentive_accrual_subject",
                vec![IncentiveAccrual::SubjectId],
            ),
            (
                "ix_incentive_accrual_status_hold",
                vec![IncentiveAccrual::Status, IncentiveAccrual::HoldUntil],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(IncentiveAccrual::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(IncentivePayout::Table)
                    .col(pk_uuid(IncentivePayout::Id))
                    .col(uuid(IncentivePayout::PartnerId))
                    .col(string(IncentivePayout::Currency))
                    .col(date(IncentivePayout::PeriodEnd))
                    .col(big_integer(IncentivePayout::AmountMinor))
                    .col(string(IncentivePayout::Status))
                    .col(string_null(IncentivePayout::ExternalReference))
                    .col(text_null(IncentivePayout::FailureReason))
                    .col(timestamp_with_time_zone_null(IncentivePayout::PaidAt))
                    .col(integer(IncentivePayout::Version))
                    .col(timestamp_with_time_zone(IncentivePayout::CreatedAt))
                    .col(timestamp_with_time_zone(IncentivePayout::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_incentive_payout_partner")
                            .from(IncentivePayout::Table, IncentivePayout::PartnerId)
                            .to(Partner::Table, Partner::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_incentive_payout_partner")
                    .table(IncentivePayout::Table)
                    .col(IncentivePayout::PartnerId)
                    .col(IncentivePayout::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IncentiveLedgerEntry::Table)
                    .col(big_pk_auto(IncentiveLedgerEntry::Seq))
                    .col(uuid_uniq(IncentiveLedgerEntry::Id))
                    .col(uuid(IncentiveLedgerEntry::PartnerId))
                    .col(string(IncentiveLedgerEntry::Kind))
                    .col(big_integer(IncentiveLedgerEntry::AmountMinor))
                    .col(string(IncentiveLedgerEntry::Currency))
                    .col(uuid_null(IncentiveLedgerEntry::AccrualId))
                    .col(uuid_null(IncentiveLedgerEntry::PayoutId))
                    .col(uuid_null(IncentiveLedgerEntry::CorrectsId))
                    .col(text_null(IncentiveLedgerEntry::Reason))
                    .col(timestamp_with_time_zone(IncentiveLedgerEntry::OccurredAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_incentive_ledger_entry_partner")
                            .from(IncentiveLedgerEntry::Table, IncentiveLedgerEntry::PartnerId)
                            .to(Partner::Table, Partner::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_incentive_ledger_entry_accrual")
                            .from(IncentiveLedgerEntry::Table, IncentiveLedgerEntry::AccrualId)
                            .to(IncentiveAccrual::Table, IncentiveAccrual::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_incentive_ledger_entry_corrects")
                            .from(
                                IncentiveLedgerEntry::Table,
                                IncentiveLedgerEntry::CorrectsId,
                            )
                            .to(IncentiveLedgerEntry::Table, IncentiveLedgerEntry::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "ix_incentive_ledger_entry_partner",
                vec![
                    IncentiveLedgerEntry::PartnerId,
                    IncentiveLedgerEntry::OccurredAt,
                ],
            ),
            (
                "ix_incentive_ledger_entry_accrual",
                vec![IncentiveLedgerEntry::AccrualId],
            ),
            (
                "ix_incentive_ledger_entry_corrects",
                vec![IncentiveLedgerEntry::CorrectsId],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(IncentiveLedgerEntry::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }

        // Which entries a payout gathered. A failed or canceled payout lets
        // its entries go to the next one, so an entry may appear here again.
        manager
            .create_table(
                Table::create()
                    .table(IncentivePayoutLine::Table)
                    .col(uuid(IncentivePayoutLine::PayoutId))
                    .col(uuid(IncentivePayoutLine::LedgerEntryId))
                    .primary_key(
                        Index::create()
                            .col(IncentivePayoutLine::PayoutId)
                            .col(IncentivePayoutLine::LedgerEntryId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_incentive_payout_line_payout")
                            .from(IncentivePayoutLine::Table, IncentivePayoutLine::PayoutId)
                            .to(IncentivePayout::Table, IncentivePayout::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_incentive_payout_line_entry")
                            .from(
                                IncentivePayoutLine::Table,
                                IncentivePayoutLine::LedgerEntryId,
                            )
                            .to(IncentiveLedgerEntry::Table, IncentiveLedgerEntry::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_incentive_payout_line_entry")
                    .table(IncentivePayoutLine::Table)
                    .col(IncentivePayoutLine::LedgerEntryId)
                    .to_owned(),
            )
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(ProgramSettings::Table)
                    .add_column(
                        ColumnDef::new(ProgramSettings::IncentiveDisputeDays)
                            .integer()
                            .not_null()
                            .default(30),
                    )
                    .to_owned(),
            )
            .await?;

        let db = manager.get_connection();
        let guards = match manager.get_database_backend() {
            DatabaseBackend::Postgres => POSTGRES_LEDGER_GUARDS,
            _ => SQLITE_LEDGER_GUARDS,
        };
        for sql in guards {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum IncentivePlan {
    Table,
    Id,
    Name,
    Kind,
    Status,
    CurrentVersion,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum IncentivePlanVersion {
    Table,
    Id,
    PlanId,
    Number,
    PartnerDescription,
    Trigger,
    Basis,
    Currency,
    RolePayouts,
    PartnerTypes,
    PartnerTiers,
    CertificationTrackId,
    WindowAnchor,
    WindowDays,
    WindowMaxCount,
    TierPeriod,
    TierMode,
    TierBrackets,
    CapMinor,
    HoldDays,
    StartsAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum IncentiveAccrual {
    Table,
    Id,
    PartnerId,
    PlanId,
    PlanVersionId,
    Trigger,
    SubjectId,
    TriggeredAt,
    Role,
    CreditBps,
    BasisMinor,
    AmountMinor,
    Currency,
    Status,
    HoldUntil,
    Reason,
    Note,
    Explanation,
    DisputedAt,
    DisputeReason,
    DisputeResolution,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum IncentivePayout {
    Table,
    Id,
    PartnerId,
    Currency,
    PeriodEnd,
    AmountMinor,
    Status,
    ExternalReference,
    FailureReason,
    PaidAt,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum IncentiveLedgerEntry {
    Table,
    Seq,
    Id,
    PartnerId,
    Kind,
    AmountMinor,
    Currency,
    AccrualId,
    PayoutId,
    CorrectsId,
    Reason,
    OccurredAt,
}

#[derive(DeriveIden)]
enum IncentivePayoutLine {
    Table,
    PayoutId,
    LedgerEntryId,
}

#[derive(DeriveIden)]
enum Partner {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ProgramSettings {
    Table,
    IncentiveDisputeDays,
}
