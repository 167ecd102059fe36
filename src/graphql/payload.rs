//! Turning a use case's outcome into a mutation payload: business-rule
//! failures become `userErrors`, anything else a top-level error.

use crate::{
    domain::{inputs::InvalidInput, UserError, UserErrorCode},
    error::ApiError,
    service::{Failure, Outcome},
};

/// The changed object, or the user errors that stopped the change.
pub fn settle<T>(outcome: Outcome<T>) -> Result<(Option<T>, Vec<UserError>), ApiError> {
    match outcome {
        Ok(value) => Ok((Some(value), Vec::new())),
        Err(Failure::User(errors)) => Ok((None, errors)),
        Err(Failure::Api(error)) => Err(error),
    }
}

/// Collects every invalid field of an input, so one answer names them all.
#[derive(Default)]
pub struct InputCheck {
    errors: Vec<UserError>,
}

impl InputCheck {
    /// The parsed value, or `None` after noting why `field` was refused.
    pub fn field<T>(&mut self, field: &str, parsed: Result<T, InvalidInput>) -> Option<T> {
        parsed
            .map_err(|e| {
                self.errors
                    .push(UserError::on_field(field, UserErrorCode::InvalidValue, e.0))
            })
            .ok()
    }

    /// Like [`Self::field`] for an optional input.
    pub fn optional<R, T>(
        &mut self,
        field: &str,
        raw: Option<R>,
        parse: impl FnOnce(R) -> Result<T, InvalidInput>,
    ) -> Option<T> {
        raw.and_then(|raw| self.field(field, parse(raw)))
    }

    /// Like [`Self::optional`] for a field that `null` clears: `None` leaves
    /// it alone, `Some(None)` clears it.
    pub fn clearable<R, T>(
        &mut self,
        field: &str,
        raw: async_graphql::MaybeUndefined<R>,
        parse: impl FnOnce(R) -> Result<T, InvalidInput>,
    ) -> Option<Option<T>> {
        match raw {
            async_graphql::MaybeUndefined::Undefined => None,
            async_graphql::MaybeUndefined::Null => Some(None),
            async_graphql::MaybeUndefined::Value(raw) => self.field(field, parse(raw)).map(Some),
        }
    }

    pub fn reject(&mut self, error: UserError) {
        self.errors.push(error);
    }

    /// `Err` with every error noted, or `Ok` when the input is clean.
    pub fn finish(self) -> Result<(), Failure> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Failure::User(self.errors))
        }
    }
}
