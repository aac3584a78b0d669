//! Business personas: the viewer's persona in a business, a persona by id, updating one with a
//! new email that stays pending until the control plane verifies it; and the control plane's
//! people endpoints (accepting an invitation, suspending a member, the invitation limit).

use graph_sandbox::demo;
use serde_json::{Value, json};

use crate::helpers::{TestSandbox, spawn_sandbox};

const PERSONA_FIELDS: &str = "id,name,first_name,last_name,email,business,created_by,updated_by";

async fn persona(sandbox: &TestSandbox, token: &str, id: &str) -> Value {
    let read = sandbox
        .get_as(
            token,
            &format!("/v25.0/{id}"),
            &[("fields", PERSONA_FIELDS)],
        )
        .await;
    assert_eq!(read.status, 200, "{:?}", read.body);
    read.body
}

#[tokio::test]
async fn the_business_persona_edge_holds_the_viewers_own_persona() {
    let sandbox = spawn_sandbox().await;
    let mine = sandbox
        .get_as(
            demo::EMPLOYEE_TOKEN,
            "/v25.0/200001/business_persona",
            &[("fields", "id,name,email")],
        )
        .await;
    assert_eq!(
        mine.body["data"],
        json!([{"id": "600002", "name": "Samantha Chen", "email": "sam@pomni.example"}])
    );
    // Alex has one persona per business.
    let kinger = sandbox
        .get_as(demo::ADMIN_TOKEN, "/v25.0/200002/business_persona", &[])
        .await;
    assert_eq!(
        kinger.body["data"],
        json!([{"id": "600005", "name": "Alex Rivera"}])
    );
    // The system user has none.
    let system = sandbox
        .get_as(demo::SYSTEM_TOKEN, "/v25.0/200001/business_persona", &[])
        .await;
    assert_eq!(system.body, json!({"data": []}));
}

#[tokio::test]
async fn a_persona_reads_by_id_for_the_people_of_its_business_only() {
    let sandbox = spawn_sandbox().await;
    assert_eq!(
        persona(&sandbox, demo::EMPLOYEE_TOKEN, demo::ADMIN_POMNI_PERSONA_ID).await,
        json!({
            "id": "600001", "name": "Alex Rivera (Pomni)", "first_name": "Alex",
            "last_name": "Rivera (Pomni)", "email": "alex@pomni.example",
            "business": {"id": "200001", "name": "Pomni Media"},
            "created_by": {"id": "100001", "name": "Alex Rivera"},
            "updated_by": {"id": "100001", "name": "Alex Rivera"}
        })
    );
    let outsider = sandbox
        .get_as(
            demo::EMPLOYEE_TOKEN,
            &format!("/v25.0/{}", demo::KINGER_ADMIN_PERSONA_ID),
            &[],
        )
        .await;
    assert_eq!(outsider.error_code(), 100);
}

#[tokio::test]
async fn a_new_email_stays_pending_until_verified() {
    let sandbox = spawn_sandbox().await;
    let path = format!("/v25.0/{}", demo::EMPLOYEE_POMNI_PERSONA_ID);
    let update = sandbox
        .post_as(
            demo::EMPLOYEE_TOKEN,
            &path,
            &[("first_name", " Sam "), ("email", "sam.chen@pomni.example")],
        )
        .await;
    assert_eq!(
        (update.status, update.body),
        (200, json!({"success": true}))
    );
    let read = persona(
        &sandbox,
        demo::EMPLOYEE_TOKEN,
        demo::EMPLOYEE_POMNI_PERSONA_ID,
    )
    .await;
    assert_eq!(read["name"], "Sam Chen");
    assert_eq!(read["email"], "sam@pomni.example");

    let verify = sandbox
        .control(
            "/__sandbox/personas/verify_email",
            json!({"persona_id": demo::EMPLOYEE_POMNI_PERSONA_ID}),
        )
        .await;
    assert_eq!((verify.status, verify.body), (200, json!({"ok": true})));
    let read = persona(
        &sandbox,
        demo::EMPLOYEE_TOKEN,
        demo::EMPLOYEE_POMNI_PERSONA_ID,
    )
    .await;
    assert_eq!(read["email"], "sam.chen@pomni.example");
    let again = sandbox
        .control(
            "/__sandbox/personas/verify_email",
            json!({"persona_id": demo::EMPLOYEE_POMNI_PERSONA_ID}),
        )
        .await;
    assert_eq!(
        (again.status, again.body),
        (400, json!({"error": "persona 600002 has no pending email"}))
    );
}

#[tokio::test]
async fn only_the_owner_updates_a_persona_and_with_valid_values() {
    let sandbox = spawn_sandbox().await;
    let path = format!("/v25.0/{}", demo::EMPLOYEE_POMNI_PERSONA_ID);
    let admin = sandbox
        .post_as(demo::ADMIN_TOKEN, &path, &[("first_name", "X")])
        .await;
    assert_eq!(admin.status, 403);
    assert_eq!(admin.error_code(), 200);
    for (name, value, message) in [
        (
            "first_name",
            " ",
            "(#100) Param first_name must be a non-empty string",
        ),
        (
            "email",
            "nope",
            "(#100) Param email must be a valid email address",
        ),
    ] {
        let reply = sandbox
            .post_as(demo::EMPLOYEE_TOKEN, &path, &[(name, value)])
            .await;
        assert_eq!(
            reply.body_without_trace(),
            json!({"error": {"message": message, "type": "OAuthException", "code": 100}})
        );
    }
}

#[tokio::test]
async fn accepting_an_invitation_makes_an_active_member_with_a_persona() {
    let sandbox = spawn_sandbox().await;
    let accept = sandbox
        .control(
            "/__sandbox/invitations/accept",
            json!({"business_id": demo::POMNI_BUSINESS_ID, "email": demo::INVITED_EMAIL,
                   "first_name": "Riley", "last_name": "Park", "user_name": "R. P."}),
        )
        .await;
    assert_eq!(
        accept.body,
        json!({"user_id": "1000000000", "persona_id": "1000000001",
               "access_token": "sandbox-token-1000000000"})
    );
    let row = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            "/v25.0/200001/userpermissions",
            &[
                ("fields", "user,business_persona,role,status,email"),
                ("limit", "50"),
            ],
        )
        .await;
    assert_eq!(
        row.body["data"][3],
        json!({"user": {"id": "1000000000", "name": "R. P."},
               "business_persona": {"id": "1000000001", "name": "Riley Park"},
               "role": "EMPLOYEE", "status": "ACTIVE", "email": "riley@pomni.example",
               "id": "700004"})
    );
    // The new member reads the business with their token.
    let business = sandbox
        .get_as("sandbox-token-1000000000", "/v25.0/200001", &[])
        .await;
    assert_eq!(
        business.body,
        json!({"id": "200001", "name": "Pomni Media"})
    );
    // Nothing is pending any more, and nothing is created by a refused acceptance.
    let twice = sandbox
        .control(
            "/__sandbox/invitations/accept",
            json!({"business_id": 200001, "email": demo::INVITED_EMAIL,
                   "first_name": "Riley", "last_name": "Park"}),
        )
        .await;
    assert_eq!(
        (twice.status, twice.body),
        (
            400,
            json!({"error": "no pending invitation for riley@pomni.example in business 200001"})
        )
    );
    let (next, _) = sandbox.new_user("Next", json!({})).await;
    assert_eq!(next, "1000000002");
}

#[tokio::test]
async fn an_existing_user_accepts_and_a_suspended_member_loses_access() {
    let sandbox = spawn_sandbox().await;
    let invite = sandbox
        .post_as(
            demo::ADMIN_TOKEN,
            "/v25.0/200002/userpermissions",
            &[("email", "sam@kinger.example"), ("role", "EMPLOYEE")],
        )
        .await;
    // Alex is only an EMPLOYEE of Kinger Labs.
    assert_eq!(invite.error_code(), 200);
    let (user, token) = sandbox.new_user("Casey", json!({})).await;
    let invite = sandbox
        .post_as(
            demo::ADMIN_TOKEN,
            "/v25.0/200001/userpermissions",
            &[("email", "casey@pomni.example"), ("role", "ADMIN")],
        )
        .await;
    assert_eq!(invite.body, json!({"success": true}));
    let member = sandbox
        .control(
            "/__sandbox/invitations/accept",
            json!({"business_id": "200001", "email": "casey@pomni.example",
                   "user_id": demo::ADMIN_USER_ID, "first_name": "A", "last_name": "R"}),
        )
        .await;
    assert_eq!(
        (member.status, member.body),
        (
            400,
            json!({"error": "user 100001 is already in business 200001"})
        )
    );
    let accept = sandbox
        .control(
            "/__sandbox/invitations/accept",
            json!({"business_id": "200001", "email": "casey@pomni.example", "user_id": user,
                   "first_name": "Casey", "last_name": "Jones"}),
        )
        .await;
    assert_eq!(accept.body["user_id"], json!(user));
    assert!(accept.body.get("access_token").is_none());
    let write = sandbox
        .post_as(
            &token,
            "/v25.0/200001/userpermissions",
            &[("email", "z@z.example"), ("role", "EMPLOYEE")],
        )
        .await;
    assert_eq!(write.body, json!({"success": true}));

    let suspend = sandbox
        .control(
            "/__sandbox/people/suspend",
            json!({"business_id": "200001", "user_id": user}),
        )
        .await;
    assert_eq!(suspend.body, json!({"ok": true}));
    let read = sandbox.get_as(&token, "/v25.0/200001", &[]).await;
    assert_eq!(read.error_code(), 100);
    let again = sandbox
        .control(
            "/__sandbox/people/suspend",
            json!({"business_id": "200001", "user_id": user}),
        )
        .await;
    assert_eq!(again.status, 400);
}

#[tokio::test]
async fn the_invitation_limit_is_set_through_the_control_plane() {
    let sandbox = spawn_sandbox().await;
    let set = sandbox
        .control("/__sandbox/invitation_limit", json!({"per_day": 1}))
        .await;
    assert_eq!(set.body, json!({"ok": true}));
    let form = |email: &'static str| [("email", email), ("role", "EMPLOYEE")];
    let first = sandbox
        .post_as(
            demo::ADMIN_TOKEN,
            "/v25.0/200001/userpermissions",
            &form("a@a.example"),
        )
        .await;
    assert_eq!(first.body, json!({"success": true}));
    let second = sandbox
        .post_as(
            demo::ADMIN_TOKEN,
            "/v25.0/200001/userpermissions",
            &form("b@b.example"),
        )
        .await;
    assert_eq!(second.error_code(), 17);
}
