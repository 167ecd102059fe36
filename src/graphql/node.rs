//! The Relay `Node` interface and the `node`/`nodes` lookups. A lookup the
//! caller may not see answers `null`, exactly like an id that does not exist.

use async_graphql::{Context, Interface, Object, ID};

use super::{
    api_clients::ApiClient,
    certifications::{Certification, CertificationTrack},
    context,
    partners::{Partner, PartnerContact, StaffUser},
    registrations::{DealRegistration, Opportunity},
    webhooks::{WebhookDelivery, WebhookEndpoint},
};
use crate::{
    auth::Action,
    error::ApiResult,
    ids::{self, NodeType},
    service::{
        api_clients, certifications, opportunities, partners, registrations, staff, webhooks,
    },
};

/// An object with a globally unique, opaque id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Globally unique, opaque id."))]
pub enum Node {
    Partner(Partner),
    PartnerContact(PartnerContact),
    StaffUser(StaffUser),
    ApiClient(ApiClient),
    CertificationTrack(CertificationTrack),
    Certification(Certification),
    DealRegistration(DealRegistration),
    Opportunity(Opportunity),
    WebhookEndpoint(WebhookEndpoint),
    WebhookDelivery(WebhookDelivery),
    PartnerActivity(super::activity::PartnerActivity),
    IncentivePlan(super::incentives::IncentivePlan),
    IncentiveAccrual(super::incentives::IncentiveAccrual),
    Payout(super::incentives::Payout),
}

#[derive(Default)]
pub struct NodeQuery;

async fn lookup(ctx: &Context<'_>, id: &str) -> ApiResult<Option<Node>> {
    let request = context::request(ctx)?;
    let db = context::db(ctx)?;
    let caller = request.caller();
    let Some((node_type, uuid)) = ids::decode(id) else {
        return Ok(None);
    };
    // A node the caller may not read answers null, like one that does not exist.
    let needs = match node_type {
        NodeType::ApiClient => Action::ManageApiClients,
        NodeType::WebhookEndpoint | NodeType::WebhookDelivery => Action::ManageWebhooks,
        NodeType::CertificationTrack | NodeType::Certification => Action::ReadCertifications,
        NodeType::DealRegistration => Action::ReadRegistrations,
        NodeType::Opportunity => Action::ReadPipeline,
        // Conflicts are reached through their registration only.
        NodeType::RegistrationConflict => return Ok(None),
        NodeType::Partner | NodeType::PartnerContact | NodeType::StaffUser => Action::ReadPartners,
        NodeType::PartnerActivity => Action::ReadActivity,
        NodeType::IncentivePlan | NodeType::IncentiveAccrual | NodeType::Payout => {
            return super::incentives::node(ctx, node_type, uuid).await;
        }
        NodeType::LedgerEntry => return Ok(None),
    };
    if !request.principal.may(needs) {
        return Ok(None);
    }
    Ok(match node_type {
        NodeType::Partner => partners::find(db, &caller, uuid)
            .await?
            .map(|p| Node::Partner(p.into())),
        NodeType::PartnerContact => partners::find_contact(db, &caller, uuid)
            .await?
            .map(|c| Node::PartnerContact(c.into())),
        NodeType::StaffUser => staff::find(db, &caller, uuid)
            .await?
            .map(|u| Node::StaffUser(u.into())),
        NodeType::ApiClient => api_clients::find(db, &caller, uuid)
            .await?
            .map(|c| Node::ApiClient(c.into())),
        NodeType::CertificationTrack => certifications::find_track(db, uuid)
            .await?
            .map(|t| Node::CertificationTrack(t.into())),
        NodeType::Certification => certifications::find(db, &caller, uuid)
            .await?
            .map(|c| Node::Certification(c.into())),
        NodeType::DealRegistration => registrations::find(db, &caller, uuid)
            .await?
            .map(|r| Node::DealRegistration(r.into())),
        NodeType::Opportunity => opportunities::find(db, &caller, uuid)
            .await?
            .map(|o| Node::Opportunity(o.into())),
        NodeType::WebhookEndpoint => webhooks::find(db, &caller, uuid)
            .await?
            .map(|e| Node::WebhookEndpoint(e.into())),
        NodeType::WebhookDelivery => webhooks::find_delivery(db, &caller, uuid)
            .await?
            .map(|d| Node::WebhookDelivery(d.into())),
        NodeType::PartnerActivity => crate::service::activity::find(db, &caller, uuid)
            .await?
            .map(|a| Node::PartnerActivity(a.into())),
        NodeType::RegistrationConflict
        | NodeType::IncentivePlan
        | NodeType::IncentiveAccrual
        | NodeType::Payout
        | NodeType::LedgerEntry => None,
    })
}

#[Object]
impl NodeQuery {
    /// The object with this global id, or null when there is none you may see.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global id, as any object's `id` gives it.")] id: ID,
    ) -> ApiResult<Option<Node>> {
        lookup(ctx, &id).await
    }

    /// The objects with these global ids, in the same order; null for each one
    /// that does not exist or that you may not see. At most 100 ids.
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ids, at most 100.")] ids: Vec<ID>,
    ) -> ApiResult<Vec<Option<Node>>> {
        if ids.len() > 100 {
            return Err(crate::error::ApiError::BadUserInput(
                "`ids` may hold at most 100 ids".into(),
            ));
        }
        let mut nodes = Vec::with_capacity(ids.len());
        for id in &ids {
            nodes.push(lookup(ctx, id).await?);
        }
        Ok(nodes)
    }
}
