//! GraphQL over WebSocket on `GET /graphql`: subscriptions (and queries and
//! mutations) by `graphql-transport-ws` or the legacy `graphql-ws`.

mod connection;
pub mod protocol;
pub mod sessions;
mod shared;

use std::sync::Arc;

use axum::{
    extract::{
        ws::{rejection::WebSocketUpgradeRejection, WebSocketUpgrade},
        RawQuery, State,
    },
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};

use super::{graphql, response, AppState};
use crate::{error::ApiError, events::bus::EventBus};
use protocol::Protocol;

/// What live connections share in one process, started with the first one.
#[derive(Clone)]
pub struct Realtime {
    pub bus: EventBus,
    pub sessions: Arc<sessions::Sessions>,
    /// Executions shared by identical live subscriptions.
    shared: Arc<shared::Groups>,
}

impl Realtime {
    pub async fn start(state: &AppState) -> Result<Self, sea_orm::DbErr> {
        Ok(Self {
            bus: EventBus::start(state.db.clone()).await?,
            sessions: sessions::Sessions::start(
                state.db.clone(),
                state.clock.clone(),
                state.config.session_check_interval,
            ),
            shared: Arc::default(),
        })
    }
}

/// `GET /graphql`: a WebSocket upgrade, or a query by GET (or GraphiQL).
pub async fn get(
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: RawQuery,
) -> Response {
    let Ok(upgrade) = upgrade else {
        return graphql::get(State(state), headers, raw).await;
    };
    let offered = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(protocol) = Protocol::choose(offered) else {
        let message = "offer the `graphql-transport-ws` (or legacy `graphql-ws`) subprotocol";
        return response::error(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", message).into_response();
    };
    let slot = match state.admission.websocket_slot() {
        Ok(slot) => slot,
        Err(refused) => return refused.into_response(),
    };
    let realtime = match state.realtime().await {
        Ok(realtime) => realtime.clone(),
        Err(error) => {
            tracing::error!(%error, "cannot start the event bus");
            let message = "live events are unavailable; retry shortly";
            return response::error(
                StatusCode::SERVICE_UNAVAILABLE,
                ApiError::INTERNAL_CODE,
                message,
            )
            .into_response();
        }
    };
    let token = graphql::bearer(&headers).map(str::to_owned);
    let max_message = state.config.limits.max_body_bytes;
    upgrade
        .protocols([protocol.name()])
        // Small buffers: thousands of mostly idle sockets per process.
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .max_message_size(max_message)
        .max_frame_size(max_message)
        .on_upgrade(move |socket| async move {
            connection::serve(socket, protocol, state, realtime, token).await;
            drop(slot);
        })
}
