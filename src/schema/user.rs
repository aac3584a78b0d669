//! User: the type, its field planning, and the `viewer`/`user` queries.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, Result, SelectionField};

use super::business::{Business, plan_business};
use super::connection::{self, Conn, ParentEdges, plan_connection};
use super::error::null_on_error;
use super::input::UserId;
use super::upstream::Upstream;
use crate::graph::{FieldSet, model};

/// Graph's edge of the businesses a user belongs to.
const BUSINESSES_EDGE: &str = "businesses";

/// A Facebook user or managed Meta (work) account.
pub(crate) struct User {
    data: model::User,
    fetched: Arc<FieldSet>,
}

/// Adds the Graph fields a selection of `User` needs, with its edges expanded in place.
pub(crate) fn plan_user(set: &mut FieldSet, field: SelectionField<'_>) -> Result<()> {
    set.scalar("id");
    for child in field.selection_set() {
        match child.name() {
            "name" => set.scalar("name"),
            "isWorkAccount" => set.scalar("is_work_account"),
            "businesses" => plan_connection(set, child, BUSINESSES_EDGE, plan_business)?,
            _ => {}
        }
    }
    Ok(())
}

async fn read_user(ctx: &Context<'_>, id: &str) -> Result<User> {
    let mut fields = FieldSet::new();
    plan_user(&mut fields, ctx.field())?;
    let fields = Arc::new(fields);
    let upstream = Upstream::of(ctx)?;
    // `me` cannot share an `?ids=` call with other ids; every other user can. Either read is
    // made once more without the businesses' role-guarded edges when Graph refuses them.
    let (data, fetched) = if id == "me" {
        upstream.node_sparing(id, &fields).await?
    } else {
        upstream.node_batched_sparing(id, &fields).await?
    };
    Ok(User { data, fetched })
}

#[Object]
impl User {
    /// The user's Graph id.
    async fn id(&self) -> ID {
        ID(self.data.id.clone())
    }

    /// The user's name. Interfaces about a business show the person's business persona name
    /// instead (Business Manager's display rule).
    async fn name(&self) -> Option<&str> {
        self.data.name.as_deref()
    }

    /// Whether this is a managed Meta (work) account rather than a Facebook account.
    async fn is_work_account(&self) -> Option<bool> {
        self.data.is_work_account
    }

    /// Businesses the user belongs to, in any role. `first` is clamped to 100.
    #[graphql(complexity = "connection::page_complexity(first, child_complexity)")]
    async fn businesses(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<Business>> {
        let parent = ParentEdges {
            id: &self.data.id,
            edges: &self.data.edges,
            fetched: &self.fetched,
        };
        Box::pin(connection::resolve(
            ctx,
            parent,
            BUSINESSES_EDGE,
            (first, after),
            plan_business,
            Business::new,
        ))
        .await
    }
}

/// User queries.
#[derive(Default)]
pub(crate) struct UserQuery;

#[Object]
impl UserQuery {
    /// The user the access token belongs to, with everything selected below it read in one
    /// Graph call.
    async fn viewer(&self, ctx: &Context<'_>) -> Result<User> {
        Box::pin(read_user(ctx, "me")).await
    }

    /// A user by id.
    async fn user(&self, ctx: &Context<'_>, id: ID) -> Option<User> {
        let user = match UserId::parse("id", &id) {
            Ok(id) => Box::pin(read_user(ctx, id.as_str())).await,
            Err(error) => Err(error),
        };
        null_on_error(ctx, user)
    }
}
