//! The Redis that the replicas of one deployment share (`--redis-url`): one multiplexed,
//! self-reconnecting connection (the `redis` crate's `ConnectionManager`) for commands, and
//! one connection per subscription for pub/sub. With `--redis-cluster` the commands go
//! through the crate's cluster client instead, which routes each by its keys' hash slot and
//! follows the cluster's redirections; subscriptions go to the first node given (a cluster
//! sends every published message to every node).
//!
//! Redis is an optimisation and a messenger, never a dependency of an answer (unless
//! `--redis-required`): every call is bounded by a timeout (`--redis-timeout-ms`, 200 ms), and
//! after some failures in a row (`--redis-circuit-failures`, 3) the client stops asking for a
//! while (`--redis-cool-down-secs`, 5 s; a call then fails at once, as `skipped`). Failures are
//! logged once per window and counted in `/metrics` (`bizgraph_redis_calls{outcome}`,
//! `bizgraph_redis_circuit_open`).

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;

use crate::log_window::log_window;

/// How long a Redis call may take and when the client stops asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RedisLimits {
    /// The most one call, or connecting, may take before it counts as failed.
    pub(crate) timeout: Duration,
    /// Failures in a row that open the circuit (at least 1).
    pub(crate) circuit_failures: u32,
    /// How long an open circuit keeps calls from being sent.
    pub(crate) cool_down: Duration,
}

impl From<&crate::config::RedisSettings> for RedisLimits {
    fn from(settings: &crate::config::RedisSettings) -> Self {
        RedisLimits {
            timeout: settings.timeout,
            circuit_failures: settings.circuit_failures.max(1),
            cool_down: settings.cool_down,
        }
    }
}

impl Default for RedisLimits {
    fn default() -> Self {
        RedisLimits::from(&crate::config::RedisSettings::default())
    }
}
/// The pause before a lost subscription connects again.
const RESUBSCRIBE_PAUSE: Duration = Duration::from_millis(500);

/// What every key and channel bizgraph uses starts with (inside the hash tag, for keys of a
/// slot): the name and the format version of what is stored, so that a format change never
/// reads another version's values.
pub(crate) const KEY_PREFIX: &str = "bizgraph:v1";

/// The start of every key of `area` that one command or script may touch together with
/// another: a Redis Cluster hash tag, `{bizgraph:v1:<area>}`, so that all of them are in one
/// hash slot and a multi-key command, transaction or script on them runs on a cluster.
pub(crate) fn slot_prefix(area: &str) -> String {
    format!("{{{KEY_PREFIX}:{area}}}")
}

/// Labels of a Redis call.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RedisCallLabels {
    /// `ok`, `error`, `timeout` or `skipped` (the circuit was open).
    pub(crate) outcome: String,
}

/// Why Redis could not be used for a call.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum RedisUnavailable {
    /// Redis answered with an error or the connection failed.
    #[error("redis failed: {0}")]
    Failed(String),
    /// Redis did not answer within the call timeout.
    #[error("redis did not answer within {} ms", .0.as_millis())]
    TimedOut(Duration),
    /// The circuit is open: Redis failed recently and is not asked for a while.
    #[error("redis is not asked for a while after failing")]
    CircuitOpen,
}

/// The counters of Redis calls, registered into each gateway's `/metrics`.
#[derive(Clone, Default)]
pub(crate) struct RedisMetrics {
    pub(crate) calls: Family<RedisCallLabels, Counter>,
    pub(crate) circuit_open: Gauge,
}

impl RedisMetrics {
    fn count(&self, outcome: &str) {
        self.calls
            .get_or_create(&RedisCallLabels {
                outcome: outcome.to_owned(),
            })
            .inc();
    }
}

/// The circuit: failures in a row and, while open, when it closes again.
struct Circuit {
    failures: AtomicU32,
    open: AtomicBool,
    opened_at: Mutex<Option<Instant>>,
}

/// A connection that Redis commands are sent on: to one Redis, or to a Redis Cluster.
#[derive(Clone)]
pub(crate) enum RedisConnection {
    /// One Redis (or a proxy in front of several).
    Single(ConnectionManager),
    /// A Redis Cluster, each command routed by its keys' hash slot.
    Cluster(ClusterConnection),
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(
        &'a mut self,
        cmd: &'a redis::Cmd,
    ) -> redis::RedisFuture<'a, redis::Value> {
        match self {
            RedisConnection::Single(connection) => connection.req_packed_command(cmd),
            RedisConnection::Cluster(connection) => connection.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        match self {
            RedisConnection::Single(connection) => {
                connection.req_packed_commands(pipeline, offset, count)
            }
            RedisConnection::Cluster(connection) => {
                connection.req_packed_commands(pipeline, offset, count)
            }
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            RedisConnection::Single(connection) => connection.get_db(),
            RedisConnection::Cluster(connection) => connection.get_db(),
        }
    }
}

/// Where commands go: one Redis's connection manager, or a cluster client whose connection is
/// made by the first call (so that a gateway starts while the cluster is down).
#[derive(Clone)]
enum Commands {
    Single(ConnectionManager),
    Cluster {
        client: Arc<ClusterClient>,
        connection: Arc<tokio::sync::Mutex<Option<ClusterConnection>>>,
    },
}

impl Commands {
    async fn connection(&self) -> redis::RedisResult<RedisConnection> {
        match self {
            Commands::Single(manager) => Ok(RedisConnection::Single(manager.clone())),
            Commands::Cluster { client, connection } => {
                let mut connection = connection.lock().await;
                if let Some(connected) = connection.as_ref() {
                    return Ok(RedisConnection::Cluster(connected.clone()));
                }
                let connected = client.get_async_connection().await?;
                *connection = Some(connected.clone());
                Ok(RedisConnection::Cluster(connected))
            }
        }
    }
}

/// A handle on the shared Redis. Cheap to clone.
#[derive(Clone)]
pub(crate) struct SharedRedis {
    /// The Redis that subscriptions are made on (the first node of a cluster).
    client: redis::Client,
    commands: Commands,
    limits: RedisLimits,
    circuit: Arc<Circuit>,
    metrics: RedisMetrics,
}

impl std::fmt::Debug for SharedRedis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password.
        f.write_str("SharedRedis(<url redacted>)")
    }
}

impl SharedRedis {
    /// A client for the Redis at `url`, within `limits`. Nothing is connected yet: the first
    /// call connects (so a gateway starts while Redis is down); `ping` checks at once.
    pub(crate) fn new(url: &str, limits: &RedisLimits) -> Result<SharedRedis, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(limits.timeout))
            .set_response_timeout(Some(limits.timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let manager = ConnectionManager::new_lazy_with_config(client.clone(), config)?;
        Ok(SharedRedis::on(client, Commands::Single(manager), limits))
    }

    /// A client for the Redis Cluster whose nodes (some or all) are `urls`, comma-separated,
    /// within `limits`. Nothing is connected yet: the first call connects.
    pub(crate) fn cluster(
        urls: &str,
        limits: &RedisLimits,
    ) -> Result<SharedRedis, redis::RedisError> {
        let nodes: Vec<&str> = urls
            .split(',')
            .map(str::trim)
            .filter(|url| !url.is_empty())
            .collect();
        let Some(first) = nodes.first() else {
            return Err(redis::RedisError::from((
                redis::ErrorKind::InvalidClientConfig,
                "no Redis Cluster node given",
            )));
        };
        // Each node on its own first, so that a mistake says which node it is in.
        for (index, node) in nodes.iter().enumerate() {
            if let Err(error) = redis::Client::open(*node) {
                return Err(redis::RedisError::from((
                    redis::ErrorKind::InvalidClientConfig,
                    "a Redis Cluster node's URL cannot be used",
                    format!("node {} of {}: {error}", index + 1, nodes.len()),
                )));
            }
        }
        let client = redis::Client::open(*first)?;
        let cluster = ClusterClient::builder(nodes.iter().copied())
            .connection_timeout(limits.timeout)
            .response_timeout(limits.timeout)
            .retries(1)
            .build()?;
        Ok(SharedRedis::on(
            client,
            Commands::Cluster {
                client: Arc::new(cluster),
                connection: Arc::default(),
            },
            limits,
        ))
    }

    fn on(client: redis::Client, commands: Commands, limits: &RedisLimits) -> SharedRedis {
        SharedRedis {
            client,
            commands,
            limits: *limits,
            circuit: Arc::new(Circuit {
                failures: AtomicU32::new(0),
                open: AtomicBool::new(false),
                opened_at: Mutex::new(None),
            }),
            metrics: RedisMetrics::default(),
        }
    }

    /// The counters to register in `/metrics`.
    pub(crate) fn metrics(&self) -> &RedisMetrics {
        &self.metrics
    }

    /// Whether Redis is being skipped now after failures.
    pub(crate) fn is_unavailable(&self) -> bool {
        self.circuit_is_open(Instant::now())
    }

    /// Checks that Redis answers a PING within the call timeout.
    pub(crate) async fn ping(&self) -> Result<(), RedisUnavailable> {
        self.call(|mut connection| async move {
            redis::cmd("PING")
                .query_async::<String>(&mut connection)
                .await
                .map(drop)
        })
        .await
    }

    fn circuit_is_open(&self, now: Instant) -> bool {
        if !self.circuit.open.load(Ordering::Acquire) {
            return false;
        }
        let mut opened_at = self
            .circuit
            .opened_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match *opened_at {
            Some(at) if now.saturating_duration_since(at) < self.limits.cool_down => true,
            _ => {
                // Half open: this call goes through; a failure opens the circuit again.
                *opened_at = None;
                self.circuit.open.store(false, Ordering::Release);
                self.metrics.circuit_open.set(0);
                self.circuit
                    .failures
                    .store(self.limits.circuit_failures - 1, Ordering::Release);
                false
            }
        }
    }

    /// Runs one Redis call within the call timeout, unless the circuit is open.
    pub(crate) async fn call<T, F, Fut>(&self, call: F) -> Result<T, RedisUnavailable>
    where
        F: FnOnce(RedisConnection) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        if self.circuit_is_open(Instant::now()) {
            self.metrics.count("skipped");
            return Err(RedisUnavailable::CircuitOpen);
        }
        let outcome = tokio::time::timeout(self.limits.timeout, async {
            let connection = self.commands.connection().await?;
            call(connection).await
        })
        .await;
        let failure = match outcome {
            Ok(Ok(value)) => {
                self.metrics.count("ok");
                self.circuit.failures.store(0, Ordering::Release);
                return Ok(value);
            }
            Ok(Err(error)) => {
                self.metrics.count("error");
                RedisUnavailable::Failed(error.to_string())
            }
            Err(_elapsed) => {
                self.metrics.count("timeout");
                RedisUnavailable::TimedOut(self.limits.timeout)
            }
        };
        let failures = self.circuit.failures.fetch_add(1, Ordering::AcqRel) + 1;
        if failures >= self.limits.circuit_failures
            && !self.circuit.open.swap(true, Ordering::AcqRel)
        {
            *self
                .circuit
                .opened_at
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
            self.metrics.circuit_open.set(1);
        }
        if let Some(suppressed) = log_window().should_log("redis_unavailable") {
            tracing::warn!(
                error = %failure,
                suppressed,
                "redis is unavailable; the gateway serves from memory and upstream"
            );
        }
        Err(failure)
    }

    /// Subscribes to `channel` for as long as the process runs, reconnecting after a loss,
    /// and hands every message's payload to `deliver`. `missed` runs whenever messages may
    /// have been missed: when the subscription is first made (what was published before it, a
    /// replica that started while Redis was down included), when it is lost, and when it is
    /// made again.
    pub(crate) fn subscribe(
        &self,
        channel: String,
        deliver: impl Fn(Vec<u8>) + Send + Sync + 'static,
        missed: impl Fn() + Send + Sync + 'static,
    ) {
        let client = self.client.clone();
        tokio::spawn(async move {
            loop {
                let connecting = async {
                    let mut pubsub = client.get_async_pubsub().await?;
                    pubsub.subscribe(&channel).await?;
                    Ok::<_, redis::RedisError>(pubsub)
                };
                match tokio::time::timeout(Duration::from_secs(2), connecting).await {
                    Ok(Ok(pubsub)) => {
                        missed();
                        let mut messages = pubsub.into_on_message();
                        while let Some(message) = messages.next().await {
                            deliver(message.get_payload_bytes().to_vec());
                        }
                        // The connection is lost: what is published until it is back is
                        // missed.
                        missed();
                    }
                    Ok(Err(error)) => log_subscription_lost(&channel, &error.to_string()),
                    Err(_elapsed) => log_subscription_lost(&channel, "connecting timed out"),
                }
                tokio::time::sleep(RESUBSCRIBE_PAUSE).await;
            }
        });
    }
}

fn log_subscription_lost(channel: &str, error: &str) {
    if let Some(suppressed) = log_window().should_log("redis_subscription_lost") {
        tracing::warn!(
            channel,
            error,
            suppressed,
            "cannot subscribe to a redis channel; other replicas' invalidations and events are \
             not received until it is back"
        );
    }
}

/// The part of `key` Redis Cluster hashes to choose its slot: the text between the first `{`
/// and the first `}` after it when that is not empty, else the whole key.
#[cfg(test)]
pub(crate) fn hash_tag(key: &str) -> &str {
    if let Some(open) = key.find('{')
        && let Some(length) = key[open + 1..].find('}')
        && length > 0
    {
        return &key[open + 1..open + 1 + length];
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_tag_is_read_as_redis_cluster_reads_it() {
        assert_eq!(
            hash_tag("{bizgraph:v1:answers}:tag:node:1"),
            "bizgraph:v1:answers"
        );
        assert_eq!(hash_tag("{user1000}.following"), "user1000");
        assert_eq!(hash_tag("foo{}{bar}"), "foo{}{bar}");
        assert_eq!(hash_tag("foo{{bar}}zap"), "{bar");
        assert_eq!(hash_tag("bizgraph:v1:bytes:apq"), "bizgraph:v1:bytes:apq");
        assert_eq!(slot_prefix("usage"), "{bizgraph:v1:usage}");
    }

    #[tokio::test]
    async fn a_redis_that_is_not_there_opens_the_circuit_after_the_failures_set_and_is_then_skipped()
     {
        let limits = RedisLimits {
            circuit_failures: 2,
            ..RedisLimits::default()
        };
        // Port 9 (discard) on loopback: nothing listens there.
        let redis =
            SharedRedis::new("redis://127.0.0.1:9/", &limits).unwrap_or_else(|e| panic!("{e}"));
        assert!(redis.ping().await.is_err());
        assert!(!redis.is_unavailable(), "one failure of two");
        assert!(redis.ping().await.is_err());
        assert!(redis.is_unavailable());
        assert!(matches!(
            redis.ping().await,
            Err(RedisUnavailable::CircuitOpen)
        ));
        let count = |outcome: &str| {
            redis
                .metrics()
                .calls
                .get_or_create(&RedisCallLabels {
                    outcome: outcome.to_owned(),
                })
                .get()
        };
        assert_eq!(count("skipped"), 1, "the third call was not sent");
        assert_eq!(count("error") + count("timeout"), 2);
    }
}
