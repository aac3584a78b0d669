//! Projects through the gateway: the seeded projects planned into one Graph call, `project(id:)`
//! batched through `?ids=`, the whole life of a project and its assets, and the errors.

use serde_json::{Value, json};

use crate::helpers::{
    TestApp, first_error_code, first_error_message, spawn_app, spawn_app_configured,
};

/// The `fields=` parameter of the sandbox's last Graph request.
async fn last_fields(app: &TestApp) -> String {
    let journal = app.upstream_journal().await;
    let query = journal.last().unwrap()["query"]
        .as_str()
        .unwrap()
        .to_owned();
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "fields")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The names of a connection's nodes.
fn names(connection: &Value) -> Vec<&str> {
    connection["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("no nodes in {connection}"))
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_business_with_its_projects_and_their_assets_costs_one_upstream_request() {
    let app = spawn_app().await;
    let before = app.upstream_requests().await;

    let answer = app
        .admin(
            r#"{ business(id: "200001") { projects(first: 10) { nodes {
                name
                pages(first: 5) { nodes { name } }
                adAccounts(first: 5) { nodes { name } }
                apps(first: 5) { nodes { name } }
            } } } }"#,
        )
        .await;

    assert_eq!(app.upstream_requests().await - before, 1, "{answer}");
    assert_eq!(
        answer["data"]["business"]["projects"]["nodes"],
        json!([
            {"name": "Brand Campaigns",
             "pages": {"nodes": [{"name": "Pomni Media Clips"}]},
             "adAccounts": {"nodes": [{"name": "Pomni Media - Main"}]},
             "apps": {"nodes": []}},
            {"name": "Dashboard Launch",
             "pages": {"nodes": []},
             "adAccounts": {"nodes": []},
             "apps": {"nodes": [{"name": "Pomni Media Dashboard"}]}}
        ]),
        "{answer}"
    );
    assert_eq!(
        last_fields(&app).await,
        "id,businessprojects.limit(10){id,name,pages.limit(5){id,name},\
         adaccounts.limit(5){id,name},apps.limit(5){id,name}}"
    );
}

#[tokio::test]
async fn several_projects_by_id_share_one_ids_call() {
    let app = spawn_app().await;
    let before = app.upstream_requests().await;

    let answer = app
        .admin(
            r#"{
                brand: project(id: "800001") { name business { name } createdBy { name } updatedTime }
                dashboard: project(id: "800002") { name business { name } createdBy { name } updatedTime }
            }"#,
        )
        .await;

    assert_eq!(app.upstream_requests().await - before, 1, "{answer}");
    assert_eq!(
        answer["data"]["brand"]["name"], "Brand Campaigns",
        "{answer}"
    );
    assert_eq!(answer["data"]["dashboard"]["name"], "Dashboard Launch");
    assert_eq!(
        answer["data"]["brand"]["business"],
        json!({"name": "Pomni Media"})
    );
    assert_eq!(
        answer["data"]["brand"]["createdBy"],
        json!({"name": "Alex Rivera"})
    );
    assert!(
        answer["data"]["brand"]["updatedTime"].is_string(),
        "{answer}"
    );
    let journal = app.upstream_journal().await;
    let query = journal.last().unwrap()["query"]
        .as_str()
        .unwrap()
        .to_owned();
    let ids = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "ids")
        .map(|(_, v)| v.into_owned());
    assert_eq!(ids.as_deref(), Some("800001,800002"));
}

#[tokio::test]
async fn the_whole_life_of_a_project() {
    let app = spawn_app().await;
    let assets = "id name pages { nodes { id } } adAccounts { nodes { id } } apps { nodes { id } }";
    // Read (and cached) before the writes: each write must make the gateway forget it.
    let listing =
        r#"{ business(id: "200001") { projects { nodes { name apps { nodes { id } } } } } }"#;
    let before = app.admin(listing).await;
    assert_eq!(
        before["data"]["business"]["projects"]["nodes"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "{before}"
    );

    let created = app
        .admin(&format!(
            r#"mutation {{ createProject(businessId: "200001", name: "  Spring Launch ") {{ {assets} business {{ name }} }} }}"#
        ))
        .await;
    let project = &created["data"]["createProject"];
    assert_eq!(project["name"], "Spring Launch", "{created}");
    assert_eq!(project["pages"]["nodes"], json!([]));
    assert_eq!(project["business"], json!({"name": "Pomni Media"}));
    let id = project["id"].as_str().unwrap().to_owned();

    // One asset of each kind; the ad account without its `act_` prefix.
    let mut last = Value::Null;
    for asset in [
        r#"pageId: "300001""#,
        r#"adAccountId: "400002""#,
        r#"appId: "500001""#,
    ] {
        // The app is in "Dashboard Launch": it must leave that project first.
        if asset.starts_with("appId") {
            let taken = app
                .admin(&format!(
                    r#"mutation {{ addProjectAsset(projectId: "{id}", {asset}) {{ id }} }}"#
                ))
                .await;
            assert_eq!(
                first_error_code(&taken),
                Some("INVALID_ARGUMENT"),
                "{taken}"
            );
            assert!(
                first_error_message(&taken).contains("already in project 800002"),
                "{taken}"
            );
            let freed = app
                .admin(
                    r#"mutation { removeProjectAsset(projectId: "800002", appId: "500001") { apps { nodes { id } } } }"#,
                )
                .await;
            assert_eq!(
                freed["data"]["removeProjectAsset"]["apps"]["nodes"],
                json!([]),
                "{freed}"
            );
        }
        let added = app
            .admin(&format!(
                r#"mutation {{ addProjectAsset(projectId: "{id}", {asset}) {{ {assets} }} }}"#
            ))
            .await;
        assert!(added.get("errors").is_none(), "{asset}: {added}");
        last = added["data"]["addProjectAsset"].clone();
    }
    assert_eq!(last["pages"]["nodes"], json!([{"id": "300001"}]));
    assert_eq!(last["adAccounts"]["nodes"], json!([{"id": "act_400002"}]));
    assert_eq!(last["apps"]["nodes"], json!([{"id": "500001"}]));

    // Listed with the business, read fresh (the writes forgot the cached answers).
    let listed = app.admin(listing).await;
    assert_eq!(
        listed["data"]["business"]["projects"]["nodes"],
        json!([
            {"name": "Brand Campaigns", "apps": {"nodes": []}},
            {"name": "Dashboard Launch", "apps": {"nodes": []}},
            {"name": "Spring Launch", "apps": {"nodes": [{"id": "500001"}]}}
        ]),
        "{listed}"
    );

    // An asset of another business, and one already in another project.
    for (asset, says) in [
        (r#"pageId: "300003""#, "asset of the project's business"),
        (
            r#"adAccountId: "act_400003""#,
            "asset of the project's business",
        ),
        (r#"pageId: "300002""#, "already in project 800001"),
    ] {
        let refused = app
            .admin(&format!(
                r#"mutation {{ addProjectAsset(projectId: "{id}", {asset}) {{ id }} }}"#
            ))
            .await;
        assert_eq!(
            first_error_code(&refused),
            Some("INVALID_ARGUMENT"),
            "{asset}: {refused}"
        );
        assert!(
            first_error_message(&refused).contains(says),
            "{asset}: {refused}"
        );
    }

    let removed = app
        .admin(&format!(
            r#"mutation {{ removeProjectAsset(projectId: "{id}", adAccountId: "act_400002") {{ {assets} }} }}"#
        ))
        .await;
    assert_eq!(
        removed["data"]["removeProjectAsset"]["adAccounts"]["nodes"],
        json!([]),
        "{removed}"
    );

    // Deleting the project frees its page and app: "Brand Campaigns" may take them.
    let deleted = app
        .admin(&format!(r#"mutation {{ deleteProject(id: "{id}") }}"#))
        .await;
    assert_eq!(deleted["data"], json!({"deleteProject": true}), "{deleted}");
    let gone = app
        .admin(&format!(r#"{{ project(id: "{id}") {{ name }} }}"#))
        .await;
    assert_eq!(gone["data"], json!({"project": null}), "{gone}");
    assert_eq!(first_error_code(&gone), Some("NOT_FOUND"), "{gone}");
    for asset in [r#"pageId: "300001""#, r#"appId: "500001""#] {
        let taken = app
            .admin(&format!(
                r#"mutation {{ addProjectAsset(projectId: "800001", {asset}) {{ name }} }}"#
            ))
            .await;
        assert_eq!(
            taken["data"]["addProjectAsset"]["name"], "Brand Campaigns",
            "{asset}: {taken}"
        );
    }
}

#[tokio::test]
async fn paging_through_a_projects_assets() {
    let app = spawn_app().await;
    // "Brand Campaigns" holds page 300002; give it 300001 too, then read one page at a time.
    let added = app
        .admin(r#"mutation { addProjectAsset(projectId: "800001", pageId: "300001") { id } }"#)
        .await;
    assert!(added.get("errors").is_none(), "{added}");

    let query = r#"query($after: String) { project(id: "800001") {
        pages(first: 1, after: $after) { totalCount nodes { id } pageInfo { hasNextPage endCursor } }
    } }"#;
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let answer = app
            .graphql(Some("demo-admin"), query, json!({"after": after}))
            .await;
        let pages = &answer["data"]["project"]["pages"];
        assert_eq!(pages["totalCount"], 2, "{answer}");
        let nodes = pages["nodes"].as_array().unwrap();
        assert_eq!(nodes.len(), 1, "{answer}");
        seen.push(nodes[0]["id"].as_str().unwrap().to_owned());
        if pages["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = pages["pageInfo"]["endCursor"].clone();
        assert!(seen.len() < 5, "paging does not end: {answer}");
    }
    seen.sort();
    assert_eq!(seen, ["300001", "300002"]);
}

#[tokio::test]
async fn an_employee_reads_projects_but_may_not_change_them() {
    let app = spawn_app().await;
    let read = app
        .graphql(
            Some("demo-employee"),
            r#"{ business(id: "200001") { projects { nodes { name } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        names(&read["data"]["business"]["projects"]),
        ["Brand Campaigns", "Dashboard Launch"],
        "{read}"
    );
    for query in [
        r#"mutation { createProject(businessId: "200001", name: "Mine") { id } }"#,
        r#"mutation { deleteProject(id: "800001") }"#,
        r#"mutation { addProjectAsset(projectId: "800001", pageId: "300001") { id } }"#,
        r#"mutation { removeProjectAsset(projectId: "800001", pageId: "300002") { id } }"#,
    ] {
        let answer = app.graphql(Some("demo-employee"), query, json!({})).await;
        assert_eq!(
            first_error_code(&answer),
            Some("FORBIDDEN"),
            "{query}: {answer}"
        );
    }
    let after = app
        .admin(r#"{ project(id: "800001") { name pages { nodes { id } } } }"#)
        .await;
    assert_eq!(
        after["data"]["project"],
        json!({"name": "Brand Campaigns", "pages": {"nodes": [{"id": "300002"}]}}),
        "{after}"
    );
}

#[tokio::test]
async fn bad_arguments_are_refused_before_any_graph_call() {
    let app = spawn_app().await;
    let long = "x".repeat(101);
    let cases = [
        (
            r#"mutation { createProject(businessId: "200001", name: "   ") { id } }"#.to_owned(),
            "name",
        ),
        (
            format!(r#"mutation {{ createProject(businessId: "200001", name: "{long}") {{ id }} }}"#),
            "name",
        ),
        (
            r#"mutation { createProject(businessId: "me", name: "Spring") { id } }"#.to_owned(),
            "businessId",
        ),
        (
            r#"mutation { deleteProject(id: "act_1") }"#.to_owned(),
            "id",
        ),
        (
            r#"mutation { addProjectAsset(projectId: "800001") { id } }"#.to_owned(),
            "pageId",
        ),
        (
            r#"mutation { addProjectAsset(projectId: "800001", pageId: "300001", appId: "500001") { id } }"#
                .to_owned(),
            "pageId",
        ),
        (
            r#"mutation { addProjectAsset(projectId: "800001", adAccountId: "acct_4") { id } }"#
                .to_owned(),
            "adAccountId",
        ),
        (
            r#"mutation { removeProjectAsset(projectId: "x", appId: "500001") { id } }"#
                .to_owned(),
            "projectId",
        ),
    ];
    for (query, argument) in cases {
        let answer = app
            .refused_before_upstream("demo-admin", &query, json!({}))
            .await;
        assert_eq!(
            first_error_code(&answer),
            Some("INVALID_ARGUMENT"),
            "{query}: {answer}"
        );
        assert_eq!(
            answer["errors"][0]["extensions"]["argument"], argument,
            "{query}: {answer}"
        );
    }
}

/// Makes the sandbox's projects read-only, as today's Graph's are.
async fn make_projects_read_only(app: &TestApp) {
    let on = app
        .control("projects/read_only", json!({"read_only": true}))
        .await;
    assert_eq!(on, json!({"ok": true}));
}

#[tokio::test]
async fn against_todays_read_only_projects_every_write_names_business_asset_groups() {
    let app = spawn_app().await;
    make_projects_read_only(&app).await;
    // Each write with the Graph calls it costs: the refused write, then (on the first refusal
    // of each object) the read that tells a read-only project from a missing one; the
    // gateway's cache answers that read for the same object afterwards.
    let writes = [
        (
            r#"mutation { createProject(businessId: "200001", name: "Spring") { id } }"#,
            2,
        ),
        (r#"mutation { deleteProject(id: "800001") }"#, 2),
        (
            r#"mutation { addProjectAsset(projectId: "800001", pageId: "300002") { id } }"#,
            1,
        ),
        (
            r#"mutation { removeProjectAsset(projectId: "800001", adAccountId: "400001") { id } }"#,
            1,
        ),
    ];
    for (write, calls) in writes {
        let before = app.upstream_requests().await;
        let answer = app.admin(write).await;
        assert_eq!(
            first_error_code(&answer),
            Some("FAILED_PRECONDITION"),
            "{write}: {answer}"
        );
        let message = first_error_message(&answer);
        assert!(
            message.contains("read-only") && message.contains("business asset group"),
            "{message}"
        );
        assert_eq!(answer["data"], Value::Null, "{answer}");
        assert_eq!(app.upstream_requests().await - before, calls, "{write}");
    }
    // Reading projects still works, and nothing changed.
    let read = app
        .admin(r#"{ business(id: "200001") { projects(first: 10) { nodes { name } } } }"#)
        .await;
    assert_eq!(
        names(&read["data"]["business"]["projects"]),
        ["Brand Campaigns", "Dashboard Launch"],
        "{read}"
    );
}

#[tokio::test]
async fn other_refusals_of_a_project_write_keep_their_own_codes() {
    let app = spawn_app().await;
    // Graph's "Unsupported delete request" for a project that does not exist is NOT_FOUND,
    // read-only or not: the object does not read.
    for read_only in [false, true] {
        if read_only {
            make_projects_read_only(&app).await;
        }
        let gone = app
            .admin(r#"mutation { deleteProject(id: "899999") }"#)
            .await;
        assert_eq!(first_error_code(&gone), Some("NOT_FOUND"), "{gone}");
        assert!(
            !first_error_message(&gone).contains("asset group"),
            "{gone}"
        );
    }
    // Another code 100 on a writable project (an asset of another business) stays
    // INVALID_ARGUMENT with Graph's message.
    app.control("projects/read_only", json!({"read_only": false}))
        .await;
    let other = app
        .admin(r#"mutation { addProjectAsset(projectId: "800001", pageId: "300003") { id } }"#)
        .await;
    assert_eq!(
        first_error_code(&other),
        Some("INVALID_ARGUMENT"),
        "{other}"
    );
    assert!(
        !first_error_message(&other).contains("asset group"),
        "{other}"
    );
}

#[tokio::test]
async fn a_refusal_whose_check_is_over_the_budget_says_so_rather_than_not_found() {
    let app = spawn_app_configured(|settings| settings.limits.max_graph_calls = 1).await;
    make_projects_read_only(&app).await;
    let answer = app
        .admin(r#"mutation { deleteProject(id: "800001") }"#)
        .await;
    assert_eq!(
        first_error_code(&answer),
        Some("UPSTREAM_BUDGET_EXCEEDED"),
        "{answer}"
    );
}
