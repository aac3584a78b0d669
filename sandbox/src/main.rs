//! The `graph-sandbox` binary: serves the seeded sandbox on an address.
//!
//! `graph-sandbox [--listen 127.0.0.1:8080] [--app-secret SECRET] [--require-appsecret-proof]`

use std::process::ExitCode;

use graph_sandbox::{Sandbox, SandboxSettings};

const USAGE: &str =
    "usage: graph-sandbox [--listen ADDR] [--app-secret SECRET] [--require-appsecret-proof]

  --listen ADDR               address to serve on (default: 127.0.0.1:8080)
  --app-secret SECRET         the emulated app's secret, to check appsecret_proof (default: none)
  --require-appsecret-proof   refuse calls without appsecret_proof (needs --app-secret)";

/// The command line: where to listen and how the emulated app behaves.
struct Options {
    listen: String,
    settings: SandboxSettings,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        listen: "127.0.0.1:8080".to_owned(),
        settings: SandboxSettings::default(),
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => options.listen = args.next().ok_or("--listen needs an address")?,
            "--app-secret" => {
                options.settings.app_secret =
                    Some(args.next().ok_or("--app-secret needs a value")?);
            }
            "--require-appsecret-proof" => options.settings.require_appsecret_proof = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let options = match parse_args(args.into_iter()) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(&options.listen).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on {}: {error}", options.listen);
            return ExitCode::FAILURE;
        }
    };
    let router = Sandbox::new(options.settings).router();
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
