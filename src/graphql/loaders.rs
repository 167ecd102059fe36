//! DataLoaders: one batched query per relation per request instead of one
//! per row. Keys are newtypes so all loaders share one `DataLoader`.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
use entity::{certification_track, partner_contact, staff_user};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

/// Loads rows by key for one request.
pub struct Loaders {
    db: DatabaseConnection,
}

pub type AppLoader = DataLoader<Loaders>;

pub fn for_request(db: DatabaseConnection) -> AppLoader {
    DataLoader::new(Loaders { db }, tokio::spawn)
}

/// A staff user by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StaffUserId(pub Uuid);

impl Loader<StaffUserId> for Loaders {
    type Value = staff_user::Model;
    type Error = std::sync::Arc<sea_orm::DbErr>;

    async fn load(
        &self,
        keys: &[StaffUserId],
    ) -> Result<HashMap<StaffUserId, Self::Value>, Self::Error> {
        let rows = staff_user::Entity::find()
            .filter(staff_user::Column::Id.is_in(keys.iter().map(|k| k.0)))
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| (StaffUserId(row.id), row))
            .collect())
    }
}

/// A certification track by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TrackId(pub Uuid);

impl Loader<TrackId> for Loaders {
    type Value = certification_track::Model;
    type Error = std::sync::Arc<sea_orm::DbErr>;

    async fn load(&self, keys: &[TrackId]) -> Result<HashMap<TrackId, Self::Value>, Self::Error> {
        let rows = certification_track::Entity::find()
            .filter(certification_track::Column::Id.is_in(keys.iter().map(|k| k.0)))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|row| (TrackId(row.id), row)).collect())
    }
}

/// A partner contact by id. Only for contacts reached through a row the
/// caller may already see (a certification of that contact's partner): the
/// loader itself does not scope rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContactOfVisibleRow(pub Uuid);

impl Loader<ContactOfVisibleRow> for Loaders {
    type Value = partner_contact::Model;
    type Error = std::sync::Arc<sea_orm::DbErr>;

    async fn load(
        &self,
        keys: &[ContactOfVisibleRow],
    ) -> Result<HashMap<ContactOfVisibleRow, Self::Value>, Self::Error> {
        let rows = partner_contact::Entity::find()
            .filter(partner_contact::Column::Id.is_in(keys.iter().map(|k| k.0)))
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| (ContactOfVisibleRow(row.id), row))
            .collect())
    }
}

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
