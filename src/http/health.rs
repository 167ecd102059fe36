//! Liveness and readiness probes.

use axum::{extract::State, http::StatusCode};

use super::AppState;

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
