//! Meta's webhooks at `/webhooks/meta`: the handshake, signatures over the raw bytes,
//! refusals that process nothing, and retried deliveries taken once.

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{TestApp, spawn_app_configured};

pub const VERIFY_TOKEN: &str = "test-verify-token";
pub const APP_SECRET: &str = "test-app-secret";

/// A gateway that takes webhooks with the test verify token and app secret.
pub async fn spawn_app_with_webhooks(configure: impl FnOnce(&mut bizgraph::Settings)) -> TestApp {
    spawn_app_configured(|settings| {
        settings.webhooks.verify_token = Some(bizgraph::config::Secret::new(VERIFY_TOKEN));
        settings.webhooks.app_secret = Some(bizgraph::config::Secret::new(APP_SECRET));
        configure(settings);
    })
    .await
}

/// Points the sandbox's migration webhooks at the gateway (the sandbox does the handshake).
pub async fn subscribe_sandbox(app: &TestApp) {
    let answer = app
        .control(
            "webhooks",
            json!({"callback_url": format!("{}/webhooks/meta", app.gateway),
                   "verify_token": VERIFY_TOKEN, "app_secret": APP_SECRET,
                   "retry_base_ms": 50}),
        )
        .await;
    assert_eq!(
        answer["callback_url"],
        format!("{}/webhooks/meta", app.gateway),
        "{answer}"
    );
}

pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

pub fn delivery(user: &str, expiry: &str) -> Vec<u8> {
    json!({"object": "managed_meta_account", "entry": [{"id": "910009", "time": 1_780_000_000,
        "changes": [{"field": "migration_expire_time",
                     "value": {"user_id": user, "migration_expire_time": expiry}}]}]})
    .to_string()
    .into_bytes()
}

async fn post(app: &TestApp, body: &[u8], signature: Option<&str>) -> (u16, Value) {
    let mut request = app
        .http
        .post(format!("{}/webhooks/meta", app.gateway))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header("x-hub-signature-256", signature);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_handshake_echoes_the_challenge_for_the_verify_token_only() {
    let app = spawn_app_with_webhooks(|_| {}).await;
    let handshake = |token: &str| {
        app.http
            .get(format!("{}/webhooks/meta", app.gateway))
            .query(&[
                ("hub.mode", "subscribe"),
                ("hub.verify_token", token),
                ("hub.challenge", "1158201444"),
            ])
            .send()
    };
    let ok = handshake(VERIFY_TOKEN).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    let wrong = handshake("not-the-token").await.unwrap();
    assert_eq!(wrong.status(), 403);
    assert_eq!(
        wrong.json::<Value>().await.unwrap(),
        json!({"error": "hub.verify_token does not match"})
    );
    // Without a verify token configured the handshake is refused, whatever the token.
    let unset = spawn_app_configured(|_| {}).await;
    let refused = unset
        .http
        .get(format!(
            "{}/webhooks/meta?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1",
            unset.gateway
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
}

#[tokio::test]
async fn deliveries_are_verified_over_their_raw_bytes_and_taken_once() {
    let app = spawn_app_with_webhooks(|_| {}).await;
    let body = delivery("100002", "2026-12-25T10:00:00Z");

    let (status, answer) = post(&app, &body, None).await;
    assert_eq!(
        (status, answer),
        (
            401,
            json!({"error": "the X-Hub-Signature-256 header is missing"})
        )
    );
    let (status, _) = post(&app, &body, Some("sha256=zz")).await;
    assert_eq!(status, 403);
    let (status, answer) = post(&app, &body, Some(&sign("another-secret", &body))).await;
    assert_eq!(
        (status, answer),
        (
            403,
            json!({"error": "the X-Hub-Signature-256 signature does not match the body"})
        )
    );
    // Signed, then the same bytes again as Meta retries them: taken once.
    let signature = sign(APP_SECRET, &body);
    assert_eq!(
        post(&app, &body, Some(&signature)).await,
        (200, json!({"received": 1, "new": 1, "ignored": 0}))
    );
    assert_eq!(
        post(&app, &body, Some(&signature)).await,
        (200, json!({"received": 1, "new": 0, "ignored": 0}))
    );
    // A body signed correctly that is not a delivery: 400, nothing taken.
    let junk = b"{\"object\": 5}";
    let (status, _) = post(&app, junk, Some(&sign(APP_SECRET, junk))).await;
    assert_eq!(status, 400);

    let metrics = app.page("/metrics").await;
    for line in [
        r#"bizgraph_webhook_deliveries_total{outcome="unsigned"} 1"#,
        r#"bizgraph_webhook_deliveries_total{outcome="bad_signature"} 2"#,
        r#"bizgraph_webhook_deliveries_total{outcome="accepted"} 2"#,
        r#"bizgraph_webhook_deliveries_total{outcome="not_a_delivery"} 1"#,
        r#"bizgraph_webhook_changes_total{result="new"} 1"#,
        r#"bizgraph_webhook_changes_total{result="duplicate"} 1"#,
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
}

#[tokio::test]
async fn a_unicode_payload_is_verified_over_the_bytes_sent() {
    let app = spawn_app_with_webhooks(|_| {}).await;
    // Meta signs the bytes it sends; the same text with escaped characters is other bytes.
    let raw = "{\"object\":\"managed_meta_account\",\"entry\":[{\"id\":\"910009\",\"time\":1780000000,\"changes\":[{\"field\":\"migration_expire_time\",\"value\":{\"user_id\":\"100002\",\"migration_expire_time\":\"2026-12-25T10:00:00Z\",\"note\":\"Café 🎉 — ok\"}}]}]}";
    let signature = sign(APP_SECRET, raw.as_bytes());
    assert_eq!(
        post(&app, raw.as_bytes(), Some(&signature)).await,
        (200, json!({"received": 1, "new": 1, "ignored": 0}))
    );
    let escaped = raw.replace("é", "\\u00e9");
    let (status, _) = post(&app, escaped.as_bytes(), Some(&signature)).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn the_sandbox_subscribes_through_the_handshake_and_its_deliveries_are_accepted() {
    let app = spawn_app_with_webhooks(|_| {}).await;
    subscribe_sandbox(&app).await;
    let managed = app
        .control("managed_accounts", json!({"user_id": "100002"}))
        .await;
    assert!(managed["user_id"].is_string(), "{managed}");
    let migration = app
        .control(
            "migrations",
            json!({"user_id": "100002", "business_id": "200001"}),
        )
        .await;
    assert!(
        migration["migration_expire_time"].is_string(),
        "{migration}"
    );
    // The sandbox records each attempt: the gateway answered its delivery with 200.
    let mut delivered = Value::Null;
    for _ in 0..100 {
        let webhooks: Value = app
            .http
            .get(format!("{}/__sandbox/webhooks", app.sandbox.url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        delivered = webhooks["deliveries"][0].clone();
        if delivered["state"] == "delivered" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(delivered["state"], "delivered", "{delivered}");
    assert_eq!(delivered["attempts"][0]["status"], 200, "{delivered}");
}

#[tokio::test]
async fn an_oversized_delivery_is_refused_and_the_gateway_keeps_answering() {
    let app = spawn_app_with_webhooks(|_| {}).await;
    // Past the 1 MiB a delivery of 1000 changes needs at most.
    let body = vec![b' '; 1024 * 1024 + 1];
    let (status, _) = post(&app, &body, Some(&sign(APP_SECRET, &body))).await;
    assert_eq!(status, 413);
    let (status, answer) = post(
        &app,
        &delivery("100002", "2026-12-25T10:00:00Z"),
        Some(&sign(
            APP_SECRET,
            &delivery("100002", "2026-12-25T10:00:00Z"),
        )),
    )
    .await;
    assert_eq!((status, answer["new"].clone()), (200, json!(1)));
}
