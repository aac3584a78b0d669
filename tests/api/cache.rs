//! The per-token upstream cache: warm reads cost nothing, tokens never share answers, writes
//! invalidate what they touched, errors are never cached, identical reads in flight coalesce.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{spawn_app, spawn_app_configured};

const NESTED: &str =
    "{ viewer { businesses(first: 10) { nodes { name vertical primaryPage { name } } } } }";

#[tokio::test]
async fn a_repeated_query_is_answered_from_the_cache_without_upstream_calls() {
    let app = spawn_app().await;
    let first = app.admin(NESTED).await;
    let before = app.upstream_requests().await;
    let second = app.admin(NESTED).await;
    assert_eq!(app.upstream_requests().await - before, 0);
    assert_eq!(first["data"], second["data"]);
    assert_eq!(second["extensions"]["cost"]["cacheHits"], 1);
}

#[tokio::test]
async fn another_token_is_never_served_the_first_tokens_answer() {
    let app = spawn_app().await;
    let admin = app.admin("{ viewer { name } }").await;
    let before = app.upstream_requests().await;
    let employee = app
        .graphql(Some("demo-employee"), "{ viewer { name } }", json!({}))
        .await;
    assert_eq!(app.upstream_requests().await - before, 1);
    assert_eq!(admin["data"]["viewer"]["name"], "Alex Rivera");
    assert_eq!(employee["data"]["viewer"]["name"], "Sam Chen");
}

#[tokio::test]
async fn an_update_invalidates_the_writers_and_other_tokens_answers_about_the_business() {
    let app = spawn_app().await;
    let read = r#"{ business(id: "200001") { name } }"#;
    app.admin(read).await;
    app.graphql(Some("demo-employee"), read, json!({})).await;

    let updated = app
        .admin(r#"mutation { updateBusiness(id: "200001", input: {name: "Pomni Media Group"}) { name } }"#)
        .await;
    assert_eq!(
        updated["data"]["updateBusiness"]["name"], "Pomni Media Group",
        "{updated}"
    );

    let admin = app.admin(read).await;
    let employee = app.graphql(Some("demo-employee"), read, json!({})).await;
    assert_eq!(admin["data"]["business"]["name"], "Pomni Media Group");
    assert_eq!(employee["data"]["business"]["name"], "Pomni Media Group");
    let nested = app.graphql(Some("demo-employee"), NESTED, json!({})).await;
    assert_eq!(
        nested["data"]["viewer"]["businesses"]["nodes"][0]["name"],
        "Pomni Media Group"
    );
}

#[tokio::test]
async fn a_created_business_shows_in_the_creators_next_list() {
    let app = spawn_app().await;
    let list = "{ viewer { businesses { totalCount } } }";
    let before = app.admin(list).await;
    assert_eq!(before["data"]["viewer"]["businesses"]["totalCount"], 2);
    app.admin(r#"mutation { createBusiness(input: {name: "Fresh Co", vertical: OTHER, primaryPageId: "300006"}) { id } }"#)
        .await;
    let after = app.admin(list).await;
    assert_eq!(
        after["data"]["viewer"]["businesses"]["totalCount"], 3,
        "{after}"
    );
}

#[tokio::test]
async fn an_error_is_never_cached() {
    let app = spawn_app().await;
    // A failure that is neither retried nor a throttle (which would hold the token back).
    app.control("faults", json!({"error_code": 100, "times": 1}))
        .await;
    let failed = app.admin("{ viewer { name } }").await;
    assert_eq!(
        failed["errors"][0]["extensions"]["code"], "INVALID_ARGUMENT",
        "{failed}"
    );
    let answered = app.admin("{ viewer { name } }").await;
    assert_eq!(
        answered["data"]["viewer"]["name"], "Alex Rivera",
        "{answered}"
    );
}

#[tokio::test]
async fn identical_reads_in_flight_at_once_share_one_upstream_call() {
    let app = spawn_app().await;
    // The first call is held for a while, so the others arrive while it is in flight.
    app.control("faults", json!({"latency_ms": 3000, "times": 1}))
        .await;
    let before = app.upstream_requests().await;
    let queries = (0..8).map(|_| app.admin("{ viewer { name } }"));
    let answers = futures_util::future::join_all(queries).await;
    for answer in &answers {
        assert_eq!(answer["data"]["viewer"]["name"], "Alex Rivera", "{answer}");
    }
    assert_eq!(app.upstream_requests().await - before, 1);
}

#[tokio::test]
async fn a_zero_lifetime_turns_the_cache_off() {
    let app = spawn_app_configured(|settings| {
        settings.cache.ttl = Duration::ZERO;
    })
    .await;
    let before = app.upstream_requests().await;
    app.admin("{ viewer { name } }").await;
    app.admin("{ viewer { name } }").await;
    assert_eq!(app.upstream_requests().await - before, 2);
}

#[tokio::test]
async fn every_answer_reports_its_graph_calls_and_cache_hits() {
    let app = spawn_app().await;
    let before = app.upstream_requests().await;
    let cold = app.admin(NESTED).await;
    assert_eq!(
        cold["extensions"]["cost"],
        json!({"graphCalls": 1, "cacheHits": 0}),
        "{cold}"
    );
    assert_eq!(app.upstream_requests().await - before, 1);
    let warm = app.admin(NESTED).await;
    assert_eq!(
        warm["extensions"]["cost"],
        json!({"graphCalls": 0, "cacheHits": 1}),
        "{warm}"
    );
    let refused = app.graphql(None, NESTED, json!({})).await;
    assert_eq!(
        refused["extensions"]["cost"],
        json!({"graphCalls": 0, "cacheHits": 0})
    );
}

/// Adds `count` businesses Alex Rivera (`demo-admin`) administers; answers their ids.
async fn new_businesses(app: &crate::helpers::TestApp, count: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..count {
        let created = app
            .control(
                "businesses",
                json!({"name": format!("Cached business {i}"), "admins": ["100001"]}),
            )
            .await;
        let id = created["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{created}"));
        ids.push(id.to_owned());
    }
    ids
}

const BUSINESSES_BY_ID: &str = "query($ids: [ID!]!) { businesses(ids: $ids) { id name } }";

/// `businesses(ids:)` as the admin, with the upstream requests it sent.
async fn businesses_by_id(app: &crate::helpers::TestApp, ids: &[String]) -> (Value, u64) {
    let before = app.upstream_requests().await;
    let answer = app
        .graphql(Some("demo-admin"), BUSINESSES_BY_ID, json!({"ids": ids}))
        .await;
    (answer, app.upstream_requests().await - before)
}

/// The `[{id, name}]` list a `businesses(ids:)` answer should hold for `ids`, in their order.
fn expected_businesses(ids: &[String], all: &[String]) -> Value {
    ids.iter()
        .map(|id| {
            let index = all.iter().position(|known| known == id).unwrap();
            json!({"id": id, "name": format!("Cached business {index}")})
        })
        .collect()
}

#[tokio::test]
async fn the_same_ids_again_or_in_another_order_are_answered_from_the_cache() {
    let app = spawn_app().await;
    let all = new_businesses(&app, 3).await;
    let (a, b, c) = (all[0].clone(), all[1].clone(), all[2].clone());

    let (first, calls) = businesses_by_id(&app, &[a.clone(), b.clone(), c.clone()]).await;
    assert_eq!(calls, 1, "{first}");
    assert_eq!(
        first["extensions"]["cost"],
        json!({"graphCalls": 1, "cacheHits": 0})
    );

    let (again, calls) = businesses_by_id(&app, &[a.clone(), b.clone(), c.clone()]).await;
    assert_eq!(calls, 0, "{again}");
    assert_eq!(
        again["extensions"]["cost"],
        json!({"graphCalls": 0, "cacheHits": 1})
    );
    assert_eq!(again["data"], first["data"]);

    let reordered = [c, a, b];
    let (answer, calls) = businesses_by_id(&app, &reordered).await;
    assert_eq!(calls, 0, "{answer}");
    assert_eq!(
        answer["extensions"]["cost"],
        json!({"graphCalls": 0, "cacheHits": 1})
    );
    assert_eq!(
        answer["data"]["businesses"],
        expected_businesses(&reordered, &all)
    );
}

#[tokio::test]
async fn sixty_ids_in_another_order_reuse_both_cached_reads_of_fifty_and_ten() {
    let app = spawn_app().await;
    let all = new_businesses(&app, 60).await;

    let (first, calls) = businesses_by_id(&app, &all).await;
    assert_eq!(calls, 2, "{first}");
    assert_eq!(first["data"]["businesses"], expected_businesses(&all, &all));

    // Reversed, then interleaved: each makes the same two chunks of the same set.
    let reversed: Vec<String> = all.iter().rev().cloned().collect();
    let interleaved: Vec<String> = all
        .iter()
        .step_by(2)
        .chain(all.iter().skip(1).step_by(2))
        .cloned()
        .collect();
    for ids in [reversed, interleaved] {
        let (answer, calls) = businesses_by_id(&app, &ids).await;
        assert_eq!(calls, 0, "{answer}");
        assert_eq!(
            answer["extensions"]["cost"],
            json!({"graphCalls": 0, "cacheHits": 2})
        );
        assert_eq!(
            answer["data"]["businesses"],
            expected_businesses(&ids, &all)
        );
    }
}
