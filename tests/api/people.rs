//! People of a business and business personas through the gateway: the team as the seed has
//! it, planned into one Graph call, and the display rule (persona name, else email, never the
//! user's name).

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, first_error_code, spawn_app, spawn_app_configured};

/// The people of Pomni Media as `{displayName, role, status}`, as the demo admin sees them.
async fn team(app: &TestApp) -> Vec<Value> {
    let answer = app
        .admin(r#"{ business(id: "200001") { people(first: 50) { nodes { displayName role status } } } }"#)
        .await;
    answer["data"]["business"]["people"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("{answer}"))
}

fn person(name: &str, role: &str, status: &str) -> Value {
    json!({"displayName": name, "role": role, "status": status})
}

#[tokio::test]
async fn the_team_and_the_viewers_persona_cost_one_upstream_request() {
    let app = spawn_app().await;
    let before = app.upstream_requests().await;

    let answer = app
        .admin(
            r#"{ business(id: "200001") {
                people(first: 20) { nodes { displayName role status persona { email } } }
                viewerPersona { name }
            } }"#,
        )
        .await;

    assert_eq!(app.upstream_requests().await - before, 1, "{answer}");
    assert_eq!(
        answer["data"],
        json!({"business": {
            "people": {"nodes": [
                {"displayName": "Alex Rivera (Pomni)", "role": "ADMIN", "status": "ACTIVE",
                 "persona": {"email": "alex@pomni.example"}},
                {"displayName": "Samantha Chen", "role": "EMPLOYEE", "status": "ACTIVE",
                 "persona": {"email": "sam@pomni.example"}},
                // The system user has neither a persona nor an email: no name to show.
                {"displayName": null, "role": "ADMIN", "status": "ACTIVE", "persona": null},
                {"displayName": "riley@pomni.example", "role": "EMPLOYEE", "status": "INVITED",
                 "persona": null},
                {"displayName": "Morgan Blake", "role": "EMPLOYEE", "status": "SUSPENDED",
                 "persona": {"email": "morgan@pomni.example"}}
            ]},
            "viewerPersona": {"name": "Alex Rivera (Pomni)"}
        }})
    );
}

#[tokio::test]
async fn display_names_never_come_from_the_users_name() {
    let app = spawn_app().await;
    let answer = app
        .admin(r#"{ business(id: "200001") { people { nodes { displayName user { name } } } } }"#)
        .await;
    let nodes = answer["data"]["business"]["people"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"));
    // User 100001 is "Alex Rivera"; in Pomni Media their persona is "Alex Rivera (Pomni)".
    assert_eq!(
        nodes[0],
        json!({"displayName": "Alex Rivera (Pomni)", "user": {"name": "Alex Rivera"}})
    );
    let journal = app.upstream_journal().await;
    let query = journal.last().unwrap()["query"]
        .as_str()
        .unwrap()
        .to_owned();
    let fields: String = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "fields")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    assert_eq!(
        fields,
        "id,userpermissions.limit(25){id,business_persona{id,name},email,user{id,name}}"
    );
}

#[tokio::test]
async fn a_persona_reads_by_id_and_on_its_own_for_an_employee() {
    let app = spawn_app().await;
    let answer = app
        .admin(
            r#"{ persona(id: "600002") { id name firstName lastName email business { name } } }"#,
        )
        .await;
    assert_eq!(
        answer["data"],
        json!({"persona": {
            "id": "600002", "name": "Samantha Chen", "firstName": "Samantha",
            "lastName": "Chen", "email": "sam@pomni.example",
            "business": {"name": "Pomni Media"}
        }})
    );

    let answer = app
        .graphql(
            Some("demo-employee"),
            r#"{ business(id: "200001") { viewerPersona { id name } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        answer["data"],
        json!({"business": {"viewerPersona": {"id": "600002", "name": "Samantha Chen"}}})
    );
}

#[tokio::test]
async fn the_whole_life_of_a_person() {
    // The control plane accepts and verifies behind the gateway's back, as a person does in
    // Meta's own pages; without a cache, the next read sees it at once.
    let app = spawn_app_configured(|settings| settings.cache.ttl = Duration::ZERO).await;

    let invited = app
        .admin(
            r#"mutation { invitePerson(businessId: "200001", email: " Kim@pomni.example ", role: EMPLOYEE) {
                displayName role status user { id } persona { name }
            } }"#,
        )
        .await;
    assert_eq!(
        invited["data"],
        json!({"invitePerson": {
            "displayName": "kim@pomni.example", "role": "EMPLOYEE", "status": "INVITED",
            "user": null, "persona": null
        }}),
        "{invited}"
    );
    assert!(
        team(&app)
            .await
            .contains(&person("kim@pomni.example", "EMPLOYEE", "INVITED"))
    );

    let accepted = app
        .control(
            "invitations/accept",
            json!({"business_id": "200001", "email": "kim@pomni.example",
                   "first_name": "Kim", "last_name": "Park", "user_name": "Kimberly P."}),
        )
        .await;
    let user_id = accepted["user_id"].as_str().unwrap().to_owned();
    let persona_id = accepted["persona_id"].as_str().unwrap().to_owned();
    let kim_token = accepted["access_token"].as_str().unwrap().to_owned();
    assert!(
        team(&app)
            .await
            .contains(&person("Kim Park", "EMPLOYEE", "ACTIVE"))
    );

    let promoted = app
        .graphql(
            Some("demo-admin"),
            r#"mutation($user: ID!) { changeRole(businessId: "200001", userId: $user, role: ADMIN) {
                displayName role status user { id } persona { email }
            } }"#,
            json!({"user": user_id}),
        )
        .await;
    assert_eq!(
        promoted["data"]["changeRole"],
        json!({"displayName": "Kim Park", "role": "ADMIN", "status": "ACTIVE",
               "user": {"id": user_id}, "persona": {"email": "kim@pomni.example"}}),
        "{promoted}"
    );

    let update = r#"mutation($id: ID!) { updatePersona(id: $id, input: {lastName: " Park-Lee ", email: "kim.park@pomni.example"}) {
        id name lastName email
    } }"#;
    let updated = app
        .graphql(Some(&kim_token), update, json!({"id": persona_id}))
        .await;
    assert_eq!(
        updated["data"]["updatePersona"],
        json!({"id": persona_id, "name": "Kim Park-Lee", "lastName": "Park-Lee",
               "email": "kim@pomni.example"}),
        "the new email is pending: {updated}"
    );
    app.control("personas/verify_email", json!({"persona_id": persona_id}))
        .await;
    let verified = app
        .graphql(
            Some("demo-admin"),
            "query($id: ID!) { persona(id: $id) { email } }",
            json!({"id": persona_id}),
        )
        .await;
    assert_eq!(
        verified["data"]["persona"],
        json!({"email": "kim.park@pomni.example"}),
        "{verified}"
    );

    let removed = app
        .graphql(
            Some("demo-admin"),
            r#"mutation($user: ID!) { removePerson(businessId: "200001", userId: $user) }"#,
            json!({"user": user_id}),
        )
        .await;
    assert_eq!(removed["data"], json!({"removePerson": true}), "{removed}");
    assert!(
        !team(&app)
            .await
            .iter()
            .any(|p| p["displayName"] == "Kim Park-Lee")
    );
}

#[tokio::test]
async fn an_invitation_changes_its_role_by_email_and_is_cancelled() {
    let app = spawn_app().await;
    let changed = app
        .admin(
            r#"mutation { changeRole(businessId: "200001", email: "riley@pomni.example", role: ADMIN) {
                displayName role status
            } }"#,
        )
        .await;
    assert_eq!(
        changed["data"]["changeRole"],
        person("riley@pomni.example", "ADMIN", "INVITED"),
        "{changed}"
    );
    let cancelled = app
        .admin(
            r#"mutation { cancelInvitation(businessId: "200001", email: "riley@pomni.example") }"#,
        )
        .await;
    assert_eq!(
        cancelled["data"],
        json!({"cancelInvitation": true}),
        "{cancelled}"
    );
    assert!(
        !team(&app)
            .await
            .iter()
            .any(|p| p["displayName"] == "riley@pomni.example")
    );
}

#[tokio::test]
async fn bad_arguments_are_refused_before_any_graph_call() {
    let app = spawn_app().await;
    let cases = [
        (
            r#"mutation { invitePerson(businessId: "200001", email: "not-an-email", role: EMPLOYEE) { id } }"#,
            "email",
        ),
        (
            r#"mutation { changeRole(businessId: "200001", userId: "100002", email: "sam@pomni.example", role: ADMIN) { id } }"#,
            "userId",
        ),
        (
            r#"mutation { changeRole(businessId: "200001", role: ADMIN) { id } }"#,
            "userId",
        ),
        (
            r#"mutation { removePerson(businessId: "200001", userId: "me") }"#,
            "userId",
        ),
        (
            r#"mutation { cancelInvitation(businessId: "200001", email: "riley@") }"#,
            "email",
        ),
        (
            r#"mutation { updatePersona(id: "600001", input: {}) { id } }"#,
            "input",
        ),
        (
            r#"mutation { updatePersona(id: "600001", input: {firstName: "  "}) { id } }"#,
            "input.firstName",
        ),
    ];
    for (query, argument) in cases {
        let answer = app
            .refused_before_upstream("demo-admin", query, json!({}))
            .await;
        assert_eq!(
            first_error_code(&answer),
            Some("INVALID_ARGUMENT"),
            "{answer}"
        );
        assert_eq!(
            answer["errors"][0]["extensions"]["argument"], argument,
            "{answer}"
        );
    }
    let unknown_role = app
        .refused_before_upstream(
            "demo-admin",
            r#"mutation { invitePerson(businessId: "200001", email: "a@b.example", role: OWNER) { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        first_error_code(&unknown_role),
        Some("INVALID_ARGUMENT"),
        "{unknown_role}"
    );
}

#[tokio::test]
async fn an_employee_may_not_change_the_team() {
    let app = spawn_app().await;
    for query in [
        r#"mutation { invitePerson(businessId: "200001", email: "kim@pomni.example", role: EMPLOYEE) { id } }"#,
        r#"mutation { changeRole(businessId: "200001", userId: "100002", role: ADMIN) { id } }"#,
        r#"mutation { removePerson(businessId: "200001", userId: "100001") }"#,
        r#"mutation { cancelInvitation(businessId: "200001", email: "riley@pomni.example") }"#,
        r#"mutation { updatePersona(id: "600001", input: {firstName: "Not Alex"}) { id } }"#,
    ] {
        let answer = app.graphql(Some("demo-employee"), query, json!({})).await;
        assert_eq!(
            first_error_code(&answer),
            Some("FORBIDDEN"),
            "{query}: {answer}"
        );
    }
    assert_eq!(team(&app).await.len(), 5);
}

#[tokio::test]
async fn the_last_admin_stays() {
    let app = spawn_app().await;
    // The system user 100003 is Pomni Media's other ADMIN.
    let system = app
        .admin(r#"mutation { removePerson(businessId: "200001", userId: "100003") }"#)
        .await;
    assert_eq!(system["data"], json!({"removePerson": true}), "{system}");
    for (query, field) in [
        (
            r#"mutation { removePerson(businessId: "200001", userId: "100001") }"#,
            "removePerson",
        ),
        (
            r#"mutation { changeRole(businessId: "200001", userId: "100001", role: EMPLOYEE) { id } }"#,
            "changeRole",
        ),
    ] {
        let mut answer = app.admin(query).await;
        // Graph's trace id differs per call.
        if let Some(graph) = answer["errors"][0]["extensions"]["graphApi"].as_object_mut() {
            graph.remove("fbtraceId");
        }
        assert_eq!(
            answer,
            json!({
                "data": null,
                "errors": [{
                    "message": "(#3914) You cannot remove the last admin of this business",
                    "locations": [{"line": 1, "column": 12}],
                    "path": [field],
                    "extensions": {
                        "code": "FAILED_PRECONDITION",
                        "graphApi": {"code": 3914, "subcode": null, "type": "OAuthException",
                                     "isTransient": false}
                    }
                }],
                "extensions": {"cost": {"graphCalls": 1, "cacheHits": 0}}
            })
        );
    }
}

#[tokio::test]
async fn past_the_invitation_limit_the_caller_waits_a_day() {
    let app = spawn_app().await;
    app.control("invitation_limit", json!({"per_day": 0})).await;
    let answer = app
        .admin(
            r#"mutation { invitePerson(businessId: "200001", email: "kim@pomni.example", role: EMPLOYEE) { id } }"#,
        )
        .await;
    assert_eq!(first_error_code(&answer), Some("RATE_LIMITED"), "{answer}");
    assert_eq!(
        answer["errors"][0]["extensions"]["retryAfterSeconds"], 86400,
        "{answer}"
    );
    assert_eq!(answer["errors"][0]["extensions"]["graphApi"]["code"], 17);
    // The limit is the business's invitations, not the admin's calls: reads go on.
    assert_eq!(team(&app).await.len(), 5);
}
