//! Property test of the nesting scan: generated documents mix comments, strings and block
//! strings (full of brackets, quotes and escapes) with nested values and selections; the scan
//! must see exactly the nesting the generator built, and every document it accepts must parse
//! on a thread no bigger than a quarter of a worker's stack.

use proptest::prelude::*;

use super::nesting_depth;
use crate::server::{MAX_QUERY_NESTING, WORKER_STACK_BYTES};

/// A piece of GraphQL text and the bracket nesting the parser will see in it.
#[derive(Debug, Clone)]
struct Piece {
    text: String,
    depth: usize,
}

/// Characters that make a lexer's life hard, inside comments and strings.
const NASTY: &[&str] = &[
    "{", "}", "[", "]", "(", ")", "\"", "\"\"\"", "#", "\\", "a", " ", "é", "😀",
];

/// What the lexer ignores between tokens: spaces, commas, line ends and comments that hold
/// anything at all (quotes and brackets included) up to the end of their line.
fn ignored() -> BoxedStrategy<String> {
    let comment = prop::collection::vec(prop::sample::select(NASTY), 0..8).prop_flat_map(|parts| {
        prop::sample::select(vec!["\n", "\r\n", "\r"])
            .prop_map(move |end| format!("#{}{end}", parts.concat()))
    });
    prop::collection::vec(
        prop_oneof![
            3 => Just(" ".to_owned()),
            1 => Just(",".to_owned()),
            1 => Just("\n".to_owned()),
            2 => comment,
        ],
        0..3,
    )
    .prop_map(|parts| parts.concat())
    .boxed()
}

/// A string literal: brackets, `#` and escaped quotes and backslashes inside.
fn string_literal() -> impl Strategy<Value = String> {
    let part = prop::sample::select(vec![
        "{", "[", "(", "}", "#", "\\\"", "\\\\", "\\n", "\\u005B", "x", " ", "\"\"\"",
    ]);
    prop::collection::vec(part, 0..8).prop_map(|parts| {
        // A `"""` inside a string is three escaped quotes in the text.
        let body: String = parts
            .iter()
            .map(|p| if *p == "\"\"\"" { "\\\"\\\"\\\"" } else { p })
            .collect();
        format!("\"{body}\"")
    })
}

/// A block string: raw quotes, escaped delimiters, brackets, `#` and line ends inside. Each
/// part ends with a letter so that no quote run ever touches the closing delimiter.
fn block_string() -> impl Strategy<Value = String> {
    let part = prop::sample::select(vec![
        "\"a",
        "\"\"b",
        "\\\"\"\"c",
        "{[(d",
        "#e",
        "\nf",
        "\\g",
        "]})h",
        "\"{i",
    ]);
    prop::collection::vec(part, 0..6).prop_map(|parts| format!("\"\"\"{}\"\"\"", parts.concat()))
}

/// A leaf value: an integer, an enum name, a string or a block string.
fn leaf() -> impl Strategy<Value = Piece> {
    prop_oneof![
        (0i64..1000).prop_map(|n| n.to_string()),
        Just("ADMIN".to_owned()),
        string_literal(),
        block_string(),
    ]
    .prop_map(|text| Piece { text, depth: 0 })
}

/// A value with branching lists and objects, ignored tokens between everything.
fn value() -> impl Strategy<Value = Piece> {
    leaf().prop_recursive(4, 24, 3, |inner| {
        let items = prop::collection::vec((inner, ignored()), 0..3);
        prop_oneof![
            items.clone().prop_map(|items| {
                let depth = 1 + items.iter().map(|(v, _)| v.depth).max().unwrap_or(0);
                let text = items
                    .iter()
                    .map(|(v, gap)| format!("{}{gap} ", v.text))
                    .collect::<String>();
                Piece {
                    text: format!("[{text}]"),
                    depth,
                }
            }),
            items.prop_map(|items| {
                let depth = 1 + items.iter().map(|(v, _)| v.depth).max().unwrap_or(0);
                let text = items
                    .iter()
                    .enumerate()
                    .map(|(i, (v, gap))| format!("k{i}{gap}: {} ", v.text))
                    .collect::<String>();
                Piece {
                    text: format!("{{{text}}}"),
                    depth,
                }
            }),
        ]
    })
}

/// A value inside a chain of lists and objects, deep enough to cross the limit.
fn deep_value() -> impl Strategy<Value = Piece> {
    (
        value(),
        prop::collection::vec((any::<bool>(), ignored()), 0..80),
    )
        .prop_map(|(mut piece, chain)| {
            for (is_list, gap) in chain {
                piece.text = if is_list {
                    format!("[{gap}{}{gap}]", piece.text)
                } else {
                    format!("{{{gap}k:{gap}{}{gap}}}", piece.text)
                };
                piece.depth += 1;
            }
            piece
        })
}

/// A whole document: a chain of selections, each with an argument holding a deep value.
fn document() -> impl Strategy<Value = Piece> {
    prop::collection::vec((deep_value(), ignored(), ignored()), 1..4).prop_map(|levels| {
        let mut text = String::from("{ leaf }");
        let mut depth = 1;
        for (i, (argument, before, after)) in levels.iter().enumerate().rev() {
            // Each level: `{ fN(a: VALUE) <inner selection> }`.
            depth = 1 + depth.max(1 + argument.depth);
            text = format!(
                "{{{before}f{i}(a:{after}{}{before}){after}{text}{before}}}",
                argument.text
            );
        }
        Piece {
            text: format!("query{}", text),
            depth,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn the_scan_sees_exactly_the_nesting_the_parser_sees(doc in document()) {
        prop_assert_eq!(nesting_depth(&doc.text), doc.depth, "document: {}", doc.text);
        if doc.depth <= MAX_QUERY_NESTING {
            // Accepted: it must parse, and on a quarter of a worker's stack.
            let text = doc.text.clone();
            let parsed = std::thread::Builder::new()
                .stack_size(WORKER_STACK_BYTES / 4)
                .spawn(move || async_graphql::parser::parse_query(&text).map(|_| ()).map_err(|e| e.to_string()))
                .expect("thread")
                .join()
                .expect("the parser did not overflow");
            prop_assert!(parsed.is_ok(), "{:?} for {}", parsed, doc.text);
        }
    }
}
