//! A certification programme partner people can earn.

use sea_orm::entity::prelude::*;

use crate::enums::{CertificationKind, CertificationLevel};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "certification_track")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Upper-case, unique.
    pub code: String,
    pub name: String,
    pub kind: CertificationKind,
    pub level: CertificationLevel,
    pub validity_months: i32,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
