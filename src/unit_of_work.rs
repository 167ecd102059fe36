//! The one write path. Every mutation opens a [`UnitOfWork`] and writes each
//! change with one of its calls ([`create`](UnitOfWork::create),
//! [`update`](UnitOfWork::update) and their variants,
//! [`delete`](UnitOfWork::delete)), which audits it before and after in the
//! same call; [`emit`](UnitOfWork::emit) queues its outbox events, and
//! [`commit`](UnitOfWork::commit) writes them together. Dropping it rolls
//! everything back, so a failed mutation leaves no audit row and no event.
//! SeaORM's own write methods are denied elsewhere (`clippy.toml`), so a
//! write that skips the audit does not pass the lint.
//!
//! Events are kept in memory until [`UnitOfWork::commit`] and written last,
//! under a transaction-scoped PostgreSQL advisory lock: outbox ids are then
//! handed out in commit order, so a reader that has seen id N never later
//! finds a smaller id appear (the feed's cursor relies on it). Holding the
//! lock only from those inserts to the commit, and taking no other lock in
//! between, means it cannot deadlock with row locks.
#![expect(
    clippy::disallowed_methods,
    reason = "the one write path: SeaORM's write methods are denied everywhere else"
)]

mod record;

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use entity::{audit_entry, outbox_event};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseBackend,
    DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, IntoActiveModel, NotSet,
    QueryFilter, Set, SqlErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
    TryInsertResult,
};
use serde_json::{Map, Value};
use uuid::Uuid;

pub use record::{Record, Versioned};

use crate::{
    auth::Principal,
    domain::{ActorKind, EntityType, EventType, PrincipalKind, SubjectType},
    signal,
};

/// The advisory lock that orders outbox writes ("pgoutbox").
const OUTBOX_LOCK: i64 = 0x7067_6f75_7462_6f78;

/// Who made a change, as the audit log and the outbox record it.
#[derive(Debug, Clone)]
pub struct Actor {
    pub kind: ActorKind,
    /// The person behind the token: a staff user (`STAFF`), or the partner
    /// contact a portal acts for (`PARTNER`).
    pub id: Option<Uuid>,
    pub token_id: Option<Uuid>,
    pub request_id: Option<String>,
}

impl Actor {
    pub fn principal(principal: &Principal, request_id: Option<String>) -> Self {
        Self {
            kind: match principal.kind() {
                PrincipalKind::Staff => ActorKind::Staff,
                PrincipalKind::Partner => ActorKind::Partner,
            },
            id: match principal.kind() {
                PrincipalKind::Staff => principal.staff_user_id,
                PrincipalKind::Partner => principal.contact_id,
            },
            token_id: Some(principal.token_id),
            request_id,
        }
    }

    /// Background jobs and the CLI.
    pub fn system() -> Self {
        Self {
            kind: ActorKind::System,
            id: None,
            token_id: None,
            request_id: None,
        }
    }

    /// `partnergraph import` of the file `file_name`: recorded as `IMPORT`
    /// with the request id `import:<file name>`.
    pub fn import(file_name: &str) -> Self {
        Self {
            kind: ActorKind::Import,
            id: None,
            token_id: None,
            request_id: Some(format!("import:{file_name}")),
        }
    }
}

/// One audited change; written only by the unit of work's own calls.
struct Change<'a> {
    /// The mutation or job, e.g. `updatePartner`.
    pub operation: &'a str,
    pub entity_type: EntityType,
    pub entity_id: Uuid,
    /// Snapshots before and after (`None` when created or deleted).
    pub before: Option<&'a Value>,
    pub after: Option<&'a Value>,
}

/// What the audit entry of a bookkeeping write says: the bookkeeping fields
/// themselves, before (if worth saying) and after.
pub struct Bookkeeping<'a> {
    /// The job, e.g. `flagActivationOverdue`.
    pub operation: &'a str,
    pub before: Option<Value>,
    pub after: Value,
}

/// One event for the outbox.
pub struct Event {
    /// The public event type, e.g. `partner.status_changed`.
    pub event_type: EventType,
    pub subject_type: SubjectType,
    pub subject_id: Uuid,
    /// The partner it concerns: partner principals only see their own.
    pub partner_id: Option<Uuid>,
    pub payload: Value,
}

pub struct UnitOfWork {
    txn: DatabaseTransaction,
    actor: Actor,
    now: DateTime<Utc>,
    /// Events to write at commit, in the order they were emitted.
    events: Mutex<Vec<outbox_event::ActiveModel>>,
}

impl UnitOfWork {
    pub async fn begin(
        db: &DatabaseConnection,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<Self, DbErr> {
        // SQLite: take the write lock up front, so two writers queue instead
        // of failing with SQLITE_BUSY when one upgrades from reading.
        let options = TransactionOptions {
            sqlite_transaction_mode: (db.get_database_backend() == DatabaseBackend::Sqlite)
                .then_some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        let txn = db.begin_with_options(options).await?;
        Ok(Self {
            txn,
            actor,
            now,
            events: Mutex::default(),
        })
    }

    /// The transaction every write of this unit goes through.
    pub fn conn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// The one "now" of this change: the change, its audit entry and its event agree.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// Inserts `row` and audits its creation.
    pub async fn create<E>(&self, operation: &str, row: E::ActiveModel) -> Result<E::Model, DbErr>
    where
        E: Record,
        E::Model: IntoActiveModel<E::ActiveModel> + Sync,
        E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
    {
        let created = row.insert(&self.txn).await?;
        self.audit(Change {
            operation,
            entity_type: E::AUDIT_TYPE,
            entity_id: E::audit_id(&created),
            before: None,
            after: Some(&E::snapshot(&created)),
        })
        .await?;
        Ok(created)
    }

    /// Inserts `row` unless a row with the same `key` (the columns of a
    /// unique index) exists: the new row, audited, or `None`. Concurrent
    /// callers race safely: the database keeps one, the others get `None`.
    pub async fn create_unless_exists<E>(
        &self,
        operation: &str,
        row: E::ActiveModel,
        key: impl IntoIterator<Item = E::Column>,
    ) -> Result<Option<E::Model>, DbErr>
    where
        E: Record,
        E::Model: IntoActiveModel<E::ActiveModel> + Sync,
        E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
    {
        // `exec_with_returning` reports a skipped row as "not found"; the
        // list form reports it as no rows.
        let TryInsertResult::Inserted(rows) = E::insert(row)
            .on_conflict_do_nothing_on(key)
            .exec_with_returning_many(&self.txn)
            .await?
        else {
            return Ok(None);
        };
        let Some(created) = rows.into_iter().next() else {
            return Ok(None);
        };
        self.audit(Change {
            operation,
            entity_type: E::AUDIT_TYPE,
            entity_id: E::audit_id(&created),
            before: None,
            after: Some(&E::snapshot(&created)),
        })
        .await?;
        Ok(Some(created))
    }

    /// Inserts `rows` in one statement and audits them in one more: the rows
    /// as stored (with the columns the database fills in). For the handful
    /// of rows one change makes (the ledger entries of a deal's accruals);
    /// [`create_many`](Self::create_many) chunks larger sets.
    pub async fn create_all<E>(
        &self,
        operation: &str,
        rows: Vec<E::ActiveModel>,
    ) -> Result<Vec<E::Model>, DbErr>
    where
        E: Record,
        E::Model: IntoActiveModel<E::ActiveModel> + Sync,
        E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
    {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let created = E::insert_many(rows).exec_with_returning(&self.txn).await?;
        self.audit_created::<E>(operation, &created).await?;
        Ok(created)
    }

    /// [`create_unless_exists`](Self::create_unless_exists) for several rows
    /// in two statements: those whose `key` is free are inserted and
    /// audited; the rows created.
    pub async fn create_all_unless_exist<E>(
        &self,
        operation: &str,
        rows: Vec<E::ActiveModel>,
        key: impl IntoIterator<Item = E::Column>,
    ) -> Result<Vec<E::Model>, DbErr>
    where
        E: Record,
        E::Model: IntoActiveModel<E::ActiveModel> + Sync,
        E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
    {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let TryInsertResult::Inserted(created) = E::insert_many(rows)
            .on_conflict_do_nothing_on(key)
            .exec_with_returning_many(&self.txn)
            .await?
        else {
            return Ok(Vec::new());
        };
        self.audit_created::<E>(operation, &created).await?;
        Ok(created)
    }

    /// One audit entry per created row, in one statement.
    async fn audit_created<E>(&self, operation: &str, created: &[E::Model]) -> Result<(), DbErr>
    where
        E: Record,
        E::Model: IntoActiveModel<E::ActiveModel> + Sync,
        E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
    {
        let audits: Vec<audit_entry::ActiveModel> = created
            .iter()
            .map(|row| {
                self.audit_row(Change {
                    operation,
                    entity_type: E::AUDIT_TYPE,
                    entity_id: E::audit_id(row),
                    before: None,
                    after: Some(&E::snapshot(row)),
                })
            })
            .collect();
        audit_entry::Entity::insert_many(audits)
            .exec_without_returning(&self.txn)
            .await?;
        Ok(())
    }

    /// Writes the `Set` fields of `changes` to `current`'s row only if the row
    /// is still at `current`'s version, in the same statement that bumps the
    /// version and `updated_at`; re-reads the row and audits the change. A row
    /// that moved on (or went away) is [`UpdateError::Stale`].
    pub async fn update<E>(
        &self,
        operation: &str,
        current: &E::Model,
        changes: E::ActiveModel,
    ) -> Result<E::Model, UpdateError>
    where
        E: Versioned,
        E::Model: IntoActiveModel<E::ActiveModel> + Sync,
        E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
    {
        match self
            .write_versioned::<E>(current, changes, Condition::all())
            .await?
        {
            (true, Some(updated)) => {
                self.audit_update::<E>(operation, current, &updated).await?;
                Ok(updated)
            }
            (_, row) => Err(UpdateError::Stale(row.as_ref().map(E::version))),
        }
    }

    /// [`update`](Self::update) applied only while `guard` still holds for
    /// the row: a job's claim ("still ACTIVE and past its expiry"). `None`
    /// when the row moved on (another version, or no longer due); nothing
    /// is written or audited then.
    pub async fn update_if<E>(
        &self,
        operation: &str,
        current: &E::Model,
        changes: E::ActiveModel,
        guard: Condition,
    ) -> Result<Option<E::Model>, DbErr>
    where
        E: Versioned,
        E::Model: IntoActiveModel<E::ActiveModel> + Sync,
        E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
    {
        let (true, Some(updated)) = self.write_versioned::<E>(current, changes, guard).await?
        else {
            return Ok(None);
        };
        self.audit_update::<E>(operation, current, &updated).await?;
        Ok(Some(updated))
    }

    /// One versioned UPDATE: the row as it is afterwards, and whether this
    /// statement wrote it.
    async fn write_versioned<E>(
        &self,
        current: &E::Model,
        changes: E::ActiveModel,
        guard: Condition,
    ) -> Result<(bool, Option<E::Model>), DbErr>
    where
        E: Versioned,
        E::Model: IntoActiveModel<E::ActiveModel> + Sync,
        E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
    {
        let version = E::version(current);
        let result = E::update_many()
            .set(changes)
            .col_expr(E::version_column(), Expr::value(version + 1))
            .col_expr(E::updated_at_column(), Expr::value(self.now))
            .filter(E::locate(current))
            .filter(E::version_column().eq(version))
            .filter(guard)
            .exec(&self.txn)
            .await?;
        let row = E::find().filter(E::locate(current)).one(&self.txn).await?;
        Ok((result.rows_affected == 1, row))
    }

    /// Writes the `Set` fields of `changes` to a row of a table without a
    /// version (attributions, milestones) and audits the change.
    pub async fn update_unversioned<E>(
        &self,
        operation: &str,
        current: &E::Model,
        changes: E::ActiveModel,
    ) -> Result<E::Model, DbErr>
    where
        E: Record,
        E::Model: IntoActiveModel<E::ActiveModel> + Sync,
        E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
    {
        E::update_many()
            .set(changes)
            .filter(E::locate(current))
            .exec(&self.txn)
            .await?;
        let updated = E::find()
            .filter(E::locate(current))
            .one(&self.txn)
            .await?
            .ok_or_else(|| {
                DbErr::RecordNotFound(format!("{} {}", E::AUDIT_TYPE, E::id(current)))
            })?;
        self.audit_update::<E>(operation, current, &updated).await?;
        Ok(updated)
    }

    /// Writes bookkeeping columns (a notice sent, the recommended tier, an
    /// endpoint's failure streak) while `guard` holds, without touching the
    /// version or `updated_at`: bookkeeping never makes a person's read
    /// stale. Snapshots leave these columns out, so the audit entry, if the
    /// change deserves one, says what was noted. Whether the row was written.
    pub async fn update_bookkeeping<E>(
        &self,
        current: &E::Model,
        changes: E::ActiveModel,
        guard: Condition,
        audit: Option<Bookkeeping<'_>>,
    ) -> Result<bool, DbErr>
    where
        E: Record,
        E::Model: IntoActiveModel<E::ActiveModel> + Sync,
        E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
    {
        if !changes.is_changed() {
            return Ok(false);
        }
        let result = E::update_many()
            .set(changes)
            .filter(E::locate(current))
            .filter(guard)
            .exec(&self.txn)
            .await?;
        let written = result.rows_affected == 1;
        if let (true, Some(noted)) = (written, audit) {
            self.audit(Change {
                operation: noted.operation,
                entity_type: E::AUDIT_TYPE,
                entity_id: E::audit_id(current),
                before: noted.before.as_ref(),
                after: Some(&noted.after),
            })
            .await?;
        }
        Ok(written)
    }

    /// Deletes `current`'s row and audits it.
    pub async fn delete<E>(&self, operation: &str, current: &E::Model) -> Result<(), DbErr>
    where
        E: Record,
        E::Model: IntoActiveModel<E::ActiveModel> + Sync,
        E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
    {
        E::delete_many()
            .filter(E::locate(current))
            .exec(&self.txn)
            .await?;
        self.audit(Change {
            operation,
            entity_type: E::AUDIT_TYPE,
            entity_id: E::audit_id(current),
            before: Some(&E::snapshot(current)),
            after: None,
        })
        .await
    }

    async fn audit_update<E>(
        &self,
        operation: &str,
        before: &E::Model,
        after: &E::Model,
    ) -> Result<(), DbErr>
    where
        E: Record,
        E::Model: IntoActiveModel<E::ActiveModel> + Sync,
        E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
    {
        self.audit(Change {
            operation,
            entity_type: E::AUDIT_TYPE,
            entity_id: E::audit_id(after),
            before: Some(&E::snapshot(before)),
            after: Some(&E::snapshot(after)),
        })
        .await
    }

    async fn audit(&self, change: Change<'_>) -> Result<(), DbErr> {
        self.audit_row(change).insert(&self.txn).await?;
        Ok(())
    }

    fn audit_row(&self, change: Change<'_>) -> audit_entry::ActiveModel {
        audit_entry::ActiveModel {
            id: NotSet,
            occurred_at: Set(self.now),
            actor_kind: Set(self.actor.kind),
            actor_id: Set(self.actor.id),
            token_id: Set(self.actor.token_id),
            request_id: Set(self.actor.request_id.clone()),
            operation: Set(change.operation.to_owned()),
            entity_type: Set(change.entity_type),
            entity_id: Set(change.entity_id),
            changes: Set(diff(change.before, change.after)),
        }
    }

    /// Inserts `rows` and audits each creation, a few statements for all of
    /// them (in chunks the drivers' parameter limits allow): set-based
    /// creation, such as a period's payouts, costs the same for one row or
    /// a thousand.
    pub async fn create_many<E>(&self, operation: &str, rows: Vec<E::Model>) -> Result<(), DbErr>
    where
        E: Record,
        E::Model: IntoActiveModel<E::ActiveModel> + Sync + Clone,
        E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
    {
        for chunk in rows.chunks(500) {
            let audits: Vec<audit_entry::ActiveModel> = chunk
                .iter()
                .map(|row| {
                    self.audit_row(Change {
                        operation,
                        entity_type: E::AUDIT_TYPE,
                        entity_id: E::audit_id(row),
                        before: None,
                        after: Some(&E::snapshot(row)),
                    })
                })
                .collect();
            E::insert_many(
                chunk
                    .iter()
                    .cloned()
                    .map(IntoActiveModel::into_active_model),
            )
            .exec_without_returning(&self.txn)
            .await?;
            audit_entry::Entity::insert_many(audits)
                .exec_without_returning(&self.txn)
                .await?;
        }
        Ok(())
    }

    /// Runs one set-based statement (`INSERT … SELECT`, `UPDATE … WHERE`)
    /// that records bookkeeping of changes this unit audits itself (which
    /// ledger entries a payout gathered); the rows it writes are not audited
    /// one by one. The number of rows written.
    pub async fn execute_set_based(&self, statement: sea_orm::Statement) -> Result<u64, DbErr> {
        Ok(self.txn.execute_raw(statement).await?.rows_affected())
    }

    /// A transaction-scoped PostgreSQL advisory lock on `key`, held until
    /// this unit commits or rolls back (SQLite: its writers are serialised
    /// already). A unit that takes one must take it before any row lock.
    pub async fn lock(&self, key: i64) -> Result<(), DbErr> {
        if self.txn.get_database_backend() == DatabaseBackend::Postgres {
            self.txn
                .query_one_raw(sea_orm::Statement::from_sql_and_values(
                    DatabaseBackend::Postgres,
                    "SELECT pg_advisory_xact_lock($1)",
                    [key.into()],
                ))
                .await?;
        }
        Ok(())
    }

    /// Queues an event; it is written at commit, or never if the unit rolls back.
    pub async fn emit(&self, event: Event) -> Result<(), DbErr> {
        let row = outbox_event::ActiveModel {
            id: NotSet,
            event_id: Set(Uuid::now_v7()),
            event_type: Set(event.event_type),
            occurred_at: Set(self.now),
            actor_kind: Set(self.actor.kind),
            actor_id: Set(self.actor.id),
            subject_type: Set(event.subject_type),
            subject_id: Set(event.subject_id),
            partner_id: Set(event.partner_id),
            payload: Set(event.payload),
        };
        self.events
            .lock()
            .map_err(|_| DbErr::Custom("the outbox buffer was poisoned".into()))?
            .push(row);
        Ok(())
    }

    pub async fn commit(self) -> Result<(), DbErr> {
        let events = self
            .events
            .into_inner()
            .map_err(|_| DbErr::Custom("the outbox buffer was poisoned".into()))?;
        if events.is_empty() {
            return self.txn.commit().await;
        }
        let postgres = self.txn.get_database_backend() == DatabaseBackend::Postgres;
        if postgres {
            self.txn
                .execute_raw(sea_orm::Statement::from_sql_and_values(
                    DatabaseBackend::Postgres,
                    "SELECT pg_advisory_xact_lock($1)",
                    [OUTBOX_LOCK.into()],
                ))
                .await?;
        }
        // In chunks: a bulk import queues more events than one statement's
        // parameters allow.
        let mut events = events.into_iter().peekable();
        while events.peek().is_some() {
            outbox_event::Entity::insert_many(events.by_ref().take(1000))
                .exec_without_returning(&self.txn)
                .await?;
        }
        if postgres {
            // Delivered to every listening replica when (and only if) this commits.
            self.txn
                .execute_unprepared(&format!("NOTIFY {}", signal::CHANNEL))
                .await?;
        }
        self.txn.commit().await?;
        signal::outbox_committed();
        Ok(())
    }
}

/// Why a versioned update wrote nothing.
#[derive(Debug)]
pub enum UpdateError {
    /// The row is no longer at the version that was read: it is now at this
    /// version, or gone (`None`).
    Stale(Option<i32>),
    Db(DbErr),
}

impl From<DbErr> for UpdateError {
    fn from(error: DbErr) -> Self {
        UpdateError::Db(error)
    }
}

/// The changed fields of two JSON object snapshots:
/// `{"field": {"before": …, "after": …}}`. A missing side reads as null.
pub fn diff(before: Option<&Value>, after: Option<&Value>) -> Value {
    let empty = Map::new();
    let as_map = |v: Option<&Value>| v.and_then(Value::as_object).unwrap_or(&empty).clone();
    let (before, after) = (as_map(before), as_map(after));
    let mut fields: Vec<&String> = before.keys().chain(after.keys()).collect();
    fields.sort();
    fields.dedup();
    let changes: Map<String, Value> = fields
        .into_iter()
        .filter(|field| {
            before.get(*field).unwrap_or(&Value::Null) != after.get(*field).unwrap_or(&Value::Null)
        })
        .map(|field| {
            let side = |m: &Map<String, Value>| m.get(field).cloned().unwrap_or(Value::Null);
            (
                field.clone(),
                serde_json::json!({ "before": side(&before), "after": side(&after) }),
            )
        })
        .collect();
    Value::Object(changes)
}

/// Unique constraints that users can run into, by name, with the
/// `table.column` form SQLite reports instead of the name.
/// A constraint whose columns extend another's is listed first, since
/// SQLite's message names the columns only.
const UNIQUE_CONSTRAINTS: &[(&str, &str)] = &[
    ("uq_partner_name_key", "partner.name_key"),
    ("uq_certification_track_code", "certification_track.code"),
    (
        "uq_opportunity_attribution_partner",
        "opportunity_attribution.opportunity_id, opportunity_attribution.partner_id",
    ),
    (
        "uq_opportunity_attribution_sourced",
        "opportunity_attribution.opportunity_id",
    ),
    (
        "uq_certification_contact_track",
        "certification.contact_id, certification.track_id",
    ),
    (
        "uq_deal_registration_pending_domain",
        "deal_registration.partner_id, deal_registration.domain_key",
    ),
    (
        "uq_deal_registration_pending_company",
        "deal_registration.partner_id, deal_registration.company_key",
    ),
    (
        "uq_partner_activity_external_id",
        "partner_activity.partner_id, partner_activity.external_id",
    ),
    (
        "uq_partner_contact_email",
        "partner_contact.partner_id, partner_contact.email",
    ),
    ("staff_user_email_key", "staff_user.email"),
    (
        "pk_partner_external_id",
        "partner_external_id.system, partner_external_id.external_id",
    ),
    (
        "uq_partner_external_id_system",
        "partner_external_id.partner_id, partner_external_id.system",
    ),
    (
        "pk_opportunity_external_id",
        "opportunity_external_id.system, opportunity_external_id.external_id",
    ),
    (
        "uq_opportunity_external_id_system",
        "opportunity_external_id.opportunity_id, opportunity_external_id.system",
    ),
    (
        "uq_incentive_accrual_trigger",
        "incentive_accrual.plan_version_id, incentive_accrual.partner_id",
    ),
    (
        "uq_incentive_plan_version_number",
        "incentive_plan_version.plan_id, incentive_plan_version.number",
    ),
];

/// The name of the unique constraint `error` violated, if it is one we know,
/// so a race between two requests still gets a clean user error.
pub fn violated_unique_constraint(error: &DbErr) -> Option<&'static str> {
    let Some(SqlErr::UniqueConstraintViolation(message)) = error.sql_err() else {
        return None;
    };
    UNIQUE_CONSTRAINTS
        .iter()
        .find(|(name, columns)| message.contains(name) || message.contains(columns))
        .map(|(name, _)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The lint that keeps writes here: every SeaORM write method is denied
    /// in `clippy.toml` (CI runs clippy with `-D warnings`).
    #[test]
    fn clippy_denies_seaorm_writes_outside_the_unit_of_work() {
        let config = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/clippy.toml"));
        let denied = [
            "sea_orm::ActiveModelTrait::insert",
            "sea_orm::ActiveModelTrait::update",
            "sea_orm::ActiveModelTrait::save",
            "sea_orm::ActiveModelTrait::delete",
            "sea_orm::EntityTrait::insert",
            "sea_orm::EntityTrait::insert_many",
            "sea_orm::EntityTrait::update",
            "sea_orm::EntityTrait::update_many",
            "sea_orm::EntityTrait::delete",
            "sea_orm::EntityTrait::delete_many",
            "sea_orm::EntityTrait::delete_by_id",
            "sea_orm::ConnectionTrait::execute",
            "sea_orm::ConnectionTrait::execute_raw",
            "sea_orm::ConnectionTrait::execute_unprepared",
            "sea_orm::sea_query::Query::insert",
            "sea_orm::sea_query::Query::update",
            "sea_orm::sea_query::Query::delete",
        ];
        assert!(config.contains("disallowed-methods"));
        for path in denied {
            assert!(
                config.contains(&format!("path = \"{path}\"")),
                "clippy.toml no longer denies {path}"
            );
        }
    }

    #[test]
    fn diff_lists_only_changed_fields() {
        let before = json!({"name": "Acme", "tier": "BRONZE", "version": 1});
        let after = json!({"name": "Acme", "tier": "GOLD", "version": 2});
        assert_eq!(
            diff(Some(&before), Some(&after)),
            json!({"tier": {"before": "BRONZE", "after": "GOLD"}, "version": {"before": 1, "after": 2}})
        );
        assert_eq!(
            diff(None, Some(&json!({"name": "Acme", "website": null}))),
            json!({"name": {"before": null, "after": "Acme"}})
        );
    }
}
