//! `appsecret_proof`: both proof forms accepted, wrong or missing ones refused.

use graph_sandbox::{SandboxSettings, demo};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use crate::helpers::{TestSandbox, spawn_sandbox_with};

const SECRET: &str = "sandbox-app-secret";

fn proof(message: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key length");
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

async fn strict_sandbox() -> TestSandbox {
    spawn_sandbox_with(SandboxSettings {
        app_secret: Some(SECRET.to_owned()),
        require_appsecret_proof: true,
        ..SandboxSettings::default()
    })
    .await
}

#[tokio::test]
async fn a_correct_appsecret_proof_is_accepted_in_both_forms() {
    let sandbox = strict_sandbox().await;
    let plain = proof(demo::ADMIN_TOKEN);
    let reply = sandbox
        .get_as(demo::ADMIN_TOKEN, "/me", &[("appsecret_proof", &plain)])
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);

    let now = chrono::Utc::now().timestamp().to_string();
    let timed = proof(&format!("{}|{now}", demo::ADMIN_TOKEN));
    let reply = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            "/me",
            &[("appsecret_proof", &timed), ("appsecret_time", &now)],
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
}

#[tokio::test]
async fn a_wrong_appsecret_proof_is_refused() {
    let sandbox = strict_sandbox().await;
    let reply = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            "/me",
            &[("appsecret_proof", &proof(demo::EMPLOYEE_TOKEN))],
        )
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.body_without_trace(),
        json!({"error": {
            "message": "Invalid appsecret_proof provided in the API argument",
            "type": "GraphMethodException",
            "code": 100
        }})
    );
}

#[tokio::test]
async fn a_missing_appsecret_proof_is_refused_when_required() {
    let sandbox = strict_sandbox().await;
    let reply = sandbox.get_as(demo::ADMIN_TOKEN, "/me", &[]).await;
    assert_eq!(
        reply.body_without_trace(),
        json!({"error": {
            "message": "API calls from the server require an appsecret_proof argument",
            "type": "GraphMethodException",
            "code": 100
        }})
    );
}

#[tokio::test]
async fn batch_operations_inherit_the_batch_appsecret_proof() {
    let sandbox = strict_sandbox().await;
    let batch = json!([{"method": "GET", "relative_url": "me?fields=id"}]);
    let reply = sandbox
        .post_as(
            demo::ADMIN_TOKEN,
            "/",
            &[
                ("batch", &batch.to_string()),
                ("appsecret_proof", &proof(demo::ADMIN_TOKEN)),
            ],
        )
        .await;
    assert_eq!(reply.body[0]["code"], json!(200), "{:?}", reply.body);
}

#[tokio::test]
async fn an_appsecret_time_far_out_of_range_is_an_invalid_proof_not_a_crash() {
    let sandbox = strict_sandbox().await;
    let time = i64::MIN.to_string();
    let timed = proof(&format!("{}|{time}", demo::ADMIN_TOKEN));
    let reply = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            "/me",
            &[("appsecret_proof", &timed), ("appsecret_time", &time)],
        )
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.body["error"]["message"],
        json!("Invalid appsecret_proof provided in the API argument")
    );
    let after = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            "/me",
            &[("appsecret_proof", &proof(demo::ADMIN_TOKEN))],
        )
        .await;
    assert_eq!(after.status, 200);
}
