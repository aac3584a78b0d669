//! How many Graph API requests a GraphQL query costs, read from the sandbox's stats.

use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_viewers_businesses_with_nested_fields_cost_one_upstream_request() {
    let app = spawn_app().await;
    let before = app.upstream_requests().await;

    let answer = app
        .admin(
            "{ viewer { businesses(first: 10) { nodes { name vertical primaryPage { name } } } } }",
        )
        .await;

    assert_eq!(app.upstream_requests().await - before, 1);
    assert!(answer.get("errors").is_none(), "{answer}");
    let nodes = answer["data"]["viewer"]["businesses"]["nodes"]
        .as_array()
        .unwrap();
    assert!(nodes.contains(&json!({
        "name": "Pomni Media",
        "vertical": "ENTERTAINMENT_AND_MEDIA",
        "primaryPage": {"name": "Pomni Media"}
    })));
    let journal = app.upstream_journal().await;
    let call = journal.last().unwrap();
    assert_eq!(call["path"], "/v25.0/me");
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(call["query"].as_str().unwrap().as_bytes())
            .into_owned()
            .collect();
    let fields = &query.iter().find(|(k, _)| k == "fields").unwrap().1;
    assert_eq!(
        fields, "id,businesses.limit(10){id,name,vertical,primary_page{id,name}}",
        "the edge is expanded into the same call"
    );
}

#[tokio::test]
async fn a_business_with_its_assets_and_counts_costs_one_upstream_request() {
    let app = spawn_app().await;
    let before = app.upstream_requests().await;

    let answer = app
        .admin(
            r#"{ business(id: "200001") {
                name createdBy { name }
                pages(first: 1) { totalCount nodes { name } pageInfo { hasNextPage } }
                adAccounts { nodes { id currency accountStatus } }
                apps { nodes { name } }
            } }"#,
        )
        .await;

    assert_eq!(app.upstream_requests().await - before, 1);
    assert_eq!(
        answer["data"]["business"],
        json!({
            "name": "Pomni Media",
            "createdBy": {"name": "Alex Rivera"},
            "pages": {"totalCount": 2, "nodes": [{"name": "Pomni Media"}], "pageInfo": {"hasNextPage": true}},
            "adAccounts": {"nodes": [
                {"id": "act_400001", "currency": "USD", "accountStatus": "ACTIVE"},
                {"id": "act_400002", "currency": "EUR", "accountStatus": "ACTIVE"}
            ]},
            "apps": {"nodes": [{"name": "Pomni Media Dashboard"}]}
        }),
        "{answer}"
    );
}

#[tokio::test]
async fn paging_through_a_connection_with_cursors_visits_every_item_once() {
    let app = spawn_app().await;
    for i in 0..5 {
        app.control(
            "pages",
            json!({"name": format!("Extra page {i}"), "admins": ["100001"], "owner_business": "200001"}),
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let answer = app
            .graphql(
                Some("demo-admin"),
                r#"query($after: String) { business(id: "200001") {
                    pages(first: 2, after: $after) { totalCount edges { cursor node { name } } pageInfo { hasNextPage endCursor } }
                } }"#,
                json!({"after": after}),
            )
            .await;
        let pages = &answer["data"]["business"]["pages"];
        assert_eq!(pages["totalCount"], 7, "{answer}");
        for edge in pages["edges"].as_array().unwrap() {
            seen.push(edge["node"]["name"].as_str().unwrap().to_owned());
        }
        if !pages["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = Some(pages["pageInfo"]["endCursor"].as_str().unwrap().to_owned());
        assert!(seen.len() < 10, "paging does not end: {seen:?}");
    }
    assert_eq!(seen.len(), 7, "{seen:?}");
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 7, "an item came twice");
}

#[tokio::test]
async fn resuming_from_a_middle_edge_cursor_continues_right_after_it() {
    let app = spawn_app().await;
    for i in 0..4 {
        app.control(
            "pages",
            json!({"name": format!("Extra page {i}"), "admins": ["100001"], "owner_business": "200001"}),
        )
        .await;
    }
    let query = r#"query($after: String) { business(id: "200001") {
        pages(first: 3, after: $after) { edges { cursor node { name } } } } }"#;
    let first = app
        .graphql(Some("demo-admin"), query, json!({"after": null}))
        .await;
    let edges = first["data"]["business"]["pages"]["edges"]
        .as_array()
        .unwrap()
        .clone();
    let middle = edges[0]["cursor"].as_str().unwrap();
    let resumed = app
        .graphql(Some("demo-admin"), query, json!({"after": middle}))
        .await;
    let names: Vec<&str> = resumed["data"]["business"]["pages"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names[0], edges[1]["node"]["name"].as_str().unwrap());
    assert_eq!(names[1], edges[2]["node"]["name"].as_str().unwrap());
    assert_eq!(names.len(), 3);
}

#[tokio::test]
async fn sixty_businesses_by_id_cost_two_upstream_requests() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for i in 0..60 {
        let created = app
            .control(
                "businesses",
                json!({"name": format!("Batch business {i}"), "admins": ["100001"]}),
            )
            .await;
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    let before = app.upstream_requests().await;

    let answer = app
        .graphql(
            Some("demo-admin"),
            "query($ids: [ID!]!) { businesses(ids: $ids) { id name } }",
            json!({"ids": ids}),
        )
        .await;

    assert_eq!(app.upstream_requests().await - before, 2, "{answer}");
    let found = answer["data"]["businesses"].as_array().unwrap();
    assert_eq!(found.len(), 60);
    for (i, business) in found.iter().enumerate() {
        assert_eq!(business["id"], ids[i]);
        assert_eq!(business["name"], format!("Batch business {i}"));
    }
    let journal = app.upstream_journal().await;
    assert!(
        journal
            .iter()
            .rev()
            .take(2)
            .all(|call| call["path"] == "/v25.0/")
    );
}

#[tokio::test]
async fn an_unknown_id_among_many_is_null_with_its_own_error_and_the_others_are_answered() {
    let app = spawn_app().await;
    let before = app.upstream_requests().await;
    let answer = app
        .admin(r#"{ businesses(ids: ["200001", "999999999", "200002"]) { name } }"#)
        .await;
    assert_eq!(
        answer["data"]["businesses"],
        json!([{"name": "Pomni Media"}, null, {"name": "Kinger Labs"}]),
        "{answer}"
    );
    let errors = answer["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{answer}");
    assert_eq!(errors[0]["path"], json!(["businesses", 1]));
    assert_eq!(errors[0]["extensions"]["code"], "NOT_FOUND");
    assert!(errors[0]["message"].as_str().unwrap().contains("999999999"));
    // The failed ?ids= read, then one batch call that answers each id on its own.
    assert_eq!(app.upstream_requests().await - before, 2);
}

#[tokio::test]
async fn a_bad_token_fails_a_many_id_read_once_without_a_second_call() {
    let app = spawn_app().await;
    let before = app.upstream_requests().await;
    let answer = app
        .graphql(
            Some("not-a-token"),
            r#"{ businesses(ids: ["200001", "200002"]) { name } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        crate::helpers::first_error_code(&answer),
        Some("UNAUTHENTICATED"),
        "{answer}"
    );
    assert_eq!(app.upstream_requests().await - before, 1);
}

#[tokio::test]
async fn one_edge_asked_twice_with_different_arguments_costs_one_upstream_request() {
    let app = spawn_app().await;
    let before = app.upstream_requests().await;
    let answer = app
        .admin(
            r#"{ business(id: "200001") {
                first: pages(first: 1) { nodes { name } }
                all: pages { totalCount nodes { id } }
                pages(first: 2) { nodes { category } }
            } }"#,
        )
        .await;
    assert_eq!(app.upstream_requests().await - before, 1);
    assert_eq!(
        answer["data"]["business"],
        json!({
            "first": {"nodes": [{"name": "Pomni Media"}]},
            "all": {"totalCount": 2, "nodes": [{"id": "300001"}, {"id": "300002"}]},
            "pages": {"nodes": [{"category": "Media/news company"}, {"category": "Video creator"}]}
        }),
        "{answer}"
    );
}

#[tokio::test]
async fn fragments_are_planned_into_the_same_single_request() {
    let app = spawn_app().await;
    let before = app.upstream_requests().await;
    let answer = app
        .admin(
            r#"query {
                viewer { ...Who businesses(first: 5) { nodes { ... on Business { ...Summary } } } }
            }
            fragment Who on User { name isWorkAccount }
            fragment Summary on Business { name apps { nodes { name } } }"#,
        )
        .await;
    assert_eq!(app.upstream_requests().await - before, 1, "{answer}");
    let viewer = &answer["data"]["viewer"];
    assert_eq!(viewer["name"], "Alex Rivera");
    assert!(
        viewer["businesses"]["nodes"].as_array().unwrap().contains(
            &json!({"name": "Pomni Media", "apps": {"nodes": [{"name": "Pomni Media Dashboard"}]}})
        ),
        "{answer}"
    );
}

#[tokio::test]
async fn a_created_business_is_written_once_and_read_back_once() {
    let app = spawn_app().await;
    let before = app.upstream_requests().await;
    let answer = app
        .admin(
            r#"mutation { createBusiness(input: {name: "Two Calls", vertical: OTHER, primaryPageId: "300006"}) {
                name primaryPage { name } pages { totalCount } } }"#,
        )
        .await;
    assert_eq!(
        answer["data"]["createBusiness"],
        json!({"name": "Two Calls", "primaryPage": {"name": "Alex Rivera Travel Notes"}, "pages": {"totalCount": 1}}),
        "{answer}"
    );
    assert_eq!(app.upstream_requests().await - before, 2);
}

#[tokio::test]
async fn a_query_needing_more_graph_calls_than_allowed_is_stopped_at_the_budget() {
    let app = crate::helpers::spawn_app_configured(|settings| {
        settings.limits.max_graph_calls = 3;
    })
    .await;
    let before = app.upstream_requests().await;
    let answer = app
        .admin(
            r#"{ a: business(id: "200001") { name } b: business(id: "200002") { vertical }
                 c: viewer { name } d: user(id: "100002") { name } }"#,
        )
        .await;
    assert_eq!(app.upstream_requests().await - before, 3, "{answer}");
    let errors = answer["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{answer}");
    assert_eq!(errors[0]["extensions"]["code"], "UPSTREAM_BUDGET_EXCEEDED");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("more than 3 Graph API calls")
    );
}

#[tokio::test]
async fn a_write_whose_read_back_would_exceed_the_budget_is_not_made() {
    let app = crate::helpers::spawn_app_configured(|settings| {
        settings.limits.max_graph_calls = 1;
    })
    .await;
    let answer = app
        .refused_before_upstream(
            "demo-admin",
            r#"mutation { createBusiness(input: {name: "Half Done", vertical: OTHER, primaryPageId: "300006"}) { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        answer["errors"][0]["extensions"]["code"], "UPSTREAM_BUDGET_EXCEEDED",
        "{answer}"
    );
}

#[tokio::test]
async fn aliased_root_lookups_of_the_same_fields_share_one_upstream_request() {
    let app = spawn_app().await;
    let before = app.upstream_requests().await;
    let answer = app
        .admin(
            r#"{ pomni: business(id: "200001") { name vertical }
                 kinger: business(id: "200002") { name vertical }
                 sam: user(id: "100002") { name }
                 jordan: user(id: "100004") { name } }"#,
        )
        .await;
    assert_eq!(
        answer["data"],
        json!({
            "pomni": {"name": "Pomni Media", "vertical": "ENTERTAINMENT_AND_MEDIA"},
            "kinger": {"name": "Kinger Labs", "vertical": "TECHNOLOGY"},
            "sam": {"name": "Sam Chen"},
            "jordan": {"name": "Jordan Lee"}
        }),
        "{answer}"
    );
    // One ?ids= read for the two businesses, one for the two users.
    assert_eq!(app.upstream_requests().await - before, 2);
}

#[tokio::test]
async fn an_aliased_lookup_of_an_unknown_id_fails_alone() {
    let app = spawn_app().await;
    let answer = app
        .admin(r#"{ a: business(id: "200001") { name } b: business(id: "999999999") { name } }"#)
        .await;
    assert_eq!(
        answer["data"],
        json!({"a": {"name": "Pomni Media"}, "b": null}),
        "{answer}"
    );
    assert_eq!(answer["errors"][0]["path"], json!(["b"]));
    assert_eq!(answer["errors"][0]["extensions"]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn a_failed_nullable_field_is_null_in_data_not_missing() {
    let app = spawn_app().await;
    let answer = app
        .admin(r#"{ viewer { name } business(id: "200001") { name pages(after: "not-ours") { totalCount } } }"#)
        .await;
    let data = answer["data"].as_object().unwrap();
    assert!(data.contains_key("business"), "{answer}");
    assert_eq!(data["business"], serde_json::Value::Null);
    assert_eq!(data["viewer"]["name"], "Alex Rivera");
    assert_eq!(
        answer["errors"][0]["extensions"]["code"],
        "INVALID_ARGUMENT"
    );
}
