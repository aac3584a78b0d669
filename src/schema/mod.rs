//! The GraphQL schema: types and resolvers, one file per domain, merged into one root.

pub(crate) mod allocation;
pub(crate) mod assets;
pub(crate) mod business;
pub(crate) mod business_users;
pub(crate) mod connection;
pub(crate) mod enums;
pub(crate) mod error;
pub(crate) mod funding;
pub(crate) mod input;
pub(crate) mod invoice;
pub(crate) mod migration;
pub(crate) mod money;
pub(crate) mod people;
pub(crate) mod persona;
pub(crate) mod project;
pub(crate) mod scalars;
pub(crate) mod upstream;
pub(crate) mod user;

use async_graphql::{MergedObject, MergedSubscription, Schema, SchemaBuilder};

pub use error::UpstreamMessages;
pub use upstream::RequestContext;

/// The root query type.
#[derive(MergedObject, Default)]
pub struct Query(
    user::UserQuery,
    business::BusinessQuery,
    persona::PersonaQuery,
    project::ProjectQuery,
    migration::MigrationQuery,
);

/// The root mutation type.
#[derive(MergedObject, Default)]
pub struct Mutation(
    business::BusinessMutation,
    people::PeopleMutation,
    project::ProjectMutation,
    funding::FundingMutation,
);

/// The root subscription type.
#[derive(MergedSubscription, Default)]
pub struct Subscription(migration::MigrationSubscription);

/// The bizgraph schema.
pub type BizgraphSchema = Schema<Query, Mutation, Subscription>;

/// Deepest selection nesting accepted.
pub const MAX_DEPTH: usize = 16;
/// Highest complexity (fields times page sizes) accepted unless the settings say otherwise.
pub const MAX_COMPLEXITY: usize = 20_000;

/// The schema with its limits, without runtime data (the server adds the Graph client).
pub fn builder() -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
}

/// The schema as SDL: what `bizgraph schema` prints and `schema.graphql` holds.
pub fn sdl() -> String {
    sdl_of(&builder().finish())
}

/// The SDL of `schema` with every directive it serves, `@specifiedBy` on scalars included.
pub fn sdl_of(schema: &BizgraphSchema) -> String {
    schema.sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by())
}
