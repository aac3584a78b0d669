//! The HTTP server: `POST /graphql` (and `GET` for queries only; server-sent events when
//! asked for), subscriptions over WebSocket on `GET /graphql`, Meta's webhooks at
//! `/webhooks/meta`, GraphiQL, `/healthz`, `/readyz`.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::header::{AUTHORIZATION, CONNECTION, CONTENT_TYPE};
use axum::http::{HeaderValue, Method, Request, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use tokio::net::TcpListener;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::cache::persisted::PersistedQueries;
use crate::cache::{CacheSettings, UpstreamCache};
use crate::config::{Secret, Settings, WebhookSettings};
use crate::events::{InProcessBus, MigrationNews, RedisBus};
use crate::graph::{AccessToken, CallStats, GraphClient, GraphError, GraphSettings};
use crate::metrics::Metrics;
use crate::schema::{self, BizgraphSchema, RequestContext};
use crate::shared_redis::SharedRedis;
use crate::stores::SharedStores;
use crate::token::{Fingerprinter, WeakSecret};

mod connections;
mod extension;
mod graphql;
mod guards;
mod pages;
mod response;
mod sse;
mod webhooks;
mod ws;

use connections::ConnectionLimits;
pub(crate) use connections::listen;

use graphql::{graphql_get_or_upgrade, graphql_post};
use pages::{ASSETS_PATH, graphiql_asset, graphiql_page, healthz, metrics_text, readyz, sdl};
use response::{MediaType, request_error};

/// Largest request body accepted on `/graphql`. `read_body_within_deadline` enforces it while
/// it reads the body, and axum's `DefaultBodyLimit` again for the handler's `Bytes` extractor
/// (not async-graphql-axum's, which ignores axum's limit).
pub(crate) const MAX_BODY_BYTES: usize = 256 * 1024;
/// Deepest bracket nesting accepted in a query text, checked before parsing: async-graphql's
/// parser has no depth guard for argument values and overflows the stack on deep ones.
pub(crate) const MAX_QUERY_NESTING: usize = 64;
/// Memory the cache of parsed documents may use, counted as eight bytes of syntax tree per
/// byte of query text (an estimate on the generous side: every token becomes a positioned
/// node).
pub(crate) const DOCUMENT_CACHE_BYTES: u64 = 16 * 1024 * 1024;

/// Stack size of the runtime's worker threads. async-graphql's parser recurses once per bracket
/// level; at `MAX_QUERY_NESTING` the deepest shape (nested selections) needs under 256 KiB in a
/// release build and under 1 MiB unoptimised. Workers get 8 MiB (Linux's main-thread default;
/// untouched pages cost nothing), and tests parse every accepted document they generate on a
/// quarter of that, so nothing the guard accepts can overflow a worker.
pub const WORKER_STACK_BYTES: usize = 8 * 1024 * 1024;

/// A multi-threaded runtime whose worker threads have [`WORKER_STACK_BYTES`] of stack, with
/// tokio's scheduling otherwise: what `bizgraph sandbox`, `schema` and the bench's client and
/// sandbox run on.
pub fn runtime_builder() -> tokio::runtime::Builder {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all().thread_stack_size(WORKER_STACK_BYTES);
    builder
}

/// The gateway's runtime: [`runtime_builder`]'s, with each worker taking every second task
/// from the runtime's shared queue (`global_queue_interval(2)`; tokio's default is every 31st).
/// With 1000 connections ready at once, tokio moves the tasks that do not fit a worker's own
/// queue (256) to the shared one, and a connection that was answered gets its next request
/// into the worker's own queue again, ahead of them: under `wrk -c1000` the gateway's p99 was
/// 4.6-5.7× its p50, and in the bench at 1000 operations up to 5.5×. Every second task from the
/// shared queue: 1.6× under wrk (and 55,000 queries/s where it was 45,000-52,000), 1.5-2.0× for
/// every gateway row of the bench, at the same CPU per request (issue 7). Every task from the
/// shared queue (interval 1) starves the worker's own queue while the shared one is never
/// empty: 1000 connections arriving at once then waited seconds. The sandbox alone, answering
/// 90,000 reads a second, had a wider tail with interval 1, so it keeps tokio's default.
pub fn gateway_runtime_builder() -> tokio::runtime::Builder {
    let mut builder = runtime_builder();
    builder.global_queue_interval(2);
    builder
}
/// Most fields a document may select once its fragments are spread out, checked before
/// validation: a few fragments that spread each other twice make validation and execution
/// take seconds on a tiny document, whatever the depth and complexity limits.
pub(crate) const MAX_EXPANDED_FIELDS: usize = 2_000;

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
    /// The Graph API settings are unusable (the error says which and why).
    #[error(transparent)]
    GraphSettings(#[from] GraphError),
    /// The cache key secret is too short to keep token fingerprints unguessable.
    #[error("invalid --cache-key-secret: {0}")]
    CacheKeySecret(#[from] WeakSecret),
    /// `--redis-url` without `--cache-key-secret`: replicas could not find each other's
    /// answers, since each would fingerprint tokens with a key of its own.
    #[error(
        "--redis-url needs --cache-key-secret (BIZGRAPH_CACHE_KEY_SECRET), the same on every \
         replica, e.g. from `openssl rand -hex 32`"
    )]
    RedisWithoutSecret,
    /// The Redis URL cannot be used.
    #[error("invalid --redis-url: {0}")]
    RedisUrl(String),
    /// `--redis-required` and Redis did not answer.
    #[error("--redis-required and redis does not answer: {0}")]
    RedisUnavailable(String),
    /// A CORS origin is not a valid origin.
    #[error("invalid CORS origin {0:?}: give scheme://host[:port], e.g. https://app.example.com")]
    CorsOrigin(String),
}

/// Longest `x-request-id` taken from a caller; a longer one is replaced by a new UUID.
pub(crate) const MAX_REQUEST_ID_LEN: usize = 128;

impl AppState {
    /// The per-request data every transport gives the schema (HTTP today, WebSocket
    /// subscriptions next): the caller's token, a client handle that counts the request's
    /// calls into the returned stats and holds its call budget, and the error policy.
    pub(crate) fn request_context(
        &self,
        token: Option<AccessToken>,
    ) -> (RequestContext, Arc<CallStats>) {
        let stats = Arc::new(CallStats::default());
        let client = self.client.counting_into(stats.clone());
        let context = match token {
            Some(token) => RequestContext::with_token(&client, token, self.max_upstream_calls)
                .with_upstream_messages(self.upstream_messages),
            None => RequestContext::anonymous(&client),
        };
        (context, stats)
    }
}

/// A gateway bound to its address, ready to serve.
pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    router: AppService,
    limits: ConnectionLimits,
    /// Tells long-lived streams (WebSocket, server-sent events) that shutdown began.
    closing: tokio::sync::watch::Sender<bool>,
}

pub(crate) struct AppState {
    pub(crate) schema: BizgraphSchema,
    pub(crate) client: GraphClient,
    pub(crate) graphiql: String,
    pub(crate) sdl: String,
    pub(crate) max_upstream_calls: usize,
    pub(crate) introspection: bool,
    /// Documents that passed the guards, parsed, by their text: clients send the same few
    /// queries again and again, and parsing is the costliest step the gateway takes itself.
    pub(crate) documents:
        moka::sync::Cache<String, Arc<async_graphql::parser::types::ExecutableDocument>>,
    pub(crate) upstream_messages: crate::schema::UpstreamMessages,
    /// Documents of automatic persisted queries, in the shared store.
    pub(crate) persisted: PersistedQueries,
    pub(crate) request_timeout: std::time::Duration,
    pub(crate) metrics: Arc<Metrics>,
    /// Verified webhook events, their de-duplication and their subscribers.
    pub(crate) news: MigrationNews,
    /// The webhook handshake's token and the secret deliveries are signed with.
    pub(crate) webhooks: WebhookSettings,
    /// Most subscriptions one WebSocket may run at once.
    pub(crate) max_subscriptions_per_connection: usize,
    /// Time a WebSocket may stay without a message and without a subscription.
    pub(crate) subscription_idle: std::time::Duration,
    /// Turns true when shutdown begins: subscriptions end and sockets close.
    pub(crate) closing: tokio::sync::watch::Receiver<bool>,
    /// The shared Redis, if any (`/readyz` reports it).
    pub(crate) redis: Option<SharedRedis>,
    /// `--redis-required`: GraphQL requests fail, and `/readyz` answers 503, while the shared
    /// Redis is unavailable.
    pub(crate) redis_required: bool,
}

impl Application {
    /// Builds the gateway and binds its listener (port 0 picks a free port). Its cache and
    /// rate-limit state live in this process's memory.
    ///
    /// With a Redis URL in the settings, its state lives in that Redis instead, shared with
    /// every replica that uses the same Redis and the same `cache_key_secret`.
    pub async fn build(settings: Settings) -> Result<Application, StartError> {
        let stores = match &settings.redis.url {
            None => SharedStores::in_memory(settings.cache.max_bytes),
            Some(url) => {
                if settings.cache.key_secret.is_none() {
                    return Err(StartError::RedisWithoutSecret);
                }
                SharedStores::redis(url.expose(), &settings.redis, settings.cache.max_bytes)?
            }
        };
        Application::build_on(settings, stores).await
    }

    /// Builds the gateway on `stores`, which other replicas may share: replicas built on the
    /// same stores and the same `cache_key_secret` share cached answers, invalidations and
    /// Graph's throttles.
    pub async fn build_on(
        settings: Settings,
        stores: SharedStores,
    ) -> Result<Application, StartError> {
        let mut metrics = Metrics::new();
        if let Some(redis) = &stores.redis {
            metrics.register_redis(redis.metrics());
            if settings.redis.required {
                redis
                    .ping()
                    .await
                    .map_err(|error| StartError::RedisUnavailable(error.to_string()))?;
            }
        }
        let redis = stores.redis.clone();
        let metrics = Arc::new(metrics);
        let persisted = PersistedQueries::new(stores.answers.clone());
        let client = GraphClient::new(GraphSettings {
            base_url: settings.upstream.url.clone(),
            version: settings.upstream.version.clone(),
            app_secret: settings
                .upstream
                .app_secret
                .as_ref()
                .map(|secret| secret.expose().to_owned()),
            timeout: settings.upstream.timeout,
            cache: UpstreamCache::on_store(
                CacheSettings {
                    ttl: settings.cache.ttl,
                    max_bytes: settings.cache.max_bytes,
                },
                stores.answers,
            ),
            fingerprints: Fingerprinter::from_settings(
                settings.cache.key_secret.as_ref().map(Secret::expose),
            )?,
            usage: stores.usage,
            metrics: metrics.clone(),
            max_response_bytes: settings.upstream.max_response_bytes,
            breaker: settings.upstream.breaker,
        })?;
        let news = match &stores.redis {
            None => MigrationNews::new(Arc::new(InProcessBus::default())),
            Some(redis) => {
                let news = MigrationNews::new(Arc::new(RedisBus::new(redis.clone())));
                news.follow_bus();
                news
            }
        };
        let (closing, closing_signal) = tokio::sync::watch::channel(false);
        let schema = build_schema(&settings, &news, &metrics);
        let graphiql = graphiql_html(settings.server.graphiql_demo_token.as_deref());
        let state = Arc::new(AppState {
            sdl: schema::sdl_of(&schema),
            schema,
            client,
            graphiql,
            max_upstream_calls: settings.limits.max_graph_calls,
            introspection: settings.server.introspection,
            documents: moka::sync::Cache::builder()
                .max_capacity(DOCUMENT_CACHE_BYTES)
                .weigher(|query: &String, _| {
                    u32::try_from(query.len().saturating_mul(8)).unwrap_or(u32::MAX)
                })
                .build(),
            upstream_messages: settings.upstream.messages,
            persisted,
            request_timeout: settings.server.request_timeout,
            metrics,
            news,
            webhooks: settings.webhooks.clone(),
            max_subscriptions_per_connection: settings.limits.max_subscriptions_per_connection,
            subscription_idle: settings.server.keep_alive_idle,
            closing: closing_signal,
            redis,
            redis_required: settings.redis.required,
        });
        let router = router(state, &settings)?;
        let listener = connections::listen(settings.server.listen, settings.server.listen_backlog)
            .map_err(|source| StartError::Bind {
                addr: settings.server.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: settings.server.listen,
            source,
        })?;
        Ok(Application {
            listener,
            addr,
            router,
            limits: ConnectionLimits {
                header_read_timeout: settings.server.header_read_timeout,
                keep_alive_idle: settings.server.keep_alive_idle,
                shutdown_grace: settings.server.shutdown_grace,
            },
            closing,
        })
    }

    /// The address the gateway listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` completes, then stops accepting, lets the requests in flight
    /// finish and closes idle connections; returns once all are closed or, at the latest, when
    /// the shutdown grace period has passed (closing what remains).
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let closing = self.closing;
        let shutdown = async move {
            shutdown.await;
            // Subscriptions end and their sockets close before connections drain.
            let _ = closing.send(true);
        };
        connections::serve(self.listener, self.router, self.limits, shutdown).await
    }

    /// Serves in a background task (for tests and the embedded setup).
    pub fn spawn(self) -> tokio::task::JoinHandle<std::io::Result<()>> {
        tokio::spawn(self.run_until(std::future::pending()))
    }
}

/// Whether a caller's `x-request-id` may be used as is: short, and only characters that cannot
/// break a log line or a header.
fn is_usable_request_id(id: &[u8]) -> bool {
    !id.is_empty()
        && id.len() <= MAX_REQUEST_ID_LEN
        && id
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// Removes an `x-request-id` that `is_usable_request_id` refuses.
async fn drop_unusable_request_id(mut request: Request<Body>) -> Request<Body> {
    let unusable = request
        .headers()
        .get_all("x-request-id")
        .iter()
        .any(|id| !is_usable_request_id(id.as_bytes()));
    if unusable {
        request.headers_mut().remove("x-request-id");
    }
    request
}

/// When a `/graphql` request must be answered by: its arrival plus the request timeout.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline(pub(crate) tokio::time::Instant);

/// Reads a `/graphql` request's whole body (at most `MAX_BODY_BYTES`) before the handler runs,
/// within the request deadline: a client that sends its body too slowly gets a 408 and its
/// connection is closed, instead of holding a task and a connection for as long as it likes.
async fn read_body_within_deadline(
    State(state): State<Arc<AppState>>,
    request: Request<Body>,
    next: Next,
) -> Response {
    if state.redis_required
        && let Some(redis) = &state.redis
        && redis.is_unavailable()
    {
        let media = MediaType::negotiate(request.headers()).unwrap_or(MediaType::Json);
        state.metrics.graphql_refused("redis_unavailable");
        return request_error(
            media,
            StatusCode::SERVICE_UNAVAILABLE,
            crate::error::ErrorCode::UpstreamUnavailable,
            "the shared redis is unavailable and this gateway runs with --redis-required",
        );
    }
    let (mut parts, body) = request.into_parts();
    // One deadline for the whole request: what the body took is not given again to execution.
    let deadline = Deadline(tokio::time::Instant::now() + state.request_timeout);
    parts.extensions.insert(deadline);
    let media = MediaType::negotiate(&parts.headers).unwrap_or(MediaType::Json);
    let reading = Limited::new(body, MAX_BODY_BYTES).collect();
    let refused = |status: StatusCode, message: &str| {
        state
            .metrics
            .graphql_refused(graphql::Refusal::BodyUnreadable.reason());
        request_error(media, status, crate::error::ErrorCode::BadRequest, message)
    };
    match tokio::time::timeout_at(deadline.0, reading).await {
        Ok(Ok(collected)) => {
            next.run(Request::from_parts(parts, Body::from(collected.to_bytes())))
                .await
        }
        Ok(Err(error)) if error.is::<LengthLimitError>() => refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
        ),
        Ok(Err(error)) => refused(
            StatusCode::BAD_REQUEST,
            &format!("the request body could not be read: {error}"),
        ),
        Err(_elapsed) => {
            tracing::info!("request body not received within the request deadline");
            let mut response = refused(
                StatusCode::REQUEST_TIMEOUT,
                &format!(
                    "the request body did not arrive within the request deadline of {} s; send \
                     the whole body without pausing",
                    state.request_timeout.as_secs_f64()
                ),
            );
            // The rest of the body may still be on its way: the connection cannot be reused.
            response
                .headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
}

/// The schema with this gateway's extension and limits; introspection and suggestions off
/// when the settings say so. Resolvers reach Graph through each request's own client handle
/// (in `RequestContext`), so the schema holds no client.
fn build_schema(settings: &Settings, news: &MigrationNews, metrics: &Metrics) -> BizgraphSchema {
    let mut builder = schema::builder()
        .data(news.clone())
        .data(crate::schema::migration::RunningSubscriptions(
            metrics.subscriptions().clone(),
        ))
        .extension(extension::GatewayExtension::new(
            settings.upstream.people_api,
        ))
        .limit_complexity(settings.limits.max_complexity);
    if !settings.server.introspection {
        // "Did you mean" hints spell out the schema just as introspection would.
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder.finish()
}

/// GraphiQL's page (served from the binary, nothing from a CDN), pre-filled with the demo token
/// when there is one.
fn graphiql_html(demo_token: Option<&str>) -> String {
    pages::graphiql_page_html(demo_token)
}

/// The routes and their layers: `/graphql` with its body read under the deadline, the pages
/// the settings allow, CORS, the request id and the request's tracing span.
fn router(state: Arc<AppState>, settings: &Settings) -> Result<AppService, StartError> {
    let cors = cors_layer(&settings.server.cors_origins)?;
    let mut router = Router::new().route(
        "/graphql",
        get(graphql_get_or_upgrade)
            .post(graphql_post)
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                read_body_within_deadline,
            )),
    );
    if settings.server.explorers {
        router = router
            .route("/", get(graphiql_page))
            .route("/graphiql", get(graphiql_page))
            .route(&format!("{ASSETS_PATH}/{{name}}"), get(graphiql_asset));
    }
    if settings.server.introspection {
        router = router.route("/schema.graphql", get(sdl));
    }
    let routes = router
        .route(
            "/webhooks/meta",
            get(webhooks::handshake)
                .post(webhooks::deliver)
                .layer(DefaultBodyLimit::max(webhooks::MAX_DELIVERY_BYTES)),
        )
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .with_state(state);
    // The layers wrap the whole router once, rather than each route through `Router::layer`:
    // a request clones the service it is sent to, and a router whose every route holds every
    // layer (each method of each route boxed again) cost 45 allocations per request in the
    // clone alone (callgrind, issue 7). Unmatched paths get the same layers.
    let stack = tower::ServiceBuilder::new()
        // Runs first: a caller's id that is too long or odd is dropped, so the layer below
        // makes a new one instead of echoing it into every log line.
        .layer(axum::middleware::map_request(drop_unusable_request_id))
        // Every request gets an `x-request-id` (the caller's, or a new UUID), named in its
        // log lines and echoed in the response, so a failure can be found in the logs.
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(http_span as fn(&Request<Body>) -> tracing::Span),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(cors)
        .service(routes);
    Ok(AppService::new(stack))
}

/// The gateway's HTTP service: the routes inside their layers, cloned per request.
pub(crate) type AppService =
    tower::util::BoxCloneSyncService<Request<Body>, Response, std::convert::Infallible>;

/// A request's tracing span: its method, its path (only: a GET query string holds the whole
/// GraphQL document) and its request id.
fn http_span(request: &Request<Body>) -> tracing::Span {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "http",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %request_id,
    )
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

#[cfg(test)]
mod graphiql_tests {
    use super::graphiql_html;

    #[test]
    fn graphiql_loads_only_its_own_files_and_carries_the_demo_token_when_there_is_one() {
        let page = graphiql_html(Some("demo-admin"));
        assert!(
            page.contains(r#""authorization":"Bearer demo-admin""#),
            "{page}"
        );
        assert!(page.contains("viewer"), "{page}");
        assert!(!page.contains("{{asset:"), "every asset is linked: {page}");
        assert!(!page.contains("//"), "nothing from another origin: {page}");
        let srcs = page.matches(r#"src="/graphiql/assets/"#).count();
        assert_eq!(srcs, 4, "{page}");
        assert!(graphiql_html(None).contains(r#""authorization":null"#));
    }
}
