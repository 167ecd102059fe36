//! Accruals: what plans earn partners, on their own when a deal is won or a
//! registration approved, in the same transaction; the hold that ends in
//! approval (a job); reversal when a won deal reopens; staff review in bulk,
//! adjustments and disputes.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use entity::{
    certification, deal_registration, incentive_accrual, incentive_plan, incentive_plan_version,
    opportunity, opportunity_attribution, partner,
};
use sea_orm::{
    sea_query::{Expr, LockBehavior, LockType},
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::{json, Value};
use std::collections::HashMap;
use uuid::Uuid;

use super::{
    ledger::{self, Posting},
    plans,
};
use crate::{
    domain::{
        incentives::{self as rules, Anchors, Earned, Fact, History, Review, Wording},
        money::{minor_digits, Money},
        AccrualStatus, AttributionRole, CertificationStatus, EventType, IncentiveTrigger,
        LedgerEntryKind, OrderDirection, SubjectType, UserError, UserErrorCode,
    },
    error::ApiError,
    ids::{self, NodeType},
    policy::{self, RowScope},
    service::{
        pagination::{
            paginate, paginate_per_parent, KeyValue, NestedPages, Ordering, Page, PageArgs,
        },
        settings, Caller, Failure, Outcome,
    },
    unit_of_work::{Actor, Event, UnitOfWork, UpdateError},
    versioned_record,
};

/// The global id of what triggered an accrual.
pub fn subject_global_id(a: &incentive_accrual::Model) -> String {
    match a.trigger {
        IncentiveTrigger::OpportunityWon => ids::encode(NodeType::Opportunity, a.subject_id),
        IncentiveTrigger::RegistrationApproved => {
            ids::encode(NodeType::DealRegistration, a.subject_id)
        }
    }
}

pub fn snapshot(a: &incentive_accrual::Model) -> Value {
    json!({
        "id": ids::encode(NodeType::IncentiveAccrual, a.id),
        "partnerId": ids::encode(NodeType::Partner, a.partner_id),
        "planId": ids::encode(NodeType::IncentivePlan, a.plan_id),
        "trigger": a.trigger,
        "subjectId": subject_global_id(a),
        "triggeredAt": a.triggered_at,
        "role": a.role,
        "amount": { "minorUnits": a.amount_minor, "currency": a.currency },
        "status": a.status,
        "holdUntil": a.hold_until,
        "reason": a.reason,
        "note": a.note,
        "explanation": a.explanation,
        "disputedAt": a.disputed_at,
        "disputeReason": a.dispute_reason,
        "disputeResolution": a.dispute_resolution,
        "createdAt": a.created_at,
        "version": a.version,
    })
}

versioned_record!(incentive_accrual, IncentiveAccrual, snapshot);

fn event(event_type: EventType, a: &incentive_accrual::Model, extra: Value) -> Event {
    let mut payload = json!({ "accrual": snapshot(a) });
    if let (Some(payload), Value::Object(extra)) = (payload.as_object_mut(), extra) {
        payload.extend(extra);
    }
    Event {
        event_type,
        subject_type: SubjectType::IncentiveAccrual,
        subject_id: a.id,
        partner_id: Some(a.partner_id),
        payload,
    }
}

/// `accrual.status_changed`.
pub fn status_event(a: &incentive_accrual::Model, previous: AccrualStatus) -> Event {
    event(
        EventType::AccrualStatusChanged,
        a,
        json!({ "previousStatus": previous, "status": a.status }),
    )
}

/// A partner's part in a trigger.
#[derive(Debug, Clone, Copy)]
pub struct Credit {
    pub partner_id: Uuid,
    pub role: AttributionRole,
    pub credit_bps: i64,
}

/// The fact that makes plans accrue.
#[derive(Debug, Clone)]
pub struct Trigger {
    pub kind: IncentiveTrigger,
    pub subject_id: Uuid,
    pub at: DateTime<Utc>,
    pub amount_minor: i64,
    pub currency: String,
}

/// Whether a partner's type and tier qualify for a plan version.
pub(super) fn type_and_tier_qualify(v: &incentive_plan_version::Model, p: &partner::Model) -> bool {
    let types = plans::partner_types_of(v);
    let tiers = plans::partner_tiers_of(v);
    (types.is_empty() || types.contains(&p.partner_type))
        && (tiers.is_empty() || tiers.contains(&p.tier))
}

/// Whether a partner qualifies for a plan version: type, tier, certification.
pub async fn eligible(
    db: &impl ConnectionTrait,
    v: &incentive_plan_version::Model,
    p: &partner::Model,
) -> Result<bool, DbErr> {
    if !type_and_tier_qualify(v, p) {
        return Ok(false);
    }
    let Some(track) = v.certification_track_id else {
        return Ok(true);
    };
    Ok(!certified(db, &[track], &[p.id]).await?.is_empty())
}

/// The (partner, track) pairs among `partner_ids` × `tracks` with an active
/// certification; no query when there is no track.
pub(super) async fn certified(
    db: &impl ConnectionTrait,
    tracks: &[Uuid],
    partner_ids: &[Uuid],
) -> Result<HashSet<(Uuid, Uuid)>, DbErr> {
    if tracks.is_empty() || partner_ids.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(certification::Entity::find()
        .filter(certification::Column::PartnerId.is_in(partner_ids.iter().copied()))
        .filter(certification::Column::TrackId.is_in(tracks.iter().copied()))
        .filter(certification::Column::Status.eq(CertificationStatus::Active))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.partner_id, c.track_id))
        .collect())
}

/// Whether a plan version's amount depends on what was earned before it
/// (a window, tiers or a cap).
fn needs_history(v: &incentive_plan_version::Model) -> bool {
    v.window_days.is_some() || v.tier_period.is_some() || v.cap_minor.is_some()
}

/// What `partner_ids` already earned under `plan_ids` (standing accruals
/// only), in one query: (plan, partner, what was earned).
pub(super) async fn earned_by(
    db: &impl ConnectionTrait,
    plan_ids: Vec<Uuid>,
    partner_ids: Vec<Uuid>,
) -> Result<Vec<(Uuid, Uuid, Earned)>, DbErr> {
    if plan_ids.is_empty() || partner_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(Uuid, Uuid, DateTime<Utc>, i64, i64)> = incentive_accrual::Entity::find()
        .select_only()
        .columns([
            incentive_accrual::Column::PlanId,
            incentive_accrual::Column::PartnerId,
            incentive_accrual::Column::TriggeredAt,
            incentive_accrual::Column::BasisMinor,
            incentive_accrual::Column::AmountMinor,
        ])
        .filter(incentive_accrual::Column::PlanId.is_in(plan_ids))
        .filter(incentive_accrual::Column::PartnerId.is_in(partner_ids))
        .filter(
            incentive_accrual::Column::Status
                .is_not_in([AccrualStatus::Rejected, AccrualStatus::Reversed]),
        )
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(plan, partner, at, basis, amount)| (plan, partner, Earned { at, basis, amount }))
        .collect())
}

/// What one plan version would pay one partner for `trigger`, with the
/// explanation in words: `None` when it pays nothing.
pub fn compute(
    plan: &incentive_plan::Model,
    v: &incentive_plan_version::Model,
    partner: &partner::Model,
    credit: Credit,
    trigger: &Trigger,
    earned: &[Earned],
) -> Result<Option<(rules::Accrual, Vec<String>)>, DbErr> {
    if trigger.currency != v.currency {
        // Plans pay in their own currency; a deal in another is not theirs.
        return Ok(None);
    }
    let plan_rules = plans::rules_of(v)?;
    let anchors = Anchors {
        partner_signed_at: partner.signed_at,
        plan_starts_at: v.starts_at,
    };
    let history: History = History::of(&plan_rules, anchors, trigger.at, earned);
    let fact = Fact {
        role: credit.role,
        credit_bps: credit.credit_bps,
        amount: trigger.amount_minor,
        at: trigger.at,
    };
    let Ok(accrual) = rules::accrue(&plan_rules, anchors, fact, history) else {
        return Ok(None);
    };
    let digits = crate::domain::inputs::CurrencyCode::parse(&v.currency)
        .map(|c| minor_digits(&c))
        .unwrap_or(2);
    let words = rules::explain(
        &accrual.steps,
        Wording {
            plan_name: &plan.name,
            plan_version: v.number,
            currency: &v.currency,
            digits,
        },
    );
    Ok(Some((accrual, words)))
}

/// Accrues every active plan of `trigger.kind` for each credited partner,
/// in the caller's unit of work: one accrual per plan version, partner and
/// trigger (the unique index makes a repeat a no-op), `PENDING` until its
/// hold ends, with its `ACCRUAL` ledger entry and `accrual.created`.
///
/// Set-based, as it runs inside every won deal's stage move: a fixed
/// number of statements whatever the number of plans and partners (plans,
/// partners, certifications when a plan asks for one, the lock, history,
/// then the accruals, the entries and their audit entries).
pub async fn accrue(
    uow: &UnitOfWork,
    operation: &str,
    trigger: &Trigger,
    credits: &[Credit],
) -> Result<Vec<incentive_accrual::Model>, DbErr> {
    if credits.is_empty() {
        return Ok(Vec::new());
    }
    // Plans pay in their own currency; a deal in another is not theirs.
    let versions: Vec<_> = plans::active_versions(uow.conn(), trigger.kind)
        .await?
        .into_iter()
        .filter(|(_, v)| v.currency == trigger.currency)
        .collect();
    if versions.is_empty() {
        return Ok(Vec::new());
    }
    let partner_ids: Vec<Uuid> = credits.iter().map(|c| c.partner_id).collect();
    let partners = partner::Entity::find()
        .filter(partner::Column::Id.is_in(partner_ids.iter().copied()))
        .all(uow.conn())
        .await?;
    let tracks: Vec<Uuid> = versions
        .iter()
        .filter_map(|(_, v)| v.certification_track_id)
        .collect();
    let certified = certified(uow.conn(), &tracks, &partner_ids).await?;
    // Windows, tiers and caps read what was earned before: under the lock.
    ledger::lock(uow).await?;
    let history = earned_by(
        uow.conn(),
        versions
            .iter()
            .filter(|(_, v)| needs_history(v))
            .map(|(plan, _)| plan.id)
            .collect(),
        partner_ids,
    )
    .await?;
    let now = uow.now();
    let mut rows = Vec::new();
    for (plan, v) in &versions {
        for credit in credits {
            let Some(p) = partners.iter().find(|p| p.id == credit.partner_id) else {
                continue;
            };
            let certified_if_asked = v
                .certification_track_id
                .is_none_or(|track| certified.contains(&(p.id, track)));
            if !type_and_tier_qualify(v, p) || !certified_if_asked {
                continue;
            }
            let so_far: Vec<Earned> = history
                .iter()
                .filter(|(plan_id, partner_id, _)| *plan_id == plan.id && *partner_id == p.id)
                .map(|(_, _, earned)| *earned)
                .collect();
            let Some((accrual, words)) = compute(plan, v, p, *credit, trigger, &so_far)? else {
                continue;
            };
            rows.push(incentive_accrual::ActiveModel {
                id: Set(Uuid::now_v7()),
                partner_id: Set(p.id),
                plan_id: Set(plan.id),
                plan_version_id: Set(v.id),
                trigger: Set(trigger.kind),
                subject_id: Set(trigger.subject_id),
                triggered_at: Set(trigger.at),
                role: Set(credit.role),
                credit_bps: Set(i32::try_from(credit.credit_bps).unwrap_or(i32::MAX)),
                basis_minor: Set(accrual.basis),
                amount_minor: Set(accrual.amount),
                currency: Set(v.currency.clone()),
                status: Set(AccrualStatus::Pending),
                hold_until: Set(now + Duration::days(i64::from(v.hold_days))),
                reason: Set(None),
                note: Set(None),
                explanation: Set(json!(words)),
                disputed_at: Set(None),
                dispute_reason: Set(None),
                dispute_resolution: Set(None),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
            });
        }
    }
    let key = [
        incentive_accrual::Column::PlanVersionId,
        incentive_accrual::Column::PartnerId,
        incentive_accrual::Column::SubjectId,
        incentive_accrual::Column::TriggeredAt,
    ];
    let created = uow
        .create_all_unless_exist::<incentive_accrual::Entity>(operation, rows, key)
        .await?;
    let postings = created
        .iter()
        .map(|row| Posting {
            partner_id: row.partner_id,
            kind: LedgerEntryKind::Accrual,
            amount_minor: row.amount_minor,
            currency: &row.currency,
            accrual_id: Some(row.id),
            payout_id: None,
            corrects_id: None,
            reason: None,
        })
        .collect();
    ledger::post_all(uow, operation, postings).await?;
    for row in &created {
        uow.emit(event(EventType::AccrualCreated, row, json!({})))
            .await?;
    }
    Ok(created)
}

/// Accrues for an opportunity just moved to `CLOSED_WON`, for each
/// partner credited on it.
pub async fn accrue_won(
    uow: &UnitOfWork,
    operation: &str,
    o: &opportunity::Model,
    attributions: &[opportunity_attribution::Model],
) -> Result<Vec<incentive_accrual::Model>, DbErr> {
    let trigger = Trigger {
        kind: IncentiveTrigger::OpportunityWon,
        subject_id: o.id,
        at: o.closed_at.unwrap_or(uow.now()),
        amount_minor: o.amount_minor,
        currency: o.currency.clone(),
    };
    let credits: Vec<Credit> = attributions
        .iter()
        .map(|a| Credit {
            partner_id: a.partner_id,
            role: a.role,
            credit_bps: i64::from(a.credit_bps),
        })
        .collect();
    accrue(uow, operation, &trigger, &credits).await
}

/// Accrues for a registration just approved: its partner, as `SOURCED`.
pub async fn accrue_approved(
    uow: &UnitOfWork,
    operation: &str,
    r: &deal_registration::Model,
) -> Result<Vec<incentive_accrual::Model>, DbErr> {
    let trigger = Trigger {
        kind: IncentiveTrigger::RegistrationApproved,
        subject_id: r.id,
        at: r.decided_at.unwrap_or(uow.now()),
        amount_minor: r.amount_minor,
        currency: r.currency.clone(),
    };
    let credit = Credit {
        partner_id: r.partner_id,
        role: AttributionRole::Sourced,
        credit_bps: rules::WHOLE_BPS,
    };
    accrue(uow, operation, &trigger, &[credit]).await
}

/// Undoes what `subject` earned (a won deal reopened): every standing
/// accrual becomes `REVERSED` with a `REVERSAL` entry of minus its amount.
/// An unpaid accrual's pair nets to nothing; a paid one's reversal is a
/// negative entry the next payout nets.
pub async fn reverse_subject(
    uow: &UnitOfWork,
    operation: &str,
    subject_id: Uuid,
    reason: &str,
) -> Result<usize, DbErr> {
    ledger::lock(uow).await?;
    let standing = incentive_accrual::Entity::find()
        .filter(incentive_accrual::Column::SubjectId.eq(subject_id))
        .filter(
            incentive_accrual::Column::Status
                .is_not_in([AccrualStatus::Rejected, AccrualStatus::Reversed]),
        )
        .all(uow.conn())
        .await?;
    for a in &standing {
        let paid = a.status == AccrualStatus::Paid;
        let why = if paid {
            format!("{reason}; already paid, so it is taken back from your next payout")
        } else {
            reason.to_owned()
        };
        let entry = ledger::accrual_entry(uow.conn(), a.id).await?;
        ledger::post(
            uow,
            operation,
            Posting {
                partner_id: a.partner_id,
                kind: LedgerEntryKind::Reversal,
                amount_minor: -a.amount_minor,
                currency: &a.currency,
                accrual_id: Some(a.id),
                payout_id: None,
                corrects_id: entry.map(|e| e.id),
                reason: Some(why.clone()),
            },
        )
        .await?;
        let changes = incentive_accrual::ActiveModel {
            status: Set(AccrualStatus::Reversed),
            reason: Set(Some(why)),
            ..Default::default()
        };
        let updated = uow
            .update::<incentive_accrual::Entity>(operation, a, changes)
            .await
            .map_err(|e| match e {
                UpdateError::Db(e) => e,
                UpdateError::Stale(_) => {
                    DbErr::Custom("an accrual changed under the ledger lock".into())
                }
            })?;
        uow.emit(status_event(&updated, a.status)).await?;
    }
    Ok(standing.len())
}

/// Approves accruals whose hold has ended, a batch per transaction. Safe
/// with several runners: the ledger lock is taken first, candidates are
/// claimed `FOR UPDATE SKIP LOCKED`, and each change is conditional on the
/// accrual still being `PENDING`.
pub async fn approve_due(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<usize, DbErr> {
    const BATCH: u64 = 100;
    let due = Condition::all()
        .add(incentive_accrual::Column::Status.eq(AccrualStatus::Pending))
        .add(incentive_accrual::Column::HoldUntil.lte(now));
    let mut done = 0;
    loop {
        let uow = UnitOfWork::begin(db, Actor::system(), now).await?;
        ledger::lock(&uow).await?;
        let rows = incentive_accrual::Entity::find()
            .filter(due.clone())
            .order_by_asc(incentive_accrual::Column::HoldUntil)
            .limit(BATCH)
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
            .all(uow.conn())
            .await?;
        let claimed = rows.len() as u64;
        let mut changed = 0;
        for row in rows {
            let changes = incentive_accrual::ActiveModel {
                status: Set(AccrualStatus::Approved),
                ..Default::default()
            };
            let Some(approved) = uow
                .update_if::<incentive_accrual::Entity>(
                    "approveAccrualAfterHold",
                    &row,
                    changes,
                    due.clone(),
                )
                .await?
            else {
                continue;
            };
            ledger::post(
                &uow,
                "approveAccrualAfterHold",
                Posting {
                    partner_id: row.partner_id,
                    kind: LedgerEntryKind::Approval,
                    amount_minor: 0,
                    currency: &row.currency,
                    accrual_id: Some(row.id),
                    payout_id: None,
                    corrects_id: None,
                    reason: Some("the hold period ended".into()),
                },
            )
            .await?;
            uow.emit(status_event(&approved, AccrualStatus::Pending))
                .await?;
            changed += 1;
        }
        uow.commit().await?;
        done += changed;
        if claimed < BATCH || changed == 0 {
            break;
        }
    }
    Ok(done)
}

fn on_id(index: usize, code: UserErrorCode, message: impl Into<String>) -> UserError {
    UserError {
        field: Some(vec!["input".into(), "ids".into(), index.to_string()]),
        code,
        message: message.into(),
    }
}

/// Holds, approves (early) or rejects up to 100 accruals in one
/// transaction: all of them, or none when any id is bad (each bad one is
/// named in the user errors by its position in `ids`).
pub async fn review(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    ids: &[Option<Uuid>],
    review: Review,
    reason: Option<String>,
    note: Option<String>,
) -> Outcome<Vec<incentive_accrual::Model>> {
    let reason = reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    let note = note.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
    if ids.is_empty() || ids.len() > 100 {
        return Err(UserError::on_field(
            "ids",
            UserErrorCode::InvalidValue,
            "give 1 to 100 accrual ids",
        )
        .into());
    }
    if review == Review::Reject && reason.is_none() {
        return Err(UserError::on_field(
            "reason",
            UserErrorCode::InvalidValue,
            "a rejection needs a reason the partner can read",
        )
        .into());
    }
    let (operation, kind, status_word) = match review {
        Review::Hold => ("holdAccruals", LedgerEntryKind::Hold, "held"),
        Review::Approve => ("approveAccruals", LedgerEntryKind::Approval, "approved"),
        Review::Reject => ("rejectAccruals", LedgerEntryKind::Rejection, "rejected"),
    };
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    ledger::lock(&uow).await?;
    let wanted: Vec<Uuid> = ids.iter().flatten().copied().collect();
    let found = incentive_accrual::Entity::find()
        .filter(incentive_accrual::Column::Id.is_in(wanted))
        .filter(policy::accrual_rows(caller.principal))
        .all(uow.conn())
        .await?;
    let mut errors = Vec::new();
    let mut targets = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let Some(a) = id.and_then(|id| found.iter().find(|a| a.id == id)) else {
            errors.push(on_id(i, UserErrorCode::NotFound, "no accrual has this id"));
            continue;
        };
        if ids[..i].contains(id) {
            errors.push(on_id(i, UserErrorCode::InvalidValue, "listed twice"));
            continue;
        }
        match rules::reviewed(a.status, review) {
            Some(next) => targets.push((a, next)),
            None => errors.push(on_id(
                i,
                UserErrorCode::InvalidTransition,
                format!("a {} accrual cannot be {status_word}", a.status),
            )),
        }
    }
    if !errors.is_empty() {
        return Err(Failure::User(errors));
    }
    let mut saved = Vec::new();
    for (a, next) in targets {
        let amount = if review == Review::Reject {
            -a.amount_minor
        } else {
            0
        };
        let corrects = if review == Review::Reject {
            ledger::accrual_entry(uow.conn(), a.id).await?.map(|e| e.id)
        } else {
            None
        };
        ledger::post(
            &uow,
            operation,
            Posting {
                partner_id: a.partner_id,
                kind,
                amount_minor: amount,
                currency: &a.currency,
                accrual_id: Some(a.id),
                payout_id: None,
                corrects_id: corrects,
                reason: reason.clone(),
            },
        )
        .await?;
        let mut changes = incentive_accrual::ActiveModel {
            status: Set(next),
            ..Default::default()
        };
        if reason.is_some() {
            changes.reason = Set(reason.clone());
        }
        if note.is_some() {
            changes.note = Set(note.clone());
        }
        let updated = uow
            .update::<incentive_accrual::Entity>(operation, a, changes)
            .await
            .map_err(|e| -> Failure {
                match e {
                    UpdateError::Db(e) => e.into(),
                    UpdateError::Stale(_) => UserError::on_field(
                        "ids",
                        UserErrorCode::StaleVersion,
                        "an accrual changed at the same time; read it again",
                    )
                    .into(),
                }
            })?;
        uow.emit(status_event(&updated, a.status)).await?;
        saved.push(updated);
    }
    uow.commit().await?;
    Ok(saved)
}

/// Posts an adjustment of either sign to a partner's balance, with a reason
/// the partner sees.
pub async fn adjust(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    partner_id: Uuid,
    amount: Money,
    reason: String,
) -> Outcome<entity::incentive_ledger_entry::Model> {
    let reason = reason.trim().to_owned();
    let mut errors = Vec::new();
    if reason.is_empty() {
        errors.push(UserError::on_field(
            "reason",
            UserErrorCode::InvalidValue,
            "an adjustment needs a reason the partner can read",
        ));
    }
    if amount.minor_units == 0 {
        errors.push(UserError::on_field(
            "amount",
            UserErrorCode::InvalidValue,
            "an adjustment is not zero",
        ));
    }
    if !errors.is_empty() {
        return Err(Failure::User(errors));
    }
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    ledger::lock(&uow).await?;
    crate::service::partners::require(uow.conn(), caller, partner_id).await?;
    let entry = ledger::post(
        &uow,
        "postIncentiveAdjustment",
        Posting {
            partner_id,
            kind: LedgerEntryKind::Adjustment,
            amount_minor: amount.minor_units,
            currency: amount.currency.as_str(),
            accrual_id: None,
            payout_id: None,
            corrects_id: None,
            reason: Some(reason),
        },
    )
    .await?;
    uow.commit().await?;
    Ok(entry)
}

fn accrual_not_found() -> Failure {
    UserError::on_field("id", UserErrorCode::NotFound, "no accrual has this id").into()
}

fn stale_accrual() -> Failure {
    UserError::on_field(
        "id",
        UserErrorCode::StaleVersion,
        "the accrual changed at the same time; read it again",
    )
    .into()
}

/// A partner disputes one of its accruals, within the program's dispute
/// window (days after the accrual was created, a setting).
pub async fn dispute(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    id: Uuid,
    reason: String,
) -> Outcome<incentive_accrual::Model> {
    let reason = reason.trim().to_owned();
    if reason.is_empty() {
        return Err(UserError::on_field(
            "reason",
            UserErrorCode::InvalidValue,
            "say what is wrong with the amount",
        )
        .into());
    }
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    ledger::lock(&uow).await?;
    let current = find(uow.conn(), caller, id)
        .await?
        .ok_or_else(accrual_not_found)?;
    let days = settings::get(uow.conn()).await?.incentive_dispute_days;
    let closes = current.created_at + Duration::days(i64::from(days));
    if uow.now() >= closes {
        return Err(UserError::on_field(
            "id",
            UserErrorCode::InvalidTransition,
            format!("the dispute window closed at {}", closes.to_rfc3339()),
        )
        .into());
    }
    if current.disputed_at.is_some() && current.dispute_resolution.is_none() {
        return Err(UserError::on_field(
            "id",
            UserErrorCode::AlreadyExists,
            "the accrual is already disputed",
        )
        .into());
    }
    let changes = incentive_accrual::ActiveModel {
        disputed_at: Set(Some(uow.now())),
        dispute_reason: Set(Some(reason)),
        dispute_resolution: Set(None),
        ..Default::default()
    };
    let saved = uow
        .update::<incentive_accrual::Entity>("disputeAccrual", &current, changes)
        .await
        .map_err(|e| match e {
            UpdateError::Db(e) => e.into(),
            UpdateError::Stale(_) => stale_accrual(),
        })?;
    uow.emit(event(EventType::AccrualDisputed, &saved, json!({})))
        .await?;
    uow.commit().await?;
    Ok(saved)
}

/// Staff answer an open dispute (changing the money, if at all, by review
/// or adjustment).
pub async fn resolve_dispute(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    id: Uuid,
    resolution: String,
) -> Outcome<incentive_accrual::Model> {
    let resolution = resolution.trim().to_owned();
    if resolution.is_empty() {
        return Err(UserError::on_field(
            "resolution",
            UserErrorCode::InvalidValue,
            "tell the partner how the dispute was resolved",
        )
        .into());
    }
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    ledger::lock(&uow).await?;
    let current = find(uow.conn(), caller, id)
        .await?
        .ok_or_else(accrual_not_found)?;
    if current.disputed_at.is_none() || current.dispute_resolution.is_some() {
        return Err(UserError::on_field(
            "id",
            UserErrorCode::InvalidTransition,
            "the accrual has no open dispute",
        )
        .into());
    }
    let changes = incentive_accrual::ActiveModel {
        dispute_resolution: Set(Some(resolution.clone())),
        ..Default::default()
    };
    let saved = uow
        .update::<incentive_accrual::Entity>("resolveAccrualDispute", &current, changes)
        .await
        .map_err(|e| match e {
            UpdateError::Db(e) => e.into(),
            UpdateError::Stale(_) => stale_accrual(),
        })?;
    uow.emit(event(
        EventType::AccrualDisputeResolved,
        &saved,
        json!({ "resolution": resolution }),
    ))
    .await?;
    uow.commit().await?;
    Ok(saved)
}

/// Filters of accrual lists; all given conditions hold.
#[derive(Debug, Default, Clone)]
pub struct AccrualFilter {
    pub partner_id: Option<Uuid>,
    pub plan_id: Option<Uuid>,
    pub subject_id: Option<Uuid>,
    pub statuses: Vec<AccrualStatus>,
    /// Only accruals with an open dispute (true) or without one (false).
    pub disputed: Option<bool>,
}

pub async fn list(
    db: &impl ConnectionTrait,
    caller: &Caller<'_>,
    filter: AccrualFilter,
    page: PageArgs,
) -> Result<Page<incentive_accrual::Model>, ApiError> {
    let mut condition = policy::accrual_rows(caller.principal);
    if let Some(partner_id) = filter.partner_id {
        condition = condition.add(incentive_accrual::Column::PartnerId.eq(partner_id));
    }
    if let Some(plan_id) = filter.plan_id {
        condition = condition.add(incentive_accrual::Column::PlanId.eq(plan_id));
    }
    if let Some(subject_id) = filter.subject_id {
        condition = condition.add(incentive_accrual::Column::SubjectId.eq(subject_id));
    }
    if !filter.statuses.is_empty() {
        condition = condition.add(incentive_accrual::Column::Status.is_in(filter.statuses));
    }
    if let Some(disputed) = filter.disputed {
        let open = Condition::all()
            .add(incentive_accrual::Column::DisputedAt.is_not_null())
            .add(incentive_accrual::Column::DisputeResolution.is_null());
        condition = condition.add(if disputed { open } else { open.not() });
    }
    paginate(
        db,
        incentive_accrual::Entity::find().filter(condition),
        newest_first(),
        page,
        cursor_key,
    )
    .await
}

fn newest_first() -> Ordering<incentive_accrual::Column> {
    Ordering {
        key: incentive_accrual::Column::CreatedAt,
        id: incentive_accrual::Column::Id,
        direction: OrderDirection::Desc,
    }
}

fn cursor_key(a: &incentive_accrual::Model) -> (KeyValue, KeyValue) {
    (KeyValue::Time(a.created_at), KeyValue::Uuid(a.id))
}

/// `Partner.accruals`: each partner's accruals, newest first, optionally
/// of some statuses only.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccrualsOfPartner {
    pub statuses: Vec<AccrualStatus>,
}

impl NestedPages for AccrualsOfPartner {
    type Row = incentive_accrual::Model;

    async fn pages(
        &self,
        db: &DatabaseConnection,
        scope: RowScope,
        partners: &[Uuid],
        page: PageArgs,
    ) -> Result<HashMap<Uuid, Page<incentive_accrual::Model>>, ApiError> {
        let mut select = incentive_accrual::Entity::find().filter(policy::accrual_rows(scope));
        if !self.statuses.is_empty() {
            select = select.filter(incentive_accrual::Column::Status.is_in(self.statuses.clone()));
        }
        paginate_per_parent(
            db,
            select,
            Expr::col((
                incentive_accrual::Entity,
                incentive_accrual::Column::PartnerId,
            )),
            partners,
            |select| select,
            newest_first(),
            page,
            cursor_key,
        )
        .await
    }
}

pub async fn find(
    db: &impl ConnectionTrait,
    caller: &Caller<'_>,
    id: Uuid,
) -> Result<Option<incentive_accrual::Model>, DbErr> {
    incentive_accrual::Entity::find_by_id(id)
        .filter(policy::accrual_rows(caller.principal))
        .one(db)
        .await
}
