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
use crate::graph::{AccessToken, FieldSet, GraphClient, GraphError};

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
    type Value = T;
    type Error = GraphError;

    async fn load(&self, keys: &[NodeKey<T>]) -> Result<HashMap<NodeKey<T>, T>, GraphError> {
        // Keys with the same fields share one call; the DataLoader already caps a batch at 50.
        let mut by_fields: HashMap<Arc<str>, Vec<&NodeKey<T>>> = HashMap::new();
        for key in keys {
            by_fields.entry(key.fields.clone()).or_default().push(key);
        }
        let calls = by_fields.into_iter().flat_map(|(fields, keys)| {
            keys.chunks(MAX_IDS_PER_CALL)
                .map(|chunk| {
                    let ids: Vec<String> = chunk.iter().map(|k| k.id.clone()).collect();
                    let fields = fields.clone();
                    async move {
                        let answer: HashMap<String, T> = self
                            .client
                            .nodes_with_fields(&self.token, &ids, &fields)
                            .await?;
                        Ok::<_, GraphError>(
                            answer
                                .into_iter()
                                .map(|(id, node)| {
                                    let key = NodeKey {
                                        id,
                                        fields: fields.clone(),
                                        _type: PhantomData,
                                    };
                                    (key, node)
                                })
                                .collect::<Vec<_>>(),
                        )
                    }
                })
                .collect::<Vec<_>>()
        });
        let answers = try_join_all(calls).await?;
        Ok(answers.into_iter().flatten().collect())
    }
}
