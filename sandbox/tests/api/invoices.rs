//! Invoices and finance roles (docs/graph-api.md §8.5): `business_invoices` needs a finance
//! role (an ADMIN without one is refused), takes a date range as query parameters or as field
//! modifiers in both spellings, selects by billing period from `start_date` (inclusive) to
//! `end_date` (exclusive), pages like every edge, and adds up to the cent.

use std::collections::BTreeSet;

use graph_sandbox::demo;
use serde_json::{Value, json};

use crate::helpers::{Reply, TestSandbox, spawn_sandbox};

const INVOICES: &str = "/v25.0/200001/business_invoices";
const FINANCE: &str = "/v25.0/200001/finance_permissions";

async fn invoices(sandbox: &TestSandbox, token: &str, query: &[(&str, &str)]) -> Reply {
    sandbox.get_as(token, INVOICES, query).await
}

fn error(code: i64, message: &str) -> Value {
    json!({"error": {"message": message, "type": "OAuthException", "code": code}})
}

/// The `invoice_date`s of a page of invoices.
fn dates(reply: &Reply) -> Vec<String> {
    column(reply, "invoice_date")
}

/// The `billing_period`s of a page of invoices.
fn periods(reply: &Reply) -> Vec<String> {
    column(reply, "billing_period")
}

/// The ids of a page of invoices.
fn ids(reply: &Reply) -> Vec<String> {
    column(reply, "id")
}

fn column(reply: &Reply, key: &str) -> Vec<String> {
    reply.body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {:?}", reply.body))
        .iter()
        .map(|i| i[key].as_str().expect("a string").to_owned())
        .collect()
}

/// A decimal string with two places as whole cents, refusing any other shape.
fn cents(amount: &Value) -> i64 {
    let text = amount
        .as_str()
        .unwrap_or_else(|| panic!("a string: {amount}"));
    let (units, fraction) = text.split_once('.').expect("two decimals");
    assert_eq!(fraction.len(), 2, "{text}");
    units.parse::<i64>().expect("units") * 100 + fraction.parse::<i64>().expect("cents")
}

#[tokio::test]
async fn an_admin_without_a_finance_role_is_refused_until_granted_one() {
    let sandbox = spawn_sandbox().await;
    // The first quarter of 2024's billing periods.
    let range = [("start_date", "2024-01-01"), ("end_date", "2024-04-01")];
    let refused = invoices(&sandbox, demo::ADMIN_TOKEN, &range).await;
    assert_eq!(refused.status, 403);
    assert_eq!(
        refused.body_without_trace(),
        error(
            200,
            "(#200) Permissions error: reading the invoices of business 200001 requires a \
             finance role (FINANCE_ANALYST or FINANCE_EDITOR); the ADMIN role is not enough"
        )
    );
    // The role is checked before the dates.
    let no_dates = invoices(&sandbox, demo::EMPLOYEE_TOKEN, &[]).await;
    assert_eq!(no_dates.error_code(), 200);
    // The seeded FINANCE_EDITOR reads.
    let editor = invoices(&sandbox, demo::SYSTEM_TOKEN, &range).await;
    assert_eq!(editor.status, 200, "{:?}", editor.body);
    // January's, February's and March's monthly invoices, and February's threshold invoice.
    assert_eq!(ids(&editor), ["910001", "910002", "910003", "910004"]);

    // Alex grants Sam (an EMPLOYEE) FINANCE_ANALYST: Sam reads, Alex still does not.
    let granted = sandbox
        .post_as(
            demo::ADMIN_TOKEN,
            FINANCE,
            &[
                ("user", demo::EMPLOYEE_USER_ID),
                ("finance_permission", "FINANCE_ANALYST"),
            ],
        )
        .await;
    assert_eq!(granted.body_without_trace(), json!({"success": true}));
    let analyst = invoices(&sandbox, demo::EMPLOYEE_TOKEN, &range).await;
    assert_eq!(analyst.status, 200, "{:?}", analyst.body);
    assert_eq!(analyst.body["data"], editor.body["data"]);
    assert_eq!(
        invoices(&sandbox, demo::ADMIN_TOKEN, &range)
            .await
            .error_code(),
        200
    );
    // An invoice read by id follows the same rule.
    let by_id = sandbox
        .get_as(demo::ADMIN_TOKEN, "/v25.0/910001", &[("fields", "id")])
        .await;
    assert_eq!(by_id.error_code(), 100);
    // Alex grants himself a role and reads too.
    let own = sandbox
        .post_as(
            demo::ADMIN_TOKEN,
            FINANCE,
            &[
                ("user", demo::ADMIN_USER_ID),
                ("finance_permission", "FINANCE_EDITOR"),
            ],
        )
        .await;
    assert_eq!(own.status, 200, "{:?}", own.body);
    assert_eq!(
        invoices(&sandbox, demo::ADMIN_TOKEN, &range).await.status,
        200
    );
    // Taking Sam's role away refuses him again.
    let revoked = sandbox
        .delete_with(
            demo::ADMIN_TOKEN,
            FINANCE,
            &[("user", demo::EMPLOYEE_USER_ID)],
        )
        .await;
    assert_eq!(revoked.body_without_trace(), json!({"success": true}));
    assert_eq!(
        invoices(&sandbox, demo::EMPLOYEE_TOKEN, &range)
            .await
            .error_code(),
        200
    );
}

#[tokio::test]
async fn finance_roles_are_listed_and_bad_grants_refused_in_graph_order() {
    let sandbox = spawn_sandbox().await;
    let list = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            FINANCE,
            &[("fields", "user{id,name},finance_permission")],
        )
        .await;
    assert_eq!(list.status, 200, "{:?}", list.body);
    assert_eq!(
        list.body["data"],
        json!([{
            "user": {"id": demo::SYSTEM_USER_ID, "name": "Pomni Sync"},
            "finance_permission": "FINANCE_EDITOR",
            "id": "950001"
        }])
    );
    // An EMPLOYEE without a finance role may not list them.
    let employee = sandbox.get_as(demo::EMPLOYEE_TOKEN, FINANCE, &[]).await;
    assert_eq!(employee.error_code(), 200);

    let grant = |token: &'static str, form: Vec<(&'static str, &'static str)>| {
        let sandbox = &sandbox;
        async move { sandbox.post_as(token, FINANCE, &form).await }
    };
    // The caller's role comes first, whatever the parameters.
    let not_admin = grant(demo::EMPLOYEE_TOKEN, vec![("user", "x")]).await;
    assert_eq!(
        not_admin.body_without_trace(),
        error(200, "(#200) Permissions error")
    );
    let cases: [(Vec<(&str, &str)>, &str); 6] = [
        (
            vec![("finance_permission", "FINANCE_ANALYST")],
            "(#100) The parameter user is required",
        ),
        (
            vec![("user", "sam"), ("finance_permission", "FINANCE_ANALYST")],
            "(#100) Param user must be a valid user ID",
        ),
        (
            vec![("user", demo::EMPLOYEE_USER_ID)],
            "(#100) The parameter finance_permission is required",
        ),
        (
            vec![
                ("user", demo::EMPLOYEE_USER_ID),
                ("finance_permission", "ADMIN"),
            ],
            "(#100) Param finance_permission must be one of {FINANCE_ANALYST, FINANCE_EDITOR}",
        ),
        // Jordan is not in Pomni Media; Morgan is SUSPENDED there.
        (
            vec![
                ("user", demo::KINGER_ADMIN_USER_ID),
                ("finance_permission", "FINANCE_ANALYST"),
            ],
            "(#100) Param user must be an active person or system user of business 200001",
        ),
        (
            vec![
                ("user", demo::SUSPENDED_USER_ID),
                ("finance_permission", "FINANCE_ANALYST"),
            ],
            "(#100) Param user must be an active person or system user of business 200001",
        ),
    ];
    for (form, message) in cases {
        let reply = grant(demo::ADMIN_TOKEN, form.clone()).await;
        assert_eq!(reply.body_without_trace(), error(100, message), "{form:?}");
    }
    // A second grant replaces the role rather than adding a row.
    for role in ["FINANCE_ANALYST", "FINANCE_EDITOR"] {
        let reply = grant(
            demo::ADMIN_TOKEN,
            vec![
                ("user", demo::EMPLOYEE_USER_ID),
                ("finance_permission", role),
            ],
        )
        .await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
    }
    let list = sandbox
        .get_as(
            demo::EMPLOYEE_TOKEN,
            FINANCE,
            &[("fields", "finance_permission")],
        )
        .await;
    assert_eq!(
        list.body["data"],
        json!([
            {"finance_permission": "FINANCE_EDITOR", "id": "950001"},
            {"finance_permission": "FINANCE_EDITOR", "id": "3000000000"},
        ])
    );
    let nothing = sandbox
        .delete_with(demo::ADMIN_TOKEN, FINANCE, &[("user", demo::ADMIN_USER_ID)])
        .await;
    assert_eq!(
        nothing.body_without_trace(),
        error(
            100,
            "(#100) User 100001 has no finance permission in business 200001"
        )
    );
    // Revoking refuses as granting does: someone who is no ACTIVE person of the business,
    // then an EMPLOYEE (whose own role stays).
    for user in [demo::KINGER_ADMIN_USER_ID, demo::SUSPENDED_USER_ID] {
        let stranger = sandbox
            .delete_with(demo::ADMIN_TOKEN, FINANCE, &[("user", user)])
            .await;
        assert_eq!(
            stranger.body_without_trace(),
            error(
                100,
                "(#100) Param user must be an active person or system user of business 200001"
            ),
            "{user}"
        );
    }
    let by_employee = sandbox
        .delete_with(
            demo::EMPLOYEE_TOKEN,
            FINANCE,
            &[("user", demo::EMPLOYEE_USER_ID)],
        )
        .await;
    assert_eq!(by_employee.error_code(), 200, "{:?}", by_employee.body);
    let after = sandbox
        .get_as(
            demo::EMPLOYEE_TOKEN,
            FINANCE,
            &[("fields", "finance_permission")],
        )
        .await;
    assert_eq!(after.body["data"], list.body["data"]);
}

#[tokio::test]
async fn ranges_include_the_start_month_and_exclude_the_end_date_in_either_spelling() {
    let sandbox = spawn_sandbox().await;
    let read = |start: &'static str, end: &'static str| {
        let sandbox = &sandbox;
        async move {
            let reply = invoices(
                sandbox,
                demo::SYSTEM_TOKEN,
                &[
                    ("start_date", start),
                    ("end_date", end),
                    ("fields", "invoice_date,billing_period,invoice_type"),
                ],
            )
            .await;
            assert_eq!(reply.status, 200, "{:?}", reply.body);
            reply
        }
    };
    // February 2024's billing period: its threshold invoice of the 29th (a leap day) and its
    // monthly invoice of March 1st. January's monthly invoice, dated February 1st, is not in
    // it: invoices are selected by billing period, not by invoice date.
    let february = read("2024-02-01", "2024-03-01").await;
    assert_eq!(
        february.body["data"],
        json!([
            {"invoice_date": "2024-02-29", "billing_period": "2024-02-01", "invoice_type": "THRESHOLD", "id": "910002"},
            {"invoice_date": "2024-03-01", "billing_period": "2024-02-01", "invoice_type": "MONTHLY", "id": "910003"},
        ])
    );
    assert_eq!(read("2024/2/1", "2024/3/1").await.body, february.body);
    assert_eq!(
        read("2024/02/01", "2024-03-01").await.body["data"],
        february.body["data"]
    );
    // end_date is exclusive: ending on March 1st leaves March's period (910004) out, a day
    // later takes it in. Ending on February 29th still holds February's period, which starts
    // before it, so it reads the same as ending on March 1st.
    assert_eq!(read("2024-02-01", "2024-02-29").await.body, february.body);
    assert_eq!(
        ids(&read("2024-02-01", "2024-03-02").await),
        ["910002", "910003", "910004"]
    );
    // Ending on February 1st leaves February out: January alone, whose monthly invoice is
    // dated that very day.
    let january = read("2024-01-01", "2024-02-01").await;
    assert_eq!(ids(&january), ["910001"]);
    assert_eq!(dates(&january), ["2024-02-01"]);
    assert_eq!(periods(&january), ["2024-01-01"]);
    // start_date is inclusive, of the period's first day: a day later misses the period.
    assert!(ids(&read("2024-02-02", "2024-03-01").await).is_empty());
    // Equal ends are allowed and select nothing.
    let nothing = read("2024-02-01", "2024-02-01").await;
    assert_eq!(nothing.body, json!({"data": []}));
    // December 2024's period holds its manual invoice of the 15th, then its monthly one dated
    // 2025-01-01, and no other.
    let december = read("2024-12-01", "2025-01-01").await;
    assert_eq!(dates(&december), ["2024-12-15", "2025-01-01"]);
    assert_eq!(periods(&december), ["2024-12-01", "2024-12-01"]);
    // Before the first billing period: an empty list.
    let empty = read("2023-01-01", "2024-01-01").await;
    assert_eq!(empty.body, json!({"data": []}));
}

#[tokio::test]
async fn the_modifier_form_reads_the_same_invoices_with_their_campaigns() {
    let sandbox = spawn_sandbox().await;
    let children = "invoice_id,billing_period,billed_amount_details,campaigns{campaign_id,campaign_name,tags,billed_amount_details{total_amount},impressions,clicks,conversions}";
    let expanded = sandbox
        .get_as(
            demo::SYSTEM_TOKEN,
            "/v25.0/200001",
            &[(
                "fields",
                &format!(
                    "name,business_invoices.start_date(2024/1/1).end_date(2024/4/1).as(q1){{{children}}}"
                ),
            )],
        )
        .await;
    assert_eq!(expanded.status, 200, "{:?}", expanded.body);
    let edge = invoices(
        &sandbox,
        demo::SYSTEM_TOKEN,
        &[
            ("start_date", "2024-01-01"),
            ("end_date", "2024-04-01"),
            ("fields", children),
        ],
    )
    .await;
    assert_eq!(expanded.body["name"], "Pomni Media");
    assert_eq!(expanded.body["q1"]["data"], edge.body["data"]);
    let data = edge.body["data"].as_array().expect("a list");
    // January's, February's and March's monthly invoices, and February's threshold invoice.
    assert_eq!(data.len(), 4);
    let first = &data[0];
    assert_eq!(first["invoice_id"], "1120240101");
    let campaigns = first["campaigns"]["data"].as_array().expect("campaigns");
    assert!((2..=4).contains(&campaigns.len()), "{campaigns:?}");
    for campaign in campaigns {
        let keys: BTreeSet<&str> = campaign
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            BTreeSet::from([
                "billed_amount_details",
                "campaign_id",
                "campaign_name",
                "clicks",
                "conversions",
                "impressions",
                "tags"
            ])
        );
        assert_eq!(
            campaign["billed_amount_details"]
                .as_object()
                .map(|o| o.len()),
            Some(1)
        );
        assert!(campaign["tags"].is_array() && campaign["impressions"].is_u64());
    }
    // The modifiers follow the same rule: February's period alone, end_date excluded, and
    // equal ends select nothing.
    let modifiers = sandbox
        .get_as(
            demo::SYSTEM_TOKEN,
            "/v25.0/200001",
            &[(
                "fields",
                "business_invoices.start_date(2024/2/1).end_date(2024-03-01).as(feb){id},\
                 business_invoices.start_date(2024-02-01).end_date(2024/2/1).as(none){id}",
            )],
        )
        .await;
    assert_eq!(modifiers.status, 200, "{:?}", modifiers.body);
    assert_eq!(
        modifiers.body["feb"]["data"],
        json!([{"id": "910002"}, {"id": "910003"}])
    );
    assert_eq!(modifiers.body["none"]["data"], json!([]));
    // The modifiers' errors are the parameters' errors.
    let bad = sandbox
        .get_as(
            demo::SYSTEM_TOKEN,
            "/v25.0/200001",
            &[(
                "fields",
                "business_invoices.start_date(2024/4/1).end_date(2024/3/1){id}",
            )],
        )
        .await;
    assert_eq!(
        bad.body_without_trace(),
        error(
            100,
            "(#100) Param end_date (2024-03-01) must not be before start_date (2024-04-01)"
        )
    );
    let unknown = sandbox
        .get_as(
            demo::SYSTEM_TOKEN,
            INVOICES,
            &[
                ("start_date", "2024-02-01"),
                ("end_date", "2024-03-01"),
                ("fields", "campaigns{budget}"),
            ],
        )
        .await;
    assert_eq!(
        unknown.body_without_trace(),
        error(
            100,
            "(#100) Tried accessing nonexisting field (budget) on node type (InvoiceCampaign)"
        )
    );
}

#[tokio::test]
async fn a_year_of_invoices_pages_through_every_invoice_once() {
    let sandbox = spawn_sandbox().await;
    let mut reply = invoices(
        &sandbox,
        demo::SYSTEM_TOKEN,
        &[
            ("start_date", "2024/1/1"),
            ("end_date", "2025-01-01"),
            ("fields", "billing_period,invoice_date"),
            ("limit", "5"),
            ("summary", "total_count"),
        ],
    )
    .await;
    let mut seen = Vec::new();
    let mut seen_periods = Vec::new();
    let mut pages = 0;
    loop {
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        // 2024's billing periods: 12 monthly, 4 threshold and 1 manual invoice.
        assert_eq!(reply.body["summary"]["total_count"], 17);
        pages += 1;
        seen.extend(dates(&reply));
        seen_periods.extend(periods(&reply));
        let Some(next) = reply.body["paging"]["next"].as_str() else {
            break;
        };
        assert!(next.contains("start_date=2024%2F1%2F1"), "{next}");
        reply = sandbox.get_url(next).await;
    }
    assert_eq!(pages, 4);
    assert_eq!(seen.len(), 17);
    let mut sorted = seen_periods.clone();
    sorted.sort();
    assert_eq!(seen_periods, sorted);
    assert_eq!(seen_periods.first().map(String::as_str), Some("2024-01-01"));
    assert_eq!(seen_periods.last().map(String::as_str), Some("2024-12-01"));
    // December's monthly invoice, dated in 2025, is the last one of 2024's periods.
    assert_eq!(seen.first().map(String::as_str), Some("2024-02-01"));
    assert_eq!(seen.last().map(String::as_str), Some("2025-01-01"));
}

#[tokio::test]
async fn bad_date_ranges_are_code_100_with_clear_messages() {
    let sandbox = spawn_sandbox().await;
    let cases: [(&[(&str, &str)], &str); 6] = [
        (
            &[("end_date", "2024-01-31")],
            "(#100) The parameter start_date is required",
        ),
        (
            &[("start_date", "2024-01-01")],
            "(#100) The parameter end_date is required",
        ),
        (
            &[("start_date", "2024-02-30"), ("end_date", "2024-03-31")],
            "(#100) Param start_date must be a date written YYYY-MM-DD or YYYY/M/D, got '2024-02-30'",
        ),
        (
            &[("start_date", "2024-01-01"), ("end_date", "31/01/2024")],
            "(#100) Param end_date must be a date written YYYY-MM-DD or YYYY/M/D, got '31/01/2024'",
        ),
        (
            &[("start_date", "2024-02-01"), ("end_date", "2024-01-31")],
            "(#100) Param end_date (2024-01-31) must not be before start_date (2024-02-01)",
        ),
        (
            &[("start_date", "2024-01-01"), ("end_date", "2025-01-02")],
            "(#100) The range from start_date to end_date may span at most 366 days; \
             2024-01-01 to 2025-01-02 spans 367",
        ),
    ];
    for (query, message) in cases {
        let reply = invoices(&sandbox, demo::SYSTEM_TOKEN, query).await;
        assert_eq!(reply.status, 400, "{query:?}");
        assert_eq!(reply.body_without_trace(), error(100, message), "{query:?}");
    }
    // The longest range allowed: a leap year and a day.
    let longest = invoices(
        &sandbox,
        demo::SYSTEM_TOKEN,
        &[("start_date", "2024-01-01"), ("end_date", "2025-01-01")],
    )
    .await;
    assert_eq!(longest.status, 200, "{:?}", longest.body);
}

#[tokio::test]
async fn amounts_are_decimal_strings_that_add_up_to_the_cent() {
    let sandbox = spawn_sandbox().await;
    let mut total_of_totals = 0;
    let mut invoices_seen = 0;
    for (start, end) in [
        ("2024-01-01", "2025-01-01"),
        ("2025-01-01", "2026-01-01"),
        ("2026-01-01", "2027-01-01"),
    ] {
        let reply = invoices(
            &sandbox,
            demo::SYSTEM_TOKEN,
            &[
                ("start_date", start),
                ("end_date", end),
                ("fields", "currency,billed_amount_details,campaigns"),
                ("limit", "100"),
            ],
        )
        .await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        for invoice in reply.body["data"].as_array().expect("a list") {
            invoices_seen += 1;
            let details = &invoice["billed_amount_details"];
            assert_eq!(details["currency"], "USD");
            assert_eq!(invoice["currency"], "USD");
            let (net, tax, total) = (
                cents(&details["net_amount"]),
                cents(&details["tax_amount"]),
                cents(&details["total_amount"]),
            );
            assert_eq!(net + tax, total, "{invoice}");
            let campaigns = invoice["campaigns"]["data"].as_array().expect("campaigns");
            let sum = |key: &str| -> i64 {
                campaigns
                    .iter()
                    .map(|c| cents(&c["billed_amount_details"][key]))
                    .sum()
            };
            assert_eq!(sum("net_amount"), net, "{invoice}");
            assert_eq!(sum("tax_amount"), tax, "{invoice}");
            assert_eq!(sum("total_amount"), total, "{invoice}");
            total_of_totals += total;
        }
    }
    // Every Pomni Media invoice, once: the two years of billing periods hold all 34 (December
    // 2025's monthly invoice, dated 2026-01-01, is in 2025's), 2026 none.
    assert_eq!(invoices_seen, 34);
    assert!(total_of_totals > 0);
}

#[tokio::test]
async fn an_invoice_reads_by_id_with_every_contract_field() {
    let sandbox = spawn_sandbox().await;
    let reply = sandbox
        .get_as(
            demo::SYSTEM_TOKEN,
            "/v25.0/910001",
            &[(
                "fields",
                "id,invoice_id,billing_period,entity,liability_type,invoice_type,payment_term,\
                 type,payment_status,due_date,invoice_date,currency",
            )],
        )
        .await;
    assert_eq!(
        reply.body_without_trace(),
        json!({
            "id": "910001",
            "invoice_id": "1120240101",
            "billing_period": "2024-01-01",
            "entity": "FBUS",
            "liability_type": "Normal",
            "invoice_type": "MONTHLY",
            "payment_term": "NET 30",
            "type": "INV",
            "payment_status": "PAID",
            "due_date": "2024-03-02",
            "invoice_date": "2024-02-01",
            "currency": "USD",
        })
    );
    // The last month billed is unpaid.
    let last = sandbox
        .get_as(
            demo::SYSTEM_TOKEN,
            "/v25.0/910034",
            &[("fields", "billing_period,payment_status")],
        )
        .await;
    assert_eq!(
        last.body_without_trace(),
        json!({"billing_period": "2025-12-01", "payment_status": "UNPAID"})
    );
}
