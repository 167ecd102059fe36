//! `viewer`: who is asking.

use async_graphql::{Context, Object};

use super::{
    context,
    enums::{PrincipalKind, Role},
    partners::{Partner, PartnerContact, StaffUser},
};
use crate::{auth::Principal, error::ApiResult, service::staff};

/// The principal this request runs as.
pub struct Viewer(Principal);

/// The principal this request runs as.
#[Object]
impl Viewer {
    /// `STAFF` or `PARTNER`.
    async fn kind(&self) -> PrincipalKind {
        self.0.kind().into()
    }

    /// The role the token acts with.
    async fn role(&self) -> Role {
        self.0.role.into()
    }

    /// The partner a partner principal acts for; null for staff.
    async fn partner(&self, ctx: &Context<'_>) -> ApiResult<Option<Partner>> {
        let Some(id) = self.0.partner_id else {
            return Ok(None);
        };
        Partner::load(ctx, id).await
    }

    /// The staff user behind the token, when there is one.
    async fn staff_user(&self, ctx: &Context<'_>) -> ApiResult<Option<StaffUser>> {
        let Some(id) = self.0.staff_user_id else {
            return Ok(None);
        };
        let request = context::request(ctx)?;
        Ok(staff::find(context::db(ctx)?, &request.caller(), id)
            .await?
            .map(StaffUser::from))
    }

    /// The partner contact a portal acts as (a token from the portal's
    /// token exchange); null otherwise.
    async fn contact(&self, ctx: &Context<'_>) -> ApiResult<Option<PartnerContact>> {
        let Some(id) = self.0.contact_id else {
            return Ok(None);
        };
        let request = context::request(ctx)?;
        Ok(
            crate::service::partners::find_contact(context::db(ctx)?, &request.caller(), id)
                .await?
                .map(PartnerContact::from),
        )
    }

    /// The scopes the token carries, e.g. `partners:read`.
    async fn scopes(&self) -> Vec<String> {
        self.0
            .scopes
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect()
    }
}

#[derive(Default)]
pub struct ViewerQuery;

#[Object]
impl ViewerQuery {
    /// Who is asking: kind, role, partner and scopes of the calling token.
    async fn viewer(&self, ctx: &Context<'_>) -> ApiResult<Viewer> {
        Ok(Viewer(context::request(ctx)?.principal.clone()))
    }
}
