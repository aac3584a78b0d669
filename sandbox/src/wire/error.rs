//! Graph API errors: the `{"error":{...}}` envelope, its HTTP status and its headers.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

/// The `type` of a Graph error envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorType {
    /// Token, permission and most parameter errors.
    OAuth,
    /// Errors about the object or method itself (unknown node, appsecret_proof).
    GraphMethod,
}

impl ErrorType {
    fn as_str(self) -> &'static str {
        match self {
            ErrorType::OAuth => "OAuthException",
            ErrorType::GraphMethod => "GraphMethodException",
        }
    }
}

/// One Graph API error, rendered as Graph's error envelope.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub(crate) struct GraphError {
    /// Graph's error `code`.
    pub code: u32,
    /// Graph's `error_subcode`, when there is one.
    pub subcode: Option<u32>,
    /// The `message`, already carrying its `(#code)` prefix where Graph puts one.
    pub message: String,
    /// The `type`.
    pub kind: ErrorType,
    /// `error_user_title`, shown to end users by Meta's own clients.
    pub user_title: Option<String>,
    /// `error_user_msg`.
    pub user_msg: Option<String>,
    /// Whether `is_transient: true` is sent.
    pub is_transient: bool,
}

/// The documentation link that Graph appends to its "Unsupported request" messages.
const DOCS_HINT: &str =
    "Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api";

impl GraphError {
    /// An error of the given code and type, with the message as Graph writes it.
    pub(crate) fn new(code: u32, kind: ErrorType, message: impl Into<String>) -> Self {
        GraphError {
            code,
            subcode: None,
            message: message.into(),
            kind,
            user_title: None,
            user_msg: None,
            is_transient: is_transient_code(code),
        }
    }

    /// An `OAuthException` whose message gets the usual `(#code) ` prefix.
    pub(crate) fn coded(code: u32, message: &str) -> Self {
        GraphError::new(code, ErrorType::OAuth, format!("(#{code}) {message}"))
    }

    /// Code 100, the catch-all for invalid parameters.
    pub(crate) fn invalid_param(message: &str) -> Self {
        GraphError::coded(100, message)
    }

    /// Adds an `error_subcode`.
    pub(crate) fn with_subcode(mut self, subcode: u32) -> Self {
        self.subcode = Some(subcode);
        self
    }

    /// Adds `error_user_title` and `error_user_msg`.
    pub(crate) fn with_user_text(mut self, title: &str, message: &str) -> Self {
        self.user_title = Some(title.to_owned());
        self.user_msg = Some(message.to_owned());
        self
    }

    /// Graph's answer for an object that is unknown, invisible to the token, or that does not
    /// support the method: code 100, subcode 33.
    pub(crate) fn unsupported(method: &str, id: &str) -> Self {
        GraphError::new(
            100,
            ErrorType::GraphMethod,
            format!(
                "Unsupported {method} request. Object with ID '{id}' does not exist, cannot be \
                 loaded due to missing permissions, or does not support this operation. {DOCS_HINT}"
            ),
        )
        .with_subcode(33)
    }

    /// Unknown field or edge on a known node type.
    pub(crate) fn nonexisting_field(field: &str, node_type: &str) -> Self {
        GraphError::coded(
            100,
            &format!("Tried accessing nonexisting field ({field}) on node type ({node_type})"),
        )
    }

    /// A path that Graph cannot route, such as a malformed version.
    // [guess] Graph answers unroutable paths with code 2500 and this wording.
    pub(crate) fn unknown_path(components: &str) -> Self {
        GraphError::new(
            2500,
            ErrorType::OAuth,
            format!("Unknown path components: {components}"),
        )
    }

    /// No token at all.
    pub(crate) fn missing_token() -> Self {
        GraphError::new(
            104,
            ErrorType::OAuth,
            "An access token is required to request this resource.",
        )
    }

    /// A token the sandbox does not know.
    pub(crate) fn invalid_token() -> Self {
        GraphError::new(
            190,
            ErrorType::OAuth,
            "Invalid OAuth access token - Cannot parse access token",
        )
    }

    /// The generic code 200 permissions error.
    pub(crate) fn permissions() -> Self {
        GraphError::coded(200, "Permissions error")
    }

    /// The HTTP status Graph pairs with this error.
    pub(crate) fn status(&self) -> StatusCode {
        match self.code {
            1 | 2 => StatusCode::INTERNAL_SERVER_ERROR,
            10 | 200..=299 => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The `WWW-Authenticate` header value that token errors carry.
    pub(crate) fn www_authenticate(&self) -> Option<String> {
        let reason = match self.code {
            104 => "invalid_request",
            102 | 190 => "invalid_token",
            _ => return None,
        };
        Some(format!(
            "OAuth \"Facebook Platform\" \"{reason}\" \"{}\"",
            self.message.replace('"', "'")
        ))
    }

    /// The `{"error":{...}}` envelope.
    pub(crate) fn to_json(&self, fbtrace_id: &str) -> Value {
        let mut error = Map::new();
        error.insert("message".into(), json!(self.message));
        error.insert("type".into(), json!(self.kind.as_str()));
        error.insert("code".into(), json!(self.code));
        if let Some(subcode) = self.subcode {
            error.insert("error_subcode".into(), json!(subcode));
        }
        if let Some(title) = &self.user_title {
            error.insert("error_user_title".into(), json!(title));
        }
        if let Some(msg) = &self.user_msg {
            error.insert("error_user_msg".into(), json!(msg));
        }
        if self.is_transient {
            error.insert("is_transient".into(), json!(true));
        }
        error.insert("fbtrace_id".into(), json!(fbtrace_id));
        json!({ "error": error })
    }

    /// The error an injected fault answers with, worded as Graph words that code.
    pub(crate) fn injected(code: u32, subcode: Option<u32>) -> Self {
        let error = match code {
            1 => GraphError::new(1, ErrorType::OAuth, "An unknown error occurred"),
            2 => GraphError::new(
                2,
                ErrorType::OAuth,
                "An unexpected error has occurred. Please retry your request later.",
            ),
            4 => GraphError::coded(4, "Application request limit reached"),
            17 => GraphError::coded(17, "User request limit reached"),
            32 => GraphError::coded(32, "Page request limit reached"),
            190 => GraphError::invalid_token(),
            613 => GraphError::coded(613, "Calls to this api have exceeded the rate limit."),
            80_000..=80_014 => GraphError::coded(
                code,
                "There have been too many calls to this business account. Wait a bit and try again.",
            ),
            // [guess] Codes without a well-known wording get a neutral one.
            _ => GraphError::coded(code, "An error was injected by the sandbox"),
        };
        match subcode {
            Some(subcode) => error.with_subcode(subcode),
            None => error,
        }
    }
}

/// Codes that Graph marks `is_transient: true`: retrying later may succeed.
fn is_transient_code(code: u32) -> bool {
    matches!(code, 1 | 2 | 4 | 17 | 32 | 341 | 613 | 80_000..=80_014)
}
