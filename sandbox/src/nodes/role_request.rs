//! Invitations on today's API (docs/graph-api.md §8.7): a business's open invitations as
//! `BusinessRoleRequest` nodes, listed on its `pending_users` edge, read, changed and cancelled
//! by id; and `POST /{business_id}/business_users`, which invites. Not a store of their own: an
//! invitation is an INVITED row of `user_permission` (which holds the request's id), so that an
//! invitation made through either dialect shows in both.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

use super::business::Role;
use super::business_user::{invited_user_type_value, tasks_param};
use super::user_permission::{
    Invitation, InvitedUserType, Membership, Status, find_row, invite, known_email, require_admin,
    role_of, set_role, update_row,
};
use super::{EdgeArgs, NodeRef, edge_arg};
use crate::answer::{ReadCtx, embedded};
use crate::wire::auth::Viewer;
use crate::wire::error::GraphError;
use crate::wire::fields::FieldSelection;
use crate::wire::graph_time;
use crate::wire::request::{Params, email, parse_list};
use crate::world::World;

/// Graph's node type name [doc].
pub(crate) const TYPE_NAME: &str = "BusinessRoleRequest";

/// What an invitation answers without `fields` [doc: the reference marks these default].
pub(crate) const DEFAULT_FIELDS: &[&str] = &["id", "email", "role", "status"];

/// How long an invitation stays open. [guess] Graph does not publish it.
pub(crate) const INVITATION_DAYS: i64 = 30;

/// The INVITED row behind a request id.
pub(crate) fn row_of(world: &World, request_id: u64) -> Option<&Membership> {
    world
        .memberships
        .values()
        .find(|m| m.role_request_id == Some(request_id) && m.status == Status::Invited)
}

/// The request id a Graph id names, if there is one.
pub(crate) fn find(world: &World, id: &str) -> Option<u64> {
    id.parse()
        .ok()
        .filter(|number| row_of(world, *number).is_some())
}

/// [guess] Every ACTIVE person of the business reads its invitations, as its
/// `userpermissions` rows.
pub(crate) fn visible(world: &World, viewer: u64, request_id: u64) -> bool {
    row_of(world, request_id).is_some_and(|row| role_of(world, row.business_id, viewer).is_some())
}

/// When an invitation expires.
fn expiration(row: &Membership) -> DateTime<Utc> {
    row.created_time + TimeDelta::days(INVITATION_DAYS)
}

/// The `pending_users` edge: the business's open invitations in the order they were made,
/// only those of `email` when the argument is given [doc: the edge's one parameter].
pub(crate) fn of_business(
    world: &World,
    business_id: u64,
    args: &EdgeArgs<'_>,
) -> Result<Vec<NodeRef>, GraphError> {
    let wanted = edge_arg(args, "email")
        .map(email)
        .transpose()?
        .map(|e| e.to_lowercase());
    Ok(world
        .memberships
        .values()
        .filter(|m| m.business_id == business_id && m.status == Status::Invited)
        .filter(|m| wanted.is_none() || m.email == wanted)
        .filter_map(|m| m.role_request_id)
        .map(NodeRef::BusinessRoleRequest)
        .collect())
}

/// A person who made or changed an invitation: their business user, as Graph gives it
/// (`BusinessUser|SystemUser` [doc]); the user for a system user or someone who left [guess].
fn person(world: &World, business_id: u64, user_id: Option<u64>) -> Option<NodeRef> {
    let user_id = user_id?;
    Some(
        super::business_user::of_user(world, business_id, user_id)
            .map_or(NodeRef::User(user_id), NodeRef::BusinessUser),
    )
}

/// One field of an invitation.
pub(crate) fn field(
    ctx: &ReadCtx<'_>,
    request_id: u64,
    field: &FieldSelection,
) -> Result<Option<Value>, GraphError> {
    let world = ctx.world;
    let unknown = || GraphError::nonexisting_field(&field.name, TYPE_NAME);
    let row = row_of(world, request_id).ok_or_else(unknown)?;
    let people: &[&str] = &["id", "name"];
    let value = match field.name.as_str() {
        "id" => json!(request_id.to_string()),
        "email" => return Ok(known_email(world, row).map(|e| json!(e))),
        "role" => json!(row.role.as_str()),
        "tasks" => json!(row.tasks()),
        // [guess] Graph's spelling of an open invitation, and of one past its expiration
        // (the sandbox still lets it be accepted).
        "status" => json!(if world.now() < expiration(row) {
            "PENDING"
        } else {
            "EXPIRED"
        }),
        // [guess] The SDK knows both names; both answer the same time.
        "expiration_time" | "expiry_time" => json!(graph_time(expiration(row))),
        // [guess] A sandbox page about the invitation, where Graph links its own.
        "invite_link" => json!(invite_link(ctx.api_base, request_id)),
        "invited_user_type" => invited_user_type_value(row.invited_user_type),
        "created_by" => {
            return embedded(
                ctx,
                person(world, row.business_id, row.created_by),
                field,
                people,
            );
        }
        "updated_by" => {
            return embedded(
                ctx,
                person(world, row.business_id, row.updated_by),
                field,
                people,
            );
        }
        "created_time" => json!(graph_time(row.created_time)),
        "updated_time" => json!(graph_time(row.updated_time)),
        // [guess] The business that invites.
        "owner" => {
            let business = Some(NodeRef::Business(row.business_id));
            return embedded(ctx, business, field, &["id", "name"]);
        }
        _ => return Err(unknown()),
    };
    Ok(Some(value))
}

/// The sandbox's link for an invitation: its control plane's page about it, on the host the
/// call came to (`http://<host>/<version>` without the version).
fn invite_link(api_base: &str, request_id: u64) -> String {
    let host = api_base.rsplit_once('/').map_or(api_base, |(host, _)| host);
    format!("{host}/__sandbox/invitations/{request_id}")
}

/// An `invited_user_type` parameter: a list of `FB` and `MWA` [doc]; `MWA` when the list has
/// it [guess], `FB` when absent. Code 100 otherwise.
fn invited_user_type_param(params: &Params) -> Result<InvitedUserType, GraphError> {
    let Some(value) = params.get("invited_user_type") else {
        return Ok(InvitedUserType::Fb);
    };
    let given = parse_list(value);
    let valid = !given.is_empty() && given.iter().all(|kind| kind == "FB" || kind == "MWA");
    if !valid {
        // [guess] Graph's wording.
        return Err(GraphError::invalid_param(
            "Param invited_user_type must be a non-empty list of {FB, MWA}",
        ));
    }
    Ok(if given.iter().any(|kind| kind == "MWA") {
        InvitedUserType::Mwa
    } else {
        InvitedUserType::Fb
    })
}

/// `POST /{business_id}/business_users`: invites `email` with `role` (both required), `tasks`
/// and `invited_user_type`, and answers `{"id": <business role request id>}`. The checks and
/// their order are `userpermissions`' (§8.2): the caller (200), the parameters (100), a member's
/// address (100), a pending address (100, whatever the role [guess]: today's API changes an
/// invitation through its own node), the invitation limit (17).
pub(crate) fn create(
    world: &mut World,
    viewer: &Viewer,
    business_id: u64,
    params: &Params,
) -> Result<Value, GraphError> {
    require_admin(world, viewer, business_id)?;
    let address = email(params.required("email")?)?.to_lowercase();
    let role = Role::parse(params.required("role")?)?;
    let tasks = tasks_param(params)?;
    let invited_user_type = invited_user_type_param(params)?;
    let member = world.memberships.values().any(|m| {
        m.business_id == business_id
            && m.status != Status::Invited
            && known_email(world, m).is_some_and(|e| e.eq_ignore_ascii_case(&address))
    });
    if member {
        return Err(GraphError::invalid_param(&format!(
            "{address} is already a member of this business"
        )));
    }
    let pending = find_row(world, business_id, |m| {
        m.status == Status::Invited && m.email.as_deref() == Some(address.as_str())
    });
    if pending.is_some() {
        return Err(GraphError::invalid_param(&format!(
            "{address} has already been invited to this business"
        )));
    }
    let now = world.now();
    let invitation = Invitation {
        email: address,
        role,
        tasks,
        invited_user_type,
    };
    let id = invite(world, viewer.user_id, business_id, invitation, now)?;
    Ok(json!({ "id": id.to_string() }))
}

/// `POST /{business_role_request_id}`: changes the `role` and/or `tasks` an invitation offers
/// (ADMINs only; one of them required, code 100).
pub(crate) fn update(
    world: &mut World,
    viewer: &Viewer,
    request_id: u64,
    params: &Params,
) -> Result<Value, GraphError> {
    let (row_id, business_id) = row_of(world, request_id)
        .map(|row| (row.id, row.business_id))
        .ok_or_else(|| GraphError::unsupported("post", &request_id.to_string()))?;
    require_admin(world, viewer, business_id)?;
    if params.get("role").is_none() && params.get("tasks").is_none() {
        // [guess] Graph's wording.
        return Err(GraphError::invalid_param(
            "At least one of the params role and tasks is required",
        ));
    }
    let role = params.get("role").map(Role::parse).transpose()?;
    let tasks = tasks_param(params)?;
    let now = world.now();
    update_row(world, row_id, viewer.user_id, now, |row| {
        if let Some(role) = role {
            set_role(row, role);
        }
        if let Some(tasks) = tasks {
            row.tasks = Some(tasks);
        }
    });
    Ok(json!({ "success": true }))
}

/// `DELETE /{business_role_request_id}`: cancels an invitation (ADMINs only).
pub(crate) fn cancel(
    world: &mut World,
    viewer: &Viewer,
    request_id: u64,
) -> Result<Value, GraphError> {
    let (row_id, business_id) = row_of(world, request_id)
        .map(|row| (row.id, row.business_id))
        .ok_or_else(|| GraphError::unsupported("delete", &request_id.to_string()))?;
    require_admin(world, viewer, business_id)?;
    world.memberships.remove(&row_id);
    Ok(json!({ "success": true }))
}

/// The control plane's page about an invitation (its `invite_link`): what it offers, or `None`
/// once it is no longer open.
pub(crate) fn describe(world: &World, request_id: u64) -> Option<Value> {
    let row = row_of(world, request_id)?;
    Some(json!({
        "id": request_id.to_string(),
        "business_id": row.business_id.to_string(),
        "email": row.email,
        "role": row.role.as_str(),
        "tasks": row.tasks(),
        "invited_user_type": invited_user_type_value(row.invited_user_type),
        "expiration_time": graph_time(expiration(row)),
    }))
}

/// The kind of account the invitation of a row is for (the control plane's accept).
pub(crate) fn invited_user_type_of(world: &World, row_id: u64) -> Option<InvitedUserType> {
    world
        .memberships
        .get(&row_id)
        .map(|row| row.invited_user_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_invite_link_is_on_the_host_of_the_call() {
        assert_eq!(
            invite_link("http://127.0.0.1:4010/v25.0", 700_004),
            "http://127.0.0.1:4010/__sandbox/invitations/700004"
        );
    }

    #[test]
    fn invited_user_type_takes_lists_and_refuses_other_values() {
        let parse = |value: &str| {
            let mut params = Params::default();
            params.push("invited_user_type", value);
            invited_user_type_param(&params)
        };
        assert_eq!(parse("[\"MWA\"]").ok(), Some(InvitedUserType::Mwa));
        assert_eq!(parse("FB").ok(), Some(InvitedUserType::Fb));
        assert!(parse("[]").is_err());
        assert!(parse("[\"PAGE\"]").is_err());
        assert_eq!(
            invited_user_type_param(&Params::default()).ok(),
            Some(InvitedUserType::Fb)
        );
    }
}
