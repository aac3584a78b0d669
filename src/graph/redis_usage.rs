//! A [`UsageStore`] in the Redis replicas share, so that a throttle one replica saw holds back
//! the calls of all: `{bizgraph:v1:usage}:token:<fingerprint>` and
//! `{bizgraph:v1:usage}:business:<id>` (one hash slot, so that one `MGET` reads a token's and
//! a business's on a Redis Cluster too), each `<peak>:<held until, ms since the epoch, or empty>`
//! with the lifetime it was stored with. Every usage is kept in this process's memory too, and
//! read from there while Redis is unavailable, so a replica still holds back on what it saw.

use std::time::{Duration, UNIX_EPOCH};

use super::throttle::{MemoryUsageStore, Usage, UsageKey, UsageStore};
use crate::cache::StoreError;
use crate::shared_redis::{SharedRedis, slot_prefix};

/// Usage in Redis, with this process's memory as the fallback.
pub(crate) struct RedisUsageStore {
    redis: SharedRedis,
    memory: MemoryUsageStore,
}

impl RedisUsageStore {
    pub(crate) fn new(redis: SharedRedis) -> RedisUsageStore {
        RedisUsageStore {
            redis,
            memory: MemoryUsageStore::new(),
        }
    }
}

fn redis_key(key: &UsageKey) -> String {
    format!("{}:{key}", slot_prefix("usage"))
}

fn encode(usage: &Usage) -> String {
    let held = usage
        .held_until
        .and_then(|until| until.duration_since(UNIX_EPOCH).ok())
        .map(|since| since.as_millis().to_string())
        .unwrap_or_default();
    format!("{}:{held}", usage.peak)
}

fn decode(value: &str) -> Option<Usage> {
    let (peak, held) = value.split_once(':')?;
    let held_until = if held.is_empty() {
        None
    } else {
        Some(UNIX_EPOCH + Duration::from_millis(held.parse().ok()?))
    };
    Some(Usage {
        peak: peak.parse().ok()?,
        held_until,
    })
}

#[async_trait::async_trait]
impl UsageStore for RedisUsageStore {
    async fn get(&self, keys: &[UsageKey]) -> Result<Vec<Option<Usage>>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let redis_keys: Vec<String> = keys.iter().map(redis_key).collect();
        let read = self
            .redis
            .call(|mut connection| async move {
                redis::cmd("MGET")
                    .arg(&redis_keys)
                    .query_async::<Vec<Option<String>>>(&mut connection)
                    .await
            })
            .await;
        match read {
            Ok(values) => Ok(values
                .iter()
                .map(|value| value.as_deref().and_then(decode))
                .collect()),
            // What this replica saw itself still holds it back.
            Err(_) => self.memory.get(keys).await,
        }
    }

    async fn put(&self, key: UsageKey, usage: Usage, ttl: Duration) -> Result<(), StoreError> {
        let redis_key = redis_key(&key);
        self.memory.put(key, usage, ttl).await?;
        let value = encode(&usage);
        let ttl = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        self.redis
            .call(|mut connection| async move {
                redis::cmd("SET")
                    .arg(&redis_key)
                    .arg(&value)
                    .arg("PX")
                    .arg(ttl)
                    .query_async::<()>(&mut connection)
                    .await
            })
            .await
            .map_err(|error| StoreError::Backend(error.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_usage_reads_back_as_it_was_stored() {
        let held = UNIX_EPOCH + Duration::from_millis(1_780_000_000_123);
        for usage in [
            Usage {
                peak: 100,
                held_until: Some(held),
            },
            Usage {
                peak: 42,
                held_until: None,
            },
        ] {
            assert_eq!(decode(&encode(&usage)), Some(usage));
        }
        assert_eq!(decode("garbage"), None);
    }

    #[test]
    fn a_token_and_a_business_read_together_are_in_one_hash_slot() {
        use crate::shared_redis::hash_tag;
        use crate::token::{AccessToken, Fingerprinter};
        let token = UsageKey::Token(Fingerprinter::random().fingerprint(&AccessToken::new("EAAx")));
        let business = UsageKey::Business("200001".to_owned());
        let (token, business) = (redis_key(&token), redis_key(&business));
        assert!(token.starts_with("{bizgraph:v1:usage}:token:"), "{token}");
        assert_eq!(business, "{bizgraph:v1:usage}:business:200001");
        assert_eq!(hash_tag(&token), hash_tag(&business));
        assert!(!token.contains("EAAx"));
    }
}
