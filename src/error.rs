//! The stable `extensions.code` of every error a client can see, in one enum: the schema, the
//! server and the error mapping all name codes through it, so a typo cannot mint a new one.

use axum::http::StatusCode;

use crate::graph::ErrorClass;

/// The stable `extensions.code` of every error a client can see. A new variant is an API
/// change: the README lists every code, and a test holds the list and this enum together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// No access token, or Graph says it is invalid or expired: log in again.
    Unauthenticated,
    /// The token's user may not do this.
    Forbidden,
    /// The object does not exist or this token cannot see it.
    NotFound,
    /// An argument is wrong; the message names it.
    InvalidArgument,
    /// A Business Manager rule refused the change (removing the last admin, say).
    FailedPrecondition,
    /// A rate limit was reached; `retryAfterSeconds` says when to try again.
    RateLimited,
    /// The person's access through a migrating business has expired.
    AccessExpired,
    /// The request would send more Graph calls than it may.
    UpstreamBudgetExceeded,
    /// Graph failed, could not be reached, answered too much or redirected, or the circuit
    /// breaker is open.
    UpstreamUnavailable,
    /// The request took longer than its deadline and was abandoned.
    GatewayTimeout,
    /// A fault of the gateway or of its configuration (a wrong app secret), not the caller's.
    Internal,
    /// The document does not parse.
    GraphqlParseFailed,
    /// The document does not validate against the schema or a limit (depth, complexity).
    GraphqlValidationFailed,
    /// The HTTP request is not a GraphQL request the gateway takes (body, media type, size,
    /// nesting, fan-out).
    BadRequest,
    /// A mutation or subscription sent with GET.
    MethodNotAllowed,
    /// The last error of an answer that had more than the gateway sends; `omittedErrors`
    /// says how many were left out.
    TooManyErrors,
    /// An automatic persisted query (`extensions.persistedQuery`) sent by its hash alone whose
    /// document the gateway does not hold: send it again with its `query` (Apollo's
    /// persisted-queries link does so on its own).
    PersistedQueryNotFound,
}

impl ErrorCode {
    /// Every code, in the README's order.
    pub const ALL: [ErrorCode; 17] = [
        ErrorCode::Unauthenticated,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::InvalidArgument,
        ErrorCode::FailedPrecondition,
        ErrorCode::RateLimited,
        ErrorCode::AccessExpired,
        ErrorCode::UpstreamBudgetExceeded,
        ErrorCode::UpstreamUnavailable,
        ErrorCode::GatewayTimeout,
        ErrorCode::Internal,
        ErrorCode::GraphqlParseFailed,
        ErrorCode::GraphqlValidationFailed,
        ErrorCode::BadRequest,
        ErrorCode::MethodNotAllowed,
        ErrorCode::TooManyErrors,
        ErrorCode::PersistedQueryNotFound,
    ];

    /// The code as clients read it in `extensions.code`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
            ErrorCode::FailedPrecondition => "FAILED_PRECONDITION",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::AccessExpired => "ACCESS_EXPIRED",
            ErrorCode::UpstreamBudgetExceeded => "UPSTREAM_BUDGET_EXCEEDED",
            ErrorCode::UpstreamUnavailable => "UPSTREAM_UNAVAILABLE",
            ErrorCode::GatewayTimeout => "GATEWAY_TIMEOUT",
            ErrorCode::Internal => "INTERNAL",
            ErrorCode::GraphqlParseFailed => "GRAPHQL_PARSE_FAILED",
            ErrorCode::GraphqlValidationFailed => "GRAPHQL_VALIDATION_FAILED",
            ErrorCode::BadRequest => "BAD_REQUEST",
            ErrorCode::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            ErrorCode::TooManyErrors => "TOO_MANY_ERRORS",
            ErrorCode::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
        }
    }

    /// The HTTP status of a whole request that failed with this code, answered in
    /// `application/graphql-response+json`. (In `application/json` a request that was well
    /// formed but did not parse or validate is 200; `server/response.rs` decides that.)
    /// `BAD_REQUEST` is 400 unless the refusal has a status of its own (413, 415, 406, 408).
    pub fn http_status(self) -> StatusCode {
        match self {
            ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::UpstreamUnavailable => StatusCode::BAD_GATEWAY,
            ErrorCode::GatewayTimeout => StatusCode::GATEWAY_TIMEOUT,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            // Apollo's persisted-queries link reads this error from a 200 and sends the query.
            ErrorCode::PersistedQueryNotFound => StatusCode::OK,
            ErrorCode::InvalidArgument
            | ErrorCode::FailedPrecondition
            | ErrorCode::AccessExpired
            | ErrorCode::UpstreamBudgetExceeded
            | ErrorCode::GraphqlParseFailed
            | ErrorCode::GraphqlValidationFailed
            | ErrorCode::BadRequest
            | ErrorCode::TooManyErrors => StatusCode::BAD_REQUEST,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<ErrorClass> for ErrorCode {
    fn from(class: ErrorClass) -> ErrorCode {
        match class {
            ErrorClass::Unauthenticated => ErrorCode::Unauthenticated,
            ErrorClass::Forbidden => ErrorCode::Forbidden,
            ErrorClass::NotFound => ErrorCode::NotFound,
            ErrorClass::InvalidArgument => ErrorCode::InvalidArgument,
            ErrorClass::FailedPrecondition => ErrorCode::FailedPrecondition,
            ErrorClass::RateLimited => ErrorCode::RateLimited,
            ErrorClass::AccessExpired => ErrorCode::AccessExpired,
            ErrorClass::UpstreamUnavailable => ErrorCode::UpstreamUnavailable,
            ErrorClass::BudgetExceeded => ErrorCode::UpstreamBudgetExceeded,
            ErrorClass::Internal => ErrorCode::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_listed_once_with_a_distinct_name() {
        let mut names: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ErrorCode::ALL.len());
    }

    #[test]
    fn codes_are_screaming_snake_case() {
        for code in ErrorCode::ALL {
            assert!(
                code.as_str()
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c == '_'),
                "{code}"
            );
        }
    }
}
