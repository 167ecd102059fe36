//! What the unit of work needs to know about a table to write it: the type
//! name its audit entries carry, a row's id, its snapshot, and (for tables
//! with optimistic locking) the `version` and `updated_at` columns.
//!
//! A service declares its tables with [`record!`] or [`versioned_record!`]
//! next to the snapshot function they use, so how a row is audited is
//! written once, where the row's meaning is known.

use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, EntityTrait, IntoActiveModel};
use serde_json::Value;
use uuid::Uuid;

/// A table whose rows are written through the unit of work and audited.
pub trait Record: EntityTrait
where
    Self::Model: IntoActiveModel<Self::ActiveModel> + Sync,
    Self::ActiveModel: ActiveModelTrait<Entity = Self> + Send,
{
    /// The entity type of its audit entries, e.g. `Partner`.
    const AUDIT_TYPE: crate::domain::EntityType;

    fn id(row: &Self::Model) -> Uuid;
    fn id_column() -> Self::Column;

    /// Where the row is, for its update, delete and re-read: its id, unless
    /// the table is keyed otherwise (an exchange rate by its currency).
    fn locate(row: &Self::Model) -> Condition {
        Condition::all().add(Self::id_column().eq(Self::id(row)))
    }

    /// The id the audit entry names: the row's own, unless the row is a
    /// part of another entity (an attribution is a change of its opportunity).
    fn audit_id(row: &Self::Model) -> Uuid {
        Self::id(row)
    }

    /// The full (internal) view the audit entry stores before and after.
    fn snapshot(row: &Self::Model) -> Value;
}

/// A table with optimistic locking: every update checks and bumps `version`
/// in the same statement, so no change is silently lost.
pub trait Versioned: Record
where
    Self::Model: IntoActiveModel<Self::ActiveModel> + Sync,
    Self::ActiveModel: ActiveModelTrait<Entity = Self> + Send,
{
    fn version(row: &Self::Model) -> i32;
    fn version_column() -> Self::Column;
    fn updated_at_column() -> Self::Column;
}

/// Declares `$entity` (a module of the `entity` crate with an `id` column)
/// as a [`Record`] audited as `$audit_type`, snapshotted by `$snapshot`.
#[macro_export]
macro_rules! record {
    ($entity:ident, $audit_type:ident, $snapshot:path) => {
        impl $crate::unit_of_work::Record for entity::$entity::Entity {
            const AUDIT_TYPE: $crate::domain::EntityType = $crate::domain::EntityType::$audit_type;

            fn id(row: &entity::$entity::Model) -> uuid::Uuid {
                row.id
            }

            fn id_column() -> entity::$entity::Column {
                entity::$entity::Column::Id
            }

            fn snapshot(row: &entity::$entity::Model) -> serde_json::Value {
                $snapshot(row)
            }
        }
    };
}

/// [`record!`] for a table with `version` and `updated_at` columns.
#[macro_export]
macro_rules! versioned_record {
    ($entity:ident, $audit_type:ident, $snapshot:path) => {
        $crate::record!($entity, $audit_type, $snapshot);

        impl $crate::unit_of_work::Versioned for entity::$entity::Entity {
            fn version(row: &entity::$entity::Model) -> i32 {
                row.version
            }

            fn version_column() -> entity::$entity::Column {
                entity::$entity::Column::Version
            }

            fn updated_at_column() -> entity::$entity::Column {
                entity::$entity::Column::UpdatedAt
            }
        }
    };
}
