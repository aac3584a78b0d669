//! Batch requests (docs/graph-api.md §4): `POST /` with `batch=[...]`, each operation run
//! through the same dispatcher as a plain request, with `{result=name:$.path}` references
//! between them.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};

use crate::SandboxSettings;
use crate::answer::{Answer, new_trace_id};
use crate::dispatch::{Nesting, execute};
use crate::wire::auth::Viewer;
use crate::wire::error::GraphError;
use crate::wire::request::{GraphCall, GraphMethod, Params, scalar_text};
use crate::world::World;

/// The most operations one batch may hold.
const MAX_OPERATIONS: usize = 50;

/// How a named operation ended, for the operations that refer to it.
struct NamedResult {
    succeeded: bool,
    body: Value,
}

/// Runs a batch and answers the array of per-operation results.
pub(crate) fn run(
    world: &mut World,
    settings: &SandboxSettings,
    call: &GraphCall,
    viewer: &Viewer,
) -> Result<Value, GraphError> {
    let not_an_array = || GraphError::invalid_param("The parameter batch must be a JSON array");
    let operations = match serde_json::from_str::<Value>(call.params.get("batch").unwrap_or("")) {
        Ok(Value::Array(operations)) => operations,
        _ => return Err(not_an_array()),
    };
    if operations.len() > MAX_OPERATIONS {
        return Err(GraphError::invalid_param(&format!(
            "Too many requests in batch message. Maximum batch size is {MAX_OPERATIONS}"
        )));
    }
    let include_headers = call.params.get("include_headers") != Some("false");
    let referenced = referenced_names(&operations);
    let mut named: HashMap<String, NamedResult> = HashMap::new();
    let mut results = Vec::with_capacity(operations.len());
    for operation in &operations {
        let name = operation
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let outcome = run_operation(world, settings, call, viewer, operation, &named);
        let element = match outcome {
            Outcome::Skipped => {
                if let Some(name) = name {
                    named.insert(
                        name,
                        NamedResult {
                            succeeded: false,
                            body: Value::Null,
                        },
                    );
                }
                Value::Null
            }
            Outcome::Answered(answer) => {
                let succeeded = answer.status.is_success();
                // [doc] The result of an operation that a later one refers to with
                // `{result=...}` is not returned unless `omit_response_on_success` is false.
                let omit = operation
                    .get("omit_response_on_success")
                    .and_then(Value::as_bool)
                    .unwrap_or_else(|| name.as_ref().is_some_and(|n| referenced.contains(n)));
                let element = if succeeded && omit {
                    Value::Null
                } else {
                    element_for(&answer, include_headers)
                };
                if let Some(name) = name {
                    named.insert(
                        name,
                        NamedResult {
                            succeeded,
                            body: answer.body,
                        },
                    );
                }
                element
            }
        };
        results.push(element);
    }
    Ok(Value::Array(results))
}

/// What became of one operation.
enum Outcome {
    /// It depends on an operation that failed or was skipped, so it did not run.
    Skipped,
    /// It ran (or was refused) and has an answer.
    Answered(Answer),
}

fn run_operation(
    world: &mut World,
    settings: &SandboxSettings,
    batch_call: &GraphCall,
    viewer: &Viewer,
    operation: &Value,
    named: &HashMap<String, NamedResult>,
) -> Outcome {
    let trace_id = new_trace_id();
    let refused = |world: &mut World, error: GraphError| {
        let call = GraphCall {
            early_error: Some(error),
            ..op_call(batch_call, viewer, GraphMethod::Get, "/", Params::default())
        };
        Outcome::Answered(execute(world, settings, &call, &trace_id, Nesting::InBatch))
    };
    let method = operation
        .get("method")
        .and_then(Value::as_str)
        // [guess] An operation without a method is a GET, as in the SDKs' builders.
        .unwrap_or("GET");
    let Some(method) = GraphMethod::from_name(method) else {
        return refused(
            world,
            GraphError::invalid_param("Unsupported method in batch operation"),
        );
    };
    let Some(relative_url) = operation.get("relative_url").and_then(Value::as_str) else {
        return refused(
            world,
            GraphError::invalid_param("The parameter relative_url is required"),
        );
    };
    let body = operation.get("body").map(scalar_text).unwrap_or_default();

    // An operation waits on its `depends_on` and on every operation it refers to; if any of
    // them failed it is not run.
    // [guess] Graph answers such an operation with null.
    let mut dependencies = references(relative_url);
    dependencies.extend(references(&body));
    if let Some(depends_on) = operation.get("depends_on").and_then(Value::as_str) {
        dependencies.push(depends_on.to_owned());
    }
    if dependencies
        .iter()
        .any(|name| !named.get(name).is_some_and(|r| r.succeeded))
    {
        return Outcome::Skipped;
    }
    let (relative_url, body) = match (substitute(relative_url, named), substitute(&body, named)) {
        (Ok(url), Ok(body)) => (url, body),
        (Err(error), _) | (_, Err(error)) => return refused(world, error),
    };

    let relative_url = relative_url.trim_start_matches('/');
    let (path, query) = relative_url.split_once('?').unwrap_or((relative_url, ""));
    let mut params = Params::from_urlencoded(query);
    params.extend_urlencoded(&body);
    let call = op_call(batch_call, viewer, method, &format!("/{path}"), params);
    Outcome::Answered(execute(world, settings, &call, &trace_id, Nesting::InBatch))
}

/// The call of one operation: its own token if it carries one, else the batch's token (and
/// then the batch's appsecret_proof too).
fn op_call(
    batch_call: &GraphCall,
    viewer: &Viewer,
    method: GraphMethod,
    path: &str,
    mut params: Params,
) -> GraphCall {
    if params.get("access_token").is_none() {
        params.push("access_token", &viewer.token);
        for name in ["appsecret_proof", "appsecret_time"] {
            if params.get(name).is_none()
                && let Some(value) = batch_call.params.get(name)
            {
                params.push(name, value);
            }
        }
    }
    GraphCall {
        method,
        path: path.to_owned(),
        params,
        header_token: None,
        host: batch_call.host.clone(),
        early_error: None,
    }
}

/// One element of the batch answer.
fn element_for(answer: &Answer, include_headers: bool) -> Value {
    let mut element = serde_json::Map::new();
    element.insert("code".into(), json!(answer.status.as_u16()));
    if include_headers {
        let mut headers = vec![
            json!({"name": "Content-Type", "value": "text/javascript; charset=UTF-8"}),
            json!({"name": "facebook-api-version", "value": answer.version}),
        ];
        headers.extend(
            answer
                .headers
                .iter()
                .map(|(name, value)| json!({"name": name, "value": value})),
        );
        element.insert("headers".into(), Value::Array(headers));
    }
    element.insert("body".into(), json!(answer.body.to_string()));
    Value::Object(element)
}

/// The names that some operation of the batch refers to with `{result=name:path}`.
fn referenced_names(operations: &[Value]) -> HashSet<String> {
    operations
        .iter()
        .flat_map(|operation| {
            let url = operation.get("relative_url").and_then(Value::as_str);
            let body = operation.get("body").map(scalar_text);
            let mut names = references(url.unwrap_or(""));
            names.extend(references(body.as_deref().unwrap_or("")));
            names
        })
        .collect()
}

/// The names of the operations a text refers to with `{result=name:path}`.
fn references(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{result=") {
        let after = &rest[start + "{result=".len()..];
        let Some(end) = after.find('}') else { break };
        let reference = &after[..end];
        if let Some((name, _)) = reference.split_once(':') {
            found.push(name.to_owned());
        }
        rest = &after[end + 1..];
    }
    found
}

/// Replaces every `{result=name:path}` with the value it points at.
fn substitute(text: &str, named: &HashMap<String, NamedResult>) -> Result<String, GraphError> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{result=") {
        let after = &rest[start + "{result=".len()..];
        let Some(end) = after.find('}') else { break };
        let reference = &after[..end];
        let resolved = reference.split_once(':').and_then(|(name, path)| {
            let body = &named.get(name)?.body;
            let values = json_path(body, path);
            (!values.is_empty()).then(|| values.join(","))
        });
        // [guess] A reference that resolves to nothing fails its operation with code 100.
        let value = resolved.ok_or_else(|| {
            GraphError::invalid_param(&format!(
                "Cannot resolve the batch reference {{result={reference}}}"
            ))
        })?;
        out.push_str(&rest[..start]);
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Evaluates the JSONPath subset batch references use: `$.a.b`, `$.data.0.id`,
/// `$.data[0].id`, `$.data.*.id`, `$.data[*].id`.
fn json_path(root: &Value, path: &str) -> Vec<String> {
    let Some(path) = path.trim().strip_prefix('$') else {
        return Vec::new();
    };
    let normalized = path.replace('[', ".").replace(']', "");
    let mut current = vec![root];
    for step in normalized.split('.').filter(|step| !step.is_empty()) {
        current = current
            .into_iter()
            .flat_map(|value| -> Vec<&Value> {
                match (step, value) {
                    ("*", Value::Array(items)) => items.iter().collect(),
                    ("*", Value::Object(map)) => map.values().collect(),
                    (_, Value::Array(items)) => step
                        .parse::<usize>()
                        .ok()
                        .and_then(|index| items.get(index))
                        .into_iter()
                        .collect(),
                    (_, Value::Object(map)) => map.get(step).into_iter().collect(),
                    _ => Vec::new(),
                }
            })
            .collect();
    }
    current.into_iter().map(scalar_text).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_paths_cover_members_indexes_and_wildcards() {
        let body = json!({"id": "7", "a": {"b": 3}, "data": [{"id": "1"}, {"id": "2"}]});
        assert_eq!(json_path(&body, "$.id"), vec!["7"]);
        assert_eq!(json_path(&body, "$.a.b"), vec!["3"]);
        assert_eq!(json_path(&body, "$.data.0.id"), vec!["1"]);
        assert_eq!(json_path(&body, "$.data[1].id"), vec!["2"]);
        assert_eq!(json_path(&body, "$.data.*.id"), vec!["1", "2"]);
        assert!(json_path(&body, "$.missing").is_empty());
    }

    #[test]
    fn references_are_found_and_substituted() {
        let mut named = HashMap::new();
        named.insert(
            "create".to_owned(),
            NamedResult {
                succeeded: true,
                body: json!({"data": [{"id": "1"}, {"id": "2"}]}),
            },
        );
        let text = "?ids={result=create:$.data.*.id}&fields=id";
        assert_eq!(references(text), vec!["create".to_owned()]);
        assert_eq!(
            substitute(text, &named).expect("resolves"),
            "?ids=1,2&fields=id"
        );
    }
}
