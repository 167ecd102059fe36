//! Business-rule failures, answered in mutation payloads as `userErrors`.

use async_graphql::{Enum, SimpleObject};

/// Why a mutation's input was refused.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum UserErrorCode {
    /// A field's value is not acceptable; the message says why.
    InvalidValue,
    /// The record named by an id does not exist (or is not yours to see).
    NotFound,
    /// Another record already uses this value.
    AlreadyExists,
    /// The record changed since you read it: `expectedVersion` is behind.
    StaleVersion,
    /// The status change is not an allowed move.
    InvalidTransition,
    /// The partner needs a contact with an active `SALES` certification first.
    CertificationRequired,
    /// The partner already has an active registration for this account.
    DuplicateRegistration,
}

/// One business-rule failure, naming the input field it concerns.
#[derive(SimpleObject, Clone, Debug, PartialEq, Eq)]
pub struct UserError {
    /// Path to the input field at fault, e.g. `["input", "website"]`; absent when the error concerns the whole input.
    pub field: Option<Vec<String>>,
    /// Stable machine-readable code.
    pub code: UserErrorCode,
    /// Human-readable explanation.
    pub message: String,
}

impl UserError {
    /// An error on `input.<field>`.
    pub fn on_field(field: &str, code: UserErrorCode, message: impl Into<String>) -> Self {
        Self {
            field: Some(vec!["input".to_owned(), field.to_owned()]),
            code,
            message: message.into(),
        }
    }
}
