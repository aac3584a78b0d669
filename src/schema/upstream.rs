//! What resolvers use to reach Graph: the client, the caller's token and the request's loaders,
//! with every failure already mapped to a coded GraphQL error.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::{Context, Result};
use serde::de::DeserializeOwned;

use super::error::{UNAUTHENTICATED, coded, upstream};
use crate::graph::client::MAX_IDS_PER_CALL;
use crate::graph::model::Created;
use crate::graph::{AccessToken, FieldSet, GraphClient, GraphError, GraphList, PageRequest};
use crate::loaders::{Loaders, NodeKey};

/// The `extensions.code` of a request that would need more Graph calls than allowed.
pub const UPSTREAM_BUDGET_EXCEEDED: &str = "UPSTREAM_BUDGET_EXCEEDED";

/// Per-request data: the caller's token, if any, loaders bound to it, and what is left of the
/// request's budget of Graph calls.
pub struct RequestAuth {
    token: Option<(AccessToken, Loaders)>,
    budget: CallBudget,
    /// The client handle of this request, counting its calls.
    client: GraphClient,
}

impl RequestAuth {
    /// A request that carried `Authorization: Bearer <token>`, allowed `max_calls` Graph calls.
    /// `client` should be the request's own handle (see [`GraphClient::counting_into`]).
    pub fn with_token(client: &GraphClient, token: AccessToken, max_calls: usize) -> RequestAuth {
        let loaders = Loaders::new(client.clone(), token.clone());
        RequestAuth {
            token: Some((token, loaders)),
            budget: CallBudget::new(max_calls),
            client: client.clone(),
        }
    }

    /// A request without a usable token: every field that needs Graph fails with
    /// `UNAUTHENTICATED` before any upstream call.
    pub fn anonymous(client: &GraphClient) -> RequestAuth {
        RequestAuth {
            token: None,
            budget: CallBudget::new(0),
            client: client.clone(),
        }
    }
}

/// How many Graph calls one GraphQL request may still make. A query of many aliased root
/// fields would otherwise turn into as many Graph calls, spending the app's shared quota.
struct CallBudget {
    max: usize,
    spent: AtomicUsize,
    /// Single reads batched through the DataLoader so far, per node type and `fields`: every 50
    /// of one kind make one call.
    batched: Mutex<HashMap<String, usize>>,
}

impl CallBudget {
    fn new(max: usize) -> CallBudget {
        CallBudget {
            max,
            spent: AtomicUsize::new(0),
            batched: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one call from the budget for every 50 single reads of one kind (`batch`: the node
    /// type and the `fields` string) that the DataLoader joins into one `?ids=` call.
    fn spend_batched(&self, batch: String) -> Result<()> {
        let earlier = {
            let mut batched = self
                .batched
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let count = batched.entry(batch).or_insert(0);
            *count += 1;
            *count - 1
        };
        if earlier % MAX_IDS_PER_CALL == 0 {
            self.spend(1)
        } else {
            Ok(())
        }
    }

    /// Refuses unless `calls` are left, without taking them: a write checks that its read-back
    /// fits too, so that it is never made only to fail afterwards.
    fn ensure_left(&self, calls: usize) -> Result<()> {
        if self.spent.load(Ordering::Relaxed) + calls <= self.max {
            Ok(())
        } else {
            Err(self.exceeded())
        }
    }

    /// Takes `calls` from the budget, or refuses when they are not left.
    fn spend(&self, calls: usize) -> Result<()> {
        let before = self.spent.fetch_add(calls, Ordering::Relaxed);
        if before + calls <= self.max {
            Ok(())
        } else {
            Err(self.exceeded())
        }
    }

    fn exceeded(&self) -> async_graphql::Error {
        coded(
            UPSTREAM_BUDGET_EXCEEDED,
            format!(
                "this request needs more than {} Graph API calls, the most one request may \
                 make; ask for fewer aliased fields or split it into several requests",
                self.max
            ),
        )
    }
}

/// Graph, as seen by one resolver.
pub struct Upstream<'a> {
    client: &'a GraphClient,
    token: &'a AccessToken,
    loaders: &'a Loaders,
    budget: &'a CallBudget,
}

impl<'a> Upstream<'a> {
    /// The caller's view of Graph; `UNAUTHENTICATED` when the request has no token.
    pub fn of(ctx: &Context<'a>) -> Result<Upstream<'a>> {
        let auth = ctx.data::<RequestAuth>()?;
        match &auth.token {
            Some((token, loaders)) => Ok(Upstream {
                client: &auth.client,
                token,
                loaders,
                budget: &auth.budget,
            }),
            None => Err(coded(
                UNAUTHENTICATED,
                "no access token: send the caller's Meta access token as `Authorization: Bearer <token>`",
            )),
        }
    }

    /// The GraphQL error for a failed call, with the caller's token scrubbed from Graph's texts.
    fn fail(&self, error: &GraphError) -> async_graphql::Error {
        upstream(&error.without_secret(self.token.expose()))
    }

    /// Reads one node.
    pub async fn node<T: DeserializeOwned>(&self, id: &str, fields: &FieldSet) -> Result<T> {
        self.budget.spend(1)?;
        self.client
            .node(self.token, id, fields)
            .await
            .map_err(|e| self.fail(&e))
    }

    /// Reads one node through the request's DataLoader, so that sibling reads of the same
    /// fields (aliased root fields, say) share one `?ids=` call.
    pub async fn node_batched<T>(&self, id: &str, fields: &FieldSet) -> Result<T>
    where
        T: DeserializeOwned + Clone + Send + Sync + 'static,
    {
        let key = NodeKey::<T>::new(id, fields);
        self.budget
            .spend_batched(format!("{}|{}", std::any::type_name::<T>(), key.fields))?;
        match self.loaders.nodes.load_one(key).await {
            Ok(Some(Ok(node))) => Ok(node),
            Ok(Some(Err(error))) | Err(error) => Err(self.fail(&error)),
            // Graph answers every id it was asked for or fails the call; this is defensive.
            Ok(None) => Err(coded(
                super::error::NOT_FOUND,
                format!("Graph's answer had no object {id}"),
            )),
        }
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
        self.budget.spend(ids.len().div_ceil(MAX_IDS_PER_CALL))?;
        let keys = ids.iter().map(|id| NodeKey::<T>::new(id.clone(), fields));
        let loaded = self
            .loaders
            .nodes
            .load_many(keys)
            .await
            .map_err(|e| self.fail(&e))?;
        Ok(loaded
            .into_iter()
            .map(|(k, v)| (k.id, v.map_err(|e| self.fail(&e))))
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
        self.budget.spend(1)?;
        self.client
            .edge(self.token, id, edge, fields, page)
            .await
            .map_err(|e| self.fail(&e))
    }

    /// Creates an object on an edge; answers its id. Needs room in the budget for the read-back
    /// that follows.
    pub async fn create(
        &self,
        parent: &str,
        edge: &str,
        params: Vec<(String, String)>,
    ) -> Result<Created> {
        self.budget.ensure_left(2)?;
        self.budget.spend(1)?;
        self.client
            .create(self.token, parent, edge, params)
            .await
            .map_err(|e| self.fail(&e))
    }

    /// Updates a node. Needs room in the budget for the read-back that follows.
    pub async fn update(&self, id: &str, params: Vec<(String, String)>) -> Result<()> {
        self.budget.ensure_left(2)?;
        self.budget.spend(1)?;
        self.client
            .update(self.token, id, params)
            .await
            .map_err(|e| self.fail(&e))
    }
}
