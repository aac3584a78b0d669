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

/// The deepest nesting of `{`, `[` and `(` outside string literals.
pub(super) fn nesting_depth(query: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut in_string = false;
    let mut escaped = false;
    for c in query.chars() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' | '[' | '(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            '}' | ']' | ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

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
