//! Scheduled work that keeps time: certification and registration expiry
//! and reminders, activation-overdue notices, forgetting old idempotency
//! keys, the daily tier recommendation (`tier_recommendations`), and the
//! approval of accruals whose hold ended (`service::incentives::accruals`).
//!
//! Every job is idempotent and safe with several runners on one database:
//! candidates are claimed with `SELECT … FOR UPDATE SKIP LOCKED` (PostgreSQL;
//! SQLite serialises writers anyway), and each change is a conditional update
//! that only succeeds while the row is still due, so a notice goes out once
//! even when two runners race. Nothing is kept in memory between runs, so a
//! restart loses nothing. Time comes from the clock handed in.

mod tier_recommendations;

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use entity::{certification, deal_registration, opportunity, partner, partner_milestone};
use sea_orm::{
    sea_query::{Expr, ExprTrait, LockBehavior, LockType, Query},
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect, Set,
};
use serde_json::json;

use crate::{
    clock::SharedClock,
    domain::{
        CertificationStatus, DealRegistrationStatus, EventType, MilestoneKind, OpportunityStage,
        PartnerStatus, SubjectType,
    },
    ids::{self, NodeType},
    service::{
        certifications::{self, status_event},
        deals, settings,
        unit_of_work::{Actor, Bookkeeping, Event, UnitOfWork},
    },
};

/// Rows claimed per transaction.
const BATCH: u64 = 100;

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub certifications_expired: usize,
    pub expiry_reminders: usize,
    pub activation_overdue: usize,
    pub registration_reminders: usize,
    pub registrations_expired: usize,
    pub idempotency_keys_forgotten: u64,
    pub tier_recommendations_changed: usize,
    pub accruals_approved: usize,
}

impl Report {
    /// Adds the rows each job handled to `jobs_items_total`.
    fn count(&self, metrics: &crate::metrics::Metrics) {
        let items = [
            ("certifications_expired", self.certifications_expired as u64),
            ("expiry_reminders", self.expiry_reminders as u64),
            ("activation_overdue", self.activation_overdue as u64),
            ("registration_reminders", self.registration_reminders as u64),
            ("registrations_expired", self.registrations_expired as u64),
            (
                "idempotency_keys_forgotten",
                self.idempotency_keys_forgotten,
            ),
            (
                "tier_recommendations_changed",
                self.tier_recommendations_changed as u64,
            ),
        ];
        for (job, count) in items {
            metrics.job_items(job, count);
        }
    }
}

/// Runs every job once, as of `now`.
pub async fn run_due(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<Report, DbErr> {
    Ok(Report {
        certifications_expired: expire_certifications(db, now).await?,
        expiry_reminders: remind_expiring_certifications(db, now).await?,
        activation_overdue: flag_activation_overdue(db, now).await?,
        registration_reminders: remind_expiring_registrations(db, now).await?,
        registrations_expired: expire_registrations(db, now).await?,
        idempotency_keys_forgotten: crate::service::idempotency::purge_expired(db, now).await?,
        tier_recommendations_changed: tier_recommendations::record(db, now).await?,
        accruals_approved: crate::service::incentives::accruals::approve_due(db, now).await?,
    })
}

/// Runs the jobs every `interval` until the process ends.
pub fn spawn(
    db: DatabaseConnection,
    clock: SharedClock,
    interval: StdDuration,
    metrics: std::sync::Arc<crate::metrics::Metrics>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match run_due(&db, clock.now()).await {
                Ok(report) => {
                    metrics.job_run("ok");
                    report.count(&metrics);
                    if report != Report::default() {
                        tracing::info!(?report, "jobs ran");
                    }
                }
                Err(error) => {
                    metrics.job_run("error");
                    tracing::error!(%error, "jobs failed; retrying at the next tick");
                }
            }
        }
    })
}

/// Claims up to `BATCH` rows matching `due` in a fresh unit of work and hands
/// each to `handle`, until none is left or a batch changed nothing.
macro_rules! in_batches {
    ($db:expr, $now:expr, $entity:ty, $due:expr, |$uow:ident, $row:ident| $handle:block) => {{
        let mut done = 0usize;
        loop {
            let $uow = UnitOfWork::begin($db, Actor::system(), $now).await?;
            let rows = <$entity>::find()
                .filter($due)
                .limit(BATCH)
                .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
                .all($uow.conn())
                .await?;
            let claimed = rows.len() as u64;
            let mut changed = 0usize;
            for $row in rows {
                if $handle {
                    changed += 1;
                }
            }
            $uow.commit().await?;
            done += changed;
            if claimed < BATCH || changed == 0 {
                break;
            }
        }
        done
    }};
}

/// ACTIVE certifications whose `expiresAt` has come become EXPIRED.
async fn expire_certifications(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<usize, DbErr> {
    let active = CertificationStatus::Active;
    let due = Condition::all()
        .add(certification::Column::Status.eq(active))
        .add(certification::Column::ExpiresAt.lte(now));
    Ok(in_batches!(
        db,
        now,
        certification::Entity,
        due.clone(),
        |uow, row| {
            let changes = certification::ActiveModel {
                status: Set(CertificationStatus::Expired),
                ..Default::default()
            };
            let expired = uow
                .update_if::<certification::Entity>(
                    "expireCertification",
                    &row,
                    changes,
                    due.clone(),
                )
                .await?;
            if let Some(expired) = &expired {
                uow.emit(status_event(expired, Some(active))).await?;
            }
            expired.is_some()
        }
    ))
}

/// `certification.expiring`, once per `expiresAt`, when it is within the
/// reminder lead (setting, default 30 days).
async fn remind_expiring_certifications(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<usize, DbErr> {
    let lead = settings::get(db)
        .await
        .map(|s| s.certification_expiring_days)
        .unwrap_or(30);
    let due = Condition::all()
        .add(certification::Column::Status.eq(CertificationStatus::Active))
        .add(certification::Column::ExpiresAt.lte(now + Duration::days(i64::from(lead))))
        .add(certification::Column::ExpiresAt.gt(now))
        .add(
            Condition::any()
                .add(certification::Column::ExpiringNotifiedFor.is_null())
                .add(
                    Expr::col(certification::Column::ExpiringNotifiedFor)
                        .ne(Expr::col(certification::Column::ExpiresAt)),
                ),
        );
    Ok(in_batches!(
        db,
        now,
        certification::Entity,
        due.clone(),
        |uow, row| {
            let changes = certification::ActiveModel {
                expiring_notified_for: Set(row.expires_at),
                ..Default::default()
            };
            let audit = Bookkeeping {
                operation: "remindCertificationExpiring",
                before: None,
                after: json!({ "expiringNotifiedFor": row.expires_at }),
            };
            let noted = uow
                .update_bookkeeping::<certification::Entity>(
                    &row,
                    changes,
                    due.clone(),
                    Some(audit),
                )
                .await?;
            if noted {
                uow.emit(Event {
                    event_type: EventType::CertificationExpiring,
                    subject_type: SubjectType::Certification,
                    subject_id: row.id,
                    partner_id: Some(row.partner_id),
                    payload: json!({ "certification": certifications::snapshot(&row), "expiresAt": row.expires_at }),
                })
                .await?;
            }
            noted
        }
    ))
}

/// `partner.activation_overdue`, once, for a signed partner not live
/// `activationDays` (default 120) after signing.
async fn flag_activation_overdue(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<usize, DbErr> {
    let days = settings::get(db)
        .await
        .map(|s| s.activation_days)
        .unwrap_or(120);
    let mut live = Query::select();
    live.column(partner_milestone::Column::PartnerId)
        .from(partner_milestone::Entity)
        .and_where(partner_milestone::Column::Milestone.eq(MilestoneKind::FirstRegisteredDeal));
    let due = Condition::all()
        .add(partner::Column::SignedAt.lte(now - Duration::days(i64::from(days))))
        .add(partner::Column::ActivationOverdueNotifiedAt.is_null())
        .add(partner::Column::Status.ne(PartnerStatus::Offboarded))
        .add(partner::Column::Id.not_in_subquery(live.to_owned()));
    Ok(in_batches!(
        db,
        now,
        partner::Entity,
        due.clone(),
        |uow, row| {
            let changes = partner::ActiveModel {
                activation_overdue_notified_at: Set(Some(now)),
                ..Default::default()
            };
            let audit = Bookkeeping {
                operation: "flagActivationOverdue",
                before: None,
                after: json!({ "activationOverdueNotifiedAt": now }),
            };
            let noted = uow
                .update_bookkeeping::<partner::Entity>(&row, changes, due.clone(), Some(audit))
                .await?;
            if noted {
                uow.emit(Event {
                    event_type: EventType::PartnerActivationOverdue,
                    subject_type: SubjectType::Partner,
                    subject_id: row.id,
                    partner_id: Some(row.id),
                    payload: json!({
                        "partnerId": ids::encode(NodeType::Partner, row.id),
                        "signedAt": row.signed_at,
                        "deadline": row.signed_at.map(|s| s + Duration::days(i64::from(days))),
                    }),
                })
                .await?;
            }
            noted
        }
    ))
}

/// `deal_registration.expiring`, once per `protectionEndsAt`, when protection
/// ends within the reminder lead (setting, default 15 days).
async fn remind_expiring_registrations(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<usize, DbErr> {
    let lead = settings::get(db)
        .await
        .map(|s| s.registration_expiring_days)
        .unwrap_or(15);
    let due = Condition::all()
        .add(deal_registration::Column::Status.eq(DealRegistrationStatus::Approved))
        .add(deal_registration::Column::ProtectionEndsAt.gt(now))
        .add(deal_registration::Column::ProtectionEndsAt.lte(now + Duration::days(i64::from(lead))))
        .add(
            Condition::any()
                .add(deal_registration::Column::ExpiringNotifiedFor.is_null())
                .add(
                    Expr::col(deal_registration::Column::ExpiringNotifiedFor)
                        .ne(Expr::col(deal_registration::Column::ProtectionEndsAt)),
                ),
        );
    Ok(in_batches!(
        db,
        now,
        deal_registration::Entity,
        due.clone(),
        |uow, row| {
            let changes = deal_registration::ActiveModel {
                expiring_notified_for: Set(row.protection_ends_at),
                ..Default::default()
            };
            let audit = Bookkeeping {
                operation: "remindDealRegistrationExpiring",
                before: None,
                after: json!({ "expiringNotifiedFor": row.protection_ends_at }),
            };
            let noted = uow
                .update_bookkeeping::<deal_registration::Entity>(
                    &row,
                    changes,
                    due.clone(),
                    Some(audit),
                )
                .await?;
            if noted {
                uow.emit(Event {
                    event_type: EventType::DealRegistrationExpiring,
                    subject_type: SubjectType::DealRegistration,
                    subject_id: row.id,
                    partner_id: Some(row.partner_id),
                    payload: json!({ "dealRegistration": deals::registration::snapshot(&row), "protectionEndsAt": row.protection_ends_at }),
                })
                .await?;
            }
            noted
        }
    ))
}

/// Approved registrations whose protection ended while their opportunity is
/// still open become EXPIRED.
async fn expire_registrations(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<usize, DbErr> {
    let closed = [OpportunityStage::ClosedWon, OpportunityStage::ClosedLost];
    let mut closed_deals = Query::select();
    closed_deals
        .column(opportunity::Column::Id)
        .from(opportunity::Entity)
        .and_where(opportunity::Column::Stage.is_in(closed));
    let approved = DealRegistrationStatus::Approved;
    let due = Condition::all()
        .add(deal_registration::Column::Status.eq(approved))
        .add(deal_registration::Column::ProtectionEndsAt.lte(now))
        .add(
            Condition::any()
                .add(deal_registration::Column::OpportunityId.is_null())
                .add(
                    deal_registration::Column::OpportunityId
                        .not_in_subquery(closed_deals.to_owned()),
                ),
        );
    Ok(in_batches!(
        db,
        now,
        deal_registration::Entity,
        due.clone(),
        |uow, row| {
            let changes = deal_registration::ActiveModel {
                status: Set(DealRegistrationStatus::Expired),
                ..Default::default()
            };
            let expired = uow
                .update_if::<deal_registration::Entity>(
                    "expireDealRegistration",
                    &row,
                    changes,
                    due.clone(),
                )
                .await?;
            if let Some(expired) = &expired {
                uow.emit(Event {
                    event_type: EventType::DealRegistrationStatusChanged,
                    subject_type: SubjectType::DealRegistration,
                    subject_id: row.id,
                    partner_id: Some(row.partner_id),
                    payload: json!({
                        "dealRegistration": deals::registration::snapshot(expired),
                        "previousStatus": approved,
                        "status": expired.status,
                    }),
                })
                .await?;
            }
            expired.is_some()
        }
    ))
}
