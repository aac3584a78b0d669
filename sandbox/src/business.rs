//! Business Manager writes (UPSTREAM §8.1): creating a business on a user's `businesses` edge
//! and updating one, with Graph's validation order and error codes.

use serde_json::{Value, json};

use crate::auth::Viewer;
use crate::error::GraphError;
use crate::request::{Params, scalar_param};
use crate::store::{Business, Membership, Role, World};

/// The vertical enum: the seed's list, then the values today's API adds.
pub(crate) const VERTICALS: [&str; 23] = [
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

/// The largest `timezone_id` Graph knows.
const MAX_TIMEZONE_ID: i64 = 592;

/// Top-level domains that make a name look like a URL.
const URL_SUFFIXES: [&str; 10] = [
    "com", "net", "org", "io", "co", "info", "biz", "me", "app", "dev",
];

fn required<'a>(params: &'a Params, name: &str) -> Result<&'a str, GraphError> {
    params
        .get(name)
        .ok_or_else(|| GraphError::invalid_param(&format!("The parameter {name} is required")))
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

fn validate_timezone(value: &str) -> Result<u32, GraphError> {
    scalar_param(value)
        .parse::<i64>()
        .ok()
        .filter(|id| (0..=MAX_TIMEZONE_ID).contains(id))
        .and_then(|id| u32::try_from(id).ok())
        .ok_or_else(|| {
            GraphError::invalid_param(&format!(
                "Param timezone_id must be an integer between 0 and {MAX_TIMEZONE_ID}"
            ))
        })
}

fn validate_email(value: &str) -> Result<String, GraphError> {
    let email = scalar_param(value);
    let valid = email
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    if valid {
        Ok(email)
    } else {
        Err(GraphError::invalid_param(
            "Param email must be a valid email address",
        ))
    }
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
            && b.role_of(user_id) == Some(Role::Admin)
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
    // UPSTREAM §8.1's order: every code 100 parameter error first, then 3947, 3973/3974,
    // 3998 and 3918.
    let name = required(params, "name")?;
    let vertical = required(params, "vertical")?;
    let primary_page = required(params, "primary_page")?;
    let vertical = validate_vertical(vertical)?;
    let timezone_id = params
        .get("timezone_id")
        .map(validate_timezone)
        .transpose()?
        // [guess] Graph's default when no timezone is given.
        .unwrap_or(0);
    let email = params.get("email").map(validate_email).transpose()?;
    check_duplicate_name(world, viewer.user_id, name.trim(), None)?;
    let name = validate_name(name)?;
    let page = page_id(primary_page)
        .and_then(|id| world.pages.get(&id))
        .filter(|page| page.admins.contains(&viewer.user_id))
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
            members: vec![Membership {
                user_id: viewer.user_id,
                role: Role::Admin,
            }],
        },
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
    let role = world
        .businesses
        .get(&business_id)
        .and_then(|b| b.role_of(viewer.user_id));
    if role != Some(Role::Admin) {
        return Err(GraphError::coded(
            3910,
            "You do not have permission to edit this business",
        ));
    }
    // The create order (UPSTREAM §8.1): code 100 parameter errors, then 3947, 3973/3974 and
    // the primary page's 3996.
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
