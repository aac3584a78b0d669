//! Production switches: introspection, suggestions and the explorers off, and complexity that
//! counts pages.

use serde_json::json;

use crate::helpers::{first_error_code, first_error_message, spawn_app, spawn_app_configured};

#[tokio::test]
async fn with_introspection_off_the_schema_cannot_be_read_or_guessed() {
    let app = spawn_app_configured(|s| s.server.introspection = false).await;
    for query in [
        "{ __schema { types { name } } }",
        "{ __type(name: \"Business\") { fields { name } } }",
        "{ ...Q } fragment Q on Query { ... on Query { __schema { queryType { name } } } }",
    ] {
        let answer = app
            .refused_before_upstream("demo-admin", query, json!({}))
            .await;
        assert_eq!(
            first_error_code(&answer),
            Some("GRAPHQL_VALIDATION_FAILED"),
            "{answer}"
        );
        assert!(
            first_error_message(&answer).contains("introspection"),
            "{answer}"
        );
        assert!(answer.get("data").is_none(), "{answer}");
    }
    // `__typename` is not introspection of the schema; clients add it everywhere.
    let answer = app.admin("{ __typename viewer { __typename name } }").await;
    assert_eq!(answer["data"]["viewer"]["__typename"], "User", "{answer}");
    let answer = app.admin("{ viewer { nam } }").await;
    assert_eq!(first_error_code(&answer), Some("GRAPHQL_VALIDATION_FAILED"));
    assert!(
        !first_error_message(&answer).contains("Did you mean"),
        "{answer}"
    );
    let response = app
        .http
        .get(format!("{}/schema.graphql", app.gateway))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    // Queries still work.
    let answer = app.admin("{ viewer { name } }").await;
    assert_eq!(answer["data"]["viewer"]["name"], "Alex Rivera");
}

#[tokio::test]
async fn with_introspection_on_errors_suggest_the_field_meant() {
    let app = spawn_app().await;
    let answer = app.admin("{ viewer { nam } }").await;
    assert!(
        first_error_message(&answer).contains("Did you mean"),
        "{answer}"
    );
}

#[tokio::test]
async fn production_mode_serves_neither_graphiql_nor_its_files() {
    let app = spawn_app_configured(|s| {
        s.server.introspection = false;
        s.server.explorers = false;
    })
    .await;
    for path in [
        "/",
        "/graphiql",
        "/graphiql/assets/graphiql.min.js",
        "/schema.graphql",
    ] {
        let response = app
            .http
            .get(format!("{}{path}", app.gateway))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
    let health = app.page("/healthz").await;
    assert_eq!(health, "ok");
}

#[test]
fn the_production_flag_turns_every_explorer_off() {
    use clap::Parser;
    let cli = bizgraph::config::Cli::try_parse_from(["bizgraph", "serve", "--production"]).unwrap();
    let Some(bizgraph::config::Command::Serve(args)) = cli.command else {
        panic!("serve")
    };
    let settings = bizgraph::Settings::from_args(&args, "http://127.0.0.1:1".to_owned());
    assert!(!settings.server.introspection);
    assert!(!settings.server.explorers);
    let cli =
        bizgraph::config::Cli::try_parse_from(["bizgraph", "--introspection", "off"]).unwrap();
    let settings = bizgraph::Settings::from_args(&cli.serve, "http://127.0.0.1:1".to_owned());
    assert!(!settings.server.introspection);
    assert!(settings.server.explorers);
}

#[tokio::test]
async fn complexity_counts_each_item_of_a_page() {
    let app = spawn_app_configured(|s| s.limits.max_complexity = 150).await;
    // 100 businesses × (nodes + name) is 201, over 150; 10 of them is 21.
    let big = "{ viewer { businesses(first: 100) { nodes { name } } } }";
    let answer = app
        .refused_before_upstream("demo-admin", big, json!({}))
        .await;
    assert_eq!(
        first_error_code(&answer),
        Some("GRAPHQL_VALIDATION_FAILED"),
        "{answer}"
    );
    assert!(first_error_message(&answer).contains("complex"), "{answer}");
    let small = "{ viewer { businesses(first: 10) { nodes { name } } } }";
    let answer = app.admin(small).await;
    assert!(answer["errors"].is_null(), "{answer}");
    // Without `first`, a page counts as 25 items.
    let nested = "{ viewer { businesses { nodes { pages { nodes { name } } } } } }";
    let answer = app
        .refused_before_upstream("demo-admin", nested, json!({}))
        .await;
    assert!(first_error_message(&answer).contains("complex"), "{answer}");
}
