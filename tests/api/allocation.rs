//! `Business.creditAllocation` against the sandbox's DCAF run: the preview is read in one
//! Graph call, and after the sandbox clock passes a 30-minute mark every account's spend cap
//! is the share the preview announced, through inactivation and a new balance.

use std::str::FromStr;
use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::helpers::{TestApp, first_error_code, spawn_app_configured};

const PREVIEW: &str = r#"{ business(id: "200001") { creditAllocation {
    creditLine { id creditType }
    available { amount currency offset }
    total { amount currency }
    accounts { adAccount { id name } amount { amount currency offset } spendCap }
} } }"#;

/// A gateway that caches nothing: the sandbox's clock changes spend caps behind its back.
async fn app() -> TestApp {
    spawn_app_configured(|settings| settings.cache.ttl = Duration::ZERO).await
}

async fn create_account(app: &TestApp, name: &str) -> String {
    let answer = app
        .graphql(
            Some("demo-admin"),
            r#"mutation($input: CreateAdAccountInput!) {
                createAdAccount(businessId: "200001", input: $input) { id }
            }"#,
            json!({"input": {
                "name": name, "currency": "USD", "timezoneId": 1, "endAdvertiser": "NONE",
                "mediaAgency": "NONE", "partner": "NONE", "fundingId": "940001"
            }}),
        )
        .await;
    answer["data"]["createAdAccount"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{answer}"))
        .to_owned()
}

/// The preview of credit line 940001 (the only line DCAF runs on in Pomni Media).
async fn preview(app: &TestApp) -> Value {
    let answer = app.admin(PREVIEW).await;
    let lines = answer["data"]["business"]["creditAllocation"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"));
    assert_eq!(lines.len(), 1, "{answer}");
    assert_eq!(
        lines[0]["creditLine"],
        json!({"id": "940001", "creditType": "NORMAL_LIABILITY"})
    );
    lines[0].clone()
}

/// Each ad account of the business on the credit line, with its spend cap.
async fn spend_caps(app: &TestApp) -> Vec<(String, String)> {
    let answer = app
        .admin(
            r#"{ business(id: "200001") {
                adAccounts(first: 100) { nodes { id spendCap fundingSource } }
            } }"#,
        )
        .await;
    answer["data"]["business"]["adAccounts"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .iter()
        .filter(|a| a["fundingSource"] == "940001")
        .map(|a| {
            (
                a["id"].as_str().unwrap().to_owned(),
                a["spendCap"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// `(account, amount, spend cap)` of each share, checking that each spend cap is the amount
/// in minor units and that the shares add up to the total.
fn shares(line: &Value) -> Vec<(String, String, String)> {
    let mut sum = Decimal::ZERO;
    let shares = line["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let amount = Decimal::from_str(a["amount"]["amount"].as_str().unwrap()).unwrap();
            let offset = Decimal::from(a["amount"]["offset"].as_u64().unwrap());
            let cap = a["spendCap"].as_str().unwrap().to_owned();
            assert_eq!((amount * offset).normalize().to_string(), cap, "{a}");
            assert_eq!(a["amount"]["currency"], "USD");
            sum += amount;
            (
                a["adAccount"]["id"].as_str().unwrap().to_owned(),
                a["amount"]["amount"].as_str().unwrap().to_owned(),
                cap,
            )
        })
        .collect();
    assert_eq!(
        sum,
        Decimal::from_str(line["total"]["amount"].as_str().unwrap()).unwrap(),
        "{line}"
    );
    shares
}

fn share(id: &str, amount: &str, cap: &str) -> (String, String, String) {
    (id.to_owned(), amount.to_owned(), cap.to_owned())
}

/// Moves the sandbox clock past the next 30-minute mark: DCAF runs.
async fn run_dcaf(app: &TestApp) {
    let moved = app.control("clock", json!({"advance_seconds": 1800})).await;
    assert!(moved["now"].is_string(), "{moved}");
}

/// Checks that the spend caps DCAF wrote are the preview's shares, inactive accounts at 0.
async fn assert_caps_follow(
    app: &TestApp,
    shares: &[(String, String, String)],
    accounts: &[String],
) {
    let caps = spend_caps(app).await;
    let mut expected: Vec<(String, String)> = accounts
        .iter()
        .map(|id| {
            let cap = shares
                .iter()
                .find(|s| &s.0 == id)
                .map_or("0".to_owned(), |s| s.2.clone());
            (id.clone(), cap)
        })
        .collect();
    expected.sort();
    let mut caps = caps;
    caps.sort();
    assert_eq!(caps, expected);
}

#[tokio::test]
async fn the_preview_is_what_the_next_dcaf_run_gives() {
    let app = app().await;

    // No account on the line yet: the available credit, nothing allocated.
    let empty = preview(&app).await;
    assert_eq!(
        empty["available"],
        json!({"amount": "37654.33", "currency": "USD", "offset": 100})
    );
    assert_eq!(empty["total"], json!({"amount": "0.00", "currency": "USD"}));
    assert_eq!(empty["accounts"], json!([]));

    let mut accounts = Vec::new();
    for name in ["DCAF one", "DCAF two", "DCAF three"] {
        accounts.push(create_account(&app, name).await);
    }
    assert_eq!(
        accounts,
        ["act_1000000000", "act_1000000001", "act_1000000002"]
    );

    // The preview is one Graph call: the lines and the accounts expanded side by side.
    let before = app.upstream_requests().await;
    let line = preview(&app).await;
    assert_eq!(app.upstream_requests().await - before, 1);
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
        "id,extendedcredits.limit(100).as(credit_allocation_lines)\
         {id,credit_type,is_access_revoked,credit_available},\
         owned_ad_accounts.limit(1000).as(credit_allocation_accounts)\
         {id,account_status,is_dcaf_enabled,funding_source,name}"
    );

    assert_eq!(
        line["total"],
        json!({"amount": "37654.33", "currency": "USD"})
    );
    let first = shares(&line);
    assert_eq!(
        first,
        [
            share("act_1000000000", "12551.45", "1255145"),
            share("act_1000000001", "12551.44", "1255144"),
            share("act_1000000002", "12551.44", "1255144"),
        ]
    );
    assert_eq!(line["accounts"][0]["adAccount"]["name"], "DCAF one");

    // Before the run every account on the line has a spend cap of 0; after it, its share.
    assert_caps_follow(&app, &[], &accounts).await;
    run_dcaf(&app).await;
    assert_caps_follow(&app, &first, &accounts).await;
    let allocated = app
        .admin(
            r#"{ business(id: "200001") { extendedCredits { id allocatedAmount { amount } } } }"#,
        )
        .await;
    assert_eq!(
        allocated["data"]["business"]["extendedCredits"][0],
        json!({"id": "940001", "allocatedAmount": {"amount": "37654.33"}}),
        "{allocated}"
    );

    // An inactive account leaves the split at the next run: two shares, a remainder of one.
    let inactivated: Value = app
        .http
        .post(format!("{}/v25.0/act_1000000001", app.sandbox.url()))
        .bearer_auth("demo-admin")
        .form(&[("account_status", "2")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(inactivated, json!({"success": true}));
    let line = preview(&app).await;
    let second = shares(&line);
    assert_eq!(
        second,
        [
            share("act_1000000000", "18827.17", "1882717"),
            share("act_1000000002", "18827.16", "1882716"),
        ]
    );
    // Nothing changes until the run.
    assert_caps_follow(&app, &first, &accounts).await;
    run_dcaf(&app).await;
    assert_caps_follow(&app, &second, &accounts).await;

    // One cent left over two accounts: the first in id order gets it.
    let balance = app
        .control(
            "extended_credits/balance",
            json!({"extended_credit_id": "940001", "balance": "49999.99"}),
        )
        .await;
    assert_eq!(
        balance,
        json!({"credit_available": {"amount": "0.01", "currency": "USD"}})
    );
    let line = preview(&app).await;
    assert_eq!(line["available"]["amount"], "0.01");
    let third = shares(&line);
    assert_eq!(
        third,
        [
            share("act_1000000000", "0.01", "1"),
            share("act_1000000002", "0.00", "0"),
        ]
    );
    run_dcaf(&app).await;
    assert_caps_follow(&app, &third, &accounts).await;
}

#[tokio::test]
async fn an_employee_gets_no_preview() {
    let app = app().await;
    let answer = app
        .graphql(
            Some("demo-employee"),
            r#"{ business(id: "200001") { creditAllocation { total { amount } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(first_error_code(&answer), Some("FORBIDDEN"), "{answer}");
    // The refused field alone is null; the business keeps its place.
    assert_eq!(
        answer["data"],
        json!({"business": {"creditAllocation": null}}),
        "{answer}"
    );
}

#[tokio::test]
async fn the_preview_reads_beside_the_lines_and_accounts_of_the_same_business_in_one_call() {
    let app = app().await;
    create_account(&app, "DCAF one").await;
    let before = app.upstream_requests().await;
    let answer = app
        .admin(
            r#"{ business(id: "200001") {
                extendedCredits { id }
                adAccounts(first: 2) { nodes { id } }
                creditAllocation { creditLine { id } accounts { adAccount { id } spendCap } }
            } }"#,
        )
        .await;
    assert_eq!(app.upstream_requests().await - before, 1, "{answer}");
    let business = &answer["data"]["business"];
    assert_eq!(
        business["extendedCredits"],
        json!([{"id": "940001"}, {"id": "940003"}]),
        "{answer}"
    );
    assert_eq!(
        business["adAccounts"]["nodes"].as_array().map(Vec::len),
        Some(2),
        "{answer}"
    );
    assert_eq!(
        business["creditAllocation"],
        json!([{"creditLine": {"id": "940001"},
                "accounts": [{"adAccount": {"id": "act_1000000000"}, "spendCap": "3765433"}]}]),
        "{answer}"
    );

    // A business reached through a credit line reads the preview too.
    let nested = app
        .admin(
            r#"{ business(id: "200001") { extendedCredits { ownerBusiness {
                creditAllocation { total { amount } }
            } } } }"#,
        )
        .await;
    assert_eq!(
        nested["data"]["business"]["extendedCredits"][0]["ownerBusiness"],
        json!({"creditAllocation": [{"total": {"amount": "37654.33"}}]}),
        "{nested}"
    );
}
