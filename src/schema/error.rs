//! Errors as GraphQL clients see them: every one carries `extensions.code`, and upstream ones
//! also `extensions.graphApi` with Graph's code, subcode, type, trace id and transience.

use async_graphql::{Context, Error, ErrorExtensions, Value};

use crate::graph::{ErrorClass, GraphError};
use crate::log_window::log_window;

/// The `extensions.code` of a request without an access token.
pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
/// The `extensions.code` of an object that does not exist or cannot be seen.
pub const NOT_FOUND: &str = "NOT_FOUND";
/// The `extensions.code` of bad input from the caller.
pub const INVALID_ARGUMENT: &str = "INVALID_ARGUMENT";

/// An error with a message and a stable `extensions.code`.
pub fn coded(code: &str, message: impl Into<String>) -> Error {
    Error::new(message).extend_with(|_, e| e.set("code", code))
}

/// Bad input, named by its argument, caught before any upstream call.
pub fn invalid_argument(argument: &str, problem: &str) -> Error {
    coded(INVALID_ARGUMENT, format!("{argument}: {problem}"))
        .extend_with(|_, e| e.set("argument", argument))
}

/// The GraphQL error for a failed upstream call.
pub fn upstream(error: &GraphError) -> Error {
    let class = error.class();
    let message = match error {
        GraphError::Api(api) => api.message.clone(),
        // Internal decoding detail is for the logs; the caller gets a stable sentence.
        GraphError::Decode(detail) => {
            if let Some(suppressed) = log_window().should_log("graph_answer_unreadable") {
                tracing::error!(detail = %detail, suppressed, "unreadable Graph answer");
            }
            "the Graph API gave an answer bizgraph could not read".to_owned()
        }
        other => other.to_string(),
    };
    let mut err = coded(class.code(), message);
    if let GraphError::Api(api) = error {
        let api = api.clone();
        err = err.extend_with(move |_, e| {
            let mut graph = async_graphql::indexmap::IndexMap::new();
            graph.insert(async_graphql::Name::new("code"), Value::from(api.code));
            graph.insert(
                async_graphql::Name::new("subcode"),
                api.subcode.map_or(Value::Null, Value::from),
            );
            graph.insert(
                async_graphql::Name::new("type"),
                api.kind.clone().map_or(Value::Null, Value::from),
            );
            graph.insert(
                async_graphql::Name::new("fbtraceId"),
                api.fbtrace_id.clone().map_or(Value::Null, Value::from),
            );
            graph.insert(
                async_graphql::Name::new("isTransient"),
                Value::from(api.is_transient.unwrap_or(false)),
            );
            if let Some(msg) = &api.user_msg {
                graph.insert(
                    async_graphql::Name::new("userMessage"),
                    Value::from(msg.clone()),
                );
            }
            if let Some(title) = &api.user_title {
                graph.insert(
                    async_graphql::Name::new("userTitle"),
                    Value::from(title.clone()),
                );
            }
            e.set("graphApi", Value::Object(graph));
        });
    }
    if class == ErrorClass::RateLimited {
        // Graph gives no figure for app and user limits; its docs advise minutes, not seconds.
        let wait = error.retry_after().map_or(60, |wait| wait.as_secs().max(1));
        err = err.extend_with(move |_, e| e.set("retryAfterSeconds", wait));
    } else if let GraphError::CircuitOpen { retry_in, .. } = error {
        // When the breaker lets a probe through; a caller retrying sooner fails at once again.
        let wait = retry_in.as_secs_f64().ceil().max(1.0) as u64;
        err = err.extend_with(move |_, e| e.set("retryAfterSeconds", wait));
    }
    err
}

/// The value of a nullable field: its result, or `null` with the error reported at the field.
/// async-graphql would leave a failed nullable field out of `data` (and make `data` null when
/// every root field failed); GraphQL says the field is `null`.
pub fn null_on_error<T>(ctx: &Context<'_>, result: async_graphql::Result<T>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(error) => {
            ctx.add_error(ctx.set_error_path(error.into_server_error(ctx.item.pos)));
            None
        }
    }
}
