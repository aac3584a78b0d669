//! The gateway's one schema extension, whatever it is asked to do per operation: async-graphql
//! runs every field of every query through each extension's `resolve` hook (a boxed future per
//! extension per field) once there is any extension, so the gateway keeps one. Per operation
//! it marks the request as executed (`server/response.rs::ExecutionStarted`: a request that
//! never ran is answered without `data`), runs it in the gateway's people dialect
//! (`schema/business_users.rs`), and remembers validation outcomes.
//!
//! Validation, remembered: clients send the same few queries again and again, and async-graphql
//! validates each request from scratch (a tenth of the gateway's instructions on an uncached
//! read, issue 7's profile). Apollo Router keeps the same kind of cache of validated queries.
//! Validation reads more than the text: a variable's value is checked against the type of the
//! argument it is used in, and complexity counts list arguments given as variables. So the key
//! is the query text with its variables, as JSON (async-graphql's `Variables` keep their names
//! in order, so the same values give the same key). Only documents that passed are kept: a
//! refused one is validated again, and refused again, with the same errors. The cache belongs
//! to one schema, whose types, limits and rules do not change while it serves.

use std::sync::{Arc, Mutex};

use async_graphql::ValidationResult;
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextPrepareRequest, NextSubscribe,
    NextValidation,
};
use async_graphql::futures_util::stream::BoxStream;
use async_graphql::{Request, ServerError, ServerResult};

use super::response::ExecutionStarted;
use crate::config::PeopleApi;
use crate::schema::business_users::{in_dialect, stream_in_dialect};

/// Memory the remembered outcomes may use, counted as the key's bytes (the outcome itself is a
/// few words).
const VALIDATED_CACHE_BYTES: u64 = 4 * 1024 * 1024;

/// What a validation outcome is kept under: the query text and its variables as JSON.
#[derive(Clone, PartialEq, Eq, Hash)]
struct ValidationKey {
    query: Arc<str>,
    variables: Arc<str>,
}

impl ValidationKey {
    fn weight(&self) -> u32 {
        u32::try_from(self.query.len().saturating_add(self.variables.len())).unwrap_or(u32::MAX)
    }
}

/// The schema extension: the gateway's people dialect and one cache of validation outcomes for
/// the schema; one [`OperationExtension`] per request.
#[derive(Clone)]
pub(crate) struct GatewayExtension {
    people_api: PeopleApi,
    passed: moka::sync::Cache<ValidationKey, ValidationResult>,
}

impl GatewayExtension {
    pub(crate) fn new(people_api: PeopleApi) -> Self {
        Self {
            people_api,
            passed: moka::sync::Cache::builder()
                .max_capacity(VALIDATED_CACHE_BYTES)
                .weigher(|key: &ValidationKey, _| key.weight())
                .build(),
        }
    }
}

impl ExtensionFactory for GatewayExtension {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(OperationExtension {
            people_api: self.people_api,
            passed: self.passed.clone(),
            key: Mutex::new(None),
        })
    }
}

/// One request's side: the validation key, taken when the request is prepared, looked up when
/// it is validated.
struct OperationExtension {
    people_api: PeopleApi,
    passed: moka::sync::Cache<ValidationKey, ValidationResult>,
    key: Mutex<Option<ValidationKey>>,
}

impl OperationExtension {
    fn take_key(&self) -> Option<ValidationKey> {
        self.key.lock().ok().and_then(|mut key| key.take())
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for OperationExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let request = next.run(ctx, request).await?;
        // Variables that do not serialise (none do today) just leave the request uncached.
        if let Ok(variables) = serde_json::to_string(&request.variables) {
            let key = ValidationKey {
                query: Arc::from(request.query.as_str()),
                variables: Arc::from(variables),
            };
            if let Ok(mut slot) = self.key.lock() {
                *slot = Some(key);
            }
        }
        Ok(request)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let Some(key) = self.take_key() else {
            return next.run(ctx).await;
        };
        if let Some(passed) = self.passed.get(&key) {
            return Ok(passed);
        }
        let outcome = next.run(ctx).await?;
        self.passed.insert(key, outcome);
        Ok(outcome)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> async_graphql::Response {
        if let Some(started) = ctx.data_opt::<Arc<ExecutionStarted>>() {
            started.set();
        }
        in_dialect(self.people_api, next.run(ctx, operation_name)).await
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, async_graphql::Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, async_graphql::Response> {
        stream_in_dialect(self.people_api, next.run(ctx, stream))
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema, Variables};

    use serde_json::json;

    use super::*;

    struct Query;

    #[Object]
    impl Query {
        #[graphql(complexity = "items.len() + child_complexity")]
        async fn echo(&self, items: Vec<i32>) -> Vec<i32> {
            items
        }
    }

    fn schema(cache: &GatewayExtension) -> Schema<Query, EmptyMutation, EmptySubscription> {
        Schema::build(Query, EmptyMutation, EmptySubscription)
            .extension(cache.clone())
            .limit_complexity(5)
            .finish()
    }

    const QUERY: &str = "query($items: [Int!]!) { echo(items: $items) }";

    fn request(items: serde_json::Value) -> Request {
        Request::new(QUERY).variables(Variables::from_json(json!({ "items": items })))
    }

    #[tokio::test]
    async fn a_document_that_passed_is_remembered_with_its_variables() {
        let cache = GatewayExtension::new(PeopleApi::Seed);
        let schema = schema(&cache);
        let answer = schema.execute(request(json!([1, 2]))).await;
        assert!(answer.errors.is_empty(), "{:?}", answer.errors);
        cache.passed.run_pending_tasks();
        assert_eq!(cache.passed.entry_count(), 1);
        // The same document and variables again: answered from the cache, the same answer.
        let again = schema.execute(request(json!([1, 2]))).await;
        assert_eq!(again.data, answer.data);
        cache.passed.run_pending_tasks();
        assert_eq!(cache.passed.entry_count(), 1);
    }

    #[tokio::test]
    async fn other_variables_are_validated_again_and_refusals_are_never_kept() {
        let cache = GatewayExtension::new(PeopleApi::Seed);
        let schema = schema(&cache);
        assert!(schema.execute(request(json!([1]))).await.errors.is_empty());
        // A value of the wrong type for the same document is refused, every time.
        for _ in 0..2 {
            let refused = schema.execute(request(json!(["one"]))).await;
            assert!(
                refused.errors[0].message.contains("Invalid value"),
                "{:?}",
                refused.errors
            );
        }
        // So is a list that makes the same document too complex.
        let too_complex = schema.execute(request(json!([1, 2, 3, 4, 5, 6]))).await;
        assert!(
            too_complex.errors[0].message.contains("too complex"),
            "{:?}",
            too_complex.errors
        );
        cache.passed.run_pending_tasks();
        assert_eq!(cache.passed.entry_count(), 1);
    }
}
