//! Registration conflicts (SPEC §4.2): finding the competing claims on an
//! account when a registration is submitted or a direct opportunity is
//! created, recording each with the recommendation of the rules of
//! engagement, and carrying out the resolution a person chooses
//! (`domain::conflicts` says what each resolution does).

use chrono::{DateTime, Utc};
use entity::{deal_registration, opportunity, registration_conflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, Set,
};
use serde_json::{json, Value};
use uuid::Uuid;

use super::{accounts, attribution, registration};
use crate::{
    domain::{
        conflicts::{decide, DirectCredit, CO_SELL_SPLIT_BPS},
        registrations::{can_move, partner_vs_direct, partner_vs_partner, Claim, Recommendation},
        ConflictKind, ConflictResolution, DealRegistrationStatus as Status, EventType,
        OpportunitySource, UserError, UserErrorCode,
    },
    ids::{self, NodeType},
    record,
    service::{settings, Caller, Failure, Outcome},
    unit_of_work::UnitOfWork,
};

fn snapshot(c: &registration_conflict::Model) -> Value {
    json!({
        "id": c.id,
        "registrationId": ids::encode(NodeType::DealRegistration, c.registration_id),
        "kind": c.kind,
        "otherRegistrationId": c.other_registration_id.map(|id| ids::encode(NodeType::DealRegistration, id)),
        "otherOpportunityId": c.other_opportunity_id.map(|id| ids::encode(NodeType::Opportunity, id)),
        "rule": c.rule,
        "recommendation": c.recommendation,
        "resolution": c.resolution,
        "rationale": c.rationale,
    })
}

record!(registration_conflict, RegistrationConflict, snapshot);

/// The conflicts recorded for a registration.
pub async fn of_registration(
    db: &impl ConnectionTrait,
    registration_id: Uuid,
) -> Result<Vec<registration_conflict::Model>, DbErr> {
    registration_conflict::Entity::find()
        .filter(registration_conflict::Column::RegistrationId.eq(registration_id))
        .all(db)
        .await
}

/// A competing claim found for a registration.
pub struct Found {
    pub kind: ConflictKind,
    pub other_registration: Option<Uuid>,
    pub other_opportunity: Option<Uuid>,
    pub recommendation: Recommendation,
}

/// The claims competing with a registration of `partner_id` submitted at
/// `now`: other partners' active registrations on the account (`claims`,
/// already read) and the account's open direct opportunities.
pub async fn find_for_submission(
    db: &impl ConnectionTrait,
    partner_id: Uuid,
    (domain_key, company_key): (&str, &str),
    claims: &[deal_registration::Model],
    now: DateTime<Utc>,
) -> Result<Vec<Found>, DbErr> {
    let mut found = Vec::new();
    let this_claim = Claim {
        approved: false,
        incumbent: accounts::incumbent(db, partner_id, domain_key, company_key).await?,
        submitted_at: now,
        certified: accounts::certified(db, partner_id, None).await?,
    };
    for other in claims {
        let other_claim = Claim {
            approved: other.status == Status::Approved,
            incumbent: accounts::incumbent(db, other.partner_id, domain_key, company_key).await?,
            submitted_at: other.submitted_at,
            certified: accounts::certified(db, other.partner_id, None).await?,
        };
        found.push(Found {
            kind: ConflictKind::PartnerRegistration,
            other_registration: Some(other.id),
            other_opportunity: None,
            recommendation: partner_vs_partner(this_claim, other_claim),
        });
    }
    let direct = opportunity::Entity::find()
        .filter(accounts::same_account_opportunities(
            domain_key,
            company_key,
        ))
        .filter(opportunity::Column::Source.eq(OpportunitySource::Direct))
        .filter(opportunity::Column::Stage.is_in(accounts::OPEN_STAGES))
        .all(db)
        .await?;
    for opportunity in direct {
        let qualified_before = opportunity.qualified_at.is_some_and(|q| q <= now);
        found.push(Found {
            kind: ConflictKind::DirectOpportunity,
            other_registration: None,
            other_opportunity: Some(opportunity.id),
            recommendation: partner_vs_direct(now, opportunity.created_at, qualified_before),
        });
    }
    Ok(found)
}

/// Records `found` against `registration_id`.
pub async fn record(
    uow: &UnitOfWork,
    operation: &str,
    registration_id: Uuid,
    found: &Found,
) -> Result<registration_conflict::Model, DbErr> {
    let row = registration_conflict::ActiveModel {
        id: Set(Uuid::now_v7()),
        registration_id: Set(registration_id),
        kind: Set(found.kind),
        other_registration_id: Set(found.other_registration),
        other_opportunity_id: Set(found.other_opportunity),
        rule: Set(found.recommendation.rule.to_owned()),
        recommendation: Set(found.recommendation.resolution),
        resolution: Set(None),
        rationale: Set(None),
        resolved_by: Set(None),
        resolved_at: Set(None),
        created_at: Set(uow.now()),
    };
    uow.create::<registration_conflict::Entity>(operation, row)
        .await
}

/// Conflict detection when staff or a CRM create a direct opportunity
/// (SPEC §4.2): every registration still claiming the account (undecided,
/// or approved and protected: `accounts::active_claims`) gets a conflict
/// recommended by the partner-vs-direct rule; an undecided one goes to
/// review, an approved one stays approved (its protection is what the
/// conflict weighs).
pub async fn flag_for_direct_opportunity(
    uow: &UnitOfWork,
    created: &opportunity::Model,
) -> Outcome<()> {
    const OPERATION: &str = "flagRegistrationConflict";
    let claims = deal_registration::Entity::find()
        .filter(accounts::same_account_registrations(
            &created.domain_key,
            &created.company_key,
        ))
        .filter(accounts::active_claims(uow.now()))
        .all(uow.conn())
        .await?;
    for claim in claims {
        let found = Found {
            kind: ConflictKind::DirectOpportunity,
            other_registration: None,
            other_opportunity: Some(created.id),
            recommendation: partner_vs_direct(claim.submitted_at, created.created_at, false),
        };
        record(uow, OPERATION, claim.id, &found).await?;
        let flagged = if can_move(claim.status, Status::UnderReview) {
            // Versioned: a registration decided meanwhile is not put back under review.
            let mut review = claim.clone().into_active_model();
            review.status = Set(Status::UnderReview);
            match registration::save(uow, OPERATION, &claim, review).await {
                Err(Failure::User(_)) => {
                    return Err(UserError {
                        field: None,
                        code: UserErrorCode::StaleVersion,
                        message:
                            "a registration on this account changed at the same time; try again"
                                .into(),
                    }
                    .into())
                }
                saved => saved?,
            }
        } else {
            claim
        };
        let recommendations = [found.recommendation.resolution];
        uow.emit(registration::event(
            EventType::DealRegistrationConflictDetected,
            &flagged,
            json!({ "recommendations": recommendations }),
        ))
        .await?;
    }
    Ok(())
}

/// `resolveRegistrationConflict`: the decision and its rationale are kept;
/// both parties' registrations move accordingly and each is told the outcome,
/// never who the other party is.
pub async fn resolve(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    conflict_id: Uuid,
    resolution: ConflictResolution,
    rationale: String,
) -> Outcome<deal_registration::Model> {
    const OPERATION: &str = "resolveRegistrationConflict";
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let Some(conflict) = registration_conflict::Entity::find_by_id(conflict_id)
        .one(uow.conn())
        .await?
    else {
        return Err(UserError::on_field(
            "conflictId",
            UserErrorCode::NotFound,
            "no registration conflict has this id",
        )
        .into());
    };
    if conflict.resolved_at.is_some() {
        return Err(UserError::on_field(
            "conflictId",
            UserErrorCode::InvalidTransition,
            "the conflict is already resolved",
        )
        .into());
    }
    let decision = decide(conflict.kind, resolution).ok_or_else(|| {
        UserError::on_field(
            "resolution",
            UserErrorCode::InvalidValue,
            "not a decision for this kind of conflict",
        )
    })?;
    let settings = settings::get(uow.conn()).await?;
    let protection_days = i64::from(settings.protection_days);
    let current = registration::load(&uow, caller, conflict.registration_id, None, None).await?;
    let lost = "another claim on this account was preferred under the rules of engagement";
    let status = current.status;
    let mut decided = current.clone();
    if decision.registration_wins && status != Status::Approved {
        let join = (decision.direct_credit == Some(DirectCredit::CoSell))
            .then_some(conflict.other_opportunity_id)
            .flatten();
        decided = registration::approve(&uow, caller, &current, protection_days, join).await?;
        if let Some(opportunity_id) = join {
            attribution::credit(
                &uow,
                OPERATION,
                opportunity_id,
                current.partner_id,
                DirectCredit::CoSell.role(),
                CO_SELL_SPLIT_BPS,
            )
            .await?;
        }
    } else if !decision.registration_wins && can_move(status, Status::Rejected) {
        decided = registration::reject(&uow, caller, &current, lost.to_owned(), OPERATION).await?;
        if let (Some(DirectCredit::Influenced), Some(opportunity_id)) =
            (decision.direct_credit, conflict.other_opportunity_id)
        {
            attribution::credit(
                &uow,
                OPERATION,
                opportunity_id,
                current.partner_id,
                DirectCredit::Influenced.role(),
                settings.influence_weight_bps,
            )
            .await?;
        }
    }
    // The other partner's registration moves the opposite way.
    if let Some(other_id) = conflict.other_registration_id {
        if let Some(other) = deal_registration::Entity::find_by_id(other_id)
            .one(uow.conn())
            .await?
        {
            let other_status = other.status;
            let moved = if decision.registration_wins && can_move(other_status, Status::Rejected) {
                let rejected =
                    registration::reject(&uow, caller, &other, lost.to_owned(), OPERATION).await?;
                Some((rejected, "LOST"))
            } else if !decision.registration_wins && can_move(other_status, Status::Approved) {
                let approved =
                    registration::approve(&uow, caller, &other, protection_days, None).await?;
                Some((approved, "WON"))
            } else {
                None
            };
            if let Some((other, outcome)) = moved {
                uow.emit(registration::event(
                    EventType::DealRegistrationConflictResolved,
                    &other,
                    json!({ "outcome": outcome }),
                ))
                .await?;
            }
        }
    }
    let mut resolved = conflict.clone().into_active_model();
    resolved.resolution = Set(Some(resolution));
    resolved.rationale = Set(Some(rationale));
    resolved.resolved_by = Set(caller.principal.staff_user_id);
    resolved.resolved_at = Set(Some(uow.now()));
    uow.update_unversioned::<registration_conflict::Entity>(OPERATION, &conflict, resolved)
        .await?;
    let outcome = if decision.registration_wins {
        "WON"
    } else {
        "LOST"
    };
    uow.emit(registration::event(
        EventType::DealRegistrationConflictResolved,
        &decided,
        json!({ "outcome": outcome }),
    ))
    .await?;
    uow.commit().await?;
    Ok(decided)
}
