//! Per-request DataLoaders: sibling node reads become `GET /?ids=...&fields=...` calls of at
//! most 50 ids, one per distinct `fields` string.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use futures_util::future::join_all;
use serde::de::DeserializeOwned;

use crate::graph::client::MAX_IDS_PER_CALL;
use crate::graph::{AccessToken, ErrorClass, FieldSet, GraphClient, GraphError};

/// The loaders of one GraphQL request, bound to the caller's token.
pub(crate) struct Loaders {
    /// Reads nodes by id, batched through `?ids=`.
    pub nodes: DataLoader<GraphNodes>,
}

impl Loaders {
    /// Loaders for one request of the caller holding `token`.
    pub(crate) fn new(client: GraphClient, token: AccessToken) -> Loaders {
        Loaders {
            nodes: DataLoader::new(GraphNodes { client, token }, tokio::spawn)
                .max_batch_size(MAX_IDS_PER_CALL),
        }
    }
}

/// The loader behind [`Loaders::nodes`].
pub(crate) struct GraphNodes {
    client: GraphClient,
    token: AccessToken,
}

/// A node to read: its id and the `fields` string to read it with, typed by what it decodes to.
pub(crate) struct NodeKey<T> {
    /// The node id.
    pub id: String,
    /// The rendered `fields=` selection.
    pub fields: Arc<str>,
    _type: PhantomData<fn() -> T>,
}

impl<T> NodeKey<T> {
    /// The key of node `id` read with `fields`.
    pub(crate) fn new(id: impl Into<String>, fields: &FieldSet) -> NodeKey<T> {
        NodeKey {
            id: id.into(),
            fields: fields.to_string().into(),
            _type: PhantomData,
        }
    }
}

impl<T> NodeKey<T> {
    fn with_fields(id: String, fields: Arc<str>) -> NodeKey<T> {
        NodeKey {
            id,
            fields,
            _type: PhantomData,
        }
    }
}

// Written by hand: derived impls would require `T` itself to be Clone, Eq and Hash.
impl<T> Clone for NodeKey<T> {
    fn clone(&self) -> Self {
        NodeKey {
            id: self.id.clone(),
            fields: self.fields.clone(),
            _type: PhantomData,
        }
    }
}

impl<T> PartialEq for NodeKey<T> {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id && self.fields == other.fields
    }
}

impl<T> Eq for NodeKey<T> {}

impl<T> Hash for NodeKey<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state);
        self.fields.hash(state);
    }
}

impl<T> Loader<NodeKey<T>> for GraphNodes
where
    T: DeserializeOwned + Clone + Send + Sync + 'static,
{
    /// Each id's own outcome: one unreadable id does not fail its siblings, and a call that
    /// failed as a whole (token, rate limit, transport, the request's call budget) fails the
    /// ids of its own chunk only, not the chunks that were answered.
    type Value = Result<T, NodeError>;
    /// Never returned: failures are per id (see `Value`).
    type Error = GraphError;

    async fn load(
        &self,
        keys: &[NodeKey<T>],
    ) -> Result<HashMap<NodeKey<T>, Result<T, NodeError>>, GraphError> {
        // Keys with the same fields share one call; the DataLoader already caps a batch at 50.
        let mut by_fields: HashMap<Arc<str>, Vec<String>> = HashMap::new();
        for key in keys {
            by_fields
                .entry(key.fields.clone())
                .or_default()
                .push(key.id.clone());
        }
        let calls = by_fields.into_iter().flat_map(|(fields, mut ids)| {
            // Keys arrive in hash order. Sorted, the same set of ids always makes the same
            // chunks, hence the same `?ids=` reads, which a repeat in any order finds cached.
            ids.sort_unstable();
            ids.dedup();
            ids.chunks(MAX_IDS_PER_CALL)
                .map(|chunk| self.answer_chunk::<T>(chunk.to_vec(), fields.clone()))
                .collect::<Vec<_>>()
        });
        // Every chunk runs to its end: one chunk's failure must not throw away the answers
        // of the others (whose calls were made and paid for).
        let answers = join_all(calls).await;
        Ok(answers.into_iter().flatten().collect())
    }
}

impl GraphNodes {
    /// Each id of one chunk with its outcome: a failure of the chunk's call as a whole
    /// becomes the outcome of each of its ids.
    async fn answer_chunk<T>(
        &self,
        ids: Vec<String>,
        fields: Arc<str>,
    ) -> Vec<(NodeKey<T>, Result<T, NodeError>)>
    where
        T: DeserializeOwned,
    {
        match self.load_chunk::<T>(ids.clone(), fields.clone()).await {
            Ok(answers) => answers
                .into_iter()
                .map(|(key, answer)| (key, answer.map_err(NodeError::Own)))
                .collect(),
            Err(error) => ids
                .into_iter()
                .map(|id| {
                    (
                        NodeKey::with_fields(id, fields.clone()),
                        Err(NodeError::Call(error.clone())),
                    )
                })
                .collect(),
        }
    }

    /// Reads one chunk with `?ids=`. Graph fails the whole read when one id is unknown or
    /// unreadable; the chunk is then read again as one batch call, which answers each id on
    /// its own, so the others still arrive and the bad one gets its own error.
    async fn load_chunk<T>(
        &self,
        ids: Vec<String>,
        fields: Arc<str>,
    ) -> Result<Vec<(NodeKey<T>, Result<T, GraphError>)>, GraphError>
    where
        T: DeserializeOwned,
    {
        let key = |id: String| NodeKey::with_fields(id, fields.clone());
        match self
            .client
            .nodes_with_fields::<T>(&self.token, &ids, &fields)
            .await
        {
            Ok(found) => Ok(found
                .into_iter()
                .map(|(id, node)| (key(id), Ok(node)))
                .collect()),
            Err(error) if is_about_one_object(&error) => {
                let answers = if ids.len() == 1 {
                    vec![Err(error)]
                } else {
                    self.client
                        .nodes_one_by_one::<T>(&self.token, &ids, &fields)
                        .await?
                };
                Ok(ids.into_iter().map(key).zip(answers).collect())
            }
            Err(error) => Err(error),
        }
    }
}

/// Why one id of a DataLoader read has no node.
#[derive(Debug, Clone)]
pub(crate) enum NodeError {
    /// Graph's answer about this id alone: unknown, unreadable, or its own batch operation
    /// failed.
    Own(GraphError),
    /// The call that was to read this id, with the others of its chunk, failed as a whole.
    Call(GraphError),
}

impl NodeError {
    /// The upstream error, whichever the reason.
    pub(crate) fn graph_error(&self) -> &GraphError {
        match self {
            NodeError::Own(error) | NodeError::Call(error) => error,
        }
    }
}

/// Whether a failed read may concern only some of its ids (rather than the token, Graph, or
/// the request's call budget).
fn is_about_one_object(error: &GraphError) -> bool {
    matches!(
        error.class(),
        ErrorClass::NotFound | ErrorClass::InvalidArgument | ErrorClass::Forbidden
    )
}
