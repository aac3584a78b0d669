//! Shaping what a client receives: whole-request errors, codes on every error, nulls for failed fields.

use std::sync::atomic::{AtomicBool, Ordering};

use async_graphql::{ErrorExtensionValues, ServerError};
use axum::http::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::ErrorCode;

/// Most errors one answer carries; past it the rest are summed up in one last error. A large
/// document of unknown fields otherwise turns a 180 kB request into a 3 MB answer.
pub(super) const MAX_ERRORS: usize = 100;

/// Gives `extensions.code` to the errors async-graphql raises itself (parsing, validation,
/// argument coercion, limits), so that every error a client sees has one.
pub(super) fn ensure_code(error: &mut ServerError) {
    if error
        .extensions
        .as_ref()
        .is_some_and(|e| e.get("code").is_some())
    {
        return;
    }
    let code = library_error_code(error);
    error
        .extensions
        .get_or_insert_with(ErrorExtensionValues::default)
        .set("code", code.as_str());
}

/// The code of an error async-graphql raised itself. Its errors carry no code, only a message,
/// so the family is told by the message's opening words and by whether it has a path (errors
/// of parsing and validation have none); `tests/api/error_codes.rs` pins one error of each
/// family, so a library upgrade that rewords a message fails a test instead of changing a code.
fn library_error_code(error: &ServerError) -> ErrorCode {
    const COERCION: [&str; 3] = [
        "Invalid value for argument",
        "Expected input type",
        "Failed to parse",
    ];
    if COERCION
        .iter()
        .any(|opening| error.message.starts_with(opening))
    {
        ErrorCode::InvalidArgument
    } else if error.path.is_empty() {
        ErrorCode::GraphqlValidationFailed
    } else {
        ErrorCode::Internal
    }
}

/// Puts `null` where a failed nullable field was. async-graphql leaves such a field out of
/// `data`, but GraphQL says it is `null`, and clients such as Apollo Client report a missing
/// field as a broken answer. The field left out is the first one of an error's path that is
/// missing under the parts of the path that are present.
///
/// An object every selected field of which failed is `null` in async-graphql's `data` (it
/// answers an object with no field as `null`), where one with any field that succeeded keeps
/// its place: `{ business { invoices } }` without a finance role lost the business. Such an
/// object is told by an error below it (an object whose own resolver failed or found nothing
/// has none), and becomes an object with its failed fields `null`, as when a sibling succeeds.
pub(super) fn null_failed_fields(data: &mut async_graphql::Value, errors: &[ServerError]) {
    use async_graphql::{Name, PathSegment, Value};

    for error in errors {
        let mut here = &mut *data;
        for (depth, segment) in error.path.iter().enumerate() {
            if depth > 0 && matches!(here, Value::Null) && matches!(segment, PathSegment::Field(_))
            {
                // Below a field of the root, never the root itself: `data: null` stays.
                *here = Value::Object(Default::default());
            }
            match (here, segment) {
                (Value::Object(fields), PathSegment::Field(name)) => {
                    let name = Name::new(name);
                    if !fields.contains_key(&name) {
                        fields.insert(name, Value::Null);
                        break;
                    }
                    match fields.get_mut(&name) {
                        Some(next) => here = next,
                        None => break,
                    }
                }
                (Value::List(items), PathSegment::Index(index)) => match items.get_mut(*index) {
                    Some(next) => here = next,
                    None => break,
                },
                _ => break,
            }
        }
    }
}

/// The media types `/graphql` answers in (GraphQL over HTTP).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum MediaType {
    /// `application/graphql-response+json`: HTTP status codes tell request errors apart.
    GraphqlResponseJson,
    /// `application/json`: the legacy type; every well-formed request is answered with 200.
    Json,
}

impl MediaType {
    /// The type the client prefers among those served, from its `Accept` header: the highest
    /// `q` wins, an exact type beats a wildcard at the same `q`, and `*/*` or `application/*`
    /// mean `application/json`, as does no `Accept` at all. `None` when the client accepts
    /// neither (answered 406).
    pub(super) fn negotiate(headers: &HeaderMap) -> Option<MediaType> {
        let mut offered = false;
        let mut best: Option<(u16, u8, MediaType)> = None;
        for value in headers.get_all(ACCEPT) {
            let Ok(value) = value.to_str() else { continue };
            for range in value.split(',') {
                let mut parts = range.split(';').map(str::trim);
                let essence = parts.next().unwrap_or("").to_ascii_lowercase();
                if essence.is_empty() {
                    continue;
                }
                offered = true;
                let mut quality = 1000u16;
                let mut charset_ok = true;
                for parameter in parts {
                    let Some((name, value)) = parameter.split_once('=') else {
                        continue;
                    };
                    let value = value.trim().trim_matches('"');
                    match name.trim().to_ascii_lowercase().as_str() {
                        "q" => quality = parse_quality(value),
                        "charset" => {
                            charset_ok = value.eq_ignore_ascii_case("utf-8")
                                || value.eq_ignore_ascii_case("utf8")
                        }
                        _ => {}
                    }
                }
                let (specificity, media) = match essence.as_str() {
                    "application/graphql-response+json" => (2, MediaType::GraphqlResponseJson),
                    "application/json" => (2, MediaType::Json),
                    "application/*" | "*/*" => (1, MediaType::Json),
                    _ => continue,
                };
                if quality == 0 || !charset_ok {
                    continue;
                }
                if best.is_none_or(|(q, s, _)| (quality, specificity) > (q, s)) {
                    best = Some((quality, specificity, media));
                }
            }
        }
        match best {
            Some((_, _, media)) => Some(media),
            None if !offered => Some(MediaType::Json),
            None => None,
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            MediaType::GraphqlResponseJson => "application/graphql-response+json; charset=utf-8",
            MediaType::Json => "application/json; charset=utf-8",
        }
    }

    /// The status of a well-formed request whose document failed to parse or validate, or
    /// whose variables failed to coerce: 400 in the new media type, 200 in the legacy one.
    pub(super) fn request_error_status(self) -> StatusCode {
        match self {
            MediaType::GraphqlResponseJson => StatusCode::BAD_REQUEST,
            MediaType::Json => StatusCode::OK,
        }
    }
}

/// An HTTP `q` value in thousandths; anything unreadable counts as 0 (not acceptable).
fn parse_quality(value: &str) -> u16 {
    match value.parse::<f32>() {
        Ok(q) if (0.0..=1.0).contains(&q) => (q * 1000.0).round() as u16,
        _ => 0,
    }
}

/// An answer of `/graphql`: its media type, `Cache-Control: no-store` (answers carry the
/// caller's own data, which no shared cache may keep), and the JSON body.
pub(super) fn answer(media: MediaType, status: StatusCode, body: &serde_json::Value) -> Response {
    answer_bytes(media, status, body.to_string().into_bytes())
}

/// An answer of `/graphql` whose JSON body is already written.
pub(super) fn answer_bytes(media: MediaType, status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(media.content_type()));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A request refused or abandoned as a whole: errors only, never a `data` key, since nothing
/// was executed (or nothing of it can be shown).
pub(super) fn request_error(
    media: MediaType,
    status: StatusCode,
    code: ErrorCode,
    message: &str,
) -> Response {
    let body = serde_json::json!({
        "errors": [{"message": message, "extensions": {"code": code.as_str()}}],
    });
    answer(media, status, &body)
}

/// Keeps the first `MAX_ERRORS` errors and replaces the rest by one error saying how many were
/// left out.
pub(super) fn cap_errors(errors: &mut Vec<ServerError>) {
    if errors.len() <= MAX_ERRORS {
        return;
    }
    let left_out = errors.len() - MAX_ERRORS;
    errors.truncate(MAX_ERRORS);
    let mut summary = ServerError::new(
        format!("{left_out} more errors were left out; this answer carries the first {MAX_ERRORS}"),
        None,
    );
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", ErrorCode::TooManyErrors.as_str());
    extensions.set("omittedErrors", left_out as u64);
    summary.extensions = Some(extensions);
    errors.push(summary);
}

/// Set by the executor once a request got past parsing, validation and the choice of its
/// operation: a request that never executed is answered without `data`.
#[derive(Default)]
pub(super) struct ExecutionStarted(AtomicBool);

impl ExecutionStarted {
    /// Whether the operation began to execute.
    pub(super) fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// Notes that the operation began to execute.
    pub(super) fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> Option<MediaType> {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_str(value).expect("header"));
        MediaType::negotiate(&headers)
    }

    #[test]
    fn the_media_type_follows_accept() {
        assert_eq!(
            MediaType::negotiate(&HeaderMap::new()),
            Some(MediaType::Json)
        );
        assert_eq!(
            accept("application/graphql-response+json"),
            Some(MediaType::GraphqlResponseJson)
        );
        assert_eq!(accept("application/json"), Some(MediaType::Json));
        assert_eq!(accept("*/*"), Some(MediaType::Json));
        assert_eq!(
            accept("application/graphql-response+json, application/json;q=0.9"),
            Some(MediaType::GraphqlResponseJson)
        );
        assert_eq!(
            accept("application/json;q=0.9, application/graphql-response+json"),
            Some(MediaType::GraphqlResponseJson)
        );
        assert_eq!(
            accept("application/graphql-response+json;q=0.5, application/json"),
            Some(MediaType::Json)
        );
        assert_eq!(
            accept("*/*, application/graphql-response+json"),
            Some(MediaType::GraphqlResponseJson)
        );
        assert_eq!(accept("text/html"), None);
        assert_eq!(accept("application/json;q=0"), None);
        assert_eq!(accept("application/json; charset=latin1"), None);
        assert_eq!(
            accept("text/html, application/json; charset=UTF-8"),
            Some(MediaType::Json)
        );
    }

    #[test]
    fn a_failed_field_is_null_beside_its_siblings_and_alone() {
        use async_graphql::{PathSegment, Value};
        let failed = |path: &[&str]| {
            let mut error = ServerError::new("refused", None);
            error.path = path
                .iter()
                .map(|segment| match segment.parse::<usize>() {
                    Ok(index) => PathSegment::Index(index),
                    Err(_) => PathSegment::Field((*segment).to_owned()),
                })
                .collect();
            error
        };
        let json = |value: &Value| value.clone().into_json().expect("JSON");

        // A sibling succeeded: the failed field is put back as null.
        let mut data =
            Value::from_json(serde_json::json!({"business": {"name": "Pomni"}})).expect("value");
        null_failed_fields(&mut data, &[failed(&["business", "invoices"])]);
        assert_eq!(
            json(&data),
            serde_json::json!({"business": {"name": "Pomni", "invoices": null}})
        );

        // Every selected field failed: the object stays, its fields null.
        let mut data = Value::from_json(serde_json::json!({"business": null})).expect("value");
        null_failed_fields(
            &mut data,
            &[
                failed(&["business", "invoices"]),
                failed(&["business", "creditCards"]),
            ],
        );
        assert_eq!(
            json(&data),
            serde_json::json!({"business": {"invoices": null, "creditCards": null}})
        );

        // The same inside a list item.
        let mut data = Value::from_json(serde_json::json!({"viewer": {"businesses": {"nodes": [
            {"name": "A", "invoices": []},
            null,
        ]}}}))
        .expect("value");
        null_failed_fields(
            &mut data,
            &[failed(&["viewer", "businesses", "nodes", "1", "invoices"])],
        );
        assert_eq!(
            json(&data),
            serde_json::json!({"viewer": {"businesses": {"nodes": [
                {"name": "A", "invoices": []},
                {"invoices": null},
            ]}}})
        );

        // An object whose own resolver failed is null, and nothing is made up below it.
        let mut data = Value::from_json(serde_json::json!({"business": null})).expect("value");
        null_failed_fields(&mut data, &[failed(&["business"])]);
        assert_eq!(json(&data), serde_json::json!({"business": null}));

        // `data: null` (every root field failed) is left as it is.
        let mut data = Value::Null;
        null_failed_fields(&mut data, &[failed(&["viewer", "name"])]);
        assert_eq!(data, Value::Null);
    }

    #[test]
    fn errors_past_the_cap_are_summed_up_in_one() {
        let mut errors: Vec<ServerError> = (0..250)
            .map(|i| ServerError::new(format!("e{i}"), None))
            .collect();
        cap_errors(&mut errors);
        assert_eq!(errors.len(), MAX_ERRORS + 1);
        let last = errors.last().expect("summary");
        assert!(
            last.message.starts_with("150 more errors"),
            "{}",
            last.message
        );
        let extensions = last.extensions.as_ref().expect("extensions");
        assert_eq!(
            extensions.get("code"),
            Some(&async_graphql::Value::from("TOO_MANY_ERRORS"))
        );
    }
}
