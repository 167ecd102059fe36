//! Reading the audit log (ADMIN).

use chrono::{DateTime, Utc};
use entity::audit_entry;
use sea_orm::{sea_query::Expr, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::pagination::{paginate, KeyValue, Ordering, Page, PageArgs};
use crate::{
    domain::{EntityType, OrderDirection},
    error::ApiError,
};

#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    /// Only changes to records of this type; `Some(None)` when the type
    /// asked for is none we record, which nothing matches.
    pub entity_type: Option<Option<EntityType>>,
    pub entity_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// Newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: AuditFilter,
    page: PageArgs,
) -> Result<Page<audit_entry::Model>, ApiError> {
    let mut condition = Condition::all();
    match filter.entity_type {
        Some(Some(entity_type)) => {
            condition = condition.add(audit_entry::Column::EntityType.eq(entity_type));
        }
        Some(None) => condition = condition.add(Expr::value(false)),
        None => {}
    }
    if let Some(entity_id) = filter.entity_id {
        condition = condition.add(audit_entry::Column::EntityId.eq(entity_id));
    }
    if let Some(actor_id) = filter.actor_id {
        condition = condition.add(audit_entry::Column::ActorId.eq(actor_id));
    }
    if let Some(from) = filter.from {
        condition = condition.add(audit_entry::Column::OccurredAt.gte(from));
    }
    if let Some(to) = filter.to {
        condition = condition.add(audit_entry::Column::OccurredAt.lt(to));
    }
    let ordering = Ordering {
        key: audit_entry::Column::Id,
        id: audit_entry::Column::Id,
        direction: OrderDirection::Desc,
    };
    paginate(
        db,
        audit_entry::Entity::find().filter(condition),
        ordering,
        page,
        |e| (KeyValue::Int(e.id), KeyValue::Int(e.id)),
    )
    .await
}
