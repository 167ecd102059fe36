//! Keyset pagination for connections (`first`/`after`, `last`/`before`).
//!
//! A cursor is the sort key and the id of a row, so pages stay stable while
//! rows are added or removed. `first`/`last` default to 20 and may not exceed
//! 100; asking for more is an error, not a silent cut.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::{Expr, Order},
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Select,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{domain::OrderDirection, error::ApiError};

mod per_parent;
pub use per_parent::paginate_per_parent;

/// A connection that nests under a parent (`Partner.contacts`): how to
/// read the pages of many parents at once, each in the caller's row scope.
/// The value is the relation and its filter arguments; the request's
/// loader batches the parents that ask with equal values.
pub trait NestedPages: Clone + Eq + std::hash::Hash + Send + Sync + 'static {
    type Row: Clone + Send + Sync + 'static;

    fn pages(
        &self,
        db: &sea_orm::DatabaseConnection,
        scope: crate::policy::RowScope,
        parents: &[Uuid],
        args: PageArgs,
    ) -> impl std::future::Future<
        Output = Result<std::collections::HashMap<Uuid, Page<Self::Row>>, ApiError>,
    > + Send;
}

pub const DEFAULT_PAGE_SIZE: i32 = 20;

/// The column a page's rows carry their list's total in.
const TOTAL_COUNT: &str = "total_count";

/// A page row with the list's total beside it.
struct Counted<M> {
    row: M,
    total: i64,
}

impl<M: FromQueryResult> FromQueryResult for Counted<M> {
    fn from_query_result(row: &sea_orm::QueryResult, prefix: &str) -> Result<Self, sea_orm::DbErr> {
        Ok(Self {
            row: M::from_query_result(row, prefix)?,
            total: row.try_get("", TOTAL_COUNT)?,
        })
    }
}
pub const MAX_PAGE_SIZE: i32 = 100;

/// The connection arguments of one field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
    /// Leave `total_count` at 0 instead of counting: the query does not ask
    /// for it, and the count is a statement of its own.
    pub skip_total_count: bool,
}

/// One value of a sort key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum KeyValue {
    Int(i64),
    Uuid(Uuid),
    Time(DateTime<Utc>),
    Text(String),
}

impl From<KeyValue> for sea_orm::Value {
    fn from(value: KeyValue) -> Self {
        match value {
            KeyValue::Int(v) => v.into(),
            KeyValue::Uuid(v) => v.into(),
            KeyValue::Time(v) => v.into(),
            KeyValue::Text(v) => v.into(),
        }
    }
}

/// Sort key then id; unique per row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Cursor(KeyValue, KeyValue);

impl Cursor {
    fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    fn decode(text: &str, argument: &str) -> Result<Self, ApiError> {
        URL_SAFE_NO_PAD
            .decode(text)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(|| {
                ApiError::BadUserInput(format!(
                    "`{argument}` is not a cursor this connection issued"
                ))
            })
    }
}

/// How a query is ordered: a sort column and the id column that breaks ties.
pub struct Ordering<C> {
    pub key: C,
    pub id: C,
    pub direction: OrderDirection,
}

/// One page of rows with their cursors.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub edges: Vec<(String, T)>,
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub total_count: u64,
}

impl<T> Page<T> {
    pub fn map<U>(self, mut f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            edges: self.edges.into_iter().map(|(c, t)| (c, f(t))).collect(),
            has_next_page: self.has_next_page,
            has_previous_page: self.has_previous_page,
            total_count: self.total_count,
        }
    }
}

fn page_size(value: Option<i32>, argument: &str) -> Result<Option<u64>, ApiError> {
    match value {
        None => Ok(None),
        Some(n) if (0..=MAX_PAGE_SIZE).contains(&n) => Ok(Some(n as u64)),
        Some(_) => Err(ApiError::BadUserInput(format!(
            "`{argument}` must be between 0 and {MAX_PAGE_SIZE}"
        ))),
    }
}

/// The connection arguments, checked.
struct Window {
    first: Option<u64>,
    last: Option<u64>,
    after: Option<Cursor>,
    before: Option<Cursor>,
}

impl Window {
    fn of(args: &PageArgs) -> Result<Self, ApiError> {
        let first = page_size(args.first, "first")?;
        let last = page_size(args.last, "last")?;
        if first.is_some() && last.is_some() {
            return Err(ApiError::BadUserInput(
                "give `first` or `last`, not both".into(),
            ));
        }
        let cursor = |text: &Option<String>, argument| {
            text.as_deref()
                .map(|c| Cursor::decode(c, argument))
                .transpose()
        };
        Ok(Self {
            first,
            last,
            after: cursor(&args.after, "after")?,
            before: cursor(&args.before, "before")?,
        })
    }
}

/// The page of a list known to match nothing, answered without a query
/// but after the same argument checks as [`paginate_as`].
pub fn empty<M>(args: &PageArgs) -> Result<Page<M>, ApiError> {
    let window = Window::of(args)?;
    let backwards = window.last.is_some();
    Ok(Page {
        edges: Vec::new(),
        has_next_page: backwards && window.before.is_some(),
        has_previous_page: !backwards && window.after.is_some(),
        total_count: 0,
    })
}

/// Rows strictly beyond `cursor` when walking in `direction`.
fn beyond<C: ColumnTrait>(
    ordering: &Ordering<C>,
    cursor: Cursor,
    direction: OrderDirection,
) -> Condition {
    let Cursor(key, id) = cursor;
    let (key, id): (sea_orm::Value, sea_orm::Value) = (key.into(), id.into());
    let past = |column: C, value: sea_orm::Value| match direction {
        OrderDirection::Asc => column.gt(value),
        OrderDirection::Desc => column.lt(value),
    };
    Condition::any().add(past(ordering.key, key.clone())).add(
        Condition::all()
            .add(ordering.key.eq(key))
            .add(past(ordering.id, id)),
    )
}

fn reverse(direction: OrderDirection) -> OrderDirection {
    match direction {
        OrderDirection::Asc => OrderDirection::Desc,
        OrderDirection::Desc => OrderDirection::Asc,
    }
}

fn order(direction: OrderDirection) -> Order {
    match direction {
        OrderDirection::Asc => Order::Asc,
        OrderDirection::Desc => Order::Desc,
    }
}

/// Fetches one page of `select` (already filtered and row-scoped) and its
/// total count. `key_of` gives a row's sort key and id for its cursor.
pub async fn paginate<E, C>(
    db: &C,
    select: Select<E>,
    ordering: Ordering<E::Column>,
    args: PageArgs,
    key_of: impl Fn(&E::Model) -> (KeyValue, KeyValue),
) -> Result<Page<E::Model>, ApiError>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    paginate_as(db, select, |page| page, ordering, args, key_of).await
}

/// [`paginate`], reading each row as `M`. `widen` adds what the page shows
/// beside each row (joins and their columns) to the page query only, so the
/// count stays a plain count of `select`.
pub async fn paginate_as<E, M, C>(
    db: &C,
    select: Select<E>,
    widen: impl FnOnce(Select<E>) -> Select<E>,
    ordering: Ordering<E::Column>,
    args: PageArgs,
    key_of: impl Fn(&M) -> (KeyValue, KeyValue),
) -> Result<Page<M>, ApiError>
where
    E: EntityTrait,
    M: FromQueryResult + Send + Sync,
    C: ConnectionTrait,
{
    let Window {
        first,
        last,
        after,
        before,
    } = Window::of(&args)?;
    let backwards = last.is_some();
    let size = last.or(first).unwrap_or(DEFAULT_PAGE_SIZE as u64);

    // A plain `SELECT COUNT(*) … WHERE …`; SeaORM's `count()` wraps the whole
    // select in a subquery, which costs SQLite a scan of every column.
    let count = select
        .clone()
        .select_only()
        .expr_as(Expr::cust("COUNT(*)"), TOTAL_COUNT);

    let (has_after, has_before) = (after.is_some(), before.is_some());
    let mut query = widen(select);
    if let Some(cursor) = after {
        query = query.filter(beyond(&ordering, cursor, ordering.direction));
    }
    if let Some(cursor) = before {
        query = query.filter(beyond(&ordering, cursor, reverse(ordering.direction)));
    }
    let walk = if backwards {
        reverse(ordering.direction)
    } else {
        ordering.direction
    };
    let query = query
        .order_by(ordering.key, order(walk))
        .order_by(ordering.id, order(walk))
        .limit(size + 1);
    let (rows, total_count) = if args.skip_total_count {
        (query.into_model::<M>().all(db).await?, 0)
    } else {
        // The total rides on every row of the page as an uncorrelated
        // subquery, which the database evaluates once: one statement
        // instead of two. Only an empty page past a cursor counts apart.
        let total = Expr::SubQuery(None, Box::new(count.clone().into_query().into()));
        let rows = query
            .expr_as(total, TOTAL_COUNT)
            .into_model::<Counted<M>>()
            .all(db)
            .await?;
        let total = match rows.first() {
            Some(row) => row.total,
            None if has_after || has_before => {
                count.into_tuple::<i64>().one(db).await?.unwrap_or_default()
            }
            None => 0,
        };
        let rows = rows.into_iter().map(|counted| counted.row).collect();
        (rows, total.max(0) as u64)
    };
    Ok(Walked {
        size,
        backwards,
        has_after,
        has_before,
    }
    .page(rows, total_count, &key_of))
}

/// How a page was walked: enough to turn the rows read (up to `size + 1`,
/// in walking order) into the page.
#[derive(Clone, Copy)]
struct Walked {
    size: u64,
    backwards: bool,
    has_after: bool,
    has_before: bool,
}

impl Walked {
    fn page<M>(
        self,
        mut rows: Vec<M>,
        total_count: u64,
        key_of: impl Fn(&M) -> (KeyValue, KeyValue),
    ) -> Page<M> {
        let has_more = rows.len() as u64 > self.size;
        rows.truncate(self.size as usize);
        if self.backwards {
            rows.reverse();
        }
        let edges = rows
            .into_iter()
            .map(|row| {
                let (key, id) = key_of(&row);
                (Cursor(key, id).encode(), row)
            })
            .collect();
        Page {
            edges,
            has_next_page: if self.backwards {
                self.has_before
            } else {
                has_more
            },
            has_previous_page: if self.backwards {
                has_more
            } else {
                self.has_after
            },
            total_count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let cursor = Cursor(KeyValue::Text("acme".into()), KeyValue::Uuid(Uuid::nil()));
        assert_eq!(Cursor::decode(&cursor.encode(), "after").ok(), Some(cursor));
        assert!(Cursor::decode("nonsense", "after").is_err());
    }

    #[test]
    fn page_sizes_are_capped_loudly() {
        assert!(page_size(Some(101), "first").is_err());
        assert!(page_size(Some(-1), "first").is_err());
        assert_eq!(page_size(Some(100), "first").ok(), Some(Some(100)));
    }
}
