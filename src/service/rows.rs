//! Reading a column by its position, straight from the driver's row.
//!
//! SeaORM reads columns by name: it hashes every name and formats an error
//! message for every NULL it meets. For the hundreds of columns of a page
//! that cost more than decoding them, so page queries read by position.

use sea_orm::{DbErr, QueryResult};
use sqlx::{Decode, Postgres, Row, Sqlite, Type};

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
