//! Partner-requested extensions of a registration's protection: the owning
//! partner asks, staff grant (`extendDealRegistration`) or decline.

use async_graphql::{Context, InputObject, Object, ID};

use super::{
    context,
    payload::mutate,
    registrations::{payload, registration_and_reason, DealRegistrationPayload},
};
use crate::{auth::Action, error::ApiResult, service::registrations as service};

/// A partner's request for more protection.
#[derive(InputObject)]
pub struct RequestRegistrationExtensionInput {
    /// The registration's global id.
    pub id: ID,
    /// Days asked for, up to the program's limit per extension.
    pub days: i32,
    /// Why; the reviewer sees it.
    pub reason: String,
}

/// A declined extension request.
#[derive(InputObject)]
pub struct DeclineRegistrationExtensionInput {
    /// The registration's global id.
    pub id: ID,
    /// Why; the partner sees it.
    pub reason: String,
}

#[derive(Default)]
pub struct ExtensionMutation;

#[Object]
impl ExtensionMutation {
    /// Asks staff to extend an approved registration's protection while it
    /// is still active; one request at a time (`deal_registration.extension_requested`).
    /// The owning partner only (`PARTNER_ADMIN`, `PARTNER_REP`); needs `registrations:write`.
    async fn request_registration_extension(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The registration, the days asked for and why.")]
        input: RequestRegistrationExtensionInput,
    ) -> ApiResult<DealRegistrationPayload> {
        mutate(ctx, Action::RequestExtensions, |request| async move {
            let (id, why) = registration_and_reason(&input.id, input.reason)?;
            service::request_extension(context::db(ctx)?, &request.caller(), id, input.days, why)
                .await
        })
        .await
        .map(payload)
    }

    /// Declines a partner's pending extension request with a reason the
    /// partner sees (`deal_registration.extension_declined`); grant one with
    /// `extendDealRegistration`. Needs `PARTNER_MANAGER` or `ADMIN` and `registrations:write`.
    async fn decline_registration_extension(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The registration and the reason.")]
        input: DeclineRegistrationExtensionInput,
    ) -> ApiResult<DealRegistrationPayload> {
        mutate(ctx, Action::ReviewRegistrations, |request| async move {
            let (id, why) = registration_and_reason(&input.id, input.reason)?;
            service::decline_extension(context::db(ctx)?, &request.caller(), id, why).await
        })
        .await
        .map(payload)
    }
}
