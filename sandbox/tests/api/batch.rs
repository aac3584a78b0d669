//! Batch requests: per-operation answers, failures, references and limits.

use graph_sandbox::demo;
use serde_json::{Value, json};

use crate::helpers::spawn_sandbox;

/// The JSON inside a batch element's `body` string.
fn element_body(element: &Value) -> Value {
    serde_json::from_str(element["body"].as_str().expect("a body string")).expect("JSON body")
}

#[tokio::test]
async fn a_batch_answers_each_operation_in_order_with_its_own_status() {
    let sandbox = spawn_sandbox().await;
    let batch = json!([
        {"method": "GET", "relative_url": "me?fields=id,name"},
        {"method": "GET", "relative_url": "/v25.0/987654"},
        {"method": "GET", "relative_url": "v25.0/200001?fields=name"}
    ]);
    let reply = sandbox
        .post_as(
            demo::ADMIN_TOKEN,
            "/v25.0/",
            &[("batch", &batch.to_string())],
        )
        .await;
    assert_eq!(reply.status, 200);
    let elements = reply.body.as_array().expect("an array");
    assert_eq!(elements.len(), 3);
    assert_eq!(elements[0]["code"], json!(200));
    assert_eq!(
        element_body(&elements[0]),
        json!({"id": "100001", "name": "Alex Rivera"})
    );
    assert!(
        elements[0]["headers"]
            .as_array()
            .expect("headers")
            .contains(&json!({"name": "Content-Type", "value": "text/javascript; charset=UTF-8"}))
    );
    assert_eq!(elements[1]["code"], json!(400));
    assert_eq!(
        element_body(&elements[1])["error"]["error_subcode"],
        json!(33)
    );
    assert_eq!(elements[2]["code"], json!(200));
    assert_eq!(element_body(&elements[2]), json!({"name": "Pomni Media"}));
}

#[tokio::test]
async fn a_reference_feeds_one_operation_result_into_a_later_operation() {
    let sandbox = spawn_sandbox().await;
    let batch = json!([
        {
            "method": "POST",
            "relative_url": "me/businesses",
            "name": "create",
            "body": "name=Batch%20Co&vertical=OTHER&primary_page=300006",
            "omit_response_on_success": false
        },
        {"method": "GET", "relative_url": "{result=create:$.id}?fields=name,primary_page{id}"},
        {"method": "GET", "relative_url": "me/businesses?fields=id", "name": "list"},
        {"method": "GET", "relative_url": "?ids={result=list:$.data.*.id}&fields=name"}
    ]);
    let reply = sandbox
        .post_as(demo::ADMIN_TOKEN, "/", &[("batch", &batch.to_string())])
        .await;
    let elements = reply.body.as_array().expect("an array");
    let created = element_body(&elements[0]);
    let id = created["id"].as_str().expect("a new id");
    assert_eq!(
        element_body(&elements[1]),
        json!({"name": "Batch Co", "primary_page": {"id": "300006"}})
    );
    let many = element_body(&elements[3]);
    assert_eq!(many[id]["name"], json!("Batch Co"));
    assert_eq!(many["200001"]["name"], json!("Pomni Media"));
}

#[tokio::test]
async fn include_headers_false_drops_the_headers_of_each_element() {
    let sandbox = spawn_sandbox().await;
    let batch = json!([{"method": "GET", "relative_url": "me"}]);
    let reply = sandbox
        .post_as(
            demo::ADMIN_TOKEN,
            "/",
            &[("batch", &batch.to_string()), ("include_headers", "false")],
        )
        .await;
    assert_eq!(
        reply.body,
        json!([{"code": 200, "body": "{\"id\":\"100001\",\"name\":\"Alex Rivera\"}"}])
    );
}

#[tokio::test]
async fn an_operation_depending_on_a_failed_one_is_null_and_not_run() {
    let sandbox = spawn_sandbox().await;
    let batch = json!([
        {"method": "POST", "relative_url": "me/businesses", "name": "bad", "body": "name=X"},
        {"method": "POST", "relative_url": "{result=bad:$.id}", "body": "name=Never"},
        {"method": "GET", "relative_url": "me", "depends_on": "bad"},
        {"method": "GET", "relative_url": "me", "omit_response_on_success": true}
    ]);
    let reply = sandbox
        .post_as(demo::ADMIN_TOKEN, "/", &[("batch", &batch.to_string())])
        .await;
    let elements = reply.body.as_array().expect("an array");
    assert_eq!(elements[0]["code"], json!(400));
    assert_eq!(
        element_body(&elements[0])["error"]["message"],
        json!("(#100) The parameter vertical is required")
    );
    assert_eq!(elements[1], Value::Null);
    assert_eq!(elements[2], Value::Null);
    assert_eq!(elements[3], Value::Null);
}

#[tokio::test]
async fn an_operation_may_carry_its_own_token() {
    let sandbox = spawn_sandbox().await;
    let batch = json!([
        {"method": "GET", "relative_url": format!("me?access_token={}", demo::EMPLOYEE_TOKEN)},
        {"method": "GET", "relative_url": "me"}
    ]);
    let reply = sandbox
        .post_as(demo::ADMIN_TOKEN, "/", &[("batch", &batch.to_string())])
        .await;
    let elements = reply.body.as_array().expect("an array");
    assert_eq!(element_body(&elements[0])["id"], json!("100002"));
    assert_eq!(element_body(&elements[1])["id"], json!("100001"));
}

#[tokio::test]
async fn a_batch_of_more_than_fifty_operations_is_refused() {
    let sandbox = spawn_sandbox().await;
    let batch = Value::Array(vec![json!({"method": "GET", "relative_url": "me"}); 51]);
    let reply = sandbox
        .post_as(demo::ADMIN_TOKEN, "/", &[("batch", &batch.to_string())])
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.body["error"]["message"],
        json!("(#100) Too many requests in batch message. Maximum batch size is 50")
    );
}

#[tokio::test]
async fn a_batch_needs_a_top_level_token_and_a_json_array() {
    let sandbox = spawn_sandbox().await;
    let batch = json!([{"method": "GET", "relative_url": format!("me?access_token={}", demo::ADMIN_TOKEN)}]);
    let no_token = sandbox
        .post_form("/", &[("batch", &batch.to_string())])
        .await;
    assert_eq!(no_token.error_code(), 104);

    let not_json = sandbox
        .post_as(demo::ADMIN_TOKEN, "/", &[("batch", "{not json")])
        .await;
    assert_eq!(
        not_json.body["error"]["message"],
        json!("(#100) The parameter batch must be a JSON array")
    );
}

#[tokio::test]
async fn a_referenced_operation_is_left_out_of_the_answer_unless_asked_for() {
    let sandbox = spawn_sandbox().await;
    let batch = json!([
        {"method": "GET", "relative_url": "me?fields=id", "name": "who"},
        {"method": "GET", "relative_url": "{result=who:$.id}?fields=name"},
        {"method": "GET", "relative_url": "me?fields=id", "name": "kept", "omit_response_on_success": false},
        {"method": "GET", "relative_url": "{result=kept:$.id}?fields=name"},
        {"method": "GET", "relative_url": "me?fields=id", "name": "unreferenced"}
    ]);
    let reply = sandbox
        .post_as(
            demo::ADMIN_TOKEN,
            "/",
            &[("batch", &batch.to_string()), ("include_headers", "false")],
        )
        .await;
    let alex = json!({"code": 200, "body": "{\"name\":\"Alex Rivera\"}"});
    let id = json!({"code": 200, "body": "{\"id\":\"100001\"}"});
    assert_eq!(
        reply.body,
        json!([Value::Null, alex.clone(), id.clone(), alex, id])
    );
}

#[tokio::test]
async fn one_refused_invoices_edge_fails_a_whole_ids_read_but_only_its_own_batch_operation() {
    let sandbox = spawn_sandbox().await;
    // The seed's finance person of Pomni Media reads its invoices but is no member of
    // Kinger Labs; Alex (ADMIN, no finance role) is refused the invoices of both.
    let fields = "name,business_invoices.start_date(2024-08-01).end_date(2024-09-01){id}";
    let ids = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            "/v25.0/",
            &[("ids", "200001,200002"), ("fields", fields)],
        )
        .await;
    assert_eq!(ids.status, 403, "{:?}", ids.body);
    assert_eq!(ids.body["error"]["code"], json!(200), "{:?}", ids.body);
    assert!(ids.body.get("200001").is_none(), "no id is answered");

    // The same businesses read without the edge, and the edge of each on its own in a batch.
    let names = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            "/v25.0/",
            &[("ids", "200001,200002"), ("fields", "name")],
        )
        .await;
    assert_eq!(names.status, 200);
    assert_eq!(names.body["200002"]["name"], json!("Kinger Labs"));
    let batch = json!([
        {"method": "GET", "relative_url": "v25.0/200001/business_invoices?fields=id&start_date=2024-08-01&end_date=2024-09-01"},
        {"method": "GET", "relative_url": "v25.0/200001/creditcards?fields=last4"},
        {"method": "GET", "relative_url": "v25.0/200002/creditcards?fields=last4"}
    ]);
    let reply = sandbox
        .post_as(
            demo::ADMIN_TOKEN,
            "/v25.0/",
            &[("batch", &batch.to_string())],
        )
        .await;
    let elements = reply.body.as_array().expect("an array");
    assert_eq!(elements[0]["code"], json!(403));
    assert!(
        element_body(&elements[0])["error"]["message"]
            .as_str()
            .expect("a message")
            .contains("finance role")
    );
    assert_eq!(
        elements[1]["code"],
        json!(200),
        "ADMIN of Pomni Media reads its cards"
    );
    assert_eq!(
        element_body(&elements[1])["data"][0]["last4"],
        json!("4242")
    );
    assert_eq!(elements[2]["code"], json!(403), "EMPLOYEE of Kinger Labs");
}
