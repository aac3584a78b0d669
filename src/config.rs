//! Settings from command-line flags and `BIZGRAPH_*` environment variables; tests build them in code.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::graph::BreakerSettings;
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
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway (the default). Without --graph-url it runs on the embedded sandbox.
    Serve(ServeArgs),
    /// Run the Graph API sandbox alone, for a two-process setup or other Graph API clients.
    Sandbox(SandboxArgs),
    /// Print the GraphQL schema (SDL), which is what schema.graphql holds.
    Schema,
    /// Measure upstream calls per query, throughput and latency against an in-process sandbox.
    Bench(BenchArgs),
}

/// Flags of `bizgraph bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// GraphQL requests per scenario.
    #[arg(long, default_value_t = 2000)]
    pub requests: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
}

/// Flags of `bizgraph serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address the gateway listens on.
    #[arg(long, env = "BIZGRAPH_LISTEN", default_value = "127.0.0.1:4000")]
    pub listen: SocketAddr,
    /// Base URL of the Graph API, e.g. https://graph.facebook.com. Without it the gateway starts
    /// the embedded sandbox with its demo world.
    #[arg(long, env = "BIZGRAPH_GRAPH_URL")]
    pub graph_url: Option<String>,
    /// Graph API version the gateway speaks.
    #[arg(long, env = "BIZGRAPH_GRAPH_VERSION", default_value = "v25.0")]
    pub graph_version: String,
    /// The Meta app's secret: when set, every call carries an appsecret_proof.
    #[arg(long, env = "BIZGRAPH_APP_SECRET", hide_env_values = true)]
    pub app_secret: Option<String>,
    /// Seconds an upstream Graph API call may take before it is abandoned.
    #[arg(long, env = "BIZGRAPH_UPSTREAM_TIMEOUT_SECS", default_value_t = 20)]
    pub upstream_timeout_secs: u64,
    /// Seconds one GraphQL request may take in all, retries and pauses included.
    #[arg(long, env = "BIZGRAPH_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// Seconds an upstream answer may be served from the per-token cache; 0 turns it off.
    #[arg(long, env = "BIZGRAPH_CACHE_TTL_SECS", default_value_t = 30)]
    pub cache_ttl_secs: u64,
    /// Mebibytes of upstream answers the cache may hold.
    #[arg(long, env = "BIZGRAPH_CACHE_MAX_MB", default_value_t = 64)]
    pub cache_max_mb: u64,
    /// The secret that cache keys and rate-limit state are keyed by (a keyed fingerprint of
    /// each caller's token, never the token). Without it each process draws a random key,
    /// which is right for a single replica. It must be the same on every replica that shares
    /// a store, or they cannot find each other's answers. At least 32 characters, e.g. from
    /// `openssl rand -hex 32`.
    #[arg(long, env = "BIZGRAPH_CACHE_KEY_SECRET", hide_env_values = true)]
    pub cache_key_secret: Option<String>,
    /// The most Graph API calls one GraphQL request may send (the planner needs one for most
    /// queries); protects the app's shared Graph quota from queries of many aliased fields.
    /// Every call sent counts: each `?ids=` call of 50 ids, the batch re-read after one of them
    /// failed, each retry. Answers from the cache send nothing and do not count. Calls past
    /// the budget are not sent; their fields fail with UPSTREAM_BUDGET_EXCEEDED.
    #[arg(
        long,
        env = "BIZGRAPH_MAX_GRAPH_CALLS_PER_REQUEST",
        default_value_t = 50
    )]
    pub max_graph_calls_per_request: usize,
    /// Mebibytes one Graph API answer may have. The answer is read as it arrives and abandoned
    /// past this size (its field fails with UPSTREAM_UNAVAILABLE), so a huge or endless answer
    /// never sits in memory.
    #[arg(
        long,
        env = "BIZGRAPH_MAX_UPSTREAM_RESPONSE_MB",
        default_value_t = 32,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub max_upstream_response_mb: u64,
    /// Failed Graph API calls (no connection, timeouts, 5xx answers; not Graph's own errors)
    /// within --breaker-window-secs that open the circuit breaker: calls then fail at once
    /// with UPSTREAM_UNAVAILABLE for --breaker-cool-down-secs, after which one probe call
    /// decides whether it closes. 0 turns the breaker off.
    #[arg(long, env = "BIZGRAPH_BREAKER_FAILURES", default_value_t = 5)]
    pub breaker_failures: u32,
    /// Seconds over which the circuit breaker counts failed Graph API calls.
    #[arg(long, env = "BIZGRAPH_BREAKER_WINDOW_SECS", default_value_t = 10)]
    pub breaker_window_secs: u64,
    /// Seconds the open circuit breaker fails calls at once before it lets a probe through.
    #[arg(long, env = "BIZGRAPH_BREAKER_COOL_DOWN_SECS", default_value_t = 15)]
    pub breaker_cool_down_secs: u64,
    /// Browser origins allowed to call /graphql from other sites (CORS), comma-separated,
    /// e.g. `https://app.example.com`. None by default: only same-origin pages may call.
    #[arg(long, env = "BIZGRAPH_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Seconds a client may take to send a request's headers (from the connection's start or
    /// from the request's first byte); past it the connection is closed.
    #[arg(long, env = "BIZGRAPH_HEADER_READ_TIMEOUT_SECS", default_value_t = 10)]
    pub header_read_timeout_secs: u64,
    /// Seconds a keep-alive connection may stay open with no request in flight.
    #[arg(long, env = "BIZGRAPH_KEEP_ALIVE_IDLE_SECS", default_value_t = 60)]
    pub keep_alive_idle_secs: u64,
    /// Seconds that requests in flight may still take after SIGTERM or Ctrl-C; then the
    /// gateway exits whatever remains.
    #[arg(long, env = "BIZGRAPH_SHUTDOWN_GRACE_SECS", default_value_t = 20)]
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
    #[arg(long, env = "BIZGRAPH_MAX_COMPLEXITY", default_value_t = Settings::DEFAULT_MAX_COMPLEXITY)]
    pub max_complexity: usize,
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
    /// The emulated app's secret, to check appsecret_proof.
    #[arg(long, env = "BIZGRAPH_SANDBOX_APP_SECRET", hide_env_values = true)]
    pub app_secret: Option<String>,
    /// Refuse Graph calls without an appsecret_proof, as an app with "Require App Secret" on
    /// does (needs --app-secret).
    #[arg(
        long,
        env = "BIZGRAPH_SANDBOX_REQUIRE_APPSECRET_PROOF",
        requires = "app_secret"
    )]
    pub require_appsecret_proof: bool,
}

/// Everything the gateway needs to run, built from flags or, in tests, in code.
#[derive(Clone)]
pub struct Settings {
    /// Address to listen on; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Upstream Graph API base URL, without the version (`https://graph.facebook.com`).
    pub graph_url: String,
    /// Graph API version, `v25.0` by default.
    pub graph_version: String,
    /// App secret for appsecret_proof, if configured.
    pub app_secret: Option<String>,
    /// Timeout of one upstream call.
    pub upstream_timeout: Duration,
    /// Timeout of one whole GraphQL request.
    pub request_timeout: Duration,
    /// A token GraphiQL is pre-filled with (set only when running on the embedded demo world).
    pub graphiql_demo_token: Option<String>,
    /// Origins allowed to call from browsers on other sites (CORS).
    pub cors_origins: Vec<String>,
    /// How long upstream answers are cached (zero: no cache).
    pub cache_ttl: Duration,
    /// Most bytes of upstream answers cached.
    pub cache_max_bytes: u64,
    /// The secret token fingerprints (cache keys, rate-limit state) are keyed by; random per
    /// process when `None`. The same on every replica that shares a store.
    pub cache_key_secret: Option<String>,
    /// Most Graph calls one GraphQL request may send (cache hits are free).
    pub max_upstream_calls: usize,
    /// Introspection, `/schema.graphql` and field suggestions in errors.
    pub introspection: bool,
    /// Whether Graph's own error texts reach callers.
    pub upstream_messages: UpstreamMessages,
    /// GraphiQL (`/`, `/graphiql`) and the offline explorer (`/explorer`).
    pub explorers: bool,
    /// Highest complexity of a request (see `ServeArgs::max_complexity`).
    pub max_complexity: usize,
    /// Time a client may take to send a request's headers before its connection is closed.
    pub header_read_timeout: Duration,
    /// Time a keep-alive connection may stay open with no request in flight.
    pub keep_alive_idle: Duration,
    /// Time requests in flight may still take once shutdown begins.
    pub shutdown_grace: Duration,
    /// Largest Graph answer read, in bytes.
    pub max_upstream_response_bytes: u64,
    /// When the circuit breaker in front of Graph opens, and for how long.
    pub breaker: BreakerSettings,
}

impl std::fmt::Debug for Settings {
    // Hand-written so that the secrets never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("graph_url", &self.graph_url)
            .field("graph_version", &self.graph_version)
            .field(
                "app_secret",
                &self.app_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("upstream_timeout", &self.upstream_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("cors_origins", &self.cors_origins)
            .field("cache_ttl", &self.cache_ttl)
            .field("cache_max_bytes", &self.cache_max_bytes)
            .field(
                "cache_key_secret",
                &self.cache_key_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("max_upstream_calls", &self.max_upstream_calls)
            .field("introspection", &self.introspection)
            .field("upstream_messages", &self.upstream_messages)
            .field("explorers", &self.explorers)
            .field("max_complexity", &self.max_complexity)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("keep_alive_idle", &self.keep_alive_idle)
            .field("shutdown_grace", &self.shutdown_grace)
            .field(
                "max_upstream_response_bytes",
                &self.max_upstream_response_bytes,
            )
            .field("breaker", &self.breaker)
            .finish()
    }
}

impl Settings {
    /// Default of `--max-complexity`: room for 100 businesses with a page of 100 of one
    /// kind of asset each, not for several such pages at once.
    pub const DEFAULT_MAX_COMPLEXITY: usize = crate::schema::MAX_COMPLEXITY;

    /// Settings for a gateway in front of `graph_url`, with defaults for the rest.
    pub fn for_upstream(graph_url: impl Into<String>) -> Settings {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            graph_url: graph_url.into(),
            graph_version: "v25.0".to_owned(),
            app_secret: None,
            upstream_timeout: Duration::from_secs(20),
            request_timeout: Duration::from_secs(30),
            graphiql_demo_token: None,
            cors_origins: Vec::new(),
            cache_ttl: Duration::from_secs(30),
            cache_max_bytes: 64 * 1024 * 1024,
            cache_key_secret: None,
            max_upstream_calls: 50,
            introspection: true,
            upstream_messages: UpstreamMessages::Expose,
            explorers: true,
            max_complexity: Settings::DEFAULT_MAX_COMPLEXITY,
            header_read_timeout: Duration::from_secs(10),
            keep_alive_idle: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(20),
            max_upstream_response_bytes: 32 * 1024 * 1024,
            breaker: BreakerSettings::default(),
        }
    }

    /// Settings from `serve` flags once the upstream URL is known.
    pub fn from_args(args: &ServeArgs, graph_url: String) -> Settings {
        Settings {
            listen: args.listen,
            graph_url,
            graph_version: args.graph_version.clone(),
            app_secret: args.app_secret.clone(),
            upstream_timeout: Duration::from_secs(args.upstream_timeout_secs.max(1)),
            request_timeout: Duration::from_secs(args.request_timeout_secs.max(1)),
            graphiql_demo_token: None,
            cors_origins: args
                .cors_origins
                .iter()
                .map(|o| o.trim().to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
            cache_ttl: Duration::from_secs(args.cache_ttl_secs),
            cache_max_bytes: args.cache_max_mb.saturating_mul(1024 * 1024),
            cache_key_secret: args.cache_key_secret.clone(),
            max_upstream_calls: args.max_graph_calls_per_request,
            introspection: args.introspection == Switch::On && !args.production,
            upstream_messages: args.upstream_error_messages,
            explorers: !args.production,
            max_complexity: args.max_complexity,
            header_read_timeout: Duration::from_secs(args.header_read_timeout_secs.max(1)),
            keep_alive_idle: Duration::from_secs(args.keep_alive_idle_secs.max(1)),
            shutdown_grace: Duration::from_secs(args.shutdown_grace_secs),
            max_upstream_response_bytes: args.max_upstream_response_mb.saturating_mul(1024 * 1024),
            breaker: BreakerSettings {
                failures: args.breaker_failures,
                window: Duration::from_secs(args.breaker_window_secs),
                cool_down: Duration::from_secs(args.breaker_cool_down_secs),
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
        assert_eq!(from_flags.max_upstream_calls, in_code.max_upstream_calls);
        assert_eq!(
            from_flags.max_upstream_response_bytes,
            in_code.max_upstream_response_bytes
        );
        assert_eq!(in_code.max_upstream_response_bytes, 32 * 1024 * 1024);
        assert_eq!(from_flags.breaker, in_code.breaker);
        assert_eq!(
            in_code.breaker,
            BreakerSettings {
                failures: 5,
                window: Duration::from_secs(10),
                cool_down: Duration::from_secs(15),
            }
        );
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
        assert_eq!(settings.max_upstream_response_bytes, 2 * 1024 * 1024);
        assert_eq!(
            settings.breaker,
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
        assert_eq!(settings.cache_key_secret.as_deref(), Some(secret));
        let debug = format!("{settings:?}");
        assert!(
            debug.contains(r#"cache_key_secret: Some("<redacted>")"#),
            "{debug}"
        );
        assert!(!debug.contains(secret), "{debug}");
        assert_eq!(
            Settings::for_upstream("http://127.0.0.1:9").cache_key_secret,
            None
        );
    }

    #[test]
    fn an_answer_cap_of_zero_is_refused() {
        let parsed = Cli::try_parse_from(["bizgraph", "--max-upstream-response-mb", "0"]);
        assert!(parsed.is_err());
    }
}
