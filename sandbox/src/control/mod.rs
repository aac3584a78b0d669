//! The sandbox's own control plane under `/__sandbox/` (not Graph; docs/graph-api.md §11):
//! its routes, the JSON errors it answers, and what its endpoints share. JSON in and out;
//! never counted in stats. The endpoints live by subject: `world` (reset, stats, test users,
//! businesses and pages, the clock, faults), `people` (invitations, suspensions, personas'
//! emails), `migration` (managed accounts, migrations, the webhook callback) and `funding`
//! (a credit line's balance).
//!
//! Architecture Invariant: the control plane changes nodes only through the functions their
//! modules in `nodes/` offer, never by building their stored structs.

use axum::Router;
use axum::body::Bytes;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::Sandbox;
use crate::nodes::exists;
use crate::nodes::user::User;
use crate::world::World;

mod funding;
mod migration;
mod people;
mod world;

/// Why a control-plane request was refused; answered as HTTP 400 (409 for a conflict)
/// `{"error":"..."}`.
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
    /// The request breaks a rule about what already exists (HTTP 409).
    #[error("{0}")]
    Conflict(String),
    /// Nothing is there (HTTP 404).
    #[error("{0}")]
    NotFound(String),
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        let status = match self {
            ControlError::Conflict(_) => StatusCode::CONFLICT,
            ControlError::NotFound(_) => StatusCode::NOT_FOUND,
            _ => StatusCode::BAD_REQUEST,
        };
        (status, axum::Json(json!({ "error": self.to_string() }))).into_response()
    }
}

/// The control-plane routes.
pub(crate) fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/__sandbox/health", get(health).fallback(wrong_method))
        .route(
            "/__sandbox/reset",
            post(world::reset).fallback(wrong_method),
        )
        .route("/__sandbox/stats", get(world::stats).fallback(wrong_method))
        .route(
            "/__sandbox/users",
            post(world::create_user).fallback(wrong_method),
        )
        .route(
            "/__sandbox/businesses",
            post(world::create_business).fallback(wrong_method),
        )
        .route(
            "/__sandbox/pages",
            post(world::create_page).fallback(wrong_method),
        )
        .route(
            "/__sandbox/clock",
            post(world::advance_clock).fallback(wrong_method),
        )
        .route(
            "/__sandbox/faults",
            post(world::arm_fault).fallback(wrong_method),
        )
        .route(
            "/__sandbox/invitations/accept",
            post(people::accept).fallback(wrong_method),
        )
        .route(
            "/__sandbox/invitations/{id}",
            get(people::invitation).fallback(wrong_method),
        )
        .route(
            "/__sandbox/people/suspend",
            post(people::suspend).fallback(wrong_method),
        )
        .route(
            "/__sandbox/personas/verify_email",
            post(people::verify_email).fallback(wrong_method),
        )
        .route(
            "/__sandbox/invitation_limit",
            post(people::invitation_limit).fallback(wrong_method),
        )
        .route(
            "/__sandbox/projects/read_only",
            post(world::projects_read_only).fallback(wrong_method),
        )
        .route(
            "/__sandbox/managed_accounts",
            post(migration::create_managed_account).fallback(wrong_method),
        )
        .route(
            "/__sandbox/migrations",
            get(migration::list)
                .post(migration::start)
                .fallback(wrong_method),
        )
        .route(
            "/__sandbox/migrations/extend",
            post(migration::extend).fallback(wrong_method),
        )
        .route(
            "/__sandbox/migrations/grant",
            post(migration::grant).fallback(wrong_method),
        )
        .route(
            "/__sandbox/webhooks",
            get(migration::webhooks)
                .post(migration::subscribe)
                .fallback(wrong_method),
        )
        .route(
            "/__sandbox/extended_credits/balance",
            post(funding::set_balance).fallback(wrong_method),
        )
        .route("/__sandbox/{*rest}", any(unknown_endpoint))
}

/// The JSON body of a control-plane request.
fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, ControlError> {
    serde_json::from_slice(body).map_err(|e| ControlError::BadJson(e.to_string()))
}

/// An id given as a JSON string or number.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Id {
    Text(String),
    Number(u64),
}

impl Id {
    /// The id as text, for error messages.
    fn text(&self) -> String {
        match self {
            Id::Text(text) => text.clone(),
            Id::Number(number) => number.to_string(),
        }
    }

    /// The numeric id, if it is one.
    fn number(&self) -> Option<u64> {
        match self {
            Id::Text(text) => text.trim().parse().ok(),
            Id::Number(number) => Some(*number),
        }
    }
}

/// The id of a user that exists.
fn user_id(world: &World, id: &Id) -> Result<u64, ControlError> {
    id.number()
        .filter(|n| exists::<User>(world, *n))
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
