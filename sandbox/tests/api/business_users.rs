//! People on today's API (docs/graph-api.md §8.7): `business_users` and `pending_users`, their
//! nodes' reads and writes, and the one store they share with `userpermissions`,
//! `business_persona` and `finance_permissions`: what is done through one dialect shows
//! through the other.

use graph_sandbox::demo;
use serde_json::{Value, json};

use crate::helpers::{Reply, TestSandbox, spawn_sandbox};

const USERS: &str = "/v25.0/200001/business_users";
const PENDING: &str = "/v25.0/200001/pending_users";
const PEOPLE: &str = "/v25.0/200001/userpermissions";
const USER_FIELDS: &str = "name,first_name,last_name,email,pending_email,role,tasks,title,\
                           finance_permission,invited_user_type,business";
const REQUEST_FIELDS: &str =
    "email,role,tasks,status,invited_user_type,created_by,expiration_time,created_time,invite_link";

async fn list(sandbox: &TestSandbox, path: &str, fields: &str) -> Value {
    let reply = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            path,
            &[("fields", fields), ("limit", "50")],
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body["data"].clone()
}

async fn node(sandbox: &TestSandbox, token: &str, id: &str, fields: &str) -> Reply {
    let query: Vec<(&str, &str)> = if fields.is_empty() {
        Vec::new()
    } else {
        vec![("fields", fields)]
    };
    sandbox.get_as(token, &format!("/v25.0/{id}"), &query).await
}

fn ids(data: &Value) -> Vec<&str> {
    data.as_array()
        .expect("a list")
        .iter()
        .map(|item| item["id"].as_str().expect("an id"))
        .collect()
}

/// A form's fields.
type Form<'a> = &'a [(&'a str, &'a str)];

fn success() -> Value {
    json!({"success": true})
}

fn error(code: i64, message: &str) -> Value {
    json!({"error": {"message": message, "type": "OAuthException", "code": code}})
}

fn pomni() -> Value {
    json!({"id": "200001", "name": "Pomni Media"})
}

#[tokio::test]
async fn the_seeded_members_are_business_users_and_system_users_are_not() {
    let sandbox = spawn_sandbox().await;
    let data = list(&sandbox, USERS, USER_FIELDS).await;
    let admin_tasks = json!(["ADMIN", "DEVELOPER", "EMPLOYEE", "MANAGE"]);
    assert_eq!(
        data,
        json!([
            {
                "name": "Alex Rivera (Pomni)", "first_name": "Alex", "last_name": "Rivera (Pomni)",
                "email": "alex@pomni.example", "role": "ADMIN", "tasks": admin_tasks,
                "invited_user_type": ["FB"], "business": pomni(), "id": "710001"
            },
            {
                "name": "Samantha Chen", "first_name": "Samantha", "last_name": "Chen",
                "email": "sam@pomni.example", "role": "EMPLOYEE", "tasks": ["EMPLOYEE"],
                "invited_user_type": ["FB"], "business": pomni(), "id": "710002"
            },
            // SUSPENDED people stay listed, with no status of their own.
            {
                "name": "Morgan Blake", "first_name": "Morgan", "last_name": "Blake",
                "email": "morgan@pomni.example", "role": "EMPLOYEE", "tasks": ["EMPLOYEE"],
                "invited_user_type": ["FB"], "business": pomni(), "id": "710005"
            }
        ])
    );
    // Pomni Sync (row 700003) is a system user: on `system_users`, not here.
    let system = node(&sandbox, demo::ADMIN_TOKEN, "710003", "").await;
    assert_eq!(system.error_code(), 100);
    // Finance roles show as `finance_permission`.
    let kinger = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            "/v25.0/200002/business_users",
            &[("fields", "name,role,finance_permission")],
        )
        .await;
    assert_eq!(
        kinger.body["data"],
        json!([
            {"name": "Jordan Lee", "role": "ADMIN", "finance_permission": "FINANCE_EDITOR", "id": "710006"},
            {"name": "Alex Rivera", "role": "EMPLOYEE", "id": "710007"}
        ])
    );
}

#[tokio::test]
async fn the_seeded_invitation_is_a_pending_user() {
    let sandbox = spawn_sandbox().await;
    let data = list(&sandbox, PENDING, REQUEST_FIELDS).await;
    let request = &data[0];
    assert_eq!(data.as_array().map(Vec::len), Some(1), "{data}");
    assert_eq!(request["id"], "720004");
    assert_eq!(request["email"], demo::INVITED_EMAIL);
    assert_eq!(request["role"], "EMPLOYEE");
    assert_eq!(request["tasks"], json!(["EMPLOYEE"]));
    assert_eq!(request["status"], "PENDING");
    assert_eq!(request["invited_user_type"], json!(["FB"]));
    // Made by Alex, given as his business user.
    assert_eq!(
        request["created_by"],
        json!({"id": "710001", "name": "Alex Rivera (Pomni)"})
    );
    assert_eq!(
        request["invite_link"],
        sandbox.url("/__sandbox/invitations/720004")
    );
    // Seeded 21 days before the clock's start, it expires 9 days after it.
    let clock = sandbox
        .control("/__sandbox/clock", json!({"advance_seconds": 0}))
        .await;
    let now = clock.body["now"].as_str().expect("a time");
    let expected = chrono::DateTime::parse_from_str(now, "%Y-%m-%dT%H:%M:%S%z")
        .expect("Graph's time format")
        + chrono::TimeDelta::days(9);
    assert_eq!(
        request["expiration_time"],
        expected.format("%Y-%m-%dT%H:%M:%S+0000").to_string()
    );
    // The link is the control plane's page about the invitation.
    let page = sandbox
        .get_url(request["invite_link"].as_str().expect("a link"))
        .await;
    assert_eq!(page.status, 200, "{:?}", page.body);
    assert_eq!(page.body["email"], demo::INVITED_EMAIL);
    assert_eq!(page.body["business_id"], "200001");
    // Once the clock passes the expiration, it is EXPIRED.
    sandbox
        .control(
            "/__sandbox/clock",
            json!({"advance_seconds": 9 * 86_400 + 1}),
        )
        .await;
    let read = node(&sandbox, demo::ADMIN_TOKEN, "720004", "status").await;
    assert_eq!(read.body, json!({"status": "EXPIRED"}));
}

#[tokio::test]
async fn the_nodes_read_by_id_with_their_defaults_and_refuse_unknown_fields() {
    let sandbox = spawn_sandbox().await;
    let user = node(&sandbox, demo::EMPLOYEE_TOKEN, "710001", "").await;
    assert_eq!(
        user.body,
        json!({"id": "710001", "name": "Alex Rivera (Pomni)", "business": pomni(), "role": "ADMIN"})
    );
    let request = node(&sandbox, demo::EMPLOYEE_TOKEN, "720004", "").await;
    assert_eq!(
        request.body,
        json!({"id": "720004", "email": "riley@pomni.example", "role": "EMPLOYEE", "status": "PENDING"})
    );
    let unknown = node(&sandbox, demo::ADMIN_TOKEN, "710001", "user").await;
    assert_eq!(
        unknown.body_without_trace(),
        error(
            100,
            "(#100) Tried accessing nonexisting field (user) on node type (BusinessUser)"
        )
    );
    let unknown = node(&sandbox, demo::ADMIN_TOKEN, "720004", "name").await;
    assert_eq!(unknown.error_code(), 100);
    // Outsiders see neither: Sam is not in Kinger Labs.
    for id in ["710006", "710007"] {
        let outsider = node(&sandbox, demo::EMPLOYEE_TOKEN, id, "").await;
        assert_eq!(outsider.error_code(), 100, "{id}");
        assert_eq!(outsider.body["error"]["error_subcode"], 33, "{id}");
    }
    // Both kinds are read together through `?ids=`.
    let both = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            "/v25.0/",
            &[("ids", "710002,720004"), ("fields", "role")],
        )
        .await;
    assert_eq!(
        both.body,
        json!({"710002": {"role": "EMPLOYEE"}, "720004": {"role": "EMPLOYEE"}})
    );
    // The seed's rows are still not nodes.
    assert_eq!(
        node(&sandbox, demo::ADMIN_TOKEN, "700001", "")
            .await
            .error_code(),
        100
    );
}

#[tokio::test]
async fn both_edges_expand_side_by_side_in_one_business_read_and_page() {
    let sandbox = spawn_sandbox().await;
    let before = sandbox.request_count().await;
    let read = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            "/v25.0/200001",
            &[(
                "fields",
                "name,business_users.limit(2){name,role,tasks},pending_users{email,status}",
            )],
        )
        .await;
    assert_eq!(read.status, 200, "{:?}", read.body);
    assert_eq!(sandbox.request_count().await, before + 1);
    assert_eq!(read.body["name"], "Pomni Media");
    assert_eq!(
        ids(&read.body["business_users"]["data"]),
        ["710001", "710002"]
    );
    assert_eq!(
        read.body["pending_users"]["data"],
        json!([{"email": "riley@pomni.example", "status": "PENDING", "id": "720004"}])
    );
    // The nested edge's next page is the edge itself, with the same selection.
    let next = read.body["business_users"]["paging"]["next"]
        .as_str()
        .expect("a next page");
    assert!(next.contains("/200001/business_users"), "{next}");
    let page = sandbox.get_url(next).await;
    assert_eq!(page.status, 200, "{:?}", page.body);
    assert_eq!(
        page.body["data"],
        json!([{"name": "Morgan Blake", "role": "EMPLOYEE", "tasks": ["EMPLOYEE"], "id": "710005"}])
    );
    assert!(page.body["paging"].get("next").is_none(), "{}", page.body);
    // The edge read directly pages the same way.
    let first = sandbox
        .get_as(demo::ADMIN_TOKEN, USERS, &[("limit", "1")])
        .await;
    assert_eq!(ids(&first.body["data"]), ["710001"]);
    let second = sandbox
        .get_url(first.body["paging"]["next"].as_str().expect("a next page"))
        .await;
    assert_eq!(ids(&second.body["data"]), ["710002"]);
}

#[tokio::test]
async fn an_invitation_through_business_users_shows_in_userpermissions_and_back() {
    let sandbox = spawn_sandbox().await;
    let invited = sandbox
        .post_as(
            demo::ADMIN_TOKEN,
            USERS,
            &[
                ("email", "Casey@Pomni.example"),
                ("role", "ADMIN"),
                ("tasks", "[\"MANAGE\",\"ADMIN\"]"),
            ],
        )
        .await;
    assert_eq!(invited.status, 200, "{:?}", invited.body);
    assert_eq!(invited.body, json!({"id": "4000000000"}));
    let people = list(&sandbox, PEOPLE, "email,role,status").await;
    assert_eq!(
        people[5],
        json!({"email": "casey@pomni.example", "role": "ADMIN", "status": "INVITED", "id": "2000000000"})
    );
    let request = node(
        &sandbox,
        demo::ADMIN_TOKEN,
        "4000000000",
        "email,role,tasks,status",
    )
    .await;
    assert_eq!(
        request.body,
        json!({"email": "casey@pomni.example", "role": "ADMIN", "tasks": ["ADMIN", "MANAGE"], "status": "PENDING"})
    );
    // The other way: invited through the seed's edge, pending on today's.
    let seed_invite = sandbox
        .post_as(
            demo::ADMIN_TOKEN,
            PEOPLE,
            &[("email", "drew@pomni.example"), ("role", "EMPLOYEE")],
        )
        .await;
    assert_eq!(seed_invite.body, success());
    let pending = list(&sandbox, PENDING, "email,role").await;
    assert_eq!(
        pending,
        json!([
            {"email": "riley@pomni.example", "role": "EMPLOYEE", "id": "720004"},
            {"email": "casey@pomni.example", "role": "ADMIN", "id": "4000000000"},
            {"email": "drew@pomni.example", "role": "EMPLOYEE", "id": "4000000001"}
        ])
    );
    // `email` picks one invitation.
    let one = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            PENDING,
            &[("email", "DREW@pomni.example"), ("fields", "email")],
        )
        .await;
    assert_eq!(ids(&one.body["data"]), ["4000000001"]);
    let bad = sandbox
        .get_as(demo::ADMIN_TOKEN, PENDING, &[("email", "drew")])
        .await;
    assert_eq!(bad.error_code(), 100);
    // A change of the offer through the seed's edge shows on today's node, tasks following
    // the new role.
    let changed = sandbox
        .post_as(
            demo::ADMIN_TOKEN,
            PEOPLE,
            &[("email", "casey@pomni.example"), ("role", "EMPLOYEE")],
        )
        .await;
    assert_eq!(changed.body, success());
    let request = node(&sandbox, demo::ADMIN_TOKEN, "4000000000", "role,tasks").await;
    assert_eq!(
        request.body,
        json!({"role": "EMPLOYEE", "tasks": ["EMPLOYEE"]})
    );
}

#[tokio::test]
async fn an_accepted_invitation_becomes_a_business_user_and_its_request_is_gone() {
    let sandbox = spawn_sandbox().await;
    let accepted = sandbox
        .control(
            "/__sandbox/invitations/accept",
            json!({"business_id": "200001", "email": demo::INVITED_EMAIL,
                   "first_name": "Riley", "last_name": "Quinn"}),
        )
        .await;
    assert_eq!(accepted.status, 200, "{:?}", accepted.body);
    let users = list(&sandbox, USERS, "name,email,role").await;
    // The row keeps its place (700004, between Pomni Sync and Morgan); the business user id is
    // new.
    assert_eq!(
        users[2],
        json!({"name": "Riley Quinn", "email": "riley@pomni.example", "role": "EMPLOYEE", "id": "4000000000"})
    );
    assert_eq!(list(&sandbox, PENDING, "email").await, json!([]));
    let gone = node(&sandbox, demo::ADMIN_TOKEN, "720004", "").await;
    assert_eq!(gone.error_code(), 100);
    let page = sandbox.get("/__sandbox/invitations/720004", &[]).await;
    assert_eq!(page.status, 404, "{:?}", page.body);
}

#[tokio::test]
async fn a_role_change_through_either_dialect_shows_in_both() {
    let sandbox = spawn_sandbox().await;
    let promoted = sandbox
        .post_as(demo::ADMIN_TOKEN, "/v25.0/710002", &[("role", "ADMIN")])
        .await;
    assert_eq!(promoted.body, success());
    let people = list(&sandbox, PEOPLE, "role").await;
    assert_eq!(people[1], json!({"role": "ADMIN", "id": "700002"}));
    let tasks = sandbox
        .post_as(
            demo::ADMIN_TOKEN,
            "/v25.0/710002",
            &[("tasks", "EMPLOYEE,FINANCE_VIEW")],
        )
        .await;
    assert_eq!(tasks.body, success());
    let read = node(&sandbox, demo::ADMIN_TOKEN, "710002", "role,tasks").await;
    assert_eq!(
        read.body,
        json!({"role": "ADMIN", "tasks": ["EMPLOYEE", "FINANCE_VIEW"]})
    );
    // The seed's edge changes the role back; the tasks set for the old role go with it, the
    // finance role (FINANCE_VIEW) stays.
    let demoted = sandbox
        .post_as(
            demo::ADMIN_TOKEN,
            PEOPLE,
            &[("user", demo::EMPLOYEE_USER_ID), ("role", "EMPLOYEE")],
        )
        .await;
    assert_eq!(demoted.body, success());
    let read = node(&sandbox, demo::ADMIN_TOKEN, "710002", "role,tasks").await;
    assert_eq!(
        read.body,
        json!({"role": "EMPLOYEE", "tasks": ["EMPLOYEE", "FINANCE_VIEW"]})
    );
    // A finance role granted through the seed's edge is the business user's
    // `finance_permission` and its finance tasks.
    let granted = sandbox
        .post_as(
            demo::ADMIN_TOKEN,
            FINANCE,
            &[
                ("user", demo::EMPLOYEE_USER_ID),
                ("finance_permission", "FINANCE_EDITOR"),
            ],
        )
        .await;
    assert_eq!(granted.body, success());
    let read = node(
        &sandbox,
        demo::ADMIN_TOKEN,
        "710002",
        "tasks,finance_permission",
    )
    .await;
    assert_eq!(
        read.body,
        json!({"tasks": ["EMPLOYEE", "FINANCE_EDIT", "FINANCE_VIEW"],
               "finance_permission": "FINANCE_EDITOR"})
    );
}

const FINANCE: &str = "/v25.0/200001/finance_permissions";

/// The finance role of user `user` in Pomni Media, as `finance_permissions` lists it.
async fn listed_finance_role(sandbox: &TestSandbox, user: &str) -> Option<String> {
    let rows = list(sandbox, FINANCE, "user,finance_permission").await;
    rows.as_array()
        .expect("a list")
        .iter()
        .find(|row| row["user"]["id"] == user)
        .map(|row| {
            row["finance_permission"]
                .as_str()
                .expect("a role")
                .to_owned()
        })
}

/// Whether Alex may read Pomni Media's invoices of January 2024.
async fn alex_reads_invoices(sandbox: &TestSandbox) -> bool {
    let reply = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            "/v25.0/200001/business_invoices",
            &[("start_date", "2024-01-01"), ("end_date", "2024-02-01")],
        )
        .await;
    match reply.status {
        200 => true,
        403 => false,
        other => panic!("{other}: {:?}", reply.body),
    }
}

#[tokio::test]
async fn finance_tasks_of_a_business_user_are_its_finance_role() {
    let sandbox = spawn_sandbox().await;
    let alex = "710001";
    let sandbox = &sandbox;
    let tasks_of = |fields: &'static str| async move {
        node(sandbox, demo::ADMIN_TOKEN, alex, fields).await.body
    };
    assert!(!alex_reads_invoices(sandbox).await);
    assert_eq!(
        tasks_of("tasks").await,
        json!({"tasks": ["ADMIN", "DEVELOPER", "EMPLOYEE", "MANAGE"]})
    );

    // FINANCE_VIEW among the tasks: an analyst, in both dialects, who reads invoices.
    let view = sandbox
        .post_as(
            demo::ADMIN_TOKEN,
            &format!("/v25.0/{alex}"),
            &[("tasks", "ADMIN,DEVELOPER,EMPLOYEE,MANAGE,FINANCE_VIEW")],
        )
        .await;
    assert_eq!(view.body, success());
    assert_eq!(
        tasks_of("tasks,finance_permission").await,
        json!({"tasks": ["ADMIN", "DEVELOPER", "EMPLOYEE", "FINANCE_VIEW", "MANAGE"],
               "finance_permission": "FINANCE_ANALYST"})
    );
    assert_eq!(
        listed_finance_role(sandbox, demo::ADMIN_USER_ID)
            .await
            .as_deref(),
        Some("FINANCE_ANALYST")
    );
    assert!(alex_reads_invoices(sandbox).await);

    // FINANCE_EDIT: an editor, who views too.
    let edit = sandbox
        .post_as(
            demo::ADMIN_TOKEN,
            &format!("/v25.0/{alex}"),
            &[("tasks", "ADMIN,FINANCE_EDIT")],
        )
        .await;
    assert_eq!(edit.body, success());
    assert_eq!(
        tasks_of("tasks,finance_permission").await,
        json!({"tasks": ["ADMIN", "FINANCE_EDIT", "FINANCE_VIEW"],
               "finance_permission": "FINANCE_EDITOR"})
    );
    assert_eq!(
        listed_finance_role(sandbox, demo::ADMIN_USER_ID)
            .await
            .as_deref(),
        Some("FINANCE_EDITOR")
    );

    // Tasks without a finance one take the role away: no row, no invoices.
    let none = sandbox
        .post_as(
            demo::ADMIN_TOKEN,
            &format!("/v25.0/{alex}"),
            &[("tasks", "ADMIN,MANAGE")],
        )
        .await;
    assert_eq!(none.body, success());
    assert_eq!(
        tasks_of("tasks").await,
        json!({"tasks": ["ADMIN", "MANAGE"]})
    );
    assert_eq!(
        listed_finance_role(sandbox, demo::ADMIN_USER_ID).await,
        None
    );
    assert!(!alex_reads_invoices(sandbox).await);

    // Revoking through `finance_permissions` shows in the tasks too.
    let granted = sandbox
        .post_as(
            demo::ADMIN_TOKEN,
            FINANCE,
            &[
                ("user", demo::ADMIN_USER_ID),
                ("finance_permission", "FINANCE_ANALYST"),
            ],
        )
        .await;
    assert_eq!(granted.body, success());
    assert_eq!(
        tasks_of("tasks").await,
        json!({"tasks": ["ADMIN", "FINANCE_VIEW", "MANAGE"]})
    );
    let revoked = sandbox
        .delete_with(demo::ADMIN_TOKEN, FINANCE, &[("user", demo::ADMIN_USER_ID)])
        .await;
    assert_eq!(revoked.body, success());
    assert_eq!(
        tasks_of("tasks").await,
        json!({"tasks": ["ADMIN", "MANAGE"]})
    );
}

#[tokio::test]
async fn finance_tasks_an_invitation_offers_become_the_members_finance_role() {
    let sandbox = spawn_sandbox().await;
    let invited = sandbox
        .post_as(
            demo::ADMIN_TOKEN,
            USERS,
            &[
                ("email", "fin@pomni.example"),
                ("role", "EMPLOYEE"),
                ("tasks", "EMPLOYEE,FINANCE_VIEW"),
            ],
        )
        .await;
    assert_eq!(invited.status, 200, "{:?}", invited.body);
    // Offered, not yet held: the invitation shows what it offers.
    let pending = list(&sandbox, PENDING, "email,tasks").await;
    assert_eq!(pending[1]["tasks"], json!(["EMPLOYEE", "FINANCE_VIEW"]));
    let accepted = sandbox
        .control(
            "/__sandbox/invitations/accept",
            json!({"business_id": "200001", "email": "fin@pomni.example",
                   "first_name": "Fin", "last_name": "Ance"}),
        )
        .await;
    assert_eq!(accepted.status, 200, "{:?}", accepted.body);
    let user = accepted.body["user_id"]
        .as_str()
        .expect("a user")
        .to_owned();
    assert_eq!(
        listed_finance_role(&sandbox, &user).await.as_deref(),
        Some("FINANCE_ANALYST")
    );
    let members = list(&sandbox, USERS, "email,tasks,finance_permission").await;
    let member = members
        .as_array()
        .expect("a list")
        .iter()
        .find(|m| m["email"] == "fin@pomni.example")
        .cloned()
        .expect("the new member");
    assert_eq!(member["tasks"], json!(["EMPLOYEE", "FINANCE_VIEW"]));
    assert_eq!(member["finance_permission"], json!("FINANCE_ANALYST"));
}

#[tokio::test]
async fn a_person_edits_their_own_profile_and_it_is_their_persona() {
    let sandbox = spawn_sandbox().await;
    let edited = sandbox
        .post_as(
            demo::EMPLOYEE_TOKEN,
            "/v25.0/710002",
            &[
                ("first_name", " Sam "),
                ("title", "Producer"),
                ("email", "Sam.New@pomni.example"),
            ],
        )
        .await;
    assert_eq!(edited.body, success());
    let read = node(
        &sandbox,
        demo::EMPLOYEE_TOKEN,
        "710002",
        "name,title,email,pending_email",
    )
    .await;
    assert_eq!(
        read.body,
        json!({"name": "Sam Chen", "title": "Producer", "email": "sam@pomni.example",
               "pending_email": "sam.new@pomni.example"})
    );
    // The same persona, through the seed's edges.
    let persona = node(
        &sandbox,
        demo::EMPLOYEE_TOKEN,
        demo::EMPLOYEE_POMNI_PERSONA_ID,
        "name,title,email",
    )
    .await;
    assert_eq!(
        persona.body,
        json!({"name": "Sam Chen", "title": "Producer", "email": "sam@pomni.example"})
    );
    let cleared = sandbox
        .post_as(
            demo::EMPLOYEE_TOKEN,
            "/v25.0/710002",
            &[("clear_pending_email", "true")],
        )
        .await;
    assert_eq!(cleared.body, success());
    let read = node(
        &sandbox,
        demo::EMPLOYEE_TOKEN,
        "710002",
        "email,pending_email",
    )
    .await;
    assert_eq!(read.body, json!({"email": "sam@pomni.example"}));
    // Nobody else edits it, admins included; nobody but an ADMIN changes a role.
    let by_admin = sandbox
        .post_as(demo::ADMIN_TOKEN, "/v25.0/710002", &[("title", "Boss")])
        .await;
    assert_eq!(
        by_admin.body_without_trace(),
        error(200, "(#200) Permissions error")
    );
    let own_role = sandbox
        .post_as(demo::EMPLOYEE_TOKEN, "/v25.0/710002", &[("role", "ADMIN")])
        .await;
    assert_eq!(own_role.error_code(), 200);
}

#[tokio::test]
async fn a_member_without_a_persona_gets_one_from_their_first_profile_edit() {
    let sandbox = spawn_sandbox().await;
    let (user, token) = sandbox.new_user("Solo Founder", json!({})).await;
    let business = sandbox
        .control(
            "/__sandbox/businesses",
            json!({"name": "Solo Co", "admins": [user]}),
        )
        .await;
    let business_id = business.body["id"].as_str().expect("an id").to_owned();
    let users = sandbox
        .get_as(
            &token,
            &format!("/v25.0/{business_id}/business_users"),
            &[("fields", "name,role")],
        )
        .await;
    // No persona yet: no name to show (never the user's).
    assert_eq!(
        users.body["data"],
        json!([{"role": "ADMIN", "id": "4000000000"}])
    );
    let edited = sandbox
        .post_as(
            &token,
            "/v25.0/4000000000",
            &[("first_name", "Sol"), ("last_name", "Founder")],
        )
        .await;
    assert_eq!(edited.body, success());
    let persona = sandbox
        .get_as(
            &token,
            &format!("/v25.0/{business_id}/business_persona"),
            &[("fields", "name,email")],
        )
        .await;
    assert_eq!(persona.body["data"][0]["name"], "Sol Founder");
    assert!(
        persona.body["data"][0].get("email").is_none(),
        "{}",
        persona.body
    );
    // The last ADMIN can be neither removed nor demoted here either.
    let removed = sandbox.delete_as(&token, "/v25.0/4000000000").await;
    assert_eq!(
        removed.body_without_trace(),
        error(
            3914,
            "(#3914) You cannot remove the last admin of this business"
        )
    );
    let demoted = sandbox
        .post_as(&token, "/v25.0/4000000000", &[("role", "EMPLOYEE")])
        .await;
    assert_eq!(demoted.error_code(), 3914);
}

#[tokio::test]
async fn deleting_a_business_user_removes_the_member_from_both_dialects() {
    let sandbox = spawn_sandbox().await;
    let by_employee = sandbox
        .delete_as(demo::EMPLOYEE_TOKEN, "/v25.0/710001")
        .await;
    assert_eq!(by_employee.error_code(), 200);
    let removed = sandbox.delete_as(demo::ADMIN_TOKEN, "/v25.0/710002").await;
    assert_eq!(removed.body, success());
    assert_eq!(
        ids(&list(&sandbox, USERS, "name").await),
        ["710001", "710005"]
    );
    assert_eq!(
        ids(&list(&sandbox, PEOPLE, "role").await),
        ["700001", "700003", "700004", "700005"]
    );
    // Their persona and page roles went with them.
    let persona = node(
        &sandbox,
        demo::ADMIN_TOKEN,
        demo::EMPLOYEE_POMNI_PERSONA_ID,
        "",
    )
    .await;
    assert_eq!(persona.error_code(), 100);
    let again = sandbox.delete_as(demo::ADMIN_TOKEN, "/v25.0/710002").await;
    assert_eq!(again.error_code(), 100);
}

#[tokio::test]
async fn an_invitation_is_changed_and_cancelled_by_its_node() {
    let sandbox = spawn_sandbox().await;
    let by_employee = sandbox
        .post_as(demo::EMPLOYEE_TOKEN, "/v25.0/720004", &[("role", "bogus")])
        .await;
    assert_eq!(by_employee.error_code(), 200);
    let nothing = sandbox
        .post_as(demo::ADMIN_TOKEN, "/v25.0/720004", &[])
        .await;
    assert_eq!(
        nothing.body_without_trace(),
        error(
            100,
            "(#100) At least one of the params role and tasks is required"
        )
    );
    let changed = sandbox
        .post_as(
            demo::ADMIN_TOKEN,
            "/v25.0/720004",
            &[("role", "ADMIN"), ("tasks", "[\"ADMIN\"]")],
        )
        .await;
    assert_eq!(changed.body, success());
    let people = list(&sandbox, PEOPLE, "email,role,status").await;
    assert_eq!(
        people[3],
        json!({"email": "riley@pomni.example", "role": "ADMIN", "status": "INVITED", "id": "700004"})
    );
    let read = node(&sandbox, demo::ADMIN_TOKEN, "720004", "tasks").await;
    assert_eq!(read.body, json!({"tasks": ["ADMIN"]}));
    let cancel_by_employee = sandbox
        .delete_as(demo::EMPLOYEE_TOKEN, "/v25.0/720004")
        .await;
    assert_eq!(cancel_by_employee.error_code(), 200);
    let cancelled = sandbox.delete_as(demo::ADMIN_TOKEN, "/v25.0/720004").await;
    assert_eq!(cancelled.body, success());
    assert_eq!(list(&sandbox, PENDING, "email").await, json!([]));
    assert_eq!(
        ids(&list(&sandbox, PEOPLE, "role").await),
        ["700001", "700002", "700003", "700005"]
    );
}

#[tokio::test]
async fn invitations_check_the_caller_then_the_parameters_then_the_rules() {
    let sandbox = spawn_sandbox().await;
    let invite = |token: &'static str, form: Vec<(&'static str, &'static str)>| {
        let sandbox = &sandbox;
        async move { sandbox.post_as(token, USERS, &form).await }
    };
    // An EMPLOYEE gets code 200 whatever the parameters.
    let employee = invite(demo::EMPLOYEE_TOKEN, vec![("role", "nope")]).await;
    assert_eq!(
        employee.body_without_trace(),
        error(200, "(#200) Permissions error")
    );
    let cases: [(Vec<(&str, &str)>, &str); 7] = [
        (
            vec![("role", "EMPLOYEE")],
            "(#100) The parameter email is required",
        ),
        (
            vec![("email", "x@pomni.example")],
            "(#100) The parameter role is required",
        ),
        (
            vec![("email", "nope"), ("role", "EMPLOYEE")],
            "(#100) Param email must be a valid email address",
        ),
        (
            vec![("email", "x@pomni.example"), ("role", "OWNER")],
            "(#100) Param role must be one of {ADMIN, EMPLOYEE}",
        ),
        (
            vec![
                ("email", "x@pomni.example"),
                ("role", "EMPLOYEE"),
                ("invited_user_type", "[\"PAGE\"]"),
            ],
            "(#100) Param invited_user_type must be a non-empty list of {FB, MWA}",
        ),
        (
            vec![("email", "sam@pomni.example"), ("role", "EMPLOYEE")],
            "(#100) sam@pomni.example is already a member of this business",
        ),
        (
            vec![("email", "RILEY@pomni.example"), ("role", "ADMIN")],
            "(#100) riley@pomni.example has already been invited to this business",
        ),
    ];
    for (form, message) in cases {
        let reply = invite(demo::ADMIN_TOKEN, form).await;
        assert_eq!(reply.body_without_trace(), error(100, message));
    }
    let bad_tasks = invite(
        demo::ADMIN_TOKEN,
        vec![
            ("email", "x@pomni.example"),
            ("role", "EMPLOYEE"),
            ("tasks", "EMPLOYEE,SING"),
        ],
    )
    .await;
    assert_eq!(bad_tasks.error_code(), 100);
    assert!(
        bad_tasks.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("(#100) Param tasks[1] must be one of {ADMIN,")),
        "{:?}",
        bad_tasks.body
    );
    // The invitation limit is the seed edge's, shared by both.
    sandbox
        .control("/__sandbox/invitation_limit", json!({"per_day": 1}))
        .await;
    let first = invite(
        demo::ADMIN_TOKEN,
        vec![("email", "one@pomni.example"), ("role", "EMPLOYEE")],
    )
    .await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let second = sandbox
        .post_as(
            demo::ADMIN_TOKEN,
            PEOPLE,
            &[("email", "two@pomni.example"), ("role", "EMPLOYEE")],
        )
        .await;
    assert_eq!(second.error_code(), 17);
    let third = invite(
        demo::ADMIN_TOKEN,
        vec![("email", "three@pomni.example"), ("role", "EMPLOYEE")],
    )
    .await;
    assert_eq!(third.error_code(), 17);
}

#[tokio::test]
async fn node_updates_check_their_parameters() {
    let sandbox = spawn_sandbox().await;
    let cases: [(&str, Form<'_>, &str); 5] = [
        (
            demo::ADMIN_TOKEN,
            &[],
            "(#100) At least one of the params role, tasks, first_name, last_name, title, email \
             and clear_pending_email is required",
        ),
        (
            demo::ADMIN_TOKEN,
            &[("role", "OWNER")],
            "(#100) Param role must be one of {ADMIN, EMPLOYEE}",
        ),
        (
            demo::ADMIN_TOKEN,
            &[("tasks", "[]")],
            "(#100) Param tasks must be a non-empty list",
        ),
        (
            demo::EMPLOYEE_TOKEN,
            &[("first_name", "  ")],
            "(#100) Param first_name must be a non-empty string",
        ),
        (
            demo::EMPLOYEE_TOKEN,
            &[("email", "a@b.example"), ("clear_pending_email", "true")],
            "(#100) Params email and clear_pending_email cannot be used together",
        ),
    ];
    for (token, form, message) in cases {
        let reply = sandbox.post_as(token, "/v25.0/710002", form).await;
        assert_eq!(reply.body_without_trace(), error(100, message), "{form:?}");
    }
    let not_bool = sandbox
        .post_as(
            demo::EMPLOYEE_TOKEN,
            "/v25.0/710002",
            &[("clear_pending_email", "maybe")],
        )
        .await;
    assert_eq!(not_bool.error_code(), 100);
}

#[tokio::test]
async fn a_managed_meta_account_invitation_is_accepted_by_a_work_account() {
    let sandbox = spawn_sandbox().await;
    let invited = sandbox
        .post_as(
            demo::ADMIN_TOKEN,
            USERS,
            &[
                ("email", "wren@pomni.example"),
                ("role", "EMPLOYEE"),
                ("invited_user_type", "[\"MWA\"]"),
            ],
        )
        .await;
    assert_eq!(invited.body, json!({"id": "4000000000"}));
    let request = node(
        &sandbox,
        demo::ADMIN_TOKEN,
        "4000000000",
        "invited_user_type",
    )
    .await;
    assert_eq!(request.body["invited_user_type"], json!(["MWA"]));
    // A Facebook user cannot take it.
    let refused = sandbox
        .control(
            "/__sandbox/invitations/accept",
            json!({"business_id": "200001", "email": "wren@pomni.example",
                   "user_id": demo::KINGER_ADMIN_USER_ID, "first_name": "Wren", "last_name": "Ng"}),
        )
        .await;
    assert_eq!(refused.status, 400, "{:?}", refused.body);
    // Without a user, the one made is a work account.
    let accepted = sandbox
        .control(
            "/__sandbox/invitations/accept",
            json!({"business_id": "200001", "email": "wren@pomni.example",
                   "first_name": "Wren", "last_name": "Ng"}),
        )
        .await;
    assert_eq!(accepted.status, 200, "{:?}", accepted.body);
    let user_id = accepted.body["user_id"].as_str().expect("a user");
    let user = node(&sandbox, demo::ADMIN_TOKEN, user_id, "is_work_account").await;
    assert_eq!(user.body["is_work_account"], true);
    let users = list(&sandbox, USERS, "name,invited_user_type").await;
    assert_eq!(
        users[3],
        json!({"name": "Wren Ng", "invited_user_type": ["MWA"], "id": "4000000001"})
    );
}

#[tokio::test]
async fn a_user_lists_their_own_business_users_one_per_business() {
    let sandbox = spawn_sandbox().await;
    let data = list(&sandbox, "/v25.0/me/business_users", "name,business").await;
    assert_eq!(
        data,
        json!([
            {"name": "Alex Rivera (Pomni)", "business": pomni(), "id": "710001"},
            {"name": "Alex Rivera", "business": {"id": "200002", "name": "Kinger Labs"}, "id": "710007"}
        ])
    );
}
