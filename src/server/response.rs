//! Shaping what a client receives: whole-request errors, codes on every error, nulls for failed fields.

use async_graphql::{ErrorExtensionValues, ServerError};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Gives `extensions.code` to the errors async-graphql raises itself (parsing, validation,
/// argument coercion, limits), so that every error a client sees has one.
pub(super) fn ensure_code(error: &mut ServerError) {
    let extensions = error
        .extensions
        .get_or_insert_with(ErrorExtensionValues::default);
    if extensions.get("code").is_some() {
        return;
    }
    let code = if error.message.starts_with("Invalid value for argument")
        || error.message.starts_with("Failed to parse")
    {
        "INVALID_ARGUMENT"
    } else if error.path.is_empty() {
        "GRAPHQL_VALIDATION_FAILED"
    } else {
        "INTERNAL"
    };
    extensions.set("code", code);
}

/// Puts `null` where a failed nullable field was. async-graphql leaves such a field out of
/// `data`, but GraphQL says it is `null`, and clients such as Apollo Client report a missing
/// field as a broken answer. The field left out is the first one of an error's path that is
/// missing under the parts of the path that are present.
pub(super) fn null_failed_fields(data: &mut async_graphql::Value, errors: &[ServerError]) {
    use async_graphql::{Name, PathSegment, Value};

    for error in errors {
        let mut here = &mut *data;
        for segment in &error.path {
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

/// A whole-request failure in GraphQL's response shape, with its code.
pub(super) fn request_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({
        "data": null,
        "errors": [{"message": message, "extensions": {"code": code}}],
    });
    (status, axum::Json(body)).into_response()
}
