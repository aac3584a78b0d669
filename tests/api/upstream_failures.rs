//! How the gateway holds up when Graph misbehaves or a request asks too much of it: retries,
//! timeouts, rate limits and throttling, the call budget, oversized and redirected answers, a
//! wrong app secret, and the circuit breaker.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use bizgraph::config::BreakerSettings;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::helpers::{
    TestApp, first_error_code, first_error_message, post_graphql, spawn_app, spawn_app_configured,
    spawn_app_with,
};

/// A stand-in for Graph on 127.0.0.1:0 that answers every request with `answer`; returns its
/// URL and how many requests it has received.
async fn fake_upstream<F, R>(answer: F) -> (String, Arc<AtomicUsize>)
where
    F: Fn() -> R + Clone + Send + Sync + 'static,
    R: axum::response::IntoResponse + Send + 'static,
{
    let received = Arc::new(AtomicUsize::new(0));
    let counter = received.clone();
    let router = Router::new().fallback(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        let answer = answer.clone();
        async move { answer() }
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, received)
}

/// All `extensions.code`s of an answer's errors.
fn error_codes(answer: &Value) -> Vec<String> {
    answer["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["extensions"]["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

// The call budget.

#[tokio::test]
async fn six_aliases_of_500_unknown_ids_send_no_more_graph_calls_than_the_budget() {
    let app = spawn_app_configured(|settings| settings.limits.max_graph_calls = 50).await;
    // Each alias asks for its own 500 unknown ids: 10 `?ids=` calls that fail, and 10 batch
    // re-reads to find the unknown id, 120 calls in all if nothing stopped them.
    let aliases: String = (1..=6)
        .map(|alias| {
            let ids: Vec<String> = (1..=500).map(|n| format!("\"9{alias}{n:07}\"")).collect();
            format!("a{alias}: businesses(ids: [{}]) {{ id }} ", ids.join(","))
        })
        .collect();
    let before = app.upstream_requests().await;
    let answer = app.admin(&format!("{{ {aliases} }}")).await;
    let sent = app.upstream_requests().await - before;
    assert!(sent <= 50, "{sent} Graph calls against a budget of 50");
    assert!(
        sent >= 20,
        "only {sent} Graph calls: the budget was not used"
    );
    assert!(
        answer["extensions"]["cost"]["graphCalls"].as_u64().unwrap() <= 50,
        "{}",
        answer["extensions"]
    );
    let codes = error_codes(&answer);
    // A cut-off list fails once as a field, not once per id of the calls it could not make.
    let cut_off = codes
        .iter()
        .filter(|code| *code == "UPSTREAM_BUDGET_EXCEEDED")
        .count();
    assert!((1..=6).contains(&cut_off), "{cut_off} budget errors");
    let budget_error = answer["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["extensions"]["code"] == "UPSTREAM_BUDGET_EXCEEDED")
        .unwrap();
    assert!(
        budget_error["message"]
            .as_str()
            .unwrap()
            .contains("more than 50 Graph API calls"),
        "{budget_error}"
    );
}

#[tokio::test]
async fn an_aliased_lookup_cut_off_by_the_budget_does_not_fail_its_answered_sibling() {
    let app = spawn_app_configured(|settings| settings.limits.max_graph_calls = 1).await;
    let before = app.upstream_requests().await;
    // Different fields: two `?ids=` calls from one DataLoader batch, one more than allowed.
    let answer = app
        .admin(r#"{ a: business(id: "200001") { name } b: business(id: "200002") { vertical } }"#)
        .await;
    assert_eq!(app.upstream_requests().await - before, 1, "{answer}");
    let answered = [
        answer["data"]["a"] == json!({"name": "Pomni Media"}),
        answer["data"]["b"] == json!({"vertical": "TECHNOLOGY"}),
    ];
    assert_eq!(
        answered.iter().filter(|ok| **ok).count(),
        1,
        "exactly one lookup fits the budget: {answer}"
    );
    assert_eq!(
        error_codes(&answer),
        ["UPSTREAM_BUDGET_EXCEEDED"],
        "{answer}"
    );
}

#[tokio::test]
async fn each_retry_of_a_read_is_a_call_of_the_budget() {
    let app = spawn_app_configured(|settings| settings.limits.max_graph_calls = 2).await;
    // Graph fails the first try and both retries, which would be three calls.
    app.control("faults", json!({"error_code": 2, "times": 3}))
        .await;
    let before = app.upstream_requests().await;
    let answer = app.admin("{ viewer { name } }").await;
    assert_eq!(app.upstream_requests().await - before, 2, "{answer}");
    assert_eq!(
        first_error_code(&answer),
        Some("UPSTREAM_BUDGET_EXCEEDED"),
        "{answer}"
    );
    assert_eq!(answer["extensions"]["cost"]["graphCalls"], 2);
}

#[tokio::test]
async fn a_read_answered_from_the_cache_costs_nothing_from_the_budget() {
    let app = spawn_app_configured(|settings| settings.limits.max_graph_calls = 1).await;
    let before = app.upstream_requests().await;
    let answer = app
        .admin("{ first: viewer { name } second: viewer { name } }")
        .await;
    assert_eq!(
        answer["data"],
        json!({"first": {"name": "Alex Rivera"}, "second": {"name": "Alex Rivera"}}),
        "{answer}"
    );
    assert_eq!(app.upstream_requests().await - before, 1);
    assert_eq!(
        answer["extensions"]["cost"],
        json!({"graphCalls": 1, "cacheHits": 1})
    );
}

// Oversized and redirected answers.

#[tokio::test]
async fn an_answer_larger_than_the_cap_fails_the_field_with_a_message_naming_the_cap() {
    let (fake, received) = fake_upstream(|| {
        (
            [(header::CONTENT_TYPE, "application/json")],
            format!(r#"{{"id":"100001","name":"{}"}}"#, "x".repeat(4096)),
        )
    })
    .await;
    let app = spawn_app_configured(|settings| {
        settings.upstream.url = fake;
        settings.upstream.max_response_bytes = 1024;
    })
    .await;
    let answer = app.admin("{ viewer { name } }").await;
    // `viewer` is non-null, so its failure nulls `data`.
    assert_eq!(answer["data"], Value::Null, "{answer}");
    assert_eq!(
        first_error_code(&answer),
        Some("UPSTREAM_UNAVAILABLE"),
        "{answer}"
    );
    assert!(
        first_error_message(&answer).contains("larger than 1024 bytes"),
        "{answer}"
    );
    // Not retried: the same call would meet the same cap.
    assert_eq!(received.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_endless_answer_is_cut_off_at_the_cap_instead_of_read_until_the_timeout() {
    let (fake, _) = fake_upstream(|| {
        // No length, and no end: spaces (valid JSON whitespace) for ever.
        let chunks = futures_util::stream::repeat_with(|| {
            Ok::<_, std::io::Error>(Bytes::from(vec![b' '; 1024]))
        });
        (
            [(header::CONTENT_TYPE, "application/json")],
            Body::from_stream(chunks),
        )
    })
    .await;
    let app = spawn_app_configured(|settings| {
        settings.upstream.url = fake;
        settings.upstream.max_response_bytes = 64 * 1024;
        // Long enough that an answer about the timeout would mean the cap did not work.
        settings.upstream.timeout = Duration::from_secs(20);
    })
    .await;
    let answer = app.admin("{ viewer { name } }").await;
    assert_eq!(
        first_error_code(&answer),
        Some("UPSTREAM_UNAVAILABLE"),
        "{answer}"
    );
    assert!(
        first_error_message(&answer).contains("larger than 65536 bytes"),
        "{answer}"
    );
}

#[tokio::test]
async fn a_redirect_from_graph_is_not_followed() {
    let (elsewhere, elsewhere_received) = fake_upstream(|| {
        (
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"id":"100001","name":"Somebody Else"}"#,
        )
    })
    .await;
    let location = format!("{elsewhere}/v25.0/me");
    let (redirecting, _) = fake_upstream(move || {
        (
            StatusCode::FOUND,
            [(header::LOCATION, location.clone())],
            String::new(),
        )
    })
    .await;
    let app = spawn_app_configured(|settings| settings.upstream.url = redirecting).await;
    let answer = app.admin("{ viewer { name } }").await;
    // `viewer` is non-null, so its failure nulls `data`.
    assert_eq!(answer["data"], Value::Null, "{answer}");
    assert_eq!(
        first_error_code(&answer),
        Some("UPSTREAM_UNAVAILABLE"),
        "{answer}"
    );
    assert!(
        first_error_message(&answer).contains("redirect (HTTP 302)"),
        "{answer}"
    );
    assert_eq!(elsewhere_received.load(Ordering::SeqCst), 0);
}

// A wrong app secret.

#[tokio::test]
async fn a_wrong_app_secret_is_an_internal_error_that_does_not_blame_the_caller() {
    let app = spawn_app_with(
        graph_sandbox::SandboxSettings {
            app_secret: Some("the-apps-secret".to_owned()),
            ..graph_sandbox::SandboxSettings::default()
        },
        |settings| {
            settings.upstream.app_secret = Some(bizgraph::config::Secret::new("another-secret"))
        },
    )
    .await;
    // The gateway's log, for this test's thread (the runtime of a tokio test is this thread).
    let log = CapturedLog::default();
    let _logging = tracing::subscriber::set_default(
        tracing_subscriber::fmt()
            .with_writer(log.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::WARN)
            .finish(),
    );
    let answer = app.admin("{ viewer { name } }").await;
    // `viewer` is non-null, so its failure nulls `data`.
    assert_eq!(answer["data"], Value::Null, "{answer}");
    assert_eq!(first_error_code(&answer), Some("INTERNAL"), "{answer}");
    let message = first_error_message(&answer);
    assert!(
        message.contains(
            "Graph refused its appsecret_proof, so its app secret is not the Meta app's secret"
        ),
        "{message}"
    );
    assert!(
        message.contains("not a problem with your request"),
        "{message}"
    );
    assert!(!message.contains("Invalid appsecret_proof provided in the API argument"));
    assert_eq!(answer["errors"][0]["extensions"].get("graphApi"), None);
    // Not retried: the same secret would be refused again.
    assert_eq!(app.upstream_requests().await, 1);

    // The log tells the operator what to fix, once per window however many requests fail.
    for _ in 0..3 {
        let again = app.admin("{ viewer { id } }").await;
        assert_eq!(first_error_code(&again), Some("INTERNAL"), "{again}");
    }
    let text = log.text();
    assert_eq!(
        text.matches("set --app-secret (BIZGRAPH_APP_SECRET) to the secret of the app")
            .count(),
        1,
        "{text}"
    );
}

// Logs.

#[tokio::test]
async fn a_throttled_token_under_load_logs_its_throttle_once_not_per_call() {
    let app = crate::helpers::spawn_app().await;
    let log = CapturedLog::default();
    let _logging = tracing::subscriber::set_default(
        tracing_subscriber::fmt()
            .with_writer(log.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .finish(),
    );
    app.control("faults", json!({"error_code": 4, "times": 1}))
        .await;
    let throttled = app.admin("{ viewer { name } }").await;
    assert_eq!(
        first_error_code(&throttled),
        Some("RATE_LIMITED"),
        "{throttled}"
    );
    for _ in 0..20 {
        let held = app.admin("{ viewer { name } }").await;
        assert_eq!(first_error_code(&held), Some("RATE_LIMITED"), "{held}");
    }
    assert_eq!(app.upstream_requests().await, 1);
    // Other tests of this process may have logged the condition within the window already,
    // so once or not at all; never once per call.
    let text = log.text();
    assert!(text.matches("Graph throttles").count() <= 1, "{text}");
}

/// A log writer that keeps what it is given, for tests that read the gateway's log.
#[derive(Clone, Default)]
struct CapturedLog(Arc<std::sync::Mutex<Vec<u8>>>);

impl CapturedLog {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for CapturedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for CapturedLog {
    type Writer = CapturedLog;

    fn make_writer(&'a self) -> CapturedLog {
        self.clone()
    }
}

// The circuit breaker.

/// Sends `query` until it has data (or `tries` run out); answers the last answer.
async fn until_answered(app: &TestApp, query: &str, tries: usize) -> Value {
    let mut answer = Value::Null;
    for _ in 0..tries {
        answer = app.admin(query).await;
        if answer.get("errors").is_none() {
            return answer;
        }
        // The breaker's own clock decides; this only keeps the loop from spinning.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    answer
}

fn breaker(failures: u32, cool_down: Duration) -> BreakerSettings {
    BreakerSettings {
        failures,
        window: Duration::from_secs(60),
        cool_down,
    }
}

#[tokio::test]
async fn after_repeated_5xx_answers_calls_fail_fast_until_a_probe_closes_the_breaker() {
    let app = spawn_app_configured(|settings| {
        // Long enough that the next request surely comes within it, even on a busy machine.
        settings.upstream.breaker = breaker(3, Duration::from_secs(3));
        settings.cache.ttl = Duration::ZERO;
    })
    .await;
    // Graph fails the first try and both retries with a 500: three failures.
    app.control("faults", json!({"error_code": 2, "times": 3}))
        .await;
    let failed = app.admin("{ viewer { name } }").await;
    assert_eq!(
        first_error_code(&failed),
        Some("UPSTREAM_UNAVAILABLE"),
        "{failed}"
    );
    assert_eq!(app.upstream_requests().await, 3);

    let refused = app.admin("{ viewer { name } }").await;
    assert_eq!(
        first_error_code(&refused),
        Some("UPSTREAM_UNAVAILABLE"),
        "{refused}"
    );
    assert!(
        first_error_message(&refused).contains("circuit breaker is open"),
        "{refused}"
    );
    let retry_after = refused["errors"][0]["extensions"]["retryAfterSeconds"]
        .as_u64()
        .unwrap();
    assert!((1..=3).contains(&retry_after), "{refused}");
    assert_eq!(
        app.upstream_requests().await,
        3,
        "a call went to Graph while the breaker was open"
    );

    // After the cool-down one probe goes; Graph is well again, so it closes the breaker.
    let probed = until_answered(&app, "{ viewer { name } }", 400).await;
    assert_eq!(probed["data"]["viewer"]["name"], "Alex Rivera", "{probed}");
    assert_eq!(
        app.upstream_requests().await,
        4,
        "only the probe may reach Graph"
    );
    let after = app.admin("{ viewer { name } }").await;
    assert_eq!(after["data"]["viewer"]["name"], "Alex Rivera", "{after}");
    assert_eq!(app.upstream_requests().await, 5);
    let metrics = app.page("/metrics").await;
    for state in ["open", "half_open", "closed"] {
        assert!(
            metrics.contains(&format!(
                "bizgraph_circuit_breaker_transitions_total{{state=\"{state}\"}} 1"
            )),
            "{metrics}"
        );
    }
}

#[tokio::test]
async fn a_failed_probe_opens_the_breaker_again() {
    let app = spawn_app_configured(|settings| {
        // Long enough that the next request surely comes within it, even on a busy machine.
        settings.upstream.breaker = breaker(3, Duration::from_secs(3));
        settings.cache.ttl = Duration::ZERO;
    })
    .await;
    // Three failures open the breaker; the fourth fails its probe.
    app.control("faults", json!({"error_code": 2, "times": 4}))
        .await;
    app.admin("{ viewer { name } }").await;
    assert_eq!(app.upstream_requests().await, 3);
    let mut probe = Value::Null;
    for _ in 0..400 {
        probe = app.admin("{ viewer { name } }").await;
        if app.upstream_requests().await == 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(app.upstream_requests().await, 4, "no probe was sent");
    // The probe failed; its retry met the breaker open again, without a call.
    assert!(
        first_error_message(&probe).contains("circuit breaker is open"),
        "{probe}"
    );
    let refused = app.admin("{ viewer { name } }").await;
    assert!(
        first_error_message(&refused).contains("circuit breaker is open"),
        "{refused}"
    );
    assert_eq!(app.upstream_requests().await, 4);
}

#[tokio::test]
async fn graphs_own_errors_do_not_open_the_breaker() {
    let app = spawn_app_configured(|settings| {
        settings.upstream.breaker = breaker(2, Duration::from_secs(60));
    })
    .await;
    for _ in 0..4 {
        let answer = app.admin(r#"{ business(id: "999999999") { name } }"#).await;
        assert_eq!(first_error_code(&answer), Some("NOT_FOUND"), "{answer}");
    }
    // Graph refusing the calls (HTTP 400 with its error envelope) is Graph working.
    app.control("faults", json!({"error_code": 100, "times": 2}))
        .await;
    for _ in 0..2 {
        let answer = app.admin("{ viewer { id } }").await;
        assert_eq!(
            first_error_code(&answer),
            Some("INVALID_ARGUMENT"),
            "{answer}"
        );
    }
    let before = app.upstream_requests().await;
    let answer = app.admin("{ viewer { name } }").await;
    assert_eq!(answer["data"]["viewer"]["name"], "Alex Rivera", "{answer}");
    assert_eq!(app.upstream_requests().await - before, 1);
}

#[tokio::test]
async fn with_nothing_listening_upstream_the_breaker_opens_and_calls_fail_fast() {
    // A port that was free a moment ago and has nobody listening now.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut settings = bizgraph::Settings::for_upstream(format!("http://{closed}"));
    settings.upstream.breaker = breaker(3, Duration::from_secs(60));
    let app = bizgraph::Application::build(settings).await.unwrap();
    let gateway = format!("http://{}", app.addr());
    app.spawn();
    let http = reqwest::Client::new();
    let query = json!({"query": "{ viewer { name } }"});

    // The first try and both retries are refused: three failures open the breaker.
    let unreachable = post_graphql(
        &http,
        &format!("{gateway}/graphql"),
        Some("demo-admin"),
        &query,
    )
    .await;
    assert!(
        first_error_message(&unreachable).contains("could not be reached"),
        "{unreachable}"
    );
    let refused = post_graphql(
        &http,
        &format!("{gateway}/graphql"),
        Some("demo-admin"),
        &query,
    )
    .await;
    assert_eq!(
        first_error_code(&refused),
        Some("UPSTREAM_UNAVAILABLE"),
        "{refused}"
    );
    assert!(
        first_error_message(&refused).contains(&format!(
            "the Graph API at {closed} failed repeatedly, so bizgraph's circuit breaker is open"
        )),
        "{refused}"
    );
    let metrics = http
        .get(format!("{gateway}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .contains(r#"bizgraph_graph_calls_total{method="GET",outcome="transport",code=""} 3"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            r#"bizgraph_graph_calls_total{method="GET",outcome="breaker_open",code=""} 1"#
        ),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_temporary_graph_failure_is_retried() {
    let app = spawn_app().await;
    app.control("faults", json!({"error_code": 2, "times": 1}))
        .await;
    let answer = app.admin("{ viewer { name } }").await;
    assert_eq!(answer["data"]["viewer"]["name"], "Alex Rivera", "{answer}");
}

#[tokio::test]
async fn a_rate_limit_is_reported_with_a_retry_hint() {
    let app = spawn_app().await;
    app.control("faults", json!({"error_code": 4, "times": 1}))
        .await;
    let answer = app.admin("{ viewer { name } }").await;
    assert_eq!(first_error_code(&answer), Some("RATE_LIMITED"), "{answer}");
    assert!(
        answer["errors"][0]["extensions"]["retryAfterSeconds"]
            .as_u64()
            .unwrap()
            > 0
    );
}

#[tokio::test]
async fn a_graph_call_slower_than_the_timeout_is_upstream_unavailable() {
    let app = crate::helpers::spawn_app_configured(|settings| {
        settings.upstream.timeout = std::time::Duration::from_millis(300);
    })
    .await;
    // Slow enough for the first try and both retries to time out.
    app.control("faults", json!({"latency_ms": 1000, "times": 3}))
        .await;
    let answer = app.admin("{ viewer { name } }").await;
    assert_eq!(
        first_error_code(&answer),
        Some("UPSTREAM_UNAVAILABLE"),
        "{answer}"
    );
    assert!(first_error_message(&answer).contains("did not answer in time"));
}

#[tokio::test]
async fn an_unreachable_graph_is_upstream_unavailable() {
    // A port that was free a moment ago and has nobody listening now.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let app =
        bizgraph::Application::build(bizgraph::Settings::for_upstream(format!("http://{closed}")))
            .await
            .unwrap();
    let gateway = format!("http://{}/graphql", app.addr());
    app.spawn();
    let answer = crate::helpers::post_graphql(
        &reqwest::Client::new(),
        &gateway,
        Some("demo-admin"),
        &json!({"query": "{ viewer { name } }"}),
    )
    .await;
    assert_eq!(
        first_error_code(&answer),
        Some("UPSTREAM_UNAVAILABLE"),
        "{answer}"
    );
    assert!(!answer.to_string().contains("demo-admin"));
}

#[tokio::test]
async fn after_graph_throttles_a_token_its_calls_are_held_back_and_other_tokens_go_on() {
    let app = spawn_app().await;
    app.control("faults", json!({"error_code": 4, "times": 1}))
        .await;
    let throttled = app.admin("{ viewer { name } }").await;
    assert_eq!(
        first_error_code(&throttled),
        Some("RATE_LIMITED"),
        "{throttled}"
    );

    let before = app.upstream_requests().await;
    let held = app.admin("{ viewer { id } }").await;
    assert_eq!(first_error_code(&held), Some("RATE_LIMITED"), "{held}");
    assert!(
        held["errors"][0]["extensions"]["retryAfterSeconds"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert_eq!(
        app.upstream_requests().await,
        before,
        "a held-back call reached Graph"
    );

    let other = app
        .graphql(Some("demo-employee"), "{ viewer { name } }", json!({}))
        .await;
    assert_eq!(other["data"]["viewer"]["name"], "Sam Chen", "{other}");
}

#[tokio::test]
async fn a_token_that_used_up_its_hourly_calls_is_held_back_before_graph_refuses_it() {
    let app = crate::helpers::spawn_app_with(
        graph_sandbox::SandboxSettings {
            app_calls_per_hour: 4,
            ..graph_sandbox::SandboxSettings::default()
        },
        |settings| settings.cache.ttl = std::time::Duration::ZERO,
    )
    .await;
    // Four calls use the whole hour; the fourth answer says so in x-app-usage.
    for _ in 0..4 {
        let answer = app.admin("{ viewer { name } }").await;
        assert_eq!(answer["data"]["viewer"]["name"], "Alex Rivera", "{answer}");
    }
    let before = app.upstream_requests().await;
    let held = app.admin("{ viewer { name } }").await;
    assert_eq!(first_error_code(&held), Some("RATE_LIMITED"), "{held}");
    assert_eq!(app.upstream_requests().await, before);
}
