//! Settings from command-line flags and `BIZGRAPH_*` environment variables; tests build them in code.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use graph_sandbox::SandboxSettings;

pub use crate::graph::BreakerSettings;
use crate::schema::UpstreamMessages;

/// The command line: `bizgraph [serve]`, `bizgraph sandbox`, `bizgraph schema`.
#[derive(Debug, Parser)]
#[command(
    name = "bizgraph",
    version,
    about = "A GraphQL gateway over Meta's Graph API for Business Manager",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// What to run; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Gateway settings, for `bizgraph` without a subcommand.
    #[command(flatten)]
    pub serve: ServeArgs,
    /// How log lines are written (to standard error): `text` for a person, `json` (one object
    /// per line, the event's fields at the top level) for a log shipper.
    #[arg(
        long,
        env = "BIZGRAPH_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text,
        global = true
    )]
    pub log_format: LogFormat,
    /// Export OpenTelemetry spans over OTLP/HTTP (JSON) to this collector, e.g.
    /// `http://127.0.0.1:4318` (`/v1/traces` is added): one span per GraphQL operation and
    /// one per Graph call. Off when not given.
    #[arg(long, env = "BIZGRAPH_OTLP_ENDPOINT", global = true)]
    pub otlp_endpoint: Option<String>,
}

/// The format of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines, coloured only at a terminal.
    Text,
    /// One JSON object per line, never coloured; the startup banner is a log line too.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway (the default). Without --graph-url it runs on the embedded sandbox.
    Serve(Box<ServeArgs>),
    /// Run the Graph API sandbox alone, for a two-process setup or other Graph API clients.
    Sandbox(SandboxArgs),
    /// Print the GraphQL schema (SDL), which is what schema.graphql holds.
    Schema(SchemaArgs),
    /// Measure the gateway against an expert's direct Graph calls, on an in-process sandbox.
    Bench(BenchArgs),
}

/// Flags of `bizgraph schema`.
#[derive(Debug, Clone, Args)]
pub struct SchemaArgs {
    /// Print the introspection result (`{"data": {"__schema": ...}}`), as codegen tools read
    /// it, instead of the SDL.
    #[arg(long)]
    pub json: bool,
}

/// Flags of `bizgraph bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Operations measured per workload and arm (direct, gateway uncached, gateway warm),
    /// after an unmeasured first round of --concurrency operations.
    #[arg(long, default_value_t = 2000)]
    pub requests: usize,
    /// Requests in flight at once, in every arm (the direct client's and the gateway's).
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Milliseconds the sandbox waits before answering each Graph call (Graph itself answers
    /// in about 100-300); 0 answers at once.
    #[arg(long, default_value_t = 0)]
    pub upstream_latency_ms: u64,
    /// Print the figures as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Flags of `bizgraph serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address the gateway listens on.
    #[arg(long, env = "BIZGRAPH_LISTEN", default_value = "127.0.0.1:4000")]
    pub listen: SocketAddr,
    /// Connections that may wait to be accepted, on the gateway's socket and the embedded
    /// sandbox's (the kernel caps it at net.core.somaxconn). Past it the kernel drops new
    /// clients' handshakes, which they retry only after a second or more.
    #[arg(
        long,
        env = "BIZGRAPH_LISTEN_BACKLOG",
        default_value_t = ServerSettings::DEFAULT_LISTEN_BACKLOG,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub listen_backlog: u32,
    /// Base URL of the Graph API, e.g. https://graph.facebook.com. Without it the gateway starts
    /// the embedded sandbox with its demo world.
    #[arg(long, env = "BIZGRAPH_GRAPH_URL")]
    pub graph_url: Option<String>,
    /// Graph API version the gateway speaks.
    #[arg(long, env = "BIZGRAPH_GRAPH_VERSION", default_value = UpstreamSettings::DEFAULT_VERSION)]
    pub graph_version: String,
    /// The Graph API dialect for people: `current` (`business_users` and `pending_users`,
    /// Graph v25) or `seed` (`userpermissions` and `business_persona`). Defaults to `current`
    /// with --graph-url, to `seed` on the embedded sandbox.
    #[arg(long, env = "BIZGRAPH_PEOPLE_API", value_enum)]
    pub people_api: Option<PeopleApi>,
    /// The Meta app's secret: when set, every call carries an appsecret_proof.
    #[arg(long, env = "BIZGRAPH_APP_SECRET", hide_env_values = true)]
    pub app_secret: Option<Secret>,
    /// Seconds an upstream Graph API call may take before it is abandoned.
    #[arg(long, env = "BIZGRAPH_UPSTREAM_TIMEOUT_SECS", default_value_t = UpstreamSettings::DEFAULT_TIMEOUT_SECS)]
    pub upstream_timeout_secs: u64,
    /// Seconds one GraphQL request may take in all, retries and pauses included.
    #[arg(long, env = "BIZGRAPH_REQUEST_TIMEOUT_SECS", default_value_t = ServerSettings::DEFAULT_REQUEST_TIMEOUT_SECS)]
    pub request_timeout_secs: u64,
    /// Seconds an upstream answer may be served from the per-token cache; 0 turns it off.
    #[arg(long, env = "BIZGRAPH_CACHE_TTL_SECS", default_value_t = CacheSettings::DEFAULT_TTL_SECS)]
    pub cache_ttl_secs: u64,
    /// Mebibytes of upstream answers the cache may hold.
    #[arg(long, env = "BIZGRAPH_CACHE_MAX_MB", default_value_t = CacheSettings::DEFAULT_MAX_MB)]
    pub cache_max_mb: u64,
    /// The secret that cache keys and rate-limit state are keyed by (a keyed fingerprint of
    /// each caller's token, never the token). Without it each process draws a random key,
    /// which is right for a single replica. It must be the same on every replica that shares
    /// a store, or they cannot find each other's answers. At least 32 characters, e.g. from
    /// `openssl rand -hex 32`.
    #[arg(long, env = "BIZGRAPH_CACHE_KEY_SECRET", hide_env_values = true)]
    pub cache_key_secret: Option<Secret>,
    /// The Redis that replicas share (`redis://host:port/db`, `rediss://` for TLS): the answer
    /// cache gets a second level there, invalidations and webhook events reach every replica
    /// through it. Needs `--cache-key-secret`. Without it nothing needs Redis.
    #[arg(long, env = "BIZGRAPH_REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<Secret>,
    /// Refuse to start when Redis does not answer, and fail GraphQL requests (503) while it is
    /// unavailable. Without it the gateway serves from memory and upstream while Redis is down.
    #[arg(long, env = "BIZGRAPH_REDIS_REQUIRED", requires = "redis_url")]
    pub redis_required: bool,
    /// --redis-url names the nodes of a Redis Cluster (some or all, comma-separated): commands
    /// go to the node that serves their keys, following the cluster's redirections.
    #[arg(long, env = "BIZGRAPH_REDIS_CLUSTER", requires = "redis_url")]
    pub redis_cluster: bool,
    /// Milliseconds one Redis call (and connecting to Redis) may take before it counts as
    /// failed; the request then goes on from memory and upstream.
    #[arg(
        long,
        env = "BIZGRAPH_REDIS_TIMEOUT_MS",
        default_value_t = RedisSettings::DEFAULT_TIMEOUT_MS,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub redis_timeout_ms: u64,
    /// Failed Redis calls in a row (errors, timeouts) after which Redis is not asked for
    /// --redis-cool-down-secs; then one call decides whether it is asked again.
    #[arg(
        long,
        env = "BIZGRAPH_REDIS_CIRCUIT_FAILURES",
        default_value_t = RedisSettings::DEFAULT_CIRCUIT_FAILURES,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub redis_circuit_failures: u32,
    /// Seconds Redis is not asked after --redis-circuit-failures failures in a row.
    #[arg(
        long,
        env = "BIZGRAPH_REDIS_COOL_DOWN_SECS",
        default_value_t = RedisSettings::DEFAULT_COOL_DOWN_SECS,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub redis_cool_down_secs: u64,
    /// The most Graph API calls one GraphQL request may send (the planner needs one for most
    /// queries); protects the app's shared Graph quota from queries of many aliased fields.
    /// Every call sent counts: each `?ids=` call of 50 ids, the batch re-read after one of them
    /// failed, each retry. Answers from the cache send nothing and do not count. Calls past
    /// the budget are not sent; their fields fail with UPSTREAM_BUDGET_EXCEEDED.
    #[arg(
        long,
        env = "BIZGRAPH_MAX_GRAPH_CALLS_PER_REQUEST",
        default_value_t = LimitSettings::DEFAULT_MAX_GRAPH_CALLS
    )]
    pub max_graph_calls_per_request: usize,
    /// Mebibytes one Graph API answer may have. The answer is read as it arrives and abandoned
    /// past this size (its field fails with UPSTREAM_UNAVAILABLE), so a huge or endless answer
    /// never sits in memory.
    #[arg(
        long,
        env = "BIZGRAPH_MAX_UPSTREAM_RESPONSE_MB",
        default_value_t = UpstreamSettings::DEFAULT_MAX_RESPONSE_MB,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub max_upstream_response_mb: u64,
    /// Failed Graph API calls (no connection, timeouts, 5xx answers; not Graph's own errors)
    /// within --breaker-window-secs that open the circuit breaker: calls then fail at once
    /// with UPSTREAM_UNAVAILABLE for --breaker-cool-down-secs, after which one probe call
    /// decides whether it closes. 0 turns the breaker off.
    #[arg(long, env = "BIZGRAPH_BREAKER_FAILURES", default_value_t = BreakerSettings::DEFAULT_FAILURES)]
    pub breaker_failures: u32,
    /// Seconds over which the circuit breaker counts failed Graph API calls.
    #[arg(long, env = "BIZGRAPH_BREAKER_WINDOW_SECS", default_value_t = BreakerSettings::DEFAULT_WINDOW_SECS)]
    pub breaker_window_secs: u64,
    /// Seconds the open circuit breaker fails calls at once before it lets a probe through.
    #[arg(long, env = "BIZGRAPH_BREAKER_COOL_DOWN_SECS", default_value_t = BreakerSettings::DEFAULT_COOL_DOWN_SECS)]
    pub breaker_cool_down_secs: u64,
    /// Browser origins allowed to call /graphql from other sites (CORS), comma-separated,
    /// e.g. `https://app.example.com`. None by default: only same-origin pages may call.
    #[arg(long, env = "BIZGRAPH_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Seconds a client may take to send a request's headers (from the connection's start or
    /// from the request's first byte); past it the connection is closed.
    #[arg(long, env = "BIZGRAPH_HEADER_READ_TIMEOUT_SECS", default_value_t = ServerSettings::DEFAULT_HEADER_READ_TIMEOUT_SECS)]
    pub header_read_timeout_secs: u64,
    /// Seconds a keep-alive connection may stay open with no request in flight.
    #[arg(long, env = "BIZGRAPH_KEEP_ALIVE_IDLE_SECS", default_value_t = ServerSettings::DEFAULT_KEEP_ALIVE_IDLE_SECS)]
    pub keep_alive_idle_secs: u64,
    /// Seconds that requests in flight may still take after SIGTERM or Ctrl-C; then the
    /// gateway exits whatever remains.
    #[arg(long, env = "BIZGRAPH_SHUTDOWN_GRACE_SECS", default_value_t = ServerSettings::DEFAULT_SHUTDOWN_GRACE_SECS)]
    pub shutdown_grace_secs: u64,
    /// Schema introspection, `/schema.graphql` and "Did you mean" hints in errors. `off`
    /// hides the schema from callers who were not given it.
    #[arg(long, env = "BIZGRAPH_INTROSPECTION", value_enum, default_value_t = Switch::On)]
    pub introspection: Switch,
    /// Graph's own error texts in errors: `expose` passes them on (scrubbed of the caller's
    /// token), `hide` replaces them by a sentence of the gateway's per code; Graph's code,
    /// subcode, type and trace id are kept either way.
    #[arg(
        long,
        env = "BIZGRAPH_UPSTREAM_ERROR_MESSAGES",
        value_enum,
        default_value_t = UpstreamMessages::Expose
    )]
    pub upstream_error_messages: UpstreamMessages,
    /// Production mode: introspection, suggestions, GraphiQL and the explorer all off.
    #[arg(long, env = "BIZGRAPH_PRODUCTION")]
    pub production: bool,
    /// Highest complexity a request may have: each field counts 1, and a connection counts
    /// its selection once per item of `first` (25 when omitted), `businesses(ids:)` once per id.
    #[arg(long, env = "BIZGRAPH_MAX_COMPLEXITY", default_value_t = LimitSettings::DEFAULT_MAX_COMPLEXITY)]
    pub max_complexity: usize,
    /// The token Meta's webhook subscription handshake must present (`hub.verify_token`) at
    /// `GET /webhooks/meta`. Deliveries (`POST /webhooks/meta`) are verified with the app
    /// secret (`--app-secret`). Without it the handshake is refused.
    #[arg(long, env = "BIZGRAPH_WEBHOOK_VERIFY_TOKEN", hide_env_values = true)]
    pub webhook_verify_token: Option<Secret>,
    /// The most subscriptions one WebSocket connection may run at once.
    #[arg(
        long,
        env = "BIZGRAPH_MAX_SUBSCRIPTIONS_PER_CONNECTION",
        default_value_t = LimitSettings::DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub max_subscriptions_per_connection: u32,
}

/// A feature switched on or off on the command line (`--introspection off`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Switch {
    /// On.
    On,
    /// Off.
    Off,
}

/// Flags of `bizgraph sandbox`.
#[derive(Debug, Clone, Args)]
pub struct SandboxArgs {
    /// Address the sandbox listens on.
    #[arg(
        long,
        env = "BIZGRAPH_SANDBOX_LISTEN",
        default_value = "127.0.0.1:4010"
    )]
    pub listen: SocketAddr,
    /// Connections that may wait to be accepted (the kernel caps it at net.core.somaxconn).
    #[arg(
        long,
        env = "BIZGRAPH_SANDBOX_LISTEN_BACKLOG",
        default_value_t = ServerSettings::DEFAULT_LISTEN_BACKLOG,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub listen_backlog: u32,
    /// Calls per token, and per business, in a rolling hour before the sandbox throttles
    /// (code 4, then 80004), as Graph's rate limits do; an `?ids=` read counts once per id.
    /// 0 means no limit, for load tests.
    #[arg(
        long,
        env = "BIZGRAPH_SANDBOX_CALLS_PER_HOUR",
        default_value_t = SandboxSettings::DEFAULT_CALLS_PER_HOUR
    )]
    pub calls_per_hour: u32,
    /// The emulated app's secret, to check appsecret_proof.
    #[arg(long, env = "BIZGRAPH_SANDBOX_APP_SECRET", hide_env_values = true)]
    pub app_secret: Option<Secret>,
    /// Refuse Graph calls without an appsecret_proof, as an app with "Require App Secret" on
    /// does (needs --app-secret).
    #[arg(
        long,
        env = "BIZGRAPH_SANDBOX_REQUIRE_APPSECRET_PROOF",
        requires = "app_secret"
    )]
    pub require_appsecret_proof: bool,
}

/// A secret from configuration (an app secret, a cache-key secret): its `Debug` never shows it,
/// so settings can be logged whole.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Secret {
        Secret(secret.into())
    }

    /// The secret itself, for the one place that uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(secret: &str) -> Result<Secret, Self::Err> {
        Ok(Secret::new(secret))
    }
}

/// Everything the gateway needs to run, built from flags or, in tests, in code; one section
/// per concern.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The HTTP side: address, timeouts, CORS, the explorers.
    pub server: ServerSettings,
    /// The Graph API: where, which version, the app secret, timeouts, the breaker.
    pub upstream: UpstreamSettings,
    /// The answer cache.
    pub cache: CacheSettings,
    /// What one request may cost.
    pub limits: LimitSettings,
    /// Meta's webhooks.
    pub webhooks: WebhookSettings,
    /// The Redis replicas share, if any.
    pub redis: RedisSettings,
}

/// The Redis that replicas share (`--redis-url`).
#[derive(Debug, Clone)]
pub struct RedisSettings {
    /// Where it is; `None`: no Redis, each process keeps its state in memory. A secret because
    /// a URL may carry a password.
    pub url: Option<Secret>,
    /// Whether the gateway refuses to start, and fails requests, while Redis is unavailable.
    pub required: bool,
    /// Whether `url` names the nodes of a Redis Cluster, comma-separated.
    pub cluster: bool,
    /// The most one Redis call, or connecting, may take before it counts as failed.
    pub timeout: Duration,
    /// Failures in a row after which Redis is not asked for `cool_down` (at least 1).
    pub circuit_failures: u32,
    /// How long Redis is not asked once `circuit_failures` calls in a row failed.
    pub cool_down: Duration,
}

impl RedisSettings {
    /// Default of `--redis-timeout-ms`.
    pub const DEFAULT_TIMEOUT_MS: u64 = 200;
    /// Default of `--redis-circuit-failures`.
    pub const DEFAULT_CIRCUIT_FAILURES: u32 = 3;
    /// Default of `--redis-cool-down-secs`.
    pub const DEFAULT_COOL_DOWN_SECS: u64 = 5;
}

impl Default for RedisSettings {
    fn default() -> Self {
        RedisSettings {
            url: None,
            required: false,
            cluster: false,
            timeout: Duration::from_millis(RedisSettings::DEFAULT_TIMEOUT_MS),
            circuit_failures: RedisSettings::DEFAULT_CIRCUIT_FAILURES,
            cool_down: Duration::from_secs(RedisSettings::DEFAULT_COOL_DOWN_SECS),
        }
    }
}

/// Meta's webhooks (`/webhooks/meta`).
#[derive(Debug, Clone, Default)]
pub struct WebhookSettings {
    /// The subscription handshake's `hub.verify_token`; without it the handshake is refused.
    pub verify_token: Option<Secret>,
    /// The app secret deliveries are signed with (`X-Hub-Signature-256`); without it every
    /// delivery is refused. From `--app-secret`.
    pub app_secret: Option<Secret>,
}

/// The HTTP side of the gateway.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Address to listen on; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Connections that may wait to be accepted (the embedded sandbox's socket uses it too).
    pub listen_backlog: u32,
    /// Time one whole GraphQL request may take, its body included.
    pub request_timeout: Duration,
    /// Time a client may take to send a request's headers before its connection is closed.
    pub header_read_timeout: Duration,
    /// Time a keep-alive connection may stay open with no request in flight.
    pub keep_alive_idle: Duration,
    /// Time requests in flight may still take once shutdown begins.
    pub shutdown_grace: Duration,
    /// Origins allowed to call from browsers on other sites (CORS).
    pub cors_origins: Vec<String>,
    /// A token GraphiQL is pre-filled with (set only when running on the embedded demo world).
    pub graphiql_demo_token: Option<String>,
    /// Introspection, `/schema.graphql` and field suggestions in errors.
    pub introspection: bool,
    /// GraphiQL (`/`, `/graphiql`) and the offline explorer (`/explorer`).
    pub explorers: bool,
}

impl ServerSettings {
    /// Default of `--listen-backlog`: a burst of a thousand connections fits.
    pub const DEFAULT_LISTEN_BACKLOG: u32 = 1024;
    /// Default of `--request-timeout-secs`.
    pub const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 30;
    /// Default of `--header-read-timeout-secs`.
    pub const DEFAULT_HEADER_READ_TIMEOUT_SECS: u64 = 10;
    /// Default of `--keep-alive-idle-secs`.
    pub const DEFAULT_KEEP_ALIVE_IDLE_SECS: u64 = 60;
    /// Default of `--shutdown-grace-secs`: under Kubernetes' default 30 s before it kills.
    pub const DEFAULT_SHUTDOWN_GRACE_SECS: u64 = 20;
}

impl Default for ServerSettings {
    fn default() -> ServerSettings {
        ServerSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            listen_backlog: Self::DEFAULT_LISTEN_BACKLOG,
            request_timeout: Duration::from_secs(Self::DEFAULT_REQUEST_TIMEOUT_SECS),
            header_read_timeout: Duration::from_secs(Self::DEFAULT_HEADER_READ_TIMEOUT_SECS),
            keep_alive_idle: Duration::from_secs(Self::DEFAULT_KEEP_ALIVE_IDLE_SECS),
            shutdown_grace: Duration::from_secs(Self::DEFAULT_SHUTDOWN_GRACE_SECS),
            cors_origins: Vec::new(),
            graphiql_demo_token: None,
            introspection: true,
            explorers: true,
        }
    }
}

/// The Graph API the gateway calls.
#[derive(Debug, Clone)]
pub struct UpstreamSettings {
    /// Base URL, without the version (`https://graph.facebook.com`).
    pub url: String,
    /// Graph API version, `v25.0` by default.
    pub version: String,
    /// App secret for appsecret_proof, if configured.
    pub app_secret: Option<Secret>,
    /// Timeout of one call.
    pub timeout: Duration,
    /// Largest answer read, in bytes.
    pub max_response_bytes: u64,
    /// When the circuit breaker opens, and for how long.
    pub breaker: BreakerSettings,
    /// Whether Graph's own error texts reach callers.
    pub messages: UpstreamMessages,
    /// Which of Graph's edges people are read and written through.
    pub people_api: PeopleApi,
}

/// The Graph API dialect for a business's people (docs/graph-api.md §8.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PeopleApi {
    /// Graph v25: `business_users`, `pending_users` and their nodes.
    Current,
    /// The seed's: `userpermissions` and `business_persona`.
    Seed,
}

impl UpstreamSettings {
    /// Default of `--graph-version`.
    pub const DEFAULT_VERSION: &str = "v25.0";
    /// Default of `--upstream-timeout-secs`.
    pub const DEFAULT_TIMEOUT_SECS: u64 = 20;
    /// Default of `--max-upstream-response-mb`.
    pub const DEFAULT_MAX_RESPONSE_MB: u64 = 32;

    /// Defaults for a Graph API at `url`.
    pub fn at(url: impl Into<String>) -> UpstreamSettings {
        UpstreamSettings {
            url: url.into(),
            version: Self::DEFAULT_VERSION.to_owned(),
            app_secret: None,
            timeout: Duration::from_secs(Self::DEFAULT_TIMEOUT_SECS),
            max_response_bytes: Self::DEFAULT_MAX_RESPONSE_MB * 1024 * 1024,
            breaker: BreakerSettings::default(),
            messages: UpstreamMessages::Expose,
            people_api: PeopleApi::Seed,
        }
    }
}

/// The answer cache.
#[derive(Debug, Clone)]
pub struct CacheSettings {
    /// How long answers are kept (zero: no cache).
    pub ttl: Duration,
    /// Most bytes of answers kept.
    pub max_bytes: u64,
    /// The secret token fingerprints (cache keys, rate-limit state) are keyed by; random per
    /// process when `None`. The same on every replica that shares a store.
    pub key_secret: Option<Secret>,
}

impl CacheSettings {
    /// Default of `--cache-ttl-secs`.
    pub const DEFAULT_TTL_SECS: u64 = 30;
    /// Default of `--cache-max-mb`.
    pub const DEFAULT_MAX_MB: u64 = 64;
}

impl Default for CacheSettings {
    fn default() -> CacheSettings {
        CacheSettings {
            ttl: Duration::from_secs(Self::DEFAULT_TTL_SECS),
            max_bytes: Self::DEFAULT_MAX_MB * 1024 * 1024,
            key_secret: None,
        }
    }
}

/// What one GraphQL request may cost.
#[derive(Debug, Clone)]
pub struct LimitSettings {
    /// Most Graph calls one request may send (cache hits are free).
    pub max_graph_calls: usize,
    /// Highest complexity of a request (see `ServeArgs::max_complexity`).
    pub max_complexity: usize,
    /// Most subscriptions one WebSocket connection may run at once.
    pub max_subscriptions_per_connection: usize,
}

impl LimitSettings {
    /// Default of `--max-graph-calls-per-request`.
    pub const DEFAULT_MAX_GRAPH_CALLS: usize = 50;
    /// Default of `--max-complexity`: room for 100 businesses with a page of 100 of one kind
    /// of asset each, not for several such pages at once.
    pub const DEFAULT_MAX_COMPLEXITY: usize = crate::schema::MAX_COMPLEXITY;
    /// Default of `--max-subscriptions-per-connection`.
    pub const DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION: u32 = 25;
}

impl Default for LimitSettings {
    fn default() -> LimitSettings {
        LimitSettings {
            max_graph_calls: Self::DEFAULT_MAX_GRAPH_CALLS,
            max_complexity: Self::DEFAULT_MAX_COMPLEXITY,
            max_subscriptions_per_connection: Self::DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION
                as usize,
        }
    }
}

impl Settings {
    /// Settings for a gateway in front of `graph_url`, with defaults for the rest.
    pub fn for_upstream(graph_url: impl Into<String>) -> Settings {
        Settings {
            server: ServerSettings::default(),
            upstream: UpstreamSettings::at(graph_url),
            cache: CacheSettings::default(),
            limits: LimitSettings::default(),
            webhooks: WebhookSettings::default(),
            redis: RedisSettings::default(),
        }
    }

    /// Settings from `serve` flags once the upstream URL is known.
    pub fn from_args(args: &ServeArgs, graph_url: String) -> Settings {
        Settings {
            server: ServerSettings {
                listen: args.listen,
                listen_backlog: args.listen_backlog,
                request_timeout: Duration::from_secs(args.request_timeout_secs.max(1)),
                header_read_timeout: Duration::from_secs(args.header_read_timeout_secs.max(1)),
                keep_alive_idle: Duration::from_secs(args.keep_alive_idle_secs.max(1)),
                shutdown_grace: Duration::from_secs(args.shutdown_grace_secs),
                cors_origins: args
                    .cors_origins
                    .iter()
                    .map(|o| o.trim().to_owned())
                    .filter(|o| !o.is_empty())
                    .collect(),
                graphiql_demo_token: None,
                introspection: args.introspection == Switch::On && !args.production,
                explorers: !args.production,
            },
            upstream: UpstreamSettings {
                url: graph_url,
                version: args.graph_version.clone(),
                app_secret: args.app_secret.clone(),
                timeout: Duration::from_secs(args.upstream_timeout_secs.max(1)),
                max_response_bytes: args.max_upstream_response_mb.saturating_mul(1024 * 1024),
                breaker: BreakerSettings {
                    failures: args.breaker_failures,
                    window: Duration::from_secs(args.breaker_window_secs),
                    cool_down: Duration::from_secs(args.breaker_cool_down_secs),
                },
                messages: args.upstream_error_messages,
                people_api: args.people_api.unwrap_or(match &args.graph_url {
                    Some(_) => PeopleApi::Current,
                    None => PeopleApi::Seed,
                }),
            },
            cache: CacheSettings {
                ttl: Duration::from_secs(args.cache_ttl_secs),
                max_bytes: args.cache_max_mb.saturating_mul(1024 * 1024),
                key_secret: args.cache_key_secret.clone(),
            },
            limits: LimitSettings {
                max_graph_calls: args.max_graph_calls_per_request,
                max_complexity: args.max_complexity,
                max_subscriptions_per_connection: args.max_subscriptions_per_connection as usize,
            },
            webhooks: WebhookSettings {
                verify_token: args.webhook_verify_token.clone(),
                app_secret: args.app_secret.clone(),
            },
            redis: RedisSettings {
                url: args.redis_url.clone(),
                required: args.redis_required,
                cluster: args.redis_cluster,
                timeout: Duration::from_millis(args.redis_timeout_ms.max(1)),
                circuit_failures: args.redis_circuit_failures.max(1),
                cool_down: Duration::from_secs(args.redis_cool_down_secs.max(1)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve_args(args: &[&str]) -> ServeArgs {
        let cli = Cli::try_parse_from(std::iter::once("bizgraph").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{e}"));
        cli.serve
    }

    #[test]
    fn the_flags_defaults_are_the_settings_defaults() {
        let from_flags = Settings::from_args(&serve_args(&[]), "http://127.0.0.1:9".to_owned());
        let in_code = Settings::for_upstream("http://127.0.0.1:9");
        assert_eq!(
            from_flags.limits.max_graph_calls,
            in_code.limits.max_graph_calls
        );
        assert_eq!(
            from_flags.upstream.max_response_bytes,
            in_code.upstream.max_response_bytes
        );
        assert_eq!(in_code.upstream.max_response_bytes, 32 * 1024 * 1024);
        assert_eq!(from_flags.upstream.breaker, in_code.upstream.breaker);
        assert_eq!(
            in_code.upstream.breaker,
            BreakerSettings {
                failures: 5,
                window: Duration::from_secs(10),
                cool_down: Duration::from_secs(15),
            }
        );
    }

    #[test]
    fn the_redis_timeout_and_circuit_default_as_documented_and_are_set_by_flags() {
        let defaults = Settings::from_args(&serve_args(&[]), "http://127.0.0.1:9".to_owned());
        let in_code = RedisSettings::default();
        assert_eq!(
            (
                defaults.redis.timeout,
                defaults.redis.circuit_failures,
                defaults.redis.cool_down
            ),
            (in_code.timeout, in_code.circuit_failures, in_code.cool_down)
        );
        assert_eq!(
            (in_code.timeout, in_code.circuit_failures, in_code.cool_down),
            (Duration::from_millis(200), 3, Duration::from_secs(5))
        );
        let settings = Settings::from_args(
            &serve_args(&[
                "--redis-url",
                "redis://127.0.0.1:6379/",
                "--redis-timeout-ms",
                "750",
                "--redis-circuit-failures",
                "10",
                "--redis-cool-down-secs",
                "30",
            ]),
            "http://127.0.0.1:9".to_owned(),
        );
        assert_eq!(
            (
                settings.redis.timeout,
                settings.redis.circuit_failures,
                settings.redis.cool_down
            ),
            (Duration::from_millis(750), 10, Duration::from_secs(30))
        );
        assert!(!settings.redis.cluster && !defaults.redis.cluster);
        let cluster = Settings::from_args(
            &serve_args(&[
                "--redis-url",
                "redis://127.0.0.1:7000/,redis://127.0.0.1:7001/",
                "--redis-cluster",
            ]),
            "http://127.0.0.1:9".to_owned(),
        );
        assert!(cluster.redis.cluster);
        assert!(Cli::try_parse_from(["bizgraph", "--redis-cluster"]).is_err());
        for zero in [
            "--redis-timeout-ms",
            "--redis-circuit-failures",
            "--redis-cool-down-secs",
        ] {
            let refused =
                Cli::try_parse_from(["bizgraph", "--redis-url", "redis://127.0.0.1/", zero, "0"]);
            assert!(refused.is_err(), "{zero} 0 is refused");
        }
    }

    #[test]
    fn the_answer_cap_and_the_breaker_are_set_by_flags() {
        let settings = Settings::from_args(
            &serve_args(&[
                "--max-upstream-response-mb",
                "2",
                "--breaker-failures",
                "0",
                "--breaker-window-secs",
                "30",
                "--breaker-cool-down-secs",
                "5",
            ]),
            "http://127.0.0.1:9".to_owned(),
        );
        assert_eq!(settings.upstream.max_response_bytes, 2 * 1024 * 1024);
        assert_eq!(
            settings.upstream.breaker,
            BreakerSettings {
                failures: 0,
                window: Duration::from_secs(30),
                cool_down: Duration::from_secs(5),
            }
        );
    }

    #[test]
    fn the_cache_key_secret_is_set_by_its_flag_and_never_shown_in_debug_output() {
        let secret = "0123456789abcdef0123456789abcdef";
        let settings = Settings::from_args(
            &serve_args(&["--cache-key-secret", secret]),
            "http://127.0.0.1:9".to_owned(),
        );
        assert_eq!(
            settings.cache.key_secret.as_ref().map(Secret::expose),
            Some(secret)
        );
        let debug = format!("{settings:?}");
        assert!(debug.contains("key_secret: Some(<redacted>)"), "{debug}");
        assert!(!debug.contains(secret), "{debug}");
        assert!(
            Settings::for_upstream("http://127.0.0.1:9")
                .cache
                .key_secret
                .is_none()
        );
    }

    #[test]
    fn secrets_given_as_flags_never_show_in_debug_output() {
        let cli = Cli::try_parse_from([
            "bizgraph",
            "--app-secret",
            "app-secret-value",
            "--cache-key-secret",
            "cache-key-secret-value-0123456789abcdef",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        let settings = Settings::from_args(&cli.serve, "http://127.0.0.1:9".to_owned());
        for debug in [format!("{cli:?}"), format!("{settings:?}")] {
            assert!(!debug.contains("secret-value"), "{debug}");
            assert!(debug.contains("<redacted>"), "{debug}");
        }
    }

    #[test]
    fn the_log_format_is_text_unless_a_flag_sets_it_with_or_without_a_subcommand() {
        let format = |args: &[&str]| {
            Cli::try_parse_from(args)
                .map(|cli| cli.log_format)
                .map_err(|e| e.to_string())
        };
        if std::env::var_os("BIZGRAPH_LOG_FORMAT").is_none() {
            assert_eq!(format(&["bizgraph"]), Ok(LogFormat::Text));
        }
        assert_eq!(
            format(&["bizgraph", "--log-format", "json"]),
            Ok(LogFormat::Json)
        );
        assert_eq!(
            format(&["bizgraph", "serve", "--log-format", "json"]),
            Ok(LogFormat::Json)
        );
        assert_eq!(
            format(&["bizgraph", "sandbox", "--log-format", "json"]),
            Ok(LogFormat::Json)
        );
        assert!(format(&["bizgraph", "--log-format", "xml"]).is_err());
    }

    #[test]
    fn the_listen_backlog_is_1024_unless_a_flag_sets_it() {
        let url = || "http://127.0.0.1:9".to_owned();
        let default = Settings::from_args(&serve_args(&[]), url());
        assert_eq!(default.server.listen_backlog, 1024);
        assert_eq!(
            Settings::for_upstream(url()).server.listen_backlog,
            default.server.listen_backlog
        );
        let set = Settings::from_args(&serve_args(&["--listen-backlog", "4096"]), url());
        assert_eq!(set.server.listen_backlog, 4096);
        assert!(Cli::try_parse_from(["bizgraph", "--listen-backlog", "0"]).is_err());
    }

    #[test]
    fn the_sandbox_command_keeps_graphs_default_limit_unless_told_otherwise() {
        let sandbox_args = |args: &[&str]| {
            let cli = Cli::try_parse_from(["bizgraph", "sandbox"].iter().chain(args).copied())
                .unwrap_or_else(|e| panic!("{e}"));
            match cli.command {
                Some(Command::Sandbox(args)) => args,
                other => panic!("not the sandbox command: {other:?}"),
            }
        };
        let default = sandbox_args(&[]);
        assert_eq!(default.calls_per_hour, 20_000);
        assert_eq!(default.listen_backlog, 1024);
        assert_eq!(sandbox_args(&["--calls-per-hour", "0"]).calls_per_hour, 0);
    }

    #[test]
    fn the_people_api_is_current_against_a_real_graph_and_seed_on_the_sandbox() {
        let url = || "http://127.0.0.1:9".to_owned();
        let people = |args: &[&str]| {
            Settings::from_args(&serve_args(args), url())
                .upstream
                .people_api
        };
        assert_eq!(people(&[]), PeopleApi::Seed);
        assert_eq!(
            people(&["--graph-url", "https://graph.facebook.com"]),
            PeopleApi::Current
        );
        assert_eq!(
            people(&[
                "--graph-url",
                "https://graph.facebook.com",
                "--people-api",
                "seed"
            ]),
            PeopleApi::Seed
        );
        assert_eq!(people(&["--people-api", "current"]), PeopleApi::Current);
        assert_eq!(
            Settings::for_upstream(url()).upstream.people_api,
            PeopleApi::Seed
        );
    }

    #[test]
    fn an_answer_cap_of_zero_is_refused() {
        let parsed = Cli::try_parse_from(["bizgraph", "--max-upstream-response-mb", "0"]);
        assert!(parsed.is_err());
    }
}
