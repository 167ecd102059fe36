//! Pages of connections nested under a list, loaded for every parent at
//! once: each parent's field asks for its own page, and the loader reads
//! the pages of all parents that asked with the same arguments in one
//! statement (`pagination::paginate_per_parent`). So a list of 20 partners
//! with their contacts costs what a list of 2 does.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use uuid::Uuid;

use super::{AppLoader, Loaders};
use crate::{
    error::{ApiError, ApiResult},
    graphql::context,
    policy::RowScope,
    service::pagination::{NestedPages, Page, PageArgs},
};

/// One parent's page of relation `R`, in a row scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageOf<R> {
    relation: R,
    parent: Uuid,
    scope: RowScope,
    args: PageArgs,
}

impl<R: NestedPages> Loader<PageOf<R>> for Loaders {
    type Value = Page<R::Row>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[PageOf<R>],
    ) -> Result<HashMap<PageOf<R>, Self::Value>, Self::Error> {
        let mut batches: HashMap<(R, RowScope, PageArgs), Vec<Uuid>> = HashMap::new();
        for key in keys {
            batches
                .entry((key.relation.clone(), key.scope, key.args.clone()))
                .or_default()
                .push(key.parent);
        }
        let mut loaded = HashMap::with_capacity(keys.len());
        for ((relation, scope, args), parents) in batches {
            let pages = relation
                .pages(&self.db, scope, &parents, args.clone())
                .await?;
            for (parent, page) in pages {
                let key = PageOf {
                    relation: relation.clone(),
                    parent,
                    scope,
                    args: args.clone(),
                };
                loaded.insert(key, page);
            }
        }
        Ok(loaded)
    }
}

/// The caller's page of `relation` under `parent`, read together with the
/// pages of the parent's siblings.
pub async fn nested_page<R: NestedPages>(
    ctx: &async_graphql::Context<'_>,
    relation: R,
    parent: Uuid,
    args: PageArgs,
) -> ApiResult<Page<R::Row>> {
    let scope = RowScope::of(&context::request(ctx)?.principal);
    let loader = ctx
        .data_opt::<AppLoader>()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no loader in the request")))?;
    loader
        .load_one(PageOf {
            relation,
            parent,
            scope,
            args,
        })
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("a parent without its page")))
}
