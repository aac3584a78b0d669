//! Graph API errors: the error envelope, and its classification by code and subcode
//! (docs/graph-api.md §5), never by HTTP status or message.

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
    /// The client's settings cannot make a Graph URL (base URL, version): the operator's to fix.
    #[error("invalid Graph API settings: {0}")]
    InvalidSettings(String),
    /// A call the client refuses to build (an id that is not a node id, too many ids): a bug
    /// in the caller, since the schema checks its inputs first.
    #[error("a Graph call bizgraph refused to make: {0}")]
    InvalidRequest(String),
    /// Graph throttles this caller or business, so the call was not sent.
    #[error(
        "Graph's rate limit for this caller was reached; bizgraph holds calls back for {} more seconds",
        .0.as_secs().max(1)
    )]
    HeldBack(Duration),
    /// The call was not sent: the GraphQL request has already made as many Graph calls as one
    /// request may.
    #[error(
        "this request needs more than {max} Graph API calls, the most one request may make; ask \
         for fewer aliased fields or split it into several requests"
    )]
    BudgetExceeded {
        /// The request's budget of Graph calls.
        max: usize,
    },
    /// Graph's answer was larger than the configured cap, so it was abandoned unread.
    #[error(
        "the Graph API's answer was larger than {}, the most bizgraph reads from it \
         (--max-upstream-response-mb)",
        size_text(*.limit_bytes)
    )]
    TooLarge {
        /// The cap, in bytes.
        limit_bytes: u64,
    },
    /// Graph answered with a redirect, which bizgraph does not follow: the configured Graph URL
    /// or something between bizgraph and Graph is wrong.
    #[error(
        "the Graph API answered with a redirect (HTTP {status}), which bizgraph does not follow"
    )]
    Redirected {
        /// The 3xx status.
        status: u16,
    },
    /// The call was not sent: the upstream host failed repeatedly and the circuit breaker is
    /// open.
    #[error(
        "the Graph API at {host} failed repeatedly, so bizgraph's circuit breaker is open and \
         calls fail at once; it tries Graph again in {} seconds",
        .retry_in.as_secs_f64().ceil()
    )]
    CircuitOpen {
        /// The upstream host (and port).
        host: String,
        /// How long until the breaker lets a probe call through.
        retry_in: Duration,
    },
    /// Graph refused the gateway's `appsecret_proof`, or wants one that the gateway does not
    /// send: the gateway's app secret is wrong or missing. The operator's fault, never the
    /// caller's, so Graph's text (which speaks of an invalid argument) is not passed on.
    #[error(
        "bizgraph cannot call the Graph API because it is misconfigured: {}; this is not a \
         problem with your request, and the gateway's operator must fix it",
        if *.proof_sent {
            "Graph refused its appsecret_proof, so its app secret is not the Meta app's secret"
        } else {
            "Graph requires an appsecret_proof and bizgraph has no app secret to make one"
        }
    )]
    AppSecretRejected {
        /// Whether a proof was sent (a wrong secret) or not (no secret configured).
        proof_sent: bool,
    },
}

/// A byte count as text: whole mebibytes when it is one, else bytes.
fn size_text(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
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
    /// Whether this is one of Graph's rate limits: the app, the user, a page or a business has
    /// used its quota (docs/graph-api.md §5). The governor holds the token's (or the
    /// business's) calls back while one lasts; the one list of these codes.
    pub fn is_throttle(&self) -> bool {
        matches!(self.code, 4 | 17 | 32 | 341 | 613) || self.is_business_use_case_throttle()
    }

    /// Whether this is a business use case throttle, whose end Graph announces in the
    /// `x-business-use-case-usage` header.
    pub fn is_business_use_case_throttle(&self) -> bool {
        (80000..=80014).contains(&self.code)
    }

    /// Whether Graph refused the call's `appsecret_proof` (a wrong one, or none where the app
    /// requires one). Graph gives these no code of their own (both are code 100, type
    /// GraphMethodException, docs/graph-api.md §7), so this is the one place that reads a
    /// message: code 100 naming `appsecret_proof`.
    pub fn is_about_appsecret_proof(&self) -> bool {
        self.code == 100 && self.message.contains("appsecret_proof")
    }

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

/// What kind of failure an error is, from Graph's side; `crate::error::ErrorCode` turns it
/// into the public `extensions.code`.
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
    /// The request has used up its budget of Graph calls.
    BudgetExceeded,
    /// Anything else: a bug on one side or the other.
    Internal,
}

impl GraphError {
    /// The class of this error, from Graph's code and subcode (docs/graph-api.md §5).
    pub fn class(&self) -> ErrorClass {
        match self {
            GraphError::Api(api) => classify(api),
            GraphError::Transport(_)
            | GraphError::Timeout
            | GraphError::TooLarge { .. }
            | GraphError::Redirected { .. }
            | GraphError::CircuitOpen { .. } => ErrorClass::UpstreamUnavailable,
            GraphError::Decode(_)
            | GraphError::InvalidSettings(_)
            | GraphError::InvalidRequest(_)
            | GraphError::AppSecretRejected { .. } => ErrorClass::Internal,
            GraphError::HeldBack(_) => ErrorClass::RateLimited,
            GraphError::BudgetExceeded { .. } => ErrorClass::BudgetExceeded,
        }
    }

    /// Whether sending the same request again may succeed soon: Graph's temporary service
    /// errors and failed connections. Rate limits are not retried inside one request: they
    /// last minutes, so the caller is told instead. Nor is anything the same call would meet
    /// again (a cap, a redirect, the configuration) or that was never sent.
    pub fn is_retryable(&self) -> bool {
        match self {
            GraphError::Api(api) => matches!(api.code, 1 | 2),
            GraphError::Transport(_) | GraphError::Timeout => true,
            GraphError::Decode(_)
            | GraphError::InvalidSettings(_)
            | GraphError::InvalidRequest(_)
            | GraphError::HeldBack(_)
            | GraphError::BudgetExceeded { .. }
            | GraphError::TooLarge { .. }
            | GraphError::Redirected { .. }
            | GraphError::CircuitOpen { .. }
            | GraphError::AppSecretRejected { .. } => false,
        }
    }

    /// How long the caller should wait before trying again, when known.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            GraphError::Api(api) => api.retry_after,
            GraphError::HeldBack(wait) => Some(*wait),
            GraphError::CircuitOpen { retry_in, .. } => Some(*retry_in),
            _ => None,
        }
    }

    /// The error with every occurrence of `secret` in Graph's texts replaced. Graph echoes a
    /// malformed access token in its message ("Malformed access token EAAB..."), and no error
    /// that leaves bizgraph may carry a token.
    pub fn without_secret(&self, secret: &str) -> GraphError {
        let scrub = |text: &str| crate::token::scrub(text, secret);
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
            GraphError::InvalidRequest(text) => GraphError::InvalidRequest(scrub(text)),
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

fn classify(api: &ApiError) -> ErrorClass {
    let subcode = api.subcode;
    match api.code {
        1 | 2 => ErrorClass::UpstreamUnavailable,
        _ if api.is_throttle() => ErrorClass::RateLimited,
        // A policy block on one kind of action: "try again later" to the caller, but not a
        // quota, so it holds no other call back.
        368 => ErrorClass::RateLimited,
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
    fn one_list_says_which_codes_are_throttles() {
        let throttle = |code| match api(code, None) {
            GraphError::Api(api) => (api.is_throttle(), api.is_business_use_case_throttle()),
            _ => unreachable!("api() makes an Api error"),
        };
        for code in [4, 17, 32, 341, 613] {
            assert_eq!(throttle(code), (true, false), "{code}");
            assert_eq!(api(code, None).class(), ErrorClass::RateLimited, "{code}");
        }
        assert_eq!(throttle(80004), (true, true));
        assert_eq!(api(80004, None).class(), ErrorClass::RateLimited);
        // A policy block: the caller is told to wait, but no other call is held back.
        assert_eq!(throttle(368), (false, false));
        assert_eq!(api(368, None).class(), ErrorClass::RateLimited);
        assert_eq!(throttle(100), (false, false));
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
    fn only_graphs_appsecret_proof_errors_are_about_the_proof() {
        let with = |code: i64, message: &str| {
            let GraphError::Api(mut api) = api(code, None) else {
                unreachable!("api() builds an Api error")
            };
            api.message = message.to_owned();
            api.is_about_appsecret_proof()
        };
        assert!(with(
            100,
            "Invalid appsecret_proof provided in the API argument"
        ));
        assert!(with(
            100,
            "API calls from the server require an appsecret_proof argument"
        ));
        assert!(!with(100, "(#100) Tried accessing nonexisting field (foo)"));
        assert!(!with(
            190,
            "Invalid appsecret_proof provided in the API argument"
        ));
    }

    #[test]
    fn failures_of_the_gateway_side_have_their_own_classes_and_are_not_retried() {
        let too_large = GraphError::TooLarge {
            limit_bytes: 32 * 1024 * 1024,
        };
        assert_eq!(too_large.class(), ErrorClass::UpstreamUnavailable);
        assert!(too_large.to_string().contains("larger than 32 MiB"));
        assert!(
            GraphError::TooLarge { limit_bytes: 1000 }
                .to_string()
                .contains("larger than 1000 bytes")
        );
        let open = GraphError::CircuitOpen {
            host: "127.0.0.1:9".to_owned(),
            retry_in: Duration::from_millis(2500),
        };
        assert_eq!(open.class(), ErrorClass::UpstreamUnavailable);
        assert_eq!(open.retry_after(), Some(Duration::from_millis(2500)));
        assert!(open.to_string().contains("in 3 seconds"), "{open}");
        assert_eq!(
            GraphError::BudgetExceeded { max: 50 }.class(),
            ErrorClass::BudgetExceeded
        );
        assert_eq!(
            GraphError::AppSecretRejected { proof_sent: true }.class(),
            ErrorClass::Internal
        );
        for error in [
            too_large,
            open,
            GraphError::Redirected { status: 302 },
            GraphError::BudgetExceeded { max: 50 },
            GraphError::AppSecretRejected { proof_sent: false },
        ] {
            assert!(!error.is_retryable(), "{error}");
        }
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
