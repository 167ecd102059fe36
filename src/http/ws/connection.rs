//! One WebSocket connection: authentication by `connection_init`, then any
//! number of operations, each run like an HTTP request (the same
//! preparation: limits, the partner view at the door, cost) in a task of its
//! own. The socket is written from here only; operations hand their
//! messages over a bounded channel, so a slow client slows its own
//! operations (which then catch up from the outbox), nobody else's.

use std::collections::HashMap;

use async_graphql::parser::types::OperationType;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::{
    sync::{broadcast::error::RecvError, mpsc},
    task::AbortHandle,
};

use super::{
    protocol::{self, close, ClientMessage, Protocol, ServerMessage},
    shared::{Key, Shared},
    Realtime,
};
use crate::error::ApiError;
use crate::{
    auth::{token, Principal},
    graphql::loaders,
    http::{
        graphql::{bearer_value, prepare, Body, Refused},
        order, AppState,
    },
};

/// How often legacy clients get a keep-alive.
const KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(20);

/// What an operation hands to the connection.
enum Outgoing {
    /// A message of a running operation.
    Message { id: String, text: String },
    /// The operation ended on its own: `complete` it.
    Done { id: String },
    /// The operation was refused: send this `error`, and no `complete`.
    Refused { id: String, text: String },
}

/// Why the connection ends.
struct Closing(u16, String);

pub async fn serve(
    socket: WebSocket,
    protocol: Protocol,
    state: AppState,
    realtime: Realtime,
    upgrade_token: Option<String>,
) {
    let _open = state.metrics.websocket_session();
    let (mut sink, mut incoming) = socket.split();
    let (out, mut outgoing) = mpsc::channel::<Outgoing>(64);
    let mut operations: HashMap<String, AbortHandle> = HashMap::new();
    let mut principal: Option<Principal> = None;
    let mut session = None;
    let init_deadline = tokio::time::sleep(state.config.ws_init_timeout);
    tokio::pin!(init_deadline);
    let shutdown = state.clone();
    let shutdown = shutdown.shutdown_started();
    tokio::pin!(shutdown);
    let mut keep_alive =
        tokio::time::interval_at(tokio::time::Instant::now() + KEEP_ALIVE, KEEP_ALIVE);

    let closing: Option<Closing> = loop {
        let ended = async {
            match &mut session {
                Some(super::sessions::Session { ended, .. }) => {
                    let _ = ended.await;
                }
                None => std::future::pending().await,
            }
        };
        let mut send = Vec::new();
        tokio::select! {
            message = incoming.next() => {
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Binary(_))) => {
                        break Some(Closing(close::BAD_REQUEST, "send text frames".into()));
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break None,
                };
                match protocol::parse(protocol, text.as_str()) {
                    Err(reason) => break Some(Closing(close::BAD_REQUEST, reason)),
                    Ok(ClientMessage::ConnectionInit(payload)) => {
                        if principal.is_some() {
                            break Some(Closing(close::TOO_MANY_INITS, "Too many initialisation requests".into()));
                        }
                        // Boxed: the connection should not carry a query's state while idle.
                        let found = Box::pin(authenticate(&state, payload.as_ref(), upgrade_token.as_deref())).await;
                        match found {
                            Some(found) => {
                                session = Some(realtime.sessions.register(found.token_id));
                                principal = Some(found);
                                send.push(protocol::encode(protocol, ServerMessage::Ack));
                            }
                            None => {
                                if protocol == Protocol::Legacy {
                                    let refusal = ServerMessage::ConnectionError("Forbidden");
                                    let _ = sink.send(Message::Text(protocol::encode(protocol, refusal).into())).await;
                                }
                                break Some(Closing(close::FORBIDDEN, "Forbidden".into()));
                            }
                        }
                    }
                    Ok(ClientMessage::Ping(payload)) => {
                        send.push(protocol::encode(protocol, ServerMessage::Pong(payload)));
                    }
                    Ok(ClientMessage::Pong) => {}
                    Ok(ClientMessage::Subscribe { id, params }) => {
                        let Some(principal) = &principal else {
                            break Some(Closing(close::UNAUTHORIZED, "Unauthorized".into()));
                        };
                        if operations.contains_key(&id) {
                            break Some(Closing(close::DUPLICATE_ID, format!("Subscriber for {id} already exists")));
                        }
                        let task = tokio::spawn(run_operation(
                            state.clone(),
                            realtime.clone(),
                            principal.clone(),
                            id.clone(),
                            params,
                            out.clone(),
                            protocol,
                        ));
                        operations.insert(id, task.abort_handle());
                    }
                    Ok(ClientMessage::Complete { id }) => {
                        if let Some(task) = operations.remove(&id) {
                            task.abort();
                        }
                    }
                    Ok(ClientMessage::Terminate) => break None,
                }
            }
            Some(message) = outgoing.recv() => match message {
                // An operation the client completed may still have sent something.
                Outgoing::Message { id, text } => if operations.contains_key(&id) {
                    send.push(text);
                },
                Outgoing::Done { id } => if operations.remove(&id).is_some() {
                    send.push(protocol::encode(protocol, ServerMessage::Complete { id: &id }));
                },
                Outgoing::Refused { id, text } => if operations.remove(&id).is_some() {
                    send.push(text);
                },
            },
            () = &mut init_deadline, if principal.is_none() => {
                break Some(Closing(close::INIT_TIMEOUT, "Connection initialisation timeout".into()));
            }
            () = &mut shutdown => {
                break Some(Closing(close::GOING_AWAY, "the server is restarting; reconnect".into()));
            }
            () = ended => {
                break Some(Closing(close::FORBIDDEN, "the token was revoked or has expired".into()));
            }
            _ = keep_alive.tick(), if protocol == Protocol::Legacy && principal.is_some() => {
                send.push(protocol::encode(protocol, ServerMessage::KeepAlive));
            }
        }
        for text in send {
            if sink.send(Message::Text(text.into())).await.is_err() {
                break;
            }
        }
    };
    for task in operations.values() {
        task.abort();
    }
    if let Some(Closing(code, reason)) = closing {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = sink.send(Message::Close(Some(frame))).await;
    }
    let _ = sink.close().await;
}

/// The principal of `connection_init`'s `Authorization` (any case; with or
/// without `Bearer `), else of the upgrade request's header.
async fn authenticate(
    state: &AppState,
    payload: Option<&Value>,
    upgrade_token: Option<&str>,
) -> Option<Principal> {
    let from_init = payload
        .and_then(Value::as_object)
        .and_then(|fields| {
            fields
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case("authorization"))
        })
        .and_then(|(_, value)| value.as_str())
        .map(|value| bearer_value(value).unwrap_or(value.trim()));
    let secret = from_init.or(upgrade_token)?;
    match token::authenticate(&state.db, secret, state.clock.now()).await {
        Ok(principal) => principal,
        Err(error) => {
            tracing::error!(%error, "cannot check a WebSocket token");
            None
        }
    }
}

/// Whether the subscription replays from a cursor (`events(after: …)`), so
/// it cannot share an execution with others. Fragments or an unparsable
/// document count as yes: they run on their own.
fn resumes(request: &mut async_graphql::Request) -> bool {
    use async_graphql::parser::types::Selection;
    let Ok(doc) = request.parsed_query() else {
        return true;
    };
    doc.operations.iter().any(|(_, operation)| {
        operation
            .node
            .selection_set
            .node
            .items
            .iter()
            .any(|item| match &item.node {
                Selection::Field(field) => field
                    .node
                    .arguments
                    .iter()
                    .any(|(name, _)| name.node.as_str() == "after"),
                _ => true,
            })
    })
}

/// Runs one operation to its end, handing its messages to the connection.
async fn run_operation(
    state: AppState,
    realtime: Realtime,
    principal: Principal,
    id: String,
    params: crate::http::graphql::Params,
    out: mpsc::Sender<Outgoing>,
    protocol: Protocol,
) {
    let request_id = uuid::Uuid::now_v7().to_string();
    let now = state.clock.now();
    let refuse = |errors: Vec<Value>| Outgoing::Refused {
        id: id.clone(),
        text: protocol::encode(protocol, ServerMessage::Error { id: &id, errors }),
    };
    // Boxed, like every query below: a subscription lives long, and its
    // task should not keep the (large) state of a finished step.
    let shareable = principal.clone();
    let prepared = match Box::pin(prepare(&state, principal, &request_id, now, params, false)).await
    {
        Ok(prepared) => prepared,
        Err(Refused::BadRequest(message)) => {
            let error = json!({ "message": message, "extensions": { "code": ApiError::BadUserInput(String::new()).code() } });
            let _ = out.send(refuse(vec![error])).await;
            return;
        }
        Err(Refused::MethodNotAllowed(_)) => return,
        Err(Refused::Answer(_, answer) | Refused::RateLimited(_, answer)) => {
            let body = Body::of(*answer, &request_id);
            let _ = out.send(refuse(body.into_errors())).await;
            return;
        }
    };
    let next = |body: &Body| Outgoing::Message {
        id: id.clone(),
        text: protocol::encode_next(protocol, &id, body),
    };
    let order = prepared.order.clone();
    if prepared.operation == Some(OperationType::Subscription) {
        let _running = state.metrics.subscription();
        // Each event is resolved afresh: no cache carried between events.
        let loader = loaders::for_request(state.db.clone());
        loader.enable_all_cache(false);
        let mut request = prepared.request.data(realtime.bus.clone()).data(loader);
        if !resumes(&mut request) {
            let key = Key::new(&shareable, &request);
            let schema = state.schema.clone();
            let mut results = realtime.shared.join(key, request_id.clone(), move || {
                schema
                    .execute_stream(request)
                    .map(move |mut response| {
                        order::apply(order.as_ref(), &mut response);
                        response
                    })
                    .boxed()
            });
            loop {
                let message = match results.recv().await {
                    Ok(Shared::Next(body)) => Outgoing::Message {
                        id: id.clone(),
                        text: protocol::encode_next_raw(protocol, &id, &body),
                    },
                    Ok(Shared::Refused(errors)) => {
                        let errors = serde_json::from_str(&errors).unwrap_or_default();
                        let _ = out.send(refuse(errors)).await;
                        return;
                    }
                    Err(RecvError::Lagged(missed)) => {
                        let message = format!("this subscription fell {missed} results behind; subscribe again (`events(after:)` resumes from your last cursor)");
                        let code = ApiError::RateLimited(String::new()).code();
                        let error = json!({ "message": message, "extensions": { "code": code } });
                        let _ = out.send(refuse(vec![error])).await;
                        return;
                    }
                    Err(RecvError::Closed) => break,
                };
                if out.send(message).await.is_err() {
                    return;
                }
            }
            let _ = out.send(Outgoing::Done { id: id.clone() }).await;
            return;
        }
        let mut responses = state.schema.execute_stream(request);
        let mut first = true;
        while let Some(mut response) = responses.next().await {
            order::apply(order.as_ref(), &mut response);
            let body = Body::of(response, &request_id);
            if first && !body.executed() {
                let _ = out.send(refuse(body.into_errors())).await;
                return;
            }
            first = false;
            if out.send(next(&body)).await.is_err() {
                return;
            }
        }
    } else {
        let mut response = Box::pin(state.schema.execute(prepared.request)).await;
        order::apply(order.as_ref(), &mut response);
        let body = Body::of(response, &request_id);
        if !body.executed() {
            let _ = out.send(refuse(body.into_errors())).await;
            return;
        }
        if out.send(next(&body)).await.is_err() {
            return;
        }
    }
    let _ = out.send(Outgoing::Done { id: id.clone() }).await;
}
