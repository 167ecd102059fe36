//! Previewing a plan: what its terms (saved or not) would have earned on
//! the real closed-won history of a window, with explanations. Reads only;
//! writes nothing (no accrual, no ledger entry, no audit, no event).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{
    incentive_plan, incentive_plan_version, opportunity, opportunity_attribution, partner,
};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::accruals::{self, Credit, Trigger};
use crate::domain::{incentives::Earned, AttributionRole, IncentiveTrigger, OpportunityStage};

/// One amount the plan would have paid.
#[derive(Debug, Clone)]
pub struct PreviewLine {
    pub partner_id: Uuid,
    pub opportunity_id: Uuid,
    pub role: AttributionRole,
    pub at: DateTime<Utc>,
    pub amount_minor: i64,
    pub explanation: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Preview {
    pub currency: String,
    pub total_minor: i64,
    /// Won deals in the window, in the plan's currency.
    pub deals_considered: usize,
    pub lines: Vec<PreviewLine>,
}

/// Runs `version` (of `plan`, saved or a draft never written) over the
/// opportunities won in `[from, to)`, in close order, as if the plan had
/// been active then with nothing earned before `from`.
pub async fn preview(
    db: &impl ConnectionTrait,
    plan: &incentive_plan::Model,
    version: &incentive_plan_version::Model,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Preview, DbErr> {
    let mut preview = Preview {
        currency: version.currency.clone(),
        total_minor: 0,
        deals_considered: 0,
        lines: Vec::new(),
    };
    if version.trigger != IncentiveTrigger::OpportunityWon {
        return Ok(preview);
    }
    let won = opportunity::Entity::find()
        .filter(opportunity::Column::Stage.eq(OpportunityStage::ClosedWon))
        .filter(opportunity::Column::ClosedAt.gte(from))
        .filter(opportunity::Column::ClosedAt.lt(to))
        .filter(opportunity::Column::Currency.eq(version.currency.as_str()))
        .order_by_asc(opportunity::Column::ClosedAt)
        .order_by_asc(opportunity::Column::Id)
        .all(db)
        .await?;
    preview.deals_considered = won.len();
    let mut credits: HashMap<Uuid, Vec<opportunity_attribution::Model>> = HashMap::new();
    for chunk in won.chunks(500) {
        for a in opportunity_attribution::Entity::find()
            .filter(
                opportunity_attribution::Column::OpportunityId.is_in(chunk.iter().map(|o| o.id)),
            )
            .all(db)
            .await?
        {
            credits.entry(a.opportunity_id).or_default().push(a);
        }
    }
    let partner_ids: Vec<Uuid> = {
        let mut ids: Vec<Uuid> = credits.values().flatten().map(|a| a.partner_id).collect();
        ids.sort();
        ids.dedup();
        ids
    };
    let mut partners: HashMap<Uuid, (partner::Model, bool)> = HashMap::new();
    for chunk in partner_ids.chunks(500) {
        for p in partner::Entity::find()
            .filter(partner::Column::Id.is_in(chunk.iter().copied()))
            .all(db)
            .await?
        {
            let eligible = accruals::eligible(db, version, &p).await?;
            partners.insert(p.id, (p, eligible));
        }
    }
    let mut earned: HashMap<Uuid, Vec<Earned>> = HashMap::new();
    for o in &won {
        let trigger = Trigger {
            kind: IncentiveTrigger::OpportunityWon,
            subject_id: o.id,
            at: o.closed_at.unwrap_or(from),
            amount_minor: o.amount_minor,
            currency: o.currency.clone(),
        };
        for a in credits.get(&o.id).into_iter().flatten() {
            let Some((p, true)) = partners.get(&a.partner_id) else {
                continue;
            };
            let credit = Credit {
                partner_id: a.partner_id,
                role: a.role,
                credit_bps: i64::from(a.credit_bps),
            };
            let so_far = earned.entry(p.id).or_default();
            let Some((accrual, words)) =
                accruals::compute(plan, version, p, credit, &trigger, so_far)?
            else {
                continue;
            };
            so_far.push(Earned {
                at: trigger.at,
                basis: accrual.basis,
                amount: accrual.amount,
            });
            preview.total_minor += accrual.amount;
            preview.lines.push(PreviewLine {
                partner_id: p.id,
                opportunity_id: o.id,
                role: a.role,
                at: trigger.at,
                amount_minor: accrual.amount,
                explanation: words,
            });
        }
    }
    Ok(preview)
}
