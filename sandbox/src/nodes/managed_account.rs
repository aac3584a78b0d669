//! Test managed Meta accounts (docs/graph-api.md §9 "Testing"): the app's one test managed
//! account, a work-account `User` made for a Facebook user whose business permissions it can
//! take over in a migration (`crate::migration`). The record is not a Graph node of its own:
//! Graph reads the account as the `User` it is (`is_work_account: true`).

use chrono::{DateTime, Utc};

use super::user;
use crate::migration::Refusal;
use crate::world::World;

/// [seed] How many test managed accounts one app may have. The sandbox emulates one app.
pub(crate) const MAX_PER_APP: usize = 1;

/// A test managed account and the Facebook user it belongs to.
#[derive(Debug, Clone)]
pub(crate) struct ManagedAccount {
    /// The work-account user.
    pub user_id: u64,
    /// The Facebook user (a person, not a work account) who owns it.
    pub facebook_user_id: u64,
    pub created_time: DateTime<Utc>,
    /// How many times the app was granted again with this account
    /// (`POST /__sandbox/migrations/grant`), for its tokens' names.
    pub grants: u32,
}

/// What the control plane gets back from creating a managed account or granting the app
/// again with it: the account and the new token with what it was granted.
#[derive(Debug, Clone)]
pub(crate) struct Issued {
    pub user_id: u64,
    pub token: String,
    pub permissions: Vec<String>,
}

/// The managed account of a Facebook user, if the app has one for them.
pub(crate) fn of_facebook_user(world: &World, facebook_user_id: u64) -> Option<&ManagedAccount> {
    world
        .migration
        .managed_accounts
        .values()
        .find(|account| account.facebook_user_id == facebook_user_id)
}

/// The permissions a work account's token holds, as `user::add` stored them.
fn granted(world: &World, token: &str) -> Vec<String> {
    world
        .tokens
        .get(token)
        .map(|t| t.permissions.iter().cloned().collect())
        .unwrap_or_default()
}

/// Creates the app's test managed account for a Facebook user: a new work-account user with
/// a token (`sandbox-token-<id>`) holding `permissions` minus any `user_*` one (docs/graph-api.md
/// §8.6). Refused when the app already has one (at most [`MAX_PER_APP`]), and for a work
/// account or a system user (neither has a Facebook account to migrate).
pub(crate) fn create(
    world: &mut World,
    facebook_user_id: u64,
    name: Option<&str>,
    permissions: &[String],
) -> Result<Issued, Refusal> {
    let person = world
        .users
        .get(&facebook_user_id)
        .ok_or_else(|| Refusal::Invalid(format!("unknown user {facebook_user_id}")))?;
    if person.is_work_account {
        return Err(Refusal::Invalid(format!(
            "user {facebook_user_id} is a work account; a managed account is made for a \
             Facebook user"
        )));
    }
    if world.migration.system_users.contains(&facebook_user_id) {
        return Err(Refusal::Invalid(format!(
            "user {facebook_user_id} is a system user; system users are not migrated"
        )));
    }
    if let Some(existing) = world.migration.managed_accounts.values().next()
        && world.migration.managed_accounts.len() >= MAX_PER_APP
    {
        return Err(Refusal::Conflict(format!(
            "an app may have at most {MAX_PER_APP} test managed account; the app already has \
             {} (for user {})",
            existing.user_id, existing.facebook_user_id
        )));
    }
    let name = match name.map(str::trim) {
        Some("") => return Err(Refusal::Invalid("name is empty".to_owned())),
        Some(name) => name.to_owned(),
        // [guess] Meta names test managed accounts after their person.
        None => format!("{} (managed)", person.name),
    };
    let id = world.next_id();
    let token = format!("sandbox-token-{id}");
    user::add(world, id, &name, true, Some(&token), permissions);
    let now = world.now();
    world.migration.managed_accounts.insert(
        id,
        ManagedAccount {
            user_id: id,
            facebook_user_id,
            created_time: now,
            grants: 0,
        },
    );
    let permissions = granted(world, &token);
    Ok(Issued {
        user_id: id,
        token,
        permissions,
    })
}

/// The person grants the app again, logging in with the managed account: a new token for it
/// (`sandbox-token-<id>-grant-<n>`), without `user_*` permissions. Refused for a user that is
/// not the app's managed account, and before any migration moved permissions to it.
pub(crate) fn grant_again(
    world: &mut World,
    managed_user_id: u64,
    permissions: &[String],
) -> Result<Issued, Refusal> {
    let account = world
        .migration
        .managed_accounts
        .get(&managed_user_id)
        .ok_or_else(|| {
            Refusal::Invalid(format!(
                "user {managed_user_id} is not the app's test managed account"
            ))
        })?;
    let facebook_user_id = account.facebook_user_id;
    if !world
        .migration
        .migrations
        .values()
        .any(|m| m.managed_account_id == managed_user_id)
    {
        return Err(Refusal::Invalid(format!(
            "managed account {managed_user_id} holds no business permissions yet: start a \
             migration of user {facebook_user_id} first"
        )));
    }
    let grants = account.grants + 1;
    if let Some(account) = world.migration.managed_accounts.get_mut(&managed_user_id) {
        account.grants = grants;
    }
    let token = format!("sandbox-token-{managed_user_id}-grant-{grants}");
    let name = world
        .users
        .get(&managed_user_id)
        .map(|u| u.name.clone())
        .unwrap_or_default();
    // Re-adding the user keeps it as it is and adds the token.
    user::add(
        world,
        managed_user_id,
        &name,
        true,
        Some(&token),
        permissions,
    );
    let permissions = granted(world, &token);
    Ok(Issued {
        user_id: managed_user_id,
        token,
        permissions,
    })
}
