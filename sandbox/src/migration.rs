//! Managed Meta account migration (docs/graph-api.md §9): the migration window of a Facebook
//! user in one business, the `user_access_expire_time` of each asset they hold through it,
//! the loss of those assets once the sandbox clock passes the expiry, and extensions.
//!
//! The model, per (Facebook user, business):
//! - the assets held **through the business's permissions** are the business itself, the
//!   pages it owns that the user is an admin of, and the ad accounts it owns that are
//!   assigned to the user (`MigrationState::ad_account_users`, seeded in `seed.rs`, since
//!   ad accounts have no per-person roles elsewhere in the sandbox). Other assets of the
//!   business get no timestamp and keep their visibility [guess];
//! - starting a migration transfers the user's business permissions to their managed account
//!   (its membership with the same role, page admin rights, ad account assignments), so the
//!   managed account's token reads the assets at once, without a timestamp;
//! - during the window the Facebook user's token reads the assets with the timestamp; after
//!   it, they are invisible to that token: code 100, as an unknown object, everywhere
//!   (node reads, `?ids=`, edges) since the rule is applied in `NodeRef::visible_to`;
//! - system users are never migrated, so their tokens are unaffected.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, TimeDelta, Utc};
use serde_json::{Value, json};

use crate::answer::ReadCtx;
use crate::nodes::NodeRef;
use crate::nodes::business::is_member;
use crate::nodes::managed_account::{self, ManagedAccount};
use crate::nodes::user_permission::{Membership, role_of};
use crate::webhook_sender::{self, Delivery, Job, WebhookConfig};
use crate::wire::error::{ErrorType, GraphError};
use crate::world::{LAST_CLOCK_YEAR, World};

/// [seed] The length of the migration window.
pub(crate) const WINDOW_DAYS: i64 = 30;

/// Why a control-plane request about migration was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Bad input or a precondition not met (HTTP 400).
    Invalid(String),
    /// The request breaks a rule about what already exists (HTTP 409).
    Conflict(String),
}

/// The migration of one Facebook user in one business.
#[derive(Debug, Clone)]
pub(crate) struct Migration {
    pub user_id: u64,
    pub business_id: u64,
    pub managed_account_id: u64,
    pub started_time: DateTime<Utc>,
    pub expire_time: DateTime<Utc>,
    /// The assets that got a `user_access_expire_time`: Business, Page and AdAccount nodes.
    pub assets: Vec<NodeRef>,
}

/// Everything the sandbox knows about managed accounts, migrations and their webhook.
#[derive(Debug, Clone, Default)]
pub(crate) struct MigrationState {
    /// The app's test managed accounts, by their work-account user id.
    pub managed_accounts: BTreeMap<u64, ManagedAccount>,
    /// Migrations by (Facebook user, business).
    pub migrations: BTreeMap<(u64, u64), Migration>,
    /// The users each ad account is assigned to, by ad account id.
    pub ad_account_users: BTreeMap<u64, BTreeSet<u64>>,
    /// Users that are system users (their tokens are never affected).
    pub system_users: BTreeSet<u64>,
    /// Where the `migration_expire_time` webhook goes, once configured.
    pub webhook: Option<WebhookConfig>,
    /// Every delivery queued, oldest first.
    pub deliveries: Vec<Delivery>,
    /// The id of the next delivery.
    pub next_delivery_id: u64,
}

/// The expiry of the viewer's access to a node through a migration, if it has one.
pub(crate) fn expire_time(world: &World, viewer: u64, node: NodeRef) -> Option<DateTime<Utc>> {
    world
        .migration
        .migrations
        .values()
        .filter(|m| m.user_id == viewer && m.assets.contains(&node))
        .map(|m| m.expire_time)
        .min()
}

/// Whether the viewer lost access to the node: its migration window has closed.
pub(crate) fn access_lost(world: &World, viewer: u64, node: NodeRef) -> bool {
    !world.migration.migrations.is_empty()
        && expire_time(world, viewer, node).is_some_and(|expiry| world.now() >= expiry)
}

/// Code 100 for an id the viewer cannot read: the sandbox's usual "Unsupported request" error
/// (subcode 33), of type `OAuthException` when the viewer lost the object with a migration
/// window [seed: §9 names that type], `GraphMethodException` otherwise.
pub(crate) fn unreadable(world: &World, viewer: u64, id: &str, method: &str) -> GraphError {
    let error = GraphError::unsupported(method, id);
    match world.lookup(id, Some(viewer)) {
        Some(node) if access_lost(world, viewer, node) => GraphError {
            kind: ErrorType::OAuth,
            ..error
        },
        _ => error,
    }
}

/// The `user_access_expire_time` field of a Business, Page or AdAccount for the token that
/// reads it: absent unless the token's user is in a migration window for it. On a business
/// it needs the `business_management` permission [seed].
pub(crate) fn user_access_expire_time(
    ctx: &ReadCtx<'_>,
    node: NodeRef,
) -> Result<Option<Value>, GraphError> {
    if let NodeRef::Business(_) = node {
        let allowed = ctx
            .world
            .tokens
            .get(ctx.token)
            .is_some_and(|t| t.permissions.contains("business_management"));
        if !allowed {
            // [guess] Graph's wording for this refusal is unpublished.
            return Err(GraphError::coded(
                200,
                "Reading user_access_expire_time on a business requires the \
                 business_management permission",
            ));
        }
    }
    Ok(expire_time(ctx.world, ctx.viewer, node).map(|t| json!(expire_time_text(t))))
}

/// `user_access_expire_time` as §9 writes it: `2026-06-23T12:00:00+00:00`.
pub(crate) fn expire_time_text(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// The assets a user holds through a business's permissions (see the module's model).
fn held_assets(world: &World, user_id: u64, business_id: u64) -> Vec<NodeRef> {
    let owned = Some(business_id);
    let mut assets = vec![NodeRef::Business(business_id)];
    assets.extend(
        world
            .pages
            .values()
            .filter(|p| p.owner_business == owned && p.is_admin(user_id))
            .map(|p| NodeRef::Page(p.id)),
    );
    assets.extend(
        world
            .ad_accounts
            .values()
            .filter(|a| a.owner_business == owned && is_assigned(world, a.id, user_id))
            .map(|a| NodeRef::AdAccount(a.id)),
    );
    assets
}

/// Whether an ad account is assigned to a user.
pub(crate) fn is_assigned(world: &World, ad_account_id: u64, user_id: u64) -> bool {
    world
        .migration
        .ad_account_users
        .get(&ad_account_id)
        .is_some_and(|users| users.contains(&user_id))
}

/// Gives the managed account what the Facebook user holds through the business: the same
/// role (unless it already has one), admin rights on the pages, the ad accounts.
fn transfer(world: &mut World, from: u64, to: u64, business_id: u64, assets: &[NodeRef]) {
    let now = world.now();
    if let Some(role) = role_of(world, business_id, from)
        && role_of(world, business_id, to).is_none()
    {
        let row = world.next_membership_id();
        let person = world.next_people_node_id();
        world.memberships.insert(
            row,
            Membership::active(row, person, business_id, to, role, now),
        );
    }
    for asset in assets {
        match *asset {
            NodeRef::Page(id) => {
                if let Some(page) = world.pages.get_mut(&id)
                    && !page.is_admin(to)
                {
                    page.admins.push(to);
                }
            }
            NodeRef::AdAccount(id) => {
                world
                    .migration
                    .ad_account_users
                    .entry(id)
                    .or_default()
                    .insert(to);
            }
            _ => {}
        }
    }
}

/// What starting or extending a migration did, for the control plane's answer.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub migration: Migration,
    /// The webhook delivery queued, when a callback is configured.
    pub job: Option<Job>,
}

/// Starts the migration of a Facebook user in a business: their managed account must exist,
/// they must be an ACTIVE person of the business, and not be migrating there already.
pub(crate) fn start(world: &mut World, user_id: u64, business_id: u64) -> Result<Outcome, Refusal> {
    if world.migration.system_users.contains(&user_id) {
        return Err(Refusal::Invalid(format!(
            "user {user_id} is a system user; system-user tokens are not affected by migration"
        )));
    }
    if world.users.get(&user_id).is_some_and(|u| u.is_work_account) {
        return Err(Refusal::Invalid(format!(
            "user {user_id} is a work account; only Facebook users are migrated"
        )));
    }
    if !is_member(world, user_id, business_id) {
        return Err(Refusal::Invalid(format!(
            "user {user_id} is not an ACTIVE person of business {business_id}"
        )));
    }
    let managed = managed_account::of_facebook_user(world, user_id)
        .map(|account| account.user_id)
        .ok_or_else(|| {
            Refusal::Invalid(format!(
                "user {user_id} has no test managed account; create one with POST \
                 /__sandbox/managed_accounts first"
            ))
        })?;
    if let Some(existing) = world.migration.migrations.get(&(user_id, business_id)) {
        return Err(Refusal::Conflict(format!(
            "user {user_id} is already migrating in business {business_id} (expires {})",
            webhook_sender::rfc3339(existing.expire_time)
        )));
    }
    let now = world.now();
    let assets = held_assets(world, user_id, business_id);
    transfer(world, user_id, managed, business_id, &assets);
    let migration = Migration {
        user_id,
        business_id,
        managed_account_id: managed,
        started_time: now,
        expire_time: now + TimeDelta::days(WINDOW_DAYS),
        assets,
    };
    world
        .migration
        .migrations
        .insert((user_id, business_id), migration.clone());
    let job = webhook_sender::queue(world, &migration);
    Ok(Outcome { migration, job })
}

/// How an extension moves the expiry.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Extension {
    /// Adds days to the current expiry.
    Days(u32),
    /// A new expiry, later than the current one.
    Until(DateTime<Utc>),
}

/// Grants an extension ("hybrid mode"): the expiry moves later. Refused once the window has
/// closed (access is already lost) and for an expiry that is not later than the current one.
pub(crate) fn extend(
    world: &mut World,
    user_id: u64,
    business_id: u64,
    extension: Extension,
) -> Result<Outcome, Refusal> {
    let now = world.now();
    let current = world
        .migration
        .migrations
        .get(&(user_id, business_id))
        .map(|m| m.expire_time)
        .ok_or_else(|| {
            Refusal::Invalid(format!(
                "user {user_id} is not migrating in business {business_id}"
            ))
        })?;
    if now >= current {
        return Err(Refusal::Invalid(format!(
            "the window of user {user_id} in business {business_id} closed at {}; access is \
             lost and cannot be extended",
            webhook_sender::rfc3339(current)
        )));
    }
    let new_expiry = match extension {
        Extension::Days(0) => return Err(Refusal::Invalid("days must be at least 1".to_owned())),
        Extension::Days(days) => TimeDelta::try_days(i64::from(days))
            .and_then(|delta| current.checked_add_signed(delta))
            .filter(|t| t.year() <= LAST_CLOCK_YEAR)
            .ok_or_else(|| Refusal::Invalid(format!("{days} days is too far")))?,
        Extension::Until(time) => time,
    };
    if new_expiry <= current {
        return Err(Refusal::Invalid(format!(
            "an extension must move the expiry later than {}",
            webhook_sender::rfc3339(current)
        )));
    }
    let Some(migration) = world.migration.migrations.get_mut(&(user_id, business_id)) else {
        return Err(Refusal::Invalid(format!(
            "user {user_id} is not migrating in business {business_id}"
        )));
    };
    migration.expire_time = new_expiry;
    let migration = migration.clone();
    let job = webhook_sender::queue(world, &migration);
    Ok(Outcome { migration, job })
}

/// A migration as the control plane shows it.
pub(crate) fn to_json(migration: &Migration) -> Value {
    json!({
        "user_id": migration.user_id.to_string(),
        "business_id": migration.business_id.to_string(),
        "managed_account_id": migration.managed_account_id.to_string(),
        "started_time": webhook_sender::rfc3339(migration.started_time),
        "migration_expire_time": webhook_sender::rfc3339(migration.expire_time),
        "assets": migration.assets.iter().map(|a| a.graph_id()).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::{demo_permissions, seeded_world};

    const ALEX: u64 = 100_001;
    const POMNI: u64 = 200_001;

    #[test]
    fn alex_holds_pomni_its_pages_he_admins_and_his_assigned_ad_account() {
        let world = seeded_world(Utc::now());
        assert_eq!(
            held_assets(&world, ALEX, POMNI),
            vec![
                NodeRef::Business(POMNI),
                NodeRef::Page(300_001),
                NodeRef::Page(300_002),
                NodeRef::AdAccount(400_001),
            ]
        );
    }

    #[test]
    fn access_is_lost_exactly_when_the_clock_reaches_the_expiry() {
        let mut world = seeded_world(Utc::now());
        managed_account::create(&mut world, ALEX, None, &demo_permissions()).expect("created");
        start(&mut world, ALEX, POMNI).expect("started");
        let page = NodeRef::Page(300_001);
        assert!(!access_lost(&world, ALEX, page));
        world.advance_clock(WINDOW_DAYS * 86_400 - 1);
        assert!(!access_lost(&world, ALEX, page));
        world.advance_clock(1);
        assert!(access_lost(&world, ALEX, page));
        assert!(!access_lost(&world, ALEX, NodeRef::AdAccount(400_002)));
    }
}
