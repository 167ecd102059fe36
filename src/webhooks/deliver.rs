//! The delivery worker: claims due deliveries with `FOR UPDATE SKIP LOCKED`
//! and a lease, sends them concurrently, and records each attempt and its
//! outcome only while it still holds the lease, so each attempt is made and
//! counted by one replica. A replica that dies leaves its leases to expire;
//! another then claims and retries them. All state is in the database.

use std::{sync::Arc, time::Instant};

use chrono::{DateTime, Duration, Utc};
use entity::{webhook_attempt, webhook_delivery, webhook_endpoint};
use reqwest::StatusCode;
use sea_orm::{
    sea_query::{Expr, LockBehavior, LockType},
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::{signing, DeliveryStatus, Settings};
use crate::{
    clock::SharedClock,
    domain::{EventType, SubjectType},
    unit_of_work::{Actor, Event, UnitOfWork},
};

/// Waits after the first attempt of a delivery (SPEC §6): the first retry
/// comes 5 s after the first failure, the last 10 h after the seventh; the
/// eighth failure makes the delivery `FAILED`.
pub const RETRY_DELAYS: [Duration; 7] = [
    Duration::seconds(5),
    Duration::minutes(5),
    Duration::minutes(30),
    Duration::hours(2),
    Duration::hours(5),
    Duration::hours(10),
    Duration::hours(10),
];

/// How long an endpoint may fail without a success before it is disabled.
pub const FAILING_LIMIT: Duration = Duration::days(5);

/// The wait before the next attempt after `attempts` failed ones, or `None`
/// when the delivery has had its last attempt.
pub fn retry_delay(attempts: i32) -> Option<Duration> {
    usize::try_from(attempts)
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| RETRY_DELAYS.get(i).copied())
}

/// A delivery this worker holds, with its endpoint.
pub struct Claimed {
    pub delivery: webhook_delivery::Model,
    pub endpoint: Option<webhook_endpoint::Model>,
    pub lease_until: DateTime<Utc>,
}

/// What one attempt came to.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<u16>,
    pub latency_ms: i32,
    pub error: Option<String>,
}

impl AttemptResult {
    fn succeeded(&self) -> bool {
        self.status_code
            .is_some_and(|code| (200..300).contains(&code))
    }

    fn gone(&self) -> bool {
        self.status_code == Some(StatusCode::GONE.as_u16())
    }
}

pub struct Worker {
    pub db: DatabaseConnection,
    pub clock: SharedClock,
    pub settings: Settings,
    pub client: reqwest::Client,
}

impl Worker {
    /// Claims up to `limit` due deliveries for [`Settings::lease`].
    #[expect(
        clippy::disallowed_methods,
        reason = "delivery bookkeeping: taking a lease is not an audited change"
    )]
    pub async fn claim(&self, limit: u64) -> Result<Vec<Claimed>, DbErr> {
        let now = self.clock.now();
        let uow = UnitOfWork::begin(&self.db, Actor::system(), now).await?;
        let due = Condition::all()
            .add(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending))
            .add(webhook_delivery::Column::NextAttemptAt.lte(now))
            .add(
                Condition::any()
                    .add(webhook_delivery::Column::LeaseUntil.is_null())
                    .add(webhook_delivery::Column::LeaseUntil.lte(now)),
            );
        let rows = webhook_delivery::Entity::find()
            .filter(due)
            .order_by_asc(webhook_delivery::Column::NextAttemptAt)
            .limit(limit)
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
            .all(uow.conn())
            .await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let lease_until = now + self.settings.lease;
        let ids: Vec<Uuid> = rows.iter().map(|d| d.id).collect();
        webhook_delivery::Entity::update_many()
            .col_expr(
                webhook_delivery::Column::LeaseUntil,
                Expr::value(lease_until),
            )
            .col_expr(
                webhook_delivery::Column::LeasedBy,
                Expr::value(self.settings.replica.clone()),
            )
            .filter(webhook_delivery::Column::Id.is_in(ids))
            .exec(uow.conn())
            .await?;
        let mut endpoint_ids: Vec<Uuid> = rows.iter().map(|d| d.endpoint_id).collect();
        endpoint_ids.sort();
        endpoint_ids.dedup();
        let endpoints = webhook_endpoint::Entity::find()
            .filter(webhook_endpoint::Column::Id.is_in(endpoint_ids))
            .all(uow.conn())
            .await?;
        uow.commit().await?;
        Ok(rows
            .into_iter()
            .map(|delivery| Claimed {
                endpoint: endpoints
                    .iter()
                    .find(|e| e.id == delivery.endpoint_id)
                    .cloned(),
                delivery,
                lease_until,
            })
            .collect())
    }

    /// Gives up every claim this worker still holds on pending deliveries
    /// (attempts cut off by a shutdown), so any replica may claim them at
    /// once; returns how many. An attempt that was cut off may have reached
    /// its receiver: it is delivered again with the same `webhook-id`, which
    /// at-least-once delivery allows and receivers deduplicate by.
    #[expect(
        clippy::disallowed_methods,
        reason = "delivery bookkeeping: releasing a lease is not an audited change"
    )]
    pub async fn release(&self) -> Result<u64, DbErr> {
        let released = webhook_delivery::Entity::update_many()
            .col_expr(
                webhook_delivery::Column::LeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(
                webhook_delivery::Column::LeasedBy,
                Expr::value(Option::<String>::None),
            )
            .filter(webhook_delivery::Column::LeasedBy.eq(self.settings.replica.clone()))
            .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending))
            .exec(&self.db)
            .await?;
        Ok(released.rows_affected)
    }

    /// Sends one signed request. Never fails: a refusal, a timeout or a
    /// connection error is an attempt without a status code.
    pub async fn send(
        &self,
        claimed: &Claimed,
        endpoint: &webhook_endpoint::Model,
    ) -> AttemptResult {
        let attempted_at = self.clock.now();
        let started = Instant::now();
        let result = self.request(claimed, endpoint, attempted_at).await;
        let latency_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
        let (status_code, error) = match result {
            Ok(status) if status.is_success() => (Some(status.as_u16()), None),
            Ok(status) => (
                Some(status.as_u16()),
                Some(format!("the receiver answered {status}")),
            ),
            Err(error) => (None, Some(error)),
        };
        let outcome = match (status_code, &error) {
            (Some(_), None) => "succeeded",
            (Some(_), Some(_)) => "failed",
            (None, _) => "error",
        };
        self.settings.metrics.webhook_attempt(outcome);
        AttemptResult {
            attempted_at,
            status_code,
            latency_ms,
            error,
        }
    }

    async fn request(
        &self,
        claimed: &Claimed,
        endpoint: &webhook_endpoint::Model,
        now: DateTime<Utc>,
    ) -> Result<StatusCode, String> {
        // Again at every delivery: the flag may have changed since registration.
        let url = self
            .settings
            .targets
            .check_url(&endpoint.url)
            .map_err(|refused| format!("the URL was refused: {refused}"))?;
        let row = super::secrets::row(endpoint.id);
        let open = |sealed: &str| {
            self.settings
                .keys
                .open(sealed, &row)
                .map_err(|e| format!("the signing secret cannot be read: {e}"))
        };
        let mut opened = vec![open(&endpoint.secret)?];
        if let (Some(previous), Some(until)) = (
            endpoint.previous_secret.as_deref(),
            endpoint.previous_secret_expires_at,
        ) {
            if until > now {
                opened.push(open(previous)?);
            }
        }
        let secrets: Vec<&str> = opened.iter().map(String::as_str).collect();
        let id = message_id(claimed.delivery.id);
        // The receiver's clock judges freshness, so the signed timestamp is
        // the wall clock's, not the app clock's.
        let timestamp = Utc::now().timestamp();
        let signature = signing::signature_header(&secrets, &id, timestamp, &claimed.delivery.body)
            .map_err(|e| e.to_string())?;
        let response = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(claimed.delivery.body.clone())
            .send()
            .await
            .map_err(describe)?;
        Ok(response.status())
    }

    /// Records the attempt and what follows from it, if the lease is still
    /// ours; `false` when another worker has taken the delivery over.
    #[expect(
        clippy::disallowed_methods,
        reason = "delivery and attempt bookkeeping under the lease; the endpoint's health goes through the unit of work"
    )]
    pub async fn record(
        &self,
        claimed: &Claimed,
        endpoint: Option<&webhook_endpoint::Model>,
        attempt: Option<&AttemptResult>,
    ) -> Result<bool, DbErr> {
        let now = self.clock.now();
        let delivery = &claimed.delivery;
        let attempts = delivery.attempt_count + i32::from(attempt.is_some());
        let succeeded = attempt.is_some_and(AttemptResult::succeeded);
        let gone = attempt.is_some_and(AttemptResult::gone);
        let next = match (attempt, succeeded || gone) {
            (Some(_), false) => retry_delay(attempts).map(|wait| now + wait),
            _ => None,
        };
        let status = match (succeeded, next) {
            (true, _) => DeliveryStatus::Succeeded,
            (false, Some(_)) => DeliveryStatus::Pending,
            (false, None) => DeliveryStatus::Failed,
        };
        let uow = UnitOfWork::begin(&self.db, Actor::system(), now).await?;
        let updated = webhook_delivery::Entity::update_many()
            .col_expr(webhook_delivery::Column::Status, Expr::value(status))
            .col_expr(
                webhook_delivery::Column::AttemptCount,
                Expr::value(attempts),
            )
            .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(next))
            .col_expr(
                webhook_delivery::Column::LeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(
                webhook_delivery::Column::LeasedBy,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                webhook_delivery::Column::LastAttemptAt,
                Expr::value(attempt.map(|a| a.attempted_at).or(delivery.last_attempt_at)),
            )
            .filter(webhook_delivery::Column::Id.eq(delivery.id))
            .filter(webhook_delivery::Column::LeasedBy.eq(self.settings.replica.clone()))
            .filter(webhook_delivery::Column::LeaseUntil.eq(claimed.lease_until))
            .exec(uow.conn())
            .await?;
        if updated.rows_affected != 1 {
            return Ok(false);
        }
        if let Some(attempt) = attempt {
            webhook_attempt::ActiveModel {
                id: Set(Uuid::now_v7()),
                delivery_id: Set(delivery.id),
                attempted_at: Set(attempt.attempted_at),
                status_code: Set(attempt.status_code.map(i32::from)),
                latency_ms: Set(attempt.latency_ms),
                error: Set(attempt.error.clone()),
                replica: Set(self.settings.replica.clone()),
            }
            .insert(uow.conn())
            .await?;
        }
        if let (Some(endpoint), Some(_)) = (endpoint, attempt) {
            track_health(&uow, endpoint, succeeded, gone).await?;
        }
        uow.commit().await?;
        Ok(true)
    }
}

/// The `webhook-id` of a delivery: the same on every attempt, so receivers dedupe.
pub fn message_id(delivery_id: Uuid) -> String {
    format!("msg_{}", delivery_id.simple())
}

/// A transport error, said plainly (reqwest's own text names the URL).
fn describe(error: reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else if error.is_redirect() {
        "redirects are not followed"
    } else {
        "request failed"
    };
    let mut cause: &dyn std::error::Error = &error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    format!("{kind}: {cause}")
}

/// An endpoint's health after an attempt: a success clears `failing_since`;
/// a failure starts it; `410 Gone` or five days of failure disable the
/// endpoint, with a `webhook_endpoint.disabled` event.
async fn track_health(
    uow: &UnitOfWork,
    endpoint: &webhook_endpoint::Model,
    succeeded: bool,
    gone: bool,
) -> Result<(), DbErr> {
    let now = uow.now();
    // The failure streak is bookkeeping: no version, no audit entry.
    let streak = |failing_since| webhook_endpoint::ActiveModel {
        failing_since: Set(failing_since),
        ..Default::default()
    };
    if succeeded {
        if endpoint.failing_since.is_some() {
            uow.update_bookkeeping::<webhook_endpoint::Entity>(
                endpoint,
                streak(None),
                Condition::all(),
                None,
            )
            .await?;
        }
        return Ok(());
    }
    let failing_since = endpoint.failing_since.unwrap_or(now);
    let reason = if gone {
        Some(super::DisabledReason::Gone)
    } else if now - failing_since >= FAILING_LIMIT {
        Some(super::DisabledReason::Failing)
    } else {
        None
    };
    let Some(reason) = reason else {
        if endpoint.failing_since.is_none() {
            let not_failing =
                Condition::all().add(webhook_endpoint::Column::FailingSince.is_null());
            uow.update_bookkeeping::<webhook_endpoint::Entity>(
                endpoint,
                streak(Some(now)),
                not_failing,
                None,
            )
            .await?;
        }
        return Ok(());
    };
    // The endpoint as it is now (the claim read it earlier), locked so the
    // versioned update below cannot lose to a concurrent change.
    let Some(current) = webhook_endpoint::Entity::find_by_id(endpoint.id)
        .lock_exclusive()
        .one(uow.conn())
        .await?
    else {
        return Ok(());
    };
    // Conditional: only the attempt that finds it enabled disables it and says so.
    let enabled = Condition::all().add(webhook_endpoint::Column::Enabled.eq(true));
    let changes = webhook_endpoint::ActiveModel {
        enabled: Set(false),
        disabled_reason: Set(Some(reason)),
        failing_since: Set(Some(failing_since)),
        ..Default::default()
    };
    let disabled = uow
        .update_if::<webhook_endpoint::Entity>("disableWebhookEndpoint", &current, changes, enabled)
        .await?;
    if let Some(after) = disabled {
        uow.emit(Event {
            event_type: EventType::WebhookEndpointDisabled,
            subject_type: SubjectType::WebhookEndpoint,
            subject_id: endpoint.id,
            partner_id: endpoint.partner_id,
            payload: serde_json::json!({ "webhookEndpoint": super::snapshot(&after), "reason": reason }),
        })
        .await?;
        tracing::warn!(endpoint = %endpoint.id, reason = %reason, "webhook endpoint disabled");
    }
    Ok(())
}

/// Claims, sends and records until `stop` turns true; `wake` cuts the poll
/// short. Then lets the attempts in flight finish for
/// [`Settings::shutdown_drain`], cuts off the rest, and releases every claim
/// still held (see [`Worker::release`]).
pub async fn run(
    worker: Arc<Worker>,
    mut wake: tokio::sync::watch::Receiver<u64>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let concurrency = worker.settings.concurrency;
    let mut in_flight = tokio::task::JoinSet::new();
    // Claim in batches: a claim is a transaction, so claiming one delivery
    // each time one finishes would cost more than the deliveries themselves.
    let batch = (concurrency / 4).max(1);
    while !*stop.borrow() {
        while in_flight.try_join_next().is_some() {}
        let free = concurrency.saturating_sub(in_flight.len());
        if free < batch {
            tokio::select! {
                _ = in_flight.join_next() => {}
                _ = stop.wait_for(|stopping| *stopping) => break,
            }
            continue;
        }
        let mut full = false;
        match worker.claim(free as u64).await {
            Ok(claimed) => {
                full = claimed.len() == free;
                for claimed in claimed {
                    let worker = worker.clone();
                    in_flight.spawn(async move { deliver_one(&worker, claimed).await });
                }
            }
            Err(error) => tracing::error!(%error, "claiming webhook deliveries failed"),
        }
        if full {
            continue;
        }
        tokio::select! {
            changed = wake.changed() => if changed.is_err() { break },
            _ = stop.wait_for(|stopping| *stopping) => break,
            () = tokio::time::sleep(worker.settings.poll) => {}
        }
    }
    let running = in_flight.len();
    let drained = tokio::time::timeout(worker.settings.shutdown_drain, async {
        while in_flight.join_next().await.is_some() {}
    })
    .await
    .is_ok();
    if !drained {
        in_flight.abort_all();
        while in_flight.join_next().await.is_some() {}
    }
    match worker.release().await {
        Ok(released) => tracing::info!(
            running,
            released,
            "webhook worker stopped; released claims go to another replica now"
        ),
        Err(error) => {
            tracing::error!(%error, "cannot release webhook claims; their leases will expire")
        }
    }
}

/// One claimed delivery: sent unless its endpoint is gone or disabled (then
/// it fails without an attempt), then recorded.
pub async fn deliver_one(worker: &Worker, claimed: Claimed) {
    let endpoint = claimed.endpoint.clone().filter(|e| e.enabled);
    let attempt = match &endpoint {
        Some(endpoint) => Some(worker.send(&claimed, endpoint).await),
        None => None,
    };
    match worker
        .record(&claimed, endpoint.as_ref(), attempt.as_ref())
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!(delivery = %claimed.delivery.id, "lease lost; another replica owns this delivery now")
        }
        Err(error) => {
            tracing::error!(%error, delivery = %claimed.delivery.id, "recording a webhook attempt failed; the lease will expire and it is retried")
        }
    }
}
