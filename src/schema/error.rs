//! Errors as GraphQL clients see them: every one carries `extensions.code`, and upstream ones
//! also `extensions.graphApi` with Graph's code, subcode, type, trace id and transience.

use async_graphql::{Context, Error, ErrorExtensions, Value};

use crate::error::ErrorCode;
use crate::graph::{ErrorClass, GraphError};
use crate::log_window::log_window;

/// An error with a message and a stable `extensions.code`.
pub(crate) fn coded(code: ErrorCode, message: impl Into<String>) -> Error {
    Error::new(message).extend_with(move |_, e| e.set("code", code.as_str()))
}

/// Bad input, named by its argument, caught before any upstream call.
pub(crate) fn invalid_argument(argument: &str, problem: &str) -> Error {
    coded(ErrorCode::InvalidArgument, format!("{argument}: {problem}"))
        .extend_with(|_, e| e.set("argument", argument))
}

/// Whether a GraphQL error carries `extensions.code` = `code`.
pub(crate) fn has_code(error: &Error, code: ErrorCode) -> bool {
    error
        .extensions
        .as_ref()
        .and_then(|e| e.get("code"))
        .is_some_and(|value| *value == async_graphql::Value::from(code.as_str()))
}

/// What callers may read of Graph's own error texts (`--upstream-error-messages`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum UpstreamMessages {
    /// Graph's message, user title and user message pass through (scrubbed of the token).
    Expose,
    /// A sentence of the gateway's own per code replaces them; Graph's code, subcode, type
    /// and trace id still travel in `extensions.graphApi` for support requests.
    Hide,
}

/// The sentence a caller reads instead of Graph's text when Graph's texts are hidden.
fn hidden_message(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::Unauthenticated => "the Graph API did not accept the access token",
        ErrorCode::Forbidden => "the Graph API refused: the token's user may not do this",
        ErrorCode::NotFound => "the Graph API has no such object, or this token cannot see it",
        ErrorCode::InvalidArgument => "the Graph API refused a parameter of this request",
        ErrorCode::FailedPrecondition => "the Graph API refused the change under a business rule",
        ErrorCode::RateLimited => "the Graph API's rate limit was reached; try again later",
        ErrorCode::AccessExpired => "access through this business has expired",
        _ => "the Graph API failed to answer this request",
    }
}

/// The GraphQL error for a failed upstream call; Graph's texts shown or hidden per `messages`.
pub(crate) fn upstream(error: &GraphError, messages: UpstreamMessages) -> Error {
    let class = error.class();
    let code = ErrorCode::from(class);
    let hide = messages == UpstreamMessages::Hide && matches!(error, GraphError::Api(_));
    let message = match error {
        _ if hide => hidden_message(code).to_owned(),
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
    let mut err = coded(code, message);
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
            if let Some(msg) = api.user_msg.as_ref().filter(|_| !hide) {
                graph.insert(
                    async_graphql::Name::new("userMessage"),
                    Value::from(msg.clone()),
                );
            }
            if let Some(title) = api.user_title.as_ref().filter(|_| !hide) {
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
pub(crate) fn null_on_error<T>(ctx: &Context<'_>, result: async_graphql::Result<T>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(error) => {
            ctx.add_error(ctx.set_error_path(error.into_server_error(ctx.item.pos)));
            None
        }
    }
}
