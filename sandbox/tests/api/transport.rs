//! Transport: versions, response headers, where tokens may come from, and token errors.

use graph_sandbox::demo;
use serde_json::json;

use crate::helpers::spawn_sandbox;

#[tokio::test]
async fn every_response_carries_version_trace_id_content_type_and_app_usage() {
    let sandbox = spawn_sandbox().await;
    let ok = sandbox.get_as(demo::ADMIN_TOKEN, "/v25.0/me", &[]).await;
    let error = sandbox
        .get_as(demo::ADMIN_TOKEN, "/v25.0/987654", &[])
        .await;
    for reply in [&ok, &error] {
        assert_eq!(reply.header("facebook-api-version"), "v25.0");
        assert!(reply.header("x-fb-trace-id").len() >= 8);
        assert_eq!(
            reply.header("content-type"),
            "application/json; charset=UTF-8"
        );
        let usage = reply.json_header("x-app-usage");
        assert_eq!(
            usage,
            json!({"call_count": 0, "total_time": 0, "total_cputime": 0})
        );
    }
    assert_ne!(ok.header("x-fb-trace-id"), error.header("x-fb-trace-id"));
}

#[tokio::test]
async fn a_business_request_carries_business_use_case_usage() {
    let sandbox = spawn_sandbox().await;
    let reply = sandbox.get_as(demo::ADMIN_TOKEN, "/200001", &[]).await;
    assert_eq!(
        reply.json_header("x-business-use-case-usage"),
        json!({"200001": [{
            "type": "business_management",
            "call_count": 0,
            "total_cputime": 0,
            "total_time": 0,
            "estimated_time_to_regain_access": 0
        }]})
    );
    let me = sandbox.get_as(demo::ADMIN_TOKEN, "/me", &[]).await;
    assert_eq!(me.header("x-business-use-case-usage"), "");
}

#[tokio::test]
async fn versioned_and_unversioned_paths_answer_alike() {
    let sandbox = spawn_sandbox().await;
    let unversioned = sandbox.get_as(demo::ADMIN_TOKEN, "/me", &[]).await;
    assert_eq!(unversioned.header("facebook-api-version"), "v25.0");
    for version in ["v21.0", "v25.0", "v26.0"] {
        let reply = sandbox
            .get_as(demo::ADMIN_TOKEN, &format!("/{version}/me"), &[])
            .await;
        assert_eq!(reply.status, 200, "{version}");
        assert_eq!(reply.body, unversioned.body, "{version}");
        assert_eq!(reply.header("facebook-api-version"), version);
    }
}

#[tokio::test]
async fn a_malformed_or_unserved_version_is_an_unknown_path_error() {
    let sandbox = spawn_sandbox().await;
    for (path, component) in [
        ("/v25/me", "/v25"),
        ("/vx.0/me", "/vx.0"),
        ("/v99.0/me", "/v99.0"),
    ] {
        let reply = sandbox.get_as(demo::ADMIN_TOKEN, path, &[]).await;
        assert_eq!(reply.status, 400, "{path}");
        assert_eq!(
            reply.body_without_trace(),
            json!({"error": {
                "message": format!("Unknown path components: {component}"),
                "type": "OAuthException",
                "code": 2500
            }}),
            "{path}"
        );
    }
}

#[tokio::test]
async fn the_token_may_come_from_the_query_the_form_or_the_authorization_header() {
    let sandbox = spawn_sandbox().await;
    let query = sandbox.get_as(demo::EMPLOYEE_TOKEN, "/me", &[]).await;
    assert_eq!(query.body["id"], json!("100002"));

    for scheme in ["Bearer", "OAuth"] {
        let response = sandbox
            .client
            .get(sandbox.url("/v25.0/me"))
            .header(
                "Authorization",
                format!("{scheme} {}", demo::EMPLOYEE_TOKEN),
            )
            .send()
            .await
            .expect("answered");
        let body: serde_json::Value = response.json().await.expect("json");
        assert_eq!(body["id"], json!("100002"), "{scheme}");
    }

    let form = sandbox
        .post_as(
            demo::ADMIN_TOKEN,
            "/v25.0/200001",
            &[("name", "Pomni Media Group")],
        )
        .await;
    assert_eq!(form.body, json!({"id": "200001"}));
}

#[tokio::test]
async fn a_multipart_body_is_read_like_a_form() {
    let sandbox = spawn_sandbox().await;
    let boundary = "sandboxboundary";
    let mut body = String::new();
    for (name, value) in [
        ("name", "Photo Studio"),
        ("vertical", "OTHER"),
        ("primary_page", "300004"),
        ("access_token", demo::ADMIN_TOKEN),
    ] {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    let response = sandbox
        .client
        .post(sandbox.url("/v25.0/me/businesses"))
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status().as_u16(), 200);
    let created: serde_json::Value = response.json().await.expect("json");
    assert!(created["id"].as_str().is_some_and(|id| id.len() == 10));
}

#[tokio::test]
async fn a_missing_token_is_code_104() {
    let sandbox = spawn_sandbox().await;
    let reply = sandbox.get("/v25.0/me", &[]).await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.body_without_trace(),
        json!({"error": {
            "message": "An access token is required to request this resource.",
            "type": "OAuthException",
            "code": 104
        }})
    );
}

#[tokio::test]
async fn an_unknown_token_is_code_190_with_a_www_authenticate_challenge() {
    let sandbox = spawn_sandbox().await;
    let reply = sandbox.get_as("not-a-token", "/v25.0/me", &[]).await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.body_without_trace(),
        json!({"error": {
            "message": "Invalid OAuth access token - Cannot parse access token",
            "type": "OAuthException",
            "code": 190
        }})
    );
    assert_eq!(
        reply.header("www-authenticate"),
        "OAuth \"Facebook Platform\" \"invalid_token\" \"Invalid OAuth access token - Cannot parse access token\""
    );
}

#[tokio::test]
async fn an_empty_access_token_parameter_leaves_the_authorization_header_in_charge() {
    let sandbox = spawn_sandbox().await;
    let response = sandbox
        .client
        .get(sandbox.url("/v25.0/me?access_token="))
        .header("Authorization", format!("OAuth {}", demo::EMPLOYEE_TOKEN))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body, json!({"id": "100002", "name": "Sam Chen"}));
}
