//! The `fields=` parameter: a parser for Graph's selection grammar and its inverse.
//!
//! Grammar (docs/graph-api.md §2): `fields := field ("," field)*`,
//! `field := name ("." name "(" value ")")* ("{" fields "}")?`; whitespace is tolerated
//! around names and separators.

use crate::wire::error::GraphError;

/// How many levels of `{...}` a selection may nest.
// [guess] Graph's own limit is unpublished; no real query comes close to this one.
const MAX_DEPTH: usize = 16;

/// One selected field or edge, with its modifiers and nested selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldSelection {
    /// The field or edge name.
    pub name: String,
    /// Modifiers in order, except `.as()`: `limit`, `after`, `summary`, edge parameters...
    pub modifiers: Vec<(String, String)>,
    /// The `.as(alias)` key the answer uses instead of `name`.
    pub alias: Option<String>,
    /// The `{...}` sub-selection, when expanded.
    pub children: Option<Vec<FieldSelection>>,
}

impl FieldSelection {
    /// A field with no modifiers and no sub-selection.
    pub(crate) fn plain(name: &str) -> Self {
        FieldSelection {
            name: name.to_owned(),
            modifiers: Vec::new(),
            alias: None,
            children: None,
        }
    }

    /// The key this field has in the answer.
    pub(crate) fn key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }

    /// The value of the last modifier with this name.
    #[cfg(test)]
    pub(crate) fn modifier(&self, name: &str) -> Option<&str> {
        self.modifiers
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Plain fields, as used for default selections.
pub(crate) fn plain_fields(names: &[&str]) -> Vec<FieldSelection> {
    names
        .iter()
        .map(|name| FieldSelection::plain(name))
        .collect()
}

/// Parses a `fields=` value. An empty value selects nothing, which callers treat as absent.
pub(crate) fn parse_fields(input: &str) -> Result<Vec<FieldSelection>, GraphError> {
    let mut parser = Parser {
        input,
        chars: input.chars().collect(),
        pos: 0,
    };
    parser.skip_whitespace();
    if parser.peek().is_none() {
        return Ok(Vec::new());
    }
    let fields = parser.list(0)?;
    Ok(fields)
}

/// Writes a selection back in `fields=` syntax (for paging links).
pub(crate) fn to_fields_param(fields: &[FieldSelection]) -> String {
    fields
        .iter()
        .map(|field| {
            let mut text = field.name.clone();
            for (name, value) in &field.modifiers {
                text.push_str(&format!(".{name}({value})"));
            }
            if let Some(alias) = &field.alias {
                text.push_str(&format!(".as({alias})"));
            }
            if let Some(children) = &field.children {
                text.push('{');
                text.push_str(&to_fields_param(children));
                text.push('}');
            }
            text
        })
        .collect::<Vec<_>>()
        .join(",")
}

struct Parser<'a> {
    input: &'a str,
    chars: Vec<char>,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// A syntax error at the current position, worded like Graph's.
    fn error(&self, expected: &str) -> GraphError {
        let found = match self.peek() {
            Some(c) => format!("\"{c}\""),
            None => "end of string".to_owned(),
        };
        GraphError::invalid_param(&format!(
            "Syntax error \"Expected {expected} instead of {found}.\" at character {}: {}",
            self.pos, self.input
        ))
    }

    fn list(&mut self, depth: usize) -> Result<Vec<FieldSelection>, GraphError> {
        let mut fields = Vec::new();
        loop {
            self.skip_whitespace();
            fields.push(self.field(depth)?);
            self.skip_whitespace();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some('}') if depth > 0 => return Ok(fields),
                None if depth == 0 => return Ok(fields),
                _ if depth == 0 => return Err(self.error("\",\" or end of string")),
                _ => return Err(self.error("\",\" or \"}\"")),
            }
        }
    }

    fn name(&mut self, what: &str) -> Result<String, GraphError> {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.error(what));
        }
        Ok(self.chars[start..self.pos].iter().collect())
    }

    fn field(&mut self, depth: usize) -> Result<FieldSelection, GraphError> {
        let mut field = FieldSelection::plain(&self.name("field name")?);
        while self.peek() == Some('.') {
            self.pos += 1;
            let modifier = self.name("modifier name")?;
            if self.peek() != Some('(') {
                return Err(self.error("\"(\""));
            }
            self.pos += 1;
            let start = self.pos;
            while self.peek().is_some_and(|c| c != ')') {
                self.pos += 1;
            }
            if self.peek().is_none() {
                return Err(self.error("\")\""));
            }
            let value: String = self.chars[start..self.pos].iter().collect();
            self.pos += 1;
            let value = value.trim().to_owned();
            if modifier == "as" {
                if value.is_empty() {
                    return Err(self.error("alias name"));
                }
                field.alias = Some(value);
            } else {
                field.modifiers.push((modifier, value));
            }
        }
        self.skip_whitespace();
        if self.peek() == Some('{') {
            // The parser and the renderer recurse once per level, so an unbounded depth
            // would let one request overflow the stack and abort the whole sandbox.
            if depth >= MAX_DEPTH {
                return Err(GraphError::invalid_param(&format!(
                    "Fields can be nested at most {MAX_DEPTH} levels deep"
                )));
            }
            self.pos += 1;
            let children = self.list(depth + 1)?;
            if self.peek() != Some('}') {
                return Err(self.error("\"}\""));
            }
            self.pos += 1;
            field.children = Some(children);
        }
        Ok(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_fields_with_modifiers_and_aliases_parse_and_print_back() {
        let text = "id, name,owned_pages.limit(2).summary(total_count).as(first){id,name},\
                    business_invoices.start_date(2017/1/1).end_date(2017/4/1){id}";
        let fields = parse_fields(text).expect("valid selection");
        assert_eq!(fields.len(), 4);
        assert_eq!(fields[1].name, "name");
        let pages = &fields[2];
        assert_eq!(pages.key(), "first");
        assert_eq!(pages.modifier("limit"), Some("2"));
        assert_eq!(pages.modifier("summary"), Some("total_count"));
        assert_eq!(
            pages.children.as_deref(),
            Some(plain_fields(&["id", "name"]).as_slice())
        );
        assert_eq!(fields[3].modifier("start_date"), Some("2017/1/1"));
        assert_eq!(
            to_fields_param(&fields),
            "id,name,owned_pages.limit(2).summary(total_count).as(first){id,name},\
             business_invoices.start_date(2017/1/1).end_date(2017/4/1){id}"
        );
    }

    #[test]
    fn syntax_errors_name_the_position() {
        let error = parse_fields("id,name}").expect_err("stray brace");
        assert_eq!(error.code, 100);
        assert_eq!(
            error.message,
            "(#100) Syntax error \"Expected \",\" or end of string instead of \"}\".\" at character 7: id,name}"
        );
        let error = parse_fields("id,,name").expect_err("empty field");
        assert!(
            error.message.contains("at character 3"),
            "{}",
            error.message
        );
        let error = parse_fields("owned_pages{id").expect_err("unclosed");
        assert!(error.message.contains("end of string"), "{}", error.message);
        let error = parse_fields("owned_pages.limit(2").expect_err("unclosed modifier");
        assert!(
            error.message.contains("at character 19"),
            "{}",
            error.message
        );
    }

    #[test]
    fn a_blank_selection_selects_nothing() {
        assert_eq!(parse_fields("  ").expect("blank"), Vec::new());
    }
}
