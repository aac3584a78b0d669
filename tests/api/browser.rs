//! GraphiQL in a real browser: headless Chromium through chromedriver (WebDriver), on a network
//! limited to loopback. Skipped, with the reason printed, when Chromium or chromedriver is not
//! installed (`.ci/run` installs Debian's `chromium` and `chromium-driver`, and then sets
//! `BIZGRAPH_BROWSER_TEST=required` so that the test cannot skip).
//!
//! `BIZGRAPH_SCREENSHOT=1` also saves the README's screenshot, `docs/graphiql.png`.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::webhooks::{APP_SECRET, sign, spawn_app_with_webhooks, subscribe_sandbox};

/// How long any one step may take: generous, so a loaded machine is slow, not failing.
const PATIENCE: Duration = Duration::from_secs(30);

/// The first of `names` found as a file on `PATH` (or the path an environment variable names).
fn find_program(variable: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(variable) {
        return Some(PathBuf::from(path)).filter(|path| path.is_file());
    }
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|path| path.is_file())
}

/// chromedriver on a free loopback port, killed with everything it started when dropped.
struct ChromeDriver {
    child: Child,
    url: String,
}

impl ChromeDriver {
    /// Starts chromedriver on a free port and waits until it is ready. Another process may take
    /// the port between the probe and chromedriver's bind: then chromedriver exits, and it is
    /// started again on another port.
    async fn start(program: &Path) -> ChromeDriver {
        for _ in 0..5 {
            if let Some(driver) = ChromeDriver::try_start(program).await {
                return driver;
            }
        }
        panic!("chromedriver did not start ({})", program.display());
    }

    async fn try_start(program: &Path) -> Option<ChromeDriver> {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(program)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so that dropping it also ends the browsers it started.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        let mut driver = ChromeDriver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let http = reqwest::Client::new();
        let deadline = Instant::now() + PATIENCE;
        loop {
            let status = http.get(format!("{}/status", driver.url)).send().await;
            if let Ok(response) = status {
                let body: Value = response.json().await.unwrap_or(Value::Null);
                if body["value"]["ready"] == json!(true) {
                    return Some(driver);
                }
            }
            if driver.child.try_wait().ok().flatten().is_some() {
                return None;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not get ready on {}",
                driver.url
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Headless Chromium whose only reachable network is loopback: names resolve to nothing but
/// 127.0.0.1, and everything not on loopback goes to a proxy that does not exist.
async fn open_browser(driver: &ChromeDriver, chromium: &Path) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        json!({
            "binary": chromium,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--window-size=1440,1000",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                "--proxy-server=http://127.0.0.1:9",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
            ],
        }),
    );
    ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .unwrap_or_else(|e| panic!("cannot open a Chromium session: {e}"))
}

/// Waits for `script` (a function body) to return a truthy value; answers its last value.
async fn wait_for(client: &Client, what: &str, script: &str) -> Result<Value, String> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let value = client
            .execute(script, vec![])
            .await
            .map_err(|e| format!("{what}: {e}"))?;
        let truthy = !matches!(&value, Value::Null | Value::Bool(false))
            && value != json!("")
            && value != json!(0);
        if truthy {
            return Ok(value);
        }
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}"));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The text of the response pane (CodeMirror's whole value, not only the lines in view).
const RESPONSE_TEXT: &str = "const pane = document.querySelector('.graphiql-response .CodeMirror');
     const text = pane && pane.CodeMirror ? pane.CodeMirror.getValue() : '';";

async fn run_in_graphiql(client: &Client, app: &TestApp) -> Result<(), String> {
    let origin = app.gateway.clone();
    client
        .goto(&format!("{origin}/"))
        .await
        .map_err(|e| e.to_string())?;
    // GraphiQL's editor, holding the README's query, and its headers editor with the token.
    let query = wait_for(
        client,
        "GraphiQL's query editor",
        "const editor = document.querySelector('.graphiql-query-editor .CodeMirror');
         return editor && editor.CodeMirror ? editor.CodeMirror.getValue() : '';",
    )
    .await?;
    if !query.as_str().unwrap_or("").contains("viewer") {
        return Err(format!("the query editor opens with {query}"));
    }
    let headers = wait_for(
        client,
        "GraphiQL's headers editor",
        "const editor = document.querySelector('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror');
         return editor && editor.CodeMirror ? editor.CodeMirror.getValue() : '';",
    )
    .await?;
    if !headers
        .as_str()
        .unwrap_or("")
        .contains("\"Authorization\": \"Bearer demo-admin\"")
    {
        return Err(format!("the headers editor holds {headers}"));
    }

    let run = client
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css(".graphiql-execute-button"))
        .await
        .map_err(|e| format!("the run button: {e}"))?;
    run.click().await.map_err(|e| e.to_string())?;
    let answer = wait_for(
        client,
        "the answer",
        &format!("{RESPONSE_TEXT} return text.includes('Pomni Media') ? text : '';"),
    )
    .await?;
    let answer: Value = serde_json::from_str(answer.as_str().unwrap_or(""))
        .map_err(|e| format!("the response pane holds no JSON: {e}"))?;
    if answer["extensions"]["cost"].is_null() {
        return Err(format!(
            "the response pane shows no extensions.cost: {answer}"
        ));
    }
    // The result pane as a person sees it.
    let shown = client
        .find(Locator::Css(".graphiql-response"))
        .await
        .map_err(|e| e.to_string())?
        .text()
        .await
        .map_err(|e| e.to_string())?;
    if !shown.contains("Pomni Media") {
        return Err(format!("the result pane shows {shown}"));
    }

    if std::env::var_os("BIZGRAPH_SCREENSHOT").is_some_and(|v| v == "1") {
        let png = client.screenshot().await.map_err(|e| e.to_string())?;
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/graphiql.png");
        std::fs::write(path, png).map_err(|e| format!("{path}: {e}"))?;
        println!("saved {path}");
    }

    // Every file the page loaded came from the gateway, and the page's policy refused nothing.
    let resources = client
        .execute(
            "return [location.href].concat(
                 performance.getEntriesByType('resource').map(entry => entry.name));",
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;
    let resources: Vec<String> = serde_json::from_value(resources).map_err(|e| e.to_string())?;
    if let Some(outside) = resources
        .iter()
        .find(|url| !url.starts_with(&format!("{origin}/")))
    {
        return Err(format!(
            "a request left the gateway: {outside} ({resources:?})"
        ));
    }
    for file in [
        "graphiql.min.js",
        "react-dom.production.min.js",
        "favicon.svg",
    ] {
        if !resources.iter().any(|url| url.contains(file)) {
            return Err(format!("{file} was not loaded: {resources:?}"));
        }
    }
    let violations = client
        .execute("return window.bizgraphCspViolations;", vec![])
        .await
        .map_err(|e| e.to_string())?;
    if violations != json!([]) {
        return Err(format!("Content-Security-Policy violations: {violations}"));
    }

    subscribe_in_graphiql(client, app).await?;
    read_the_docs(client).await?;
    open_the_settings(client).await?;
    let violations = client
        .execute("return window.bizgraphCspViolations;", vec![])
        .await
        .map_err(|e| e.to_string())?;
    if violations != json!([]) {
        return Err(format!("Content-Security-Policy violations: {violations}"));
    }
    Ok(())
}

/// GraphiQL's settings dialog opens (its dialogs add a style element of their own).
async fn open_the_settings(client: &Client) -> Result<(), String> {
    client
        .find(Locator::Css("button[aria-label='Open settings dialog']"))
        .await
        .map_err(|e| format!("the settings button: {e}"))?
        .click()
        .await
        .map_err(|e| e.to_string())?;
    wait_for(
        client,
        "the settings dialog",
        "const dialog = document.querySelector('[role=dialog]');
         return dialog && dialog.textContent.includes('Theme');",
    )
    .await?;
    Ok(())
}

/// The docs explorer shows the schema's descriptions (the `///` comments on the resolvers).
async fn read_the_docs(client: &Client) -> Result<(), String> {
    client
        .find(Locator::Css(
            "button[aria-label='Show Documentation Explorer']",
        ))
        .await
        .map_err(|e| format!("the docs button: {e}"))?
        .click()
        .await
        .map_err(|e| e.to_string())?;
    wait_for(
        client,
        "the docs explorer's link to Query",
        "const link = Array.from(document.querySelectorAll('.graphiql-doc-explorer a'))
             .find(a => a.textContent === 'Query');
         if (link) { link.click(); }
         return !!link;",
    )
    .await?;
    wait_for(
        client,
        "the description of Query.viewer",
        "const docs = document.querySelector('.graphiql-doc-explorer');
         return docs && docs.textContent.includes('The user the access token belongs to');",
    )
    .await?;
    Ok(())
}

/// A subscription run with the run button travels over graphql-ws on `/graphql` with the
/// headers editor's token; a webhook event then shows in the response pane.
async fn subscribe_in_graphiql(client: &Client, app: &TestApp) -> Result<(), String> {
    client
        .execute(
            "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror
                 .setValue('subscription Migrations { migrationEvents { userId } }');",
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;
    // GraphiQL parses the editor's text a moment later; the tab's title then names the
    // operation, and the run button sends it as a subscription.
    wait_for(
        client,
        "GraphiQL to read the subscription",
        "const tab = document.querySelector('.graphiql-tab-active');
         return tab && tab.textContent.includes('Migrations');",
    )
    .await?;
    client
        .find(Locator::Css(".graphiql-execute-button"))
        .await
        .map_err(|e| e.to_string())?
        .click()
        .await
        .map_err(|e| e.to_string())?;
    // Meta's deliveries, each with a new expiry (the gateway takes each delivery once), until
    // one reaches the subscription the browser opened.
    let deadline = Instant::now() + PATIENCE;
    let mut second = 0;
    loop {
        second += 1;
        let body = json!({"object": "managed_meta_account", "entry": [{"id": "910009",
            "time": 1_780_000_000, "changes": [{"field": "migration_expire_time",
            "value": {"user_id": "100002",
                      "migration_expire_time": format!("2027-01-01T10:{:02}:{:02}Z", second / 60 % 60, second % 60)}}]}]})
        .to_string();
        let delivered = app
            .http
            .post(format!("{}/webhooks/meta", app.gateway))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", sign(APP_SECRET, body.as_bytes()))
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !delivered.status().is_success() {
            return Err(format!("the webhook was refused: {}", delivered.status()));
        }
        let text = client
            .execute(&format!("{RESPONSE_TEXT} return text;"), vec![])
            .await
            .map_err(|e| e.to_string())?;
        if text.as_str().unwrap_or("").contains("\"100002\"") {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("no event reached GraphiQL's subscription: {text}"));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn graphiql_answers_the_viewer_query_in_chromium_with_no_request_leaving_loopback() {
    let chromium = find_program(
        "CHROME_BIN",
        &["chromium", "chromium-browser", "google-chrome"],
    );
    let chromedriver = find_program("CHROMEDRIVER", &["chromedriver"]);
    let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
        // `.ci/run` sets this once it has installed them: there, a skip would hide a failure.
        assert!(
            std::env::var_os("BIZGRAPH_BROWSER_TEST").is_none_or(|v| v != "required"),
            "BIZGRAPH_BROWSER_TEST=required but chromium or chromedriver is not on PATH"
        );
        println!(
            "skipped: chromium or chromedriver is not on PATH \
             (apt-get install chromium chromium-driver)"
        );
        return;
    };
    let started = Instant::now();
    let app = spawn_app_with_webhooks(|settings| {
        settings.server.graphiql_demo_token = Some("demo-admin".to_owned());
    })
    .await;
    subscribe_sandbox(&app).await;
    let driver = ChromeDriver::start(&chromedriver).await;
    let client = open_browser(&driver, &chromium).await;
    let outcome = run_in_graphiql(&client, &app).await;
    let page = if outcome.is_err() {
        client.source().await.unwrap_or_default()
    } else {
        String::new()
    };
    let _ = client.close().await;
    drop(driver);
    if let Err(failure) = outcome {
        panic!("{failure}\n\nthe page:\n{page}");
    }
    println!("the browser test took {:?}", started.elapsed());
}
