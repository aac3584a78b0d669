//! Partial data when Graph refuses a role-guarded edge (invoices, credit cards, credit lines)
//! wherever a business is read: `businesses(ids:)`, `viewer.businesses`, `project.business`
//! and `business(id:)` keep every other field, each guarded field of each business is null
//! with its own `FORBIDDEN` error at its path, and the Graph calls are counted: the refused
//! read, one read without the guarded edges, and one batch call for the guarded edges of
//! every business (or a plain read when there is only one).

use serde_json::{Value, json};

use bizgraph::config::PeopleApi;

use crate::helpers::{TestApp, in_both_dialects, person_id, spawn_app, spawn_in};

/// A month both seeded businesses have invoices for.
const AUGUST_2024: &str =
    r#"invoices(startDate: "2024-08-01", endDate: "2024-08-31") { nodes { id } }"#;

/// Sends `query` with `token`; answers the response and the Graph requests it cost, each as
/// `"METHOD /path"`.
async fn with_calls(app: &TestApp, token: &str, query: &str) -> (Value, Vec<String>) {
    let before = app.upstream_journal().await.len();
    let requests_before = app.upstream_requests().await;
    let answer = app.graphql(Some(token), query, json!({})).await;
    let journal = app.upstream_journal().await;
    let calls: Vec<String> = journal[before..]
        .iter()
        .map(|call| {
            format!(
                "{} {}",
                call["method"].as_str().unwrap(),
                call["path"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        app.upstream_requests().await - requests_before,
        calls.len() as u64,
        "the journal and the request count disagree"
    );
    (answer, calls)
}

/// Each error as `(path, code, message)`, in the order of their paths.
fn errors(answer: &Value) -> Vec<(Value, String, String)> {
    let mut errors: Vec<(Value, String, String)> = answer["errors"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|e| {
            (
                e["path"].clone(),
                e["extensions"]["code"].as_str().unwrap_or("").to_owned(),
                e["message"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    errors.sort_by_key(|(path, _, _)| path.to_string());
    errors
}

/// Asserts one `FORBIDDEN` error per path, each naming the finance roles and its business.
fn assert_finance_refusals(answer: &Value, expected: &[(Value, &str)]) {
    let errors = errors(answer);
    assert_eq!(errors.len(), expected.len(), "{answer}");
    for ((path, code, message), (want_path, business)) in errors.iter().zip(expected) {
        assert_eq!(path, want_path, "{answer}");
        assert_eq!(code, "FORBIDDEN", "{answer}");
        assert!(
            message.contains("FINANCE_ANALYST") && message.contains(business),
            "{path}: {message}"
        );
    }
}

/// The id `people` shows for the only person of a business (its creator), in the dialect the
/// gateway speaks.
async fn only_person(app: &TestApp, token: &str, business: &str) -> String {
    let answer = app
        .graphql(
            Some(token),
            r#"query($b: ID!) { business(id: $b) { people { nodes { user { id } } } } }"#,
            json!({"b": business}),
        )
        .await;
    let people = answer["data"]["business"]["people"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"));
    assert_eq!(people.len(), 1, "{answer}");
    people[0]["user"]["id"].as_str().unwrap().to_owned()
}

/// Grants `role` in `business` to `user` (as `people` shows them) through the gateway.
async fn grant(app: &TestApp, token: &str, business: &str, user: &str) {
    let granted = app
        .graphql(
            Some(token),
            r#"mutation($b: ID!, $u: ID!) {
                grantFinancePermission(businessId: $b, userId: $u, role: FINANCE_ANALYST)
            }"#,
            json!({"b": business, "u": user}),
        )
        .await;
    assert_eq!(
        granted["data"],
        json!({"grantFinancePermission": true}),
        "{granted}"
    );
}

/// A business made through the sandbox's control plane with `admin` as its only person.
async fn business_of(app: &TestApp, name: &str, admin: &str) -> String {
    let made = app
        .control("businesses", json!({"name": name, "admins": [admin]}))
        .await;
    made["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{made}"))
        .to_owned()
}

async fn businesses_by_id_keep_their_names_when_their_invoices_are_refused(api: PeopleApi) {
    let app = spawn_in(api).await;
    let query =
        format!(r#"{{ businesses(ids: ["200001", "200002"]) {{ id name {AUGUST_2024} }} }}"#);

    // Alex has no finance role in either business.
    let (refused, calls) = with_calls(&app, "demo-admin", &query).await;
    assert_eq!(
        refused["data"],
        json!({"businesses": [
            {"id": "200001", "name": "Pomni Media", "invoices": null},
            {"id": "200002", "name": "Kinger Labs", "invoices": null}
        ]}),
        "{refused}"
    );
    assert_finance_refusals(
        &refused,
        &[
            (json!(["businesses", 0, "invoices"]), "200001"),
            (json!(["businesses", 1, "invoices"]), "200002"),
        ],
    );
    // Graph refuses the whole `?ids=` read; the businesses are read again together without
    // their invoices, and both invoices edges in one batch call.
    assert_eq!(
        calls,
        ["GET /v25.0/", "GET /v25.0/", "POST /v25.0/"],
        "{refused}"
    );

    // With a finance role in Pomni Media only, its invoices come back and Kinger Labs' alone
    // fail: the refusal is per business.
    grant(&app, "demo-admin", "200001", person_id(api, "100001")).await;
    let (mixed, calls) = with_calls(&app, "demo-admin", &query).await;
    let pomni = mixed["data"]["businesses"][0]["invoices"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{mixed}"));
    assert!(!pomni.is_empty(), "{mixed}");
    assert_eq!(
        mixed["data"]["businesses"][1],
        json!({"id": "200002", "name": "Kinger Labs", "invoices": null}),
        "{mixed}"
    );
    assert_finance_refusals(&mixed, &[(json!(["businesses", 1, "invoices"]), "200002")]);
    assert_eq!(calls.len(), 3, "{calls:?}");

    // With a finance role in both businesses asked for: one call, no error.
    let own = business_of(&app, "Alex Finance Lab", "100001").await;
    let alex = only_person(&app, "demo-admin", &own).await;
    grant(&app, "demo-admin", &own, &alex).await;
    let both = format!(r#"{{ businesses(ids: ["200001", "{own}"]) {{ name {AUGUST_2024} }} }}"#);
    let (granted, calls) = with_calls(&app, "demo-admin", &both).await;
    assert!(granted.get("errors").is_none(), "{granted}");
    assert_eq!(
        granted["data"]["businesses"][0]["invoices"]["nodes"],
        json!(pomni)
    );
    assert_eq!(
        granted["data"]["businesses"][1],
        json!({"name": "Alex Finance Lab", "invoices": {"nodes": []}}),
        "{granted}"
    );
    assert_eq!(calls, ["GET /v25.0/"], "{granted}");
}

async fn the_viewers_businesses_keep_their_names_when_their_invoices_are_refused(api: PeopleApi) {
    let app = spawn_in(api).await;
    let user = app.control("users", json!({"name": "Casey Finch"})).await;
    let (id, token) = (
        user["id"].as_str().unwrap().to_owned(),
        user["access_token"].as_str().unwrap().to_owned(),
    );
    let first = business_of(&app, "Finch Books", &id).await;
    let second = business_of(&app, "Finch Films", &id).await;
    let query = format!("{{ viewer {{ businesses {{ nodes {{ id name {AUGUST_2024} }} }} }} }}");

    let (refused, calls) = with_calls(&app, &token, &query).await;
    assert_eq!(
        refused["data"]["viewer"]["businesses"]["nodes"],
        json!([
            {"id": first, "name": "Finch Books", "invoices": null},
            {"id": second, "name": "Finch Films", "invoices": null}
        ]),
        "{refused}"
    );
    assert_finance_refusals(
        &refused,
        &[
            (
                json!(["viewer", "businesses", "nodes", 0, "invoices"]),
                &first,
            ),
            (
                json!(["viewer", "businesses", "nodes", 1, "invoices"]),
                &second,
            ),
        ],
    );
    // `me` refused, `me` again without the invoices, both invoices edges in one batch.
    assert_eq!(
        calls,
        ["GET /v25.0/me", "GET /v25.0/me", "POST /v25.0/"],
        "{refused}"
    );

    for business in [&first, &second] {
        let person = only_person(&app, &token, business).await;
        grant(&app, &token, business, &person).await;
    }
    let (granted, calls) = with_calls(&app, &token, &query).await;
    assert!(granted.get("errors").is_none(), "{granted}");
    assert_eq!(
        granted["data"]["viewer"]["businesses"]["nodes"],
        json!([
            {"id": first, "name": "Finch Books", "invoices": {"nodes": []}},
            {"id": second, "name": "Finch Films", "invoices": {"nodes": []}}
        ]),
        "{granted}"
    );
    assert_eq!(calls, ["GET /v25.0/me"], "{granted}");
}

async fn the_viewers_persona_keeps_its_business_when_the_businesss_invoices_are_refused(
    api: PeopleApi,
) {
    let app = spawn_in(api).await;
    let query = format!(
        r#"{{ business(id: "200001") {{
            name viewerPersona {{ name business {{ name {AUGUST_2024} }} }}
        }} }}"#
    );

    let (answer, calls) = with_calls(&app, "demo-admin", &query).await;
    assert_eq!(
        answer["data"]["business"]["viewerPersona"]["business"],
        json!({"name": "Pomni Media", "invoices": null}),
        "{answer}"
    );
    assert_eq!(answer["data"]["business"]["name"], "Pomni Media");
    assert!(
        answer["data"]["business"]["viewerPersona"]["name"].is_string(),
        "{answer}"
    );
    assert_finance_refusals(
        &answer,
        &[(
            json!(["business", "viewerPersona", "business", "invoices"]),
            "200001",
        )],
    );
    let expected: &[&str] = match api {
        // The persona is expanded into the business's read: that read is refused, made
        // again without the invoices, and the invoices read on their own.
        PeopleApi::Seed => &[
            "GET /v25.0/",
            "GET /v25.0/",
            "GET /v25.0/200001/business_invoices",
        ],
        // The business, then `me/business_users` with the persona's business (refused, and
        // again without the invoices), then the invoices on their own.
        PeopleApi::Current => &[
            "GET /v25.0/",
            "GET /v25.0/me/business_users",
            "GET /v25.0/me/business_users",
            "GET /v25.0/200001/business_invoices",
        ],
    };
    assert_eq!(calls, expected, "{answer}");
}

in_both_dialects!(
    businesses_by_id_keep_their_names_when_their_invoices_are_refused,
    the_viewers_businesses_keep_their_names_when_their_invoices_are_refused,
    the_viewers_persona_keeps_its_business_when_the_businesss_invoices_are_refused,
);

#[tokio::test]
async fn an_employee_loses_only_the_credit_cards_of_the_business_they_do_not_administer() {
    let app = spawn_app().await;
    // Alex is ADMIN of Pomni Media (its cards are his to read) and EMPLOYEE of Kinger Labs.
    let query = "{ viewer { name businesses { nodes { name creditCards { last4 } } } } }";

    let (answer, calls) = with_calls(&app, "demo-admin", query).await;
    assert_eq!(answer["data"]["viewer"]["name"], "Alex Rivera", "{answer}");
    let nodes = answer["data"]["viewer"]["businesses"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"));
    let kinger = nodes
        .iter()
        .position(|b| b["name"] == "Kinger Labs")
        .unwrap_or_else(|| panic!("{answer}"));
    let pomni = nodes
        .iter()
        .position(|b| b["name"] == "Pomni Media")
        .unwrap_or_else(|| panic!("{answer}"));
    assert_eq!(
        nodes[pomni]["creditCards"],
        json!([{"last4": "4242"}, {"last4": "5454"}]),
        "{answer}"
    );
    assert_eq!(nodes[kinger]["creditCards"], Value::Null, "{answer}");
    let errors = errors(&answer);
    assert_eq!(errors.len(), 1, "{answer}");
    let (path, code, message) = &errors[0];
    assert_eq!(
        path,
        &json!(["viewer", "businesses", "nodes", kinger, "creditCards"])
    );
    assert_eq!(code, "FORBIDDEN");
    assert!(
        message.contains("ADMIN role or a finance role") && message.contains("200002"),
        "{message}"
    );
    assert_eq!(
        calls,
        ["GET /v25.0/me", "GET /v25.0/me", "POST /v25.0/"],
        "{answer}"
    );
}

#[tokio::test]
async fn a_projects_business_keeps_its_name_when_its_invoices_are_refused() {
    let app = spawn_app().await;
    let query =
        format!(r#"{{ project(id: "800001") {{ name business {{ name {AUGUST_2024} }} }} }}"#);

    let (answer, calls) = with_calls(&app, "demo-admin", &query).await;
    assert_eq!(
        answer["data"],
        json!({"project": {"name": "Brand Campaigns",
                           "business": {"name": "Pomni Media", "invoices": null}}}),
        "{answer}"
    );
    assert_finance_refusals(
        &answer,
        &[(json!(["project", "business", "invoices"]), "200001")],
    );
    // The project refused, read again without the invoices, then the one invoices edge on
    // its own.
    assert_eq!(
        calls,
        [
            "GET /v25.0/",
            "GET /v25.0/",
            "GET /v25.0/200001/business_invoices"
        ],
        "{answer}"
    );
}

#[tokio::test]
async fn a_business_whose_every_selected_field_is_refused_stays_an_object() {
    let app = spawn_app().await;
    // Nothing but guarded fields: async-graphql answers an object without a field as null,
    // which lost the business (and in a list, the item) where a sibling field keeps it.
    let query = format!(
        r#"{{ business(id: "200001") {{ {AUGUST_2024} }}
             viewer {{ businesses(first: 1) {{ nodes {{ {AUGUST_2024} }} }} }} }}"#
    );

    let (answer, _) = with_calls(&app, "demo-admin", &query).await;
    assert_eq!(
        answer["data"]["business"],
        json!({"invoices": null}),
        "{answer}"
    );
    assert_eq!(
        answer["data"]["viewer"]["businesses"]["nodes"],
        json!([{"invoices": null}]),
        "{answer}"
    );
    let paths: Vec<&Value> = answer["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|error| &error["path"])
        .collect();
    assert!(
        paths.contains(&&json!(["business", "invoices"]))
            && paths.contains(&&json!(["viewer", "businesses", "nodes", 0, "invoices"])),
        "{answer}"
    );
    for error in answer["errors"].as_array().expect("errors") {
        assert_eq!(error["extensions"]["code"], "FORBIDDEN", "{answer}");
    }
}

#[tokio::test]
async fn an_employees_credit_lines_and_allocation_preview_fail_alone_in_one_batch() {
    let app = spawn_app().await;
    // Sam is an EMPLOYEE of Pomni Media without a finance role: its funding is refused.
    let query = r#"{ business(id: "200001") {
        name extendedCredits { id } creditAllocation { total { amount } }
    } }"#;

    let (answer, calls) = with_calls(&app, "demo-employee", query).await;
    assert_eq!(
        answer["data"],
        json!({"business": {"name": "Pomni Media", "extendedCredits": null,
                            "creditAllocation": null}}),
        "{answer}"
    );
    let errors = errors(&answer);
    let paths: Vec<&Value> = errors.iter().map(|(path, _, _)| path).collect();
    assert_eq!(
        paths,
        [
            &json!(["business", "creditAllocation"]),
            &json!(["business", "extendedCredits"])
        ],
        "{answer}"
    );
    for (_, code, message) in &errors {
        assert_eq!(code, "FORBIDDEN");
        assert!(
            message.contains("ADMIN role or a finance role"),
            "{message}"
        );
    }
    // Refused, read again without the credit lines, then both reads of the lines (with
    // different fields) in one batch call.
    assert_eq!(
        calls,
        ["GET /v25.0/", "GET /v25.0/", "POST /v25.0/"],
        "{answer}"
    );

    // The preview still works for an ADMIN, in one call.
    let (admin, calls) = with_calls(&app, "demo-admin", query).await;
    assert!(admin.get("errors").is_none(), "{admin}");
    assert!(
        admin["data"]["business"]["creditAllocation"].is_array(),
        "{admin}"
    );
    assert_eq!(calls, ["GET /v25.0/"], "{admin}");
}

#[tokio::test]
async fn migration_readiness_survives_a_refused_invoices_edge_in_the_same_read() {
    let app = spawn_app().await;
    let query = format!(
        r#"{{ business(id: "200001") {{
            name {AUGUST_2024} migrationReadiness {{ viewerIsSystemUser expiringCount lostCount }}
        }} }}"#
    );

    let (answer, calls) = with_calls(&app, "demo-admin", &query).await;
    assert_eq!(
        answer["data"],
        json!({"business": {"name": "Pomni Media", "invoices": null, "migrationReadiness": {
            "viewerIsSystemUser": false, "expiringCount": 0, "lostCount": 0
        }}}),
        "{answer}"
    );
    assert_finance_refusals(&answer, &[(json!(["business", "invoices"]), "200001")]);
    // The business (refused) beside `me`, the business again without its invoices (the
    // readiness planned into it, `me` kept), then the invoices on their own.
    let mut sorted = calls.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "GET /v25.0/",
            "GET /v25.0/",
            "GET /v25.0/200001/business_invoices",
            "GET /v25.0/me"
        ],
        "{answer}"
    );
}
