//! `bizgraph bench`: runs the gateway against an in-process sandbox on loopback, beside an
//! expert client that sends the same reads straight to the sandbox, and measures throughput,
//! latency, upstream calls, CPU and memory per operation for each workload.
//!
//! Every workload runs in three arms at the same concurrency, one after the other: the direct
//! client (the Graph calls an expert would write by hand), the gateway without cache, and the
//! gateway with its default cache, warmed. The direct arm is the yardstick: the report gives
//! each gateway row's throughput as a ratio to it, and subtracts its CPU per operation (the
//! sandbox answering and the client asking) from the gateway rows' to estimate the gateway's
//! own. The gateways and the sandbox also run on tokio runtimes of their own, whose threads
//! are named, so their CPU is read directly as well; the client runs on the caller's runtime.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::future::try_join_all;
use graph_sandbox::SandboxSettings;
use graph_sandbox::demo::{ADMIN_TOKEN, ADMIN_USER_ID, POMNI_BUSINESS_ID};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::runtime::{Handle, Runtime};

use crate::config::{BenchArgs, Settings, UpstreamSettings};
use crate::server::Application;

mod process;
mod render;

pub use render::render;

/// W1's GraphQL query: the one the README opens with.
const VIEWER_QUERY: &str =
    "{ viewer { businesses(first: 10) { nodes { name vertical primaryPage { name } } } } }";

/// W1's direct read: the same data in one Graph call with field expansion.
const VIEWER_FIELDS: &str = "id,businesses.limit(10){id,name,vertical,primary_page{id,name}}";

/// W2's GraphQL query.
const BY_IDS_QUERY: &str = "query($ids: [ID!]!) { businesses(ids: $ids) { id name vertical } }";

/// W2's direct reads ask for these fields.
const BY_IDS_FIELDS: &str = "id,name,vertical";

/// Businesses W2 reads by id.
const BY_IDS_COUNT: usize = 60;

/// The most ids Graph takes in one `?ids=` read.
const MAX_IDS_PER_READ: usize = 50;

/// The finance role W3's money dashboard needs: the demo admin has none until it is granted.
const FINANCE_ROLE: &str = "FINANCE_ANALYST";

/// One domain's dashboard, as W3 sends it: the GraphQL query a frontend would write, and the
/// Graph reads an expert client would send straight to Graph for the same data: the reads the
/// gateway itself sends for the query, as the sandbox's journal shows them.
#[derive(Debug, Clone, Copy)]
pub struct Dashboard {
    /// The domain, e.g. `team`.
    pub name: &'static str,
    /// The GraphQL query.
    pub query: &'static str,
    /// The direct client's Graph reads, each a path under the Graph version with its query
    /// string (no token: it goes in the Authorization header), sent at once.
    pub reads: &'static [&'static str],
}

/// W3's dashboards, one per domain, sent in rotation: operation i sends dashboard i mod 4.
pub const DASHBOARDS: [Dashboard; 4] = [
    Dashboard {
        name: "team",
        query: "{ business(id: \"200001\") { name people(first: 20) { nodes { displayName role \
                status persona { email } } } viewerPersona { name } } }",
        reads: &[TEAM_READ],
    },
    Dashboard {
        name: "projects",
        query: "{ business(id: \"200001\") { projects(first: 10) { nodes { name \
                pages(first: 5) { nodes { name } } adAccounts(first: 5) { nodes { name } } \
                apps(first: 5) { nodes { name } } } } } }",
        reads: &[PROJECTS_READ],
    },
    Dashboard {
        name: "money",
        query: "{ business(id: \"200001\") { invoices(startDate: \"2025-01-01\", \
                endDate: \"2025-06-30\", first: 10) { nodes { invoiceId billingPeriod \
                billedAmount { total { amount currency } } campaigns { campaignName } } } \
                creditCards { last4 } extendedCredits { creditAvailable { amount } } } }",
        reads: &[MONEY_READ],
    },
    Dashboard {
        name: "migration",
        query: "{ business(id: \"200001\") { userAccessExpireTime migrationReadiness { \
                expiringCount lostCount earliestExpiry viewerIsSystemUser } } }",
        reads: &MIGRATION_READS,
    },
];

/// The team dashboard's read: the people with their personas, and the viewer's own persona.
const TEAM_READ: &str = "200001?fields=id,name,\
    userpermissions.limit(20){id,business_persona{id,name,email},email,role,status},\
    business_persona.limit(1){id,name}";

/// The projects dashboard's read: the projects with their first assets of each kind.
const PROJECTS_READ: &str = "200001?fields=id,businessprojects.limit(10){id,name,\
    pages.limit(5){id,name},adaccounts.limit(5){id,name},apps.limit(5){id,name}}";

/// The money dashboard's read: the invoices (Graph's end date is exclusive, the query's
/// inclusive), the credit cards and the credit lines side by side.
const MONEY_READ: &str = "200001?fields=id,\
    business_invoices.start_date(2025-01-01).end_date(2025-07-01).limit(10){id,invoice_id,\
    billing_period,billed_amount_details{currency,net_amount,tax_amount,total_amount},\
    campaigns{campaign_id,campaign_name}},\
    creditcards.limit(100){id,last4},extendedcredits.limit(100){id,credit_available}";

/// The migration dashboard's reads: who the token is, and the business with its assets'
/// expiry and its people (which also holds the business's own `user_access_expire_time`).
const MIGRATION_READS: [&str; 2] = [
    "me?fields=id",
    "200001?fields=id,user_access_expire_time,name,\
    owned_pages.limit(100).as(readiness_pages){id,name,user_access_expire_time},\
    owned_ad_accounts.limit(100).as(readiness_ad_accounts){id,name,user_access_expire_time},\
    system_users.limit(100).as(readiness_system_users){id},\
    userpermissions.limit(100).as(readiness_people){id,email,user{id,name},business_persona{id,name}}",
];

/// Numbers each rig, so that two runs in one process (tests run in parallel) name their
/// threads apart and neither counts the other's CPU.
static RIGS_STARTED: AtomicUsize = AtomicUsize::new(0);

/// The names of one rig's runtime threads, so their CPU time can be read apart. Linux keeps 15
/// bytes of a thread's name, hence the short prefixes.
#[derive(Debug, Clone)]
struct ThreadNames {
    gateway: String,
    sandbox: String,
}

impl ThreadNames {
    fn new() -> ThreadNames {
        let rig = RIGS_STARTED.fetch_add(1, Ordering::Relaxed);
        ThreadNames {
            gateway: format!("bench-gw-{rig}"),
            sandbox: format!("bench-sbx-{rig}"),
        }
    }
}

/// Why the benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A server could not start.
    #[error("cannot start the benchmark's servers: {0}")]
    Start(String),
    /// A request failed outright.
    #[error("a benchmark request failed: {0}")]
    Request(String),
    /// The sandbox did not set up what the benchmark asked of it.
    #[error("the sandbox did not set up the benchmark: {0}")]
    Setup(String),
}

/// What a workload asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Workload {
    /// The README's viewer query: the viewer's first 10 businesses with their primary page.
    W1,
    /// `businesses(ids:)` with 60 ids.
    W2,
    /// Every domain's dashboard query ([`DASHBOARDS`]), in rotation.
    W3,
}

/// Who sends the workload's reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Arm {
    /// An expert client calling the sandbox's Graph API directly, no gateway in between.
    Direct,
    /// The gateway with its cache off.
    GatewayUncached,
    /// The gateway with its default cache, warmed before the measurement.
    GatewayWarm,
}

/// The whole run: its parameters and one row per workload and arm.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// Operations measured per row.
    pub requests: usize,
    /// Operations in flight at once, in every arm.
    pub concurrency: usize,
    /// The delay the sandbox added before each Graph answer.
    pub upstream_latency_ms: u64,
    /// Whether each row's peak memory is its own (the peak was reset before it) rather than
    /// the process's since it started.
    pub peak_rss_per_row: bool,
    /// The rows, by workload, direct arm first.
    pub scenarios: Vec<ScenarioReport>,
    /// W3's dashboards one by one, each sent once per arm before the rows are measured and
    /// without the upstream latency.
    pub dashboards: Vec<DashboardReport>,
}

/// What one of W3's dashboards costs, sent alone.
#[derive(Debug, Clone, Serialize)]
pub struct DashboardReport {
    /// The dashboard's domain.
    pub name: &'static str,
    /// The direct client's Graph reads.
    pub direct_reads: &'static [&'static str],
    /// Graph requests the sandbox served for the query through the gateway without cache.
    pub upstream_calls_uncached: u64,
    /// Graph requests the sandbox served for the query through the gateway with its cache,
    /// sent a second time (the first fills the cache).
    pub upstream_calls_warm: u64,
    /// Answers that held errors, of the four sends: direct, uncached, warm (filling) and warm
    /// again.
    pub errors: usize,
}

/// The figures of one workload in one arm.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    /// What was measured, e.g. `W1 gateway, warm cache`.
    pub name: String,
    /// The workload.
    pub workload: Workload,
    /// Who sent it.
    pub arm: Arm,
    /// Operations sent.
    pub requests: usize,
    /// Operations whose answer held errors.
    pub errors: usize,
    /// Operations answered per second.
    pub queries_per_second: f64,
    /// This row's throughput ÷ the direct arm's for the same workload; `None` on the direct row.
    pub throughput_vs_direct: Option<f64>,
    /// Median latency of an operation, in milliseconds.
    pub p50_ms: f64,
    /// 99th percentile latency, in milliseconds.
    pub p99_ms: f64,
    /// Graph API requests the sandbox served, per operation.
    pub upstream_calls_per_op: f64,
    /// The whole process's CPU time per operation (gateway, sandbox and bench client), in
    /// milliseconds; `None` where `/proc` does not tell it.
    pub process_cpu_ms_per_op: Option<f64>,
    /// The gateway's own CPU per operation: its runtime's threads' CPU time. `None` on the
    /// direct row, which does not use the gateway.
    pub gateway_cpu_ms_per_op: Option<f64>,
    /// The sandbox's CPU per operation: its runtime's threads' CPU time.
    pub sandbox_cpu_ms_per_op: Option<f64>,
    /// This row's process CPU per operation minus the direct row's, the gateway's share as
    /// estimated without reading threads apart. The direct row's figure is the sandbox
    /// answering and the client asking, so for rows that call the sandbox less (warm ones) it
    /// subtracts too much. `None` on the direct row.
    pub process_cpu_minus_direct_ms_per_op: Option<f64>,
    /// The process's peak resident memory during the row, in MiB.
    pub peak_rss_mib: Option<f64>,
}

/// One sandbox, two gateways in front of it (cache off, default cache), and the client that
/// sends every arm's requests.
struct Rig {
    sandbox: String,
    uncached_gateway: String,
    warm_gateway: String,
    http: reqwest::Client,
    threads: ThreadNames,
    /// Kept so the sandbox serves for as long as the rig is used.
    _running: graph_sandbox::RunningSandbox,
    /// Dropped last: the servers run on them.
    _runtimes: Runtimes,
}

/// The runtimes the gateways and the sandbox run on, apart from the client's.
struct Runtimes {
    gateway: Option<Runtime>,
    sandbox: Option<Runtime>,
}

impl Drop for Runtimes {
    fn drop(&mut self) {
        // Dropping a runtime inside another runtime's task panics, because it would block;
        // shutting it down in the background does not.
        for runtime in [self.gateway.take(), self.sandbox.take()]
            .into_iter()
            .flatten()
        {
            runtime.shutdown_background();
        }
    }
}

/// A runtime from `builder` (the gateway's or the sandbox's own, as `bizgraph serve` and
/// `bizgraph sandbox` run them), its threads named `name`.
fn named_runtime(mut builder: tokio::runtime::Builder, name: &str) -> Result<Runtime, BenchError> {
    builder
        .thread_name(name)
        .build()
        .map_err(|e| BenchError::Start(e.to_string()))
}

/// Runs `task` on the runtime of `handle` and waits for it.
async fn on_runtime<T: Send + 'static>(
    handle: &Handle,
    task: impl Future<Output = Result<T, BenchError>> + Send + 'static,
) -> Result<T, BenchError> {
    handle
        .spawn(task)
        .await
        .map_err(|e| BenchError::Start(e.to_string()))?
}

/// What one measured row gathered, before it is compared with its direct row.
struct Measured {
    latencies: Vec<Duration>,
    errors: usize,
    elapsed: Duration,
    upstream_calls: u64,
    cpu: Option<Duration>,
    gateway_cpu: Option<Duration>,
    sandbox_cpu: Option<Duration>,
    peak_rss_kib: Option<u64>,
}

/// CPU time readings taken before and after a row.
#[derive(Clone, Copy)]
struct CpuReading {
    process: Option<Duration>,
    gateway: Option<Duration>,
    sandbox: Option<Duration>,
}

impl CpuReading {
    fn now(threads: &ThreadNames) -> CpuReading {
        CpuReading {
            process: process::cpu_time(),
            gateway: process::named_threads_cpu_time(&threads.gateway),
            sandbox: process::named_threads_cpu_time(&threads.sandbox),
        }
    }
}

/// The time used between two readings; none where either is missing.
fn used(before: Option<Duration>, after: Option<Duration>) -> Option<Duration> {
    before
        .zip(after)
        .map(|(before, after)| after.saturating_sub(before))
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
    async fn start() -> Result<Rig, BenchError> {
        let threads = ThreadNames::new();
        let gateway_runtime = named_runtime(crate::gateway_runtime_builder(), &threads.gateway)?;
        let sandbox_runtime = named_runtime(crate::runtime_builder(), &threads.sandbox)?;
        let gateway_handle = gateway_runtime.handle().clone();
        let sandbox_handle = sandbox_runtime.handle().clone();
        let runtimes = Runtimes {
            gateway: Some(gateway_runtime),
            sandbox: Some(sandbox_runtime),
        };
        // The listener is bound on the sandbox's runtime so that its connections are served
        // by that runtime's threads.
        let sandbox = on_runtime(&sandbox_handle, async {
            let start = |e: std::io::Error| BenchError::Start(e.to_string());
            let listener = TcpListener::bind("127.0.0.1:0").await.map_err(start)?;
            // The benchmark would otherwise hit the sandbox's own rate limits.
            let settings = SandboxSettings {
                app_calls_per_hour: u32::MAX,
                business_calls_per_hour: u32::MAX,
                ..SandboxSettings::default()
            };
            graph_sandbox::spawn(listener, settings)
                .await
                .map_err(start)
        })
        .await?;
        let mut uncached = Settings::for_upstream(sandbox.url());
        uncached.cache.ttl = Duration::ZERO;
        let uncached_gateway = Self::gateway(&gateway_handle, uncached).await?;
        let warm = Settings::for_upstream(sandbox.url());
        let warm_gateway = Self::gateway(&gateway_handle, warm).await?;
        Ok(Rig {
            sandbox: sandbox.url(),
            uncached_gateway,
            warm_gateway,
            http: reqwest::Client::new(),
            threads,
            _running: sandbox,
            _runtimes: runtimes,
        })
    }

    /// Starts a gateway on the gateways' runtime (its listener, its upstream client and its
    /// connections all live there) and returns its GraphQL URL.
    async fn gateway(runtime: &Handle, settings: Settings) -> Result<String, BenchError> {
        on_runtime(runtime, async {
            let app = Application::build(settings)
                .await
                .map_err(|e| BenchError::Start(e.to_string()))?;
            let url = format!("http://{}/graphql", app.addr());
            app.spawn();
            Ok(url)
        })
        .await
    }

    async fn control(&self, path: &str, body: &Value) -> Result<Value, BenchError> {
        send_json(
            self.http
                .post(format!("{}/__sandbox/{path}", self.sandbox))
                .json(body),
        )
        .await
    }

    /// Graph API requests the sandbox has served so far.
    async fn upstream_calls(&self) -> Result<u64, BenchError> {
        let stats = send_json(self.http.get(format!("{}/__sandbox/stats", self.sandbox))).await?;
        stats["requests"]
            .as_u64()
            .ok_or_else(|| BenchError::Setup("its stats hold no request count".to_owned()))
    }

    /// Adds the businesses W2 reads, with the demo admin as their admin.
    async fn add_businesses(&self) -> Result<Vec<String>, BenchError> {
        let mut ids = Vec::with_capacity(BY_IDS_COUNT);
        for i in 0..BY_IDS_COUNT {
            let body = json!({"name": format!("Bench business {i}"), "admins": [ADMIN_USER_ID]});
            let created = self.control("businesses", &body).await?;
            let id = created["id"]
                .as_str()
                .ok_or_else(|| BenchError::Setup(format!("no id for a new business: {created}")))?;
            ids.push(id.to_owned());
        }
        Ok(ids)
    }

    /// Gives the demo admin the finance role W3's money dashboard needs to read invoices,
    /// through the sandbox's Graph API as an admin of the business would.
    async fn grant_finance_role(&self, graph: &str) -> Result<(), BenchError> {
        let request = self
            .http
            .post(format!("{graph}/{POMNI_BUSINESS_ID}/finance_permissions"))
            .bearer_auth(ADMIN_TOKEN)
            .form(&[
                ("user", ADMIN_USER_ID),
                ("finance_permission", FINANCE_ROLE),
            ]);
        let answer = send_json(request).await?;
        match answer.get("error") {
            Some(error) => Err(BenchError::Setup(format!(
                "granting {FINANCE_ROLE} to user {ADMIN_USER_ID}: {error}"
            ))),
            None => Ok(()),
        }
    }

    /// Sends one operation and counts the Graph calls it cost; whether its answer held errors.
    async fn counted<Fut>(&self, operation: Fut) -> Result<(u64, bool), BenchError>
    where
        Fut: Future<Output = Result<bool, BenchError>>,
    {
        let before = self.upstream_calls().await?;
        let failed = operation.await?;
        let calls = self.upstream_calls().await?.saturating_sub(before);
        Ok((calls, failed))
    }

    /// Sends each dashboard alone, directly, through the uncached gateway and twice through
    /// the warm one, and counts its Graph calls.
    async fn probe_dashboards(
        &self,
        bodies: &[Value],
        reads: &[Vec<String>],
    ) -> Result<Vec<DashboardReport>, BenchError> {
        let mut reports = Vec::with_capacity(DASHBOARDS.len());
        for ((dashboard, body), reads) in DASHBOARDS.iter().zip(bodies).zip(reads) {
            let (_, direct_failed) = self.counted(self.direct(reads)).await?;
            let (uncached, uncached_failed) = self
                .counted(self.through_gateway(&self.uncached_gateway, body))
                .await?;
            let (_, filling_failed) = self
                .counted(self.through_gateway(&self.warm_gateway, body))
                .await?;
            let (warm, warm_failed) = self
                .counted(self.through_gateway(&self.warm_gateway, body))
                .await?;
            reports.push(DashboardReport {
                name: dashboard.name,
                direct_reads: dashboard.reads,
                upstream_calls_uncached: uncached,
                upstream_calls_warm: warm,
                errors: [direct_failed, uncached_failed, filling_failed, warm_failed]
                    .into_iter()
                    .filter(|failed| *failed)
                    .count(),
            });
        }
        Ok(reports)
    }

    /// Makes the sandbox wait `latency_ms` before answering each Graph call from now on,
    /// through its fault injection (a latency-only fault armed for as many calls as it counts).
    async fn delay_answers(&self, latency_ms: u64) -> Result<(), BenchError> {
        if latency_ms > 0 {
            let body = json!({"latency_ms": latency_ms, "times": u32::MAX});
            self.control("faults", &body).await?;
        }
        Ok(())
    }

    /// One GraphQL operation through a gateway; whether its answer held errors.
    async fn through_gateway(&self, gateway: &str, body: &Value) -> Result<bool, BenchError> {
        let request = self.http.post(gateway).bearer_auth(ADMIN_TOKEN).json(body);
        Ok(send_json(request).await?.get("errors").is_some())
    }

    /// One direct operation: its Graph reads at once, as an expert client would send them;
    /// whether any answer held an error.
    async fn direct(&self, reads: &[String]) -> Result<bool, BenchError> {
        let answers = try_join_all(reads.iter().map(|url| {
            // The token goes in the Authorization header, never in a URL.
            send_json(self.http.get(url).bearer_auth(ADMIN_TOKEN))
        }))
        .await?;
        Ok(answers.iter().any(|answer| answer.get("error").is_some()))
    }

    /// Runs `requests` operations, `concurrency` at a time, and gathers the row's figures;
    /// `operation(i)` sends the i-th. A first round of `concurrency` operations, and at least
    /// one of each of the workload's `kinds` (operation i is of kind i mod `kinds`), is not
    /// measured: it opens every worker's connections and fills a warm cache. The measured
    /// operations are numbered from 0 again.
    async fn measure<F, Fut>(
        &self,
        requests: usize,
        concurrency: usize,
        kinds: usize,
        operation: F,
    ) -> Result<Measured, BenchError>
    where
        F: Fn(usize) -> Fut,
        Fut: Future<Output = Result<bool, BenchError>>,
    {
        let workers = concurrency.clamp(1, requests.max(1));
        try_join_all((0..workers.max(kinds)).map(&operation)).await?;
        let next = AtomicUsize::new(0);
        let calls_before = self.upstream_calls().await?;
        process::reset_peak_memory();
        let cpu_before = CpuReading::now(&self.threads);
        let started = Instant::now();
        // Each worker takes the next operation when it is free, until `requests` have been
        // taken: where operations differ in cost (W3's dashboards), a worker that drew slow
        // ones does fewer, rather than every worker doing its fixed share while the others
        // wait idle at the end.
        let runs = (0..workers).map(|_| {
            let operation = &operation;
            let next = &next;
            async move {
                let mut samples = Vec::with_capacity(requests / workers + 1);
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= requests {
                        break;
                    }
                    let sent = Instant::now();
                    let failed = operation(index).await?;
                    samples.push((sent.elapsed(), failed));
                }
                Ok::<_, BenchError>(samples)
            }
        });
        let samples: Vec<(Duration, bool)> =
            try_join_all(runs).await?.into_iter().flatten().collect();
        let elapsed = started.elapsed();
        let cpu_after = CpuReading::now(&self.threads);
        let peak_rss_kib = process::peak_memory_kib();
        let upstream_calls = self.upstream_calls().await?.saturating_sub(calls_before);
        let mut latencies: Vec<Duration> = samples.iter().map(|(latency, _)| *latency).collect();
        latencies.sort_unstable();
        Ok(Measured {
            errors: samples.iter().filter(|(_, failed)| *failed).count(),
            latencies,
            elapsed,
            upstream_calls,
            cpu: used(cpu_before.process, cpu_after.process),
            gateway_cpu: used(cpu_before.gateway, cpu_after.gateway),
            sandbox_cpu: used(cpu_before.sandbox, cpu_after.sandbox),
            peak_rss_kib,
        })
    }
}

impl Measured {
    /// The row's figures; the comparisons with the direct row are filled in afterwards.
    fn report(self, workload: Workload, arm: Arm) -> ScenarioReport {
        let sent = self.latencies.len();
        let per_op = |total: f64| total / sent.max(1) as f64;
        let ms_per_op = |time: Duration| per_op(time.as_secs_f64() * 1000.0);
        let percentile = |p: f64| {
            let index = ((sent as f64 * p).ceil() as usize).clamp(1, sent.max(1)) - 1;
            self.latencies
                .get(index)
                .map_or(0.0, |latency| latency.as_secs_f64() * 1000.0)
        };
        let arm_name = match arm {
            Arm::Direct => "direct",
            Arm::GatewayUncached => "gateway, no cache",
            Arm::GatewayWarm => "gateway, warm cache",
        };
        ScenarioReport {
            name: format!("{workload:?} {arm_name}"),
            workload,
            arm,
            requests: sent,
            errors: self.errors,
            queries_per_second: sent as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON),
            throughput_vs_direct: None,
            p50_ms: percentile(0.50),
            p99_ms: percentile(0.99),
            upstream_calls_per_op: per_op(self.upstream_calls as f64),
            process_cpu_ms_per_op: self.cpu.map(ms_per_op),
            gateway_cpu_ms_per_op: self
                .gateway_cpu
                .filter(|_| arm != Arm::Direct)
                .map(ms_per_op),
            sandbox_cpu_ms_per_op: self.sandbox_cpu.map(ms_per_op),
            process_cpu_minus_direct_ms_per_op: None,
            peak_rss_mib: self.peak_rss_kib.map(|kib| kib as f64 / 1024.0),
        }
    }
}

/// One workload's operations, in rotation: operation i sends `bodies[i % n]` through a
/// gateway, or `reads[i % n]` directly.
struct Mix {
    workload: Workload,
    bodies: Vec<Value>,
    reads: Vec<Vec<String>>,
}

impl Mix {
    fn kinds(&self) -> usize {
        self.bodies.len()
    }

    fn body(&self, operation: usize) -> &Value {
        &self.bodies[operation % self.bodies.len()]
    }

    fn reads(&self, operation: usize) -> &[String] {
        &self.reads[operation % self.reads.len()]
    }
}

/// Runs every workload in every arm and returns the figures.
pub async fn run(args: &BenchArgs) -> Result<BenchReport, BenchError> {
    let requests = args.requests.max(1);
    let concurrency = args.concurrency.max(1);
    // Whether this platform lets each row measure its own peak, rather than the process's.
    let peak_rss_per_row = process::reset_peak_memory();
    let rig = Rig::start().await?;
    let graph = format!("{}/{}", rig.sandbox, UpstreamSettings::DEFAULT_VERSION);
    let ids = rig.add_businesses().await?;
    rig.grant_finance_role(&graph).await?;

    let viewer = Mix {
        workload: Workload::W1,
        bodies: vec![json!({"query": VIEWER_QUERY})],
        reads: vec![vec![format!("{graph}/me?fields={VIEWER_FIELDS}")]],
    };
    let by_ids = Mix {
        workload: Workload::W2,
        bodies: vec![json!({"query": BY_IDS_QUERY, "variables": {"ids": ids}})],
        reads: vec![
            ids.chunks(MAX_IDS_PER_READ)
                .map(|chunk| format!("{graph}/?ids={}&fields={BY_IDS_FIELDS}", chunk.join(",")))
                .collect(),
        ],
    };
    let dashboards = Mix {
        workload: Workload::W3,
        bodies: DASHBOARDS
            .iter()
            .map(|dashboard| json!({"query": dashboard.query}))
            .collect(),
        reads: DASHBOARDS
            .iter()
            .map(|dashboard| {
                dashboard
                    .reads
                    .iter()
                    .map(|read| format!("{graph}/{read}"))
                    .collect()
            })
            .collect(),
    };
    let dashboard_reports = rig
        .probe_dashboards(&dashboards.bodies, &dashboards.reads)
        .await?;
    rig.delay_answers(args.upstream_latency_ms).await?;

    let mut scenarios = Vec::new();
    for mix in [viewer, by_ids, dashboards] {
        let workload = mix.workload;
        let direct = rig
            .measure(requests, concurrency, mix.kinds(), |i| {
                rig.direct(mix.reads(i))
            })
            .await?
            .report(workload, Arm::Direct);
        let mut rows = vec![direct.clone()];
        for (arm, gateway) in [
            (Arm::GatewayUncached, &rig.uncached_gateway),
            (Arm::GatewayWarm, &rig.warm_gateway),
        ] {
            let mut row = rig
                .measure(requests, concurrency, mix.kinds(), |i| {
                    rig.through_gateway(gateway, mix.body(i))
                })
                .await?
                .report(workload, arm);
            row.throughput_vs_direct =
                Some(row.queries_per_second / direct.queries_per_second.max(f64::EPSILON));
            row.process_cpu_minus_direct_ms_per_op = row
                .process_cpu_ms_per_op
                .zip(direct.process_cpu_ms_per_op)
                .map(|(gateway, direct)| gateway - direct);
            rows.push(row);
        }
        scenarios.extend(rows);
    }
    Ok(BenchReport {
        requests,
        concurrency,
        upstream_latency_ms: args.upstream_latency_ms,
        peak_rss_per_row,
        scenarios,
        dashboards: dashboard_reports,
    })
}
