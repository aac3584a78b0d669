//! Tokens: none, invalid, and the appsecret_proof that goes with them.

use serde_json::json;

use crate::helpers::{first_error_code, first_error_message, spawn_app};

#[tokio::test]
async fn a_request_without_a_token_is_unauthenticated_before_any_upstream_call() {
    let app = spawn_app().await;
    let before = app.upstream_requests().await;
    let answer = app.graphql(None, "{ viewer { id } }", json!({})).await;
    assert_eq!(
        first_error_code(&answer),
        Some("UNAUTHENTICATED"),
        "{answer}"
    );
    assert!(first_error_message(&answer).contains("Authorization: Bearer"));
    assert_eq!(answer["data"], serde_json::Value::Null);
    assert_eq!(app.upstream_requests().await, before);
}

#[tokio::test]
async fn an_invalid_token_is_unauthenticated_with_graphs_details() {
    let app = spawn_app().await;
    let answer = app
        .graphql(Some("not-a-real-token"), "{ viewer { id } }", json!({}))
        .await;
    assert_eq!(
        first_error_code(&answer),
        Some("UNAUTHENTICATED"),
        "{answer}"
    );
    let graph_api = &answer["errors"][0]["extensions"]["graphApi"];
    assert_eq!(graph_api["code"], 190);
    assert_eq!(graph_api["type"], "OAuthException");
    assert!(
        !answer.to_string().contains("not-a-real-token"),
        "the token leaked: {answer}"
    );
}

#[tokio::test]
async fn every_call_carries_an_appsecret_proof_when_a_secret_is_configured() {
    let app = crate::helpers::spawn_app_with(
        graph_sandbox::SandboxSettings {
            app_secret: Some("test-secret".to_owned()),
            require_appsecret_proof: true,
            ..graph_sandbox::SandboxSettings::default()
        },
        |settings| {
            settings.upstream.app_secret = Some(bizgraph::config::Secret::new("test-secret"))
        },
    )
    .await;
    let answer = app.admin("{ viewer { name } }").await;
    assert_eq!(answer["data"]["viewer"]["name"], "Alex Rivera", "{answer}");
}

#[tokio::test]
async fn a_missing_appsecret_proof_is_reported_when_graph_requires_one() {
    let app = crate::helpers::spawn_app_with(
        graph_sandbox::SandboxSettings {
            app_secret: Some("test-secret".to_owned()),
            require_appsecret_proof: true,
            ..graph_sandbox::SandboxSettings::default()
        },
        |_| {},
    )
    .await;
    let answer = app.admin("{ viewer { name } }").await;
    // The gateway's configuration is at fault, not the caller's request.
    assert_eq!(first_error_code(&answer), Some("INTERNAL"), "{answer}");
    assert!(
        first_error_message(&answer)
            .contains("Graph requires an appsecret_proof and bizgraph has no app secret"),
        "{answer}"
    );
    assert_eq!(answer["errors"][0]["extensions"].get("graphApi"), None);
}
