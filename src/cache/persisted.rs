//! Automatic persisted queries (Apollo's APQ protocol): documents kept by their SHA-256 in the
//! answer store's keyed area under `apq:v1:<sha256>`, so that replicas on one store find the
//! documents registered through any of them.
//!
//! A document is kept for `PERSISTED_QUERY_TTL` after it was last registered, in an area of
//! bounded size (in memory: `memory::KEYED_AREA_BYTES`, least recently used evicted first).
//! Losing one costs a round trip: the client is answered `PERSISTED_QUERY_NOT_FOUND` and sends
//! the query with its hash again. A store that fails is treated the same way.

use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::AnswerStore;
use crate::log_window::log_window;

/// How long a registered document is kept after its latest registration.
pub(crate) const PERSISTED_QUERY_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// The documents of automatic persisted queries, in a store replicas may share.
#[derive(Clone)]
pub(crate) struct PersistedQueries {
    store: Arc<dyn AnswerStore>,
}

impl PersistedQueries {
    /// Persisted queries kept in `store`'s keyed area.
    pub(crate) fn new(store: Arc<dyn AnswerStore>) -> PersistedQueries {
        PersistedQueries { store }
    }

    /// The document registered under `hash` (64 lowercase hex digits), if the store holds it.
    pub(crate) async fn get(&self, hash: &str) -> Option<String> {
        match self.store.get_bytes(&key(hash)).await {
            Ok(Some(bytes)) => String::from_utf8(bytes.to_vec()).ok(),
            Ok(None) => None,
            Err(error) => {
                store_failed("get", &error);
                None
            }
        }
    }

    /// Registers `query` under `hash`, which the caller has checked is `sha256_hex(query)`.
    pub(crate) async fn put(&self, hash: &str, query: &str) {
        let value: Arc<[u8]> = Arc::from(query.as_bytes());
        if let Err(error) = self
            .store
            .put_bytes(key(hash), value, PERSISTED_QUERY_TTL)
            .await
        {
            store_failed("put", &error);
        }
    }
}

/// The store key of the document with `hash`.
fn key(hash: &str) -> String {
    format!("apq:v1:{hash}")
}

/// The SHA-256 of `query` as 64 lowercase hex digits, as Apollo's clients compute it.
pub(crate) fn sha256_hex(query: &str) -> String {
    hex::encode(Sha256::digest(query.as_bytes()))
}

/// Logs (once per window) a store failure that only costs a client a round trip.
fn store_failed(operation: &'static str, error: &super::StoreError) {
    if let Some(suppressed) = log_window().should_log("persisted_query_store_failed") {
        tracing::warn!(
            operation,
            error = %error,
            suppressed,
            "the store of persisted queries failed; clients are asked to send their queries"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::MemoryAnswerStore;

    #[test]
    fn the_hash_is_apollos_lowercase_hex_sha256() {
        assert_eq!(
            sha256_hex("{ viewer { name } }"),
            hex::encode(Sha256::digest(b"{ viewer { name } }"))
        );
        assert_eq!(sha256_hex("").len(), 64);
        assert_eq!(
            sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[tokio::test]
    async fn a_document_is_found_by_its_hash_through_any_handle_on_the_store() {
        let store: Arc<dyn AnswerStore> = Arc::new(MemoryAnswerStore::new(1024));
        let (a, b) = (
            PersistedQueries::new(store.clone()),
            PersistedQueries::new(store),
        );
        let query = "{ viewer { name } }";
        let hash = sha256_hex(query);
        assert_eq!(b.get(&hash).await, None);
        a.put(&hash, query).await;
        assert_eq!(b.get(&hash).await.as_deref(), Some(query));
    }
}
