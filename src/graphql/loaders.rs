//! DataLoaders: one batched query per relation per request instead of one
//! per row. Keys are newtypes so all loaders share one `DataLoader`.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

mod pages;
pub use pages::nested_page;

/// Loads rows by key for one request.
pub struct Loaders {
    pub(super) db: DatabaseConnection,
}

/// Cached for the request only: a connection resolver can prefetch the
/// relations of a whole page in one batch each, and the fields then read the
/// cache, so the statement count does not depend on how fast items resolve.
pub type AppLoader = DataLoader<Loaders, HashMapCache>;

pub fn for_request(db: DatabaseConnection) -> AppLoader {
    DataLoader::with_cache(Loaders { db }, tokio::spawn, HashMapCache::default())
}

/// Loads many values at once, straight from the database (without the
/// loader's batching delay), and leaves them in the request's cache for the
/// fields to read.
pub async fn prefetch<K>(
    ctx: &async_graphql::Context<'_>,
    keys: impl IntoIterator<Item = K>,
) -> Result<HashMap<K, <Loaders as Loader<K>>::Value>, crate::error::ApiError>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    Loaders: Loader<K, Error = std::sync::Arc<sea_orm::DbErr>>,
    <Loaders as Loader<K>>::Value: Clone,
{
    let loader = ctx.data_opt::<AppLoader>().ok_or_else(|| {
        crate::error::ApiError::internal(anyhow::anyhow!("no loader in the request"))
    })?;
    let keys: Vec<K> = keys.into_iter().collect();
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let values = loader
        .loader()
        .load(&keys)
        .await
        .map_err(|e| crate::error::ApiError::internal(anyhow::anyhow!("{e}")))?;
    loader.feed_many(values.clone()).await;
    Ok(values)
}

/// Declares a loader of rows by id that does not scope rows itself: for
/// rows reached through a row the caller may already see.
macro_rules! by_id_loader {
    ($(#[$doc:meta])* $key:ident, $table:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $key(pub Uuid);

        impl Loader<$key> for Loaders {
            type Value = entity::$table::Model;
            type Error = std::sync::Arc<sea_orm::DbErr>;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, Self::Error> {
                use entity::$table::{Column, Entity};
                let rows = Entity::find()
                    .filter(Column::Id.is_in(keys.iter().map(|k| k.0)))
                    .all(&self.db)
                    .await?;
                Ok(rows.into_iter().map(|row| ($key(row.id), row)).collect())
            }
        }
    };
}

by_id_loader!(
    /// A staff user by id.
    StaffUserId,
    staff_user
);

by_id_loader!(
    /// A certification track by id.
    TrackId,
    certification_track
);

by_id_loader!(
    /// A partner contact by id. Only for contacts reached through a row the
    /// caller may already see (a certification of that contact's partner): the
    /// loader itself does not scope rows.
    ContactOfVisibleRow,
    partner_contact
);

by_id_loader!(
    /// An incentive plan by id. Only for plans reached through a row the caller
    /// may already see (its own accrual); partners see only the fields the
    /// partner view lists.
    IncentivePlanById,
    incentive_plan
);

by_id_loader!(
    /// A plan version by id.
    PlanVersionById,
    incentive_plan_version
);

/// Loads one value through the request's loader.
pub async fn load<K>(
    ctx: &async_graphql::Context<'_>,
    key: K,
) -> Result<Option<<Loaders as Loader<K>>::Value>, crate::error::ApiError>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    Loaders: Loader<K, Error = std::sync::Arc<sea_orm::DbErr>>,
{
    let loader = ctx.data_opt::<AppLoader>().ok_or_else(|| {
        crate::error::ApiError::internal(anyhow::anyhow!("no loader in the request"))
    })?;
    loader
        .load_one(key)
        .await
        .map_err(|e| crate::error::ApiError::internal(anyhow::anyhow!("{e}")))
}

/// Whose rows a scoped loader may return: the policy's row scope, applied in the query.
pub use crate::policy::RowScope as Scope;

/// A deal registration by id, as the scope may see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RegistrationById(pub Uuid, pub Scope);

impl Loader<RegistrationById> for Loaders {
    type Value = entity::deal_registration::Model;
    type Error = std::sync::Arc<sea_orm::DbErr>;

    async fn load(
        &self,
        keys: &[RegistrationById],
    ) -> Result<HashMap<RegistrationById, Self::Value>, Self::Error> {
        use entity::deal_registration::{Column, Entity};
        let mut found = HashMap::new();
        for scope in distinct_scopes(keys.iter().map(|k| k.1)) {
            let query = Entity::find()
                .filter(Column::Id.is_in(keys.iter().filter(|k| k.1 == scope).map(|k| k.0)))
                .filter(scope.on(Column::PartnerId));
            for row in query.all(&self.db).await? {
                found.insert(RegistrationById(row.id, scope), row);
            }
        }
        Ok(found)
    }
}

/// An opportunity by id, as the scope may see it (partners: attributed to them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OpportunityById(pub Uuid, pub Scope);

impl Loader<OpportunityById> for Loaders {
    type Value = entity::opportunity::Model;
    type Error = std::sync::Arc<sea_orm::DbErr>;

    async fn load(
        &self,
        keys: &[OpportunityById],
    ) -> Result<HashMap<OpportunityById, Self::Value>, Self::Error> {
        use entity::opportunity;
        let mut found = HashMap::new();
        for scope in distinct_scopes(keys.iter().map(|k| k.1)) {
            let query = opportunity::Entity::find()
                .filter(
                    opportunity::Column::Id
                        .is_in(keys.iter().filter(|k| k.1 == scope).map(|k| k.0)),
                )
                .filter(scope.opportunities());
            for row in query.all(&self.db).await? {
                found.insert(OpportunityById(row.id, scope), row);
            }
        }
        Ok(found)
    }
}

/// A partner by id, as the scope may see it (partners: only themselves).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PartnerById(pub Uuid, pub Scope);

impl Loader<PartnerById> for Loaders {
    type Value = entity::partner::Model;
    type Error = std::sync::Arc<sea_orm::DbErr>;

    async fn load(
        &self,
        keys: &[PartnerById],
    ) -> Result<HashMap<PartnerById, Self::Value>, Self::Error> {
        use entity::partner::{Column, Entity};
        let mut found = HashMap::new();
        for scope in distinct_scopes(keys.iter().map(|k| k.1)) {
            let query = Entity::find()
                .filter(Column::Id.is_in(keys.iter().filter(|k| k.1 == scope).map(|k| k.0)))
                .filter(scope.on(Column::Id));
            for row in query.all(&self.db).await? {
                found.insert(PartnerById(row.id, scope), row);
            }
        }
        Ok(found)
    }
}

/// One partner's own attribution on an opportunity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AttributionOfPartner {
    pub opportunity_id: Uuid,
    pub partner_id: Uuid,
}

impl Loader<AttributionOfPartner> for Loaders {
    type Value = entity::opportunity_attribution::Model;
    type Error = std::sync::Arc<sea_orm::DbErr>;

    async fn load(
        &self,
        keys: &[AttributionOfPartner],
    ) -> Result<HashMap<AttributionOfPartner, Self::Value>, Self::Error> {
        use entity::opportunity_attribution::{Column, Entity};
        let rows = Entity::find()
            .filter(Column::OpportunityId.is_in(keys.iter().map(|k| k.opportunity_id)))
            .filter(Column::PartnerId.is_in(keys.iter().map(|k| k.partner_id)))
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                (
                    AttributionOfPartner {
                        opportunity_id: row.opportunity_id,
                        partner_id: row.partner_id,
                    },
                    row,
                )
            })
            .filter(|(key, _)| keys.contains(key))
            .collect())
    }
}

fn distinct_scopes(scopes: impl Iterator<Item = Scope>) -> Vec<Scope> {
    let mut distinct: Vec<Scope> = scopes.collect();
    distinct.sort_unstable();
    distinct.dedup();
    distinct
}

/// A plan version by its plan and number (a plan's current version).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PlanVersionNumber(pub Uuid, pub i32);

impl Loader<PlanVersionNumber> for Loaders {
    type Value = entity::incentive_plan_version::Model;
    type Error = std::sync::Arc<sea_orm::DbErr>;

    async fn load(
        &self,
        keys: &[PlanVersionNumber],
    ) -> Result<HashMap<PlanVersionNumber, Self::Value>, Self::Error> {
        use entity::incentive_plan_version::{Column, Entity};
        let rows = Entity::find()
            .filter(Column::PlanId.is_in(keys.iter().map(|k| k.0)))
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| (PlanVersionNumber(row.plan_id, row.number), row))
            .filter(|(key, _)| keys.contains(key))
            .collect())
    }
}

/// Declares a loader of the rows of a table whose `column` holds the key's
/// id (a parent's children, in no particular order): one statement for
/// every parent of a list.
macro_rules! children_loader {
    ($(#[$doc:meta])* $key:ident, $table:ident, $column:ident, $field:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $key(pub Uuid);

        impl Loader<$key> for Loaders {
            type Value = Vec<entity::$table::Model>;
            type Error = std::sync::Arc<sea_orm::DbErr>;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, Self::Error> {
                use entity::$table::{Column, Entity};
                let rows = Entity::find()
                    .filter(Column::$column.is_in(keys.iter().map(|k| k.0)))
                    .all(&self.db)
                    .await?;
                let mut found: HashMap<$key, Self::Value> =
                    keys.iter().map(|k| (*k, Vec::new())).collect();
                for row in rows {
                    found.entry($key(row.$field)).or_default().push(row);
                }
                Ok(found)
            }
        }
    };
}

children_loader!(
    /// Every attribution on an opportunity (internal).
    AttributionsOf,
    opportunity_attribution,
    OpportunityId,
    opportunity_id
);
children_loader!(
    /// A partner's external ids (CRM keys).
    ExternalIdsOfPartner,
    partner_external_id,
    PartnerId,
    partner_id
);
children_loader!(
    /// An opportunity's external ids (CRM keys).
    ExternalIdsOfOpportunity,
    opportunity_external_id,
    OpportunityId,
    opportunity_id
);
children_loader!(
    /// The conflicts recorded for a registration.
    ConflictsOf,
    registration_conflict,
    RegistrationId,
    registration_id
);
children_loader!(
    /// The activation milestones a partner reached.
    MilestonesOf,
    partner_milestone,
    PartnerId,
    partner_id
);

/// The program settings, read once per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProgramSettings;

impl Loader<ProgramSettings> for Loaders {
    type Value = entity::program_settings::Model;
    type Error = std::sync::Arc<sea_orm::DbErr>;

    async fn load(
        &self,
        _: &[ProgramSettings],
    ) -> Result<HashMap<ProgramSettings, Self::Value>, Self::Error> {
        let settings = crate::service::settings::get(&self.db)
            .await
            .map_err(|e| std::sync::Arc::new(sea_orm::DbErr::Custom(format!("{e:?}"))))?;
        Ok(HashMap::from([(ProgramSettings, settings)]))
    }
}

/// The program settings, from the request's cache.
pub async fn settings(
    ctx: &async_graphql::Context<'_>,
) -> Result<entity::program_settings::Model, crate::error::ApiError> {
    load(ctx, ProgramSettings).await?.ok_or_else(|| {
        crate::error::ApiError::internal(anyhow::anyhow!("the program settings record is missing"))
    })
}

/// A partner's incentive progress as of a moment (the request's now).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IncentiveProgressOf {
    pub partner: Uuid,
    pub as_of: chrono::DateTime<chrono::Utc>,
}

impl Loader<IncentiveProgressOf> for Loaders {
    type Value = Vec<crate::service::incentives::progress::Progress>;
    type Error = std::sync::Arc<sea_orm::DbErr>;

    async fn load(
        &self,
        keys: &[IncentiveProgressOf],
    ) -> Result<HashMap<IncentiveProgressOf, Self::Value>, Self::Error> {
        let mut found = HashMap::new();
        let moments: std::collections::BTreeSet<_> = keys.iter().map(|k| k.as_of).collect();
        for as_of in moments {
            let partners = entity::partner::Entity::find()
                .filter(
                    entity::partner::Column::Id
                        .is_in(keys.iter().filter(|k| k.as_of == as_of).map(|k| k.partner)),
                )
                .all(&self.db)
                .await?;
            let progress =
                crate::service::incentives::progress::of_partners(&self.db, &partners, as_of)
                    .await?;
            found.extend(
                progress
                    .into_iter()
                    .map(|(partner, value)| (IncentiveProgressOf { partner, as_of }, value)),
            );
        }
        Ok(found)
    }
}

/// A partner's incentive statement for a period in one currency, as of a
/// moment (the request's now).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StatementOf {
    pub partner: Uuid,
    pub currency: String,
    pub from: chrono::DateTime<chrono::Utc>,
    pub to: chrono::DateTime<chrono::Utc>,
    pub as_of: chrono::DateTime<chrono::Utc>,
}

impl Loader<StatementOf> for Loaders {
    type Value = crate::service::incentives::payouts::Statement;
    type Error = std::sync::Arc<sea_orm::DbErr>;

    async fn load(
        &self,
        keys: &[StatementOf],
    ) -> Result<HashMap<StatementOf, Self::Value>, Self::Error> {
        let mut batches: HashMap<_, Vec<Uuid>> = HashMap::new();
        for key in keys {
            batches
                .entry((key.currency.clone(), key.from, key.to, key.as_of))
                .or_default()
                .push(key.partner);
        }
        let mut found = HashMap::new();
        for ((currency, from, to, as_of), partners) in batches {
            let statements = crate::service::incentives::payouts::statements(
                &self.db, &partners, &currency, from, to, as_of,
            )
            .await?;
            found.extend(statements.into_iter().map(|(partner, statement)| {
                let key = StatementOf {
                    partner,
                    currency: currency.clone(),
                    from,
                    to,
                    as_of,
                };
                (key, statement)
            }));
        }
        Ok(found)
    }
}

/// Every attribution of the opportunities and the partner credited by each
/// (as the scope may see it: the row scope is in the join), in one
/// statement, left in the request's cache for `attributions { partner }`.
pub async fn prefetch_attributions_with_partners(
    ctx: &async_graphql::Context<'_>,
    opportunities: impl IntoIterator<Item = Uuid>,
    scope: Scope,
) -> Result<(), crate::error::ApiError> {
    use entity::{opportunity_attribution as attribution, partner};
    use sea_orm::{
        sea_query::{Expr, ExprTrait},
        Condition, JoinType, QueryTrait,
    };
    let loader = ctx.data_opt::<AppLoader>().ok_or_else(|| {
        crate::error::ApiError::internal(anyhow::anyhow!("no loader in the request"))
    })?;
    let opportunities: Vec<Uuid> = opportunities.into_iter().collect();
    if opportunities.is_empty() {
        return Ok(());
    }
    let mut select = attribution::Entity::find()
        .filter(attribution::Column::OpportunityId.is_in(opportunities.iter().copied()))
        .select_also(partner::Entity);
    QueryTrait::query(&mut select).join(
        JoinType::LeftJoin,
        partner::Entity,
        Condition::all()
            .add(
                Expr::col((partner::Entity, partner::Column::Id))
                    .equals((attribution::Entity, attribution::Column::PartnerId)),
            )
            .add(scope.on(partner::Column::Id)),
    );
    let rows = select.all(&loader.loader().db).await?;
    let mut attributions: HashMap<AttributionsOf, Vec<attribution::Model>> = opportunities
        .into_iter()
        .map(|id| (AttributionsOf(id), Vec::new()))
        .collect();
    let mut partners = HashMap::new();
    for (row, credited) in rows {
        if let Some(credited) = credited {
            partners.insert(PartnerById(credited.id, scope), credited);
        }
        attributions
            .entry(AttributionsOf(row.opportunity_id))
            .or_default()
            .push(row);
    }
    loader.feed_many(attributions).await;
    loader.feed_many(partners).await;
    Ok(())
}
