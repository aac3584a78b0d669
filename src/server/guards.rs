//! Checks a request passes before it is parsed, validated or run: pure functions, unit-tested.

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};

#[cfg(test)]
use super::MAX_EXPANDED_FIELDS;

/// The type of the operation a request will run, when its document parses.
pub(super) fn operation_type(
    document: &ExecutableDocument,
    request: &async_graphql::Request,
) -> Option<OperationType> {
    match &document.operations {
        DocumentOperations::Single(op) => Some(op.node.ty),
        DocumentOperations::Multiple(ops) => match &request.operation_name {
            Some(name) => ops
                .iter()
                .find(|(n, _)| n.as_str() == name)
                .map(|(_, op)| op.node.ty),
            // Without a name the request fails validation; refuse it if any operation writes.
            None => ops
                .values()
                .map(|op| op.node.ty)
                .find(|ty| *ty != OperationType::Query)
                .or(Some(OperationType::Query)),
        },
    }
}

/// The first variable of the operation to run that is required (non-null, no default) but
/// missing or null in `variables`. The executor would only notice while resolving a field, and
/// answer with partial data; GraphQL over HTTP makes it a request error, refused before running.
pub(super) fn missing_variable(
    document: &ExecutableDocument,
    request: &async_graphql::Request,
) -> Option<String> {
    let operation = match &document.operations {
        DocumentOperations::Single(op) => op,
        DocumentOperations::Multiple(ops) => {
            let name = request.operation_name.as_deref()?;
            ops.iter().find(|(n, _)| n.as_str() == name)?.1
        }
    };
    operation
        .node
        .variable_definitions
        .iter()
        .find(|definition| {
            let definition = &definition.node;
            let value = request.variables.get(definition.name.node.as_str());
            !definition.var_type.node.nullable
                && definition.default_value.is_none()
                && matches!(value, None | Some(async_graphql::Value::Null))
        })
        .map(|definition| {
            format!(
                "variable `${}` of type `{}` is required but was not given a value",
                definition.node.name.node, definition.node.var_type.node
            )
        })
}

/// Whether the document reads the schema (`__schema` or `__type` on the root, directly or
/// through fragments). `__typename` is not counted: clients add it everywhere.
pub(super) fn selects_introspection(document: &ExecutableDocument) -> bool {
    use async_graphql::parser::types::{Selection, SelectionSet};

    fn walk<'a>(
        set: &'a SelectionSet,
        document: &'a ExecutableDocument,
        seen: &mut Vec<&'a str>,
    ) -> bool {
        set.items.iter().any(|item| match &item.node {
            Selection::Field(field) => {
                matches!(field.node.name.node.as_str(), "__schema" | "__type")
            }
            Selection::InlineFragment(inline) => {
                walk(&inline.node.selection_set.node, document, seen)
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                if seen.contains(&name) {
                    return false;
                }
                seen.push(name);
                document
                    .fragments
                    .get(name)
                    .is_some_and(|f| walk(&f.node.selection_set.node, document, seen))
            }
        })
    }

    let mut seen = Vec::new();
    match &document.operations {
        DocumentOperations::Single(op) => walk(&op.node.selection_set.node, document, &mut seen),
        DocumentOperations::Multiple(ops) => ops
            .values()
            .any(|op| walk(&op.node.selection_set.node, document, &mut seen)),
    }
}

/// How many fields the document's operations select once every fragment spread is replaced by
/// the fragment, saturating past the limit. Fragment sizes are memoised, so this is linear in
/// the document even when the expansion is exponential; a fragment cycle (which validation
/// refuses) counts as too many.
pub(super) fn expanded_field_count(document: &ExecutableDocument) -> usize {
    use std::collections::HashMap;

    use async_graphql::parser::types::{Selection, SelectionSet};

    fn count<'a>(
        set: &'a SelectionSet,
        document: &'a ExecutableDocument,
        memo: &mut HashMap<&'a str, usize>,
        visiting: &mut Vec<&'a str>,
    ) -> usize {
        let mut total = 0usize;
        for item in &set.items {
            let size = match &item.node {
                Selection::Field(field) => {
                    1 + count(&field.node.selection_set.node, document, memo, visiting)
                }
                Selection::InlineFragment(inline) => {
                    count(&inline.node.selection_set.node, document, memo, visiting)
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    match (memo.get(name), document.fragments.get(name)) {
                        (Some(size), _) => *size,
                        _ if visiting.contains(&name) => usize::MAX,
                        (None, Some(fragment)) => {
                            visiting.push(name);
                            let size =
                                count(&fragment.node.selection_set.node, document, memo, visiting);
                            visiting.pop();
                            memo.insert(name, size);
                            size
                        }
                        // An unknown fragment is validation's to report.
                        (None, None) => 0,
                    }
                }
            };
            total = total.saturating_add(size);
        }
        total
    }

    let mut memo = HashMap::new();
    let mut visiting = Vec::new();
    let operations: Vec<_> = match &document.operations {
        DocumentOperations::Single(op) => vec![op],
        DocumentOperations::Multiple(ops) => ops.values().collect(),
    };
    operations.iter().fold(0usize, |total, op| {
        total.saturating_add(count(
            &op.node.selection_set.node,
            document,
            &mut memo,
            &mut visiting,
        ))
    })
}

/// The deepest nesting of `{`, `[` and `(` in a GraphQL document, following the GraphQL
/// lexical grammar: brackets inside comments (`#` to the end of the line), strings (`"…"` with
/// `\` escapes) and block strings (`"""…"""`, where `\"""` is an escaped delimiter) are not
/// counted, and every other bracket is. async-graphql's parser recurses once per bracket level
/// with no guard of its own, so this scan must never see less nesting than the parser will:
///
/// - a string ends at its closing quote or at a line terminator, where the parser's own lexer
///   stops with an error, so an unterminated string never hides the brackets after it;
/// - all the delimiters are ASCII, so scanning bytes is exact for UTF-8 text (no byte of a
///   multi-byte character is ever `"`, `#`, `\` or a bracket).
///
/// Anything the scan gets wrong errs towards counting more, which only refuses a document the
/// parser would have refused anyway.
pub(super) fn nesting_depth(query: &str) -> usize {
    let bytes = query.as_bytes();
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                // A comment runs to the end of the line (`\n`, `\r\n` or `\r`).
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                loop {
                    if i >= bytes.len() {
                        break;
                    }
                    if bytes[i..].starts_with(b"\\\"\"\"") {
                        i += 4;
                    } else if bytes[i..].starts_with(b"\"\"\"") {
                        i += 3;
                        break;
                    } else {
                        i += 1;
                    }
                }
                continue;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() {
                    match bytes[i] {
                        b'"' => {
                            i += 1;
                            break;
                        }
                        // The parser's lexer stops here; so does the string.
                        b'\n' | b'\r' => break,
                        // An escape hides the character after it, unless that ends the line.
                        b'\\' => match bytes.get(i + 1) {
                            Some(b'\n' | b'\r') | None => i += 1,
                            Some(_) => i += 2,
                        },
                        _ => i += 1,
                    }
                }
                continue;
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    deepest
}

/// The deepest nesting of lists and objects in a JSON value (variables, extensions): the
/// executor walks them recursively too.
pub(super) fn value_depth(value: &async_graphql::Value) -> usize {
    use async_graphql::Value;
    // An explicit stack: the value may come from any client, so the walk must not recurse.
    let mut deepest = 0;
    let mut stack = vec![(value, 0usize)];
    while let Some((value, depth)) = stack.pop() {
        match value {
            Value::List(items) => {
                deepest = deepest.max(depth + 1);
                stack.extend(items.iter().map(|item| (item, depth + 1)));
            }
            Value::Object(fields) => {
                deepest = deepest.max(depth + 1);
                stack.extend(fields.values().map(|item| (item, depth + 1)));
            }
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
#[path = "guards_properties.rs"]
mod properties;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_counted_outside_strings_only() {
        assert_eq!(nesting_depth("{ a { b(x: [1, [2]]) } }"), 5);
        assert_eq!(nesting_depth(r#"{ a(s: "{{{{[[[[\"") }"#), 2);
        assert_eq!(nesting_depth(&"[".repeat(5000)), 5000);
    }

    #[test]
    fn a_quote_in_a_comment_does_not_hide_the_brackets_after_it() {
        let deep = format!(
            "{{ business(id: # \"\n{}1{}) {{ id }} }}",
            "[".repeat(2000),
            "]".repeat(2000)
        );
        assert_eq!(nesting_depth(&deep), 2002);
        assert_eq!(nesting_depth("# {{{{ \n{ a }"), 1);
        assert_eq!(nesting_depth("# {{{{ \r{ a }"), 1);
    }

    #[test]
    fn block_strings_hide_their_brackets_and_quotes_but_nothing_after_them() {
        let deep = format!(
            r#"{{ a(s: """ " """, x: {}1{}) }}"#,
            "[".repeat(100),
            "]".repeat(100)
        );
        assert_eq!(nesting_depth(&deep), 102);
        assert_eq!(nesting_depth(r#"{ a(s: """ \""" {{{ """) }"#), 2);
        assert_eq!(nesting_depth(r#"{ a(s: """ \" """, x: [[1]]) }"#), 4);
        // An unterminated block string hides the rest; the parser refuses the document there.
        assert_eq!(nesting_depth(r#"{ a(s: """ [[[ "#), 2);
    }

    #[test]
    fn a_string_ends_where_the_parser_stops_reading_it() {
        assert_eq!(nesting_depth("{ a(s: \"abc\n[[[1]]]) }"), 5);
        assert_eq!(nesting_depth("{ a(s: \"abc\\\n[[[1]]]) }"), 5);
        assert_eq!(nesting_depth(r#"{ a(s: "\\", x: [[1]]) }"#), 4);
        assert_eq!(nesting_depth(r#"{ a(s: "\u005b[", x: [1]) }"#), 3);
    }

    #[test]
    fn the_deepest_accepted_documents_parse_on_a_quarter_of_a_worker_stack() {
        use super::super::{MAX_QUERY_NESTING, WORKER_STACK_BYTES};
        let n = MAX_QUERY_NESTING;
        // Each shape is exactly at the limit: lists, objects, selections, argument lists and
        // wrapped types, the parser's recursive rules.
        let documents = [
            format!("{{ a(x: {}1{}) }}", "[".repeat(n - 2), "]".repeat(n - 2)),
            format!("{{ a(x: {}1{}) }}", "{k: ".repeat(n - 2), "}".repeat(n - 2)),
            format!("{}x{}", "{ a ".repeat(n), "}".repeat(n)),
            format!(
                "query($v: {}Int{}) {{ a }}",
                "[".repeat(n - 1),
                "]".repeat(n - 1)
            ),
            format!(
                "{}{{ z(x: [{{k: [1]}}]) }}{}",
                "{ a(x: 1) ".repeat(n - 5),
                "}".repeat(n - 5)
            ),
        ];
        for document in documents {
            assert_eq!(nesting_depth(&document), n, "{document}");
            let parsed = std::thread::Builder::new()
                .stack_size(WORKER_STACK_BYTES / 4)
                .spawn(move || async_graphql::parser::parse_query(&document).is_ok())
                .expect("thread")
                .join()
                .expect("the parser did not overflow");
            assert!(parsed);
        }
    }

    #[test]
    fn value_depth_counts_lists_and_objects() {
        let value: async_graphql::Value =
            serde_json::from_str(r#"{"a": [1, {"b": [[2]]}], "c": 3}"#).expect("json");
        assert_eq!(value_depth(&value), 5);
        assert_eq!(value_depth(&async_graphql::Value::from(1)), 0);
    }

    #[test]
    fn fragments_are_counted_as_spread_out_in_linear_time() {
        let parse = |q: &str| async_graphql::parser::parse_query(q).expect("parses");
        let plain = parse("{ viewer { name businesses { nodes { id } } } }");
        assert_eq!(expanded_field_count(&plain), 5);
        // Forty fragments, each spreading the next twice: 2^40 fields once spread out.
        let mut doubling = String::from("query { ...F0 }\n");
        for i in 0..40 {
            doubling.push_str(&format!(
                "fragment F{i} on Query {{ ...F{} ...F{} }}\n",
                i + 1,
                i + 1
            ));
        }
        doubling.push_str("fragment F40 on Query { viewer { id } }\n");
        assert!(expanded_field_count(&parse(&doubling)) > MAX_EXPANDED_FIELDS);
        let cycle =
            parse("query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }");
        assert!(expanded_field_count(&cycle) > MAX_EXPANDED_FIELDS);
    }
}
