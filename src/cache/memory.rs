//! The in-memory answer store (moka): what one gateway process uses alone, and what replicas in
//! one process share in tests, standing in for a network store.

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::Expiry;
use moka::sync::Cache;

use super::{AnswerStore, CacheKey, CacheTag, CachedAnswer, StoreError};

/// One stored answer with its tags and lifetime.
#[derive(Clone)]
struct Stored {
    answer: Arc<CachedAnswer>,
    /// Sorted, for `binary_search`.
    tags: Arc<[CacheTag]>,
    ttl: Duration,
}

/// Each answer expires after the lifetime it was stored with, counted from its latest `put`.
struct StoredLifetime;

impl Expiry<CacheKey, Stored> for StoredLifetime {
    fn expire_after_create(
        &self,
        _key: &CacheKey,
        stored: &Stored,
        _at: Instant,
    ) -> Option<Duration> {
        Some(stored.ttl)
    }

    fn expire_after_update(
        &self,
        _key: &CacheKey,
        stored: &Stored,
        _at: Instant,
        _left: Option<Duration>,
    ) -> Option<Duration> {
        Some(stored.ttl)
    }
}

/// Answers in this process's memory, bounded in bytes, evicted least recently used first.
pub(crate) struct MemoryAnswerStore {
    answers: Cache<CacheKey, Stored>,
}

impl MemoryAnswerStore {
    /// A store that holds at most `max_bytes` of answers (bodies, paths and parameters).
    pub(crate) fn new(max_bytes: u64) -> MemoryAnswerStore {
        let answers = Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|key: &CacheKey, stored: &Stored| {
                let bytes = stored.answer.body.len() + key.path.len() + key.params.len();
                u32::try_from(bytes).unwrap_or(u32::MAX)
            })
            .expire_after(StoredLifetime)
            .support_invalidation_closures()
            .build();
        MemoryAnswerStore { answers }
    }
}

#[async_trait::async_trait]
impl AnswerStore for MemoryAnswerStore {
    async fn get(&self, key: &CacheKey) -> Result<Option<Arc<CachedAnswer>>, StoreError> {
        Ok(self.answers.get(key).map(|stored| stored.answer))
    }

    async fn put(
        &self,
        key: CacheKey,
        answer: Arc<CachedAnswer>,
        mut tags: Vec<CacheTag>,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        tags.sort();
        tags.dedup();
        self.answers.insert(
            key,
            Stored {
                answer,
                tags: tags.into(),
                ttl,
            },
        );
        Ok(())
    }

    async fn invalidate(&self, tags: &[CacheTag]) -> Result<(), StoreError> {
        let tags: Vec<CacheTag> = tags.to_vec();
        let result = self.answers.invalidate_entries_if(move |_key, stored| {
            tags.iter()
                .any(|tag| stored.tags.binary_search(tag).is_ok())
        });
        if result.is_err() {
            // Only possible if invalidation closures were not enabled; never leave stale data.
            self.answers.invalidate_all();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::{AccessToken, Fingerprinter};

    fn key(path: &str) -> CacheKey {
        CacheKey {
            token: Fingerprinter::random().fingerprint(&AccessToken::new("t")),
            version: "v25.0".into(),
            path: path.to_owned(),
            params: String::new(),
        }
    }

    fn answer(body: &str) -> Arc<CachedAnswer> {
        Arc::new(CachedAnswer {
            body: body.as_bytes().to_vec(),
        })
    }

    #[tokio::test]
    async fn invalidating_a_tag_forgets_exactly_the_answers_stored_with_it() {
        let store = MemoryAnswerStore::new(1024 * 1024);
        let ttl = Duration::from_secs(30);
        let (business, page, other) = (key("200001"), key("300001"), key("200002"));
        let tagged = |ids: &[&str]| ids.iter().map(|id| CacheTag::node(id)).collect::<Vec<_>>();
        for (key, tags) in [
            (&business, tagged(&["200001", "300001"])),
            (&page, tagged(&["300001"])),
            (&other, tagged(&["200002"])),
        ] {
            store
                .put(key.clone(), answer(&key.path), tags, ttl)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        }

        store
            .invalidate(&[CacheTag::node("300001")])
            .await
            .unwrap_or_else(|e| panic!("{e}"));

        assert_eq!(store.get(&business).await.ok(), Some(None));
        assert_eq!(store.get(&page).await.ok(), Some(None));
        assert_eq!(store.get(&other).await.ok(), Some(Some(answer("200002"))));
    }

    #[tokio::test]
    async fn an_answer_expires_after_the_lifetime_it_was_stored_with() {
        let store = MemoryAnswerStore::new(1024 * 1024);
        let (short, long) = (key("short"), key("long"));
        store
            .put(short.clone(), answer("s"), Vec::new(), Duration::ZERO)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        store
            .put(
                long.clone(),
                answer("l"),
                Vec::new(),
                Duration::from_secs(30),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(store.get(&short).await.ok(), Some(None));
        assert_eq!(store.get(&long).await.ok(), Some(Some(answer("l"))));
    }
}
