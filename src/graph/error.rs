//! Graph API errors: the error envelope, and its classification by code and subcode
//! (UPSTREAM.md section 5), never by HTTP status or message.

use std::time::Duration;

use serde::Deserialize;

/// Why an upstream call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GraphError {
    /// Graph answered with its error envelope.
    #[error("{}", .0.message)]
    Api(Box<ApiError>),
    /// The call did not complete: connection refused, reset, or a broken answer stream.
    #[error("the Graph API could not be reached: {0}")]
    Transport(String),
    /// The call took longer than the configured upstream timeout.
    #[error("the Graph API did not answer in time")]
    Timeout,
    /// Graph answered something this client cannot read.
    #[error("the Graph API gave an answer bizgraph cannot read: {0}")]
    Decode(String),
    /// Graph throttles this caller or business, so the call was not sent.
    #[error(
        "Graph's rate limit for this caller was reached; bizgraph holds calls back for {} more seconds",
        .0.as_secs().max(1)
    )]
    HeldBack(Duration),
}

/// Graph's error envelope, `{"error":{...}}`, with the HTTP status it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status of the answer (informational; classification uses `code`).
    pub status: u16,
    /// `code`.
    pub code: i64,
    /// `error_subcode`.
    pub subcode: Option<i64>,
    /// `type`, e.g. `OAuthException`.
    pub kind: Option<String>,
    /// `message`.
    pub message: String,
    /// `error_user_title`.
    pub user_title: Option<String>,
    /// `error_user_msg`.
    pub user_msg: Option<String>,
    /// `is_transient`.
    pub is_transient: Option<bool>,
    /// `fbtrace_id`, for Meta support.
    pub fbtrace_id: Option<String>,
    /// How long to wait before trying again, when Graph says (business use case throttles).
    pub retry_after: Option<Duration>,
}

#[derive(Deserialize)]
struct Envelope {
    error: EnvelopeError,
}

#[derive(Deserialize)]
struct EnvelopeError {
    message: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    code: Option<i64>,
    error_subcode: Option<i64>,
    error_user_title: Option<String>,
    error_user_msg: Option<String>,
    is_transient: Option<bool>,
    fbtrace_id: Option<String>,
}

impl ApiError {
    /// Reads an error envelope; `None` when the body is not one.
    pub fn from_body(status: u16, body: &[u8]) -> Option<ApiError> {
        let envelope: Envelope = serde_json::from_slice(body).ok()?;
        let e = envelope.error;
        Some(ApiError {
            status,
            code: e.code.unwrap_or(1),
            subcode: e.error_subcode,
            kind: e.kind,
            message: e
                .message
                .unwrap_or_else(|| "the Graph API reported an error without a message".to_owned()),
            user_title: e.error_user_title,
            user_msg: e.error_user_msg,
            is_transient: e.is_transient,
            fbtrace_id: e.fbtrace_id,
            retry_after: None,
        })
    }
}

/// What kind of failure an error is, as the GraphQL `extensions.code` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The token is missing, invalid or expired: the caller must log in again.
    Unauthenticated,
    /// The token's user may not do this.
    Forbidden,
    /// The object does not exist or this token cannot see it.
    NotFound,
    /// A parameter was wrong.
    InvalidArgument,
    /// A Business Manager rule refused the change (e.g. removing the last admin).
    FailedPrecondition,
    /// A rate limit was reached; try again later.
    RateLimited,
    /// The person's access through a migrating business has expired.
    AccessExpired,
    /// Graph failed or could not be reached.
    UpstreamUnavailable,
    /// Anything else: a bug on one side or the other.
    Internal,
}

impl ErrorClass {
    /// The stable `extensions.code` string.
    pub fn code(self) -> &'static str {
        match self {
            ErrorClass::Unauthenticated => "UNAUTHENTICATED",
            ErrorClass::Forbidden => "FORBIDDEN",
            ErrorClass::NotFound => "NOT_FOUND",
            ErrorClass::InvalidArgument => "INVALID_ARGUMENT",
            ErrorClass::FailedPrecondition => "FAILED_PRECONDITION",
            ErrorClass::RateLimited => "RATE_LIMITED",
            ErrorClass::AccessExpired => "ACCESS_EXPIRED",
            ErrorClass::UpstreamUnavailable => "UPSTREAM_UNAVAILABLE",
            ErrorClass::Internal => "INTERNAL",
        }
    }
}

impl GraphError {
    /// The class of this error, from Graph's code and subcode (UPSTREAM.md section 5).
    pub fn class(&self) -> ErrorClass {
        match self {
            GraphError::Api(api) => classify(api.code, api.subcode),
            GraphError::Transport(_) | GraphError::Timeout => ErrorClass::UpstreamUnavailable,
            GraphError::Decode(_) => ErrorClass::Internal,
            GraphError::HeldBack(_) => ErrorClass::RateLimited,
        }
    }

    /// Whether sending the same request again may succeed soon: Graph's temporary service
    /// errors and failed connections. Rate limits are not retried inside one request: they
    /// last minutes, so the caller is told instead.
    pub fn is_retryable(&self) -> bool {
        match self {
            GraphError::Api(api) => matches!(api.code, 1 | 2),
            GraphError::Transport(_) | GraphError::Timeout => true,
            GraphError::Decode(_) | GraphError::HeldBack(_) => false,
        }
    }

    /// How long the caller should wait before trying again, when known.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            GraphError::Api(api) => api.retry_after,
            GraphError::HeldBack(wait) => Some(*wait),
            _ => None,
        }
    }

    /// The error with every occurrence of `secret` in Graph's texts replaced. Graph echoes a
    /// malformed access token in its message ("Malformed access token EAAB..."), and no error
    /// that leaves bizgraph may carry a token.
    pub fn without_secret(&self, secret: &str) -> GraphError {
        let scrub = |text: &str| {
            if secret.is_empty() {
                text.to_owned()
            } else {
                text.replace(secret, "[access token]")
            }
        };
        match self {
            GraphError::Api(api) => {
                let mut api = api.clone();
                api.message = scrub(&api.message);
                api.user_msg = api.user_msg.as_deref().map(scrub);
                api.user_title = api.user_title.as_deref().map(scrub);
                GraphError::Api(api)
            }
            GraphError::Transport(text) => GraphError::Transport(scrub(text)),
            GraphError::Decode(text) => GraphError::Decode(scrub(text)),
            other => other.clone(),
        }
    }

    /// The Graph envelope, when Graph answered with one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            GraphError::Api(api) => Some(api.as_ref()),
            _ => None,
        }
    }
}

fn classify(code: i64, subcode: Option<i64>) -> ErrorClass {
    match code {
        1 | 2 => ErrorClass::UpstreamUnavailable,
        4 | 17 | 32 | 341 | 368 | 613 | 80000..=80014 => ErrorClass::RateLimited,
        10 | 200..=299 | 3910 | 3998 => ErrorClass::Forbidden,
        102 | 104 | 190 => ErrorClass::Unauthenticated,
        100 if subcode == Some(33) => ErrorClass::NotFound,
        100 | 3918 | 3947 | 3973 | 3974 | 3996 => ErrorClass::InvalidArgument,
        3914 => ErrorClass::FailedPrecondition,
        _ => ErrorClass::Internal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: i64, subcode: Option<i64>) -> GraphError {
        GraphError::Api(Box::new(ApiError {
            status: 400,
            code,
            subcode,
            kind: None,
            message: String::new(),
            user_title: None,
            user_msg: None,
            is_transient: None,
            fbtrace_id: None,
            retry_after: None,
        }))
    }

    #[test]
    fn errors_are_classified_by_code_and_subcode() {
        assert_eq!(api(190, Some(463)).class(), ErrorClass::Unauthenticated);
        assert_eq!(api(100, Some(33)).class(), ErrorClass::NotFound);
        assert_eq!(api(100, None).class(), ErrorClass::InvalidArgument);
        assert_eq!(api(200, None).class(), ErrorClass::Forbidden);
        assert_eq!(api(3910, None).class(), ErrorClass::Forbidden);
        assert_eq!(api(3914, None).class(), ErrorClass::FailedPrecondition);
        assert_eq!(api(17, None).class(), ErrorClass::RateLimited);
        assert_eq!(api(80004, None).class(), ErrorClass::RateLimited);
        assert_eq!(api(2, None).class(), ErrorClass::UpstreamUnavailable);
        assert!(api(2, None).is_retryable());
        assert!(!api(4, None).is_retryable());
        assert!(!api(100, None).is_retryable());
    }

    #[test]
    fn an_echoed_token_is_scrubbed_from_graphs_texts() {
        let GraphError::Api(mut api) = api(190, None) else {
            unreachable!("api() builds an Api error")
        };
        api.message = "Malformed access token EAABsecret123".to_owned();
        api.user_msg = Some("token EAABsecret123 is bad".to_owned());
        let scrubbed = GraphError::Api(api).without_secret("EAABsecret123");
        let api = scrubbed.api().expect("still an Api error");
        assert_eq!(api.message, "Malformed access token [access token]");
        assert_eq!(api.user_msg.as_deref(), Some("token [access token] is bad"));
        assert_eq!(api.code, 190);
    }

    #[test]
    fn the_error_envelope_is_read_whole() {
        let body = br#"{"error":{"message":"(#3910) nope","type":"OAuthException","code":3910,
            "error_subcode":7,"is_transient":false,"fbtrace_id":"AbC"}}"#;
        let e = ApiError::from_body(400, body).expect("an envelope");
        assert_eq!(e.code, 3910);
        assert_eq!(e.subcode, Some(7));
        assert_eq!(e.kind.as_deref(), Some("OAuthException"));
        assert_eq!(e.message, "(#3910) nope");
        assert_eq!(e.is_transient, Some(false));
        assert_eq!(e.fbtrace_id.as_deref(), Some("AbC"));
        assert!(ApiError::from_body(500, b"<html>").is_none());
    }
}
