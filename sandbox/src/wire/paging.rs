//! Cursor paging of list edges: page requests, opaque cursors, and the
//! `{"data":[...],"paging":{...},"summary":{...}}` envelope with absolute `next`/`previous` links.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use crate::wire::error::GraphError;

/// The page size when `limit` is not given.
pub(crate) const DEFAULT_LIMIT: usize = 25;

/// The prefix inside a cursor, so that arbitrary base64 is not taken for one.
const CURSOR_PREFIX: &str = "sandbox:";

/// Which page of a list is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PageRequest {
    /// Items per page.
    pub limit: usize,
    /// Resume after the item with this index.
    pub after: Option<usize>,
    /// End before the item with this index.
    pub before: Option<usize>,
    /// Whether `summary.total_count` is asked for.
    pub summary: bool,
    /// Edge parameters that are not about paging, kept for the paging links.
    pub extra: Vec<(String, String)>,
}

impl PageRequest {
    /// Reads `limit`, `after`, `before` and `summary` from named values (query parameters or
    /// field modifiers).
    pub(crate) fn from_values<'a>(
        values: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, GraphError> {
        let mut request = PageRequest {
            limit: DEFAULT_LIMIT,
            after: None,
            before: None,
            summary: false,
            extra: Vec::new(),
        };
        for (name, value) in values {
            match name {
                "limit" => {
                    request.limit = value.trim().parse().map_err(|_| {
                        GraphError::invalid_param("Param limit must be a non-negative integer")
                    })?;
                }
                "after" => request.after = Some(decode_cursor("after", value)?),
                "before" => request.before = Some(decode_cursor("before", value)?),
                "summary" => {
                    request.summary = value
                        .split(',')
                        .any(|part| matches!(part.trim(), "total_count" | "true" | "1"));
                }
                _ => request.extra.push((name.to_owned(), value.to_owned())),
            }
        }
        Ok(request)
    }
}

/// The cursor of the item at `index`.
pub(crate) fn encode_cursor(index: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{index}"))
}

/// The index a cursor stands for.
fn decode_cursor(param: &str, cursor: &str) -> Result<usize, GraphError> {
    let invalid =
        || GraphError::invalid_param(&format!("The {param} parameter is not a valid cursor"));
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.trim().trim_end_matches('='))
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    text.strip_prefix(CURSOR_PREFIX)
        .and_then(|index| index.parse().ok())
        .ok_or_else(invalid)
}

/// The slice of a list that one page covers: items `start..end` of `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    pub start: usize,
    pub end: usize,
    pub total: usize,
}

/// Where a page request falls in a list of `total` items.
pub(crate) fn window(total: usize, request: &PageRequest) -> Window {
    let (start, end) = if let Some(after) = request.after {
        let start = after.saturating_add(1).min(total);
        (start, start.saturating_add(request.limit).min(total))
    } else if let Some(before) = request.before {
        let end = before.min(total);
        (end.saturating_sub(request.limit), end)
    } else {
        (0, request.limit.min(total))
    };
    Window { start, end, total }
}

/// How to build the absolute `next`/`previous` links of a list.
#[derive(Debug, Clone)]
pub(crate) struct PageLinks {
    /// `http://host/v25.0/<node>/<edge>`.
    pub base: String,
    /// The query parameters every link repeats (token, fields, limit...).
    pub params: Vec<(String, String)>,
}

impl PageLinks {
    fn link(&self, direction: &str, cursor: &str) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in &self.params {
            query.append_pair(name, value);
        }
        query.append_pair(direction, cursor);
        format!("{}?{}", self.base, query.finish())
    }
}

/// The list envelope for one page: `data` holds the page's rendered items.
pub(crate) fn envelope(
    data: Vec<Value>,
    window: Window,
    summary: bool,
    links: &PageLinks,
) -> Value {
    let mut out = Map::new();
    let empty = data.is_empty();
    out.insert("data".into(), Value::Array(data));
    if !empty {
        let first = encode_cursor(window.start);
        let last = encode_cursor(window.end - 1);
        let mut paging = Map::new();
        paging.insert("cursors".into(), json!({ "before": first, "after": last }));
        if window.end < window.total {
            paging.insert("next".into(), json!(links.link("after", &last)));
        }
        if window.start > 0 {
            paging.insert("previous".into(), json!(links.link("before", &first)));
        }
        out.insert("paging".into(), Value::Object(paging));
    }
    if summary {
        out.insert("summary".into(), json!({ "total_count": window.total }));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(values: &[(&str, &str)]) -> PageRequest {
        PageRequest::from_values(values.iter().copied()).expect("valid page request")
    }

    #[test]
    fn after_resumes_past_its_item_and_before_ends_short_of_it() {
        let first = window(30, &request(&[]));
        assert_eq!((first.start, first.end), (0, 25));
        let next = window(30, &request(&[("after", &encode_cursor(24))]));
        assert_eq!((next.start, next.end), (25, 30));
        let previous = window(
            30,
            &request(&[("before", &encode_cursor(25)), ("limit", "10")]),
        );
        assert_eq!((previous.start, previous.end), (15, 25));
    }

    #[test]
    fn a_cursor_that_does_not_decode_is_a_code_100_error() {
        let error = PageRequest::from_values([("after", "not a cursor!")]).expect_err("bad");
        assert_eq!(error.code, 100);
        assert_eq!(
            error.message,
            "(#100) The after parameter is not a valid cursor"
        );
    }
}
