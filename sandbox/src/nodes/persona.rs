//! Business personas (docs/graph-api.md §8.3): the name and email a person goes by in one
//! business, separate from their user. Read by id, through `business_persona` of a
//! `userpermissions` row or the business's `business_persona` edge; updated by their owner, a
//! new email staying pending until verified.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::business::is_member;
use super::{Node, NodeRef, unknown_field};
use crate::answer::{ReadCtx, embedded};
use crate::wire::auth::Viewer;
use crate::wire::error::GraphError;
use crate::wire::fields::FieldSelection;
use crate::wire::graph_time;
use crate::wire::request::{Params, email};
use crate::world::World;

/// One person's persona in one business.
#[derive(Debug, Clone)]
pub(crate) struct Persona {
    pub id: u64,
    pub business_id: u64,
    pub user_id: u64,
    pub first_name: String,
    pub last_name: String,
    pub title: Option<String>,
    /// The verified email, the one Graph shows.
    pub email: String,
    /// A new email waiting for its owner's verification; not shown (docs/graph-api.md §8.3).
    pub pending_email: Option<String>,
    pub created_by: Option<u64>,
    pub updated_by: Option<u64>,
    pub created_time: DateTime<Utc>,
    pub updated_time: DateTime<Utc>,
}

impl Persona {
    /// The display name: first and last name.
    pub(crate) fn name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
            .trim()
            .to_owned()
    }
}

impl Node for Persona {
    // [guess] Graph's type name for personas.
    const TYPE_NAME: &'static str = "BusinessPersona";
    const DEFAULT_FIELDS: &'static [&'static str] = &["id", "name"];

    fn stored(world: &World) -> &BTreeMap<u64, Self> {
        &world.personas
    }

    /// [guess] The people of the persona's business.
    fn visible_to(&self, world: &World, viewer: u64) -> bool {
        is_member(world, viewer, self.business_id)
    }

    fn field(
        ctx: &ReadCtx<'_>,
        persona: &Self,
        field: &FieldSelection,
    ) -> Result<Option<Value>, GraphError> {
        let user_fields: &[&str] = &["id", "name"];
        let value = match field.name.as_str() {
            "id" => json!(persona.id.to_string()),
            "name" => json!(persona.name()),
            "first_name" => json!(persona.first_name),
            "last_name" => json!(persona.last_name),
            "title" => return Ok(persona.title.as_ref().map(|t| json!(t))),
            // Empty only for a persona made by a business user update before any email was
            // known (docs/graph-api.md §8.7): left out, as every unset field.
            "email" => return Ok((!persona.email.is_empty()).then(|| json!(persona.email))),
            "business" => {
                let business = Some(NodeRef::Business(persona.business_id));
                return embedded(ctx, business, field, &["id", "name"]);
            }
            "created_by" => {
                return embedded(
                    ctx,
                    persona.created_by.map(NodeRef::User),
                    field,
                    user_fields,
                );
            }
            "updated_by" => {
                return embedded(
                    ctx,
                    persona.updated_by.map(NodeRef::User),
                    field,
                    user_fields,
                );
            }
            "created_time" => json!(graph_time(persona.created_time)),
            // The seed's spelling and today's are both served, as for businesses.
            "updated_time" | "update_time" => json!(graph_time(persona.updated_time)),
            _ => return Err(unknown_field::<Self>(field)),
        };
        Ok(Some(value))
    }
}

/// The viewer's own persona in a business, as the one item of the business's
/// `business_persona` edge.
pub(crate) fn of_viewer(world: &World, business_id: u64, viewer: u64) -> Vec<NodeRef> {
    world
        .personas
        .values()
        .filter(|p| p.business_id == business_id && p.user_id == viewer)
        .map(|p| NodeRef::Persona(p.id))
        .collect()
}

/// A name parameter: trimmed, not blank, else code 100.
fn name_param(params: &Params, name: &str) -> Result<Option<String>, GraphError> {
    let Some(value) = params.get(name) else {
        return Ok(None);
    };
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.chars().any(char::is_control) {
        return Err(GraphError::invalid_param(&format!(
            "Param {name} must be a non-empty string"
        )));
    }
    Ok(Some(trimmed.to_owned()))
}

/// `POST /{persona_id}`: `first_name`, `last_name`, `email`. Names change at once; a new email
/// waits in `pending_email` until its owner verifies it (the control plane's verify).
pub(crate) fn update(
    world: &mut World,
    viewer: &Viewer,
    persona_id: u64,
    params: &Params,
) -> Result<Value, GraphError> {
    // [guess] Only the persona's own person edits it, admins included, as in Business
    // settings where an admin cannot rename someone else.
    let owner = world.personas.get(&persona_id).map(|p| p.user_id);
    if owner != Some(viewer.user_id) {
        return Err(GraphError::permissions());
    }
    let first_name = name_param(params, "first_name")?;
    let last_name = name_param(params, "last_name")?;
    let new_email = params
        .get("email")
        .map(email)
        .transpose()?
        .map(|e| e.to_lowercase());
    let now = world.now();
    let persona = world
        .personas
        .get_mut(&persona_id)
        .ok_or_else(|| GraphError::unsupported("post", &persona_id.to_string()))?;
    if let Some(first_name) = first_name {
        persona.first_name = first_name;
    }
    if let Some(last_name) = last_name {
        persona.last_name = last_name;
    }
    if let Some(new_email) = new_email {
        // Asking for the current email again drops a pending change.
        persona.pending_email = (new_email != persona.email).then_some(new_email);
    }
    persona.updated_by = Some(viewer.user_id);
    persona.updated_time = now;
    // [guess] Graph answers node updates with a bare success.
    Ok(json!({ "success": true }))
}

/// Makes a persona's pending email its email (the control plane's verification); `false` when
/// there is nothing pending.
pub(crate) fn verify_pending_email(world: &mut World, persona_id: u64) -> bool {
    let now = world.now();
    let Some(persona) = world.personas.get_mut(&persona_id) else {
        return false;
    };
    let Some(pending) = persona.pending_email.take() else {
        return false;
    };
    persona.email = pending;
    persona.updated_time = now;
    true
}
