//! The Graph API client: the only code that builds Graph URLs or parses Graph JSON.

pub(crate) mod breaker;
pub(crate) mod client;
pub(crate) mod error;
pub(crate) mod fields;
pub(crate) mod model;
pub(crate) mod paging;
pub(crate) mod proof;
pub(crate) mod redis_usage;
pub(crate) mod throttle;
pub(crate) mod usage;
pub(crate) mod write;

pub use breaker::BreakerSettings;
pub(crate) use client::{CallStats, GraphClient, GraphSettings};
pub(crate) use error::{ErrorClass, GraphError};
pub(crate) use fields::{EdgeArgs, FieldSet};
pub(crate) use paging::{GraphList, PageRequest};
pub(crate) use write::{GraphWrite, WriteAnswer};

// The token lives in `crate::token`; it is named here too because everything that calls Graph
// holds one.
pub(crate) use crate::token::AccessToken;

/// Whether `id` can stand as one path segment of a Graph URL: a numeric id, an ad account's
/// `act_<n>`, or `me`. Anything else is refused before it reaches a URL.
pub(crate) fn is_node_id(id: &str) -> bool {
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
}
