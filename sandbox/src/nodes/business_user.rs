//! People on today's API (docs/graph-api.md §8.7): a business's members as `BusinessUser`
//! nodes, listed on its `business_users` edge, read by id, updated and deleted. Not a store of
//! their own: a business user is a view of a member's row of `user_permission` (role, tasks,
//! status) and of their persona (names, title, email, pending email), so that both dialects
//! see the same people.

use serde_json::{Value, json};

use super::NodeRef;
use super::business::Role;
use super::finance_permission::{FinanceRole, finance_role_of, is_finance_task, set_finance_role};
use super::persona::Persona;
use super::user_permission::{
    InvitedUserType, Membership, Status, TASKS, check_not_last_admin, known_email, remove_member,
    require_admin, role_of, set_role, update_row, without_finance_tasks,
};
use crate::answer::{ReadCtx, embedded};
use crate::wire::auth::Viewer;
use crate::wire::error::GraphError;
use crate::wire::fields::FieldSelection;
use crate::wire::request::{Params, email, parse_list, scalar_param};
use crate::world::World;

/// Graph's node type name [doc].
pub(crate) const TYPE_NAME: &str = "BusinessUser";

/// What a business user answers without `fields`. [doc: `id` and `business` are default fields
/// of the node, `role` of the edge] [guess: `name`]
pub(crate) const DEFAULT_FIELDS: &[&str] = &["id", "name", "business", "role"];

/// Whether a user is a system user: those are on `system_users`, never business users [doc].
fn is_system_user(world: &World, user_id: u64) -> bool {
    world.migration.system_users.contains(&user_id)
}

/// Whether a row is a business user: a member (ACTIVE or SUSPENDED) who is a person.
fn is_business_user(world: &World, row: &Membership) -> bool {
    row.status != Status::Invited
        && row.business_user_id.is_some()
        && row.user_id.is_some_and(|user| !is_system_user(world, user))
}

/// The row behind a business user id.
pub(crate) fn row_of(world: &World, business_user_id: u64) -> Option<&Membership> {
    world
        .memberships
        .values()
        .find(|m| m.business_user_id == Some(business_user_id) && is_business_user(world, m))
}

/// The business user id a Graph id names, if there is one.
pub(crate) fn find(world: &World, id: &str) -> Option<u64> {
    id.parse()
        .ok()
        .filter(|number| row_of(world, *number).is_some())
}

/// The business user of a user in a business, if they are one (for `created_by` of
/// invitations, which Graph gives as a BusinessUser [doc]).
pub(crate) fn of_user(world: &World, business_id: u64, user_id: u64) -> Option<u64> {
    world
        .memberships
        .values()
        .find(|m| {
            m.business_id == business_id && m.user_id == Some(user_id) && is_business_user(world, m)
        })
        .and_then(|m| m.business_user_id)
}

/// [guess] Every ACTIVE person of the business reads its business users, as its
/// `userpermissions` rows.
pub(crate) fn visible(world: &World, viewer: u64, business_user_id: u64) -> bool {
    row_of(world, business_user_id)
        .is_some_and(|row| role_of(world, row.business_id, viewer).is_some())
}

/// The `business_users` edge: the business's members who are people, ACTIVE and SUSPENDED
/// alike [guess], in the order of their rows.
pub(crate) fn of_business(world: &World, business_id: u64) -> Vec<NodeRef> {
    world
        .memberships
        .values()
        .filter(|m| m.business_id == business_id && is_business_user(world, m))
        .filter_map(|m| m.business_user_id)
        .map(NodeRef::BusinessUser)
        .collect()
}

/// `invited_user_type` as Graph writes it: a list [doc].
pub(crate) fn invited_user_type_value(kind: InvitedUserType) -> Value {
    json!([kind.as_str()])
}

/// One field of a business user.
pub(crate) fn field(
    ctx: &ReadCtx<'_>,
    business_user_id: u64,
    field: &FieldSelection,
) -> Result<Option<Value>, GraphError> {
    let world = ctx.world;
    let unknown = || GraphError::nonexisting_field(&field.name, TYPE_NAME);
    let row = row_of(world, business_user_id).ok_or_else(unknown)?;
    let persona = row.persona.and_then(|p| world.personas.get(&p));
    let text = |value: Option<&str>| value.filter(|v| !v.is_empty()).map(|v| json!(v));
    let value = match field.name.as_str() {
        "id" => json!(business_user_id.to_string()),
        // Names come from the persona, never the user (docs/graph-api.md §8.2); a member without
        // a persona has none to show.
        "name" => return Ok(text(persona.map(Persona::name).as_deref())),
        "first_name" => return Ok(text(persona.map(|p| p.first_name.as_str()))),
        "last_name" => return Ok(text(persona.map(|p| p.last_name.as_str()))),
        "title" => return Ok(text(persona.and_then(|p| p.title.as_deref()))),
        // The persona's (verified) email, else the address they were invited at (§8.7).
        "email" => {
            let verified = persona.map(|p| p.email.as_str()).filter(|e| !e.is_empty());
            return Ok(text(verified.or_else(|| known_email(world, row))));
        }
        "pending_email" => return Ok(text(persona.and_then(|p| p.pending_email.as_deref()))),
        "role" => json!(row.role.as_str()),
        "tasks" => json!(member_tasks(world, row)),
        "finance_permission" => {
            let user = row.user_id.unwrap_or_default();
            return Ok(finance_role_of(world, row.business_id, user).map(|r| json!(r.as_str())));
        }
        "invited_user_type" => invited_user_type_value(row.invited_user_type),
        "business" => {
            let business = Some(NodeRef::Business(row.business_id));
            return embedded(ctx, business, field, &["id", "name"]);
        }
        _ => return Err(unknown()),
    };
    Ok(Some(value))
}

/// A member's tasks: their row's (the ones set, else the role's) but the finance ones, and
/// the tasks of the finance role they hold in `finance_permissions`, in the SDK's order: one
/// store for both dialects (docs/graph-api.md §8.7).
pub(crate) fn member_tasks(world: &World, row: &Membership) -> Vec<&'static str> {
    let finance = row
        .user_id
        .and_then(|user| finance_role_of(world, row.business_id, user))
        .map(FinanceRole::tasks)
        .unwrap_or_default();
    let held: Vec<&'static str> = row
        .tasks()
        .into_iter()
        .filter(|task| !is_finance_task(task))
        .chain(finance.iter().copied())
        .collect();
    TASKS
        .into_iter()
        .filter(|task| held.contains(task))
        .collect()
}

/// A `tasks` parameter: a JSON array or a comma list of the SDK's tasks, kept in the SDK's
/// order without repeats; code 100 otherwise.
pub(crate) fn tasks_param(params: &Params) -> Result<Option<Vec<&'static str>>, GraphError> {
    let Some(value) = params.get("tasks") else {
        return Ok(None);
    };
    let given = parse_list(value);
    if given.is_empty() {
        // [guess] Graph's wording for an empty list.
        return Err(GraphError::invalid_param(
            "Param tasks must be a non-empty list",
        ));
    }
    for (index, task) in given.iter().enumerate() {
        if !TASKS.contains(&task.as_str()) {
            // [guess] Graph's wording, in the style of its enum errors.
            return Err(GraphError::invalid_param(&format!(
                "Param tasks[{index}] must be one of {{{}}}",
                TASKS.join(", ")
            )));
        }
    }
    Ok(Some(
        TASKS
            .into_iter()
            .filter(|task| given.iter().any(|g| g == task))
            .collect(),
    ))
}

/// A boolean parameter: `true`/`false` (or `1`/`0`), else code 100.
fn bool_param(params: &Params, name: &str) -> Result<Option<bool>, GraphError> {
    let Some(value) = params.get(name) else {
        return Ok(None);
    };
    match scalar_param(value).to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(Some(true)),
        "false" | "0" => Ok(Some(false)),
        _ => Err(GraphError::invalid_param(&format!(
            "Param {name} must be a boolean"
        ))),
    }
}

/// A name or title parameter: trimmed, without control characters; names must not be blank
/// (a blank title clears it). Code 100 otherwise, as persona updates (§8.3).
fn text_param(params: &Params, name: &str, blank_ok: bool) -> Result<Option<String>, GraphError> {
    let Some(value) = params.get(name) else {
        return Ok(None);
    };
    let trimmed = value.trim();
    if (trimmed.is_empty() && !blank_ok) || trimmed.chars().any(char::is_control) {
        return Err(GraphError::invalid_param(&format!(
            "Param {name} must be a non-empty string"
        )));
    }
    Ok(Some(trimmed.to_owned()))
}

/// The parameters of `POST /{business_user_id}`, checked.
struct Update {
    role: Option<Role>,
    tasks: Option<Vec<&'static str>>,
    first_name: Option<String>,
    last_name: Option<String>,
    title: Option<String>,
    email: Option<String>,
    clear_pending_email: bool,
}

const ROLE_PARAMS: [&str; 2] = ["role", "tasks"];
const PROFILE_PARAMS: [&str; 6] = [
    "first_name",
    "last_name",
    "title",
    "email",
    "pending_email",
    "clear_pending_email",
];

/// `POST /{business_user_id}`: `role` and `tasks` (by an ADMIN), `first_name`, `last_name`,
/// `title`, `email` (or `pending_email`), `clear_pending_email` (by the person themselves, as
/// persona updates). A new email waits in `pending_email` until verified. Order: the caller
/// (200), the parameters (100), then 3914 for demoting the last ADMIN.
pub(crate) fn update(
    world: &mut World,
    viewer: &Viewer,
    business_user_id: u64,
    params: &Params,
) -> Result<Value, GraphError> {
    let row = row_of(world, business_user_id)
        .cloned()
        .ok_or_else(|| GraphError::unsupported("post", &business_user_id.to_string()))?;
    let given = |names: &[&str]| names.iter().any(|name| params.get(name).is_some());
    let (role_change, profile_change) = (given(&ROLE_PARAMS), given(&PROFILE_PARAMS));
    let is_self = row.user_id == Some(viewer.user_id);
    // [guess] An ADMIN changes roles, their own included (3914 keeps one ADMIN); as for
    // personas (§8.3), only the person edits their name, title and email.
    if role_change || (!profile_change && !is_self) {
        require_admin(world, viewer, row.business_id)?;
    }
    if profile_change && !is_self {
        return Err(GraphError::permissions());
    }
    if !role_change && !profile_change {
        // [guess] Graph's wording when nothing is given to change.
        return Err(GraphError::invalid_param(
            "At least one of the params role, tasks, first_name, last_name, title, email and \
             clear_pending_email is required",
        ));
    }
    let update = Update {
        role: params.get("role").map(Role::parse).transpose()?,
        tasks: tasks_param(params)?,
        first_name: text_param(params, "first_name", false)?,
        last_name: text_param(params, "last_name", false)?,
        title: text_param(params, "title", true)?,
        email: params
            .get("email")
            .or_else(|| params.get("pending_email"))
            .map(email)
            .transpose()?
            .map(|e| e.to_lowercase()),
        clear_pending_email: bool_param(params, "clear_pending_email")?.unwrap_or(false),
    };
    if update.email.is_some() && update.clear_pending_email {
        // [guess]
        return Err(GraphError::invalid_param(
            "Params email and clear_pending_email cannot be used together",
        ));
    }
    if update.role.is_some_and(|role| role != Role::Admin) {
        check_not_last_admin(world, row.business_id, row.id)?;
    }
    let now = world.now();
    if role_change {
        update_row(world, row.id, viewer.user_id, now, |member| {
            if let Some(role) = update.role {
                set_role(member, role);
            }
            if let Some(tasks) = &update.tasks {
                // The finance tasks are the finance role, kept in `finance_permissions`.
                member.tasks = without_finance_tasks(tasks);
            }
        });
        if let (Some(tasks), Some(user)) = (&update.tasks, row.user_id) {
            let role = FinanceRole::of_tasks(tasks);
            set_finance_role(world, row.business_id, user, role, viewer.user_id);
        }
    }
    if profile_change {
        update_profile(world, &row, viewer.user_id, update);
    }
    // [guess] Graph answers node updates with a bare success.
    Ok(json!({ "success": true }))
}

/// Applies the profile part of an update to the member's persona, making one for a member who
/// has none yet (one who created the business, say): the given names, the email they are
/// known by, the new email pending [guess].
fn update_profile(world: &mut World, row: &Membership, by: u64, update: Update) {
    let now = world.now();
    let persona_id = match row.persona.filter(|p| world.personas.contains_key(p)) {
        Some(id) => id,
        None => {
            let id = world.next_id();
            let email = known_email(world, row).unwrap_or_default().to_owned();
            world.personas.insert(
                id,
                Persona {
                    id,
                    business_id: row.business_id,
                    user_id: row.user_id.unwrap_or(by),
                    first_name: String::new(),
                    last_name: String::new(),
                    title: None,
                    email,
                    pending_email: None,
                    created_by: Some(by),
                    updated_by: Some(by),
                    created_time: now,
                    updated_time: now,
                },
            );
            if let Some(member) = world.memberships.get_mut(&row.id) {
                member.persona = Some(id);
            }
            id
        }
    };
    let Some(persona) = world.personas.get_mut(&persona_id) else {
        return;
    };
    if let Some(first_name) = update.first_name {
        persona.first_name = first_name;
    }
    if let Some(last_name) = update.last_name {
        persona.last_name = last_name;
    }
    if let Some(title) = update.title {
        persona.title = (!title.is_empty()).then_some(title);
    }
    if let Some(new_email) = update.email {
        // As persona updates: the current email again drops a pending change.
        persona.pending_email = (new_email != persona.email).then_some(new_email);
    }
    if update.clear_pending_email {
        persona.pending_email = None;
    }
    persona.updated_by = Some(by);
    persona.updated_time = now;
}

/// `DELETE /{business_user_id}`: removes the member from the business, as
/// `DELETE /{business_id}/userpermissions` with `user` does (ADMINs only, 3914 for the last
/// ADMIN).
pub(crate) fn delete(
    world: &mut World,
    viewer: &Viewer,
    business_user_id: u64,
) -> Result<Value, GraphError> {
    let row = row_of(world, business_user_id)
        .cloned()
        .ok_or_else(|| GraphError::unsupported("delete", &business_user_id.to_string()))?;
    require_admin(world, viewer, row.business_id)?;
    check_not_last_admin(world, row.business_id, row.id)?;
    remove_member(world, row.id);
    Ok(json!({ "success": true }))
}
