//! The HTTP server: `POST /graphql` (and `GET` for queries only), GraphiQL, `/healthz`.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use async_graphql::http::GraphiQLSource;
use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderValue, Method, Request};
use axum::routing::get;
use tokio::net::TcpListener;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::cache::{CacheSettings, UpstreamCache};
use crate::config::Settings;
use crate::graph::{GraphClient, GraphError, GraphSettings};
use crate::metrics::Metrics;
use crate::schema::{self, BizgraphSchema};

mod graphql;
mod guards;
mod pages;
mod response;

use graphql::{graphql_get, graphql_post};
use pages::{
    GRAPHIQL_FALLBACK, explorer_page, explorer_page_handler, graphiql_page, healthz, metrics_text,
    sdl,
};

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

pub(crate) struct AppState {
    pub(crate) schema: BizgraphSchema,
    pub(crate) client: GraphClient,
    pub(crate) graphiql: String,
    pub(crate) explorer: String,
    pub(crate) sdl: String,
    pub(crate) max_upstream_calls: usize,
    pub(crate) request_timeout: std::time::Duration,
    pub(crate) metrics: Arc<Metrics>,
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
            max_response_bytes: settings.max_upstream_response_bytes,
            breaker: settings.breaker,
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
