//! The `graph-sandbox` binary: serves the seeded sandbox on an address.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;
use graph_sandbox::{Sandbox, SandboxSettings};

/// An in-memory emulator of Meta's Graph API for Business Manager, with a seeded demo world.
#[derive(Debug, Parser)]
#[command(name = "graph-sandbox", version)]
struct Options {
    /// Address to serve on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The emulated app's secret, to check appsecret_proof.
    #[arg(long)]
    app_secret: Option<String>,
    /// Refuse calls without an appsecret_proof (needs --app-secret).
    #[arg(long, requires = "app_secret")]
    require_appsecret_proof: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = Options::parse();
    let listener = match tokio::net::TcpListener::bind(options.listen).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on {}: {error}", options.listen);
            return ExitCode::FAILURE;
        }
    };
    let settings = SandboxSettings {
        app_secret: options.app_secret,
        require_appsecret_proof: options.require_appsecret_proof,
        ..SandboxSettings::default()
    };
    let router = Sandbox::new(settings).router();
    match listener.local_addr() {
        Ok(addr) => println!("graph-sandbox serving on http://{addr}"),
        Err(_) => println!("graph-sandbox serving on {}", options.listen),
    }
    match axum::serve(listener, router).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("graph-sandbox stopped: {error}");
            ExitCode::FAILURE
        }
    }
}
