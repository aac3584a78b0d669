//! Tokens and the transport rules of `/graphql`.

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
async fn introspection_works_without_a_token() {
    let app = spawn_app().await;
    let answer = app
        .graphql(None, "{ __schema { queryType { name } } }", json!({}))
        .await;
    assert_eq!(answer["data"]["__schema"]["queryType"]["name"], "Query");
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
async fn every_call_carries_an_appsecret_proof_when_a_secret_is_configured() {
    let app = crate::helpers::spawn_app_with(
        graph_sandbox::SandboxSettings {
            app_secret: Some("test-secret".to_owned()),
            require_appsecret_proof: true,
            ..graph_sandbox::SandboxSettings::default()
        },
        |settings| settings.app_secret = Some("test-secret".to_owned()),
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

#[tokio::test]
async fn a_temporary_graph_failure_is_retried() {
    let app = spawn_app().await;
    app.control("faults", json!({"error_code": 2, "times": 1}))
        .await;
    let answer = app.admin("{ viewer { name } }").await;
    assert_eq!(answer["data"]["viewer"]["name"], "Alex Rivera", "{answer}");
}

#[tokio::test]
async fn a_rate_limit_is_reported_with_a_retry_hint() {
    let app = spawn_app().await;
    app.control("faults", json!({"error_code": 4, "times": 1}))
        .await;
    let answer = app.admin("{ viewer { name } }").await;
    assert_eq!(first_error_code(&answer), Some("RATE_LIMITED"), "{answer}");
    assert!(
        answer["errors"][0]["extensions"]["retryAfterSeconds"]
            .as_u64()
            .unwrap()
            > 0
    );
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

#[tokio::test]
async fn a_configured_origin_may_call_from_a_browser_and_others_may_not() {
    let app = crate::helpers::spawn_app_configured(|settings| {
        settings.cors_origins = vec!["https://app.example.com".to_owned()];
    })
    .await;
    let preflight = |origin: &'static str| {
        app.http
            .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.gateway))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
    };
    let allowed = preflight("https://app.example.com").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let refused = preflight("https://evil.example.net").await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn an_invalid_cors_origin_stops_the_gateway_from_starting() {
    let mut settings = bizgraph::Settings::for_upstream("http://127.0.0.1:9");
    settings.cors_origins = vec!["app.example.com/".to_owned()];
    let error = bizgraph::Application::build(settings).await.err().unwrap();
    assert!(error.to_string().contains("app.example.com/"), "{error}");
}

#[tokio::test]
async fn a_graph_call_slower_than_the_timeout_is_upstream_unavailable() {
    let app = crate::helpers::spawn_app_configured(|settings| {
        settings.upstream_timeout = std::time::Duration::from_millis(300);
    })
    .await;
    // Slow enough for the first try and both retries to time out.
    app.control("faults", json!({"latency_ms": 1000, "times": 3}))
        .await;
    let answer = app.admin("{ viewer { name } }").await;
    assert_eq!(
        first_error_code(&answer),
        Some("UPSTREAM_UNAVAILABLE"),
        "{answer}"
    );
    assert!(first_error_message(&answer).contains("did not answer in time"));
}

#[tokio::test]
async fn an_unreachable_graph_is_upstream_unavailable() {
    // A port that was free a moment ago and has nobody listening now.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let app =
        bizgraph::Application::build(bizgraph::Settings::for_upstream(format!("http://{closed}")))
            .await
            .unwrap();
    let gateway = format!("http://{}/graphql", app.addr());
    app.spawn();
    let answer = crate::helpers::post_graphql(
        &reqwest::Client::new(),
        &gateway,
        Some("demo-admin"),
        &json!({"query": "{ viewer { name } }"}),
    )
    .await;
    assert_eq!(
        first_error_code(&answer),
        Some("UPSTREAM_UNAVAILABLE"),
        "{answer}"
    );
    assert!(!answer.to_string().contains("demo-admin"));
}

#[tokio::test]
async fn after_graph_throttles_a_token_its_calls_are_held_back_and_other_tokens_go_on() {
    let app = spawn_app().await;
    app.control("faults", json!({"error_code": 4, "times": 1}))
        .await;
    let throttled = app.admin("{ viewer { name } }").await;
    assert_eq!(
        first_error_code(&throttled),
        Some("RATE_LIMITED"),
        "{throttled}"
    );

    let before = app.upstream_requests().await;
    let held = app.admin("{ viewer { id } }").await;
    assert_eq!(first_error_code(&held), Some("RATE_LIMITED"), "{held}");
    assert!(
        held["errors"][0]["extensions"]["retryAfterSeconds"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert_eq!(
        app.upstream_requests().await,
        before,
        "a held-back call reached Graph"
    );

    let other = app
        .graphql(Some("demo-employee"), "{ viewer { name } }", json!({}))
        .await;
    assert_eq!(other["data"]["viewer"]["name"], "Sam Chen", "{other}");
}

#[tokio::test]
async fn a_token_that_used_up_its_hourly_calls_is_held_back_before_graph_refuses_it() {
    let app = crate::helpers::spawn_app_with(
        graph_sandbox::SandboxSettings {
            app_calls_per_hour: 4,
            ..graph_sandbox::SandboxSettings::default()
        },
        |settings| settings.cache_ttl = std::time::Duration::ZERO,
    )
    .await;
    // Four calls use the whole hour; the fourth answer says so in x-app-usage.
    for _ in 0..4 {
        let answer = app.admin("{ viewer { name } }").await;
        assert_eq!(answer["data"]["viewer"]["name"], "Alex Rivera", "{answer}");
    }
    let before = app.upstream_requests().await;
    let held = app.admin("{ viewer { name } }").await;
    assert_eq!(first_error_code(&held), Some("RATE_LIMITED"), "{held}");
    assert_eq!(app.upstream_requests().await, before);
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
        settings.request_timeout = std::time::Duration::from_millis(300);
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
