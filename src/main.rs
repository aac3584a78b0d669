//! The `bizgraph` command: parse the command line, set up logging, run.

use clap::Parser;

/// mimalloc instead of the system allocator: the gateway allocates many small, short-lived
/// objects per request (syntax trees, field sets, JSON), where glibc's malloc was a sixth of
/// the process's time in a profile.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use bizgraph::config::LogFormat;
use tracing_subscriber::EnvFilter;

fn main() -> anyhow::Result<()> {
    let cli = bizgraph::config::Cli::parse();
    // The worker stack is set, not left to tokio's default: the request guards' margin against
    // the parser's recursion is stated against it (see `server::WORKER_STACK_BYTES`).
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(bizgraph::WORKER_STACK_BYTES)
        .build()?
        .block_on(run(cli))
}

async fn run(cli: bizgraph::config::Cli) -> anyhow::Result<()> {
    let filter = EnvFilter::try_from_env("BIZGRAPH_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    match cli.log_format {
        LogFormat::Text => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            // Colours only for a person at a terminal, not escape codes in a log file.
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        // One object per line: the event's fields at the top level, the request's span
        // (method, path, request_id) under `span`.
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .init(),
    }
    bizgraph::run(cli).await?;
    Ok(())
}
