//! Per-request DataLoaders: sibling node reads become `GET /?ids=...&fields=...` calls of at
//! most 50 ids, one per distinct `fields` string.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use futures_util::future::try_join_all;
use serde::de::DeserializeOwned;

use crate::graph::client::MAX_IDS_PER_CALL;
use crate::graph::{AccessToken, ErrorClass, FieldSet, GraphClient, GraphError};

/// The loaders of one GraphQL request, bound to the caller's token.
pub struct Loaders {
    /// Reads nodes by id, batched through `?ids=`.
    pub nodes: DataLoader<GraphNodes>,
}

impl Loaders {
    /// Loaders for one request of the caller holding `token`.
    pub fn new(client: GraphClient, token: AccessToken) -> Loaders {
        Loaders {
            nodes: DataLoader::new(GraphNodes { client, token }, tokio::spawn)
                .max_batch_size(MAX_IDS_PER_CALL),
        }
    }
}

/// The loader behind [`Loaders::nodes`].
pub struct GraphNodes {
    client: GraphClient,
    token: AccessToken,
}

/// A node to read: its id and the `fields` string to read it with, typed by what it decodes to.
pub struct NodeKey<T> {
    /// The node id.
    pub id: String,
    /// The rendered `fields=` selection.
    pub fields: Arc<str>,
    _type: PhantomData<fn() -> T>,
}

impl<T> NodeKey<T> {
    /// The key of node `id` read with `fields`.
    pub fn new(id: impl Into<String>, fields: &FieldSet) -> NodeKey<T> {
        NodeKey {
            id: id.into(),
            fields: fields.to_string().into(),
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
    /// Each id's own outcome: one unreadable id does not fail its siblings.
    type Value = Result<T, GraphError>;
    /// A failure of the whole read (token, rate limit, transport).
    type Error = GraphError;

    async fn load(
        &self,
        keys: &[NodeKey<T>],
    ) -> Result<HashMap<NodeKey<T>, Result<T, GraphError>>, GraphError> {
        // Keys with the same fields share one call; the DataLoader already caps a batch at 50.
        let mut by_fields: HashMap<Arc<str>, Vec<String>> = HashMap::new();
        for key in keys {
            by_fields
                .entry(key.fields.clone())
                .or_default()
                .push(key.id.clone());
        }
        let calls = by_fields.into_iter().flat_map(|(fields, ids)| {
            ids.chunks(MAX_IDS_PER_CALL)
                .map(|chunk| self.load_chunk::<T>(chunk.to_vec(), fields.clone()))
                .collect::<Vec<_>>()
        });
        let answers = try_join_all(calls).await?;
        Ok(answers.into_iter().flatten().collect())
    }
}

impl GraphNodes {
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
        let key = |id: String| NodeKey {
            id,
            fields: fields.clone(),
            _type: PhantomData,
        };
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

/// Whether a failed read may concern only some of its ids (rather than the token or Graph).
fn is_about_one_object(error: &GraphError) -> bool {
    matches!(
        error.class(),
        ErrorClass::NotFound | ErrorClass::InvalidArgument | ErrorClass::Forbidden
    )
}
