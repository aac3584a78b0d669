//! `bizgraph bench`: runs the gateway against an in-process sandbox on loopback and measures
//! upstream calls per query, throughput and latency for a few query shapes.

use std::time::{Duration, Instant};

use graph_sandbox::SandboxSettings;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::config::{BenchArgs, Settings};
use crate::server::Application;

/// The query the README opens with.
const NESTED_VIEWER: &str =
    "{ viewer { businesses(first: 10) { nodes { name vertical primaryPage { name } } } } }";

/// Why the benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A server could not start.
    #[error("cannot start the benchmark's servers: {0}")]
    Start(String),
    /// A request failed outright.
    #[error("a benchmark request failed: {0}")]
    Request(String),
}

/// The figures of one scenario.
#[derive(Debug, Clone)]
pub struct ScenarioReport {
    /// What was measured.
    pub name: String,
    /// GraphQL requests sent.
    pub requests: usize,
    /// Requests whose answer had errors.
    pub errors: usize,
    /// Graph API requests the sandbox served, per GraphQL request.
    pub upstream_per_request: f64,
    /// GraphQL requests answered per second.
    pub throughput: f64,
    /// Median latency.
    pub p50: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
}

struct Rig {
    gateway: String,
    sandbox: String,
    http: reqwest::Client,
    /// Kept so the sandbox is owned for as long as the rig is used.
    _running: graph_sandbox::RunningSandbox,
}

async fn rig(cache_ttl: Duration) -> Result<Rig, BenchError> {
    let start = |e: std::io::Error| BenchError::Start(e.to_string());
    let listener = TcpListener::bind("127.0.0.1:0").await.map_err(start)?;
    // The benchmark would otherwise hit the sandbox's own rate limits.
    let sandbox = graph_sandbox::spawn(
        listener,
        SandboxSettings {
            app_calls_per_hour: u32::MAX,
            business_calls_per_hour: u32::MAX,
            ..SandboxSettings::default()
        },
    )
    .await
    .map_err(start)?;
    let mut settings = Settings::for_upstream(sandbox.url());
    settings.cache.ttl = cache_ttl;
    let app = Application::build(settings)
        .await
        .map_err(|e| BenchError::Start(e.to_string()))?;
    let gateway = format!("http://{}/graphql", app.addr());
    app.spawn();
    Ok(Rig {
        gateway,
        sandbox: sandbox.url(),
        http: reqwest::Client::new(),
        _running: sandbox,
    })
}

/// Sends a request and reads its JSON answer.
async fn send_json(request: reqwest::RequestBuilder) -> Result<Value, BenchError> {
    let failed = |e: reqwest::Error| BenchError::Request(e.without_url().to_string());
    request
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(failed)?
        .json()
        .await
        .map_err(failed)
}

impl Rig {
    async fn upstream_requests(&self) -> Result<u64, BenchError> {
        let stats = send_json(self.http.get(format!("{}/__sandbox/stats", self.sandbox))).await?;
        Ok(stats["requests"].as_u64().unwrap_or(0))
    }

    async fn query(&self, body: &Value) -> Result<(Duration, bool), BenchError> {
        let started = Instant::now();
        let request = self
            .http
            .post(&self.gateway)
            .bearer_auth(graph_sandbox::demo::ADMIN_TOKEN)
            .json(body);
        let answer = send_json(request).await?;
        Ok((started.elapsed(), answer.get("errors").is_some()))
    }

    async fn scenario(
        &self,
        name: &str,
        body: Value,
        requests: usize,
        concurrency: usize,
    ) -> Result<ScenarioReport, BenchError> {
        // One request first, so a warm-cache scenario measures warm answers only.
        self.query(&body).await?;
        let before = self.upstream_requests().await?;
        let started = Instant::now();
        let workers = concurrency.clamp(1, requests.max(1));
        let runs = (0..workers).map(|worker| {
            let body = &body;
            // Spread the requests so that exactly `requests` are sent.
            let per_worker = requests / workers + usize::from(worker < requests % workers);
            async move {
                let mut samples = Vec::with_capacity(per_worker);
                for _ in 0..per_worker {
                    samples.push(self.query(body).await?);
                }
                Ok::<_, BenchError>(samples)
            }
        });
        let mut samples: Vec<(Duration, bool)> = futures_util::future::try_join_all(runs)
            .await?
            .into_iter()
            .flatten()
            .collect();
        let elapsed = started.elapsed();
        let upstream = self.upstream_requests().await? - before;
        samples.sort_by_key(|(latency, _)| *latency);
        let sent = samples.len();
        let percentile = |p: f64| {
            let index = ((sent as f64 * p).ceil() as usize).clamp(1, sent.max(1)) - 1;
            samples
                .get(index)
                .map_or(Duration::ZERO, |(latency, _)| *latency)
        };
        Ok(ScenarioReport {
            name: name.to_owned(),
            requests: sent,
            errors: samples.iter().filter(|(_, failed)| *failed).count(),
            upstream_per_request: upstream as f64 / sent.max(1) as f64,
            throughput: sent as f64 / elapsed.as_secs_f64().max(f64::EPSILON),
            p50: percentile(0.50),
            p99: percentile(0.99),
        })
    }
}

/// Runs every scenario and returns its figures.
pub async fn run(args: &BenchArgs) -> Result<Vec<ScenarioReport>, BenchError> {
    let requests = args.requests.max(1);
    let concurrency = args.concurrency.max(1);
    let cold = rig(Duration::ZERO).await?;
    let warm = rig(Duration::from_secs(300)).await?;

    let mut ids = Vec::new();
    for i in 0..60 {
        let request = cold
            .http
            .post(format!("{}/__sandbox/businesses", cold.sandbox))
            .json(&json!({"name": format!("Bench business {i}"), "admins": [graph_sandbox::demo::ADMIN_USER_ID]}));
        let created = send_json(request).await?;
        if let Some(id) = created["id"].as_str() {
            ids.push(id.to_owned());
        }
    }
    let nested = json!({"query": NESTED_VIEWER});
    let by_ids = json!({
        "query": "query($ids: [ID!]!) { businesses(ids: $ids) { id name vertical } }",
        "variables": {"ids": ids},
    });
    Ok(vec![
        cold.scenario(
            "nested viewer query, no cache",
            nested.clone(),
            requests,
            concurrency,
        )
        .await?,
        warm.scenario(
            "nested viewer query, warm cache",
            nested,
            requests,
            concurrency,
        )
        .await?,
        cold.scenario(
            "businesses(ids:) with 60 ids, no cache",
            by_ids,
            requests,
            concurrency,
        )
        .await?,
    ])
}

/// The figures as a table.
pub fn render(reports: &[ScenarioReport], args: &BenchArgs) -> String {
    let mut out = format!(
        "bizgraph bench: {} requests per scenario, {} at a time, gateway and sandbox in this process on loopback\n\n",
        args.requests, args.concurrency
    );
    out.push_str(&format!(
        "{:<42} {:>8} {:>7} {:>14} {:>10} {:>9} {:>9}\n",
        "scenario", "requests", "errors", "upstream/query", "queries/s", "p50 ms", "p99 ms"
    ));
    for r in reports {
        out.push_str(&format!(
            "{:<42} {:>8} {:>7} {:>14.2} {:>10.0} {:>9.2} {:>9.2}\n",
            r.name,
            r.requests,
            r.errors,
            r.upstream_per_request,
            r.throughput,
            r.p50.as_secs_f64() * 1000.0,
            r.p99.as_secs_f64() * 1000.0
        ));
    }
    if let Some(rss) = resident_memory_kib() {
        out.push_str(&format!(
            "\nresident memory at the end: {} MiB\n",
            rss / 1024
        ));
    }
    out
}

/// This process's resident memory, where the platform tells it (Linux).
fn resident_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}
