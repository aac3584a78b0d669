//! Business projects (docs/graph-api.md §8.4): named groups of a business's pages, ad accounts
//! and apps. Listed on the business's `businessprojects` edge, read by id; created and deleted
//! by the business's ADMINs, read by all its people.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::business::is_member;
use super::user_permission::require_admin;
use super::{Node, NodeRef, unknown_field};
use crate::answer::{ReadCtx, embedded};
use crate::wire::auth::Viewer;
use crate::wire::error::GraphError;
use crate::wire::fields::FieldSelection;
use crate::wire::graph_time;
use crate::wire::request::Params;
use crate::world::World;

/// [guess] The longest project name accepted; Graph's limit is unpublished.
pub(crate) const MAX_NAME_CHARS: usize = 100;

/// One project of one business, with the assets it holds.
#[derive(Debug, Clone)]
pub(crate) struct BusinessProject {
    pub id: u64,
    pub business_id: u64,
    pub name: String,
    pub pages: BTreeSet<u64>,
    pub ad_accounts: BTreeSet<u64>,
    pub apps: BTreeSet<u64>,
    pub created_by: Option<u64>,
    pub updated_by: Option<u64>,
    pub created_time: DateTime<Utc>,
    pub updated_time: DateTime<Utc>,
}

impl Node for BusinessProject {
    // [guess] Graph's type name for projects.
    const TYPE_NAME: &'static str = "BusinessProject";
    const DEFAULT_FIELDS: &'static [&'static str] = &["id", "name"];

    fn stored(world: &World) -> &BTreeMap<u64, Self> {
        &world.business_projects
    }

    /// The people of the project's business, whatever their role.
    fn visible_to(&self, world: &World, viewer: u64) -> bool {
        is_member(world, viewer, self.business_id)
    }

    fn field(
        ctx: &ReadCtx<'_>,
        project: &Self,
        field: &FieldSelection,
    ) -> Result<Option<Value>, GraphError> {
        let user_fields: &[&str] = &["id", "name"];
        let value = match field.name.as_str() {
            "id" => json!(project.id.to_string()),
            "name" => json!(project.name),
            "business" => {
                let business = Some(NodeRef::Business(project.business_id));
                return embedded(ctx, business, field, &["id", "name"]);
            }
            "created_by" => {
                let creator = project.created_by.map(NodeRef::User);
                return embedded(ctx, creator, field, user_fields);
            }
            "updated_by" => {
                let updater = project.updated_by.map(NodeRef::User);
                return embedded(ctx, updater, field, user_fields);
            }
            "created_time" => json!(graph_time(project.created_time)),
            // The seed's spelling (`update_time`) and today's are both served, as for
            // businesses.
            "updated_time" | "update_time" => json!(graph_time(project.updated_time)),
            _ => return Err(unknown_field::<Self>(field)),
        };
        Ok(Some(value))
    }

    fn edge(ctx: &ReadCtx<'_>, id: u64, name: &str) -> Option<Vec<NodeRef>> {
        let project = ctx.world.business_projects.get(&id)?;
        let items = match name {
            "pages" => project.pages.iter().map(|&p| NodeRef::Page(p)).collect(),
            "adaccounts" => project
                .ad_accounts
                .iter()
                .map(|&a| NodeRef::AdAccount(a))
                .collect(),
            "apps" => project.apps.iter().map(|&a| NodeRef::App(a)).collect(),
            _ => return None,
        };
        Some(items)
    }
}

/// The projects of a business, oldest first, as its `businessprojects` edge.
pub(crate) fn of_business(world: &World, business_id: u64) -> Vec<NodeRef> {
    world
        .business_projects
        .values()
        .filter(|p| p.business_id == business_id)
        .map(|p| NodeRef::BusinessProject(p.id))
        .collect()
}

/// A project name: trimmed, not blank, no control characters, at most [`MAX_NAME_CHARS`];
/// code 100 otherwise ([guess] Graph's messages for these are unpublished).
fn validate_name(name: &str) -> Result<String, GraphError> {
    let trimmed = name.trim();
    if trimmed.is_empty() || trimmed.chars().any(char::is_control) {
        return Err(GraphError::invalid_param(
            "Param name must be a non-empty string",
        ));
    }
    if trimmed.chars().count() > MAX_NAME_CHARS {
        return Err(GraphError::invalid_param(&format!(
            "Param name must be at most {MAX_NAME_CHARS} characters long"
        )));
    }
    Ok(trimmed.to_owned())
}

/// Today's Graph made projects read-only in 2024 (business asset groups replaced them): with
/// the control plane's `projects/read_only` on, every project write answers Graph's
/// "Unsupported <method> request" on the object written to, before any other check, as
/// Graph refuses an operation a node does not support [guess: which error Graph answers is
/// not published].
fn refuse_when_read_only(world: &World, method: &str, id: u64) -> Result<(), GraphError> {
    if world.projects_read_only {
        return Err(GraphError::unsupported(method, &id.to_string()));
    }
    Ok(())
}

/// `POST /{business_id}/businessprojects`: creates an empty project named `name`.
pub(crate) fn create(
    world: &mut World,
    viewer: &Viewer,
    business_id: u64,
    params: &Params,
) -> Result<Value, GraphError> {
    refuse_when_read_only(world, "post", business_id)?;
    // The order of the people writes (docs/graph-api.md §8.2): the caller's role (200), then
    // the parameters (100).
    require_admin(world, viewer, business_id)?;
    let name = validate_name(params.required("name")?)?;
    let now = world.now();
    let id = world.next_id();
    world.business_projects.insert(
        id,
        BusinessProject {
            id,
            business_id,
            name,
            pages: BTreeSet::new(),
            ad_accounts: BTreeSet::new(),
            apps: BTreeSet::new(),
            created_by: Some(viewer.user_id),
            updated_by: Some(viewer.user_id),
            created_time: now,
            updated_time: now,
        },
    );
    Ok(json!({ "id": id.to_string() }))
}

/// `DELETE /{project_id}`: removes the project; its assets stay with the business, free to
/// join another project.
pub(crate) fn delete(
    world: &mut World,
    viewer: &Viewer,
    project_id: u64,
) -> Result<Value, GraphError> {
    refuse_when_read_only(world, "delete", project_id)?;
    let business_id = world
        .business_projects
        .get(&project_id)
        .map(|p| p.business_id)
        .ok_or_else(|| GraphError::unsupported("delete", &project_id.to_string()))?;
    require_admin(world, viewer, business_id)?;
    world.business_projects.remove(&project_id);
    // [guess] Graph answers deletes with a bare success.
    Ok(json!({ "success": true }))
}

/// The kinds of asset a project holds, one per project edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AssetKind {
    Page,
    AdAccount,
    App,
}

impl AssetKind {
    /// The kind a project edge holds, if it is one of the three asset edges.
    pub(crate) fn of_edge(edge: &str) -> Option<Self> {
        match edge {
            "pages" => Some(AssetKind::Page),
            "adaccounts" => Some(AssetKind::AdAccount),
            "apps" => Some(AssetKind::App),
            _ => None,
        }
    }

    /// The parameter naming the asset in a write (docs/graph-api.md §8.4).
    fn param(self) -> &'static str {
        match self {
            AssetKind::Page => "page_id",
            AssetKind::AdAccount => "adaccount_id",
            AssetKind::App => "app_id",
        }
    }

    /// The asset's numeric id; ad accounts are named `act_<n>` ([guess] the bare number is
    /// accepted too, as many Graph writes do).
    fn parse(self, value: &str) -> Option<u64> {
        let value = value.trim();
        let number = match self {
            AssetKind::AdAccount => value.strip_prefix("act_").unwrap_or(value),
            AssetKind::Page | AssetKind::App => value,
        };
        number.parse().ok()
    }

    /// The business that owns the asset, if it exists and has an owner.
    fn owner(self, world: &World, id: u64) -> Option<u64> {
        match self {
            AssetKind::Page => world.pages.get(&id).and_then(|p| p.owner_business),
            AssetKind::AdAccount => world.ad_accounts.get(&id).and_then(|a| a.owner_business),
            AssetKind::App => world.apps.get(&id).and_then(|a| a.owner_business),
        }
    }

    /// The project's set of assets of this kind.
    fn set(self, project: &BusinessProject) -> &BTreeSet<u64> {
        match self {
            AssetKind::Page => &project.pages,
            AssetKind::AdAccount => &project.ad_accounts,
            AssetKind::App => &project.apps,
        }
    }

    fn set_mut(self, project: &mut BusinessProject) -> &mut BTreeSet<u64> {
        match self {
            AssetKind::Page => &mut project.pages,
            AssetKind::AdAccount => &mut project.ad_accounts,
            AssetKind::App => &mut project.apps,
        }
    }
}

/// Checks an asset write in Graph's order (the caller's role 200, then the parameter 100) and
/// answers the project's business and the asset's numeric id.
fn asset_write(
    world: &World,
    viewer: &Viewer,
    project_id: u64,
    kind: AssetKind,
    params: &Params,
) -> Result<u64, GraphError> {
    let business_id = world
        .business_projects
        .get(&project_id)
        .map(|p| p.business_id)
        .ok_or_else(|| GraphError::unsupported("post", &project_id.to_string()))?;
    require_admin(world, viewer, business_id)?;
    let name = kind.param();
    let value = params.required(name)?;
    // [guess] Graph's message for an asset outside the business is unpublished; one message
    // serves unknown assets and other businesses' assets alike, so that it reveals nothing.
    kind.parse(value)
        .filter(|&id| kind.owner(world, id) == Some(business_id))
        .ok_or_else(|| {
            GraphError::invalid_param(&format!(
                "Param {name} must be an asset of the project's business"
            ))
        })
}

/// `POST /{project_id}/pages|adaccounts|apps`: puts one of the business's assets in the
/// project. An asset is in at most one project ("one label per asset"); adding it again to
/// its own project changes nothing.
pub(crate) fn add_asset(
    world: &mut World,
    viewer: &Viewer,
    project_id: u64,
    kind: AssetKind,
    params: &Params,
) -> Result<Value, GraphError> {
    refuse_when_read_only(world, "post", project_id)?;
    let asset = asset_write(world, viewer, project_id, kind, params)?;
    // [guess] Code 100 for an asset held by another project (docs/graph-api.md §8.4).
    let elsewhere = world
        .business_projects
        .values()
        .find(|p| p.id != project_id && kind.set(p).contains(&asset));
    if let Some(other) = elsewhere {
        return Err(GraphError::invalid_param(&format!(
            "The asset {asset} is already in project {}; remove it from there first",
            other.id
        )));
    }
    let now = world.now();
    if let Some(project) = world.business_projects.get_mut(&project_id)
        && kind.set_mut(project).insert(asset)
    {
        project.updated_by = Some(viewer.user_id);
        project.updated_time = now;
    }
    // [guess] Graph answers edge writes with a bare success.
    Ok(json!({ "success": true }))
}

/// `DELETE /{project_id}/pages|adaccounts|apps`: takes an asset out of the project; it stays
/// with the business.
pub(crate) fn remove_asset(
    world: &mut World,
    viewer: &Viewer,
    project_id: u64,
    kind: AssetKind,
    params: &Params,
) -> Result<Value, GraphError> {
    refuse_when_read_only(world, "delete", project_id)?;
    let asset = asset_write(world, viewer, project_id, kind, params)?;
    let now = world.now();
    let project = world
        .business_projects
        .get_mut(&project_id)
        .ok_or_else(|| GraphError::unsupported("delete", &project_id.to_string()))?;
    if !kind.set_mut(project).remove(&asset) {
        // [guess] Code 100 for an asset that is not in the project.
        return Err(GraphError::invalid_param(&format!(
            "The asset {asset} is not in project {project_id}"
        )));
    }
    project.updated_by = Some(viewer.user_id);
    project.updated_time = now;
    Ok(json!({ "success": true }))
}
