//! WebSocket clients for the tests: a raw one that speaks either protocol
//! message by message (to see close codes), and the graphql-ws-client crate,
//! a standard `graphql-transport-ws` client.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::{
    connect_async,
    tungstenite::{client::IntoClientRequest, protocol::frame::coding::CloseCode, Message},
    MaybeTlsStream, WebSocketStream,
};

use super::TestApp;

pub type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// A socket to `/graphql` offering `protocol`.
pub async fn connect(app: &TestApp, protocol: &str) -> Socket {
    connect_to(&app.address.to_string(), protocol).await
}

pub async fn connect_to(address: &str, protocol: &str) -> Socket {
    let mut request = format!("ws://{address}/graphql")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", protocol.parse().unwrap());
    let (socket, response) = connect_async(request).await.unwrap();
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        protocol,
        "the server speaks the offered protocol"
    );
    socket
}

pub async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .unwrap();
}

/// The next JSON message, or `None` if the socket closed or `wait` passed.
pub async fn next(socket: &mut Socket, wait: Duration) -> Option<Value> {
    let text = next_text(socket, wait).await?;
    Some(serde_json::from_str(&text).unwrap())
}

/// The next text message as sent, for tests of its bytes.
pub async fn next_text(socket: &mut Socket, wait: Duration) -> Option<String> {
    loop {
        match tokio::time::timeout(wait, socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => return Some(text.as_str().to_owned()),
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            _ => return None,
        }
    }
}

/// Reads until the server closes; its close code.
pub async fn close_code(socket: &mut Socket, wait: Duration) -> Option<u16> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, socket.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => {
                return frame
                    .map(|f| u16::from(f.code))
                    .or(Some(u16::from(CloseCode::Status)))
            }
            Ok(Some(Ok(_))) => continue,
            _ => return None,
        }
    }
}

/// Connects with `graphql-transport-ws`, initialises with `token` and waits for the ack.
pub async fn ready(app: &TestApp, token: &str) -> Socket {
    ready_at(&app.address.to_string(), token).await
}

pub async fn ready_at(address: &str, token: &str) -> Socket {
    let mut socket = connect_to(address, "graphql-transport-ws").await;
    send(
        &mut socket,
        json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } }),
    )
    .await;
    let ack = next(&mut socket, Duration::from_secs(5)).await;
    assert_eq!(ack, Some(json!({ "type": "connection_ack" })));
    socket
}

pub async fn subscribe(socket: &mut Socket, id: &str, query: &str, variables: Value) {
    send(
        socket,
        json!({ "type": "subscribe", "id": id, "payload": { "query": query, "variables": variables } }),
    )
    .await;
}

/// The `payload` of the next `next` message for `id`, failing on anything else.
pub async fn next_payload(socket: &mut Socket, id: &str) -> Value {
    let message = next(socket, Duration::from_secs(10))
        .await
        .expect("a message within 10 s");
    assert_eq!(message["type"], "next", "{message}");
    assert_eq!(message["id"], id, "{message}");
    message["payload"].clone()
}

/// A GraphQL operation for graphql-ws-client: the raw JSON response.
#[derive(serde::Serialize)]
pub struct Operation {
    pub query: String,
    pub variables: Value,
}

impl graphql_ws_client::graphql::GraphqlOperation for Operation {
    type Response = Value;
    type Error = serde_json::Error;

    fn decode(&self, data: Value) -> Result<Value, serde_json::Error> {
        Ok(data)
    }
}

/// A subscription through the graphql-ws-client crate, authenticated in
/// `connection_init`. The client's connection actor runs in a task of its
/// own, so the subscription goes out at once rather than when first polled;
/// keep the returned client for as long as the subscription.
pub async fn standard_subscription(
    app: &TestApp,
    token: &str,
    query: &str,
    variables: Value,
) -> (
    graphql_ws_client::Client,
    graphql_ws_client::Subscription<Operation>,
) {
    let mut request = format!("ws://{}/graphql", app.address)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (connection, _) = connect_async(request).await.unwrap();
    let (client, actor) = graphql_ws_client::Client::build(connection)
        .payload(json!({ "Authorization": format!("Bearer {token}") }))
        .unwrap()
        .await
        .unwrap();
    tokio::spawn(std::future::IntoFuture::into_future(actor));
    let subscription = client
        .subscribe(Operation {
            query: query.to_owned(),
            variables,
        })
        .await
        .unwrap();
    (client, subscription)
}
