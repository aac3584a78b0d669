//! Subscriptions over WebSocket (graphql-transport-ws, and the legacy graphql-ws) at
//! `GET /graphql` with an upgrade: the token from `connection_init` (browsers cannot set
//! headers on a WebSocket), the HTTP guards on every operation, a cap on subscriptions per
//! connection, an idle timeout, and close frames on shutdown.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use std::str::FromStr;

use async_graphql::http::{
    ALL_WEBSOCKET_PROTOCOLS, WebSocket as GraphQLWebSocket, WebSocketProtocols, WsMessage,
};
use async_graphql::{Data, ErrorExtensionValues, Executor, Response, ServerError};
use axum::extract::FromRequestParts;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response as HttpResponse};
use futures_util::stream::BoxStream;
use futures_util::{SinkExt, StreamExt};

use super::graphql::{checked_document, token_from_authorization};
use super::response::{cap_errors, ensure_code, null_failed_fields};
use super::{AppState, MAX_BODY_BYTES};
use crate::schema::migration::SubscriptionSlots;
use crate::token::AccessToken;

/// Close code for a server going away (RFC 6455).
const GOING_AWAY: u16 = 1001;
/// Close code for a connection closed for being idle (graphql-transport-ws has no code of its
/// own for this; 4408 is its "init timeout", which is what an idle unauthenticated socket is).
const IDLE: u16 = 4408;

/// The schema behind the HTTP guards, as subscription transports run it: each operation is
/// checked as a POST would be, and every answer is shaped as HTTP answers are (every error
/// coded, failed nullable fields `null`, errors capped).
#[derive(Clone)]
pub(crate) struct GuardedSchema(pub(crate) Arc<AppState>);

impl GuardedSchema {
    fn refused(
        &self,
        request: &async_graphql::Request,
        transport: &'static str,
    ) -> Option<Response> {
        match checked_document(&self.0, request) {
            Ok(_) => None,
            Err(refused) => {
                refused.record(&self.0, transport);
                let mut error = ServerError::new(refused.message, None);
                let mut extensions = ErrorExtensionValues::default();
                extensions.set("code", refused.code.as_str());
                error.extensions = Some(extensions);
                Some(Response::from_errors(vec![error]))
            }
        }
    }
}

/// Codes every error, turns failed nullable fields into `null` and caps the errors.
pub(crate) fn shaped(mut response: Response) -> Response {
    for error in &mut response.errors {
        ensure_code(error);
    }
    null_failed_fields(&mut response.data, &response.errors);
    cap_errors(&mut response.errors);
    response
}

impl Executor for GuardedSchema {
    async fn execute(&self, request: async_graphql::Request) -> Response {
        if let Some(refused) = self.refused(&request, "websocket") {
            return refused;
        }
        shaped(self.0.schema.execute(request).await)
    }

    fn execute_stream(
        &self,
        request: async_graphql::Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        if let Some(refused) = self.refused(&request, "subscription") {
            return futures_util::stream::once(async move { refused }).boxed();
        }
        Executor::execute_stream(&self.0.schema, request, session_data)
            .map(shaped)
            .boxed()
    }
}

/// Whether a request asks to become a WebSocket.
pub(super) fn is_upgrade(parts: &Parts) -> bool {
    parts
        .headers
        .get(axum::http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Answers the upgrade and serves the socket.
pub(super) async fn upgrade(state: Arc<AppState>, mut parts: Parts) -> HttpResponse {
    let protocol = parts
        .headers
        .get(axum::http::header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|value| value.to_str().ok())
        .and_then(|offered| {
            offered
                .split(',')
                .find_map(|p| WebSocketProtocols::from_str(p.trim()).ok())
        });
    let Some(protocol) = protocol else {
        return super::response::request_error(
            super::response::MediaType::Json,
            axum::http::StatusCode::BAD_REQUEST,
            crate::error::ErrorCode::BadRequest,
            "a GraphQL WebSocket needs Sec-WebSocket-Protocol graphql-transport-ws or graphql-ws",
        );
    };
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .max_message_size(MAX_BODY_BYTES)
        .on_upgrade(move |socket| serve(state, socket, protocol))
}

/// The caller's token from `connection_init`'s payload: `{"Authorization": "Bearer <t>"}`
/// (any case of the key, as GraphiQL and Apollo send headers), or `{"token": "<t>"}`.
fn token_from_init(payload: &serde_json::Value) -> Option<AccessToken> {
    let object = payload.as_object()?;
    let header = object
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case("authorization"))
        .and_then(|(_, value)| value.as_str());
    if let Some(header) = header {
        return token_from_authorization(header);
    }
    let token = object.get("token")?.as_str()?.trim();
    (!token.is_empty()).then(|| AccessToken::new(token))
}

/// Serves one socket until the client closes it, it stays idle (no message and no running
/// subscription) for the keep-alive period, or the server shuts down.
async fn serve(state: Arc<AppState>, socket: WebSocket, protocol: WebSocketProtocols) {
    let open = state.metrics.websockets().clone();
    open.inc();
    serve_open(state, socket, protocol).await;
    open.dec();
}

async fn serve_open(state: Arc<AppState>, socket: WebSocket, protocol: WebSocketProtocols) {
    let (mut sink, stream) = socket.split();
    let last_heard = Arc::new(Mutex::new(Instant::now()));
    let heard = last_heard.clone();
    let input = stream
        .take_while(|message| futures_util::future::ready(message.is_ok()))
        .filter_map(move |message| {
            if let Ok(mut at) = heard.lock() {
                *at = Instant::now();
            }
            futures_util::future::ready(match message {
                Ok(Message::Text(text)) => Some(text.as_str().as_bytes().to_vec()),
                Ok(Message::Binary(bytes)) => Some(bytes.to_vec()),
                _ => None,
            })
        });
    let slots = SubscriptionSlots::new(state.max_subscriptions_per_connection);
    let running = slots.clone();
    let init_state = state.clone();
    let on_init = move |payload: serde_json::Value| async move {
        let token = token_from_init(&payload).ok_or_else(|| {
            async_graphql::Error::new(
                "connection_init needs the caller's token: {\"Authorization\": \"Bearer <token>\"}",
            )
        })?;
        let (context, _stats) = init_state.request_context(Some(token));
        let mut data = Data::default();
        data.insert(context);
        data.insert(slots);
        Ok(data)
    };
    let mut output = GraphQLWebSocket::new(GuardedSchema(state.clone()), input, protocol)
        .on_connection_init(on_init)
        .map(|message| match message {
            WsMessage::Text(text) => Message::Text(text.into()),
            WsMessage::Close(code, reason) => Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })),
        });
    let idle = state.subscription_idle;
    let mut closing = state.closing.clone();
    let mut check = tokio::time::interval(
        idle.min(Duration::from_secs(5))
            .max(Duration::from_millis(50)),
    );
    loop {
        tokio::select! {
            message = output.next() => match message {
                Some(message) => {
                    if sink.send(message).await.is_err() {
                        return;
                    }
                }
                None => break,
            },
            () = async { drop(closing.wait_for(|closing| *closing).await) } => {
                let _ = sink
                    .send(Message::Close(Some(CloseFrame {
                        code: GOING_AWAY,
                        reason: "the server is shutting down".into(),
                    })))
                    .await;
                break;
            }
            _ = check.tick() => {
                let quiet = last_heard.lock().map(|at| at.elapsed()).unwrap_or_default();
                if running.active() == 0 && quiet >= idle {
                    let _ = sink
                        .send(Message::Close(Some(CloseFrame {
                            code: IDLE,
                            reason: "idle: no message and no subscription".into(),
                        })))
                        .await;
                    break;
                }
            }
        }
    }
    let _ = sink.close().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_comes_from_connection_init() {
        let token =
            |payload: serde_json::Value| token_from_init(&payload).map(|t| t.expose().to_owned());
        assert_eq!(
            token(serde_json::json!({"Authorization": "Bearer abc"})).as_deref(),
            Some("abc")
        );
        assert_eq!(
            token(serde_json::json!({"authorization": "bearer  xyz "})).as_deref(),
            Some("xyz")
        );
        assert_eq!(
            token(serde_json::json!({"token": "t1"})).as_deref(),
            Some("t1")
        );
        assert_eq!(
            token(serde_json::json!({"Authorization": "Basic abc"})),
            None
        );
        assert_eq!(token(serde_json::json!({})), None);
        assert_eq!(token(serde_json::Value::Null), None);
    }
}
