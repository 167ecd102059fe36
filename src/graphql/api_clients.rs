//! OAuth2 clients: `apiClients`, `createApiClient`, `revokeApiClient`.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use entity::api_client;

use super::{
    connection::{connection, page_args},
    context,
    enums::Role,
    partners::Partner,
    payload::{input_id, mutate, InputCheck},
};
use crate::{
    auth::{Action, ScopeSet},
    domain::{
        inputs::{DisplayName, InvalidInput},
        UserError,
    },
    error::ApiResult,
    ids::{self, NodeType},
    service::api_clients as service,
};

/// A machine client that gets access tokens with the OAuth2
/// `client_credentials` grant at `POST /oauth/token`.
pub struct ApiClient(api_client::Model);

impl From<api_client::Model> for ApiClient {
    fn from(model: api_client::Model) -> Self {
        Self(model)
    }
}

/// A machine client that gets access tokens with the OAuth2
/// `client_credentials` grant at `POST /oauth/token`.
#[Object]
impl ApiClient {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::ApiClient, self.0.id))
    }

    /// The OAuth2 `client_id`.
    async fn client_id(&self) -> &str {
        &self.0.client_id
    }

    /// A name to recognise the client by.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The role its tokens act with, narrowed by their scopes.
    async fn role(&self) -> Role {
        self.0.role.into()
    }

    /// The partner whose rows its tokens see; null for internal clients.
    async fn partner(&self, ctx: &Context<'_>) -> ApiResult<Option<Partner>> {
        let Some(id) = self.0.partner_id else {
            return Ok(None);
        };
        Partner::load(ctx, id).await
    }

    /// The scopes its tokens may carry.
    async fn scopes(&self) -> Vec<String> {
        self.0
            .scopes
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// When the client was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the client was revoked; its tokens stopped working then.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
}

connection!(ApiClientConnection, ApiClientEdge, ApiClient, "API clients");

#[derive(Default)]
pub struct ApiClientQuery;

#[Object]
impl ApiClientQuery {
    /// OAuth2 clients: all for `ADMIN`, a partner's own for its `PARTNER_ADMIN`. Needs the `admin` scope.
    async fn api_clients(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n clients (at most 100; default 20).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Return clients after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n clients (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Return clients before this cursor.")] before: Option<String>,
    ) -> ApiResult<ApiClientConnection> {
        let request = context::request(ctx)?;
        request.principal.authorize(Action::ManageApiClients)?;
        let page = service::list(
            context::db(ctx)?,
            &request.caller(),
            page_args(ctx, first, after, last, before),
        )
        .await?;
        Ok(ApiClientConnection::from_page(page, ApiClient))
    }
}

/// A new OAuth2 client.
#[derive(InputObject)]
pub struct CreateApiClientInput {
    /// A name to recognise the client by.
    pub name: String,
    /// Bind the client to this partner (staff only; a partner's clients are always its own).
    pub partner_id: Option<ID>,
    /// The role its tokens act with: `PARTNER_ADMIN` or `PARTNER_REP` for
    /// partner clients (default `PARTNER_ADMIN`), a staff role otherwise (default `ADMIN`).
    pub role: Option<Role>,
    /// Scopes its tokens may carry, e.g. `["partners:read"]`; at most those of your own token.
    pub scopes: Vec<String>,
}

/// The result of `createApiClient`.
#[derive(SimpleObject)]
pub struct CreateApiClientPayload {
    /// The new client, unless `userErrors` says why not.
    pub api_client: Option<ApiClient>,
    /// The client secret. Shown this once; only its hash is kept.
    pub client_secret: Option<String>,
    /// Why the input was refused; empty on success.
    pub user_errors: Vec<UserError>,
}

/// Which client to revoke.
#[derive(InputObject)]
pub struct RevokeApiClientInput {
    /// The client's global id.
    pub id: ID,
}

/// The result of `revokeApiClient`.
#[derive(SimpleObject)]
pub struct RevokeApiClientPayload {
    /// The revoked client, unless `userErrors` says why not.
    pub api_client: Option<ApiClient>,
    /// Why the input was refused; empty on success.
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct ApiClientMutation;

#[Object]
impl ApiClientMutation {
    /// Creates an OAuth2 client and returns its secret, once. Needs `ADMIN`
    /// (or a `PARTNER_ADMIN`, for its own partner) and the `admin` scope.
    async fn create_api_client(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new client.")] input: CreateApiClientInput,
    ) -> ApiResult<CreateApiClientPayload> {
        let (created, user_errors) = mutate(ctx, Action::ManageApiClients, |request| async move {
            let new = InputCheck::parse(|check| {
                let name = check.field("name", DisplayName::parse(&input.name));
                let scopes = check.field(
                    "scopes",
                    ScopeSet::parse(&input.scopes.join(" ")).map_err(InvalidInput),
                );
                let partner_id = input
                    .partner_id
                    .and_then(|id| check.id("partnerId", NodeType::Partner, &id));
                Some(service::NewApiClient {
                    name: name?,
                    role: input.role.map(Into::into),
                    partner_id,
                    scopes: scopes?,
                })
            })?;
            service::create(context::db(ctx)?, &request.caller(), new).await
        })
        .await?;
        let (api_client, client_secret) = match created {
            Some((client, secret)) => (Some(ApiClient(client)), Some(secret.expose().to_owned())),
            None => (None, None),
        };
        Ok(CreateApiClientPayload {
            api_client,
            client_secret,
            user_errors,
        })
    }

    /// Revokes an OAuth2 client; its tokens stop working at once. Needs `ADMIN`
    /// (or a `PARTNER_ADMIN`, for its own partner) and the `admin` scope.
    async fn revoke_api_client(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The client to revoke.")] input: RevokeApiClientInput,
    ) -> ApiResult<RevokeApiClientPayload> {
        let (revoked, user_errors) = mutate(ctx, Action::ManageApiClients, |request| async move {
            let id = input_id("id", NodeType::ApiClient, &input.id)?;
            service::revoke(context::db(ctx)?, &request.caller(), id).await
        })
        .await?;
        Ok(RevokeApiClientPayload {
            api_client: revoked.map(ApiClient),
            user_errors,
        })
    }
}
