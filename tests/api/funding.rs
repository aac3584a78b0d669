//! Funding through the gateway: credit cards and credit lines with exact money, who may read
//! them (a finance role granted in either people dialect, `seed::` and `current::`), and ad
//! accounts created on a credit line, with their errors.

use serde_json::{Value, json};

use bizgraph::config::PeopleApi;

use crate::helpers::{
    TestApp, first_error_code, first_error_message, in_both_dialects, person_id, spawn_app,
    spawn_in,
};

const CREATE: &str = r#"mutation($input: CreateAdAccountInput!) {
    createAdAccount(businessId: "200001", input: $input) {
        id accountId name currency accountStatus timezoneId spendCap
    }
}"#;

/// A valid new account on Pomni Media's credit line, with `changes` applied.
fn account_input(changes: Value) -> Value {
    let mut input = json!({
        "name": "Pomni DCAF 1",
        "currency": "USD",
        "timezoneId": 1,
        "endAdvertiser": "300001",
        "mediaAgency": "NONE",
        "partner": "NONE",
        "fundingId": "940001",
    });
    for (key, value) in changes.as_object().unwrap() {
        input[key] = value.clone();
    }
    input
}

async fn create(app: &TestApp, token: &str, changes: Value) -> Value {
    app.graphql(
        Some(token),
        CREATE,
        json!({"input": account_input(changes)}),
    )
    .await
}

#[tokio::test]
async fn credit_cards_and_credit_lines_read_as_exact_money_in_one_call() {
    let app = spawn_app().await;
    let before = app.upstream_requests().await;
    let answer = app
        .admin(
            r#"{ business(id: "200001") {
                creditCards { id cardType last4 expiryMonth expiryYear cardHolderName isEnabled }
                extendedCredits {
                    id creditType legalEntityName isAccessRevoked
                    maxBalance { amount currency offset }
                    balance { amount currency }
                    creditAvailable { amount currency }
                    allocatedAmount { amount currency }
                    ownerBusiness { id name }
                }
            } }"#,
        )
        .await;
    assert_eq!(app.upstream_requests().await - before, 1, "{answer}");
    assert_eq!(
        answer["data"],
        json!({"business": {
            "creditCards": [
                {"id": "930001", "cardType": "VISA", "last4": "4242", "expiryMonth": 8,
                 "expiryYear": 2028, "cardHolderName": "Alex Rivera", "isEnabled": true},
                {"id": "930002", "cardType": "MASTERCARD", "last4": "5454", "expiryMonth": 1,
                 "expiryYear": 2026, "cardHolderName": "Pomni Media LLC", "isEnabled": false}
            ],
            "extendedCredits": [
                {"id": "940001", "creditType": "NORMAL_LIABILITY",
                 "legalEntityName": "Pomni Media LLC", "isAccessRevoked": false,
                 "maxBalance": {"amount": "50000.00", "currency": "USD", "offset": 100},
                 "balance": {"amount": "12345.67", "currency": "USD"},
                 "creditAvailable": {"amount": "37654.33", "currency": "USD"},
                 "allocatedAmount": {"amount": "0.00", "currency": "USD"},
                 "ownerBusiness": {"id": "200001", "name": "Pomni Media"}},
                {"id": "940003", "creditType": "SEQUENTIAL_LIABILITY",
                 "legalEntityName": "Pomni Media LLC", "isAccessRevoked": false,
                 "maxBalance": {"amount": "10000.00", "currency": "USD", "offset": 100},
                 "balance": {"amount": "2500.00", "currency": "USD"},
                 "creditAvailable": {"amount": "7500.00", "currency": "USD"},
                 "allocatedAmount": {"amount": "0.00", "currency": "USD"},
                 "ownerBusiness": {"id": "200001", "name": "Pomni Media"}}
            ]
        }}),
        "{answer}"
    );
}

#[tokio::test]
async fn an_employee_reads_no_funding_and_creates_no_ad_account() {
    let app = spawn_app().await;
    let answer = app
        .graphql(
            Some("demo-employee"),
            r#"{ business(id: "200001") { creditCards { id } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(first_error_code(&answer), Some("FORBIDDEN"), "{answer}");
    assert!(
        first_error_message(&answer).contains("requires the ADMIN role or a finance role"),
        "{answer}"
    );
    // The refused field alone is null; the business keeps its place.
    assert_eq!(
        answer["data"],
        json!({"business": {"creditCards": null}}),
        "{answer}"
    );

    let created = create(&app, "demo-employee", json!({})).await;
    assert_eq!(first_error_code(&created), Some("FORBIDDEN"), "{created}");
    assert_eq!(created["data"], Value::Null, "{created}");
}

#[tokio::test]
async fn an_ad_account_is_created_on_the_credit_line() {
    let app = spawn_app().await;
    let created = create(
        &app,
        "demo-admin",
        json!({"name": "  Pomni DCAF 1 ", "partner": "UNFOUND"}),
    )
    .await;
    assert_eq!(
        created["data"],
        json!({"createAdAccount": {
            "id": "act_1000000000", "accountId": "1000000000", "name": "Pomni DCAF 1",
            "currency": "USD", "accountStatus": "ACTIVE", "timezoneId": 1, "spendCap": "0"
        }}),
        "{created}"
    );
    let journal = app.upstream_journal().await;
    let write = journal
        .iter()
        .find(|e| e["method"] == "POST")
        .unwrap_or_else(|| panic!("{journal:?}"));
    assert_eq!(write["path"], "/v25.0/200001/adaccount");

    // The business owns it now.
    let listed = app
        .admin(r#"{ business(id: "200001") { adAccounts(first: 100) { nodes { id name } } } }"#)
        .await;
    let nodes = listed["data"]["business"]["adAccounts"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{listed}"));
    assert!(
        nodes.contains(&json!({"id": "act_1000000000", "name": "Pomni DCAF 1"})),
        "{listed}"
    );
}

#[tokio::test]
async fn bad_ad_account_input_is_refused_before_upstream() {
    let app = spawn_app().await;
    let refused = |changes: Value| {
        let app = &app;
        async move {
            app.refused_before_upstream(
                "demo-admin",
                CREATE,
                json!({"input": account_input(changes)}),
            )
            .await
        }
    };

    let currency = refused(json!({"currency": "XYZ"})).await;
    assert_eq!(
        currency,
        json!({
            "data": null,
            "errors": [{
                "message": "input.currency: \"XYZ\" is not a currency Meta allows for ad accounts (ISO 4217, e.g. USD)",
                "locations": [{"line": 2, "column": 5}],
                "path": ["createAdAccount"],
                "extensions": {"code": "INVALID_ARGUMENT", "argument": "input.currency"}
            }],
            "extensions": {"cost": {"cacheHits": 0, "graphCalls": 0}}
        })
    );

    for (changes, argument, problem) in [
        (
            json!({"timezoneId": 593}),
            "input.timezoneId",
            "must be between 0 and 592, got 593",
        ),
        (
            json!({"timezoneId": -1}),
            "input.timezoneId",
            "must be between 0 and 592, got -1",
        ),
        (
            json!({"endAdvertiser": ""}),
            "input.endAdvertiser",
            "\"\" is neither a page or app id (digits) nor NONE or UNFOUND",
        ),
        (
            json!({"mediaAgency": "agency"}),
            "input.mediaAgency",
            "\"agency\" is neither a page or app id (digits) nor NONE or UNFOUND",
        ),
        (
            json!({"partner": "12x"}),
            "input.partner",
            "\"12x\" is neither a page or app id (digits) nor NONE or UNFOUND",
        ),
        (
            json!({"name": "   "}),
            "input.name",
            "must be a non-empty name without control characters",
        ),
        (
            json!({"name": "x".repeat(101)}),
            "input.name",
            "must be at most 100 characters",
        ),
    ] {
        let answer = refused(changes.clone()).await;
        assert_eq!(
            answer["errors"][0]["message"],
            format!("{argument}: {problem}"),
            "{changes}: {answer}"
        );
        assert_eq!(
            answer["errors"][0]["extensions"],
            json!({"code": "INVALID_ARGUMENT", "argument": argument}),
            "{changes}: {answer}"
        );
    }

    let funding = refused(json!({"fundingId": "line-1"})).await;
    assert_eq!(
        first_error_code(&funding),
        Some("INVALID_ARGUMENT"),
        "{funding}"
    );
    assert_eq!(
        funding["errors"][0]["extensions"]["argument"], "input.fundingId",
        "{funding}"
    );

    // A required advertiser left out: GraphQL's own coercion refuses the variables.
    let mut input = account_input(json!({}));
    input.as_object_mut().unwrap().remove("endAdvertiser");
    let missing = app
        .refused_before_upstream("demo-admin", CREATE, json!({"input": input}))
        .await;
    assert_eq!(
        first_error_code(&missing),
        Some("INVALID_ARGUMENT"),
        "{missing}"
    );
    assert!(
        first_error_message(&missing).contains("endAdvertiser"),
        "{missing}"
    );
}

#[tokio::test]
async fn graph_refuses_a_sequential_line_and_a_line_of_another_business() {
    let app = spawn_app().await;

    let sequential = create(&app, "demo-admin", json!({"fundingId": "940003"})).await;
    assert_eq!(sequential["data"], Value::Null, "{sequential}");
    assert_eq!(
        first_error_code(&sequential),
        Some("INVALID_ARGUMENT"),
        "{sequential}"
    );
    assert_eq!(
        first_error_message(&sequential),
        "(#100) The extended credit 940003 has sequential liability; new ad accounts can only be \
         invoiced on a credit line with normal liability"
    );
    assert_eq!(
        sequential["errors"][0]["extensions"]["graphApi"]["code"],
        100
    );

    let kinger = create(&app, "demo-admin", json!({"fundingId": "940002"})).await;
    assert_eq!(
        first_error_code(&kinger),
        Some("INVALID_ARGUMENT"),
        "{kinger}"
    );
    assert!(
        first_error_message(&kinger)
            .contains("must be the id of an extended credit of business 200001"),
        "{kinger}"
    );

    // A currency Meta allows, but not the line's.
    let euros = create(&app, "demo-admin", json!({"currency": "EUR"})).await;
    assert_eq!(
        first_error_code(&euros),
        Some("INVALID_ARGUMENT"),
        "{euros}"
    );
    assert!(
        first_error_message(&euros).contains("Param currency must be USD"),
        "{euros}"
    );

    // Nothing was created.
    let listed = app
        .admin(r#"{ business(id: "200001") { adAccounts(first: 100) { nodes { id } } } }"#)
        .await;
    let nodes = listed["data"]["business"]["adAccounts"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{listed}"));
    assert!(
        nodes.iter().all(|n| n["id"] != "act_1000000000"),
        "{listed}"
    );
}

async fn an_employee_reads_funding_once_granted_a_finance_role(api: PeopleApi) {
    let app = spawn_in(api).await;
    let query = r#"{ business(id: "200001") { creditCards { id } } }"#;
    let refused = app.graphql(Some("demo-employee"), query, json!({})).await;
    assert_eq!(first_error_code(&refused), Some("FORBIDDEN"), "{refused}");

    // The employee's id as `people` shows it in this dialect.
    let granted = app
        .admin(&format!(
            r#"mutation {{ grantFinancePermission(businessId: "200001", userId: "{}", role: FINANCE_ANALYST) }}"#,
            person_id(api, "100002")
        ))
        .await;
    assert_eq!(
        granted["data"],
        json!({"grantFinancePermission": true}),
        "{granted}"
    );
    let read = app.graphql(Some("demo-employee"), query, json!({})).await;
    assert!(read.get("errors").is_none(), "{read}");
    let cards = read["data"]["business"]["creditCards"]
        .as_array()
        .unwrap_or_else(|| panic!("{read}"));
    assert!(!cards.is_empty(), "{read}");

    // An analyst reads funding but, as before, creates no ad account: that is an ADMIN's.
    let created = create(&app, "demo-employee", json!({})).await;
    assert_eq!(first_error_code(&created), Some("FORBIDDEN"), "{created}");
}

in_both_dialects!(an_employee_reads_funding_once_granted_a_finance_role);
