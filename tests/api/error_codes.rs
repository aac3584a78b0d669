//! The error model: the README's list of codes is the enum's, each family of async-graphql's
//! own errors keeps its code, and Graph's texts can be hidden by policy.

use bizgraph::error::ErrorCode;
use bizgraph::schema::UpstreamMessages;
use serde_json::{Value, json};

use crate::helpers::{first_error_code, spawn_app, spawn_app_configured};

/// The codes the README's "Errors" section lists, in backticks.
fn readme_codes() -> Vec<String> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("Every error carries `extensions.code`")
        .unwrap();
    let end = start
        + readme[start..]
            .find("Errors from Graph also carry")
            .unwrap();
    let mut codes: Vec<String> = readme[start..end]
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|word| word.len() > 2 && word.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .map(str::to_owned)
        .collect();
    codes.sort();
    codes.dedup();
    codes
}

#[test]
fn the_readme_lists_exactly_the_codes_of_the_enum() {
    let mut enum_codes: Vec<String> = ErrorCode::ALL
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    enum_codes.sort();
    assert_eq!(readme_codes(), enum_codes);
}

/// Every error of `answer` has this code.
fn assert_all_coded(answer: &Value, code: &str) {
    let errors = answer["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors: {answer}"));
    for error in errors {
        assert_eq!(error["extensions"]["code"], code, "{answer}");
    }
}

#[tokio::test]
async fn each_family_of_the_librarys_own_errors_keeps_its_code() {
    let app = spawn_app_configured(|s| s.limits.max_complexity = 1000).await;
    let cases: Vec<(&str, Value, &str)> = vec![
        // Parsing.
        ("{ viewer { name ", json!({}), "GRAPHQL_PARSE_FAILED"),
        // Validation: an unknown field, an unknown argument, a missing one.
        (
            "{ viewer { nope } }",
            json!({}),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "{ viewer { name(x: 1) } }",
            json!({}),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "{ business { name } }",
            json!({}),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        // Argument coercion, of a literal and of a variable.
        (
            "{ businesses(ids: {a: 1}) { id } }",
            json!({}),
            "INVALID_ARGUMENT",
        ),
        (
            "query($ids: [ID!]!) { businesses(ids: $ids) { id } }",
            json!({"ids": {"a": 1}}),
            "INVALID_ARGUMENT",
        ),
        (
            "query($first: Int) { viewer { businesses(first: $first) { nodes { id } } } }",
            json!({"first": "ten"}),
            "INVALID_ARGUMENT",
        ),
        // Limits: depth (16), complexity (1000 here), the library's recursion limit (32).
        (
            "{ viewer { businesses { nodes { pages { nodes { id } } } } } }",
            json!({}),
            "GRAPHQL_VALIDATION_FAILED",
        ),
    ];
    for (query, variables, code) in cases {
        let answer = app.graphql(Some("demo-admin"), query, variables).await;
        assert_all_coded(&answer, code);
        assert!(answer.get("data").is_none(), "{query}: {answer}");
    }
    let deep = format!("{}{}", "{ viewer ".repeat(20), "}".repeat(20));
    assert_all_coded(&app.admin(&deep).await, "GRAPHQL_VALIDATION_FAILED");
    let past_recursion_limit = format!("{}{}", "{ viewer ".repeat(40), "}".repeat(40));
    let answer = app.admin(&past_recursion_limit).await;
    assert_all_coded(&answer, "GRAPHQL_VALIDATION_FAILED");
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("recursion depth"),
        "{answer}"
    );
    // A value nested inside the guard's bound but not of the argument's type.
    let nested_input = format!(
        "{{ businesses(ids: {}\"1\"{}) {{ id }} }}",
        "[".repeat(40),
        "]".repeat(40)
    );
    assert_all_coded(&app.admin(&nested_input).await, "INVALID_ARGUMENT");
}

/// `answer` without the parts that change from run to run (trace ids, cost).
fn without_volatile(mut answer: Value) -> Value {
    if let Some(errors) = answer["errors"].as_array_mut() {
        for error in errors {
            if let Some(graph) = error["extensions"]["graphApi"].as_object_mut() {
                graph.remove("fbtraceId");
            }
        }
    }
    if let Some(object) = answer.as_object_mut() {
        object.remove("extensions");
    }
    answer
}

#[tokio::test]
async fn graphs_own_texts_pass_through_by_default() {
    let app = spawn_app().await;
    let answer = app.admin(r#"{ business(id: "999999") { name } }"#).await;
    assert_eq!(first_error_code(&answer), Some("NOT_FOUND"), "{answer}");
    let message = answer["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("999999"),
        "Graph's own text names the id: {answer}"
    );
}

#[tokio::test]
async fn graphs_texts_can_be_hidden_keeping_its_codes_for_support() {
    let app = spawn_app_configured(|s| s.upstream.messages = UpstreamMessages::Hide).await;
    let answer = app.admin(r#"{ business(id: "999999") { name } }"#).await;
    let graph_api = &answer["errors"][0]["extensions"]["graphApi"];
    assert!(graph_api["fbtraceId"].is_string(), "{answer}");
    assert_eq!(
        without_volatile(answer.clone()),
        json!({
            "data": {"business": null},
            "errors": [{
                "message": "the Graph API has no such object, or this token cannot see it",
                "locations": [{"line": 1, "column": 3}],
                "path": ["business"],
                "extensions": {
                    "code": "NOT_FOUND",
                    "graphApi": {
                        "code": graph_api["code"],
                        "subcode": graph_api["subcode"],
                        "type": graph_api["type"],
                        "isTransient": false,
                    },
                },
            }],
        })
    );
}
