//! Incentive plans as versioned data: a plan's terms never change once
//! written; a change is a new version, and what was earned keeps the
//! version it was computed under.

use chrono::{DateTime, Utc};
use entity::{certification_track, incentive_plan, incentive_plan_version};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{
    domain::{
        incentives::{self as rules, Bracket, Plan, Tiers, Window},
        inputs::{CurrencyCode, DisplayName},
        AttributionRole, EventType, IncentiveBasis, IncentivePlanKind, IncentivePlanStatus,
        IncentiveTierMode, IncentiveTierPeriod, IncentiveTrigger, IncentiveWindowAnchor,
        OrderDirection, PartnerTier, PartnerType, SubjectType, UserError, UserErrorCode,
    },
    error::ApiError,
    ids::{self, NodeType},
    record,
    service::{
        pagination::{paginate, KeyValue, Ordering, Page, PageArgs},
        Caller, Failure, Outcome,
    },
    unit_of_work::{Event, UnitOfWork, UpdateError},
    versioned_record,
};

/// What one role earns, as a version stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RolePayout {
    pub role: AttributionRole,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_bps: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flat_minor: Option<i64>,
}

/// One tier bracket, as a version stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TierBracket {
    pub above_minor: i64,
    pub rate_bps: i64,
}

#[derive(Debug, Clone, Copy)]
pub struct WindowTerms {
    pub anchor: IncentiveWindowAnchor,
    pub days: i32,
    pub max_count: Option<i32>,
}

#[derive(Debug, Clone)]
pub struct TierTerms {
    pub period: IncentiveTierPeriod,
    pub mode: IncentiveTierMode,
    pub brackets: Vec<TierBracket>,
}

/// The terms of a plan version, parsed at the API edge.
#[derive(Debug, Clone)]
pub struct Terms {
    pub partner_description: String,
    pub trigger: IncentiveTrigger,
    pub basis: IncentiveBasis,
    pub currency: CurrencyCode,
    pub payouts: Vec<RolePayout>,
    pub partner_types: Vec<PartnerType>,
    pub partner_tiers: Vec<PartnerTier>,
    pub certification_track_id: Option<Uuid>,
    pub window: Option<WindowTerms>,
    pub tiers: Option<TierTerms>,
    pub cap_minor: Option<i64>,
    pub hold_days: i32,
    pub starts_at: Option<DateTime<Utc>>,
}

impl Terms {
    /// Every rule the terms break, each naming its field under `terms`.
    pub fn errors(&self) -> Vec<UserError> {
        let mut errors = Vec::new();
        let mut bad = |field: &str, message: &str| {
            errors.push(UserError::on_field(
                &format!("terms.{field}"),
                UserErrorCode::InvalidValue,
                message,
            ))
        };
        if self.payouts.is_empty() {
            bad("rates", "name what at least one attribution role earns");
        }
        for (i, payout) in self.payouts.iter().enumerate() {
            if self.payouts[..i].iter().any(|p| p.role == payout.role) {
                bad("rates", "each role at most once");
            }
            match (payout.rate_bps, payout.flat_minor) {
                (Some(rate), None) if (0..=rules::WHOLE_BPS).contains(&rate) => {
                    if self.basis == IncentiveBasis::Flat {
                        bad("rates", "a FLAT basis pays flat amounts, not rates");
                    }
                }
                (None, Some(flat)) if flat >= 0 => {}
                (Some(_), None) => bad("rates", "a rate is between 0 and 100 percent"),
                (None, Some(_)) => bad("rates", "a flat amount is not negative"),
                _ => bad("rates", "give each role either a rate or a flat amount"),
            }
        }
        if let Some(window) = self.window {
            if !(1..=3650).contains(&window.days) {
                bad("window.days", "between 1 and 3650 days");
            }
            if window.max_count.is_some_and(|n| n < 1) {
                bad("window.maxCount", "at least 1");
            }
        }
        if let Some(tiers) = &self.tiers {
            let ascending = tiers
                .brackets
                .windows(2)
                .all(|pair| pair[0].above_minor < pair[1].above_minor);
            if tiers.brackets.first().map(|b| b.above_minor) != Some(0) || !ascending {
                bad(
                    "tiers.brackets",
                    "the first bracket starts at 0 and thresholds go up",
                );
            }
            if tiers
                .brackets
                .iter()
                .any(|b| !(0..=rules::WHOLE_BPS).contains(&b.rate_bps))
            {
                bad("tiers.brackets", "a rate is between 0 and 100 percent");
            }
        }
        if self.cap_minor.is_some_and(|cap| cap <= 0) {
            bad("cap", "a cap is more than 0");
        }
        if !(0..=365).contains(&self.hold_days) {
            bad("holdDays", "between 0 and 365 days");
        }
        if self.partner_description.trim().is_empty() {
            bad("partnerDescription", "describe the plan for partners");
        }
        errors
    }
}

fn plan_snapshot(p: &incentive_plan::Model) -> Value {
    json!({
        "id": ids::encode(NodeType::IncentivePlan, p.id),
        "name": p.name, "kind": p.kind, "status": p.status,
        "currentVersion": p.current_version, "version": p.version,
    })
}

fn version_snapshot(v: &incentive_plan_version::Model) -> Value {
    json!({
        "planId": ids::encode(NodeType::IncentivePlan, v.plan_id),
        "number": v.number, "partnerDescription": v.partner_description,
        "trigger": v.trigger, "basis": v.basis, "currency": v.currency,
        "rolePayouts": v.role_payouts, "partnerTypes": v.partner_types,
        "partnerTiers": v.partner_tiers, "certificationTrackId": v.certification_track_id,
        "windowAnchor": v.window_anchor, "windowDays": v.window_days,
        "windowMaxCount": v.window_max_count, "tierPeriod": v.tier_period,
        "tierMode": v.tier_mode, "tierBrackets": v.tier_brackets, "capMinor": v.cap_minor,
        "holdDays": v.hold_days, "startsAt": v.starts_at,
    })
}

versioned_record!(incentive_plan, IncentivePlan, plan_snapshot);
record!(
    incentive_plan_version,
    IncentivePlanVersion,
    version_snapshot
);

/// The rules of a stored version, for `domain::incentives::accrue`.
pub fn rules_of(v: &incentive_plan_version::Model) -> Result<Plan, DbErr> {
    let payouts: Vec<RolePayout> =
        serde_json::from_value(v.role_payouts.clone()).map_err(|e| DbErr::Json(e.to_string()))?;
    let brackets: Vec<TierBracket> =
        serde_json::from_value(v.tier_brackets.clone()).map_err(|e| DbErr::Json(e.to_string()))?;
    Ok(Plan {
        basis: match v.basis {
            IncentiveBasis::OpportunityAmount => rules::Basis::OpportunityAmount,
            IncentiveBasis::CreditedAmount => rules::Basis::CreditedAmount,
            IncentiveBasis::Flat => rules::Basis::Flat,
        },
        payouts: payouts
            .iter()
            .map(|p| {
                let payout = match (p.rate_bps, p.flat_minor) {
                    (_, Some(flat)) => rules::Payout::Flat(flat),
                    (rate, None) => rules::Payout::Rate(rate.unwrap_or(0)),
                };
                (p.role, payout)
            })
            .collect(),
        window: match (v.window_anchor, v.window_days) {
            (Some(anchor), Some(days)) => Some(Window {
                anchor: match anchor {
                    IncentiveWindowAnchor::PartnerSigned => rules::WindowAnchor::PartnerSigned,
                    IncentiveWindowAnchor::PlanStart => rules::WindowAnchor::PlanStart,
                },
                days: i64::from(days),
                max_count: v.window_max_count.and_then(|n| u32::try_from(n).ok()),
            }),
            _ => None,
        },
        tiers: match (v.tier_period, v.tier_mode) {
            (Some(period), Some(mode)) if !brackets.is_empty() => Some(Tiers {
                period: match period {
                    IncentiveTierPeriod::Month => rules::TierPeriod::Month,
                    IncentiveTierPeriod::Quarter => rules::TierPeriod::Quarter,
                },
                mode: match mode {
                    IncentiveTierMode::Marginal => rules::TierMode::Marginal,
                    IncentiveTierMode::Retroactive => rules::TierMode::Retroactive,
                },
                brackets: brackets
                    .iter()
                    .map(|b| Bracket {
                        above: b.above_minor,
                        rate_bps: b.rate_bps,
                    })
                    .collect(),
            }),
            _ => None,
        },
        cap: v.cap_minor,
    })
}

/// The role payouts of a version.
pub fn payouts_of(v: &incentive_plan_version::Model) -> Vec<RolePayout> {
    serde_json::from_value(v.role_payouts.clone()).unwrap_or_default()
}

/// The tier brackets of a version.
pub fn brackets_of(v: &incentive_plan_version::Model) -> Vec<TierBracket> {
    serde_json::from_value(v.tier_brackets.clone()).unwrap_or_default()
}

/// The partner types a version admits (none: all).
pub fn partner_types_of(v: &incentive_plan_version::Model) -> Vec<PartnerType> {
    serde_json::from_value(v.partner_types.clone()).unwrap_or_default()
}

/// The partner tiers a version admits (none: all).
pub fn partner_tiers_of(v: &incentive_plan_version::Model) -> Vec<PartnerTier> {
    serde_json::from_value(v.partner_tiers.clone()).unwrap_or_default()
}

/// A version row of `terms` (not yet written).
pub fn version_row(
    plan_id: Uuid,
    number: i32,
    terms: &Terms,
    now: DateTime<Utc>,
) -> incentive_plan_version::Model {
    let (anchor, days, max_count) = match terms.window {
        Some(w) => (Some(w.anchor), Some(w.days), w.max_count),
        None => (None, None, None),
    };
    let (period, mode, brackets) = match &terms.tiers {
        Some(t) => (Some(t.period), Some(t.mode), t.brackets.clone()),
        None => (None, None, Vec::new()),
    };
    incentive_plan_version::Model {
        id: Uuid::now_v7(),
        plan_id,
        number,
        partner_description: terms.partner_description.trim().to_owned(),
        trigger: terms.trigger,
        basis: terms.basis,
        currency: terms.currency.as_str().to_owned(),
        role_payouts: json!(terms.payouts),
        partner_types: json!(terms.partner_types),
        partner_tiers: json!(terms.partner_tiers),
        certification_track_id: terms.certification_track_id,
        window_anchor: anchor,
        window_days: days,
        window_max_count: max_count,
        tier_period: period,
        tier_mode: mode,
        tier_brackets: json!(brackets),
        cap_minor: terms.cap_minor,
        hold_days: terms.hold_days,
        starts_at: terms.starts_at.unwrap_or(now),
        created_at: now,
    }
}

async fn check_terms(db: &impl ConnectionTrait, terms: &Terms) -> Outcome<()> {
    let mut errors = terms.errors();
    if let Some(track) = terms.certification_track_id {
        if certification_track::Entity::find_by_id(track)
            .one(db)
            .await?
            .is_none()
        {
            errors.push(UserError::on_field(
                "terms.eligibility.certificationTrackId",
                UserErrorCode::NotFound,
                "no certification track has this id",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Failure::User(errors))
    }
}

fn activated_event(plan: &incentive_plan::Model, v: &incentive_plan_version::Model) -> Event {
    Event {
        event_type: EventType::IncentivePlanActivated,
        subject_type: SubjectType::IncentivePlan,
        subject_id: plan.id,
        partner_id: None,
        payload: json!({ "incentivePlan": plan_snapshot(plan), "terms": version_snapshot(v) }),
    }
}

pub async fn create(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    name: DisplayName,
    kind: IncentivePlanKind,
    terms: Terms,
) -> Outcome<incentive_plan::Model> {
    check_terms(db, &terms).await?;
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let now = uow.now();
    let id = Uuid::now_v7();
    let plan = uow
        .create::<incentive_plan::Entity>(
            "createIncentivePlan",
            incentive_plan::ActiveModel {
                id: Set(id),
                name: Set(name.into_inner()),
                kind: Set(kind),
                status: Set(IncentivePlanStatus::Draft),
                current_version: Set(1),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
            },
        )
        .await?;
    uow.create::<incentive_plan_version::Entity>(
        "createIncentivePlan",
        version_row(id, 1, &terms, now).into_active_model(),
    )
    .await?;
    uow.commit().await?;
    Ok(plan)
}

fn not_found() -> Failure {
    UserError::on_field(
        "id",
        UserErrorCode::NotFound,
        "no incentive plan has this id",
    )
    .into()
}

fn stale(version: Option<i32>) -> Failure {
    UserError::on_field(
        "expectedVersion",
        UserErrorCode::StaleVersion,
        match version {
            Some(v) => format!("the plan is now at version {v}"),
            None => "the plan changed at the same time; read it again".to_owned(),
        },
    )
    .into()
}

async fn save(
    uow: &UnitOfWork,
    operation: &str,
    current: &incentive_plan::Model,
    changed: incentive_plan::ActiveModel,
) -> Outcome<incentive_plan::Model> {
    uow.update::<incentive_plan::Entity>(operation, current, changed)
        .await
        .map_err(|error| match error {
            UpdateError::Stale(version) => stale(version),
            UpdateError::Db(error) => error.into(),
        })
}

/// Renames a plan and/or gives it new terms: a new version, which accrues
/// from now on if the plan is active.
pub async fn update(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    id: Uuid,
    expected_version: Option<i32>,
    name: Option<DisplayName>,
    terms: Option<Terms>,
) -> Outcome<incentive_plan::Model> {
    if let Some(terms) = &terms {
        check_terms(db, terms).await?;
    }
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let current = find(uow.conn(), id).await?.ok_or_else(not_found)?;
    if expected_version.is_some_and(|v| v != current.version) {
        return Err(stale(Some(current.version)));
    }
    if current.status == IncentivePlanStatus::Archived {
        return Err(UserError::on_field(
            "id",
            UserErrorCode::InvalidTransition,
            "an archived plan does not change",
        )
        .into());
    }
    let mut changed = current.clone().into_active_model();
    if let Some(name) = name {
        changed.name = Set(name.into_inner());
    }
    let number = current.current_version + 1;
    if terms.is_some() {
        changed.current_version = Set(number);
    }
    let saved = save(&uow, "updateIncentivePlan", &current, changed).await?;
    if let Some(terms) = terms {
        let version = uow
            .create::<incentive_plan_version::Entity>(
                "updateIncentivePlan",
                version_row(id, number, &terms, uow.now()).into_active_model(),
            )
            .await?;
        if saved.status == IncentivePlanStatus::Active {
            uow.emit(activated_event(&saved, &version)).await?;
        }
    }
    uow.commit().await?;
    Ok(saved)
}

/// `DRAFT` → `ACTIVE`: its current version accrues from now on.
pub async fn activate(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    id: Uuid,
) -> Outcome<incentive_plan::Model> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let current = find(uow.conn(), id).await?.ok_or_else(not_found)?;
    if current.status != IncentivePlanStatus::Draft {
        return Err(UserError::on_field(
            "id",
            UserErrorCode::InvalidTransition,
            "only a draft plan can be activated",
        )
        .into());
    }
    let mut changed = current.clone().into_active_model();
    changed.status = Set(IncentivePlanStatus::Active);
    let saved = save(&uow, "activateIncentivePlan", &current, changed).await?;
    let version = current_version(uow.conn(), &saved)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("version of plan {id}")))?;
    uow.emit(activated_event(&saved, &version)).await?;
    uow.commit().await?;
    Ok(saved)
}

/// `DRAFT` or `ACTIVE` → `ARCHIVED`: it accrues no more; what it earned stays.
pub async fn archive(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    id: Uuid,
) -> Outcome<incentive_plan::Model> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let current = find(uow.conn(), id).await?.ok_or_else(not_found)?;
    if current.status == IncentivePlanStatus::Archived {
        return Err(UserError::on_field(
            "id",
            UserErrorCode::InvalidTransition,
            "the plan is already archived",
        )
        .into());
    }
    let mut changed = current.clone().into_active_model();
    changed.status = Set(IncentivePlanStatus::Archived);
    let saved = save(&uow, "archiveIncentivePlan", &current, changed).await?;
    uow.commit().await?;
    Ok(saved)
}

pub async fn find(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<incentive_plan::Model>, DbErr> {
    incentive_plan::Entity::find_by_id(id).one(db).await
}

pub async fn find_version(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<incentive_plan_version::Model>, DbErr> {
    incentive_plan_version::Entity::find_by_id(id).one(db).await
}

/// The version a plan accrues under now.
pub async fn current_version(
    db: &impl ConnectionTrait,
    plan: &incentive_plan::Model,
) -> Result<Option<incentive_plan_version::Model>, DbErr> {
    incentive_plan_version::Entity::find()
        .filter(incentive_plan_version::Column::PlanId.eq(plan.id))
        .filter(incentive_plan_version::Column::Number.eq(plan.current_version))
        .one(db)
        .await
}

/// Every version of a plan, newest first.
pub async fn versions(
    db: &impl ConnectionTrait,
    plan_id: Uuid,
) -> Result<Vec<incentive_plan_version::Model>, DbErr> {
    incentive_plan_version::Entity::find()
        .filter(incentive_plan_version::Column::PlanId.eq(plan_id))
        .order_by_desc(incentive_plan_version::Column::Number)
        .all(db)
        .await
}

/// The active plans' current versions of `trigger`, with their plans.
pub async fn active_versions(
    db: &impl ConnectionTrait,
    trigger: IncentiveTrigger,
) -> Result<Vec<(incentive_plan::Model, incentive_plan_version::Model)>, DbErr> {
    let plans = incentive_plan::Entity::find()
        .filter(incentive_plan::Column::Status.eq(IncentivePlanStatus::Active))
        .all(db)
        .await?;
    if plans.is_empty() {
        return Ok(Vec::new());
    }
    let versions = incentive_plan_version::Entity::find()
        .filter(incentive_plan_version::Column::PlanId.is_in(plans.iter().map(|p| p.id)))
        .filter(incentive_plan_version::Column::Trigger.eq(trigger))
        .all(db)
        .await?;
    Ok(plans
        .into_iter()
        .filter_map(|plan| {
            let version = versions
                .iter()
                .find(|v| v.plan_id == plan.id && v.number == plan.current_version)?
                .clone();
            Some((plan, version))
        })
        .collect())
}

pub async fn list(
    db: &impl ConnectionTrait,
    statuses: Vec<IncentivePlanStatus>,
    page: PageArgs,
) -> Result<Page<incentive_plan::Model>, ApiError> {
    let mut select = incentive_plan::Entity::find();
    if !statuses.is_empty() {
        select = select.filter(incentive_plan::Column::Status.is_in(statuses));
    }
    let ordering = Ordering {
        key: incentive_plan::Column::CreatedAt,
        id: incentive_plan::Column::Id,
        direction: OrderDirection::Desc,
    };
    paginate(db, select, ordering, page, |p| {
        (KeyValue::Time(p.created_at), KeyValue::Uuid(p.id))
    })
    .await
}
