//! Slowing down before Graph's rate limits: remembers the usage Graph reports per token
//! (`x-app-usage`) and per business (`x-business-use-case-usage`), spaces calls out as usage
//! nears 100 %, and holds them back while Graph throttles, instead of hammering it (which
//! only prolongs a throttle).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use moka::Expiry;
use moka::sync::Cache;

use super::error::ApiError;
use super::usage::UsageReport;
use crate::cache::StoreError;
use crate::log_window::log_window;
use crate::token::TokenFingerprint;

/// Usage from which operators are warned in the log.
const WARN_FROM: u32 = 80;
/// Usage from which calls are spaced out.
const SLOW_DOWN_FROM: u32 = 90;
/// The longest pause put before one call.
const MAX_PAUSE: Duration = Duration::from_millis(500);
/// How long calls are held back after a throttle when Graph gives no figure (its docs speak of
/// minutes; one is the shortest sensible wait).
const DEFAULT_HOLD: Duration = Duration::from_secs(60);

/// Graph counts usage over a rolling hour, so a figure older than that says nothing.
const WINDOW: Duration = Duration::from_secs(3600);
/// Tokens and businesses remembered at most (each, by the in-memory store).
const MAX_REMEMBERED: u64 = 100_000;

/// What the governor says about a call that is about to be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Send it, after this pause.
    Proceed(Duration),
    /// Do not send it: Graph throttles this token or business for this much longer.
    HoldBack(Duration),
}

/// Whose usage Graph reported: a token's (`x-app-usage`) or a business's
/// (`x-business-use-case-usage`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UsageKey {
    /// The token with this fingerprint.
    Token(TokenFingerprint),
    /// The business with this id.
    Business(String),
}

impl fmt::Display for UsageKey {
    /// `token:<fingerprint>` or `business:<id>`, the form a network store's keys hold.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsageKey::Token(fingerprint) => write!(f, "token:{fingerprint}"),
            UsageKey::Business(id) => write!(f, "business:{id}"),
        }
    }
}

/// The usage last seen for one token or business.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// The highest of the percentages Graph reported.
    pub peak: u32,
    /// Until when Graph throttles it, if it does. Wall-clock time rather than an `Instant`,
    /// which means nothing to another process sharing the store.
    pub held_until: Option<SystemTime>,
}

/// Where usage is remembered, shared by every replica that uses the same store, so that a
/// throttle one replica saw holds back the calls of all.
///
/// Object-safe (through `async_trait`'s boxed futures) for the same reason as
/// [`crate::cache::AnswerStore`]: the store is chosen at start and handed over as
/// `Arc<dyn UsageStore>`.
#[async_trait::async_trait]
pub trait UsageStore: Send + Sync + 'static {
    /// The usage remembered for each of `keys`, in the same order (one round trip).
    async fn get(&self, keys: &[UsageKey]) -> Result<Vec<Option<Usage>>, StoreError>;

    /// Remembers `usage` for `key` for `ttl`, replacing what was there.
    async fn put(&self, key: UsageKey, usage: Usage, ttl: Duration) -> Result<(), StoreError>;
}

/// Usage in this process's memory (moka), bounded in entries.
pub(crate) struct MemoryUsageStore {
    tokens: Cache<TokenFingerprint, Remembered>,
    businesses: Cache<String, Remembered>,
}

/// A remembered usage and how long it is kept.
#[derive(Debug, Clone, Copy)]
struct Remembered {
    usage: Usage,
    ttl: Duration,
}

/// Each usage is forgotten after the lifetime it was stored with, counted from its latest `put`.
struct RememberedLifetime;

impl<K> Expiry<K, Remembered> for RememberedLifetime {
    fn expire_after_create(&self, _key: &K, value: &Remembered, _at: Instant) -> Option<Duration> {
        Some(value.ttl)
    }

    fn expire_after_update(
        &self,
        _key: &K,
        value: &Remembered,
        _at: Instant,
        _left: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

impl Default for MemoryUsageStore {
    fn default() -> Self {
        MemoryUsageStore::new()
    }
}

impl MemoryUsageStore {
    /// A store that remembers up to 100 000 tokens and as many businesses.
    pub(crate) fn new() -> MemoryUsageStore {
        MemoryUsageStore {
            tokens: Cache::builder()
                .max_capacity(MAX_REMEMBERED)
                .expire_after(RememberedLifetime)
                .build(),
            businesses: Cache::builder()
                .max_capacity(MAX_REMEMBERED)
                .expire_after(RememberedLifetime)
                .build(),
        }
    }
}

#[async_trait::async_trait]
impl UsageStore for MemoryUsageStore {
    async fn get(&self, keys: &[UsageKey]) -> Result<Vec<Option<Usage>>, StoreError> {
        Ok(keys
            .iter()
            .map(|key| {
                match key {
                    UsageKey::Token(fingerprint) => self.tokens.get(fingerprint),
                    UsageKey::Business(id) => self.businesses.get(id),
                }
                .map(|remembered| remembered.usage)
            })
            .collect())
    }

    async fn put(&self, key: UsageKey, usage: Usage, ttl: Duration) -> Result<(), StoreError> {
        let remembered = Remembered { usage, ttl };
        match key {
            UsageKey::Token(fingerprint) => self.tokens.insert(fingerprint, remembered),
            UsageKey::Business(id) => self.businesses.insert(id, remembered),
        }
        Ok(())
    }
}

/// Decides, from the usage Graph reported per token and per business, whether and when a call
/// may go; over a store that replicas may share.
pub(crate) struct UsageGovernor {
    store: Arc<dyn UsageStore>,
}

impl Default for UsageGovernor {
    fn default() -> Self {
        UsageGovernor::new()
    }
}

impl UsageGovernor {
    /// A governor that remembers usage in this process for Graph's window, an hour.
    pub(crate) fn new() -> UsageGovernor {
        UsageGovernor::on_store(Arc::new(MemoryUsageStore::new()))
    }

    /// A governor over `store`, which other replicas may share.
    pub(crate) fn on_store(store: Arc<dyn UsageStore>) -> UsageGovernor {
        UsageGovernor { store }
    }

    /// Whether and when a call of `token` on `node` may go. When the store fails the call
    /// goes: Graph still enforces its limits, and refusing every call would be worse.
    pub(crate) async fn admit(&self, token: TokenFingerprint, node: Option<&str>) -> Admission {
        let now = SystemTime::now();
        let keys: Vec<UsageKey> = std::iter::once(UsageKey::Token(token))
            .chain(node.map(|id| UsageKey::Business(id.to_owned())))
            .collect();
        let seen = match self.store.get(&keys).await {
            Ok(seen) => seen,
            Err(error) => {
                store_failed(&error);
                return Admission::Proceed(Duration::ZERO);
            }
        };
        let mut pause = Duration::ZERO;
        for seen in seen.into_iter().flatten() {
            if let Some(until) = seen.held_until
                && let Ok(left) = until.duration_since(now)
                && !left.is_zero()
            {
                return Admission::HoldBack(left);
            }
            if seen.peak >= SLOW_DOWN_FROM {
                let step = Duration::from_millis(50) * (seen.peak - SLOW_DOWN_FROM + 1);
                pause = pause.max(step.min(MAX_PAUSE));
            }
        }
        Admission::Proceed(pause)
    }

    /// Notes the usage an answer reports, and a throttle if the answer is one.
    pub(crate) async fn observe(
        &self,
        token: TokenFingerprint,
        usage: &UsageReport,
        error: Option<&ApiError>,
    ) {
        let now = SystemTime::now();
        let throttled = error.is_some_and(ApiError::is_throttle);
        let hold = error.and_then(|e| e.retry_after).unwrap_or(DEFAULT_HOLD);
        if let Some(app) = usage.app
            && app.peak() >= WARN_FROM
            && let Some(suppressed) = log_window().should_log("graph_app_usage_high")
        {
            // Every answer near the limit says so: one line per window, not one per call.
            tracing::warn!(
                call_count = app.call_count,
                total_time = app.total_time,
                total_cputime = app.total_cputime,
                suppressed,
                "Graph app usage is near its limit"
            );
        }
        let mut seen = Vec::new();
        if usage.app.is_some() || throttled {
            let peak = usage.app.map_or(100, |app| app.peak());
            let held_until = (peak >= 100 || throttled).then(|| now + hold);
            seen.push((UsageKey::Token(token), Usage { peak, held_until }));
        }
        for (business, usages) in &usage.businesses {
            let peak = usages.iter().map(|u| u.peak()).max().unwrap_or(0);
            let regain = usages
                .iter()
                .map(|u| u.estimated_time_to_regain_access)
                .max()
                .unwrap_or(0);
            let held_until = (peak >= 100 || regain > 0)
                .then(|| now + Duration::from_secs(regain * 60).max(Duration::from_secs(1)));
            seen.push((
                UsageKey::Business(business.clone()),
                Usage { peak, held_until },
            ));
        }
        for (key, usage) in seen {
            if let Err(error) = self.store.put(key, usage, WINDOW).await {
                store_failed(&error);
            }
        }
    }
}

/// Logs (once per window) a usage store failure: calls then go without its advice.
fn store_failed(error: &StoreError) {
    if let Some(suppressed) = log_window().should_log("usage_store_failed") {
        tracing::warn!(
            error = %error,
            suppressed,
            "the usage store failed; Graph calls are not spaced out or held back meanwhile"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::{AccessToken, Fingerprinter};

    fn headers(app: &str, business: Option<&str>) -> UsageReport {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-app-usage", app.parse().expect("header"));
        if let Some(business) = business {
            headers.insert(
                "x-business-use-case-usage",
                business.parse().expect("header"),
            );
        }
        UsageReport::from_headers(&headers)
    }

    #[tokio::test]
    async fn calls_are_spaced_out_near_the_limit_and_held_back_at_it() {
        let governor = UsageGovernor::new();
        let token = Fingerprinter::random().fingerprint(&AccessToken::new("t"));
        assert_eq!(
            governor.admit(token, None).await,
            Admission::Proceed(Duration::ZERO)
        );

        governor
            .observe(token, &headers(r#"{"call_count":50}"#, None), None)
            .await;
        assert_eq!(
            governor.admit(token, None).await,
            Admission::Proceed(Duration::ZERO)
        );

        governor
            .observe(token, &headers(r#"{"call_count":95}"#, None), None)
            .await;
        assert_eq!(
            governor.admit(token, None).await,
            Admission::Proceed(Duration::from_millis(300))
        );

        governor
            .observe(token, &headers(r#"{"total_cputime":100}"#, None), None)
            .await;
        assert!(matches!(
            governor.admit(token, None).await,
            Admission::HoldBack(_)
        ));
    }

    #[tokio::test]
    async fn a_throttled_business_holds_back_calls_on_it_only() {
        let governor = UsageGovernor::new();
        let token = Fingerprinter::random().fingerprint(&AccessToken::new("t"));
        governor.observe(
            token,
            &headers(
                r#"{"call_count":1}"#,
                Some(r#"{"200001":[{"type":"pages","call_count":100,"estimated_time_to_regain_access":5}]}"#),
            ),
            None,
        )
            .await;
        match governor.admit(token, Some("200001")).await {
            Admission::HoldBack(wait) => assert!(wait > Duration::from_secs(240), "{wait:?}"),
            other => panic!("expected a hold, got {other:?}"),
        }
        assert_eq!(
            governor.admit(token, Some("200002")).await,
            Admission::Proceed(Duration::ZERO)
        );
    }

    #[tokio::test]
    async fn governors_on_one_store_hold_back_a_token_that_either_saw_throttled() {
        let store: Arc<dyn UsageStore> = Arc::new(MemoryUsageStore::new());
        let (a, b) = (
            UsageGovernor::on_store(store.clone()),
            UsageGovernor::on_store(store.clone()),
        );
        let token = Fingerprinter::random().fingerprint(&AccessToken::new("t"));
        let throttle = ApiError::from_body(400, br#"{"error":{"message":"(#4) limit","code":4}}"#)
            .unwrap_or_else(|| panic!("an envelope"));
        a.observe(token, &UsageReport::default(), Some(&throttle))
            .await;
        match b.admit(token, None).await {
            Admission::HoldBack(wait) => {
                assert!(
                    wait > Duration::from_secs(55) && wait <= DEFAULT_HOLD,
                    "{wait:?}"
                );
            }
            other => panic!("expected a hold, got {other:?}"),
        }
        let stored = store.get(&[UsageKey::Token(token)]).await;
        assert!(matches!(
            stored.as_deref(),
            Ok([Some(Usage {
                peak: 100,
                held_until: Some(_)
            })])
        ));
        assert_eq!(
            UsageKey::Business("200001".to_owned()).to_string(),
            "business:200001"
        );
    }
}
