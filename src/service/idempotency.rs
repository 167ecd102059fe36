//! `Idempotency-Key` (SPEC §5): for 24 hours per principal, the same key with
//! the same request replays the first response without doing the work again;
//! with a different request it is refused.
//!
//! Keys are request bookkeeping, not domain changes: they are written
//! directly, never audited.
#![expect(
    clippy::disallowed_methods,
    reason = "idempotency keys are request bookkeeping, not audited changes"
)]

use chrono::{DateTime, Duration, Utc};
use entity::idempotency_key;
use sea_orm::{
    sea_query::OnConflict, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use sha2::{Digest, Sha256};

/// How long a key is remembered.
pub const KEEP: Duration = Duration::hours(24);

/// What to do with a request that carries a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// First use: run it, then `complete`.
    Fresh,
    /// Seen before with the same request: answer this.
    Replay {
        status: u16,
        content_type: String,
        body: String,
    },
    /// The first request with this key is still running.
    InProgress,
    /// Seen before with a different request.
    Mismatch,
}

/// A key is 1 to 255 visible ASCII characters.
pub fn valid_key(key: &str) -> bool {
    (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

/// The fingerprint of a request: query, operation name and variables.
pub fn fingerprint(
    query: &str,
    operation_name: Option<&str>,
    variables: &serde_json::Value,
) -> String {
    let canonical = serde_json::json!({ "query": query, "operationName": operation_name, "variables": variables });
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

pub async fn claim(
    db: &impl ConnectionTrait,
    principal: &str,
    key: &str,
    request_hash: &str,
    now: DateTime<Utc>,
) -> Result<Claim, DbErr> {
    // A key older than a day is forgotten, so it may be used again.
    idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::Principal.eq(principal))
        .filter(idempotency_key::Column::Key.eq(key))
        .filter(idempotency_key::Column::CreatedAt.lte(now - KEEP))
        .exec(db)
        .await?;
    let inserted = idempotency_key::Entity::insert(idempotency_key::ActiveModel {
        principal: Set(principal.to_owned()),
        key: Set(key.to_owned()),
        request_hash: Set(request_hash.to_owned()),
        status: Set(None),
        content_type: Set(None),
        body: Set(None),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            idempotency_key::Column::Principal,
            idempotency_key::Column::Key,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    if inserted == 1 {
        return Ok(Claim::Fresh);
    }
    let seen = idempotency_key::Entity::find_by_id((principal.to_owned(), key.to_owned()))
        .one(db)
        .await?;
    let Some(seen) = seen else {
        // Deleted between the insert and the read: treat it as in progress; a retry settles it.
        return Ok(Claim::InProgress);
    };
    Ok(match seen {
        seen if seen.request_hash != request_hash => Claim::Mismatch,
        idempotency_key::Model {
            status: Some(status),
            content_type,
            body,
            ..
        } => Claim::Replay {
            status: u16::try_from(status).unwrap_or(200),
            content_type: content_type.unwrap_or_default(),
            body: body.unwrap_or_default(),
        },
        _ => Claim::InProgress,
    })
}

/// Keeps the response of a fresh claim for replays.
pub async fn complete(
    db: &impl ConnectionTrait,
    principal: &str,
    key: &str,
    status: u16,
    content_type: &str,
    body: &str,
) -> Result<(), DbErr> {
    idempotency_key::Entity::update_many()
        .col_expr(
            idempotency_key::Column::Status,
            sea_orm::sea_query::Expr::value(i32::from(status)),
        )
        .col_expr(
            idempotency_key::Column::ContentType,
            sea_orm::sea_query::Expr::value(content_type),
        )
        .col_expr(
            idempotency_key::Column::Body,
            sea_orm::sea_query::Expr::value(body),
        )
        .filter(idempotency_key::Column::Principal.eq(principal))
        .filter(idempotency_key::Column::Key.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

/// Forgets a fresh claim whose request failed on our side, so a retry runs it.
pub async fn release(db: &impl ConnectionTrait, principal: &str, key: &str) -> Result<(), DbErr> {
    idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::Principal.eq(principal))
        .filter(idempotency_key::Column::Key.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes keys older than a day (the jobs call this).
pub async fn purge_expired(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::CreatedAt.lte(now - KEEP))
        .exec(db)
        .await?
        .rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_fingerprints() {
        assert!(valid_key("order-42"));
        assert!(!valid_key(""));
        assert!(!valid_key("has space"));
        assert!(!valid_key(&"k".repeat(256)));
        let v = serde_json::json!({ "a": 1, "b": 2 });
        let w = serde_json::json!({ "b": 2, "a": 1 });
        assert_eq!(
            fingerprint("m", None, &v),
            fingerprint("m", None, &w),
            "variable order does not matter"
        );
        assert_ne!(fingerprint("m", None, &v), fingerprint("m", Some("Op"), &v));
    }
}
