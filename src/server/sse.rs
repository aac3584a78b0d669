//! GraphQL over server-sent events (the GraphQL over SSE protocol's distinct-connections
//! mode): `POST /graphql` with `Accept: text/event-stream` answers a stream of `next` events,
//! one per result, then `complete`. Subscriptions (and queries and mutations, as one result)
//! for clients behind proxies that drop WebSockets.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::Executor;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;

use super::AppState;
use super::graphql::bearer_token;
use super::ws::GuardedSchema;

/// How often an idle stream sends a comment, so that proxies keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Whether the client asks for an event stream rather than one JSON answer.
pub(super) fn wants_event_stream(headers: &HeaderMap) -> bool {
    headers
        .get_all(axum::http::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|media| {
            media
                .split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("text/event-stream"))
        })
}

/// Runs `request` and streams its results until it completes, the client goes away, or the
/// server shuts down.
pub(super) fn stream(
    state: Arc<AppState>,
    headers: &HeaderMap,
    request: async_graphql::Request,
) -> Response {
    let (context, _stats) = state.request_context(bearer_token(headers));
    let request = request.data(context);
    let mut closing = state.closing.clone();
    let results = GuardedSchema(state)
        .execute_stream(request, None)
        .map(|response| {
            let event = Event::default().event("next");
            Ok::<Event, Infallible>(match event.json_data(&response) {
                Ok(event) => event,
                // A response always serialises; an empty `next` would still be well formed.
                Err(_) => Event::default().event("next").data("{}"),
            })
        })
        .chain(futures_util::stream::once(async {
            Ok(Event::default().event("complete").data(""))
        }))
        .take_until(async move {
            let _ = closing.wait_for(|closing| *closing).await;
        });
    Sse::new(results)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
}
