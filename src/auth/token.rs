//! Bearer tokens: random, prefixed so secret scanners can spot a leaked one,
//! shown once, stored only as a SHA-256 hash.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, Duration, Utc};
use entity::{access_token, staff_user};
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{Principal, ScopeSet};
use crate::domain::{Role, RoleKind};

/// Prefix of every access token.
pub const ACCESS_TOKEN_PREFIX: &str = "pgat_";

/// A secret value that never prints itself.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// 256 random bits behind `prefix`.
pub fn generate(prefix: &str) -> Secret {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    Secret(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// What is stored instead of the token. A plain hash is enough: the tokens
/// carry 256 random bits, so there is nothing to brute-force.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// What a new token is for.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub role: Role,
    pub staff_user_id: Option<Uuid>,
    pub partner_id: Option<Uuid>,
    pub scopes: ScopeSet,
    pub ttl: Duration,
    /// The OAuth2 client the token is issued to, if any.
    pub api_client_id: Option<Uuid>,
}

/// Stores a new token and returns it: the only time it is seen in clear.
pub async fn issue(
    db: &impl ConnectionTrait,
    token: NewToken,
    now: DateTime<Utc>,
) -> Result<(Uuid, Secret), DbErr> {
    issue_as(db, token, None, now).await
}

/// [`issue`] for a token acting as the partner contact `contact_id` (a
/// portal's token exchange), or as no one in particular (`None`).
#[expect(
    clippy::disallowed_methods,
    reason = "token bookkeeping: issuing a credential is not a domain change"
)]
pub async fn issue_as(
    db: &impl ConnectionTrait,
    token: NewToken,
    contact_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(Uuid, Secret), DbErr> {
    let secret = generate(ACCESS_TOKEN_PREFIX);
    let id = Uuid::now_v7();
    access_token::ActiveModel {
        id: Set(id),
        token_hash: Set(hash(secret.expose())),
        kind: Set(token.role.kind()),
        role: Set(token.role),
        staff_user_id: Set(token.staff_user_id),
        partner_id: Set(token.partner_id),
        scopes: Set(token.scopes.to_string()),
        created_at: Set(now),
        expires_at: Set(now + token.ttl),
        revoked_at: Set(None),
        api_client_id: Set(token.api_client_id),
        contact_id: Set(contact_id),
    }
    .insert(db)
    .await?;
    Ok((id, secret))
}

/// The principal behind a bearer token, or `None` when the token is unknown,
/// revoked or expired.
pub async fn authenticate(
    db: &impl ConnectionTrait,
    bearer: &str,
    now: DateTime<Utc>,
) -> Result<Option<Principal>, DbErr> {
    Ok(authenticate_until(db, bearer, now)
        .await?
        .map(|(principal, _)| principal))
}

/// [`authenticate`], with the moment the token expires.
pub async fn authenticate_until(
    db: &impl ConnectionTrait,
    bearer: &str,
    now: DateTime<Utc>,
) -> Result<Option<(Principal, DateTime<Utc>)>, DbErr> {
    if !bearer.starts_with(ACCESS_TOKEN_PREFIX) {
        return Ok(None);
    }
    let row = access_token::Entity::find()
        .filter(access_token::Column::TokenHash.eq(hash(bearer)))
        .filter(access_token::Column::RevokedAt.is_null())
        .filter(access_token::Column::ExpiresAt.gt(now))
        .one(db)
        .await?;
    Ok(row.and_then(|row| {
        let principal = Principal {
            role: row.role,
            staff_user_id: row.staff_user_id,
            partner_id: row.partner_id,
            token_id: row.id,
            api_client_id: row.api_client_id,
            contact_id: row.contact_id,
            scopes: ScopeSet::parse(&row.scopes).ok()?,
        };
        Some((principal, row.expires_at))
    }))
}

/// Finds the staff user with `email`, creating it with `role` if there is none.
#[expect(
    clippy::disallowed_methods,
    reason = "the CLI's bootstrap: the staff user a token is created for"
)]
pub async fn staff_user_for(
    db: &impl ConnectionTrait,
    email: &str,
    role: Role,
    now: DateTime<Utc>,
) -> Result<staff_user::Model, DbErr> {
    if let Some(user) = staff_user::Entity::find()
        .filter(staff_user::Column::Email.eq(email))
        .one(db)
        .await?
    {
        return Ok(user);
    }
    let name = email.split('@').next().unwrap_or(email).to_owned();
    staff_user::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(email.to_owned()),
        name: Set(name),
        role: Set(role),
        created_at: Set(now),
    }
    .insert(db)
    .await
}

/// Parses a lifetime such as `30d`, `12h`, `90m` or `3600s`.
pub fn parse_ttl(text: &str) -> Result<Duration, String> {
    let problem = || format!("`{text}` is not a lifetime like 30d, 12h, 90m or 3600s");
    let split = text.len().checked_sub(1).ok_or_else(problem)?;
    let (number, unit) = text.split_at(split);
    let number: i64 = number.parse().map_err(|_| problem())?;
    if number <= 0 {
        return Err(problem());
    }
    let ttl = match unit {
        "d" => Duration::try_days(number),
        "h" => Duration::try_hours(number),
        "m" => Duration::try_minutes(number),
        "s" => Duration::try_seconds(number),
        _ => None,
    };
    ttl.ok_or_else(problem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_hashed() {
        let a = generate(ACCESS_TOKEN_PREFIX);
        let b = generate(ACCESS_TOKEN_PREFIX);
        assert!(a.expose().starts_with("pgat_"));
        assert!(a.expose().len() >= ACCESS_TOKEN_PREFIX.len() + 43);
        assert_ne!(a, b);
        assert_eq!(hash(a.expose()).len(), 64);
        assert!(!format!("{a:?}").contains(&a.expose()[5..]));
    }

    #[test]
    fn ttls() {
        assert_eq!(parse_ttl("30d"), Ok(Duration::days(30)));
        assert_eq!(parse_ttl("12h"), Ok(Duration::hours(12)));
        assert_eq!(parse_ttl("90m"), Ok(Duration::minutes(90)));
        assert_eq!(parse_ttl("3600s"), Ok(Duration::seconds(3600)));
        for bad in ["", "d", "0d", "-1d", "10y", "abc"] {
            assert!(parse_ttl(bad).is_err(), "{bad:?}");
        }
    }
}
