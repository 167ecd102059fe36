//! What every resolver needs from the request: who asks, the request id, and
//! the one "now" of the request.

use async_graphql::Context;
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::{auth::Principal, error::ApiError, service::Caller};

/// Put into each request's data by the HTTP layer.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub principal: Principal,
    pub request_id: String,
    pub now: DateTime<Utc>,
}

impl RequestContext {
    pub fn caller(&self) -> Caller<'_> {
        Caller {
            principal: &self.principal,
            request_id: Some(self.request_id.clone()),
            now: self.now,
        }
    }
}

/// The request context; its absence means no principal, which the HTTP
/// layer already answers with `UNAUTHENTICATED` before execution.
pub fn request<'a>(ctx: &Context<'a>) -> Result<&'a RequestContext, ApiError> {
    ctx.data_opt::<RequestContext>()
        .ok_or(ApiError::Unauthenticated)
}

pub fn db<'a>(ctx: &Context<'a>) -> Result<&'a DatabaseConnection, ApiError> {
    ctx.data_opt::<DatabaseConnection>()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("schema built without a database")))
}
