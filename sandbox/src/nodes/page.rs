//! Page nodes (docs/graph-api.md §8.1 "Assets"): Facebook pages, their admins and the business
//! that owns them.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::business::is_member;
use super::{Node, NodeRef, unknown_field};
use crate::answer::ReadCtx;
use crate::wire::error::GraphError;
use crate::wire::fields::FieldSelection;
use crate::world::World;

/// A Facebook page.
#[derive(Debug, Clone)]
pub(crate) struct Page {
    pub id: u64,
    pub name: String,
    pub category: String,
    pub admins: Vec<u64>,
    pub owner_business: Option<u64>,
}

impl Page {
    /// Whether the user is one of the page's admins.
    pub(crate) fn is_admin(&self, user_id: u64) -> bool {
        self.admins.contains(&user_id)
    }
}

impl Node for Page {
    const TYPE_NAME: &'static str = "Page";
    const DEFAULT_FIELDS: &'static [&'static str] = &["id", "name"];

    fn stored(world: &World) -> &BTreeMap<u64, Self> {
        &world.pages
    }

    /// A page its admins may read, and the people of the business that owns it.
    fn visible_to(&self, world: &World, viewer: u64) -> bool {
        self.is_admin(viewer)
            || self
                .owner_business
                .is_some_and(|business| is_member(world, viewer, business))
    }

    fn field(
        ctx: &ReadCtx<'_>,
        page: &Self,
        field: &FieldSelection,
    ) -> Result<Option<Value>, GraphError> {
        let value = match field.name.as_str() {
            "id" => json!(page.id.to_string()),
            "name" => json!(page.name),
            "category" => json!(page.category),
            // Set only during a managed-account migration window (docs/graph-api.md §9).
            "user_access_expire_time" => {
                return crate::migration::user_access_expire_time(ctx, NodeRef::Page(page.id));
            }
            _ => return Err(unknown_field::<Self>(field)),
        };
        Ok(Some(value))
    }
}

/// Adds a page (the control plane's test setup) and answers its new id.
pub(crate) fn add(
    world: &mut World,
    name: String,
    category: String,
    admins: Vec<u64>,
    owner_business: Option<u64>,
) -> u64 {
    let id = world.next_id();
    world.pages.insert(
        id,
        Page {
            id,
            name,
            category,
            admins,
            owner_business,
        },
    );
    id
}
