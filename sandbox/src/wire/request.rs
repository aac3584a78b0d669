//! The normalized Graph request that the HTTP handler and the batch runner both build:
//! method, path, merged parameters (query string plus form, multipart or JSON body) and token.

use axum::body::{Body, to_bytes};
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{HeaderMap, Method, header};
use serde_json::Value;

use crate::wire::error::GraphError;

/// The largest request body the sandbox reads.
const BODY_LIMIT: usize = 10 * 1024 * 1024;

/// The HTTP methods Graph routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GraphMethod {
    Get,
    Post,
    Delete,
}

impl GraphMethod {
    /// From an HTTP method; `None` for methods Graph does not route.
    pub(crate) fn from_http(method: &Method) -> Option<Self> {
        Self::from_name(method.as_str())
    }

    /// From a method name in any case, as batch operations write it.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_uppercase().as_str() {
            "GET" => Some(GraphMethod::Get),
            "POST" => Some(GraphMethod::Post),
            "DELETE" => Some(GraphMethod::Delete),
            _ => None,
        }
    }

    /// The lower-case name Graph uses in "Unsupported get request" messages.
    pub(crate) fn lower(self) -> &'static str {
        match self {
            GraphMethod::Get => "get",
            GraphMethod::Post => "post",
            GraphMethod::Delete => "delete",
        }
    }

    /// The upper-case name, for the journal.
    pub(crate) fn upper(self) -> &'static str {
        match self {
            GraphMethod::Get => "GET",
            GraphMethod::Post => "POST",
            GraphMethod::Delete => "DELETE",
        }
    }
}

/// Request parameters in arrival order; a later value of the same name wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    /// Parameters of a query string or a url-encoded body.
    pub(crate) fn from_urlencoded(text: &str) -> Self {
        let mut params = Params::default();
        params.extend_urlencoded(text);
        params
    }

    /// Appends the parameters of a query string or url-encoded body.
    pub(crate) fn extend_urlencoded(&mut self, text: &str) {
        self.0.extend(
            form_urlencoded::parse(text.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())),
        );
    }

    /// Appends one parameter.
    pub(crate) fn push(&mut self, name: &str, value: &str) {
        self.0.push((name.to_owned(), value.to_owned()));
    }

    /// The last value of a parameter.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The last value of a parameter that must be present: code 100 when it is not.
    pub(crate) fn required(&self, name: &str) -> Result<&str, GraphError> {
        self.get(name)
            .ok_or_else(|| GraphError::invalid_param(&format!("The parameter {name} is required")))
    }

    /// All parameters in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// A list parameter: a JSON array or a comma list.
pub(crate) fn parse_list(value: &str) -> Vec<String> {
    let trimmed = value.trim();
    if trimmed.starts_with('[')
        && let Ok(Value::Array(items)) = serde_json::from_str::<Value>(trimmed)
    {
        return items.iter().map(scalar_text).collect();
    }
    trimmed
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A scalar parameter that may arrive JSON-encoded (`5`, `"5"`): its plain text.
pub(crate) fn scalar_param(value: &str) -> String {
    let trimmed = value.trim();
    if trimmed.len() >= 2
        && trimmed.starts_with('"')
        && let Ok(Value::String(text)) = serde_json::from_str::<Value>(trimmed)
    {
        return text;
    }
    trimmed.to_owned()
}

/// The plain text of a JSON value: strings unquoted, anything else as JSON.
pub(crate) fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The largest `timezone_id` Graph knows.
const MAX_TIMEZONE_ID: i64 = 592;

/// A `timezone_id` parameter: an integer from 0 to 592, else code 100.
pub(crate) fn timezone_id(value: &str) -> Result<u32, GraphError> {
    scalar_param(value)
        .parse::<i64>()
        .ok()
        .filter(|id| (0..=MAX_TIMEZONE_ID).contains(id))
        .and_then(|id| u32::try_from(id).ok())
        .ok_or_else(|| {
            GraphError::invalid_param(&format!(
                "Param timezone_id must be an integer between 0 and {MAX_TIMEZONE_ID}"
            ))
        })
}

/// An `email` parameter: `local@domain.tld`, else code 100.
pub(crate) fn email(value: &str) -> Result<String, GraphError> {
    let email = scalar_param(value);
    let valid = email
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    if valid {
        Ok(email)
    } else {
        Err(GraphError::invalid_param(
            "Param email must be a valid email address",
        ))
    }
}

/// One Graph request, however it arrived.
#[derive(Debug, Clone)]
pub(crate) struct GraphCall {
    pub method: GraphMethod,
    /// The path, with its version if any: `/v25.0/me/businesses`.
    pub path: String,
    pub params: Params,
    /// A token from the `Authorization` header.
    pub header_token: Option<String>,
    /// The `Host` the request was sent to, for absolute paging links.
    pub host: String,
    /// An error decided before routing (an injected fault, an unreadable body).
    pub early_error: Option<GraphError>,
}

/// The token of an `Authorization: Bearer <t>` or `Authorization: OAuth <t>` header.
pub(crate) fn header_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth"))
        .then(|| token.to_owned())
        .filter(|token| !token.is_empty())
}

/// The query parameters plus those of the body, read according to its content type.
pub(crate) async fn read_params(request: Request<Body>) -> Result<Params, GraphError> {
    let mut params = Params::from_urlencoded(request.uri().query().unwrap_or(""));
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let unreadable = |_| GraphError::invalid_param("The multipart body could not be read");
        let mut multipart = Multipart::from_request(request, &())
            .await
            .map_err(|_| GraphError::invalid_param("The multipart body could not be read"))?;
        while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
            let name = field.name().unwrap_or("").to_owned();
            let bytes = field.bytes().await.map_err(unreadable)?;
            params.push(&name, &String::from_utf8_lossy(&bytes));
        }
        return Ok(params);
    }
    let bytes = to_bytes(request.into_body(), BODY_LIMIT)
        .await
        .map_err(|_| GraphError::invalid_param("The request body could not be read"))?;
    if bytes.is_empty() {
        return Ok(params);
    }
    if content_type.starts_with("application/json") {
        let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(&bytes) else {
            return Err(GraphError::invalid_param(
                "The JSON body must be an object of parameters",
            ));
        };
        for (name, value) in &object {
            params.push(name, &scalar_text(value));
        }
    } else {
        params.extend_urlencoded(&String::from_utf8_lossy(&bytes));
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_parameters_accept_json_arrays_and_comma_lists() {
        assert_eq!(parse_list("[\"1\", 2]"), vec!["1", "2"]);
        assert_eq!(parse_list("1, 2,,3"), vec!["1", "2", "3"]);
    }

    #[test]
    fn json_encoded_scalars_are_unquoted() {
        assert_eq!(scalar_param("\"300004\""), "300004");
        assert_eq!(scalar_param(" 5 "), "5");
    }
}
