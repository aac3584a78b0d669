//! Managed Meta account migration: `Query.migrationStatus`, `Business.migrationReadiness` and
//! `Subscription.migrationEvents`, from the `user_access_expire_time` Graph shows the caller's
//! token and Meta's verified `migration_expire_time` webhooks. A lost asset is a state in the
//! answer (Graph's code 100 on an asset known to be migrating), never a failed query.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_graphql::{Context, ID, Result, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};

use super::assets::Actor;
use super::error::{coded, has_code, invalid_argument};
use super::input::UserId;
use super::upstream::{RequestContext, Upstream};
use crate::error::ErrorCode;
use crate::events::{KnownAsset, MigrationNews};
use crate::graph::{EdgeArgs, FieldSet, model};
use crate::webhooks;

/// A subscriber's view of who it may hear about is read again at most this often, when an
/// event names someone it did not know.
const AUDIENCE_REFRESH: Duration = Duration::from_secs(30);

/// Businesses, and people per business, read for a subscriber's audience (Graph's largest
/// page).
const AUDIENCE_PAGE: u32 = 100;

/// A migration's expiry as Meta's webhook reported it: sent when a migration starts and
/// whenever its expiry moves.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct MigrationEvent {
    /// The Facebook user moving to a managed Meta account.
    pub user_id: ID,
    /// When access through that user's own token ends.
    pub migration_expire_time: DateTime<Utc>,
    /// The managed account the webhook is about.
    pub managed_account_id: ID,
    /// When Meta sent the change, if it said.
    pub sent_time: Option<DateTime<Utc>>,
}

impl MigrationEvent {
    fn from_webhook(event: &webhooks::MigrationEvent) -> MigrationEvent {
        MigrationEvent {
            user_id: ID(event.user_id.clone()),
            migration_expire_time: event.migration_expire_time,
            managed_account_id: ID(event.entry_id.clone()),
            sent_time: event.sent_at,
        }
    }
}

/// How many subscriptions one connection may hold at once, and how many it holds; clones
/// count the same subscriptions.
#[derive(Clone)]
pub(crate) struct SubscriptionSlots {
    max: usize,
    active: Arc<AtomicUsize>,
}

impl SubscriptionSlots {
    /// At most `max` at once.
    pub(crate) fn new(max: usize) -> SubscriptionSlots {
        SubscriptionSlots {
            max,
            active: Arc::default(),
        }
    }

    /// The subscriptions running now.
    pub(crate) fn active(&self) -> usize {
        self.active.load(Ordering::Acquire)
    }

    fn take(&self) -> Result<Slot> {
        let taken = self
            .active
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            });
        match taken {
            Ok(_) => Ok(Slot(self.active.clone())),
            Err(_) => Err(coded(
                ErrorCode::BadRequest,
                format!(
                    "this connection already runs {} subscriptions, the most one connection may; \
                     complete one first",
                    self.max
                ),
            )),
        }
    }
}

/// The process-wide gauge of running subscriptions (schema data; absent in tests of the
/// schema alone).
#[derive(Clone)]
pub(crate) struct RunningSubscriptions(pub(crate) prometheus_client::metrics::gauge::Gauge);

/// Counts one running subscription for as long as it lives.
struct Running(Option<prometheus_client::metrics::gauge::Gauge>);

impl Running {
    fn start(gauge: Option<&RunningSubscriptions>) -> Running {
        let gauge = gauge.map(|g| g.0.clone());
        if let Some(gauge) = &gauge {
            gauge.inc();
        }
        Running(gauge)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(gauge) = &self.0 {
            gauge.dec();
        }
    }
}

/// One subscription's place on its connection, given back when its stream ends.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Whom a subscriber may hear about: itself, and the people of the businesses its token reads.
struct Audience {
    me: String,
    people: HashSet<String>,
    read_at: Instant,
}

impl Audience {
    fn includes(&self, user: &str) -> bool {
        self.me == user || self.people.contains(user)
    }
}

/// Reads the token's user (failing for a token Graph refuses), then the people of its
/// businesses (when that read fails, the subscriber hears only about itself).
async fn audience(auth: &RequestContext) -> Result<Audience> {
    let upstream = Upstream::on(auth)?;
    let mut fields = FieldSet::new();
    fields.scalar("id");
    let page = EdgeArgs {
        limit: Some(AUDIENCE_PAGE),
        ..EdgeArgs::default()
    };
    let businesses = fields.edge("businesses", &page);
    businesses.scalar("id");
    let rows = businesses.edge("userpermissions", &page);
    rows.scalar("id");
    rows.object("user").scalar("id");
    // One call in the common case; the bare `me` read only when the people cannot be read,
    // to tell a token Graph refuses from a business whose people are out of reach.
    let me: model::User = match upstream.node("me", &fields).await {
        Ok(me) => me,
        Err(error) => {
            tracing::debug!(error = %error.message, "a subscriber's people could not be read");
            let mut id = FieldSet::new();
            id.scalar("id");
            upstream.node("me", &id).await?
        }
    };
    let mut people = HashSet::new();
    let businesses = me
        .edges
        .list::<model::Business>("businesses")
        .ok()
        .flatten()
        .map(|list| list.data)
        .unwrap_or_default();
    for business in businesses {
        let rows = business
            .edges
            .list::<model::UserPermission>("userpermissions")
            .ok()
            .flatten()
            .map(|list| list.data)
            .unwrap_or_default();
        people.extend(rows.into_iter().filter_map(|row| row.user.map(|u| u.id)));
    }
    Ok(Audience {
        me: me.id,
        people,
        read_at: Instant::now(),
    })
}

/// Migration subscriptions.
#[derive(Default)]
pub(crate) struct MigrationSubscription;

#[Subscription]
impl MigrationSubscription {
    /// Each migration event from Meta's `migration_expire_time` webhook, once, as it arrives:
    /// about `userId` when given, else about you and the people of the businesses your token
    /// reads (no one else's). The token is checked with Graph before the subscription starts.
    /// Over WebSocket (graphql-transport-ws or graphql-ws; the token in `connection_init` as
    /// `{"Authorization": "Bearer <token>"}`) or server-sent events (POST /graphql with
    /// `Accept: text/event-stream`).
    async fn migration_events(
        &self,
        ctx: &Context<'_>,
        user_id: Option<ID>,
    ) -> Result<impl Stream<Item = MigrationEvent> + use<>> {
        let wanted = user_id
            .as_ref()
            .map(|id| UserId::parse("userId", id).map(|u| u.as_str().to_owned()))
            .transpose()?;
        let slot = match ctx.data_opt::<SubscriptionSlots>() {
            Some(slots) => Some(slots.take()?),
            None => None,
        };
        let news = ctx.data::<MigrationNews>()?.clone();
        let auth = Arc::new(ctx.data::<RequestContext>()?.renewed());
        let known = audience(&auth).await?;
        if let Some(user) = &wanted
            && !known.includes(user)
        {
            return Err(invalid_argument(
                "userId",
                &format!("user {user} is neither you nor a person of a business your token reads"),
            ));
        }
        let known = Arc::new(Mutex::new(known));
        let running = Running::start(ctx.data_opt::<RunningSubscriptions>());
        // Subscribed only once the checks passed: events from here on.
        let events = news.subscribe();
        Ok(events.filter_map(move |event| {
            let (auth, known, wanted) = (auth.clone(), known.clone(), wanted.clone());
            // The slot and the gauge's count live as long as the stream.
            let _held = (&slot, &running);
            async move {
                if wanted.as_ref().is_some_and(|w| *w != event.user_id) {
                    return None;
                }
                if !heard_of(&auth, &known, &event.user_id).await {
                    return None;
                }
                Some(MigrationEvent::from_webhook(&event))
            }
        }))
    }
}

/// Whether the subscriber may hear about `user`, reading its audience again (with a budget of
/// its own) when it is older than [`AUDIENCE_REFRESH`] and does not name `user`.
async fn heard_of(auth: &RequestContext, known: &Mutex<Audience>, user: &str) -> bool {
    let stale = {
        let known = match known.lock() {
            Ok(known) => known,
            Err(poisoned) => poisoned.into_inner(),
        };
        if known.includes(user) {
            return true;
        }
        known.read_at.elapsed() >= AUDIENCE_REFRESH
    };
    if !stale {
        return false;
    }
    match audience(&auth.renewed()).await {
        Ok(fresh) => {
            let included = fresh.includes(user);
            let mut known = match known.lock() {
                Ok(known) => known,
                Err(poisoned) => poisoned.into_inner(),
            };
            *known = fresh;
            included
        }
        Err(_) => false,
    }
}

/// How the caller's access to one asset stands in a migration.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub(crate) enum AssetAccessState {
    /// No expiry: the asset is not held through a migrating person's permissions, or the
    /// token is a system user's or a managed account's.
    Unaffected,
    /// Access ends at `userAccessExpireTime`, in the future.
    Expiring,
    /// Access ended: Graph no longer answers for the asset with this token.
    Lost,
}

/// The kinds of asset a migration window applies to.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub(crate) enum AssetType {
    /// A business.
    Business,
    /// A Facebook Page.
    Page,
    /// An ad account.
    AdAccount,
}

impl AssetType {
    fn as_str(self) -> &'static str {
        match self {
            AssetType::Business => "BUSINESS",
            AssetType::Page => "PAGE",
            AssetType::AdAccount => "AD_ACCOUNT",
        }
    }

    fn from_str(kind: &str) -> AssetType {
        match kind {
            "BUSINESS" => AssetType::Business,
            "PAGE" => AssetType::Page,
            _ => AssetType::AdAccount,
        }
    }
}

/// The caller's access to one asset.
#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub(crate) struct AssetAccess {
    /// The asset's Graph id (`act_<n>` for an ad account).
    pub asset_id: ID,
    /// What kind of asset it is.
    pub asset_type: AssetType,
    /// Its name, as last read.
    pub name: Option<String>,
    /// The business it was read through (null for a business itself).
    pub business_id: Option<ID>,
    /// Unaffected, expiring or lost.
    pub state: AssetAccessState,
    /// When access through the caller's token ends (or ended); null when unaffected.
    pub user_access_expire_time: Option<DateTime<Utc>>,
}

/// One asset as a read shows it.
#[derive(Debug, Clone, serde::Deserialize)]
struct AssetNode {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    user_access_expire_time: Option<String>,
}

impl AssetNode {
    fn expiry(&self) -> Option<DateTime<Utc>> {
        self.user_access_expire_time
            .as_deref()
            .and_then(model::parse_graph_time)
    }
}

/// The fields read of every asset.
fn asset_fields() -> FieldSet {
    let mut set = FieldSet::new();
    for name in ["id", "name", "user_access_expire_time"] {
        set.scalar(name);
    }
    set
}

/// The answer keys a business's pages and ad accounts are read under.
struct AssetKeys {
    pages: &'static str,
    ad_accounts: &'static str,
}

/// Under their own names, in `migrationStatus`'s read of the viewer's businesses.
const OWNED: AssetKeys = AssetKeys {
    pages: "owned_pages",
    ad_accounts: "owned_ad_accounts",
};

/// Aliased, in a business's read that `migrationReadiness` is planned into, so that they
/// never merge with the `pages`/`adAccounts` connections of the same query.
const READINESS: AssetKeys = AssetKeys {
    pages: "readiness_pages",
    ad_accounts: "readiness_ad_accounts",
};

/// The key of the business's people in a read `migrationReadiness` is planned into.
const READINESS_PEOPLE: &str = "readiness_people";
/// The key of the business's system users there.
const READINESS_SYSTEM_USERS: &str = "readiness_system_users";

fn page_of(key: &str, edge: &str) -> EdgeArgs {
    EdgeArgs {
        limit: Some(AUDIENCE_PAGE),
        alias: (key != edge).then(|| key.to_owned()),
        ..EdgeArgs::default()
    }
}

/// Adds a business's pages and ad accounts, with their expiries, to `set`.
fn plan_business_assets(set: &mut FieldSet, keys: &AssetKeys) {
    for name in ["id", "name", "user_access_expire_time"] {
        set.scalar(name);
    }
    set.edge("owned_pages", &page_of(keys.pages, "owned_pages"))
        .merge(&asset_fields());
    set.edge(
        "owned_ad_accounts",
        &page_of(keys.ad_accounts, "owned_ad_accounts"),
    )
    .merge(&asset_fields());
}

/// Plans what `migrationReadiness` reads of its business into the business's own read: the
/// assets with their expiries, the people, the system users.
pub(crate) fn plan_readiness(set: &mut FieldSet) {
    plan_business_assets(set, &READINESS);
    set.edge(
        "system_users",
        &page_of(READINESS_SYSTEM_USERS, "system_users"),
    )
    .scalar("id");
    // Today's people API (`business_users`) names no Facebook user, so nothing there matches
    // a webhook's person: only the seed's rows are read.
    if super::business_users::current() {
        return;
    }
    let rows = set.edge(
        "userpermissions",
        &page_of(READINESS_PEOPLE, "userpermissions"),
    );
    for name in ["id", "email"] {
        rows.scalar(name);
    }
    plan_actor_fields(rows.object("user"));
    plan_actor_fields(rows.object("business_persona"));
}

/// Whether a business's read had `migrationReadiness` planned into it.
pub(crate) fn readiness_planned(fetched: &FieldSet) -> bool {
    fetched.contains(READINESS_SYSTEM_USERS)
}

/// The assets of one business read as Graph answered: the business, then its pages and ad
/// accounts.
fn business_assets(
    business: &model::Business,
    keys: &AssetKeys,
) -> Vec<(AssetType, AssetNode, Option<String>)> {
    let mut assets = vec![(
        AssetType::Business,
        AssetNode {
            id: business.id.clone(),
            name: business.name.clone(),
            user_access_expire_time: business.user_access_expire_time.map(|t| t.to_rfc3339()),
        },
        None,
    )];
    for (edge, kind) in [
        (keys.pages, AssetType::Page),
        (keys.ad_accounts, AssetType::AdAccount),
    ] {
        let nodes = business
            .edges
            .list::<AssetNode>(edge)
            .ok()
            .flatten()
            .map(|list| list.data)
            .unwrap_or_default();
        assets.extend(
            nodes
                .into_iter()
                .map(|node| (kind, node, Some(business.id.clone()))),
        );
    }
    assets
}

/// What the caller's token shows of a list of assets, and what it no longer shows of the
/// assets it was seen losing: each asset once, lost ones included.
async fn access_of(
    auth: &RequestContext,
    news: &MigrationNews,
    viewer: &str,
    read: Vec<(AssetType, AssetNode, Option<String>)>,
    scope: Option<&str>,
) -> Result<Vec<AssetAccess>> {
    let now = Utc::now();
    let mut seen = HashSet::new();
    let mut assets = Vec::new();
    for (kind, node, business) in read {
        if !seen.insert(node.id.clone()) {
            continue;
        }
        let expiry = node.expiry();
        if let Some(expires) = expiry {
            news.remember_asset(
                viewer,
                &node.id,
                KnownAsset {
                    kind: kind.as_str(),
                    name: node.name.clone(),
                    business_id: business.clone(),
                    expires,
                },
            );
        }
        assets.push(access(
            kind, node.id, node.name, business, expiry, false, now,
        ));
    }
    // Assets the token was losing that this read did not show: read them by id, each with its
    // own outcome. Graph's code 100 for one of them is the loss itself.
    let missing: Vec<(String, KnownAsset)> = news
        .known_assets(viewer)
        .into_iter()
        .filter(|(id, known)| {
            !seen.contains(id)
                && scope.is_none_or(|b| known.business_id.as_deref() == Some(b) || id == b)
        })
        .collect();
    if !missing.is_empty() {
        let ids: Vec<String> = missing.iter().map(|(id, _)| id.clone()).collect();
        let outcomes = Upstream::on(auth)?
            .node_outcomes::<AssetNode>(&ids, &asset_fields())
            .await?;
        for (id, known) in missing {
            let kind = AssetType::from_str(known.kind);
            let business = known.business_id.clone();
            match outcomes.get(&id) {
                Some(Ok(node)) => {
                    let expiry = node.expiry().or(Some(known.expires));
                    assets.push(access(
                        kind,
                        id,
                        node.name.clone(),
                        business,
                        expiry,
                        false,
                        now,
                    ));
                }
                Some(Err(error)) if is_loss(error) => {
                    assets.push(access(
                        kind,
                        id,
                        known.name,
                        business,
                        Some(known.expires),
                        true,
                        now,
                    ));
                }
                Some(Err(error)) => return Err(Upstream::on(auth)?.fail(error)),
                None => {}
            }
        }
    }
    Ok(assets)
}

/// Graph's answer for an asset whose access ended: code 100 (Graph says the object "does not
/// exist, cannot be loaded due to missing permissions").
fn is_loss(error: &crate::graph::GraphError) -> bool {
    matches!(error, crate::graph::GraphError::Api(api) if api.code == 100)
}

fn access(
    kind: AssetType,
    id: String,
    name: Option<String>,
    business: Option<String>,
    expiry: Option<DateTime<Utc>>,
    unreadable: bool,
    now: DateTime<Utc>,
) -> AssetAccess {
    let state = match expiry {
        _ if unreadable => AssetAccessState::Lost,
        None => AssetAccessState::Unaffected,
        Some(at) if at <= now => AssetAccessState::Lost,
        Some(_) => AssetAccessState::Expiring,
    };
    AssetAccess {
        asset_id: ID(id),
        asset_type: kind,
        name,
        business_id: business.map(ID),
        state,
        user_access_expire_time: expiry,
    }
}

/// Where a user stands in the move to managed Meta accounts, seen with the caller's token.
#[derive(SimpleObject)]
pub(crate) struct MigrationStatus {
    /// The user asked about.
    pub user: Actor,
    /// Whether that user is a managed Meta (work) account.
    pub is_work_account: Option<bool>,
    /// The user's latest migration expiry known from Meta's webhooks; null when none came.
    pub migration_expire_time: Option<DateTime<Utc>>,
    /// Every business, page and ad account the caller's token reaches (or reached, when lost),
    /// with the caller's access to it.
    pub assets: Vec<AssetAccess>,
}

/// A person of a business whose Facebook account is moving to a managed Meta account.
#[derive(SimpleObject)]
pub(crate) struct MigratingPerson {
    /// The member as the business lists them: their Facebook user while it holds a role,
    /// else the managed account that took it over.
    pub user: Actor,
    /// The name to show: the persona's, else the invited email.
    pub display_name: Option<String>,
    /// The Facebook user moving.
    pub facebook_user_id: ID,
    /// The managed Meta account they move to.
    pub managed_account_id: ID,
    /// When access through that Facebook user's token ends.
    pub migration_expire_time: DateTime<Utc>,
    /// Expiring until then, lost after.
    pub state: AssetAccessState,
}

/// How ready one business is for its move to managed Meta accounts, seen with the caller's
/// token: one query for a dashboard.
#[derive(SimpleObject)]
pub(crate) struct MigrationReadiness {
    /// The people known to be migrating (from Meta's webhooks). Null with today's people API
    /// (`--people-api current`): its business users name no Facebook user, so no webhook's
    /// person can be matched to one of them.
    pub people: Option<Vec<MigratingPerson>>,
    /// The business, its pages and its ad accounts, with the caller's access to each.
    pub assets: Vec<AssetAccess>,
    /// Assets whose access ends in the future.
    pub expiring_count: i32,
    /// Assets whose access already ended.
    pub lost_count: i32,
    /// The earliest expiry still ahead, of an asset or a migrating person.
    pub earliest_expiry: Option<DateTime<Utc>>,
    /// Whether the caller's token is a system user's: system-user tokens are not affected by
    /// the migration.
    pub viewer_is_system_user: bool,
}

fn count(assets: &[AssetAccess], state: AssetAccessState) -> i32 {
    i32::try_from(assets.iter().filter(|a| a.state == state).count()).unwrap_or(i32::MAX)
}

/// Reads the token's own user, and the businesses it reaches with their assets and expiries.
async fn viewer_assets(auth: &RequestContext) -> Result<model::User> {
    let mut fields = FieldSet::new();
    fields.scalar("id");
    fields.scalar("name");
    fields.scalar("is_work_account");
    let businesses = fields.edge(
        "businesses",
        &EdgeArgs {
            limit: Some(AUDIENCE_PAGE),
            ..EdgeArgs::default()
        },
    );
    plan_business_assets(businesses, &OWNED);
    Upstream::on(auth)?.node("me", &fields).await
}

/// `migrationStatus` for `user` (the viewer when `None`).
pub(crate) async fn migration_status(
    ctx: &Context<'_>,
    user: Option<&ID>,
) -> Result<MigrationStatus> {
    let wanted = user
        .map(|id| UserId::parse("userId", id).map(|u| u.as_str().to_owned()))
        .transpose()?;
    let auth = ctx.data::<RequestContext>()?;
    let news = ctx.data::<MigrationNews>()?;
    let me = viewer_assets(auth).await?;
    let subject = match &wanted {
        Some(id) if *id != me.id => {
            let mut fields = FieldSet::new();
            for name in ["id", "name", "is_work_account"] {
                fields.scalar(name);
            }
            Upstream::on(auth)?
                .node_batched::<model::User>(id, &fields)
                .await?
        }
        _ => me.clone(),
    };
    let businesses = me
        .edges
        .list::<model::Business>("businesses")
        .map_err(|e| Upstream::on(auth).map_or_else(|err| err, |u| u.fail(&e)))?
        .map(|list| list.data)
        .unwrap_or_default();
    let read = businesses
        .iter()
        .flat_map(|b| business_assets(b, &OWNED))
        .collect();
    let assets = access_of(auth, news, &me.id, read, None).await?;
    Ok(MigrationStatus {
        migration_expire_time: news.latest_expiry(&subject.id),
        is_work_account: subject.is_work_account,
        user: Actor(model::Actor {
            id: subject.id,
            name: subject.name,
        }),
        assets,
    })
}

/// `Business.migrationReadiness` for business `id`: from `planned`, the business's read with
/// `plan_readiness` in it, else with a read of its own beside the viewer's.
pub(crate) async fn migration_readiness(
    ctx: &Context<'_>,
    id: &str,
    planned: Option<(&model::Business, Option<&str>)>,
) -> Result<MigrationReadiness> {
    let auth = ctx.data::<RequestContext>()?;
    let news = ctx.data::<MigrationNews>()?;
    let upstream = Upstream::on(auth)?;
    let mut me_fields = FieldSet::new();
    me_fields.scalar("id");
    let (me, read) = match planned {
        Some((business, Some(viewer))) => (viewer.to_owned(), Ok(business.clone())),
        Some((business, None)) => (
            upstream.node::<model::User>("me", &me_fields).await?.id,
            Ok(business.clone()),
        ),
        None => {
            let mut fields = FieldSet::new();
            plan_readiness(&mut fields);
            // The two reads go out together.
            let (me, business) = futures_util::future::join(
                upstream.node::<model::User>("me", &me_fields),
                upstream.node::<model::Business>(id, &fields),
            )
            .await;
            (me?.id, business)
        }
    };
    let list = |business: &model::Business, key: &str| -> Vec<model::UserPermission> {
        business
            .edges
            .list::<model::UserPermission>(key)
            .ok()
            .flatten()
            .map(|l| l.data)
            .unwrap_or_default()
    };
    let (read, rows, system_users) = match read {
        Ok(business) => {
            let rows = list(&business, READINESS_PEOPLE);
            let system_users: Vec<model::Actor> = business
                .edges
                .list::<model::Actor>(READINESS_SYSTEM_USERS)
                .ok()
                .flatten()
                .map(|l| l.data)
                .unwrap_or_default();
            (business_assets(&business, &READINESS), rows, system_users)
        }
        // The business itself lost: what the token was losing there is all there is to say.
        Err(error)
            if news
                .known_assets(&me)
                .get(id)
                .is_some_and(|known| known.kind == "BUSINESS")
                && has_code(&error, ErrorCode::NotFound) =>
        {
            (Vec::new(), Vec::new(), Vec::new())
        }
        Err(error) => return Err(error),
    };
    let assets = access_of(auth, news, &me, read, Some(id)).await?;
    let now = Utc::now();
    // A person appears once, whether the business lists their Facebook user, the managed
    // account that took over their role, or both; the Facebook user's row (with the persona)
    // is preferred.
    let mut people: Vec<MigratingPerson> = Vec::new();
    for row in rows {
        let Some(user) = row.user else { continue };
        let Some(event) = news.latest_about(&user.id) else {
            continue;
        };
        let display_name = row
            .business_persona
            .as_ref()
            .and_then(|p| p.name.clone())
            .or(row.email.clone());
        let is_facebook_user = user.id == event.user_id;
        if let Some(known) = people
            .iter_mut()
            .find(|p| p.facebook_user_id.as_str() == event.user_id)
        {
            if is_facebook_user {
                known.user = Actor(user);
            }
            if known.display_name.is_none() || is_facebook_user {
                known.display_name = display_name.or(known.display_name.take());
            }
            continue;
        }
        people.push(MigratingPerson {
            display_name,
            facebook_user_id: ID(event.user_id.clone()),
            managed_account_id: ID(event.entry_id.clone()),
            migration_expire_time: event.migration_expire_time,
            state: if event.migration_expire_time <= now {
                AssetAccessState::Lost
            } else {
                AssetAccessState::Expiring
            },
            user: Actor(user),
        });
    }
    let earliest_expiry = assets
        .iter()
        .filter(|a| a.state == AssetAccessState::Expiring)
        .filter_map(|a| a.user_access_expire_time)
        .chain(
            people
                .iter()
                .filter(|p| p.state == AssetAccessState::Expiring)
                .map(|p| p.migration_expire_time),
        )
        .min();
    Ok(MigrationReadiness {
        expiring_count: count(&assets, AssetAccessState::Expiring),
        lost_count: count(&assets, AssetAccessState::Lost),
        earliest_expiry,
        viewer_is_system_user: system_users.iter().any(|u| u.id == me),
        people: (!super::business_users::current()).then_some(people),
        assets,
    })
}

fn plan_actor_fields(set: &mut FieldSet) {
    set.scalar("id");
    set.scalar("name");
}

/// Migration queries.
#[derive(Default)]
pub(crate) struct MigrationQuery;

#[async_graphql::Object]
impl MigrationQuery {
    /// Where a user (you, when `userId` is left out) stands in the move to managed Meta
    /// accounts: whether the user is a work account, the latest expiry Meta's webhooks
    /// reported for them, and, for every business, page and ad account your token reaches,
    /// whether your access is UNAFFECTED, EXPIRING (with when) or LOST. A lost asset is a
    /// state here, never an error.
    async fn migration_status(
        &self,
        ctx: &Context<'_>,
        user_id: Option<ID>,
    ) -> Result<MigrationStatus> {
        Box::pin(migration_status(ctx, user_id.as_ref())).await
    }

    /// `Business.migrationReadiness` by the business's id; it still answers once your token
    /// lost the business itself (every asset you were losing there then shows LOST), where
    /// `business(id:)` can no longer be read.
    async fn migration_readiness(
        &self,
        ctx: &Context<'_>,
        business_id: ID,
    ) -> Result<MigrationReadiness> {
        let business = super::input::ObjectId::parse("businessId", &business_id)?;
        Box::pin(migration_readiness(ctx, business.as_str(), None)).await
    }
}
