//! OAuth2 clients managed through GraphQL: `ADMIN` for any, `PARTNER_ADMIN`
//! for its own partner's.

use entity::api_client;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect,
    Set,
};
use serde_json::{json, Value};
use uuid::Uuid;

use super::{
    pagination::{paginate, KeyValue, Ordering, Page, PageArgs},
    unit_of_work::UnitOfWork,
    Caller, Outcome,
};
use crate::{
    auth::{
        clients::{self, NewClient},
        token::Secret,
        ScopeSet,
    },
    domain::{
        inputs::DisplayName, OrderDirection, PrincipalKind, Role, RoleKind, UserError,
        UserErrorCode,
    },
    error::ApiError,
    ids::{self, NodeType},
    policy, record,
};

pub async fn list(
    db: &impl ConnectionTrait,
    caller: &Caller<'_>,
    page: PageArgs,
) -> Result<Page<api_client::Model>, ApiError> {
    let select = api_client::Entity::find().filter(policy::api_client_rows(caller.principal));
    let ordering = Ordering {
        key: api_client::Column::CreatedAt,
        id: api_client::Column::Id,
        direction: OrderDirection::Asc,
    };
    paginate(db, select, ordering, page, |c| {
        (KeyValue::Time(c.created_at), KeyValue::Uuid(c.id))
    })
    .await
}

pub async fn find(
    db: &impl ConnectionTrait,
    caller: &Caller<'_>,
    id: Uuid,
) -> Result<Option<api_client::Model>, ApiError> {
    Ok(api_client::Entity::find_by_id(id)
        .filter(policy::api_client_rows(caller.principal))
        .one(db)
        .await?)
}

fn snapshot(c: &api_client::Model) -> Value {
    json!({
        "id": ids::encode(NodeType::ApiClient, c.id),
        "clientId": c.client_id,
        "name": c.name,
        "role": c.role,
        "partnerId": c.partner_id.map(|id| ids::encode(NodeType::Partner, id)),
        "scopes": c.scopes,
        "revokedAt": c.revoked_at,
    })
}

record!(api_client, ApiClient, snapshot);

pub struct NewApiClient {
    pub name: DisplayName,
    pub role: Option<Role>,
    /// Ignored for partner callers: their clients are bound to their own partner.
    pub partner_id: Option<Uuid>,
    pub scopes: ScopeSet,
}

/// Creates a client; the secret in the answer is never shown again.
pub async fn create(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    new: NewApiClient,
) -> Outcome<(api_client::Model, Secret)> {
    let principal = caller.principal;
    let partner_id = principal.partner_for(new.partner_id);
    let role = new.role.unwrap_or(if partner_id.is_some() {
        Role::PartnerAdmin
    } else {
        Role::Admin
    });
    let partner_role = role.kind() == PrincipalKind::Partner;
    if partner_role != partner_id.is_some() {
        let message = if partner_role {
            "a partner role needs `partnerId`"
        } else {
            "a client bound to a partner needs a partner role"
        };
        return Err(UserError::on_field("role", UserErrorCode::InvalidValue, message).into());
    }
    // Nobody hands out more than they hold.
    if let Some(extra) = new.scopes.iter().find(|s| !principal.scopes.contains(*s)) {
        return Err(UserError::on_field(
            "scopes",
            UserErrorCode::InvalidValue,
            format!("you cannot grant `{extra}`, which your token lacks"),
        )
        .into());
    }
    if new.scopes.iter().next().is_none() {
        return Err(UserError::on_field(
            "scopes",
            UserErrorCode::InvalidValue,
            "give at least one scope",
        )
        .into());
    }
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    if let Some(partner_id) = partner_id {
        super::partners::require(uow.conn(), caller, partner_id).await?;
    }
    let client = NewClient {
        name: new.name.into_inner(),
        role,
        partner_id,
        scopes: new.scopes,
        created_by: principal.staff_user_id,
    };
    let (row, secret) = clients::new_client(client, uow.now());
    let created = uow
        .create::<api_client::Entity>("createApiClient", row)
        .await?;
    uow.commit().await?;
    Ok((created, secret))
}

/// Revokes a client and every token it holds, at once.
pub async fn revoke(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    id: Uuid,
) -> Outcome<api_client::Model> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    // Locked, so a concurrent revocation waits and finds it revoked.
    let current = api_client::Entity::find_by_id(id)
        .filter(policy::api_client_rows(caller.principal))
        .lock_exclusive()
        .one(uow.conn())
        .await?;
    let Some(current) = current else {
        return Err(UserError::on_field(
            "id",
            UserErrorCode::NotFound,
            "no API client has this id",
        )
        .into());
    };
    let now = uow.now();
    // Revoking a revoked client changes nothing (its tokens went with it).
    let revoked = match current.revoked_at {
        Some(_) => current,
        None => {
            let mut changed = current.clone().into_active_model();
            changed.revoked_at = Set(Some(now));
            uow.update_unversioned::<api_client::Entity>("revokeApiClient", &current, changed)
                .await?
        }
    };
    clients::revoke_tokens_of(uow.conn(), id, now).await?;
    uow.commit().await?;
    // Only now: a lookup racing the commit must not keep the token alive.
    crate::auth::cache::tokens_revoked(db).await;
    Ok(revoked)
}
