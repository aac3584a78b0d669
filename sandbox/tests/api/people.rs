//! People of a business (`userpermissions`): listing every state, inviting, changing roles,
//! removing, cancelling invitations, and the rules (ADMIN only, last ADMIN, duplicates, the
//! daily invitation limit).

use graph_sandbox::demo;
use serde_json::{Value, json};

use crate::helpers::{Reply, TestSandbox, spawn_sandbox};

const PEOPLE: &str = "/v25.0/200001/userpermissions";

async fn people(sandbox: &TestSandbox, fields: &str) -> Value {
    let reply = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            PEOPLE,
            &[("fields", fields), ("limit", "50")],
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body["data"].clone()
}

async fn post(sandbox: &TestSandbox, token: &str, form: &[(&str, &str)]) -> Reply {
    sandbox.post_as(token, PEOPLE, form).await
}

/// DELETE with its parameters in the query string, as the SDK sends them.
async fn delete(sandbox: &TestSandbox, token: &str, query: &str) -> Reply {
    sandbox.delete_as(token, &format!("{PEOPLE}?{query}")).await
}

fn success() -> Value {
    json!({"success": true})
}

fn error(code: i64, message: &str) -> Value {
    json!({"error": {"message": message, "type": "OAuthException", "code": code}})
}

#[tokio::test]
async fn the_list_shows_every_state_with_the_contract_fields() {
    let sandbox = spawn_sandbox().await;
    let data = people(
        &sandbox,
        "user,business_persona,role,status,email,page_permissions,adaccount_permissions",
    )
    .await;
    let pages = |ids: &[&str]| -> Value {
        ids.iter()
            .map(|id| json!({"id": id, "role": "MANAGE", "status": "ACTIVE"}))
            .collect()
    };
    assert_eq!(
        data,
        json!([
            {
                "user": {"id": "100001", "name": "Alex Rivera"},
                "business_persona": {"id": "600001", "name": "Alex Rivera (Pomni)"},
                "role": "ADMIN", "status": "ACTIVE",
                "page_permissions": pages(&["300001", "300002"]), "adaccount_permissions": [],
                "id": "700001"
            },
            {
                "user": {"id": "100002", "name": "Sam Chen"},
                "business_persona": {"id": "600002", "name": "Samantha Chen"},
                "role": "EMPLOYEE", "status": "ACTIVE", "email": "sam@pomni.example",
                "page_permissions": pages(&["300002"]), "adaccount_permissions": [],
                "id": "700002"
            },
            {
                "user": {"id": "100003", "name": "Pomni Sync"},
                "role": "ADMIN", "status": "ACTIVE",
                "page_permissions": [], "adaccount_permissions": [],
                "id": "700003"
            },
            {
                "role": "EMPLOYEE", "status": "INVITED", "email": "riley@pomni.example",
                "page_permissions": [], "adaccount_permissions": [],
                "id": "700004"
            },
            {
                "business_persona": {"id": "600003", "name": "Morgan Blake"},
                "role": "EMPLOYEE", "status": "SUSPENDED", "email": "morgan@pomni.example",
                "page_permissions": [], "adaccount_permissions": [],
                "id": "700005"
            },
        ])
    );
    let audit = people(&sandbox, "created_by,updated_by,created_time,updated_time").await;
    assert_eq!(
        audit[0]["created_by"],
        json!({"id": "100001", "name": "Alex Rivera"})
    );
    assert_eq!(audit[0]["updated_by"], audit[0]["created_by"]);
    for time in ["created_time", "updated_time"] {
        assert!(
            audit[0][time]
                .as_str()
                .is_some_and(|t| t.ends_with("+0000"))
        );
    }
}

#[tokio::test]
async fn employees_read_the_list_and_outsiders_do_not() {
    let sandbox = spawn_sandbox().await;
    let read = sandbox.get_as(demo::EMPLOYEE_TOKEN, PEOPLE, &[]).await;
    assert_eq!(read.status, 200);
    assert_eq!(
        read.body["data"][0],
        json!({"id": "700001", "role": "ADMIN", "status": "ACTIVE"})
    );
    let kinger = sandbox
        .get_as(demo::EMPLOYEE_TOKEN, "/v25.0/200002/userpermissions", &[])
        .await;
    assert_eq!(kinger.error_code(), 100);
    // Rows are reached through their business only.
    let by_id = sandbox
        .get_as(demo::ADMIN_TOKEN, "/v25.0/700001", &[])
        .await;
    assert_eq!(by_id.error_code(), 100);
}

#[tokio::test]
async fn the_edge_expands_inside_its_business_with_paging() {
    let sandbox = spawn_sandbox().await;
    let read = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            "/v25.0/200001",
            &[(
                "fields",
                "userpermissions.limit(2){role,status,email,business_persona{name}}",
            )],
        )
        .await;
    assert_eq!(read.status, 200, "{:?}", read.body);
    let people = &read.body["userpermissions"];
    assert_eq!(
        people["data"],
        json!([
            {"role": "ADMIN", "status": "ACTIVE", "business_persona": {"name": "Alex Rivera (Pomni)"}, "id": "700001"},
            {"role": "EMPLOYEE", "status": "ACTIVE", "email": "sam@pomni.example", "business_persona": {"name": "Samantha Chen"}, "id": "700002"},
        ])
    );
    let next = people["paging"]["next"].as_str().expect("a next page");
    assert!(next.contains("/200001/userpermissions?"), "{next}");
    let page = sandbox.get_url(next).await;
    assert_eq!(page.body["data"][0]["status"], "ACTIVE");
    assert_eq!(page.body["data"][1]["status"], "INVITED");
}

#[tokio::test]
async fn an_invitation_is_listed_as_invited_and_can_be_cancelled() {
    let sandbox = spawn_sandbox().await;
    let invite = post(
        &sandbox,
        demo::ADMIN_TOKEN,
        &[("email", "Quinn@Pomni.example"), ("role", "ADMIN")],
    )
    .await;
    assert_eq!((invite.status, invite.body), (200, success()));
    let data = people(
        &sandbox,
        "user,role,status,email,created_by,business_persona",
    )
    .await;
    assert_eq!(
        data[5],
        json!({
            "role": "ADMIN", "status": "INVITED", "email": "quinn@pomni.example",
            "created_by": {"id": "100001", "name": "Alex Rivera"}, "id": "2000000000"
        })
    );
    // Rows have their own counter: the next new node keeps the id it had before.
    let (user_id, _) = sandbox.new_user("Next Node", json!({})).await;
    assert_eq!(user_id, "1000000000");

    let cancel = delete(&sandbox, demo::ADMIN_TOKEN, "email=quinn%40pomni.example").await;
    assert_eq!((cancel.status, cancel.body), (200, success()));
    assert_eq!(
        people(&sandbox, "status").await.as_array().map(Vec::len),
        Some(5)
    );
    let again = delete(&sandbox, demo::ADMIN_TOKEN, "email=quinn%40pomni.example").await;
    assert_eq!(
        again.body_without_trace(),
        error(
            100,
            "(#100) There is no pending invitation for quinn@pomni.example"
        )
    );
}

#[tokio::test]
async fn inviting_an_invited_or_active_email_again_is_refused_and_another_role_changes_the_offer() {
    let sandbox = spawn_sandbox().await;
    let twice = post(
        &sandbox,
        demo::ADMIN_TOKEN,
        &[("email", demo::INVITED_EMAIL), ("role", "EMPLOYEE")],
    )
    .await;
    assert_eq!(twice.status, 400);
    assert_eq!(
        twice.body_without_trace(),
        error(
            100,
            "(#100) riley@pomni.example has already been invited to this business"
        )
    );
    let member = post(
        &sandbox,
        demo::ADMIN_TOKEN,
        &[("email", "sam@pomni.example"), ("role", "EMPLOYEE")],
    )
    .await;
    assert_eq!(
        member.body_without_trace(),
        error(
            100,
            "(#100) sam@pomni.example is already a member of this business"
        )
    );
    // A member known only by their persona's email is refused the same way.
    let by_persona = post(
        &sandbox,
        demo::ADMIN_TOKEN,
        &[("email", "alex@pomni.example"), ("role", "ADMIN")],
    )
    .await;
    assert_eq!(by_persona.error_code(), 100);

    let offer = post(
        &sandbox,
        demo::ADMIN_TOKEN,
        &[("email", demo::INVITED_EMAIL), ("role", "ADMIN")],
    )
    .await;
    assert_eq!((offer.status, offer.body), (200, success()));
    let data = people(&sandbox, "role,status,updated_by").await;
    assert_eq!(
        data[3],
        json!({"role": "ADMIN", "status": "INVITED", "updated_by": {"id": "100001", "name": "Alex Rivera"}, "id": "700004"})
    );
}

#[tokio::test]
async fn parameters_are_checked_before_the_business_rules() {
    let sandbox = spawn_sandbox().await;
    let cases: [(&[(&str, &str)], &str); 5] = [
        (
            &[("email", "a@b.example")],
            "(#100) The parameter role is required",
        ),
        (
            &[("email", "a@b.example"), ("role", "OWNER")],
            "(#100) Param role must be one of {ADMIN, EMPLOYEE}",
        ),
        (
            &[("role", "ADMIN")],
            "(#100) Exactly one of the params user and email is required",
        ),
        (
            &[
                ("email", "a@b.example"),
                ("user", "100002"),
                ("role", "ADMIN"),
            ],
            "(#100) Exactly one of the params user and email is required",
        ),
        (
            &[("email", "not-an-email"), ("role", "ADMIN")],
            "(#100) Param email must be a valid email address",
        ),
    ];
    for (form, message) in cases {
        let reply = post(&sandbox, demo::ADMIN_TOKEN, form).await;
        assert_eq!(reply.body_without_trace(), error(100, message), "{form:?}");
    }
    let stranger = post(
        &sandbox,
        demo::ADMIN_TOKEN,
        &[("user", "100004"), ("role", "ADMIN")],
    )
    .await;
    assert_eq!(
        stranger.body_without_trace(),
        error(100, "(#100) The user is not a member of this business")
    );
}

#[tokio::test]
async fn employees_get_code_200_for_every_write_even_with_bad_parameters() {
    let sandbox = spawn_sandbox().await;
    let forbidden = error(200, "(#200) Permissions error");
    let writes = [
        post(
            &sandbox,
            demo::EMPLOYEE_TOKEN,
            &[("email", "x@y.example"), ("role", "EMPLOYEE")],
        )
        .await,
        post(
            &sandbox,
            demo::EMPLOYEE_TOKEN,
            &[("user", "100002"), ("role", "ADMIN")],
        )
        .await,
        post(&sandbox, demo::EMPLOYEE_TOKEN, &[]).await,
        delete(&sandbox, demo::EMPLOYEE_TOKEN, "user=100001").await,
        delete(
            &sandbox,
            demo::EMPLOYEE_TOKEN,
            &format!("email={}", demo::INVITED_EMAIL),
        )
        .await,
    ];
    for reply in writes {
        assert_eq!(reply.status, 403);
        assert_eq!(reply.body_without_trace(), forbidden);
    }
    // The admin system user may write.
    let system = post(
        &sandbox,
        demo::SYSTEM_TOKEN,
        &[("email", "x@y.example"), ("role", "EMPLOYEE")],
    )
    .await;
    assert_eq!(system.body, success());
}

#[tokio::test]
async fn a_role_change_takes_effect_at_once() {
    let sandbox = spawn_sandbox().await;
    let promote = post(
        &sandbox,
        demo::ADMIN_TOKEN,
        &[("user", demo::EMPLOYEE_USER_ID), ("role", "ADMIN")],
    )
    .await;
    assert_eq!(promote.body, success());
    assert_eq!(people(&sandbox, "role").await[1]["role"], "ADMIN");
    let invite = post(
        &sandbox,
        demo::EMPLOYEE_TOKEN,
        &[("email", "new@pomni.example"), ("role", "EMPLOYEE")],
    )
    .await;
    assert_eq!(invite.body, success());
}

#[tokio::test]
async fn removing_a_person_drops_their_roles_in_this_business_only() {
    let sandbox = spawn_sandbox().await;
    let removed = delete(&sandbox, demo::SYSTEM_TOKEN, "user=100001").await;
    assert_eq!((removed.status, removed.body), (200, success()));
    let list = sandbox
        .get_as(demo::SYSTEM_TOKEN, PEOPLE, &[("fields", "user")])
        .await;
    let users = list.body["data"].as_array().cloned().unwrap_or_default();
    assert_eq!(users.len(), 4);
    assert!(users.iter().all(|row| row["user"]["id"] != "100001"));
    // Pomni Media's pages are gone; Kinger Labs' page and Alex's own pages stay.
    let pages = sandbox
        .get_as(demo::ADMIN_TOKEN, "/v25.0/me/accounts", &[("fields", "id")])
        .await;
    // Alex's own pages: 300004, 300006 and the free demo pages 300007 to 300016.
    let mut expected = vec![
        json!({"id": "300003"}),
        json!({"id": "300004"}),
        json!({"id": "300006"}),
    ];
    expected.extend((300_007..=300_016).map(|id| json!({"id": id.to_string()})));
    assert_eq!(pages.body["data"], json!(expected));
    let business = sandbox
        .get_as(demo::ADMIN_TOKEN, "/v25.0/200001", &[])
        .await;
    assert_eq!(business.error_code(), 100);
    let kinger = sandbox
        .get_as(demo::ADMIN_TOKEN, "/v25.0/200002", &[])
        .await;
    assert_eq!(kinger.status, 200);
    // A suspended person can be removed too.
    let suspended = delete(&sandbox, demo::SYSTEM_TOKEN, "user=100005").await;
    assert_eq!(suspended.body, success());
}

#[tokio::test]
async fn the_last_admin_can_be_neither_removed_nor_demoted() {
    let sandbox = spawn_sandbox().await;
    let system = delete(&sandbox, demo::ADMIN_TOKEN, "user=100003").await;
    assert_eq!(system.body, success());
    let last = error(
        3914,
        "(#3914) You cannot remove the last admin of this business",
    );
    let remove = delete(&sandbox, demo::ADMIN_TOKEN, "user=100001").await;
    assert_eq!(
        (remove.status, remove.body_without_trace()),
        (400, last.clone())
    );
    let demote = post(
        &sandbox,
        demo::ADMIN_TOKEN,
        &[("user", demo::ADMIN_USER_ID), ("role", "EMPLOYEE")],
    )
    .await;
    assert_eq!(demote.body_without_trace(), last);
}

#[tokio::test]
async fn invitations_are_limited_per_business_per_rolling_day() {
    let sandbox = spawn_sandbox().await;
    for n in 0..20 {
        let email = format!("person{n}@pomni.example");
        let reply = post(
            &sandbox,
            demo::ADMIN_TOKEN,
            &[("email", &email), ("role", "EMPLOYEE")],
        )
        .await;
        assert_eq!(reply.body, success(), "{n}");
    }
    let over = post(
        &sandbox,
        demo::ADMIN_TOKEN,
        &[("email", "one-more@pomni.example"), ("role", "EMPLOYEE")],
    )
    .await;
    assert_eq!(over.status, 400);
    assert_eq!(
        over.body_without_trace(),
        json!({"error": {
            "message": "(#17) User request limit reached",
            "type": "OAuthException",
            "code": 17,
            "error_user_title": "Too Many Invitations",
            "error_user_msg": "This business has sent too many invitations. Please resume 24 hours later.",
            "is_transient": true,
        }})
    );
    // Changing an invitation's role is not an invitation.
    let offer = post(
        &sandbox,
        demo::ADMIN_TOKEN,
        &[("email", "person0@pomni.example"), ("role", "ADMIN")],
    )
    .await;
    assert_eq!(offer.body, success());
    let clock = sandbox
        .control("/__sandbox/clock", json!({"advance_seconds": 86_400}))
        .await;
    assert_eq!(clock.status, 200);
    let later = post(
        &sandbox,
        demo::ADMIN_TOKEN,
        &[("email", "one-more@pomni.example"), ("role", "EMPLOYEE")],
    )
    .await;
    assert_eq!(later.body, success());
}
