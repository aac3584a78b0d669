//! The HTTP client for the Graph API: versioned URLs, the token in the `Authorization` header,
//! `appsecret_proof`, timeouts, retries of what is retryable, error classification, a cap on
//! answer sizes, the circuit breaker and each request's budget of calls.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::header::AUTHORIZATION;
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;

use super::breaker::{Breaker, BreakerSettings, BreakerState, Outcome, Permit};
use super::error::{ApiError, GraphError};
use super::fields::FieldSet;
use super::is_node_id;
use super::model::answer_for_cache;
use super::paging::{GraphList, PageRequest};
use super::proof::appsecret_proof;
use super::throttle::{Admission, UsageGovernor, UsageStore};
use super::usage::UsageReport;
use super::write::{GraphWrite, WriteAnswer, WriteMethod};
use crate::cache::{CacheKey, FreshAnswer, UpstreamCache};
use crate::log_window::log_window;
use crate::metrics::Metrics;
use crate::token::{AccessToken, Fingerprinter, TokenFingerprint};

/// Graph reads at most this many ids in one `?ids=` call (docs/graph-api.md §2).
pub(crate) const MAX_IDS_PER_CALL: usize = 50;

/// How many times a retryable read is sent again before its error is reported.
const READ_RETRIES: u32 = 2;

/// Where and how to reach the Graph API.
#[derive(Clone)]
pub struct GraphSettings {
    /// Base URL without version, e.g. `https://graph.facebook.com`.
    pub base_url: String,
    /// API version, e.g. `v25.0`.
    pub version: String,
    /// App secret for `appsecret_proof`.
    pub app_secret: Option<String>,
    /// Timeout of one HTTP call.
    pub timeout: Duration,
    /// The answer cache reads go through.
    pub cache: UpstreamCache,
    /// The keyed token fingerprints that cache keys and usage are stored under; replicas that
    /// share stores must share its key.
    pub fingerprints: Fingerprinter,
    /// Where the usage Graph reports is remembered, for the governor.
    pub usage: Arc<dyn UsageStore>,
    /// Where calls are counted.
    pub metrics: Arc<Metrics>,
    /// The largest answer read from Graph, in bytes; a larger one fails the call.
    pub max_response_bytes: u64,
    /// When the circuit breaker in front of the upstream host opens.
    pub breaker: BreakerSettings,
}

/// A Graph API client, cheap to clone; one per gateway process.
#[derive(Clone)]
pub struct GraphClient {
    inner: Arc<Inner>,
    /// Where this handle counts its calls, when it serves one GraphQL request.
    stats: Option<Arc<CallStats>>,
    /// The calls this handle may still send, when it serves one GraphQL request.
    budget: Option<Arc<CallBudget>>,
}

/// How many Graph calls one GraphQL request may send. Every call sent over HTTP counts:
/// `?ids=` chunks, the batch re-read of a chunk that failed, retries. A read answered from the
/// cache, or by an identical read of another request already in flight, sends nothing and is
/// free. Past the budget a call is not sent and fails with [`GraphError::BudgetExceeded`].
#[derive(Debug)]
struct CallBudget {
    max: usize,
    sent: AtomicUsize,
}

impl CallBudget {
    /// Takes one call, or refuses when none is left; the count never passes `max`, so
    /// concurrent calls cannot overdraw it.
    fn take(&self) -> Result<(), GraphError> {
        self.sent
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |sent| {
                (sent < self.max).then_some(sent + 1)
            })
            .map(drop)
            .map_err(|_| GraphError::BudgetExceeded { max: self.max })
    }

    fn left(&self) -> usize {
        self.max.saturating_sub(self.sent.load(Ordering::Acquire))
    }
}

/// What one GraphQL request cost upstream, counted by the handles made for it.
#[derive(Debug, Default)]
pub struct CallStats {
    graph_calls: AtomicU64,
    cache_hits: AtomicU64,
}

impl CallStats {
    /// HTTP calls sent to Graph (retries included).
    pub fn graph_calls(&self) -> u64 {
        self.graph_calls.load(Ordering::Relaxed)
    }

    /// Reads answered from the cache (or by an identical read already in flight).
    pub fn cache_hits(&self) -> u64 {
        self.cache_hits.load(Ordering::Relaxed)
    }
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    version: Arc<str>,
    app_secret: Option<String>,
    cache: UpstreamCache,
    fingerprints: Fingerprinter,
    governor: UsageGovernor,
    metrics: Arc<Metrics>,
    max_response_bytes: u64,
    breaker: Breaker,
    /// The upstream host and port, for messages and logs.
    host: Arc<str>,
}

/// A Graph path: the node id and, for edge calls, the edge name.
type Segments<'a> = &'a [&'a str];

impl GraphClient {
    /// Builds a client; fails when the base URL or version is malformed.
    pub fn new(settings: GraphSettings) -> Result<GraphClient, GraphError> {
        let base = Url::parse(&settings.base_url).map_err(|e| {
            GraphError::InvalidSettings(format!("graph URL {:?}: {e}", settings.base_url))
        })?;
        if base.cannot_be_a_base() || !matches!(base.scheme(), "http" | "https") {
            return Err(GraphError::InvalidSettings(format!(
                "graph URL {:?} must be an http(s) URL",
                settings.base_url
            )));
        }
        if !is_version(&settings.version) {
            return Err(GraphError::InvalidSettings(format!(
                "graph version {:?} must look like v25.0",
                settings.version
            )));
        }
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("bizgraph/", env!("CARGO_PKG_VERSION")))
            // reqwest's default today, stated so that no change of default can bring Nagle's
            // algorithm back: it would hold a request's last small write back until Graph
            // acknowledges the previous one.
            .tcp_nodelay(true)
            // A redirect is an upstream failure: following one would send the token's call
            // (and its appsecret_proof) wherever the redirect points.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| GraphError::Transport(e.without_url().to_string()))?;
        let host = match (base.host_str(), base.port_or_known_default()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            (None, _) => settings.base_url.clone(),
        };
        Ok(GraphClient {
            stats: None,
            budget: None,
            inner: Arc::new(Inner {
                http,
                base,
                version: settings.version.into(),
                app_secret: settings.app_secret,
                cache: settings.cache,
                fingerprints: settings.fingerprints,
                governor: UsageGovernor::on_store(settings.usage),
                metrics: settings.metrics,
                max_response_bytes: settings.max_response_bytes,
                breaker: Breaker::new(settings.breaker),
                host: host.into(),
            }),
        })
    }

    /// A handle on the same client that counts its calls into `stats` (one per GraphQL request).
    pub fn counting_into(&self, stats: Arc<CallStats>) -> GraphClient {
        GraphClient {
            inner: self.inner.clone(),
            stats: Some(stats),
            budget: self.budget.clone(),
        }
    }

    /// A handle on the same client that sends at most `max_calls` Graph calls in all (one per
    /// GraphQL request; see [`CallBudget`] for what counts).
    pub fn with_budget(&self, max_calls: usize) -> GraphClient {
        GraphClient {
            inner: self.inner.clone(),
            stats: self.stats.clone(),
            budget: Some(Arc::new(CallBudget {
                max: max_calls,
                sent: AtomicUsize::new(0),
            })),
        }
    }

    /// Refuses unless this handle's budget has `calls` left, without taking them: a write
    /// checks that its read-back fits too, so that it is never made only to fail afterwards.
    pub fn ensure_calls_left(&self, calls: usize) -> Result<(), GraphError> {
        match &self.budget {
            Some(budget) if budget.left() < calls => {
                Err(GraphError::BudgetExceeded { max: budget.max })
            }
            _ => Ok(()),
        }
    }

    fn budget_exhausted(&self) -> bool {
        self.budget
            .as_ref()
            .is_some_and(|budget| budget.left() == 0)
    }

    /// Reads one node with the given fields (`GET /{id}?fields=`).
    pub async fn node<T: DeserializeOwned>(
        &self,
        token: &AccessToken,
        id: &str,
        fields: &FieldSet,
    ) -> Result<T, GraphError> {
        let params = fields_param(fields);
        self.read(&[checked(id)?], params, token).await
    }

    /// Reads up to [`MAX_IDS_PER_CALL`] nodes in one call (`GET /?ids=a,b&fields=`, the ids in
    /// sorted order), keyed by id.
    pub async fn nodes<T: DeserializeOwned>(
        &self,
        token: &AccessToken,
        ids: &[String],
        fields: &FieldSet,
    ) -> Result<HashMap<String, T>, GraphError> {
        self.nodes_with_fields(token, ids, &fields.to_string())
            .await
    }

    /// [`GraphClient::nodes`] with an already rendered `fields` string (the DataLoader's key).
    pub async fn nodes_with_fields<T: DeserializeOwned>(
        &self,
        token: &AccessToken,
        ids: &[String],
        fields: &str,
    ) -> Result<HashMap<String, T>, GraphError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        if ids.len() > MAX_IDS_PER_CALL {
            return Err(GraphError::InvalidRequest(format!(
                "{} ids in one call; Graph reads at most {MAX_IDS_PER_CALL}",
                ids.len()
            )));
        }
        let mut sorted = Vec::with_capacity(ids.len());
        for id in ids {
            sorted.push(checked(id)?);
        }
        // The parameters are the cache key: sent sorted and once each, the same set of ids
        // asked in any order is the same read.
        sorted.sort_unstable();
        sorted.dedup();
        let mut params = vec![("ids".to_owned(), sorted.join(","))];
        if !fields.is_empty() {
            params.push(("fields".to_owned(), fields.to_owned()));
        }
        self.read(&[""], params, token).await
    }

    /// Reads up to [`MAX_IDS_PER_CALL`] nodes with one batch call of single reads, so that
    /// each id gets its own answer: an unreadable id fails a whole `?ids=` read, but only its
    /// own operation in a batch. Answers one result per id, in order.
    pub async fn nodes_one_by_one<T: DeserializeOwned>(
        &self,
        token: &AccessToken,
        ids: &[String],
        fields: &str,
    ) -> Result<Vec<Result<T, GraphError>>, GraphError> {
        let mut reads = Vec::with_capacity(ids.len());
        for id in ids {
            let params = if fields.is_empty() {
                Vec::new()
            } else {
                vec![("fields".to_owned(), fields.to_owned())]
            };
            reads.push((vec![checked(id)?.to_owned()], params));
        }
        self.batch_reads(token, reads).await
    }

    /// Reads a page of each of several edges with one batch call, each edge with its own
    /// answer: Graph refuses an edge that needs a role the token lacks on its own, without
    /// failing the others. `reads` are `(node id, edge, fields, page)`; at most
    /// [`MAX_IDS_PER_CALL`]. Answers one result per read, in order.
    pub async fn edges_one_by_one<T: DeserializeOwned>(
        &self,
        token: &AccessToken,
        reads: &[(&str, &str, &FieldSet, &PageRequest)],
    ) -> Result<Vec<Result<GraphList<T>, GraphError>>, GraphError> {
        let mut operations = Vec::with_capacity(reads.len());
        for (id, edge, fields, page) in reads {
            let segments = vec![checked(id)?.to_owned(), (*edge).to_owned()];
            operations.push((segments, edge_params(fields, page)));
        }
        self.batch_reads(token, operations).await
    }

    /// Sends GETs as one batch call, each `(path segments, parameters)`; answers each
    /// operation's own outcome, in order. The outer error is a failure of the whole call.
    async fn batch_reads<T: DeserializeOwned>(
        &self,
        token: &AccessToken,
        reads: Vec<BatchRead>,
    ) -> Result<Vec<Result<T, GraphError>>, GraphError> {
        if reads.len() > MAX_IDS_PER_CALL {
            return Err(GraphError::InvalidRequest(format!(
                "{} operations in one batch; Graph takes at most {MAX_IDS_PER_CALL}",
                reads.len()
            )));
        }
        let operations: Vec<serde_json::Value> = reads
            .iter()
            .map(|(segments, params)| {
                let mut relative_url = format!("{}/{}", self.inner.version, segments.join("/"));
                if !params.is_empty() {
                    let query: String = url::form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(params)
                        .finish();
                    relative_url = format!("{relative_url}?{query}");
                }
                serde_json::json!({"method": "GET", "relative_url": relative_url})
            })
            .collect();
        let params = vec![
            // Graph wants the token as a batch parameter even when the header carries it; it
            // travels in the POST body, never in a URL.
            ("access_token".to_owned(), token.expose().to_owned()),
            (
                "batch".to_owned(),
                serde_json::Value::Array(operations).to_string(),
            ),
            ("include_headers".to_owned(), "false".to_owned()),
        ];
        // A read, though sent as a POST: it is neither cached nor an invalidating write.
        let fingerprint = self.inner.fingerprints.fingerprint(token);
        let body = self
            .send(&Method::POST, &[""], &params, token, fingerprint, None)
            .await?;
        let answers: Vec<Option<BatchAnswer>> = decode(&body)?;
        if answers.len() != reads.len() {
            return Err(GraphError::Decode(format!(
                "a batch of {} operations was answered with {} results",
                reads.len(),
                answers.len()
            )));
        }
        Ok(answers
            .into_iter()
            .map(|answer| match answer {
                None => Err(GraphError::Timeout),
                Some(answer) if (200..300).contains(&answer.code) => {
                    serde_json::from_str(&answer.body)
                        .map_err(|e| GraphError::Decode(e.to_string()))
                }
                Some(answer) => Err(
                    match ApiError::from_body(answer.code, answer.body.as_bytes()) {
                        Some(api) => self.api_failure(api),
                        None => GraphError::Decode(format!(
                            "batch operation answered HTTP {} without a Graph error",
                            answer.code
                        )),
                    },
                ),
            })
            .collect())
    }

    /// Reads one page of an edge (`GET /{id}/{edge}?fields=&limit=&after=`).
    pub async fn edge<T: DeserializeOwned>(
        &self,
        token: &AccessToken,
        id: &str,
        edge: &str,
        fields: &FieldSet,
        page: &PageRequest,
    ) -> Result<GraphList<T>, GraphError> {
        self.read(&[checked(id)?, edge], edge_params(fields, page), token)
            .await
    }

    /// Forgets every cached answer, of any token, that mentions one of `ids`: for changes made
    /// on Meta's side that a webhook reports.
    pub(crate) async fn forget_mentions(&self, ids: &[&str]) {
        self.inner.cache.invalidate_mentions(ids).await;
    }

    /// Sends a write (`POST` or `DELETE` on its node or edge). Unless Graph refused it, every
    /// cached answer of the caller and every answer mentioning an object it touches is
    /// forgotten, even when the answer was lost: the write may have happened.
    pub async fn apply(
        &self,
        token: &AccessToken,
        write: &dyn GraphWrite,
    ) -> Result<WriteAnswer, GraphError> {
        let node = checked(write.node())?;
        let segments: Vec<&str> = std::iter::once(node).chain(write.edge()).collect();
        let method = match write.method() {
            WriteMethod::Post => Method::POST,
            WriteMethod::Delete => Method::DELETE,
        };
        let mut touched = vec![node.to_owned()];
        touched.extend(write.also_touches());
        self.write(
            method,
            &segments,
            write.params(),
            token,
            &touched,
            write.own_limit(),
        )
        .await
        .map(WriteAnswer)
    }

    /// A read: served from the cache when it holds the same read of the same token, else
    /// sent (with retries of temporary failures; concurrent identical reads share one call).
    async fn read<T: DeserializeOwned>(
        &self,
        segments: Segments<'_>,
        params: Vec<(String, String)>,
        token: &AccessToken,
    ) -> Result<T, GraphError> {
        let cache = &self.inner.cache;
        let fingerprint = self.inner.fingerprints.fingerprint(token);
        let key = CacheKey {
            token: fingerprint,
            version: self.inner.version.clone(),
            path: segments.join("/"),
            params: url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&params)
                .finish(),
        };
        // The ids an answer mentions are read here, in `graph/`, and stored as its tags, and
        // its page links (which carry the token) are left out: the cache never reads Graph
        // JSON, and never holds a token.
        let load = || async {
            let body = self
                .send_with_retries(segments, &params, token, fingerprint)
                .await?;
            if !cache.keeps_answers() {
                // Nothing is kept: the answer goes to this request only, its ids and page
                // links as Graph wrote them (issue 7: 21,000 instructions per W1 read).
                return Ok(FreshAnswer {
                    body,
                    mentions: Vec::new(),
                });
            }
            let (body, mentions) = answer_for_cache(body);
            Ok(FreshAnswer { body, mentions })
        };
        let mut loaded = cache.get_or_load(key.clone(), load()).await;
        if matches!(loaded, Err(GraphError::BudgetExceeded { .. })) && !self.budget_exhausted() {
            // The budget that ran out was another request's, whose identical read this one
            // joined while it was in flight: this request reads on its own budget.
            loaded = cache.get_or_load(key, load()).await;
        }
        let hit = matches!(loaded, Ok((_, true)));
        self.inner.metrics.cache_lookup(hit);
        if hit && let Some(stats) = &self.stats {
            stats.cache_hits.fetch_add(1, Ordering::Relaxed);
        }
        let (answer, _) = loaded?;
        decode(&answer.body)
    }

    /// A write: sent once (a write that failed in transit may still have happened, so it is
    /// never sent twice), then the cache forgets what it may have changed: the first path
    /// segment is the object written to or below.
    async fn write(
        &self,
        method: Method,
        segments: Segments<'_>,
        params: Vec<(String, String)>,
        token: &AccessToken,
        touched: &[String],
        own_limit: Option<Duration>,
    ) -> Result<Vec<u8>, GraphError> {
        let fingerprint = self.inner.fingerprints.fingerprint(token);
        let result = self
            .send(&method, segments, &params, token, fingerprint, own_limit)
            .await;
        // Graph refused the write (an error envelope): nothing changed. Otherwise, even when
        // the answer was lost, it may have happened.
        if !matches!(result, Err(GraphError::Api(_))) {
            let touched: Vec<&str> = touched.iter().map(String::as_str).collect();
            self.inner
                .cache
                .invalidate_after_write(fingerprint, &touched)
                .await;
        }
        result
    }

    /// Sends a read, retrying it while its failure is temporary.
    async fn send_with_retries(
        &self,
        segments: Segments<'_>,
        params: &[(String, String)],
        token: &AccessToken,
        fingerprint: TokenFingerprint,
    ) -> Result<Vec<u8>, GraphError> {
        let mut attempt = 0;
        loop {
            match self
                .send(&Method::GET, segments, params, token, fingerprint, None)
                .await
            {
                Err(error) if attempt < READ_RETRIES && error.is_retryable() => {
                    attempt += 1;
                    let backoff = Duration::from_millis(100 * 2u64.pow(attempt - 1))
                        + Duration::from_millis(rand::rng().random_range(0..100));
                    tracing::debug!(
                        attempt,
                        backoff_ms = backoff.as_millis() as u64,
                        code = error.api().map(|a| a.code),
                        "retrying a Graph read after a temporary failure"
                    );
                    tokio::time::sleep(backoff).await;
                }
                result => return result,
            }
        }
    }

    /// Sends one call: builds it, admits it (throttle, breaker, budget), sends it and reads
    /// the answer within the cap, then classifies what Graph said. `own_limit`: see
    /// [`GraphWrite::own_limit`].
    async fn send(
        &self,
        method: &Method,
        segments: Segments<'_>,
        params: &[(String, String)],
        token: &AccessToken,
        fingerprint: TokenFingerprint,
        own_limit: Option<Duration>,
    ) -> Result<Vec<u8>, GraphError> {
        use tracing::Instrument;
        let path = segments.join("/");
        // One span per call (exported with --otlp-endpoint): the method, the path of ids and
        // edges (never the token, which travels in a header), and Graph's error code.
        let span = tracing::info_span!(
            "graph_call",
            method = %method,
            path = %path,
            graph_error_code = tracing::field::Empty,
            error_code = tracing::field::Empty,
        );
        let result = self
            .send_unobserved(
                method,
                segments,
                &path,
                params,
                token,
                fingerprint,
                own_limit,
            )
            .instrument(span.clone())
            .await;
        if let Err(error) = &result {
            if let Some(api) = error.api() {
                span.record("graph_error_code", api.code);
            }
            span.record(
                "error_code",
                crate::error::ErrorCode::from(error.class()).as_str(),
            );
        }
        result
    }

    /// `send` without its span.
    #[allow(clippy::too_many_arguments)]
    async fn send_unobserved(
        &self,
        method: &Method,
        segments: Segments<'_>,
        path: &str,
        params: &[(String, String)],
        token: &AccessToken,
        fingerprint: TokenFingerprint,
        own_limit: Option<Duration>,
    ) -> Result<Vec<u8>, GraphError> {
        let request = self.build_request(method, segments, params, token)?;
        let path = path.to_owned();
        let node = segments.first().copied().filter(|id| !id.is_empty());
        let probe = self.admit(method, &path, fingerprint, node).await?;
        let started = Instant::now();
        let answer = self.call(method, &path, request, probe, started).await?;
        self.classify_answer(method, &path, fingerprint, answer, started, own_limit)
            .await
    }

    /// The HTTP request for a call: the versioned URL, the token in the `Authorization` header
    /// (never in the URL), the parameters in the query or the form, and the appsecret_proof.
    fn build_request(
        &self,
        method: &Method,
        segments: Segments<'_>,
        params: &[(String, String)],
        token: &AccessToken,
    ) -> Result<reqwest::RequestBuilder, GraphError> {
        let inner = &self.inner;
        let mut url = inner.base.clone();
        {
            let mut path = url.path_segments_mut().map_err(|()| {
                GraphError::InvalidSettings("graph URL cannot take a path".to_owned())
            })?;
            path.pop_if_empty().push(&inner.version);
            for segment in segments {
                path.push(segment);
            }
        }
        let mut params = params.to_vec();
        if let Some(secret) = &inner.app_secret {
            params.push((
                "appsecret_proof".to_owned(),
                appsecret_proof(secret, token.expose()),
            ));
        }
        let request = inner
            .http
            .request(method.clone(), url)
            .header(AUTHORIZATION, format!("Bearer {}", token.expose()));
        Ok(if *method == Method::POST {
            request.form(&params)
        } else {
            request.query(&params)
        })
    }

    /// Lets a call go, or refuses it: held back while Graph throttles its token or business
    /// (spaced out near the limit), refused while the breaker is open, refused past the
    /// request's budget. Answers whether the call is the breaker's half-open probe.
    async fn admit(
        &self,
        method: &Method,
        path: &str,
        fingerprint: TokenFingerprint,
        node: Option<&str>,
    ) -> Result<bool, GraphError> {
        let inner = &self.inner;
        match inner.governor.admit(fingerprint, node).await {
            Admission::HoldBack(wait) => {
                inner
                    .metrics
                    .graph_call(method.as_str(), "held_back", None, None);
                tracing::debug!(path = %path, wait_s = wait.as_secs(), "held a Graph call back while Graph throttles");
                if let Some(suppressed) = log_window().should_log("graph_call_held_back") {
                    tracing::warn!(
                        wait_s = wait.as_secs(),
                        suppressed,
                        "Graph throttles a token or business: holding its calls back"
                    );
                }
                return Err(GraphError::HeldBack(wait));
            }
            Admission::Proceed(pause) if !pause.is_zero() => {
                tracing::debug!(path = %path, pause_ms = pause.as_millis() as u64, "spacing Graph calls out near the rate limit");
                if let Some(suppressed) = log_window().should_log("graph_calls_spaced_out") {
                    tracing::info!(
                        pause_ms = pause.as_millis() as u64,
                        suppressed,
                        "spacing Graph calls out near the rate limit"
                    );
                }
                tokio::time::sleep(pause).await;
            }
            Admission::Proceed(_) => {}
        }
        let probe = match inner.breaker.admit() {
            (Permit::Refuse(retry_in), _) => {
                inner
                    .metrics
                    .graph_call(method.as_str(), "breaker_open", None, None);
                tracing::debug!(path = %path, "refused a Graph call while the circuit breaker is open");
                return Err(GraphError::CircuitOpen {
                    host: inner.host.to_string(),
                    retry_in,
                });
            }
            (Permit::Proceed { probe }, transition) => {
                self.breaker_changed(transition);
                probe
            }
        };
        if let Some(budget) = &self.budget
            && let Err(error) = budget.take()
        {
            inner.breaker.abandon(probe);
            inner
                .metrics
                .graph_call(method.as_str(), "over_budget", None, None);
            return Err(error);
        }
        if let Some(stats) = &self.stats {
            stats.graph_calls.fetch_add(1, Ordering::Relaxed);
        }
        Ok(probe)
    }

    /// Sends an admitted call and reads its answer, at most the configured cap of it. A
    /// redirect is an upstream failure, never followed. The breaker learns whether the host
    /// answered.
    async fn call(
        &self,
        method: &Method,
        path: &str,
        request: reqwest::RequestBuilder,
        probe: bool,
        started: Instant,
    ) -> Result<RawAnswer, GraphError> {
        let inner = &self.inner;
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => return Err(self.transport_failure(method, error, probe, started)),
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        if (300..400).contains(&status) {
            // The host answered, so it is up; but the answer is not Graph's.
            self.breaker_changed(inner.breaker.record(probe, Outcome::Answered));
            inner
                .metrics
                .graph_call(method.as_str(), "redirect", None, Some(started.elapsed()));
            if let Some(suppressed) = log_window().should_log("graph_redirect") {
                tracing::warn!(
                    status,
                    suppressed,
                    "the Graph API answered with a redirect, which bizgraph does not follow; check --graph-url"
                );
            }
            return Err(GraphError::Redirected { status });
        }
        let body = match read_capped(response, inner.max_response_bytes).await {
            Ok(body) => body,
            Err(BodyFailure::TooLarge) => {
                self.breaker_changed(inner.breaker.record(probe, Outcome::Answered));
                inner.metrics.graph_call(
                    method.as_str(),
                    "too_large",
                    None,
                    Some(started.elapsed()),
                );
                if let Some(suppressed) = log_window().should_log("graph_answer_too_large") {
                    tracing::warn!(
                        path = %path,
                        limit_bytes = inner.max_response_bytes,
                        suppressed,
                        "abandoned a Graph answer larger than the cap (--max-upstream-response-mb)"
                    );
                }
                return Err(GraphError::TooLarge {
                    limit_bytes: inner.max_response_bytes,
                });
            }
            Err(BodyFailure::Transport(error)) => {
                return Err(self.transport_failure(method, error, probe, started));
            }
        };
        // Graph's 5xx answers (codes 1 and 2 among them) say it is failing; its 4xx error
        // envelopes, rate limits included, are Graph working as it should.
        let outcome = if status >= 500 {
            Outcome::Failed
        } else {
            Outcome::Answered
        };
        self.breaker_changed(inner.breaker.record(probe, outcome));
        Ok(RawAnswer {
            status,
            headers,
            body,
        })
    }

    /// What Graph's answer means: the body of a success, or the error its envelope carries.
    /// The usage headers of either go to the governor; metrics count the outcome.
    async fn classify_answer(
        &self,
        method: &Method,
        path: &str,
        fingerprint: TokenFingerprint,
        answer: RawAnswer,
        started: Instant,
        own_limit: Option<Duration>,
    ) -> Result<Vec<u8>, GraphError> {
        let inner = &self.inner;
        let RawAnswer {
            status,
            headers,
            body,
        } = answer;
        let elapsed = started.elapsed();
        tracing::debug!(
            method = %method,
            path = %path,
            status,
            elapsed_ms = elapsed.as_millis() as u64,
            "graph call"
        );
        let usage = UsageReport::from_headers(&headers);
        if (200..300).contains(&status) {
            inner
                .metrics
                .graph_call(method.as_str(), "ok", None, Some(elapsed));
            inner.governor.observe(fingerprint, &usage, None).await;
            return Ok(body);
        }
        let api = ApiError::from_body(status, &body);
        inner.metrics.graph_call(
            method.as_str(),
            "graph_error",
            api.as_ref().map(|api| api.code),
            Some(elapsed),
        );
        match api {
            Some(mut api) => {
                // Business use case throttles say when access returns; the others do not.
                if api.is_business_use_case_throttle() {
                    api.retry_after = usage.regain_wait();
                }
                // A limit of the write's own holds none of the token's other calls back.
                let own = own_limit.filter(|_| api.is_throttle());
                if own.is_some() {
                    api.retry_after = own;
                }
                let token_throttle = if own.is_some() { None } else { Some(&api) };
                inner
                    .governor
                    .observe(fingerprint, &usage, token_throttle)
                    .await;
                tracing::debug!(
                    method = %method,
                    path = %path,
                    status,
                    code = api.code,
                    subcode = api.subcode,
                    fbtrace_id = api.fbtrace_id.as_deref(),
                    "graph call failed"
                );
                Err(self.api_failure(api))
            }
            None if status >= 500 => Err(GraphError::Transport(format!(
                "HTTP {status} without a Graph error body"
            ))),
            None => Err(GraphError::Decode(format!(
                "HTTP {status} without a Graph error body"
            ))),
        }
    }
}

/// An answer as it came off the wire: status, headers and the body read within the cap.
struct RawAnswer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl GraphClient {
    /// The error for a Graph error envelope. A refused appsecret_proof is the operator's
    /// misconfiguration, not the caller's bad input: it becomes
    /// [`GraphError::AppSecretRejected`], and the log says what to fix (once per window).
    fn api_failure(&self, api: ApiError) -> GraphError {
        if !api.is_about_appsecret_proof() {
            return GraphError::Api(Box::new(api));
        }
        let proof_sent = self.inner.app_secret.is_some();
        let condition = if proof_sent {
            "graph_appsecret_proof_wrong"
        } else {
            "graph_appsecret_proof_missing"
        };
        if let Some(suppressed) = log_window().should_log(condition) {
            if proof_sent {
                tracing::error!(
                    suppressed,
                    fbtrace_id = api.fbtrace_id.as_deref(),
                    "Graph refused bizgraph's appsecret_proof: the configured app secret is not \
                     the Meta app's; set --app-secret (BIZGRAPH_APP_SECRET) to the secret of the \
                     app whose tokens callers send (App Dashboard, Settings, Basic)"
                );
            } else {
                tracing::error!(
                    suppressed,
                    fbtrace_id = api.fbtrace_id.as_deref(),
                    "Graph requires an appsecret_proof and bizgraph has no app secret: set \
                     --app-secret (BIZGRAPH_APP_SECRET) to the Meta app's secret"
                );
            }
        }
        GraphError::AppSecretRejected { proof_sent }
    }

    /// Counts, logs (once per window) and reports to the breaker a call that got no complete
    /// answer.
    fn transport_failure(
        &self,
        method: &Method,
        error: reqwest::Error,
        probe: bool,
        started: Instant,
    ) -> GraphError {
        let inner = &self.inner;
        self.breaker_changed(inner.breaker.record(probe, Outcome::Failed));
        let error = transport_error(error);
        let (outcome, condition) = if matches!(error, GraphError::Timeout) {
            ("timeout", "graph_timeout")
        } else {
            ("transport", "graph_unreachable")
        };
        inner
            .metrics
            .graph_call(method.as_str(), outcome, None, Some(started.elapsed()));
        if let Some(suppressed) = log_window().should_log(condition) {
            tracing::warn!(
                host = %inner.host,
                error = %error,
                suppressed,
                "a Graph call got no answer"
            );
        }
        error
    }

    /// Logs and counts a change of the breaker's state, once per transition.
    fn breaker_changed(&self, transition: Option<BreakerState>) {
        let Some(state) = transition else {
            return;
        };
        let inner = &self.inner;
        inner.metrics.breaker_transition(state.name());
        match state {
            BreakerState::Open => tracing::warn!(
                host = %inner.host,
                "the Graph API failed repeatedly: circuit breaker open, its calls fail at once \
                 until the cool-down ends"
            ),
            BreakerState::HalfOpen => tracing::info!(
                host = %inner.host,
                "circuit breaker half-open: one probe call goes to the Graph API"
            ),
            BreakerState::Closed => tracing::info!(
                host = %inner.host,
                "the Graph API answered the probe: circuit breaker closed"
            ),
        }
    }
}

/// Why an answer's body was not read whole.
enum BodyFailure {
    /// It was larger than the cap.
    TooLarge,
    /// The stream broke or timed out.
    Transport(reqwest::Error),
}

/// Reads an answer's body chunk by chunk, abandoning it as soon as it passes `cap` bytes, so
/// that a huge or endless answer never sits in memory.
async fn read_capped(mut response: reqwest::Response, cap: u64) -> Result<Vec<u8>, BodyFailure> {
    if response.content_length().is_some_and(|length| length > cap) {
        return Err(BodyFailure::TooLarge);
    }
    let expected = response.content_length().unwrap_or(0).min(64 * 1024);
    let mut body = Vec::with_capacity(usize::try_from(expected).unwrap_or(0));
    while let Some(chunk) = response.chunk().await.map_err(BodyFailure::Transport)? {
        if (body.len() + chunk.len()) as u64 > cap {
            return Err(BodyFailure::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// One GET of a batch call: its path segments below the version, and its parameters.
type BatchRead = (Vec<String>, Vec<(String, String)>);

/// One element of a batch answer: the operation's HTTP status and its body as a string.
#[derive(serde::Deserialize)]
struct BatchAnswer {
    code: u16,
    #[serde(default)]
    body: String,
}

pub(crate) fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, GraphError> {
    serde_json::from_slice(body).map_err(|e| GraphError::Decode(e.to_string()))
}

fn is_version(version: &str) -> bool {
    version
        .strip_prefix('v')
        .and_then(|v| v.split_once('.'))
        .is_some_and(|(major, minor)| {
            !major.is_empty()
                && !minor.is_empty()
                && major.bytes().all(|b| b.is_ascii_digit())
                && minor.bytes().all(|b| b.is_ascii_digit())
        })
}

fn checked(id: &str) -> Result<&str, GraphError> {
    if is_node_id(id) {
        Ok(id)
    } else {
        Err(GraphError::InvalidRequest(format!(
            "{id:?} is not a Graph node id"
        )))
    }
}

fn fields_param(fields: &FieldSet) -> Vec<(String, String)> {
    if fields.is_empty() {
        Vec::new()
    } else {
        vec![("fields".to_owned(), fields.to_string())]
    }
}

/// The parameters of an edge read: its fields, its own filters, then the paging ones.
fn edge_params(fields: &FieldSet, page: &PageRequest) -> Vec<(String, String)> {
    let mut params = fields_param(fields);
    params.extend(page.filters.iter().cloned());
    if let Some(limit) = page.limit {
        params.push(("limit".to_owned(), limit.to_string()));
    }
    if let Some(after) = &page.after {
        params.push(("after".to_owned(), after.clone()));
    }
    if page.total_count {
        params.push(("summary".to_owned(), "total_count".to_owned()));
    }
    params
}

fn transport_error(error: reqwest::Error) -> GraphError {
    if error.is_timeout() {
        GraphError::Timeout
    } else {
        // The URL is dropped from the message: it is not secret, but it is noise for callers.
        GraphError::Transport(error.without_url().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_look_like_graph_versions() {
        assert!(is_version("v25.0"));
        assert!(!is_version("v25"));
        assert!(!is_version("25.0"));
        assert!(!is_version("vx.0"));
    }

    #[test]
    fn a_client_refuses_a_malformed_base_url() {
        let settings = |url: &str| GraphSettings {
            base_url: url.to_owned(),
            version: "v25.0".to_owned(),
            app_secret: None,
            timeout: Duration::from_secs(1),
            cache: UpstreamCache::disabled(),
            fingerprints: Fingerprinter::random(),
            usage: Arc::new(crate::graph::throttle::MemoryUsageStore::new()),
            metrics: Arc::new(Metrics::new()),
            max_response_bytes: 1024,
            breaker: BreakerSettings::default(),
        };
        assert!(GraphClient::new(settings("http://127.0.0.1:9")).is_ok());
        assert!(GraphClient::new(settings("not a url")).is_err());
        assert!(GraphClient::new(settings("mailto:a@b.c")).is_err());
    }
}
