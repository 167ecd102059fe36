//! The signing secrets of webhook endpoints at rest: sealed with the server
//! key (`crate::secrets`) for their row, and resealed at start when written
//! in plain text by an earlier version or sealed with a previous key.

use entity::webhook_endpoint;
use sea_orm::{sea_query::Expr, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::secrets::{SecretError, SecretKeys};

/// The associated data a secret is sealed for: its endpoint, so a sealed
/// value copied to another endpoint does not open.
pub fn row(endpoint: Uuid) -> String {
    format!("webhook_endpoint:{endpoint}")
}

/// Why resealing stopped.
#[derive(Debug, thiserror::Error)]
pub enum ResealError {
    #[error(transparent)]
    Database(#[from] DbErr),
    #[error("the signing secret of webhook endpoint {0} cannot be read: {1}")]
    Unreadable(Uuid, SecretError),
}

/// Seals with the current key every secret that is in plain text or sealed
/// with a previous key; returns how many endpoints changed. Each update is
/// conditional on the values read, so replicas starting together do not
/// undo each other (the loser's values stay sealed with the current key too).
#[expect(
    clippy::disallowed_methods,
    reason = "re-encrypting a secret at rest changes no program data: no version, no audit entry, no event"
)]
pub async fn reseal_all(db: &DatabaseConnection, keys: &SecretKeys) -> Result<u64, ResealError> {
    let endpoints = webhook_endpoint::Entity::find().all(db).await?;
    let mut resealed = 0;
    for endpoint in endpoints {
        let stale = |value: &str| !keys.is_current(value);
        let previous_stale = endpoint.previous_secret.as_deref().is_some_and(stale);
        if !stale(&endpoint.secret) && !previous_stale {
            continue;
        }
        let row = row(endpoint.id);
        let reseal = |value: &str| {
            keys.open(value, &row)
                .map(|secret| keys.seal(&secret, &row))
                .map_err(|e| ResealError::Unreadable(endpoint.id, e))
        };
        let secret = reseal(&endpoint.secret)?;
        let previous = endpoint
            .previous_secret
            .as_deref()
            .map(reseal)
            .transpose()?;
        let mut update = webhook_endpoint::Entity::update_many()
            .col_expr(webhook_endpoint::Column::Secret, Expr::value(secret))
            .col_expr(
                webhook_endpoint::Column::PreviousSecret,
                Expr::value(previous),
            )
            .filter(webhook_endpoint::Column::Id.eq(endpoint.id))
            .filter(webhook_endpoint::Column::Secret.eq(endpoint.secret.clone()));
        update = match &endpoint.previous_secret {
            Some(value) => {
                update.filter(webhook_endpoint::Column::PreviousSecret.eq(value.clone()))
            }
            None => update.filter(webhook_endpoint::Column::PreviousSecret.is_null()),
        };
        resealed += update.exec(db).await?.rows_affected;
    }
    Ok(resealed)
}
