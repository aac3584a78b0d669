//! The sandbox's own control plane under `/__sandbox/` (not Graph): reset, stats and journal,
//! test users, businesses and pages, the clock, and fault injection. JSON in and out; never
//! counted in stats.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::Sandbox;
use crate::business::VERTICALS;
use crate::render::graph_time;
use crate::seed::{demo_permissions, seeded_world};
use crate::store::{Business, Fault, LAST_CLOCK_YEAR, Membership, Page, Role, User, World};

/// Why a control-plane request was refused; answered as HTTP 400 `{"error":"..."}`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ControlError {
    /// The body is not the JSON this endpoint takes.
    #[error("invalid JSON body: {0}")]
    BadJson(String),
    /// An id names no user.
    #[error("unknown user {0}")]
    UnknownUser(String),
    /// An id names no page.
    #[error("unknown page {0}")]
    UnknownPage(String),
    /// An id names no business.
    #[error("unknown business {0}")]
    UnknownBusiness(String),
    /// A value is out of range.
    #[error("{0}")]
    Invalid(String),
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({ "error": self.to_string() })),
        )
            .into_response()
    }
}

/// The control-plane routes.
pub(crate) fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/__sandbox/health", get(health).fallback(wrong_method))
        .route("/__sandbox/reset", post(reset).fallback(wrong_method))
        .route("/__sandbox/stats", get(stats).fallback(wrong_method))
        .route("/__sandbox/users", post(create_user).fallback(wrong_method))
        .route(
            "/__sandbox/businesses",
            post(create_business).fallback(wrong_method),
        )
        .route("/__sandbox/pages", post(create_page).fallback(wrong_method))
        .route(
            "/__sandbox/clock",
            post(advance_clock).fallback(wrong_method),
        )
        .route("/__sandbox/faults", post(arm_fault).fallback(wrong_method))
        .route("/__sandbox/{*rest}", any(unknown_endpoint))
}

fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, ControlError> {
    serde_json::from_slice(body).map_err(|e| ControlError::BadJson(e.to_string()))
}

/// An id given as a JSON string or number.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Id {
    Text(String),
    Number(u64),
}

impl Id {
    fn text(&self) -> String {
        match self {
            Id::Text(text) => text.clone(),
            Id::Number(number) => number.to_string(),
        }
    }

    fn number(&self) -> Option<u64> {
        match self {
            Id::Text(text) => text.trim().parse().ok(),
            Id::Number(number) => Some(*number),
        }
    }
}

fn user_id(world: &World, id: &Id) -> Result<u64, ControlError> {
    id.number()
        .filter(|n| world.users.contains_key(n))
        .ok_or_else(|| ControlError::UnknownUser(id.text()))
}

async fn health() -> axum::Json<Value> {
    axum::Json(json!({ "ok": true }))
}

async fn unknown_endpoint() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({ "error": "no such control-plane endpoint" })),
    )
        .into_response()
}

/// A known endpoint asked with a method it does not take: JSON like every other answer.
async fn wrong_method(method: Method) -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        axum::Json(json!({ "error": format!("this endpoint does not take {method}") })),
    )
        .into_response()
}

async fn reset(State(sandbox): State<Sandbox>) -> axum::Json<Value> {
    sandbox.with_world(|world| *world = seeded_world(world.clock_start()));
    axum::Json(json!({ "ok": true }))
}

async fn stats(State(sandbox): State<Sandbox>) -> axum::Json<Value> {
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

async fn create_user(
    State(sandbox): State<Sandbox>,
    body: Bytes,
) -> Result<axum::Json<Value>, ControlError> {
    let new: NewUser = parse(&body)?;
    let answer = sandbox.with_world(|world| {
        let id = world.next_id();
        let token = format!("sandbox-token-{id}");
        let mut permissions = new.permissions.unwrap_or_else(demo_permissions);
        // Managed (work) accounts ignore `user_*` permissions in login (UPSTREAM §8.6).
        if new.is_work_account {
            permissions.retain(|p| !p.starts_with("user_"));
        }
        world.add_user(
            User {
                id,
                name: new.name.clone(),
                is_work_account: new.is_work_account,
            },
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

async fn create_business(
    State(sandbox): State<Sandbox>,
    body: Bytes,
) -> Result<axum::Json<Value>, ControlError> {
    let new: NewBusiness = parse(&body)?;
    let vertical = new.vertical.unwrap_or_else(|| "OTHER".to_owned());
    if !VERTICALS.contains(&vertical.as_str()) {
        return Err(ControlError::Invalid(format!(
            "unknown vertical {vertical}"
        )));
    }
    let id = sandbox.with_world(|world| -> Result<u64, ControlError> {
        let mut members = Vec::new();
        for (ids, role) in [(&new.admins, Role::Admin), (&new.employees, Role::Employee)] {
            for id in ids {
                let user_id = user_id(world, id)?;
                if !members.iter().any(|m: &Membership| m.user_id == user_id) {
                    members.push(Membership { user_id, role });
                }
            }
        }
        let primary_page = match &new.primary_page {
            Some(page) => Some(
                page.number()
                    .filter(|n| world.pages.contains_key(n))
                    .ok_or_else(|| ControlError::UnknownPage(page.text()))?,
            ),
            None => None,
        };
        let id = world.next_id();
        let now = world.now();
        let creator = new.admins.first().and_then(Id::number);
        world.businesses.insert(
            id,
            Business {
                id,
                name: new.name.clone(),
                vertical: vertical.clone(),
                timezone_id: new.timezone_id.unwrap_or(0),
                primary_page,
                email: new.email.clone(),
                created_by: creator,
                updated_by: creator,
                created_time: now,
                updated_time: now,
                members,
            },
        );
        // As with Graph's create, an unowned primary page becomes the business's.
        if let Some(page) = primary_page.and_then(|p| world.pages.get_mut(&p))
            && page.owner_business.is_none()
        {
            page.owner_business = Some(id);
        }
        Ok(id)
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

async fn create_page(
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
                    .filter(|n| world.businesses.contains_key(n))
                    .ok_or_else(|| ControlError::UnknownBusiness(business.text()))?,
            ),
            None => None,
        };
        let id = world.next_id();
        world.pages.insert(
            id,
            Page {
                id,
                name: new.name.clone(),
                // [guess] A plausible default category for test pages.
                category: new
                    .category
                    .clone()
                    .unwrap_or_else(|| "Community".to_owned()),
                admins,
                owner_business,
            },
        );
        Ok(id)
    })?;
    Ok(axum::Json(json!({ "id": id.to_string() })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockAdvance {
    advance_seconds: u32,
}

async fn advance_clock(
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

async fn arm_fault(
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
