//! The control plane's endpoints about the world as a whole (docs/sandbox-contract.md):
//! reset, stats and journal, test users, businesses and pages added without Graph's
//! validation, the sandbox clock, fault injection, and whether projects are read-only as on
//! today's Graph.

use axum::body::Bytes;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ControlError, Id, parse, user_id};
use crate::Sandbox;
use crate::nodes::business::{self, Business, Role};
use crate::nodes::exists;
use crate::nodes::page::{self, Page};
use crate::nodes::user;
use crate::seed::{demo_permissions, seeded_world};
use crate::wire::graph_time;
use crate::world::{Fault, LAST_CLOCK_YEAR};

/// `POST /__sandbox/reset`: the seeded world again, stats zeroed, the clock back at its start.
pub(super) async fn reset(State(sandbox): State<Sandbox>) -> axum::Json<Value> {
    sandbox.with_world(|world| *world = seeded_world(world.clock_start()));
    axum::Json(json!({ "ok": true }))
}

/// `GET /__sandbox/stats`: the Graph request count and the journal.
pub(super) async fn stats(State(sandbox): State<Sandbox>) -> axum::Json<Value> {
    let stats = sandbox.with_world(|world| world.stats.clone());
    axum::Json(json!({ "requests": stats.requests, "journal": stats.journal }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    name: String,
    #[serde(default)]
    is_work_account: bool,
    permissions: Option<Vec<String>>,
}

/// `POST /__sandbox/users`: a user and a token for it.
pub(super) async fn create_user(
    State(sandbox): State<Sandbox>,
    body: Bytes,
) -> Result<axum::Json<Value>, ControlError> {
    let new: NewUser = parse(&body)?;
    let answer = sandbox.with_world(|world| {
        let id = world.next_id();
        let token = format!("sandbox-token-{id}");
        let permissions = new.permissions.unwrap_or_else(demo_permissions);
        user::add(
            world,
            id,
            &new.name,
            new.is_work_account,
            Some(&token),
            &permissions,
        );
        json!({ "id": id.to_string(), "name": new.name, "access_token": token })
    });
    Ok(axum::Json(answer))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewBusiness {
    name: String,
    vertical: Option<String>,
    admins: Vec<Id>,
    #[serde(default)]
    employees: Vec<Id>,
    primary_page: Option<Id>,
    timezone_id: Option<u32>,
    email: Option<String>,
}

/// `POST /__sandbox/businesses`: a business added without Graph's validation.
pub(super) async fn create_business(
    State(sandbox): State<Sandbox>,
    body: Bytes,
) -> Result<axum::Json<Value>, ControlError> {
    let new: NewBusiness = parse(&body)?;
    let vertical = new.vertical.unwrap_or_else(|| "OTHER".to_owned());
    if !business::is_vertical(&vertical) {
        return Err(ControlError::Invalid(format!(
            "unknown vertical {vertical}"
        )));
    }
    let id = sandbox.with_world(|world| -> Result<u64, ControlError> {
        let mut members = Vec::new();
        for (ids, role) in [(&new.admins, Role::Admin), (&new.employees, Role::Employee)] {
            for id in ids {
                let user_id = user_id(world, id)?;
                if !members
                    .iter()
                    .any(|(member, _): &(u64, Role)| *member == user_id)
                {
                    members.push((user_id, role));
                }
            }
        }
        let primary_page = match &new.primary_page {
            Some(page) => Some(
                page.number()
                    .filter(|n| exists::<Page>(world, *n))
                    .ok_or_else(|| ControlError::UnknownPage(page.text()))?,
            ),
            None => None,
        };
        let setup = business::Setup {
            name: new.name.clone(),
            vertical: vertical.clone(),
            timezone_id: new.timezone_id.unwrap_or(0),
            primary_page,
            email: new.email.clone(),
            creator: new.admins.first().and_then(Id::number),
            members,
        };
        Ok(business::add_unvalidated(world, setup))
    })?;
    Ok(axum::Json(json!({ "id": id.to_string() })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPage {
    name: String,
    category: Option<String>,
    admins: Vec<Id>,
    owner_business: Option<Id>,
}

/// `POST /__sandbox/pages`: a page with its admins and, optionally, its owner.
pub(super) async fn create_page(
    State(sandbox): State<Sandbox>,
    body: Bytes,
) -> Result<axum::Json<Value>, ControlError> {
    let new: NewPage = parse(&body)?;
    let id = sandbox.with_world(|world| -> Result<u64, ControlError> {
        let admins = new
            .admins
            .iter()
            .map(|id| user_id(world, id))
            .collect::<Result<Vec<_>, _>>()?;
        let owner_business = match &new.owner_business {
            Some(business) => Some(
                business
                    .number()
                    .filter(|n| exists::<Business>(world, *n))
                    .ok_or_else(|| ControlError::UnknownBusiness(business.text()))?,
            ),
            None => None,
        };
        // [guess] A plausible default category for test pages.
        let category = new
            .category
            .clone()
            .unwrap_or_else(|| "Community".to_owned());
        Ok(page::add(
            world,
            new.name.clone(),
            category,
            admins,
            owner_business,
        ))
    })?;
    Ok(axum::Json(json!({ "id": id.to_string() })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockAdvance {
    advance_seconds: u32,
}

/// `POST /__sandbox/clock`: moves the sandbox clock forward.
pub(super) async fn advance_clock(
    State(sandbox): State<Sandbox>,
    body: Bytes,
) -> Result<axum::Json<Value>, ControlError> {
    let advance: ClockAdvance = parse(&body)?;
    let now = sandbox
        .with_world(|world| world.advance_clock(i64::from(advance.advance_seconds)))
        .ok_or_else(|| {
            ControlError::Invalid(format!(
                "the clock cannot move past the year {LAST_CLOCK_YEAR}"
            ))
        })?;
    Ok(axum::Json(json!({ "now": graph_time(now) })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultRequest {
    error_code: Option<u32>,
    error_subcode: Option<u32>,
    #[serde(default = "one")]
    times: u32,
    #[serde(default)]
    latency_ms: u64,
}

fn one() -> u32 {
    1
}

/// `POST /__sandbox/faults`: the next Graph requests fail with a code, or wait first.
pub(super) async fn arm_fault(
    State(sandbox): State<Sandbox>,
    body: Bytes,
) -> Result<axum::Json<Value>, ControlError> {
    let request: FaultRequest = parse(&body)?;
    if request.error_code.is_none() && request.error_subcode.is_some() {
        return Err(ControlError::Invalid(
            "error_subcode needs an error_code".to_owned(),
        ));
    }
    sandbox.with_world(|world| {
        // Zero times disarms any pending fault.
        world.fault = (request.times > 0).then_some(Fault {
            error_code: request.error_code,
            error_subcode: request.error_subcode,
            remaining: request.times,
            latency_ms: request.latency_ms,
        });
    });
    Ok(axum::Json(json!({ "ok": true })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectsReadOnly {
    read_only: bool,
}

/// `POST /__sandbox/projects/read_only`: whether project writes are refused as today's Graph
/// refuses them (docs/graph-api.md §8.4). A world setting, as the invitation limit, so that a
/// reset puts the seed's writable projects back.
pub(super) async fn projects_read_only(
    State(sandbox): State<Sandbox>,
    body: Bytes,
) -> Result<axum::Json<Value>, ControlError> {
    let request: ProjectsReadOnly = parse(&body)?;
    sandbox.with_world(|world| world.projects_read_only = request.read_only);
    Ok(axum::Json(json!({ "ok": true })))
}
