//! People of a business and business personas through the gateway: the team as the seed has
//! it, planned into one Graph call, and the display rule (persona name, else email, never the
//! user's name). Every story runs in both people dialects (`--people-api seed|current`):
//! `seed::<story>` and `current::<story>`, with what differs (ids, a member's status, the
//! viewer's persona's read) said per dialect.

use std::time::Duration;

use bizgraph::config::PeopleApi;
use bizgraph::{Application, Settings};
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, first_error_code, in_both_dialects, post_graphql, refused_argument, spawn_in,
    spawn_in_configured,
};

in_both_dialects!(
    the_team_and_the_viewers_persona,
    display_names_never_come_from_the_users_name,
    a_persona_reads_by_id_and_on_its_own_for_an_employee,
    the_whole_life_of_a_person,
    an_invitation_changes_its_role_by_email_and_is_cancelled,
    bad_arguments_are_refused_before_any_graph_call,
    an_employee_may_not_change_the_team,
    the_last_admin_stays,
    past_the_invitation_limit_the_caller_waits_a_day,
    tasks_titles_and_managed_accounts_are_taken_today_and_refused_by_name_on_the_seed,
    bad_tasks_and_titles_are_refused_before_any_graph_call,
);

/// What a dialect's answer holds in place of a seed member's status: today's API has none.
fn member_status(api: PeopleApi, seed: &str) -> Value {
    match api {
        PeopleApi::Seed => json!(seed),
        PeopleApi::Current => Value::Null,
    }
}

/// The people of Pomni Media as `{displayName, role, status}`, as the demo admin sees them.
async fn team(app: &TestApp) -> Vec<Value> {
    team_with_ids(app)
        .await
        .into_iter()
        .map(|mut p| {
            p.as_object_mut().map(|o| o.remove("id"));
            p
        })
        .collect()
}

/// The people of Pomni Media as `{id, displayName, role, status}`.
async fn team_with_ids(app: &TestApp) -> Vec<Value> {
    let answer = app
        .admin(r#"{ business(id: "200001") { people(first: 50) { nodes { id displayName role status } } } }"#)
        .await;
    answer["data"]["business"]["people"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("{answer}"))
}

fn person(name: &str, role: &str, status: impl Into<Value>) -> Value {
    json!({"displayName": name, "role": role, "status": status.into()})
}

/// The seed's Pomni Media team: how many people the admin sees.
fn team_size(api: PeopleApi) -> usize {
    match api {
        // Alex, Sam, the system user, Riley's invitation, Morgan.
        PeopleApi::Seed => 5,
        // System users are not business users.
        PeopleApi::Current => 4,
    }
}

/// The `fields=` of the sandbox's last Graph request.
async fn last_fields(app: &TestApp) -> String {
    let journal = app.upstream_journal().await;
    let query = journal.last().unwrap()["query"]
        .as_str()
        .unwrap()
        .to_owned();
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "fields")
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

async fn the_team_and_the_viewers_persona(api: PeopleApi) {
    let app = spawn_in(api).await;
    let before = app.upstream_requests().await;

    let answer = app
        .admin(
            r#"{ business(id: "200001") {
                people(first: 20) { nodes { displayName role status persona { email } } }
                viewerPersona { name }
            } }"#,
        )
        .await;

    let people = match api {
        PeopleApi::Seed => json!([
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
        ]),
        // Members first (the system user is none), then the invitations; no member status.
        PeopleApi::Current => json!([
            {"displayName": "Alex Rivera (Pomni)", "role": "ADMIN", "status": null,
             "persona": {"email": "alex@pomni.example"}},
            {"displayName": "Samantha Chen", "role": "EMPLOYEE", "status": null,
             "persona": {"email": "sam@pomni.example"}},
            {"displayName": "Morgan Blake", "role": "EMPLOYEE", "status": null,
             "persona": {"email": "morgan@pomni.example"}},
            {"displayName": "riley@pomni.example", "role": "EMPLOYEE", "status": "INVITED",
             "persona": null}
        ]),
    };
    // Today's API has no edge of the business for the token's own business user: the
    // viewer's persona is one more read (`me/business_users`), beside the business's.
    let calls = match api {
        PeopleApi::Seed => 1,
        PeopleApi::Current => 2,
    };
    assert_eq!(app.upstream_requests().await - before, calls, "{answer}");
    assert_eq!(
        answer["data"],
        json!({"business": {
            "people": {"nodes": people},
            "viewerPersona": {"name": "Alex Rivera (Pomni)"}
        }})
    );
}

async fn display_names_never_come_from_the_users_name(api: PeopleApi) {
    let app = spawn_in(api).await;
    let before = app.upstream_requests().await;
    let answer = app
        .admin(r#"{ business(id: "200001") { people { nodes { displayName user { name } } } } }"#)
        .await;
    assert_eq!(app.upstream_requests().await - before, 1, "{answer}");
    let nodes = answer["data"]["business"]["people"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"));
    let (user, fields) = match api {
        // User 100001 is "Alex Rivera"; in Pomni Media their persona is "Alex Rivera (Pomni)".
        PeopleApi::Seed => (
            "Alex Rivera",
            "id,userpermissions.limit(25){id,business_persona{id,name},email,user{id,name}}",
        ),
        // The business-scoped user: the business user, whose name is the persona's.
        PeopleApi::Current => (
            "Alex Rivera (Pomni)",
            "id,business_users.limit(25){id,name,email},pending_users.limit(25){id,email}",
        ),
    };
    assert_eq!(
        nodes[0],
        json!({"displayName": "Alex Rivera (Pomni)", "user": {"name": user}})
    );
    assert_eq!(last_fields(&app).await, fields);
}

async fn a_persona_reads_by_id_and_on_its_own_for_an_employee(api: PeopleApi) {
    let app = spawn_in(api).await;
    // Sam's persona, or in today's API Sam's business user.
    let sam = match api {
        PeopleApi::Seed => "600002",
        PeopleApi::Current => "710002",
    };
    let answer = app
        .graphql(
            Some("demo-admin"),
            "query($id: ID!) { persona(id: $id) { id name firstName lastName email business { name } } }",
            json!({"id": sam}),
        )
        .await;
    assert_eq!(
        answer["data"],
        json!({"persona": {
            "id": sam, "name": "Samantha Chen", "firstName": "Samantha",
            "lastName": "Chen", "email": "sam@pomni.example",
            "business": {"name": "Pomni Media"}
        }}),
        "{answer}"
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
        json!({"business": {"viewerPersona": {"id": sam, "name": "Samantha Chen"}}}),
        "{answer}"
    );
}

async fn the_whole_life_of_a_person(api: PeopleApi) {
    // The control plane accepts and verifies behind the gateway's back, as a person does in
    // Meta's own pages; without a cache, the next read sees it at once.
    let app = spawn_in_configured(api, |settings| settings.cache.ttl = Duration::ZERO).await;

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
    let seed_persona_id = accepted["persona_id"].as_str().unwrap().to_owned();
    let kim_token = accepted["access_token"].as_str().unwrap().to_owned();
    let kim = team_with_ids(&app)
        .await
        .into_iter()
        .find(|p| p["displayName"] == "Kim Park")
        .unwrap_or_else(|| panic!("Kim is not in the team"));
    assert_eq!(
        (&kim["role"], &kim["status"]),
        (&json!("EMPLOYEE"), &member_status(api, "ACTIVE"))
    );
    // Who the mutations name: the user and their persona, or in today's API the business
    // user, which is both.
    let (user_id, persona_id) = match api {
        PeopleApi::Seed => (
            accepted["user_id"].as_str().unwrap().to_owned(),
            seed_persona_id.clone(),
        ),
        PeopleApi::Current => {
            let id = kim["id"].as_str().unwrap().to_owned();
            (id.clone(), id)
        }
    };

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
        json!({"displayName": "Kim Park", "role": "ADMIN", "status": member_status(api, "ACTIVE"),
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
    app.control(
        "personas/verify_email",
        json!({"persona_id": seed_persona_id}),
    )
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

async fn an_invitation_changes_its_role_by_email_and_is_cancelled(api: PeopleApi) {
    let app = spawn_in(api).await;
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
    // No invitation of that address is left: both dialects refuse the same way.
    let again = app
        .admin(
            r#"mutation { cancelInvitation(businessId: "200001", email: "riley@pomni.example") }"#,
        )
        .await;
    assert_eq!(
        first_error_code(&again),
        Some("INVALID_ARGUMENT"),
        "{again}"
    );
}

async fn bad_arguments_are_refused_before_any_graph_call(api: PeopleApi) {
    let app = spawn_in(api).await;
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
        refused_argument(&answer, argument, "");
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

async fn an_employee_may_not_change_the_team(api: PeopleApi) {
    let app = spawn_in(api).await;
    // Sam, Alex and Alex's persona: users and a persona, or in today's API business users.
    let (sam, alex, alex_persona) = match api {
        PeopleApi::Seed => ("100002", "100001", "600001"),
        PeopleApi::Current => ("710002", "710001", "710001"),
    };
    for query in [
        r#"mutation { invitePerson(businessId: "200001", email: "kim@pomni.example", role: EMPLOYEE) { id } }"#.to_owned(),
        format!(r#"mutation {{ changeRole(businessId: "200001", userId: "{sam}", role: ADMIN) {{ id }} }}"#),
        format!(r#"mutation {{ removePerson(businessId: "200001", userId: "{alex}") }}"#),
        r#"mutation { changeRole(businessId: "200001", email: "riley@pomni.example", role: ADMIN) { id } }"#.to_owned(),
        r#"mutation { cancelInvitation(businessId: "200001", email: "riley@pomni.example") }"#.to_owned(),
        format!(r#"mutation {{ updatePersona(id: "{alex_persona}", input: {{firstName: "Not Alex"}}) {{ id }} }}"#),
    ] {
        let answer = app.graphql(Some("demo-employee"), &query, json!({})).await;
        assert_eq!(
            first_error_code(&answer),
            Some("FORBIDDEN"),
            "{query}: {answer}"
        );
    }
    assert_eq!(team(&app).await.len(), team_size(api));
}

async fn the_last_admin_stays(api: PeopleApi) {
    let app = spawn_in(api).await;
    // The system user 100003 is Pomni Media's other ADMIN.
    let alex = match api {
        PeopleApi::Seed => {
            let system = app
                .admin(r#"mutation { removePerson(businessId: "200001", userId: "100003") }"#)
                .await;
            assert_eq!(system["data"], json!({"removePerson": true}), "{system}");
            "100001"
        }
        // System users are not business users: today's API cannot remove one, so the
        // control plane suspends it, and Alex is the last ACTIVE ADMIN all the same.
        PeopleApi::Current => {
            app.control(
                "people/suspend",
                json!({"business_id": "200001", "user_id": "100003"}),
            )
            .await;
            "710001"
        }
    };
    for (query, field) in [
        (
            format!(r#"mutation {{ removePerson(businessId: "200001", userId: "{alex}") }}"#),
            "removePerson",
        ),
        (
            format!(
                r#"mutation {{ changeRole(businessId: "200001", userId: "{alex}", role: EMPLOYEE) {{ id }} }}"#
            ),
            "changeRole",
        ),
    ] {
        let mut answer = app.admin(&query).await;
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

async fn past_the_invitation_limit_the_caller_waits_a_day(api: PeopleApi) {
    let app = spawn_in(api).await;
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
    assert_eq!(team(&app).await.len(), team_size(api));
}

// Today's dialect only.

#[tokio::test]
async fn todays_people_plan_both_lists_side_by_side_in_the_business_read() {
    let app = spawn_in(PeopleApi::Current).await;
    let before = app.upstream_requests().await;
    let answer = app
        .admin(
            r#"{ business(id: "200001") { name people(first: 10) { totalCount nodes {
                id role tasks invitedUserType inviteLink expirationTime persona { title }
            } } } }"#,
        )
        .await;
    assert_eq!(app.upstream_requests().await - before, 1, "{answer}");
    assert_eq!(
        last_fields(&app).await,
        "id,name,business_users.limit(10).summary(total_count){id,role,tasks,invited_user_type,title},\
         pending_users.limit(10).summary(total_count){id,role,tasks,invited_user_type,invite_link,expiration_time}"
    );
    let people = &answer["data"]["business"]["people"];
    assert_eq!(people["totalCount"], 4, "{answer}");
    let nodes = people["nodes"].as_array().unwrap();
    assert_eq!(
        nodes[0],
        json!({"id": "710001", "role": "ADMIN", "tasks": ["ADMIN", "DEVELOPER", "EMPLOYEE", "MANAGE"],
               "invitedUserType": "FACEBOOK", "inviteLink": null, "expirationTime": null,
               "persona": {"title": null}})
    );
    let riley = &nodes[3];
    assert_eq!(riley["id"], "720004", "{answer}");
    assert_eq!(riley["tasks"], json!(["EMPLOYEE"]));
    assert!(
        riley["inviteLink"]
            .as_str()
            .is_some_and(|link| link.ends_with("/__sandbox/invitations/720004")),
        "{answer}"
    );
    assert!(riley["expirationTime"].is_string(), "{answer}");
}

#[tokio::test]
async fn the_seed_dialect_has_no_source_for_todays_fields() {
    let app = spawn_in(PeopleApi::Seed).await;
    let answer = app
        .admin(
            r#"{ business(id: "200001") { people(first: 1) { nodes {
                tasks invitedUserType inviteLink expirationTime
            } } } }"#,
        )
        .await;
    assert_eq!(
        answer["data"]["business"]["people"]["nodes"],
        json!([{"tasks": null, "invitedUserType": null, "inviteLink": null, "expirationTime": null}]),
        "{answer}"
    );
}

#[tokio::test]
async fn pages_of_two_run_from_the_members_into_the_invitations() {
    let app = spawn_in(PeopleApi::Current).await;
    let page = |after: Option<String>| {
        let app = &app;
        async move {
            let before = app.upstream_requests().await;
            let answer = app
                .graphql(
                    Some("demo-admin"),
                    r#"query($after: String) { business(id: "200001") { people(first: 2, after: $after) {
                        pageInfo { hasNextPage hasPreviousPage endCursor }
                        nodes { displayName }
                    } } }"#,
                    json!({"after": after}),
                )
                .await;
            assert_eq!(app.upstream_requests().await - before, 1, "{answer}");
            answer["data"]["business"]["people"].clone()
        }
    };
    let names = |page: &Value| -> Vec<String> {
        page["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{page}"))
            .iter()
            .map(|n| n["displayName"].as_str().unwrap().to_owned())
            .collect()
    };
    let first = page(None).await;
    assert_eq!(names(&first), ["Alex Rivera (Pomni)", "Samantha Chen"]);
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    assert_eq!(first["pageInfo"]["hasPreviousPage"], false);
    let second = page(first["pageInfo"]["endCursor"].as_str().map(str::to_owned)).await;
    // The last member, then the first invitation.
    assert_eq!(names(&second), ["Morgan Blake", "riley@pomni.example"]);
    assert_eq!(second["pageInfo"]["hasNextPage"], false, "{second}");
    assert_eq!(second["pageInfo"]["hasPreviousPage"], true);

    // One more invitation: the third page holds it, read from the invitations alone.
    app.admin(
        r#"mutation { invitePerson(businessId: "200001", email: "kim@pomni.example", role: EMPLOYEE) { id } }"#,
    )
    .await;
    let second = page(first["pageInfo"]["endCursor"].as_str().map(str::to_owned)).await;
    assert_eq!(second["pageInfo"]["hasNextPage"], true, "{second}");
    let third = page(second["pageInfo"]["endCursor"].as_str().map(str::to_owned)).await;
    assert_eq!(names(&third), ["kim@pomni.example"]);
    assert_eq!(third["pageInfo"]["hasNextPage"], false);
    assert!(
        last_fields(&app)
            .await
            .starts_with("id,pending_users.limit(2)"),
        "{}",
        last_fields(&app).await
    );

    // A seed cursor is not one of today's.
    let answer = app
        .admin(r#"{ business(id: "200001") { people(first: 2, after: "MTow") { nodes { id } } } }"#)
        .await;
    assert_eq!(
        first_error_code(&answer),
        Some("INVALID_ARGUMENT"),
        "{answer}"
    );
}

#[tokio::test]
async fn a_person_invited_in_todays_dialect_is_pending_in_the_seeds() {
    let app = spawn_in(PeopleApi::Current).await;
    let invited = app
        .admin(
            r#"mutation { invitePerson(businessId: "200001", email: "kim@pomni.example", role: ADMIN) {
                id displayName role status tasks invitedUserType
            } }"#,
        )
        .await;
    let id = invited["data"]["invitePerson"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{invited}"));
    assert_eq!(
        invited["data"]["invitePerson"],
        json!({"id": id, "displayName": "kim@pomni.example", "role": "ADMIN", "status": "INVITED",
               "tasks": ["ADMIN", "DEVELOPER", "EMPLOYEE", "MANAGE"], "invitedUserType": "FACEBOOK"})
    );

    // A second gateway on the same sandbox, speaking the seed's dialect.
    let mut settings = Settings::for_upstream(app.sandbox.url());
    settings.upstream.people_api = PeopleApi::Seed;
    let seed = Application::build(settings).await.unwrap();
    let seed_url = format!("http://{}/graphql", seed.addr());
    seed.spawn();
    crate::helpers::wait_until_healthy(&app.http, &seed_url.replace("/graphql", "")).await;
    let answer = post_graphql(
        &app.http,
        &seed_url,
        Some("demo-admin"),
        &json!({"query": r#"{ business(id: "200001") { people(first: 50) { nodes { displayName role status } } } }"#}),
    )
    .await;
    assert!(
        answer["data"]["business"]["people"]["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{answer}"))
            .contains(&person("kim@pomni.example", "ADMIN", "INVITED")),
        "{answer}"
    );
}

#[tokio::test]
async fn todays_people_below_a_business_read_elsewhere_take_one_read_of_their_own() {
    let app = spawn_in(PeopleApi::Current).await;
    let before = app.upstream_requests().await;
    // A persona's business carries only its scalars: its people read on their own, both
    // lists in one read of the business.
    let answer = app
        .admin(
            r#"{ persona(id: "710002") { business { people(first: 3) {
                pageInfo { hasNextPage } nodes { displayName }
            } } } }"#,
        )
        .await;
    assert_eq!(app.upstream_requests().await - before, 2, "{answer}");
    assert_eq!(
        last_fields(&app).await,
        "id,business_users.limit(3){id,name,email},pending_users.limit(3){id,email}"
    );
    assert_eq!(
        answer["data"]["persona"]["business"]["people"],
        json!({"pageInfo": {"hasNextPage": true}, "nodes": [
            {"displayName": "Alex Rivera (Pomni)"}, {"displayName": "Samantha Chen"},
            {"displayName": "Morgan Blake"}
        ]}),
        "{answer}"
    );
}

async fn tasks_titles_and_managed_accounts_are_taken_today_and_refused_by_name_on_the_seed(
    api: PeopleApi,
) {
    let app = spawn_in(api).await;
    let (sam, alex_persona) = match api {
        PeopleApi::Seed => ("100002", "600001"),
        PeopleApi::Current => ("710002", "710001"),
    };
    let invite = r#"mutation { invitePerson(businessId: "200001", email: "kim@pomni.example",
        role: EMPLOYEE, tasks: ["EMPLOYEE", "FINANCE_VIEW"], invitedUserType: MANAGED_META_ACCOUNT)
        { email role status tasks invitedUserType } }"#;
    let invite_mwa_only = r#"mutation { invitePerson(businessId: "200001",
        email: "kim@pomni.example", role: EMPLOYEE, invitedUserType: MANAGED_META_ACCOUNT) { id } }"#;
    let change = format!(
        r#"mutation {{ changeRole(businessId: "200001", userId: "{sam}", role: EMPLOYEE,
            tasks: ["EMPLOYEE", "FINANCE_EDIT"]) {{ role tasks financeRole }} }}"#
    );
    let title = format!(
        r#"mutation {{ updatePersona(id: "{alex_persona}", input: {{title: "  Head of Growth "}})
            {{ firstName title }} }}"#
    );
    match api {
        PeopleApi::Seed => {
            for (query, argument) in [
                (invite, "tasks"),
                (invite_mwa_only, "invitedUserType"),
                (change.as_str(), "tasks"),
                (title.as_str(), "input.title"),
            ] {
                let answer = app
                    .refused_before_upstream("demo-admin", query, json!({}))
                    .await;
                refused_argument(&answer, argument, "--people-api seed");
            }
            // Nothing was changed: no Kim, Sam's role as it was.
            assert_eq!(team(&app).await.len(), team_size(api));
        }
        PeopleApi::Current => {
            let invited = app.admin(invite).await;
            assert_eq!(
                invited["data"]["invitePerson"],
                json!({"email": "kim@pomni.example", "role": "EMPLOYEE", "status": "INVITED",
                       "tasks": ["EMPLOYEE", "FINANCE_VIEW"],
                       "invitedUserType": "MANAGED_META_ACCOUNT"}),
                "{invited}"
            );
            // The tasks, a finance one among them, replace the role's; FINANCE_EDIT makes an
            // editor, who views too.
            let changed = app.admin(&change).await;
            assert_eq!(
                changed["data"]["changeRole"],
                json!({"role": "EMPLOYEE", "tasks": ["EMPLOYEE", "FINANCE_EDIT", "FINANCE_VIEW"],
                       "financeRole": "FINANCE_EDITOR"}),
                "{changed}"
            );
            let titled = app.admin(&title).await;
            assert_eq!(
                titled["data"]["updatePersona"],
                json!({"firstName": "Alex", "title": "Head of Growth"}),
                "{titled}"
            );
            // An empty title clears it.
            let cleared = app
                .admin(&format!(
                    r#"mutation {{ updatePersona(id: "{alex_persona}", input: {{title: ""}}) {{ title }} }}"#
                ))
                .await;
            assert_eq!(
                cleared["data"]["updatePersona"],
                json!({"title": null}),
                "{cleared}"
            );
        }
    }
}

async fn bad_tasks_and_titles_are_refused_before_any_graph_call(api: PeopleApi) {
    let app = spawn_in(api).await;
    let sam = match api {
        PeopleApi::Seed => "100002",
        PeopleApi::Current => "710002",
    };
    let cases = [
        (
            r#"mutation { invitePerson(businessId: "200001", email: "kim@pomni.example", role: EMPLOYEE, tasks: ["EMPLOYEE", "SUPERUSER"]) { id } }"#.to_owned(),
            "tasks",
            "[1] \"SUPERUSER\" is not one of Graph's tasks",
        ),
        (
            format!(r#"mutation {{ changeRole(businessId: "200001", userId: "{sam}", role: EMPLOYEE, tasks: []) {{ id }} }}"#),
            "tasks",
            "must name at least one task",
        ),
        (
            r#"mutation { updatePersona(id: "600001", input: {title: "Head\nof Growth"}) { id } }"#.to_owned(),
            "input.title",
            "control characters",
        ),
        (
            format!(r#"mutation {{ updatePersona(id: "600001", input: {{title: "{}"}}) {{ id }} }}"#, "t".repeat(101)),
            "input.title",
            "at most 100 characters",
        ),
    ];
    for (query, argument, says) in cases {
        let answer = app
            .refused_before_upstream("demo-admin", &query, json!({}))
            .await;
        refused_argument(&answer, argument, says);
    }
}
