//! The `bizgraph` binary as the README runs it: the embedded sandbox and the demo token.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::json;

/// Kills the child process when the test ends, passed or failed.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `bizgraph serve` on a free port and returns it with its banner's lines.
async fn start_binary() -> (Running, Vec<String>) {
    let child = Command::new(env!("CARGO_BIN_EXE_bizgraph"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("BIZGRAPH_GRAPH_URL")
        .env_remove("BIZGRAPH_APP_SECRET")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut running = Running(child);
    let stdout = running.0.stdout.take().unwrap();
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
    let banner = tokio::time::timeout(std::time::Duration::from_secs(60), reading)
        .await
        .expect("the banner is printed within a minute")
        .unwrap();
    (running, banner)
}

#[tokio::test]
async fn the_binary_serves_the_demo_world_on_the_embedded_sandbox() {
    let (_running, banner) = start_binary().await;
    let graphiql = banner
        .iter()
        .find_map(|line| line.trim().strip_prefix("GraphiQL"))
        .map(|url| url.trim().to_owned())
        .unwrap_or_else(|| panic!("no GraphiQL line in {banner:?}"));
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
    let pid = running.0.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    for _ in 0..200 {
        if let Some(status) = running.0.try_wait().unwrap() {
            assert!(status.success(), "exit status {status:?}");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("bizgraph did not stop within 10 seconds of SIGTERM");
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
async fn the_offline_explorer_and_the_schema_are_served_without_outside_scripts() {
    let app = crate::helpers::spawn_app().await;
    let page = app.page("/explorer").await;
    assert!(
        page.contains(r#"id="config""#),
        "the page carries its start query"
    );
    assert!(page.contains("viewer"));
    assert!(
        !page.contains("<script src="),
        "the explorer loads no script from anywhere"
    );
    assert!(
        !page.contains("https://"),
        "the explorer needs nothing from the internet"
    );

    let sdl = app.page("/schema.graphql").await;
    assert_eq!(sdl, bizgraph::schema::sdl());

    let graphiql = app.page("/graphiql").await;
    assert!(
        graphiql.contains("/explorer?from=graphiql"),
        "GraphiQL falls back offline"
    );
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
