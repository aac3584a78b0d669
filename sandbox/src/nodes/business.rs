//! Business nodes (docs/graph-api.md §8.1): the stored business and the roles of its people
//! (whose rows are `user_permission`'s), its fields and edges, who may see it, and its writes
//! with Graph's validation order and error codes: create on a user's `businesses` edge,
//! update, and the refused delete.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::business_project;
use super::persona;
use super::user_permission::{self, Membership, role_of};
use super::{EdgeArgs, Node, NodeRef, unknown_field};
use super::{business_user, role_request};
use super::{credit_card, extended_credit, finance_permission, invoice};
use crate::answer::{ReadCtx, embedded};
use crate::wire::auth::Viewer;
use crate::wire::error::GraphError;
use crate::wire::fields::FieldSelection;
use crate::wire::graph_time;
use crate::wire::request::{Params, email, scalar_param, timezone_id};
use crate::world::World;

/// A person's role in a business.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Reads and writes everything, manages people.
    Admin,
    /// Reads everything.
    Employee,
}

/// A Business Manager business.
#[derive(Debug, Clone)]
pub(crate) struct Business {
    pub id: u64,
    pub name: String,
    pub vertical: String,
    pub timezone_id: u32,
    pub primary_page: Option<u64>,
    pub email: Option<String>,
    pub created_by: Option<u64>,
    pub updated_by: Option<u64>,
    pub created_time: DateTime<Utc>,
    pub updated_time: DateTime<Utc>,
}

/// Whether a user is an ACTIVE person of a business, with any role (system users included).
/// The assets a business owns are visible to its people through this; invited and suspended
/// people see none of them.
pub(crate) fn is_member(world: &World, user_id: u64, business_id: u64) -> bool {
    role_of(world, business_id, user_id).is_some()
}

impl Node for Business {
    const TYPE_NAME: &'static str = "Business";
    const DEFAULT_FIELDS: &'static [&'static str] = &["id", "name"];

    fn stored(world: &World) -> &BTreeMap<u64, Self> {
        &world.businesses
    }

    /// Its people, whatever their role.
    fn visible_to(&self, world: &World, viewer: u64) -> bool {
        role_of(world, self.id, viewer).is_some()
    }

    fn field(
        ctx: &ReadCtx<'_>,
        business: &Self,
        field: &FieldSelection,
    ) -> Result<Option<Value>, GraphError> {
        let value = match field.name.as_str() {
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
            // The seed's spellings and today's API's are both served (docs/graph-api.md §8.1).
            "created_time" | "creation_time" => json!(graph_time(business.created_time)),
            "updated_time" | "update_time" => json!(graph_time(business.updated_time)),
            "link" => json!(format!(
                "https://business.facebook.com/settings/?business_id={}",
                business.id
            )),
            "verification_status" => json!("not_verified"),
            "email" => return Ok(business.email.as_ref().map(|e| json!(e))),
            // Set only during a managed-account migration window (docs/graph-api.md §9).
            "user_access_expire_time" => {
                return crate::migration::user_access_expire_time(
                    ctx,
                    NodeRef::Business(business.id),
                );
            }
            _ => return Err(unknown_field::<Self>(field)),
        };
        Ok(Some(value))
    }

    fn edge(ctx: &ReadCtx<'_>, id: u64, name: &str) -> Option<Vec<NodeRef>> {
        let world = ctx.world;
        let owned = Some(id);
        let items = match name {
            "owned_pages" => world
                .pages
                .values()
                .filter(|page| page.owner_business == owned)
                .map(|page| NodeRef::Page(page.id))
                .collect(),
            "owned_ad_accounts" => world
                .ad_accounts
                .values()
                .filter(|account| account.owner_business == owned)
                .map(|account| NodeRef::AdAccount(account.id))
                .collect(),
            "owned_apps" => world
                .apps
                .values()
                .filter(|app| app.owner_business == owned)
                .map(|app| NodeRef::App(app.id))
                .collect(),
            // Client assets (shared by other businesses) are not emulated yet: always empty.
            "client_pages" | "client_ad_accounts" => Vec::new(),
            "userpermissions" => user_permission::of_business(world, id),
            // [guess] Served as a list edge holding the viewer's one persona.
            "business_persona" => persona::of_viewer(world, id, ctx.viewer),
            "businessprojects" => business_project::of_business(world, id),
            // The business's system users (docs/graph-api.md §8.6): its members that are
            // system users, in the order they joined.
            "system_users" => world
                .memberships
                .values()
                .filter(|m| m.business_id == id)
                .filter_map(|m| m.user_id)
                .filter(|user| world.migration.system_users.contains(user))
                .map(NodeRef::User)
                .collect(),
            _ => return None,
        };
        Some(items)
    }

    /// The money edges (docs/graph-api.md §8.5), which refuse viewers without the right role
    /// and, for invoices, take a date range; the rest are [`Node::edge`]'s.
    fn edge_with(
        ctx: &ReadCtx<'_>,
        id: u64,
        name: &str,
        args: &EdgeArgs<'_>,
    ) -> Option<Result<Vec<NodeRef>, GraphError>> {
        let (world, viewer) = (ctx.world, ctx.viewer);
        let items = match name {
            "business_invoices" => invoice::of_business(world, viewer, id, args),
            "creditcards" => credit_card::of_business(world, viewer, id),
            "extendedcredits" => extended_credit::of_business(world, viewer, id),
            "finance_permissions" => finance_permission::of_business(world, viewer, id),
            // Today's people (docs/graph-api.md §8.7), over the same rows as `userpermissions`.
            "business_users" => Ok(business_user::of_business(world, id)),
            "pending_users" => role_request::of_business(world, id, args),
            // [guess] A write-only edge: reading it is refused like any unsupported read.
            "adaccount" => Err(GraphError::unsupported("get", &format!("{id}/adaccount"))),
            _ => return Self::edge(ctx, id, name).map(Ok),
        };
        Some(items)
    }
}

/// The vertical enum: the seed's list, then the values today's API adds.
const VERTICALS: [&str; 23] = [
    "ADVERTISING",
    "AUTOMOTIVE",
    "CONSUMER_PACKAGED_GOODS",
    "ECOMMERCE",
    "EDUCATION",
    "ENERGY_AND_UTILITIES",
    "ENTERTAINMENT_AND_MEDIA",
    "FINANCIAL_SERVICES",
    "GAMING",
    "GOVERNMENT_AND_POLITICS",
    "MARKETING",
    "ORGANIZATIONS_AND_ASSOCIATIONS",
    "PROFESSIONAL_SERVICES",
    "RETAIL",
    "TECHNOLOGY",
    "TELECOM",
    "TRAVEL",
    "OTHER",
    "NOT_SET",
    "HEALTH",
    "LUXURY",
    "NON_PROFIT",
    "RESTAURANT",
];

/// The longest business name accepted, in characters.
// [guess] Graph does not document the limit; 75 matches what Business settings allows.
const MAX_NAME_CHARS: usize = 75;

/// Top-level domains that make a name look like a URL.
const URL_SUFFIXES: [&str; 10] = [
    "com", "net", "org", "io", "co", "info", "biz", "me", "app", "dev",
];

/// Whether Graph knows this vertical.
pub(crate) fn is_vertical(vertical: &str) -> bool {
    VERTICALS.contains(&vertical)
}

fn require_business_management(viewer: &Viewer) -> Result<(), GraphError> {
    if viewer.has_permission("business_management") {
        Ok(())
    } else {
        Err(GraphError::coded(
            200,
            "Requires business_management permission to manage the object",
        ))
    }
}

fn validate_vertical(vertical: &str) -> Result<String, GraphError> {
    let vertical = scalar_param(vertical);
    if VERTICALS.contains(&vertical.as_str()) {
        Ok(vertical)
    } else {
        Err(GraphError::invalid_param(&format!(
            "Param vertical must be one of {{{}}}",
            VERTICALS.join(", ")
        )))
    }
}

/// Whether a word looks like a web address (`example.com`, `www.x`, `http://...`).
fn looks_like_url(name: &str) -> bool {
    let lower = name.to_lowercase();
    if lower.contains("://") || lower.contains("www.") {
        return true;
    }
    lower.split_whitespace().any(|word| {
        let word = word.trim_end_matches(|c: char| !c.is_alphanumeric());
        word.rsplit_once('.')
            .is_some_and(|(host, suffix)| !host.is_empty() && URL_SUFFIXES.contains(&suffix))
    })
}

/// Checks a business name: 3973 for an unusable one, 3974 for a too long one.
fn validate_name(name: &str) -> Result<String, GraphError> {
    let trimmed = name.trim();
    // [guess] Graph's exact rules are unpublished: blank names, control characters, angle
    // brackets and web addresses are refused.
    if trimmed.is_empty()
        || trimmed.chars().any(char::is_control)
        || trimmed.contains(['<', '>'])
        || looks_like_url(trimmed)
    {
        return Err(
            GraphError::coded(3973, "Invalid business name").with_user_text(
                "Invalid Business Name",
                "The name you chose for this business is not valid. Try a different name.",
            ),
        );
    }
    if trimmed.chars().count() > MAX_NAME_CHARS {
        return Err(GraphError::coded(
            3974,
            &format!("Invalid business name: a name can have at most {MAX_NAME_CHARS} characters"),
        )
        .with_user_text(
            "Business Name Too Long",
            "The name you chose for this business is too long. Try a shorter name.",
        ));
    }
    Ok(trimmed.to_owned())
}

/// 3947 when the user is already ADMIN of a business with this name (case-insensitive).
fn check_duplicate_name(
    world: &World,
    user_id: u64,
    name: &str,
    except: Option<u64>,
) -> Result<(), GraphError> {
    let wanted = name.to_lowercase();
    let duplicate = world.businesses.values().any(|b| {
        Some(b.id) != except
            && role_of(world, b.id, user_id) == Some(Role::Admin)
            && b.name.to_lowercase() == wanted
    });
    if duplicate {
        Err(GraphError::coded(
            3947,
            "You are trying to create a Business Manager with the same name as one you are \
             already a part of. Please pick another name.",
        ))
    } else {
        Ok(())
    }
}

fn page_id(value: &str) -> Option<u64> {
    scalar_param(value).parse().ok()
}

/// `POST /{user_id}/businesses`: creates a business whose first ADMIN is the caller.
pub(crate) fn create(
    world: &mut World,
    viewer: &Viewer,
    user_id: u64,
    params: &Params,
) -> Result<Value, GraphError> {
    require_business_management(viewer)?;
    if user_id != viewer.user_id {
        return Err(GraphError::permissions());
    }
    // The order of docs/graph-api.md §8.1: every code 100 parameter error first, then 3947,
    // 3973/3974, 3998 and 3918.
    let name = params.required("name")?;
    let vertical = params.required("vertical")?;
    let primary_page = params.required("primary_page")?;
    let vertical = validate_vertical(vertical)?;
    let timezone_id = params
        .get("timezone_id")
        .map(timezone_id)
        .transpose()?
        // [guess] Graph's default when no timezone is given.
        .unwrap_or(0);
    let email = params.get("email").map(email).transpose()?;
    check_duplicate_name(world, viewer.user_id, name.trim(), None)?;
    let name = validate_name(name)?;
    let page = page_id(primary_page)
        .and_then(|id| world.pages.get(&id))
        .filter(|page| page.is_admin(viewer.user_id))
        .ok_or_else(|| GraphError::coded(3998, "The user must be an admin of the primary page"))?;
    if page.owner_business.is_some() {
        return Err(GraphError::coded(
            3918,
            "The Facebook Page you've tried to add is already owned by another Business \
             Manager. You can still request access to this Page, but your request will need \
             to be approved by the Business Manager that owns it.",
        ));
    }
    let page_id = page.id;
    let id = world.next_id();
    let now = world.now();
    world.businesses.insert(
        id,
        Business {
            id,
            name,
            vertical,
            timezone_id,
            primary_page: Some(page_id),
            email,
            created_by: Some(viewer.user_id),
            updated_by: Some(viewer.user_id),
            created_time: now,
            updated_time: now,
        },
    );
    let row = world.next_membership_id();
    let person = world.next_people_node_id();
    world.memberships.insert(
        row,
        Membership::active(row, person, id, viewer.user_id, Role::Admin, now),
    );
    // [guess] The primary page is claimed by the new business.
    if let Some(page) = world.pages.get_mut(&page_id) {
        page.owner_business = Some(id);
    }
    Ok(json!({ "id": id.to_string() }))
}

/// `POST /{business_id}`: updates name, vertical or primary page (ADMIN only).
pub(crate) fn update(
    world: &mut World,
    viewer: &Viewer,
    business_id: u64,
    params: &Params,
) -> Result<Value, GraphError> {
    require_business_management(viewer)?;
    if role_of(world, business_id, viewer.user_id) != Some(Role::Admin) {
        return Err(GraphError::coded(
            3910,
            "You do not have permission to edit this business",
        ));
    }
    // The create order (docs/graph-api.md §8.1): code 100 parameter errors, then 3947,
    // 3973/3974 and the primary page's 3996.
    let vertical = params.get("vertical").map(validate_vertical).transpose()?;
    if let Some(name) = params.get("name") {
        check_duplicate_name(world, viewer.user_id, name.trim(), Some(business_id))?;
    }
    let name = params.get("name").map(validate_name).transpose()?;
    let primary_page = match params.get("primary_page") {
        Some(value) => Some(
            page_id(value)
                .filter(|id| {
                    world
                        .pages
                        .get(id)
                        .is_some_and(|p| p.owner_business == Some(business_id))
                })
                .ok_or_else(|| GraphError::coded(3996, "The page is not owned by this business"))?,
        ),
        None => None,
    };
    let now = world.now();
    let business = world
        .businesses
        .get_mut(&business_id)
        .ok_or_else(|| GraphError::unsupported("post", &business_id.to_string()))?;
    if let Some(name) = name {
        business.name = name;
    }
    if let Some(vertical) = vertical {
        business.vertical = vertical;
    }
    if primary_page.is_some() {
        business.primary_page = primary_page;
    }
    business.updated_by = Some(viewer.user_id);
    business.updated_time = now;
    Ok(json!({ "id": business_id.to_string() }))
}

/// `DELETE /{business_id}`: Graph does not delete businesses (docs/graph-api.md §8.1).
pub(crate) fn delete() -> Result<Value, GraphError> {
    Err(GraphError::invalid_param("Unsupported delete request."))
}

/// A business for the control plane's test setup: people and pages already checked to exist.
#[derive(Debug, Clone)]
pub(crate) struct Setup {
    pub name: String,
    pub vertical: String,
    pub timezone_id: u32,
    pub primary_page: Option<u64>,
    pub email: Option<String>,
    /// Listed as creator and last updater.
    pub creator: Option<u64>,
    /// Its ACTIVE people and their roles.
    pub members: Vec<(u64, Role)>,
}

/// Adds a business without Graph's validation and answers its new id. As with Graph's
/// create, an unowned primary page becomes the business's.
pub(crate) fn add_unvalidated(world: &mut World, setup: Setup) -> u64 {
    let id = world.next_id();
    let now = world.now();
    world.businesses.insert(
        id,
        Business {
            id,
            name: setup.name,
            vertical: setup.vertical,
            timezone_id: setup.timezone_id,
            primary_page: setup.primary_page,
            email: setup.email,
            created_by: setup.creator,
            updated_by: setup.creator,
            created_time: now,
            updated_time: now,
        },
    );
    for (user_id, role) in setup.members {
        let row = world.next_membership_id();
        let person = world.next_people_node_id();
        let mut membership = Membership::active(row, person, id, user_id, role, now);
        membership.created_by = setup.creator;
        membership.updated_by = setup.creator;
        world.memberships.insert(row, membership);
    }
    if let Some(page) = setup.primary_page.and_then(|p| world.pages.get_mut(&p))
        && page.owner_business.is_none()
    {
        page.owner_business = Some(id);
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_markup_addresses_or_control_characters_are_refused() {
        for bad in [
            "",
            "  ",
            "A <b>",
            "Visit pomni.com",
            "http://x",
            "Tab\tName",
        ] {
            assert_eq!(validate_name(bad).map_err(|e| e.code), Err(3973), "{bad:?}");
        }
        assert_eq!(
            validate_name(&"x".repeat(76)).map_err(|e| e.code),
            Err(3974)
        );
        assert_eq!(
            validate_name(" Mr. Smith & Co ").ok().as_deref(),
            Some("Mr. Smith & Co")
        );
    }
}
