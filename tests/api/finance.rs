//! Finance roles through the gateway, in both people dialects (`seed::` and `current::`):
//! `Business.financePermissions` lists who holds one, `revokeFinancePermission` takes it away
//! (and invoices with it), only ADMINs revoke, bad ids are refused before any Graph call, a
//! revoke of a role nobody holds is refused without a write, and the list costs no Graph call
//! of its own.

use serde_json::{Value, json};

use bizgraph::config::PeopleApi;

use crate::helpers::{
    TestApp, first_error_code, first_error_message, in_both_dialects, person_id, refused_argument,
    spawn_in,
};

/// Pomni Media's finance roles as `financePermissions` lists them to `token`: the whole answer.
async fn listed(app: &TestApp, token: &str) -> Value {
    app.graphql(
        Some(token),
        r#"{ business(id: "200001") { name financePermissions { user { id } role } } }"#,
        json!({}),
    )
    .await
}

/// Pomni Media's finance roles as the ADMIN reads them: `[{id, role}]`.
async fn holders(app: &TestApp) -> Value {
    let answer = listed(app, "demo-admin").await;
    let list = answer["data"]["business"]["financePermissions"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"));
    Value::from(
        list.iter()
            .map(|p| json!({"id": p["user"]["id"], "role": p["role"]}))
            .collect::<Vec<_>>(),
    )
}

/// The finance roles held before anything is granted: the seed lists the system user's
/// (`demo-system`, FINANCE_EDITOR); today's API lists members only, and a system user is none.
fn seeded(api: PeopleApi) -> Value {
    match api {
        PeopleApi::Seed => json!([{"id": "100003", "role": "FINANCE_EDITOR"}]),
        PeopleApi::Current => json!([]),
    }
}

/// `grantFinancePermission` in Pomni Media, as the holder of `token`.
async fn grant(app: &TestApp, token: &str, user: &str, role: &str) -> Value {
    app.graphql(
        Some(token),
        r#"mutation($u: ID!, $r: FinanceRole!) {
            grantFinancePermission(businessId: "200001", userId: $u, role: $r)
        }"#,
        json!({"u": user, "r": role}),
    )
    .await
}

/// `revokeFinancePermission` in Pomni Media, as the holder of `token`.
async fn revoke(app: &TestApp, token: &str, user: &str) -> Value {
    app.graphql(
        Some(token),
        r#"mutation($u: ID!) { revokeFinancePermission(businessId: "200001", userId: $u) }"#,
        json!({"u": user}),
    )
    .await
}

/// The writes (anything but a GET) the sandbox's journal holds.
async fn writes(app: &TestApp) -> usize {
    app.upstream_journal()
        .await
        .iter()
        .filter(|entry| entry["method"] != "GET")
        .count()
}

const JANUARY_INVOICES: &str = r#"{ business(id: "200001") {
    name invoices(startDate: "2024-01-01", endDate: "2024-01-31") { nodes { id } }
} }"#;

async fn a_granted_role_is_listed_and_a_revoked_one_is_gone_with_the_invoices(api: PeopleApi) {
    let app = spawn_in(api).await;
    let alex = person_id(api, "100001");
    assert_eq!(holders(&app).await, seeded(api));

    let granted = grant(&app, "demo-admin", alex, "FINANCE_ANALYST").await;
    assert_eq!(
        granted["data"],
        json!({"grantFinancePermission": true}),
        "{granted}"
    );
    let mut with_alex = seeded(api).as_array().cloned().unwrap_or_default();
    with_alex.insert(0, json!({"id": alex, "role": "FINANCE_ANALYST"}));
    // The seed lists rows in the order they were made, today's API members in theirs: either
    // way Alex's row is compared as a set member, not by position.
    let mut now = holders(&app).await.as_array().cloned().unwrap_or_default();
    now.sort_by_key(|p| p["id"].to_string());
    with_alex.sort_by_key(|p| p["id"].to_string());
    assert_eq!(now, with_alex);
    let read = app.admin(JANUARY_INVOICES).await;
    assert_eq!(
        read["data"]["business"]["invoices"]["nodes"],
        json!([{"id": "910001"}]),
        "{read}"
    );

    let before = app.upstream_requests().await;
    let revoked = revoke(&app, "demo-admin", alex).await;
    assert_eq!(
        revoked["data"],
        json!({"revokeFinancePermission": true}),
        "{revoked}"
    );
    // Seed: one DELETE on `finance_permissions`. Today's: the business user's tasks read,
    // then written back without the finance ones.
    let spent = app.upstream_requests().await - before;
    assert_eq!(
        spent,
        match api {
            PeopleApi::Seed => 1,
            PeopleApi::Current => 2,
        }
    );
    assert_eq!(holders(&app).await, seeded(api));
    let refused = app.admin(JANUARY_INVOICES).await;
    assert_eq!(first_error_code(&refused), Some("FORBIDDEN"), "{refused}");
    let message = first_error_message(&refused);
    assert!(
        message.contains("finance role") && message.contains("FINANCE_ANALYST"),
        "{message}"
    );
    assert_eq!(
        refused["data"],
        json!({"business": {"name": "Pomni Media", "invoices": null}}),
        "{refused}"
    );

    // Revoking again: Alex holds no finance role, which is said, and nothing is written.
    let written = writes(&app).await;
    let again = revoke(&app, "demo-admin", alex).await;
    refused_argument(&again, "userId", "holds no finance role in business 200001");
    assert_eq!(again["data"], Value::Null, "{again}");
    match api {
        // Graph refused the DELETE itself.
        PeopleApi::Seed => assert_eq!(writes(&app).await, written + 1),
        // Only the read was made.
        PeopleApi::Current => assert_eq!(writes(&app).await, written),
    }
    assert_eq!(holders(&app).await, seeded(api));
}

async fn an_employee_may_not_revoke_and_changes_nothing(api: PeopleApi) {
    let app = spawn_in(api).await;
    let sam = person_id(api, "100002");
    // Before Sam holds a role: the seed's Graph keeps the list from him (the rest of the
    // business still answers); today's API shows every member the members' tasks.
    let unlisted = listed(&app, "demo-employee").await;
    match api {
        PeopleApi::Seed => {
            assert_eq!(first_error_code(&unlisted), Some("FORBIDDEN"), "{unlisted}");
            assert_eq!(
                unlisted["data"],
                json!({"business": {"name": "Pomni Media", "financePermissions": null}})
            );
            assert_eq!(
                unlisted["errors"][0]["path"],
                json!(["business", "financePermissions"])
            );
        }
        PeopleApi::Current => {
            assert_eq!(unlisted["errors"], Value::Null, "{unlisted}");
            assert_eq!(
                unlisted["data"],
                json!({"business": {"name": "Pomni Media", "financePermissions": []}})
            );
        }
    }

    let granted = grant(&app, "demo-admin", sam, "FINANCE_EDITOR").await;
    assert_eq!(
        granted["data"],
        json!({"grantFinancePermission": true}),
        "{granted}"
    );
    let held = holders(&app).await;
    assert!(
        held.as_array()
            .is_some_and(|h| h.contains(&json!({"id": sam, "role": "FINANCE_EDITOR"}))),
        "{held}"
    );

    let written = writes(&app).await;
    // Not even their own role.
    let refused = revoke(&app, "demo-employee", sam).await;
    assert_eq!(first_error_code(&refused), Some("FORBIDDEN"), "{refused}");
    assert_eq!(refused["data"], Value::Null, "{refused}");
    assert_eq!(holders(&app).await, held);
    // The one write tried was Graph's to refuse (today's API: after reading the tasks).
    assert_eq!(writes(&app).await, written + 1);
    let read = app
        .graphql(Some("demo-employee"), JANUARY_INVOICES, json!({}))
        .await;
    assert_eq!(
        read["data"]["business"]["invoices"]["nodes"],
        json!([{"id": "910001"}]),
        "{read}"
    );
}

async fn bad_revoke_arguments_are_refused_before_any_graph_call(api: PeopleApi) {
    let app = spawn_in(api).await;
    for (business, user, argument) in [
        ("not-a-business", person_id(api, "100001"), "businessId"),
        ("", person_id(api, "100001"), "businessId"),
        ("200001", "alex", "userId"),
        ("200001", "", "userId"),
        ("200001", "-100001", "userId"),
    ] {
        let answer = app
            .refused_before_upstream(
                "demo-admin",
                r#"mutation($b: ID!, $u: ID!) {
                    revokeFinancePermission(businessId: $b, userId: $u)
                }"#,
                json!({"b": business, "u": user}),
            )
            .await;
        refused_argument(&answer, argument, "");
        assert_eq!(answer["data"], Value::Null, "{answer}");
    }
}

async fn a_business_with_its_finance_roles_and_people_is_one_graph_call(api: PeopleApi) {
    let app = spawn_in(api).await;
    let alex = person_id(api, "100001");
    let granted = grant(&app, "demo-admin", alex, "FINANCE_EDITOR").await;
    assert_eq!(
        granted["data"],
        json!({"grantFinancePermission": true}),
        "{granted}"
    );
    let before = app.upstream_requests().await;
    let answer = app
        .admin(
            r#"{ business(id: "200001") {
                name
                people(first: 1) { nodes { user { id } } }
                financePermissions { user { id name } role }
                creditCards { last4 }
            } }"#,
        )
        .await;
    assert_eq!(app.upstream_requests().await - before, 1, "{answer}");
    let business = &answer["data"]["business"];
    // `people` pages its own read of the members; the finance list reads past it.
    assert_eq!(
        business["people"]["nodes"].as_array().map(Vec::len),
        Some(1)
    );
    let alex_row = business["financePermissions"]
        .as_array()
        .and_then(|list| list.iter().find(|p| p["user"]["id"] == alex))
        .unwrap_or_else(|| panic!("no Alex in {answer}"));
    assert_eq!(alex_row["role"], "FINANCE_EDITOR", "{answer}");
    assert!(alex_row["user"]["name"].is_string(), "{answer}");
    let listed = business["financePermissions"]
        .as_array()
        .map(Vec::len)
        .unwrap_or_default();
    assert_eq!(
        listed,
        match api {
            // Alex and the system user.
            PeopleApi::Seed => 2,
            PeopleApi::Current => 1,
        },
        "{answer}"
    );
}

in_both_dialects!(
    a_granted_role_is_listed_and_a_revoked_one_is_gone_with_the_invoices,
    an_employee_may_not_revoke_and_changes_nothing,
    bad_revoke_arguments_are_refused_before_any_graph_call,
    a_business_with_its_finance_roles_and_people_is_one_graph_call,
);
