//! The audit log (SPEC §4.7), for `ADMIN` only.

use async_graphql::{Context, InputObject, Json, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use entity::audit_entry;

use super::{
    connection::{connection, page_args},
    context,
};
use crate::{
    auth::Action,
    domain::EntityType,
    error::{ApiError, ApiResult},
    ids,
    service::audit::{self as service, AuditFilter},
};

/// One audited change.
#[derive(SimpleObject)]
pub struct AuditEntry {
    /// When the change happened.
    pub occurred_at: DateTime<Utc>,
    /// `STAFF`, `PARTNER` or `SYSTEM`.
    pub actor_kind: String,
    /// The person who made the change, when one was behind the token: a
    /// staff user (`STAFF`), or the partner contact a portal acted for (`PARTNER`).
    pub actor_id: Option<ID>,
    /// The access token the change was made with.
    pub token_id: Option<String>,
    /// The id of the HTTP request that made the change.
    pub request_id: Option<String>,
    /// The mutation or job, e.g. `updatePartner`.
    pub operation: String,
    /// The type of the changed record, e.g. `Partner`.
    pub entity_type: String,
    /// The id of the changed record (a global id where the type has one).
    pub entity_id: String,
    /// The changed fields: `{"field": {"before": …, "after": …}}`.
    pub changes: Json<serde_json::Value>,
}

impl From<audit_entry::Model> for AuditEntry {
    fn from(e: audit_entry::Model) -> Self {
        let entity_id = match e.entity_type {
            EntityType::Partner => ids::encode(ids::NodeType::Partner, e.entity_id),
            EntityType::PartnerContact => ids::encode(ids::NodeType::PartnerContact, e.entity_id),
            _ => e.entity_id.to_string(),
        };
        Self {
            occurred_at: e.occurred_at,
            actor_kind: e.actor_kind.to_string(),
            actor_id: e.actor_id.map(|id| {
                let person = match e.actor_kind {
                    crate::domain::ActorKind::Partner => ids::NodeType::PartnerContact,
                    _ => ids::NodeType::StaffUser,
                };
                ID(ids::encode(person, id))
            }),
            token_id: e.token_id.map(|id| id.to_string()),
            request_id: e.request_id,
            operation: e.operation,
            entity_type: e.entity_type.to_string(),
            entity_id,
            changes: Json(e.changes),
        }
    }
}

connection!(
    AuditEntryConnection,
    AuditEntryEdge,
    AuditEntry,
    "audit entries"
);

/// Narrows the audit log; all given conditions must hold.
#[derive(InputObject, Default)]
pub struct AuditLogFilter {
    /// Only changes to records of this type, e.g. `Partner`.
    pub entity_type: Option<String>,
    /// Only changes to this record (its global id).
    pub entity_id: Option<ID>,
    /// Only changes made by this person (a staff user's or partner contact's global id).
    pub actor_id: Option<ID>,
    /// Only changes at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Only changes before this time.
    pub to: Option<DateTime<Utc>>,
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// Every audited change, newest first. Needs `ADMIN` and the `admin` scope.
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions the entries must meet.")] filter: Option<AuditLogFilter>,
        #[graphql(desc = "Return the first n entries (at most 100; default 20).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Return entries after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n entries (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Return entries before this cursor.")] before: Option<String>,
    ) -> ApiResult<AuditEntryConnection> {
        let request = context::request(ctx)?;
        request.principal.authorize(Action::ReadAuditLog)?;
        let filter = filter.unwrap_or_default();
        let global = |id: Option<ID>, field: &str| -> ApiResult<Option<uuid::Uuid>> {
            id.map(|id| {
                ids::decode(&id)
                    .map(|(_, uuid)| uuid)
                    .ok_or_else(|| ApiError::BadUserInput(format!("`{field}` is not an id")))
            })
            .transpose()
        };
        let filter = AuditFilter {
            entity_type: filter.entity_type.map(|name| name.parse().ok()),
            entity_id: global(filter.entity_id, "entityId")?,
            actor_id: global(filter.actor_id, "actorId")?,
            from: filter.from,
            to: filter.to,
        };
        let page = service::list(
            context::db(ctx)?,
            filter,
            page_args(ctx, first, after, last, before),
        )
        .await?;
        Ok(AuditEntryConnection::from_page(page, AuditEntry::from))
    }
}
