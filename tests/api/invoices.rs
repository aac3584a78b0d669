//! Invoices through the gateway: inclusive date ranges at month edges, paging through a year,
//! the finance-role rule (its stories in both people dialects, `seed::` and `current::`), exact sums, the one Graph call a business's invoices with their
//! campaigns cost, and bad ranges refused before any Graph call.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::{Value, json};

use bizgraph::config::PeopleApi;

use crate::helpers::{
    TestApp, first_error_code, first_error_message, in_both_dialects, person_id, refused_argument,
    spawn_app, spawn_in,
};

/// The finance person of Pomni Media (FINANCE_EDITOR in the seed).
const FINANCE: &str = "demo-system";

/// The ids of Pomni Media's invoices for `startDate`..`endDate` (both inclusive), in one page.
async fn invoice_ids(app: &TestApp, start: &str, end: &str) -> Vec<String> {
    let answer = app
        .graphql(
            Some(FINANCE),
            r#"query($s: Date!, $e: Date!) { business(id: "200001") {
                invoices(startDate: $s, endDate: $e, first: 100) { nodes { id } }
            } }"#,
            json!({"s": start, "e": end}),
        )
        .await;
    answer["data"]["business"]["invoices"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{start}..{end}: {answer}"))
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect()
}

fn ids(range: std::ops::RangeInclusive<u32>) -> Vec<String> {
    range.map(|n| n.to_string()).collect()
}

fn decimal(value: &Value) -> Decimal {
    Decimal::from_str(
        value
            .as_str()
            .unwrap_or_else(|| panic!("not a string: {value}")),
    )
    .unwrap_or_else(|e| panic!("{value}: {e}"))
}

/// The `fields=` parameter of a journal entry.
fn fields_of(entry: &Value) -> String {
    let query = entry["query"].as_str().unwrap();
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "fields")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no fields in {entry}"))
}

#[tokio::test]
async fn ranges_are_inclusive_at_month_edges() {
    let app = spawn_app().await;
    // January to March, endDate the last day of March: four invoices (two for February).
    assert_eq!(
        invoice_ids(&app, "2024-01-01", "2024-03-31").await,
        ids(910001..=910004)
    );
    // One month, its first to its last day; the leap day ends February.
    assert_eq!(
        invoice_ids(&app, "2024-01-01", "2024-01-31").await,
        ids(910001..=910001)
    );
    assert_eq!(
        invoice_ids(&app, "2024-02-01", "2024-02-29").await,
        ids(910002..=910003)
    );
    // A single day that is a billing period's first: that month.
    assert_eq!(
        invoice_ids(&app, "2024-03-01", "2024-03-01").await,
        ids(910004..=910004)
    );
    // endDate on the first of a month takes that month in (inclusive).
    assert_eq!(
        invoice_ids(&app, "2024-02-01", "2024-03-01").await,
        ids(910002..=910004)
    );
    // December has a MANUAL invoice besides the MONTHLY one.
    assert_eq!(
        invoice_ids(&app, "2024-12-01", "2024-12-31").await,
        ids(910016..=910017)
    );
    // A range inside a month, after its first day, holds no billing period.
    assert!(
        invoice_ids(&app, "2024-02-02", "2024-02-29")
            .await
            .is_empty()
    );
    assert!(
        invoice_ids(&app, "2023-01-01", "2023-12-31")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn paging_through_a_year_gives_every_invoice_once() {
    let app = spawn_app().await;
    let query = r#"query($after: String) { business(id: "200001") {
        invoices(startDate: "2024-01-01", endDate: "2024-12-31", first: 5, after: $after) {
            nodes { id billingPeriod }
            pageInfo { hasNextPage endCursor }
        }
    } }"#;
    let mut seen = Vec::new();
    let mut after = Value::Null;
    let mut pages = 0;
    loop {
        let answer = app
            .graphql(Some(FINANCE), query, json!({"after": after}))
            .await;
        let page = &answer["data"]["business"]["invoices"];
        let nodes = page["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{answer}"));
        assert!(nodes.len() <= 5, "{answer}");
        for node in nodes {
            let period = node["billingPeriod"].as_str().unwrap();
            assert!(period.starts_with("2024-"), "{node}");
            seen.push(node["id"].as_str().unwrap().to_owned());
        }
        pages += 1;
        assert!(pages <= 10, "paging does not end: {answer}");
        if page["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, ids(910001..=910017));
    assert_eq!(pages, 4);
}

async fn an_admin_reads_invoices_only_with_a_finance_role(api: PeopleApi) {
    let app = spawn_in(api).await;
    let query = r#"{ business(id: "200001") {
        name invoices(startDate: "2024-01-01", endDate: "2024-01-31") { nodes { id } }
    } }"#;

    let refused = app.admin(query).await;
    assert_eq!(first_error_code(&refused), Some("FORBIDDEN"), "{refused}");
    let message = first_error_message(&refused);
    assert!(
        message.contains("finance role") && message.contains("FINANCE_ANALYST"),
        "{message}"
    );
    // Graph refuses the business's whole read; the gateway reads the business again without
    // the invoices, whose field alone fails.
    assert_eq!(
        refused["data"],
        json!({"business": {"name": "Pomni Media", "invoices": null}}),
        "{refused}"
    );
    assert_eq!(
        refused["errors"][0]["path"],
        json!(["business", "invoices"]),
        "{refused}"
    );
    assert_eq!(refused["errors"][0]["extensions"]["graphApi"]["code"], 200);

    // The admin's id as `people` shows it in this dialect.
    let granted = grant(
        &app,
        "demo-admin",
        person_id(api, "100001"),
        "FINANCE_ANALYST",
    )
    .await;
    assert_eq!(
        granted["data"],
        json!({"grantFinancePermission": true}),
        "{granted}"
    );

    let read = app.admin(query).await;
    assert_eq!(
        read["data"],
        json!({"business": {"name": "Pomni Media", "invoices": {"nodes": [{"id": "910001"}]}}}),
        "{read}"
    );

    // An EMPLOYEE cannot grant a role, not even to themselves.
    let employee = grant(
        &app,
        "demo-employee",
        person_id(api, "100002"),
        "FINANCE_ANALYST",
    )
    .await;
    assert_eq!(first_error_code(&employee), Some("FORBIDDEN"), "{employee}");
    assert_eq!(employee["data"], Value::Null, "{employee}");
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

/// Alex's `{financeRole, tasks}` as Pomni Media's people show them.
async fn alex_in_people(app: &TestApp, api: PeopleApi) -> Value {
    let answer = app
        .admin(r#"{ business(id: "200001") { people(first: 50) { nodes { user { id } financeRole tasks } } } }"#)
        .await;
    let people = answer["data"]["business"]["people"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"));
    let alex = people
        .iter()
        .find(|p| p["user"]["id"] == person_id(api, "100001"))
        .unwrap_or_else(|| panic!("no Alex in {answer}"));
    json!({"financeRole": alex["financeRole"], "tasks": alex["tasks"]})
}

async fn a_granted_finance_role_replaces_the_last_and_shows_where_the_dialect_can_say(
    api: PeopleApi,
) {
    let app = spawn_in(api).await;
    let calls = |before: u64, after: u64| after - before;
    let mut shown = Vec::new();
    for role in ["FINANCE_EDITOR", "FINANCE_ANALYST"] {
        let before = app.upstream_requests().await;
        let granted = grant(&app, "demo-admin", person_id(api, "100001"), role).await;
        assert_eq!(
            granted["data"],
            json!({"grantFinancePermission": true}),
            "{granted}"
        );
        let spent = calls(before, app.upstream_requests().await);
        // Seed: one post to `finance_permissions`. Today's: the business user's tasks read,
        // then written back with the role's.
        assert_eq!(
            spent,
            match api {
                PeopleApi::Seed => 1,
                PeopleApi::Current => 2,
            }
        );
        shown.push(alex_in_people(&app, api).await);
    }
    match api {
        // The seed's people rows carry neither tasks nor a finance role.
        PeopleApi::Seed => assert_eq!(
            shown,
            vec![json!({"financeRole": null, "tasks": null}); 2],
            "{shown:?}"
        ),
        // An editor edits and views; an analyst afterwards only views (FINANCE_EDIT gone).
        PeopleApi::Current => assert_eq!(
            shown,
            [
                json!({"financeRole": "FINANCE_EDITOR",
                       "tasks": ["ADMIN", "DEVELOPER", "EMPLOYEE", "FINANCE_EDIT", "FINANCE_VIEW", "MANAGE"]}),
                json!({"financeRole": "FINANCE_ANALYST",
                       "tasks": ["ADMIN", "DEVELOPER", "EMPLOYEE", "FINANCE_VIEW", "MANAGE"]}),
            ],
            "{shown:?}"
        ),
    }
    // Either way Alex now reads the invoices.
    let read = app
        .admin(r#"{ business(id: "200001") { invoices(startDate: "2024-01-01", endDate: "2024-01-31") { nodes { id } } } }"#)
        .await;
    assert_eq!(
        read["data"]["business"]["invoices"]["nodes"],
        json!([{"id": "910001"}]),
        "{read}"
    );
}

async fn bad_grant_arguments_are_refused_before_any_graph_call(api: PeopleApi) {
    let app = spawn_in(api).await;
    for (business, user, argument) in [
        ("not-a-business", person_id(api, "100001"), "businessId"),
        ("200001", "alex", "userId"),
        ("200001", "", "userId"),
    ] {
        let answer = app
            .refused_before_upstream(
                "demo-admin",
                r#"mutation($b: ID!, $u: ID!) {
                    grantFinancePermission(businessId: $b, userId: $u, role: FINANCE_EDITOR)
                }"#,
                json!({"b": business, "u": user}),
            )
            .await;
        refused_argument(&answer, argument, "");
    }
}

in_both_dialects!(
    an_admin_reads_invoices_only_with_a_finance_role,
    a_granted_finance_role_replaces_the_last_and_shows_where_the_dialect_can_say,
    bad_grant_arguments_are_refused_before_any_graph_call,
);

/// The POST requests the sandbox's journal holds.
async fn posts(app: &TestApp) -> usize {
    app.upstream_journal()
        .await
        .iter()
        .filter(|entry| entry["method"] == "POST")
        .count()
}

#[tokio::test]
async fn todays_api_takes_a_finance_role_only_for_a_business_user_of_the_business() {
    let app = spawn_in(PeopleApi::Current).await;
    for (user, says) in [
        // A user id (what the seed dialect takes): not a business user.
        ("100001", "is not a business user this token can see"),
        // The system user: not a business user either.
        ("100003", "is not a business user this token can see"),
        // Nothing at all.
        ("999999999", "is not a business user this token can see"),
        // Kinger Labs' admin: a business user, of another business.
        ("710006", "is a business user of business 200002"),
    ] {
        let answer = grant(&app, "demo-admin", user, "FINANCE_EDITOR").await;
        refused_argument(&answer, "userId", "");
        let message = first_error_message(&answer);
        assert!(
            message.starts_with(&format!("userId: {user} {says}"))
                && message.contains("`user.id`")
                && message.contains("system user"),
            "{message}"
        );
    }
    // Nothing was written.
    assert_eq!(posts(&app).await, 0);
}

#[tokio::test]
async fn sums_match_to_the_cent() {
    let app = spawn_app().await;
    let answer = app
        .graphql(
            Some(FINANCE),
            r#"{ business(id: "200001") {
                invoices(startDate: "2024-01-01", endDate: "2024-12-31", first: 100) { nodes {
                    id currency
                    billedAmount { currency net { amount currency offset } tax { amount } total { amount } }
                    campaigns { campaignId billedAmount { net { amount } tax { amount } total { amount } } }
                } }
            } }"#,
            json!({}),
        )
        .await;
    let invoices = answer["data"]["business"]["invoices"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"));
    assert_eq!(invoices.len(), 17);
    let mut sum = Decimal::ZERO;
    for invoice in invoices {
        let billed = &invoice["billedAmount"];
        assert_eq!(invoice["currency"], "USD");
        assert_eq!(billed["net"]["currency"], "USD");
        assert_eq!(billed["net"]["offset"], 100);
        let (net, tax, total) = (
            decimal(&billed["net"]["amount"]),
            decimal(&billed["tax"]["amount"]),
            decimal(&billed["total"]["amount"]),
        );
        // Every amount is written with its cents.
        for amount in [net, tax, total] {
            assert_eq!(amount.scale(), 2, "{invoice}");
        }
        assert_eq!(net + tax, total, "{invoice}");
        let campaigns = invoice["campaigns"].as_array().unwrap();
        assert!(!campaigns.is_empty(), "{invoice}");
        let (mut c_net, mut c_tax, mut c_total) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
        for campaign in campaigns {
            let billed = &campaign["billedAmount"];
            let (n, t, s) = (
                decimal(&billed["net"]["amount"]),
                decimal(&billed["tax"]["amount"]),
                decimal(&billed["total"]["amount"]),
            );
            assert_eq!(n + t, s, "{campaign}");
            c_net += n;
            c_tax += t;
            c_total += s;
        }
        assert_eq!((c_net, c_tax, c_total), (net, tax, total), "{invoice}");
        sum += total;
    }

    // The same sum over Graph's own decimal strings, read from the sandbox directly.
    let graph: Value = app
        .http
        .get(format!(
            "{}/v25.0/200001/business_invoices",
            app.sandbox.url()
        ))
        .bearer_auth(FINANCE)
        .query(&[
            ("start_date", "2024-01-01"),
            ("end_date", "2025-01-01"),
            ("limit", "100"),
            ("fields", "billed_amount_details"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rows = graph["data"]
        .as_array()
        .unwrap_or_else(|| panic!("{graph}"));
    assert_eq!(rows.len(), 17);
    let graph_sum: Decimal = rows
        .iter()
        .map(|row| decimal(&row["billed_amount_details"]["total_amount"]))
        .sum();
    assert_eq!(sum, graph_sum);
    assert_eq!(sum.scale(), 2);
}

#[tokio::test]
async fn invoices_with_campaigns_are_one_upstream_request_with_edge_modifiers() {
    let app = spawn_app().await;
    let before = app.upstream_requests().await;
    let answer = app
        .graphql(
            Some(FINANCE),
            r#"{ business(id: "200001") {
                name
                invoices(startDate: "2024-02-01", endDate: "2024-02-29", first: 10) { nodes {
                    id invoiceId billingPeriod invoiceType invoiceDate dueDate paymentStatus
                    billedAmount { total { amount currency } }
                    campaigns { campaignId campaignName tags impressions clicks conversions
                                billedAmount { total { amount } } }
                } }
            } }"#,
            json!({}),
        )
        .await;
    assert_eq!(app.upstream_requests().await - before, 1, "{answer}");
    let journal = app.upstream_journal().await;
    let last = journal.last().unwrap();
    assert_eq!(last["path"], "/v25.0/", "{last}");
    assert!(
        last["query"].as_str().unwrap().starts_with("ids=200001&"),
        "{last}"
    );
    assert_eq!(
        fields_of(last),
        "id,name,business_invoices.start_date(2024-02-01).end_date(2024-03-01).limit(10)\
         {id,invoice_id,billing_period,invoice_type,invoice_date,due_date,payment_status,\
         billed_amount_details{currency,net_amount,tax_amount,total_amount},\
         campaigns{campaign_id,campaign_name,tags,impressions,clicks,conversions,\
         billed_amount_details{currency,net_amount,tax_amount,total_amount}}}"
    );

    let nodes = answer["data"]["business"]["invoices"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"));
    assert_eq!(nodes.len(), 2, "{answer}");
    let threshold = &nodes[0];
    assert_eq!(threshold["id"], "910002");
    assert_eq!(threshold["invoiceId"], "1120240202");
    assert_eq!(threshold["billingPeriod"], "2024-02-01");
    assert_eq!(threshold["invoiceType"], "THRESHOLD");
    assert_eq!(threshold["invoiceDate"], "2024-02-29");
    assert_eq!(threshold["dueDate"], "2024-03-30");
    assert_eq!(threshold["paymentStatus"], "PAID");
    let monthly = &nodes[1];
    assert_eq!(monthly["id"], "910003");
    assert_eq!(monthly["invoiceType"], "MONTHLY");
    assert_eq!(monthly["invoiceDate"], "2024-03-01");
    let campaigns = monthly["campaigns"].as_array().unwrap();
    assert!((2..=4).contains(&campaigns.len()), "{monthly}");
    for campaign in campaigns {
        let id = campaign["campaignId"].as_str().unwrap();
        assert!(id.starts_with("2385100000000000"), "{campaign}");
        assert!(campaign["campaignName"].is_string(), "{campaign}");
        assert!(campaign["tags"].is_array(), "{campaign}");
        assert!(campaign["impressions"].is_i64(), "{campaign}");
    }
}

#[tokio::test]
async fn bad_ranges_are_refused_before_upstream() {
    let app = spawn_app().await;
    let query = r#"query($s: Date!, $e: Date!) { business(id: "200001") {
        invoices(startDate: $s, endDate: $e) { nodes { id } }
    } }"#;
    let refused = |s: &'static str, e: &'static str| {
        let app = &app;
        async move {
            app.refused_before_upstream(FINANCE, query, json!({"s": s, "e": e}))
                .await
        }
    };

    let backwards = refused("2024-03-01", "2024-02-29").await;
    assert_eq!(
        backwards,
        json!({
            "data": {"business": null},
            "errors": [{
                "message": "endDate: 2024-02-29 is before startDate 2024-03-01",
                "locations": [{"line": 1, "column": 31}],
                "path": ["business"],
                "extensions": {"code": "INVALID_ARGUMENT", "argument": "endDate"}
            }],
            "extensions": {"cost": {"cacheHits": 0, "graphCalls": 0}}
        })
    );

    // 2024 is 366 days: allowed (see the paging test); one more day is not.
    let too_long = refused("2024-01-01", "2025-01-01").await;
    assert_eq!(
        first_error_code(&too_long),
        Some("INVALID_ARGUMENT"),
        "{too_long}"
    );
    assert_eq!(
        first_error_message(&too_long),
        "endDate: the range 2024-01-01 to 2025-01-01 is 367 days; ask for at most 366 days at a time"
    );

    // A variable of a custom scalar is parsed when its field runs; the gateway checks the
    // dates while planning the business's read, so the error names the argument and Graph is
    // not called.
    for (s, e, argument, bad) in [
        ("2024-1-5", "2024-02-01", "startDate", "2024-1-5"),
        ("2024-01-05", "2024/01/31", "endDate", "2024/01/31"),
        ("2024-02-30", "2024-03-01", "startDate", "2024-02-30"),
        ("05-01-2024", "2024-03-01", "startDate", "05-01-2024"),
    ] {
        let answer = refused(s, e).await;
        assert_eq!(
            answer["errors"],
            json!([{
                "message": format!("{argument}: {bad:?} is not a date: write YYYY-MM-DD, e.g. 2026-11-01"),
                "locations": [{"line": 1, "column": 31}],
                "path": ["business"],
                "extensions": {"code": "INVALID_ARGUMENT", "argument": argument}
            }]),
            "{answer}"
        );
        assert_eq!(answer["data"], json!({"business": null}), "{answer}");
    }

    // Written in the query itself rather than as a variable: the same check, the same error.
    let literal = app
        .refused_before_upstream(
            FINANCE,
            r#"{ business(id: "200001") {
                invoices(startDate: "2024/01/05", endDate: "2024-02-01") { nodes { id } }
            } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        literal["errors"],
        json!([{
            "message": "startDate: \"2024/01/05\" is not a date: write YYYY-MM-DD, e.g. 2026-11-01",
            "locations": [{"line": 1, "column": 3}],
            "path": ["business"],
            "extensions": {"code": "INVALID_ARGUMENT", "argument": "startDate"}
        }]),
        "{literal}"
    );
}

#[tokio::test]
async fn a_finance_role_granted_in_one_dialect_is_the_one_the_other_sees() {
    let today = spawn_in(PeopleApi::Current).await;
    // A second gateway on the same sandbox, speaking the seed's dialect.
    let mut settings = bizgraph::Settings::for_upstream(today.sandbox.url());
    settings.upstream.people_api = PeopleApi::Seed;
    let seed = bizgraph::Application::build(settings).await.unwrap();
    let seed_url = format!("http://{}/graphql", seed.addr());
    seed.spawn();
    crate::helpers::wait_until_healthy(&today.http, &seed_url.replace("/graphql", "")).await;
    let through_seed = |token: &'static str, query: String| {
        let http = today.http.clone();
        let url = seed_url.clone();
        async move {
            crate::helpers::post_graphql(&http, &url, Some(token), &json!({"query": query})).await
        }
    };
    let sams_finance = || async {
        let answer = today
            .admin(r#"{ business(id: "200001") { people(first: 50) { nodes { user { id } financeRole tasks } } } }"#)
            .await;
        answer["data"]["business"]["people"]["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{answer}"))
            .iter()
            .find(|p| p["user"]["id"] == "710002")
            .map(|p| json!({"financeRole": p["financeRole"], "tasks": p["tasks"]}))
            .unwrap_or_else(|| panic!("no Sam in {answer}"))
    };

    // Granted through the seed's `finance_permissions`, with Sam's user id...
    let granted = through_seed(
        "demo-admin",
        r#"mutation { grantFinancePermission(businessId: "200001", userId: "100002", role: FINANCE_EDITOR) }"#.to_owned(),
    )
    .await;
    assert_eq!(
        granted["data"],
        json!({"grantFinancePermission": true}),
        "{granted}"
    );
    // ...it is Sam's business user's finance role and tasks today.
    assert_eq!(
        sams_finance().await,
        json!({"financeRole": "FINANCE_EDITOR", "tasks": ["EMPLOYEE", "FINANCE_EDIT", "FINANCE_VIEW"]})
    );

    // Lowered today, through Sam's business user's tasks, with the id `people` shows...
    let lowered = grant(&today, "demo-admin", "710002", "FINANCE_ANALYST").await;
    assert_eq!(
        lowered["data"],
        json!({"grantFinancePermission": true}),
        "{lowered}"
    );
    assert_eq!(
        sams_finance().await,
        json!({"financeRole": "FINANCE_ANALYST", "tasks": ["EMPLOYEE", "FINANCE_VIEW"]})
    );
    // ...Sam still reads the invoices through either gateway.
    let query = r#"{ business(id: "200001") { invoices(startDate: "2024-01-01", endDate: "2024-01-31") { nodes { id } } } }"#;
    for answer in [
        through_seed("demo-employee", query.to_owned()).await,
        today.graphql(Some("demo-employee"), query, json!({})).await,
    ] {
        assert_eq!(
            answer["data"]["business"]["invoices"]["nodes"],
            json!([{"id": "910001"}]),
            "{answer}"
        );
    }
}
