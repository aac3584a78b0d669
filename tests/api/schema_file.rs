//! `schema.graphql` is the public contract: it must equal what the code serves, and what the
//! gateway answers to introspection over HTTP must describe the same schema.

use std::collections::BTreeSet;

use async_graphql::parser::types::{
    ConstDirective, InputValueDefinition, TypeDefinition, TypeKind, TypeSystemDefinition,
};
use async_graphql::{Positioned, parser::parse_schema};
use serde_json::{Value, json};

use crate::helpers::spawn_app;

fn committed() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql exists at the repository root")
}

#[test]
fn schema_graphql_equals_the_served_schema() {
    let served = bizgraph::schema::sdl();
    assert!(
        committed() == served,
        "schema.graphql is out of date: run `cargo run -- schema > schema.graphql`"
    );
}

/// What GraphQL builds in and SDL leaves out.
const BUILT_IN_SCALARS: [&str; 5] = ["String", "Int", "Float", "Boolean", "ID"];
const BUILT_IN_DIRECTIVES: [&str; 5] = ["include", "skip", "deprecated", "specifiedBy", "oneOf"];

/// A schema as a set of lines, one per fact a client relies on: each type and its kind and
/// description, each field, argument, input field and enum value with its type reference,
/// default, description and deprecation, interfaces and union members, `@specifiedBy`, the
/// root types and the directives. Two descriptions of the same schema give the same set.
type Facts = BTreeSet<String>;

/// `String`, `[ID!]!`: a type reference of an introspection answer.
fn type_ref(ty: &Value) -> String {
    match ty["kind"].as_str() {
        Some("NON_NULL") => format!("{}!", type_ref(&ty["ofType"])),
        Some("LIST") => format!("[{}]", type_ref(&ty["ofType"])),
        _ => ty["name"].as_str().unwrap_or("?").to_owned(),
    }
}

fn description(value: &Value) -> String {
    value["description"]
        .as_str()
        .unwrap_or("")
        .trim()
        .to_owned()
}

fn deprecation(value: &Value) -> String {
    if value["isDeprecated"] == json!(true) {
        format!(
            " @deprecated({})",
            value["deprecationReason"].as_str().unwrap_or("")
        )
    } else {
        String::new()
    }
}

/// The description of an argument or input field, except a directive's argument: the SDL
/// async-graphql writes has no descriptions of directive arguments (those of `@include`,
/// `@skip` and `@specifiedBy`, which GraphQL builds in, are served by introspection only).
fn input_description(owner: &str, description: String) -> String {
    if owner.starts_with('@') {
        String::new()
    } else {
        description
    }
}

fn introspected_input(owner: &str, input: &Value) -> String {
    let default = input["defaultValue"]
        .as_str()
        .map(|d| format!(" = {d}"))
        .unwrap_or_default();
    format!(
        "{owner}({}: {}{default}){} {:?}",
        input["name"].as_str().unwrap_or("?"),
        type_ref(&input["type"]),
        deprecation(input),
        input_description(owner, description(input))
    )
}

/// The facts of an introspection answer's `__schema`.
fn introspected_facts(schema: &Value) -> Facts {
    let mut facts = Facts::new();
    for root in ["queryType", "mutationType", "subscriptionType"] {
        if let Some(name) = schema[root]["name"].as_str() {
            facts.insert(format!("schema {root}: {name}"));
        }
    }
    for ty in schema["types"].as_array().unwrap() {
        let name = ty["name"].as_str().unwrap();
        if name.starts_with("__") || BUILT_IN_SCALARS.contains(&name) {
            continue;
        }
        let kind = ty["kind"].as_str().unwrap();
        facts.insert(format!("{kind} {name} {:?}", description(ty)));
        if let Some(url) = ty["specifiedByURL"].as_str() {
            facts.insert(format!("{name} @specifiedBy({url})"));
        }
        for field in ty["fields"].as_array().into_iter().flatten() {
            let field_name = field["name"].as_str().unwrap();
            facts.insert(format!(
                "{name}.{field_name}: {}{} {:?}",
                type_ref(&field["type"]),
                deprecation(field),
                description(field)
            ));
            for arg in field["args"].as_array().into_iter().flatten() {
                facts.insert(introspected_input(&format!("{name}.{field_name}"), arg));
            }
        }
        for input in ty["inputFields"].as_array().into_iter().flatten() {
            facts.insert(introspected_input(name, input));
        }
        for value in ty["enumValues"].as_array().into_iter().flatten() {
            facts.insert(format!(
                "{name}::{}{} {:?}",
                value["name"].as_str().unwrap(),
                deprecation(value),
                description(value)
            ));
        }
        for interface in ty["interfaces"].as_array().into_iter().flatten() {
            facts.insert(format!("{name} implements {}", type_ref(interface)));
        }
        if kind == "UNION" {
            for member in ty["possibleTypes"].as_array().into_iter().flatten() {
                facts.insert(format!("{name} member {}", type_ref(member)));
            }
        }
    }
    for directive in schema["directives"].as_array().unwrap() {
        let name = directive["name"].as_str().unwrap();
        let locations: Vec<&str> = directive["locations"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        facts.insert(format!(
            "directive @{name}{} on {}",
            if directive["isRepeatable"] == json!(true) {
                " repeatable"
            } else {
                ""
            },
            locations.join(" | ")
        ));
        for arg in directive["args"].as_array().into_iter().flatten() {
            facts.insert(introspected_input(&format!("@{name}"), arg));
        }
    }
    facts
}

fn sdl_description(description: &Option<Positioned<String>>) -> String {
    description
        .as_ref()
        .map(|d| d.node.trim().to_owned())
        .unwrap_or_default()
}

fn sdl_deprecation(directives: &[Positioned<ConstDirective>]) -> String {
    directives
        .iter()
        .find(|d| d.node.name.node == "deprecated")
        .map(|d| {
            let reason = d
                .node
                .get_argument("reason")
                .map(|r| match &r.node {
                    async_graphql::Value::String(text) => text.clone(),
                    other => other.to_string(),
                })
                .unwrap_or_else(|| "No longer supported".to_owned());
            format!(" @deprecated({reason})")
        })
        .unwrap_or_default()
}

fn sdl_input(owner: &str, input: &InputValueDefinition) -> String {
    let default = input
        .default_value
        .as_ref()
        .map(|d| format!(" = {}", d.node))
        .unwrap_or_default();
    format!(
        "{owner}({}: {}{default}){} {:?}",
        input.name.node,
        input.ty.node,
        sdl_deprecation(&input.directives),
        input_description(owner, sdl_description(&input.description))
    )
}

/// `FIELD_DEFINITION` from the parser's `FieldDefinition`.
fn screaming_snake(camel: &str) -> String {
    let mut out = String::new();
    for (index, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && index > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// The facts of an SDL document.
fn sdl_facts(sdl: &str) -> Facts {
    let document = parse_schema(sdl).unwrap();
    let mut facts = Facts::new();
    for definition in &document.definitions {
        match definition {
            TypeSystemDefinition::Schema(schema) => {
                let schema = &schema.node;
                for (root, name) in [
                    ("queryType", &schema.query),
                    ("mutationType", &schema.mutation),
                    ("subscriptionType", &schema.subscription),
                ] {
                    if let Some(name) = name {
                        facts.insert(format!("schema {root}: {}", name.node));
                    }
                }
            }
            TypeSystemDefinition::Type(ty) => sdl_type_facts(&ty.node, &mut facts),
            TypeSystemDefinition::Directive(directive) => {
                let directive = &directive.node;
                let name = &directive.name.node;
                let locations: Vec<String> = directive
                    .locations
                    .iter()
                    .map(|l| screaming_snake(&format!("{:?}", l.node)))
                    .collect();
                // The parser of async-graphql 7.2 marks every directive repeatable; the text
                // says whether it is.
                let repeatable = sdl.lines().any(|line| {
                    line.starts_with(&format!("directive @{name}"))
                        && line.split_whitespace().any(|word| word == "repeatable")
                });
                facts.insert(format!(
                    "directive @{name}{} on {}",
                    if repeatable { " repeatable" } else { "" },
                    locations.join(" | ")
                ));
                for arg in &directive.arguments {
                    facts.insert(sdl_input(&format!("@{name}"), &arg.node));
                }
            }
        }
    }
    facts
}

fn sdl_type_facts(ty: &TypeDefinition, facts: &mut Facts) {
    let name = ty.name.node.as_str();
    let kind = match &ty.kind {
        TypeKind::Scalar => "SCALAR",
        TypeKind::Object(_) => "OBJECT",
        TypeKind::Interface(_) => "INTERFACE",
        TypeKind::Union(_) => "UNION",
        TypeKind::Enum(_) => "ENUM",
        TypeKind::InputObject(_) => "INPUT_OBJECT",
    };
    facts.insert(format!(
        "{kind} {name} {:?}",
        sdl_description(&ty.description)
    ));
    for directive in &ty.directives {
        if directive.node.name.node == "specifiedBy"
            && let Some(url) = directive.node.get_argument("url")
            && let async_graphql::Value::String(url) = &url.node
        {
            facts.insert(format!("{name} @specifiedBy({url})"));
        }
    }
    let (fields, implements) = match &ty.kind {
        TypeKind::Object(object) => (&object.fields[..], &object.implements[..]),
        TypeKind::Interface(interface) => (&interface.fields[..], &interface.implements[..]),
        _ => (&[][..], &[][..]),
    };
    for field in fields {
        let field = &field.node;
        let field_name = &field.name.node;
        facts.insert(format!(
            "{name}.{field_name}: {}{} {:?}",
            field.ty.node,
            sdl_deprecation(&field.directives),
            sdl_description(&field.description)
        ));
        for arg in &field.arguments {
            facts.insert(sdl_input(&format!("{name}.{field_name}"), &arg.node));
        }
    }
    for interface in implements {
        facts.insert(format!("{name} implements {}", interface.node));
    }
    match &ty.kind {
        TypeKind::Union(union) => {
            for member in &union.members {
                facts.insert(format!("{name} member {}", member.node));
            }
        }
        TypeKind::Enum(enumeration) => {
            for value in &enumeration.values {
                facts.insert(format!(
                    "{name}::{}{} {:?}",
                    value.node.value.node,
                    sdl_deprecation(&value.node.directives),
                    sdl_description(&value.node.description)
                ));
            }
        }
        TypeKind::InputObject(input) => {
            for field in &input.fields {
                facts.insert(sdl_input(name, &field.node));
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn the_introspection_served_over_http_describes_exactly_schema_graphql() {
    let app = spawn_app().await;
    let answer = app
        .graphql(
            Some("demo-admin"),
            bizgraph::introspection::QUERY,
            json!({}),
        )
        .await;
    assert!(answer.get("errors").is_none(), "{answer}");
    let schema = &answer["data"]["__schema"];

    let mut served = introspected_facts(schema);
    let committed = sdl_facts(&committed());
    // SDL leaves out the directives GraphQL builds in unless the schema uses them.
    served.retain(|fact| {
        committed.contains(fact)
            || !BUILT_IN_DIRECTIVES.iter().any(|d| {
                fact.starts_with(&format!("directive @{d} ")) || fact.starts_with(&format!("@{d}("))
            })
    });
    let only_served: Vec<&String> = served.difference(&committed).collect();
    let only_committed: Vec<&String> = committed.difference(&served).collect();
    assert!(
        only_served.is_empty() && only_committed.is_empty(),
        "introspection and schema.graphql differ:\nonly served: {only_served:#?}\nonly in \
         schema.graphql: {only_committed:#?}"
    );
    // The comparison saw the whole schema, `@specifiedBy` included.
    assert!(committed.len() > 300, "{} facts", committed.len());
    assert!(
        committed
            .contains("Date @specifiedBy(https://www.iso.org/iso-8601-date-and-time-format.html)"),
        "{committed:#?}"
    );

    // `bizgraph schema --json` prints the same introspection, computed without any upstream.
    let offline = bizgraph::introspection::result().await;
    assert_eq!(offline["data"], answer["data"]);
}

#[test]
fn the_schema_command_prints_the_introspection_result_with_json() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_bizgraph"))
        .args(["schema", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(printed.get("errors").is_none());
    let facts = introspected_facts(&printed["data"]["__schema"]);
    let committed = sdl_facts(&committed());
    assert!(
        committed.is_subset(&facts),
        "the printed introspection lacks facts of schema.graphql"
    );
}
