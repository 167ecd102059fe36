//! CRM links (SPEC §4.3), staff only: finding partners and opportunities by
//! their ids in outside systems, linking and unlinking them, and
//! `upsertPartnerByExternalId`. None of it is in the partner view.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};

use super::{
    context,
    enums::PartnerType,
    partners::Partner,
    payload::{mutate, InputCheck},
    registrations::Opportunity,
};
use crate::{
    auth::Action,
    domain::{
        inputs::{DisplayName, ExternalKey, WebsiteUrl},
        UserError, UserErrorCode,
    },
    error::ApiResult,
    ids::{self, NodeType},
    service::{
        external_ids::{self as service, CrmPartner, Holder, Linked},
        Failure,
    },
};

/// A record and one of its ids in an outside system.
#[derive(InputObject)]
pub struct ExternalIdInput {
    /// The partner's or opportunity's global id.
    pub id: ID,
    /// The outside system, e.g. `salesforce` (case-insensitive).
    pub system: String,
    /// The record's id in that system.
    pub external_id: String,
}

/// The result of `linkExternalId` and `unlinkExternalId`: the record, by its type.
#[derive(SimpleObject)]
pub struct ExternalIdPayload {
    /// The partner, when the id named one.
    pub partner: Option<Partner>,
    /// The opportunity, when the id named one.
    pub opportunity: Option<Opportunity>,
    /// Why the input was refused; empty on success.
    pub user_errors: Vec<UserError>,
}

/// A partner as a CRM knows it. The CRM owns name and website; tier, status
/// and attribution stay PartnerGraph's.
#[derive(InputObject)]
pub struct UpsertPartnerByExternalIdInput {
    /// The CRM, e.g. `salesforce`.
    pub system: String,
    /// The partner's (account's) id in that CRM.
    pub external_id: String,
    /// An existing partner to link when the CRM id is not linked yet.
    pub id: Option<ID>,
    /// The company name in the CRM; unique across the program.
    pub name: String,
    /// The website in the CRM; absent clears it.
    pub website: Option<String>,
    /// The partner type, used only when the upsert creates the partner (then required).
    #[graphql(name = "type")]
    pub partner_type: Option<PartnerType>,
}

/// The result of `upsertPartnerByExternalId`.
#[derive(SimpleObject)]
pub struct UpsertPartnerByExternalIdPayload {
    /// The partner created, linked or updated, unless `userErrors` says why not.
    pub partner: Option<Partner>,
    /// Why the input was refused; empty on success.
    pub user_errors: Vec<UserError>,
}

/// The record an input's `id` names, and the right changing its links needs.
fn holder(check: &mut InputCheck, id: &ID) -> Option<(Holder, Action)> {
    match ids::decode(id) {
        Some((NodeType::Partner, id)) => Some((Holder::Partner(id), Action::WritePartners)),
        Some((NodeType::Opportunity, id)) => {
            Some((Holder::Opportunity(id), Action::CreateOpportunities))
        }
        _ => {
            check.reject(UserError::on_field(
                "id",
                UserErrorCode::NotFound,
                "no partner or opportunity has this id",
            ));
            None
        }
    }
}

fn key(check: &mut InputCheck, system: &str, external_id: &str) -> Option<ExternalKey> {
    let system = check.field("system", ExternalKey::system(system));
    let external_id = check.field("externalId", ExternalKey::external_id(external_id));
    Some(ExternalKey {
        system: system?,
        external_id: external_id?,
    })
}

fn payload((linked, user_errors): (Option<Linked>, Vec<UserError>)) -> ExternalIdPayload {
    let (partner, opportunity) = match linked {
        Some(Linked::Partner(p)) => (Some(Partner::from(p)), None),
        Some(Linked::Opportunity(o)) => (None, Some(Opportunity::from(o))),
        None => (None, None),
    };
    ExternalIdPayload {
        partner,
        opportunity,
        user_errors,
    }
}

/// Link and unlink: staff with the write right of the record's type.
async fn change_link(
    ctx: &Context<'_>,
    input: ExternalIdInput,
    unlink: bool,
) -> ApiResult<ExternalIdPayload> {
    mutate(ctx, Action::ReadExternalIds, |request| async move {
        let (holder, key) = InputCheck::parse(|check| {
            let holder = holder(check, &input.id);
            let key = key(check, &input.system, &input.external_id);
            Some((holder?, key?))
        })?;
        let (holder, right) = holder;
        request.principal.authorize(right).map_err(Failure::Api)?;
        let db = context::db(ctx)?;
        if unlink {
            service::unlink(db, &request.caller(), holder, key).await
        } else {
            service::link(db, &request.caller(), holder, key).await
        }
    })
    .await
    .map(payload)
}

#[derive(Default)]
pub struct ExternalIdQuery;

#[Object]
impl ExternalIdQuery {
    /// The partner linked to this id in an outside system, or null. Staff
    /// only; needs `partners:read`.
    async fn partner_by_external_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The outside system, e.g. `salesforce` (case-insensitive).")]
        system: String,
        #[graphql(desc = "The partner's id in that system.")] external_id: String,
    ) -> ApiResult<Option<Partner>> {
        let request = context::request(ctx)?;
        request.principal.authorize(Action::ReadExternalIds)?;
        request.principal.authorize(Action::ReadPartners)?;
        let Ok(key) = InputCheck::parse(|check| key(check, &system, &external_id)) else {
            return Ok(None);
        };
        Ok(service::partner_by(context::db(ctx)?, &key)
            .await?
            .map(Partner::from))
    }

    /// The opportunity linked to this id in an outside system, or null.
    /// Staff only; needs `pipeline:read`.
    async fn opportunity_by_external_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The outside system, e.g. `salesforce` (case-insensitive).")]
        system: String,
        #[graphql(desc = "The opportunity's id in that system.")] external_id: String,
    ) -> ApiResult<Option<Opportunity>> {
        let request = context::request(ctx)?;
        request.principal.authorize(Action::ReadExternalIds)?;
        request.principal.authorize(Action::ReadPipeline)?;
        let Ok(key) = InputCheck::parse(|check| key(check, &system, &external_id)) else {
            return Ok(None);
        };
        Ok(service::opportunity_by(context::db(ctx)?, &key)
            .await?
            .map(Opportunity::from))
    }
}

#[derive(Default)]
pub struct ExternalIdMutation;

#[Object]
impl ExternalIdMutation {
    /// Links a partner or an opportunity to its id in an outside system (a
    /// CRM), e.g. the opportunity a registration's approval opened, so the
    /// CRM's first sync updates it instead of creating another. An id is
    /// unique per system and type, and a record has at most one id per
    /// system. Staff with `partners:write` (partners) or the right to create
    /// opportunities and `pipeline:write` (opportunities).
    async fn link_external_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The record and its id in the outside system.")] input: ExternalIdInput,
    ) -> ApiResult<ExternalIdPayload> {
        change_link(ctx, input, false).await
    }

    /// Removes a record's link to an id in an outside system. Rights as for `linkExternalId`.
    async fn unlink_external_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The record and the id to unlink.")] input: ExternalIdInput,
    ) -> ApiResult<ExternalIdPayload> {
        change_link(ctx, input, true).await
    }

    /// Creates or updates the partner a CRM knows by `(system, externalId)`,
    /// idempotently: the partner linked to it, else the partner `id` names
    /// (then linked), else a new one (`type` required). The CRM owns name
    /// and website; tier, status and attribution are never touched. Needs
    /// `PARTNER_MANAGER` or `ADMIN` and `partners:write`.
    async fn upsert_partner_by_external_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partner as the CRM knows it.")] input: UpsertPartnerByExternalIdInput,
    ) -> ApiResult<UpsertPartnerByExternalIdPayload> {
        let (partner, user_errors) = mutate(ctx, Action::WritePartners, |request| async move {
            let crm = InputCheck::parse(|check| {
                let key = key(check, &input.system, &input.external_id);
                let id = input
                    .id
                    .and_then(|id| check.id("id", NodeType::Partner, &id));
                let name = check.field("name", DisplayName::parse(&input.name));
                let website = check.optional("website", input.website, |w| WebsiteUrl::parse(&w));
                Some(CrmPartner {
                    key: key?,
                    id,
                    name: name?,
                    website,
                    partner_type: input.partner_type.map(Into::into),
                })
            })?;
            service::upsert_partner(context::db(ctx)?, &request.caller(), crm).await
        })
        .await?;
        Ok(UpsertPartnerByExternalIdPayload {
            partner: partner.map(Partner::from),
            user_errors,
        })
    }
}
