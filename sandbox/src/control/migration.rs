//! The control plane's endpoints about managed Meta account migration (docs/graph-api.md §9,
//! §10, docs/sandbox-contract.md): the app's test managed account, starting a migration,
//! extending it, granting the app again with the managed account, and the webhook callback
//! with its deliveries.

use axum::body::Bytes;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ControlError, Id, parse, user_id};
use crate::Sandbox;
use crate::migration::{self, Extension, Outcome, Refusal};
use crate::nodes::business::Business;
use crate::nodes::exists;
use crate::nodes::managed_account::{self, Issued};
use crate::seed::demo_permissions;
use crate::webhook_sender::{self, WebhookConfig};
use crate::world::World;

impl From<Refusal> for ControlError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Invalid(message) => ControlError::Invalid(message),
            Refusal::Conflict(message) => ControlError::Conflict(message),
        }
    }
}

/// The id of a business that exists.
fn business_id(world: &World, id: &Id) -> Result<u64, ControlError> {
    id.number()
        .filter(|n| exists::<Business>(world, *n))
        .ok_or_else(|| ControlError::UnknownBusiness(id.text()))
}

fn issued_json(issued: &Issued) -> Value {
    json!({
        "user_id": issued.user_id.to_string(),
        "access_token": issued.token,
        "permissions": issued.permissions,
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewManagedAccount {
    /// The Facebook user the account is for.
    user_id: Id,
    name: Option<String>,
    permissions: Option<Vec<String>>,
}

/// `POST /__sandbox/managed_accounts`: the app's one test managed account, for a Facebook user.
pub(super) async fn create_managed_account(
    State(sandbox): State<Sandbox>,
    body: Bytes,
) -> Result<axum::Json<Value>, ControlError> {
    let request: NewManagedAccount = parse(&body)?;
    let permissions = request.permissions.unwrap_or_else(demo_permissions);
    let answer = sandbox.with_world(|world| -> Result<Value, ControlError> {
        let facebook_user = user_id(world, &request.user_id)?;
        let issued =
            managed_account::create(world, facebook_user, request.name.as_deref(), &permissions)?;
        let mut answer = issued_json(&issued);
        answer["facebook_user_id"] = json!(facebook_user.to_string());
        Ok(answer)
    })?;
    Ok(axum::Json(answer))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StartMigration {
    /// The Facebook user.
    user_id: Id,
    business_id: Id,
}

/// The answer of a start or an extension, once its webhook (if any) is on its way.
fn outcome_json(sandbox: &Sandbox, outcome: Outcome) -> Value {
    let mut answer = migration::to_json(&outcome.migration);
    answer["webhook_delivery_id"] = match outcome.job {
        Some(job) => {
            let id = json!(job.delivery_id.to_string());
            webhook_sender::spawn(sandbox.clone(), job);
            id
        }
        None => Value::Null,
    };
    answer
}

/// `POST /__sandbox/migrations`: moves a Facebook user's permissions in a business to their
/// managed account and starts the 30-day window; sends the webhook.
pub(super) async fn start(
    State(sandbox): State<Sandbox>,
    body: Bytes,
) -> Result<axum::Json<Value>, ControlError> {
    let request: StartMigration = parse(&body)?;
    let outcome = sandbox.with_world(|world| -> Result<Outcome, ControlError> {
        let user = user_id(world, &request.user_id)?;
        let business = business_id(world, &request.business_id)?;
        Ok(migration::start(world, user, business)?)
    })?;
    Ok(axum::Json(outcome_json(&sandbox, outcome)))
}

/// `GET /__sandbox/migrations`: the managed accounts and migrations.
pub(super) async fn list(State(sandbox): State<Sandbox>) -> axum::Json<Value> {
    let answer = sandbox.with_world(|world| {
        let accounts: Vec<Value> = world
            .migration
            .managed_accounts
            .values()
            .map(|a| {
                json!({
                    "user_id": a.user_id.to_string(),
                    "facebook_user_id": a.facebook_user_id.to_string(),
                    "created_time": webhook_sender::rfc3339(a.created_time),
                })
            })
            .collect();
        let migrations: Vec<Value> = world
            .migration
            .migrations
            .values()
            .map(migration::to_json)
            .collect();
        json!({ "managed_accounts": accounts, "migrations": migrations })
    });
    axum::Json(answer)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Extend {
    user_id: Id,
    business_id: Id,
    days: Option<u32>,
    expire_time: Option<String>,
}

/// `POST /__sandbox/migrations/extend`: moves the expiry later; sends the webhook.
pub(super) async fn extend(
    State(sandbox): State<Sandbox>,
    body: Bytes,
) -> Result<axum::Json<Value>, ControlError> {
    let request: Extend = parse(&body)?;
    let extension = match (request.days, &request.expire_time) {
        (Some(days), None) => Extension::Days(days),
        (None, Some(text)) => Extension::Until(
            DateTime::parse_from_rfc3339(text.trim())
                .map_err(|e| {
                    ControlError::Invalid(format!("expire_time is not an RFC 3339 time: {e}"))
                })?
                .with_timezone(&Utc),
        ),
        _ => {
            return Err(ControlError::Invalid(
                "give exactly one of days and expire_time".to_owned(),
            ));
        }
    };
    let outcome = sandbox.with_world(|world| -> Result<Outcome, ControlError> {
        let user = user_id(world, &request.user_id)?;
        let business = business_id(world, &request.business_id)?;
        Ok(migration::extend(world, user, business, extension)?)
    })?;
    Ok(axum::Json(outcome_json(&sandbox, outcome)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Grant {
    /// The managed account.
    user_id: Id,
    permissions: Option<Vec<String>>,
}

/// `POST /__sandbox/migrations/grant`: the person grants the app again with the managed
/// account; answers its new token.
pub(super) async fn grant(
    State(sandbox): State<Sandbox>,
    body: Bytes,
) -> Result<axum::Json<Value>, ControlError> {
    let request: Grant = parse(&body)?;
    let permissions = request.permissions.unwrap_or_else(demo_permissions);
    let answer = sandbox.with_world(|world| -> Result<Value, ControlError> {
        let managed = user_id(world, &request.user_id)?;
        let issued = managed_account::grant_again(world, managed, &permissions)?;
        Ok(issued_json(&issued))
    })?;
    Ok(axum::Json(answer))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Subscribe {
    callback_url: String,
    verify_token: String,
    app_secret: Option<String>,
    retry_base_ms: Option<u64>,
}

/// `POST /__sandbox/webhooks`: sets the callback after Meta's GET handshake succeeds with it.
/// Deliveries are signed with `app_secret`, else the sandbox's `--app-secret`.
pub(super) async fn subscribe(
    State(sandbox): State<Sandbox>,
    body: Bytes,
) -> Result<axum::Json<Value>, ControlError> {
    let request: Subscribe = parse(&body)?;
    let url = reqwest::Url::parse(request.callback_url.trim())
        .map_err(|e| ControlError::Invalid(format!("callback_url is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ControlError::Invalid(
            "callback_url must be an http or https URL".to_owned(),
        ));
    }
    if request.verify_token.is_empty() {
        return Err(ControlError::Invalid("verify_token is empty".to_owned()));
    }
    let app_secret = request
        .app_secret
        .filter(|s| !s.is_empty())
        .or_else(|| sandbox.settings().app_secret.clone())
        .ok_or_else(|| {
            ControlError::Invalid(
                "no app secret to sign deliveries with: give app_secret, or start the sandbox \
                 with --app-secret"
                    .to_owned(),
            )
        })?;
    let retry_base_ms = request
        .retry_base_ms
        .unwrap_or(webhook_sender::DEFAULT_RETRY_BASE_MS);
    if retry_base_ms > webhook_sender::MAX_RETRY_BASE_MS {
        return Err(ControlError::Invalid(format!(
            "retry_base_ms must be at most {}",
            webhook_sender::MAX_RETRY_BASE_MS
        )));
    }
    // Awaited with no lock held.
    webhook_sender::handshake(url.as_str(), &request.verify_token)
        .await
        .map_err(ControlError::Invalid)?;
    let config = WebhookConfig {
        callback_url: url.to_string(),
        verify_token: request.verify_token,
        app_secret,
        retry_base_ms,
    };
    let answer = config_json(Some(&config));
    sandbox.with_world(|world| world.migration.webhook = Some(config));
    Ok(axum::Json(answer))
}

fn config_json(config: Option<&WebhookConfig>) -> Value {
    json!({
        "callback_url": config.map(|c| c.callback_url.clone()),
        "verify_token": config.map(|c| c.verify_token.clone()),
        "retry_base_ms": config.map(|c| c.retry_base_ms),
        "max_attempts": webhook_sender::MAX_ATTEMPTS,
    })
}

/// `GET /__sandbox/webhooks`: the callback (never its secret) and every delivery.
pub(super) async fn webhooks(State(sandbox): State<Sandbox>) -> axum::Json<Value> {
    let answer = sandbox.with_world(|world| {
        let mut answer = config_json(world.migration.webhook.as_ref());
        answer["deliveries"] = world
            .migration
            .deliveries
            .iter()
            .map(webhook_sender::delivery_json)
            .collect();
        answer
    });
    axum::Json(answer)
}
