//! Turning a mutation's input into typed values and its use case's outcome
//! into a payload: bad fields and business-rule failures become
//! `userErrors`, anything else a top-level error.

use std::future::Future;

use async_graphql::{Context, ID};
use uuid::Uuid;

use crate::{
    auth::Action,
    domain::{inputs::InvalidInput, UserError, UserErrorCode},
    error::{ApiError, ApiResult},
    graphql::context::{self, RequestContext},
    ids::{self, NodeType},
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

/// The skeleton of every mutation: authorize `action`, run `change` (parse
/// the input, call a service), and split its outcome for the payload.
pub async fn mutate<'a, T, F>(
    ctx: &Context<'a>,
    action: Action,
    change: impl FnOnce(&'a RequestContext) -> F,
) -> ApiResult<(Option<T>, Vec<UserError>)>
where
    F: Future<Output = Outcome<T>>,
{
    use tracing::Instrument;
    let request = context::request(ctx)?;
    request.principal.authorize(action)?;
    // The use case's span (traces: request → graphql → service → sql).
    let span = tracing::info_span!("service", mutation = %ctx.field().name());
    settle(change(request).instrument(span).await)
}

/// The row id behind a global id of `node_type`, or the message a malformed
/// id answers: the same as for an id of no row.
pub fn decode_id(node_type: NodeType, id: &ID) -> Result<Uuid, String> {
    ids::decode_as(node_type, id).ok_or_else(|| format!("no {} has this id", noun(node_type)))
}

/// The row id behind the one id an input names, as a one-field parse.
pub fn input_id(field: &str, node_type: NodeType, id: &ID) -> Result<Uuid, Failure> {
    InputCheck::parse(|check| check.id(field, node_type, id))
}

/// How messages name a node type.
fn noun(node_type: NodeType) -> &'static str {
    match node_type {
        NodeType::Partner => "partner",
        NodeType::PartnerContact => "partner contact",
        NodeType::StaffUser => "staff user",
        NodeType::ApiClient => "API client",
        NodeType::CertificationTrack => "certification track",
        NodeType::Certification => "certification",
        NodeType::DealRegistration => "deal registration",
        NodeType::Opportunity => "opportunity",
        NodeType::RegistrationConflict => "registration conflict",
        NodeType::WebhookEndpoint => "webhook endpoint",
        NodeType::WebhookDelivery => "webhook delivery",
        NodeType::PartnerActivity => "partner activity",
        NodeType::IncentivePlan => "incentive plan",
        NodeType::IncentiveAccrual => "accrual",
        NodeType::Payout => "payout",
        NodeType::LedgerEntry => "ledger entry",
    }
}

/// Collects every invalid field of an input, so one answer names them all.
#[derive(Default)]
pub struct InputCheck {
    errors: Vec<UserError>,
}

impl InputCheck {
    /// Runs one input's parser: its typed value, or every field it refused.
    pub fn parse<T>(parse: impl FnOnce(&mut InputCheck) -> Option<T>) -> Result<T, Failure> {
        let mut check = InputCheck::default();
        let parsed = parse(&mut check);
        match parsed {
            Some(parsed) if check.errors.is_empty() => Ok(parsed),
            None if check.errors.is_empty() => Err(Failure::Api(ApiError::internal(
                anyhow::anyhow!("an input parser refused without naming a field"),
            ))),
            _ => Err(Failure::User(check.errors)),
        }
    }

    /// The parsed value, or `None` after noting why `field` was refused.
    pub fn field<T>(&mut self, field: &str, parsed: Result<T, InvalidInput>) -> Option<T> {
        parsed
            .map_err(|e| {
                self.errors
                    .push(UserError::on_field(field, UserErrorCode::InvalidValue, e.0))
            })
            .ok()
    }

    /// The row id behind the global id in `field`, or `None` after noting it
    /// as an id of no `node_type`.
    pub fn id(&mut self, field: &str, node_type: NodeType, id: &ID) -> Option<Uuid> {
        decode_id(node_type, id)
            .map_err(|message| {
                self.errors
                    .push(UserError::on_field(field, UserErrorCode::NotFound, message))
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

    /// The value of a parser that names its own field, or `None` after noting its error.
    pub fn checked<T>(&mut self, parsed: Result<T, UserError>) -> Option<T> {
        parsed.map_err(|error| self.errors.push(error)).ok()
    }

    pub fn reject(&mut self, error: UserError) {
        self.errors.push(error);
    }
}
