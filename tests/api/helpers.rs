//! `spawn_app()`: a sandbox and a gateway in front of it, and helpers to query both.

use std::time::Duration;

use bizgraph::config::PeopleApi;
use bizgraph::{Application, Settings};
use graph_sandbox::{RunningSandbox, SandboxSettings};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};

/// A gateway and the sandbox behind it, both on loopback.
pub struct TestApp {
    pub gateway: String,
    pub sandbox: RunningSandbox,
    pub http: reqwest::Client,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(SandboxSettings::default(), |_| {}).await
}

/// A gateway with some settings changed, in front of a default sandbox.
pub async fn spawn_app_configured(configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_with(SandboxSettings::default(), configure).await
}

pub async fn spawn_app_with(
    sandbox_settings: SandboxSettings,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sandbox = graph_sandbox::spawn(listener, sandbox_settings)
        .await
        .unwrap();
    let mut settings = Settings::for_upstream(sandbox.url());
    settings.upstream.timeout = Duration::from_secs(10);
    configure(&mut settings);
    let app = Application::build(settings).await.unwrap();
    let gateway = format!("http://{}", app.addr());
    app.spawn();
    let http = reqwest::Client::new();
    wait_until_healthy(&http, &gateway).await;
    TestApp {
        gateway,
        sandbox,
        http,
    }
}

/// A gateway with some settings changed that serves until `stop` is sent; the handle ends when
/// `run_until` returns.
pub async fn spawn_app_stoppable(
    configure: impl FnOnce(&mut Settings),
) -> (
    TestApp,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sandbox = graph_sandbox::spawn(listener, SandboxSettings::default())
        .await
        .unwrap();
    let mut settings = Settings::for_upstream(sandbox.url());
    configure(&mut settings);
    let app = Application::build(settings).await.unwrap();
    let gateway = format!("http://{}", app.addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();
    wait_until_healthy(&http, &gateway).await;
    (
        TestApp {
            gateway,
            sandbox,
            http,
        },
        stop,
        running,
    )
}

/// The text the gateway at `gateway` (its base URL) serves at `path`.
pub async fn page_of(http: &reqwest::Client, gateway: &str, path: &str) -> String {
    http.get(format!("{gateway}{path}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Tries `attempt` every 20 ms until it answers `Ok`, for at most `within`, and answers that;
/// past `within` the test fails with the last `Err`, which says what was seen. For what
/// happens "at some point" (a message through pub/sub, a circuit opening) on a slow machine.
pub async fn eventually<T, F, Fut>(within: Duration, mut attempt: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match attempt().await {
            Ok(value) => return value,
            Err(seen) => assert!(
                tokio::time::Instant::now() < deadline,
                "not within {within:?}: {seen}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits on the gateway's health endpoint rather than sleeping; gives up after about 10 s.
pub async fn wait_until_healthy(http: &reqwest::Client, gateway: &str) {
    for _ in 0..1000 {
        if let Ok(r) = http.get(format!("{gateway}/healthz")).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{gateway}/healthz did not answer within 10 seconds");
}

impl TestApp {
    /// Sends a GraphQL request with a bearer token (or none) and returns the JSON answer.
    pub async fn graphql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let body = json!({"query": query, "variables": variables});
        post_graphql(
            &self.http,
            &format!("{}/graphql", self.gateway),
            token,
            &body,
        )
        .await
    }

    /// The text the gateway serves at `path` (a page, the schema, the metrics).
    pub async fn page(&self, path: &str) -> String {
        page_of(&self.http, &self.gateway, path).await
    }

    /// A query as the demo admin.
    pub async fn admin(&self, query: &str) -> Value {
        self.graphql(Some("demo-admin"), query, json!({})).await
    }

    /// The sandbox's stats: `{"requests": N, "journal": [...]}`.
    async fn upstream_stats(&self) -> Value {
        self.http
            .get(format!("{}/__sandbox/stats", self.sandbox.url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// How many Graph API requests the sandbox has served so far.
    pub async fn upstream_requests(&self) -> u64 {
        self.upstream_stats().await["requests"].as_u64().unwrap()
    }

    /// The sandbox's journal of Graph API requests.
    pub async fn upstream_journal(&self) -> Vec<Value> {
        self.upstream_stats().await["journal"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Sends a request that the gateway must refuse on its own: asserts that it made no
    /// upstream call, and returns the answer.
    pub async fn refused_before_upstream(
        &self,
        token: &str,
        query: &str,
        variables: Value,
    ) -> Value {
        let before = self.upstream_requests().await;
        let answer = self.graphql(Some(token), query, variables).await;
        assert_eq!(
            self.upstream_requests().await,
            before,
            "the gateway called Graph for a request it should refuse: {answer}"
        );
        answer
    }

    /// Calls the sandbox's control plane.
    pub async fn control(&self, path: &str, body: Value) -> Value {
        self.http
            .post(format!("{}/__sandbox/{path}", self.sandbox.url()))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// POSTs a GraphQL request to `url` with a bearer token (or none) and returns the JSON answer;
/// for gateways that `spawn_app` did not start.
pub async fn post_graphql(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    body: &Value,
) -> Value {
    let mut request = http.post(url).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap().json().await.unwrap()
}

/// The `extensions.code` of the first error, if any.
pub fn first_error_code(answer: &Value) -> Option<&str> {
    answer["errors"][0]["extensions"]["code"].as_str()
}

/// The message of the first error.
pub fn first_error_message(answer: &Value) -> &str {
    answer["errors"][0]["message"].as_str().unwrap_or("")
}

// Raw HTTP/1.1 over TCP, for clients that misbehave on purpose.

/// A generous bound for anything the gateway should do "soon" on a slow, shared machine; the
/// limits under test are 1 s.
pub const BOUND: Duration = Duration::from_secs(20);

/// A query the demo admin may run, as a JSON body.
pub const VIEWER_QUERY: &str = r#"{"query":"{ viewer { name } }"}"#;

/// The head of a POST of `VIEWER_QUERY` to `/graphql` as the demo admin; with `expect_continue`
/// it asks for `100 Continue`, which the gateway sends once it starts reading the body.
pub fn post_head(expect_continue: bool) -> String {
    let expect = if expect_continue {
        "Expect: 100-continue\r\n"
    } else {
        ""
    };
    format!(
        "POST /graphql HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer demo-admin\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n{expect}\r\n",
        VIEWER_QUERY.len()
    )
}

/// One HTTP/1.1 response as read off the wire.
pub struct RawResponse {
    pub status: u16,
    /// Header lines, lower-cased.
    pub headers: Vec<String>,
    pub body: String,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            (key.trim() == name).then(|| value.trim())
        })
    }
}

/// More connections than tokio's default listen backlog (128) holds, fewer than bizgraph's.
pub const BURST_OF_CONNECTIONS: usize = 300;

/// Opens `count` connections to `authority` one after the other, each within `BOUND`, while
/// the server accepts none: they complete their handshakes only while the listen backlog has
/// room (past it the kernel drops the SYN and the client waits seconds to send it again).
pub async fn connect_while_not_accepting(authority: &str, count: usize) -> Vec<TcpStream> {
    let mut connections = Vec::with_capacity(count);
    for index in 0..count {
        let connected = tokio::time::timeout(BOUND, TcpStream::connect(authority))
            .await
            .unwrap_or_else(|_| {
                panic!("connection {index} to {authority} got no handshake: the backlog is full")
            })
            .unwrap();
        connections.push(connected);
    }
    connections
}

/// Reads up to and including the blank line that ends a response head.
pub async fn read_head(stream: &mut TcpStream) -> String {
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
pub async fn read_response(stream: &mut TcpStream) -> RawResponse {
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
pub async fn closed_by_gateway(stream: &mut TcpStream) -> Option<Vec<u8>> {
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

/// Asserts that `answer` is `INVALID_ARGUMENT` about `argument`, its message saying `says`.
pub fn refused_argument(answer: &Value, argument: &str, says: &str) {
    assert_eq!(
        first_error_code(answer),
        Some("INVALID_ARGUMENT"),
        "{answer}"
    );
    assert_eq!(
        answer["errors"][0]["extensions"]["argument"], argument,
        "{answer}"
    );
    let message = first_error_message(answer);
    assert!(message.contains(says), "{message}");
}

/// Runs each story, an `async fn(PeopleApi)`, once per people dialect: `seed::<story>` and
/// `current::<story>` (`--people-api seed|current`), so that one story proves both.
macro_rules! in_both_dialects {
    ($($story:ident),* $(,)?) => {
        mod seed {
            $(#[tokio::test]
            async fn $story() {
                super::$story(::bizgraph::config::PeopleApi::Seed).await
            })*
        }
        mod current {
            $(#[tokio::test]
            async fn $story() {
                super::$story(::bizgraph::config::PeopleApi::Current).await
            })*
        }
    };
}
pub(crate) use in_both_dialects;

/// A gateway speaking people dialect `api` in front of a default sandbox.
pub async fn spawn_in(api: PeopleApi) -> TestApp {
    spawn_in_configured(api, |_| {}).await
}

/// A gateway speaking people dialect `api`, configured further by `configure`.
pub async fn spawn_in_configured(api: PeopleApi, configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_configured(|settings| {
        settings.upstream.people_api = api;
        configure(settings);
    })
    .await
}

/// The id `people` shows as `user.id` for a seeded user of Pomni Media or Kinger Labs in
/// dialect `api`: the user's own with the seed's people API, their business user's with
/// today's (docs/sandbox-contract.md: the row's id plus 10000).
pub fn person_id(api: PeopleApi, user: &str) -> &'static str {
    let (seed, current) = match user {
        "100001" => ("100001", "710001"),
        "100002" => ("100002", "710002"),
        "100004" => ("100004", "710006"),
        other => panic!("no seeded person {other}"),
    };
    match api {
        PeopleApi::Seed => seed,
        PeopleApi::Current => current,
    }
}
