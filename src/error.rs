//! The one error type at the API edge.
//!
//! Policy: every top-level GraphQL error carries a stable `extensions.code`.
//! Business-rule failures are not errors here but `userErrors` in mutation
//! payloads. An internal failure is logged with its whole cause chain and
//! answered only with a generic message and the request id (added by the HTTP
//! layer), never with its details.

use async_graphql::ErrorExtensions;

/// Deliberately not `Display`: async-graphql converts any `Display` type into
/// an error without a code, and this type must only become one with its code.
#[derive(Debug, Clone)]
pub enum ApiError {
    Unauthenticated,
    Forbidden(String),
    NotFound,
    BadUserInput(String),
    QueryTooComplex(String),
    /// The principal's query-cost budget cannot pay (HTTP 429).
    RateLimited(String),
    /// Shared, because async-graphql needs errors to be `Clone`.
    Internal(std::sync::Arc<anyhow::Error>),
}

impl ApiError {
    pub const INTERNAL_CODE: &'static str = "INTERNAL_SERVER_ERROR";

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated => "UNAUTHENTICATED",
            ApiError::Forbidden(_) => "FORBIDDEN",
            ApiError::NotFound => "NOT_FOUND",
            ApiError::BadUserInput(_) => "BAD_USER_INPUT",
            ApiError::QueryTooComplex(_) => "QUERY_TOO_COMPLEX",
            ApiError::RateLimited(_) => "RATE_LIMITED",
            ApiError::Internal(_) => Self::INTERNAL_CODE,
        }
    }

    /// What the client is told; never the cause of an internal error.
    pub fn message(&self) -> String {
        match self {
            ApiError::Unauthenticated => {
                "authentication required: send a valid bearer token".into()
            }
            ApiError::Forbidden(why) => format!("forbidden: {why}"),
            ApiError::NotFound => "not found".into(),
            ApiError::BadUserInput(message)
            | ApiError::QueryTooComplex(message)
            | ApiError::RateLimited(message) => message.clone(),
            ApiError::Internal(_) => "internal server error".into(),
        }
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        ApiError::Internal(std::sync::Arc::new(error.into()))
    }

    /// As an error of a GraphQL response (a request refused before it ran).
    pub fn into_server_error(self) -> async_graphql::ServerError {
        let error: async_graphql::Error = self.into();
        error.into_server_error(async_graphql::Pos::default())
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(error: sea_orm::DbErr) -> Self {
        ApiError::internal(error)
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        if let ApiError::Internal(cause) = &error {
            tracing::error!(error = format!("{cause:#}"), "internal error");
        }
        let code = error.code();
        async_graphql::Error::new(error.message()).extend_with(|_, e| e.set("code", code))
    }
}

/// Shorthand for resolver results.
pub type ApiResult<T> = Result<T, ApiError>;
