//! The upstream answer cache: a facade over an [`AnswerStore`], keyed by a keyed fingerprint
//! of the caller's token, so one token's answers are never served to another and no token is
//! ever held in a key.
//!
//! Identical reads of one token that are in flight at the same time in this process share one
//! upstream call (moka's entry API, kept here so that every store gets it). Errors are never
//! cached. Every answer is stored with tags: `token:<fingerprint>` for whose answer it is and
//! `node:<id>` for every Graph object it mentions (computed by `graph/`, which is the code that
//! reads Graph JSON; the cache never looks inside an answer). A write invalidates the tags of
//! the writing token and of the objects it touched.
//!
//! The store is what replicas of one deployment share: [`memory::MemoryAnswerStore`] in one
//! process, later a network store (Redis), which is why its methods are async and fallible.

pub(crate) mod memory;
pub(crate) mod persisted;
pub(crate) mod redis;
pub(crate) mod tiered;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;

pub(crate) use memory::MemoryAnswerStore;

use crate::log_window::log_window;
use crate::token::TokenFingerprint;

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

/// A label an answer is stored with, so that a write can forget every answer it may have
/// changed without the store reading answers: `token:<fingerprint>` or `node:<id>`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct CacheTag(String);

impl CacheTag {
    /// The tag of every answer read with the token of `fingerprint`.
    pub fn token(fingerprint: TokenFingerprint) -> CacheTag {
        CacheTag(format!("token:{fingerprint}"))
    }

    /// The tag of every answer that mentions the Graph object `id`.
    pub fn node(id: &str) -> CacheTag {
        CacheTag(format!("node:{id}"))
    }

    /// The tag as text, the form a network store keeps.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CacheTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A cached upstream answer.
#[derive(Debug, PartialEq, Eq)]
pub struct CachedAnswer {
    /// The answer's body as Graph sent it.
    pub body: Vec<u8>,
}

/// An answer just read from upstream, with the ids of the Graph objects it mentions, which
/// become its `node:` tags.
#[derive(Debug)]
pub struct FreshAnswer {
    /// The answer's body as Graph sent it.
    pub body: Vec<u8>,
    /// The ids of the Graph objects the answer mentions.
    pub mentions: Vec<String>,
}

/// Why a store could not do what it was asked. The cache is an optimisation, so the facade
/// never fails a read for it: a failed `get` is a miss, a failed `put` is not cached, and a
/// failed `invalidate` is logged as an error (stale answers may then be served for a lifetime).
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The store's backend failed or could not be reached.
    #[error("the answer store failed: {0}")]
    Backend(String),
}

/// Where answers are kept, shared by every replica that uses the same store.
///
/// Object-safe (through `async_trait`'s boxed futures) rather than generic: the store is
/// chosen at start from settings (memory alone, later Redis, or both in tiers) and handed to
/// `Application` as `Arc<dyn AnswerStore>`, and one allocation per lookup is nothing next to
/// the HTTP call it saves.
#[async_trait::async_trait]
pub trait AnswerStore: Send + Sync + 'static {
    /// The answer stored under `key`, if it is there and has not expired.
    async fn get(&self, key: &CacheKey) -> Result<Option<Arc<CachedAnswer>>, StoreError>;

    /// Stores `answer` under `key` for `ttl`, labelled with `tags`, replacing what was there.
    async fn put(
        &self,
        key: CacheKey,
        answer: Arc<CachedAnswer>,
        tags: Vec<CacheTag>,
        ttl: Duration,
    ) -> Result<(), StoreError>;

    /// Forgets every answer labelled with at least one of `tags`. Answers stored after the
    /// call returns are kept, whatever their tags.
    async fn invalidate(&self, tags: &[CacheTag]) -> Result<(), StoreError>;

    /// The bytes kept under `key` in the store's keyed area, if they are there and have not
    /// expired. The area is apart from the answers: it has no tags, no invalidation, and its
    /// keys are prefixed by their use (`apq:v1:<sha256>` for a persisted query's document).
    async fn get_bytes(&self, key: &str) -> Result<Option<Arc<[u8]>>, StoreError>;

    /// Keeps `value` under `key` in the keyed area for `ttl`, replacing what was there. The
    /// store bounds the area's size and may evict any entry before its time (least recently
    /// used first): what is kept there must be something a client can send again.
    async fn put_bytes(
        &self,
        key: String,
        value: Arc<[u8]>,
        ttl: Duration,
    ) -> Result<(), StoreError>;
}

/// How big and how fresh the cache is.
#[derive(Clone, Copy, Debug)]
pub struct CacheSettings {
    /// How long an answer may be served; zero turns the cache off.
    pub ttl: Duration,
    /// The most bytes of answers held (by the in-memory store).
    pub max_bytes: u64,
}

/// How long a finished read stays in the in-flight map at most. The facade removes it as soon
/// as the read that loaded it returns; this bound only matters if that read was cancelled in
/// between, and keeps such an entry from hiding a later invalidation for longer than this.
const IN_FLIGHT_LINGER: Duration = Duration::from_secs(1);
/// Finished reads held in the in-flight map at most (normally none or a few).
const IN_FLIGHT_MAX: u64 = 10_000;

/// An answer as shared between identical reads in flight, and whether it came from the store.
#[derive(Clone)]
struct Shared {
    answer: Arc<CachedAnswer>,
    from_store: bool,
}

struct Enabled {
    store: Arc<dyn AnswerStore>,
    ttl: Duration,
    /// Reads being loaded now, so that identical ones share one load; not a cache.
    in_flight: Cache<CacheKey, Shared>,
}

/// The upstream answer cache of one gateway process, over a store that replicas may share.
#[derive(Clone)]
pub struct UpstreamCache {
    enabled: Option<Arc<Enabled>>,
}

impl UpstreamCache {
    /// A cache in this process's memory with the given size and lifetime (off when the
    /// lifetime is zero).
    pub fn new(settings: CacheSettings) -> UpstreamCache {
        UpstreamCache::on_store(
            settings,
            Arc::new(MemoryAnswerStore::new(settings.max_bytes)),
        )
    }

    /// A cache over `store`, which other replicas may share, with the given lifetime (off when
    /// the lifetime is zero; `max_bytes` is the store's business).
    pub fn on_store(settings: CacheSettings, store: Arc<dyn AnswerStore>) -> UpstreamCache {
        let enabled = (!settings.ttl.is_zero()).then(|| {
            Arc::new(Enabled {
                store,
                ttl: settings.ttl,
                in_flight: Cache::builder()
                    .max_capacity(IN_FLIGHT_MAX)
                    .time_to_live(IN_FLIGHT_LINGER.min(settings.ttl))
                    .build(),
            })
        });
        UpstreamCache { enabled }
    }

    /// A cache that holds nothing (every read goes upstream).
    pub fn disabled() -> UpstreamCache {
        UpstreamCache { enabled: None }
    }

    /// Whether answers are kept at all (a TTL of 0 turns the cache off): when not, a fresh
    /// answer needs neither its tags nor its page links left out.
    pub fn keeps_answers(&self) -> bool {
        self.enabled.is_some()
    }

    /// The cached answer for `key`, or the one `load` produces, which is stored when it
    /// succeeds, tagged with the key's token and the objects it mentions. Concurrent calls
    /// with the same key share one `load`. The flag says whether the answer came without a
    /// `load` of this call's own (a hit).
    pub async fn get_or_load<E, F>(
        &self,
        key: CacheKey,
        load: F,
    ) -> Result<(Arc<CachedAnswer>, bool), E>
    where
        F: Future<Output = Result<FreshAnswer, E>>,
        E: Clone + Send + Sync + 'static,
    {
        let Some(enabled) = &self.enabled else {
            let fresh = load.await?;
            return Ok((Arc::new(CachedAnswer { body: fresh.body }), false));
        };
        // A hit is a read of the store and nothing else: through the in-flight map below,
        // every hit was also an insert and an invalidation there (cached W1 gateway CPU per op
        // 0.038-0.052 ms before, 0.033-0.034 ms after, wrk -c16).
        match enabled.store.get(&key).await {
            Ok(Some(answer)) => return Ok((answer, true)),
            Ok(None) => {}
            Err(error) => store_failed("get", &error),
        }
        // Boxed: moka's insert future is 8 KiB, and every future of the Graph client and of
        // the resolvers above it holds this one; async-graphql copies each field's future
        // into a box of its own, so their size is paid per field (callgrind, issue 7).
        let entry = Box::pin(
            enabled
                .in_flight
                .entry(key.clone())
                .or_try_insert_with(enabled.load_through_store(&key, load)),
        )
        .await
        .map_err(|shared| shared.as_ref().clone())?;
        let own_load = entry.is_fresh();
        let shared = entry.into_value();
        if own_load {
            // Later reads find the answer in the store; the in-flight map only joins reads
            // that overlap this one.
            enabled.in_flight.invalidate(&key).await;
        }
        Ok((shared.answer, !own_load || shared.from_store))
    }

    /// Forgets what a write may have changed: every answer of the writing token, and every
    /// answer of any token that mentions one of `touched`.
    pub async fn invalidate_after_write(&self, writer: TokenFingerprint, touched: &[&str]) {
        let tags: Vec<CacheTag> = std::iter::once(CacheTag::token(writer))
            .chain(touched.iter().map(|id| CacheTag::node(id)))
            .collect();
        self.invalidate_tags(&tags).await;
    }

    /// Forgets every answer of any token that mentions one of `ids`: what changed on Meta's
    /// side, as a webhook reports it.
    pub async fn invalidate_mentions(&self, ids: &[&str]) {
        let tags: Vec<CacheTag> = ids.iter().map(|id| CacheTag::node(id)).collect();
        self.invalidate_tags(&tags).await;
    }

    async fn invalidate_tags(&self, tags: &[CacheTag]) {
        let Some(enabled) = &self.enabled else {
            return;
        };
        // A finished read still in the in-flight map must not outlive the write either.
        enabled.in_flight.invalidate_all();
        if let Err(error) = enabled.store.invalidate(tags).await
            && let Some(suppressed) = log_window().should_log("cache_invalidate_failed")
        {
            tracing::error!(
                error = %error,
                suppressed,
                "the answer store could not forget what a write changed; older answers may be \
                 served until they expire"
            );
        }
    }
}

impl Enabled {
    /// Reads `key` from the store, or loads it and stores it.
    async fn load_through_store<E, F>(&self, key: &CacheKey, load: F) -> Result<Shared, E>
    where
        F: Future<Output = Result<FreshAnswer, E>>,
    {
        match self.store.get(key).await {
            Ok(Some(answer)) => {
                return Ok(Shared {
                    answer,
                    from_store: true,
                });
            }
            Ok(None) => {}
            Err(error) => store_failed("get", &error),
        }
        let fresh = load.await?;
        let mut tags: Vec<CacheTag> = std::iter::once(CacheTag::token(key.token))
            .chain(fresh.mentions.iter().map(|id| CacheTag::node(id)))
            .collect();
        tags.sort();
        tags.dedup();
        let answer = Arc::new(CachedAnswer { body: fresh.body });
        if let Err(error) = self
            .store
            .put(key.clone(), answer.clone(), tags, self.ttl)
            .await
        {
            store_failed("put", &error);
        }
        Ok(Shared {
            answer,
            from_store: false,
        })
    }
}

/// Logs (once per window) a store failure that only costs an upstream call.
fn store_failed(operation: &'static str, error: &StoreError) {
    if let Some(suppressed) = log_window().should_log("cache_store_failed") {
        tracing::warn!(
            operation,
            error = %error,
            suppressed,
            "the answer store failed; reads go upstream"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::{AccessToken, Fingerprinter};

    fn key(fingerprints: &Fingerprinter, token: &str, path: &str) -> CacheKey {
        CacheKey {
            token: fingerprints.fingerprint(&AccessToken::new(token)),
            version: "v25.0".into(),
            path: path.to_owned(),
            params: String::new(),
        }
    }

    fn fresh(body: &str, mentions: &[&str]) -> Result<FreshAnswer, ()> {
        Ok(FreshAnswer {
            body: body.as_bytes().to_vec(),
            mentions: mentions.iter().map(|id| (*id).to_owned()).collect(),
        })
    }

    fn settings() -> CacheSettings {
        CacheSettings {
            ttl: Duration::from_secs(30),
            max_bytes: 1024 * 1024,
        }
    }

    #[tokio::test]
    async fn a_second_cache_on_the_same_store_is_answered_by_the_first_ones_load() {
        let store: Arc<dyn AnswerStore> = Arc::new(MemoryAnswerStore::new(1024 * 1024));
        let replica_a = UpstreamCache::on_store(settings(), store.clone());
        let replica_b = UpstreamCache::on_store(settings(), store);
        let fingerprints = Fingerprinter::random();
        let me = key(&fingerprints, "t", "me");

        let (answer, hit) = replica_a
            .get_or_load(me.clone(), async { fresh("{\"id\":\"1\"}", &["1"]) })
            .await
            .unwrap_or_else(|()| panic!("loaded"));
        assert_eq!(
            (answer.body.as_slice(), hit),
            (&b"{\"id\":\"1\"}"[..], false)
        );

        let (answer, hit) = replica_b
            .get_or_load(me, async { fresh("not this one", &[]) })
            .await
            .unwrap_or_else(|()| panic!("loaded"));
        assert_eq!(
            (answer.body.as_slice(), hit),
            (&b"{\"id\":\"1\"}"[..], true)
        );
    }

    #[tokio::test]
    async fn a_write_forgets_the_writers_answers_and_answers_mentioning_what_it_touched() {
        let cache = UpstreamCache::new(settings());
        let fingerprints = Fingerprinter::random();
        let writer = fingerprints.fingerprint(&AccessToken::new("writer"));
        let writers_own = key(&fingerprints, "writer", "me");
        let mentions_it = key(&fingerprints, "other", "200001");
        let unrelated = key(&fingerprints, "other", "200002");
        for (key, mentions) in [
            (&writers_own, &["1"][..]),
            (&mentions_it, &["200001", "300001"][..]),
            (&unrelated, &["200002"][..]),
        ] {
            let loaded = cache
                .get_or_load(key.clone(), async { fresh("old", mentions) })
                .await;
            assert!(matches!(loaded, Ok((_, false))));
        }

        cache.invalidate_after_write(writer, &["300001"]).await;

        for (key, forgotten) in [(writers_own, true), (mentions_it, true), (unrelated, false)] {
            let (answer, hit) = cache
                .get_or_load(key.clone(), async { fresh("new", &[]) })
                .await
                .unwrap_or_else(|()| panic!("loaded"));
            assert_eq!(hit, !forgotten, "{key:?}");
            let expected: &[u8] = if forgotten { b"new" } else { b"old" };
            assert_eq!(answer.body, expected, "{key:?}");
        }
    }

    #[tokio::test]
    async fn an_error_is_not_stored_and_a_disabled_cache_always_loads() {
        let cache = UpstreamCache::new(settings());
        let fingerprints = Fingerprinter::random();
        let me = key(&fingerprints, "t", "me");
        let failed = cache
            .get_or_load(me.clone(), async { Err::<FreshAnswer, _>("down") })
            .await;
        assert_eq!(failed.map(|(_, hit)| hit), Err("down"));
        let loaded = cache
            .get_or_load(me.clone(), async {
                Ok::<_, &str>(FreshAnswer {
                    body: b"up".to_vec(),
                    mentions: Vec::new(),
                })
            })
            .await;
        assert_eq!(
            loaded.map(|(answer, hit)| (answer.body.clone(), hit)),
            Ok((b"up".to_vec(), false))
        );

        let disabled = UpstreamCache::disabled();
        for _ in 0..2 {
            let loaded = disabled
                .get_or_load(me.clone(), async { fresh("x", &[]) })
                .await;
            assert!(matches!(loaded, Ok((_, false))));
        }
    }

    #[test]
    fn tags_name_a_token_by_its_fingerprint_and_a_node_by_its_id() {
        let fingerprint = Fingerprinter::random().fingerprint(&AccessToken::new("secret-token"));
        assert_eq!(
            CacheTag::token(fingerprint).as_str(),
            format!("token:{fingerprint}")
        );
        assert!(
            !CacheTag::token(fingerprint)
                .as_str()
                .contains("secret-token")
        );
        assert_eq!(CacheTag::node("200001").to_string(), "node:200001");
    }
}
