//! A bearer token. Only its SHA-256 hash is stored; the token itself is shown once.

use sea_orm::entity::prelude::*;

use crate::enums::{PrincipalKind, Role};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "access_token")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub token_hash: String,
    pub kind: PrincipalKind,
    pub role: Role,
    pub staff_user_id: Option<Uuid>,
    pub partner_id: Option<Uuid>,
    /// Space-separated scopes, as in OAuth2.
    pub scopes: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
    /// The OAuth2 client the token was issued to, if any.
    pub api_client_id: Option<Uuid>,
    /// The partner contact the token acts as (a portal's token exchange).
    pub contact_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
