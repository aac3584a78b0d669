//! The `/__sandbox/` control plane: stats and journal, reset, test objects, clock, faults.

use std::time::{Duration, Instant};

use graph_sandbox::demo;
use serde_json::json;

use crate::helpers::spawn_sandbox;

#[tokio::test]
async fn stats_count_graph_requests_with_ids_reads_and_batches_as_one() {
    let sandbox = spawn_sandbox().await;
    sandbox
        .get_as(demo::ADMIN_TOKEN, "/v25.0/me", &[("fields", "id,name")])
        .await;
    sandbox
        .get_as(demo::ADMIN_TOKEN, "/", &[("ids", "200001,200002,me")])
        .await;
    let batch = json!([
        {"method": "GET", "relative_url": "me"},
        {"method": "GET", "relative_url": "200001"}
    ]);
    sandbox
        .post_as(demo::ADMIN_TOKEN, "/", &[("batch", &batch.to_string())])
        .await;
    sandbox.get("/v25.0/me", &[]).await;
    sandbox
        .control("/__sandbox/users", json!({"name": "Not Counted"}))
        .await;

    let stats = sandbox.get("/__sandbox/stats", &[]).await;
    assert_eq!(stats.body["requests"], json!(4));
    let journal = stats.body["journal"].as_array().expect("a journal");
    assert_eq!(
        journal[0],
        json!({"method": "GET", "path": "/v25.0/me", "query": "fields=id%2Cname", "status": 200})
    );
    assert_eq!(journal[2]["method"], json!("POST"));
    assert_eq!(journal[3]["status"], json!(400));
    assert!(journal.iter().all(|entry| {
        !entry["query"]
            .as_str()
            .unwrap_or("")
            .contains("access_token")
    }));
}

#[tokio::test]
async fn reset_restores_the_seeded_world_and_zeroes_stats() {
    let sandbox = spawn_sandbox().await;
    let created = sandbox
        .post_as(
            demo::ADMIN_TOKEN,
            "/me/businesses",
            &[
                ("name", "Temp Co"),
                ("vertical", "OTHER"),
                ("primary_page", "300004"),
            ],
        )
        .await;
    let id = created.body["id"].as_str().expect("an id").to_owned();

    let reset = sandbox.control("/__sandbox/reset", json!({})).await;
    assert_eq!(reset.body, json!({"ok": true}));
    assert_eq!(sandbox.request_count().await, 0);
    let gone = sandbox
        .get_as(demo::ADMIN_TOKEN, &format!("/{id}"), &[])
        .await;
    assert_eq!(gone.body["error"]["error_subcode"], json!(33));
    let again = sandbox
        .post_as(
            demo::ADMIN_TOKEN,
            "/me/businesses",
            &[
                ("name", "Temp Co"),
                ("vertical", "OTHER"),
                ("primary_page", "300004"),
            ],
        )
        .await;
    assert_eq!(again.body["id"], json!(id), "ids restart after a reset");
}

#[tokio::test]
async fn control_plane_users_businesses_and_pages_are_visible_through_graph() {
    let sandbox = spawn_sandbox().await;
    let (user_id, token) = sandbox.new_user("Casey Test", json!({})).await;
    let business = sandbox
        .control(
            "/__sandbox/businesses",
            json!({"name": "Casey Co", "vertical": "RETAIL", "admins": [user_id], "employees": [demo::EMPLOYEE_USER_ID]}),
        )
        .await;
    let business_id = business.body["id"].as_str().expect("an id").to_owned();
    let page = sandbox
        .control(
            "/__sandbox/pages",
            json!({"name": "Casey Shop", "category": "Shopping & retail", "admins": [user_id], "owner_business": business_id}),
        )
        .await;
    let page_id = page.body["id"].as_str().expect("an id").to_owned();

    let read = sandbox
        .get_as(
            &token,
            &format!("/{business_id}"),
            &[(
                "fields",
                "name,vertical,created_by,owned_pages{id,name,category}",
            )],
        )
        .await;
    assert_eq!(read.body["name"], json!("Casey Co"));
    assert_eq!(read.body["vertical"], json!("RETAIL"));
    assert_eq!(
        read.body["created_by"],
        json!({"id": user_id, "name": "Casey Test"})
    );
    assert_eq!(
        read.body["owned_pages"]["data"],
        json!([{"id": page_id, "name": "Casey Shop", "category": "Shopping & retail"}])
    );
    let employee = sandbox
        .get_as(demo::EMPLOYEE_TOKEN, "/me/businesses", &[("fields", "id")])
        .await;
    assert_eq!(
        employee.body["data"],
        json!([{"id": "200001"}, {"id": business_id}])
    );
}

#[tokio::test]
async fn control_plane_bad_json_is_a_400_naming_the_problem() {
    let sandbox = spawn_sandbox().await;
    let response = sandbox
        .client
        .post(sandbox.url("/__sandbox/users"))
        .header("Content-Type", "application/json")
        .body("{\"nam\": 1}")
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status().as_u16(), 400);
    let body: serde_json::Value = response.json().await.expect("json");
    assert!(
        body["error"].as_str().is_some_and(|e| e.contains("nam")),
        "{body}"
    );

    let unknown_admin = sandbox
        .control(
            "/__sandbox/businesses",
            json!({"name": "Ghost Co", "admins": ["999"]}),
        )
        .await;
    assert_eq!(unknown_admin.status, 400);
    assert_eq!(unknown_admin.body, json!({"error": "unknown user 999"}));
}

#[tokio::test]
async fn the_clock_moves_forward_and_new_objects_take_its_time() {
    let sandbox = spawn_sandbox().await;
    let clock = sandbox
        .control("/__sandbox/clock", json!({"advance_seconds": 86_400}))
        .await;
    let now = clock.body["now"].as_str().expect("a time").to_owned();
    assert!(now.ends_with("+0000"), "{now}");
    let created = sandbox
        .post_as(
            demo::ADMIN_TOKEN,
            "/me/businesses",
            &[
                ("name", "Tomorrow Co"),
                ("vertical", "OTHER"),
                ("primary_page", "300006"),
            ],
        )
        .await;
    let id = created.body["id"].as_str().expect("an id");
    let read = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            &format!("/{id}"),
            &[("fields", "created_time")],
        )
        .await;
    assert_eq!(read.body["created_time"], json!(now));
}

#[tokio::test]
async fn a_fault_answers_its_error_the_given_number_of_times() {
    let sandbox = spawn_sandbox().await;
    let armed = sandbox
        .control("/__sandbox/faults", json!({"error_code": 2, "times": 2}))
        .await;
    assert_eq!(armed.body, json!({"ok": true}));
    for _ in 0..2 {
        let reply = sandbox.get_as(demo::ADMIN_TOKEN, "/me", &[]).await;
        assert_eq!(reply.status, 500);
        assert_eq!(
            reply.body_without_trace(),
            json!({"error": {
                "message": "An unexpected error has occurred. Please retry your request later.",
                "type": "OAuthException",
                "code": 2,
                "is_transient": true
            }})
        );
    }
    let recovered = sandbox.get_as(demo::ADMIN_TOKEN, "/me", &[]).await;
    assert_eq!(recovered.status, 200);
    assert_eq!(sandbox.request_count().await, 3);
}

#[tokio::test]
async fn a_rate_limit_fault_reports_full_usage() {
    let sandbox = spawn_sandbox().await;
    sandbox
        .control("/__sandbox/faults", json!({"error_code": 4, "times": 1}))
        .await;
    let reply = sandbox.get_as(demo::ADMIN_TOKEN, "/me", &[]).await;
    assert_eq!(reply.error_code(), 4);
    assert_eq!(reply.body["error"]["is_transient"], json!(true));
    assert_eq!(reply.json_header("x-app-usage")["call_count"], json!(100));
}

#[tokio::test]
async fn a_latency_fault_delays_the_answer() {
    let sandbox = spawn_sandbox().await;
    sandbox
        .control("/__sandbox/faults", json!({"latency_ms": 300, "times": 1}))
        .await;
    let started = Instant::now();
    let reply = sandbox.get_as(demo::ADMIN_TOKEN, "/me", &[]).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn the_clock_refuses_to_move_past_the_year_9999_and_keeps_serving() {
    let sandbox = spawn_sandbox().await;
    let mut last_now = String::new();
    let mut refusal = None;
    // u32::MAX seconds is about 136 years, so 100 advances would reach the year 15000.
    for _ in 0..100 {
        let clock = sandbox
            .control("/__sandbox/clock", json!({"advance_seconds": u32::MAX}))
            .await;
        if clock.status != 200 {
            refusal = Some(clock);
            break;
        }
        last_now = clock.body["now"].as_str().expect("a time").to_owned();
    }
    let refusal = refusal.expect("the clock stops before the year 10000");
    assert_eq!(refusal.status, 400);
    assert_eq!(
        refusal.body,
        json!({"error": "the clock cannot move past the year 9999"})
    );
    assert!(last_now.starts_with("99"), "{last_now}");
    let unchanged = sandbox
        .control("/__sandbox/clock", json!({"advance_seconds": 0}))
        .await;
    assert_eq!(unchanged.body["now"], json!(last_now));
    let graph = sandbox.get_as(demo::ADMIN_TOKEN, "/me", &[]).await;
    assert_eq!(graph.status, 200);
}

#[tokio::test]
async fn a_control_plane_endpoint_asked_with_the_wrong_method_answers_json() {
    let sandbox = spawn_sandbox().await;
    let reply = sandbox.get("/__sandbox/reset", &[]).await;
    assert_eq!(reply.status, 405);
    assert_eq!(
        reply.body,
        json!({"error": "this endpoint does not take GET"})
    );
}
