//! The sandbox's outgoing webhook (docs/graph-api.md §9, §10): the subscription handshake, the
//! signed `migration_expire_time` deliveries when a migration starts and when its expiry
//! changes, and retries when the callback does not answer 200. A receiver runs on loopback
//! inside each test and verifies every signature with the secret it was given.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use graph_sandbox::{SandboxSettings, demo};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::net::TcpListener;

use crate::helpers::{TestSandbox, spawn_sandbox, spawn_sandbox_with};

const VERIFY_TOKEN: &str = "meta-verify-123";
const SECRET: &str = "receiver-secret";

/// One POST the receiver saw: its raw body and whether its signature was valid.
type Post = (Vec<u8>, bool);

/// What the receiver saw.
#[derive(Clone)]
struct Receiver {
    secret: String,
    posts: Arc<Mutex<Vec<Post>>>,
    /// POSTs still to answer with 500.
    failures_left: Arc<AtomicU32>,
}

impl Receiver {
    fn posts(&self) -> Vec<Post> {
        self.posts.lock().expect("receiver lock").clone()
    }
}

fn valid_signature(secret: &str, body: &[u8], header: Option<&str>) -> bool {
    let Some(hex_sig) = header.and_then(|h| h.strip_prefix("sha256=")) else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_sig) else {
        return false;
    };
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("any key");
    mac.update(body);
    // Lowercase hex, as Meta sends it, and a constant-time check.
    hex_sig == hex_sig.to_lowercase() && mac.verify_slice(&expected).is_ok()
}

async fn handshake(Query(query): Query<HashMap<String, String>>) -> (StatusCode, String) {
    let mode = query.get("hub.mode").map(String::as_str);
    let token = query.get("hub.verify_token").map(String::as_str);
    match (mode, token, query.get("hub.challenge")) {
        (Some("subscribe"), Some(VERIFY_TOKEN), Some(challenge)) => {
            (StatusCode::OK, challenge.clone())
        }
        _ => (StatusCode::FORBIDDEN, String::new()),
    }
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    let valid = valid_signature(&receiver.secret, &body, header);
    receiver
        .posts
        .lock()
        .expect("receiver lock")
        .push((body.to_vec(), valid));
    let failing = receiver
        .failures_left
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if failing {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

/// A receiver on a free loopback port that answers 500 to its first `failures` POSTs;
/// answers it and its callback URL.
async fn spawn_receiver(secret: &str, failures: u32) -> (Receiver, String) {
    let receiver = Receiver {
        secret: secret.to_owned(),
        posts: Arc::new(Mutex::new(Vec::new())),
        failures_left: Arc::new(AtomicU32::new(failures)),
    };
    let app = Router::new()
        .route("/hook", get(handshake).post(receive))
        .with_state(receiver.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let addr = listener.local_addr().expect("an address");
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("receiver serves");
    });
    (receiver, format!("http://{addr}/hook"))
}

async fn subscribe(sandbox: &TestSandbox, url: &str, extra: Value) -> crate::helpers::Reply {
    let mut body = json!({"callback_url": url, "verify_token": VERIFY_TOKEN});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    sandbox.control("/__sandbox/webhooks", body).await
}

/// Creates Alex's managed account and starts his migration in Pomni Media; answers the start.
async fn migrate_alex(sandbox: &TestSandbox) -> Value {
    let account = sandbox
        .control(
            "/__sandbox/managed_accounts",
            json!({"user_id": demo::ADMIN_USER_ID}),
        )
        .await;
    assert_eq!(account.status, 200, "{:?}", account.body);
    let started = sandbox
        .control(
            "/__sandbox/migrations",
            json!({"user_id": demo::ADMIN_USER_ID, "business_id": demo::POMNI_BUSINESS_ID}),
        )
        .await;
    assert_eq!(started.status, 200, "{:?}", started.body);
    started.body
}

/// The deliveries once none is pending (at most 10 s).
async fn settled_deliveries(sandbox: &TestSandbox, count: usize) -> Vec<Value> {
    for _ in 0..200 {
        let reply = sandbox.get("/__sandbox/webhooks", &[]).await;
        let deliveries = reply.body["deliveries"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if deliveries.len() >= count && deliveries.iter().all(|d| d["state"] != "pending") {
            return deliveries;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("deliveries still pending after 10 s");
}

#[tokio::test]
async fn a_callback_is_configured_only_when_it_echoes_the_challenge() {
    let sandbox = spawn_sandbox().await;
    let (_, url) = spawn_receiver(SECRET, 0).await;
    let wrong = sandbox
        .control(
            "/__sandbox/webhooks",
            json!({"callback_url": url, "verify_token": "not-it", "app_secret": SECRET}),
        )
        .await;
    assert_eq!(wrong.status, 400);
    assert_eq!(
        wrong.body,
        json!({"error": "the callback answered the handshake with HTTP 403, not 200"})
    );
    let no_secret = subscribe(&sandbox, &url, json!({})).await;
    assert_eq!(no_secret.status, 400);
    assert_eq!(
        no_secret.body,
        json!({"error": "no app secret to sign deliveries with: give app_secret, or start the \
                         sandbox with --app-secret"})
    );
    let not_url = subscribe(&sandbox, "ftp://x/", json!({"app_secret": SECRET})).await;
    assert_eq!(
        not_url.body,
        json!({"error": "callback_url must be an http or https URL"})
    );
    let unset = sandbox.get("/__sandbox/webhooks", &[]).await;
    assert_eq!(unset.body["callback_url"], Value::Null);

    let ok = subscribe(&sandbox, &url, json!({"app_secret": SECRET})).await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(
        ok.body,
        json!({"callback_url": url, "verify_token": VERIFY_TOKEN, "retry_base_ms": 100,
               "max_attempts": 5})
    );
    let shown = sandbox.get("/__sandbox/webhooks", &[]).await;
    assert_eq!(
        shown.body,
        json!({"callback_url": url, "verify_token": VERIFY_TOKEN, "retry_base_ms": 100,
               "max_attempts": 5, "deliveries": []})
    );
}

#[tokio::test]
async fn a_migration_start_and_an_extension_each_send_a_signed_webhook() {
    // No app_secret in the body: the sandbox's own --app-secret signs.
    let sandbox = spawn_sandbox_with(SandboxSettings {
        app_secret: Some(SECRET.to_owned()),
        ..SandboxSettings::default()
    })
    .await;
    let (receiver, url) = spawn_receiver(SECRET, 0).await;
    assert_eq!(subscribe(&sandbox, &url, json!({})).await.status, 200);
    let started = migrate_alex(&sandbox).await;
    assert_eq!(started["webhook_delivery_id"], json!("1"));
    let deliveries = settled_deliveries(&sandbox, 1).await;
    let posts = receiver.posts();
    assert_eq!(posts.len(), 1);
    let (raw, valid) = &posts[0];
    assert!(valid, "the signature verifies with the app secret");
    let body: Value = serde_json::from_slice(raw).expect("JSON");
    let time = body["entry"][0]["time"].clone();
    assert!(time.is_i64(), "{body}");
    assert_eq!(
        body,
        json!({"object": "managed_meta_account", "entry": [{
            "id": started["managed_account_id"], "time": time,
            "changes": [{"field": "migration_expire_time", "value": {
                "user_id": demo::ADMIN_USER_ID,
                "migration_expire_time": started["migration_expire_time"],
            }}],
        }]})
    );
    assert_eq!(deliveries[0]["state"], "delivered");
    assert_eq!(deliveries[0]["attempts"], json!([{"status": 200}]));
    assert_eq!(deliveries[0]["body"], body);

    let extended = sandbox
        .control(
            "/__sandbox/migrations/extend",
            json!({"user_id": demo::ADMIN_USER_ID, "business_id": demo::POMNI_BUSINESS_ID,
                   "days": 7}),
        )
        .await;
    assert_eq!(extended.status, 200, "{:?}", extended.body);
    settled_deliveries(&sandbox, 2).await;
    let posts = receiver.posts();
    assert_eq!(posts.len(), 2);
    assert!(posts[1].1);
    let body: Value = serde_json::from_slice(&posts[1].0).expect("JSON");
    assert_eq!(
        body["entry"][0]["changes"][0]["value"]["migration_expire_time"],
        extended.body["migration_expire_time"]
    );
    assert_ne!(
        extended.body["migration_expire_time"],
        started["migration_expire_time"]
    );
}

#[tokio::test]
async fn a_receiver_answering_500_first_gets_the_same_delivery_again() {
    let sandbox = spawn_sandbox().await;
    let (receiver, url) = spawn_receiver(SECRET, 1).await;
    assert_eq!(
        subscribe(&sandbox, &url, json!({"app_secret": SECRET}))
            .await
            .status,
        200
    );
    migrate_alex(&sandbox).await;
    let deliveries = settled_deliveries(&sandbox, 1).await;
    assert_eq!(deliveries[0]["state"], "delivered");
    assert_eq!(
        deliveries[0]["attempts"],
        json!([{"status": 500}, {"status": 200}])
    );
    let posts = receiver.posts();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0], posts[1], "a retry sends the same signed bytes");
    assert!(posts[0].1);
}

#[tokio::test]
async fn a_callback_that_keeps_failing_gets_five_attempts_then_the_delivery_fails() {
    let sandbox = spawn_sandbox().await;
    let (receiver, url) = spawn_receiver(SECRET, u32::MAX).await;
    let reply = subscribe(
        &sandbox,
        &url,
        json!({"app_secret": SECRET, "retry_base_ms": 5}),
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    migrate_alex(&sandbox).await;
    let deliveries = settled_deliveries(&sandbox, 1).await;
    assert_eq!(deliveries[0]["state"], "failed");
    assert_eq!(
        deliveries[0]["attempts"],
        Value::Array(vec![json!({"status": 500}); 5])
    );
    assert_eq!(receiver.posts().len(), 5);
}

#[tokio::test]
async fn without_a_callback_a_migration_queues_no_delivery() {
    let sandbox = spawn_sandbox().await;
    let started = migrate_alex(&sandbox).await;
    assert_eq!(started["webhook_delivery_id"], Value::Null);
    let shown = sandbox.get("/__sandbox/webhooks", &[]).await;
    assert_eq!(shown.body["deliveries"], json!([]));
}
