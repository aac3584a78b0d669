//! What resolvers use to reach Graph: the client, the caller's token and the request's loaders,
//! with every failure already mapped to a coded GraphQL error.

use std::collections::HashMap;

use async_graphql::{Context, Result};
use serde::de::DeserializeOwned;

use super::error::{UNAUTHENTICATED, coded, upstream};
use crate::graph::model::Created;
use crate::graph::{AccessToken, FieldSet, GraphClient, GraphList, PageRequest};
use crate::loaders::{Loaders, NodeKey};

/// Per-request data: the caller's token, if any, and loaders bound to it.
pub struct RequestAuth {
    token: Option<(AccessToken, Loaders)>,
}

impl RequestAuth {
    /// A request that carried `Authorization: Bearer <token>`.
    pub fn with_token(client: &GraphClient, token: AccessToken) -> RequestAuth {
        let loaders = Loaders::new(client.clone(), token.clone());
        RequestAuth {
            token: Some((token, loaders)),
        }
    }

    /// A request without a usable token: every field that needs Graph fails with
    /// `UNAUTHENTICATED` before any upstream call.
    pub fn anonymous() -> RequestAuth {
        RequestAuth { token: None }
    }
}

/// Graph, as seen by one resolver.
pub struct Upstream<'a> {
    client: &'a GraphClient,
    token: &'a AccessToken,
    loaders: &'a Loaders,
}

impl<'a> Upstream<'a> {
    /// The caller's view of Graph; `UNAUTHENTICATED` when the request has no token.
    pub fn of(ctx: &Context<'a>) -> Result<Upstream<'a>> {
        let client = ctx.data::<GraphClient>()?;
        match ctx
            .data_opt::<RequestAuth>()
            .and_then(|auth| auth.token.as_ref())
        {
            Some((token, loaders)) => Ok(Upstream {
                client,
                token,
                loaders,
            }),
            None => Err(coded(
                UNAUTHENTICATED,
                "no access token: send the caller's Meta access token as `Authorization: Bearer <token>`",
            )),
        }
    }

    /// Reads one node.
    pub async fn node<T: DeserializeOwned>(&self, id: &str, fields: &FieldSet) -> Result<T> {
        self.client
            .node(self.token, id, fields)
            .await
            .map_err(|e| upstream(&e))
    }

    /// Reads many nodes through the request's DataLoader: `?ids=` calls of at most 50 ids.
    /// Each id has its own outcome; the outer error is a failure of the whole read.
    pub async fn nodes<T>(
        &self,
        ids: &[String],
        fields: &FieldSet,
    ) -> Result<HashMap<String, Result<T>>>
    where
        T: DeserializeOwned + Clone + Send + Sync + 'static,
    {
        let keys = ids.iter().map(|id| NodeKey::<T>::new(id.clone(), fields));
        let loaded = self
            .loaders
            .nodes
            .load_many(keys)
            .await
            .map_err(|e| upstream(&e))?;
        Ok(loaded
            .into_iter()
            .map(|(k, v)| (k.id, v.map_err(|e| upstream(&e))))
            .collect())
    }

    /// Reads one page of an edge.
    pub async fn edge<T: DeserializeOwned>(
        &self,
        id: &str,
        edge: &str,
        fields: &FieldSet,
        page: &PageRequest,
    ) -> Result<GraphList<T>> {
        self.client
            .edge(self.token, id, edge, fields, page)
            .await
            .map_err(|e| upstream(&e))
    }

    /// Creates an object on an edge; answers its id.
    pub async fn create(
        &self,
        parent: &str,
        edge: &str,
        params: Vec<(String, String)>,
    ) -> Result<Created> {
        self.client
            .create(self.token, parent, edge, params)
            .await
            .map_err(|e| upstream(&e))
    }

    /// Updates a node.
    pub async fn update(&self, id: &str, params: Vec<(String, String)>) -> Result<()> {
        self.client
            .update(self.token, id, params)
            .await
            .map_err(|e| upstream(&e))
    }
}
