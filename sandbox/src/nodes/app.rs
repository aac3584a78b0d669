//! App nodes (docs/graph-api.md §8.1 "Assets"): Meta apps and the business that owns them.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::business::is_member;
use super::{Node, unknown_field};
use crate::answer::ReadCtx;
use crate::wire::error::GraphError;
use crate::wire::fields::FieldSelection;
use crate::world::World;

/// A Meta app.
#[derive(Debug, Clone)]
pub(crate) struct App {
    pub id: u64,
    pub name: String,
    pub owner_business: Option<u64>,
}

impl Node for App {
    const TYPE_NAME: &'static str = "Application";
    const DEFAULT_FIELDS: &'static [&'static str] = &["id", "name"];

    fn stored(world: &World) -> &BTreeMap<u64, Self> {
        &world.apps
    }

    /// The people of the business that owns it.
    fn visible_to(&self, world: &World, viewer: u64) -> bool {
        self.owner_business
            .is_some_and(|business| is_member(world, viewer, business))
    }

    fn field(
        _ctx: &ReadCtx<'_>,
        app: &Self,
        field: &FieldSelection,
    ) -> Result<Option<Value>, GraphError> {
        let value = match field.name.as_str() {
            "id" => json!(app.id.to_string()),
            "name" => json!(app.name),
            _ => return Err(unknown_field::<Self>(field)),
        };
        Ok(Some(value))
    }
}
