//! The README's examples run as written, again and again: its `createBusiness` mutation with
//! its variables, then with the next free page it names, then with a page the sandbox makes.

use serde_json::{Value, json};

use crate::helpers::spawn_app;

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

/// The first fenced block of `language` after `from` in `text`, and where it ends.
fn fenced_block<'a>(text: &'a str, language: &str, from: usize) -> (&'a str, usize) {
    let opening = format!("```{language}\n");
    let start = from
        + text[from..]
            .find(&opening)
            .unwrap_or_else(|| panic!("no ```{language} block"))
        + opening.len();
    let end = start + text[start..].find("```").unwrap();
    (&text[start..end], end + 3)
}

/// The README's `createBusiness` mutation and the variables below it.
fn create_business_example(readme: &str) -> (String, Value) {
    let mut from = 0;
    loop {
        let (block, end) = fenced_block(readme, "graphql", from);
        if block.contains("createBusiness(") {
            let (variables, _) = fenced_block(readme, "json", end);
            return (block.to_owned(), serde_json::from_str(variables).unwrap());
        }
        from = end;
    }
}

#[tokio::test]
async fn the_readmes_create_business_example_runs_again_with_the_next_free_page_every_time() {
    let app = spawn_app().await;
    let readme = readme();
    let (mutation, variables) = create_business_example(&readme);
    assert_eq!(
        variables,
        json!({"name": "Rivera Photo 1", "page": "300007"})
    );

    let created = app.graphql(Some("demo-admin"), &mutation, variables).await;
    assert!(created.get("errors").is_none(), "{created}");
    assert_eq!(
        created["data"]["createBusiness"]["name"], "Rivera Photo 1",
        "{created}"
    );
    assert_eq!(
        created["data"]["createBusiness"]["primaryPage"]["name"],
        "Alex Rivera Demo Page 1"
    );

    // The README's next run: the next page and another name.
    assert!(readme.contains(r#""Rivera Photo 2""#) && readme.contains(r#""300008""#));
    let again = app
        .graphql(
            Some("demo-admin"),
            &mutation,
            json!({"name": "Rivera Photo 2", "page": "300008"}),
        )
        .await;
    assert!(again.get("errors").is_none(), "{again}");

    // Every free page it names works (300007 to 300016; 300004 and 300006 too).
    for (n, page) in (300_009..=300_016).chain([300_004, 300_006]).enumerate() {
        let answer = app
            .graphql(
                Some("demo-admin"),
                &mutation,
                json!({"name": format!("Rivera Photo {}", n + 3), "page": page.to_string()}),
            )
            .await;
        assert!(answer.get("errors").is_none(), "page {page}: {answer}");
    }

    // And a page the sandbox makes as the README shows.
    let page = app
        .control("pages", json!({"name": "My Page", "admins": ["100001"]}))
        .await;
    let page = page["id"].as_str().unwrap().to_owned();
    let answer = app
        .graphql(
            Some("demo-admin"),
            &mutation,
            json!({"name": "Rivera Photo Made", "page": page}),
        )
        .await;
    assert!(answer.get("errors").is_none(), "{answer}");
    assert_eq!(
        answer["data"]["createBusiness"]["primaryPage"]["name"],
        "My Page"
    );
}
