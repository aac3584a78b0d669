//! Verified webhook events on their way to subscribers: the `EventBus` seam (one process, or
//! the replicas on one Redis), de-duplication of Meta's retried deliveries, and the latest
//! migration expiry known per user.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;

use crate::log_window::log_window;
use crate::shared_redis::{KEY_PREFIX, SharedRedis, slot_prefix};
use crate::webhooks::MigrationEvent;

/// How long a delivered change is remembered: Meta retries a failed delivery for 36 hours.
pub(crate) const DEDUPLICATION_WINDOW: Duration = Duration::from_secs(36 * 60 * 60);

/// Events a slow subscriber may fall behind by before it misses some.
const SUBSCRIBER_BUFFER: usize = 1024;

/// What a bus says about the changes of one delivery that this process has not taken yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Claim {
    /// The bus is this process alone: the process's own record of changes decides, and the
    /// new ones are then sent with [`EventBus::publish_locally`].
    ByThisProcess,
    /// The processes sharing the bus decided together: for each change, in order, `true` when
    /// this delivery took it first (it has been sent to every process's subscribers), `false`
    /// when another delivery, to any process, took it within the window.
    Shared(Vec<bool>),
    /// The shared record could not be asked (Redis unavailable); nothing was sent.
    Unavailable(String),
}

/// Where verified events are published and subscribed to.
#[async_trait::async_trait]
pub(crate) trait EventBus: Send + Sync {
    /// Takes `events`, changes this process has not taken yet, across every process on the
    /// bus, and sends those taken here first to every process's subscribers (this process's
    /// included, whether or not its own subscription to the bus is up).
    async fn claim_and_publish(&self, events: &[Arc<MigrationEvent>]) -> Claim;
    /// Sends `event` to this process's subscribers.
    fn publish_locally(&self, event: Arc<MigrationEvent>);
    /// The events published from now on.
    fn subscribe(&self) -> BoxStream<'static, Arc<MigrationEvent>>;
}

/// An [`EventBus`] within one process.
pub(crate) struct InProcessBus {
    sender: broadcast::Sender<Arc<MigrationEvent>>,
}

impl Default for InProcessBus {
    fn default() -> Self {
        InProcessBus {
            sender: broadcast::channel(SUBSCRIBER_BUFFER).0,
        }
    }
}

fn subscribe_to(
    sender: &broadcast::Sender<Arc<MigrationEvent>>,
) -> BoxStream<'static, Arc<MigrationEvent>> {
    BroadcastStream::new(sender.subscribe())
        .filter_map(|item| async move {
            match item {
                Ok(event) => Some(event),
                Err(tokio_stream::wrappers::errors::BroadcastStreamRecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "a subscriber fell behind and missed events");
                    None
                }
            }
        })
        .boxed()
}

#[async_trait::async_trait]
impl EventBus for InProcessBus {
    async fn claim_and_publish(&self, _events: &[Arc<MigrationEvent>]) -> Claim {
        Claim::ByThisProcess
    }

    fn publish_locally(&self, event: Arc<MigrationEvent>) {
        // No subscriber is not an error: the ledger still keeps the news.
        let _ = self.sender.send(event);
    }

    fn subscribe(&self) -> BoxStream<'static, Arc<MigrationEvent>> {
        subscribe_to(&self.sender)
    }
}

/// Takes one change across replicas and publishes it when this is the first delivery of it in
/// the window: `KEYS[1]` is the change's key, `ARGV` the window in seconds, the channel and the
/// event. One key per script, declared in `KEYS`. Answers 1 when taken here.
const CLAIM_SCRIPT: &str = r"
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  return 1
end
return 0
";

/// An [`EventBus`] shared by the replicas on one Redis. A change is taken once in the
/// de-duplication window across replicas, while its delivery is handled
/// (`SET {bizgraph:v1:events}:<digest> NX EX 129600` decides which delivery is first), and then
/// published on [`events_channel`] in the same script; every replica subscribes and hands what
/// arrives to its local subscribers, each change once. The replica that took a change hands it
/// to its own subscribers at once as well, so they do not depend on its subscription.
pub(crate) struct RedisBus {
    redis: SharedRedis,
    local: broadcast::Sender<Arc<MigrationEvent>>,
    /// The changes handed to this process's subscribers, so that none is handed twice (a
    /// claim that timed out after Redis ran it arrives through Redis and the fallback both).
    handed: moka::sync::Cache<String, ()>,
}

/// The channel events are published on, as JSON.
pub(crate) fn events_channel() -> String {
    format!("{KEY_PREFIX}:events")
}

/// The key that records a change as taken. Every such key is in one hash slot, so that the
/// pipeline of one delivery's claims goes to one node of a Redis Cluster.
pub(crate) fn event_key(digest: &str) -> String {
    format!("{}:{digest}", slot_prefix("events"))
}

/// Hands `event` to this process's subscribers unless it was handed already.
fn hand_once(
    handed: &moka::sync::Cache<String, ()>,
    local: &broadcast::Sender<Arc<MigrationEvent>>,
    event: Arc<MigrationEvent>,
) {
    if handed
        .entry(event.digest.clone())
        .or_insert_with(|| ())
        .is_fresh()
    {
        let _ = local.send(event);
    }
}

impl RedisBus {
    /// A bus on `redis`, subscribed to the events channel. Needs a Tokio runtime.
    pub(crate) fn new(redis: SharedRedis) -> RedisBus {
        let local = broadcast::channel(SUBSCRIBER_BUFFER).0;
        let handed = moka::sync::Cache::builder()
            .time_to_live(DEDUPLICATION_WINDOW)
            .max_capacity(100_000)
            .build();
        let to_subscribers = local.clone();
        let handed_from_redis = handed.clone();
        redis.subscribe(
            events_channel(),
            move |payload| match serde_json::from_slice::<MigrationEvent>(&payload) {
                Ok(event) => hand_once(&handed_from_redis, &to_subscribers, Arc::new(event)),
                Err(error) => tracing::warn!(%error, "an event on redis could not be read"),
            },
            || {},
        );
        RedisBus {
            redis,
            local,
            handed,
        }
    }
}

#[async_trait::async_trait]
impl EventBus for RedisBus {
    async fn claim_and_publish(&self, events: &[Arc<MigrationEvent>]) -> Claim {
        if events.is_empty() {
            return Claim::Shared(Vec::new());
        }
        let payloads = match events
            .iter()
            .map(|event| serde_json::to_string(&**event))
            .collect::<Result<Vec<String>, _>>()
        {
            Ok(payloads) => payloads,
            Err(error) => return Claim::Unavailable(error.to_string()),
        };
        let window = DEDUPLICATION_WINDOW.as_secs();
        let channel = events_channel();
        let keys: Vec<String> = events
            .iter()
            .map(|event| event_key(&event.digest))
            .collect();
        let taken = self
            .redis
            .call(|mut connection| async move {
                let mut pipe = redis::pipe();
                for (key, payload) in keys.iter().zip(&payloads) {
                    pipe.cmd("EVAL")
                        .arg(CLAIM_SCRIPT)
                        .arg(1)
                        .arg(key)
                        .arg(window)
                        .arg(&channel)
                        .arg(payload);
                }
                pipe.query_async::<Vec<i64>>(&mut connection).await
            })
            .await;
        match taken {
            Ok(taken) if taken.len() == events.len() => {
                let first: Vec<bool> = taken.into_iter().map(|first| first == 1).collect();
                // This process's subscribers hear of what it took at once, not through its own
                // subscription, which may be lost just now (or refused: a Redis user without
                // SUBSCRIBE); the copy that comes back through Redis is not handed again.
                for (event, _) in events.iter().zip(&first).filter(|(_, first)| **first) {
                    hand_once(&self.handed, &self.local, event.clone());
                }
                Claim::Shared(first)
            }
            Ok(taken) => Claim::Unavailable(format!(
                "redis answered {} claims for {} changes",
                taken.len(),
                events.len()
            )),
            Err(error) => Claim::Unavailable(error.to_string()),
        }
    }

    fn publish_locally(&self, event: Arc<MigrationEvent>) {
        hand_once(&self.handed, &self.local, event);
    }

    fn subscribe(&self) -> BoxStream<'static, Arc<MigrationEvent>> {
        subscribe_to(&self.local)
    }
}

/// What to do with a delivery while the replicas' shared record of changes cannot be asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WhenUnshared {
    /// Check it against this process's own record (a change another replica took may then
    /// reach subscribers again); the default, so a delivery never fails for Redis.
    CheckHere,
    /// Refuse it, so that Meta delivers it again later (`--redis-required`).
    Refuse,
}

/// How the changes of one delivery were taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Accepted {
    /// Changes taken for the first time in the window, and published.
    pub(crate) new: usize,
    /// Changes already taken (a retry, or the same change twice in one delivery).
    pub(crate) duplicate: usize,
    /// Changes checked by this process alone because the shared record could not be asked.
    pub(crate) checked_here_only: usize,
}

/// The shared record of changes could not be asked and the delivery was refused.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the replicas' record of webhook changes is unavailable: {0}")]
pub(crate) struct Unshared(String);

/// The migration news a process has: which changes it has taken (so a retried delivery is
/// processed once), the latest expiry per user, and the bus that tells subscribers.
#[derive(Clone)]
pub(crate) struct MigrationNews {
    seen: moka::sync::Cache<String, ()>,
    latest: Arc<Mutex<HashMap<String, Arc<MigrationEvent>>>>,
    /// The same events by their managed account (the webhook entry's id).
    by_managed_account: Arc<Mutex<HashMap<String, Arc<MigrationEvent>>>>,
    /// Per viewer (user id), the assets seen with a migration expiry: once Graph stops
    /// answering for one of them, it is known to be lost rather than unknown.
    migrating_assets: moka::sync::Cache<String, Arc<Mutex<HashMap<String, KnownAsset>>>>,
    bus: Arc<dyn EventBus>,
}

/// An asset a viewer was seen to lose access to at some time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KnownAsset {
    /// `BUSINESS`, `PAGE` or `AD_ACCOUNT`, as the schema names them.
    pub(crate) kind: &'static str,
    /// Its name when last read.
    pub(crate) name: Option<String>,
    /// Its business, when it was read as one of a business's assets.
    pub(crate) business_id: Option<String>,
    /// When access ends.
    pub(crate) expires: DateTime<Utc>,
}

/// How long the assets a viewer is losing are remembered: well past a 30-day window and its
/// extensions.
const MIGRATING_ASSETS_MEMORY: Duration = Duration::from_secs(120 * 24 * 60 * 60);

impl MigrationNews {
    /// News published on `bus`.
    pub(crate) fn new(bus: Arc<dyn EventBus>) -> MigrationNews {
        MigrationNews {
            seen: moka::sync::Cache::builder()
                .time_to_live(DEDUPLICATION_WINDOW)
                .max_capacity(1_000_000)
                .build(),
            latest: Arc::default(),
            by_managed_account: Arc::default(),
            migrating_assets: moka::sync::Cache::builder()
                .time_to_idle(MIGRATING_ASSETS_MEMORY)
                .max_capacity(100_000)
                .build(),
            bus,
        }
    }

    /// Takes the events of one verified delivery: each change taken for the first time in the
    /// window, by any process on the bus, is recorded and published; a retried one is dropped.
    /// This process's own record answers first; the bus decides for the rest before this
    /// returns, so that the delivery's answer counts a change another replica took as a
    /// duplicate. While the bus cannot decide, `when_unshared` says what happens.
    pub(crate) async fn accept(
        &self,
        events: Vec<MigrationEvent>,
        when_unshared: WhenUnshared,
    ) -> Result<Accepted, Unshared> {
        let received = events.len();
        let mut in_delivery = HashSet::new();
        let unknown: Vec<Arc<MigrationEvent>> = events
            .into_iter()
            .filter(|event| {
                !self.seen.contains_key(&event.digest) && in_delivery.insert(event.digest.clone())
            })
            .map(Arc::new)
            .collect();
        let mut accepted = Accepted {
            new: 0,
            duplicate: 0,
            checked_here_only: 0,
        };
        match self.bus.claim_and_publish(&unknown).await {
            Claim::ByThisProcess => accepted.new = self.take_here(unknown),
            Claim::Shared(first) => {
                for (event, first) in unknown.iter().zip(first) {
                    self.seen.insert(event.digest.clone(), ());
                    if first {
                        accepted.new += 1;
                        self.record(event);
                    }
                }
            }
            Claim::Unavailable(reason) => {
                if when_unshared == WhenUnshared::Refuse {
                    return Err(Unshared(reason));
                }
                if let Some(suppressed) = log_window().should_log("webhook_checked_here_only") {
                    tracing::warn!(
                        error = %reason,
                        changes = unknown.len(),
                        suppressed,
                        "redis is unavailable; webhook changes are checked for retries by this \
                         replica only and reach its subscribers only"
                    );
                }
                accepted.checked_here_only = unknown.len();
                accepted.new = self.take_here(unknown);
            }
        }
        accepted.duplicate = received - accepted.new;
        Ok(accepted)
    }

    /// Takes the changes this process's own record has not seen, and tells this process's
    /// subscribers. Answers how many were new.
    fn take_here(&self, events: Vec<Arc<MigrationEvent>>) -> usize {
        let mut fresh = 0;
        for event in events {
            let first = self
                .seen
                .entry(event.digest.clone())
                .or_insert_with(|| ())
                .is_fresh();
            if !first {
                continue;
            }
            fresh += 1;
            self.record(&event);
            self.bus.publish_locally(event);
        }
        fresh
    }

    fn record(&self, event: &Arc<MigrationEvent>) {
        let mut latest = lock(&self.latest);
        let newer = latest
            .get(&event.user_id)
            .is_none_or(|known| event.sent_at >= known.sent_at);
        if newer {
            latest.insert(event.user_id.clone(), event.clone());
            lock(&self.by_managed_account).insert(event.entry_id.clone(), event.clone());
        }
    }

    /// The latest event about the person `user_id` names: the Facebook user moving, or the
    /// managed account they move to.
    pub(crate) fn latest_about(&self, user_id: &str) -> Option<Arc<MigrationEvent>> {
        if let Some(event) = lock(&self.latest).get(user_id) {
            return Some(event.clone());
        }
        lock(&self.by_managed_account).get(user_id).cloned()
    }

    /// Remembers that `viewer` reads `asset_id` with a migration expiry.
    pub(crate) fn remember_asset(&self, viewer: &str, asset_id: &str, asset: KnownAsset) {
        let assets = self
            .migrating_assets
            .get_with(viewer.to_owned(), || Arc::new(Mutex::new(HashMap::new())));
        lock(&assets).insert(asset_id.to_owned(), asset);
    }

    /// The assets `viewer` was seen to be losing, by id.
    pub(crate) fn known_assets(&self, viewer: &str) -> HashMap<String, KnownAsset> {
        self.migrating_assets
            .get(viewer)
            .map(|assets| lock(&assets).clone())
            .unwrap_or_default()
    }

    /// The expiry of `user_id`'s migration from the latest event known, if any.
    pub(crate) fn latest_expiry(&self, user_id: &str) -> Option<DateTime<Utc>> {
        lock(&self.latest)
            .get(user_id)
            .map(|e| e.migration_expire_time)
    }

    /// Records every event the bus brings from now on, published by any replica, so that
    /// this replica's latest expiries know what other replicas received.
    pub(crate) fn follow_bus(&self) {
        let mut events = self.bus.subscribe();
        let news = self.clone();
        tokio::spawn(async move {
            while let Some(event) = events.next().await {
                // Taken by some replica: a retry of it is a duplicate here even while Redis
                // cannot be asked.
                news.seen.insert(event.digest.clone(), ());
                news.record(&event);
            }
        });
    }

    /// Every event published from now on.
    pub(crate) fn subscribe(&self) -> BoxStream<'static, Arc<MigrationEvent>> {
        self.bus.subscribe()
    }
}

/// A lock that a panic elsewhere cannot make unusable (the maps stay valid).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn event(user: &str, expiry_secs: i64, sent_secs: i64) -> MigrationEvent {
        MigrationEvent {
            user_id: user.to_owned(),
            migration_expire_time: Utc.timestamp_opt(expiry_secs, 0).single().expect("a time"),
            entry_id: "910001".to_owned(),
            sent_at: Utc.timestamp_opt(sent_secs, 0).single(),
            digest: format!("{user}-{expiry_secs}-{sent_secs}"),
        }
    }

    async fn new_changes(news: &MigrationNews, events: Vec<MigrationEvent>) -> usize {
        news.accept(events, WhenUnshared::Refuse)
            .await
            .map(|accepted| accepted.new)
            .unwrap_or_else(|error| panic!("{error}"))
    }

    #[tokio::test]
    async fn a_retried_change_is_published_once_and_the_latest_expiry_wins() {
        let news = MigrationNews::new(Arc::new(InProcessBus::default()));
        let mut subscriber = news.subscribe();
        assert_eq!(new_changes(&news, vec![event("1", 2_000, 100)]).await, 1);
        assert_eq!(
            new_changes(&news, vec![event("1", 2_000, 100)]).await,
            0,
            "a retry"
        );
        assert_eq!(
            new_changes(&news, vec![event("1", 3_000, 200)]).await,
            1,
            "an extension"
        );
        // A late retry of the first news does not undo the extension.
        assert_eq!(new_changes(&news, vec![event("1", 1_500, 50)]).await, 1);
        // The same change twice in one delivery is taken once.
        let twice = news
            .accept(
                vec![event("3", 4_000, 300), event("3", 4_000, 300)],
                WhenUnshared::Refuse,
            )
            .await
            .map_err(|error| error.to_string());
        assert_eq!(
            twice,
            Ok(Accepted {
                new: 1,
                duplicate: 1,
                checked_here_only: 0
            })
        );
        assert_eq!(news.latest_expiry("1").map(|t| t.timestamp()), Some(3_000));
        assert_eq!(news.latest_expiry("2"), None);
        let first = subscriber.next().await.expect("an event");
        let second = subscriber.next().await.expect("an event");
        assert_eq!(
            (
                first.migration_expire_time.timestamp(),
                second.migration_expire_time.timestamp()
            ),
            (2_000, 3_000)
        );
    }

    /// A shared bus whose record answers as told, or cannot be asked.
    struct SharedBus {
        answer: Mutex<Claim>,
        asked: Mutex<Vec<String>>,
        here: InProcessBus,
    }

    #[async_trait::async_trait]
    impl EventBus for SharedBus {
        async fn claim_and_publish(&self, events: &[Arc<MigrationEvent>]) -> Claim {
            lock(&self.asked).extend(events.iter().map(|e| e.digest.clone()));
            lock(&self.answer).clone()
        }

        fn publish_locally(&self, event: Arc<MigrationEvent>) {
            self.here.publish_locally(event);
        }

        fn subscribe(&self) -> BoxStream<'static, Arc<MigrationEvent>> {
            self.here.subscribe()
        }
    }

    #[tokio::test]
    async fn a_change_another_replica_took_is_a_duplicate_and_without_the_shared_record_this_one_decides()
     {
        let bus = Arc::new(SharedBus {
            answer: Mutex::new(Claim::Shared(vec![false, true])),
            asked: Mutex::default(),
            here: InProcessBus::default(),
        });
        let news = MigrationNews::new(bus.clone());
        let mut subscriber = news.subscribe();
        let taken = news
            .accept(
                vec![event("1", 2_000, 100), event("2", 2_000, 100)],
                WhenUnshared::CheckHere,
            )
            .await
            .map_err(|error| error.to_string());
        assert_eq!(
            taken,
            Ok(Accepted {
                new: 1,
                duplicate: 1,
                checked_here_only: 0
            })
        );
        // The bus published what it took; this process records it only.
        assert_eq!(news.latest_expiry("1"), None);
        assert_eq!(news.latest_expiry("2").map(|t| t.timestamp()), Some(2_000));

        // Redis is unavailable: refused when it is required, and nothing is remembered then.
        *lock(&bus.answer) = Claim::Unavailable("timed out".to_owned());
        let refused = news
            .accept(vec![event("4", 5_000, 400)], WhenUnshared::Refuse)
            .await;
        assert!(refused.is_err());
        // Otherwise this process's record decides, and its subscribers hear of it.
        let checked_here = news
            .accept(
                vec![event("4", 5_000, 400), event("2", 2_000, 100)],
                WhenUnshared::CheckHere,
            )
            .await
            .map_err(|error| error.to_string());
        assert_eq!(
            checked_here,
            Ok(Accepted {
                new: 1,
                duplicate: 1,
                checked_here_only: 1
            })
        );
        let heard = subscriber.next().await.expect("an event");
        assert_eq!(heard.user_id, "4");
        // Changes this process knows are not asked about again.
        assert_eq!(
            *lock(&bus.asked),
            ["1-2000-100", "2-2000-100", "4-5000-400", "4-5000-400"]
        );
    }
}
