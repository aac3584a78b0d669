//! People of a business (docs/graph-api.md §8.2): one [`Membership`] per person and business,
//! from the invitation (status INVITED) to the active (ACTIVE) or suspended (SUSPENDED) member,
//! served as the `userpermissions` edge; and its writes (invite, change a role, remove, cancel
//! an invitation) with Graph's validation order and error codes.
//!
//! The same rows are today's `business_users` and `pending_users` (docs/graph-api.md §8.7,
//! modules `business_user` and `role_request`): one store, two dialects.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

use super::business::Role;
use super::finance_permission::{FinanceRole, is_finance_task, set_finance_role};
use super::persona::Persona;
use super::{Node, NodeRef, unknown_field};
use crate::answer::{ReadCtx, embedded};
use crate::wire::auth::Viewer;
use crate::wire::error::GraphError;
use crate::wire::fields::FieldSelection;
use crate::wire::graph_time;
use crate::wire::request::{Params, email, scalar_param};
use crate::world::World;

/// Invitations a business may send per rolling 24 hours unless the control plane says
/// otherwise. [guess] Graph does not publish its figure; 20 keeps tests short.
pub(crate) const DEFAULT_INVITATIONS_PER_DAY: u32 = 20;

/// Where a person stands in a business.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Invited by email; no user yet.
    Invited,
    /// A member with access to the business.
    Active,
    /// A member whose access is withdrawn, still listed.
    Suspended,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Invited => "INVITED",
            Status::Active => "ACTIVE",
            Status::Suspended => "SUSPENDED",
        }
    }
}

impl Role {
    /// Graph's spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "ADMIN",
            Role::Employee => "EMPLOYEE",
        }
    }

    pub(crate) fn parse(value: &str) -> Result<Role, GraphError> {
        match scalar_param(value).as_str() {
            "ADMIN" => Ok(Role::Admin),
            "EMPLOYEE" => Ok(Role::Employee),
            _ => Err(GraphError::invalid_param(
                "Param role must be one of {ADMIN, EMPLOYEE}",
            )),
        }
    }
}

/// Today's tasks of a business user or invitation, as the official SDKs spell them
/// (`BusinessUser.Tasks`, the same list as `BusinessUser.Role`) [doc].
pub(crate) const TASKS: [&str; 15] = [
    "ADMIN",
    "ADS_RIGHTS_REVIEWER",
    "DEFAULT",
    "DEVELOPER",
    "EMPLOYEE",
    "FINANCE_ANALYST",
    "FINANCE_EDIT",
    "FINANCE_EDITOR",
    "FINANCE_VIEW",
    "MANAGE",
    "PARTNER_CENTER_ADMIN",
    "PARTNER_CENTER_ANALYST",
    "PARTNER_CENTER_EDUCATION",
    "PARTNER_CENTER_MARKETING",
    "PARTNER_CENTER_OPERATIONS",
];

/// The tasks a role stands for when none were set. [guess] Graph does not publish how it
/// unpacks the base roles: an ADMIN holds every base task but the finance ones (reading
/// invoices needs a finance role [seed]), an EMPLOYEE only `EMPLOYEE`.
pub(crate) fn role_tasks(role: Role) -> &'static [&'static str] {
    match role {
        Role::Admin => &["ADMIN", "DEVELOPER", "EMPLOYEE", "MANAGE"],
        Role::Employee => &["EMPLOYEE"],
    }
}

/// The kind of account an invitation is for [doc: `BusinessUser.InvitedUserType`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InvitedUserType {
    /// A Facebook account.
    Fb,
    /// A managed Meta account (a work account).
    Mwa,
}

impl InvitedUserType {
    /// Graph's spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            InvitedUserType::Fb => "FB",
            InvitedUserType::Mwa => "MWA",
        }
    }
}

/// A person (or system user) in a business, invited or member: one row of `userpermissions`.
#[derive(Debug, Clone)]
pub(crate) struct Membership {
    /// The row's own id. Rows are not Graph nodes of their own (they are not found by id);
    /// the id only tells list items apart.
    pub id: u64,
    pub business_id: u64,
    /// The user, once the invitation is accepted.
    pub user_id: Option<u64>,
    /// The invited address; for members, the address they were invited at, if any.
    pub email: Option<String>,
    pub role: Role,
    pub status: Status,
    /// The person's persona in this business, once they accepted.
    pub persona: Option<u64>,
    pub created_by: Option<u64>,
    pub updated_by: Option<u64>,
    pub created_time: DateTime<Utc>,
    pub updated_time: DateTime<Utc>,
    /// The member's `BusinessUser` id (today's `business_users`), set once they are a member.
    pub business_user_id: Option<u64>,
    /// The invitation's `BusinessRoleRequest` id (today's `pending_users`), for rows that
    /// started as an invitation; served while the row is INVITED.
    pub role_request_id: Option<u64>,
    /// Tasks set through today's API; `None` stands for the role's ([`role_tasks`]).
    pub tasks: Option<Vec<&'static str>>,
    /// Whom the invitation was for; `FB` unless invited as a managed Meta account.
    pub invited_user_type: InvitedUserType,
}

impl Membership {
    /// An ACTIVE member without persona, created and updated by themselves at `now`, as
    /// business user `business_user_id`.
    pub(crate) fn active(
        id: u64,
        business_user_id: u64,
        business_id: u64,
        user_id: u64,
        role: Role,
        now: DateTime<Utc>,
    ) -> Self {
        Membership {
            id,
            business_id,
            user_id: Some(user_id),
            email: None,
            role,
            status: Status::Active,
            persona: None,
            created_by: Some(user_id),
            updated_by: Some(user_id),
            created_time: now,
            updated_time: now,
            business_user_id: Some(business_user_id),
            role_request_id: None,
            tasks: None,
            invited_user_type: InvitedUserType::Fb,
        }
    }

    /// The tasks shown: the ones set, else the role's.
    pub(crate) fn tasks(&self) -> Vec<&'static str> {
        self.tasks
            .clone()
            .unwrap_or_else(|| role_tasks(self.role).to_vec())
    }
}

/// The role a user holds in a business while ACTIVE there (invited and suspended people have
/// no access).
pub(crate) fn role_of(world: &World, business_id: u64, user_id: u64) -> Option<Role> {
    world
        .memberships
        .values()
        .find(|m| {
            m.business_id == business_id && m.user_id == Some(user_id) && m.status == Status::Active
        })
        .map(|m| m.role)
}

/// The rows of a business, in id order.
pub(crate) fn of_business(world: &World, business_id: u64) -> Vec<NodeRef> {
    world
        .memberships
        .values()
        .filter(|m| m.business_id == business_id)
        .map(|m| NodeRef::UserPermission(m.id))
        .collect()
}

impl Node for Membership {
    // [guess] Graph's type name for the rows of this edge.
    const TYPE_NAME: &'static str = "UserPermission";
    // [guess] What Graph answers without `fields`.
    const DEFAULT_FIELDS: &'static [&'static str] = &["id", "role", "status"];

    fn stored(world: &World) -> &BTreeMap<u64, Self> {
        &world.memberships
    }

    /// Rows are never found by id: only through their business's edge.
    fn parse_id(_id: &str) -> Option<u64> {
        None
    }

    /// [guess] Every active person of the business sees its people, employees included.
    fn visible_to(&self, world: &World, viewer: u64) -> bool {
        role_of(world, self.business_id, viewer).is_some()
    }

    fn field(
        ctx: &ReadCtx<'_>,
        row: &Self,
        field: &FieldSelection,
    ) -> Result<Option<Value>, GraphError> {
        let user_fields: &[&str] = &["id", "name"];
        let value = match field.name.as_str() {
            "id" => json!(row.id.to_string()),
            // The contract: the user only once the person is a member. Unset fields are left
            // out rather than sent as null, as everywhere in the sandbox.
            "user" => {
                let user = row
                    .user_id
                    .filter(|_| row.status == Status::Active)
                    .map(NodeRef::User);
                return embedded(ctx, user, field, user_fields);
            }
            "business_persona" => {
                let persona = row.persona.map(NodeRef::Persona);
                return embedded(ctx, persona, field, &["id", "name"]);
            }
            "role" => json!(row.role.as_str()),
            "status" => json!(row.status.as_str()),
            "email" => return Ok(row.email.as_ref().map(|e| json!(e))),
            "created_by" => {
                return embedded(ctx, row.created_by.map(NodeRef::User), field, user_fields);
            }
            "updated_by" => {
                return embedded(ctx, row.updated_by.map(NodeRef::User), field, user_fields);
            }
            "created_time" => json!(graph_time(row.created_time)),
            "updated_time" => json!(graph_time(row.updated_time)),
            "page_permissions" => json!(page_permissions(ctx.world, row)),
            // [guess] Ad accounts hold no per-person roles in the sandbox: always empty.
            "adaccount_permissions" => json!([]),
            _ => return Err(unknown_field::<Self>(field)),
        };
        Ok(Some(value))
    }
}

/// The person's roles on the pages their business owns, as `{id, role, status}`.
fn page_permissions(world: &World, row: &Membership) -> Vec<Value> {
    let Some(user_id) = row.user_id else {
        return Vec::new();
    };
    world
        .pages
        .values()
        .filter(|page| page.owner_business == Some(row.business_id) && page.is_admin(user_id))
        // [guess] The sandbox's page admins are listed with Graph's task-era role name.
        .map(|page| json!({ "id": page.id.to_string(), "role": "MANAGE", "status": "ACTIVE" }))
        .collect()
}

/// Code 200 unless the caller is an ACTIVE ADMIN (person or system user) of the business.
pub(crate) fn require_admin(
    world: &World,
    viewer: &Viewer,
    business_id: u64,
) -> Result<(), GraphError> {
    if role_of(world, business_id, viewer.user_id) == Some(Role::Admin) {
        Ok(())
    } else {
        Err(GraphError::permissions())
    }
}

/// The `user` or the `email` of a write: exactly one of them, else code 100.
enum Person {
    User(u64),
    Email(String),
}

fn person(params: &Params) -> Result<Person, GraphError> {
    match (params.get("user"), params.get("email")) {
        (Some(user), None) => scalar_param(user)
            .parse()
            .map(Person::User)
            .map_err(|_| GraphError::invalid_param("Param user must be a valid user ID")),
        (None, Some(address)) => email(address).map(|e| Person::Email(e.to_lowercase())),
        // [guess] Graph's wording when both or neither are given.
        _ => Err(GraphError::invalid_param(
            "Exactly one of the params user and email is required",
        )),
    }
}

/// The id of the row of a business matching `wanted`.
pub(crate) fn find_row(
    world: &World,
    business_id: u64,
    wanted: impl Fn(&Membership) -> bool,
) -> Option<u64> {
    world
        .memberships
        .values()
        .find(|m| m.business_id == business_id && wanted(m))
        .map(|m| m.id)
}

/// The row of a member (ACTIVE or SUSPENDED) by user id, else code 100.
fn member_row(world: &World, business_id: u64, user_id: u64) -> Result<u64, GraphError> {
    find_row(world, business_id, |m| {
        m.user_id == Some(user_id) && m.status != Status::Invited
    })
    // [guess] Graph's wording for a user who is not in the business.
    .ok_or_else(|| GraphError::invalid_param("The user is not a member of this business"))
}

/// The email a member is known by here: their invitation's, else their persona's.
pub(crate) fn known_email<'a>(world: &'a World, row: &'a Membership) -> Option<&'a str> {
    row.email.as_deref().or_else(|| {
        row.persona
            .and_then(|p| world.personas.get(&p))
            .map(|p| p.email.as_str())
    })
}

/// 3914 when the row is the business's last ACTIVE ADMIN.
pub(crate) fn check_not_last_admin(
    world: &World,
    business_id: u64,
    row_id: u64,
) -> Result<(), GraphError> {
    let admins: Vec<u64> = world
        .memberships
        .values()
        .filter(|m| {
            m.business_id == business_id && m.status == Status::Active && m.role == Role::Admin
        })
        .map(|m| m.id)
        .collect();
    if admins == [row_id] {
        Err(GraphError::coded(
            3914,
            "You cannot remove the last admin of this business",
        ))
    } else {
        Ok(())
    }
}

/// `POST /{business_id}/userpermissions`: invites (`email`, `role`), changes a member's role
/// (`user`, `role`) or the role offered in a pending invitation (`email`, `role`).
pub(crate) fn write(
    world: &mut World,
    viewer: &Viewer,
    business_id: u64,
    params: &Params,
) -> Result<Value, GraphError> {
    // The order of docs/graph-api.md §8.2: the caller's role (200), the parameters (100), then
    // the business rules (3914, the duplicate's 100, the invitation limit's 17).
    require_admin(world, viewer, business_id)?;
    let role = Role::parse(params.required("role")?)?;
    let target = person(params)?;
    let now = world.now();
    match target {
        Person::User(user_id) => {
            let row_id = member_row(world, business_id, user_id)?;
            if role != Role::Admin {
                // [guess] Demoting the last ADMIN is refused like removing them.
                check_not_last_admin(world, business_id, row_id)?;
            }
            update_row(world, row_id, viewer.user_id, now, |row| {
                set_role(row, role)
            });
        }
        Person::Email(address) => {
            let invited = find_row(world, business_id, |m| {
                m.status == Status::Invited && m.email.as_deref() == Some(address.as_str())
            });
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
            match invited {
                // [guess] The same role again is a second invitation, refused; another role
                // changes the role the invitation offers (docs/graph-api.md §8.2).
                Some(row_id)
                    if world
                        .memberships
                        .get(&row_id)
                        .is_some_and(|m| m.role == role) =>
                {
                    return Err(GraphError::invalid_param(&format!(
                        "{address} has already been invited to this business"
                    )));
                }
                Some(row_id) => {
                    update_row(world, row_id, viewer.user_id, now, |row| {
                        set_role(row, role)
                    });
                }
                None => {
                    let invitation = Invitation {
                        email: address,
                        role,
                        tasks: None,
                        invited_user_type: InvitedUserType::Fb,
                    };
                    invite(world, viewer.user_id, business_id, invitation, now)?;
                }
            }
        }
    }
    // [guess] Graph answers these writes with a bare success.
    Ok(json!({ "success": true }))
}

/// The tasks a member's row keeps of `tasks`: all but the finance ones (the finance role,
/// docs/graph-api.md §8.7); `None`, the role's own, when no other is left [guess].
pub(crate) fn without_finance_tasks(tasks: &[&'static str]) -> Option<Vec<&'static str>> {
    let kept: Vec<&'static str> = tasks
        .iter()
        .copied()
        .filter(|task| !is_finance_task(task))
        .collect();
    (!kept.is_empty()).then_some(kept)
}

/// A new role; the tasks set for the old one are dropped, so that the role's own show
/// (docs/graph-api.md §8.7) [guess].
pub(crate) fn set_role(row: &mut Membership, role: Role) {
    row.role = role;
    row.tasks = None;
}

pub(crate) fn update_row(
    world: &mut World,
    row_id: u64,
    by: u64,
    now: DateTime<Utc>,
    change: impl FnOnce(&mut Membership),
) {
    if let Some(row) = world.memberships.get_mut(&row_id) {
        change(row);
        row.updated_by = Some(by);
        row.updated_time = now;
    }
}

/// What an invitation offers.
pub(crate) struct Invitation {
    /// Lowercase, checked.
    pub email: String,
    pub role: Role,
    pub tasks: Option<Vec<&'static str>>,
    pub invited_user_type: InvitedUserType,
}

/// Adds an INVITED row, within the business's invitations per rolling 24 hours (code 17).
/// Answers the invitation's `BusinessRoleRequest` id.
pub(crate) fn invite(
    world: &mut World,
    by: u64,
    business_id: u64,
    invitation: Invitation,
    now: DateTime<Utc>,
) -> Result<u64, GraphError> {
    let day_ago = now - TimeDelta::hours(24);
    let limit = world.invitations_per_day;
    let sent = world.invitations_sent.entry(business_id).or_default();
    sent.retain(|time| *time > day_ago);
    if sent.len() >= usize::try_from(limit).unwrap_or(usize::MAX) {
        return Err(
            GraphError::coded(17, "User request limit reached").with_user_text(
                "Too Many Invitations",
                "This business has sent too many invitations. Please resume 24 hours later.",
            ),
        );
    }
    sent.push(now);
    let id = world.next_membership_id();
    let request_id = world.next_people_node_id();
    world.memberships.insert(
        id,
        Membership {
            id,
            business_id,
            user_id: None,
            email: Some(invitation.email),
            role: invitation.role,
            status: Status::Invited,
            persona: None,
            created_by: Some(by),
            updated_by: Some(by),
            created_time: now,
            updated_time: now,
            business_user_id: None,
            role_request_id: Some(request_id),
            tasks: invitation.tasks,
            invited_user_type: invitation.invited_user_type,
        },
    );
    Ok(request_id)
}

/// `DELETE /{business_id}/userpermissions`: removes a member (`user`) with every page role they
/// hold through this business, or cancels an invitation (`email`).
pub(crate) fn delete(
    world: &mut World,
    viewer: &Viewer,
    business_id: u64,
    params: &Params,
) -> Result<Value, GraphError> {
    require_admin(world, viewer, business_id)?;
    match person(params)? {
        Person::User(user_id) => {
            let row_id = member_row(world, business_id, user_id)?;
            check_not_last_admin(world, business_id, row_id)?;
            remove_member(world, row_id);
        }
        Person::Email(address) => {
            let row_id = find_row(world, business_id, |m| {
                m.status == Status::Invited && m.email.as_deref() == Some(address.as_str())
            })
            // [guess] Graph's wording when no invitation matches.
            .ok_or_else(|| {
                GraphError::invalid_param(&format!("There is no pending invitation for {address}"))
            })?;
            world.memberships.remove(&row_id);
        }
    }
    Ok(json!({ "success": true }))
}

/// Removes a member's row with what goes with it: their persona, their finance role, their
/// roles on the business's own pages (docs/graph-api.md §8.2). The caller checked the rules.
pub(crate) fn remove_member(world: &mut World, row_id: u64) {
    let Some(row) = world.memberships.remove(&row_id) else {
        return;
    };
    // [guess] The persona belongs to the membership and goes with it.
    if let Some(persona) = row.persona {
        world.personas.remove(&persona);
    }
    let Some(user_id) = row.user_id else {
        return;
    };
    let business_id = row.business_id;
    // [guess] The finance role goes with the membership too.
    super::finance_permission::forget(world, business_id, user_id);
    // Roles on the business's own pages go; pages of other businesses and unowned pages keep
    // them (docs/graph-api.md §8.2).
    for page in world.pages.values_mut() {
        if page.owner_business == Some(business_id) {
            page.admins.retain(|admin| *admin != user_id);
        }
    }
}

/// Who accepts an invitation, and the persona they choose (the control plane's accept).
#[derive(Debug, Clone)]
pub(crate) struct Acceptance {
    pub business_id: u64,
    pub email: String,
    /// The user accepting; already checked to exist.
    pub user_id: u64,
    pub first_name: String,
    pub last_name: String,
}

/// Why an acceptance or a suspension was refused, in the control plane's words.
pub(crate) type PeopleResult<T> = Result<T, String>;

/// The row of the pending invitation of an email in a business, if any (the control plane asks
/// before making a user for the invited person).
pub(crate) fn pending_invitation(world: &World, business_id: u64, email: &str) -> Option<u64> {
    let email = email.to_lowercase();
    find_row(world, business_id, |m| {
        m.status == Status::Invited && m.email.as_deref() == Some(email.as_str())
    })
}

/// Accepts a pending invitation: the row becomes ACTIVE for the user, with a new persona under
/// the chosen name and the invited email. Answers the persona's id.
pub(crate) fn accept_invitation(world: &mut World, acceptance: Acceptance) -> PeopleResult<u64> {
    let email = acceptance.email.to_lowercase();
    let business_id = acceptance.business_id;
    let row_id = pending_invitation(world, business_id, &email)
        .ok_or_else(|| format!("no pending invitation for {email} in business {business_id}"))?;
    if find_row(world, business_id, |m| {
        m.user_id == Some(acceptance.user_id)
    })
    .is_some()
    {
        return Err(format!(
            "user {} is already in business {business_id}",
            acceptance.user_id
        ));
    }
    let now = world.now();
    let persona_id = world.next_id();
    let business_user_id = world.next_people_node_id();
    world.personas.insert(
        persona_id,
        Persona {
            id: persona_id,
            business_id,
            user_id: acceptance.user_id,
            first_name: acceptance.first_name,
            last_name: acceptance.last_name,
            title: None,
            email,
            pending_email: None,
            created_by: Some(acceptance.user_id),
            updated_by: Some(acceptance.user_id),
            created_time: now,
            updated_time: now,
        },
    );
    let mut offered_finance = None;
    update_row(world, row_id, acceptance.user_id, now, |row| {
        row.user_id = Some(acceptance.user_id);
        row.status = Status::Active;
        row.persona = Some(persona_id);
        row.business_user_id = Some(business_user_id);
        // Finance tasks an invitation offered become the member's finance role, kept in
        // `finance_permissions` (docs/graph-api.md §8.7) [guess].
        if let Some(tasks) = row.tasks.take() {
            offered_finance = FinanceRole::of_tasks(&tasks).map(|role| (role, row.created_by));
            row.tasks = without_finance_tasks(&tasks);
        }
    });
    if let Some((role, inviter)) = offered_finance {
        let by = inviter.unwrap_or(acceptance.user_id);
        set_finance_role(world, business_id, acceptance.user_id, Some(role), by);
    }
    Ok(persona_id)
}

/// Suspends an ACTIVE member: still listed, no longer any access to the business.
pub(crate) fn suspend(world: &mut World, business_id: u64, user_id: u64) -> PeopleResult<()> {
    let row_id = find_row(world, business_id, |m| {
        m.user_id == Some(user_id) && m.status == Status::Active
    })
    .ok_or_else(|| format!("user {user_id} is not an active member of business {business_id}"))?;
    let now = world.now();
    if let Some(row) = world.memberships.get_mut(&row_id) {
        row.status = Status::Suspended;
        row.updated_time = now;
    }
    Ok(())
}
