//! Reading a column by its position, straight from the driver's row.
//!
//! SeaORM reads columns by name: it hashes every name and formats an error
//! message for every NULL it meets. For the hundreds of columns of a page
//! that cost more than decoding them, so page queries read by position.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ActiveEnum, DbErr, QueryResult};
use sqlx::{Decode, Postgres, Row, Sqlite, Type};
use uuid::Uuid;

use crate::domain::{AttributionRole, DealRegistrationStatus, OpportunitySource, OpportunityStage};

/// What a page reads from one column: a type the driver decodes, or a
/// stored enum (decoded as its text, then read through the enum's mapping).
pub trait FromColumn: Sized {
    fn from_column(row: &QueryResult, index: usize) -> Result<Self, DbErr>;
}

/// Column `index` of `row` as `T`.
pub fn read<T: FromColumn>(row: &QueryResult, index: usize) -> Result<T, DbErr> {
    T::from_column(row, index)
}

macro_rules! decoded {
    ($($t:ty),+) => {$(
        impl FromColumn for $t {
            fn from_column(row: &QueryResult, index: usize) -> Result<Self, DbErr> {
                column(row, index)
            }
        }

        impl FromColumn for Option<$t> {
            fn from_column(row: &QueryResult, index: usize) -> Result<Self, DbErr> {
                column(row, index)
            }
        }
    )+};
}

decoded!(Uuid, String, i32, i64, NaiveDate, DateTime<Utc>);

macro_rules! stored {
    ($($t:ty),+) => {$(
        impl FromColumn for $t {
            fn from_column(row: &QueryResult, index: usize) -> Result<Self, DbErr> {
                Self::try_from_value(&column::<String>(row, index)?)
            }
        }
    )+};
}

stored!(
    AttributionRole,
    DealRegistrationStatus,
    OpportunitySource,
    OpportunityStage
);

/// Column `index` of `row`, decoded as `T` (an `Option` for nullable ones).
pub fn column<T>(row: &QueryResult, index: usize) -> Result<T, DbErr>
where
    T: for<'r> Decode<'r, Postgres> + Type<Postgres> + for<'r> Decode<'r, Sqlite> + Type<Sqlite>,
{
    let read = if let Some(row) = row.try_as_pg_row() {
        row.try_get(index)
    } else if let Some(row) = row.try_as_sqlite_row() {
        row.try_get(index)
    } else {
        return Err(DbErr::Custom(
            "a row from neither PostgreSQL nor SQLite".into(),
        ));
    };
    read.map_err(|e| DbErr::Type(format!("column {index}: {e}")))
}
