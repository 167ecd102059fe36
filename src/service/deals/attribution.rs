//! Attribution (SPEC §4.3): which partners are credited on an opportunity,
//! in which role and with what credit. The database holds "at most one
//! `SOURCED`" and "one attribution per partner" (unique indexes).

use entity::opportunity_attribution;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{
    domain::{AttributionRole, EntityType},
    ids::{self, NodeType},
    unit_of_work::{Record, UnitOfWork},
};

/// A credit on an opportunity as its audit entry shows it.
fn snapshot(a: &opportunity_attribution::Model) -> Value {
    json!({
        "partnerId": ids::encode(NodeType::Partner, a.partner_id),
        "role": a.role,
        "credit": a.credit_bps,
    })
}

/// Attributions are audited as changes of their opportunity, so an
/// opportunity's history shows who was credited and uncredited.
impl Record for opportunity_attribution::Entity {
    const AUDIT_TYPE: EntityType = EntityType::Opportunity;

    fn id(row: &opportunity_attribution::Model) -> Uuid {
        row.id
    }

    fn id_column() -> opportunity_attribution::Column {
        opportunity_attribution::Column::Id
    }

    fn audit_id(row: &opportunity_attribution::Model) -> Uuid {
        row.opportunity_id
    }

    fn snapshot(row: &opportunity_attribution::Model) -> Value {
        snapshot(row)
    }
}

/// Every partner's attribution on an opportunity (staff only).
pub async fn of_opportunity(
    db: &impl ConnectionTrait,
    opportunity_id: Uuid,
) -> Result<Vec<opportunity_attribution::Model>, DbErr> {
    opportunity_attribution::Entity::find()
        .filter(opportunity_attribution::Column::OpportunityId.eq(opportunity_id))
        .all(db)
        .await
}

/// One partner's own attribution on an opportunity.
pub async fn of_partner(
    db: &impl ConnectionTrait,
    opportunity_id: Uuid,
    partner_id: Uuid,
) -> Result<Option<opportunity_attribution::Model>, DbErr> {
    opportunity_attribution::Entity::find()
        .filter(opportunity_attribution::Column::OpportunityId.eq(opportunity_id))
        .filter(opportunity_attribution::Column::PartnerId.eq(partner_id))
        .one(db)
        .await
}

/// Credits `partner_id` on an opportunity, unless it already is (a partner
/// holds one role per opportunity): the new attribution, or `None`. A
/// concurrent second `SOURCED` fails on `uq_opportunity_attribution_sourced`.
pub async fn credit(
    uow: &UnitOfWork,
    operation: &str,
    opportunity_id: Uuid,
    partner_id: Uuid,
    role: AttributionRole,
    credit_bps: i32,
) -> Result<Option<opportunity_attribution::Model>, DbErr> {
    let row = opportunity_attribution::ActiveModel {
        id: Set(Uuid::now_v7()),
        opportunity_id: Set(opportunity_id),
        partner_id: Set(partner_id),
        role: Set(role),
        credit_bps: Set(credit_bps),
        created_at: Set(uow.now()),
    };
    let key = [
        opportunity_attribution::Column::OpportunityId,
        opportunity_attribution::Column::PartnerId,
    ];
    uow.create_unless_exists::<opportunity_attribution::Entity>(operation, row, key)
        .await
}

/// Removes `partner_id`'s credit; whether it had one.
pub async fn uncredit(
    uow: &UnitOfWork,
    operation: &str,
    opportunity_id: Uuid,
    partner_id: Uuid,
) -> Result<bool, DbErr> {
    let Some(current) = of_partner(uow.conn(), opportunity_id, partner_id).await? else {
        return Ok(false);
    };
    uow.delete::<opportunity_attribution::Entity>(operation, &current)
        .await?;
    Ok(true)
}
