//! Finance roles (docs/graph-api.md §8.5): a business's ADMINs grant FINANCE_ANALYST or
//! FINANCE_EDITOR to one of its ACTIVE people or system users. One [`FinanceGrant`] per person
//! and business, listed on the business's `finance_permissions` edge; reading invoices needs
//! one (being ADMIN is not enough [seed]).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::business::Role;
use super::user_permission::{require_admin, role_of};
use super::{Node, NodeRef, unknown_field};
use crate::answer::{ReadCtx, embedded};
use crate::wire::auth::Viewer;
use crate::wire::error::GraphError;
use crate::wire::fields::FieldSelection;
use crate::wire::graph_time;
use crate::wire::request::{Params, scalar_param};
use crate::world::World;

/// A finance role in a business.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FinanceRole {
    /// Reads invoices and funding.
    Analyst,
    /// Reads invoices and funding and manages payment methods.
    Editor,
}

impl FinanceRole {
    /// Graph's spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            FinanceRole::Analyst => "FINANCE_ANALYST",
            FinanceRole::Editor => "FINANCE_EDITOR",
        }
    }

    /// The business user tasks that stand for the role on today's API (docs/graph-api.md
    /// §8.7): an editor views too [guess: Graph does not publish the mapping].
    pub(crate) fn tasks(self) -> &'static [&'static str] {
        match self {
            FinanceRole::Analyst => &["FINANCE_VIEW"],
            FinanceRole::Editor => &["FINANCE_EDIT", "FINANCE_VIEW"],
        }
    }

    /// The role a list of business user tasks holds: `FINANCE_EDIT` (or the SDK's
    /// `FINANCE_EDITOR`) makes an editor, else `FINANCE_VIEW` (or `FINANCE_ANALYST`) an
    /// analyst, else none [guess].
    pub(crate) fn of_tasks(tasks: &[&str]) -> Option<FinanceRole> {
        let has = |names: &[&str]| tasks.iter().any(|t| names.contains(t));
        if has(&["FINANCE_EDIT", "FINANCE_EDITOR"]) {
            Some(FinanceRole::Editor)
        } else if has(&["FINANCE_VIEW", "FINANCE_ANALYST"]) {
            Some(FinanceRole::Analyst)
        } else {
            None
        }
    }

    fn parse(value: &str) -> Result<FinanceRole, GraphError> {
        match scalar_param(value).as_str() {
            "FINANCE_ANALYST" => Ok(FinanceRole::Analyst),
            "FINANCE_EDITOR" => Ok(FinanceRole::Editor),
            _ => Err(GraphError::invalid_param(
                "Param finance_permission must be one of {FINANCE_ANALYST, FINANCE_EDITOR}",
            )),
        }
    }
}

/// Whether a business user task is a finance one: those are the finance role, kept in
/// `finance_permissions`, not in the member's row.
pub(crate) fn is_finance_task(task: &str) -> bool {
    matches!(
        task,
        "FINANCE_ANALYST" | "FINANCE_EDIT" | "FINANCE_EDITOR" | "FINANCE_VIEW"
    )
}

/// One person's finance role in one business: a row of `finance_permissions`.
#[derive(Debug, Clone)]
pub(crate) struct FinanceGrant {
    /// The row's own id; rows are not found by id, the id only tells list items apart.
    pub id: u64,
    pub business_id: u64,
    pub user_id: u64,
    pub role: FinanceRole,
    pub granted_by: Option<u64>,
    pub updated_time: DateTime<Utc>,
}

impl Node for FinanceGrant {
    // [guess] Graph's type name for these rows.
    const TYPE_NAME: &'static str = "BusinessFinancePermission";
    const DEFAULT_FIELDS: &'static [&'static str] = &["user", "finance_permission"];

    fn stored(world: &World) -> &BTreeMap<u64, Self> {
        &world.finance_grants
    }

    /// Rows are never found by id: only through their business's edge.
    fn parse_id(_id: &str) -> Option<u64> {
        None
    }

    /// The business's ADMINs and finance people, who may list its finance roles.
    fn visible_to(&self, world: &World, viewer: u64) -> bool {
        may_read_funding(world, self.business_id, viewer)
    }

    fn field(
        ctx: &ReadCtx<'_>,
        grant: &Self,
        field: &FieldSelection,
    ) -> Result<Option<Value>, GraphError> {
        let user_fields: &[&str] = &["id", "name"];
        let value = match field.name.as_str() {
            "id" => json!(grant.id.to_string()),
            "user" => return embedded(ctx, Some(NodeRef::User(grant.user_id)), field, user_fields),
            "finance_permission" => json!(grant.role.as_str()),
            "business" => {
                let business = Some(NodeRef::Business(grant.business_id));
                return embedded(ctx, business, field, &["id", "name"]);
            }
            "granted_by" => {
                let granter = grant.granted_by.map(NodeRef::User);
                return embedded(ctx, granter, field, user_fields);
            }
            "updated_time" => json!(graph_time(grant.updated_time)),
            _ => return Err(unknown_field::<Self>(field)),
        };
        Ok(Some(value))
    }
}

/// The finance role a user holds in a business while an ACTIVE person there.
pub(crate) fn finance_role_of(
    world: &World,
    business_id: u64,
    user_id: u64,
) -> Option<FinanceRole> {
    role_of(world, business_id, user_id)?;
    world
        .finance_grants
        .values()
        .find(|g| g.business_id == business_id && g.user_id == user_id)
        .map(|g| g.role)
}

/// Whether a user may read a business's funding (credit cards, credit lines, finance roles):
/// its ACTIVE ADMINs and its people with a finance role [guess].
pub(crate) fn may_read_funding(world: &World, business_id: u64, user_id: u64) -> bool {
    role_of(world, business_id, user_id) == Some(Role::Admin)
        || finance_role_of(world, business_id, user_id).is_some()
}

/// Code 200 unless the viewer holds a finance role in the business (invoices).
pub(crate) fn require_finance_role(
    world: &World,
    viewer: u64,
    business_id: u64,
) -> Result<(), GraphError> {
    if finance_role_of(world, business_id, viewer).is_some() {
        return Ok(());
    }
    // [guess] Graph's wording; the role it names is what the seed asks for.
    Err(GraphError::coded(
        200,
        &format!(
            "Permissions error: reading the invoices of business {business_id} requires a \
             finance role (FINANCE_ANALYST or FINANCE_EDITOR); the ADMIN role is not enough"
        ),
    ))
}

/// Code 200 unless the viewer may read the business's funding ([`may_read_funding`]).
pub(crate) fn require_funding_reader(
    world: &World,
    viewer: u64,
    business_id: u64,
) -> Result<(), GraphError> {
    if may_read_funding(world, business_id, viewer) {
        return Ok(());
    }
    // [guess] Graph's wording.
    Err(GraphError::coded(
        200,
        &format!(
            "Permissions error: reading the funding of business {business_id} requires the \
             ADMIN role or a finance role (FINANCE_ANALYST or FINANCE_EDITOR)"
        ),
    ))
}

/// The rows of a business, in id order, as its `finance_permissions` edge; code 200 for a
/// viewer who may not read them.
pub(crate) fn of_business(
    world: &World,
    viewer: u64,
    business_id: u64,
) -> Result<Vec<NodeRef>, GraphError> {
    require_funding_reader(world, viewer, business_id)?;
    Ok(world
        .finance_grants
        .values()
        .filter(|g| g.business_id == business_id)
        .map(|g| NodeRef::FinancePermission(g.id))
        .collect())
}

/// The `user` parameter of a finance write: a numeric id, else code 100.
fn user_param(params: &Params) -> Result<u64, GraphError> {
    scalar_param(params.required("user")?)
        .parse()
        .map_err(|_| GraphError::invalid_param("Param user must be a valid user ID"))
}

/// Code 100 for a finance write naming a user who is no ACTIVE person of the business.
fn not_a_person(business_id: u64) -> GraphError {
    // [guess] Graph's wording; system users are people of the business too.
    GraphError::invalid_param(&format!(
        "Param user must be an active person or system user of business {business_id}"
    ))
}

/// `POST /{business_id}/finance_permissions`: gives `user` the role `finance_permission`,
/// replacing the one they had. Order: the caller's role (200), `user` (100),
/// `finance_permission` (100), then the user being an ACTIVE person of the business (100).
pub(crate) fn grant(
    world: &mut World,
    viewer: &Viewer,
    business_id: u64,
    params: &Params,
) -> Result<Value, GraphError> {
    require_admin(world, viewer, business_id)?;
    let user_id = user_param(params)?;
    let role = FinanceRole::parse(params.required("finance_permission")?)?;
    if role_of(world, business_id, user_id).is_none() {
        return Err(not_a_person(business_id));
    }
    set_finance_role(world, business_id, user_id, Some(role), viewer.user_id);
    // [guess] Graph answers edge writes with a bare success.
    Ok(json!({ "success": true }))
}

/// `DELETE /{business_id}/finance_permissions` with `user`: takes the person's finance role
/// away. Order as [`grant`]'s: the caller's role (200), `user` (100), the user being an
/// ACTIVE person of the business (100), then their holding a finance role there (100).
pub(crate) fn revoke(
    world: &mut World,
    viewer: &Viewer,
    business_id: u64,
    params: &Params,
) -> Result<Value, GraphError> {
    require_admin(world, viewer, business_id)?;
    let user_id = user_param(params)?;
    if role_of(world, business_id, user_id).is_none() {
        return Err(not_a_person(business_id));
    }
    let before = world.finance_grants.len();
    world
        .finance_grants
        .retain(|_, g| !(g.business_id == business_id && g.user_id == user_id));
    if world.finance_grants.len() == before {
        // [guess] Graph's wording.
        return Err(GraphError::invalid_param(&format!(
            "User {user_id} has no finance permission in business {business_id}"
        )));
    }
    Ok(json!({ "success": true }))
}

/// Forgets a person's finance role in a business, when they leave it.
pub(crate) fn forget(world: &mut World, business_id: u64, user_id: u64) {
    world
        .finance_grants
        .retain(|_, g| !(g.business_id == business_id && g.user_id == user_id));
}

/// Gives a user the finance role `role` in a business (replacing the one they had), or takes
/// it away (`None`): the one store behind `finance_permissions` and a business user's finance
/// tasks (docs/graph-api.md §8.7). The caller checked the rules.
pub(crate) fn set_finance_role(
    world: &mut World,
    business_id: u64,
    user_id: u64,
    role: Option<FinanceRole>,
    by: u64,
) {
    let existing = world
        .finance_grants
        .values()
        .find(|g| g.business_id == business_id && g.user_id == user_id)
        .map(|g| g.id);
    let Some(role) = role else {
        forget(world, business_id, user_id);
        return;
    };
    let id = match existing {
        Some(id) => id,
        None => world.next_finance_grant_id(),
    };
    let now = world.now();
    world.finance_grants.insert(
        id,
        FinanceGrant {
            id,
            business_id,
            user_id,
            role,
            granted_by: Some(by),
            updated_time: now,
        },
    );
}
