//! Managed Meta account migration (docs/graph-api.md §9): work accounts, the app's one test
//! managed account, the 30-day window on the assets a person holds through a business, the
//! loss of those assets once the clock passes it, extensions, and granting the app again.

use chrono::{DateTime, TimeDelta, Utc};
use graph_sandbox::demo;
use serde_json::{Value, json};

use crate::helpers::{Reply, TestSandbox, spawn_sandbox};

const ALEX: &str = demo::ADMIN_USER_ID;
const POMNI: &str = demo::POMNI_BUSINESS_ID;
const FIELD: &str = "user_access_expire_time";
const DAY: i64 = 86_400;

/// The sandbox clock now, read through a zero advance.
async fn now(sandbox: &TestSandbox) -> DateTime<Utc> {
    let reply = sandbox
        .control("/__sandbox/clock", json!({"advance_seconds": 0}))
        .await;
    let text = reply.body["now"].as_str().expect("a time");
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%z")
        .expect("Graph's time format")
        .with_timezone(&Utc)
}

async fn advance(sandbox: &TestSandbox, seconds: i64) {
    let reply = sandbox
        .control("/__sandbox/clock", json!({"advance_seconds": seconds}))
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
}

/// `user_access_expire_time` as §9 writes it.
fn expire_text(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
}

async fn expire_field(sandbox: &TestSandbox, token: &str, id: &str) -> Reply {
    sandbox
        .get_as(token, &format!("/v25.0/{id}"), &[("fields", FIELD)])
        .await
}

/// Creates the app's managed account for Alex; answers (its id, its token).
async fn managed_account_for_alex(sandbox: &TestSandbox) -> (String, String) {
    let reply = sandbox
        .control("/__sandbox/managed_accounts", json!({"user_id": ALEX}))
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    (
        reply.body["user_id"].as_str().expect("an id").to_owned(),
        reply.body["access_token"]
            .as_str()
            .expect("a token")
            .to_owned(),
    )
}

async fn start(sandbox: &TestSandbox, user: &str, business: &str) -> Reply {
    sandbox
        .control(
            "/__sandbox/migrations",
            json!({"user_id": user, "business_id": business}),
        )
        .await
}

/// Lost access: the sandbox's code 100 wording, with §9's type.
fn lost(id: &str) -> Value {
    json!({"error": {
        "message": format!(
            "Unsupported get request. Object with ID '{id}' does not exist, cannot be loaded \
             due to missing permissions, or does not support this operation. Please read the \
             Graph API documentation at https://developers.facebook.com/docs/graph-api"
        ),
        "type": "OAuthException",
        "code": 100,
        "error_subcode": 33,
    }})
}

#[tokio::test]
async fn seed_users_are_not_work_accounts_and_a_managed_account_is_one_without_user_permissions() {
    let sandbox = spawn_sandbox().await;
    for id in ["100001", "100002", "100003", "100004", "100005"] {
        let reply = sandbox
            .get_as(
                demo::EMPLOYEE_TOKEN,
                &format!("/{id}"),
                &[("fields", "is_work_account")],
            )
            .await;
        assert_eq!(reply.body, json!({"is_work_account": false}), "{id}");
    }
    let reply = sandbox
        .control(
            "/__sandbox/managed_accounts",
            json!({"user_id": ALEX, "name": "Alex at Pomni",
                   "permissions": ["business_management", "user_posts", "user_photos"]}),
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let id = reply.body["user_id"].as_str().expect("an id").to_owned();
    assert_eq!(
        reply.body,
        json!({
            "user_id": id,
            "facebook_user_id": ALEX,
            "access_token": format!("sandbox-token-{id}"),
            "permissions": ["business_management"],
        })
    );
    let token = format!("sandbox-token-{id}");
    let me = sandbox
        .get_as(
            &token,
            "/v25.0/me",
            &[("fields", "id,name,is_work_account")],
        )
        .await;
    assert_eq!(
        me.body,
        json!({"id": id, "name": "Alex at Pomni", "is_work_account": true})
    );
    let by_id = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            &format!("/{id}"),
            &[("fields", "is_work_account")],
        )
        .await;
    assert_eq!(by_id.body, json!({"is_work_account": true}));
}

#[tokio::test]
async fn an_app_has_at_most_one_test_managed_account() {
    let sandbox = spawn_sandbox().await;
    let (first, _) = managed_account_for_alex(&sandbox).await;
    let second = sandbox
        .control(
            "/__sandbox/managed_accounts",
            json!({"user_id": demo::EMPLOYEE_USER_ID}),
        )
        .await;
    assert_eq!(second.status, 409);
    assert_eq!(
        second.body,
        json!({"error": format!(
            "an app may have at most 1 test managed account; the app already has {first} \
             (for user {ALEX})"
        )})
    );
    let cases = [
        (json!({"user_id": "42"}), "unknown user 42"),
        (
            json!({"user_id": demo::SYSTEM_USER_ID}),
            "user 100003 is a system user; system users are not migrated",
        ),
        (
            json!({"user_id": first}),
            &*format!(
                "user {first} is a work account; a managed account is made for a Facebook user"
            ),
        ),
    ];
    for (body, message) in cases {
        let reply = sandbox.control("/__sandbox/managed_accounts", body).await;
        assert_eq!(reply.status, 400);
        assert_eq!(reply.body, json!({"error": message}));
    }
    let listed = sandbox.get("/__sandbox/migrations", &[]).await;
    assert_eq!(
        listed.body["managed_accounts"].as_array().map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn before_a_migration_the_expire_time_is_absent() {
    let sandbox = spawn_sandbox().await;
    for id in [POMNI, "300001", "act_400001"] {
        let reply = expire_field(&sandbox, demo::ADMIN_TOKEN, id).await;
        assert_eq!((reply.status, reply.body), (200, json!({})), "{id}");
    }
    // On a business the field needs business_management.
    let (user, token) = sandbox
        .new_user("No BM", json!({"permissions": ["public_profile"]}))
        .await;
    let business = sandbox
        .control(
            "/__sandbox/businesses",
            json!({"name": "Tiny", "admins": [user]}),
        )
        .await;
    let id = business.body["id"].as_str().expect("an id");
    let reply = expire_field(&sandbox, &token, id).await;
    assert_eq!(reply.status, 403);
    assert_eq!(reply.error_code(), 200);
}

#[tokio::test]
async fn a_migration_sets_the_window_only_on_what_the_person_holds_through_the_business() {
    let sandbox = spawn_sandbox().await;
    let (managed, managed_token) = managed_account_for_alex(&sandbox).await;
    let started = now(&sandbox).await;
    let reply = start(&sandbox, ALEX, POMNI).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let expiry = started + TimeDelta::days(30);
    assert_eq!(
        reply.body,
        json!({
            "user_id": ALEX,
            "business_id": POMNI,
            "managed_account_id": managed,
            "started_time": started.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "migration_expire_time": expiry.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "assets": [POMNI, "300001", "300002", "act_400001"],
            "webhook_delivery_id": null,
        })
    );
    for id in [POMNI, "300001", "300002", "act_400001"] {
        let reply = expire_field(&sandbox, demo::ADMIN_TOKEN, id).await;
        assert_eq!(reply.body, json!({FIELD: expire_text(expiry)}), "{id}");
    }
    // Assets of the business not assigned to Alex, assets of another business, and other
    // tokens (Sam's, the system user's, the managed account's): no timestamp.
    let unaffected = [
        (demo::ADMIN_TOKEN, "act_400002"),
        (demo::ADMIN_TOKEN, demo::KINGER_BUSINESS_ID),
        (demo::ADMIN_TOKEN, "300003"),
        (demo::EMPLOYEE_TOKEN, POMNI),
        (demo::EMPLOYEE_TOKEN, "300002"),
        (demo::SYSTEM_TOKEN, POMNI),
        (demo::SYSTEM_TOKEN, "act_400001"),
        (managed_token.as_str(), POMNI),
        (managed_token.as_str(), "300001"),
        (managed_token.as_str(), "act_400001"),
    ];
    for (token, id) in unaffected {
        let reply = expire_field(&sandbox, token, id).await;
        assert_eq!((reply.status, reply.body), (200, json!({})), "{token} {id}");
    }
    // The field sits beside the others, in ?ids= reads too.
    let ids = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            "/v25.0/",
            &[
                ("ids", "300001,act_400002"),
                ("fields", "name,user_access_expire_time"),
            ],
        )
        .await;
    assert_eq!(
        ids.body,
        json!({
            "300001": {"name": "Pomni Media", FIELD: expire_text(expiry)},
            "act_400002": {"name": "Pomni Media - Brand"},
        })
    );
    // And inside expansions.
    let nested = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            "/v25.0/me",
            &[("fields", "businesses{id,user_access_expire_time,owned_ad_accounts{id,user_access_expire_time}}")],
        )
        .await;
    assert_eq!(
        nested.body["businesses"]["data"],
        json!([
            {"id": POMNI, FIELD: expire_text(expiry), "owned_ad_accounts": {
                "data": [{"id": "act_400001", FIELD: expire_text(expiry)}, {"id": "act_400002"}],
                "paging": nested.body["businesses"]["data"][0]["owned_ad_accounts"]["paging"],
            }},
            {"id": "200002", "owned_ad_accounts": {
                "data": [{"id": "act_400003"}],
                "paging": nested.body["businesses"]["data"][1]["owned_ad_accounts"]["paging"],
            }},
        ])
    );
    // The managed account took over Alex's role.
    let role = sandbox
        .get_as(
            &managed_token,
            &format!("/v25.0/{POMNI}/userpermissions"),
            &[("fields", "user,role")],
        )
        .await;
    let row = role.body["data"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["user"]["id"] == json!(managed)))
        .cloned();
    assert_eq!(row.map(|r| r["role"].clone()), Some(json!("ADMIN")));
}

#[tokio::test]
async fn after_the_window_the_old_token_loses_those_assets_everywhere() {
    let sandbox = spawn_sandbox().await;
    let (_, managed_token) = managed_account_for_alex(&sandbox).await;
    assert_eq!(start(&sandbox, ALEX, POMNI).await.status, 200);
    advance(&sandbox, 30 * DAY - 1).await;
    let last_second = expire_field(&sandbox, demo::ADMIN_TOKEN, "300001").await;
    assert_eq!(last_second.status, 200);
    advance(&sandbox, 1).await;

    for id in [POMNI, "300001", "300002", "act_400001"] {
        let reply = expire_field(&sandbox, demo::ADMIN_TOKEN, id).await;
        assert_eq!(reply.status, 400, "{id}");
        assert_eq!(reply.body_without_trace(), lost(id), "{id}");
    }
    let ids = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            "/v25.0/",
            &[("ids", "act_400002,300002"), ("fields", "id")],
        )
        .await;
    assert_eq!(ids.body_without_trace(), lost("300002"));
    // Unassigned assets and other businesses stay as they were.
    let ids = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            "/v25.0/",
            &[("ids", "act_400002,300003,200002"), ("fields", "id")],
        )
        .await;
    assert_eq!(ids.status, 200, "{:?}", ids.body);
    // Lists and expansions leave the lost business out.
    let businesses = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            "/v25.0/me/businesses",
            &[("fields", "id")],
        )
        .await;
    assert_eq!(businesses.body["data"], json!([{"id": "200002"}]));
    let expanded = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            "/v25.0/me",
            &[("fields", "accounts{id}")],
        )
        .await;
    let pages: Vec<Value> = expanded.body["accounts"]["data"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    // Alex's own pages stay: 300004, 300006 and the free demo pages 300007 to 300016.
    let mut expected = vec![
        json!({"id": "300003"}),
        json!({"id": "300004"}),
        json!({"id": "300006"}),
    ];
    expected.extend((300_007..=300_016).map(|id| json!({"id": id.to_string()})));
    assert_eq!(pages, expected);
    let edge = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            &format!("/v25.0/{POMNI}/owned_pages"),
            &[],
        )
        .await;
    assert_eq!(edge.error_code(), 100);
    // A batch operation sees the same.
    let batch = sandbox
        .post_as(
            demo::ADMIN_TOKEN,
            "/v25.0/",
            &[(
                "batch",
                r#"[{"method":"GET","relative_url":"300001?fields=id"},{"method":"GET","relative_url":"300004?fields=id"}]"#,
            )],
        )
        .await;
    let codes: Vec<Value> = batch
        .body
        .as_array()
        .expect("a batch answer")
        .iter()
        .map(|op| op["code"].clone())
        .collect();
    assert_eq!(codes, vec![json!(400), json!(200)]);
    // System users and the managed account keep their access.
    for token in [demo::SYSTEM_TOKEN, managed_token.as_str()] {
        for id in [POMNI, "300001", "act_400001"] {
            let reply = expire_field(&sandbox, token, id).await;
            assert_eq!((reply.status, reply.body), (200, json!({})), "{token} {id}");
        }
    }
}

#[tokio::test]
async fn granting_the_app_again_with_the_managed_account_restores_access() {
    let sandbox = spawn_sandbox().await;
    let (managed, _) = managed_account_for_alex(&sandbox).await;
    let early = sandbox
        .control("/__sandbox/migrations/grant", json!({"user_id": managed}))
        .await;
    assert_eq!(early.status, 400);
    assert_eq!(
        early.body,
        json!({"error": format!(
            "managed account {managed} holds no business permissions yet: start a migration \
             of user {ALEX} first"
        )})
    );
    assert_eq!(start(&sandbox, ALEX, POMNI).await.status, 200);
    advance(&sandbox, 31 * DAY).await;
    let lost = expire_field(&sandbox, demo::ADMIN_TOKEN, POMNI).await;
    assert_eq!(lost.error_code(), 100);

    let grant = sandbox
        .control(
            "/__sandbox/migrations/grant",
            json!({"user_id": managed, "permissions": ["business_management", "user_link"]}),
        )
        .await;
    assert_eq!(grant.status, 200, "{:?}", grant.body);
    assert_eq!(
        grant.body,
        json!({
            "user_id": managed,
            "access_token": format!("sandbox-token-{managed}-grant-1"),
            "permissions": ["business_management"],
        })
    );
    let token = format!("sandbox-token-{managed}-grant-1");
    let read = sandbox
        .get_as(
            &token,
            "/v25.0/",
            &[
                ("ids", "200001,300001,300002,act_400001"),
                ("fields", "id,user_access_expire_time"),
            ],
        )
        .await;
    assert_eq!(
        read.body,
        json!({
            "200001": {"id": "200001"},
            "300001": {"id": "300001"},
            "300002": {"id": "300002"},
            "act_400001": {"id": "act_400001"},
        })
    );
    let not_managed = sandbox
        .control("/__sandbox/migrations/grant", json!({"user_id": ALEX}))
        .await;
    assert_eq!(
        not_managed.body,
        json!({"error": "user 100001 is not the app's test managed account"})
    );
}

#[tokio::test]
async fn an_extension_moves_the_expiry_later() {
    let sandbox = spawn_sandbox().await;
    managed_account_for_alex(&sandbox).await;
    let started = now(&sandbox).await;
    assert_eq!(start(&sandbox, ALEX, POMNI).await.status, 200);
    let extended = sandbox
        .control(
            "/__sandbox/migrations/extend",
            json!({"user_id": ALEX, "business_id": POMNI, "days": 10}),
        )
        .await;
    assert_eq!(extended.status, 200, "{:?}", extended.body);
    let expiry = started + TimeDelta::days(40);
    assert_eq!(
        extended.body["migration_expire_time"],
        json!(expiry.format("%Y-%m-%dT%H:%M:%SZ").to_string())
    );
    let read = expire_field(&sandbox, demo::ADMIN_TOKEN, "act_400001").await;
    assert_eq!(read.body, json!({FIELD: expire_text(expiry)}));

    let later = started + TimeDelta::days(45);
    let until = sandbox
        .control(
            "/__sandbox/migrations/extend",
            json!({"user_id": ALEX, "business_id": POMNI,
                   "expire_time": later.format("%Y-%m-%dT%H:%M:%SZ").to_string()}),
        )
        .await;
    assert_eq!(until.status, 200, "{:?}", until.body);
    advance(&sandbox, 44 * DAY).await;
    let still = expire_field(&sandbox, demo::ADMIN_TOKEN, POMNI).await;
    assert_eq!(still.body, json!({FIELD: expire_text(later)}));

    let refusals = [
        (
            json!({"user_id": ALEX, "business_id": POMNI,
                   "expire_time": started.format("%Y-%m-%dT%H:%M:%SZ").to_string()}),
            format!(
                "an extension must move the expiry later than {}",
                later.format("%Y-%m-%dT%H:%M:%SZ")
            ),
        ),
        (
            json!({"user_id": ALEX, "business_id": POMNI, "days": 1, "expire_time": "x"}),
            "give exactly one of days and expire_time".to_owned(),
        ),
        (
            json!({"user_id": ALEX, "business_id": POMNI, "expire_time": "tomorrow"}),
            "expire_time is not an RFC 3339 time: premature end of input".to_owned(),
        ),
        (
            json!({"user_id": ALEX, "business_id": "200002", "days": 1}),
            "user 100001 is not migrating in business 200002".to_owned(),
        ),
    ];
    for (body, message) in refusals {
        let reply = sandbox.control("/__sandbox/migrations/extend", body).await;
        assert_eq!(reply.status, 400);
        assert_eq!(reply.body, json!({"error": message}));
    }
    advance(&sandbox, DAY).await;
    let closed = sandbox
        .control(
            "/__sandbox/migrations/extend",
            json!({"user_id": ALEX, "business_id": POMNI, "days": 5}),
        )
        .await;
    assert_eq!(closed.status, 400);
    assert_eq!(
        closed.body,
        json!({"error": format!(
            "the window of user {ALEX} in business {POMNI} closed at {}; access is lost and \
             cannot be extended",
            later.format("%Y-%m-%dT%H:%M:%SZ")
        )})
    );
}

#[tokio::test]
async fn a_migration_is_refused_when_it_cannot_start() {
    let sandbox = spawn_sandbox().await;
    let no_account = start(&sandbox, ALEX, POMNI).await;
    assert_eq!(no_account.status, 400);
    assert_eq!(
        no_account.body,
        json!({"error": "user 100001 has no test managed account; create one with POST \
                         /__sandbox/managed_accounts first"})
    );
    managed_account_for_alex(&sandbox).await;
    let cases = [
        (
            demo::SYSTEM_USER_ID,
            POMNI,
            "user 100003 is a system user; system-user tokens are not affected by migration",
        ),
        (
            demo::EMPLOYEE_USER_ID,
            demo::KINGER_BUSINESS_ID,
            "user 100002 is not an ACTIVE person of business 200002",
        ),
        (ALEX, "300001", "unknown business 300001"),
    ];
    for (user, business, message) in cases {
        let reply = start(&sandbox, user, business).await;
        assert_eq!(reply.status, 400, "{message}");
        assert_eq!(reply.body, json!({"error": message}));
    }
    assert_eq!(start(&sandbox, ALEX, POMNI).await.status, 200);
    let again = start(&sandbox, ALEX, POMNI).await;
    assert_eq!(again.status, 409);
    let message = again.body["error"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("user 100001 is already migrating in business 200001"),
        "{message}"
    );
    // The same person may migrate in their other business.
    assert_eq!(
        start(&sandbox, ALEX, demo::KINGER_BUSINESS_ID).await.status,
        200
    );
}

#[tokio::test]
async fn a_business_lists_its_system_users() {
    let sandbox = spawn_sandbox().await;
    let reply = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            &format!("/v25.0/{POMNI}/system_users"),
            &[("fields", "id,name")],
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(
        reply.body["data"],
        json!([{"id": demo::SYSTEM_USER_ID, "name": "Pomni Sync"}])
    );
    let kinger = sandbox
        .get_as(
            demo::ADMIN_TOKEN,
            "/v25.0/200002/system_users",
            &[("fields", "id")],
        )
        .await;
    assert_eq!(kinger.body["data"], json!([]), "{:?}", kinger.body);
}
