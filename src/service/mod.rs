//! Use cases: load, decide with `domain`, and write through the one unit of
//! work so the change, its audit entry and its outbox event commit together.

pub mod activation;
pub mod activity;
pub mod api_clients;
pub mod audit;
pub mod certifications;
pub mod deals;
pub mod demo;
pub mod exchange_rates;
pub mod external_ids;
pub mod idempotency;
pub mod incentives;
pub mod milestones;
pub mod opportunities;
pub mod pagination;
pub mod partners;
pub mod program_metrics;
pub mod registrations;
pub mod rows;
pub mod scores;
pub mod settings;
pub mod sql;
pub mod staff;
pub mod webhooks;

/// The one write path lives at the crate root; services reach it as `super::unit_of_work`.
pub use crate::unit_of_work;

use crate::{domain::UserError, error::ApiError};

/// How a use case can fail: the caller's input broke a business rule (answered
/// as `userErrors`), or the request itself fails (a top-level error).
#[derive(Debug)]
pub enum Failure {
    User(Vec<UserError>),
    Api(ApiError),
}

impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Self {
        Failure::Api(error)
    }
}

impl From<sea_orm::DbErr> for Failure {
    fn from(error: sea_orm::DbErr) -> Self {
        Failure::Api(error.into())
    }
}

impl From<UserError> for Failure {
    fn from(error: UserError) -> Self {
        Failure::User(vec![error])
    }
}

pub type Outcome<T> = Result<T, Failure>;

/// Who is calling a use case, and the one "now" of their request.
pub struct Caller<'a> {
    pub principal: &'a crate::auth::Principal,
    pub request_id: Option<String>,
    pub now: chrono::DateTime<chrono::Utc>,
}

impl Caller<'_> {
    pub fn actor(&self) -> unit_of_work::Actor {
        unit_of_work::Actor::principal(self.principal, self.request_id.clone())
    }
}

/// Sets a column when a change names it; `None` leaves it as it was read.
pub fn set_if<T: Into<sea_orm::Value>>(column: &mut sea_orm::ActiveValue<T>, change: Option<T>) {
    if let Some(value) = change {
        *column = sea_orm::ActiveValue::Set(value);
    }
}
