//! Prometheus metrics (`GET /metrics`): GraphQL requests, Graph API calls, cache lookups and
//! held-back calls. Labels are methods, outcomes and error codes only: never a token, an id
//! or anything else a caller chooses.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of a GraphQL request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    /// `ok`, or the `extensions.code` of the request's first error.
    outcome: String,
}

/// Labels of a request refused before it ran.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefusalLabels {
    /// Why: `too_deep`, `parse_failed`, `invalid`, `body_unreadable`, ...
    reason: String,
}

/// Labels of a Graph API call.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    /// `GET`, `POST` or `DELETE`.
    method: String,
    /// Sent: `ok`, `graph_error`, `transport`, `timeout`, `redirect` (not followed) or
    /// `too_large` (past the answer size cap). Not sent: `held_back` (Graph throttles),
    /// `breaker_open` (the circuit breaker is open) or `over_budget` (the request's budget of
    /// Graph calls is spent).
    outcome: String,
    /// Graph's error code, empty unless the outcome is `graph_error`.
    code: String,
}

/// Labels of a cache lookup.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabels {
    /// `hit` (answered without a call of its own) or `miss`.
    result: String,
}

/// Labels of a circuit breaker transition.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BreakerLabels {
    /// The state entered: `open`, `half_open` or `closed`.
    state: String,
}

/// Labels of a webhook delivery.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabels {
    /// `accepted`, `unsigned` (401), `bad_signature` (403), `not_a_delivery` (400),
    /// `not_configured` (403: no verify token or app secret) or `redis_unavailable` (503, with
    /// `--redis-required` only).
    outcome: String,
}

/// Labels of the changes a delivery carried.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChangeLabels {
    /// `new` (published), `duplicate` (a retry, dropped: with Redis, one any replica took) or
    /// `ignored` (another field).
    result: String,
}

/// The gateway's metrics, shared by the server and the Graph client.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    refused: Family<RefusalLabels, Counter>,
    request_seconds: Histogram,
    calls: Family<CallLabels, Counter>,
    call_seconds: Histogram,
    cache: Family<CacheLabels, Counter>,
    breaker: Family<BreakerLabels, Counter>,
    deliveries: Family<DeliveryLabels, Counter>,
    changes: Family<ChangeLabels, Counter>,
    changes_checked_here_only: Counter,
    subscriptions: Gauge,
    sockets: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

fn latency_histogram() -> Histogram {
    // 1 ms to about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

impl Metrics {
    /// A fresh registry with every bizgraph metric.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("bizgraph");
        let requests = Family::<RequestLabels, Counter>::default();
        let refused = Family::<RefusalLabels, Counter>::default();
        let request_seconds = latency_histogram();
        let calls = Family::<CallLabels, Counter>::default();
        let call_seconds = latency_histogram();
        let cache = Family::<CacheLabels, Counter>::default();
        let breaker = Family::<BreakerLabels, Counter>::default();
        let deliveries = Family::<DeliveryLabels, Counter>::default();
        let changes = Family::<ChangeLabels, Counter>::default();
        let changes_checked_here_only = Counter::default();
        let subscriptions = Gauge::default();
        let sockets = Gauge::default();
        registry.register(
            "graphql_requests",
            "GraphQL requests answered, by outcome",
            requests.clone(),
        );
        registry.register(
            "graphql_refused",
            "GraphQL requests refused before they ran, by reason",
            refused.clone(),
        );
        registry.register(
            "graphql_request_duration_seconds",
            "Time to answer a GraphQL request",
            request_seconds.clone(),
        );
        registry.register(
            "graph_calls",
            "Graph API calls, by method and outcome",
            calls.clone(),
        );
        registry.register(
            "graph_call_duration_seconds",
            "Time of one Graph API call",
            call_seconds.clone(),
        );
        registry.register(
            "cache_lookups",
            "Reads looked up in the upstream cache, by result",
            cache.clone(),
        );
        registry.register(
            "circuit_breaker_transitions",
            "Changes of the upstream circuit breaker's state, by the state entered",
            breaker.clone(),
        );
        registry.register(
            "webhook_deliveries",
            "Webhook deliveries received at /webhooks/meta, by outcome",
            deliveries.clone(),
        );
        registry.register(
            "webhook_changes",
            "Changes in accepted webhook deliveries, by result",
            changes.clone(),
        );
        registry.register(
            "webhook_changes_checked_here_only",
            "Webhook changes checked for retries by this replica alone because the shared Redis \
             was unavailable (a change another replica took may then reach subscribers again)",
            changes_checked_here_only.clone(),
        );
        registry.register(
            "subscriptions_active",
            "GraphQL subscriptions running (WebSocket and server-sent events)",
            subscriptions.clone(),
        );
        registry.register(
            "websockets_open",
            "GraphQL WebSocket connections open",
            sockets.clone(),
        );
        Metrics {
            registry,
            deliveries,
            changes,
            changes_checked_here_only,
            subscriptions,
            sockets,
            requests,
            refused,
            request_seconds,
            calls,
            call_seconds,
            cache,
            breaker,
        }
    }

    /// Adds the shared Redis's counters: calls by outcome and whether its circuit is open.
    pub(crate) fn register_redis(&mut self, redis: &crate::shared_redis::RedisMetrics) {
        self.registry.register(
            "redis_calls",
            "Calls to the shared Redis, by outcome (ok, error, timeout, skipped)",
            redis.calls.clone(),
        );
        self.registry.register(
            "redis_circuit_open",
            "1 while the shared Redis is not asked after failing, else 0",
            redis.circuit_open.clone(),
        );
    }

    /// Counts a change of the circuit breaker's state (`open`, `half_open`, `closed`).
    pub fn breaker_transition(&self, state: &str) {
        self.breaker
            .get_or_create(&BreakerLabels {
                state: state.to_owned(),
            })
            .inc();
    }

    /// Counts a GraphQL request and its time; `error_code` is its first error's code.
    pub fn graphql_request(&self, error_code: Option<&str>, elapsed: Duration) {
        let outcome = error_code.unwrap_or("ok").to_owned();
        self.requests
            .get_or_create(&RequestLabels { outcome })
            .inc();
        self.request_seconds.observe(elapsed.as_secs_f64());
    }

    /// Counts a request refused before it ran (by `reason`, a fixed label of the server's).
    pub fn graphql_refused(&self, reason: &str) {
        self.refused
            .get_or_create(&RefusalLabels {
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// Counts a Graph API call that was sent (`elapsed` is `Some`) or held back.
    pub fn graph_call(
        &self,
        method: &str,
        outcome: &str,
        code: Option<i64>,
        elapsed: Option<Duration>,
    ) {
        let labels = CallLabels {
            method: method.to_owned(),
            outcome: outcome.to_owned(),
            code: code.map(|c| c.to_string()).unwrap_or_default(),
        };
        self.calls.get_or_create(&labels).inc();
        if let Some(elapsed) = elapsed {
            self.call_seconds.observe(elapsed.as_secs_f64());
        }
    }

    /// Counts a cache lookup.
    pub fn cache_lookup(&self, hit: bool) {
        let result = if hit { "hit" } else { "miss" }.to_owned();
        self.cache.get_or_create(&CacheLabels { result }).inc();
    }

    /// Counts a webhook delivery by its outcome (a fixed label of the server's).
    pub fn webhook_delivery(&self, outcome: &str) {
        self.deliveries
            .get_or_create(&DeliveryLabels {
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// Counts the changes of an accepted delivery.
    pub fn webhook_changes(&self, new: usize, duplicate: usize, ignored: usize) {
        for (result, n) in [("new", new), ("duplicate", duplicate), ("ignored", ignored)] {
            if n > 0 {
                self.changes
                    .get_or_create(&ChangeLabels {
                        result: result.to_owned(),
                    })
                    .inc_by(n as u64);
            }
        }
    }

    /// Counts changes checked for retries by this replica alone while Redis was unavailable.
    pub(crate) fn webhook_changes_checked_here_only(&self, changes: usize) {
        if changes > 0 {
            self.changes_checked_here_only.inc_by(changes as u64);
        }
    }

    /// The gauge of running subscriptions.
    pub fn subscriptions(&self) -> &Gauge {
        &self.subscriptions
    }

    /// The gauge of open GraphQL WebSockets.
    pub fn websockets(&self) -> &Gauge {
        &self.sockets
    }

    /// The metrics in Prometheus' text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_render_in_prometheus_text_format() {
        let metrics = Metrics::new();
        metrics.graphql_request(None, Duration::from_millis(3));
        metrics.graphql_request(Some("NOT_FOUND"), Duration::from_millis(3));
        metrics.graph_call(
            "GET",
            "graph_error",
            Some(100),
            Some(Duration::from_millis(2)),
        );
        metrics.graph_call("GET", "held_back", None, None);
        metrics.cache_lookup(true);
        metrics.breaker_transition("open");
        let text = metrics.render();
        assert!(
            text.contains(r#"bizgraph_circuit_breaker_transitions_total{state="open"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"bizgraph_graphql_requests_total{outcome="ok"} 1"#),
            "{text}"
        );
        assert!(text.contains(r#"bizgraph_graphql_requests_total{outcome="NOT_FOUND"} 1"#));
        assert!(text.contains(
            r#"bizgraph_graph_calls_total{method="GET",outcome="graph_error",code="100"} 1"#
        ));
        assert!(
            text.contains(
                r#"bizgraph_graph_calls_total{method="GET",outcome="held_back",code=""} 1"#
            )
        );
        assert!(text.contains(r#"bizgraph_cache_lookups_total{result="hit"} 1"#));
        assert!(text.contains("bizgraph_graph_call_duration_seconds_count 1"));
    }
}
