//! The HTTP server: `POST /graphql` (and `GET` for queries only), GraphiQL, `/healthz`.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use async_graphql::{ErrorExtensionValues, ServerError};
use async_graphql_axum::GraphQLResponse;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::cache::{CacheSettings, UpstreamCache};
use crate::config::Settings;
use crate::graph::{AccessToken, CallStats, GraphClient, GraphError, GraphSettings};
use crate::metrics::Metrics;
use crate::schema::{self, BizgraphSchema, RequestAuth};

/// Largest request body accepted on `/graphql`. The handler reads the body with axum's
/// `Bytes` extractor (not async-graphql-axum's, which ignores axum's limit), so axum's
/// `DefaultBodyLimit` enforces it.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Deepest bracket nesting accepted in a query text, checked before parsing: async-graphql's
/// parser has no depth guard for argument values and overflows the stack on deep ones.
pub const MAX_QUERY_NESTING: usize = 64;
/// Most fields a document may select once its fragments are spread out, checked before
/// validation: a few fragments that spread each other twice make validation and execution
/// take seconds on a tiny document, whatever the depth and complexity limits.
pub const MAX_EXPANDED_FIELDS: usize = 2_000;

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why binding failed.
        source: std::io::Error,
    },
    /// The Graph API settings are unusable.
    #[error("invalid Graph API settings: {0}")]
    Graph(#[from] GraphError),
    /// A CORS origin is not a valid origin.
    #[error("invalid CORS origin {0:?}: give scheme://host[:port], e.g. https://app.example.com")]
    CorsOrigin(String),
}

/// A gateway bound to its address, ready to serve.
pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    router: Router,
}

struct AppState {
    schema: BizgraphSchema,
    client: GraphClient,
    graphiql: String,
    explorer: String,
    sdl: String,
    max_upstream_calls: usize,
    request_timeout: std::time::Duration,
    metrics: Arc<Metrics>,
}

/// The query both explorers open with: the README's first query.
const FIRST_QUERY: &str = "{
  viewer {
    name
    businesses(first: 10) {
      nodes { id name vertical primaryPage { name } }
    }
  }
}
";

/// GraphiQL's page loads its scripts from a CDN; on a machine without internet it would stay
/// blank, so after a few seconds without GraphiQL it sends the visitor to the offline explorer.
const GRAPHIQL_FALLBACK: &str = r#"<script>
  setTimeout(function () {
    if (typeof window.GraphiQL === "undefined") { window.location.replace("/explorer?from=graphiql"); }
  }, 8000);
</script>"#;

/// The offline explorer page (no script from outside), with its start query and token.
fn explorer_page(demo_token: Option<&str>) -> String {
    let config = serde_json::json!({"query": FIRST_QUERY, "token": demo_token});
    // `<` is escaped so that nothing in the data can close the script element.
    let config = config.to_string().replace('<', "\\u003c");
    include_str!("explorer.html").replace(
        "<!--CONFIG-->",
        &format!(r#"<script type="application/json" id="config">{config}</script>"#),
    )
}

impl Application {
    /// Builds the gateway and binds its listener (port 0 picks a free port).
    pub async fn build(settings: Settings) -> Result<Application, StartError> {
        let metrics = Arc::new(Metrics::new());
        let client = GraphClient::new(GraphSettings {
            base_url: settings.graph_url.clone(),
            version: settings.graph_version.clone(),
            app_secret: settings.app_secret.clone(),
            timeout: settings.upstream_timeout,
            cache: UpstreamCache::new(CacheSettings {
                ttl: settings.cache_ttl,
                max_bytes: settings.cache_max_bytes,
            }),
            metrics: metrics.clone(),
        })?;
        // Resolvers reach Graph through each request's own client handle (in `RequestAuth`).
        let schema = schema::builder().finish();
        let authorization = settings
            .graphiql_demo_token
            .as_ref()
            .map(|token| format!("Bearer {token}"));
        let mut graphiql = GraphiQLSource::build()
            .endpoint("/graphql")
            .title("bizgraph");
        if let Some(value) = &authorization {
            graphiql = graphiql.header("Authorization", value);
        }
        let graphiql =
            graphiql
                .finish()
                .replacen("<head>", &format!("<head>\n{GRAPHIQL_FALLBACK}"), 1);
        let state = Arc::new(AppState {
            sdl: schema.sdl(),
            schema,
            client,
            graphiql,
            explorer: explorer_page(settings.graphiql_demo_token.as_deref()),
            max_upstream_calls: settings.max_upstream_calls,
            request_timeout: settings.request_timeout,
            metrics,
        });
        let cors = cors_layer(&settings.cors_origins)?;
        let router = Router::new()
            .route("/", get(graphiql_page))
            .route("/graphiql", get(graphiql_page))
            .route(
                "/graphql",
                get(graphql_get)
                    .post(graphql_post)
                    .layer(DefaultBodyLimit::max(MAX_BODY_BYTES)),
            )
            .route("/explorer", get(explorer_page_handler))
            .route("/schema.graphql", get(sdl))
            .route("/healthz", get(healthz))
            .route("/metrics", get(metrics_text))
            .layer(cors)
            // Every request gets an `x-request-id` (the caller's, or a new UUID), named in its
            // log lines and echoed in the response, so a failure can be found in the logs.
            .layer(PropagateRequestIdLayer::x_request_id())
            .layer(
                TraceLayer::new_for_http().make_span_with(|request: &Request<Body>| {
                    let request_id = request
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    // The path only: a GET query string holds the whole GraphQL document.
                    tracing::info_span!(
                        "http",
                        method = %request.method(),
                        path = %request.uri().path(),
                        request_id = %request_id,
                    )
                }),
            )
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
            .with_state(state);
        let listener =
            TcpListener::bind(settings.listen)
                .await
                .map_err(|source| StartError::Bind {
                    addr: settings.listen,
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: settings.listen,
            source,
        })?;
        Ok(Application {
            listener,
            addr,
            router,
        })
    }

    /// The address the gateway listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` completes.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
    }

    /// Serves in a background task (for tests and the embedded setup).
    pub fn spawn(self) -> tokio::task::JoinHandle<std::io::Result<()>> {
        tokio::spawn(async move { axum::serve(self.listener, self.router).await })
    }
}

/// CORS for the configured origins: they may POST JSON with an `Authorization` header.
/// With none configured the layer adds nothing, and browsers keep other sites out.
fn cors_layer(origins: &[String]) -> Result<CorsLayer, StartError> {
    let origins = origins
        .iter()
        .map(|origin| {
            let valid = (origin.starts_with("https://") || origin.starts_with("http://"))
                && !origin.ends_with('/');
            HeaderValue::from_str(origin)
                .ok()
                .filter(|_| valid)
                .ok_or_else(|| StartError::CorsOrigin(origin.clone()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([AUTHORIZATION, CONTENT_TYPE])
        .max_age(std::time::Duration::from_secs(600)))
}

async fn metrics_text(State(state): State<Arc<AppState>>) -> Response {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        state.metrics.render(),
    )
        .into_response()
}

async fn healthz() -> &'static str {
    "ok"
}

async fn graphiql_page(State(state): State<Arc<AppState>>) -> Html<String> {
    Html(state.graphiql.clone())
}

async fn explorer_page_handler(State(state): State<Arc<AppState>>) -> Html<String> {
    Html(state.explorer.clone())
}

async fn sdl(State(state): State<Arc<AppState>>) -> Response {
    (
        [(CONTENT_TYPE, "text/plain; charset=utf-8")],
        state.sdl.clone(),
    )
        .into_response()
}

async fn graphql_post(
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

async fn graphql_get(
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

/// The type of the operation a request will run, when its document parses.
fn operation_type(
    document: &ExecutableDocument,
    request: &async_graphql::Request,
) -> Option<OperationType> {
    match &document.operations {
        DocumentOperations::Single(op) => Some(op.node.ty),
        DocumentOperations::Multiple(ops) => match &request.operation_name {
            Some(name) => ops
                .iter()
                .find(|(n, _)| n.as_str() == name)
                .map(|(_, op)| op.node.ty),
            // Without a name the request fails validation; refuse it if any operation writes.
            None => ops
                .values()
                .map(|op| op.node.ty)
                .find(|ty| *ty != OperationType::Query)
                .or(Some(OperationType::Query)),
        },
    }
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

/// Gives `extensions.code` to the errors async-graphql raises itself (parsing, validation,
/// argument coercion, limits), so that every error a client sees has one.
fn ensure_code(error: &mut ServerError) {
    let extensions = error
        .extensions
        .get_or_insert_with(ErrorExtensionValues::default);
    if extensions.get("code").is_some() {
        return;
    }
    let code = if error.message.starts_with("Invalid value for argument")
        || error.message.starts_with("Failed to parse")
    {
        "INVALID_ARGUMENT"
    } else if error.path.is_empty() {
        "GRAPHQL_VALIDATION_FAILED"
    } else {
        "INTERNAL"
    };
    extensions.set("code", code);
}

/// How many fields the document's operations select once every fragment spread is replaced by
/// the fragment, saturating past the limit. Fragment sizes are memoised, so this is linear in
/// the document even when the expansion is exponential; a fragment cycle (which validation
/// refuses) counts as too many.
fn expanded_field_count(document: &ExecutableDocument) -> usize {
    use std::collections::HashMap;

    use async_graphql::parser::types::{Selection, SelectionSet};

    fn count<'a>(
        set: &'a SelectionSet,
        document: &'a ExecutableDocument,
        memo: &mut HashMap<&'a str, usize>,
        visiting: &mut Vec<&'a str>,
    ) -> usize {
        let mut total = 0usize;
        for item in &set.items {
            let size = match &item.node {
                Selection::Field(field) => {
                    1 + count(&field.node.selection_set.node, document, memo, visiting)
                }
                Selection::InlineFragment(inline) => {
                    count(&inline.node.selection_set.node, document, memo, visiting)
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    match (memo.get(name), document.fragments.get(name)) {
                        (Some(size), _) => *size,
                        _ if visiting.contains(&name) => usize::MAX,
                        (None, Some(fragment)) => {
                            visiting.push(name);
                            let size =
                                count(&fragment.node.selection_set.node, document, memo, visiting);
                            visiting.pop();
                            memo.insert(name, size);
                            size
                        }
                        // An unknown fragment is validation's to report.
                        (None, None) => 0,
                    }
                }
            };
            total = total.saturating_add(size);
        }
        total
    }

    let mut memo = HashMap::new();
    let mut visiting = Vec::new();
    let operations: Vec<_> = match &document.operations {
        DocumentOperations::Single(op) => vec![op],
        DocumentOperations::Multiple(ops) => ops.values().collect(),
    };
    operations.iter().fold(0usize, |total, op| {
        total.saturating_add(count(
            &op.node.selection_set.node,
            document,
            &mut memo,
            &mut visiting,
        ))
    })
}

/// Puts `null` where a failed nullable field was. async-graphql leaves such a field out of
/// `data`, but GraphQL says it is `null`, and clients such as Apollo Client report a missing
/// field as a broken answer. The field left out is the first one of an error's path that is
/// missing under the parts of the path that are present.
fn null_failed_fields(data: &mut async_graphql::Value, errors: &[ServerError]) {
    use async_graphql::{Name, PathSegment, Value};

    for error in errors {
        let mut here = &mut *data;
        for segment in &error.path {
            match (here, segment) {
                (Value::Object(fields), PathSegment::Field(name)) => {
                    let name = Name::new(name);
                    if !fields.contains_key(&name) {
                        fields.insert(name, Value::Null);
                        break;
                    }
                    match fields.get_mut(&name) {
                        Some(next) => here = next,
                        None => break,
                    }
                }
                (Value::List(items), PathSegment::Index(index)) => match items.get_mut(*index) {
                    Some(next) => here = next,
                    None => break,
                },
                _ => break,
            }
        }
    }
}

/// The deepest nesting of `{`, `[` and `(` outside string literals.
fn nesting_depth(query: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut in_string = false;
    let mut escaped = false;
    for c in query.chars() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' | '[' | '(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            '}' | ']' | ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// A whole-request failure in GraphQL's response shape, with its code.
fn request_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({
        "data": null,
        "errors": [{"message": message, "extensions": {"code": code}}],
    });
    (status, axum::Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_counted_outside_strings_only() {
        assert_eq!(nesting_depth("{ a { b(x: [1, [2]]) } }"), 5);
        assert_eq!(nesting_depth(r#"{ a(s: "{{{{[[[[\"") }"#), 2);
        assert_eq!(nesting_depth(&"[".repeat(5000)), 5000);
    }

    #[test]
    fn fragments_are_counted_as_spread_out_in_linear_time() {
        let parse = |q: &str| async_graphql::parser::parse_query(q).expect("parses");
        let plain = parse("{ viewer { name businesses { nodes { id } } } }");
        assert_eq!(expanded_field_count(&plain), 5);
        // Forty fragments, each spreading the next twice: 2^40 fields once spread out.
        let mut doubling = String::from("query { ...F0 }\n");
        for i in 0..40 {
            doubling.push_str(&format!(
                "fragment F{i} on Query {{ ...F{} ...F{} }}\n",
                i + 1,
                i + 1
            ));
        }
        doubling.push_str("fragment F40 on Query { viewer { id } }\n");
        assert!(expanded_field_count(&parse(&doubling)) > MAX_EXPANDED_FIELDS);
        let cycle =
            parse("query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }");
        assert!(expanded_field_count(&cycle) > MAX_EXPANDED_FIELDS);
    }

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
