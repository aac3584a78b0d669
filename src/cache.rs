//! The upstream answer cache: moka, keyed by a keyed fingerprint of the caller's token, so one
//! token's answers are never served to another and no token is ever held in a key.
//!
//! Identical reads of one token that are in flight at the same time share one upstream call
//! (moka's entry API). Errors are never cached. A write invalidates every answer of the
//! writing token and every answer, of any token, that mentions an object it touched.

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use moka::future::Cache;
use rand::RngCore;
use sha2::Sha256;

use crate::graph::AccessToken;

/// A keyed fingerprint of an access token: stable for one process, useless to anyone else.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TokenFingerprint([u8; 16]);

/// What one cached answer is stored under.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct CacheKey {
    /// Whose answer it is.
    pub token: TokenFingerprint,
    /// The Graph version the answer was read with.
    pub version: Arc<str>,
    /// The path below the version (`me`, `200001/owned_pages`, or empty for `?ids=`).
    pub path: String,
    /// The query parameters, in the order sent.
    pub params: String,
}

/// A cached upstream answer and the ids of the Graph objects it mentions.
#[derive(Debug)]
pub struct CachedAnswer {
    /// The answer's body as Graph sent it.
    pub body: Vec<u8>,
    /// Every `"id"` value in the body, for invalidation.
    ids: Vec<String>,
}

impl CachedAnswer {
    /// Wraps a successful answer, noting the object ids it mentions.
    pub fn new(body: Vec<u8>) -> CachedAnswer {
        let mut ids = Vec::new();
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(&body) {
            collect_ids(&value, &mut ids);
        }
        ids.sort();
        ids.dedup();
        CachedAnswer { body, ids }
    }

    fn mentions(&self, id: &str) -> bool {
        self.ids
            .binary_search_by(|probe| probe.as_str().cmp(id))
            .is_ok()
    }
}

fn collect_ids(value: &serde_json::Value, ids: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                match value {
                    serde_json::Value::String(id) if key == "id" => ids.push(id.clone()),
                    // `?ids=` answers are keyed by id.
                    other => {
                        if other.is_object() && crate::graph::is_node_id(key) {
                            ids.push(key.clone());
                        }
                        collect_ids(other, ids);
                    }
                }
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                collect_ids(item, ids);
            }
        }
        _ => {}
    }
}

/// How big and how fresh the cache is.
#[derive(Clone, Copy, Debug)]
pub struct CacheSettings {
    /// How long an answer may be served; zero turns the cache off.
    pub ttl: Duration,
    /// The most bytes of answers held.
    pub max_bytes: u64,
}

/// The upstream answer cache shared by all requests of one gateway process.
#[derive(Clone)]
pub struct UpstreamCache {
    answers: Option<Cache<CacheKey, Arc<CachedAnswer>>>,
    fingerprint_key: Arc<[u8; 32]>,
}

impl UpstreamCache {
    /// A cache with the given size and lifetime (off when the lifetime is zero).
    pub fn new(settings: CacheSettings) -> UpstreamCache {
        let answers = (!settings.ttl.is_zero()).then(|| {
            Cache::builder()
                .max_capacity(settings.max_bytes)
                .weigher(|key: &CacheKey, answer: &Arc<CachedAnswer>| {
                    let bytes = answer.body.len() + key.path.len() + key.params.len();
                    u32::try_from(bytes).unwrap_or(u32::MAX)
                })
                .time_to_live(settings.ttl)
                .support_invalidation_closures()
                .build()
        });
        let mut fingerprint_key = [0u8; 32];
        rand::rng().fill_bytes(&mut fingerprint_key);
        UpstreamCache {
            answers,
            fingerprint_key: Arc::new(fingerprint_key),
        }
    }

    /// A cache that holds nothing (every read goes upstream).
    pub fn disabled() -> UpstreamCache {
        UpstreamCache::new(CacheSettings {
            ttl: Duration::ZERO,
            max_bytes: 0,
        })
    }

    /// The keyed fingerprint of `token`.
    pub fn fingerprint(&self, token: &AccessToken) -> TokenFingerprint {
        let mut out = [0u8; 16];
        if let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(self.fingerprint_key.as_slice()) {
            mac.update(token.expose().as_bytes());
            out.copy_from_slice(&mac.finalize().into_bytes()[..16]);
        }
        TokenFingerprint(out)
    }

    /// The cached answer for `key`, or the one `load` produces, which is cached when it
    /// succeeds. Concurrent calls with the same key share one `load`. The flag says whether
    /// the answer came without a `load` of this call's own (a hit).
    pub async fn get_or_load<E, F>(
        &self,
        key: CacheKey,
        load: F,
    ) -> Result<(Arc<CachedAnswer>, bool), E>
    where
        F: Future<Output = Result<Vec<u8>, E>>,
        E: Clone + Send + Sync + 'static,
    {
        match &self.answers {
            None => load
                .await
                .map(|body| (Arc::new(CachedAnswer::new(body)), false)),
            Some(answers) => answers
                .entry(key)
                .or_try_insert_with(async move {
                    load.await.map(|body| Arc::new(CachedAnswer::new(body)))
                })
                .await
                .map(|entry| {
                    let hit = !entry.is_fresh();
                    (entry.into_value(), hit)
                })
                .map_err(|shared| shared.as_ref().clone()),
        }
    }

    /// Forgets what a write may have changed: every answer of the writing token, and every
    /// answer of any token that mentions one of `touched`.
    pub fn invalidate_after_write(&self, token: &AccessToken, touched: &[String]) {
        let Some(answers) = &self.answers else {
            return;
        };
        let writer = self.fingerprint(token);
        let touched: Vec<String> = touched.to_vec();
        let result = answers.invalidate_entries_if(move |key, answer| {
            key.token == writer || touched.iter().any(|id| answer.mentions(id))
        });
        if result.is_err() {
            // Only possible if invalidation closures were not enabled; never leave stale data.
            answers.invalidate_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_stable_per_process_and_differ_between_tokens() {
        let cache = UpstreamCache::disabled();
        let a = AccessToken::new("token-a");
        let b = AccessToken::new("token-b");
        assert_eq!(cache.fingerprint(&a), cache.fingerprint(&a));
        assert_ne!(cache.fingerprint(&a), cache.fingerprint(&b));
        // Another process (another key) gives another fingerprint for the same token.
        assert_ne!(
            UpstreamCache::disabled().fingerprint(&a),
            cache.fingerprint(&a)
        );
    }

    #[test]
    fn an_answer_knows_the_ids_it_mentions() {
        let answer = CachedAnswer::new(
            br#"{"id":"1","businesses":{"data":[{"id":"200001","primary_page":{"id":"300001"}}]},
                "200002":{"name":"by ids"}}"#
                .to_vec(),
        );
        assert!(answer.mentions("1"));
        assert!(answer.mentions("200001"));
        assert!(answer.mentions("300001"));
        assert!(answer.mentions("200002"));
        assert!(!answer.mentions("999"));
    }
}
