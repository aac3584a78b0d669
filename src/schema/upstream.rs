//! What resolvers use to reach Graph: the client, the caller's token and the request's loaders,
//! with every failure already mapped to a coded GraphQL error.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use async_graphql::{Context, Result};
use serde::de::DeserializeOwned;

use super::business::ROLE_GUARDED_EDGES;
use super::error::{UpstreamMessages, coded, upstream};
use crate::error::ErrorCode;
use crate::graph::model::Created;
use crate::graph::{
    AccessToken, ErrorClass, FieldSet, GraphClient, GraphError, GraphList, GraphWrite, PageRequest,
    WriteAnswer,
};
use crate::loaders::{EdgeKey, Loaders, NodeError, NodeKey};

/// Per-request data: the caller's token, if any, loaders bound to it, and the request's own
/// client handle, which counts its calls and holds its budget of Graph calls.
pub struct RequestContext {
    token: Option<(AccessToken, Loaders)>,
    /// The Graph calls the context allows in all.
    max_calls: usize,
    /// The client handle of this request, counting its calls and spending its budget.
    client: GraphClient,
    /// Whether Graph's own error texts reach the caller.
    messages: UpstreamMessages,
}

impl RequestContext {
    /// A request that carried `Authorization: Bearer <token>`, allowed `max_calls` Graph calls
    /// in all: every call sent counts (`?ids=` chunks, batch re-reads, retries), answers from
    /// the cache do not. Past the budget a call is not sent and its field fails with
    /// `UPSTREAM_BUDGET_EXCEEDED`. `client` should be the request's own handle (see
    /// [`GraphClient::counting_into`]).
    pub fn with_token(
        client: &GraphClient,
        token: AccessToken,
        max_calls: usize,
    ) -> RequestContext {
        let client = client.with_budget(max_calls);
        let loaders = Loaders::new(client.clone(), token.clone());
        RequestContext {
            token: Some((token, loaders)),
            max_calls,
            client,
            messages: UpstreamMessages::Expose,
        }
    }

    /// The same request, with Graph's error texts shown or hidden from the caller.
    pub fn with_upstream_messages(mut self, messages: UpstreamMessages) -> RequestContext {
        self.messages = messages;
        self
    }

    /// A request without a usable token: every field that needs Graph fails with
    /// `UNAUTHENTICATED` before any upstream call.
    pub fn anonymous(client: &GraphClient) -> RequestContext {
        RequestContext {
            token: None,
            max_calls: 0,
            client: client.with_budget(0),
            messages: UpstreamMessages::Expose,
        }
    }
}

impl RequestContext {
    /// A context for the same caller with a budget and loaders of its own: what each
    /// subscription of a long-lived WebSocket connection, and each of its later checks, runs
    /// on, so that one connection's many operations do not share one request's budget.
    pub(crate) fn renewed(&self) -> RequestContext {
        match &self.token {
            Some((token, _)) => {
                RequestContext::with_token(&self.client, token.clone(), self.max_calls)
                    .with_upstream_messages(self.messages)
            }
            None => RequestContext::anonymous(&self.client),
        }
    }
}

/// Graph, as seen by one resolver.
pub(crate) struct Upstream<'a> {
    client: &'a GraphClient,
    token: &'a AccessToken,
    loaders: &'a Loaders,
    messages: UpstreamMessages,
}

impl<'a> Upstream<'a> {
    /// The caller's view of Graph; `UNAUTHENTICATED` when the request has no token.
    pub(crate) fn of(ctx: &Context<'a>) -> Result<Upstream<'a>> {
        Upstream::on(ctx.data::<RequestContext>()?)
    }

    /// The caller's view of Graph through `auth`; `UNAUTHENTICATED` when it has no token.
    pub(crate) fn on(auth: &'a RequestContext) -> Result<Upstream<'a>> {
        match &auth.token {
            Some((token, loaders)) => Ok(Upstream {
                client: &auth.client,
                token,
                loaders,
                messages: auth.messages,
            }),
            None => Err(coded(
                ErrorCode::Unauthenticated,
                "no access token: send the caller's Meta access token as `Authorization: Bearer <token>`",
            )),
        }
    }

    /// The GraphQL error for a failed call, with the caller's token scrubbed from Graph's texts
    /// and those texts shown or hidden as configured: the one place a Graph failure becomes a
    /// GraphQL error.
    pub(crate) fn fail(&self, error: &GraphError) -> async_graphql::Error {
        upstream(&error.without_secret(self.token.expose()), self.messages)
    }

    /// Reads one node.
    pub(crate) async fn node<T: DeserializeOwned>(&self, id: &str, fields: &FieldSet) -> Result<T> {
        self.client
            .node(self.token, id, fields)
            .await
            .map_err(|e| self.fail(&e))
    }

    /// Reads one node through the request's DataLoader, so that sibling reads of the same
    /// fields (aliased root fields, say) share one `?ids=` call.
    pub(crate) async fn node_batched<T>(&self, id: &str, fields: &FieldSet) -> Result<T>
    where
        T: DeserializeOwned + Clone + Send + Sync + 'static,
    {
        self.load_node(NodeKey::new(id, fields))
            .await
            .map_err(|e| self.fail(&e))
    }

    async fn load_node<T>(&self, key: NodeKey<T>) -> Result<T, GraphError>
    where
        T: DeserializeOwned + Clone + Send + Sync + 'static,
    {
        let id = key.id.clone();
        match self.loaders.nodes.load_one(key).await {
            Ok(Some(Ok(node))) => Ok(node),
            Ok(Some(Err(error))) => Err(error.graph_error().clone()),
            Err(error) => Err(error),
            // Graph answers every id it was asked for or fails the call; this is defensive.
            Ok(None) => Err(GraphError::Decode(format!(
                "Graph's answer had no object {id}"
            ))),
        }
    }

    /// Reads one node as [`Upstream::node_batched`] does, and when Graph refuses the whole
    /// read because `fields` expand a role-guarded business edge (invoices, funding: at any
    /// depth) the token lacks the role for, reads it once more without those edges. Answers
    /// the node with the fields it was read with; a guarded field left out then reads on its
    /// own ([`Upstream::guarded_edge`]) and fails alone.
    pub(crate) async fn node_batched_sparing<T>(
        &self,
        id: &str,
        fields: &Arc<FieldSet>,
    ) -> Result<(T, Arc<FieldSet>)>
    where
        T: DeserializeOwned + Clone + Send + Sync + 'static,
    {
        let guarded = fields.asks_anywhere_for_any(ROLE_GUARDED_EDGES);
        let key = NodeKey::new(id, fields).retried_without_guarded(guarded);
        match self.load_node(key).await {
            Ok(node) => Ok((node, fields.clone())),
            Err(error) if guarded && is_refusal(&error) => {
                let narrowed = without_guarded(fields);
                let node = self
                    .load_node(NodeKey::new(id, &narrowed))
                    .await
                    .map_err(|e| self.fail(&e))?;
                Ok((node, narrowed))
            }
            Err(error) => Err(self.fail(&error)),
        }
    }

    /// Reads one node with a call of its own (`me`, which cannot share an `?ids=` call), with
    /// the one retry without role-guarded edges of [`Upstream::node_batched_sparing`].
    pub(crate) async fn node_sparing<T: DeserializeOwned>(
        &self,
        id: &str,
        fields: &Arc<FieldSet>,
    ) -> Result<(T, Arc<FieldSet>)> {
        match self.client.node(self.token, id, fields).await {
            Ok(node) => Ok((node, fields.clone())),
            Err(error)
                if is_refusal(&error) && fields.asks_anywhere_for_any(ROLE_GUARDED_EDGES) =>
            {
                let narrowed = without_guarded(fields);
                Ok((self.node(id, &narrowed).await?, narrowed))
            }
            Err(error) => Err(self.fail(&error)),
        }
    }

    /// The outcome of each key; the outer error: a call that failed as a whole (budget,
    /// transport, token) fails the field once, rather than with one identical error per id
    /// of its chunk.
    async fn load_nodes<T>(
        &self,
        keys: impl IntoIterator<Item = NodeKey<T>>,
    ) -> Result<HashMap<String, Result<T, NodeError>>>
    where
        T: DeserializeOwned + Clone + Send + Sync + 'static,
    {
        let loaded = self
            .loaders
            .nodes
            .load_many(keys)
            .await
            .map_err(|e| self.fail(&e))?;
        if let Some(error) = loaded.values().find_map(|outcome| match outcome {
            Err(NodeError::Call(error)) => Some(error),
            _ => None,
        }) {
            return Err(self.fail(error));
        }
        Ok(loaded.into_iter().map(|(k, v)| (k.id, v)).collect())
    }

    /// Reads many nodes through the request's DataLoader (`?ids=` calls of at most 50 ids),
    /// with the one retry without role-guarded edges of [`Upstream::node_batched_sparing`]:
    /// Graph refuses a whole `?ids=` read when one business's guarded edge is refused, so the
    /// ids of each refused call are read again together (one `?ids=` call per 50) without
    /// those edges, not one by one. Each id has its own outcome, its node with the fields it
    /// was read with; the outer error is a failure of the whole read.
    pub(crate) async fn nodes_sparing<T>(
        &self,
        ids: &[String],
        fields: &Arc<FieldSet>,
    ) -> Result<HashMap<String, Result<(T, Arc<FieldSet>)>>>
    where
        T: DeserializeOwned + Clone + Send + Sync + 'static,
    {
        let guarded = fields.asks_anywhere_for_any(ROLE_GUARDED_EDGES);
        let keys = ids
            .iter()
            .map(|id| NodeKey::<T>::new(id.clone(), fields).retried_without_guarded(guarded));
        let loaded = self
            .loaders
            .nodes
            .load_many(keys)
            .await
            .map_err(|e| self.fail(&e))?;
        let mut answers = HashMap::with_capacity(loaded.len());
        let mut refused = Vec::new();
        for (key, outcome) in loaded {
            match outcome {
                Err(NodeError::Call(error)) if guarded && is_refusal(&error) => {
                    refused.push(key.id);
                }
                Err(NodeError::Call(error)) => return Err(self.fail(&error)),
                Err(NodeError::Own(error)) => {
                    answers.insert(key.id, Err(self.fail(&error)));
                }
                Ok(node) => {
                    answers.insert(key.id, Ok((node, fields.clone())));
                }
            }
        }
        if !refused.is_empty() {
            let narrowed = without_guarded(fields);
            let keys = refused
                .iter()
                .map(|id| NodeKey::<T>::new(id.clone(), &narrowed));
            for (id, outcome) in self.load_nodes(keys).await? {
                let outcome = outcome
                    .map(|node| (node, narrowed.clone()))
                    .map_err(|e| self.fail(e.graph_error()));
                answers.insert(id, outcome);
            }
        }
        Ok(answers)
    }

    /// Reads many nodes through the request's DataLoader, each id with Graph's own outcome
    /// (for callers that tell one kind of failure from another); the outer error is a failure
    /// of the whole read.
    pub(crate) async fn node_outcomes<T>(
        &self,
        ids: &[String],
        fields: &FieldSet,
    ) -> Result<HashMap<String, Result<T, GraphError>>>
    where
        T: DeserializeOwned + Clone + Send + Sync + 'static,
    {
        let keys = ids.iter().map(|id| NodeKey::<T>::new(id.clone(), fields));
        Ok(self
            .load_nodes(keys)
            .await?
            .into_iter()
            .map(|(id, v)| (id, v.map_err(|e| e.graph_error().clone())))
            .collect())
    }

    /// Reads one page of an edge.
    pub(crate) async fn edge<T: DeserializeOwned>(
        &self,
        id: &str,
        edge: &str,
        fields: &FieldSet,
        page: &PageRequest,
    ) -> Result<GraphList<T>> {
        self.client
            .edge(self.token, id, edge, fields, page)
            .await
            .map_err(|e| self.fail(&e))
    }

    /// Reads one page of an edge as [`Upstream::edge`] does, and when Graph refuses it because
    /// `fields` expand a role-guarded business edge below its items (a project's business's
    /// invoices, say), reads it once more without those edges. Answers the page with the
    /// fields its items were read with.
    pub(crate) async fn edge_sparing<T: DeserializeOwned>(
        &self,
        id: &str,
        edge: &str,
        fields: &Arc<FieldSet>,
        page: &PageRequest,
    ) -> Result<(GraphList<T>, Arc<FieldSet>)> {
        match self.client.edge(self.token, id, edge, fields, page).await {
            Ok(list) => Ok((list, fields.clone())),
            Err(error)
                if is_refusal(&error) && fields.asks_anywhere_for_any(ROLE_GUARDED_EDGES) =>
            {
                let narrowed = without_guarded(fields);
                Ok((self.edge(id, edge, &narrowed, page).await?, narrowed))
            }
            Err(error) => Err(self.fail(&error)),
        }
    }

    /// Reads one page of a role-guarded edge (invoices, funding) on its own, through the
    /// request's edge loader: the guarded edges of sibling businesses whose read left them
    /// out are read together in one batch call, each refused or answered on its own.
    pub(crate) async fn guarded_edge<T: DeserializeOwned>(
        &self,
        id: &str,
        edge: &str,
        fields: &FieldSet,
        page: &PageRequest,
    ) -> Result<GraphList<T>> {
        // The loader keeps the items as JSON, so that one loader serves every item type.
        let key = EdgeKey::<serde_json::Value>::new(id, edge, fields, page);
        let list = match self.loaders.edges.load_one(key).await {
            Ok(Some(Ok(list))) => list,
            Ok(Some(Err(error))) | Err(error) => return Err(self.fail(&error)),
            Ok(None) => {
                return Err(coded(
                    ErrorCode::UpstreamUnavailable,
                    format!("Graph's batch answer had no {edge} of {id}"),
                ));
            }
        };
        let data = list
            .data
            .into_iter()
            .map(serde_json::from_value)
            .collect::<Result<Vec<T>, _>>()
            .map_err(|e| self.fail(&GraphError::Decode(e.to_string())))?;
        Ok(GraphList {
            data,
            paging: list.paging,
            summary: list.summary,
        })
    }

    /// Sends a write once the budget has room for it and for the `read_back_calls` that will
    /// follow it: a write is never made only for its read-back to be refused.
    async fn apply(&self, write: &dyn GraphWrite, read_back_calls: usize) -> Result<WriteAnswer> {
        self.client
            .ensure_calls_left(1 + read_back_calls)
            .map_err(|e| self.fail(&e))?;
        self.client
            .apply(self.token, write)
            .await
            .map_err(|e| self.fail(&e))
    }

    /// Sends a write as the others do, but answers Graph's refusal as Graph's own error
    /// inside, for callers that tell one refusal from another (the outer error: the budget).
    /// The caller turns that error into the GraphQL one through [`Upstream::fail`].
    pub(crate) async fn write_outcome(
        &self,
        write: &dyn GraphWrite,
        read_back_calls: usize,
    ) -> Result<Result<WriteAnswer, GraphError>> {
        self.client
            .ensure_calls_left(1 + read_back_calls)
            .map_err(|e| self.fail(&e))?;
        Ok(self.client.apply(self.token, write).await)
    }

    /// Creates an object on an edge (`POST /{parent}/{edge}`); answers its id.
    pub(crate) async fn create(
        &self,
        write: &dyn GraphWrite,
        read_back_calls: usize,
    ) -> Result<Created> {
        let answer = self.apply(write, read_back_calls).await?;
        answer.created().map_err(|e| self.fail(&e))
    }

    /// Updates a node (`POST /{id}`).
    pub(crate) async fn update(
        &self,
        write: &dyn GraphWrite,
        read_back_calls: usize,
    ) -> Result<()> {
        self.apply(write, read_back_calls).await.map(drop)
    }

    /// Deletes a node (`DELETE /{id}`).
    pub(crate) async fn delete(&self, write: &dyn GraphWrite) -> Result<()> {
        self.apply(write, 0).await.map(drop)
    }

    /// Adds to an edge without creating a node of its own (`POST /{id}/{edge}`, answered with
    /// `{"success": true}`, no id): an invitation, an asset added to a project.
    pub(crate) async fn post_edge(
        &self,
        write: &dyn GraphWrite,
        read_back_calls: usize,
    ) -> Result<()> {
        self.apply(write, read_back_calls).await.map(drop)
    }

    /// Removes from an edge (`DELETE /{id}/{edge}`): a person, an asset from a project.
    pub(crate) async fn delete_edge(
        &self,
        write: &dyn GraphWrite,
        read_back_calls: usize,
    ) -> Result<()> {
        self.apply(write, read_back_calls).await.map(drop)
    }
}

/// Whether Graph refused a read for a permission (code 10 or 200 to 299).
fn is_refusal(error: &GraphError) -> bool {
    matches!(error.class(), ErrorClass::Forbidden)
}

/// `fields` without the role-guarded business edges, at any depth.
fn without_guarded(fields: &FieldSet) -> Arc<FieldSet> {
    Arc::new(fields.without_anywhere(ROLE_GUARDED_EDGES))
}

/// Reads back what a write that Graph accepted produced. If the read fails, its error says
/// what was written (`written`, e.g. "business 123 was created"): the write happened, and a
/// caller who retried it would make a second business, say.
pub(crate) async fn read_back<T>(
    written: impl FnOnce() -> String,
    read: impl Future<Output = Result<T>>,
) -> Result<T> {
    read.await.map_err(|mut error| {
        error.message = format!(
            "{}, but reading it back failed: {}",
            written(),
            error.message
        );
        error
    })
}
