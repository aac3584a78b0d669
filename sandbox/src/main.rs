//! The `graph-sandbox` binary: serves the seeded sandbox on an address.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;
use graph_sandbox::SandboxSettings;
use tokio::net::{TcpListener, TcpSocket};

/// An in-memory emulator of Meta's Graph API for Business Manager, with a seeded demo world.
#[derive(Debug, Parser)]
#[command(name = "graph-sandbox", version)]
struct Options {
    /// Address to serve on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Connections that may wait to be accepted (the kernel caps it at net.core.somaxconn).
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    listen_backlog: u32,
    /// Calls per token, and per business, in a rolling hour before the sandbox throttles; an
    /// `?ids=` read counts once per id. 0 means no limit, for load tests.
    #[arg(long, default_value_t = SandboxSettings::DEFAULT_CALLS_PER_HOUR)]
    calls_per_hour: u32,
    /// The emulated app's secret, to check appsecret_proof.
    #[arg(long)]
    app_secret: Option<String>,
    /// Refuse calls without an appsecret_proof (needs --app-secret).
    #[arg(long, requires = "app_secret")]
    require_appsecret_proof: bool,
}

/// Binds `addr` with room for `backlog` connections waiting to be accepted: tokio's own `bind`
/// asks for 128, and past the backlog the kernel drops new clients' handshakes.
fn listen(addr: SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    // As tokio's `bind` does, so that a restarted sandbox can take its port again at once.
    #[cfg(not(windows))]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(backlog)
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = Options::parse();
    let listener = match listen(options.listen, options.listen_backlog) {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on {}: {error}", options.listen);
            return ExitCode::FAILURE;
        }
    };
    let settings = SandboxSettings {
        app_secret: options.app_secret,
        require_appsecret_proof: options.require_appsecret_proof,
        app_calls_per_hour: options.calls_per_hour,
        business_calls_per_hour: options.calls_per_hour,
    };
    match listener.local_addr() {
        Ok(addr) => println!("graph-sandbox serving on http://{addr}"),
        Err(_) => println!("graph-sandbox serving on {}", options.listen),
    }
    match graph_sandbox::serve(listener, settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("graph-sandbox stopped: {error}");
            ExitCode::FAILURE
        }
    }
}
