//! Relay connections over Graph's cursor-paged edges: argument checks, planning an edge into
//! its parent's `fields=`, and building the connection from the page Graph answered.
//!
//! Graph only gives cursors for the first and last item of a page. A gateway cursor is
//! therefore a Graph cursor plus a number of items to skip after it, so every edge has a
//! cursor that resumes right after it.

use std::sync::Arc;

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, OutputType, Result, SelectionField, SimpleObject};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;

use super::business::ROLE_GUARDED_EDGES;
use super::error::invalid_argument;
use super::upstream::Upstream;
use crate::graph::model::Edges;
use crate::graph::{EdgeArgs, FieldSet, GraphList, PageRequest};

/// Page size when `first` is not given.
pub(crate) const DEFAULT_PAGE_SIZE: u32 = 25;
/// The largest `first` served; larger values are clamped to it.
pub(crate) const MAX_PAGE_SIZE: u32 = 100;
/// A cursor never asks to skip more than this (ours skip less than two pages).
const MAX_SKIP: u32 = 2 * MAX_PAGE_SIZE;

/// Extra fields of every connection.
#[derive(SimpleObject, Default)]
#[graphql(name = "ConnectionTotals")]
pub(crate) struct Totals {
    /// Number of items in the whole list, when Graph can count them.
    pub total_count: Option<i32>,
}

/// A connection as the schema exposes it.
pub(crate) type Conn<N> = Connection<String, N, Totals, EmptyFields>;

/// The complexity of a connection field: its selection once per item of the page asked for
/// (`first`, clamped as the resolver clamps it), plus one for the field itself, so that a
/// request's complexity bounds the items it can make Graph return.
pub(crate) fn page_complexity(first: Option<i32>, child_complexity: usize) -> usize {
    let items = match first {
        None => DEFAULT_PAGE_SIZE,
        Some(n) => (n.max(0) as u32).min(MAX_PAGE_SIZE),
    };
    (items.max(1) as usize)
        .saturating_mul(child_complexity)
        .saturating_add(1)
}

/// Adds the selection below one node to a `fields=` set.
pub(crate) type PlanNode = fn(&mut FieldSet, SelectionField<'_>) -> Result<()>;

/// Checked `first`/`after` arguments of a connection field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConnectionArgs {
    filters: Vec<(String, String)>,
    first: u32,
    after: Option<String>,
    skip: u32,
}

impl ConnectionArgs {
    /// Checks `first` (0..=MAX_PAGE_SIZE after clamping; negative is an error) and `after`.
    pub(crate) fn new(first: Option<i32>, after: Option<&str>) -> Result<ConnectionArgs> {
        let first = match first {
            None => DEFAULT_PAGE_SIZE,
            Some(n) if n < 0 => {
                return Err(invalid_argument("first", "must not be negative"));
            }
            Some(n) => (n as u32).min(MAX_PAGE_SIZE),
        };
        let (after, skip) = match after {
            None => (None, 0),
            Some(cursor) => decode_cursor(cursor)
                .ok_or_else(|| invalid_argument("after", "is not a cursor this API gave out"))?,
        };
        Ok(ConnectionArgs {
            filters: Vec::new(),
            first,
            after,
            skip,
        })
    }

    /// The same arguments with the edge's own parameters (`start_date`, ...), sent before
    /// the paging ones.
    pub(crate) fn with_filters(mut self, filters: Vec<(String, String)>) -> ConnectionArgs {
        self.filters = filters;
        self
    }

    /// The arguments as written in a selection (for planning, before the field resolves).
    pub(crate) fn from_selection(field: &SelectionField<'_>) -> Result<ConnectionArgs> {
        let mut first = None;
        let mut after = None;
        for (name, value) in field.arguments()? {
            match (name.as_str(), value) {
                ("first", async_graphql::Value::Number(n)) => {
                    first = Some(
                        n.as_i64()
                            .unwrap_or(-1)
                            .clamp(i64::from(i32::MIN), i64::from(i32::MAX))
                            as i32,
                    )
                }
                ("after", async_graphql::Value::String(s)) => after = Some(s),
                _ => {}
            }
        }
        ConnectionArgs::new(first, after.as_deref())
    }

    fn limit(&self) -> u32 {
        self.first + self.skip
    }

    fn page_request(&self, total_count: bool) -> PageRequest {
        PageRequest {
            filters: self.filters.clone(),
            limit: Some(self.limit()),
            after: self.after.clone(),
            total_count,
        }
    }

    fn edge_args(&self, total_count: bool, alias: Option<String>) -> EdgeArgs {
        EdgeArgs {
            filters: self.filters.clone(),
            limit: Some(self.limit()),
            after: self.after.clone(),
            total_count,
            alias,
        }
    }
}

fn encode_cursor(after: Option<&str>, skip: u32) -> String {
    URL_SAFE_NO_PAD.encode(format!("{skip}:{}", after.unwrap_or("")))
}

fn decode_cursor(cursor: &str) -> Option<(Option<String>, u32)> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (skip, after) = text.split_once(':')?;
    let skip: u32 = skip.parse().ok()?;
    // Graph cursors are opaque but printable; anything else cannot have come from us.
    let printable = after
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_=+/.".contains(&b));
    if skip > MAX_SKIP || !printable {
        return None;
    }
    Some(((!after.is_empty()).then(|| after.to_owned()), skip))
}

/// The key an edge answers under in its parent: its own name, or an alias when the GraphQL
/// query aliased the field (so two differently paged reads of one edge stay apart).
pub(crate) fn edge_key(edge: &str, field: &SelectionField<'_>) -> String {
    match field.alias() {
        Some(alias) => format!("{edge}__{alias}"),
        None => edge.to_owned(),
    }
}

fn wants_total(field: &SelectionField<'_>) -> bool {
    field.selection_set().any(|f| f.name() == "totalCount")
}

/// The fields of the nodes a connection selection asks for (under `nodes` and `edges.node`).
pub(crate) fn plan_nodes(field: &SelectionField<'_>, plan_node: PlanNode) -> Result<FieldSet> {
    let mut set = FieldSet::new();
    set.scalar("id");
    for child in field.selection_set() {
        match child.name() {
            "nodes" => plan_node(&mut set, child)?,
            "edges" => {
                for grandchild in child.selection_set() {
                    if grandchild.name() == "node" {
                        plan_node(&mut set, grandchild)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(set)
}

/// Plans a connection field into its parent's `fields=` as a paged, expanded edge.
pub(crate) fn plan_connection(
    parent: &mut FieldSet,
    field: SelectionField<'_>,
    edge: &str,
    plan_node: PlanNode,
) -> Result<()> {
    let args = ConnectionArgs::from_selection(&field)?;
    plan_connection_with(parent, field, edge, args, plan_node)
}

/// Plans a connection field whose arguments were already checked (with the edge's own
/// parameters, say) into its parent's `fields=`.
pub(crate) fn plan_connection_with(
    parent: &mut FieldSet,
    field: SelectionField<'_>,
    edge: &str,
    args: ConnectionArgs,
    plan_node: PlanNode,
) -> Result<()> {
    let alias = field.alias().map(|_| edge_key(edge, &field));
    let nodes = plan_nodes(&field, plan_node)?;
    parent
        .edge(edge, &args.edge_args(wants_total(&field), alias))
        .merge(&nodes);
    Ok(())
}

/// What a connection resolver knows of its parent node.
pub(crate) struct ParentEdges<'a> {
    /// The parent's Graph id.
    pub id: &'a str,
    /// The edges its read brought back.
    pub edges: &'a Edges,
    /// What the parent's read asked for, to tell an empty edge (Graph leaves it out) from one
    /// that was never asked for.
    pub fetched: &'a FieldSet,
}

/// Resolves a connection field: from the parent's expanded edge when the parent's read
/// planned it, else with a read of its own.
pub(crate) async fn resolve<T, N>(
    ctx: &Context<'_>,
    parent: ParentEdges<'_>,
    edge: &str,
    (first, after): (Option<i32>, Option<String>),
    plan_node: PlanNode,
    wrap: impl Fn(T, &Arc<FieldSet>) -> N,
) -> Result<Conn<N>>
where
    T: DeserializeOwned,
    N: OutputType,
{
    let args = ConnectionArgs::new(first, after.as_deref())?;
    resolve_with(ctx, parent, edge, args, plan_node, wrap).await
}

/// Resolves a connection field whose arguments were already checked (with the edge's own
/// parameters, say), as [`resolve`] does.
pub(crate) async fn resolve_with<T, N>(
    ctx: &Context<'_>,
    parent: ParentEdges<'_>,
    edge: &str,
    args: ConnectionArgs,
    plan_node: PlanNode,
    wrap: impl Fn(T, &Arc<FieldSet>) -> N,
) -> Result<Conn<N>>
where
    T: DeserializeOwned,
    N: OutputType,
{
    let field = ctx.field();
    let node_fields = Arc::new(plan_nodes(&field, plan_node)?);
    let page = args.page_request(wants_total(&field));
    let (list, read_with) = edge_page(ctx, &parent, edge, &node_fields, &page).await?;
    Ok(build(list, &args, |item| wrap(item, &read_with)))
}

/// One page of an edge: from the parent's expansion when its read planned it, else read on
/// its own; with the fields its items were really read with. Those are fewer than planned
/// when Graph refused a role-guarded business edge below them and the read that brought
/// them was made again without it: a business among the items then reads it on its own.
async fn edge_page<T: DeserializeOwned>(
    ctx: &Context<'_>,
    parent: &ParentEdges<'_>,
    edge: &str,
    node_fields: &Arc<FieldSet>,
    page: &PageRequest,
) -> Result<(GraphList<T>, Arc<FieldSet>)> {
    let key = edge_key(edge, &ctx.field());
    let expanded = || match parent.fetched.child(&key) {
        Some(read) if read != &**node_fields => Arc::new(read.clone()),
        _ => node_fields.clone(),
    };
    match parent.edges.list::<T>(&key) {
        Ok(Some(list)) => Ok((list, expanded())),
        Ok(None) if parent.fetched.contains(&key) => Ok((GraphList::empty(), expanded())),
        // A role-guarded edge the parent's read left out (Graph refused it there) reads with
        // the same edges of its siblings in one batch call, each answered on its own.
        Ok(None) if ROLE_GUARDED_EDGES.contains(&edge) => {
            let list = Upstream::of(ctx)?
                .guarded_edge(parent.id, edge, node_fields, page)
                .await?;
            Ok((list, node_fields.clone()))
        }
        Ok(None) => {
            Upstream::of(ctx)?
                .edge_sparing(parent.id, edge, node_fields, page)
                .await
        }
        Err(e) => Err(Upstream::of(ctx)?.fail(&e)),
    }
}

/// How many items a list field (not a connection) reads of its edge: Graph's largest page.
pub(crate) const LIST_LIMIT: u32 = MAX_PAGE_SIZE;

/// Plans a list field (`[CreditCard!]!`, say: no paging arguments, the field's selection is
/// the node's) into its parent's `fields=` as the first [`LIST_LIMIT`] items of `edge`.
pub(crate) fn plan_list(
    parent: &mut FieldSet,
    field: SelectionField<'_>,
    edge: &str,
    plan_node: PlanNode,
) -> Result<()> {
    let alias = field.alias().map(|_| edge_key(edge, &field));
    let mut nodes = FieldSet::new();
    plan_node(&mut nodes, field)?;
    let args = EdgeArgs {
        limit: Some(LIST_LIMIT),
        alias,
        ..EdgeArgs::default()
    };
    parent.edge(edge, &args).merge(&nodes);
    Ok(())
}

/// Resolves a list field planned by [`plan_list`]: the first [`LIST_LIMIT`] items of `edge`.
pub(crate) async fn resolve_list<T, N>(
    ctx: &Context<'_>,
    parent: ParentEdges<'_>,
    edge: &str,
    plan_node: PlanNode,
    wrap: impl Fn(T) -> N,
) -> Result<Vec<N>>
where
    T: DeserializeOwned,
{
    let mut node_fields = FieldSet::new();
    plan_node(&mut node_fields, ctx.field())?;
    let page = PageRequest {
        limit: Some(LIST_LIMIT),
        ..PageRequest::default()
    };
    let (list, _) = edge_page(ctx, &parent, edge, &Arc::new(node_fields), &page).await?;
    Ok(list.data.into_iter().map(wrap).collect())
}

/// Builds a connection from one Graph page fetched with `args`.
pub(crate) fn build<T, N: OutputType>(
    list: GraphList<T>,
    args: &ConnectionArgs,
    wrap: impl Fn(T) -> N,
) -> Conn<N> {
    let fetched = list.data.len();
    let has_next = list.has_next();
    let before = list.before_cursor().map(str::to_owned);
    let last = list.after_cursor().map(str::to_owned);
    let total = list.total_count();
    let mut connection = Connection::with_additional_fields(
        args.after.is_some() || args.skip > 0 || list.has_previous(),
        has_next,
        Totals {
            total_count: total.map(|n| n.clamp(0, i64::from(i32::MAX)) as i32),
        },
    );
    for (index, item) in list
        .data
        .into_iter()
        .enumerate()
        .skip(args.skip as usize)
        .take(args.first as usize)
    {
        let cursor = if index + 1 == fetched && last.is_some() {
            encode_cursor(last.as_deref(), 0)
        } else if before.is_some() {
            // `after=<first item's cursor>` resumes at item 1; skipping `index` more items
            // resumes right after this one.
            encode_cursor(before.as_deref(), index as u32)
        } else {
            encode_cursor(args.after.as_deref(), index as u32 + 1)
        };
        connection.edges.push(Edge::new(cursor, wrap(item)));
    }
    connection
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_forged_ones_are_refused() {
        let cursor = encode_cursor(Some("QVFIUmxyZAZDZD"), 3);
        assert_eq!(
            decode_cursor(&cursor),
            Some((Some("QVFIUmxyZAZDZD".to_owned()), 3))
        );
        assert_eq!(decode_cursor(&encode_cursor(None, 2)), Some((None, 2)));
        assert_eq!(decode_cursor("not base64!"), None);
        assert_eq!(decode_cursor(&encode_cursor(Some("x"), 100_000)), None);
        assert!(ConnectionArgs::new(Some(-1), None).is_err());
        assert!(ConnectionArgs::new(None, Some("garbage")).is_err());
        assert_eq!(
            ConnectionArgs::new(Some(1000), None).map(|a| a.first).ok(),
            Some(MAX_PAGE_SIZE)
        );
    }

    fn page(ids: &[&str], before: &str, after: &str, next: bool) -> GraphList<String> {
        serde_json::from_value(serde_json::json!({
            "data": ids,
            "paging": {"cursors": {"before": before, "after": after},
                       "next": if next { serde_json::Value::from("http://x/next") } else { serde_json::Value::Null }}
        }))
        .expect("a page")
    }

    #[test]
    fn a_connection_skips_what_its_cursor_says_and_gives_every_edge_a_cursor() {
        let args = ConnectionArgs::new(Some(2), Some(&encode_cursor(Some("c0"), 1))).expect("args");
        assert_eq!(args.limit(), 3);
        let conn = build(page(&["b", "c", "d"], "c1", "c3", true), &args, |s| s);
        let nodes: Vec<&String> = conn.edges.iter().map(|e| &e.node).collect();
        assert_eq!(nodes, ["c", "d"]);
        assert!(conn.has_next_page);
        assert!(conn.has_previous_page);
        assert_eq!(
            decode_cursor(&conn.edges[0].cursor),
            Some((Some("c1".to_owned()), 1))
        );
        assert_eq!(
            decode_cursor(&conn.edges[1].cursor),
            Some((Some("c3".to_owned()), 0))
        );
    }
}
