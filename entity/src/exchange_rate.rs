//! The rate of one currency to the program's base currency (SPEC §4.5).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "exchange_rate")]
pub struct Model {
    /// ISO 4217 code.
    #[sea_orm(primary_key, auto_increment = false)]
    pub currency: String,
    /// One unit of `currency` in base-currency units, as a decimal string.
    pub rate_to_base: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
