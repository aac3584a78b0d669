//! bizgraph: a GraphQL gateway over Meta's Graph API for Business Manager.
//!
//! The library does the work; `main.rs` only parses the command line. See ARCHITECTURE.md
//! for the code map.

pub mod bench;
pub(crate) mod cache;
pub mod config;
pub mod error;
pub(crate) mod events;
pub(crate) mod graph;
pub mod introspection;
pub(crate) mod loaders;
pub(crate) mod log_window;
pub(crate) mod metrics;
pub mod schema;
pub(crate) mod server;
pub(crate) mod shared_redis;
pub(crate) mod stores;
pub mod telemetry;
pub(crate) mod token;
pub(crate) mod webhooks;

pub use config::Settings;
pub use server::{
    Application, StartError, WORKER_STACK_BYTES, gateway_runtime_builder, runtime_builder,
};
pub use stores::SharedStores;

use config::{Cli, Command, LogFormat, SandboxArgs, ServeArgs};
use graph_sandbox::SandboxSettings;
use tokio::net::TcpListener;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The gateway could not start.
    #[error(transparent)]
    Start(#[from] server::StartError),
    /// The benchmark failed.
    #[error(transparent)]
    Bench(#[from] bench::BenchError),
    /// An I/O failure while binding or serving.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The failure.
        source: std::io::Error,
    },
}

/// Runs the command the command line asks for.
pub async fn run(cli: Cli) -> Result<(), RunError> {
    match cli.command {
        None => serve(cli.serve, cli.log_format).await,
        Some(Command::Serve(args)) => serve(*args, cli.log_format).await,
        Some(Command::Sandbox(args)) => sandbox(args, cli.log_format).await,
        Some(Command::Schema(args)) => {
            let text = if args.json {
                format!("{:#}\n", introspection::result().await)
            } else {
                schema::sdl()
            };
            std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes()).map_err(
                |source| RunError::Io {
                    context: "cannot write the schema to standard output".to_owned(),
                    source,
                },
            )
        }
        Some(Command::Bench(args)) => {
            let reports = bench::run(&args).await?;
            print!("{}", bench::render(&reports, &args));
            Ok(())
        }
    }
}

async fn serve(args: ServeArgs, log_format: LogFormat) -> Result<(), RunError> {
    let shutdown = shutdown_signal();
    let (settings, embedded) = match &args.graph_url {
        Some(url) => (Settings::from_args(&args, url.clone()), None),
        None => {
            // The embedded sandbox listens on a free loopback port; only the gateway uses it,
            // through as many connections as the gateway has requests in flight.
            let listener = bind(
                std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
                args.listen_backlog,
            )?;
            let sandbox = graph_sandbox::spawn(
                listener,
                SandboxSettings {
                    app_secret: args.app_secret.as_ref().map(|s| s.expose().to_owned()),
                    ..SandboxSettings::default()
                },
            )
            .await
            .map_err(|source| RunError::Io {
                context: "cannot start the embedded sandbox".to_owned(),
                source,
            })?;
            let mut settings = Settings::from_args(&args, sandbox.url());
            settings.server.graphiql_demo_token = Some(graph_sandbox::demo::ADMIN_TOKEN.to_owned());
            // The demo world's migration webhooks come to this gateway: a verify token and a
            // signing secret of this run's own unless given.
            let webhooks = &mut settings.webhooks;
            webhooks.verify_token.get_or_insert_with(random_secret);
            webhooks.app_secret.get_or_insert_with(random_secret);
            (settings, Some(sandbox))
        }
    };
    let settings_webhooks = settings.webhooks.clone();
    let app = Application::build(settings).await?;
    let addr = app.addr();
    match &embedded {
        // In JSON every line is an object: the banner is the startup log line's fields.
        Some(sandbox) if log_format == LogFormat::Json => tracing::info!(
            graphiql = %format_args!("http://{addr}/"),
            graphql = %format_args!("http://{addr}/graphql"),
            graph_api = %sandbox.url(),
            demo_tokens = %format_args!(
                "{} (an ADMIN of Pomni Media), {} (an EMPLOYEE), {} (a system user)",
                graph_sandbox::demo::ADMIN_TOKEN,
                graph_sandbox::demo::EMPLOYEE_TOKEN,
                graph_sandbox::demo::SYSTEM_TOKEN
            ),
            "bizgraph is running on the embedded sandbox: a seeded demo world, not Meta"
        ),
        None if log_format == LogFormat::Json => {}
        Some(sandbox) => {
            println!("bizgraph is running on the embedded sandbox: a seeded demo world, not Meta.");
            println!();
            println!("  GraphiQL     http://{addr}/");
            println!("  GraphQL      http://{addr}/graphql");
            println!(
                "  Graph API    {} (the sandbox, for other clients)",
                sandbox.url()
            );
            println!();
            println!("  Demo tokens (send as `Authorization: Bearer <token>`):");
            println!(
                "    {:<14} an ADMIN of \"Pomni Media\" (GraphiQL uses it)",
                graph_sandbox::demo::ADMIN_TOKEN
            );
            println!(
                "    {:<14} an EMPLOYEE of \"Pomni Media\"",
                graph_sandbox::demo::EMPLOYEE_TOKEN
            );
            println!(
                "    {:<14} a system user of \"Pomni Media\"",
                graph_sandbox::demo::SYSTEM_TOKEN
            );
        }
        None => println!("bizgraph is listening on http://{addr}/ (GraphQL at /graphql)"),
    }
    tracing::info!(%addr, embedded_sandbox = embedded.is_some(), "gateway started");
    let webhooks = settings_webhooks.clone();
    if let Some(sandbox) = &embedded {
        tokio::spawn(subscribe_sandbox_webhooks(sandbox.url(), addr, webhooks));
    }
    // On the signal the gateway stops accepting, lets requests in flight finish for at most
    // the shutdown grace period, then returns.
    app.run_until(shutdown)
        .await
        .map_err(|source| RunError::Io {
            context: "the gateway stopped".to_owned(),
            source,
        })?;
    tracing::info!("gateway stopped");
    Ok(())
}

/// A secret of 32 random bytes, hex: the embedded demo's webhook verify token and signing key.
fn random_secret() -> config::Secret {
    let bytes: [u8; 32] = rand::random();
    config::Secret::new(hex::encode(bytes))
}

/// Points the embedded sandbox's migration webhooks at this gateway, once it answers (the
/// sandbox checks the callback with Meta's handshake first). A failure is logged: the gateway
/// runs on, without webhook events.
async fn subscribe_sandbox_webhooks(
    sandbox: String,
    gateway: std::net::SocketAddr,
    webhooks: config::WebhookSettings,
) {
    let (Some(verify_token), Some(app_secret)) = (webhooks.verify_token, webhooks.app_secret)
    else {
        return;
    };
    let body = serde_json::json!({
        "callback_url": format!("http://{gateway}/webhooks/meta"),
        "verify_token": verify_token.expose(),
        "app_secret": app_secret.expose(),
    });
    let http = reqwest::Client::new();
    let mut last_error = String::new();
    for _ in 0..50 {
        match http
            .post(format!("{sandbox}/__sandbox/webhooks"))
            .json(&body)
            .send()
            .await
        {
            Ok(answer) if answer.status().is_success() => {
                tracing::info!("the embedded sandbox sends its migration webhooks to this gateway");
                return;
            }
            Ok(answer) => last_error = format!("HTTP {}", answer.status()),
            Err(error) => last_error = error.to_string(),
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    tracing::warn!(error = %last_error, "the embedded sandbox's webhooks could not be set up");
}

async fn sandbox(args: SandboxArgs, log_format: LogFormat) -> Result<(), RunError> {
    let shutdown = shutdown_signal();
    let listener = bind(args.listen, args.listen_backlog)?;
    let sandbox = graph_sandbox::spawn(
        listener,
        SandboxSettings {
            app_secret: args.app_secret.map(|s| s.expose().to_owned()),
            require_appsecret_proof: args.require_appsecret_proof,
            app_calls_per_hour: args.calls_per_hour,
            business_calls_per_hour: args.calls_per_hour,
        },
    )
    .await
    .map_err(|source| RunError::Io {
        context: "cannot start the sandbox".to_owned(),
        source,
    })?;
    if log_format == LogFormat::Json {
        tracing::info!(
            url = %sandbox.url(),
            demo_tokens = %format_args!(
                "{}, {}, {}",
                graph_sandbox::demo::ADMIN_TOKEN,
                graph_sandbox::demo::EMPLOYEE_TOKEN,
                graph_sandbox::demo::SYSTEM_TOKEN
            ),
            "Graph API sandbox listening"
        );
    } else {
        println!("Graph API sandbox listening on {}", sandbox.url());
        println!(
            "Demo tokens: {}, {}, {}",
            graph_sandbox::demo::ADMIN_TOKEN,
            graph_sandbox::demo::EMPLOYEE_TOKEN,
            graph_sandbox::demo::SYSTEM_TOKEN
        );
    }
    shutdown.await;
    Ok(())
}

/// A sandbox's listener, bound as the gateway's is (`server::listen`), with room for `backlog`
/// connections waiting to be accepted.
fn bind(addr: std::net::SocketAddr, backlog: u32) -> Result<TcpListener, RunError> {
    server::listen(addr, backlog).map_err(|source| RunError::Io {
        context: format!("cannot listen on {addr}"),
        source,
    })
}

/// A future that completes on Ctrl-C or, on Unix, SIGTERM: container platforms stop a
/// container with SIGTERM, and a process running as PID 1 ignores it unless it handles it. The
/// handlers are installed when this is called, not when the future is first polled: a SIGTERM
/// that arrives while the gateway is still starting must stop it cleanly rather than kill it
/// by the signal's default action.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            // A handler that could not be installed never ends the gateway.
            let interrupted = async {
                match interrupt {
                    Ok(mut s) => s.recv().await,
                    Err(_) => std::future::pending().await,
                }
            };
            let terminated = async {
                match terminate {
                    Ok(mut s) => s.recv().await,
                    Err(_) => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = interrupted => tracing::info!("interrupted: shutting down"),
                _ = terminated => tracing::info!("terminated: shutting down"),
            }
        }
    }
    #[cfg(not(unix))]
    async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        tracing::info!("interrupted: shutting down");
    }
}
