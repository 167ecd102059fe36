//! The GraphQL schema: one query and one mutation object per area, merged.
//! Resolvers stay thin: parse input, call a service, map the result.

pub mod activation;
pub mod activity;
pub mod api_clients;
pub mod audit;
pub mod certifications;
pub mod complexity;
pub mod connection;
pub mod context;
pub mod cost;
pub mod document;
pub mod documents;
pub mod enums;
pub mod events;
pub mod extensions;
pub mod external_ids;
pub mod incentives;
pub mod loaders;
pub mod node;
pub mod partner_schema;
pub mod partners;
pub mod payload;
pub mod pipeline;
pub mod program_metrics;
pub mod registrations;
pub mod scalars;
pub mod scores;
pub mod settings;
pub mod viewer;
pub mod webhooks;

use async_graphql::{MergedObject, Schema, SchemaBuilder};
use sea_orm::DatabaseConnection;

use crate::config::ServerConfig;

/// Every read the API offers.
#[derive(MergedObject, Default)]
pub struct Query(
    viewer::ViewerQuery,
    node::NodeQuery,
    partners::PartnerQuery,
    settings::SettingsQuery,
    audit::AuditQuery,
    api_clients::ApiClientQuery,
    certifications::CertificationQuery,
    registrations::RegistrationQuery,
    pipeline::PipelineQuery,
    external_ids::ExternalIdQuery,
    events::EventQuery,
    webhooks::WebhookQuery,
    program_metrics::ProgramMetricsQuery,
    incentives::IncentiveQuery,
);

/// Every change the API offers.
#[derive(MergedObject, Default)]
pub struct Mutation(
    partners::PartnerMutation,
    settings::SettingsMutation,
    api_clients::ApiClientMutation,
    certifications::CertificationMutation,
    activation::ActivationMutation,
    registrations::RegistrationMutation,
    pipeline::PipelineMutation,
    external_ids::ExternalIdMutation,
    extensions::ExtensionMutation,
    webhooks::WebhookMutation,
    activity::ActivityMutation,
    incentives::IncentiveMutation,
);

pub type AppSchema = Schema<Query, Mutation, events::Subscription>;

/// The schema, with the database every resolver reads through and the
/// webhook SSRF guard's setting. The limits of SPEC §7 (depth, complexity,
/// aliases) are checked before execution (`http::graphql::prepare`).
/// Suggestions ("Did you mean …") are off: they could name a field the
/// caller must not learn of.
pub fn build_schema(db: DatabaseConnection, config: &ServerConfig) -> AppSchema {
    builder()
        .data(db)
        .data(config.secret_keys.clone())
        .data(crate::webhooks::target::TargetPolicy {
            allow_private: config.webhook_allow_private,
        })
        .disable_suggestions()
        .finish()
}

/// The SDL of the whole schema, as `partnergraph schema` prints it and
/// `schema.graphql` keeps it.
pub fn sdl() -> String {
    builder().finish().sdl_with_options(sdl_options())
}

/// How the SDL is printed: with `@specifiedBy` on the scalars.
pub fn sdl_options() -> async_graphql::SDLExportOptions {
    async_graphql::SDLExportOptions::new().include_specified_by()
}

/// The SDL of what a partner principal sees, as `partnergraph schema --view
/// partner` prints it and `schema.partner.graphql` keeps it.
pub fn partner_sdl() -> Result<String, async_graphql::dynamic::SchemaError> {
    partner_schema::build(&sdl()).map(|schema| schema.sdl_with_options(sdl_options()))
}

fn builder() -> SchemaBuilder<Query, Mutation, events::Subscription> {
    // `Money` and `Date` are part of the contract (SPEC §5) before the first
    // field that carries them lands, so clients can generate code for them.
    Schema::build(Query::default(), Mutation::default(), events::Subscription)
        .register_output_type::<scalars::Money>()
        .register_output_type::<scalars::Date>()
}
