//! Liveness and readiness probes, and metrics for scrapers.

use axum::{extract::State, http::StatusCode};
use chrono::{DateTime, Utc};
use entity::{enums::DeliveryStatus, outbox_event, webhook_delivery, webhook_dispatch_cursor};
use sea_orm::{
    ColumnTrait, DatabaseBackend, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::AppState;
use crate::metrics::Sampled;

/// 200 while the process runs.
pub async fn healthz() -> &'static str {
    "ok"
}

/// 200 only when the database answers and migrations are current.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if crate::db::is_ready(&state.db).await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready")
    }
}

/// Prometheus text format.
pub async fn metrics(
    State(state): State<AppState>,
) -> ([(axum::http::HeaderName, &'static str); 1], String) {
    let sampled = match sample(&state).await {
        Ok(sampled) => sampled,
        Err(error) => {
            tracing::warn!(%error, "cannot read the figures /metrics samples; reporting zeros");
            Sampled::default()
        }
    };
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(&sampled),
    )
}

/// What `/metrics` reads at scrape time (see `metrics`), through the
/// uncounted connection: a few aggregate statements, none loading rows.
async fn sample(state: &AppState) -> Result<Sampled, DbErr> {
    let db = &state.scrape_db;
    let outbox_head: i64 = outbox_event::Entity::find()
        .select_only()
        .column_as(outbox_event::Column::Id.max(), "max")
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten()
        .unwrap_or(0);
    let bus_cursor = state.realtime.get().map(|realtime| realtime.bus.head());
    let mut bus_lag_seconds = 0.0;
    if let Some(cursor) = bus_cursor.filter(|cursor| *cursor < outbox_head) {
        let oldest: Option<DateTime<Utc>> = outbox_event::Entity::find()
            .select_only()
            .column(outbox_event::Column::OccurredAt)
            .filter(outbox_event::Column::Id.gt(cursor))
            .order_by_asc(outbox_event::Column::Id)
            .into_tuple()
            .one(db)
            .await?;
        if let Some(oldest) = oldest {
            bus_lag_seconds = (state.clock.now() - oldest).num_milliseconds() as f64 / 1000.0;
        }
    }
    let dispatch_cursor: i64 = webhook_dispatch_cursor::Entity::find()
        .select_only()
        .column_as(webhook_dispatch_cursor::Column::LastOutboxId.max(), "max")
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten()
        .unwrap_or(0);
    let counts: Vec<(DeliveryStatus, i64)> = webhook_delivery::Entity::find()
        .select_only()
        .column(webhook_delivery::Column::Status)
        .column_as(webhook_delivery::Column::Id.count(), "n")
        .filter(
            webhook_delivery::Column::Status
                .is_in([DeliveryStatus::Pending, DeliveryStatus::Failed]),
        )
        .group_by(webhook_delivery::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let count = |status| {
        counts
            .iter()
            .find(|(s, _)| *s == status)
            .map_or(0, |(_, n)| *n)
    };
    let (size, idle) = match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        DatabaseBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => (0, 0),
    };
    Ok(Sampled {
        outbox_head,
        bus_cursor,
        bus_lag_seconds,
        dispatch_cursor,
        pending_deliveries: count(DeliveryStatus::Pending),
        failed_deliveries: count(DeliveryStatus::Failed),
        pool_in_use: i64::from(size) - idle as i64,
        pool_idle: idle as i64,
    })
}
