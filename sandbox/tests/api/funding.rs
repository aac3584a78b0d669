//! Funding (docs/graph-api.md §8.5): credit cards and extended credits as decimal strings, ad
//! accounts created on a credit line with each of their errors, and DCAF splitting a line's
//! available credit over its active accounts every 30 minutes of the sandbox clock.

use graph_sandbox::demo;
use serde_json::{Value, json};

use crate::helpers::{Reply, TestSandbox, spawn_sandbox};

const CREATE: &str = "/v25.0/200001/adaccount";
const CREDIT_LINE_FIELDS: &str = "id,credit_type,max_balance,balance,credit_available,\
                                  allocated_amount,owner_business,legal_entity_name,is_access_revoked";

fn error(code: i64, message: &str) -> Value {
    json!({"error": {"message": message, "type": "OAuthException", "code": code}})
}

/// A complete, valid creation form on Pomni Media's credit line.
fn form(name: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("name", name),
        ("currency", "USD"),
        ("timezone_id", "1"),
        ("end_advertiser", demo::POMNI_PAGE_ID),
        ("media_agency", "NONE"),
        ("partner", "UNFOUND"),
        ("funding_id", demo::POMNI_CREDIT_LINE_ID),
    ]
}

/// The form without one parameter, or with one replaced.
fn with(name: &'static str, value: Option<&'static str>) -> Vec<(&'static str, &'static str)> {
    let mut form: Vec<_> = form("Edited")
        .into_iter()
        .filter(|(k, _)| *k != name)
        .collect();
    if let Some(value) = value {
        form.push((name, value));
    }
    form
}

async fn create(sandbox: &TestSandbox, name: &'static str) -> String {
    let reply = sandbox
        .post_as(demo::ADMIN_TOKEN, CREATE, &form(name))
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body["id"].as_str().expect("an id").to_owned()
}

async fn spend_cap(sandbox: &TestSandbox, account: &str) -> String {
    let reply = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            &format!("/v25.0/{account}"),
            &[("fields", "spend_cap")],
        )
        .await;
    reply.body["spend_cap"]
        .as_str()
        .expect("a spend cap")
        .to_owned()
}

async fn allocated(sandbox: &TestSandbox) -> Value {
    let reply = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            &format!("/v25.0/{}", demo::POMNI_CREDIT_LINE_ID),
            &[("fields", "allocated_amount,credit_available")],
        )
        .await;
    reply.body_without_trace()
}

async fn advance(sandbox: &TestSandbox, seconds: u32) {
    let reply = sandbox
        .control("/__sandbox/clock", json!({"advance_seconds": seconds}))
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
}

async fn set_status(sandbox: &TestSandbox, account: &str, status: &'static str) -> Reply {
    sandbox
        .post_as(
            demo::ADMIN_TOKEN,
            &format!("/v25.0/{account}"),
            &[("account_status", status)],
        )
        .await
}

#[tokio::test]
async fn credit_cards_read_by_admins_and_finance_people_only() {
    let sandbox = spawn_sandbox().await;
    let path = "/v25.0/200001/creditcards";
    let fields = [(
        "fields",
        "id,card_type,last4,expiry_month,expiry_year,card_holder_name,is_enabled",
    )];
    let cards = sandbox.get_as(demo::ADMIN_TOKEN, path, &fields).await;
    assert_eq!(cards.status, 200, "{:?}", cards.body);
    assert_eq!(
        cards.body["data"],
        json!([
            {"id": "930001", "card_type": "VISA", "last4": "4242", "expiry_month": "08",
             "expiry_year": "2028", "card_holder_name": "Alex Rivera", "is_enabled": true},
            {"id": "930002", "card_type": "MASTERCARD", "last4": "5454", "expiry_month": "01",
             "expiry_year": "2026", "card_holder_name": "Pomni Media LLC", "is_enabled": false},
        ])
    );
    let employee = sandbox.get_as(demo::EMPLOYEE_TOKEN, path, &fields).await;
    assert_eq!(employee.status, 403);
    assert_eq!(
        employee.body_without_trace(),
        error(
            200,
            "(#200) Permissions error: reading the funding of business 200001 requires the \
             ADMIN role or a finance role (FINANCE_ANALYST or FINANCE_EDITOR)"
        )
    );
    let granted = sandbox
        .post_as(
            demo::ADMIN_TOKEN,
            "/v25.0/200001/finance_permissions",
            &[
                ("user", demo::EMPLOYEE_USER_ID),
                ("finance_permission", "FINANCE_ANALYST"),
            ],
        )
        .await;
    assert_eq!(granted.status, 200, "{:?}", granted.body);
    let analyst = sandbox.get_as(demo::EMPLOYEE_TOKEN, path, &fields).await;
    assert_eq!(analyst.body["data"], cards.body["data"]);
}

#[tokio::test]
async fn extended_credits_show_their_amounts_as_decimal_strings() {
    let sandbox = spawn_sandbox().await;
    let lines = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            "/v25.0/200001/extendedcredits",
            &[("fields", CREDIT_LINE_FIELDS)],
        )
        .await;
    assert_eq!(lines.status, 200, "{:?}", lines.body);
    let usd = |amount: &str| json!({"amount": amount, "currency": "USD"});
    let owner = json!({"id": "200001", "name": "Pomni Media"});
    assert_eq!(
        lines.body["data"],
        json!([
            {"id": "940001", "credit_type": "NORMAL_LIABILITY", "max_balance": usd("50000.00"),
             "balance": usd("12345.67"), "credit_available": usd("37654.33"),
             "allocated_amount": usd("0.00"), "owner_business": owner,
             "legal_entity_name": "Pomni Media LLC", "is_access_revoked": false},
            {"id": "940003", "credit_type": "SEQUENTIAL_LIABILITY", "max_balance": usd("10000.00"),
             "balance": usd("2500.00"), "credit_available": usd("7500.00"),
             "allocated_amount": usd("0.00"), "owner_business": owner,
             "legal_entity_name": "Pomni Media LLC", "is_access_revoked": false},
        ])
    );
    // The system user reads them as FINANCE_EDITOR; the employee may not.
    let system = sandbox
        .get_as(
            demo::SYSTEM_TOKEN,
            "/v25.0/200001/extendedcredits",
            &[("fields", CREDIT_LINE_FIELDS)],
        )
        .await;
    assert_eq!(system.body["data"], lines.body["data"]);
    let employee = sandbox
        .get_as(demo::EMPLOYEE_TOKEN, "/v25.0/200001/extendedcredits", &[])
        .await;
    assert_eq!(employee.error_code(), 200);
}

#[tokio::test]
async fn an_ad_account_created_on_the_credit_line_is_owned_active_and_dcaf_enabled() {
    let sandbox = spawn_sandbox().await;
    let reply = sandbox
        .post_as(demo::ADMIN_TOKEN, CREATE, &form("  Pomni Media - Credit  "))
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(
        reply.body_without_trace(),
        json!({
            "id": "act_1000000000",
            "account_id": "1000000000",
            "business_id": "200001",
            "end_advertiser_id": demo::POMNI_PAGE_ID,
            "media_agency_id": "NONE",
            "partner_id": "UNFOUND",
        })
    );
    let read = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            "/v25.0/act_1000000000",
            &[(
                "fields",
                "id,account_id,name,currency,account_status,timezone_id,spend_cap,funding_source,is_dcaf_enabled",
            )],
        )
        .await;
    assert_eq!(
        read.body_without_trace(),
        json!({
            "id": "act_1000000000",
            "account_id": "1000000000",
            "name": "Pomni Media - Credit",
            "currency": "USD",
            "account_status": 1,
            "timezone_id": 1,
            "spend_cap": "0",
            "funding_source": demo::POMNI_CREDIT_LINE_ID,
            "is_dcaf_enabled": true,
        })
    );
    let owned = sandbox
        .get_as(demo::ADMIN_TOKEN, "/v25.0/200001/owned_ad_accounts", &[])
        .await;
    assert_eq!(
        owned.body["data"],
        json!([{"id": "act_400001"}, {"id": "act_400002"}, {"id": "act_1000000000"}])
    );
    // Without funding_id the account exists but is on no credit line.
    let unfunded = sandbox
        .post_as(demo::ADMIN_TOKEN, CREATE, &with("funding_id", None))
        .await;
    assert_eq!(unfunded.status, 200, "{:?}", unfunded.body);
    let read = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            "/v25.0/act_1000000001",
            &[("fields", "is_dcaf_enabled,funding_source")],
        )
        .await;
    assert_eq!(read.body_without_trace(), json!({"is_dcaf_enabled": false}));
}

#[tokio::test]
async fn ad_account_creation_refuses_each_bad_parameter_in_graph_order() {
    let sandbox = spawn_sandbox().await;
    // The caller's role first, whatever the parameters.
    let employee = sandbox.post_as(demo::EMPLOYEE_TOKEN, CREATE, &[]).await;
    assert_eq!(
        employee.body_without_trace(),
        error(200, "(#200) Permissions error")
    );
    for name in [
        "name",
        "currency",
        "timezone_id",
        "end_advertiser",
        "media_agency",
        "partner",
    ] {
        let reply = sandbox
            .post_as(demo::ADMIN_TOKEN, CREATE, &with(name, None))
            .await;
        assert_eq!(
            reply.body_without_trace(),
            error(100, &format!("(#100) The parameter {name} is required")),
            "{name}"
        );
    }
    let cases: [(&str, &str, &str); 9] = [
        (
            "name",
            "   ",
            "(#100) Param name must be a non-empty string",
        ),
        (
            "timezone_id",
            "593",
            "(#100) Param timezone_id must be an integer between 0 and 592",
        ),
        (
            "timezone_id",
            "-1",
            "(#100) Param timezone_id must be an integer between 0 and 592",
        ),
        (
            "end_advertiser",
            "pomni",
            "(#100) Param end_advertiser must be a Page, app or business ID, NONE or UNFOUND",
        ),
        (
            "partner",
            "",
            "(#100) Param partner must be a Page, app or business ID, NONE or UNFOUND",
        ),
        (
            "funding_id",
            demo::KINGER_CREDIT_LINE_ID,
            "(#100) Param funding_id must be the id of an extended credit of business 200001",
        ),
        (
            "funding_id",
            demo::POMNI_CREDIT_CARD_ID,
            "(#100) Param funding_id must be the id of an extended credit of business 200001",
        ),
        (
            "funding_id",
            demo::POMNI_SEQUENTIAL_CREDIT_LINE_ID,
            "(#100) The extended credit 940003 has sequential liability; new ad accounts can \
             only be invoiced on a credit line with normal liability",
        ),
        (
            "currency",
            "EUR",
            "(#100) Param currency must be USD to invoice the account on the extended credit 940001",
        ),
    ];
    for (name, value, message) in cases {
        let reply = sandbox
            .post_as(demo::ADMIN_TOKEN, CREATE, &with(name, Some(value)))
            .await;
        assert_eq!(
            reply.body_without_trace(),
            error(100, message),
            "{name}={value}"
        );
    }
    let currency = sandbox
        .post_as(demo::ADMIN_TOKEN, CREATE, &with("currency", Some("XYZ")))
        .await;
    assert_eq!(currency.error_code(), 100);
    let message = currency.body["error"]["message"]
        .as_str()
        .expect("a message");
    assert!(
        message.starts_with("(#100) Param currency must be one of {AED, ARS, AUD,")
            && message.contains("USD"),
        "{message}"
    );
    // Nothing was created by the refused writes.
    let owned = sandbox
        .get_as(demo::ADMIN_TOKEN, "/v25.0/200001/owned_ad_accounts", &[])
        .await;
    assert_eq!(owned.body["data"].as_array().map(Vec::len), Some(2));
    // The edge is for writing only.
    let read = sandbox.get_as(demo::ADMIN_TOKEN, CREATE, &[]).await;
    assert_eq!(read.error_code(), 100);
}

#[tokio::test]
async fn dcaf_splits_available_credit_every_30_minutes_over_active_accounts() {
    let sandbox = spawn_sandbox().await;
    let accounts = [
        create(&sandbox, "Credit A").await,
        create(&sandbox, "Credit B").await,
        create(&sandbox, "Credit C").await,
    ];
    // Nothing is allocated before the first run.
    for account in &accounts {
        assert_eq!(spend_cap(&sandbox, account).await, "0");
    }
    advance(&sandbox, 1799).await;
    assert_eq!(spend_cap(&sandbox, &accounts[0]).await, "0");
    // At the 30-minute mark, 37654.33 over three accounts: the first gets the odd cent.
    advance(&sandbox, 1).await;
    let mut caps = Vec::new();
    for account in &accounts {
        caps.push(spend_cap(&sandbox, account).await);
    }
    assert_eq!(caps, ["1255145", "1255144", "1255144"]);
    assert_eq!(
        allocated(&sandbox).await,
        json!({
            "allocated_amount": {"amount": "37654.33", "currency": "USD"},
            "credit_available": {"amount": "37654.33", "currency": "USD"},
        })
    );
    // Inactivating B takes it out of the next run, not of the current allocation.
    let inactive = set_status(&sandbox, &accounts[1], "2").await;
    assert_eq!(inactive.body_without_trace(), json!({"success": true}));
    assert_eq!(spend_cap(&sandbox, &accounts[1]).await, "1255144");
    advance(&sandbox, 1800).await;
    let mut caps = Vec::new();
    for account in &accounts {
        caps.push(spend_cap(&sandbox, account).await);
    }
    assert_eq!(caps, ["1882717", "0", "1882716"]);
    assert_eq!(
        allocated(&sandbox).await["allocated_amount"]["amount"],
        "37654.33"
    );
    // Back in, it shares again from the next run; an advance over several marks runs once.
    assert_eq!(set_status(&sandbox, &accounts[1], "1").await.status, 200);
    advance(&sandbox, 3 * 1800 + 17).await;
    assert_eq!(spend_cap(&sandbox, &accounts[1]).await, "1255144");
    // Seeded accounts on no credit line keep their own spend cap.
    assert_eq!(
        spend_cap(&sandbox, demo::POMNI_MAIN_AD_ACCOUNT_ID).await,
        "5000000"
    );
}

#[tokio::test]
async fn only_admins_change_an_account_status_and_only_to_active_or_inactive() {
    let sandbox = spawn_sandbox().await;
    let account = create(&sandbox, "Credit").await;
    let path = format!("/v25.0/{account}");
    let employee = sandbox
        .post_as(demo::EMPLOYEE_TOKEN, &path, &[("account_status", "2")])
        .await;
    assert_eq!(employee.error_code(), 200);
    let bad = set_status(&sandbox, &account, "101").await;
    assert_eq!(
        bad.body_without_trace(),
        error(
            100,
            "(#100) Param account_status must be 1 (active) or 2 (inactive)"
        )
    );
    let nothing = sandbox.post_as(demo::ADMIN_TOKEN, &path, &[]).await;
    assert_eq!(
        nothing.body_without_trace(),
        error(100, "(#100) Nothing to update: give name or account_status")
    );
    let renamed = sandbox
        .post_as(demo::ADMIN_TOKEN, &path, &[("name", "Renamed")])
        .await;
    assert_eq!(renamed.status, 200, "{:?}", renamed.body);
    let read = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            &path,
            &[("fields", "name,account_status")],
        )
        .await;
    assert_eq!(
        read.body_without_trace(),
        json!({"name": "Renamed", "account_status": 1})
    );
}

#[tokio::test]
async fn the_control_plane_sets_a_line_balance_that_the_next_run_splits() {
    let sandbox = spawn_sandbox().await;
    let accounts = [
        create(&sandbox, "Credit A").await,
        create(&sandbox, "Credit B").await,
        create(&sandbox, "Credit C").await,
    ];
    let set = sandbox
        .control(
            "/__sandbox/extended_credits/balance",
            json!({"extended_credit_id": demo::POMNI_CREDIT_LINE_ID, "balance": "30000.00"}),
        )
        .await;
    assert_eq!(set.status, 200, "{:?}", set.body);
    assert_eq!(
        set.body,
        json!({"credit_available": {"amount": "20000.00", "currency": "USD"}})
    );
    advance(&sandbox, 1800).await;
    let mut caps = Vec::new();
    for account in &accounts {
        caps.push(spend_cap(&sandbox, account).await);
    }
    // 20000.00 over three: 6666.67, 6666.67, 6666.66.
    assert_eq!(caps, ["666667", "666667", "666666"]);
    assert_eq!(
        allocated(&sandbox).await["allocated_amount"]["amount"],
        "20000.00"
    );
    // Owing more than approved leaves nothing to split.
    let over = sandbox
        .control(
            "/__sandbox/extended_credits/balance",
            json!({"extended_credit_id": 940001, "balance": "60000"}),
        )
        .await;
    assert_eq!(
        over.body,
        json!({"credit_available": {"amount": "0.00", "currency": "USD"}})
    );
    advance(&sandbox, 1800).await;
    assert_eq!(spend_cap(&sandbox, &accounts[0]).await, "0");
    for (body, message) in [
        (
            json!({"extended_credit_id": "940001", "balance": "1.234"}),
            "balance must be a non-negative decimal amount of USD, such as \"1234.56\"",
        ),
        (
            json!({"extended_credit_id": "930001", "balance": "1.00"}),
            "unknown extended credit 930001",
        ),
    ] {
        let reply = sandbox
            .control("/__sandbox/extended_credits/balance", body)
            .await;
        assert_eq!(reply.status, 400);
        assert_eq!(reply.body, json!({"error": message}));
    }
    let number = sandbox
        .control(
            "/__sandbox/extended_credits/balance",
            json!({"extended_credit_id": "940001", "balance": 12.5}),
        )
        .await;
    assert_eq!(
        number.status, 400,
        "a JSON number is refused: {:?}",
        number.body
    );
}
