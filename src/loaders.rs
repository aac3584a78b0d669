//! Per-request DataLoaders: sibling node reads become `GET /?ids=...&fields=...` calls of at
//! most 50 ids, one per distinct `fields` string; sibling reads of role-guarded edges on their
//! own become one batch call of at most 50 edge reads.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use futures_util::future::join_all;
use serde::de::DeserializeOwned;

use crate::graph::client::MAX_IDS_PER_CALL;
use crate::graph::{
    AccessToken, ErrorClass, FieldSet, GraphClient, GraphError, GraphList, PageRequest,
};

/// The loaders of one GraphQL request, bound to the caller's token.
pub(crate) struct Loaders {
    /// Reads nodes by id, batched through `?ids=`.
    pub nodes: DataLoader<GraphNodes>,
    /// Reads a page of an edge of many nodes, each on its own, batched into one batch call.
    pub edges: DataLoader<GraphEdges>,
}

impl Loaders {
    /// Loaders for one request of the caller holding `token`.
    pub(crate) fn new(client: GraphClient, token: AccessToken) -> Loaders {
        Loaders {
            nodes: DataLoader::new(
                GraphNodes {
                    client: client.clone(),
                    token: token.clone(),
                },
                tokio::spawn,
            )
            .max_batch_size(MAX_IDS_PER_CALL),
            edges: DataLoader::new(GraphEdges { client, token }, tokio::spawn)
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
    /// Whether the caller reads again without the role-guarded edges its fields expand when
    /// Graph refuses the read (`FORBIDDEN`): then the refusal is the whole chunk's, and the
    /// ids are not read again one by one with the same fields (which Graph would refuse too).
    /// Follows from `fields`, so it is no part of the key's identity.
    pub retried_without_guarded: bool,
    _type: PhantomData<fn() -> T>,
}

impl<T> NodeKey<T> {
    /// The key of node `id` read with `fields`.
    pub(crate) fn new(id: impl Into<String>, fields: &FieldSet) -> NodeKey<T> {
        NodeKey {
            id: id.into(),
            fields: fields.to_string().into(),
            retried_without_guarded: false,
            _type: PhantomData,
        }
    }

    /// The same key, read by a caller that retries without the role-guarded edges (see
    /// [`NodeKey::retried_without_guarded`]) when `retried` holds.
    pub(crate) fn retried_without_guarded(mut self, retried: bool) -> NodeKey<T> {
        self.retried_without_guarded = retried;
        self
    }

    fn with_fields(id: String, fields: Arc<str>, retried: bool) -> NodeKey<T> {
        NodeKey {
            id,
            fields,
            retried_without_guarded: retried,
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
            retried_without_guarded: self.retried_without_guarded,
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
        let mut by_fields: HashMap<Arc<str>, (bool, Vec<String>)> = HashMap::new();
        for key in keys {
            by_fields
                .entry(key.fields.clone())
                .or_insert_with(|| (key.retried_without_guarded, Vec::new()))
                .1
                .push(key.id.clone());
        }
        let calls = by_fields
            .into_iter()
            .flat_map(|(fields, (retried, mut ids))| {
                // Keys arrive in hash order. Sorted, the same set of ids always makes the same
                // chunks, hence the same `?ids=` reads, which a repeat in any order finds cached.
                ids.sort_unstable();
                ids.dedup();
                ids.chunks(MAX_IDS_PER_CALL)
                    .map(|chunk| self.answer_chunk::<T>(chunk.to_vec(), fields.clone(), retried))
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
        retried: bool,
    ) -> Vec<(NodeKey<T>, Result<T, NodeError>)>
    where
        T: DeserializeOwned,
    {
        match self
            .load_chunk::<T>(ids.clone(), fields.clone(), retried)
            .await
        {
            Ok(answers) => answers
                .into_iter()
                .map(|(key, answer)| (key, answer.map_err(NodeError::Own)))
                .collect(),
            Err(error) => ids
                .into_iter()
                .map(|id| {
                    (
                        NodeKey::with_fields(id, fields.clone(), retried),
                        Err(NodeError::Call(error.clone())),
                    )
                })
                .collect(),
        }
    }

    /// Reads one chunk with `?ids=`. Graph fails the whole read when one id is unknown or
    /// unreadable; the chunk is then read again as one batch call, which answers each id on
    /// its own, so the others still arrive and the bad one gets its own error. Not so for a
    /// refusal of fields that expand a role-guarded edge when the caller retries without
    /// them (`retried`): Graph refuses those edges per business, so the chunk fails as a
    /// whole and the caller's one narrowed read replaces a batch that would be refused too.
    async fn load_chunk<T>(
        &self,
        ids: Vec<String>,
        fields: Arc<str>,
        retried: bool,
    ) -> Result<Vec<(NodeKey<T>, Result<T, GraphError>)>, GraphError>
    where
        T: DeserializeOwned,
    {
        let key = |id: String| NodeKey::with_fields(id, fields.clone(), retried);
        match self
            .client
            .nodes_with_fields::<T>(&self.token, &ids, &fields)
            .await
        {
            Ok(found) => Ok(found
                .into_iter()
                .map(|(id, node)| (key(id), Ok(node)))
                .collect()),
            Err(error) if retried && matches!(error.class(), ErrorClass::Forbidden) => Err(error),
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

/// The loader behind [`Loaders::edges`].
pub(crate) struct GraphEdges {
    client: GraphClient,
    token: AccessToken,
}

/// A page of an edge to read on its own: the node, the edge, and the page's fields and
/// paging, typed by what its items decode to.
pub(crate) struct EdgeKey<T> {
    /// The node id.
    pub id: String,
    /// The edge's name.
    pub edge: String,
    /// The fields of its items.
    pub fields: Arc<FieldSet>,
    /// The page asked for.
    pub page: PageRequest,
    _type: PhantomData<fn() -> T>,
}

impl<T> EdgeKey<T> {
    /// The key of a page of `edge` of node `id`.
    pub(crate) fn new(id: &str, edge: &str, fields: &FieldSet, page: &PageRequest) -> EdgeKey<T> {
        EdgeKey {
            id: id.to_owned(),
            edge: edge.to_owned(),
            fields: Arc::new(fields.clone()),
            page: page.clone(),
            _type: PhantomData,
        }
    }

    /// What tells two keys apart: the path and the rendered parameters.
    fn identity(&self) -> (&str, &str, String, &PageRequest) {
        (&self.id, &self.edge, self.fields.to_string(), &self.page)
    }
}

// Written by hand for the same reason as `NodeKey`'s.
impl<T> Clone for EdgeKey<T> {
    fn clone(&self) -> Self {
        EdgeKey {
            id: self.id.clone(),
            edge: self.edge.clone(),
            fields: self.fields.clone(),
            page: self.page.clone(),
            _type: PhantomData,
        }
    }
}

impl<T> PartialEq for EdgeKey<T> {
    fn eq(&self, other: &Self) -> bool {
        self.identity() == other.identity()
    }
}

impl<T> Eq for EdgeKey<T> {}

impl<T> Hash for EdgeKey<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.identity().hash(state);
    }
}

impl<T> Loader<EdgeKey<T>> for GraphEdges
where
    T: DeserializeOwned + Clone + Send + Sync + 'static,
{
    /// Each edge's own outcome: Graph refuses an edge for a role the token lacks in that
    /// business only. A batch call that failed as a whole fails each of its edges.
    type Value = Result<GraphList<T>, GraphError>;
    /// Never returned: failures are per edge (see `Value`).
    type Error = GraphError;

    async fn load(
        &self,
        keys: &[EdgeKey<T>],
    ) -> Result<HashMap<EdgeKey<T>, Result<GraphList<T>, GraphError>>, GraphError> {
        let mut keys = keys.to_vec();
        keys.sort_by(|a, b| a.identity().cmp(&b.identity()));
        keys.dedup();
        // One edge alone is read as a plain GET, which the cache can answer and keep.
        if let [key] = keys.as_slice() {
            let answer = self
                .client
                .edge(&self.token, &key.id, &key.edge, &key.fields, &key.page)
                .await;
            return Ok(HashMap::from([(key.clone(), answer)]));
        }
        let reads: Vec<(&str, &str, &FieldSet, &PageRequest)> = keys
            .iter()
            .map(|k| (k.id.as_str(), k.edge.as_str(), &*k.fields, &k.page))
            .collect();
        let answers = match self.client.edges_one_by_one(&self.token, &reads).await {
            Ok(answers) => answers,
            Err(error) => keys.iter().map(|_| Err(error.clone())).collect(),
        };
        Ok(keys.into_iter().zip(answers).collect())
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
