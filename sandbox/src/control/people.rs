//! The control plane's endpoints about people (docs/sandbox-contract.md): what happens outside
//! Graph in Business Manager, namely a person accepting an invitation, an admin suspending
//! someone in the Business Manager interface, and an owner verifying their persona's new email;
//! plus the invitation limit of the sandbox.

use axum::body::Bytes;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ControlError, Id, parse, user_id};
use crate::Sandbox;
use crate::nodes::business::Business;
use crate::nodes::exists;
use crate::nodes::persona::{self, Persona};
use crate::nodes::role_request;
use crate::nodes::user;
use crate::nodes::user_permission::{self, Acceptance, InvitedUserType};
use crate::seed::demo_permissions;
use crate::world::World;

/// The id of a business that exists.
fn business_id(world: &World, id: &Id) -> Result<u64, ControlError> {
    id.number()
        .filter(|n| exists::<Business>(world, *n))
        .ok_or_else(|| ControlError::UnknownBusiness(id.text()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Accept {
    business_id: Id,
    email: String,
    /// An existing user accepting; without it a new user is created, with a token.
    user_id: Option<Id>,
    /// The new user's name; defaults to the persona's.
    user_name: Option<String>,
    first_name: String,
    last_name: String,
}

/// `POST /__sandbox/invitations/accept`: the invited person accepts, as an existing user or
/// a new one, and gets a persona with the name they chose.
pub(super) async fn accept(
    State(sandbox): State<Sandbox>,
    body: Bytes,
) -> Result<axum::Json<Value>, ControlError> {
    let request: Accept = parse(&body)?;
    if request.first_name.trim().is_empty() {
        return Err(ControlError::Invalid("first_name is empty".to_owned()));
    }
    let answer = sandbox.with_world(|world| -> Result<Value, ControlError> {
        let business_id = business_id(world, &request.business_id)?;
        let existing = request
            .user_id
            .as_ref()
            .map(|id| user_id(world, id))
            .transpose()?;
        let email = request.email.trim().to_lowercase();
        // Checked before a new user is made, so that a refused acceptance leaves none behind.
        let Some(row) = user_permission::pending_invitation(world, business_id, &email) else {
            return Err(ControlError::Invalid(format!(
                "no pending invitation for {email} in business {business_id}"
            )));
        };
        // An invitation for a managed Meta account is accepted by a work account
        // (docs/graph-api.md §8.7).
        let for_work_account =
            role_request::invited_user_type_of(world, row) == Some(InvitedUserType::Mwa);
        if let Some(id) = existing
            && for_work_account
            && !world.users.get(&id).is_some_and(|u| u.is_work_account)
        {
            return Err(ControlError::Invalid(format!(
                "the invitation of {email} is for a managed Meta account; user {id} is not a work account"
            )));
        }
        let (user_id, token) = match existing {
            Some(id) => (id, None),
            None => {
                let id = world.next_id();
                let token = format!("sandbox-token-{id}");
                let name = request.user_name.clone().unwrap_or_else(|| {
                    format!("{} {}", request.first_name.trim(), request.last_name.trim())
                });
                user::add(
                    world,
                    id,
                    name.trim(),
                    for_work_account,
                    Some(&token),
                    &demo_permissions(),
                );
                (id, Some(token))
            }
        };
        let acceptance = Acceptance {
            business_id,
            email,
            user_id,
            first_name: request.first_name.trim().to_owned(),
            last_name: request.last_name.trim().to_owned(),
        };
        // Only an existing user can be refused from here on (already in the business).
        let persona_id =
            user_permission::accept_invitation(world, acceptance).map_err(ControlError::Invalid)?;
        let mut answer = json!({
            "user_id": user_id.to_string(),
            "persona_id": persona_id.to_string(),
        });
        if let Some(token) = token {
            answer["access_token"] = json!(token);
        }
        Ok(answer)
    })?;
    Ok(axum::Json(answer))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Suspend {
    business_id: Id,
    user_id: Id,
}

/// `POST /__sandbox/people/suspend`: an ACTIVE member becomes SUSPENDED.
pub(super) async fn suspend(
    State(sandbox): State<Sandbox>,
    body: Bytes,
) -> Result<axum::Json<Value>, ControlError> {
    let request: Suspend = parse(&body)?;
    sandbox.with_world(|world| -> Result<(), ControlError> {
        let business_id = business_id(world, &request.business_id)?;
        let user_id = user_id(world, &request.user_id)?;
        user_permission::suspend(world, business_id, user_id).map_err(ControlError::Invalid)
    })?;
    Ok(axum::Json(json!({ "ok": true })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Verify {
    persona_id: Id,
}

/// `POST /__sandbox/personas/verify_email`: the pending email of a persona becomes its email.
pub(super) async fn verify_email(
    State(sandbox): State<Sandbox>,
    body: Bytes,
) -> Result<axum::Json<Value>, ControlError> {
    let request: Verify = parse(&body)?;
    sandbox.with_world(|world| -> Result<(), ControlError> {
        let persona_id = request
            .persona_id
            .number()
            .filter(|n| exists::<Persona>(world, *n))
            .ok_or_else(|| {
                ControlError::Invalid(format!("unknown persona {}", request.persona_id.text()))
            })?;
        if persona::verify_pending_email(world, persona_id) {
            Ok(())
        } else {
            Err(ControlError::Invalid(format!(
                "persona {persona_id} has no pending email"
            )))
        }
    })?;
    Ok(axum::Json(json!({ "ok": true })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InvitationLimit {
    per_day: u32,
}

/// `POST /__sandbox/invitation_limit`: invitations a business may send per rolling 24 hours.
// A world setting rather than a `SandboxSettings` field: that struct is built field by field
// by its users, so a new public field would break them.
pub(super) async fn invitation_limit(
    State(sandbox): State<Sandbox>,
    body: Bytes,
) -> Result<axum::Json<Value>, ControlError> {
    let request: InvitationLimit = parse(&body)?;
    sandbox.with_world(|world| world.invitations_per_day = request.per_day);
    Ok(axum::Json(json!({ "ok": true })))
}

/// `GET /__sandbox/invitations/{id}`: the page an invitation's `invite_link` points at, what an
/// open invitation offers. HTTP 404 once it is accepted or cancelled.
pub(super) async fn invitation(
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ControlError> {
    let answer = sandbox.with_world(|world| {
        id.trim()
            .parse()
            .ok()
            .and_then(|id| role_request::describe(world, id))
    });
    answer
        .map(axum::Json)
        .ok_or(ControlError::NotFound(format!("no open invitation {id}")))
}
