//! Identical live subscriptions share one execution. A fan-out to thousands
//! of sockets would otherwise resolve and serialize the same selection once
//! per subscriber; here the first subscriber of a given query (same text,
//! operation, variables) by a principal with the same rights (role, partner,
//! scopes) starts one execution, and every member forwards its serialized
//! results. Subscriptions that replay from a cursor run on their own.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use futures_util::{stream::BoxStream, StreamExt};
use tokio::sync::broadcast;

use crate::{auth::Principal, domain::Role, http::graphql::Body};

/// Results a slow member may fall behind by before it is told to resubscribe.
const CAPACITY: usize = 1024;

/// What decides a subscription's results.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    role: Role,
    partner: crate::policy::RowScope,
    scopes: String,
    query: String,
    operation: Option<String>,
    variables: String,
}

impl Key {
    pub fn new(principal: &Principal, request: &async_graphql::Request) -> Self {
        Self {
            role: principal.role,
            partner: crate::policy::RowScope::of(principal),
            scopes: principal.scopes.to_string(),
            query: request.query.clone(),
            operation: request.operation_name.clone(),
            variables: serde_json::to_string(&request.variables).unwrap_or_default(),
        }
    }
}

/// One result of a shared execution, already serialized.
#[derive(Debug, Clone)]
pub enum Shared {
    /// A response body (`{"data": …}`), as JSON text.
    Next(Arc<str>),
    /// The subscription was refused before it ran: its errors, as a JSON array.
    Refused(Arc<str>),
}

#[derive(Default)]
pub struct Groups {
    groups: Mutex<HashMap<Key, broadcast::Sender<Shared>>>,
}

impl Groups {
    /// Joins the group for `key`, starting its execution with `start` if
    /// there is none.
    pub fn join(
        self: &Arc<Self>,
        key: Key,
        request_id: String,
        start: impl FnOnce() -> BoxStream<'static, async_graphql::Response>,
    ) -> broadcast::Receiver<Shared> {
        let mut groups = self.lock();
        if let Some(sender) = groups.get(&key) {
            return sender.subscribe();
        }
        let (sender, receiver) = broadcast::channel(CAPACITY);
        groups.insert(key.clone(), sender.clone());
        drop(groups);
        tokio::spawn(run(self.clone(), key, sender, start(), request_id));
        receiver
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, broadcast::Sender<Shared>>> {
        self.groups.lock().unwrap_or_else(|e| e.into_inner())
    }
}

async fn run(
    groups: Arc<Groups>,
    key: Key,
    sender: broadcast::Sender<Shared>,
    mut responses: BoxStream<'static, async_graphql::Response>,
    request_id: String,
) {
    let mut first = true;
    while let Some(response) = responses.next().await {
        let body = Body::of(response, &request_id);
        let refused = first && !body.executed();
        first = false;
        let message = if refused {
            Shared::Refused(
                serde_json::to_string(&body.into_errors())
                    .unwrap_or_default()
                    .into(),
            )
        } else {
            Shared::Next(serde_json::to_string(&body).unwrap_or_default().into())
        };
        let _ = sender.send(message);
        // Under the lock, so a subscriber joining now either sees this group
        // alive or starts a new one.
        let mut open = groups.lock();
        if refused || sender.receiver_count() == 0 {
            open.remove(&key);
            return;
        }
    }
    groups.lock().remove(&key);
}
