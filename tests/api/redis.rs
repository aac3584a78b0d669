//! Replicas on one Redis (`--redis-url`): two gateways, each built as `serve` builds one
//! (`Application::build` with a Redis URL), or two `bizgraph serve` processes, on a
//! `redis-server` of the test's own and one sandbox. A write through one is read through the
//! other (by processes: with exactly one upstream call once the invalidation arrives), a
//! webhook taken by one reaches a subscriber on the other once and its retry to the other is
//! answered as not new, a throttle seen by one holds back the other, Redis stopping costs no
//! answer, and Redis holds no token.
//!
//! The tests start `redis-server` (Debian's package) on a free loopback port and skip, saying
//! why, where it is not installed.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bizgraph::config::Secret;
use bizgraph::{Application, Settings, StartError};
use graph_sandbox::SandboxSettings;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::helpers::{
    TestApp, eventually, first_error_code, page_of, post_graphql, wait_until_healthy,
};
use crate::subscriptions::{Socket, connect_to, next_message, send};
use crate::webhooks::{APP_SECRET, VERIFY_TOKEN, delivery, sign};

const SHARED_SECRET: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
const BUSINESS: &str = r#"{ business(id: "200001") { name } }"#;
const ADMIN: &str = "demo-admin";
/// The Redis call timeout the replicas here get: far above the 200 ms default, so that a slow
/// shared machine does not turn a call into a timeout (and, after three, an open circuit)
/// while a test counts on Redis being shared. A stopped Redis refuses connections at once.
const REDIS_TIMEOUT: Duration = Duration::from_secs(5);

/// A `redis-server` of this test's own, killed when dropped.
struct RedisServer {
    child: Child,
    url: String,
    /// Its own directory (a cluster node writes its configuration there), removed when dropped.
    dir: Option<std::path::PathBuf>,
}

impl RedisServer {
    /// A fresh server on a free loopback port, or `None` (with the reason printed) when
    /// `redis-server` is not installed.
    async fn start() -> Option<RedisServer> {
        RedisServer::start_with(false).await
    }

    /// A fresh Redis Cluster of one node that serves every hash slot: it refuses, as every
    /// cluster does, a command, transaction or script whose keys are in several slots.
    async fn start_cluster() -> Option<RedisServer> {
        let server = RedisServer::start_with(true).await?;
        let mut connection = server.connection().await.expect("redis answers");
        let () = redis::cmd("CLUSTER")
            .arg("ADDSLOTSRANGE")
            .arg(0)
            .arg(16383)
            .query_async(&mut connection)
            .await
            .unwrap();
        server.wait_for_cluster_of(1).await;
        Some(server)
    }

    /// Waits until this node says its cluster is ok with `nodes` nodes; gives up after 30 s.
    async fn wait_for_cluster_of(&self, nodes: usize) {
        let connection = self.connection().await.expect("redis answers");
        let known = format!("cluster_known_nodes:{nodes}");
        eventually(Duration::from_secs(30), || {
            let mut connection = connection.clone();
            let known = known.clone();
            async move {
                let info: String = redis::cmd("CLUSTER")
                    .arg("INFO")
                    .query_async(&mut connection)
                    .await
                    .unwrap();
                if info.contains("cluster_state:ok") && info.contains(&known) {
                    Ok(())
                } else {
                    Err(format!("the cluster is not ok: {info}"))
                }
            }
        })
        .await;
    }

    /// A fresh server on loopback port `port`.
    async fn start_on(port: u16) -> Option<RedisServer> {
        if !redis_server_installed() {
            return None;
        }
        let server = RedisServer::spawn_on(false, port).await;
        Some(server.unwrap_or_else(|| panic!("redis-server could not listen on port {port}")))
    }

    /// A fresh server on a free loopback port. A port found free may be taken by another
    /// process (tests of other checkouts share the machine) before redis-server binds it: a
    /// server that exits at once is started again on another port.
    async fn start_with(cluster: bool) -> Option<RedisServer> {
        if !redis_server_installed() {
            return None;
        }
        for _ in 0..5 {
            if let Some(server) = RedisServer::spawn_on(cluster, free_port()).await {
                return Some(server);
            }
        }
        panic!("redis-server exited at once on five free ports in a row");
    }

    /// redis-server on loopback port `port` once it answers, or `None` when it exited first
    /// (the port was taken); fails the test when it neither answers nor exits within 20 s.
    async fn spawn_on(cluster: bool, port: u16) -> Option<RedisServer> {
        let mut command = Command::new("redis-server");
        command
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"]);
        let dir = if cluster {
            let dir = std::env::temp_dir().join(format!(
                "bizgraph-redis-cluster-{}-{port}",
                std::process::id()
            ));
            std::fs::create_dir_all(&dir).unwrap();
            command
                .arg("--dir")
                .arg(&dir)
                .args(["--cluster-enabled", "yes"]);
            Some(dir)
        } else {
            command.args(["--dir", "/tmp"]);
            None
        };
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut server = RedisServer {
            child,
            url: format!("redis://127.0.0.1:{port}/"),
            dir,
        };
        // Polled by hand rather than with `eventually`: each try also asks whether the child
        // has exited, which needs it mutably. The server that answers must be this child (by
        // its process id), not another process's Redis on a port taken meanwhile.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            if matches!(server.child.try_wait(), Ok(Some(_))) {
                return None;
            }
            if let Some(mut connection) = server.connection().await {
                let info: String = redis::cmd("INFO")
                    .arg("server")
                    .query_async(&mut connection)
                    .await
                    .unwrap_or_default();
                let ours = format!("process_id:{}", server.child.id());
                if info.lines().any(|line| line.trim() == ours) {
                    return Some(server);
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "redis-server neither answers nor exits on port {port} after 20 s"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    async fn connection(&self) -> Option<redis::aio::MultiplexedConnection> {
        let client = redis::Client::open(self.url.as_str()).ok()?;
        let mut connection = client.get_multiplexed_async_connection().await.ok()?;
        let pong: String = redis::cmd("PING").query_async(&mut connection).await.ok()?;
        (pong == "PONG").then_some(connection)
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether `redis-server` is installed; says why the test is skipped when it is not.
fn redis_server_installed() -> bool {
    let installed = Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok();
    if !installed {
        eprintln!(
            "skipped: redis-server is not installed (apt-get install redis-server; .ci/run \
             installs it)"
        );
    }
    installed
}

/// A loopback port nothing listens on now.
fn free_port() -> u16 {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    free.local_addr().unwrap().port()
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The settings of a replica in front of `sandbox_url` on the Redis at `redis_url`.
fn replica_settings(sandbox_url: &str, redis_url: &str) -> Settings {
    let mut settings = Settings::for_upstream(sandbox_url);
    settings.upstream.timeout = Duration::from_secs(10);
    settings.cache.key_secret = Some(Secret::new(SHARED_SECRET));
    settings.redis.url = Some(Secret::new(redis_url));
    settings.redis.timeout = REDIS_TIMEOUT;
    settings.webhooks.verify_token = Some(Secret::new(VERIFY_TOKEN));
    settings.webhooks.app_secret = Some(Secret::new(APP_SECRET));
    settings
}

/// Replica A (a `TestApp` with the sandbox) and replica B's base URL.
struct Replicas {
    a: TestApp,
    b: String,
    /// The `bizgraph serve` processes of A and B, when they are processes (killed when
    /// dropped); empty when they run in this test's process.
    _processes: Vec<tokio::process::Child>,
}

async fn spawn_replica(http: &reqwest::Client, sandbox_url: &str, redis_url: &str) -> String {
    spawn_replica_with(http, replica_settings(sandbox_url, redis_url)).await
}

async fn spawn_replica_with(http: &reqwest::Client, settings: Settings) -> String {
    let app = Application::build(settings).await.unwrap();
    let gateway = format!("http://{}", app.addr());
    app.spawn();
    wait_until_healthy(http, &gateway).await;
    gateway
}

async fn spawn_replicas(redis: &RedisServer) -> Replicas {
    spawn_replicas_on(redis, &redis.url, false).await
}

/// Two replicas on the Redis at `url` (with `cluster`, the nodes of a Redis Cluster), which
/// subscribe on `subscribed`.
async fn spawn_replicas_on(subscribed: &RedisServer, url: &str, cluster: bool) -> Replicas {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sandbox = graph_sandbox::spawn(listener, SandboxSettings::default())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let settings = || {
        let mut settings = replica_settings(&sandbox.url(), url);
        settings.redis.cluster = cluster;
        settings
    };
    let a = spawn_replica_with(&http, settings()).await;
    let b = spawn_replica_with(&http, settings()).await;
    // Each replica subscribes to the invalidation and event channels in the background.
    wait_for_subscribers(subscribed, "bizgraph:v1:invalidations", 2).await;
    wait_for_subscribers(subscribed, "bizgraph:v1:events", 2).await;
    Replicas {
        a: TestApp {
            gateway: a,
            sandbox,
            http,
        },
        b,
        _processes: Vec::new(),
    }
}

/// `query` through `gateway` as the demo admin.
async fn query_as_admin(http: &reqwest::Client, gateway: &str, query: &str) -> Value {
    post_graphql(
        http,
        &format!("{gateway}/graphql"),
        Some(ADMIN),
        &json!({"query": query}),
    )
    .await
}

impl Replicas {
    async fn query(&self, gateway: &str, query: &str) -> Value {
        query_as_admin(&self.a.http, gateway, query).await
    }

    /// Reads `BUSINESS` through B (which keeps the answer in its memory and in Redis), then
    /// through A, which finds B's answer in Redis without an upstream call; B's answer.
    async fn read_through_b_then_from_redis_through_a(&self) -> Value {
        let before = self.query(&self.b, BUSINESS).await;
        assert_eq!(
            before["data"]["business"]["name"], "Pomni Media",
            "{before}"
        );
        let calls = self.a.upstream_requests().await;
        let through_a = self.query(&self.a.gateway, BUSINESS).await;
        assert_eq!(through_a["data"], before["data"]);
        assert_eq!(
            through_a["extensions"]["cost"],
            json!({"cacheHits": 1, "graphCalls": 0}),
            "{through_a}"
        );
        assert_eq!(self.a.upstream_requests().await, calls, "a Redis hit");
        before
    }

    async fn post_delivery(&self, gateway: &str, body: &[u8]) -> (u16, Value) {
        post_delivery(&self.a.http, gateway, body).await
    }
}

/// POSTs a delivery signed with the test app secret to `gateway`; its status and answer.
async fn post_delivery(http: &reqwest::Client, gateway: &str, body: &[u8]) -> (u16, Value) {
    let response = http
        .post(format!("{gateway}/webhooks/meta"))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", sign(APP_SECRET, body))
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// What a delivery of `received` changes, `new` of them new, answers.
fn delivery_answer(received: u64, new: u64) -> (u16, Value) {
    (200, json!({"received": received, "new": new, "ignored": 0}))
}

/// Waits until `count` connections listen on the Redis channel `channel` (each replica
/// subscribes in the background once it starts); gives up after about 20 s.
async fn wait_for_subscribers(redis: &RedisServer, channel: &str, count: i64) {
    let connection = redis.connection().await.expect("redis answers");
    eventually(Duration::from_secs(20), || {
        let mut connection = connection.clone();
        async move {
            let (_, listening): (String, i64) = redis::cmd("PUBSUB")
                .arg("NUMSUB")
                .arg(channel)
                .query_async(&mut connection)
                .await
                .unwrap();
            if listening >= count {
                Ok(())
            } else {
                Err(format!(
                    "{listening} of {count} replicas listen on {channel}"
                ))
            }
        }
    })
    .await;
}

/// Waits until the gateway's `/metrics` has the line `line`; gives up after about 20 s.
async fn wait_for_metric(http: &reqwest::Client, gateway: &str, line: &str) {
    eventually(Duration::from_secs(20), || async move {
        let metrics = page_of(http, gateway, "/metrics").await;
        if metrics.lines().any(|l| l == line) {
            Ok(())
        } else {
            Err(format!("no {line:?} in {gateway}/metrics:\n{metrics}"))
        }
    })
    .await;
}

/// A graphql-transport-ws socket to `gateway` as the demo admin, subscribed to migration
/// events once the gateway counts the subscription as running.
async fn subscribe_to_events(http: &reqwest::Client, gateway: &str) -> Socket {
    let mut subscriber = connect_to(
        gateway,
        "graphql-transport-ws",
        json!({"Authorization": format!("Bearer {ADMIN}")}),
    )
    .await;
    assert_eq!(
        next_message(&mut subscriber, Duration::from_secs(10)).await,
        Some(json!({"type": "connection_ack"}))
    );
    send(
        &mut subscriber,
        json!({"id": "1", "type": "subscribe", "payload": {"query":
            "subscription { migrationEvents { userId migrationExpireTime } }"}}),
    )
    .await;
    wait_for_metric(http, gateway, "bizgraph_subscriptions_active 1").await;
    subscriber
}

/// The user id and expiry of the next migration event on `subscriber`.
async fn next_event(subscriber: &mut Socket) -> (String, String) {
    let event = next_message(subscriber, Duration::from_secs(20))
        .await
        .expect("an event within 20 s");
    assert_eq!(event["type"], "next", "{event}");
    let data = &event["payload"]["data"]["migrationEvents"];
    let field = |name: &str| {
        data[name]
            .as_str()
            .unwrap_or_else(|| panic!("{event}"))
            .to_owned()
    };
    let expiry = chrono::DateTime::parse_from_rfc3339(&field("migrationExpireTime"))
        .unwrap()
        .to_utc()
        .to_rfc3339();
    (field("userId"), expiry)
}

/// How long a write through one replica may take to reach the other's memory level through
/// pub/sub on a slow machine.
const PUB_SUB_PATIENCE: Duration = Duration::from_secs(20);

/// Reads `BUSINESS` through `gateway` until its name is `name`, polling for at most `within`
/// (a write through another replica reaches this one through pub/sub, at some point).
async fn read_until_named(
    http: &reqwest::Client,
    gateway: &str,
    name: &str,
    within: Duration,
) -> Value {
    eventually(within, || async move {
        let read = query_as_admin(http, gateway, BUSINESS).await;
        if read["data"]["business"]["name"] == name {
            Ok(read)
        } else {
            Err(format!("{gateway} does not show {name:?}: {read}"))
        }
    })
    .await
}

/// The same instant as `expiry`, written as `next_event` writes it.
fn instant(expiry: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(expiry)
        .unwrap()
        .to_utc()
        .to_rfc3339()
}

/// A Redis value as text can be searched: an answer stored deflated (format byte 2, the tags'
/// length in 4 bytes, the tags, the deflated body) with its body inflated, so that a token in a
/// large answer is found too; any other value as it is.
fn readable(value: Vec<u8>) -> Vec<u8> {
    use std::io::Read;
    let Some((&2, rest)) = value.split_first() else {
        return value;
    };
    let Some(tags) = rest
        .get(..4)
        .and_then(|len| len.try_into().ok())
        .map(|len| u32::from_be_bytes(len) as usize)
    else {
        return value;
    };
    let Some(body) = rest.get(4 + tags..) else {
        return value;
    };
    let mut inflated = rest[..4 + tags].to_vec();
    match flate2::read::DeflateDecoder::new(body).read_to_end(&mut inflated) {
        Ok(_) => inflated,
        Err(_) => value,
    }
}

/// Every key in Redis and what it holds, as text.
async fn redis_contents(redis: &RedisServer) -> Vec<(String, String)> {
    let mut connection = redis.connection().await.expect("redis answers");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut connection)
        .await
        .unwrap();
    let mut contents = Vec::new();
    for key in keys {
        let kind: String = redis::cmd("TYPE")
            .arg(&key)
            .query_async(&mut connection)
            .await
            .unwrap();
        let value = match kind.as_str() {
            "string" => {
                let bytes: Vec<u8> = redis::cmd("GET")
                    .arg(&key)
                    .query_async(&mut connection)
                    .await
                    .unwrap_or_default();
                String::from_utf8_lossy(&readable(bytes)).into_owned()
            }
            "set" => {
                let members: Vec<String> = redis::cmd("SMEMBERS")
                    .arg(&key)
                    .query_async(&mut connection)
                    .await
                    .unwrap_or_default();
                members.join("\n")
            }
            // A key of another type would escape the callers' checks (no token in Redis).
            other => panic!("{key} is a Redis {other}, which this test does not read"),
        };
        contents.push((key, value));
    }
    contents
}

#[tokio::test]
async fn a_write_through_one_replica_is_read_through_the_other_and_redis_holds_no_token() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let replicas = spawn_replicas(&redis).await;
    let b = replicas.b.clone();
    replicas.read_through_b_then_from_redis_through_a().await;

    let updated = replicas
        .query(
            &replicas.a.gateway,
            r#"mutation { updateBusiness(id: "200001", input: {name: "Pomni Studio"}) { name } }"#,
        )
        .await;
    assert_eq!(
        updated["data"]["updateBusiness"]["name"], "Pomni Studio",
        "{updated}"
    );
    // The invalidation reaches B's memory level through pub/sub; B then reads the new name
    // from upstream or from what A read back after its write, never the old answer.
    read_until_named(&replicas.a.http, &b, "Pomni Studio", PUB_SUB_PATIENCE).await;
    // A page with a page after it: Graph's `paging.next` link carries the caller's token.
    let paged = replicas
        .query(
            &b,
            r#"{ business(id: "200001") { projects(first: 1) { nodes { name } pageInfo { hasNextPage } } } }"#,
        )
        .await;
    assert_eq!(
        paged["data"]["business"]["projects"]["pageInfo"]["hasNextPage"], true,
        "{paged}"
    );

    let contents = redis_contents(&redis).await;
    assert!(
        contents
            .iter()
            .any(|(key, _)| key.starts_with("{bizgraph:v1:answers}:v25.0:answer:")),
        "{contents:?}"
    );
    for (key, value) in &contents {
        assert!(
            key.starts_with("bizgraph:v1:") || key.starts_with("{bizgraph:v1:"),
            "{key}"
        );
        for token in [ADMIN, "demo-employee", "demo-system"] {
            assert!(
                !key.contains(token) && !value.contains(token),
                "{key} holds {token}"
            );
        }
    }
    let metrics = replicas.a.page("/metrics").await;
    assert!(
        metrics.contains(r#"bizgraph_redis_calls_total{outcome="ok"}"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_webhook_taken_by_one_replica_reaches_a_subscriber_on_the_other_once() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let replicas = spawn_replicas(&redis).await;
    wait_for_subscribers(&redis, "bizgraph:v1:events", 2).await;
    let mut subscriber = subscribe_to_events(&replicas.a.http, &replicas.b).await;
    webhook_reaches_the_other_replica_once(
        &replicas.a.http,
        &replicas.a.gateway,
        &replicas.b,
        &mut subscriber,
    )
    .await;

    // A replica that started after the first delivery has no record of it of its own: Redis
    // says it is a retry.
    let c = spawn_replica(&replicas.a.http, &replicas.a.sandbox.url(), &redis.url).await;
    let first = delivery("100002", "2026-12-25T10:00:00Z");
    assert_eq!(
        replicas.post_delivery(&c, &first).await,
        delivery_answer(1, 0)
    );
}

/// A delivery to `a` reaches `subscriber` (on `b`) once; Meta's retry of it, sent to `b`, is
/// answered as not new and is not delivered again; a later change is the next event.
async fn webhook_reaches_the_other_replica_once(
    http: &reqwest::Client,
    a: &str,
    b: &str,
    subscriber: &mut Socket,
) {
    let first = delivery("100002", "2026-12-25T10:00:00Z");
    assert_eq!(post_delivery(http, a, &first).await, delivery_answer(1, 1));
    assert_eq!(
        next_event(subscriber).await,
        ("100002".to_owned(), instant("2026-12-25T10:00:00Z"))
    );

    // Meta retries the same delivery, and the load balancer sends it to B: B answers that
    // nothing in it is new, before and whatever it publishes.
    assert_eq!(post_delivery(http, b, &first).await, delivery_answer(1, 0));
    wait_for_metric(
        http,
        b,
        r#"bizgraph_webhook_changes_total{result="duplicate"} 1"#,
    )
    .await;

    // An extension, later: the next event the subscriber gets. Had the first change been
    // published again (by either replica), it would have come before this one.
    let extension = delivery("100002", "2027-01-08T10:00:00Z");
    assert_eq!(
        post_delivery(http, b, &extension).await,
        delivery_answer(1, 1)
    );
    assert_eq!(
        next_event(subscriber).await,
        ("100002".to_owned(), instant("2027-01-08T10:00:00Z"))
    );
}

#[tokio::test]
async fn a_subscriber_on_the_replica_that_took_a_delivery_gets_it_without_that_replicas_own_subscription()
 {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    // A Redis user that may run every command but subscribe: the replica's commands (the
    // claim, its PUBLISH) work, its subscription to the events channel never does.
    let mut admin = redis.connection().await.expect("redis answers");
    let () = redis::cmd("ACL")
        .arg("SETUSER")
        .arg("nosubscribe")
        .arg(&["on", ">a-password", "~*", "&*", "+@all"][..])
        .arg(&["-subscribe", "-psubscribe", "-ssubscribe"][..])
        .query_async(&mut admin)
        .await
        .unwrap();
    let url = redis
        .url
        .replacen("redis://", "redis://nosubscribe:a-password@", 1);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sandbox = graph_sandbox::spawn(listener, SandboxSettings::default())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let gateway = spawn_replica(&http, &sandbox.url(), &url).await;
    let mut subscriber = subscribe_to_events(&http, &gateway).await;

    let first = delivery("100002", "2026-12-25T10:00:00Z");
    assert_eq!(
        post_delivery(&http, &gateway, &first).await,
        delivery_answer(1, 1)
    );
    assert_eq!(
        next_event(&mut subscriber).await,
        ("100002".to_owned(), instant("2026-12-25T10:00:00Z"))
    );
    // Taken through Redis, not by this replica alone.
    let metrics = page_of(&http, &gateway, "/metrics").await;
    assert!(
        !metrics.contains("bizgraph_webhook_changes_checked_here_only_total 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_throttle_seen_by_one_replica_holds_back_the_other() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let replicas = spawn_replicas(&redis).await;
    replicas
        .a
        .control("faults", json!({"error_code": 4, "times": 1}))
        .await;
    let throttled = replicas
        .query(&replicas.a.gateway, "{ viewer { name } }")
        .await;
    assert_eq!(
        first_error_code(&throttled),
        Some("RATE_LIMITED"),
        "{throttled}"
    );

    let before = replicas.a.upstream_requests().await;
    let held = replicas.query(&replicas.b, "{ viewer { id } }").await;
    assert_eq!(first_error_code(&held), Some("RATE_LIMITED"), "{held}");
    assert_eq!(
        replicas.a.upstream_requests().await,
        before,
        "a held-back call reached Graph"
    );
    let contents = redis_contents(&redis).await;
    assert!(
        contents
            .iter()
            .any(|(key, _)| key.starts_with("{bizgraph:v1:usage}:token:")),
        "{contents:?}"
    );
}

#[tokio::test]
async fn replicas_on_a_one_node_redis_cluster_share_answers_events_and_throttles_without_an_error()
{
    let Some(redis) = RedisServer::start_cluster().await else {
        return;
    };
    let replicas = spawn_replicas(&redis).await;
    share_answers_events_and_throttles_without_a_redis_error(&replicas).await;
}

#[tokio::test]
async fn replicas_with_the_cluster_client_on_a_three_node_redis_cluster_share_everything_without_an_error()
 {
    let Some(nodes) = start_three_node_cluster().await else {
        return;
    };
    // The first node given serves none of bizgraph's slots for answers: a client that did not
    // follow the cluster's redirections would be told MOVED.
    let mut first = nodes[0].connection().await.expect("redis answers");
    let slot: i64 = redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg("{bizgraph:v1:answers}")
        .query_async(&mut first)
        .await
        .unwrap();
    assert!(slot < 10923, "slot {slot} is on the first node");
    let urls = nodes
        .iter()
        .map(|node| node.url.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let replicas = spawn_replicas_on(&nodes[0], &urls, true).await;
    share_answers_events_and_throttles_without_a_redis_error(&replicas).await;
}

/// Three cluster nodes on loopback, serving the slots 10923-16383, 0-5460 and 5461-10922,
/// once the cluster is ok; `None` without `redis-server`.
async fn start_three_node_cluster() -> Option<Vec<RedisServer>> {
    let mut nodes = Vec::new();
    for _ in 0..3 {
        nodes.push(RedisServer::start_with(true).await?);
    }
    let ranges = [(10923, 16383), (0, 5460), (5461, 10922)];
    for (node, (from, to)) in nodes.iter().zip(ranges) {
        let mut connection = node.connection().await.expect("redis answers");
        let () = redis::cmd("CLUSTER")
            .arg("ADDSLOTSRANGE")
            .arg(from)
            .arg(to)
            .query_async(&mut connection)
            .await
            .unwrap();
    }
    let mut first = nodes[0].connection().await.expect("redis answers");
    for node in &nodes[1..] {
        let port = node.url.trim_end_matches('/').rsplit(':').next().unwrap();
        let () = redis::cmd("CLUSTER")
            .arg("MEET")
            .arg("127.0.0.1")
            .arg(port)
            .query_async(&mut first)
            .await
            .unwrap();
    }
    for node in &nodes {
        node.wait_for_cluster_of(3).await;
    }
    Some(nodes)
}

/// Through two replicas: an answer stored by one (with its tag sets, in a transaction) is found
/// by the other, a write invalidates it (the script), a webhook reaches a subscriber on the
/// other once, and a throttle holds both; no Redis call is answered with an error (a key layout
/// a cluster refuses, CROSSSLOT, or a redirection not followed, MOVED, would be).
async fn share_answers_events_and_throttles_without_a_redis_error(replicas: &Replicas) {
    let (a, b) = (replicas.a.gateway.clone(), replicas.b.clone());
    // Answers: stored with their tags (a transaction), found by the other replica, and
    // invalidated by a write (the script).
    replicas.read_through_b_then_from_redis_through_a().await;
    let updated = replicas
        .query(
            &a,
            r#"mutation { updateBusiness(id: "200001", input: {name: "Pomni Cluster"}) { name vertical } }"#,
        )
        .await;
    assert_eq!(
        updated["data"]["updateBusiness"]["name"], "Pomni Cluster",
        "{updated}"
    );
    read_until_named(&replicas.a.http, &b, "Pomni Cluster", PUB_SUB_PATIENCE).await;

    // Events: claimed once across replicas.
    let mut subscriber = subscribe_to_events(&replicas.a.http, &b).await;
    webhook_reaches_the_other_replica_once(&replicas.a.http, &a, &b, &mut subscriber).await;

    // Throttles: a token's and a business's usage read together.
    replicas
        .a
        .control("faults", json!({"error_code": 4, "times": 1}))
        .await;
    let throttled = replicas.query(&a, "{ viewer { name } }").await;
    assert_eq!(
        first_error_code(&throttled),
        Some("RATE_LIMITED"),
        "{throttled}"
    );
    let held = replicas
        .query(&b, r#"{ business(id: "200002") { name } }"#)
        .await;
    assert_eq!(first_error_code(&held), Some("RATE_LIMITED"), "{held}");

    // Redis answered no call with an error: a key layout that a cluster refuses (CROSSSLOT)
    // would show here.
    for gateway in [&a, &b] {
        let metrics = page_of(&replicas.a.http, gateway, "/metrics").await;
        assert!(
            metrics.contains(r#"bizgraph_redis_calls_total{outcome="ok"}"#),
            "{metrics}"
        );
        // (A timeout may happen on a slow machine; a refused layout is an error.)
        assert!(
            !metrics.contains(r#"bizgraph_redis_calls_total{outcome="error"}"#),
            "{gateway}: {metrics}"
        );
    }
}

#[tokio::test]
async fn with_redis_stopped_both_replicas_keep_answering() {
    let Some(mut redis) = RedisServer::start().await else {
        return;
    };
    let replicas = spawn_replicas(&redis).await;
    let b = replicas.b.clone();
    let before = replicas.query(&b, BUSINESS).await;
    assert_eq!(
        before["data"]["business"]["name"], "Pomni Media",
        "{before}"
    );

    redis.stop();

    for _ in 0..5 {
        for gateway in [&replicas.a.gateway, &b] {
            let answer = replicas.query(gateway, BUSINESS).await;
            assert_eq!(
                answer["data"]["business"]["name"], "Pomni Media",
                "{answer}"
            );
        }
    }
    let updated = replicas
        .query(
            &replicas.a.gateway,
            r#"mutation { updateBusiness(id: "200001", input: {name: "Pomni Offline"}) { name } }"#,
        )
        .await;
    assert_eq!(
        updated["data"]["updateBusiness"]["name"], "Pomni Offline",
        "{updated}"
    );
    let after = replicas.query(&replicas.a.gateway, BUSINESS).await;
    assert_eq!(
        after["data"]["business"]["name"], "Pomni Offline",
        "{after}"
    );
    // A delivery is taken all the same, checked for retries by the replica alone.
    let body = delivery("100002", "2026-12-25T10:00:00Z");
    assert_eq!(
        replicas.post_delivery(&replicas.a.gateway, &body).await,
        delivery_answer(1, 1)
    );
    assert_eq!(
        replicas.post_delivery(&replicas.a.gateway, &body).await,
        delivery_answer(1, 0)
    );
    let metrics = replicas.a.page("/metrics").await;
    assert!(
        metrics.contains("bizgraph_redis_circuit_open 1")
            || metrics.contains(r#"bizgraph_redis_calls_total{outcome="error"}"#),
        "{metrics}"
    );
    assert!(
        metrics.contains("bizgraph_webhook_changes_checked_here_only_total 1\n"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_replica_that_started_while_redis_was_down_forgets_its_memory_once_it_subscribes() {
    if !redis_server_installed() {
        return;
    }
    let port = free_port();
    let url = format!("redis://127.0.0.1:{port}/");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sandbox = graph_sandbox::spawn(listener, SandboxSettings::default())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    // Both replicas start, and serve, without Redis.
    let a = spawn_replica(&http, &sandbox.url(), &url).await;
    let b = spawn_replica(&http, &sandbox.url(), &url).await;
    let before = query_as_admin(&http, &b, BUSINESS).await;
    assert_eq!(
        before["data"]["business"]["name"], "Pomni Media",
        "{before}"
    );
    // A writes while Redis is down: its invalidation reaches no one.
    let updated = query_as_admin(
        &http,
        &a,
        r#"mutation { updateBusiness(id: "200001", input: {name: "Pomni Later"}) { name } }"#,
    )
    .await;
    assert_eq!(
        updated["data"]["updateBusiness"]["name"], "Pomni Later",
        "{updated}"
    );

    // Redis starts; once B subscribes it forgets what it kept in memory meanwhile, so it does
    // not serve the old name for the rest of the answer's 30 s lifetime.
    let redis = RedisServer::start_on(port)
        .await
        .expect("redis-server starts");
    wait_for_subscribers(&redis, "bizgraph:v1:invalidations", 2).await;
    // Well within the 30 s the old answer would live: its own expiry is not what is seen.
    read_until_named(&http, &b, "Pomni Later", Duration::from_secs(10)).await;
}

#[tokio::test]
async fn a_required_redis_that_stops_fails_requests_and_readiness() {
    let Some(mut redis) = RedisServer::start().await else {
        return;
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sandbox = graph_sandbox::spawn(listener, SandboxSettings::default())
        .await
        .unwrap();
    let mut settings = replica_settings(&sandbox.url(), &redis.url);
    settings.redis.required = true;
    let app = Application::build(settings).await.unwrap();
    let gateway = format!("http://{}", app.addr());
    app.spawn();
    let http = reqwest::Client::new();
    wait_until_healthy(&http, &gateway).await;
    let ready = http.get(format!("{gateway}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(
        ready.json::<Value>().await.unwrap(),
        json!({"ready": true, "redis": "ok"})
    );

    redis.stop();
    // Requests fail once the client notices: a few calls that fail, or time out, open the
    // circuit; how many requests that takes depends on the machine's pace.
    let refused = eventually(Duration::from_secs(20), || async {
        let response = http
            .post(format!("{gateway}/graphql"))
            .bearer_auth(ADMIN)
            .json(&json!({"query": BUSINESS}))
            .send()
            .await
            .unwrap();
        match response.status().as_u16() {
            503 => Ok(response.json::<Value>().await.unwrap()),
            other => Err(format!("still answered {other} after Redis stopped")),
        }
    })
    .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "UPSTREAM_UNAVAILABLE",
        "{refused}"
    );
    // A delivery is refused, so that Meta sends it again once Redis is back.
    let (status, refused) =
        post_delivery(&http, &gateway, &delivery("100002", "2026-12-25T10:00:00Z")).await;
    assert_eq!(status, 503, "{refused}");
    let ready = http.get(format!("{gateway}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    assert_eq!(
        ready.json::<Value>().await.unwrap(),
        json!({"ready": false, "redis": "unavailable"})
    );
}

#[tokio::test]
async fn redis_without_a_shared_secret_or_a_required_redis_that_is_down_or_a_bad_url_refuses_to_start()
 {
    let mut settings = Settings::for_upstream("http://127.0.0.1:9");
    settings.redis.url = Some(Secret::new("redis://127.0.0.1:9/"));
    assert!(matches!(
        Application::build(settings.clone()).await,
        Err(StartError::RedisWithoutSecret)
    ));

    settings.cache.key_secret = Some(Secret::new(SHARED_SECRET));
    settings.redis.required = true;
    let refused = Application::build(settings.clone()).await;
    assert!(
        matches!(refused, Err(StartError::RedisUnavailable(_))),
        "{:?}",
        refused.err()
    );

    // Not required: the replica starts and serves while Redis is down.
    settings.redis.required = false;
    assert!(Application::build(settings.clone()).await.is_ok());

    // A URL that cannot be used is refused with what is wrong, never the URL (it may carry a
    // password).
    let with_url = |url: &str, cluster: bool| {
        let mut settings = settings.clone();
        settings.redis.url = Some(Secret::new(url));
        settings.redis.cluster = cluster;
        settings
    };
    let several = "redis://:hunter2@127.0.0.1:7000/,redis://:hunter2@127.0.0.1:7001/";
    let refused = Application::build(with_url(several, false)).await.err();
    let message = refused
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(
        matches!(refused, Some(StartError::RedisUrl(_)))
            && message.contains("add --redis-cluster")
            && !message.contains("hunter2"),
        "{message}"
    );
    let bad_node = "redis://127.0.0.1:7000/,http://:hunter2@127.0.0.1:7001/";
    let refused = Application::build(with_url(bad_node, true)).await.err();
    let message = refused
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(
        message.contains("node 2 of 2") && !message.contains("hunter2"),
        "{message}"
    );
}

/// A `bizgraph serve` process in front of `sandbox_url` on the Redis at `redis_url`, taking
/// webhooks with the test secrets, killed when dropped, and its base URL.
async fn replica_process(sandbox_url: &str, redis_url: &str) -> (tokio::process::Child, String) {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_bizgraph"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--graph-url",
            sandbox_url,
        ])
        .args([
            "--redis-url",
            redis_url,
            "--cache-key-secret",
            SHARED_SECRET,
            "--redis-timeout-ms",
            &REDIS_TIMEOUT.as_millis().to_string(),
        ])
        .args([
            "--webhook-verify-token",
            VERIFY_TOKEN,
            "--app-secret",
            APP_SECRET,
        ])
        .env("BIZGRAPH_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.split("listening on ").nth(1) {
                return rest
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .trim_end_matches('/')
                    .to_owned();
            }
        }
        panic!("the replica ended before it listened");
    })
    .await
    .expect("the replica prints its address");
    // Keep reading its output so that it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, url)
}

impl Replicas {
    /// Two `bizgraph serve` processes, A and B, on one Redis and one sandbox, each listening
    /// on the invalidation and event channels.
    async fn processes(redis: &RedisServer) -> Replicas {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sandbox = graph_sandbox::spawn(listener, SandboxSettings::default())
            .await
            .unwrap();
        let (child_a, a) = replica_process(&sandbox.url(), &redis.url).await;
        let (child_b, b) = replica_process(&sandbox.url(), &redis.url).await;
        let http = reqwest::Client::new();
        wait_until_healthy(&http, &a).await;
        wait_until_healthy(&http, &b).await;
        wait_for_subscribers(redis, "bizgraph:v1:invalidations", 2).await;
        wait_for_subscribers(redis, "bizgraph:v1:events", 2).await;
        Replicas {
            a: TestApp {
                gateway: a,
                sandbox,
                http,
            },
            b,
            _processes: vec![child_a, child_b],
        }
    }
}

#[tokio::test]
async fn a_write_through_one_process_is_read_through_the_other_with_one_upstream_call() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let processes = Replicas::processes(&redis).await;
    let (a, b) = (processes.a.gateway.clone(), processes.b.clone());
    // B reads, and keeps the answer in its memory and in Redis; A then finds it in Redis.
    let before = processes.read_through_b_then_from_redis_through_a().await;

    // A writes, and reads back a selection other than B's: nothing A stores afterwards answers
    // B's read.
    let updated = processes
        .query(
            &a,
            r#"mutation { updateBusiness(id: "200001", input: {name: "Pomni Processes"}) { name vertical } }"#,
        )
        .await;
    assert_eq!(
        updated["data"]["updateBusiness"]["name"], "Pomni Processes",
        "{updated}"
    );

    // The invalidation reaches B's memory level through pub/sub, at some point: until then B
    // answers the old name from memory without a call; from then on B reads the new name from
    // Graph, with exactly one call.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let calls = processes.a.upstream_requests().await;
        let read = processes.query(&b, BUSINESS).await;
        let spent = processes.a.upstream_requests().await - calls;
        if read["data"]["business"]["name"] == "Pomni Processes" {
            assert_eq!(spent, 1, "{read}");
            assert_eq!(
                read["extensions"]["cost"],
                json!({"cacheHits": 0, "graphCalls": 1}),
                "{read}"
            );
            break;
        }
        assert_eq!(read["data"], before["data"], "{read}");
        assert_eq!(spent, 0, "an old answer from B's memory: {read}");
        assert!(
            tokio::time::Instant::now() < deadline,
            "B still answers the old name 20 s after the write: {read}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // And the new answer is now cached: the same read again costs nothing.
    let calls = processes.a.upstream_requests().await;
    let again = processes.query(&b, BUSINESS).await;
    assert_eq!(
        again["data"]["business"]["name"], "Pomni Processes",
        "{again}"
    );
    assert_eq!(processes.a.upstream_requests().await, calls);
}

#[tokio::test]
async fn a_webhook_posted_to_one_process_reaches_a_websocket_subscriber_on_the_other_once() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let processes = Replicas::processes(&redis).await;
    let http = processes.a.http.clone();
    let mut subscriber = subscribe_to_events(&http, &processes.b).await;
    webhook_reaches_the_other_replica_once(
        &http,
        &processes.a.gateway,
        &processes.b,
        &mut subscriber,
    )
    .await;
}

#[tokio::test]
async fn a_throttle_reached_through_one_process_holds_the_other_without_an_upstream_call() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let processes = Replicas::processes(&redis).await;
    // Graph answers A's next call with code 4, "application request limit reached".
    processes
        .a
        .control("faults", json!({"error_code": 4, "times": 1}))
        .await;
    let throttled = processes
        .query(&processes.a.gateway, "{ viewer { name } }")
        .await;
    assert_eq!(
        first_error_code(&throttled),
        Some("RATE_LIMITED"),
        "{throttled}"
    );
    assert_eq!(
        throttled["errors"][0]["extensions"]["graphApi"]["code"], 4,
        "{throttled}"
    );

    let before = processes.a.upstream_requests().await;
    let held = processes.query(&processes.b, "{ viewer { id } }").await;
    assert_eq!(first_error_code(&held), Some("RATE_LIMITED"), "{held}");
    assert_eq!(
        processes.a.upstream_requests().await,
        before,
        "B sent a call Graph throttles: {held}"
    );
    // Another token is not held back.
    let employee = post_graphql(
        &processes.a.http,
        &format!("{}/graphql", processes.b),
        Some("demo-employee"),
        &json!({"query": "{ viewer { name } }"}),
    )
    .await;
    assert_eq!(employee["data"]["viewer"]["name"], "Sam Chen", "{employee}");
}
