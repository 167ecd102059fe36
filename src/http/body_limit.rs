//! The request body limit (SPEC §7), answered so that clients can read it.
//!
//! A server that answers `413` and closes the connection while the client
//! is still writing the body makes the client's kernel receive a reset:
//! the client then reports `EPIPE` or `ECONNRESET` instead of the `413`
//! (Node's `fetch` did, one run in three). So a body over the limit is read
//! and thrown away first, up to [`DRAIN_BYTES`] and for at most
//! [`DRAIN_TIME`], and only then answered; the connection stays usable. A
//! body larger than that, or slower, is answered anyway and the connection
//! closed (`Connection: close`): past that bound the client is abusive, not
//! unlucky. A client that asked `Expect: 100-continue` has not sent its body
//! yet and gets the `413` at once, without being invited to send it.
//!
//! Bodies within the limit are read here whole (every route reads its body
//! whole anyway), so the handlers behind see a complete body.

use std::time::Duration;

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use futures_util::StreamExt;

use super::response;

/// The most of an oversized body read (and discarded) before answering.
pub const DRAIN_BYTES: usize = 16 * 1024 * 1024;
/// The longest an oversized body is read before answering.
pub const DRAIN_TIME: Duration = Duration::from_secs(5);

/// The middleware: `max` is the largest body accepted, in bytes.
pub async fn limit(State(max): State<usize>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    if declared_length(&parts.headers).is_some_and(|length| length > max as u64) {
        if expects_continue(&parts.headers) {
            return too_large(max, false);
        }
        let finished = drain(body.into_data_stream(), 0).await;
        return too_large(max, !finished);
    }
    let mut stream = body.into_data_stream();
    let mut read = Vec::new();
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            return response::bad_request("the request body could not be read").into_response();
        };
        if read.len() + chunk.len() > max {
            let finished = drain(stream, read.len() + chunk.len()).await;
            return too_large(max, !finished);
        }
        read.extend_from_slice(&chunk);
    }
    next.run(Request::from_parts(parts, Body::from(Bytes::from(read))))
        .await
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn expects_continue(headers: &HeaderMap) -> bool {
    headers
        .get(header::EXPECT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("100-continue"))
}

/// Reads and discards the rest of a body, `already` bytes of it being read;
/// `true` when it ended within the bounds.
async fn drain(mut stream: axum::body::BodyDataStream, already: usize) -> bool {
    let discard = async {
        let mut read = already;
        while let Some(chunk) = stream.next().await {
            let Ok(chunk) = chunk else { return false };
            read += chunk.len();
            if read > DRAIN_BYTES {
                return false;
            }
        }
        true
    };
    tokio::time::timeout(DRAIN_TIME, discard)
        .await
        .unwrap_or(false)
}

fn too_large(max: usize, close: bool) -> Response {
    let message = format!("the request body is larger than the limit of {max} bytes");
    let mut answer =
        response::error(StatusCode::PAYLOAD_TOO_LARGE, "BAD_USER_INPUT", message).into_response();
    if close {
        answer
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    answer
}
