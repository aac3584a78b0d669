//! Meta's webhook routes: `GET /webhooks/meta` answers the subscription handshake, `POST`
//! takes deliveries. The checks themselves are `crate::webhooks` (no HTTP in them): the
//! signature over the raw body, the parsing; then `MigrationNews` drops retried changes (with
//! Redis, those any replica took) and tells subscribers. Meta wants a 200 fast, so nothing here
//! calls Graph; with Redis one round trip to it decides which changes are new.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use crate::config::Secret;
use crate::events::WhenUnshared;
use crate::webhooks::{self, SignatureError};

/// The largest delivery taken: Meta batches at most 1000 changes of a few hundred bytes.
pub(super) const MAX_DELIVERY_BYTES: usize = 1024 * 1024;

fn refusal(state: &AppState, outcome: &str, status: StatusCode, message: &str) -> Response {
    state.metrics.webhook_delivery(outcome);
    state_log(status, message);
    (status, axum::Json(json!({"error": message}))).into_response()
}

fn state_log(status: StatusCode, message: &str) {
    if let Some(suppressed) = crate::log_window::log_window().should_log("webhook_refused") {
        tracing::warn!(
            status = status.as_u16(),
            reason = message,
            suppressed,
            "webhook refused"
        );
    }
}

/// `GET /webhooks/meta?hub.mode=subscribe&hub.verify_token=..&hub.challenge=..`: the
/// challenge, as plain text, when the verify token matches; 403 otherwise.
pub(super) async fn handshake(
    State(state): State<Arc<AppState>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let Some(verify_token) = state.webhooks.verify_token.as_ref().map(Secret::expose) else {
        return refusal(
            &state,
            "not_configured",
            StatusCode::FORBIDDEN,
            "webhooks are not set up on this gateway: start it with --webhook-verify-token",
        );
    };
    let param = |name: &str| params.get(name).map(String::as_str);
    match webhooks::handshake(
        verify_token,
        param("hub.mode"),
        param("hub.verify_token"),
        param("hub.challenge"),
    ) {
        Ok(challenge) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            challenge.to_owned(),
        )
            .into_response(),
        Err(error) => {
            // A failed handshake is not a delivery: logged, not counted.
            state_log(StatusCode::FORBIDDEN, &error.to_string());
            (
                StatusCode::FORBIDDEN,
                axum::Json(json!({"error": error.to_string()})),
            )
                .into_response()
        }
    }
}

/// `POST /webhooks/meta`: a delivery, verified over its raw bytes with the app secret, then
/// parsed; its new migration events go to subscribers. 401 without a signature, 403 with a
/// wrong one, 400 for a body that is not a delivery; nothing is processed then.
pub(super) async fn deliver(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(secret) = state.webhooks.app_secret.as_ref().map(Secret::expose) else {
        return refusal(
            &state,
            "not_configured",
            StatusCode::FORBIDDEN,
            "deliveries cannot be verified: start the gateway with --app-secret",
        );
    };
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    if let Err(error) = webhooks::verify_signature(secret.as_bytes(), &body, signature) {
        let (outcome, status) = match error {
            SignatureError::Missing => ("unsigned", StatusCode::UNAUTHORIZED),
            SignatureError::Malformed | SignatureError::Mismatch => {
                ("bad_signature", StatusCode::FORBIDDEN)
            }
        };
        return refusal(&state, outcome, status, &error.to_string());
    }
    match webhooks::parse(&body) {
        Ok(parsed) => {
            let received = parsed.events.len();
            // A migration changes what the moving person's token may read: answers that
            // mention them (their `me`, say) are forgotten, whoever cached them, before
            // subscribers hear of it, so whoever reacts reads the new state.
            let mentioned: Vec<&str> = parsed
                .events
                .iter()
                .flat_map(|e| [e.user_id.as_str(), e.entry_id.as_str()])
                .collect();
            if !mentioned.is_empty() {
                state.client.forget_mentions(&mentioned).await;
            }
            let when_unshared = if state.redis_required {
                WhenUnshared::Refuse
            } else {
                WhenUnshared::CheckHere
            };
            let accepted = match state.news.accept(parsed.events, when_unshared).await {
                Ok(accepted) => accepted,
                // Meta delivers it again later; nothing of it was taken.
                Err(error) => {
                    return refusal(
                        &state,
                        "redis_unavailable",
                        StatusCode::SERVICE_UNAVAILABLE,
                        &error.to_string(),
                    );
                }
            };
            state.metrics.webhook_delivery("accepted");
            state
                .metrics
                .webhook_changes(accepted.new, accepted.duplicate, parsed.ignored);
            state
                .metrics
                .webhook_changes_checked_here_only(accepted.checked_here_only);
            tracing::info!(
                received,
                new = accepted.new,
                ignored = parsed.ignored,
                checked_here_only = accepted.checked_here_only,
                "webhook delivery"
            );
            (
                StatusCode::OK,
                axum::Json(json!({
                    "received": received,
                    "new": accepted.new,
                    "ignored": parsed.ignored
                })),
            )
                .into_response()
        }
        Err(error) => refusal(
            &state,
            "not_a_delivery",
            StatusCode::BAD_REQUEST,
            &error.to_string(),
        ),
    }
}
