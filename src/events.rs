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

/// The migration news a process has: which changes it has taken (so a retried delivery is
/// processed once), the latest expiry per user, and the bus that tells subscribers.
#[derive(Clone)]
pub(crate) struct MigrationNews {
    seen: moka::sync::Cache<String, ()>,
    latest: Arc<Mutex<HashMap<String, Arc<MigrationEvent>>>>,
    bus: Arc<dyn EventBus>,
}

impl MigrationNews {
    /// News published on `bus`.
    pub(crate) fn new(bus: Arc<dyn EventBus>) -> MigrationNews {
        MigrationNews {
            seen: moka::sync::Cache::builder()
                .time_to_live(DEDUPLICATION_WINDOW)
                .max_capacity(1_000_000)
                .build(),
            latest: Arc::default(),
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
        let mut latest = match self.latest.lock() {
            Ok(latest) => latest,
            Err(poisoned) => poisoned.into_inner(),
        };
        let newer = latest
            .get(&event.user_id)
            .is_none_or(|known| event.sent_at >= known.sent_at);
        if newer {
            latest.insert(event.user_id.clone(), event.clone());
        }
    }

    /// The expiry of `user_id`'s migration from the latest event known, if any.
    #[cfg_attr(
        not(test),
        expect(
            dead_code,
            reason = "migrationStatus reads it; the expectation fails once it does"
        )
    )]
    pub(crate) fn latest_expiry(&self, user_id: &str) -> Option<DateTime<Utc>> {
        let latest = match self.latest.lock() {
            Ok(latest) => latest,
            Err(poisoned) => poisoned.into_inner(),
        };
        latest.get(user_id).map(|e| e.migration_expire_time)
    }

    /// Every event published from now on.
    pub(crate) fn subscribe(&self) -> BoxStream<'static, Arc<MigrationEvent>> {
        self.bus.subscribe()
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
