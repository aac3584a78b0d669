//! What the replicas of one deployment share: the store of upstream answers and the store of
//! the usage Graph reports. Each gateway process has them in memory unless it is built on
//! shared ones (`Application::build_on`); replicas built on the same stores, with the same
//! `cache_key_secret`, find each other's answers, forget them together after a write, and
//! hold calls back together while Graph throttles.

use std::sync::Arc;

use crate::cache::tiered::TieredAnswerStore;
use crate::cache::{AnswerStore, MemoryAnswerStore};
use crate::config::RedisSettings;
use crate::graph::redis_usage::RedisUsageStore;
use crate::graph::throttle::{MemoryUsageStore, UsageStore};
use crate::server::StartError;
use crate::shared_redis::{RedisLimits, SharedRedis};

/// The stores a gateway keeps its shared state in.
#[derive(Clone)]
pub struct SharedStores {
    /// Where upstream answers are cached.
    pub(crate) answers: Arc<dyn AnswerStore>,
    /// Where the usage Graph reports per token and per business is remembered.
    pub(crate) usage: Arc<dyn UsageStore>,
    /// The Redis the stores are in, if any (for `/metrics` and `--redis-required`).
    pub(crate) redis: Option<SharedRedis>,
}

impl SharedStores {
    /// Stores in this process's memory, holding at most `cache_max_bytes` of answers.
    pub fn in_memory(cache_max_bytes: u64) -> SharedStores {
        SharedStores {
            answers: Arc::new(MemoryAnswerStore::new(cache_max_bytes)),
            usage: Arc::new(MemoryUsageStore::new()),
            redis: None,
        }
    }

    /// Stores for replicas that share the Redis at `url` (with `redis.cluster`, the nodes of a
    /// Redis Cluster, comma-separated): answers in this process's memory
    /// (at most `cache_max_bytes`) first and in Redis second, Graph's usage and throttles in
    /// Redis (and in memory for while Redis is unavailable). Every Redis call is bounded and
    /// guarded by a circuit as `redis` says. Needs a Tokio runtime (it subscribes to other
    /// replicas' invalidations). Nothing is connected yet, so a replica starts while Redis is
    /// down.
    pub fn redis(
        url: &str,
        redis: &RedisSettings,
        cache_max_bytes: u64,
    ) -> Result<SharedStores, StartError> {
        let limits = RedisLimits::from(redis);
        let redis = if redis.cluster {
            SharedRedis::cluster(url, &limits)
        } else {
            SharedRedis::new(url, &limits)
        }
        .map_err(|error| StartError::RedisUrl(url_error(url, redis.cluster, &error)))?;
        Ok(SharedStores {
            answers: Arc::new(TieredAnswerStore::new(redis.clone(), cache_max_bytes)),
            usage: Arc::new(RedisUsageStore::new(redis.clone())),
            redis: Some(redis),
        })
    }
}

/// Why `--redis-url` cannot be used, naming the fix where the mistake is a known one: several
/// URLs without `--redis-cluster`. Never the URL itself, which may carry a password.
fn url_error(url: &str, cluster: bool, error: &redis::RedisError) -> String {
    let several = url.contains(",redis://") || url.contains(",rediss://");
    if several && !cluster {
        return format!(
            "{error}: it names several Redis, comma-separated; add --redis-cluster \
             (BIZGRAPH_REDIS_CLUSTER) if they are nodes of one Redis Cluster, or give one URL"
        );
    }
    error.to_string()
}
