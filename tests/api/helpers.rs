//! `spawn_app()`: a sandbox and a gateway in front of it, and helpers to query both.

use std::time::Duration;

use bizgraph::{Application, Settings};
use graph_sandbox::{RunningSandbox, SandboxSettings};
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// A gateway and the sandbox behind it, both on loopback.
pub struct TestApp {
    pub gateway: String,
    pub sandbox: RunningSandbox,
    pub http: reqwest::Client,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(SandboxSettings::default(), |_| {}).await
}

/// A gateway with some settings changed, in front of a default sandbox.
pub async fn spawn_app_configured(configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_with(SandboxSettings::default(), configure).await
}

pub async fn spawn_app_with(
    sandbox_settings: SandboxSettings,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sandbox = graph_sandbox::spawn(listener, sandbox_settings)
        .await
        .unwrap();
    let mut settings = Settings::for_upstream(sandbox.url());
    settings.upstream_timeout = Duration::from_secs(10);
    configure(&mut settings);
    let app = Application::build(settings).await.unwrap();
    let gateway = format!("http://{}", app.addr());
    app.spawn();
    let http = reqwest::Client::new();
    wait_until_healthy(&http, &gateway).await;
    TestApp {
        gateway,
        sandbox,
        http,
    }
}

/// A gateway with some settings changed that serves until `stop` is sent; the handle ends when
/// `run_until` returns.
pub async fn spawn_app_stoppable(
    configure: impl FnOnce(&mut Settings),
) -> (
    TestApp,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sandbox = graph_sandbox::spawn(listener, SandboxSettings::default())
        .await
        .unwrap();
    let mut settings = Settings::for_upstream(sandbox.url());
    configure(&mut settings);
    let app = Application::build(settings).await.unwrap();
    let gateway = format!("http://{}", app.addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();
    wait_until_healthy(&http, &gateway).await;
    (
        TestApp {
            gateway,
            sandbox,
            http,
        },
        stop,
        running,
    )
}

/// Waits on the gateway's health endpoint rather than sleeping; gives up after about 10 s.
pub async fn wait_until_healthy(http: &reqwest::Client, gateway: &str) {
    for _ in 0..1000 {
        if let Ok(r) = http.get(format!("{gateway}/healthz")).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{gateway}/healthz did not answer within 10 seconds");
}

impl TestApp {
    /// Sends a GraphQL request with a bearer token (or none) and returns the JSON answer.
    pub async fn graphql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let body = json!({"query": query, "variables": variables});
        post_graphql(
            &self.http,
            &format!("{}/graphql", self.gateway),
            token,
            &body,
        )
        .await
    }

    /// The text the gateway serves at `path` (a page, the schema, the metrics).
    pub async fn page(&self, path: &str) -> String {
        self.http
            .get(format!("{}{path}", self.gateway))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// A query as the demo admin.
    pub async fn admin(&self, query: &str) -> Value {
        self.graphql(Some("demo-admin"), query, json!({})).await
    }

    /// The sandbox's stats: `{"requests": N, "journal": [...]}`.
    async fn upstream_stats(&self) -> Value {
        self.http
            .get(format!("{}/__sandbox/stats", self.sandbox.url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// How many Graph API requests the sandbox has served so far.
    pub async fn upstream_requests(&self) -> u64 {
        self.upstream_stats().await["requests"].as_u64().unwrap()
    }

    /// The sandbox's journal of Graph API requests.
    pub async fn upstream_journal(&self) -> Vec<Value> {
        self.upstream_stats().await["journal"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Sends a request that the gateway must refuse on its own: asserts that it made no
    /// upstream call, and returns the answer.
    pub async fn refused_before_upstream(
        &self,
        token: &str,
        query: &str,
        variables: Value,
    ) -> Value {
        let before = self.upstream_requests().await;
        let answer = self.graphql(Some(token), query, variables).await;
        assert_eq!(
            self.upstream_requests().await,
            before,
            "the gateway called Graph for a request it should refuse: {answer}"
        );
        answer
    }

    /// Calls the sandbox's control plane.
    pub async fn control(&self, path: &str, body: Value) -> Value {
        self.http
            .post(format!("{}/__sandbox/{path}", self.sandbox.url()))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// POSTs a GraphQL request to `url` with a bearer token (or none) and returns the JSON answer;
/// for gateways that `spawn_app` did not start.
pub async fn post_graphql(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    body: &Value,
) -> Value {
    let mut request = http.post(url).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap().json().await.unwrap()
}

/// The `extensions.code` of the first error, if any.
pub fn first_error_code(answer: &Value) -> Option<&str> {
    answer["errors"][0]["extensions"]["code"].as_str()
}

/// The message of the first error.
pub fn first_error_message(answer: &Value) -> &str {
    answer["errors"][0]["message"].as_str().unwrap_or("")
}
