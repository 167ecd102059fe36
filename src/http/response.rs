//! Error answers the HTTP layer gives before GraphQL runs, in the GraphQL
//! response shape so clients parse one format.

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::json;

pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json; charset=utf-8";
pub const APPLICATION_JSON: &str = "application/json; charset=utf-8";

/// A request refused before GraphQL runs; answers
/// `{"errors":[{"message", "extensions":{"code"}}]}` with its status.
#[derive(Debug)]
pub struct Rejection {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// `Allow` header value, for 405.
    pub allow: Option<&'static str>,
}

pub fn error(status: StatusCode, code: &'static str, message: impl Into<String>) -> Rejection {
    Rejection {
        status,
        code,
        message: message.into(),
        allow: None,
    }
}

pub fn bad_request(message: impl Into<String>) -> Rejection {
    error(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", message)
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let body =
            json!({ "errors": [{ "message": self.message, "extensions": { "code": self.code } }] });
        let mut response = (self.status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(APPLICATION_JSON),
        );
        if let Some(allow) = self.allow {
            headers.insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// A panic becomes a 500 with no details; the panic itself is logged.
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL_SERVER_ERROR",
        "internal server error",
    )
    .into_response()
}
