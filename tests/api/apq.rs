//! Automatic persisted queries, as Apollo Client's persisted-queries link sends them: the hash
//! alone first, the query with its hash when the gateway does not hold it, then the hash alone
//! again (over GET for reads when `useGETForHashedQueries` is on).

use bizgraph::{Application, Settings, SharedStores};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{
    TestApp, first_error_code, first_error_message, post_graphql, spawn_app, wait_until_healthy,
};

const VIEWER: &str = "{ viewer { businesses(first: 10) { nodes { name } } } }";

fn sha256(query: &str) -> String {
    hex::encode(Sha256::digest(query.as_bytes()))
}

fn persisted(hash: &str) -> Value {
    json!({"persistedQuery": {"version": 1, "sha256Hash": hash}})
}

/// POSTs a body as the demo admin to `gateway`.
async fn post(app: &TestApp, gateway: &str, body: Value) -> Value {
    post_graphql(
        &app.http,
        &format!("{gateway}/graphql"),
        Some("demo-admin"),
        &body,
    )
    .await
}

/// GETs `/graphql` with these query-string parameters as the demo admin: status and answer.
async fn get(app: &TestApp, params: &[(&str, String)]) -> (u16, Value) {
    let response = app
        .http
        .get(format!("{}/graphql", app.gateway))
        .query(params)
        .bearer_auth("demo-admin")
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn assert_not_found(answer: &Value) {
    assert_eq!(
        answer["errors"],
        json!([{"message": "PersistedQueryNotFound",
                "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]),
        "{answer}"
    );
    assert!(answer.get("data").is_none(), "{answer}");
}

#[tokio::test]
async fn the_apq_round_trip_registers_a_document_and_runs_it_by_its_hash() {
    let app = spawn_app().await;
    let hash = sha256(VIEWER);

    // The hash alone, unknown: the answer Apollo's link retries on, with HTTP 200, no call.
    let before = app.upstream_requests().await;
    let response = app
        .http
        .post(format!("{}/graphql", app.gateway))
        .bearer_auth("demo-admin")
        .json(&json!({"extensions": persisted(&hash)}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_not_found(&response.json().await.unwrap());
    assert_eq!(app.upstream_requests().await, before);

    // The query with its hash: registered and run.
    let registered = post(
        &app,
        &app.gateway,
        json!({"query": VIEWER, "extensions": persisted(&hash)}),
    )
    .await;
    assert_eq!(
        registered["data"]["viewer"]["businesses"]["nodes"][0]["name"], "Pomni Media",
        "{registered}"
    );

    // The hash alone again: the same answer, without the query's text.
    let by_hash = post(&app, &app.gateway, json!({"extensions": persisted(&hash)})).await;
    assert_eq!(by_hash["data"], registered["data"], "{by_hash}");
    assert!(by_hash.get("errors").is_none(), "{by_hash}");

    // With variables and an operation name too.
    let named =
        "query Named($first: Int!) { viewer { businesses(first: $first) { nodes { name } } } }";
    let named_hash = sha256(named);
    post(
        &app,
        &app.gateway,
        json!({"query": named, "operationName": "Named", "variables": {"first": 1},
               "extensions": persisted(&named_hash)}),
    )
    .await;
    let answer = post(
        &app,
        &app.gateway,
        json!({"operationName": "Named", "variables": {"first": 1},
               "extensions": persisted(&named_hash)}),
    )
    .await;
    assert_eq!(
        answer["data"]["viewer"]["businesses"]["nodes"],
        json!([{"name": "Pomni Media"}]),
        "{answer}"
    );
}

#[tokio::test]
async fn a_hash_that_is_not_the_querys_or_an_unknown_version_is_refused_and_nothing_is_kept() {
    let app = spawn_app().await;
    let other = sha256("{ viewer { name } }");
    let before = app.upstream_requests().await;
    let answer = post(
        &app,
        &app.gateway,
        json!({"query": VIEWER, "extensions": persisted(&other)}),
    )
    .await;
    assert_eq!(first_error_code(&answer), Some("BAD_REQUEST"), "{answer}");
    assert_eq!(
        first_error_message(&answer),
        "provided sha does not match query"
    );
    assert_eq!(app.upstream_requests().await, before);
    // The wrong hash did not register the query under it.
    assert_not_found(&post(&app, &app.gateway, json!({"extensions": persisted(&other)})).await);

    let version_2 = post(
        &app,
        &app.gateway,
        json!({"query": VIEWER,
               "extensions": {"persistedQuery": {"version": 2, "sha256Hash": sha256(VIEWER)}}}),
    )
    .await;
    assert_eq!(
        first_error_code(&version_2),
        Some("BAD_REQUEST"),
        "{version_2}"
    );
    assert!(
        first_error_message(&version_2).contains("version 2 is not supported"),
        "{version_2}"
    );

    let not_a_hash = post(&app, &app.gateway, json!({"extensions": persisted("abc")})).await;
    assert_eq!(
        first_error_code(&not_a_hash),
        Some("BAD_REQUEST"),
        "{not_a_hash}"
    );
    assert!(
        first_error_message(&not_a_hash).contains("64 hex digits"),
        "{not_a_hash}"
    );

    // Without a persisted query, a body without `query` is refused as before.
    let response = app
        .http
        .post(format!("{}/graphql", app.gateway))
        .bearer_auth("demo-admin")
        .json(&json!({"extensions": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn a_registered_query_runs_over_get_by_its_hash_and_mutations_stay_refused_over_get() {
    let app = spawn_app().await;
    let hash = sha256(VIEWER);
    let extensions = persisted(&hash).to_string();

    let (status, answer) = get(&app, &[("extensions", extensions.clone())]).await;
    assert_eq!(status, 200);
    assert_not_found(&answer);

    post(
        &app,
        &app.gateway,
        json!({"query": VIEWER, "extensions": persisted(&hash)}),
    )
    .await;
    let (status, answer) = get(
        &app,
        &[("extensions", extensions), ("variables", "{}".to_owned())],
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["data"]["viewer"]["businesses"]["nodes"][0]["name"], "Pomni Media",
        "{answer}"
    );

    // A mutation registered over POST is still refused over GET.
    let mutation = r#"mutation { createBusiness(input: {name: "X", vertical: OTHER, primaryPageId: "1"}) { id } }"#;
    let mutation_hash = sha256(mutation);
    post(
        &app,
        &app.gateway,
        json!({"query": mutation, "extensions": persisted(&mutation_hash)}),
    )
    .await;
    let before = app.upstream_requests().await;
    let (status, answer) = get(
        &app,
        &[("extensions", persisted(&mutation_hash).to_string())],
    )
    .await;
    assert_eq!(status, 405, "{answer}");
    assert_eq!(first_error_code(&answer), Some("METHOD_NOT_ALLOWED"));
    assert_eq!(app.upstream_requests().await, before);
}

#[tokio::test]
async fn replicas_on_one_store_run_each_others_persisted_queries() {
    let app = spawn_app().await;
    let stores = SharedStores::in_memory(16 * 1024 * 1024);
    let mut replicas = Vec::new();
    for _ in 0..2 {
        let mut settings = Settings::for_upstream(app.sandbox.url());
        settings.upstream.timeout = std::time::Duration::from_secs(10);
        let replica = Application::build_on(settings, stores.clone())
            .await
            .unwrap();
        let gateway = format!("http://{}", replica.addr());
        replica.spawn();
        wait_until_healthy(&app.http, &gateway).await;
        replicas.push(gateway);
    }
    let hash = sha256(VIEWER);
    assert_not_found(&post(&app, &replicas[1], json!({"extensions": persisted(&hash)})).await);
    let registered = post(
        &app,
        &replicas[0],
        json!({"query": VIEWER, "extensions": persisted(&hash)}),
    )
    .await;
    let elsewhere = post(&app, &replicas[1], json!({"extensions": persisted(&hash)})).await;
    assert_eq!(elsewhere["data"], registered["data"], "{elsewhere}");
    assert_eq!(
        elsewhere["data"]["viewer"]["businesses"]["nodes"][0]["name"],
        "Pomni Media"
    );
    // A gateway on stores of its own does not hold it.
    assert_not_found(&post(&app, &app.gateway, json!({"extensions": persisted(&hash)})).await);
}

#[tokio::test]
async fn get_takes_operation_name_and_variables_as_apollo_sends_them() {
    let app = spawn_app().await;
    let document = "query First { viewer { name } } \
                    query Second($first: Int!) { viewer { businesses(first: $first) { nodes { name } } } }";
    let hash = sha256(document);
    post(
        &app,
        &app.gateway,
        json!({"query": document, "operationName": "First", "extensions": persisted(&hash)}),
    )
    .await;
    let (status, answer) = get(
        &app,
        &[
            ("operationName", "Second".to_owned()),
            ("variables", json!({"first": 1}).to_string()),
            ("extensions", persisted(&hash).to_string()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["data"],
        json!({"viewer": {"businesses": {"nodes": [{"name": "Pomni Media"}]}}}),
        "{answer}"
    );

    let (status, answer) = get(
        &app,
        &[
            ("query", "{ viewer { name } }".to_owned()),
            ("variables", "[1]".to_owned()),
        ],
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        first_error_message(&answer).contains("`variables` must be a JSON object"),
        "{answer}"
    );
}
