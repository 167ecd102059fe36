//! Payouts and statements. A period's payouts are made set-based: one
//! aggregate finds every partner's payable balance, one insert writes the
//! payouts, one `INSERT … SELECT` records which entries each gathered,
//! whatever the number of partners. A partner whose payable balance is not
//! positive gets no payout; its entries wait for the next period.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::{incentive_accrual, incentive_ledger_entry, incentive_payout, incentive_payout_line};
use sea_orm::{
    sea_query::Expr, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, Set, Value as SqlValue,
};
use serde_json::{json, Value};
use std::collections::HashMap;
use uuid::Uuid;

use super::{
    accruals,
    ledger::{self, Posting},
};
use crate::{
    domain::{
        inputs::CurrencyCode, AccrualStatus, EventType, LedgerEntryKind, OrderDirection,
        PayoutStatus, SubjectType, UserError, UserErrorCode,
    },
    error::ApiError,
    ids::{self, NodeType},
    policy::{self, RowScope},
    service::{
        pagination::{
            paginate, paginate_per_parent, KeyValue, NestedPages, Ordering, Page, PageArgs,
        },
        rows, sql, Caller, Failure, Outcome,
    },
    unit_of_work::{Event, UnitOfWork, UpdateError},
    versioned_record,
};

pub fn snapshot(p: &incentive_payout::Model) -> Value {
    json!({
        "id": ids::encode(NodeType::Payout, p.id),
        "partnerId": ids::encode(NodeType::Partner, p.partner_id),
        "amount": { "minorUnits": p.amount_minor, "currency": p.currency },
        "periodEnd": p.period_end,
        "status": p.status,
        "externalReference": p.external_reference,
        "failureReason": p.failure_reason,
        "paidAt": p.paid_at,
        "createdAt": p.created_at,
        "version": p.version,
    })
}

versioned_record!(incentive_payout, Payout, snapshot);

fn status_event(p: &incentive_payout::Model, previous: Option<PayoutStatus>) -> Event {
    Event {
        event_type: EventType::PayoutStatusChanged,
        subject_type: SubjectType::Payout,
        subject_id: p.id,
        partner_id: Some(p.partner_id),
        payload: json!({ "payout": snapshot(p), "previousStatus": previous, "status": p.status }),
    }
}

/// Entries a payout may gather (alias `e`): in `currency` (1st value),
/// before the cutoff (2nd), money (not a payout's own entry, not zero), in
/// no live payout yet, and not the accrual entry of an accrual still
/// pending or on hold. A reversal or rejection and the accrual entry it
/// corrects are gathered together, so they net to nothing.
const PAYABLE: &str = "e.currency = ? AND e.occurred_at < ? \
    AND e.kind <> 'PAYOUT' AND e.amount_minor <> 0 \
    AND NOT EXISTS (SELECT 1 FROM incentive_payout_line l \
        JOIN incentive_payout p ON p.id = l.payout_id \
        WHERE l.ledger_entry_id = e.id AND p.status IN ('DRAFT', 'APPROVED', 'PAID')) \
    AND NOT (e.kind = 'ACCRUAL' AND EXISTS (SELECT 1 FROM incentive_accrual a \
        WHERE a.id = e.accrual_id AND a.status IN ('PENDING', 'ON_HOLD')))";

fn cutoff(period_end: NaiveDate) -> DateTime<Utc> {
    (period_end + Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .map_or(DateTime::<Utc>::MAX_UTC, |t| t.and_utc())
}

/// Gathers every partner's approved, unpaid entries in `currency` up to
/// the end of `period_end` into one `DRAFT` payout per partner whose
/// payable balance is positive.
pub async fn create(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    period_end: NaiveDate,
    currency: CurrencyCode,
) -> Outcome<Vec<incentive_payout::Model>> {
    const OPERATION: &str = "createPayouts";
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    ledger::lock(&uow).await?;
    let now = uow.now();
    let until = cutoff(period_end);
    if until > now + Duration::days(1) {
        return Err(UserError::on_field(
            "periodEnd",
            UserErrorCode::InvalidValue,
            "a period ends today at the latest",
        )
        .into());
    }
    let values = || -> Vec<SqlValue> { vec![currency.as_str().into(), until.into()] };
    let totals = sql::query(
        uow.conn(),
        &format!(
            "SELECT e.partner_id, CAST(SUM(e.amount_minor) AS BIGINT) AS total \
             FROM incentive_ledger_entry e WHERE {PAYABLE} \
             GROUP BY e.partner_id HAVING SUM(e.amount_minor) > 0"
        ),
        values(),
    )
    .await?;
    let mut payouts = Vec::with_capacity(totals.len());
    for row in &totals {
        let partner_id: Uuid = rows::read(row, 0)?;
        let total: i64 = rows::read(row, 1)?;
        payouts.push(incentive_payout::Model {
            id: Uuid::now_v7(),
            partner_id,
            currency: currency.as_str().to_owned(),
            period_end,
            amount_minor: total,
            status: PayoutStatus::Draft,
            external_reference: None,
            failure_reason: None,
            paid_at: None,
            version: 1,
            created_at: now,
            updated_at: now,
        });
    }
    if payouts.is_empty() {
        uow.commit().await?;
        return Ok(payouts);
    }
    uow.create_many::<incentive_payout::Entity>(OPERATION, payouts.clone())
        .await?;
    // Every new payout was created at `now` for this period and currency,
    // under the ledger lock: that names them without listing their ids.
    let mut line_values = vec![
        now.into(),
        period_end.into(),
        currency.as_str().into(),
        PayoutStatus::Draft.to_string().into(),
    ];
    line_values.extend(values());
    let backend = uow.conn().get_database_backend();
    uow.execute_set_based(sql::statement(
        backend,
        &format!(
            "INSERT INTO incentive_payout_line (payout_id, ledger_entry_id) \
             SELECT np.id, e.id FROM incentive_ledger_entry e \
             JOIN incentive_payout np ON np.partner_id = e.partner_id \
               AND np.created_at = ? AND np.period_end = ? AND np.currency = ? AND np.status = ? \
               AND NOT EXISTS (SELECT 1 FROM incentive_payout_line done WHERE done.payout_id = np.id) \
             WHERE {PAYABLE}"
        ),
        line_values,
    ))
    .await?;
    for payout in &payouts {
        uow.emit(status_event(payout, None)).await?;
    }
    uow.commit().await?;
    Ok(payouts)
}

fn not_found() -> Failure {
    UserError::on_field("id", UserErrorCode::NotFound, "no payout has this id").into()
}

async fn change(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    operation: &str,
    id: Uuid,
    allowed_from: &[PayoutStatus],
    apply: impl FnOnce(&mut incentive_payout::ActiveModel),
    to: PayoutStatus,
) -> Outcome<(UnitOfWork, incentive_payout::Model, incentive_payout::Model)> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    ledger::lock(&uow).await?;
    let current = find(uow.conn(), caller, id).await?.ok_or_else(not_found)?;
    if !allowed_from.contains(&current.status) {
        return Err(UserError::on_field(
            "id",
            UserErrorCode::InvalidTransition,
            format!("a {} payout cannot become {to}", current.status),
        )
        .into());
    }
    let mut changed = current.clone().into_active_model();
    changed.status = Set(to);
    apply(&mut changed);
    let saved = uow
        .update::<incentive_payout::Entity>(operation, &current, changed)
        .await
        .map_err(|e| -> Failure {
            match e {
                UpdateError::Db(e) => e.into(),
                UpdateError::Stale(_) => UserError::on_field(
                    "id",
                    UserErrorCode::StaleVersion,
                    "the payout changed at the same time; read it again",
                )
                .into(),
            }
        })?;
    uow.emit(status_event(&saved, Some(current.status))).await?;
    Ok((uow, current, saved))
}

/// `DRAFT` → `APPROVED`.
pub async fn approve(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    id: Uuid,
) -> Outcome<incentive_payout::Model> {
    let (uow, _, saved) = change(
        db,
        caller,
        "approvePayout",
        id,
        &[PayoutStatus::Draft],
        |_| {},
        PayoutStatus::Approved,
    )
    .await?;
    uow.commit().await?;
    Ok(saved)
}

/// `APPROVED` → `PAID`: a `PAYOUT` entry of minus the amount, and the
/// accruals it paid become `PAID`.
pub async fn mark_paid(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    id: Uuid,
    external_reference: String,
) -> Outcome<incentive_payout::Model> {
    let reference = external_reference.trim().to_owned();
    if reference.is_empty() {
        return Err(UserError::on_field(
            "externalReference",
            UserErrorCode::InvalidValue,
            "the bank's or payment system's reference",
        )
        .into());
    }
    let now = caller.now;
    let (uow, _, saved) = change(
        db,
        caller,
        "markPayoutPaid",
        id,
        &[PayoutStatus::Approved],
        |p| {
            p.external_reference = Set(Some(reference.clone()));
            p.paid_at = Set(Some(now));
        },
        PayoutStatus::Paid,
    )
    .await?;
    ledger::post(
        &uow,
        "markPayoutPaid",
        Posting {
            partner_id: saved.partner_id,
            kind: LedgerEntryKind::Payout,
            amount_minor: -saved.amount_minor,
            currency: &saved.currency,
            accrual_id: None,
            payout_id: Some(saved.id),
            corrects_id: None,
            reason: Some(format!("paid, reference {reference}")),
        },
    )
    .await?;
    let gathered: Vec<Uuid> = incentive_payout_line::Entity::find()
        .filter(incentive_payout_line::Column::PayoutId.eq(saved.id))
        .all(uow.conn())
        .await?
        .into_iter()
        .map(|l| l.ledger_entry_id)
        .collect();
    let accrual_ids: Vec<Uuid> = incentive_ledger_entry::Entity::find()
        .filter(incentive_ledger_entry::Column::Id.is_in(gathered))
        .filter(incentive_ledger_entry::Column::Kind.eq(LedgerEntryKind::Accrual))
        .all(uow.conn())
        .await?
        .into_iter()
        .filter_map(|e| e.accrual_id)
        .collect();
    let approved = incentive_accrual::Entity::find()
        .filter(incentive_accrual::Column::Id.is_in(accrual_ids))
        .filter(incentive_accrual::Column::Status.eq(AccrualStatus::Approved))
        .all(uow.conn())
        .await?;
    for a in &approved {
        let changes = incentive_accrual::ActiveModel {
            status: Set(AccrualStatus::Paid),
            ..Default::default()
        };
        let paid = uow
            .update::<incentive_accrual::Entity>("markPayoutPaid", a, changes)
            .await
            .map_err(|e| match e {
                UpdateError::Db(e) => e,
                UpdateError::Stale(_) => {
                    DbErr::Custom("an accrual changed under the ledger lock".into())
                }
            })?;
        uow.emit(accruals::status_event(&paid, AccrualStatus::Approved))
            .await?;
    }
    uow.commit().await?;
    Ok(saved)
}

/// `DRAFT` or `APPROVED` → `FAILED`, with a reason: its entries go to the
/// next payout.
pub async fn fail(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    id: Uuid,
    reason: String,
) -> Outcome<incentive_payout::Model> {
    let reason = reason.trim().to_owned();
    if reason.is_empty() {
        return Err(UserError::on_field(
            "reason",
            UserErrorCode::InvalidValue,
            "say why the payout failed",
        )
        .into());
    }
    let (uow, _, saved) = change(
        db,
        caller,
        "failPayout",
        id,
        &[PayoutStatus::Draft, PayoutStatus::Approved],
        |p| p.failure_reason = Set(Some(reason.clone())),
        PayoutStatus::Failed,
    )
    .await?;
    uow.commit().await?;
    Ok(saved)
}

pub async fn find(
    db: &impl ConnectionTrait,
    caller: &Caller<'_>,
    id: Uuid,
) -> Result<Option<incentive_payout::Model>, DbErr> {
    incentive_payout::Entity::find_by_id(id)
        .filter(policy::payout_rows(caller.principal))
        .one(db)
        .await
}

pub async fn list(
    db: &impl ConnectionTrait,
    caller: &Caller<'_>,
    partner_id: Option<Uuid>,
    statuses: Vec<PayoutStatus>,
    page: PageArgs,
) -> Result<Page<incentive_payout::Model>, ApiError> {
    let mut condition = policy::payout_rows(caller.principal);
    if let Some(partner_id) = partner_id {
        condition = condition.add(incentive_payout::Column::PartnerId.eq(partner_id));
    }
    if !statuses.is_empty() {
        condition = condition.add(incentive_payout::Column::Status.is_in(statuses));
    }
    paginate(
        db,
        incentive_payout::Entity::find().filter(condition),
        newest_first(),
        page,
        cursor_key,
    )
    .await
}

fn newest_first() -> Ordering<incentive_payout::Column> {
    Ordering {
        key: incentive_payout::Column::CreatedAt,
        id: incentive_payout::Column::Id,
        direction: OrderDirection::Desc,
    }
}

fn cursor_key(p: &incentive_payout::Model) -> (KeyValue, KeyValue) {
    (KeyValue::Time(p.created_at), KeyValue::Uuid(p.id))
}

/// `Partner.payouts`: each partner's payouts, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PayoutsOfPartner;

impl NestedPages for PayoutsOfPartner {
    type Row = incentive_payout::Model;

    async fn pages(
        &self,
        db: &DatabaseConnection,
        scope: RowScope,
        partners: &[Uuid],
        page: PageArgs,
    ) -> Result<HashMap<Uuid, Page<incentive_payout::Model>>, ApiError> {
        paginate_per_parent(
            db,
            incentive_payout::Entity::find().filter(policy::payout_rows(scope)),
            Expr::col((
                incentive_payout::Entity,
                incentive_payout::Column::PartnerId,
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

/// A partner's statement for `[from, to)` in one currency.
#[derive(Debug, Clone)]
pub struct Statement {
    pub currency: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub opening: i64,
    pub accrued: i64,
    /// Reversals and rejections (negative).
    pub reversed: i64,
    pub adjusted: i64,
    /// Payouts (negative).
    pub paid: i64,
    pub closing: i64,
    /// What the next payout would gather now.
    pub payable: i64,
    /// Why payouts wait, when they do.
    pub note: Option<String>,
    pub lines: Vec<incentive_ledger_entry::Model>,
}

/// Each partner's statement for `[from, to)` in one currency, as of `now`:
/// three statements for all of them.
pub async fn statements(
    db: &impl ConnectionTrait,
    partners: &[Uuid],
    currency: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<HashMap<Uuid, Statement>, DbErr> {
    if partners.is_empty() {
        return Ok(HashMap::new());
    }
    let listed = vec!["?"; partners.len()].join(", ");
    let ids = || partners.iter().map(|&p| SqlValue::from(p));
    let sums = |rows: Vec<sea_orm::QueryResult>| -> Result<HashMap<Uuid, i64>, DbErr> {
        rows.iter()
            .map(|row| Ok((rows::read(row, 0)?, rows::read(row, 1)?)))
            .collect()
    };
    let opening = sums(
        sql::query(
            db,
            &format!(
                "SELECT partner_id, CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) \
                 FROM incentive_ledger_entry \
                 WHERE partner_id IN ({listed}) AND currency = ? AND occurred_at < ? \
                 GROUP BY partner_id"
            ),
            ids().chain([currency.into(), from.into()]).collect(),
        )
        .await?,
    )?;
    let payable = sums(
        sql::query(
            db,
            &format!(
                "SELECT e.partner_id, CAST(COALESCE(SUM(e.amount_minor), 0) AS BIGINT) \
                 FROM incentive_ledger_entry e WHERE e.partner_id IN ({listed}) AND {PAYABLE} \
                 GROUP BY e.partner_id"
            ),
            ids()
                .chain([currency.into(), (now + Duration::days(1)).into()])
                .collect(),
        )
        .await?,
    )?;
    let mut lines: HashMap<Uuid, Vec<incentive_ledger_entry::Model>> = HashMap::new();
    for line in ledger::of_partners(db, partners, currency, from, to).await? {
        lines.entry(line.partner_id).or_default().push(line);
    }
    Ok(partners
        .iter()
        .map(|&partner| {
            let statement = Statement::of(
                currency,
                (from, to),
                opening.get(&partner).copied().unwrap_or(0),
                lines.remove(&partner).unwrap_or_default(),
                payable.get(&partner).copied().unwrap_or(0),
            );
            (partner, statement)
        })
        .collect())
}

impl Statement {
    /// The statement of a period's `lines`, between its opening balance
    /// and what is payable now.
    fn of(
        currency: &str,
        (from, to): (DateTime<Utc>, DateTime<Utc>),
        opening: i64,
        lines: Vec<incentive_ledger_entry::Model>,
        payable: i64,
    ) -> Self {
        let sum = |kinds: &[LedgerEntryKind]| -> i64 {
            lines
                .iter()
                .filter(|e| kinds.contains(&e.kind))
                .map(|e| e.amount_minor)
                .sum()
        };
        let accrued = sum(&[LedgerEntryKind::Accrual]);
        let reversed = sum(&[LedgerEntryKind::Reversal, LedgerEntryKind::Rejection]);
        let adjusted = sum(&[LedgerEntryKind::Adjustment]);
        let paid = sum(&[LedgerEntryKind::Payout]);
        let closing = opening + lines.iter().map(|e| e.amount_minor).sum::<i64>();
        let note = (payable < 0).then(|| {
            let digits = CurrencyCode::parse(currency)
                .map(|c| crate::domain::money::minor_digits(&c))
                .unwrap_or(2);
            format!(
                "Your payable balance is {}: an amount already paid was taken back. \
                 It is carried forward and netted by your next payouts, which wait until it is positive again.",
                crate::domain::incentives::format_money(payable, digits, currency)
            )
        });
        Self {
            currency: currency.to_owned(),
            from,
            to,
            opening,
            accrued,
            reversed,
            adjusted,
            paid,
            closing,
            payable,
            note,
            lines,
        }
    }
}
