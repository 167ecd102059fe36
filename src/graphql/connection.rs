//! Relay connections: `edges { cursor node }`, `pageInfo`, `totalCount`.

use async_graphql::{SimpleObject, ID};
use uuid::Uuid;

use crate::{
    auth::Action,
    error::ApiResult,
    graphql::context,
    ids::{self, NodeType},
    service::pagination::{self, Page, PageArgs},
};

/// A filter id that is not of its node type: it matches nothing, like an
/// id of no row.
pub struct MatchesNothing;

/// The row id a filter argument names, if any.
pub fn filter_id(id: Option<ID>, node_type: NodeType) -> Result<Option<Uuid>, MatchesNothing> {
    id.map(|id| ids::decode_as(node_type, &id).ok_or(MatchesNothing))
        .transpose()
}

/// The page of a filter that matches nothing: no query, but the same
/// authorization and argument checks as the list it filters.
pub fn empty_page<T>(
    ctx: &async_graphql::Context<'_>,
    action: Action,
    page: &PageArgs,
) -> ApiResult<Page<T>> {
    context::request(ctx)?.principal.authorize(action)?;
    pagination::empty(page)
}

/// Where a page sits in the whole list.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(serial)]
pub struct PageInfo {
    /// Whether more items follow this page.
    pub has_next_page: bool,
    /// Whether items precede this page.
    pub has_previous_page: bool,
    /// Cursor of the first item of this page; pass it as `before` to page backwards.
    pub start_cursor: Option<String>,
    /// Cursor of the last item of this page; pass it as `after` to page forwards.
    pub end_cursor: Option<String>,
}

impl PageInfo {
    pub fn of<T>(page: &Page<T>) -> Self {
        Self {
            has_next_page: page.has_next_page,
            has_previous_page: page.has_previous_page,
            start_cursor: page.edges.first().map(|(c, _)| c.clone()),
            end_cursor: page.edges.last().map(|(c, _)| c.clone()),
        }
    }
}

/// The connection arguments of the field `ctx` resolves; its total is
/// counted only when the query selects `totalCount`.
pub fn page_args(
    ctx: &async_graphql::Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> PageArgs {
    PageArgs {
        first,
        after,
        last,
        before,
        skip_total_count: !ctx.look_ahead().field("totalCount").exists(),
    }
}

/// Declares `<Node>Connection` and `<Node>Edge` for a node type. Their
/// fields are in memory, so they resolve one after the other (`serial`):
/// async-graphql's concurrent resolution costs a task per field.
macro_rules! connection {
    ($connection:ident, $edge:ident, $node:ty, $what:literal) => {
        #[doc = concat!("A page of ", $what, ".")]
        #[derive(async_graphql::SimpleObject)]
        #[graphql(serial)]
        pub struct $connection {
            /// The items of this page, each with its cursor.
            pub edges: Vec<$edge>,
            /// Where this page sits in the whole list.
            pub page_info: $crate::graphql::connection::PageInfo,
            /// How many items match, across all pages.
            pub total_count: u64,
        }

        #[doc = concat!("One of ", $what, " with its cursor.")]
        #[derive(async_graphql::SimpleObject)]
        #[graphql(serial)]
        pub struct $edge {
            /// Opaque position of this item, for `after` and `before`.
            pub cursor: String,
            /// The item.
            pub node: $node,
        }

        impl $connection {
            pub fn from_page<T>(
                page: $crate::service::pagination::Page<T>,
                mut to_node: impl FnMut(T) -> $node,
            ) -> Self {
                let page_info = $crate::graphql::connection::PageInfo::of(&page);
                let total_count = page.total_count;
                Self {
                    edges: page
                        .edges
                        .into_iter()
                        .map(|(cursor, item)| $edge {
                            cursor,
                            node: to_node(item),
                        })
                        .collect(),
                    page_info,
                    total_count,
                }
            }
        }
    };
}

pub(crate) use connection;
