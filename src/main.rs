//! The `bizgraph` command: parse the command line, set up logging, run.

use clap::Parser;

/// mimalloc instead of the system allocator: the gateway allocates many small, short-lived
/// objects per request (syntax trees, field sets, JSON), where glibc's malloc was a sixth of
/// the process's time in a profile.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use bizgraph::config::{Cli, Command, LogFormat};
use bizgraph::telemetry::Telemetry;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Set up before the runtime: the OTLP exporter sends from a thread of its own.
    let telemetry = init_logging(&cli)?;
    // The runtime is not tokio's default: the request guards' margin against the parser's
    // recursion is stated against its worker stack, and the gateway's workers serve 1000 ready
    // connections in turn (see `server::gateway_runtime_builder`).
    let mut builder = match &cli.command {
        None | Some(Command::Serve(_)) => bizgraph::gateway_runtime_builder(),
        Some(Command::Sandbox(_) | Command::Schema(_) | Command::Bench(_)) => {
            bizgraph::runtime_builder()
        }
    };
    let result = builder.build()?.block_on(bizgraph::run(cli));
    // Whatever the outcome, the spans still buffered are sent.
    if let Some(telemetry) = telemetry {
        telemetry.shutdown();
    }
    Ok(result?)
}

/// Log lines to standard error in the format asked for, and spans to the OTLP collector when
/// one is configured.
fn init_logging(cli: &Cli) -> anyhow::Result<Option<Telemetry>> {
    let filter = EnvFilter::try_from_env("BIZGRAPH_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let lines: Box<dyn Layer<Registry> + Send + Sync> = match cli.log_format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            // Colours only for a person at a terminal, not escape codes in a log file.
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .boxed(),
        // One object per line: the event's fields at the top level, the innermost span
        // (the request's: method, path, request_id) under `span`.
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .boxed(),
    };
    let (spans, telemetry) = match cli.otlp_endpoint.as_deref() {
        Some(endpoint) => {
            let (layer, telemetry) = bizgraph::telemetry::layer(endpoint)?;
            (Some(layer), Some(telemetry))
        }
        None => (None, None),
    };
    tracing_subscriber::registry()
        .with(lines)
        .with(spans)
        .with(filter)
        .init();
    Ok(telemetry)
}
