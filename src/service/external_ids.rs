//! CRM links (SPEC §4.3): partners and opportunities carry ids in outside
//! systems. A CRM id is unique per system and type (the tables' primary
//! keys), and a record holds at most one id per system (a unique index), so
//! a CRM record and ours pair one to one. Links are made and broken by staff
//! with write rights, found by staff only; a link is audited as a change of
//! the record it belongs to. `upsertPartnerByExternalId` lives here too;
//! `upsertOpportunityByExternalId` is the pipeline's (`service::opportunities`).

use entity::{opportunity, opportunity_external_id, partner, partner_external_id};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, Set,
};
use serde_json::{json, Value};
use uuid::Uuid;

use super::{
    deals::opportunity as opportunity_record,
    partners,
    unit_of_work::{violated_unique_constraint, Record, UnitOfWork},
    Caller, Failure, Outcome,
};
use crate::{
    domain::{
        inputs::{DisplayName, ExternalKey, WebsiteUrl},
        EntityType, PartnerType, UserError, UserErrorCode,
    },
    ids::{self, NodeType},
};

/// A partner's CRM link is audited as a change of the partner.
impl Record for partner_external_id::Entity {
    const AUDIT_TYPE: EntityType = EntityType::Partner;

    fn id(row: &partner_external_id::Model) -> Uuid {
        row.partner_id
    }

    fn id_column() -> partner_external_id::Column {
        partner_external_id::Column::PartnerId
    }

    fn locate(row: &partner_external_id::Model) -> Condition {
        Condition::all()
            .add(partner_external_id::Column::System.eq(row.system.as_str()))
            .add(partner_external_id::Column::ExternalId.eq(row.external_id.as_str()))
    }

    fn snapshot(row: &partner_external_id::Model) -> Value {
        json!({ "externalIds": [{ "system": row.system, "externalId": row.external_id }] })
    }
}

/// The record a link belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    Partner(Uuid),
    Opportunity(Uuid),
}

impl Holder {
    fn global_id(self) -> String {
        match self {
            Holder::Partner(id) => ids::encode(NodeType::Partner, id),
            Holder::Opportunity(id) => ids::encode(NodeType::Opportunity, id),
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Holder::Partner(_) => "partner",
            Holder::Opportunity(_) => "opportunity",
        }
    }
}

/// A linked record after a change: the partner or the opportunity.
pub enum Linked {
    Partner(partner::Model),
    Opportunity(opportunity::Model),
}

/// Who holds `key` among records of `kind`'s type (the holder's own id is ignored).
async fn holder_of(
    db: &impl ConnectionTrait,
    kind: Holder,
    key: &ExternalKey,
) -> Result<Option<Holder>, DbErr> {
    let pk = (key.system.clone(), key.external_id.clone());
    Ok(match kind {
        Holder::Partner(_) => partner_external_id::Entity::find_by_id(pk)
            .one(db)
            .await?
            .map(|l| Holder::Partner(l.partner_id)),
        Holder::Opportunity(_) => opportunity_external_id::Entity::find_by_id(pk)
            .one(db)
            .await?
            .map(|l| Holder::Opportunity(l.opportunity_id)),
    })
}

/// The id `holder` already has in `system`, if any.
async fn held_in(
    db: &impl ConnectionTrait,
    holder: Holder,
    system: &str,
) -> Result<Option<String>, DbErr> {
    Ok(match holder {
        Holder::Partner(id) => partner_external_id::Entity::find()
            .filter(partner_external_id::Column::PartnerId.eq(id))
            .filter(partner_external_id::Column::System.eq(system))
            .one(db)
            .await?
            .map(|l| l.external_id),
        Holder::Opportunity(id) => opportunity_external_id::Entity::find()
            .filter(opportunity_external_id::Column::OpportunityId.eq(id))
            .filter(opportunity_external_id::Column::System.eq(system))
            .one(db)
            .await?
            .map(|l| l.external_id),
    })
}

/// The partner linked to `key`. Staff only (the caller checks the right).
pub async fn partner_by(
    db: &impl ConnectionTrait,
    key: &ExternalKey,
) -> Result<Option<partner::Model>, DbErr> {
    let Some(Holder::Partner(id)) = holder_of(db, Holder::Partner(Uuid::nil()), key).await? else {
        return Ok(None);
    };
    partner::Entity::find_by_id(id).one(db).await
}

/// The opportunity linked to `key`. Staff only (the caller checks the right).
pub async fn opportunity_by(
    db: &impl ConnectionTrait,
    key: &ExternalKey,
) -> Result<Option<opportunity::Model>, DbErr> {
    let Some(Holder::Opportunity(id)) =
        holder_of(db, Holder::Opportunity(Uuid::nil()), key).await?
    else {
        return Ok(None);
    };
    opportunity::Entity::find_by_id(id).one(db).await
}

/// Links `holder` to `key` in the unit of work: nothing to do when it is
/// already linked so; a user error on `field` when another record of its
/// type holds `key` (naming it: callers are staff) or `holder` already has
/// another id in that system. Whether a link was written.
pub async fn link_in(
    uow: &UnitOfWork,
    operation: &str,
    holder: Holder,
    key: &ExternalKey,
    field: &str,
) -> Outcome<bool> {
    match holder_of(uow.conn(), holder, key).await? {
        Some(current) if current == holder => return Ok(false),
        Some(current) => {
            return Err(UserError::on_field(
                field,
                UserErrorCode::AlreadyExists,
                format!(
                    "{} id `{}` is already linked to {} {}",
                    key.system,
                    key.external_id,
                    current.noun(),
                    current.global_id()
                ),
            )
            .into())
        }
        None => {}
    }
    if let Some(other) = held_in(uow.conn(), holder, &key.system).await? {
        return Err(UserError::on_field(
            field,
            UserErrorCode::AlreadyExists,
            format!(
                "the {} is already linked to {} id `{other}`; unlink it first",
                holder.noun(),
                key.system
            ),
        )
        .into());
    }
    let written = match holder {
        Holder::Partner(partner_id) => {
            let row = partner_external_id::ActiveModel {
                partner_id: Set(partner_id),
                system: Set(key.system.clone()),
                external_id: Set(key.external_id.clone()),
            };
            uow.create::<partner_external_id::Entity>(operation, row)
                .await
                .map(|_| ())
        }
        Holder::Opportunity(opportunity_id) => {
            let row = opportunity_external_id::ActiveModel {
                opportunity_id: Set(opportunity_id),
                system: Set(key.system.clone()),
                external_id: Set(key.external_id.clone()),
            };
            uow.create::<opportunity_external_id::Entity>(operation, row)
                .await
                .map(|_| ())
        }
    };
    written.map_err(|error| link_race(error, field))?;
    Ok(true)
}

/// A concurrent link of the same id or record won the race: the same
/// answer as the check above, without naming the holder (the transaction
/// cannot read any more).
fn link_race(error: DbErr, field: &str) -> Failure {
    match violated_unique_constraint(&error) {
        Some(
            "pk_partner_external_id"
            | "uq_partner_external_id_system"
            | "pk_opportunity_external_id"
            | "uq_opportunity_external_id_system",
        ) => UserError::on_field(
            field,
            UserErrorCode::AlreadyExists,
            "this id, or this record's id in that system, was linked at the same time",
        )
        .into(),
        _ => error.into(),
    }
}

/// Loads the record `holder` names, as the caller may see it.
async fn load(db: &impl ConnectionTrait, caller: &Caller<'_>, holder: Holder) -> Outcome<Linked> {
    let not_found = || -> Failure {
        UserError::on_field(
            "id",
            UserErrorCode::NotFound,
            format!("no {} has this id", holder.noun()),
        )
        .into()
    };
    Ok(match holder {
        Holder::Partner(id) => Linked::Partner(
            partners::find(db, caller, id)
                .await?
                .ok_or_else(not_found)?,
        ),
        Holder::Opportunity(id) => Linked::Opportunity(
            super::opportunities::find(db, caller, id)
                .await?
                .ok_or_else(not_found)?,
        ),
    })
}

/// `linkExternalId`.
pub async fn link(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    holder: Holder,
    key: ExternalKey,
) -> Outcome<Linked> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    load(uow.conn(), caller, holder).await?;
    link_in(&uow, "linkExternalId", holder, &key, "externalId").await?;
    let linked = load(uow.conn(), caller, holder).await?;
    uow.commit().await?;
    Ok(linked)
}

/// `unlinkExternalId`: the link must be this record's.
pub async fn unlink(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    holder: Holder,
    key: ExternalKey,
) -> Outcome<Linked> {
    const OPERATION: &str = "unlinkExternalId";
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let linked = load(uow.conn(), caller, holder).await?;
    let not_linked = || -> Failure {
        UserError::on_field(
            "externalId",
            UserErrorCode::NotFound,
            format!(
                "the {} is not linked to {} id `{}`",
                holder.noun(),
                key.system,
                key.external_id
            ),
        )
        .into()
    };
    let pk = (key.system.clone(), key.external_id.clone());
    match holder {
        Holder::Partner(id) => {
            let link = partner_external_id::Entity::find_by_id(pk)
                .one(uow.conn())
                .await?
                .filter(|l| l.partner_id == id)
                .ok_or_else(not_linked)?;
            uow.delete::<partner_external_id::Entity>(OPERATION, &link)
                .await?;
        }
        Holder::Opportunity(id) => {
            let link = opportunity_external_id::Entity::find_by_id(pk)
                .one(uow.conn())
                .await?
                .filter(|l| l.opportunity_id == id)
                .ok_or_else(not_linked)?;
            uow.delete::<opportunity_external_id::Entity>(OPERATION, &link)
                .await?;
        }
    }
    uow.commit().await?;
    Ok(linked)
}

/// A partner as a CRM knows it: the CRM owns its name and website; its
/// type is ours and used only when the upsert creates it; tier, status and
/// attribution are never touched.
pub struct CrmPartner {
    pub key: ExternalKey,
    /// An existing partner to link, when the CRM id is not linked yet.
    pub id: Option<Uuid>,
    pub name: DisplayName,
    pub website: Option<WebsiteUrl>,
    pub partner_type: Option<PartnerType>,
}

/// `upsertPartnerByExternalId`: updates the partner linked to the CRM id,
/// or links the partner `id` names, or creates one (`partner.created`).
/// Repeating the same upsert changes nothing.
pub async fn upsert_partner(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    crm: CrmPartner,
) -> Outcome<partner::Model> {
    const OPERATION: &str = "upsertPartnerByExternalId";
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let linked = holder_of(uow.conn(), Holder::Partner(Uuid::nil()), &crm.key).await?;
    let target = match (linked, crm.id) {
        (Some(Holder::Partner(held)), Some(named)) if held != named => {
            return Err(UserError::on_field(
                "id",
                UserErrorCode::AlreadyExists,
                format!(
                    "{} id `{}` is already linked to partner {}",
                    crm.key.system,
                    crm.key.external_id,
                    ids::encode(NodeType::Partner, held)
                ),
            )
            .into())
        }
        (Some(Holder::Partner(held)), _) => Some(held),
        (_, Some(named)) => Some(named),
        (_, None) => None,
    };
    let website = crm.website.clone().map(WebsiteUrl::into_inner);
    let saved = match target {
        Some(id) => {
            let current = partners::find(uow.conn(), caller, id)
                .await?
                .ok_or_else(|| {
                    UserError::on_field("id", UserErrorCode::NotFound, "no partner has this id")
                })?;
            link_in(&uow, OPERATION, Holder::Partner(id), &crm.key, "id").await?;
            if current.name == crm.name.as_str() && current.website == website {
                current
            } else {
                if partners::name_taken(uow.conn(), &crm.name, Some(id)).await? {
                    return Err(partners::duplicate_name().into());
                }
                let mut changed = current.clone().into_active_model();
                changed.name_key = Set(crm.name.key());
                changed.name = Set(crm.name.into_inner());
                changed.website = Set(website);
                partners::save(&uow, OPERATION, &current, changed).await?
            }
        }
        None => {
            if let Some(existing) = partners::named(uow.conn(), &crm.name).await? {
                return Err(UserError::on_field(
                    "name",
                    UserErrorCode::AlreadyExists,
                    format!(
                        "partner {} already has this name; give its `id` to link it",
                        ids::encode(NodeType::Partner, existing.id)
                    ),
                )
                .into());
            }
            let Some(partner_type) = crm.partner_type else {
                return Err(UserError::on_field(
                    "type",
                    UserErrorCode::InvalidValue,
                    "a new partner needs its type",
                )
                .into());
            };
            let new = partners::NewPartner {
                name: crm.name,
                partner_type,
                tier: Default::default(),
                website: crm.website,
                owner_id: None,
                internal_notes: None,
                margin: None,
            };
            let created = partners::create_in(&uow, caller, OPERATION, new).await?;
            link_in(
                &uow,
                OPERATION,
                Holder::Partner(created.id),
                &crm.key,
                "externalId",
            )
            .await?;
            created
        }
    };
    uow.commit().await?;
    Ok(saved)
}

/// The opportunity an upsert names to link: `id` directly, or through its
/// registration's reference.
pub async fn opportunity_named(
    db: &impl ConnectionTrait,
    opportunity_id: Option<Uuid>,
    reference: Option<&str>,
) -> Outcome<Option<opportunity::Model>> {
    if let Some(id) = opportunity_id {
        return Ok(Some(
            opportunity::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or_else(|| {
                    UserError::on_field(
                        "opportunityId",
                        UserErrorCode::NotFound,
                        "no opportunity has this id",
                    )
                })?,
        ));
    }
    let Some(reference) = reference else {
        return Ok(None);
    };
    let field = "registrationReference";
    let registration = entity::deal_registration::Entity::find()
        .filter(entity::deal_registration::Column::Reference.eq(reference.trim()))
        .one(db)
        .await?
        .ok_or_else(|| {
            UserError::on_field(
                field,
                UserErrorCode::NotFound,
                "no deal registration has this reference",
            )
        })?;
    let Some(opportunity_id) = registration.opportunity_id else {
        return Err(UserError::on_field(
            field,
            UserErrorCode::InvalidValue,
            "the registration has no opportunity yet (it opens on approval)",
        )
        .into());
    };
    Ok(Some(
        opportunity::Entity::find_by_id(opportunity_id)
            .one(db)
            .await?
            .ok_or_else(opportunity_record::not_found)?,
    ))
}
