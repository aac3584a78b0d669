//! Cursor paging of list edges, top-level and inside expansions.

use graph_sandbox::demo;
use serde_json::{Value, json};

use crate::helpers::{TestSandbox, spawn_sandbox};

/// A business owning `pages` pages named "Page 01".."Page NN"; answers its id.
async fn business_with_pages(sandbox: &TestSandbox, pages: usize) -> String {
    let business = sandbox
        .control(
            "/__sandbox/businesses",
            json!({"name": "Paging Co", "admins": [demo::ADMIN_USER_ID]}),
        )
        .await;
    let id = business.body["id"].as_str().expect("an id").to_owned();
    for n in 1..=pages {
        let page = sandbox
            .control(
                "/__sandbox/pages",
                json!({"name": format!("Page {n:02}"), "admins": [demo::ADMIN_USER_ID], "owner_business": id}),
            )
            .await;
        assert_eq!(page.status, 200, "{:?}", page.body);
    }
    id
}

fn names(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn expected_names(range: std::ops::RangeInclusive<usize>) -> Vec<String> {
    range.map(|n| format!("Page {n:02}")).collect()
}

#[tokio::test]
async fn walking_a_long_edge_follows_next_and_previous_links() {
    let sandbox = spawn_sandbox().await;
    let business = business_with_pages(&sandbox, 30).await;
    let first = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            &format!("/v25.0/{business}/owned_pages"),
            &[("fields", "name"), ("summary", "total_count")],
        )
        .await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(names(&first.body), expected_names(1..=25));
    assert_eq!(first.body["summary"], json!({"total_count": 30}));
    assert!(first.body["paging"].get("previous").is_none());
    let next = first.body["paging"]["next"].as_str().expect("a next link");
    assert!(
        next.starts_with(&sandbox.url(&format!("/v25.0/{business}/owned_pages?"))),
        "{next}"
    );
    assert!(next.contains("access_token=demo-admin"), "{next}");

    let second = sandbox.get_url(next).await;
    assert_eq!(names(&second.body), expected_names(26..=30));
    assert_eq!(second.body["summary"], json!({"total_count": 30}));
    assert!(second.body["paging"].get("next").is_none());
    let previous = second.body["paging"]["previous"]
        .as_str()
        .expect("a previous link");

    let back = sandbox.get_url(previous).await;
    assert_eq!(names(&back.body), expected_names(1..=25));
    assert!(back.body["paging"].get("previous").is_none());
}

#[tokio::test]
async fn after_resumes_past_its_item_and_before_ends_short_of_it() {
    let sandbox = spawn_sandbox().await;
    let business = business_with_pages(&sandbox, 30).await;
    let path = format!("/{business}/owned_pages");
    let first = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            &path,
            &[("fields", "name"), ("limit", "10")],
        )
        .await;
    let after = first.body["paging"]["cursors"]["after"]
        .as_str()
        .expect("an after cursor");
    let second = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            &path,
            &[("fields", "name"), ("limit", "10"), ("after", after)],
        )
        .await;
    assert_eq!(names(&second.body), expected_names(11..=20));
    let before = second.body["paging"]["cursors"]["before"]
        .as_str()
        .expect("a before cursor");
    let back = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            &path,
            &[("fields", "name"), ("limit", "10"), ("before", before)],
        )
        .await;
    assert_eq!(names(&back.body), expected_names(1..=10));
}

#[tokio::test]
async fn an_expanded_edge_pages_with_limit_after_and_summary_modifiers() {
    let sandbox = spawn_sandbox().await;
    let business = business_with_pages(&sandbox, 5).await;
    let first = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            &format!("/{business}"),
            &[("fields", "owned_pages.limit(2).summary(total_count){name}")],
        )
        .await;
    let pages = &first.body["owned_pages"];
    assert_eq!(names(pages), expected_names(1..=2));
    assert_eq!(pages["summary"], json!({"total_count": 5}));
    let after = pages["paging"]["cursors"]["after"]
        .as_str()
        .expect("a cursor");
    let next = pages["paging"]["next"].as_str().expect("a next link");
    assert!(
        next.contains(&format!("/{business}/owned_pages?")),
        "{next}"
    );

    let second = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            &format!("/{business}"),
            &[(
                "fields",
                &format!("owned_pages.limit(2).after({after}){{name}}"),
            )],
        )
        .await;
    assert_eq!(names(&second.body["owned_pages"]), expected_names(3..=4));

    let via_link = sandbox.get_url(next).await;
    assert_eq!(names(&via_link.body), expected_names(3..=4));
}

#[tokio::test]
async fn an_empty_edge_has_data_and_no_paging() {
    let sandbox = spawn_sandbox().await;
    let reply = sandbox
        .get_as(demo::ADMIN_TOKEN, "/200001/client_pages", &[])
        .await;
    assert_eq!(reply.body, json!({"data": []}));
}

#[tokio::test]
async fn a_cursor_that_does_not_decode_is_a_code_100_error() {
    let sandbox = spawn_sandbox().await;
    let reply = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            "/200001/owned_pages",
            &[("after", "%%%not-a-cursor")],
        )
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.body["error"]["message"],
        json!("(#100) The after parameter is not a valid cursor")
    );
}

#[tokio::test]
async fn list_items_carry_their_id_even_when_fields_leave_it_out() {
    let sandbox = spawn_sandbox().await;
    let reply = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            "/200001/owned_ad_accounts",
            &[("fields", "currency")],
        )
        .await;
    assert_eq!(
        reply.body["data"],
        json!([
            {"currency": "USD", "id": "act_400001"},
            {"currency": "EUR", "id": "act_400002"}
        ])
    );
    let nested = sandbox
        .get_as(demo::ADMIN_TOKEN, "/me", &[("fields", "businesses{name}")])
        .await;
    assert!(
        nested.body["businesses"]["data"]
            .as_array()
            .expect("a list")
            .iter()
            .all(|b| b["id"].is_string()),
        "{:?}",
        nested.body
    );
}
