//! GraphQL over HTTP: the POST and GET handlers and the execution of one request.

use std::sync::Arc;

use async_graphql::parser::types::OperationType;
use async_graphql_axum::GraphQLResponse;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::guards::{expanded_field_count, nesting_depth, operation_type};
use super::response::{ensure_code, null_failed_fields, request_error};
use super::{AppState, MAX_BODY_BYTES, MAX_EXPANDED_FIELDS, MAX_QUERY_NESTING};
use crate::graph::{AccessToken, CallStats};
use crate::schema::RequestAuth;

pub(super) async fn graphql_post(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    // Browsers send text/plain and form posts across origins without a preflight; accepting
    // only JSON closes that CSRF route.
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return request_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "BAD_REQUEST",
            "POST /graphql takes a JSON body: send `Content-Type: application/json`",
        );
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            return request_error(
                rejection.status(),
                "BAD_REQUEST",
                &format!(
                    "the request body could not be read (at most {MAX_BODY_BYTES} bytes): {}",
                    rejection.body_text()
                ),
            );
        }
    };
    let request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("the body is not a GraphQL request ({{\"query\": ...}}): {e}"),
            );
        }
    };
    execute(&state, &headers, request, Transport::Post).await
}

pub(super) async fn graphql_get(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let request = match async_graphql::http::parse_query_string(query.as_deref().unwrap_or("")) {
        Ok(request) => request,
        Err(e) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("the query string is not a GraphQL request: {e}"),
            );
        }
    };
    if request.query.trim().is_empty() {
        return request_error(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "GET /graphql needs a `query` parameter; GraphiQL is at /",
        );
    }
    execute(&state, &headers, request, Transport::Get).await
}

/// How a request arrived: GET may only read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Transport {
    Get,
    Post,
}

async fn execute(
    state: &AppState,
    headers: &HeaderMap,
    request: async_graphql::Request,
    transport: Transport,
) -> Response {
    if nesting_depth(&request.query) > MAX_QUERY_NESTING {
        return request_error(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            &format!("the query nests deeper than {MAX_QUERY_NESTING} levels"),
        );
    }
    // Parsed here as well as in the executor: to tell parse errors from validation errors,
    // and to see whether a GET request would write.
    let document = match async_graphql::parser::parse_query(&request.query) {
        Ok(document) => document,
        Err(error) => {
            return request_error(
                StatusCode::OK,
                "GRAPHQL_PARSE_FAILED",
                &format!("the query does not parse: {error}"),
            );
        }
    };
    if expanded_field_count(&document) > MAX_EXPANDED_FIELDS {
        return request_error(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            &format!(
                "the query selects more than {MAX_EXPANDED_FIELDS} fields once its fragments are \
                 spread out; select fewer fields or spread fragments fewer times"
            ),
        );
    }
    if transport == Transport::Get
        && let Some(kind) = operation_type(&document, &request)
        && kind != OperationType::Query
    {
        return request_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "only queries are accepted over GET; send mutations and subscriptions with POST",
        );
    }
    let stats = Arc::new(CallStats::default());
    let client = state.client.counting_into(stats.clone());
    let auth = match bearer_token(headers) {
        Some(token) => RequestAuth::with_token(&client, token, state.max_upstream_calls),
        None => RequestAuth::anonymous(&client),
    };
    let operation = request.operation_name.clone();
    let started = std::time::Instant::now();
    let execution = state.schema.execute(request.data(auth));
    let Ok(mut response) = tokio::time::timeout(state.request_timeout, execution).await else {
        state
            .metrics
            .graphql_request(Some("GATEWAY_TIMEOUT"), started.elapsed());
        return request_error(
            StatusCode::GATEWAY_TIMEOUT,
            "GATEWAY_TIMEOUT",
            &format!(
                "the request took longer than {} seconds and was abandoned; a mutation in it may \
                 still have been applied",
                state.request_timeout.as_secs_f64()
            ),
        );
    };
    for error in &mut response.errors {
        ensure_code(error);
    }
    null_failed_fields(&mut response.data, &response.errors);
    // What the request cost upstream, for callers who watch their queries' price.
    let cost = async_graphql::indexmap::IndexMap::from([
        (
            async_graphql::Name::new("graphCalls"),
            async_graphql::Value::from(stats.graph_calls()),
        ),
        (
            async_graphql::Name::new("cacheHits"),
            async_graphql::Value::from(stats.cache_hits()),
        ),
    ]);
    response
        .extensions
        .insert("cost".to_owned(), async_graphql::Value::Object(cost));
    let codes: Vec<String> = response
        .errors
        .iter()
        .filter_map(|e| match e.extensions.as_ref()?.get("code")? {
            async_graphql::Value::String(code) => Some(code.clone()),
            other => Some(other.to_string()),
        })
        .collect();
    state
        .metrics
        .graphql_request(codes.first().map(String::as_str), started.elapsed());
    let elapsed_ms = started.elapsed().as_millis() as u64;
    let operation = operation.as_deref().unwrap_or("-");
    // Failed requests are worth an operator's attention; the rest only when debugging.
    if codes.is_empty() {
        tracing::debug!(operation, elapsed_ms, "graphql request");
    } else {
        tracing::info!(operation, elapsed_ms, errors = codes.len(), codes = %codes.join(","), "graphql request failed");
    }
    GraphQLResponse::from(response).into_response()
}

/// The caller's token from `Authorization: Bearer <token>`.
fn bearer_token(headers: &HeaderMap) -> Option<AccessToken> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| AccessToken::new(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bearer_tokens_are_taken() {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, "Bearer abc".parse().expect("header"));
        assert_eq!(
            bearer_token(&headers).map(|t| t.expose().to_owned()),
            Some("abc".to_owned())
        );
        headers.insert(AUTHORIZATION, "Basic abc".parse().expect("header"));
        assert!(bearer_token(&headers).is_none());
        headers.insert(AUTHORIZATION, "Bearer ".parse().expect("header"));
        assert!(bearer_token(&headers).is_none());
    }
}
