//! Business projects (docs/graph-api.md §8.4): creating, listing, reading and deleting a
//! business's projects; EMPLOYEEs read them, only ADMINs write.

use graph_sandbox::demo;
use serde_json::{Value, json};

use crate::helpers::{Reply, TestSandbox, spawn_sandbox};

const PROJECTS: &str = "/v25.0/200001/businessprojects";

const PROJECT_FIELDS: &str = "id,name,business,created_time,updated_time,created_by,updated_by";

async fn create(sandbox: &TestSandbox, token: &str, form: &[(&str, &str)]) -> Reply {
    sandbox.post_as(token, PROJECTS, form).await
}

/// An asset write's edge, form and expected error message.
type AssetCase<'a> = (&'a str, &'a [(&'a str, &'a str)], String);

fn error(code: i64, message: &str) -> Value {
    json!({"error": {"message": message, "type": "OAuthException", "code": code}})
}

/// Creates a project as the Pomni admin and answers its id.
async fn new_project(sandbox: &TestSandbox, name: &str) -> String {
    let reply = create(sandbox, demo::ADMIN_TOKEN, &[("name", name)]).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body["id"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no id in {:?}", reply.body))
}

#[tokio::test]
async fn an_admin_creates_a_project_that_reads_back_with_the_contract_fields() {
    let sandbox = spawn_sandbox().await;
    let created = create(
        &sandbox,
        demo::ADMIN_TOKEN,
        &[("name", "  Spring launch  ")],
    )
    .await;
    assert_eq!(created.status, 200);
    assert_eq!(created.body_without_trace(), json!({"id": "1000000000"}));
    let read = sandbox
        .get_as(
            demo::EMPLOYEE_TOKEN,
            "/v25.0/1000000000",
            &[("fields", PROJECT_FIELDS)],
        )
        .await;
    assert_eq!(read.status, 200, "{:?}", read.body);
    let time = read.body["created_time"].clone();
    assert!(time.is_string());
    assert_eq!(
        read.body_without_trace(),
        json!({
            "id": "1000000000",
            "name": "Spring launch",
            "business": {"id": "200001", "name": "Pomni Media"},
            "created_time": time,
            "updated_time": time,
            "created_by": {"id": demo::ADMIN_USER_ID, "name": "Alex Rivera"},
            "updated_by": {"id": demo::ADMIN_USER_ID, "name": "Alex Rivera"},
        })
    );
    // Without `fields`, a project answers with its id and name.
    let plain = sandbox
        .get_as(demo::ADMIN_TOKEN, "/v25.0/1000000000", &[])
        .await;
    assert_eq!(
        plain.body_without_trace(),
        json!({"id": "1000000000", "name": "Spring launch"})
    );
}

#[tokio::test]
async fn the_edge_lists_projects_and_expands_from_the_business() {
    let sandbox = spawn_sandbox().await;
    let first = new_project(&sandbox, "Alpha").await;
    let second = new_project(&sandbox, "Beta").await;
    let list = sandbox
        .get_as(demo::EMPLOYEE_TOKEN, PROJECTS, &[("limit", "2")])
        .await;
    assert_eq!(list.status, 200, "{:?}", list.body);
    // The seeded projects come first, oldest first.
    assert_eq!(
        list.body["data"],
        json!([
            {"id": "800001", "name": "Brand Campaigns"},
            {"id": "800002", "name": "Dashboard Launch"},
        ])
    );
    let next = list.body["paging"]["next"]
        .as_str()
        .unwrap_or_else(|| panic!("no next page in {:?}", list.body));
    let rest = sandbox.get_url(next).await;
    assert_eq!(
        rest.body["data"],
        json!([{"id": first, "name": "Alpha"}, {"id": second, "name": "Beta"}])
    );
    let expanded = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            "/v25.0/200001",
            &[("fields", "businessprojects{name}")],
        )
        .await;
    assert_eq!(
        expanded.body["businessprojects"]["data"],
        json!([
            {"name": "Brand Campaigns", "id": "800001"},
            {"name": "Dashboard Launch", "id": "800002"},
            {"name": "Alpha", "id": first},
            {"name": "Beta", "id": second},
        ])
    );
    // Another business's people do not see them.
    let (_, stranger) = sandbox.new_user("Stranger", json!({})).await;
    let outsider = sandbox
        .get_as(&stranger, &format!("/v25.0/{first}"), &[])
        .await;
    assert_eq!(outsider.error_code(), 100);
}

#[tokio::test]
async fn only_admins_write_and_the_role_is_checked_before_the_name() {
    let sandbox = spawn_sandbox().await;
    let employee = create(&sandbox, demo::EMPLOYEE_TOKEN, &[]).await;
    assert_eq!(employee.status, 403);
    assert_eq!(
        employee.body_without_trace(),
        error(200, "(#200) Permissions error")
    );
    let long = "x".repeat(101);
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[], "(#100) The parameter name is required"),
        (
            &[("name", "   ")],
            "(#100) Param name must be a non-empty string",
        ),
        (
            &[("name", "a\u{7}b")],
            "(#100) Param name must be a non-empty string",
        ),
        (
            &[("name", &long)],
            "(#100) Param name must be at most 100 characters long",
        ),
    ];
    for (form, message) in cases {
        let reply = create(&sandbox, demo::ADMIN_TOKEN, form).await;
        assert_eq!(reply.status, 400, "{form:?}");
        assert_eq!(reply.body_without_trace(), error(100, message), "{form:?}");
    }
    // A hundred characters are fine.
    new_project(&sandbox, &"x".repeat(100)).await;
}

#[tokio::test]
async fn an_admin_deletes_a_project_and_an_employee_may_not() {
    let sandbox = spawn_sandbox().await;
    let id = new_project(&sandbox, "Short-lived").await;
    let path = format!("/v25.0/{id}");
    let employee = sandbox.delete_as(demo::EMPLOYEE_TOKEN, &path).await;
    assert_eq!(
        employee.body_without_trace(),
        error(200, "(#200) Permissions error")
    );
    let deleted = sandbox.delete_as(demo::ADMIN_TOKEN, &path).await;
    assert_eq!(deleted.status, 200);
    assert_eq!(deleted.body_without_trace(), json!({"success": true}));
    let gone = sandbox.get_as(demo::ADMIN_TOKEN, &path, &[]).await;
    assert_eq!(gone.error_code(), 100);
    let list = sandbox
        .get_as(demo::ADMIN_TOKEN, PROJECTS, &[("fields", "id")])
        .await;
    assert_eq!(
        list.body["data"],
        json!([{"id": "800001"}, {"id": "800002"}])
    );
}

#[tokio::test]
async fn assets_of_the_business_are_added_listed_and_removed() {
    let sandbox = spawn_sandbox().await;
    let id = new_project(&sandbox, "Launch").await;
    let adds = [
        ("pages", "page_id", demo::POMNI_PAGE_ID),
        (
            "adaccounts",
            "adaccount_id",
            demo::POMNI_BRAND_AD_ACCOUNT_ID,
        ),
    ];
    for (edge, param, asset) in adds {
        let path = format!("/v25.0/{id}/{edge}");
        let added = sandbox
            .post_as(demo::ADMIN_TOKEN, &path, &[(param, asset)])
            .await;
        assert_eq!(added.status, 200, "{edge}: {:?}", added.body);
        assert_eq!(added.body_without_trace(), json!({"success": true}));
        // Adding it again to its own project changes nothing.
        let again = sandbox
            .post_as(demo::ADMIN_TOKEN, &path, &[(param, asset)])
            .await;
        assert_eq!(again.body_without_trace(), json!({"success": true}));
    }
    let pages = sandbox
        .get_as(demo::EMPLOYEE_TOKEN, &format!("/v25.0/{id}/pages"), &[])
        .await;
    assert_eq!(
        pages.body["data"],
        json!([{"id": "300001", "name": "Pomni Media"}])
    );
    let expanded = sandbox
        .get_as(
            demo::EMPLOYEE_TOKEN,
            &format!("/v25.0/{id}"),
            &[("fields", "adaccounts{id},apps{id}")],
        )
        .await;
    assert_eq!(
        expanded.body["adaccounts"]["data"],
        json!([{"id": "act_400002"}])
    );
    assert_eq!(expanded.body["apps"]["data"], json!([]));
    let removed = sandbox
        .delete_as(
            demo::ADMIN_TOKEN,
            &format!("/v25.0/{id}/pages?page_id=300001"),
        )
        .await;
    assert_eq!(removed.body_without_trace(), json!({"success": true}));
    let twice = sandbox
        .delete_as(
            demo::ADMIN_TOKEN,
            &format!("/v25.0/{id}/pages?page_id=300001"),
        )
        .await;
    assert_eq!(
        twice.body_without_trace(),
        error(
            100,
            &format!("(#100) The asset 300001 is not in project {id}")
        )
    );
    let empty = sandbox
        .get_as(demo::ADMIN_TOKEN, &format!("/v25.0/{id}/pages"), &[])
        .await;
    assert_eq!(empty.body["data"], json!([]));
}

#[tokio::test]
async fn asset_writes_check_the_role_the_parameter_and_the_business() {
    let sandbox = spawn_sandbox().await;
    let id = new_project(&sandbox, "Launch").await;
    let pages = format!("/v25.0/{id}/pages");
    let employee = sandbox
        .post_as(demo::EMPLOYEE_TOKEN, &pages, &[("page_id", "300001")])
        .await;
    assert_eq!(
        employee.body_without_trace(),
        error(200, "(#200) Permissions error")
    );
    let foreign = "(#100) Param page_id must be an asset of the project's business";
    let cases: [AssetCase<'_>; 5] = [
        (
            "pages",
            &[],
            "(#100) The parameter page_id is required".to_owned(),
        ),
        ("pages", &[("page_id", "300003")], foreign.to_owned()),
        ("pages", &[("page_id", "300004")], foreign.to_owned()),
        ("pages", &[("page_id", "nope")], foreign.to_owned()),
        (
            "adaccounts",
            &[("adaccount_id", "act_400003")],
            "(#100) Param adaccount_id must be an asset of the project's business".to_owned(),
        ),
    ];
    for (edge, form, message) in cases {
        let reply = sandbox
            .post_as(demo::ADMIN_TOKEN, &format!("/v25.0/{id}/{edge}"), form)
            .await;
        assert_eq!(reply.status, 400, "{form:?}");
        assert_eq!(reply.body_without_trace(), error(100, &message), "{form:?}");
    }
}

#[tokio::test]
async fn an_asset_is_in_one_project_at_a_time_and_deleting_a_project_frees_it() {
    let sandbox = spawn_sandbox().await;
    // The seeded "Dashboard Launch" holds the Pomni app.
    let first = demo::POMNI_DASHBOARD_PROJECT_ID.to_owned();
    let second = new_project(&sandbox, "Second").await;
    let add = |project: String| {
        let sandbox = &sandbox;
        async move {
            sandbox
                .post_as(
                    demo::ADMIN_TOKEN,
                    &format!("/v25.0/{project}/apps"),
                    &[("app_id", demo::POMNI_APP_ID)],
                )
                .await
        }
    };
    let taken = add(second.clone()).await;
    assert_eq!(
        taken.body_without_trace(),
        error(
            100,
            &format!(
                "(#100) The asset 500001 is already in project {first}; remove it from there first"
            )
        )
    );
    let deleted = sandbox
        .delete_as(demo::ADMIN_TOKEN, &format!("/v25.0/{first}"))
        .await;
    assert_eq!(deleted.status, 200);
    let freed = add(second.clone()).await;
    assert_eq!(freed.body_without_trace(), json!({"success": true}));
}

#[tokio::test]
async fn the_seed_has_two_pomni_projects_holding_assets() {
    let sandbox = spawn_sandbox().await;
    let read = sandbox
        .get_as(
            demo::EMPLOYEE_TOKEN,
            &format!("/v25.0/{}", demo::POMNI_BRAND_PROJECT_ID),
            &[(
                "fields",
                "id,name,business,created_by,pages{id},adaccounts{id},apps",
            )],
        )
        .await;
    assert_eq!(read.status, 200, "{:?}", read.body);
    // A one-item page's cursors both point at its item (base64 of `sandbox:0`).
    let one_page = json!({"cursors": {"after": "c2FuZGJveDow", "before": "c2FuZGJveDow"}});
    assert_eq!(
        read.body_without_trace(),
        json!({
            "id": "800001",
            "name": "Brand Campaigns",
            "business": {"id": "200001", "name": "Pomni Media"},
            "created_by": {"id": "100001", "name": "Alex Rivera"},
            "pages": {"data": [{"id": "300002"}], "paging": one_page.clone()},
            "adaccounts": {"data": [{"id": "act_400001"}], "paging": one_page},
            "apps": {"data": []},
        })
    );
    let apps = sandbox
        .get_as(
            demo::EMPLOYEE_TOKEN,
            &format!("/v25.0/{}/apps", demo::POMNI_DASHBOARD_PROJECT_ID),
            &[("fields", "id")],
        )
        .await;
    assert_eq!(apps.body["data"], json!([{"id": "500001"}]));
    // Kinger Labs has none.
    let kinger = sandbox
        .get_as(demo::ADMIN_TOKEN, "/v25.0/200002/businessprojects", &[])
        .await;
    assert_eq!(kinger.body["data"], json!([]));
}

#[tokio::test]
async fn read_only_projects_refuse_every_write_as_todays_graph_and_still_read() {
    let sandbox = spawn_sandbox().await;
    let on = sandbox
        .control("/__sandbox/projects/read_only", json!({"read_only": true}))
        .await;
    assert_eq!(on.body, json!({"ok": true}));
    let project = demo::POMNI_BRAND_PROJECT_ID;
    let unsupported = |method: &str, id: &str| {
        format!(
            "Unsupported {method} request. Object with ID '{id}' does not exist, cannot be \
             loaded due to missing permissions, or does not support this operation."
        )
    };
    let refusals = [
        (
            create(&sandbox, demo::ADMIN_TOKEN, &[("name", "Spring")]).await,
            unsupported("post", "200001"),
        ),
        (
            sandbox
                .delete_as(demo::ADMIN_TOKEN, &format!("/v25.0/{project}"))
                .await,
            unsupported("delete", project),
        ),
        (
            sandbox
                .post_as(
                    demo::ADMIN_TOKEN,
                    &format!("/v25.0/{project}/pages"),
                    &[("page_id", demo::POMNI_CLIPS_PAGE_ID)],
                )
                .await,
            unsupported("post", project),
        ),
        (
            sandbox
                .delete_with(
                    demo::ADMIN_TOKEN,
                    &format!("/v25.0/{project}/adaccounts"),
                    &[("adaccount_id", "act_400001")],
                )
                .await,
            unsupported("delete", project),
        ),
        // Before the caller's role: an EMPLOYEE meets the same answer.
        (
            create(&sandbox, demo::EMPLOYEE_TOKEN, &[("name", "Spring")]).await,
            unsupported("post", "200001"),
        ),
    ];
    for (reply, message) in refusals {
        assert_eq!(reply.status, 400, "{:?}", reply.body);
        assert_eq!(reply.body["error"]["code"], 100, "{:?}", reply.body);
        assert_eq!(reply.body["error"]["error_subcode"], 33, "{:?}", reply.body);
        let said = reply.body["error"]["message"].as_str().expect("a message");
        assert!(said.starts_with(&message), "{said}");
    }
    // Reading still works, and nothing changed.
    let listed = sandbox
        .get_as(demo::ADMIN_TOKEN, PROJECTS, &[("fields", "name")])
        .await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    assert_eq!(listed.body["data"].as_array().map(Vec::len), Some(2));

    // Off again, the seed's writes are back; a reset puts the default (writable) back too.
    sandbox
        .control("/__sandbox/projects/read_only", json!({"read_only": false}))
        .await;
    new_project(&sandbox, "Spring").await;
    sandbox
        .control("/__sandbox/projects/read_only", json!({"read_only": true}))
        .await;
    sandbox.control("/__sandbox/reset", json!({})).await;
    new_project(&sandbox, "Summer").await;
    let bad = sandbox
        .control("/__sandbox/projects/read_only", json!({"readonly": true}))
        .await;
    assert_eq!(bad.status, 400, "{:?}", bad.body);
}
