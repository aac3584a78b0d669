//! People of a business: the `UserPermission` type (an invitation, a member or a suspended
//! member, Graph's `userpermissions` rows) and its field planning.

use async_graphql::{ID, Object, Result, SelectionField};
use chrono::{DateTime, Utc};

use super::assets::{Actor, plan_actor};
use super::enums::{BusinessRole, PermissionStatus};
use super::persona::{Persona, plan_persona};
use crate::graph::{FieldSet, model};

/// A person in a business: invited by email, a member, or a suspended member.
pub(crate) struct UserPermission(pub(crate) model::UserPermission);

/// Adds the Graph fields a selection of `UserPermission` needs.
pub(crate) fn plan_user_permission(set: &mut FieldSet, field: SelectionField<'_>) -> Result<()> {
    set.scalar("id");
    for child in field.selection_set() {
        match child.name() {
            "role" => set.scalar("role"),
            "status" => set.scalar("status"),
            "email" => set.scalar("email"),
            "createdTime" => set.scalar("created_time"),
            "updatedTime" => set.scalar("updated_time"),
            "user" => plan_actor(set.object("user"), child)?,
            "persona" => plan_persona(set.object("business_persona"), child)?,
            "createdBy" => plan_actor(set.object("created_by"), child)?,
            "updatedBy" => plan_actor(set.object("updated_by"), child)?,
            // Business Manager's rule: the persona's name, else the invited email; never the
            // user's own name, so `user.name` is not even asked for.
            "displayName" => {
                let persona = set.object("business_persona");
                // A persona is decoded by its id, as every node is.
                persona.scalar("id");
                persona.scalar("name");
                set.scalar("email");
            }
            _ => {}
        }
    }
    Ok(())
}

#[Object]
impl UserPermission {
    /// The row's Graph id (rows are not nodes: they are only read through `Business.people`).
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    /// The person's role; null for a role newer than this gateway.
    async fn role(&self) -> Option<BusinessRole> {
        self.0.role.as_deref().and_then(BusinessRole::from_graph)
    }

    /// Invited, a member, or suspended; null for a status newer than this gateway.
    async fn status(&self) -> Option<PermissionStatus> {
        self.0
            .status
            .as_deref()
            .and_then(PermissionStatus::from_graph)
    }

    /// The address the person was invited with; null for members invited by no address.
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }

    /// The member's user; null unless ACTIVE. Show `displayName`, not this user's name.
    async fn user(&self) -> Option<Actor> {
        self.0.user.clone().map(Actor)
    }

    /// The person's persona in this business; null until the invitation is accepted, and for
    /// system users.
    async fn persona(&self) -> Option<Persona> {
        self.0.business_persona.clone().map(Persona)
    }

    /// The name to show for the person: the persona's name, else the invited email; never the
    /// user's own name (Business Manager's rule). Null when the person has neither.
    async fn display_name(&self) -> Option<&str> {
        self.0
            .business_persona
            .as_ref()
            .and_then(|p| p.name.as_deref())
            .or(self.0.email.as_deref())
    }

    /// When the person was invited or added.
    async fn created_time(&self) -> Option<DateTime<Utc>> {
        self.0.created_time
    }

    /// Who invited or added the person.
    async fn created_by(&self) -> Option<Actor> {
        self.0.created_by.clone().map(Actor)
    }

    /// When the row last changed.
    async fn updated_time(&self) -> Option<DateTime<Utc>> {
        self.0.updated_time
    }

    /// Who last changed the row.
    async fn updated_by(&self) -> Option<Actor> {
        self.0.updated_by.clone().map(Actor)
    }
}
