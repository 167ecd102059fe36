//! The two GraphQL-over-WebSocket protocols, as messages: the current
//! `graphql-transport-ws` and the legacy `graphql-ws`
//! (subscriptions-transport-ws). Both carry the same operations; they differ
//! in message names and in how they refuse things.

use serde_json::{json, Value};

use crate::http::graphql::Params;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `graphql-transport-ws` (the graphql-ws library).
    TransportWs,
    /// `graphql-ws` (the legacy subscriptions-transport-ws library).
    Legacy,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::TransportWs => "graphql-transport-ws",
            Protocol::Legacy => "graphql-ws",
        }
    }

    /// The protocol to speak, from the client's `Sec-WebSocket-Protocol`
    /// list; the current one wins when a client offers both.
    pub fn choose(offered: &str) -> Option<Self> {
        let offered: Vec<&str> = offered.split(',').map(str::trim).collect();
        [Protocol::TransportWs, Protocol::Legacy]
            .into_iter()
            .find(|p| offered.contains(&p.name()))
    }
}

/// Close codes of `graphql-transport-ws` (we use them for both protocols).
pub mod close {
    /// A message we cannot read, or one that breaks the protocol.
    pub const BAD_REQUEST: u16 = 4400;
    /// `subscribe` before the connection was acknowledged.
    pub const UNAUTHORIZED: u16 = 4401;
    /// `connection_init` refused, or the token was revoked or expired.
    pub const FORBIDDEN: u16 = 4403;
    /// No `connection_init` in time.
    pub const INIT_TIMEOUT: u16 = 4408;
    /// A second operation with an id still in use.
    pub const DUPLICATE_ID: u16 = 4409;
    /// A second `connection_init`.
    pub const TOO_MANY_INITS: u16 = 4429;
    /// The server is shutting down (WebSocket "going away"): reconnect.
    pub const GOING_AWAY: u16 = 1001;
}

/// What a client can send.
#[derive(Debug)]
pub enum ClientMessage {
    ConnectionInit(Option<Value>),
    Ping(Option<Value>),
    Pong,
    Subscribe {
        id: String,
        params: Params,
    },
    Complete {
        id: String,
    },
    /// Legacy: the client is leaving.
    Terminate,
}

/// Reads one text frame; the error is the reason to close with 4400.
pub fn parse(protocol: Protocol, text: &str) -> Result<ClientMessage, String> {
    let value: Value =
        serde_json::from_str(text).map_err(|_| "the message is not valid JSON".to_owned())?;
    let kind = value
        .get("type")
        .and_then(Value::as_str)
        .ok_or("the message has no `type`")?;
    let id = || {
        value
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| format!("`{kind}` needs an `id`"))
    };
    let payload = value.get("payload").filter(|p| !p.is_null()).cloned();
    match (protocol, kind) {
        (_, "connection_init") => Ok(ClientMessage::ConnectionInit(payload)),
        (Protocol::TransportWs, "ping") => Ok(ClientMessage::Ping(payload)),
        (Protocol::TransportWs, "pong") => Ok(ClientMessage::Pong),
        (Protocol::TransportWs, "subscribe") | (Protocol::Legacy, "start") => {
            let payload = payload.ok_or_else(|| format!("`{kind}` needs a `payload`"))?;
            let body = serde_json::to_vec(&payload).unwrap_or_default();
            let params = crate::http::graphql::params_from_json(&body)
                .map_err(|_| format!("`{kind}` needs a `payload` with a `query` string"))?;
            Ok(ClientMessage::Subscribe { id: id()?, params })
        }
        (Protocol::TransportWs, "complete") | (Protocol::Legacy, "stop") => {
            Ok(ClientMessage::Complete { id: id()? })
        }
        (Protocol::Legacy, "connection_terminate") => Ok(ClientMessage::Terminate),
        _ => Err(format!("unknown message type `{kind}`")),
    }
}

/// What the server sends.
pub enum ServerMessage<'a> {
    Ack,
    Pong(Option<Value>),
    /// Legacy keep-alive.
    KeepAlive,
    /// Legacy: `connection_init` refused (then the socket closes).
    ConnectionError(&'a str),
    /// One result of an operation.
    Next {
        id: &'a str,
        payload: Value,
    },
    /// The operation was refused before it ran (validation, the partner view).
    Error {
        id: &'a str,
        errors: Vec<Value>,
    },
    Complete {
        id: &'a str,
    },
}

/// A result message, serialized straight from the response body (the hot
/// path of a fan-out: no intermediate JSON tree).
pub fn encode_next<T: serde::Serialize>(protocol: Protocol, id: &str, payload: &T) -> String {
    #[derive(serde::Serialize)]
    struct Next<'a, T> {
        #[serde(rename = "type")]
        kind: &'static str,
        id: &'a str,
        payload: &'a T,
    }
    let kind = match protocol {
        Protocol::TransportWs => "next",
        Protocol::Legacy => "data",
    };
    serde_json::to_string(&Next { kind, id, payload }).unwrap_or_default()
}

/// A result message around a body already serialized (a shared execution's).
pub fn encode_next_raw(protocol: Protocol, id: &str, payload: &str) -> String {
    let kind = match protocol {
        Protocol::TransportWs => "next",
        Protocol::Legacy => "data",
    };
    let id = serde_json::to_string(id).unwrap_or_default();
    format!(r#"{{"type":"{kind}","id":{id},"payload":{payload}}}"#)
}

pub fn encode(protocol: Protocol, message: ServerMessage<'_>) -> String {
    use Protocol::{Legacy, TransportWs};
    let value = match (protocol, message) {
        (_, ServerMessage::Ack) => json!({ "type": "connection_ack" }),
        (_, ServerMessage::Pong(payload)) => match payload {
            Some(payload) => json!({ "type": "pong", "payload": payload }),
            None => json!({ "type": "pong" }),
        },
        (_, ServerMessage::KeepAlive) => json!({ "type": "ka" }),
        (_, ServerMessage::ConnectionError(message)) => {
            json!({ "type": "connection_error", "payload": { "message": message } })
        }
        (TransportWs, ServerMessage::Next { id, payload }) => {
            json!({ "type": "next", "id": id, "payload": payload })
        }
        (Legacy, ServerMessage::Next { id, payload }) => {
            json!({ "type": "data", "id": id, "payload": payload })
        }
        (TransportWs, ServerMessage::Error { id, errors }) => {
            json!({ "type": "error", "id": id, "payload": errors })
        }
        // Legacy clients expect validation errors as a result with `errors`.
        (Legacy, ServerMessage::Error { id, errors }) => {
            json!({ "type": "data", "id": id, "payload": { "errors": errors } })
        }
        (_, ServerMessage::Complete { id }) => json!({ "type": "complete", "id": id }),
    };
    value.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_current_protocol_wins_when_both_are_offered() {
        assert_eq!(
            Protocol::choose("graphql-ws, graphql-transport-ws"),
            Some(Protocol::TransportWs)
        );
        assert_eq!(Protocol::choose("graphql-ws"), Some(Protocol::Legacy));
        assert_eq!(Protocol::choose("mqtt"), None);
    }

    #[test]
    fn messages_are_read_per_protocol() {
        let start = r#"{"type":"start","id":"1","payload":{"query":"{ viewer { kind } }"}}"#;
        assert!(matches!(
            parse(Protocol::Legacy, start),
            Ok(ClientMessage::Subscribe { .. })
        ));
        assert!(parse(Protocol::TransportWs, start).is_err());
        assert!(parse(
            Protocol::TransportWs,
            r#"{"type":"subscribe","payload":{}}"#
        )
        .is_err());
        assert!(parse(Protocol::TransportWs, "not json").is_err());
        assert!(matches!(
            parse(Protocol::TransportWs, r#"{"type":"complete","id":"7"}"#),
            Ok(ClientMessage::Complete { id }) if id == "7"
        ));
    }
}
