//! `graph-sandbox`: an in-memory, deterministic emulator of Meta's Graph API (the Business
//! Manager subset that bizgraph speaks), served with axum.
//!
//! # What is emulated
//!
//! The wire contract is `docs/graph-api.md`; this crate implements its sections 1 to 10,
//! and the control plane of `docs/sandbox-contract.md`:
//!
//! - transport: versioned (`/v21.0` to `/v26.0`) and unversioned paths, tokens in the query,
//!   the form body or an `Authorization: Bearer|OAuth` header, url-encoded, multipart and JSON
//!   bodies, and Graph's response headers (`facebook-api-version`, `x-fb-trace-id`,
//!   `x-app-usage`, `x-business-use-case-usage`);
//! - reading: a real `fields=` parser (nested expansion, `.limit()`, `.after()`, `.before()`,
//!   `.summary()`, `.as()`, any edge parameter), default fields, `?ids=` multi-reads, and cursor
//!   paging with absolute `next`/`previous` links on every list edge;
//! - batches with per-operation answers and `{result=name:$.path}` references;
//! - Graph's error envelope, codes and HTTP statuses;
//! - per-token and per-business rate limits in a rolling hour, and `appsecret_proof`;
//! - users (`me`, `is_work_account`), businesses (create, read, update, refused delete),
//!   their owned pages, ad accounts and apps;
//! - people (`userpermissions`) and business personas; projects (`businessprojects`);
//! - money: finance roles (`finance_permissions`), invoices (`business_invoices` with date
//!   ranges as parameters or modifiers), credit cards, extended credits, ad accounts created on
//!   a credit line, and DCAF's allocation on the sandbox clock (amounts in minor units,
//!   decimal strings on the wire, `money`);
//! - managed Meta account migration (§9): the app's one test managed account, the 30-day
//!   window (`user_access_expire_time`), lost access after it, extensions, and the signed
//!   `migration_expire_time` webhook with its handshake and retries (§10);
//! - under `/__sandbox/`: reset, stats and journal, test users, businesses and pages, the clock,
//!   fault injection, people (accepting invitations, suspending, verifying emails), and
//!   migration (managed accounts, migrations, extensions, grants, the webhook callback).
//!
//! # What is not
//!
//! Client assets (`client_pages`,
//! `client_ad_accounts`) are always empty. Node answers hold exactly the fields asked for:
//! unlike Graph, `id` is not added when it was not requested (docs/graph-api.md §9 expects `{}`
//! for a lone unset field).
//!
//! Everything is deterministic except trace ids and the wall-clock start of the sandbox clock.
//!
//! # Code map
//!
//! - `wire/`: Graph's protocol, with no node type in it: the normalized request (`request`),
//!   the `fields=` grammar (`fields`), cursor paging (`paging`), the error envelope (`error`),
//!   rate-limit windows and usage headers (`usage`), `appsecret_proof` (`auth`);
//! - `dispatch`: the catch-all HTTP handler and `execute`, the one dispatcher that both plain
//!   requests and batch operations go through (version, token, appsecret_proof, rate limits),
//!   and the route table (reads, and each write to the node module that does it);
//! - `batch`: batches; `answer`: the answer of a call and the JSON of nodes and list edges;
//! - `world`: the collections, clock (which runs DCAF), id counters and visibility; `seed`:
//!   the demo world; `money`: minor units, decimal strings, currencies, the even split;
//! - `migration`: managed-account migration windows; `webhook_sender`: the signed webhook,
//!   sent with retries by a spawned task, outside the world's lock;
//! - `nodes/`: one module per node type (stored struct, default fields, fields, edges,
//!   visibility, writes), and `NodeRef`, whose matches delegate to them one line per type;
//! - `control/`: the `/__sandbox/` control plane.
//!
//! Architecture Invariant: the world lives behind one `std::sync::Mutex` that is never held
//! across an await.
//!
//! Architecture Invariant: `wire/` knows no node type, and `control/` changes nodes only
//! through the functions their modules offer.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::routing::get;
use axum::serve::ListenerExt;
use chrono::{DurationRound, TimeDelta, Utc};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

mod answer;
mod batch;
mod control;
mod dispatch;
mod migration;
mod money;
mod nodes;
mod seed;
mod webhook_sender;
mod wire;
mod world;

use world::World;

/// How the emulated app behaves: its secret, and the rate limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxSettings {
    /// The emulated app's secret; a caller's appsecret_proof is checked against it.
    pub app_secret: Option<String>,
    /// Refuse calls without an appsecret_proof (needs app_secret).
    pub require_appsecret_proof: bool,
    /// Calls per token per rolling hour that make x-app-usage call_count reach 100 %; 0 means
    /// no limit (the figure stays at 0).
    pub app_calls_per_hour: u32,
    /// Calls per business per rolling hour that make x-business-use-case-usage reach 100 %; 0
    /// means no limit.
    pub business_calls_per_hour: u32,
}

impl SandboxSettings {
    /// Default of both rate limits, in calls per rolling hour.
    pub const DEFAULT_CALLS_PER_HOUR: u32 = 20_000;
}

impl Default for SandboxSettings {
    fn default() -> Self {
        SandboxSettings {
            app_secret: None,
            require_appsecret_proof: false,
            app_calls_per_hour: Self::DEFAULT_CALLS_PER_HOUR,
            business_calls_per_hour: Self::DEFAULT_CALLS_PER_HOUR,
        }
    }
}

/// The emulator: a seeded in-memory world behind a mutex.
#[derive(Clone)]
pub struct Sandbox {
    world: Arc<Mutex<World>>,
    settings: Arc<SandboxSettings>,
}

impl Sandbox {
    /// A sandbox holding the seeded demo world, its clock starting now (whole seconds).
    pub fn new(settings: SandboxSettings) -> Sandbox {
        let now = Utc::now();
        let start = now.duration_trunc(TimeDelta::seconds(1)).unwrap_or(now);
        Sandbox {
            world: Arc::new(Mutex::new(seed::seeded_world(start))),
            settings: Arc::new(settings),
        }
    }

    /// The Graph API routes plus the control plane under `/__sandbox/`.
    pub fn router(&self) -> Router {
        let graph = get(dispatch::graph_handler)
            .post(dispatch::graph_handler)
            .delete(dispatch::graph_handler);
        Router::new()
            .merge(control::routes())
            .route("/", graph.clone())
            .route("/{*path}", graph)
            .with_state(self.clone())
    }

    /// The settings the sandbox was built with.
    pub(crate) fn settings(&self) -> &SandboxSettings {
        &self.settings
    }

    /// Runs `f` on the world under its lock. A panic while the lock was held leaves plain
    /// data behind, so a poisoned lock is recovered rather than propagated.
    pub(crate) fn with_world<T>(&self, f: impl FnOnce(&mut World) -> T) -> T {
        let mut world = self.world.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut world)
    }
}

/// A sandbox served on a bound listener, in a background tokio task.
pub struct RunningSandbox {
    /// The address the sandbox listens on.
    pub addr: SocketAddr,
    server: JoinHandle<()>,
}

impl RunningSandbox {
    /// The base URL of the sandbox: `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving.
    pub fn stop(self) {
        self.server.abort();
    }
}

/// Serves a new seeded sandbox on `listener` in a background task.
pub async fn spawn(
    listener: TcpListener,
    settings: SandboxSettings,
) -> std::io::Result<RunningSandbox> {
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move {
        if let Err(error) = serve(listener, settings).await {
            tracing::error!(%error, "graph sandbox server stopped");
        }
    });
    Ok(RunningSandbox { addr, server })
}

/// Serves a new seeded sandbox on `listener` until the task is dropped or serving fails.
pub async fn serve(listener: TcpListener, settings: SandboxSettings) -> std::io::Result<()> {
    let router = Sandbox::new(settings).router();
    // Without TCP_NODELAY, Nagle's algorithm holds a response's last small write back until
    // the client acknowledges the previous one: up to 40 ms per call with a delayed ACK.
    let listener = listener.tap_io(|stream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY on an accepted connection");
        }
    });
    axum::serve(listener, router).await
}

/// The seed world's fixed tokens and ids (see `docs/sandbox-contract.md`), for docs, examples
/// and tests.
pub mod demo {
    /// Token of Alex Rivera: ADMIN of Pomni Media, EMPLOYEE of Kinger Labs.
    pub const ADMIN_TOKEN: &str = "demo-admin";
    /// Token of Sam Chen: EMPLOYEE of Pomni Media.
    pub const EMPLOYEE_TOKEN: &str = "demo-employee";
    /// Token of Pomni Sync, Pomni Media's system user (admin role).
    pub const SYSTEM_TOKEN: &str = "demo-system";
    /// The permissions every demo token has.
    pub const PERMISSIONS: [&str; 5] = super::seed::DEMO_PERMISSIONS;

    /// Alex Rivera.
    pub const ADMIN_USER_ID: &str = "100001";
    /// Sam Chen.
    pub const EMPLOYEE_USER_ID: &str = "100002";
    /// Pomni Sync, a system user.
    pub const SYSTEM_USER_ID: &str = "100003";
    /// Jordan Lee, ADMIN of Kinger Labs (no token).
    pub const KINGER_ADMIN_USER_ID: &str = "100004";

    /// Pomni Media (ENTERTAINMENT_AND_MEDIA, timezone 1, primary page 300001).
    pub const POMNI_BUSINESS_ID: &str = "200001";
    /// Kinger Labs (TECHNOLOGY, timezone 7, primary page 300003).
    pub const KINGER_BUSINESS_ID: &str = "200002";

    /// Page "Pomni Media", owned by Pomni Media; admin Alex.
    pub const POMNI_PAGE_ID: &str = "300001";
    /// Page "Pomni Media Clips", owned by Pomni Media; admins Alex and Sam.
    pub const POMNI_CLIPS_PAGE_ID: &str = "300002";
    /// Page "Kinger Labs", owned by Kinger Labs; admins Jordan and Alex (Alex hits 3918).
    pub const KINGER_PAGE_ID: &str = "300003";
    /// Page "Alex Rivera Photography": no owner, admin Alex (free for a new business).
    pub const PHOTOGRAPHY_PAGE_ID: &str = "300004";
    /// Page "Caine Circus Fans": no owner, admin Jordan only (Alex hits 3998).
    pub const CIRCUS_FANS_PAGE_ID: &str = "300005";
    /// Page "Alex Rivera Travel Notes": no owner, admin Alex.
    pub const TRAVEL_NOTES_PAGE_ID: &str = "300006";

    /// Ad account "Pomni Media - Main" (USD, active).
    pub const POMNI_MAIN_AD_ACCOUNT_ID: &str = "act_400001";
    /// Ad account "Pomni Media - Brand" (EUR, active).
    pub const POMNI_BRAND_AD_ACCOUNT_ID: &str = "act_400002";
    /// Ad account "Kinger Labs Ads" (USD, disabled).
    pub const KINGER_AD_ACCOUNT_ID: &str = "act_400003";

    /// App "Pomni Media Dashboard", owned by Pomni Media.
    pub const POMNI_APP_ID: &str = "500001";
    /// App "Kinger Labs Insights", owned by Kinger Labs.
    pub const KINGER_APP_ID: &str = "500002";

    /// Morgan Blake, SUSPENDED in Pomni Media; no token.
    pub const SUSPENDED_USER_ID: &str = "100005";
    /// The email invited to Pomni Media as EMPLOYEE, not accepted yet.
    pub const INVITED_EMAIL: &str = "riley@pomni.example";

    /// Alex's persona in Pomni Media, "Alex Rivera (Pomni)".
    pub const ADMIN_POMNI_PERSONA_ID: &str = "600001";
    /// Sam's persona in Pomni Media, "Samantha Chen".
    pub const EMPLOYEE_POMNI_PERSONA_ID: &str = "600002";
    /// Morgan's persona in Pomni Media, "Morgan Blake".
    pub const SUSPENDED_POMNI_PERSONA_ID: &str = "600003";
    /// Jordan's persona in Kinger Labs, "Jordan Lee".
    pub const KINGER_ADMIN_PERSONA_ID: &str = "600004";
    /// Alex's persona in Kinger Labs, "Alex Rivera".
    pub const ADMIN_KINGER_PERSONA_ID: &str = "600005";

    /// Alex's business user in Pomni Media (today's `business_users`; a seeded member's
    /// business user id is their `userpermissions` row's plus 10000).
    pub const ADMIN_POMNI_BUSINESS_USER_ID: &str = "710001";
    /// Sam's business user in Pomni Media.
    pub const EMPLOYEE_POMNI_BUSINESS_USER_ID: &str = "710002";
    /// Morgan's business user in Pomni Media (SUSPENDED: still listed).
    pub const SUSPENDED_POMNI_BUSINESS_USER_ID: &str = "710005";
    /// Jordan's business user in Kinger Labs.
    pub const KINGER_ADMIN_BUSINESS_USER_ID: &str = "710006";
    /// Alex's business user in Kinger Labs.
    pub const ADMIN_KINGER_BUSINESS_USER_ID: &str = "710007";
    /// The invitation of `INVITED_EMAIL` (today's `pending_users`, a `BusinessRoleRequest`;
    /// its row's id plus 20000).
    pub const INVITED_ROLE_REQUEST_ID: &str = "720004";

    /// Pomni Media's project "Brand Campaigns": page 300002 and `act_400001`.
    pub const POMNI_BRAND_PROJECT_ID: &str = "800001";
    /// Pomni Media's project "Dashboard Launch": app 500001.
    pub const POMNI_DASHBOARD_PROJECT_ID: &str = "800002";

    /// Pomni Media's first invoice (billing January 2024, dated 2024-02-01); its 34 invoices
    /// run to `910034`. Read by Pomni Sync (FINANCE_EDITOR), not by Alex until granted.
    pub const FIRST_POMNI_INVOICE_ID: &str = "910001";
    /// Kinger Labs' first invoice (billing July 2024); its 26 invoices run to `920026`.
    pub const FIRST_KINGER_INVOICE_ID: &str = "920001";
    /// Pomni Media's VISA card ending 4242, enabled.
    pub const POMNI_CREDIT_CARD_ID: &str = "930001";
    /// Pomni Media's MASTERCARD ending 5454, disabled.
    pub const POMNI_DISABLED_CREDIT_CARD_ID: &str = "930002";
    /// Kinger Labs' AMEX ending 1005, enabled.
    pub const KINGER_CREDIT_CARD_ID: &str = "930003";
    /// Pomni Media's credit line: normal liability, USD 50000.00 approved, 12345.67 owed.
    pub const POMNI_CREDIT_LINE_ID: &str = "940001";
    /// Kinger Labs' credit line: normal liability, USD 20000.00 approved, nothing owed.
    pub const KINGER_CREDIT_LINE_ID: &str = "940002";
    /// Pomni Media's sequential-liability line (USD 10000.00 approved, 2500.00 owed), which new
    /// ad accounts may not use.
    pub const POMNI_SEQUENTIAL_CREDIT_LINE_ID: &str = "940003";
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
        let entries = std::fs::read_dir(dir).expect("source directory is readable");
        for entry in entries {
            let path = entry.expect("directory entry is readable").path();
            if path.is_dir() {
                rust_files(&path, found);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                found.push(path);
            }
        }
    }

    #[test]
    fn every_source_file_opens_with_a_line_saying_what_it_is_for() {
        let mut files = Vec::new();
        rust_files(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        assert!(files.len() > 10, "found {files:?}");
        for file in files {
            let text = std::fs::read_to_string(&file).expect("source file is readable");
            assert!(
                text.starts_with("//! "),
                "{} has no //! line",
                file.display()
            );
        }
    }
}
