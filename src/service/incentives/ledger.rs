//! The append-only ledger: posting entries and reading them. Entries are
//! inserted through the unit of work and never changed (database triggers
//! refuse it); a correction is a new entry naming the one it corrects.

use chrono::{DateTime, Utc};
use entity::incentive_ledger_entry;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, NotSet, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{
    domain::{inputs::CurrencyCode, money::Money, LedgerEntryKind},
    ids::{self, NodeType},
    record,
    unit_of_work::UnitOfWork,
};

/// The advisory lock every incentive write takes first ("pgledger").
const LEDGER_LOCK: i64 = 0x7067_6c65_6467_6572;

/// Takes the ledger lock; call it before reading or writing accruals,
/// payouts or entries in a unit of work (see the module doc of `incentives`).
pub async fn lock(uow: &UnitOfWork) -> Result<(), DbErr> {
    uow.lock(LEDGER_LOCK).await
}

/// An amount of the ledger as money (the API's `Money`).
pub fn money(minor: i64, currency: &str) -> Option<Money> {
    CurrencyCode::parse(currency).ok().map(|currency| Money {
        minor_units: minor,
        currency,
    })
}

pub fn snapshot(e: &incentive_ledger_entry::Model) -> Value {
    json!({
        "id": ids::encode(NodeType::LedgerEntry, e.id),
        "seq": e.seq,
        "partnerId": ids::encode(NodeType::Partner, e.partner_id),
        "kind": e.kind,
        "amount": { "minorUnits": e.amount_minor, "currency": e.currency },
        "accrualId": e.accrual_id.map(|id| ids::encode(NodeType::IncentiveAccrual, id)),
        "payoutId": e.payout_id.map(|id| ids::encode(NodeType::Payout, id)),
        "correctsId": e.corrects_id.map(|id| ids::encode(NodeType::LedgerEntry, id)),
        "reason": e.reason,
        "occurredAt": e.occurred_at,
    })
}

record!(incentive_ledger_entry, LedgerEntry, snapshot);

/// One entry to post.
pub struct Posting<'a> {
    pub partner_id: Uuid,
    pub kind: LedgerEntryKind,
    pub amount_minor: i64,
    pub currency: &'a str,
    pub accrual_id: Option<Uuid>,
    pub payout_id: Option<Uuid>,
    pub corrects_id: Option<Uuid>,
    pub reason: Option<String>,
}

impl Posting<'_> {
    /// The entry's row, at `at` (the ledger numbers it: `seq`).
    fn row(self, at: DateTime<Utc>) -> incentive_ledger_entry::ActiveModel {
        incentive_ledger_entry::ActiveModel {
            seq: NotSet,
            id: Set(Uuid::now_v7()),
            partner_id: Set(self.partner_id),
            kind: Set(self.kind),
            amount_minor: Set(self.amount_minor),
            currency: Set(self.currency.to_owned()),
            accrual_id: Set(self.accrual_id),
            payout_id: Set(self.payout_id),
            corrects_id: Set(self.corrects_id),
            reason: Set(self.reason),
            occurred_at: Set(at),
        }
    }
}

/// Appends `posting` to the ledger (audited), at the unit's time.
pub async fn post(
    uow: &UnitOfWork,
    operation: &str,
    posting: Posting<'_>,
) -> Result<incentive_ledger_entry::Model, DbErr> {
    uow.create::<incentive_ledger_entry::Entity>(operation, posting.row(uow.now()))
        .await
}

/// Appends several postings (audited) in two statements, at the unit's time.
pub async fn post_all(
    uow: &UnitOfWork,
    operation: &str,
    postings: Vec<Posting<'_>>,
) -> Result<Vec<incentive_ledger_entry::Model>, DbErr> {
    let rows = postings.into_iter().map(|p| p.row(uow.now())).collect();
    uow.create_all::<incentive_ledger_entry::Entity>(operation, rows)
        .await
}

/// The `ACCRUAL` entry of an accrual.
pub async fn accrual_entry(
    db: &impl ConnectionTrait,
    accrual_id: Uuid,
) -> Result<Option<incentive_ledger_entry::Model>, DbErr> {
    incentive_ledger_entry::Entity::find()
        .filter(incentive_ledger_entry::Column::AccrualId.eq(accrual_id))
        .filter(incentive_ledger_entry::Column::Kind.eq(LedgerEntryKind::Accrual))
        .one(db)
        .await
}

/// Entries after `after` (a `seq`), oldest first: the finance feed.
pub async fn feed(
    db: &impl ConnectionTrait,
    after: i64,
    first: u64,
) -> Result<Vec<incentive_ledger_entry::Model>, DbErr> {
    incentive_ledger_entry::Entity::find()
        .filter(incentive_ledger_entry::Column::Seq.gt(after))
        .order_by_asc(incentive_ledger_entry::Column::Seq)
        .limit(first)
        .all(db)
        .await
}

/// The partners' entries in one currency in `[from, to)`, oldest first.
pub async fn of_partners(
    db: &impl ConnectionTrait,
    partners: &[Uuid],
    currency: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<incentive_ledger_entry::Model>, DbErr> {
    incentive_ledger_entry::Entity::find()
        .filter(incentive_ledger_entry::Column::PartnerId.is_in(partners.iter().copied()))
        .filter(incentive_ledger_entry::Column::Currency.eq(currency))
        .filter(incentive_ledger_entry::Column::OccurredAt.gte(from))
        .filter(incentive_ledger_entry::Column::OccurredAt.lt(to))
        .order_by_asc(incentive_ledger_entry::Column::Seq)
        .all(db)
        .await
}
