//! Connections over raw TCP: request ids, slow clients, idle keep-alive and shutdown.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::helpers::{
    BOUND, BURST_OF_CONNECTIONS, TestApp, VIEWER_QUERY, closed_by_gateway,
    connect_while_not_accepting, post_head, read_head, read_response, spawn_app_configured,
    spawn_app_stoppable,
};

/// A raw TCP connection to the gateway.
async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.gateway.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Sends a GET /healthz with `x-request-id: id` and returns the id the gateway answered with.
async fn echoed_request_id(app: &TestApp, id: &[u8]) -> String {
    let response = app
        .http
        .get(format!("{}/healthz", app.gateway))
        .header(
            "x-request-id",
            reqwest::header::HeaderValue::from_bytes(id).unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

fn is_uuid(id: &str) -> bool {
    id.len() == 36 && id.split('-').map(str::len).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
}

#[tokio::test]
async fn a_callers_short_request_id_of_safe_characters_is_kept() {
    let app = spawn_app_configured(|_| {}).await;
    let longest: String = "aZ09._:-".chars().cycle().take(128).collect();
    assert_eq!(echoed_request_id(&app, longest.as_bytes()).await, longest);
    assert_eq!(
        echoed_request_id(&app, b"checkout-7f3a:retry_2.b").await,
        "checkout-7f3a:retry_2.b"
    );
}

#[tokio::test]
async fn an_overlong_or_odd_request_id_is_replaced_by_a_new_uuid() {
    let app = spawn_app_configured(|_| {}).await;
    let overlong = "a".repeat(100 * 1024);
    let just_too_long = "b".repeat(129);
    let cases: [&[u8]; 5] = [
        overlong.as_bytes(),
        just_too_long.as_bytes(),
        b"two words",
        b"<script>alert(1)</script>",
        b"caf\xc3\xa9",
    ];
    for sent in cases {
        let echoed = echoed_request_id(&app, sent).await;
        assert!(
            is_uuid(&echoed),
            "{} bytes sent, got back {echoed:?}",
            sent.len()
        );
    }
}

#[tokio::test]
async fn a_client_that_does_not_finish_its_headers_in_time_is_disconnected() {
    let app = spawn_app_configured(|s| {
        s.server.header_read_timeout = Duration::from_secs(1);
        s.server.keep_alive_idle = Duration::from_secs(600);
    })
    .await;
    let mut silent = connect(&app).await;
    let mut slow = connect(&app).await;
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: gateway\r\n")
        .await
        .unwrap();
    assert_eq!(
        closed_by_gateway(&mut slow).await,
        Some(Vec::new()),
        "a client sending half its headers is closed without an answer"
    );
    assert_eq!(
        closed_by_gateway(&mut silent).await,
        Some(Vec::new()),
        "a client sending nothing is closed without an answer"
    );
}

#[tokio::test]
async fn a_client_that_does_not_finish_its_body_in_time_gets_a_408_and_is_disconnected() {
    let app = spawn_app_configured(|s| {
        s.server.request_timeout = Duration::from_secs(1);
    })
    .await;
    let mut stream = connect(&app).await;
    stream.write_all(post_head(false).as_bytes()).await.unwrap();
    stream
        .write_all(&VIEWER_QUERY.as_bytes()[..10])
        .await
        .unwrap();

    let response = read_response(&mut stream).await;
    assert_eq!(response.status, 408, "{}", response.body);
    assert_eq!(response.header("connection"), Some("close"));
    let answer: Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(
        answer,
        json!({
            "errors": [{
                "message": "the request body did not arrive within the request deadline of 1 s; \
                            send the whole body without pausing",
                "extensions": {"code": "BAD_REQUEST"},
            }],
        })
    );
    assert!(
        closed_by_gateway(&mut stream).await.is_some(),
        "the connection is closed after the 408"
    );
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_limit() {
    let app = spawn_app_configured(|s| {
        s.server.keep_alive_idle = Duration::from_secs(1);
        // Far beyond the bound: only the idle limit can close the connection here.
        s.server.header_read_timeout = Duration::from_secs(600);
    })
    .await;
    let mut stream = connect(&app).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n")
        .await
        .unwrap();
    let response = read_response(&mut stream).await;
    assert_eq!((response.status, response.body.as_str()), (200, "ok"));
    assert_eq!(
        closed_by_gateway(&mut stream).await,
        Some(Vec::new()),
        "the idle connection is closed without another byte"
    );
}

#[tokio::test]
async fn a_request_that_takes_longer_than_the_idle_and_header_limits_is_not_cut_off() {
    let app = spawn_app_configured(|s| {
        s.server.keep_alive_idle = Duration::from_secs(1);
        s.server.header_read_timeout = Duration::from_secs(1);
    })
    .await;
    let mut stream = connect(&app).await;
    stream.write_all(post_head(false).as_bytes()).await.unwrap();
    // The body comes in three pieces over about two seconds: a slow client, but within the
    // request deadline (30 s), so neither limit applies to it.
    for piece in VIEWER_QUERY.as_bytes().chunks(VIEWER_QUERY.len() / 3 + 1) {
        tokio::time::sleep(Duration::from_millis(700)).await;
        stream.write_all(piece).await.unwrap();
    }
    let response = read_response(&mut stream).await;
    assert_eq!(response.status, 200, "{}", response.body);
    let answer: Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(answer["data"], json!({"viewer": {"name": "Alex Rivera"}}));
}

#[tokio::test]
async fn shutdown_stops_accepting_finishes_requests_in_flight_and_closes_idle_connections() {
    let (app, stop, running) = spawn_app_stoppable(|s| {
        s.server.shutdown_grace = Duration::from_secs(60);
        s.server.keep_alive_idle = Duration::from_secs(600);
    })
    .await;
    let mut idle = connect(&app).await;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_response(&mut idle).await.status, 200);

    // `100 Continue` comes once the gateway reads the body: the request is then in flight.
    let mut busy = connect(&app).await;
    busy.write_all(post_head(true).as_bytes()).await.unwrap();
    assert!(read_head(&mut busy).await.starts_with("HTTP/1.1 100"));
    let (first_half, second_half) = VIEWER_QUERY.as_bytes().split_at(10);
    busy.write_all(first_half).await.unwrap();

    stop.send(()).unwrap();
    assert_eq!(
        closed_by_gateway(&mut idle).await,
        Some(Vec::new()),
        "the idle connection is closed at shutdown"
    );
    assert!(
        TcpStream::connect(app.gateway.trim_start_matches("http://"))
            .await
            .is_err(),
        "no new connection is accepted once shutdown began"
    );

    busy.write_all(second_half).await.unwrap();
    let response = read_response(&mut busy).await;
    assert_eq!(response.status, 200, "{}", response.body);
    let answer: Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(answer["data"], json!({"viewer": {"name": "Alex Rivera"}}));
    assert!(closed_by_gateway(&mut busy).await.is_some());

    let stopped = tokio::time::timeout(BOUND, running).await;
    assert!(
        matches!(stopped, Ok(Ok(Ok(())))),
        "run_until returns Ok once the last connection is done: {stopped:?}"
    );
}

#[tokio::test]
async fn shutdown_ends_at_the_grace_period_even_while_a_request_is_half_sent() {
    let (app, stop, running) = spawn_app_stoppable(|s| {
        s.server.shutdown_grace = Duration::from_secs(1);
        s.server.request_timeout = Duration::from_secs(600);
    })
    .await;
    let mut busy = connect(&app).await;
    busy.write_all(post_head(true).as_bytes()).await.unwrap();
    assert!(read_head(&mut busy).await.starts_with("HTTP/1.1 100"));
    busy.write_all(&VIEWER_QUERY.as_bytes()[..10])
        .await
        .unwrap();

    stop.send(()).unwrap();
    let stopped = tokio::time::timeout(BOUND, running).await;
    assert!(
        matches!(stopped, Ok(Ok(Ok(())))),
        "run_until returns Ok once the grace period is over: {stopped:?}"
    );
    assert!(
        closed_by_gateway(&mut busy).await.is_some(),
        "the half-sent request's connection is closed"
    );
}

#[tokio::test]
async fn a_burst_of_connections_waits_in_the_backlog_and_is_served_once_accepted() {
    let sandbox = graph_sandbox::spawn(
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        graph_sandbox::SandboxSettings::default(),
    )
    .await
    .unwrap();
    // Built, so listening, but not yet accepting: every connection stays in the backlog.
    let app = bizgraph::Application::build(bizgraph::Settings::for_upstream(sandbox.url()))
        .await
        .unwrap();
    let authority = app.addr().to_string();
    let mut connections = connect_while_not_accepting(&authority, BURST_OF_CONNECTIONS).await;

    app.spawn();
    let last = connections.last_mut().unwrap();
    last.write_all(b"GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n")
        .await
        .unwrap();
    let response = read_response(last).await;
    assert_eq!((response.status, response.body.as_str()), (200, "ok"));
}
