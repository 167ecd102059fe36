//! An OAuth2 client-credentials client. Only the secret's hash is stored.

use sea_orm::entity::prelude::*;

use crate::enums::Role;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_client")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The public `client_id`.
    #[sea_orm(unique)]
    pub client_id: String,
    pub secret_hash: String,
    pub name: String,
    /// The role its tokens act with.
    pub role: Role,
    /// Set for integration clients bound to one partner.
    pub partner_id: Option<Uuid>,
    /// The scopes its tokens may carry, space-separated.
    pub scopes: String,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
