//! DataLoaders: one batched query per relation per request instead of one
//! per row. Keys are newtypes so all loaders share one `DataLoader`.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
use entity::staff_user;
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
