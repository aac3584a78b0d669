//! The `bizgraph` binary as the README runs it: the embedded sandbox and the demo token.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::helpers::{
    BOUND, BURST_OF_CONNECTIONS, VIEWER_QUERY, connect_while_not_accepting, post_head, read_head,
    read_response, wait_until_healthy,
};

/// A running binary, killed when the test ends, passed or failed.
struct Running {
    child: Child,
    /// Its log (stderr), line by line, as it is written.
    log: Arc<Mutex<Vec<String>>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    /// How many log lines so far contain `text`.
    fn log_lines_with(&self, text: &str) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|line| line.contains(text))
            .count()
    }

    /// Waits (at most `BOUND`) until a log line contains `text`; the whole log otherwise.
    async fn wait_for_log(&self, text: &str) -> Result<(), String> {
        let deadline = tokio::time::Instant::now() + BOUND;
        while self.log_lines_with(text) == 0 {
            if tokio::time::Instant::now() > deadline {
                return Err(self.log.lock().unwrap().join("\n"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    /// Waits (at most `BOUND`) for the process to exit and returns its status.
    async fn exit_status(&mut self) -> Option<std::process::ExitStatus> {
        let deadline = tokio::time::Instant::now() + BOUND;
        while tokio::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }
}

/// `bizgraph serve` on a free port, on the embedded sandbox, with `flags` added.
fn serve_command(flags: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_bizgraph"));
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(flags);
    command
}

/// `bizgraph sandbox` on a free port with `flags` added, none of its settings taken from the
/// environment the tests run in.
fn sandbox_command(flags: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_bizgraph"));
    command
        .args(["sandbox", "--listen", "127.0.0.1:0"])
        .args(flags)
        .env_remove("BIZGRAPH_SANDBOX_CALLS_PER_HOUR")
        .env_remove("BIZGRAPH_SANDBOX_LISTEN_BACKLOG")
        .env_remove("BIZGRAPH_SANDBOX_APP_SECRET");
    command
}

/// The sandbox URL a banner names (`bizgraph sandbox`'s, or the embedded one's).
fn sandbox_url(banner: &[String]) -> String {
    banner
        .iter()
        .filter(|line| line.contains("sandbox"))
        .find_map(|line| line.split_whitespace().find(|w| w.starts_with("http://")))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no sandbox URL in {banner:?}"))
}

/// Starts `command` (a `bizgraph serve` or `sandbox`) and returns it with its banner's lines.
async fn start(mut command: Command) -> (Running, Vec<String>) {
    let child = command
        .env_remove("BIZGRAPH_GRAPH_URL")
        .env_remove("BIZGRAPH_APP_SECRET")
        .env_remove("BIZGRAPH_LISTEN_BACKLOG")
        .env_remove("BIZGRAPH_LOG_FORMAT")
        .env("BIZGRAPH_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut running = Running {
        child,
        log: Arc::default(),
    };
    let stderr = running.child.stderr.take().unwrap();
    let log = running.log.clone();
    // Read all along, so that the binary never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            log.lock().unwrap().push(line);
        }
    });
    let stdout = running.child.stdout.take().unwrap();
    // The banner names the GraphiQL URL and the demo tokens; read it up to the last token.
    let reading = tokio::task::spawn_blocking(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let done = line.contains("demo-system");
            lines.push(line);
            if done {
                break;
            }
        }
        lines
    });
    let banner = tokio::time::timeout(Duration::from_secs(60), reading)
        .await
        .expect("the banner is printed within a minute")
        .unwrap();
    (running, banner)
}

/// Starts `bizgraph serve` on a free port and returns it with its banner's lines.
async fn start_binary() -> (Running, Vec<String>) {
    start(serve_command(&[])).await
}

/// The GraphiQL URL the banner names: `http://127.0.0.1:<port>/`.
fn graphiql_url(banner: &[String]) -> String {
    banner
        .iter()
        .find_map(|line| line.trim().strip_prefix("GraphiQL"))
        .map(|url| url.trim().to_owned())
        .unwrap_or_else(|| panic!("no GraphiQL line in {banner:?}"))
}

/// The `host:port` the banner names.
fn gateway_authority(banner: &[String]) -> String {
    graphiql_url(banner)
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned()
}

#[tokio::test]
async fn the_binary_serves_the_demo_world_on_the_embedded_sandbox() {
    let (_running, banner) = start_binary().await;
    let graphiql = graphiql_url(&banner);
    assert!(banner.iter().any(|l| l.contains("demo-admin")));
    assert!(banner.iter().any(|l| l.contains("demo-employee")));

    let http = reqwest::Client::new();
    let page = http
        .get(&graphiql)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Bearer demo-admin"),
        "GraphiQL is pre-filled with the demo token"
    );

    let answer = crate::helpers::post_graphql(
        &http,
        &format!("{graphiql}graphql"),
        Some("demo-admin"),
        &json!({"query": "{ viewer { businesses(first: 10) { nodes { name vertical primaryPage { name } } } } }"}),
    )
    .await;
    assert_eq!(
        answer["data"]["viewer"]["businesses"]["nodes"][0],
        json!({"name": "Pomni Media", "vertical": "ENTERTAINMENT_AND_MEDIA", "primaryPage": {"name": "Pomni Media"}}),
        "{answer}"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn the_binary_stops_cleanly_on_sigterm_as_container_platforms_send() {
    let (mut running, _banner) = start_binary().await;
    terminate(&running);
    let status = running.exit_status().await;
    assert!(
        status.is_some_and(|status| status.success()),
        "bizgraph stops within the bound of SIGTERM, successfully: {status:?}"
    );
}

/// Sends SIGTERM, as container platforms do to stop a container.
#[cfg(unix)]
fn terminate(running: &Running) {
    let pid = running.child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
}

#[cfg(unix)]
#[tokio::test]
async fn on_sigterm_the_binary_exits_after_the_grace_period_despite_half_sent_requests() {
    let (mut running, banner) = start(serve_command(&[
        "--shutdown-grace-secs",
        "1",
        "--request-timeout-secs",
        "600",
        "--header-read-timeout-secs",
        "600",
        "--keep-alive-idle-secs",
        "600",
    ]))
    .await;
    let authority = gateway_authority(&banner);

    let mut idle = TcpStream::connect(&authority).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_response(&mut idle).await.status, 200);

    let mut half_headers = TcpStream::connect(&authority).await.unwrap();
    half_headers
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: gateway\r\n")
        .await
        .unwrap();

    // `100 Continue` comes once the gateway reads the body: the request is then in flight.
    let mut half_body = TcpStream::connect(&authority).await.unwrap();
    half_body
        .write_all(post_head(true).as_bytes())
        .await
        .unwrap();
    assert!(read_head(&mut half_body).await.starts_with("HTTP/1.1 100"));
    half_body
        .write_all(&VIEWER_QUERY.as_bytes()[..10])
        .await
        .unwrap();

    terminate(&running);
    let status = running.exit_status().await;
    assert!(
        status.is_some_and(|status| status.success()),
        "bizgraph exits successfully within the bound of SIGTERM: {status:?}"
    );
    assert_eq!(
        running.log_lines_with("grace period over"),
        1,
        "the half-sent request was cut off when the grace period ended: {:?}",
        running.log.lock().unwrap()
    );
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn past_the_open_file_limit_the_binary_warns_once_and_serves_again_once_sockets_free_up() {
    let mut command = Command::new("sh");
    command.args([
        "-c",
        r#"ulimit -n 64 && exec "$0" "$@""#,
        env!("CARGO_BIN_EXE_bizgraph"),
        "serve",
        "--listen",
        "127.0.0.1:0",
        // Connections that send nothing stay open for the whole test.
        "--header-read-timeout-secs",
        "600",
    ]);
    let (running, banner) = start(command).await;
    let authority = gateway_authority(&banner);
    const WARNING: &str = "cannot accept connections";
    // At startup the gateway points the embedded sandbox's webhooks at itself, which opens
    // connections of its own: let that finish before using up the descriptors.
    running
        .wait_for_log("the embedded sandbox sends its migration webhooks")
        .await
        .unwrap();

    // More than the 64 descriptors the gateway may open; the rest wait in the listen backlog.
    let mut clients = Vec::new();
    for _ in 0..100 {
        clients.push(TcpStream::connect(&authority).await.unwrap());
    }
    running.wait_for_log(WARNING).await.unwrap();
    // The gateway retries its accepts every 50 ms meanwhile: over these two seconds, a log
    // line per failure (or per second, as axum::serve wrote) would show.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        running.log_lines_with(WARNING),
        1,
        "{:?}",
        running.log.lock().unwrap()
    );
    assert_eq!(running.log_lines_with("Too many open files"), 1);

    drop(clients);
    let http = reqwest::Client::new();
    wait_until_healthy(&http, &format!("http://{authority}")).await;
    running
        .wait_for_log("accepting connections again")
        .await
        .unwrap();
    assert_eq!(running.log_lines_with(WARNING), 1);
}

/// Sends `signal` (`STOP`, `CONT`...) to the binary.
#[cfg(unix)]
fn send_signal(running: &Running, signal: &str) {
    let pid = running.child.id().to_string();
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &pid])
        .status()
        .unwrap();
    assert!(sent.success());
}

// A stopped process accepts nothing, but the kernel still completes handshakes into each
// listener's backlog: what a burst of clients meets while the accept loop is busy.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn the_gateway_and_its_embedded_sandbox_hold_a_burst_of_connections_in_their_backlogs() {
    let (running, banner) = start_binary().await;
    let gateway = gateway_authority(&banner);
    let sandbox = sandbox_url(&banner)
        .trim_start_matches("http://")
        .to_owned();

    send_signal(&running, "STOP");
    let to_gateway = connect_while_not_accepting(&gateway, BURST_OF_CONNECTIONS).await;
    let to_sandbox = connect_while_not_accepting(&sandbox, BURST_OF_CONNECTIONS).await;
    send_signal(&running, "CONT");
    drop((to_gateway, to_sandbox));

    let answer = crate::helpers::post_graphql(
        &reqwest::Client::new(),
        &format!("http://{gateway}/graphql"),
        Some("demo-admin"),
        &json!({"query": "{ viewer { name } }"}),
    )
    .await;
    assert_eq!(answer["data"]["viewer"]["name"], "Alex Rivera", "{answer}");
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn the_sandbox_command_holds_a_burst_of_connections_in_its_backlog() {
    let (running, banner) = start(sandbox_command(&[])).await;
    let sandbox = sandbox_url(&banner)
        .trim_start_matches("http://")
        .to_owned();
    send_signal(&running, "STOP");
    let connections = connect_while_not_accepting(&sandbox, BURST_OF_CONNECTIONS).await;
    send_signal(&running, "CONT");
    drop(connections);
    let health = reqwest::get(format!("http://{sandbox}/__sandbox/health"))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

/// `GET /v25.0/{path}` on a sandbox as the demo admin: the status and Graph's error code, if any.
async fn sandbox_read(http: &reqwest::Client, sandbox: &str, path: &str) -> (u16, Option<i64>) {
    let response = http
        .get(format!("{sandbox}/v25.0/{path}"))
        .bearer_auth("demo-admin")
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap();
    (status, body["error"]["code"].as_i64())
}

#[tokio::test]
async fn the_sandbox_command_throttles_at_the_calls_per_hour_its_variable_sets() {
    let mut command = sandbox_command(&[]);
    command.env("BIZGRAPH_SANDBOX_CALLS_PER_HOUR", "3");
    let (_running, banner) = start(command).await;
    let sandbox = sandbox_url(&banner);
    let http = reqwest::Client::new();
    // An `?ids=` read of two ids counts twice, so the third call finds the hour full.
    assert_eq!(sandbox_read(&http, &sandbox, "me").await, (200, None));
    assert_eq!(
        sandbox_read(&http, &sandbox, "?ids=200001,200002").await,
        (200, None)
    );
    assert_eq!(sandbox_read(&http, &sandbox, "me").await, (400, Some(4)));
}

#[tokio::test]
async fn the_sandbox_command_with_zero_calls_per_hour_never_throttles() {
    let (_running, banner) = start(sandbox_command(&["--calls-per-hour", "0"])).await;
    let sandbox = sandbox_url(&banner);
    let http = reqwest::Client::new();
    for _ in 0..20 {
        assert_eq!(
            sandbox_read(&http, &sandbox, "?ids=200001,200002").await,
            (200, None)
        );
    }
    let usage = http
        .get(format!("{sandbox}/v25.0/200001"))
        .bearer_auth("demo-admin")
        .send()
        .await
        .unwrap();
    assert_eq!(usage.status(), 200);
    let figure = |header: &str| -> serde_json::Value {
        serde_json::from_str(usage.headers()[header].to_str().unwrap()).unwrap()
    };
    assert_eq!(figure("x-app-usage")["call_count"], 0);
    assert_eq!(
        figure("x-business-use-case-usage")["200001"][0]["call_count"],
        0
    );
}

#[test]
fn the_schema_command_prints_the_committed_schema() {
    let output = Command::new(env!("CARGO_BIN_EXE_bizgraph"))
        .arg("schema")
        .output()
        .unwrap();
    assert!(output.status.success());
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    assert_eq!(String::from_utf8(output.stdout).unwrap(), committed);
}

#[tokio::test]
async fn graphiql_and_the_schema_are_served_from_the_binary_without_outside_scripts() {
    let app = crate::helpers::spawn_app().await;
    let response = app
        .http
        .get(format!("{}/graphiql", app.gateway))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.contains("script-src 'self';"), "{policy}");
    assert!(policy.contains("connect-src 'self';"), "{policy}");
    let page = response.text().await.unwrap();
    assert!(
        page.contains(r#"id="bizgraph-config""#),
        "the page carries its start query"
    );
    assert!(page.contains("viewer"));
    assert!(
        page.contains(r#""authorization":null"#),
        "no demo token without the embedded sandbox"
    );
    assert!(
        !page.contains("//"),
        "GraphiQL needs nothing from the internet: {page}"
    );

    // Every file the page links is embedded, typed and cacheable for good.
    let links: Vec<&str> = page
        .split('"')
        .filter(|part| part.starts_with("/graphiql/assets/"))
        .collect();
    assert_eq!(links.len(), 7, "{links:?}");
    for link in links {
        let response = app
            .http
            .get(format!("{}{link}", app.gateway))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{link}");
        let header = |name: &str| response.headers()[name].to_str().unwrap().to_owned();
        let expected = if link.contains(".js?") {
            "text/javascript; charset=utf-8"
        } else if link.contains(".css?") {
            "text/css; charset=utf-8"
        } else {
            "image/svg+xml"
        };
        assert_eq!(header("content-type"), expected, "{link}");
        assert_eq!(
            header("cache-control"),
            "public, max-age=31536000, immutable",
            "{link}"
        );
        assert!(!response.bytes().await.unwrap().is_empty(), "{link}");
    }
    for gone in [
        "/graphiql/assets/VERSIONS",
        "/graphiql/assets/x.js",
        "/explorer",
    ] {
        let response = app
            .http
            .get(format!("{}{gone}", app.gateway))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{gone}");
    }

    let sdl = app.page("/schema.graphql").await;
    assert_eq!(sdl, bizgraph::schema::sdl());
}

#[tokio::test]
async fn metrics_count_requests_graph_calls_and_cache_hits_without_tokens() {
    let app = crate::helpers::spawn_app().await;
    app.admin("{ viewer { name } }").await;
    app.admin("{ viewer { name } }").await;
    app.graphql(Some("not-a-token"), "{ viewer { name } }", json!({}))
        .await;
    let text = app.page("/metrics").await;
    assert!(
        text.contains(r#"bizgraph_graphql_requests_total{outcome="ok"} 2"#),
        "{text}"
    );
    assert!(
        text.contains(r#"bizgraph_graphql_requests_total{outcome="UNAUTHENTICATED"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"bizgraph_graph_calls_total{method="GET",outcome="ok",code=""} 1"#),
        "{text}"
    );
    assert!(
        text.contains(
            r#"bizgraph_graph_calls_total{method="GET",outcome="graph_error",code="190"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"bizgraph_cache_lookups_total{result="hit"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"bizgraph_cache_lookups_total{result="miss"} 2"#),
        "{text}"
    );
    assert!(!text.contains("demo-admin") && !text.contains("not-a-token"));
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_keeps_the_callers() {
    let app = crate::helpers::spawn_app().await;
    let fresh = app
        .http
        .get(format!("{}/healthz", app.gateway))
        .send()
        .await
        .unwrap();
    let id = fresh.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let kept = app
        .http
        .get(format!("{}/healthz", app.gateway))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.headers()["x-request-id"], "trace-me-42");
}

/// Every line of `lines` as a JSON object; panics naming the first line that is not one.
fn json_lines(lines: &[String]) -> Vec<serde_json::Value> {
    lines
        .iter()
        .map(|line| {
            assert!(!line.contains('\u{1b}'), "an escape code in {line:?}");
            let value: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {line:?}"));
            assert!(value.is_object(), "{line}");
            value
        })
        .collect()
}

#[tokio::test]
async fn with_log_format_json_every_line_is_a_json_object_and_a_request_line_has_its_fields() {
    let mut child = serve_command(&["--log-format", "json"])
        .env_remove("BIZGRAPH_GRAPH_URL")
        .env_remove("BIZGRAPH_APP_SECRET")
        .env_remove("BIZGRAPH_LOG_FORMAT")
        .env("BIZGRAPH_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let running = Running {
        child,
        log: Arc::default(),
    };
    let printed: Arc<Mutex<Vec<String>>> = Arc::default();
    for (stream, into) in [
        (
            Box::new(stdout) as Box<dyn std::io::Read + Send>,
            printed.clone(),
        ),
        (Box::new(stderr), running.log.clone()),
    ] {
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                into.lock().unwrap().push(line);
            }
        });
    }
    running
        .wait_for_log("gateway started")
        .await
        .unwrap_or_else(|log| panic!("the gateway did not start: {log}"));
    let started = json_lines(&running.log.lock().unwrap())
        .into_iter()
        .find(|line| line["message"] == "gateway started")
        .unwrap();
    let gateway = format!("http://{}", started["addr"].as_str().unwrap());

    let http = reqwest::Client::new();
    let answer: serde_json::Value = http
        .post(format!("{gateway}/graphql"))
        .bearer_auth("demo-admin")
        .header("x-request-id", "json-log-test-1")
        .json(&json!({"query": "query Viewer { viewer { name } }", "operationName": "Viewer"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["data"]["viewer"]["name"], "Alex Rivera", "{answer}");
    // A token Graph refuses is not written anywhere either.
    let secret = "EAAB-secret-token-never-logged-0123456789";
    let refused: serde_json::Value = http
        .post(format!("{gateway}/graphql"))
        .bearer_auth(secret)
        .json(&json!({"query": "query Viewer { viewer { name } }", "operationName": "Viewer"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(refused.get("errors").is_some(), "{refused}");
    let deadline = tokio::time::Instant::now() + BOUND;
    while running.log_lines_with("\"graphql request\"") < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no request lines: {:?}",
            running.log.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let log = running.log.lock().unwrap().clone();
    let lines = json_lines(&log);
    json_lines(&printed.lock().unwrap());
    let request = lines
        .iter()
        .find(|line| {
            line["message"] == "graphql request" && line["span"]["request_id"] == "json-log-test-1"
        })
        .unwrap_or_else(|| panic!("no line for the request: {log:#?}"));
    assert_eq!(request["level"], "INFO", "{request}");
    assert_eq!(request["operation"], "Viewer", "{request}");
    assert_eq!(request["status"], 200, "{request}");
    assert_eq!(request["graph_calls"], 1, "{request}");
    assert_eq!(request["cache_hits"], 0, "{request}");
    assert_eq!(request["errors"], 0, "{request}");
    assert_eq!(request["span"]["method"], "POST", "{request}");
    assert_eq!(request["span"]["path"], "/graphql", "{request}");
    assert!(request["timestamp"].is_string(), "{request}");
    assert!(request["elapsed_ms"].is_u64(), "{request}");
    for line in &log {
        assert!(!line.contains(secret), "a token in the log: {line}");
        assert!(
            !line.contains("Bearer"),
            "an Authorization header in the log: {line}"
        );
    }
    assert!(
        lines
            .iter()
            .any(|line| line["message"] == "graphql request" && line["codes"] == "UNAUTHENTICATED"),
        "{log:#?}"
    );
}

/// A collector of OTLP/HTTP JSON on loopback: the bodies posted to `/v1/traces`.
async fn spawn_collector() -> (String, Arc<Mutex<Vec<serde_json::Value>>>) {
    let received: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let store = received.clone();
    let router = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: axum::body::Bytes| {
            let store = store.clone();
            async move {
                if let Ok(value) = serde_json::from_slice(&body) {
                    store.lock().unwrap().push(value);
                }
                axum::Json(json!({}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, received)
}

/// Every span the collector received, each with its attributes as a flat JSON object.
fn exported_spans(received: &[serde_json::Value]) -> Vec<serde_json::Value> {
    let mut spans = Vec::new();
    for body in received {
        for resource in body["resourceSpans"].as_array().into_iter().flatten() {
            for scope in resource["scopeSpans"].as_array().into_iter().flatten() {
                for span in scope["spans"].as_array().into_iter().flatten() {
                    let mut attributes = serde_json::Map::new();
                    for attribute in span["attributes"].as_array().into_iter().flatten() {
                        let value = &attribute["value"];
                        let value = value
                            .get("stringValue")
                            .or_else(|| value.get("intValue"))
                            .or_else(|| value.get("boolValue"))
                            .or_else(|| value.get("doubleValue"))
                            .cloned()
                            .unwrap_or(serde_json::Value::Null);
                        // OTLP's JSON may write 64-bit integers as strings.
                        let value = match value {
                            serde_json::Value::String(text) if text.parse::<i64>().is_ok() => {
                                json!(text.parse::<i64>().unwrap())
                            }
                            other => other,
                        };
                        attributes.insert(attribute["key"].as_str().unwrap().to_owned(), value);
                    }
                    spans.push(json!({
                        "name": span["name"],
                        "traceId": span["traceId"],
                        "spanId": span["spanId"],
                        "parentSpanId": span["parentSpanId"],
                        "attributes": attributes,
                    }));
                }
            }
        }
    }
    spans
}

#[tokio::test]
async fn with_an_otlp_endpoint_each_operation_and_graph_call_is_a_span_without_the_token() {
    let (collector, received) = spawn_collector().await;
    let (_running, banner) = start({
        let mut command = serve_command(&["--otlp-endpoint", &collector]);
        command.env("OTEL_BSP_SCHEDULE_DELAY", "100");
        command
    })
    .await;
    let gateway = graphiql_url(&banner);
    let http = reqwest::Client::new();
    let answer: serde_json::Value = http
        .post(format!("{gateway}graphql"))
        .bearer_auth("demo-admin")
        .header("x-request-id", "otel-test-1")
        .json(&json!({"query": "query Viewer { viewer { name } }", "operationName": "Viewer"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["data"]["viewer"]["name"], "Alex Rivera", "{answer}");
    let secret = "EAAB-otel-secret-token-0123456789";
    http.post(format!("{gateway}graphql"))
        .bearer_auth(secret)
        .header("x-request-id", "otel-test-2")
        .json(&json!({"query": "query Refused { viewer { name } }"}))
        .send()
        .await
        .unwrap();

    let deadline = tokio::time::Instant::now() + BOUND;
    let find = |spans: &[serde_json::Value], request_id: &str| {
        spans
            .iter()
            .find(|s| s["name"] == "graphql" && s["attributes"]["request_id"] == request_id)
            .cloned()
    };
    let spans = loop {
        let spans = exported_spans(&received.lock().unwrap());
        if find(&spans, "otel-test-1").is_some() && find(&spans, "otel-test-2").is_some() {
            break spans;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no operation spans within the bound: {spans:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let operation = find(&spans, "otel-test-1").unwrap();
    let attributes = &operation["attributes"];
    assert_eq!(attributes["operation"], "Viewer", "{operation}");
    assert_eq!(attributes["graph_calls"], 1, "{operation}");
    assert_eq!(attributes["cache_hits"], 0, "{operation}");
    assert_eq!(attributes["status"], 200, "{operation}");
    // Its Graph call is a span of the same trace below it; the request's span above it.
    let call = spans
        .iter()
        .find(|s| s["name"] == "graph_call" && s["traceId"] == operation["traceId"])
        .unwrap_or_else(|| panic!("no graph_call span in the trace: {spans:#?}"));
    assert_eq!(call["parentSpanId"], operation["spanId"], "{call}");
    assert_eq!(call["attributes"]["method"], "GET", "{call}");
    assert_eq!(call["attributes"]["path"], "me", "{call}");
    let root = spans
        .iter()
        .find(|s| s["spanId"] == operation["parentSpanId"])
        .unwrap_or_else(|| panic!("no parent span: {spans:#?}"));
    assert_eq!(root["name"], "http", "{root}");
    assert_eq!(root["attributes"]["request_id"], "otel-test-1", "{root}");

    // The refused token's operation and call carry Graph's code, never the token.
    let refused = find(&spans, "otel-test-2").unwrap();
    assert_eq!(
        refused["attributes"]["error_code"], "UNAUTHENTICATED",
        "{refused}"
    );
    let refused_call = spans
        .iter()
        .find(|s| s["name"] == "graph_call" && s["traceId"] == refused["traceId"])
        .unwrap_or_else(|| panic!("no graph_call span for the refused token: {spans:#?}"));
    assert_eq!(
        refused_call["attributes"]["graph_error_code"], 190,
        "{refused_call}"
    );
    let everything = serde_json::to_string(&*received.lock().unwrap()).unwrap();
    assert!(!everything.contains(secret), "a token was exported");
    assert!(!everything.contains("demo-admin"), "a token was exported");
}
