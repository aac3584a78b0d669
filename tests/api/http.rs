//! GraphQL over HTTP: media types, status codes, GET and POST, and `data` as the specification says.

use reqwest::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::helpers::{TestApp, first_error_code, first_error_message, spawn_app};

const NEW: &str = "application/graphql-response+json";

/// POSTs `body` with an `Accept` header (or none); the status, content type and JSON answer.
async fn post(app: &TestApp, accept: Option<&str>, body: Value) -> (u16, String, Value) {
    let mut request = app
        .http
        .post(format!("{}/graphql", app.gateway))
        .bearer_auth("demo-admin")
        .json(&body);
    if let Some(accept) = accept {
        request = request.header(ACCEPT, accept);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned();
    (status, content_type, response.json().await.unwrap())
}

/// The same over GET.
async fn get(app: &TestApp, accept: Option<&str>, query: &str) -> (u16, String, Value) {
    let mut request = app
        .http
        .get(format!("{}/graphql", app.gateway))
        .query(&[("query", query)])
        .bearer_auth("demo-admin");
    if let Some(accept) = accept {
        request = request.header(ACCEPT, accept);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned();
    (status, content_type, response.json().await.unwrap())
}

#[tokio::test]
async fn the_new_media_type_is_answered_when_accepted_with_200_for_a_good_query() {
    let app = spawn_app().await;
    let (status, content_type, answer) =
        post(&app, Some(NEW), json!({"query": "{ viewer { name } }"})).await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with(NEW), "{content_type}");
    assert_eq!(answer["data"]["viewer"]["name"], "Alex Rivera");
}

#[tokio::test]
async fn without_accept_the_answer_is_application_json() {
    let app = spawn_app().await;
    let (status, content_type, _) = post(&app, None, json!({"query": "{ viewer { name } }"})).await;
    assert_eq!(status, 200);
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
}

#[tokio::test]
async fn a_document_that_does_not_parse_is_400_in_the_new_type_and_200_in_json_without_data() {
    let app = spawn_app().await;
    let body = json!({"query": "{ viewer { name "});
    let (status, _, answer) = post(&app, Some(NEW), body.clone()).await;
    assert_eq!(status, 400);
    assert_eq!(first_error_code(&answer), Some("GRAPHQL_PARSE_FAILED"));
    assert!(answer.get("data").is_none(), "{answer}");
    let (status, _, answer) = post(&app, Some("application/json"), body).await;
    assert_eq!(status, 200);
    assert!(answer.get("data").is_none(), "{answer}");
}

#[tokio::test]
async fn a_document_that_does_not_validate_is_400_in_the_new_type_and_200_in_json_without_data() {
    let app = spawn_app().await;
    let body = json!({"query": "{ viewer { nope } }"});
    let (status, _, answer) = post(&app, Some(NEW), body.clone()).await;
    assert_eq!(status, 400);
    assert_eq!(first_error_code(&answer), Some("GRAPHQL_VALIDATION_FAILED"));
    assert!(answer.get("data").is_none(), "{answer}");
    let (status, _, answer) = post(&app, None, body).await;
    assert_eq!(status, 200);
    assert_eq!(first_error_code(&answer), Some("GRAPHQL_VALIDATION_FAILED"));
    assert!(answer.get("data").is_none(), "{answer}");
}

#[tokio::test]
async fn variables_that_do_not_coerce_are_a_request_error_without_data() {
    let app = spawn_app().await;
    let query = "query($id: ID!) { business(id: $id) { name } }";
    for variables in [
        json!({"id": {"not": "an id"}}),
        json!({}),
        json!({"id": null}),
    ] {
        let (status, _, answer) = post(
            &app,
            Some(NEW),
            json!({"query": query, "variables": variables}),
        )
        .await;
        assert_eq!(status, 400, "{variables}: {answer}");
        assert!(answer.get("data").is_none(), "{variables}: {answer}");
        assert!(first_error_code(&answer).is_some(), "{answer}");
    }
}

#[tokio::test]
async fn get_and_post_answer_a_query_alike() {
    let app = spawn_app().await;
    let query = "{ viewer { name } }";
    let (post_status, post_type, post_answer) =
        post(&app, Some(NEW), json!({"query": query})).await;
    let (get_status, get_type, get_answer) = get(&app, Some(NEW), query).await;
    assert_eq!((post_status, &post_type), (get_status, &get_type));
    assert_eq!(post_answer["data"], get_answer["data"]);
    let (status, _, answer) = get(&app, Some(NEW), "{ viewer { nope } }").await;
    assert_eq!(status, 400);
    assert!(answer.get("data").is_none(), "{answer}");
}

#[tokio::test]
async fn a_mutation_over_get_is_405_with_an_allow_header() {
    let app = spawn_app().await;
    let response = app
        .http
        .get(format!("{}/graphql", app.gateway))
        .query(&[(
            "query",
            "mutation { updateBusiness(id: \"200001\", input: {name: \"X\"}) { id } }",
        )])
        .header(ACCEPT, NEW)
        .bearer_auth("demo-admin")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
}

#[tokio::test]
async fn a_client_that_accepts_no_served_type_gets_406() {
    let app = spawn_app().await;
    let response = app
        .http
        .post(format!("{}/graphql", app.gateway))
        .header(ACCEPT, "text/html")
        .json(&json!({"query": "{ viewer { name } }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 406);
}

#[tokio::test]
async fn a_body_that_is_not_a_graphql_request_is_400_in_both_types() {
    let app = spawn_app().await;
    for accept in [Some(NEW), None] {
        for body in [
            json!({"query": 1}),
            json!({"nothing": "here"}),
            json!({"query": "{ viewer { name } }", "variables": "{}"}),
            json!({"query": "{ viewer { name } }", "operationName": 3}),
            json!(["not", "an", "object"]),
        ] {
            let (status, _, answer) = post(&app, accept, body.clone()).await;
            assert_eq!(status, 400, "{body}: {answer}");
            assert_eq!(first_error_code(&answer), Some("BAD_REQUEST"));
            assert!(answer.get("data").is_none(), "{answer}");
        }
    }
}

#[tokio::test]
async fn answers_with_a_callers_data_are_not_stored_by_shared_caches() {
    let app = spawn_app().await;
    let response = app
        .http
        .post(format!("{}/graphql", app.gateway))
        .bearer_auth("demo-admin")
        .json(&json!({"query": "{ viewer { name } }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
    let response = app
        .http
        .get(format!("{}/graphql", app.gateway))
        .query(&[("query", "{ viewer { name } }")])
        .bearer_auth("demo-admin")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
}

#[tokio::test]
async fn a_field_error_keeps_data_and_status_200_in_the_new_type() {
    let app = spawn_app().await;
    let (status, _, answer) = post(
        &app,
        Some(NEW),
        json!({"query": "{ viewer { name } business(id: \"999999\") { name } }"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(answer["data"]["viewer"]["name"], "Alex Rivera");
    assert_eq!(answer["data"]["business"], Value::Null);
    assert!(first_error_code(&answer).is_some(), "{answer}");
}

#[tokio::test]
async fn a_query_over_get_is_answered() {
    let app = spawn_app().await;
    let answer: serde_json::Value = app
        .http
        .get(format!("{}/graphql", app.gateway))
        .query(&[("query", "{ viewer { name } }")])
        .bearer_auth("demo-admin")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["data"]["viewer"]["name"], "Alex Rivera", "{answer}");
}

#[tokio::test]
async fn a_mutation_over_get_is_refused_and_writes_nothing() {
    let app = spawn_app().await;
    let before = app.upstream_requests().await;
    let response = app
        .http
        .get(format!("{}/graphql", app.gateway))
        .query(&[(
            "query",
            r#"mutation { updateBusiness(id: "200001", input: {name: "Via GET"}) { name } }"#,
        )])
        .bearer_auth("demo-admin")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    let answer: serde_json::Value = response.json().await.unwrap();
    assert_eq!(first_error_code(&answer), Some("METHOD_NOT_ALLOWED"));
    assert_eq!(app.upstream_requests().await, before);
}

#[tokio::test]
async fn a_post_that_is_not_json_is_refused() {
    let app = spawn_app().await;
    let response = app
        .http
        .post(format!("{}/graphql", app.gateway))
        .header("content-type", "text/plain")
        .bearer_auth("demo-admin")
        .body(r#"{"query":"{ viewer { id } }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    let answer: serde_json::Value = response.json().await.unwrap();
    assert_eq!(first_error_code(&answer), Some("BAD_REQUEST"));
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_a_coded_error() {
    let app = spawn_app().await;
    let query = format!("{{ viewer {{ id }} }} # {}", "x".repeat(300 * 1024));
    let response = app
        .http
        .post(format!("{}/graphql", app.gateway))
        .bearer_auth("demo-admin")
        .json(&json!({"query": query}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let answer: serde_json::Value = response.json().await.unwrap();
    assert_eq!(first_error_code(&answer), Some("BAD_REQUEST"), "{answer}");
}

#[tokio::test]
async fn a_query_that_does_not_parse_is_reported_as_such() {
    let app = spawn_app().await;
    let answer = app.admin("{ viewer { ").await;
    assert_eq!(
        first_error_code(&answer),
        Some("GRAPHQL_PARSE_FAILED"),
        "{answer}"
    );
    assert!(first_error_message(&answer).contains("does not parse"));
}

#[tokio::test]
async fn a_variable_of_the_wrong_type_is_an_invalid_argument() {
    let app = spawn_app().await;
    let answer = app
        .graphql(
            Some("demo-admin"),
            "query($id: ID!) { business(id: $id) { name } }",
            json!({"id": {"not": "an id"}}),
        )
        .await;
    assert_eq!(
        first_error_code(&answer),
        Some("INVALID_ARGUMENT"),
        "{answer}"
    );
    assert!(first_error_message(&answer).contains("\"id\""));
}
