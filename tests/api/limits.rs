//! Request limits: deep nesting in every disguise, fragment fan-out, introspection, the deadline, the error cap and the refusal metrics.

use serde_json::{Value, json};

use crate::helpers::{TestApp, first_error_code, first_error_message, spawn_app};

/// `n` list levels around `1`.
fn lists(n: usize) -> String {
    format!("{}1{}", "[".repeat(n), "]".repeat(n))
}

/// `n` object levels around `1`.
fn objects(n: usize) -> String {
    format!("{}1{}", "{k: ".repeat(n), "}".repeat(n))
}

/// Asserts that the gateway refused `answer` as too deep, and still answers a real query.
async fn assert_refused_and_alive(app: &TestApp, answer: &Value) {
    assert_eq!(first_error_code(answer), Some("BAD_REQUEST"), "{answer}");
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("nest deeper than 64"),
        "{answer}"
    );
    assert!(answer.get("data").is_none(), "{answer}");
    let alive = app.admin("{ viewer { name } }").await;
    assert_eq!(alive["data"]["viewer"]["name"], "Alex Rivera", "{alive}");
}

#[tokio::test]
async fn a_quote_in_a_comment_cannot_hide_a_deep_list_from_the_guard() {
    let app = spawn_app().await;
    let query = format!("{{ business(id: # \"\n{}) {{ id }} }}", lists(2000));
    let answer = app.admin(&query).await;
    assert_refused_and_alive(&app, &answer).await;
}

#[tokio::test]
async fn a_quote_in_a_comment_cannot_hide_a_deep_object_from_the_guard() {
    let app = spawn_app().await;
    let query = format!("{{ business(id: # \"\n{}) {{ id }} }}", objects(2000));
    let answer = app.admin(&query).await;
    assert_refused_and_alive(&app, &answer).await;
}

#[tokio::test]
async fn a_block_string_cannot_hide_a_deep_list_from_the_guard() {
    let app = spawn_app().await;
    let query = format!(
        "{{ business(id: \"\"\" \" \"\"\", x: {}) {{ id }} }}",
        lists(2000)
    );
    let answer = app.admin(&query).await;
    assert_refused_and_alive(&app, &answer).await;
}

#[tokio::test]
async fn a_deep_list_over_get_is_refused_too() {
    let app = spawn_app().await;
    let query = format!("{{ business(id: # \"\n{}) {{ id }} }}", lists(2000));
    let answer: Value = app
        .http
        .get(format!("{}/graphql", app.gateway))
        .query(&[("query", query.as_str())])
        .bearer_auth("demo-admin")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_refused_and_alive(&app, &answer).await;
}

#[tokio::test]
async fn deep_variables_are_refused_over_post_and_get() {
    let app = spawn_app().await;
    // serde_json stops at 128 levels; 100 is under it and over the gateway's 64.
    let deep: Value = serde_json::from_str(&lists(100)).unwrap();
    let query = "query($ids: [ID!]!) { businesses(ids: $ids) { id } }";
    let answer = app
        .graphql(Some("demo-admin"), query, json!({"ids": deep}))
        .await;
    assert_refused_and_alive(&app, &answer).await;
    let answer: Value = app
        .http
        .get(format!("{}/graphql", app.gateway))
        .query(&[("query", query), ("variables", &lists(100))])
        .bearer_auth("demo-admin")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(first_error_code(&answer).is_some(), "{answer}");
    assert!(answer.get("data").is_none(), "{answer}");
}

#[tokio::test]
async fn variables_nested_past_the_json_parsers_limit_are_a_bad_request() {
    let app = spawn_app().await;
    let body = format!(
        r#"{{"query": "query($v: [ID!]!) {{ businesses(ids: $v) {{ id }} }}", "variables": {{"v": {}}}}}"#,
        lists(5000)
    );
    let response = app
        .http
        .post(format!("{}/graphql", app.gateway))
        .header("content-type", "application/json")
        .bearer_auth("demo-admin")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(first_error_code(&answer), Some("BAD_REQUEST"), "{answer}");
    let alive = app.admin("{ viewer { name } }").await;
    assert_eq!(alive["data"]["viewer"]["name"], "Alex Rivera");
}

#[tokio::test]
async fn an_answer_carries_at_most_a_hundred_errors_and_says_how_many_were_left_out() {
    let app = spawn_app().await;
    // 600 unknown fields: one validation error each.
    let fields: String = (0..600).map(|i| format!(" nope{i}")).collect();
    let answer = app.admin(&format!("{{ viewer {{{fields} }} }}")).await;
    let errors = answer["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 101, "{answer}");
    assert_eq!(errors[0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED");
    let last = &errors[100];
    assert_eq!(last["extensions"]["code"], "TOO_MANY_ERRORS");
    assert_eq!(last["extensions"]["omittedErrors"], 500);
    assert!(answer.get("data").is_none(), "{answer}");
}

#[tokio::test]
async fn requests_refused_before_they_run_are_counted_by_reason() {
    let app = spawn_app().await;
    app.admin(&format!("{{ a(x: {}) }}", lists(100))).await;
    app.admin("{ viewer { name ").await;
    app.admin("{ viewer { nope } }").await;
    let metrics = app.page("/metrics").await;
    for reason in ["too_deep", "parse_failed", "invalid"] {
        assert!(
            metrics.contains(&format!(
                "bizgraph_graphql_refused_total{{reason=\"{reason}\"}} 1"
            )),
            "{reason}: {metrics}"
        );
    }
}

#[tokio::test]
async fn a_deeply_nested_argument_is_refused_without_crashing() {
    let app = spawn_app().await;
    let deep = format!(
        "{{ businesses(ids: {}\"1\"{}) {{ id }} }}",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    let answer = app.admin(&deep).await;
    assert_eq!(first_error_code(&answer), Some("BAD_REQUEST"), "{answer}");
    let health = app
        .http
        .get(format!("{}/healthz", app.gateway))
        .send()
        .await
        .unwrap();
    assert!(health.status().is_success());
}

#[tokio::test]
async fn a_tiny_document_whose_fragments_fan_out_is_refused_before_validation() {
    let app = spawn_app().await;
    let mut query = String::from("query { ...F0 }\n");
    for i in 0..30 {
        query.push_str(&format!(
            "fragment F{i} on Query {{ ...F{next} ...F{next} }}\n",
            next = i + 1
        ));
    }
    query.push_str("fragment F30 on Query { viewer { id } }\n");
    let before = app.upstream_requests().await;
    let answer = app.admin(&query).await;
    assert_eq!(first_error_code(&answer), Some("BAD_REQUEST"), "{answer}");
    assert!(first_error_message(&answer).contains("fragments are spread out"));
    assert_eq!(app.upstream_requests().await, before);
}

#[tokio::test]
async fn introspection_works_without_a_token() {
    let app = spawn_app().await;
    let answer = app
        .graphql(None, "{ __schema { queryType { name } } }", json!({}))
        .await;
    assert_eq!(answer["data"]["__schema"]["queryType"]["name"], "Query");
}

/// The introspection query GraphiQL sends (graphql-js `getIntrospectionQuery` with every option).
const INTROSPECTION: &str = r#"query IntrospectionQuery {
  __schema {
    queryType { name kind }
    mutationType { name kind }
    subscriptionType { name kind }
    types { ...FullType }
    directives { name description isRepeatable locations args(includeDeprecated: true) { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description specifiedByURL isOneOf
  fields(includeDeprecated: true) { name description args(includeDeprecated: true) { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields(includeDeprecated: true) { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue isDeprecated deprecationReason }
fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } } }
"#;

#[tokio::test]
async fn graphiqls_full_introspection_query_is_within_the_limits() {
    let app = spawn_app().await;
    let answer = app.graphql(None, INTROSPECTION, json!({})).await;
    assert!(answer.get("errors").is_none(), "{answer}");
    assert_eq!(answer["data"]["__schema"]["queryType"]["name"], "Query");
}

#[tokio::test]
async fn a_request_that_outlives_its_deadline_is_abandoned_with_a_coded_error() {
    let app = crate::helpers::spawn_app_configured(|settings| {
        settings.server.request_timeout = std::time::Duration::from_millis(300);
    })
    .await;
    app.control("faults", json!({"latency_ms": 2000, "times": 1}))
        .await;
    let response = app
        .http
        .post(format!("{}/graphql", app.gateway))
        .bearer_auth("demo-admin")
        .json(&json!({"query": "{ viewer { name } }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 504);
    let answer: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        first_error_code(&answer),
        Some("GATEWAY_TIMEOUT"),
        "{answer}"
    );
}
