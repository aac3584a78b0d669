//! Renders nodes of the world as Graph JSON for a parsed `fields` selection: default fields,
//! embedded objects, aliased keys, and list edges with their paging envelopes.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::error::GraphError;
use crate::fields::{FieldSelection, plain_fields, to_fields_param};
use crate::paging::{PageLinks, PageRequest, envelope, window};
use crate::store::{NodeRef, World};

/// What rendering needs besides the world: who is looking, and how to build paging links.
pub(crate) struct RenderCtx<'a> {
    pub world: &'a World,
    /// The token's user; edge items are filtered by what this user may see.
    pub viewer: u64,
    /// The token, repeated in paging links as Graph does.
    pub token: &'a str,
    /// `http://<host>/<version>`, the start of every paging link.
    pub api_base: &'a str,
}

/// Graph's time format: `2026-06-23T12:00:00+0000`.
pub(crate) fn graph_time(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%z").to_string()
}

/// The fields a node answers with when `fields` is absent.
fn default_fields(node: NodeRef) -> &'static [&'static str] {
    match node {
        NodeRef::AdAccount(_) => &["id"],
        NodeRef::User(_) | NodeRef::Business(_) | NodeRef::Page(_) | NodeRef::App(_) => {
            &["id", "name"]
        }
    }
}

/// The items of a list edge, filtered by visibility; `None` when the node has no such edge.
pub(crate) fn edge_items(ctx: &RenderCtx<'_>, node: NodeRef, edge: &str) -> Option<Vec<NodeRef>> {
    let world = ctx.world;
    let items: Vec<NodeRef> = match (node, edge) {
        (NodeRef::User(user), "businesses") => world
            .businesses
            .values()
            .filter(|b| b.role_of(user).is_some())
            .map(|b| NodeRef::Business(b.id))
            .collect(),
        (NodeRef::User(user), "accounts") => world
            .pages
            .values()
            .filter(|p| p.admins.contains(&user))
            .map(|p| NodeRef::Page(p.id))
            .collect(),
        (NodeRef::Business(business), "owned_pages") => world
            .pages
            .values()
            .filter(|p| p.owner_business == Some(business))
            .map(|p| NodeRef::Page(p.id))
            .collect(),
        (NodeRef::Business(business), "owned_ad_accounts") => world
            .ad_accounts
            .values()
            .filter(|a| a.owner_business == Some(business))
            .map(|a| NodeRef::AdAccount(a.id))
            .collect(),
        (NodeRef::Business(business), "owned_apps") => world
            .apps
            .values()
            .filter(|a| a.owner_business == Some(business))
            .map(|a| NodeRef::App(a.id))
            .collect(),
        // Client assets (shared by other businesses) are not emulated yet: always empty.
        (NodeRef::Business(_), "client_pages" | "client_ad_accounts") => Vec::new(),
        _ => return None,
    };
    // [guess] Another user's edges show only what the token's user may see too.
    Some(
        items
            .into_iter()
            .filter(|item| world.can_see(ctx.viewer, *item))
            .collect(),
    )
}

/// Renders one node with the given selection, or its default fields.
pub(crate) fn render_node(
    ctx: &RenderCtx<'_>,
    node: NodeRef,
    selection: Option<&[FieldSelection]>,
) -> Result<Value, GraphError> {
    let defaults;
    let fields = match selection {
        Some(fields) if !fields.is_empty() => fields,
        _ => {
            defaults = plain_fields(default_fields(node));
            defaults.as_slice()
        }
    };
    let mut out = Map::new();
    for field in fields {
        let value = match edge_items(ctx, node, &field.name) {
            Some(items) => Some(render_nested_edge(ctx, node, field, &items)?),
            None => field_value(ctx, node, field)?,
        };
        // Graph omits fields that have no value rather than sending null.
        if let Some(value) = value {
            out.insert(field.key().to_owned(), value);
        }
    }
    Ok(Value::Object(out))
}

/// Renders one page of a list of nodes as Graph's list envelope.
pub(crate) fn render_list(
    ctx: &RenderCtx<'_>,
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
    ctx: &RenderCtx<'_>,
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
fn embedded(
    ctx: &RenderCtx<'_>,
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

/// The value of a plain or embedded field; `Ok(None)` when it is unset.
fn field_value(
    ctx: &RenderCtx<'_>,
    node: NodeRef,
    field: &FieldSelection,
) -> Result<Option<Value>, GraphError> {
    let name = field.name.as_str();
    let unknown = || GraphError::nonexisting_field(name, node.type_name());
    let world = ctx.world;
    let value = match node {
        NodeRef::User(id) => {
            let user = world.users.get(&id).ok_or_else(unknown)?;
            match name {
                "id" => json!(user.id.to_string()),
                "name" => json!(user.name),
                "is_work_account" => json!(user.is_work_account),
                _ => return Err(unknown()),
            }
        }
        NodeRef::Business(id) => {
            let business = world.businesses.get(&id).ok_or_else(unknown)?;
            match name {
                "id" => json!(business.id.to_string()),
                "name" => json!(business.name),
                "vertical" => json!(business.vertical),
                "timezone_id" => json!(business.timezone_id),
                "primary_page" => {
                    let page = business.primary_page.map(NodeRef::Page);
                    return embedded(ctx, page, field, &["category", "name", "id"]);
                }
                "created_by" => {
                    let user = business.created_by.map(NodeRef::User);
                    return embedded(ctx, user, field, &["id", "name"]);
                }
                "updated_by" => {
                    let user = business.updated_by.map(NodeRef::User);
                    return embedded(ctx, user, field, &["id", "name"]);
                }
                "created_time" | "creation_time" => json!(graph_time(business.created_time)),
                "updated_time" | "update_time" => json!(graph_time(business.updated_time)),
                "link" => json!(format!(
                    "https://business.facebook.com/settings/?business_id={}",
                    business.id
                )),
                "verification_status" => json!("not_verified"),
                "email" => return Ok(business.email.as_ref().map(|e| json!(e))),
                // Set only during a managed-account migration, which is not emulated yet.
                "user_access_expire_time" => return Ok(None),
                _ => return Err(unknown()),
            }
        }
        NodeRef::Page(id) => {
            let page = world.pages.get(&id).ok_or_else(unknown)?;
            match name {
                "id" => json!(page.id.to_string()),
                "name" => json!(page.name),
                "category" => json!(page.category),
                "user_access_expire_time" => return Ok(None),
                _ => return Err(unknown()),
            }
        }
        NodeRef::AdAccount(id) => {
            let account = world.ad_accounts.get(&id).ok_or_else(unknown)?;
            match name {
                "id" => json!(node.graph_id()),
                "account_id" => json!(account.id.to_string()),
                "name" => json!(account.name),
                "currency" => json!(account.currency),
                "account_status" => json!(account.account_status),
                "timezone_id" => json!(account.timezone_id),
                "spend_cap" => json!(account.spend_cap),
                "amount_spent" => json!(account.amount_spent),
                "balance" => json!(account.balance),
                "user_access_expire_time" => return Ok(None),
                _ => return Err(unknown()),
            }
        }
        NodeRef::App(id) => {
            let app = world.apps.get(&id).ok_or_else(unknown)?;
            match name {
                "id" => json!(app.id.to_string()),
                "name" => json!(app.name),
                _ => return Err(unknown()),
            }
        }
    };
    Ok(Some(value))
}
