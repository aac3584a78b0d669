//! The migration story through the gateway: Alex's Facebook account moves to a managed Meta
//! account; the webhook arrives; `migrationStatus` and `migrationReadiness` show EXPIRING with
//! the window's end; once the sandbox clock passes it they show LOST without failing; the
//! managed account's own token sees everything again; a system user's view never changes.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::webhooks::{spawn_app_with_webhooks, subscribe_sandbox};

const STATUS: &str = "{ migrationStatus { user { id name } isWorkAccount migrationExpireTime
    assets { assetId assetType businessId state userAccessExpireTime } } }";

const READINESS: &str = r#"{ business(id: "200001") { migrationReadiness {
    people { user { id } displayName facebookUserId managedAccountId migrationExpireTime state }
    assets { assetId assetType state userAccessExpireTime }
    expiringCount lostCount earliestExpiry viewerIsSystemUser
} } }"#;

async fn query(app: &TestApp, token: &str, query: &str) -> Value {
    let answer = app.graphql(Some(token), query, json!({})).await;
    assert!(answer.get("errors").is_none(), "{answer}");
    answer["data"].clone()
}

/// `assetId -> state` of a list of asset accesses.
fn states(assets: &Value) -> Vec<(String, String)> {
    let mut states: Vec<(String, String)> = assets
        .as_array()
        .unwrap_or_else(|| panic!("{assets}"))
        .iter()
        .map(|a| {
            (
                a["assetId"].as_str().unwrap().to_owned(),
                a["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    states.sort();
    states
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = list
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    pairs.sort();
    pairs
}

fn same_instant(a: &Value, b: &str) -> bool {
    let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok();
    a.as_str().and_then(parse).is_some() && a.as_str().and_then(parse) == parse(b)
}

#[tokio::test]
async fn the_whole_migration_story() {
    // Migration happens behind the gateway's back (Meta's side); without a cache each read
    // sees it at once.
    let app = spawn_app_with_webhooks(|settings| settings.cache.ttl = Duration::ZERO).await;
    subscribe_sandbox(&app).await;

    // Before: nothing is affected.
    let before = query(&app, "demo-admin", STATUS).await;
    let status = &before["migrationStatus"];
    assert_eq!(
        status["user"],
        json!({"id": "100001", "name": "Alex Rivera"})
    );
    assert_eq!(status["isWorkAccount"], false);
    assert_eq!(status["migrationExpireTime"], Value::Null);
    assert!(
        states(&status["assets"])
            .iter()
            .all(|(_, s)| s == "UNAFFECTED"),
        "{before}"
    );
    let system_before = query(&app, "demo-system", READINESS).await;

    // Alex migrates in Pomni Media.
    let managed = app
        .control("managed_accounts", json!({"user_id": "100001"}))
        .await;
    let managed_id = managed["user_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{managed}"))
        .to_owned();
    let migration = app
        .control(
            "migrations",
            json!({"user_id": "100001", "business_id": "200001"}),
        )
        .await;
    let expiry = migration["migration_expire_time"]
        .as_str()
        .unwrap_or_else(|| panic!("{migration}"))
        .to_owned();

    // The webhook arrives (the sandbox sends it right after the start).
    let mut during = Value::Null;
    for _ in 0..200 {
        during = query(&app, "demo-admin", STATUS).await;
        if !during["migrationStatus"]["migrationExpireTime"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let status = &during["migrationStatus"];
    assert!(
        same_instant(&status["migrationExpireTime"], &expiry),
        "{during}"
    );
    // What Alex holds through Pomni Media expires; Pomni's other ad account and Kinger Labs
    // (where he is not migrating) do not.
    let alex_states = states(&status["assets"]);
    for (asset, state) in pairs(&[
        ("200001", "EXPIRING"),
        ("300001", "EXPIRING"),
        ("300002", "EXPIRING"),
        ("act_400001", "EXPIRING"),
        ("act_400002", "UNAFFECTED"),
        ("200002", "UNAFFECTED"),
    ]) {
        assert!(
            alex_states.contains(&(asset.clone(), state.clone())),
            "{asset} {state}: {during}"
        );
    }
    let expiring = status["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["assetId"] == "300001")
        .unwrap();
    assert!(
        same_instant(&expiring["userAccessExpireTime"], &expiry),
        "{expiring}"
    );

    let readiness = query(&app, "demo-admin", READINESS).await;
    let ready = &readiness["business"]["migrationReadiness"];
    assert_eq!(ready["expiringCount"], 4, "{readiness}");
    assert_eq!(ready["lostCount"], 0);
    assert!(
        same_instant(&ready["earliestExpiry"], &expiry),
        "{readiness}"
    );
    assert_eq!(ready["viewerIsSystemUser"], false);
    let people = ready["people"].as_array().unwrap();
    assert_eq!(people.len(), 1, "{readiness}");
    assert_eq!(people[0]["facebookUserId"], "100001");
    assert_eq!(people[0]["user"]["id"], "100001");
    assert_eq!(people[0]["displayName"], "Alex Rivera (Pomni)");
    assert_eq!(people[0]["managedAccountId"], managed_id.as_str());
    assert_eq!(people[0]["state"], "EXPIRING");

    // The system user sees the same person migrating, and its own access unaffected.
    let system = query(&app, "demo-system", READINESS).await;
    let system_ready = &system["business"]["migrationReadiness"];
    assert_eq!(system_ready["viewerIsSystemUser"], true);
    assert_eq!(system_ready["expiringCount"], 0);
    assert_eq!(
        system_ready["assets"],
        system_before["business"]["migrationReadiness"]["assets"]
    );
    assert_eq!(system_ready["people"].as_array().map(Vec::len), Some(1));

    // The window closes: Alex's own token loses those assets; the answers say LOST, no error.
    let advanced = app
        .control("clock", json!({"advance_seconds": 30 * 86_400 + 1}))
        .await;
    assert!(advanced["now"].is_string(), "{advanced}");
    let after = query(&app, "demo-admin", STATUS).await;
    let after_states = states(&after["migrationStatus"]["assets"]);
    for (asset, state) in pairs(&[
        ("200001", "LOST"),
        ("300001", "LOST"),
        ("300002", "LOST"),
        ("act_400001", "LOST"),
        ("200002", "UNAFFECTED"),
    ]) {
        assert!(
            after_states.contains(&(asset.clone(), state.clone())),
            "{asset} {state}: {after}"
        );
    }
    // The business itself is gone for Alex's token: `business(id:)` is null with its error...
    let gone = app.admin(READINESS).await;
    assert_eq!(gone["data"]["business"], Value::Null, "{gone}");
    assert_eq!(
        gone["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{gone}"
    );
    // ...and readiness by the business's id still answers, everything Alex was losing LOST.
    let lost = query(
        &app,
        "demo-admin",
        r#"{ migrationReadiness(businessId: "200001") {
            assets { assetId state } expiringCount lostCount earliestExpiry people { facebookUserId }
        } }"#,
    )
    .await;
    let ready = &lost["migrationReadiness"];
    assert_eq!(ready["lostCount"], 4, "{lost}");
    assert_eq!(ready["expiringCount"], 0, "{lost}");
    assert_eq!(
        states(&ready["assets"]),
        pairs(&[
            ("200001", "LOST"),
            ("300001", "LOST"),
            ("300002", "LOST"),
            ("act_400001", "LOST")
        ]),
        "{lost}"
    );
    // ...while the system user's view has not changed at all.
    let system_after = query(&app, "demo-system", READINESS).await;
    assert_eq!(
        system_after["business"]["migrationReadiness"]["assets"],
        system_before["business"]["migrationReadiness"]["assets"]
    );
    assert_eq!(
        system_after["business"]["migrationReadiness"]["viewerIsSystemUser"],
        true
    );

    // Alex grants the app again with the managed account: that token reads it all, unaffected.
    let granted = app
        .control("migrations/grant", json!({"user_id": managed_id}))
        .await;
    let token = granted["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{granted}"));
    let recovered = query(&app, token, STATUS).await;
    let status = &recovered["migrationStatus"];
    assert_eq!(status["user"]["id"], managed_id.as_str());
    assert_eq!(status["isWorkAccount"], true);
    let recovered_states = states(&status["assets"]);
    for asset in ["200001", "300001", "300002", "act_400001"] {
        assert!(
            recovered_states.contains(&(asset.to_owned(), "UNAFFECTED".to_owned())),
            "{asset}: {recovered}"
        );
    }
}

#[tokio::test]
async fn a_user_asked_about_by_id_and_bad_ids_refused() {
    let app = spawn_app_with_webhooks(|_| {}).await;
    let answer = app
        .admin(r#"{ migrationStatus(userId: "100002") { user { id name } isWorkAccount migrationExpireTime } }"#)
        .await;
    assert_eq!(
        answer["data"]["migrationStatus"],
        json!({"user": {"id": "100002", "name": "Sam Chen"}, "isWorkAccount": false,
               "migrationExpireTime": null}),
        "{answer}"
    );
    let refused = app
        .refused_before_upstream(
            "demo-admin",
            r#"{ migrationStatus(userId: "me") { isWorkAccount } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "INVALID_ARGUMENT",
        "{refused}"
    );
}

#[tokio::test]
async fn a_webhook_makes_the_gateway_forget_what_it_cached_about_the_migrating_user() {
    // The default cache: Alex's view is cached before his migration starts.
    let app = spawn_app_with_webhooks(|_| {}).await;
    subscribe_sandbox(&app).await;
    let before = query(&app, "demo-admin", STATUS).await;
    assert!(
        states(&before["migrationStatus"]["assets"])
            .iter()
            .all(|(_, s)| s == "UNAFFECTED"),
        "{before}"
    );
    app.control("managed_accounts", json!({"user_id": "100001"}))
        .await;
    app.control(
        "migrations",
        json!({"user_id": "100001", "business_id": "200001"}),
    )
    .await;
    let mut during = Value::Null;
    for _ in 0..200 {
        during = query(&app, "demo-admin", STATUS).await;
        if !during["migrationStatus"]["migrationExpireTime"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Once the webhook is known, the cached `me` read (which names Alex) is gone too.
    assert!(
        states(&during["migrationStatus"]["assets"])
            .contains(&("300001".to_owned(), "EXPIRING".to_owned())),
        "{during}"
    );
}
