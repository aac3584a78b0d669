//! `Subscription.migrationEvents` with real clients: WebSocket (graphql-transport-ws and the
//! legacy graphql-ws) and server-sent events, fed by the sandbox's signed webhooks.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::helpers::TestApp;
use crate::webhooks::{spawn_app_with_webhooks, subscribe_sandbox};

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const EVENTS: &str =
    "subscription { migrationEvents { userId migrationExpireTime managedAccountId } }";

/// A WebSocket to the gateway speaking `protocol`, initialised with `init` as payload.
pub async fn connect(app: &TestApp, protocol: &str, init: Value) -> Socket {
    connect_to(&app.gateway, protocol, init).await
}

/// A WebSocket to the gateway at `gateway` (its base URL) speaking `protocol`, initialised with
/// `init` as payload.
pub async fn connect_to(gateway: &str, protocol: &str, init: Value) -> Socket {
    let url = format!("{}/graphql", gateway.replacen("http://", "ws://", 1));
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_str(protocol).unwrap(),
    );
    let (mut socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        protocol,
        "the server speaks the protocol asked for"
    );
    send(
        &mut socket,
        json!({"type": "connection_init", "payload": init}),
    )
    .await;
    socket
}

pub async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .unwrap();
}

/// The next JSON message other than keep-alives, or `None` when the socket closes or
/// nothing comes within `wait`.
pub async fn next_message(socket: &mut Socket, wait: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let message = tokio::time::timeout_at(deadline, socket.next())
            .await
            .ok()??
            .ok()?;
        match message {
            Message::Text(text) => {
                let value: Value = serde_json::from_str(text.as_str()).unwrap();
                if value["type"] == "ka" || value["type"] == "ping" {
                    continue;
                }
                return Some(value);
            }
            Message::Close(frame) => {
                return Some(json!({"closed": frame.map(|f| u16::from(f.code))}));
            }
            _ => {}
        }
    }
}

const WAIT: Duration = Duration::from_secs(10);

/// Starts Sam's (100002) migration in Pomni Media through the sandbox's control plane; the
/// sandbox then sends the signed webhook. Answers the expiry it set.
async fn migrate_sam(app: &TestApp) -> String {
    let managed = app
        .control("managed_accounts", json!({"user_id": "100002"}))
        .await;
    assert!(managed["user_id"].is_string(), "{managed}");
    let migration = app
        .control(
            "migrations",
            json!({"user_id": "100002", "business_id": "200001"}),
        )
        .await;
    migration["migration_expire_time"]
        .as_str()
        .unwrap_or_else(|| panic!("{migration}"))
        .to_owned()
}

fn same_instant(a: &Value, b: &str) -> bool {
    let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok();
    a.as_str().and_then(parse).is_some() && a.as_str().and_then(parse) == parse(b)
}

#[tokio::test]
async fn a_migration_reaches_websocket_subscribers_once_and_only_those_who_may_see_it() {
    let app = spawn_app_with_webhooks(|_| {}).await;
    subscribe_sandbox(&app).await;

    let mut admin = connect(
        &app,
        "graphql-transport-ws",
        json!({"Authorization": "Bearer demo-admin"}),
    )
    .await;
    assert_eq!(
        next_message(&mut admin, WAIT).await,
        Some(json!({"type": "connection_ack"}))
    );
    send(
        &mut admin,
        json!({"id": "1", "type": "subscribe", "payload": {"query": EVENTS}}),
    )
    .await;

    // The legacy protocol, and Sam himself.
    let mut sam = connect(
        &app,
        "graphql-ws",
        json!({"authorization": "Bearer demo-employee"}),
    )
    .await;
    assert_eq!(
        next_message(&mut sam, WAIT).await,
        Some(json!({"type": "connection_ack"}))
    );
    send(
        &mut sam,
        json!({"id": "s", "type": "start", "payload": {"query": EVENTS}}),
    )
    .await;

    // A user of no business hears about no one else.
    let stranger = app
        .control("users", json!({"name": "Casey Stranger"}))
        .await;
    let stranger_token = stranger["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{stranger}"));
    let mut outsider = connect(
        &app,
        "graphql-transport-ws",
        json!({"Authorization": format!("Bearer {stranger_token}")}),
    )
    .await;
    assert_eq!(
        next_message(&mut outsider, WAIT).await,
        Some(json!({"type": "connection_ack"}))
    );
    send(
        &mut outsider,
        json!({"id": "o", "type": "subscribe", "payload": {"query": EVENTS}}),
    )
    .await;
    // Subscriptions start once the token is checked with Graph; give them that moment.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let expiry = migrate_sam(&app).await;

    let event = next_message(&mut admin, WAIT)
        .await
        .expect("an event for the admin");
    assert_eq!(event["type"], "next", "{event}");
    assert_eq!(event["id"], "1");
    let data = &event["payload"]["data"]["migrationEvents"];
    assert_eq!(data["userId"], "100002", "{event}");
    assert!(
        same_instant(&data["migrationExpireTime"], &expiry),
        "{event} vs {expiry}"
    );

    let event = next_message(&mut sam, WAIT)
        .await
        .expect("an event for Sam");
    assert_eq!(
        event["type"], "data",
        "the legacy protocol's message: {event}"
    );
    assert_eq!(
        event["payload"]["data"]["migrationEvents"]["userId"],
        "100002"
    );

    let metrics = app.page("/metrics").await;
    assert!(
        metrics.contains("bizgraph_subscriptions_active 3"),
        "{metrics}"
    );
    assert!(metrics.contains("bizgraph_websockets_open 3"), "{metrics}");

    // Once: no second event for the same change, and none for the outsider.
    assert_eq!(
        next_message(&mut admin, Duration::from_millis(500)).await,
        None
    );
    assert_eq!(
        next_message(&mut outsider, Duration::from_millis(500)).await,
        None
    );
}

#[tokio::test]
async fn server_sent_events_carry_the_same_subscription() {
    let app = spawn_app_with_webhooks(|_| {}).await;
    subscribe_sandbox(&app).await;
    let mut stream = app
        .http
        .post(format!("{}/graphql", app.gateway))
        .bearer_auth("demo-admin")
        .header("accept", "text/event-stream")
        .json(&json!({"query": "subscription { migrationEvents(userId: \"100002\") { userId migrationExpireTime } }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert!(
        stream.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream"),
        "{:?}",
        stream.headers()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let expiry = migrate_sam(&app).await;
    let mut text = String::new();
    while !text.contains("\n\n") || !text.contains("event: next") {
        let chunk = tokio::time::timeout(WAIT, stream.chunk())
            .await
            .expect("an event in time")
            .unwrap()
            .expect("the stream stays open");
        text.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    let data = text
        .lines()
        .skip_while(|line| *line != "event: next")
        .find_map(|line| line.strip_prefix("data: "))
        .unwrap_or_else(|| panic!("{text}"));
    let result: Value = serde_json::from_str(data).unwrap();
    assert_eq!(
        result["data"]["migrationEvents"]["userId"], "100002",
        "{text}"
    );
    assert!(same_instant(
        &result["data"]["migrationEvents"]["migrationExpireTime"],
        &expiry
    ));
}

#[tokio::test]
async fn a_websocket_keeps_the_http_limits_and_its_subscription_cap() {
    let app = spawn_app_with_webhooks(|settings| {
        settings.limits.max_subscriptions_per_connection = 1;
    })
    .await;
    let mut socket = connect(
        &app,
        "graphql-transport-ws",
        json!({"Authorization": "Bearer demo-admin"}),
    )
    .await;
    assert_eq!(
        next_message(&mut socket, WAIT).await,
        Some(json!({"type": "connection_ack"}))
    );
    send(
        &mut socket,
        json!({"id": "1", "type": "subscribe", "payload": {"query": EVENTS}}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    send(
        &mut socket,
        json!({"id": "2", "type": "subscribe", "payload": {"query": EVENTS}}),
    )
    .await;
    let refused = next_message(&mut socket, WAIT).await.expect("an answer");
    assert_eq!(refused["id"], "2", "{refused}");
    let errors = if refused["type"] == "error" {
        refused["payload"].clone()
    } else {
        refused["payload"]["errors"].clone()
    };
    assert!(
        errors
            .to_string()
            .contains("subscriptions, the most one connection may"),
        "{refused}"
    );

    // Nesting past the limit is refused before parsing, as over HTTP.
    let deep = format!("{{ viewer {} }}", "{ name ".repeat(70));
    send(
        &mut socket,
        json!({"id": "3", "type": "subscribe", "payload": {"query": deep}}),
    )
    .await;
    let mut refused = next_message(&mut socket, WAIT).await.expect("an answer");
    if refused == json!({"id": "2", "type": "complete"}) {
        refused = next_message(&mut socket, WAIT).await.expect("an answer");
    }
    assert_eq!(refused["id"], "3", "{refused}");
    assert!(refused.to_string().contains("BAD_REQUEST"), "{refused}");
}

#[tokio::test]
async fn a_connection_without_a_token_is_closed_and_shutdown_sends_a_close_frame() {
    let (app, stop, running) = crate::helpers::spawn_app_stoppable(|_| {}).await;
    let mut anonymous = connect(&app, "graphql-transport-ws", json!({})).await;
    let closed = next_message(&mut anonymous, WAIT).await.expect("an answer");
    assert!(closed.get("closed").is_some(), "{closed}");

    let mut socket = connect(
        &app,
        "graphql-transport-ws",
        json!({"Authorization": "Bearer demo-admin"}),
    )
    .await;
    assert_eq!(
        next_message(&mut socket, WAIT).await,
        Some(json!({"type": "connection_ack"}))
    );
    stop.send(()).unwrap();
    assert_eq!(
        next_message(&mut socket, WAIT).await,
        Some(json!({"closed": 1001})),
        "shutdown says goodbye"
    );
    tokio::time::timeout(WAIT, running)
        .await
        .expect("the server stops")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn an_oversized_websocket_message_closes_that_socket_only() {
    let app = spawn_app_with_webhooks(|_| {}).await;
    let mut socket = connect(
        &app,
        "graphql-transport-ws",
        json!({"Authorization": "Bearer demo-admin"}),
    )
    .await;
    assert_eq!(
        next_message(&mut socket, WAIT).await,
        Some(json!({"type": "connection_ack"}))
    );
    // Past the 256 KiB a GraphQL request body may have.
    let huge = format!("{{ viewer {{ name }} }} #{}", "x".repeat(300 * 1024));
    let _ = socket
        .send(Message::Text(
            json!({"id": "1", "type": "subscribe", "payload": {"query": huge}})
                .to_string()
                .into(),
        ))
        .await;
    let answer = next_message(&mut socket, WAIT).await;
    assert!(
        answer.as_ref().is_none_or(|a| a.get("closed").is_some()),
        "the socket is closed, not answered: {answer:?}"
    );
    let viewer = app.admin("{ viewer { name } }").await;
    assert_eq!(viewer["data"]["viewer"]["name"], "Alex Rivera", "{viewer}");
}
