//! OAuth2 client-credentials clients (RFC 6749 §4.4): creating them,
//! checking their credentials, issuing and revoking their tokens; and a
//! portal client's token exchange (RFC 8693) for a token acting as one of
//! its partner's contacts.

use chrono::{DateTime, Duration, Utc};
use entity::{access_token, api_client, partner_contact};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, Set,
};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::Scope;
use super::{
    token::{self, NewToken, Secret},
    ScopeSet,
};
use crate::{
    domain::{PrincipalKind, Role, RoleKind},
    ids::{self, NodeType},
};

pub const CLIENT_ID_PREFIX: &str = "pgci_";
pub const CLIENT_SECRET_PREFIX: &str = "pgcs_";

/// Access tokens issued to clients live this long.
pub const ACCESS_TOKEN_TTL: Duration = Duration::hours(1);

/// What a new client is for.
pub struct NewClient {
    pub name: String,
    pub role: Role,
    pub partner_id: Option<Uuid>,
    pub scopes: ScopeSet,
    pub created_by: Option<Uuid>,
}

/// A new client's row and its secret, shown once and never again. The
/// GraphQL mutation writes it through the unit of work (audited).
pub fn new_client(new: NewClient, now: DateTime<Utc>) -> (api_client::ActiveModel, Secret) {
    let client_id = token::generate(CLIENT_ID_PREFIX);
    let secret = token::generate(CLIENT_SECRET_PREFIX);
    let client = api_client::ActiveModel {
        id: Set(Uuid::now_v7()),
        client_id: Set(client_id.expose().to_owned()),
        secret_hash: Set(token::hash(secret.expose())),
        name: Set(new.name),
        role: Set(new.role),
        partner_id: Set(new.partner_id),
        scopes: Set(new.scopes.to_string()),
        created_by: Set(new.created_by),
        created_at: Set(now),
        revoked_at: Set(None),
    };
    (client, secret)
}

/// Stores a new client from the CLI; the secret is returned here and never again.
#[expect(
    clippy::disallowed_methods,
    reason = "the CLI's bootstrap credentials, like `token create`: no actor to audit"
)]
pub async fn create(
    db: &impl ConnectionTrait,
    new: NewClient,
    now: DateTime<Utc>,
) -> Result<(api_client::Model, Secret), DbErr> {
    let (client, secret) = new_client(new, now);
    Ok((client.insert(db).await?, secret))
}

/// The active client with these credentials. Unknown ids and wrong secrets
/// look the same to the caller, and the comparison takes constant time.
pub async fn verify(
    db: &impl ConnectionTrait,
    client_id: &str,
    secret: &str,
) -> Result<Option<api_client::Model>, DbErr> {
    let client = api_client::Entity::find()
        .filter(api_client::Column::ClientId.eq(client_id))
        .filter(api_client::Column::RevokedAt.is_null())
        .one(db)
        .await?;
    let presented = token::hash(secret);
    Ok(client.filter(|c| bool::from(c.secret_hash.as_bytes().ct_eq(presented.as_bytes()))))
}

/// Why a token request was refused (RFC 6749 §5.2 error codes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    InvalidScope(String),
}

/// Issues an access token for `client`, with the requested scopes (all the
/// client's scopes when none are requested).
pub async fn issue_token(
    db: &impl ConnectionTrait,
    client: &api_client::Model,
    requested: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Result<(Secret, ScopeSet), Refusal>, DbErr> {
    let allowed = ScopeSet::parse(&client.scopes).unwrap_or_default();
    let scopes = match requested.map(ScopeSet::parse) {
        None => allowed.clone(),
        Some(Err(unknown)) => return Ok(Err(Refusal::InvalidScope(unknown))),
        Some(Ok(requested)) => {
            if let Some(extra) = requested.iter().find(|s| !allowed.contains(*s)) {
                return Ok(Err(Refusal::InvalidScope(format!(
                    "scope `{extra}` is not granted to this client"
                ))));
            }
            requested
        }
    };
    let new = NewToken {
        role: client.role,
        staff_user_id: None,
        partner_id: client.partner_id,
        scopes: scopes.clone(),
        ttl: ACCESS_TOKEN_TTL,
        api_client_id: Some(client.id),
    };
    let (_, secret) = token::issue(db, new, now).await?;
    Ok(Ok((secret, scopes)))
}

/// Revokes `presented` if it is an access token of `client` (RFC 7009: an
/// unknown token is not an error). Call `cache::tokens_revoked` once this
/// has committed.
#[expect(
    clippy::disallowed_methods,
    reason = "token bookkeeping: a client revoking its own token (RFC 7009)"
)]
pub async fn revoke_token(
    db: &impl ConnectionTrait,
    client: &api_client::Model,
    presented: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    access_token::Entity::update_many()
        .col_expr(access_token::Column::RevokedAt, Expr::value(now))
        .filter(access_token::Column::TokenHash.eq(token::hash(presented)))
        .filter(access_token::Column::ApiClientId.eq(client.id))
        .filter(access_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Revokes every token issued to a client, as its revocation (audited
/// through the unit of work) requires. Call `cache::tokens_revoked` once
/// this has committed.
#[expect(
    clippy::disallowed_methods,
    reason = "token bookkeeping: tokens go with their client's audited revocation"
)]
pub async fn revoke_tokens_of(
    db: &impl ConnectionTrait,
    client_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    access_token::Entity::update_many()
        .col_expr(access_token::Column::RevokedAt, Expr::value(now))
        .filter(access_token::Column::ApiClientId.eq(client_id))
        .filter(access_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Revokes every token acting as the partner contact `contact_id`, as the
/// end of its portal access (audited through the unit of work) requires.
/// Call `cache::tokens_revoked` once this has committed.
#[expect(
    clippy::disallowed_methods,
    reason = "token bookkeeping: tokens go with their contact's audited loss of portal access"
)]
pub async fn revoke_tokens_of_contact(
    db: &impl ConnectionTrait,
    contact_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    access_token::Entity::update_many()
        .col_expr(access_token::Column::RevokedAt, Expr::value(now))
        .filter(access_token::Column::ContactId.eq(contact_id))
        .filter(access_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// A token acting as a contact lives this long at most (never past the
/// portal token it was exchanged for).
pub const CONTACT_TOKEN_TTL: Duration = Duration::minutes(15);

/// Why a token exchange was refused (RFC 8693 §2.2.2, RFC 6749 §5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExchangeRefusal {
    /// The client is not a portal (`portal` scope): `unauthorized_client`.
    NotAPortal,
    /// The subject token is unknown, expired, revoked, not this client's, or
    /// not a portal token: `invalid_grant`.
    InvalidSubjectToken,
    /// The contact does not exist, is not the client's partner's, or has no
    /// portal access: `invalid_target` (the same answer for each, so a
    /// client learns nothing of other partners' contacts).
    InvalidTarget,
    /// A requested scope the subject token lacks: `invalid_scope`.
    InvalidScope(String),
}

/// A token acting as a contact, as the token endpoint answers it.
pub struct ExchangedToken {
    pub token: Secret,
    pub scopes: ScopeSet,
    pub expires_in: Duration,
}

/// RFC 8693 token exchange for a portal's backend: `client`, a portal
/// (`portal` scope), presents one of its own access tokens (`subject_token`)
/// and names one of its partner's contacts with portal access
/// (`requested_subject`, the contact's global id; a staff portal client may
/// name any partner's); the new token acts as that contact, with the
/// contact's portal role, the subject token's scopes (less `portal`,
/// narrowed by `requested_scope`) and a short life.
pub async fn exchange_for_contact(
    db: &impl ConnectionTrait,
    client: &api_client::Model,
    subject_token: &str,
    requested_subject: &str,
    requested_scope: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Result<ExchangedToken, ExchangeRefusal>, DbErr> {
    let client_scopes = ScopeSet::parse(&client.scopes).unwrap_or_default();
    if !client_scopes.contains(Scope::Portal) {
        return Ok(Err(ExchangeRefusal::NotAPortal));
    }
    let Some((subject, subject_expires)) =
        token::authenticate_until(db, subject_token, now).await?
    else {
        return Ok(Err(ExchangeRefusal::InvalidSubjectToken));
    };
    if subject.api_client_id != Some(client.id)
        || subject.contact_id.is_some()
        || !subject.scopes.contains(Scope::Portal)
    {
        return Ok(Err(ExchangeRefusal::InvalidSubjectToken));
    }
    let contact = match ids::decode_as(NodeType::PartnerContact, requested_subject.trim()) {
        Some(id) => partner_contact::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    let staff_portal = client.partner_id.is_none() && client.role.kind() == PrincipalKind::Staff;
    let Some((contact, role)) = contact
        .filter(|c| c.deactivated_at.is_none())
        .filter(|c| staff_portal || client.partner_id == Some(c.partner_id))
        .and_then(|c| c.portal_role.map(|role| (c, role)))
        .filter(|(_, role)| role.kind() == PrincipalKind::Partner)
    else {
        return Ok(Err(ExchangeRefusal::InvalidTarget));
    };
    let offered = subject.scopes.without(Scope::Portal);
    let scopes = match requested_scope.map(ScopeSet::parse) {
        None => offered,
        Some(Err(unknown)) => return Ok(Err(ExchangeRefusal::InvalidScope(unknown))),
        Some(Ok(requested)) => {
            if let Some(extra) = requested.iter().find(|s| !offered.contains(*s)) {
                return Ok(Err(ExchangeRefusal::InvalidScope(format!(
                    "scope `{extra}` is not granted to the subject token"
                ))));
            }
            requested
        }
    };
    if scopes.is_empty() {
        return Ok(Err(ExchangeRefusal::InvalidScope(
            "the token would carry no scope".into(),
        )));
    }
    let ttl = CONTACT_TOKEN_TTL.min(subject_expires - now);
    let new = NewToken {
        role,
        staff_user_id: None,
        partner_id: Some(contact.partner_id),
        scopes: scopes.clone(),
        ttl,
        api_client_id: Some(client.id),
    };
    let (_, token) = token::issue_as(db, new, Some(contact.id), now).await?;
    Ok(Ok(ExchangedToken {
        token,
        scopes,
        expires_in: ttl,
    }))
}
