//! Managed Meta account migration: `Subscription.migrationEvents`, fed by Meta's verified
//! `migration_expire_time` webhooks.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_graphql::{Context, ID, Result, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};

use super::error::{coded, invalid_argument};
use super::input::UserId;
use super::upstream::{RequestContext, Upstream};
use crate::error::ErrorCode;
use crate::events::MigrationNews;
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
    let mut id = FieldSet::new();
    id.scalar("id");
    let me: model::User = upstream.node("me", &id).await?;
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
    let mut people = HashSet::new();
    match upstream.node::<model::User>("me", &fields).await {
        Ok(user) => {
            let businesses = user
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
        }
        Err(error) => {
            tracing::debug!(error = %error.message, "a subscriber's people could not be read");
        }
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
        // Subscribed only once the checks passed: events from here on.
        let events = news.subscribe();
        Ok(events.filter_map(move |event| {
            let (auth, known, wanted) = (auth.clone(), known.clone(), wanted.clone());
            // The slot lives as long as the stream.
            let _held = &slot;
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
