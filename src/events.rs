//! Verified webhook events on their way to subscribers: the `EventBus` seam (in-process today,
//! shared by replicas later), de-duplication of Meta's retried deliveries, and the latest
//! migration expiry known per user.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;

use crate::webhooks::MigrationEvent;

/// How long a delivered change is remembered: Meta retries a failed delivery for 36 hours.
pub(crate) const DEDUPLICATION_WINDOW: Duration = Duration::from_secs(36 * 60 * 60);

/// Events a slow subscriber may fall behind by before it misses some.
const SUBSCRIBER_BUFFER: usize = 1024;

/// Where verified events are published and subscribed to.
pub(crate) trait EventBus: Send + Sync {
    /// Sends `event` to every current subscriber.
    fn publish(&self, event: Arc<MigrationEvent>);
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

impl EventBus for InProcessBus {
    fn publish(&self, event: Arc<MigrationEvent>) {
        // No subscriber is not an error: the ledger still keeps the news.
        let _ = self.sender.send(event);
    }

    fn subscribe(&self) -> BoxStream<'static, Arc<MigrationEvent>> {
        BroadcastStream::new(self.sender.subscribe())
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
}

/// An [`EventBus`] shared by the replicas on one Redis. A change is published once in the
/// de-duplication window across replicas (`SET bizgraph:v1:event:<digest> NX EX 129600`
/// decides which delivery is first), on [`events_channel`]; every replica subscribes and hands
/// what arrives to its local subscribers. While Redis is unavailable an event reaches this
/// replica's subscribers only.
pub(crate) struct RedisBus {
    local: broadcast::Sender<Arc<MigrationEvent>>,
    outgoing: tokio::sync::mpsc::UnboundedSender<Arc<MigrationEvent>>,
}

/// The channel events are published on, as JSON.
pub(crate) fn events_channel() -> String {
    format!("{}:events", crate::shared_redis::KEY_PREFIX)
}

impl RedisBus {
    /// A bus on `redis`, subscribed to the events channel. Needs a Tokio runtime.
    pub(crate) fn new(redis: crate::shared_redis::SharedRedis) -> RedisBus {
        let local = broadcast::channel(SUBSCRIBER_BUFFER).0;
        let (outgoing, mut queue) = tokio::sync::mpsc::unbounded_channel::<Arc<MigrationEvent>>();
        let to_subscribers = local.clone();
        redis.subscribe(
            events_channel(),
            move |payload| match serde_json::from_slice::<MigrationEvent>(&payload) {
                Ok(event) => {
                    let _ = to_subscribers.send(Arc::new(event));
                }
                Err(error) => tracing::warn!(%error, "an event on redis could not be read"),
            },
            || {},
        );
        let fallback = local.clone();
        // One worker, so that events are published in the order they were accepted.
        tokio::spawn(async move {
            while let Some(event) = queue.recv().await {
                let key = format!("{}:event:{}", crate::shared_redis::KEY_PREFIX, event.digest);
                let window = DEDUPLICATION_WINDOW.as_secs();
                let Ok(payload) = serde_json::to_string(&*event) else {
                    continue;
                };
                let channel = events_channel();
                let published = redis
                    .call(|mut connection| async move {
                        let first: Option<String> = redis::cmd("SET")
                            .arg(&key)
                            .arg(1)
                            .arg("NX")
                            .arg("EX")
                            .arg(window)
                            .query_async(&mut connection)
                            .await?;
                        if first.is_some() {
                            redis::cmd("PUBLISH")
                                .arg(&channel)
                                .arg(&payload)
                                .query_async::<i64>(&mut connection)
                                .await?;
                        }
                        Ok(())
                    })
                    .await;
                if published.is_err() {
                    // Redis is unavailable: this replica's subscribers still hear of it.
                    let _ = fallback.send(event);
                }
            }
        });
        RedisBus { local, outgoing }
    }
}

impl EventBus for RedisBus {
    fn publish(&self, event: Arc<MigrationEvent>) {
        let _ = self.outgoing.send(event);
    }

    fn subscribe(&self) -> BoxStream<'static, Arc<MigrationEvent>> {
        InProcessBus {
            sender: self.local.clone(),
        }
        .subscribe()
    }
}

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

    /// Takes the events of one verified delivery: each change seen for the first time in the
    /// window is recorded and published; a retried one is dropped. Answers how many were new.
    pub(crate) fn accept(&self, events: Vec<MigrationEvent>) -> usize {
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
            let event = Arc::new(event);
            self.record(&event);
            self.bus.publish(event);
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

    #[tokio::test]
    async fn a_retried_change_is_published_once_and_the_latest_expiry_wins() {
        let news = MigrationNews::new(Arc::new(InProcessBus::default()));
        let mut subscriber = news.subscribe();
        assert_eq!(news.accept(vec![event("1", 2_000, 100)]), 1);
        assert_eq!(news.accept(vec![event("1", 2_000, 100)]), 0, "a retry");
        assert_eq!(news.accept(vec![event("1", 3_000, 200)]), 1, "an extension");
        // A late retry of the first news does not undo the extension.
        assert_eq!(news.accept(vec![event("1", 1_500, 50)]), 1);
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
}
