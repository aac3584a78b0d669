//! The Graph API client: the only code that builds Graph URLs or parses Graph JSON.

pub mod breaker;
pub mod client;
pub mod error;
pub mod fields;
pub mod model;
pub mod paging;
pub mod proof;
pub mod throttle;
pub mod usage;
pub mod write;

pub use breaker::BreakerSettings;
pub use client::{CallStats, GraphClient, GraphSettings};
pub use error::{ApiError, ErrorClass, GraphError};
pub use fields::{EdgeArgs, FieldSet};
pub use paging::{GraphList, PageRequest};
pub use write::{GraphWrite, WriteAnswer, WriteMethod};

use std::fmt;
use std::sync::Arc;

/// A caller's Meta access token. Its `Debug` and `Display` never show the token itself.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AccessToken(Arc<str>);

impl AccessToken {
    /// Wraps a token as received from a caller.
    pub fn new(token: impl Into<Arc<str>>) -> AccessToken {
        AccessToken(token.into())
    }

    /// The raw token, for the `Authorization` header and the appsecret_proof only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

/// Whether `id` can stand as one path segment of a Graph URL: a numeric id, an ad account's
/// `act_<n>`, or `me`. Anything else is refused before it reaches a URL.
pub fn is_node_id(id: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_digit());
    id == "me" || digits(id) || id.strip_prefix("act_").is_some_and(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_ids_are_numeric_act_or_me() {
        assert!(is_node_id("200001"));
        assert!(is_node_id("act_400001"));
        assert!(is_node_id("me"));
        assert!(!is_node_id(""));
        assert!(!is_node_id("../me"));
        assert!(!is_node_id("act_"));
        assert!(!is_node_id("12a"));
    }

    #[test]
    fn a_token_never_shows_in_debug_output() {
        let token = AccessToken::new("secret-token");
        assert_eq!(format!("{token:?}"), "AccessToken(<redacted>)");
    }
}
