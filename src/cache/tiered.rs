//! The answer store of replicas on one Redis: this process's memory first, Redis second.
//!
//! A read that misses memory asks Redis and, on a hit, keeps the answer in memory for what is
//! left of its lifetime. A write goes to both. An invalidation deletes in memory and in Redis,
//! then publishes the tags on [`INVALIDATIONS_CHANNEL`]; every replica subscribes and drops
//! those tags from its memory level. Before its subscription is made, and while it is lost, a
//! replica may miss such a message, so it forgets its whole memory level when the subscription
//! is first made (a replica may start, and serve, while Redis is down), when it drops and when
//! it is back. While Redis is unavailable the memory level still serves and is still invalidated by
//! this replica's own writes.

use std::sync::Arc;
use std::time::Duration;

use super::memory::MemoryAnswerStore;
use super::redis::RedisAnswerStore;
use super::{AnswerStore, CacheKey, CacheTag, CachedAnswer, StoreError};
use crate::log_window::log_window;
use crate::shared_redis::{KEY_PREFIX, SharedRedis};

/// The channel invalidated tags are published on, newline-separated.
pub(crate) fn invalidations_channel() -> String {
    format!("{KEY_PREFIX}:invalidations")
}

/// Memory first, Redis second.
pub(crate) struct TieredAnswerStore {
    memory: Arc<MemoryAnswerStore>,
    redis: RedisAnswerStore,
    shared: SharedRedis,
}

impl TieredAnswerStore {
    /// The two levels, subscribed to other replicas' invalidations.
    pub(crate) fn new(redis: SharedRedis, memory_max_bytes: u64) -> TieredAnswerStore {
        let memory = Arc::new(MemoryAnswerStore::new(memory_max_bytes));
        let on_message = memory.clone();
        let on_loss = memory.clone();
        redis.subscribe(
            invalidations_channel(),
            move |payload| {
                let tags: Vec<CacheTag> = String::from_utf8_lossy(&payload)
                    .split('\n')
                    .filter(|tag| !tag.is_empty())
                    .map(|tag| CacheTag(tag.to_owned()))
                    .collect();
                on_message.forget(&tags);
            },
            move || on_loss.forget_all(),
        );
        TieredAnswerStore {
            memory,
            redis: RedisAnswerStore::new(redis.clone()),
            shared: redis,
        }
    }
}

fn redis_failed(operation: &'static str, error: &StoreError) {
    if let Some(suppressed) = log_window().should_log("cache_redis_failed") {
        tracing::warn!(
            operation,
            error = %error,
            suppressed,
            "the redis level of the answer cache failed; memory and upstream serve"
        );
    }
}

#[async_trait::async_trait]
impl AnswerStore for TieredAnswerStore {
    async fn get(&self, key: &CacheKey) -> Result<Option<Arc<CachedAnswer>>, StoreError> {
        if let Some(answer) = self.memory.get(key).await? {
            return Ok(Some(answer));
        }
        match self.redis.get_with_tags(key).await {
            Ok(Some((answer, tags, left))) => {
                let answer = Arc::new(answer);
                self.memory
                    .put(key.clone(), answer.clone(), tags, left)
                    .await?;
                Ok(Some(answer))
            }
            Ok(None) => Ok(None),
            Err(error) => {
                redis_failed("get", &error);
                Ok(None)
            }
        }
    }

    async fn put(
        &self,
        key: CacheKey,
        answer: Arc<CachedAnswer>,
        tags: Vec<CacheTag>,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.memory
            .put(key.clone(), answer.clone(), tags.clone(), ttl)
            .await?;
        if let Err(error) = self.redis.put(key, answer, tags, ttl).await {
            redis_failed("put", &error);
        }
        Ok(())
    }

    async fn invalidate(&self, tags: &[CacheTag]) -> Result<(), StoreError> {
        self.memory.invalidate(tags).await?;
        self.redis.invalidate(tags).await?;
        let payload = tags
            .iter()
            .map(CacheTag::as_str)
            .collect::<Vec<_>>()
            .join("\n");
        let channel = invalidations_channel();
        self.shared
            .call(|mut connection| async move {
                redis::cmd("PUBLISH")
                    .arg(&channel)
                    .arg(&payload)
                    .query_async::<i64>(&mut connection)
                    .await
            })
            .await
            .map_err(|error| StoreError::Backend(error.to_string()))?;
        Ok(())
    }

    async fn get_bytes(&self, key: &str) -> Result<Option<Arc<[u8]>>, StoreError> {
        if let Some(value) = self.memory.get_bytes(key).await? {
            return Ok(Some(value));
        }
        match self.redis.get_bytes(key).await {
            Ok(Some(value)) => {
                // Persisted documents never change under their hash: an hour in memory.
                self.memory
                    .put_bytes(key.to_owned(), value.clone(), Duration::from_secs(3600))
                    .await?;
                Ok(Some(value))
            }
            Ok(None) => Ok(None),
            Err(error) => {
                redis_failed("get_bytes", &error);
                Ok(None)
            }
        }
    }

    async fn put_bytes(
        &self,
        key: String,
        value: Arc<[u8]>,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.memory
            .put_bytes(key.clone(), value.clone(), ttl)
            .await?;
        if let Err(error) = self.redis.put_bytes(key, value, ttl).await {
            redis_failed("put_bytes", &error);
        }
        Ok(())
    }
}
