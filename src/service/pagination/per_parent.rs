//! One page per parent, in one statement: a connection nested under a list
//! (each partner's contacts, each partner's opportunities) reads the pages
//! of every parent at once. A window function numbers each parent's rows in
//! the page order and counts them; the outer query keeps each parent's
//! first `n + 1`. Row scope and filters are in the same statement.

use std::collections::HashMap;

use sea_orm::{
    sea_query::{
        Alias, Asterisk, Expr, ExprTrait, OverStatement, Query, SimpleExpr, WindowStatement,
    },
    Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect, QueryTrait,
    Select,
};
use uuid::Uuid;

use super::{
    beyond, order, reverse, Ordering, Page, PageArgs, Walked, Window, DEFAULT_PAGE_SIZE,
    TOTAL_COUNT,
};
use crate::error::ApiError;

/// The column holding the parent a row is paged under.
const PARENT: &str = "page_parent";
/// A row's position within its parent's page walk, from 1.
const POSITION: &str = "page_position";
/// 1 when a row lies past the cursors, 0 when before them.
const PAST_CURSORS: &str = "page_past_cursors";

/// A page row with its parent and its parent's total beside it.
struct Parented<M> {
    parent: Uuid,
    total: i64,
    row: M,
}

impl<M: FromQueryResult> FromQueryResult for Parented<M> {
    fn from_query_result(row: &sea_orm::QueryResult, prefix: &str) -> Result<Self, sea_orm::DbErr> {
        Ok(Self {
            parent: row.try_get("", PARENT)?,
            total: row.try_get("", TOTAL_COUNT)?,
            row: M::from_query_result(row, prefix)?,
        })
    }
}

/// [`super::paginate_as`] for many parents at once: `parent` is the
/// expression naming a row's parent (a column of `select`'s table or of a
/// join), `parents` the parents whose pages to read. Every parent gets a
/// page (an empty one when it has no rows), each with its own
/// `hasNextPage`, `hasPreviousPage` and `totalCount`; the cursors apply to
/// each parent's rows alike. One statement, plus one grouped count only
/// when a cursor leaves a parent's page empty and the total is asked for.
#[allow(clippy::too_many_arguments)]
pub async fn paginate_per_parent<E, M, C>(
    db: &C,
    select: Select<E>,
    parent: SimpleExpr,
    parents: &[Uuid],
    widen: impl FnOnce(Select<E>) -> Select<E>,
    ordering: Ordering<E::Column>,
    args: PageArgs,
    key_of: impl Fn(&M) -> (super::KeyValue, super::KeyValue),
) -> Result<HashMap<Uuid, Page<M>>, ApiError>
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
    if parents.is_empty() {
        return Ok(HashMap::new());
    }
    let backwards = last.is_some();
    let size = last.or(first).unwrap_or(DEFAULT_PAGE_SIZE as u64);
    let (has_after, has_before) = (after.is_some(), before.is_some());
    let cursored = has_after || has_before;
    let counted = !args.skip_total_count;
    let walk = if backwards {
        reverse(ordering.direction)
    } else {
        ordering.direction
    };

    let mut past = Condition::all();
    if let Some(cursor) = after {
        past = past.add(beyond(&ordering, cursor, ordering.direction));
    }
    if let Some(cursor) = before {
        past = past.add(beyond(&ordering, cursor, reverse(ordering.direction)));
    }
    let select = select.filter(parent.clone().is_in(parents.iter().copied()));
    let past_flag = || -> SimpleExpr { Expr::case(past.clone(), 1).finally(0).into() };

    let mut numbered = widen(select.clone());
    // Counting needs every row of a parent, those before the cursors too:
    // they are numbered apart and left out by the outer query. Without a
    // count, the cursors filter rows directly.
    if cursored && !counted {
        numbered = numbered.filter(past.clone());
    }
    let mut position = WindowStatement::new();
    position.add_partition_by(parent.clone());
    if cursored && counted {
        position.add_partition_by(past_flag());
    }
    position
        .order_by_expr(Expr::col((E::default(), ordering.key)), order(walk))
        .order_by_expr(Expr::col((E::default(), ordering.id)), order(walk));
    let mut numbered = numbered.into_query();
    numbered
        .expr_as(parent.clone(), Alias::new(PARENT))
        .expr_window_as(Expr::cust("ROW_NUMBER()"), position, Alias::new(POSITION));
    if counted {
        let mut all = WindowStatement::new();
        all.add_partition_by(parent.clone());
        numbered.expr_window_as(Expr::cust("COUNT(*)"), all, Alias::new(TOTAL_COUNT));
    } else {
        numbered.expr_as(Expr::val(0i64), Alias::new(TOTAL_COUNT));
    }
    numbered.expr_as(
        if cursored && counted {
            past_flag()
        } else {
            Expr::val(1)
        },
        Alias::new(PAST_CURSORS),
    );

    let mut paged = Query::select();
    paged
        .column(Asterisk)
        .from_subquery(numbered, Alias::new("numbered"))
        .and_where(Expr::col(Alias::new(POSITION)).lte(size + 1))
        .and_where(Expr::col(Alias::new(PAST_CURSORS)).eq(1))
        .order_by(Alias::new(PARENT), sea_orm::sea_query::Order::Asc)
        .order_by(Alias::new(POSITION), sea_orm::sea_query::Order::Asc);
    let statement = db.get_database_backend().build(&paged);
    let rows = Parented::<M>::find_by_statement(statement).all(db).await?;

    let mut grouped: HashMap<Uuid, (i64, Vec<M>)> = HashMap::new();
    for Parented { parent, total, row } in rows {
        let entry = grouped.entry(parent).or_insert((total, Vec::new()));
        entry.1.push(row);
    }
    // A cursor past a parent's last row leaves its page empty; its total
    // is then counted apart, all such parents in one grouped statement.
    let uncounted: Vec<Uuid> = parents
        .iter()
        .copied()
        .filter(|p| counted && cursored && !grouped.contains_key(p))
        .collect();
    let mut totals: HashMap<Uuid, i64> = HashMap::new();
    if !uncounted.is_empty() {
        let counts: Vec<(Uuid, i64)> = select
            .filter(parent.clone().is_in(uncounted))
            .select_only()
            .expr_as(parent.clone(), PARENT)
            .expr_as(Expr::cust("COUNT(*)"), TOTAL_COUNT)
            .group_by(parent)
            .into_tuple()
            .all(db)
            .await?;
        totals.extend(counts);
    }

    let walked = Walked {
        size,
        backwards,
        has_after,
        has_before,
    };
    let mut pages = HashMap::with_capacity(parents.len());
    for &parent in parents {
        let (total, rows) = grouped
            .remove(&parent)
            .unwrap_or_else(|| (totals.get(&parent).copied().unwrap_or(0), Vec::new()));
        let total = u64::try_from(total).unwrap_or(0);
        pages.insert(parent, walked.page(rows, total, &key_of));
    }
    Ok(pages)
}
