//! Connections over raw TCP: request ids, slow clients, idle keep-alive and shutdown.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, spawn_app_configured, spawn_app_stoppable};

/// A generous bound for anything the gateway should do "soon" on a slow, shared machine; the
/// limits under test are 1 s.
const BOUND: Duration = Duration::from_secs(20);

/// A query the demo admin may run, as a JSON body.
const VIEWER_QUERY: &str = r#"{"query":"{ viewer { name } }"}"#;

/// A raw TCP connection to the gateway.
async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.gateway.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// The head of a POST of `VIEWER_QUERY` to `/graphql`, asking for `100 Continue` before the body.
fn post_head_expecting_continue() -> String {
    format!(
        "POST /graphql HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer demo-admin\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        VIEWER_QUERY.len()
    )
}

/// One HTTP/1.1 response as read off the wire.
struct RawResponse {
    status: u16,
    /// Header lines, lower-cased.
    headers: Vec<String>,
    body: String,
}

impl RawResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            (key.trim() == name).then(|| value.trim())
        })
    }
}

/// Reads up to and including the blank line that ends a response head.
async fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let read = tokio::time::timeout(BOUND, stream.read(&mut byte))
            .await
            .expect("a response head within the bound")
            .unwrap();
        assert_eq!(read, 1, "the connection closed mid-head: {head:?}");
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}

/// Reads one response with a `Content-Length` body, skipping `100 Continue`.
async fn read_response(stream: &mut TcpStream) -> RawResponse {
    let mut head = read_head(stream).await;
    while head.starts_with("HTTP/1.1 100") {
        head = read_head(stream).await;
    }
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {head:?}"));
    let headers: Vec<String> = lines
        .filter(|l| !l.is_empty())
        .map(str::to_lowercase)
        .collect();
    let mut response = RawResponse {
        status,
        headers,
        body: String::new(),
    };
    let length: usize = response
        .header("content-length")
        .unwrap_or_else(|| panic!("no content-length in {head:?}"))
        .parse()
        .unwrap();
    let mut body = vec![0u8; length];
    tokio::time::timeout(BOUND, stream.read_exact(&mut body))
        .await
        .expect("the body within the bound")
        .unwrap();
    response.body = String::from_utf8(body).unwrap();
    response
}

/// Whether the gateway closes the connection within `BOUND`; returns what it sent first.
async fn closed_by_gateway(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut received = Vec::new();
    let reading = async {
        let mut chunk = [0u8; 4096];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) => return,
                Ok(n) => received.extend_from_slice(&chunk[..n]),
                // A reset is a close too (the gateway dropped a connection with unread input).
                Err(_) => return,
            }
        }
    };
    tokio::time::timeout(BOUND, reading).await.ok()?;
    Some(received)
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
        s.header_read_timeout = Duration::from_secs(1);
        s.keep_alive_idle = Duration::from_secs(600);
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
        s.request_timeout = Duration::from_secs(1);
    })
    .await;
    let mut stream = connect(&app).await;
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer demo-admin\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        VIEWER_QUERY.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
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
            "data": null,
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
        s.keep_alive_idle = Duration::from_secs(1);
        // Far beyond the bound: only the idle limit can close the connection here.
        s.header_read_timeout = Duration::from_secs(600);
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
        s.keep_alive_idle = Duration::from_secs(1);
        s.header_read_timeout = Duration::from_secs(1);
    })
    .await;
    let mut stream = connect(&app).await;
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer demo-admin\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        VIEWER_QUERY.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
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
        s.shutdown_grace = Duration::from_secs(60);
        s.keep_alive_idle = Duration::from_secs(600);
    })
    .await;
    let mut idle = connect(&app).await;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_response(&mut idle).await.status, 200);

    // `100 Continue` comes once the gateway reads the body: the request is then in flight.
    let mut busy = connect(&app).await;
    busy.write_all(post_head_expecting_continue().as_bytes())
        .await
        .unwrap();
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
        s.shutdown_grace = Duration::from_secs(1);
        s.request_timeout = Duration::from_secs(600);
    })
    .await;
    let mut busy = connect(&app).await;
    busy.write_all(post_head_expecting_continue().as_bytes())
        .await
        .unwrap();
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
