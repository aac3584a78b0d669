//! Business end to end: reading, creating, updating, and the seed's error cases.

use serde_json::json;

use crate::helpers::{first_error_code, first_error_message, spawn_app};

/// The answer is an `INVALID_ARGUMENT` error whose message names `what`.
fn assert_invalid_argument(answer: &serde_json::Value, what: &str) {
    assert_eq!(
        first_error_code(answer),
        Some("INVALID_ARGUMENT"),
        "{answer}"
    );
    assert!(first_error_message(answer).contains(what), "{answer}");
}

#[tokio::test]
async fn the_viewer_reads_their_businesses() {
    let app = spawn_app().await;
    let answer = app
        .admin("{ viewer { id name isWorkAccount businesses { totalCount nodes { id name } } } }")
        .await;
    assert!(answer.get("errors").is_none(), "{answer}");
    let viewer = &answer["data"]["viewer"];
    assert_eq!(viewer["id"], "100001");
    assert_eq!(viewer["name"], "Alex Rivera");
    assert_eq!(viewer["isWorkAccount"], false);
    assert_eq!(viewer["businesses"]["totalCount"], 2);
    let mut names: Vec<&str> = viewer["businesses"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["Kinger Labs", "Pomni Media"]);
}

#[tokio::test]
async fn a_business_reads_with_its_times_and_authors() {
    let app = spawn_app().await;
    let answer = app
        .admin(
            r#"{ business(id: "200001") { id name vertical timezoneId link
                 primaryPage { id name category } createdBy { id name } updatedBy { id }
                 createdTime updatedTime } }"#,
        )
        .await;
    let business = &answer["data"]["business"];
    assert_eq!(business["id"], "200001", "{answer}");
    assert_eq!(business["vertical"], "ENTERTAINMENT_AND_MEDIA");
    assert_eq!(business["timezoneId"], 1);
    assert_eq!(business["primaryPage"]["id"], "300001");
    assert_eq!(
        business["createdBy"],
        json!({"id": "100001", "name": "Alex Rivera"})
    );
    assert!(business["link"].as_str().unwrap().contains("200001"));
    let created = business["createdTime"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(created).is_ok(),
        "{created}"
    );
}

const CREATE: &str = r#"mutation($input: CreateBusinessInput!) {
    createBusiness(input: $input) { id name vertical timezoneId primaryPage { id name } createdBy { id } } }"#;

#[tokio::test]
async fn a_business_is_created_read_back_and_updated() {
    let app = spawn_app().await;
    let created = app
        .graphql(
            Some("demo-admin"),
            CREATE,
            json!({"input": {"name": "Rivera Photo", "vertical": "ECOMMERCE", "primaryPageId": "300004", "timezoneId": 12}}),
        )
        .await;
    assert!(created.get("errors").is_none(), "{created}");
    let business = &created["data"]["createBusiness"];
    let id = business["id"].as_str().unwrap().to_owned();
    assert_eq!(
        business,
        &json!({"id": id, "name": "Rivera Photo", "vertical": "ECOMMERCE", "timezoneId": 12,
                "primaryPage": {"id": "300004", "name": "Alex Rivera Photography"},
                "createdBy": {"id": "100001"}})
    );

    let read = app
        .admin(&format!(
            r#"{{ business(id: "{id}") {{ name vertical }} }}"#
        ))
        .await;
    assert_eq!(
        read["data"]["business"],
        json!({"name": "Rivera Photo", "vertical": "ECOMMERCE"})
    );

    let updated = app
        .graphql(
            Some("demo-admin"),
            r#"mutation($id: ID!) { updateBusiness(id: $id, input: {name: "Rivera Studio", vertical: RETAIL}) { name vertical updatedBy { id } } }"#,
            json!({"id": id}),
        )
        .await;
    assert_eq!(
        updated["data"]["updateBusiness"],
        json!({"name": "Rivera Studio", "vertical": "RETAIL", "updatedBy": {"id": "100001"}}),
        "{updated}"
    );

    let listed = app
        .admin("{ viewer { businesses { nodes { name } } } }")
        .await;
    assert!(
        listed["data"]["viewer"]["businesses"]["nodes"]
            .as_array()
            .unwrap()
            .contains(&json!({"name": "Rivera Studio"}))
    );
}

#[tokio::test]
async fn creating_a_business_without_a_primary_page_is_rejected_before_any_upstream_call() {
    let app = spawn_app().await;
    let answer = app
        .refused_before_upstream(
            "demo-admin",
            CREATE,
            json!({"input": {"name": "No Page Co", "vertical": "RETAIL"}}),
        )
        .await;
    assert_invalid_argument(&answer, "primaryPageId");
}

#[tokio::test]
async fn creating_a_business_with_an_unknown_vertical_is_rejected_before_any_upstream_call() {
    let app = spawn_app().await;
    let answer = app
        .refused_before_upstream(
            "demo-admin",
            CREATE,
            json!({"input": {"name": "Space Co", "vertical": "SPACE_TRAVEL", "primaryPageId": "300004"}}),
        )
        .await;
    assert_invalid_argument(&answer, "SPACE_TRAVEL");
}

#[tokio::test]
async fn creating_a_business_with_a_blank_name_is_rejected_before_any_upstream_call() {
    let app = spawn_app().await;
    let answer = app
        .refused_before_upstream(
            "demo-admin",
            CREATE,
            json!({"input": {"name": "   ", "vertical": "RETAIL", "primaryPageId": "300004"}}),
        )
        .await;
    assert_eq!(
        first_error_code(&answer),
        Some("INVALID_ARGUMENT"),
        "{answer}"
    );
    assert_eq!(answer["errors"][0]["extensions"]["argument"], "input.name");
}

#[tokio::test]
async fn creating_a_business_on_a_page_the_caller_does_not_admin_is_forbidden() {
    let app = spawn_app().await;
    let answer = app
        .graphql(
            Some("demo-admin"),
            CREATE,
            json!({"input": {"name": "Circus Fans Inc", "vertical": "ENTERTAINMENT_AND_MEDIA", "primaryPageId": "300005"}}),
        )
        .await;
    assert_eq!(first_error_code(&answer), Some("FORBIDDEN"), "{answer}");
    assert_eq!(answer["errors"][0]["extensions"]["graphApi"]["code"], 3998);
    assert_eq!(answer["data"], serde_json::Value::Null);
}

#[tokio::test]
async fn creating_a_business_on_a_page_another_business_owns_is_refused() {
    let app = spawn_app().await;
    let answer = app
        .graphql(
            Some("demo-admin"),
            CREATE,
            json!({"input": {"name": "Kinger Again", "vertical": "TECHNOLOGY", "primaryPageId": "300003"}}),
        )
        .await;
    assert_eq!(
        first_error_code(&answer),
        Some("INVALID_ARGUMENT"),
        "{answer}"
    );
    assert_eq!(answer["errors"][0]["extensions"]["graphApi"]["code"], 3918);
}

#[tokio::test]
async fn creating_a_second_business_with_the_same_name_is_refused() {
    let app = spawn_app().await;
    let answer = app
        .graphql(
            Some("demo-admin"),
            CREATE,
            json!({"input": {"name": "Pomni Media", "vertical": "OTHER", "primaryPageId": "300006"}}),
        )
        .await;
    assert_eq!(
        answer["errors"][0]["extensions"]["graphApi"]["code"], 3947,
        "{answer}"
    );
    assert_eq!(first_error_code(&answer), Some("INVALID_ARGUMENT"));
}

#[tokio::test]
async fn an_employee_updating_a_business_is_forbidden_and_nothing_changes() {
    let app = spawn_app().await;
    let answer = app
        .graphql(
            Some("demo-employee"),
            r#"mutation { updateBusiness(id: "200001", input: {name: "Hijacked"}) { name } }"#,
            json!({}),
        )
        .await;
    assert_eq!(first_error_code(&answer), Some("FORBIDDEN"), "{answer}");
    let graph_api = &answer["errors"][0]["extensions"]["graphApi"];
    assert_eq!(graph_api["code"], 3910);
    assert!(graph_api["fbtraceId"].is_string());
    assert_eq!(answer["errors"][0]["path"], json!(["updateBusiness"]));

    let read = app.admin(r#"{ business(id: "200001") { name } }"#).await;
    assert_eq!(read["data"]["business"]["name"], "Pomni Media");
}

#[tokio::test]
async fn updating_the_primary_page_to_a_page_the_business_does_not_own_is_refused() {
    let app = spawn_app().await;
    let answer = app
        .admin(r#"mutation { updateBusiness(id: "200001", input: {primaryPageId: "300004"}) { name } }"#)
        .await;
    assert_eq!(
        answer["errors"][0]["extensions"]["graphApi"]["code"], 3996,
        "{answer}"
    );
}

#[tokio::test]
async fn an_update_with_nothing_to_change_is_rejected_before_any_upstream_call() {
    let app = spawn_app().await;
    let answer = app
        .refused_before_upstream(
            "demo-admin",
            r#"mutation { updateBusiness(id: "200001", input: {}) { name } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        first_error_code(&answer),
        Some("INVALID_ARGUMENT"),
        "{answer}"
    );
}

#[tokio::test]
async fn the_schema_has_no_way_to_delete_a_business() {
    let app = spawn_app().await;
    let answer = app
        .admin(r#"mutation { deleteBusiness(id: "200001") }"#)
        .await;
    assert_eq!(
        first_error_code(&answer),
        Some("GRAPHQL_VALIDATION_FAILED"),
        "{answer}"
    );
    assert!(first_error_message(&answer).contains("deleteBusiness"));
}

#[tokio::test]
async fn graph_refuses_to_delete_a_business() {
    // Graph itself refuses the delete; the gateway offers none, so this goes to the sandbox.
    let app = spawn_app().await;
    let response = app
        .http
        .delete(format!("{}/v25.0/200001", app.sandbox.url()))
        .bearer_auth("demo-admin")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], 100);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Unsupported delete request")
    );
}

#[tokio::test]
async fn a_business_the_caller_cannot_see_is_not_found() {
    let app = spawn_app().await;
    let answer = app
        .graphql(
            Some("demo-employee"),
            r#"{ business(id: "200002") { name } }"#,
            json!({}),
        )
        .await;
    assert_eq!(first_error_code(&answer), Some("NOT_FOUND"), "{answer}");
    assert_eq!(answer["data"], json!({"business": null}));
    assert_eq!(answer["errors"][0]["path"], json!(["business"]));
}

#[tokio::test]
async fn a_malformed_business_id_is_rejected_before_any_upstream_call() {
    let app = spawn_app().await;
    let answer = app
        .refused_before_upstream(
            "demo-admin",
            r#"{ business(id: "../me") { name } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        first_error_code(&answer),
        Some("INVALID_ARGUMENT"),
        "{answer}"
    );
    assert!(first_error_message(&answer).starts_with("id:"));
}
