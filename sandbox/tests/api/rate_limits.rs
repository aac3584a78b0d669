//! Rate limits: usage headers, throttling at 100 %, and recovery when the hour rolls on.

use graph_sandbox::{SandboxSettings, demo};
use serde_json::json;

use crate::helpers::spawn_sandbox_with;

#[tokio::test]
async fn the_app_limit_throttles_with_code_4_at_one_hundred_percent() {
    let sandbox = spawn_sandbox_with(SandboxSettings {
        app_calls_per_hour: 4,
        ..SandboxSettings::default()
    })
    .await;
    for expected in [25, 50, 75, 100] {
        let reply = sandbox.get_as(demo::ADMIN_TOKEN, "/me", &[]).await;
        assert_eq!(reply.status, 200);
        assert_eq!(
            reply.json_header("x-app-usage"),
            json!({"call_count": expected, "total_time": expected, "total_cputime": expected})
        );
    }
    let throttled = sandbox.get_as(demo::ADMIN_TOKEN, "/me", &[]).await;
    assert_eq!(throttled.status, 400);
    assert_eq!(
        throttled.body_without_trace(),
        json!({"error": {
            "message": "(#4) Application request limit reached",
            "type": "OAuthException",
            "code": 4,
            "is_transient": true
        }})
    );
    // Another token has its own window.
    let other = sandbox.get_as(demo::EMPLOYEE_TOKEN, "/me", &[]).await;
    assert_eq!(other.status, 200);

    sandbox
        .control("/__sandbox/clock", json!({"advance_seconds": 3600}))
        .await;
    let recovered = sandbox.get_as(demo::ADMIN_TOKEN, "/me", &[]).await;
    assert_eq!(recovered.status, 200);
    assert_eq!(
        recovered.json_header("x-app-usage")["call_count"],
        json!(25)
    );
}

#[tokio::test]
async fn the_business_limit_throttles_with_80004_and_says_when_access_returns() {
    let sandbox = spawn_sandbox_with(SandboxSettings {
        business_calls_per_hour: 2,
        ..SandboxSettings::default()
    })
    .await;
    for _ in 0..2 {
        let reply = sandbox.get_as(demo::ADMIN_TOKEN, "/200001", &[]).await;
        assert_eq!(reply.status, 200);
    }
    let throttled = sandbox
        .get_as(demo::EMPLOYEE_TOKEN, "/200001/owned_pages", &[])
        .await;
    assert_eq!(throttled.error_code(), 80004);
    assert_eq!(
        throttled.body["error"]["message"],
        json!(
            "(#80004) There have been too many calls to this business account. Wait a bit and try again."
        )
    );
    assert_eq!(
        throttled.json_header("x-business-use-case-usage")["200001"][0],
        json!({
            "type": "business_management",
            "call_count": 100,
            "total_cputime": 100,
            "total_time": 100,
            "estimated_time_to_regain_access": 60
        })
    );
    let other_business = sandbox.get_as(demo::ADMIN_TOKEN, "/200002", &[]).await;
    assert_eq!(other_business.status, 200);
}

#[tokio::test]
async fn each_id_of_an_ids_read_and_each_batch_operation_counts_as_one_call() {
    let sandbox = spawn_sandbox_with(SandboxSettings {
        app_calls_per_hour: 10,
        ..SandboxSettings::default()
    })
    .await;
    let ids = sandbox
        .get_as(demo::ADMIN_TOKEN, "/", &[("ids", "200001,200002,me")])
        .await;
    assert_eq!(ids.json_header("x-app-usage")["call_count"], json!(30));

    let batch = json!([
        {"method": "GET", "relative_url": "me"},
        {"method": "GET", "relative_url": "me"}
    ]);
    let reply = sandbox
        .post_as(demo::ADMIN_TOKEN, "/", &[("batch", &batch.to_string())])
        .await;
    assert_eq!(reply.json_header("x-app-usage")["call_count"], json!(50));
}

#[tokio::test]
async fn with_no_limit_a_token_and_a_business_are_never_throttled_and_report_no_usage() {
    let sandbox = spawn_sandbox_with(SandboxSettings {
        app_calls_per_hour: 0,
        business_calls_per_hour: 0,
        ..SandboxSettings::default()
    })
    .await;
    // Each read counts 50 calls against the token, 20,000 by the end: the default limit.
    let ids: Vec<String> = std::iter::repeat_n("200001", 50)
        .map(str::to_owned)
        .collect();
    let ids = ids.join(",");
    for _ in 0..400 {
        let reply = sandbox
            .get_as(demo::ADMIN_TOKEN, "/", &[("ids", &ids)])
            .await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
    }
    let business = sandbox.get_as(demo::ADMIN_TOKEN, "/200001", &[]).await;
    assert_eq!(business.status, 200, "{:?}", business.body);
    assert_eq!(
        business.json_header("x-app-usage"),
        json!({"call_count": 0, "total_time": 0, "total_cputime": 0})
    );
    assert_eq!(
        business.json_header("x-business-use-case-usage")["200001"][0]["call_count"],
        json!(0)
    );
}
