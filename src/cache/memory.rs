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

/// Most bytes the keyed area (persisted queries) holds in memory, keys and values counted.
pub(crate) const KEYED_AREA_BYTES: u64 = 16 * 1024 * 1024;

/// One entry of the keyed area with its lifetime.
#[derive(Clone)]
struct Kept {
    value: Arc<[u8]>,
    ttl: Duration,
}

/// Each keyed entry expires after the lifetime it was kept with, counted from its latest `put`.
struct KeptLifetime;

impl Expiry<String, Kept> for KeptLifetime {
    fn expire_after_create(&self, _key: &String, kept: &Kept, _at: Instant) -> Option<Duration> {
        Some(kept.ttl)
    }

    fn expire_after_update(
        &self,
        _key: &String,
        kept: &Kept,
        _at: Instant,
        _left: Option<Duration>,
    ) -> Option<Duration> {
        Some(kept.ttl)
    }
}

/// Answers in this process's memory, bounded in bytes, evicted least recently used first; and
/// the keyed area beside them, bounded by `KEYED_AREA_BYTES`.
pub(crate) struct MemoryAnswerStore {
    answers: Cache<CacheKey, Stored>,
    keyed: Cache<String, Kept>,
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
        let keyed = Cache::builder()
            .max_capacity(KEYED_AREA_BYTES)
            .weigher(|key: &String, kept: &Kept| {
                u32::try_from(key.len() + kept.value.len()).unwrap_or(u32::MAX)
            })
            .expire_after(KeptLifetime)
            .build();
        MemoryAnswerStore { answers, keyed }
    }
}

impl MemoryAnswerStore {
    /// Forgets every answer labelled with at least one of `tags`.
    pub(crate) fn forget(&self, tags: &[CacheTag]) {
        let tags: Vec<CacheTag> = tags.to_vec();
        let result = self.answers.invalidate_entries_if(move |_key, stored| {
            tags.iter()
                .any(|tag| stored.tags.binary_search(tag).is_ok())
        });
        if result.is_err() {
            // Only possible if invalidation closures were not enabled; never leave stale data.
            self.answers.invalidate_all();
        }
    }

    /// Forgets every answer (the keyed area stays: its entries never go stale).
    pub(crate) fn forget_all(&self) {
        self.answers.invalidate_all();
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
        self.forget(tags);
        Ok(())
    }

    async fn get_bytes(&self, key: &str) -> Result<Option<Arc<[u8]>>, StoreError> {
        Ok(self.keyed.get(key).map(|kept| kept.value))
    }

    async fn put_bytes(
        &self,
        key: String,
        value: Arc<[u8]>,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.keyed.insert(key, Kept { value, ttl });
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
    async fn the_keyed_area_keeps_bytes_apart_from_answers_and_invalidations() {
        let store = MemoryAnswerStore::new(1024 * 1024);
        let ttl = Duration::from_secs(30);
        store
            .put_bytes(
                "apq:v1:abc".to_owned(),
                Arc::from(&b"{ viewer { name } }"[..]),
                ttl,
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        store
            .put_bytes(
                "apq:v1:gone".to_owned(),
                Arc::from(&b"x"[..]),
                Duration::ZERO,
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        store
            .invalidate(&[CacheTag::node("abc")])
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let kept = store.get_bytes("apq:v1:abc").await.ok().flatten();
        assert_eq!(kept.as_deref(), Some(&b"{ viewer { name } }"[..]));
        assert_eq!(store.get_bytes("apq:v1:gone").await.ok(), Some(None));
        assert_eq!(store.get_bytes("apq:v1:other").await.ok(), Some(None));
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
