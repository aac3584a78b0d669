//! Graph's cursor-paged lists (`{"data":[...],"paging":{...},"summary":{...}}`) and the
//! parameters that ask for one page.

use serde::Deserialize;

/// One page of a Graph list edge.
#[derive(Debug, Clone, Deserialize)]
pub struct GraphList<T> {
    /// The items of this page.
    pub data: Vec<T>,
    /// Cursors and links to the neighbouring pages; absent on an empty page.
    #[serde(default)]
    pub paging: Option<Paging>,
    /// `summary`, present when `summary=total_count` was asked for.
    #[serde(default)]
    pub summary: Option<Summary>,
}

impl<T> GraphList<T> {
    /// An empty list, for an edge Graph left out of an expansion because it had no items.
    pub fn empty() -> GraphList<T> {
        GraphList {
            data: Vec::new(),
            paging: None,
            summary: None,
        }
    }

    /// Whether Graph has a page after this one.
    pub fn has_next(&self) -> bool {
        self.paging.as_ref().is_some_and(|p| p.next.is_some())
    }

    /// Whether Graph has a page before this one.
    pub fn has_previous(&self) -> bool {
        self.paging.as_ref().is_some_and(|p| p.previous.is_some())
    }

    /// The cursor of the first item of the page.
    pub fn before_cursor(&self) -> Option<&str> {
        self.paging.as_ref()?.cursors.as_ref()?.before.as_deref()
    }

    /// The cursor of the last item of the page.
    pub fn after_cursor(&self) -> Option<&str> {
        self.paging.as_ref()?.cursors.as_ref()?.after.as_deref()
    }

    /// `summary.total_count`, when asked for.
    pub fn total_count(&self) -> Option<i64> {
        self.summary.as_ref()?.total_count
    }
}

/// `paging`. The `next`/`previous` links are kept only as flags: they carry the caller's
/// token, so they are never logged or passed on.
#[derive(Debug, Clone, Deserialize)]
pub struct Paging {
    /// Cursors of the first and last item.
    #[serde(default)]
    pub cursors: Option<Cursors>,
    /// Link to the next page (holds the access token: never log it).
    #[serde(default)]
    pub next: Option<String>,
    /// Link to the previous page (holds the access token: never log it).
    #[serde(default)]
    pub previous: Option<String>,
}

/// `paging.cursors`.
#[derive(Debug, Clone, Deserialize)]
pub struct Cursors {
    /// Cursor of the first item.
    #[serde(default)]
    pub before: Option<String>,
    /// Cursor of the last item.
    #[serde(default)]
    pub after: Option<String>,
}

/// `summary`.
#[derive(Debug, Clone, Deserialize)]
pub struct Summary {
    /// Number of items in the whole list.
    #[serde(default)]
    pub total_count: Option<i64>,
}

/// The paging parameters of a top-level edge read (`GET /{id}/{edge}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PageRequest {
    /// The edge's own parameters (`start_date=...`), sent before the paging ones.
    pub filters: Vec<(String, String)>,
    /// `limit`.
    pub limit: Option<u32>,
    /// `after`.
    pub after: Option<String>,
    /// `summary=total_count`.
    pub total_count: bool,
}
