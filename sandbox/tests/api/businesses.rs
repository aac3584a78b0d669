//! Business Manager: creating, reading, listing, updating and (not) deleting businesses.

use graph_sandbox::demo;
use serde_json::json;

use crate::helpers::{Reply, TestSandbox, spawn_sandbox};

async fn create(sandbox: &TestSandbox, token: &str, form: &[(&str, &str)]) -> Reply {
    sandbox.post_as(token, "/v25.0/me/businesses", form).await
}

fn message(reply: &Reply) -> &str {
    reply.body["error"]["message"].as_str().unwrap_or("")
}

#[tokio::test]
async fn creating_a_business_makes_the_creator_its_first_admin() {
    let sandbox = spawn_sandbox().await;
    let created = create(
        &sandbox,
        demo::ADMIN_TOKEN,
        &[
            ("name", "Rivera Photo"),
            ("vertical", "PROFESSIONAL_SERVICES"),
            ("primary_page", demo::PHOTOGRAPHY_PAGE_ID),
            ("timezone_id", "12"),
            ("email", "studio@rivera.example"),
        ],
    )
    .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let id = created.body["id"].as_str().expect("a new id").to_owned();
    assert_eq!(id, "1000000000");

    let read = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            &format!("/v25.0/{id}"),
            &[(
                "fields",
                "id,name,vertical,timezone_id,email,primary_page,created_by,updated_by,created_time,creation_time,updated_time,update_time",
            )],
        )
        .await;
    let created_time = read.body["created_time"]
        .as_str()
        .expect("a time")
        .to_owned();
    assert_eq!(
        read.body,
        json!({
            "id": id,
            "name": "Rivera Photo",
            "vertical": "PROFESSIONAL_SERVICES",
            "timezone_id": 12,
            "email": "studio@rivera.example",
            "primary_page": {"category": "Photographer", "name": "Alex Rivera Photography", "id": "300004"},
            "created_by": {"id": "100001", "name": "Alex Rivera"},
            "updated_by": {"id": "100001", "name": "Alex Rivera"},
            "created_time": created_time,
            "creation_time": created_time,
            "updated_time": created_time,
            "update_time": created_time
        })
    );

    let owned = sandbox
        .get_as(demo::ADMIN_TOKEN, &format!("/{id}/owned_pages"), &[])
        .await;
    assert_eq!(
        owned.body["data"],
        json!([{"id": "300004", "name": "Alex Rivera Photography"}])
    );
    let mine = sandbox
        .get_as(demo::ADMIN_TOKEN, "/me/businesses", &[("fields", "id")])
        .await;
    assert_eq!(
        mine.body["data"],
        json!([{"id": "200001"}, {"id": "200002"}, {"id": id}])
    );
}

#[tokio::test]
async fn creating_a_business_without_a_primary_page_is_rejected() {
    let sandbox = spawn_sandbox().await;
    let reply = create(
        &sandbox,
        demo::ADMIN_TOKEN,
        &[("name", "No Page Co"), ("vertical", "OTHER")],
    )
    .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.body_without_trace(),
        json!({"error": {
            "message": "(#100) The parameter primary_page is required",
            "type": "OAuthException",
            "code": 100
        }})
    );
}

#[tokio::test]
async fn missing_name_and_vertical_are_reported_in_that_order() {
    let sandbox = spawn_sandbox().await;
    let no_name = create(&sandbox, demo::ADMIN_TOKEN, &[]).await;
    assert_eq!(message(&no_name), "(#100) The parameter name is required");
    let no_vertical = create(&sandbox, demo::ADMIN_TOKEN, &[("name", "A")]).await;
    assert_eq!(
        message(&no_vertical),
        "(#100) The parameter vertical is required"
    );
}

#[tokio::test]
async fn an_unknown_vertical_is_rejected_with_every_allowed_value() {
    let sandbox = spawn_sandbox().await;
    let reply = create(
        &sandbox,
        demo::ADMIN_TOKEN,
        &[
            ("name", "Odd Co"),
            ("vertical", "BANANAS"),
            ("primary_page", demo::PHOTOGRAPHY_PAGE_ID),
        ],
    )
    .await;
    assert_eq!(reply.error_code(), 100);
    let text = message(&reply);
    assert!(
        text.starts_with("(#100) Param vertical must be one of {ADVERTISING, AUTOMOTIVE, "),
        "{text}"
    );
    for value in [
        "OTHER",
        "NOT_SET",
        "HEALTH",
        "LUXURY",
        "NON_PROFIT",
        "RESTAURANT",
    ] {
        assert!(text.contains(value), "{value} missing from {text}");
    }
}

#[tokio::test]
async fn a_name_already_used_by_a_business_the_user_administers_is_3947() {
    let sandbox = spawn_sandbox().await;
    let reply = create(
        &sandbox,
        demo::ADMIN_TOKEN,
        &[
            ("name", "pomni media"),
            ("vertical", "OTHER"),
            ("primary_page", demo::PHOTOGRAPHY_PAGE_ID),
        ],
    )
    .await;
    assert_eq!(reply.error_code(), 3947);
    assert_eq!(reply.status, 400);

    // Alex is only an EMPLOYEE of Kinger Labs, so its name is free for him.
    let reply = create(
        &sandbox,
        demo::ADMIN_TOKEN,
        &[
            ("name", "Kinger Labs"),
            ("vertical", "OTHER"),
            ("primary_page", demo::PHOTOGRAPHY_PAGE_ID),
        ],
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
}

#[tokio::test]
async fn a_primary_page_the_user_does_not_admin_is_3998() {
    let sandbox = spawn_sandbox().await;
    let reply = create(
        &sandbox,
        demo::ADMIN_TOKEN,
        &[
            ("name", "Circus Co"),
            ("vertical", "ENTERTAINMENT_AND_MEDIA"),
            ("primary_page", demo::CIRCUS_FANS_PAGE_ID),
        ],
    )
    .await;
    assert_eq!(
        reply.body_without_trace(),
        json!({"error": {
            "message": "(#3998) The user must be an admin of the primary page",
            "type": "OAuthException",
            "code": 3998
        }})
    );
}

#[tokio::test]
async fn a_primary_page_owned_by_another_business_is_3918() {
    let sandbox = spawn_sandbox().await;
    let reply = create(
        &sandbox,
        demo::ADMIN_TOKEN,
        &[
            ("name", "Labs Fan Co"),
            ("vertical", "TECHNOLOGY"),
            ("primary_page", demo::KINGER_PAGE_ID),
        ],
    )
    .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.error_code(), 3918);
}

#[tokio::test]
async fn an_unusable_name_is_3973_and_a_too_long_one_is_3974() {
    let sandbox = spawn_sandbox().await;
    for name in ["   ", "<b>Bold</b>", "Visit pomni.com", "https://x.example"] {
        let reply = create(
            &sandbox,
            demo::ADMIN_TOKEN,
            &[
                ("name", name),
                ("vertical", "OTHER"),
                ("primary_page", demo::PHOTOGRAPHY_PAGE_ID),
            ],
        )
        .await;
        assert_eq!(reply.error_code(), 3973, "{name:?}");
        assert!(reply.body["error"]["error_user_msg"].is_string());
    }
    let long = "L".repeat(76);
    let reply = create(
        &sandbox,
        demo::ADMIN_TOKEN,
        &[
            ("name", &long),
            ("vertical", "OTHER"),
            ("primary_page", demo::PHOTOGRAPHY_PAGE_ID),
        ],
    )
    .await;
    assert_eq!(reply.error_code(), 3974);
}

#[tokio::test]
async fn a_timezone_id_outside_0_to_592_is_a_code_100_error() {
    let sandbox = spawn_sandbox().await;
    for timezone in ["593", "-1", "Europe/Paris"] {
        let reply = create(
            &sandbox,
            demo::ADMIN_TOKEN,
            &[
                ("name", "Zone Co"),
                ("vertical", "OTHER"),
                ("primary_page", demo::PHOTOGRAPHY_PAGE_ID),
                ("timezone_id", timezone),
            ],
        )
        .await;
        assert_eq!(reply.error_code(), 100, "{timezone}");
    }
}

#[tokio::test]
async fn creating_needs_business_management_and_the_token_own_user() {
    let sandbox = spawn_sandbox().await;
    let (_, token) = sandbox
        .new_user("Pat Viewer", json!({"permissions": ["public_profile"]}))
        .await;
    let reply = create(
        &sandbox,
        &token,
        &[
            ("name", "X"),
            ("vertical", "OTHER"),
            ("primary_page", "300004"),
        ],
    )
    .await;
    assert_eq!(reply.status, 403);
    assert_eq!(
        message(&reply),
        "(#200) Requires business_management permission to manage the object"
    );

    let for_someone_else = sandbox
        .post_as(
            demo::ADMIN_TOKEN,
            "/100004/businesses",
            &[
                ("name", "X"),
                ("vertical", "OTHER"),
                ("primary_page", "300004"),
            ],
        )
        .await;
    assert_eq!(for_someone_else.status, 403);
    assert_eq!(for_someone_else.error_code(), 200);
}

#[tokio::test]
async fn an_admin_updates_a_business_and_becomes_its_updater() {
    let sandbox = spawn_sandbox().await;
    sandbox
        .control("/__sandbox/clock", json!({"advance_seconds": 60}))
        .await;
    let reply = sandbox
        .post_as(
            demo::SYSTEM_TOKEN,
            "/v25.0/200001",
            &[
                ("name", "Pomni Studios"),
                ("vertical", "GAMING"),
                ("primary_page", demo::POMNI_CLIPS_PAGE_ID),
            ],
        )
        .await;
    assert_eq!(reply.body, json!({"id": "200001"}));
    let read = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            "/200001",
            &[(
                "fields",
                "name,vertical,primary_page{id},updated_by,updated_time,created_time",
            )],
        )
        .await;
    assert_eq!(read.body["name"], json!("Pomni Studios"));
    assert_eq!(read.body["vertical"], json!("GAMING"));
    assert_eq!(read.body["primary_page"], json!({"id": "300002"}));
    assert_eq!(
        read.body["updated_by"],
        json!({"id": "100003", "name": "Pomni Sync"})
    );
    assert!(read.body["updated_time"].as_str() > read.body["created_time"].as_str());
}

#[tokio::test]
async fn an_employee_cannot_update_a_business() {
    let sandbox = spawn_sandbox().await;
    let reply = sandbox
        .post_as(demo::EMPLOYEE_TOKEN, "/200001", &[("name", "Sam's Media")])
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.body_without_trace(),
        json!({"error": {
            "message": "(#3910) You do not have permission to edit this business",
            "type": "OAuthException",
            "code": 3910
        }})
    );
}

#[tokio::test]
async fn a_non_member_updating_a_business_gets_the_unsupported_post_error() {
    let sandbox = spawn_sandbox().await;
    let reply = sandbox
        .post_as(demo::EMPLOYEE_TOKEN, "/200002", &[("name", "Mine now")])
        .await;
    assert_eq!(reply.body["error"]["error_subcode"], json!(33));
    assert!(message(&reply).starts_with("Unsupported post request."));
}

#[tokio::test]
async fn updating_the_primary_page_to_a_page_outside_the_business_is_3996() {
    let sandbox = spawn_sandbox().await;
    let reply = sandbox
        .post_as(
            demo::ADMIN_TOKEN,
            "/200001",
            &[("primary_page", demo::KINGER_PAGE_ID)],
        )
        .await;
    assert_eq!(reply.error_code(), 3996);
    assert_eq!(
        message(&reply),
        "(#3996) The page is not owned by this business"
    );
}

#[tokio::test]
async fn deleting_a_business_is_refused() {
    let sandbox = spawn_sandbox().await;
    let reply = sandbox.delete_as(demo::ADMIN_TOKEN, "/v25.0/200001").await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.body_without_trace(),
        json!({"error": {
            "message": "(#100) Unsupported delete request.",
            "type": "OAuthException",
            "code": 100
        }})
    );
    let still_there = sandbox.get_as(demo::ADMIN_TOKEN, "/200001", &[]).await;
    assert_eq!(still_there.status, 200);
}

#[tokio::test]
async fn a_user_businesses_edge_lists_every_membership() {
    let sandbox = spawn_sandbox().await;
    let alex = sandbox
        .get_as(demo::ADMIN_TOKEN, "/v25.0/100001/businesses", &[])
        .await;
    assert_eq!(
        alex.body["data"],
        json!([
            {"id": "200001", "name": "Pomni Media"},
            {"id": "200002", "name": "Kinger Labs"}
        ])
    );
    let sam = sandbox
        .get_as(demo::EMPLOYEE_TOKEN, "/me/businesses", &[])
        .await;
    assert_eq!(
        sam.body["data"],
        json!([{"id": "200001", "name": "Pomni Media"}])
    );
}

#[tokio::test]
async fn creating_reports_a_bad_timezone_before_a_bad_name() {
    let sandbox = spawn_sandbox().await;
    let reply = create(
        &sandbox,
        demo::ADMIN_TOKEN,
        &[
            ("name", "A <b> Co"),
            ("vertical", "OTHER"),
            ("primary_page", demo::PHOTOGRAPHY_PAGE_ID),
            ("timezone_id", "999"),
        ],
    )
    .await;
    assert_eq!(reply.error_code(), 100);
    assert_eq!(
        message(&reply),
        "(#100) Param timezone_id must be an integer between 0 and 592"
    );
}

#[tokio::test]
async fn updating_reports_an_unknown_vertical_before_a_duplicate_name() {
    let sandbox = spawn_sandbox().await;
    let other = sandbox
        .control(
            "/__sandbox/businesses",
            json!({"name": "Rivera Co", "admins": [demo::ADMIN_USER_ID]}),
        )
        .await;
    assert_eq!(other.status, 200, "{:?}", other.body);
    let reply = sandbox
        .post_as(
            demo::ADMIN_TOKEN,
            "/v25.0/200001",
            &[("name", "rivera co"), ("vertical", "SPACE_TRAVEL")],
        )
        .await;
    assert_eq!(reply.error_code(), 100);
    assert!(
        message(&reply).starts_with("(#100) Param vertical must be one of {"),
        "{}",
        message(&reply)
    );
    let duplicate = sandbox
        .post_as(demo::ADMIN_TOKEN, "/v25.0/200001", &[("name", "rivera co")])
        .await;
    assert_eq!(duplicate.error_code(), 3947);
}
