//! Graph's protocol, independent of what the nodes are: the normalized request, the `fields=`
//! grammar, cursor paging, the error envelope, usage headers, `appsecret_proof`, and Graph's
//! time format.
//!
//! Architecture Invariant: nothing in `wire/` knows a node type or a Business Manager rule;
//! it depends on no other module of the crate except the settings, so a new node type never
//! touches it.

use chrono::{DateTime, Utc};

pub(crate) mod auth;
pub(crate) mod error;
pub(crate) mod fields;
pub(crate) mod paging;
pub(crate) mod request;
pub(crate) mod usage;

/// Graph's time format (docs/graph-api.md §1): `2026-06-23T12:00:00+0000`.
pub(crate) fn graph_time(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%z").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_render_with_a_four_digit_offset() {
        let time = DateTime::from_timestamp(1_782_216_000, 0).expect("in range");
        assert_eq!(graph_time(time), "2026-06-23T12:00:00+0000");
    }
}
