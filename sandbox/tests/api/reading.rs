//! Reading nodes: default fields, expansions, aliases, `?ids=` reads and read errors.

use graph_sandbox::demo;
use serde_json::json;

use crate::helpers::spawn_sandbox;

#[tokio::test]
async fn a_business_without_fields_answers_id_and_name() {
    let sandbox = spawn_sandbox().await;
    let reply = sandbox
        .get_as(demo::ADMIN_TOKEN, "/v25.0/200001", &[])
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, json!({"id": "200001", "name": "Pomni Media"}));
}

#[tokio::test]
async fn an_ad_account_without_fields_answers_only_its_id() {
    let sandbox = spawn_sandbox().await;
    let reply = sandbox
        .get_as(demo::ADMIN_TOKEN, "/v25.0/act_400001", &[])
        .await;
    assert_eq!(reply.body, json!({"id": "act_400001"}));
}

#[tokio::test]
async fn ad_account_fields_render_numbers_and_minor_units_as_graph_does() {
    let sandbox = spawn_sandbox().await;
    let fields = "id,account_id,name,currency,account_status,timezone_id,spend_cap,amount_spent,balance,user_access_expire_time";
    let reply = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            "/v25.0/act_400001",
            &[("fields", fields)],
        )
        .await;
    assert_eq!(
        reply.body,
        json!({
            "id": "act_400001",
            "account_id": "400001",
            "name": "Pomni Media - Main",
            "currency": "USD",
            "account_status": 1,
            "timezone_id": 1,
            "spend_cap": "5000000",
            "amount_spent": "125000",
            "balance": "0"
        })
    );
}

#[tokio::test]
async fn a_business_answers_its_embedded_objects_with_their_default_fields() {
    let sandbox = spawn_sandbox().await;
    let reply = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            "/v25.0/200001",
            &[(
                "fields",
                "id,vertical,timezone_id,primary_page,created_by,updated_by{name},link,verification_status,user_access_expire_time",
            )],
        )
        .await;
    assert_eq!(
        reply.body,
        json!({
            "id": "200001",
            "vertical": "ENTERTAINMENT_AND_MEDIA",
            "timezone_id": 1,
            "primary_page": {"category": "Media/news company", "name": "Pomni Media", "id": "300001"},
            "created_by": {"id": "100001", "name": "Alex Rivera"},
            "updated_by": {"name": "Alex Rivera"},
            "link": "https://business.facebook.com/settings/?business_id=200001",
            "verification_status": "not_verified"
        })
    );
}

#[tokio::test]
async fn business_times_are_served_under_both_spellings_in_graph_format() {
    let sandbox = spawn_sandbox().await;
    let reply = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            "/200002",
            &[(
                "fields",
                "created_time,creation_time,updated_time,update_time",
            )],
        )
        .await;
    let created = reply.body["created_time"].as_str().expect("created_time");
    assert_eq!(reply.body["creation_time"], json!(created));
    assert_eq!(reply.body["update_time"], reply.body["updated_time"]);
    assert_eq!(created.len(), "2026-06-23T12:00:00+0000".len());
    assert!(created.ends_with("+0000"), "{created}");
    assert!(created < reply.body["updated_time"].as_str().expect("updated_time"));
}

#[tokio::test]
async fn nested_expansion_honours_limit_and_aliases() {
    let sandbox = spawn_sandbox().await;
    let reply = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            "/me",
            &[(
                "fields",
                "name.as(display_name), businesses.limit(1){name,owned_pages.limit(1).as(first_page){name},owned_pages.as(all_pages){id}}",
            )],
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["display_name"], json!("Alex Rivera"));
    let businesses = &reply.body["businesses"];
    assert_eq!(businesses["data"].as_array().map(Vec::len), Some(1));
    let pomni = &businesses["data"][0];
    assert_eq!(pomni["name"], json!("Pomni Media"));
    assert_eq!(
        pomni["first_page"]["data"],
        json!([{"name": "Pomni Media", "id": "300001"}])
    );
    assert!(pomni["first_page"]["paging"]["next"].is_string());
    assert_eq!(
        pomni["all_pages"]["data"],
        json!([{"id": "300001"}, {"id": "300002"}])
    );
    assert!(pomni["all_pages"]["paging"].get("next").is_none());
    let next = businesses["paging"]["next"].as_str().expect("a next link");
    assert!(next.contains("/v25.0/100001/businesses?"), "{next}");
    assert!(next.contains("access_token=demo-admin"), "{next}");
    assert!(next.contains("limit=1"), "{next}");
}

#[tokio::test]
async fn an_unknown_field_is_a_code_100_error_naming_the_node_type() {
    let sandbox = spawn_sandbox().await;
    let reply = sandbox
        .get_as(demo::ADMIN_TOKEN, "/v25.0/200001", &[("fields", "id,foo")])
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.body_without_trace(),
        json!({"error": {
            "message": "(#100) Tried accessing nonexisting field (foo) on node type (Business)",
            "type": "OAuthException",
            "code": 100
        }})
    );
    assert_eq!(
        reply.body["error"]["fbtrace_id"].as_str(),
        Some(reply.header("x-fb-trace-id"))
    );
}

#[tokio::test]
async fn an_unknown_field_inside_an_expansion_names_the_nested_type() {
    let sandbox = spawn_sandbox().await;
    let reply = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            "/200001",
            &[("fields", "owned_pages{id,bogus}")],
        )
        .await;
    assert_eq!(
        reply.body["error"]["message"],
        json!("(#100) Tried accessing nonexisting field (bogus) on node type (Page)")
    );
}

#[tokio::test]
async fn a_fields_syntax_error_names_its_position() {
    let sandbox = spawn_sandbox().await;
    let reply = sandbox
        .get_as(demo::ADMIN_TOKEN, "/me", &[("fields", "id,name}")])
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.error_code(), 100);
    let message = reply.body["error"]["message"].as_str().expect("a message");
    assert!(message.contains("at character 7"), "{message}");
}

#[tokio::test]
async fn me_answers_the_token_user_with_is_work_account() {
    let sandbox = spawn_sandbox().await;
    let reply = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            "/v25.0/me",
            &[("fields", "id,name,is_work_account")],
        )
        .await;
    assert_eq!(
        reply.body,
        json!({"id": "100001", "name": "Alex Rivera", "is_work_account": false})
    );

    let (id, token) = sandbox
        .new_user("Riley Work", json!({"is_work_account": true}))
        .await;
    let reply = sandbox
        .get_as(&token, "/me", &[("fields", "id,is_work_account")])
        .await;
    assert_eq!(reply.body, json!({"id": id, "is_work_account": true}));
}

#[tokio::test]
async fn any_token_reads_any_user_but_not_a_business_it_is_not_in() {
    let sandbox = spawn_sandbox().await;
    let user = sandbox.get_as(demo::EMPLOYEE_TOKEN, "/100004", &[]).await;
    assert_eq!(user.body, json!({"id": "100004", "name": "Jordan Lee"}));

    let business = sandbox.get_as(demo::EMPLOYEE_TOKEN, "/200002", &[]).await;
    assert_eq!(business.status, 400);
    assert_eq!(
        business.body_without_trace(),
        json!({"error": {
            "message": "Unsupported get request. Object with ID '200002' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
            "type": "GraphMethodException",
            "code": 100,
            "error_subcode": 33
        }})
    );
}

#[tokio::test]
async fn an_unknown_edge_is_a_nonexisting_field_error() {
    let sandbox = spawn_sandbox().await;
    let reply = sandbox
        .get_as(demo::ADMIN_TOKEN, "/200001/owned_widgets", &[])
        .await;
    assert_eq!(
        reply.body["error"]["message"],
        json!("(#100) Tried accessing nonexisting field (owned_widgets) on node type (Business)")
    );
}

#[tokio::test]
async fn the_system_user_sees_its_business_and_its_assets() {
    let sandbox = spawn_sandbox().await;
    let reply = sandbox
        .get_as(
            demo::SYSTEM_TOKEN,
            "/me/businesses",
            &[("fields", "id,owned_ad_accounts{id},owned_apps{name}")],
        )
        .await;
    assert_eq!(
        reply.body["data"],
        json!([{
            "id": "200001",
            "owned_ad_accounts": {
                "data": [{"id": "act_400001"}, {"id": "act_400002"}],
                "paging": reply.body["data"][0]["owned_ad_accounts"]["paging"].clone()
            },
            "owned_apps": {
                "data": [{"name": "Pomni Media Dashboard", "id": "500001"}],
                "paging": reply.body["data"][0]["owned_apps"]["paging"].clone()
            }
        }])
    );
}

#[tokio::test]
async fn an_ids_read_answers_one_object_per_id() {
    let sandbox = spawn_sandbox().await;
    let reply = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            "/v25.0/",
            &[("ids", "200001,act_400002,me"), ("fields", "id,name")],
        )
        .await;
    assert_eq!(
        reply.body,
        json!({
            "200001": {"id": "200001", "name": "Pomni Media"},
            "act_400002": {"id": "act_400002", "name": "Pomni Media - Brand"},
            "me": {"id": "100001", "name": "Alex Rivera"}
        })
    );
}

#[tokio::test]
async fn an_ids_read_of_more_than_fifty_ids_is_refused() {
    let sandbox = spawn_sandbox().await;
    let ids = vec!["200001"; 54].join(",");
    let reply = sandbox
        .get_as(demo::ADMIN_TOKEN, "/", &[("ids", ids.as_str())])
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.body["error"]["message"],
        json!("(#100) Too many IDs. Maximum: 50. Provided: 54.")
    );
}

#[tokio::test]
async fn one_unknown_id_fails_the_whole_ids_read() {
    let sandbox = spawn_sandbox().await;
    let reply = sandbox
        .get_as(demo::ADMIN_TOKEN, "/", &[("ids", "200001,987654")])
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.body["error"]["error_subcode"], json!(33));
    let message = reply.body["error"]["message"].as_str().expect("a message");
    assert!(message.contains("Object with ID '987654'"), "{message}");
}

#[tokio::test]
async fn fields_nested_too_deep_are_a_code_100_error_and_the_sandbox_keeps_serving() {
    let sandbox = spawn_sandbox().await;
    let nested = |depth: usize| format!("{}id{}", "owned_pages{".repeat(depth), "}".repeat(depth));
    let too_deep = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            "/v25.0/200001",
            &[("fields", &nested(17))],
        )
        .await;
    assert_eq!(too_deep.status, 400);
    assert_eq!(
        too_deep.body_without_trace(),
        json!({"error": {
            "message": "(#100) Fields can be nested at most 16 levels deep",
            "type": "OAuthException",
            "code": 100
        }})
    );

    // Deep enough to overflow a recursive parser's stack; sent as a GET body.
    let response = sandbox
        .client
        .get(sandbox.url("/v25.0/200001"))
        .form(&[
            ("access_token", demo::ADMIN_TOKEN),
            ("fields", &nested(50_000)),
        ])
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status().as_u16(), 400);
    let still_serving = sandbox.get_as(demo::ADMIN_TOKEN, "/me", &[]).await;
    assert_eq!(still_serving.status, 200);
}
