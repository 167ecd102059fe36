//! The daily tier recommendation (SPEC §4.5): each partner not offboarded
//! gets its recommended tier worked out once a day, and
//! `partner.tier_recommendation_changed` (internal) is recorded when it
//! differs from the one recorded before, once per change. The first
//! recommendation of a partner is recorded without an event: nothing changed.
//!
//! Replica-safe like the other jobs: due partners are claimed with
//! `FOR UPDATE SKIP LOCKED`, and the new recommendation is written by a
//! conditional update that only succeeds while the partner is still due.

use chrono::{DateTime, Duration, Utc};
use entity::partner;
use sea_orm::{
    sea_query::{LockBehavior, LockType},
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect, Set,
};
use serde_json::json;

use super::BATCH;
use crate::{
    domain::{EventType, PartnerStatus, SubjectType},
    ids::{self, NodeType},
    service::{
        exchange_rates, scores, settings,
        unit_of_work::{Actor, Bookkeeping, Event, UnitOfWork},
    },
};

/// How often a partner's recommendation is worked out.
const EVERY: Duration = Duration::days(1);

pub async fn record(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<usize, DbErr> {
    let due = Condition::all()
        .add(partner::Column::Status.ne(PartnerStatus::Offboarded))
        .add(
            Condition::any()
                .add(partner::Column::RecommendedTierAt.is_null())
                .add(partner::Column::RecommendedTierAt.lte(now - EVERY)),
        );
    let mut changed = 0;
    loop {
        let uow = UnitOfWork::begin(db, Actor::system(), now).await?;
        let rows = partner::Entity::find()
            .filter(due.clone())
            .limit(BATCH)
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
            .all(uow.conn())
            .await?;
        let claimed = rows.len() as u64;
        if rows.is_empty() {
            break;
        }
        let settings = settings::get(uow.conn())
            .await
            .map_err(|e| DbErr::Custom(format!("{e:?}")))?;
        let converter = exchange_rates::converter(uow.conn(), &settings)
            .await
            .map_err(|e| DbErr::Custom(format!("{e:?}")))?;
        let ids: Vec<_> = rows.iter().map(|p| p.id).collect();
        let qualifications =
            scores::tier_qualifications(uow.conn(), &ids, now, &converter, &settings.base_currency)
                .await?;
        for row in rows {
            let Some(q) = qualifications.get(&row.id) else {
                continue;
            };
            let tier = q.recommended_tier;
            let previous = row.recommended_tier;
            // Recorded daily; audited (and announced) only when it changed.
            let changed_tier = previous.is_some_and(|p| p != tier);
            let audit = changed_tier.then(|| Bookkeeping {
                operation: "recordTierRecommendation",
                before: Some(json!({ "recommendedTier": previous })),
                after: json!({ "recommendedTier": tier, "score": q.score }),
            });
            let changes = partner::ActiveModel {
                recommended_tier: Set(Some(tier)),
                recommended_tier_at: Set(Some(now)),
                ..Default::default()
            };
            let noted = uow
                .update_bookkeeping::<partner::Entity>(&row, changes, due.clone(), audit)
                .await?;
            if !noted || !changed_tier {
                continue;
            }
            uow.emit(Event {
                event_type: EventType::PartnerTierRecommendationChanged,
                subject_type: SubjectType::Partner,
                subject_id: row.id,
                partner_id: Some(row.id),
                payload: json!({
                    "partnerId": ids::encode(NodeType::Partner, row.id),
                    "tier": row.tier,
                    "previousRecommendedTier": previous,
                    "recommendedTier": tier,
                    "score": q.score,
                }),
            })
            .await?;
            changed += 1;
        }
        uow.commit().await?;
        if claimed < BATCH {
            break;
        }
    }
    Ok(changed)
}
