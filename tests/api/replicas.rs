//! Several replicas of one deployment: two gateways built on one shared in-memory store and one
//! cache key secret, in front of one sandbox, behave as replicas sharing Redis would. This is
//! the contract a network store must meet: shared answers, invalidations that reach every
//! replica, and Graph's throttles held by all.

use std::time::Duration;

use bizgraph::{Application, Settings, SharedStores};
use serde_json::{Value, json};

use graph_sandbox::SandboxSettings;
use tokio::net::TcpListener;

use crate::helpers::{TestApp, first_error_code, post_graphql, wait_until_healthy};

/// The cache key secret both replicas are given.
const SHARED_SECRET: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

const NESTED: &str =
    "{ viewer { businesses(first: 10) { nodes { name vertical primaryPage { name } } } } }";
const BUSINESS: &str = r#"{ business(id: "200001") { name } }"#;

/// Replica A (with the sandbox, as any `TestApp`) and replica B, another gateway in front of
/// the same sandbox.
struct Replicas {
    a: TestApp,
    b: String,
}

impl Replicas {
    /// A query through replica B.
    async fn through_b(&self, token: &str, query: &str) -> Value {
        post_graphql(
            &self.a.http,
            &format!("{}/graphql", self.b),
            Some(token),
            &json!({"query": query}),
        )
        .await
    }
}

/// A gateway built on `stores`, in front of `sandbox_url`, serving in the background; answers
/// its base URL once it is healthy.
async fn spawn_replica(
    http: &reqwest::Client,
    sandbox_url: String,
    stores: SharedStores,
    secret: Option<&str>,
) -> String {
    let mut settings = Settings::for_upstream(sandbox_url);
    settings.upstream.timeout = Duration::from_secs(10);
    settings.cache.key_secret = secret.map(bizgraph::config::Secret::new);
    let app = Application::build_on(settings, stores).await.unwrap();
    let gateway = format!("http://{}", app.addr());
    app.spawn();
    wait_until_healthy(http, &gateway).await;
    gateway
}

/// Two replicas on one store and one sandbox; A is given the shared secret, B `b_secret`.
async fn spawn_replicas_with(b_secret: Option<&str>) -> Replicas {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sandbox = graph_sandbox::spawn(listener, SandboxSettings::default())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let stores = SharedStores::in_memory(Settings::for_upstream(sandbox.url()).cache.max_bytes);
    let a = spawn_replica(&http, sandbox.url(), stores.clone(), Some(SHARED_SECRET)).await;
    let b = spawn_replica(&http, sandbox.url(), stores, b_secret).await;
    Replicas {
        a: TestApp {
            gateway: a,
            sandbox,
            http,
        },
        b,
    }
}

async fn spawn_replicas() -> Replicas {
    spawn_replicas_with(Some(SHARED_SECRET)).await
}

#[tokio::test]
async fn an_answer_cached_through_one_replica_is_a_cache_hit_through_another() {
    let replicas = spawn_replicas().await;
    let through_a = replicas.a.admin(NESTED).await;
    assert_eq!(
        through_a["extensions"]["cost"],
        json!({"graphCalls": 1, "cacheHits": 0}),
        "{through_a}"
    );

    let before = replicas.a.upstream_requests().await;
    let through_b = replicas.through_b("demo-admin", NESTED).await;
    assert_eq!(
        through_b["extensions"]["cost"],
        json!({"graphCalls": 0, "cacheHits": 1}),
        "{through_b}"
    );
    assert_eq!(through_b["data"], through_a["data"]);
    assert_eq!(
        through_b["data"]["viewer"]["businesses"]["nodes"][0]["name"],
        "Pomni Media"
    );
    assert_eq!(replicas.a.upstream_requests().await, before);

    // Sharing a store never shares one token's answers with another token.
    let employee = replicas
        .through_b("demo-employee", "{ viewer { name } }")
        .await;
    assert_eq!(employee["data"]["viewer"]["name"], "Sam Chen", "{employee}");
    assert_eq!(replicas.a.upstream_requests().await, before + 1);
}

#[tokio::test]
async fn a_mutation_through_one_replica_invalidates_the_other_replicas_answers_about_the_business()
{
    let replicas = spawn_replicas().await;
    let admin = replicas.through_b("demo-admin", BUSINESS).await;
    let employee = replicas.through_b("demo-employee", BUSINESS).await;
    let nested = replicas.through_b("demo-employee", NESTED).await;
    assert_eq!(admin["data"]["business"]["name"], "Pomni Media", "{admin}");
    assert_eq!(
        employee["data"]["business"]["name"], "Pomni Media",
        "{employee}"
    );
    assert_eq!(
        nested["data"]["viewer"]["businesses"]["nodes"][0]["name"],
        "Pomni Media"
    );
    let cached = replicas.through_b("demo-admin", BUSINESS).await;
    assert_eq!(cached["extensions"]["cost"]["cacheHits"], 1, "{cached}");

    let updated = replicas
        .a
        .admin(r#"mutation { updateBusiness(id: "200001", input: {name: "Pomni Media Group"}) { name } }"#)
        .await;
    assert_eq!(
        updated["data"]["updateBusiness"]["name"], "Pomni Media Group",
        "{updated}"
    );

    // Every answer mentioning the business, of any token, is gone from the shared store: B
    // reads the employee's again. The admin's is the read-back A made after its write.
    let before = replicas.a.upstream_requests().await;
    let employee = replicas.through_b("demo-employee", BUSINESS).await;
    let nested = replicas.through_b("demo-employee", NESTED).await;
    let admin = replicas.through_b("demo-admin", BUSINESS).await;
    assert_eq!(
        employee["data"]["business"]["name"], "Pomni Media Group",
        "{employee}"
    );
    assert_eq!(
        employee["extensions"]["cost"],
        json!({"graphCalls": 1, "cacheHits": 0})
    );
    assert_eq!(
        nested["data"]["viewer"]["businesses"]["nodes"][0]["name"], "Pomni Media Group",
        "{nested}"
    );
    assert_eq!(
        nested["extensions"]["cost"],
        json!({"graphCalls": 1, "cacheHits": 0})
    );
    assert_eq!(
        admin["data"]["business"]["name"], "Pomni Media Group",
        "{admin}"
    );
    assert_eq!(replicas.a.upstream_requests().await - before, 2);
}

#[tokio::test]
async fn a_throttle_seen_by_one_replica_holds_back_the_other_replicas_calls() {
    let replicas = spawn_replicas().await;
    replicas
        .a
        .control("faults", json!({"error_code": 4, "times": 1}))
        .await;
    let throttled = replicas.a.admin("{ viewer { name } }").await;
    assert_eq!(
        first_error_code(&throttled),
        Some("RATE_LIMITED"),
        "{throttled}"
    );

    let before = replicas.a.upstream_requests().await;
    let held = replicas.through_b("demo-admin", "{ viewer { id } }").await;
    assert_eq!(first_error_code(&held), Some("RATE_LIMITED"), "{held}");
    assert!(
        held["errors"][0]["extensions"]["retryAfterSeconds"]
            .as_u64()
            .unwrap()
            > 0,
        "{held}"
    );
    assert_eq!(
        replicas.a.upstream_requests().await,
        before,
        "a held-back call reached Graph"
    );

    let other = replicas
        .through_b("demo-employee", "{ viewer { name } }")
        .await;
    assert_eq!(other["data"]["viewer"]["name"], "Sam Chen", "{other}");
}

#[tokio::test]
async fn replicas_with_different_cache_key_secrets_share_no_answers_or_throttles() {
    let replicas = spawn_replicas_with(None).await;
    replicas.a.admin(NESTED).await;
    let through_b = replicas.through_b("demo-admin", NESTED).await;
    assert_eq!(
        through_b["extensions"]["cost"],
        json!({"graphCalls": 1, "cacheHits": 0}),
        "{through_b}"
    );

    replicas
        .a
        .control("faults", json!({"error_code": 4, "times": 1}))
        .await;
    let throttled = replicas.a.admin("{ viewer { name } }").await;
    assert_eq!(first_error_code(&throttled), Some("RATE_LIMITED"));
    let through_b = replicas
        .through_b("demo-admin", "{ viewer { name } }")
        .await;
    assert_eq!(
        through_b["data"]["viewer"]["name"], "Alex Rivera",
        "{through_b}"
    );
}

#[tokio::test]
async fn a_gateway_given_a_short_cache_key_secret_refuses_to_start_without_echoing_it() {
    let mut settings = Settings::for_upstream("http://127.0.0.1:9");
    settings.cache.key_secret = Some(bizgraph::config::Secret::new("hunter2-hunter2"));
    let Err(error) = Application::build(settings).await else {
        panic!("a gateway started with a 15-character cache key secret");
    };
    let message = error.to_string();
    assert!(
        message.starts_with("invalid --cache-key-secret: the cache key secret has 15 characters"),
        "{message}"
    );
    assert!(!message.contains("hunter2"), "{message}");
}
