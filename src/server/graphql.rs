//! GraphQL over HTTP: the POST and GET handlers and the execution of one request.

use std::sync::Arc;

use async_graphql::parser::types::{ExecutableDocument, OperationType};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Extension, RawQuery, State};
use axum::http::header::{ALLOW, AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;

use super::guards::{
    expanded_field_count, missing_variable, nesting_depth, operation_type, selects_introspection,
    value_depth,
};
use super::response::{
    ExecutionStarted, MediaType, answer_bytes, cap_errors, ensure_code, null_failed_fields,
    request_error,
};
use super::{AppState, Deadline, MAX_BODY_BYTES, MAX_EXPANDED_FIELDS, MAX_QUERY_NESTING};
use crate::error::ErrorCode;
use crate::graph::{AccessToken, CallStats};

/// Why a request was refused before it ran: the `reason` label of
/// `bizgraph_graphql_refused_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The client accepts neither media type the server answers in.
    NotAcceptable,
    /// A POST whose body is not JSON.
    UnsupportedMediaType,
    /// A body over the size limit or cut short.
    BodyUnreadable,
    /// Not a GraphQL-over-HTTP request: bad JSON, no `query`, wrong member types.
    MalformedRequest,
    /// A mutation or subscription sent with GET.
    MutationOverGet,
    /// Brackets (or variables) nested past the limit.
    TooDeep,
    /// The document does not parse.
    ParseFailed,
    /// Too many fields once fragments are spread out.
    TooManyFields,
    /// Validation, limits (depth, complexity) or variable coercion failed.
    Invalid,
    /// An automatic persisted query sent by a hash the gateway does not hold.
    PersistedQueryNotFound,
}

impl Refusal {
    /// The metric label.
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Refusal::NotAcceptable => "not_acceptable",
            Refusal::UnsupportedMediaType => "unsupported_media_type",
            Refusal::BodyUnreadable => "body_unreadable",
            Refusal::MalformedRequest => "malformed_request",
            Refusal::MutationOverGet => "mutation_over_get",
            Refusal::TooDeep => "too_deep",
            Refusal::ParseFailed => "parse_failed",
            Refusal::TooManyFields => "too_many_fields",
            Refusal::Invalid => "invalid",
            Refusal::PersistedQueryNotFound => "persisted_query_not_found",
        }
    }
}

/// Answers a request refused before it ran, and counts it.
fn refuse(
    state: &AppState,
    refusal: Refusal,
    media: MediaType,
    status: StatusCode,
    code: ErrorCode,
    message: &str,
) -> Response {
    state.metrics.graphql_refused(refusal.reason());
    tracing::info!(
        reason = refusal.reason(),
        status = status.as_u16(),
        "graphql request refused"
    );
    request_error(media, status, code, message)
}

/// The media type to answer in, or the 406 answer (in `application/json`, the one type every
/// GraphQL client reads).
fn negotiate(state: &AppState, headers: &HeaderMap) -> Result<MediaType, Box<Response>> {
    MediaType::negotiate(headers).ok_or_else(|| {
        Box::new(refuse(
            state,
            Refusal::NotAcceptable,
            MediaType::Json,
            StatusCode::NOT_ACCEPTABLE,
            ErrorCode::BadRequest,
            "the Accept header allows neither application/graphql-response+json nor \
             application/json, the types /graphql answers in",
        ))
    })
}

pub(super) async fn graphql_post(
    State(state): State<Arc<AppState>>,
    deadline: Option<Extension<Deadline>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let event_stream = super::sse::wants_event_stream(&headers);
    let media = if event_stream {
        // Errors before the stream starts are answered in JSON.
        MediaType::Json
    } else {
        match negotiate(&state, &headers) {
            Ok(media) => media,
            Err(response) => return *response,
        }
    };
    // Browsers send text/plain and form posts across origins without a preflight; accepting
    // only JSON closes that CSRF route.
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return refuse(
            &state,
            Refusal::UnsupportedMediaType,
            media,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::BadRequest,
            "POST /graphql takes a JSON body: send `Content-Type: application/json`",
        );
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            return refuse(
                &state,
                Refusal::BodyUnreadable,
                media,
                rejection.status(),
                ErrorCode::BadRequest,
                &format!(
                    "the request body could not be read (at most {MAX_BODY_BYTES} bytes): {}",
                    rejection.body_text()
                ),
            );
        }
    };
    let request = match graphql_request(&body) {
        Ok(request) => request,
        Err(message) => {
            return refuse(
                &state,
                Refusal::MalformedRequest,
                media,
                StatusCode::BAD_REQUEST,
                ErrorCode::BadRequest,
                &message,
            );
        }
    };
    let request = match resolve_persisted(&state, request, media).await {
        Ok(request) => request,
        Err(response) => return *response,
    };
    if event_stream {
        return super::sse::stream(state, &headers, request);
    }
    execute(&state, deadline, &headers, request, Transport::Post, media).await
}

/// A well-formed POST body, as GraphQL over HTTP defines its members.
#[derive(serde::Deserialize)]
struct WireRequest {
    #[serde(default)]
    query: String,
    #[serde(rename = "operationName", default)]
    operation_name: Option<String>,
    #[serde(default)]
    variables: Option<std::collections::BTreeMap<async_graphql::Name, async_graphql::Value>>,
    #[serde(default)]
    extensions: Option<std::collections::HashMap<String, async_graphql::Value>>,
}

/// A POST body as a GraphQL request, checked member by member as GraphQL over HTTP says:
/// `query` a string, `operationName` a string or null, `variables` and `extensions` maps or
/// null. async-graphql alone would take a variables string as JSON text.
fn graphql_request(body: &[u8]) -> Result<async_graphql::Request, String> {
    use serde_json::Value;
    // The common case in one pass; anything it cannot take is read again below, slowly, to
    // say exactly what is wrong.
    if let Ok(wire) = serde_json::from_slice::<WireRequest>(body)
        && (!wire.query.trim().is_empty()
            || wire
                .extensions
                .as_ref()
                .is_some_and(|e| e.contains_key(PERSISTED_QUERY)))
    {
        let mut request = async_graphql::Request::new(wire.query);
        if let Some(name) = wire.operation_name {
            request = request.operation_name(name);
        }
        if let Some(variables) = wire.variables {
            request = request.variables(async_graphql::Variables::from_value(
                async_graphql::Value::Object(variables.into_iter().collect()),
            ));
        }
        request.extensions = async_graphql::Extensions(wire.extensions.unwrap_or_default());
        return Ok(request);
    }
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let Value::Object(members) = &value else {
        return Err("the body must be a JSON object ({\"query\": ...})".to_owned());
    };
    let persisted = members
        .get("extensions")
        .and_then(|extensions| extensions.get(PERSISTED_QUERY))
        .is_some();
    match members.get("query") {
        Some(Value::String(query)) if !query.trim().is_empty() => {}
        Some(Value::String(_)) | None | Some(Value::Null) if persisted => {}
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return Err(
                "the body has no `query`: send {\"query\": \"{ viewer { name } }\"}".to_owned(),
            );
        }
        Some(_) => return Err("`query` must be a string".to_owned()),
    }
    for (member, allowed) in [
        ("operationName", "a string or null"),
        ("variables", "an object or null"),
        ("extensions", "an object or null"),
    ] {
        let ok = matches!(
            (member, members.get(member)),
            (_, None | Some(Value::Null))
                | ("operationName", Some(Value::String(_)))
                | ("variables" | "extensions", Some(Value::Object(_)))
        );
        if !ok {
            return Err(format!("`{member}` must be {allowed}"));
        }
    }
    serde_json::from_value(value)
        .map_err(|e| format!("the body is not a GraphQL request ({{\"query\": ...}}): {e}"))
}

/// `GET /graphql`: a WebSocket for subscriptions when the request asks to upgrade, else a
/// query in the query string.
pub(super) async fn graphql_get_or_upgrade(
    State(state): State<Arc<AppState>>,
    deadline: Option<Extension<Deadline>>,
    request: axum::extract::Request,
) -> Response {
    let (parts, _body) = request.into_parts();
    if super::ws::is_upgrade(&parts) {
        return super::ws::upgrade(state, parts).await;
    }
    let query = parts.uri.query().map(str::to_owned);
    graphql_get(State(state), deadline, parts.headers, RawQuery(query)).await
}

async fn graphql_get(
    State(state): State<Arc<AppState>>,
    deadline: Option<Extension<Deadline>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let media = match negotiate(&state, &headers) {
        Ok(media) => media,
        Err(response) => return *response,
    };
    let request = match get_request(query.as_deref().unwrap_or("")) {
        Ok(request) => request,
        Err(e) => {
            return refuse(
                &state,
                Refusal::MalformedRequest,
                media,
                StatusCode::BAD_REQUEST,
                ErrorCode::BadRequest,
                &format!("the query string is not a GraphQL request: {e}"),
            );
        }
    };
    let request = match resolve_persisted(&state, request, media).await {
        Ok(request) => request,
        Err(response) => return *response,
    };
    if request.query.trim().is_empty() {
        return refuse(
            &state,
            Refusal::MalformedRequest,
            media,
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            "GET /graphql needs a `query` parameter (or an `extensions` parameter with a \
             persistedQuery); GraphiQL is at /",
        );
    }
    execute(&state, deadline, &headers, request, Transport::Get, media).await
}

/// A GET request's query string as a GraphQL request: `query`, `operationName`, and
/// `variables` and `extensions` as JSON objects (GraphQL over HTTP's names, which Apollo's
/// clients send; async-graphql's own parser reads `operation_name` instead).
fn get_request(query_string: &str) -> Result<async_graphql::Request, String> {
    let mut query = None;
    let mut operation_name = None;
    let mut variables = None;
    let mut extensions = None;
    for (name, value) in url::form_urlencoded::parse(query_string.as_bytes()) {
        let slot = match name.as_ref() {
            "query" => &mut query,
            "operationName" => &mut operation_name,
            "variables" => &mut variables,
            "extensions" => &mut extensions,
            _ => continue,
        };
        if slot.replace(value.into_owned()).is_some() {
            return Err(format!("`{name}` is given more than once"));
        }
    }
    let object = |name: &str, text: Option<String>| -> Result<_, String> {
        match text.as_deref().map(str::trim) {
            None | Some("") | Some("null") => Ok(None),
            Some(text) => match serde_json::from_str::<serde_json::Value>(text) {
                Ok(serde_json::Value::Object(members)) => Ok(Some(members)),
                Ok(_) => Err(format!("`{name}` must be a JSON object")),
                Err(e) => Err(format!("`{name}` is not JSON: {e}")),
            },
        }
    };
    let variables = object("variables", variables)?;
    let extensions = object("extensions", extensions)?;
    let mut request = async_graphql::Request::new(query.unwrap_or_default());
    if let Some(name) = operation_name.filter(|name| !name.is_empty()) {
        request = request.operation_name(name);
    }
    if let Some(variables) = variables {
        request = request.variables(async_graphql::Variables::from_json(
            serde_json::Value::Object(variables),
        ));
    }
    if let Some(extensions) = extensions {
        for (name, value) in extensions {
            let value = async_graphql::Value::from_json(value)
                .map_err(|e| format!("`extensions` is not a GraphQL value: {e}"))?;
            request.extensions.insert(name, value);
        }
    }
    Ok(request)
}

/// The member of `extensions` that names an automatic persisted query.
const PERSISTED_QUERY: &str = "persistedQuery";

/// The only version of Apollo's automatic persisted queries.
const PERSISTED_QUERY_VERSION: i64 = 1;

/// The SHA-256 (64 lowercase hex digits) of the request's `extensions.persistedQuery`, if it
/// has one; why it is unusable otherwise.
fn persisted_query_hash(request: &async_graphql::Request) -> Result<Option<String>, String> {
    use async_graphql::Value;
    let Some(persisted) = request.extensions.get(PERSISTED_QUERY) else {
        return Ok(None);
    };
    let Value::Object(members) = persisted else {
        return Err(
            "`extensions.persistedQuery` must be an object: {\"version\": 1, \"sha256Hash\": \
             \"<64 hex digits>\"}"
                .to_owned(),
        );
    };
    match members.get("version") {
        Some(Value::Number(version)) if version.as_i64() == Some(PERSISTED_QUERY_VERSION) => {}
        Some(version) => {
            return Err(format!(
                "persisted query version {version} is not supported: send \
                 `extensions.persistedQuery.version` 1"
            ));
        }
        None => {
            return Err("`extensions.persistedQuery` needs `version`: 1".to_owned());
        }
    }
    match members.get("sha256Hash") {
        Some(Value::String(hash))
            if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            Ok(Some(hash.to_ascii_lowercase()))
        }
        _ => Err(
            "`extensions.persistedQuery.sha256Hash` must be the SHA-256 of the query as 64 hex \
             digits"
                .to_owned(),
        ),
    }
}

/// Apollo's automatic persisted queries, before any other step: a request with
/// `extensions.persistedQuery` and no `query` runs the document registered under its hash, or
/// is answered `PERSISTED_QUERY_NOT_FOUND` (HTTP 200, so that the client sends the query);
/// with a `query`, the hash must be the query's, and the document is registered once it
/// passes the guards that depend on its text alone. Either way the request then runs through
/// every guard as any other.
async fn resolve_persisted(
    state: &AppState,
    mut request: async_graphql::Request,
    media: MediaType,
) -> Result<async_graphql::Request, Box<Response>> {
    let bad_request = |message: &str| {
        Box::new(refuse(
            state,
            Refusal::MalformedRequest,
            media,
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            message,
        ))
    };
    let hash = match persisted_query_hash(&request) {
        Ok(Some(hash)) => hash,
        Ok(None) => return Ok(request),
        Err(message) => return Err(bad_request(&message)),
    };
    if request.query.trim().is_empty() {
        return match state.persisted.get(&hash).await {
            Some(query) => {
                request.query = query;
                Ok(request)
            }
            None => Err(Box::new(refuse(
                state,
                Refusal::PersistedQueryNotFound,
                media,
                ErrorCode::PersistedQueryNotFound.http_status(),
                ErrorCode::PersistedQueryNotFound,
                "PersistedQueryNotFound",
            ))),
        };
    }
    if crate::cache::persisted::sha256_hex(&request.query) != hash {
        return Err(bad_request("provided sha does not match query"));
    }
    if request.query.len() > MAX_BODY_BYTES {
        return Err(bad_request(&format!(
            "the query is longer than {MAX_BODY_BYTES} bytes"
        )));
    }
    // A document that fails its own guards is refused when it runs below, and never kept.
    if prepared_document(state, &request.query).is_ok() {
        state.persisted.put(&hash, &request.query).await;
    }
    Ok(request)
}

/// How a request arrived: GET may only read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Transport {
    Get,
    Post,
}

/// Longest operation name written to a log line; the name is the caller's to choose.
const LOGGED_NAME_CHARS: usize = 64;

/// One GraphQL request: prepare (the guards, the parsed document), run (under the request's
/// deadline), finish (codes, nulls, the error cap, one log line, the answer).
async fn execute(
    state: &AppState,
    deadline: Option<Extension<Deadline>>,
    headers: &HeaderMap,
    request: async_graphql::Request,
    transport: Transport,
    media: MediaType,
) -> Response {
    let document = match prepare(state, &request, transport, media) {
        Ok(document) => document,
        Err(refused) => return *refused,
    };
    let (context, stats) = state.request_context(bearer_token(headers));
    let run = Run {
        operation: request
            .operation_name
            .as_deref()
            .unwrap_or("-")
            .chars()
            .take(LOGGED_NAME_CHARS)
            .collect(),
        started: std::time::Instant::now(),
        stats,
        media,
    };
    let deadline = match deadline {
        Some(Extension(Deadline(at))) => at,
        None => tokio::time::Instant::now() + state.request_timeout,
    };
    let executed = Arc::new(ExecutionStarted::default());
    // The executor takes the document parsed by the guards instead of parsing it again.
    let mut request = request.data(context).data(executed.clone());
    request.set_parsed_query(ExecutableDocument::clone(&document));
    // One span per operation (exported with --otlp-endpoint), below the request's `http` span:
    // its name, its cost and its first error code, and the request id to find its log lines.
    let span = tracing::info_span!(
        "graphql",
        operation = %run.operation,
        request_id = headers
            .get("x-request-id")
            .and_then(|id| id.to_str().ok())
            .unwrap_or("-"),
        graph_calls = tracing::field::Empty,
        cache_hits = tracing::field::Empty,
        error_code = tracing::field::Empty,
        status = tracing::field::Empty,
    );
    let executing = tracing::Instrument::instrument(state.schema.execute(request), span.clone());
    let answer = match tokio::time::timeout_at(deadline, executing).await {
        Ok(response) => finish(state, &run, response, executed.get(), &span),
        Err(_elapsed) => {
            span.record("error_code", ErrorCode::GatewayTimeout.as_str());
            timed_out(state, &run)
        }
    };
    span.record("graph_calls", run.stats.graph_calls());
    span.record("cache_hits", run.stats.cache_hits());
    span.record("status", answer.status().as_u16());
    answer
}

/// A request refused before it ran, whatever its transport.
pub(crate) struct Refused {
    /// Why, for the metric.
    pub(crate) refusal: Refusal,
    /// The public code.
    pub(crate) code: ErrorCode,
    /// What to tell the caller.
    pub(crate) message: String,
}

impl Refused {
    fn new(refusal: Refusal, code: ErrorCode, message: impl Into<String>) -> Refused {
        Refused {
            refusal,
            code,
            message: message.into(),
        }
    }

    /// Counts and logs the refusal (as `refuse` does for HTTP answers).
    pub(crate) fn record(&self, state: &AppState, transport: &'static str) {
        state.metrics.graphql_refused(self.refusal.reason());
        tracing::info!(
            reason = self.refusal.reason(),
            transport,
            "graphql request refused"
        );
    }
}

/// The guards every request passes before it runs, over any transport: nesting of its
/// variables, the document's own checks (cached with it), introspection when it is off,
/// required variables.
pub(crate) fn checked_document(
    state: &AppState,
    request: &async_graphql::Request,
) -> Result<Arc<ExecutableDocument>, Refused> {
    // The variables map is one level; its values nest below it.
    let too_deep = request
        .variables
        .values()
        .chain(request.extensions.values())
        .any(|value| 1 + value_depth(value) > MAX_QUERY_NESTING);
    if too_deep {
        return Err(Refused::new(
            Refusal::TooDeep,
            ErrorCode::BadRequest,
            format!("the query or its variables nest deeper than {MAX_QUERY_NESTING} levels"),
        ));
    }
    let document = prepared_document(state, &request.query)?;
    if !state.introspection && selects_introspection(&document) {
        // async-graphql would answer `null` without a word; say why instead.
        return Err(Refused::new(
            Refusal::Invalid,
            ErrorCode::GraphqlValidationFailed,
            "introspection is turned off on this server (`__schema` and `__type`)",
        ));
    }
    if let Some(message) = missing_variable(&document, request) {
        return Err(Refused::new(
            Refusal::Invalid,
            ErrorCode::InvalidArgument,
            message,
        ));
    }
    Ok(document)
}

/// The guards of an HTTP request: those of every transport, and that GET only reads. Each
/// refusal is answered, counted and logged by `refuse`.
fn prepare(
    state: &AppState,
    request: &async_graphql::Request,
    transport: Transport,
    media: MediaType,
) -> Result<Arc<ExecutableDocument>, Box<Response>> {
    let document = checked_document(state, request).map_err(|refused| {
        Box::new(refuse(
            state,
            refused.refusal,
            media,
            media.request_error_status(),
            refused.code,
            &refused.message,
        ))
    })?;
    if transport == Transport::Get
        && let Some(kind) = operation_type(&document, request)
        && kind != OperationType::Query
    {
        let mut response = refuse(
            state,
            Refusal::MutationOverGet,
            media,
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::MethodNotAllowed,
            "only queries are accepted over GET; send mutations and subscriptions with POST",
        );
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
        return Err(Box::new(response));
    }
    Ok(document)
}

/// What a running request carries to its answer.
struct Run {
    /// The operation's name as logged (cut short: the caller chooses it).
    operation: String,
    started: std::time::Instant,
    stats: Arc<CallStats>,
    media: MediaType,
}

/// The answer of a request past its deadline: 504, no data, and whatever it sent counted.
fn timed_out(state: &AppState, run: &Run) -> Response {
    state.metrics.graphql_request(
        Some(ErrorCode::GatewayTimeout.as_str()),
        run.started.elapsed(),
    );
    tracing::info!(
        operation = %run.operation,
        status = 504,
        elapsed_ms = run.started.elapsed().as_millis() as u64,
        graph_calls = run.stats.graph_calls(),
        "graphql request timed out"
    );
    request_error(
        run.media,
        ErrorCode::GatewayTimeout.http_status(),
        ErrorCode::GatewayTimeout,
        &format!(
            "the request took longer than {} seconds and was abandoned; a mutation in it may \
             still have been applied",
            state.request_timeout.as_secs_f64()
        ),
    )
}

/// The answer of a request the executor returned: every error coded, failed nullable fields
/// `null`, at most `MAX_ERRORS` errors, no `data` when it never executed, the cost, and one
/// bounded log line.
fn finish(
    state: &AppState,
    run: &Run,
    mut response: async_graphql::Response,
    executed: bool,
    span: &tracing::Span,
) -> Response {
    for error in &mut response.errors {
        ensure_code(error);
    }
    if !executed {
        // Validation, a limit or variable coercion refused it: GraphQL over HTTP answers
        // without `data`.
        state.metrics.graphql_refused(Refusal::Invalid.reason());
    }
    null_failed_fields(&mut response.data, &response.errors);
    cap_errors(&mut response.errors);
    let codes: Vec<&str> = response
        .errors
        .iter()
        .filter_map(|e| match e.extensions.as_ref()?.get("code")? {
            async_graphql::Value::String(code) => Some(code.as_str()),
            _ => None,
        })
        .collect();
    state
        .metrics
        .graphql_request(codes.first().copied(), run.started.elapsed());
    if let Some(code) = codes.first() {
        span.record("error_code", *code);
    }
    let status = if executed {
        StatusCode::OK
    } else {
        run.media.request_error_status()
    };
    // One line per request, bounded: a few distinct codes, never a caller's text but the
    // (truncated) operation name.
    let mut distinct: Vec<&str> = Vec::new();
    for code in &codes {
        if !distinct.contains(code) && distinct.len() < 4 {
            distinct.push(code);
        }
    }
    tracing::info!(
        operation = %run.operation,
        status = status.as_u16(),
        elapsed_ms = run.started.elapsed().as_millis() as u64,
        graph_calls = run.stats.graph_calls(),
        cache_hits = run.stats.cache_hits(),
        errors = response.errors.len(),
        codes = %distinct.join(","),
        "graphql request"
    );
    let body = AnswerBody {
        data: executed.then_some(&response.data),
        errors: &response.errors,
        extensions: AnswerExtensions {
            others: &response.extensions,
            // What the request cost upstream, for callers who watch their queries' price.
            cost: Cost {
                graph_calls: run.stats.graph_calls(),
                cache_hits: run.stats.cache_hits(),
            },
        },
    };
    match serde_json::to_vec(&body) {
        Ok(bytes) => answer_bytes(run.media, status, bytes),
        // The answer's values are JSON already; this is not expected to happen.
        Err(error) => request_error(
            run.media,
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            &format!("the answer could not be written as JSON: {error}"),
        ),
    }
}

/// The body of an answer to a request that reached the executor, written in one pass.
#[derive(serde::Serialize)]
struct AnswerBody<'a> {
    /// Absent when the request never executed (GraphQL over HTTP).
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a async_graphql::Value>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [async_graphql::ServerError],
    extensions: AnswerExtensions<'a>,
}

#[derive(serde::Serialize)]
struct AnswerExtensions<'a> {
    #[serde(flatten)]
    others: &'a std::collections::BTreeMap<String, async_graphql::Value>,
    cost: Cost,
}

/// `extensions.cost`: the Graph calls a request sent and the reads the cache answered.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Cost {
    graph_calls: u64,
    cache_hits: u64,
}

/// The parsed document of `query`, from the cache of documents that passed the guards, or
/// checked and parsed now: nesting before parsing (the parser has no depth guard), then the
/// fan-out of its fragments. Parse errors are told apart from validation errors here. The
/// checks depend on the text alone, so a cached document has passed them.
fn prepared_document(state: &AppState, query: &str) -> Result<Arc<ExecutableDocument>, Refused> {
    if let Some(document) = state.documents.get(query) {
        return Ok(document);
    }
    if nesting_depth(query) > MAX_QUERY_NESTING {
        return Err(Refused::new(
            Refusal::TooDeep,
            ErrorCode::BadRequest,
            format!("the query or its variables nest deeper than {MAX_QUERY_NESTING} levels"),
        ));
    }
    let document = async_graphql::parser::parse_query(query).map_err(|error| {
        Refused::new(
            Refusal::ParseFailed,
            ErrorCode::GraphqlParseFailed,
            format!("the query does not parse: {error}"),
        )
    })?;
    if expanded_field_count(&document) > MAX_EXPANDED_FIELDS {
        return Err(Refused::new(
            Refusal::TooManyFields,
            ErrorCode::BadRequest,
            format!(
                "the query selects more than {MAX_EXPANDED_FIELDS} fields once its fragments are \
                 spread out; select fewer fields or spread fragments fewer times"
            ),
        ));
    }
    let document = Arc::new(document);
    state.documents.insert(query.to_owned(), document.clone());
    Ok(document)
}

/// The caller's token from `Authorization: Bearer <token>`.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<AccessToken> {
    token_from_authorization(headers.get(AUTHORIZATION)?.to_str().ok()?)
}

/// The token of an `Authorization` value, `Bearer <token>` (the scheme in any case).
pub(crate) fn token_from_authorization(value: &str) -> Option<AccessToken> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| AccessToken::new(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bearer_tokens_are_taken() {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, "Bearer abc".parse().expect("header"));
        assert_eq!(
            bearer_token(&headers).map(|t| t.expose().to_owned()),
            Some("abc".to_owned())
        );
        headers.insert(AUTHORIZATION, "Basic abc".parse().expect("header"));
        assert!(bearer_token(&headers).is_none());
        headers.insert(AUTHORIZATION, "Bearer ".parse().expect("header"));
        assert!(bearer_token(&headers).is_none());
    }
}
