//! What goes back to the caller: the [`Answer`] of one call (status, JSON body, Graph's
//! headers), and the JSON of reads: a node for a `fields` selection, with default fields,
//! embedded objects, aliased keys, and list edges in their paging envelopes.

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rand::Rng;
use serde_json::{Map, Value, json};

use crate::nodes::NodeRef;
use crate::wire::error::GraphError;
use crate::wire::fields::parse_fields;
use crate::wire::fields::{FieldSelection, plain_fields, to_fields_param};
use crate::wire::paging::{PageLinks, PageRequest, envelope, window};
use crate::wire::request::{GraphMethod, Params};
use crate::world::World;

/// The outcome of one Graph call, ready to become an HTTP response or a batch element.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub status: StatusCode,
    pub body: Value,
    /// The version that served the call, for `facebook-api-version`.
    pub version: String,
    /// The trace id, also the `fbtrace_id` of an error body.
    pub trace_id: String,
    /// Usage and authentication headers: `x-app-usage`, `x-business-use-case-usage`,
    /// `www-authenticate`.
    pub headers: Vec<(&'static str, String)>,
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=UTF-8"),
        );
        let fixed = [
            ("facebook-api-version", self.version.as_str()),
            ("x-fb-trace-id", self.trace_id.as_str()),
        ];
        let extra = self.headers.iter().map(|(n, v)| (*n, v.as_str()));
        for (name, value) in fixed.into_iter().chain(extra) {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(HeaderName::from_static(name), value);
            }
        }
        response
    }
}

/// A random trace id in the style of Graph's (`x-fb-trace-id`, `fbtrace_id`).
pub(crate) fn new_trace_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut rng = rand::rng();
    (0..11)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// What reading needs besides the node: the world, who is looking, and how to build paging
/// links. Node types receive it in `Node::field` and `Node::edge`.
pub(crate) struct ReadCtx<'a> {
    pub world: &'a World,
    /// The token's user; edge items are filtered by what this user may see.
    pub viewer: u64,
    /// The token, repeated in paging links as Graph does.
    pub token: &'a str,
    /// `http://<host>/<version>`, the start of every paging link.
    pub api_base: &'a str,
}

/// Renders one node with the given selection, or its default fields.
pub(crate) fn render_node(
    ctx: &ReadCtx<'_>,
    node: NodeRef,
    selection: Option<&[FieldSelection]>,
) -> Result<Value, GraphError> {
    let defaults;
    let fields = match selection {
        Some(fields) if !fields.is_empty() => fields,
        _ => {
            defaults = plain_fields(node.default_fields());
            defaults.as_slice()
        }
    };
    let mut out = Map::new();
    for field in fields {
        let args: Vec<(&str, &str)> = field
            .modifiers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        let value = match node.edge_with(ctx, &field.name, &args) {
            Some(items) => Some(render_nested_edge(ctx, node, field, &items?)?),
            None => node.field(ctx, field)?,
        };
        // Graph omits fields that have no value rather than sending null.
        if let Some(value) = value {
            out.insert(field.key().to_owned(), value);
        }
    }
    Ok(Value::Object(out))
}

/// `GET /?ids=a,b`: each node under its id as asked. An id the viewer cannot read fails the
/// whole read (docs/graph-api.md §2).
pub(crate) fn render_ids(
    ctx: &ReadCtx<'_>,
    ids: &[String],
    fields: &[FieldSelection],
) -> Result<Value, GraphError> {
    let mut out = Map::new();
    for id in ids {
        let node = ctx.world.visible(id, ctx.viewer).ok_or_else(|| {
            crate::migration::unreadable(ctx.world, ctx.viewer, id, GraphMethod::Get.lower())
        })?;
        out.insert(id.clone(), render_node(ctx, node, Some(fields))?);
    }
    Ok(Value::Object(out))
}

/// Parameters that paging links never repeat: the cursors (replaced) and the credentials
/// (the token is put first; proofs are the caller's business).
const NOT_REPEATED_IN_LINKS: [&str; 6] = [
    "access_token",
    "after",
    "before",
    "limit",
    "appsecret_proof",
    "appsecret_time",
];

/// `GET /{node}/{edge}`: one page of a list edge, paged by the call's parameters.
pub(crate) fn read_edge(
    ctx: &ReadCtx<'_>,
    call_params: &Params,
    node: NodeRef,
    edge: &str,
    items: &[NodeRef],
) -> Result<Value, GraphError> {
    let request = PageRequest::from_values(
        call_params
            .iter()
            .filter(|(name, _)| matches!(*name, "limit" | "after" | "before" | "summary")),
    )?;
    let fields = parse_fields(call_params.get("fields").unwrap_or(""))?;
    let mut params = vec![("access_token".to_owned(), ctx.token.to_owned())];
    params.extend(
        call_params
            .iter()
            .filter(|(name, _)| !NOT_REPEATED_IN_LINKS.contains(name))
            .map(|(name, value)| (name.to_owned(), value.to_owned())),
    );
    params.push(("limit".to_owned(), request.limit.to_string()));
    let links = PageLinks {
        base: format!("{}/{}/{edge}", ctx.api_base, node.graph_id()),
        params,
    };
    render_list(ctx, items, &request, Some(&fields), &links)
}

/// Renders one page of a list of nodes as Graph's list envelope.
pub(crate) fn render_list(
    ctx: &ReadCtx<'_>,
    items: &[NodeRef],
    request: &PageRequest,
    children: Option<&[FieldSelection]>,
    links: &PageLinks,
) -> Result<Value, GraphError> {
    let window = window(items.len(), request);
    let data = items[window.start..window.end]
        .iter()
        .map(|item| {
            let mut rendered = render_node(ctx, *item, children)?;
            // Graph gives every list item its id, asked for or not; SDKs rely on it.
            if let Value::Object(map) = &mut rendered
                && !map.contains_key("id")
            {
                map.insert("id".to_owned(), json!(item.graph_id()));
            }
            Ok(rendered)
        })
        .collect::<Result<Vec<_>, GraphError>>()?;
    Ok(envelope(data, window, request.summary, links))
}

/// An edge expanded inside its parent: modifiers become the page request, and the paging
/// links point at the edge itself with the same sub-selection.
fn render_nested_edge(
    ctx: &ReadCtx<'_>,
    node: NodeRef,
    field: &FieldSelection,
    items: &[NodeRef],
) -> Result<Value, GraphError> {
    let request = PageRequest::from_values(
        field
            .modifiers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
    )?;
    let mut params = vec![("access_token".to_owned(), ctx.token.to_owned())];
    if let Some(children) = &field.children {
        params.push(("fields".to_owned(), to_fields_param(children)));
    }
    params.extend(request.extra.iter().cloned());
    params.push(("limit".to_owned(), request.limit.to_string()));
    if request.summary {
        params.push(("summary".to_owned(), "total_count".to_owned()));
    }
    let links = PageLinks {
        base: format!("{}/{}/{}", ctx.api_base, node.graph_id(), field.name),
        params,
    };
    render_list(ctx, items, &request, field.children.as_deref(), &links)
}

/// An embedded object such as `primary_page` or `created_by`, with its own default fields.
pub(crate) fn embedded(
    ctx: &ReadCtx<'_>,
    node: Option<NodeRef>,
    field: &FieldSelection,
    defaults: &[&str],
) -> Result<Option<Value>, GraphError> {
    let Some(node) = node else {
        return Ok(None);
    };
    let defaults = plain_fields(defaults);
    let selection = field.children.as_deref().unwrap_or(&defaults);
    render_node(ctx, node, Some(selection)).map(Some)
}
