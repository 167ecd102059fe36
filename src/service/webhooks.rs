//! Webhook endpoints and their deliveries: staff endpoints (any event type)
//! and a partner's own (its partner-visible events, in the partner view).
//! Every change goes through the unit of work and is audited; secrets are
//! never written to the audit log.

use super::set_if;
use entity::{outbox_event, webhook_attempt, webhook_delivery, webhook_endpoint};
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set,
};
use serde_json::json;
use std::collections::HashMap;
use url::Url;
use uuid::Uuid;

use super::{
    pagination::{paginate, paginate_per_parent, KeyValue, NestedPages, Ordering, Page, PageArgs},
    unit_of_work::{UnitOfWork, UpdateError},
    Caller, Failure, Outcome,
};
use crate::{
    domain::{OrderDirection, UserError, UserErrorCode},
    error::ApiError,
    policy::{self, partner_view, RowScope},
    record,
    secrets::SecretKeys,
    webhooks::{self, dispatch, signing, DeliveryStatus, DisabledReason, EventType},
};

/// Whether an endpoint may receive `event_type`: not `webhook.test` (that
/// goes out only through `sendTestWebhook`), and for a partner's endpoint
/// only types partners may see.
fn subscribable(event_type: EventType, for_partner: bool) -> bool {
    event_type != EventType::WebhookTest
        && (!for_partner || partner_view::event_visible(event_type))
}

fn refuse_event_types(message: String) -> UserError {
    UserError::on_field("eventTypes", UserErrorCode::InvalidValue, message)
}

fn not_subscribable(name: impl std::fmt::Display) -> UserError {
    refuse_event_types(format!(
        "`{name}` is not an event type you can subscribe to"
    ))
}

/// The event types a client named for an endpoint: known and
/// [`subscribable`] by some endpoint, at least one. Deduplicated, in the
/// order given. Whether a partner's endpoint may have them is the service's
/// check, with the same message.
pub fn parse_event_types(types: &[String]) -> Result<Vec<EventType>, UserError> {
    let for_partner = false;
    let mut chosen: Vec<EventType> = Vec::new();
    for name in types.iter().map(|t| t.trim()) {
        let Some(event_type) = name.parse().ok().filter(|t| subscribable(*t, for_partner)) else {
            return Err(not_subscribable(name));
        };
        if !chosen.contains(&event_type) {
            chosen.push(event_type);
        }
    }
    check_event_types(&chosen, for_partner)?;
    Ok(chosen)
}

/// The rule of [`parse_event_types`], for event types already parsed.
fn check_event_types(types: &[EventType], for_partner: bool) -> Result<(), UserError> {
    if let Some(refused) = types.iter().find(|t| !subscribable(**t, for_partner)) {
        return Err(not_subscribable(refused));
    }
    if types.is_empty() {
        return Err(refuse_event_types("choose at least one event type".into()));
    }
    Ok(())
}

/// A description: optional, at most 500 characters; blank reads as none.
pub fn parse_description(text: &str) -> Result<Option<String>, UserError> {
    let text = text.trim();
    if text.chars().count() > 500 {
        return Err(UserError::on_field(
            "description",
            UserErrorCode::InvalidValue,
            "must be at most 500 characters",
        ));
    }
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

/// The endpoints `caller` may manage: all for staff, its own partner's for partners.
fn endpoint_rows(caller: &Caller<'_>) -> Condition {
    policy::webhook_endpoint_rows(caller.principal)
}

pub async fn list(
    db: &impl ConnectionTrait,
    caller: &Caller<'_>,
    page: PageArgs,
) -> Result<Page<webhook_endpoint::Model>, ApiError> {
    let select = webhook_endpoint::Entity::find().filter(endpoint_rows(caller));
    let ordering = Ordering {
        key: webhook_endpoint::Column::CreatedAt,
        id: webhook_endpoint::Column::Id,
        direction: OrderDirection::Asc,
    };
    paginate(db, select, ordering, page, |e| {
        (KeyValue::Time(e.created_at), KeyValue::Uuid(e.id))
    })
    .await
}

pub async fn find(
    db: &impl ConnectionTrait,
    caller: &Caller<'_>,
    id: Uuid,
) -> Result<Option<webhook_endpoint::Model>, ApiError> {
    Ok(webhook_endpoint::Entity::find_by_id(id)
        .filter(endpoint_rows(caller))
        .one(db)
        .await?)
}

/// `WebhookEndpoint.deliveries`: each endpoint's deliveries, newest first,
/// optionally of one status. The endpoints are the caller's already (the
/// parent field is row-scoped), so the scope adds nothing here.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeliveriesOfEndpoint {
    pub status: Option<DeliveryStatus>,
}

impl NestedPages for DeliveriesOfEndpoint {
    type Row = webhook_delivery::Model;

    async fn pages(
        &self,
        db: &DatabaseConnection,
        _scope: RowScope,
        endpoints: &[Uuid],
        page: PageArgs,
    ) -> Result<HashMap<Uuid, Page<webhook_delivery::Model>>, ApiError> {
        let mut select = webhook_delivery::Entity::find();
        if let Some(status) = self.status {
            select = select.filter(webhook_delivery::Column::Status.eq(status));
        }
        paginate_per_parent(
            db,
            select,
            Expr::col((
                webhook_delivery::Entity,
                webhook_delivery::Column::EndpointId,
            )),
            endpoints,
            |select| select,
            Ordering {
                key: webhook_delivery::Column::CreatedAt,
                id: webhook_delivery::Column::Id,
                direction: OrderDirection::Desc,
            },
            page,
            |d: &webhook_delivery::Model| (KeyValue::Time(d.created_at), KeyValue::Uuid(d.id)),
        )
        .await
    }
}

/// A delivery, if its endpoint is one `caller` may manage.
pub async fn find_delivery(
    db: &impl ConnectionTrait,
    caller: &Caller<'_>,
    id: Uuid,
) -> Result<Option<webhook_delivery::Model>, ApiError> {
    let mine = webhook_endpoint::Entity::find()
        .select_only()
        .column(webhook_endpoint::Column::Id)
        .filter(endpoint_rows(caller))
        .into_query();
    Ok(webhook_delivery::Entity::find_by_id(id)
        .filter(webhook_delivery::Column::EndpointId.in_subquery(mine))
        .one(db)
        .await?)
}

/// A delivery's attempts, oldest first.
pub async fn attempts(
    db: &impl ConnectionTrait,
    delivery_id: Uuid,
) -> Result<Vec<webhook_attempt::Model>, ApiError> {
    Ok(webhook_attempt::Entity::find()
        .filter(webhook_attempt::Column::DeliveryId.eq(delivery_id))
        .order_by_asc(webhook_attempt::Column::AttemptedAt)
        .order_by_asc(webhook_attempt::Column::Id)
        .all(db)
        .await?)
}

pub struct NewEndpoint {
    /// Already through the SSRF guard.
    pub url: Url,
    /// Parsed by [`parse_event_types`].
    pub event_types: Vec<EventType>,
    pub description: Option<String>,
}

fn not_found() -> Failure {
    UserError::on_field(
        "id",
        UserErrorCode::NotFound,
        "no webhook endpoint has this id",
    )
    .into()
}

/// Registers an endpoint; the secret in the answer is never shown again.
pub async fn create(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    new: NewEndpoint,
    keys: &SecretKeys,
) -> Outcome<(webhook_endpoint::Model, String)> {
    let partner_id = match crate::policy::RowScope::of(caller.principal) {
        crate::policy::RowScope::Everything => None,
        crate::policy::RowScope::Partner(partner) => Some(partner),
        crate::policy::RowScope::Nothing => {
            return Err(ApiError::Forbidden("the token is bound to no partner".into()).into())
        }
    };
    check_event_types(&new.event_types, partner_id.is_some())?;
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    // Outbox ids become visible in commit order, so every event after the
    // highest id seen now commits after this endpoint exists.
    let starts_after: Option<i64> = outbox_event::Entity::find()
        .select_only()
        .expr(Expr::col(outbox_event::Column::Id).max())
        .into_tuple()
        .one(uow.conn())
        .await?
        .flatten();
    let secret = signing::new_secret();
    let now = uow.now();
    let id = Uuid::now_v7();
    let row = webhook_endpoint::ActiveModel {
        id: Set(id),
        partner_id: Set(partner_id),
        url: Set(new.url.to_string()),
        description: Set(new.description),
        event_types: Set(webhooks::stored_event_types(&new.event_types)),
        enabled: Set(true),
        disabled_reason: Set(None),
        secret: Set(keys.seal(&secret, &webhooks::secrets::row(id))),
        previous_secret: Set(None),
        previous_secret_expires_at: Set(None),
        failing_since: Set(None),
        starts_after_event: Set(starts_after.unwrap_or(0)),
        version: Set(1),
        created_by: Set(caller.principal.staff_user_id),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let created = uow
        .create::<webhook_endpoint::Entity>("createWebhookEndpoint", row)
        .await?;
    uow.commit().await?;
    Ok((created, secret))
}

/// Changes to an endpoint; `None` leaves a field as it is.
#[derive(Default)]
pub struct EndpointChanges {
    pub url: Option<Url>,
    /// Parsed by [`parse_event_types`].
    pub event_types: Option<Vec<EventType>>,
    pub description: Option<Option<String>>,
    pub enabled: Option<bool>,
}

async fn load_for_change(
    uow: &UnitOfWork,
    caller: &Caller<'_>,
    id: Uuid,
    expected_version: Option<i32>,
) -> Outcome<webhook_endpoint::Model> {
    let current = find(uow.conn(), caller, id).await?.ok_or_else(not_found)?;
    match expected_version {
        Some(expected) if expected != current.version => Err(stale_version(current.version)),
        _ => Ok(current),
    }
}

fn stale_version(current: i32) -> Failure {
    UserError::on_field(
        "expectedVersion",
        UserErrorCode::StaleVersion,
        format!("the endpoint changed since you read it; it is now at version {current}"),
    )
    .into()
}

/// Writes `changed` only if the row is still at `current.version`.
async fn save(
    uow: &UnitOfWork,
    operation: &str,
    current: &webhook_endpoint::Model,
    changed: webhook_endpoint::ActiveModel,
) -> Outcome<webhook_endpoint::Model> {
    uow.update::<webhook_endpoint::Entity>(operation, current, changed)
        .await
        .map_err(|error| match error {
            UpdateError::Stale(Some(version)) => stale_version(version),
            UpdateError::Stale(None) => not_found(),
            UpdateError::Db(error) => error.into(),
        })
}

pub async fn update(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    id: Uuid,
    expected_version: Option<i32>,
    changes: EndpointChanges,
) -> Outcome<webhook_endpoint::Model> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let current = load_for_change(&uow, caller, id, expected_version).await?;
    if let Some(types) = &changes.event_types {
        // A partner's endpoint receives partner-visible types only, whoever edits it.
        check_event_types(types, current.partner_id.is_some())?;
    }
    let mut changed = webhook_endpoint::ActiveModel::default();
    set_if(&mut changed.url, changes.url.map(|url| url.to_string()));
    set_if(
        &mut changed.event_types,
        changes
            .event_types
            .map(|types| webhooks::stored_event_types(&types)),
    );
    set_if(&mut changed.description, changes.description);
    match changes.enabled {
        // Re-enabling starts afresh: no reason, no failure streak.
        Some(true) if !current.enabled => {
            changed.enabled = Set(true);
            changed.disabled_reason = Set(None);
            changed.failing_since = Set(None);
        }
        Some(false) if current.enabled => {
            changed.enabled = Set(false);
            changed.disabled_reason = Set(Some(DisabledReason::Manual));
        }
        _ => {}
    }
    let updated = save(&uow, "updateWebhookEndpoint", &current, changed).await?;
    uow.commit().await?;
    Ok(updated)
}

/// Deletes an endpoint with its deliveries and their attempts.
pub async fn delete(db: &DatabaseConnection, caller: &Caller<'_>, id: Uuid) -> Outcome<Uuid> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let current = load_for_change(&uow, caller, id, None).await?;
    dispatch::delete_deliveries(uow.conn(), id).await?;
    uow.delete::<webhook_endpoint::Entity>("deleteWebhookEndpoint", &current)
        .await?;
    uow.commit().await?;
    Ok(id)
}

/// A new signing secret; the old one keeps signing for 24 hours so
/// receivers can switch without losing a delivery.
pub async fn rotate_secret(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    id: Uuid,
    keys: &SecretKeys,
) -> Outcome<(webhook_endpoint::Model, String)> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let current = load_for_change(&uow, caller, id, None).await?;
    let secret = signing::new_secret();
    // Sealed afresh with the current key, whichever key sealed it before.
    let row = webhooks::secrets::row(current.id);
    let previous = keys
        .open(&current.secret, &row)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("cannot open the signing secret: {e}")))?;
    let changed = webhook_endpoint::ActiveModel {
        secret: Set(keys.seal(&secret, &row)),
        previous_secret: Set(Some(keys.seal(&previous, &row))),
        previous_secret_expires_at: Set(Some(uow.now() + webhooks::ROTATION_OVERLAP)),
        ..Default::default()
    };
    let updated = save(&uow, "rotateWebhookSecret", &current, changed).await?;
    uow.commit().await?;
    Ok((updated, secret))
}

/// A `webhook.test` delivery to this endpoint only, due at once.
pub async fn send_test(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    id: Uuid,
) -> Outcome<webhook_delivery::Model> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let endpoint = load_for_change(&uow, caller, id, None).await?;
    let now = uow.now();
    let data = json!({ "message": "A test event from PartnerGraph." });
    let body = dispatch::body(EventType::WebhookTest, now, data);
    let row = dispatch::new_delivery(endpoint.id, None, EventType::WebhookTest, body, now);
    let delivery = uow
        .create::<webhook_delivery::Entity>("sendTestWebhook", row)
        .await?;
    uow.commit().await?;
    webhooks::deliveries_added();
    Ok(delivery)
}

fn delivery_snapshot(delivery: &webhook_delivery::Model) -> serde_json::Value {
    json!({
        "eventType": delivery.event_type,
        "status": delivery.status,
        "attemptCount": delivery.attempt_count,
        "nextAttemptAt": delivery.next_attempt_at,
    })
}

record!(webhook_delivery, WebhookDelivery, delivery_snapshot);

/// Sends a delivery again: pending and due now, with a fresh retry
/// schedule and the same `webhook-id` (so receivers still dedupe). Its
/// earlier attempts stay on record.
pub async fn redeliver(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    id: Uuid,
) -> Outcome<webhook_delivery::Model> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let Some(current) = find_delivery(uow.conn(), caller, id).await? else {
        return Err(UserError::on_field(
            "id",
            UserErrorCode::NotFound,
            "no webhook delivery has this id",
        )
        .into());
    };
    let mut changed = current.clone().into_active_model();
    changed.status = Set(DeliveryStatus::Pending);
    changed.attempt_count = Set(0);
    changed.next_attempt_at = Set(Some(uow.now()));
    changed.lease_until = Set(None);
    changed.leased_by = Set(None);
    let updated = uow
        .update_unversioned::<webhook_delivery::Entity>(
            "redeliverWebhookDelivery",
            &current,
            changed,
        )
        .await?;
    uow.commit().await?;
    webhooks::deliveries_added();
    Ok(updated)
}
