//! People of a business and business personas through the gateway: the team as the seed has
//! it, planned into one Graph call, and the display rule (persona name, else email, never the
//! user's name).

use serde_json::json;

use crate::helpers::spawn_app;

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
