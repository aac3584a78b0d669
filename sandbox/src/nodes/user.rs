//! User nodes (docs/graph-api.md §8.6): Facebook users, managed (work) accounts and system
//! users; `me`, `is_work_account`, and the `businesses` and `accounts` edges.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::user_permission::role_of;
use super::{Node, NodeRef, unknown_field};
use crate::answer::ReadCtx;
use crate::wire::error::GraphError;
use crate::wire::fields::FieldSelection;
use crate::world::{Token, World};

/// A Facebook user, a managed (work) account or a system user.
#[derive(Debug, Clone)]
pub(crate) struct User {
    pub id: u64,
    pub name: String,
    pub is_work_account: bool,
}

impl Node for User {
    const TYPE_NAME: &'static str = "User";
    const DEFAULT_FIELDS: &'static [&'static str] = &["id", "name"];

    fn stored(world: &World) -> &BTreeMap<u64, Self> {
        &world.users
    }

    /// Any user may be read by any token.
    fn visible_to(&self, _world: &World, _viewer: u64) -> bool {
        true
    }

    fn field(
        _ctx: &ReadCtx<'_>,
        user: &Self,
        field: &FieldSelection,
    ) -> Result<Option<Value>, GraphError> {
        let value = match field.name.as_str() {
            "id" => json!(user.id.to_string()),
            "name" => json!(user.name),
            "is_work_account" => json!(user.is_work_account),
            _ => return Err(unknown_field::<Self>(field)),
        };
        Ok(Some(value))
    }

    fn edge(ctx: &ReadCtx<'_>, id: u64, name: &str) -> Option<Vec<NodeRef>> {
        let world = ctx.world;
        let items = match name {
            "businesses" => world
                .businesses
                .values()
                .filter(|business| role_of(world, business.id, id).is_some())
                .map(|business| NodeRef::Business(business.id))
                .collect(),
            // [doc: the SDK's `User.get_business_users`] The user's business users, one per
            // business they are a member of, in the order of the businesses; read like any
            // business user (the business's ACTIVE people see it) [guess].
            "business_users" => world
                .businesses
                .values()
                .filter_map(|business| super::business_user::of_user(world, business.id, id))
                .map(NodeRef::BusinessUser)
                .collect(),
            "accounts" => world
                .pages
                .values()
                .filter(|page| page.is_admin(id))
                .map(|page| NodeRef::Page(page.id))
                .collect(),
            _ => return None,
        };
        Some(items)
    }
}

/// Adds a user, with a token when one is given (the seed and the control plane). Managed
/// (work) accounts ignore `user_*` permissions in login (docs/graph-api.md §8.6), so their
/// tokens never get one.
pub(crate) fn add(
    world: &mut World,
    id: u64,
    name: &str,
    is_work_account: bool,
    token: Option<&str>,
    permissions: &[String],
) {
    if let Some(token) = token {
        let permissions = permissions
            .iter()
            .filter(|p| !(is_work_account && p.starts_with("user_")))
            .cloned()
            .collect();
        world.tokens.insert(
            token.to_owned(),
            Token {
                user_id: id,
                permissions,
            },
        );
    }
    let user = User {
        id,
        name: name.to_owned(),
        is_work_account,
    };
    world.users.insert(id, user);
}
