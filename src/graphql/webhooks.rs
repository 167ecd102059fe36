//! Webhooks: `webhookEndpoints`, the endpoint mutations, deliveries with
//! their attempts, `sendTestWebhook` and `redeliverWebhookDelivery`.

use async_graphql::{
    ComplexObject, Context, Enum, InputObject, Json, MaybeUndefined, Object, SimpleObject, ID,
};
use chrono::{DateTime, Utc};
use entity::{webhook_attempt, webhook_delivery, webhook_endpoint};

use super::{
    connection::{connection, page_args},
    context,
    partners::Partner,
    payload::{input_id, mutate, InputCheck},
};
use crate::{
    auth::Action,
    domain::{inputs::InvalidInput, UserError},
    error::{ApiError, ApiResult},
    events,
    ids::{self, NodeType},
    service::{webhooks as service, Failure},
    webhooks::target::TargetPolicy,
};

/// Where a webhook delivery stands.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::DeliveryStatus")]
pub enum WebhookDeliveryStatus {
    /// Not delivered yet; `nextAttemptAt` says when it is tried (again).
    Pending,
    /// The receiver answered 2xx.
    Succeeded,
    /// Every attempt failed (or the endpoint was disabled); `redeliverWebhookDelivery` sends it again.
    Failed,
}

/// Why a webhook endpoint stopped receiving events.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::DisabledReason")]
pub enum WebhookDisabledReason {
    /// Turned off with `updateWebhookEndpoint(input: {enabled: false})`.
    Manual,
    /// The receiver answered `410 Gone`.
    Gone,
    /// Every attempt failed for five days.
    Failing,
}

/// A URL that receives signed event deliveries (Standard Webhooks).
pub struct WebhookEndpoint(webhook_endpoint::Model);

impl From<webhook_endpoint::Model> for WebhookEndpoint {
    fn from(model: webhook_endpoint::Model) -> Self {
        Self(model)
    }
}

/// A URL that receives signed event deliveries (Standard Webhooks).
#[Object]
impl WebhookEndpoint {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::WebhookEndpoint, self.0.id))
    }

    /// Where deliveries are POSTed.
    async fn url(&self) -> &str {
        &self.0.url
    }

    /// What the endpoint is for.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// The event types it receives.
    async fn event_types(&self) -> Vec<String> {
        crate::webhooks::event_types(&self.0)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    /// Whether it receives deliveries.
    async fn enabled(&self) -> bool {
        self.0.enabled
    }

    /// Why it is disabled; null while enabled.
    async fn disabled_reason(&self) -> Option<WebhookDisabledReason> {
        self.0.disabled_reason.map(Into::into)
    }

    /// Since when every attempt has failed; null when the last one succeeded.
    /// Five days of failure disable the endpoint.
    async fn failing_since(&self) -> Option<DateTime<Utc>> {
        self.0.failing_since
    }

    /// Until when the secret before the last rotation still signs deliveries too.
    async fn previous_secret_expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.previous_secret_expires_at
    }

    /// The partner whose events it receives, in their partner view; null for a staff endpoint.
    async fn partner(&self, ctx: &Context<'_>) -> ApiResult<Option<Partner>> {
        let Some(id) = self.0.partner_id else {
            return Ok(None);
        };
        Partner::load(ctx, id).await
    }

    /// When it was registered.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// Increases with every change; pass it as `expectedVersion` to update safely.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// Its deliveries, newest first.
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only deliveries with this status.")] status: Option<
            WebhookDeliveryStatus,
        >,
        #[graphql(desc = "Return the first n deliveries (at most 100; default 20).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Return deliveries after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n deliveries (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Return deliveries before this cursor.")] before: Option<String>,
    ) -> ApiResult<WebhookDeliveryConnection> {
        let page = super::loaders::nested_page(
            ctx,
            service::DeliveriesOfEndpoint {
                status: status.map(Into::into),
            },
            self.0.id,
            page_args(ctx, first, after, last, before),
        )
        .await?;
        Ok(WebhookDeliveryConnection::from_page(page, WebhookDelivery))
    }
}

/// One event sent (or to be sent) to one endpoint.
pub struct WebhookDelivery(webhook_delivery::Model);

impl From<webhook_delivery::Model> for WebhookDelivery {
    fn from(model: webhook_delivery::Model) -> Self {
        Self(model)
    }
}

/// One event sent (or to be sent) to one endpoint.
#[Object]
impl WebhookDelivery {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::WebhookDelivery, self.0.id))
    }

    /// The `webhook-id` header of every attempt: the same each time, so receivers dedupe.
    async fn webhook_id(&self) -> String {
        crate::webhooks::deliver::message_id(self.0.id)
    }

    /// The event type, e.g. `deal_registration.status_changed`.
    async fn event_type(&self) -> String {
        self.0.event_type.to_string()
    }

    /// The event's feed cursor; null for `webhook.test`.
    async fn event_cursor(&self) -> Option<String> {
        self.0.outbox_event_id.map(events::encode_cursor)
    }

    /// Where it stands.
    async fn status(&self) -> WebhookDeliveryStatus {
        self.0.status.into()
    }

    /// The body as sent: `{type, timestamp, data}`, `data` in the endpoint's view.
    async fn payload(&self) -> ApiResult<Json<serde_json::Value>> {
        serde_json::from_str(&self.0.body)
            .map(Json)
            .map_err(ApiError::internal)
    }

    /// How many attempts were made since it was (re)delivered.
    async fn attempt_count(&self) -> i32 {
        self.0.attempt_count
    }

    /// When the next attempt is due; null unless pending.
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        self.0.next_attempt_at
    }

    /// When the last attempt was made.
    async fn last_attempt_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_attempt_at
    }

    /// When the event was queued for this endpoint.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// Every attempt, oldest first.
    async fn attempts(&self, ctx: &Context<'_>) -> ApiResult<Vec<WebhookAttempt>> {
        Ok(service::attempts(context::db(ctx)?, self.0.id)
            .await?
            .into_iter()
            .map(WebhookAttempt::from)
            .collect())
    }
}

/// One HTTP request of a delivery.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct WebhookAttempt {
    /// When it was made.
    pub attempted_at: DateTime<Utc>,
    /// The receiver's HTTP status; null when no response came (refused, timed out, unreachable).
    pub status_code: Option<i32>,
    /// How long it took, in milliseconds.
    pub latency_ms: i32,
    /// Why it failed; null on success.
    pub error: Option<String>,
}

#[ComplexObject]
impl WebhookAttempt {
    /// Whether the receiver answered 2xx.
    async fn succeeded(&self) -> bool {
        self.status_code.is_some_and(|c| (200..300).contains(&c))
    }
}

impl From<webhook_attempt::Model> for WebhookAttempt {
    fn from(model: webhook_attempt::Model) -> Self {
        Self {
            attempted_at: model.attempted_at,
            status_code: model.status_code,
            latency_ms: model.latency_ms,
            error: model.error,
        }
    }
}

connection!(
    WebhookEndpointConnection,
    WebhookEndpointEdge,
    WebhookEndpoint,
    "webhook endpoints"
);
connection!(
    WebhookDeliveryConnection,
    WebhookDeliveryEdge,
    WebhookDelivery,
    "webhook deliveries"
);

#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// Webhook endpoints: all for staff, a partner's own for its `PARTNER_ADMIN`. Needs the `webhooks:manage` scope.
    async fn webhook_endpoints(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n endpoints (at most 100; default 20).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Return endpoints after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n endpoints (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Return endpoints before this cursor.")] before: Option<String>,
    ) -> ApiResult<WebhookEndpointConnection> {
        let request = context::request(ctx)?;
        request.principal.authorize(Action::ManageWebhooks)?;
        let page = service::list(
            context::db(ctx)?,
            &request.caller(),
            page_args(ctx, first, after, last, before),
        )
        .await?;
        Ok(WebhookEndpointConnection::from_page(page, WebhookEndpoint))
    }
}

/// A new webhook endpoint.
#[derive(InputObject)]
pub struct CreateWebhookEndpointInput {
    /// An `https` URL that does not point at an internal address.
    pub url: String,
    /// The event types to receive, e.g. `["deal_registration.status_changed"]`.
    /// Partners may choose only the types they can see.
    pub event_types: Vec<String>,
    /// What the endpoint is for.
    pub description: Option<String>,
}

/// The result of `createWebhookEndpoint`.
#[derive(SimpleObject)]
pub struct CreateWebhookEndpointPayload {
    /// The new endpoint, unless `userErrors` says why not.
    pub webhook_endpoint: Option<WebhookEndpoint>,
    /// The signing secret (`whsec_…`). Shown this once.
    pub secret: Option<String>,
    /// Why the input was refused; empty on success.
    pub user_errors: Vec<UserError>,
}

/// Changes to a webhook endpoint; absent fields stay as they are.
#[derive(InputObject)]
pub struct UpdateWebhookEndpointInput {
    /// The endpoint's global id.
    pub id: ID,
    /// The `version` you read; a newer one refuses the change with `STALE_VERSION`.
    pub expected_version: Option<i32>,
    /// A new `https` URL.
    pub url: Option<String>,
    /// The event types to receive from now on.
    pub event_types: Option<Vec<String>>,
    /// What the endpoint is for; null clears it.
    pub description: MaybeUndefined<String>,
    /// Turn deliveries on or off. Turning on clears the disabled reason and the failure streak.
    pub enabled: Option<bool>,
}

/// Which webhook endpoint.
#[derive(InputObject)]
pub struct WebhookEndpointIdInput {
    /// The endpoint's global id.
    pub id: ID,
}

/// Which webhook delivery.
#[derive(InputObject)]
pub struct WebhookDeliveryIdInput {
    /// The delivery's global id.
    pub id: ID,
}

/// The result of a change to a webhook endpoint.
#[derive(SimpleObject)]
pub struct WebhookEndpointPayload {
    /// The endpoint as it is now, unless `userErrors` says why not.
    pub webhook_endpoint: Option<WebhookEndpoint>,
    /// Why the input was refused; empty on success.
    pub user_errors: Vec<UserError>,
}

/// The result of `deleteWebhookEndpoint`.
#[derive(SimpleObject)]
pub struct DeleteWebhookEndpointPayload {
    /// The id of the deleted endpoint, unless `userErrors` says why not.
    pub deleted_webhook_endpoint_id: Option<ID>,
    /// Why the input was refused; empty on success.
    pub user_errors: Vec<UserError>,
}

/// The result of `rotateWebhookSecret`.
#[derive(SimpleObject)]
pub struct RotateWebhookSecretPayload {
    /// The endpoint, unless `userErrors` says why not.
    pub webhook_endpoint: Option<WebhookEndpoint>,
    /// The new signing secret (`whsec_…`). Shown this once; the old one also signs for 24 hours.
    pub secret: Option<String>,
    /// Why the input was refused; empty on success.
    pub user_errors: Vec<UserError>,
}

/// The result of `sendTestWebhook` and `redeliverWebhookDelivery`.
#[derive(SimpleObject)]
pub struct WebhookDeliveryPayload {
    /// The delivery, due now, unless `userErrors` says why not.
    pub webhook_delivery: Option<WebhookDelivery>,
    /// Why the input was refused; empty on success.
    pub user_errors: Vec<UserError>,
}

/// The server keys that seal signing secrets (`secrets`), put in the schema's data.
fn secret_keys<'a>(ctx: &Context<'a>) -> Result<&'a crate::secrets::SecretKeys, ApiError> {
    ctx.data_opt::<crate::secrets::SecretKeys>()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("schema built without secret keys")))
}

fn endpoint_id(id: &ID) -> Result<uuid::Uuid, Failure> {
    input_id("id", NodeType::WebhookEndpoint, id)
}

/// The URL through the SSRF guard, as a user error on `url` when refused.
async fn checked_url(ctx: &Context<'_>, raw: &str) -> Result<url::Url, InvalidInput> {
    let policy = ctx.data_opt::<TargetPolicy>().copied().unwrap_or_default();
    policy
        .check_registration(raw)
        .await
        .map_err(|refused| InvalidInput(format!("the URL {refused}")))
}

fn endpoint_payload(
    (endpoint, user_errors): (Option<webhook_endpoint::Model>, Vec<UserError>),
) -> WebhookEndpointPayload {
    WebhookEndpointPayload {
        webhook_endpoint: endpoint.map(WebhookEndpoint),
        user_errors,
    }
}

fn delivery_payload(
    (delivery, user_errors): (Option<webhook_delivery::Model>, Vec<UserError>),
) -> WebhookDeliveryPayload {
    WebhookDeliveryPayload {
        webhook_delivery: delivery.map(WebhookDelivery),
        user_errors,
    }
}

#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Registers a webhook endpoint and returns its signing secret, once. Staff
    /// (`ADMIN`, `PARTNER_MANAGER`) may choose any event type; a `PARTNER_ADMIN`
    /// registers endpoints for its own partner's events, in their partner view.
    /// Needs the `webhooks:manage` scope.
    async fn create_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new endpoint.")] input: CreateWebhookEndpointInput,
    ) -> ApiResult<CreateWebhookEndpointPayload> {
        let (created, user_errors) = mutate(ctx, Action::ManageWebhooks, |request| async move {
            let url = checked_url(ctx, &input.url).await;
            let new = InputCheck::parse(|check| {
                let url = check.field("url", url);
                let description = input
                    .description
                    .as_deref()
                    .and_then(|text| check.checked(service::parse_description(text)))
                    .flatten();
                let event_types = check.checked(service::parse_event_types(&input.event_types));
                Some(service::NewEndpoint {
                    url: url?,
                    event_types: event_types?,
                    description,
                })
            })?;
            service::create(context::db(ctx)?, &request.caller(), new, secret_keys(ctx)?).await
        })
        .await?;
        let (webhook_endpoint, secret) = match created {
            Some((endpoint, secret)) => (Some(WebhookEndpoint(endpoint)), Some(secret)),
            None => (None, None),
        };
        Ok(CreateWebhookEndpointPayload {
            webhook_endpoint,
            secret,
            user_errors,
        })
    }

    /// Changes a webhook endpoint's URL, event types, description or whether it
    /// is enabled. Needs the `webhooks:manage` scope.
    async fn update_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint and its changes.")] input: UpdateWebhookEndpointInput,
    ) -> ApiResult<WebhookEndpointPayload> {
        mutate(ctx, Action::ManageWebhooks, |request| async move {
            let url = match &input.url {
                Some(raw) => Some(checked_url(ctx, raw).await),
                None => None,
            };
            let (id, changes) = InputCheck::parse(|check| {
                let id = check.id("id", NodeType::WebhookEndpoint, &input.id);
                let changes = service::EndpointChanges {
                    url: url.and_then(|url| check.field("url", url)),
                    event_types: input
                        .event_types
                        .and_then(|types| check.checked(service::parse_event_types(&types))),
                    description: match input.description {
                        MaybeUndefined::Undefined => None,
                        MaybeUndefined::Null => Some(None),
                        MaybeUndefined::Value(text) => {
                            check.checked(service::parse_description(&text))
                        }
                    },
                    enabled: input.enabled,
                };
                Some((id?, changes))
            })?;
            service::update(
                context::db(ctx)?,
                &request.caller(),
                id,
                input.expected_version,
                changes,
            )
            .await
        })
        .await
        .map(endpoint_payload)
    }

    /// Deletes a webhook endpoint with its deliveries. Needs the `webhooks:manage` scope.
    async fn delete_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint to delete.")] input: WebhookEndpointIdInput,
    ) -> ApiResult<DeleteWebhookEndpointPayload> {
        let (deleted, user_errors) = mutate(ctx, Action::ManageWebhooks, |request| async move {
            let id = endpoint_id(&input.id)?;
            service::delete(context::db(ctx)?, &request.caller(), id).await
        })
        .await?;
        Ok(DeleteWebhookEndpointPayload {
            deleted_webhook_endpoint_id: deleted
                .map(|id| ID(ids::encode(NodeType::WebhookEndpoint, id))),
            user_errors,
        })
    }

    /// Gives the endpoint a new signing secret and returns it, once. The old
    /// secret keeps signing (a second signature) for 24 hours. Needs the
    /// `webhooks:manage` scope.
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint whose secret to rotate.")] input: WebhookEndpointIdInput,
    ) -> ApiResult<RotateWebhookSecretPayload> {
        let (rotated, user_errors) = mutate(ctx, Action::ManageWebhooks, |request| async move {
            let id = endpoint_id(&input.id)?;
            let keys = secret_keys(ctx)?;
            service::rotate_secret(context::db(ctx)?, &request.caller(), id, keys).await
        })
        .await?;
        let (webhook_endpoint, secret) = match rotated {
            Some((endpoint, secret)) => (Some(WebhookEndpoint(endpoint)), Some(secret)),
            None => (None, None),
        };
        Ok(RotateWebhookSecretPayload {
            webhook_endpoint,
            secret,
            user_errors,
        })
    }

    /// Sends a `webhook.test` event to this endpoint only. Needs the `webhooks:manage` scope.
    async fn send_test_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint to test.")] input: WebhookEndpointIdInput,
    ) -> ApiResult<WebhookDeliveryPayload> {
        mutate(ctx, Action::ManageWebhooks, |request| async move {
            let id = endpoint_id(&input.id)?;
            service::send_test(context::db(ctx)?, &request.caller(), id).await
        })
        .await
        .map(delivery_payload)
    }

    /// Sends a delivery again, now, with a fresh retry schedule and the same
    /// `webhook-id`. Needs the `webhooks:manage` scope.
    async fn redeliver_webhook_delivery(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The delivery to send again.")] input: WebhookDeliveryIdInput,
    ) -> ApiResult<WebhookDeliveryPayload> {
        mutate(ctx, Action::ManageWebhooks, |request| async move {
            let id = input_id("id", NodeType::WebhookDelivery, &input.id)?;
            service::redeliver(context::db(ctx)?, &request.caller(), id).await
        })
        .await
        .map(delivery_payload)
    }
}
