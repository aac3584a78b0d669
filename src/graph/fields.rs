//! Graph `fields=` selections: built by the planner from a GraphQL selection, rendered to the
//! wire string with nested expansions and `.limit()`/`.after()`/`.summary()`/`.as()` modifiers.

use std::fmt;

/// A set of Graph fields in the order first asked for; asking twice for the same answer key
/// merges the two requests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSet {
    fields: Vec<Field>,
}

/// One entry of a [`FieldSet`].
#[derive(Clone, Debug, PartialEq, Eq)]
struct Field {
    name: String,
    modifiers: Vec<(String, String)>,
    alias: Option<String>,
    children: Option<FieldSet>,
}

impl Field {
    fn key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }
}

/// How an edge is asked for inside an expansion.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EdgeArgs {
    /// The edge's own parameters, as modifiers before the paging ones:
    /// `.start_date(2026-01-01)` for `business_invoices`, say.
    pub filters: Vec<(String, String)>,
    /// `.limit(n)`.
    pub limit: Option<u32>,
    /// `.after(cursor)`.
    pub after: Option<String>,
    /// `.summary(total_count)`.
    pub total_count: bool,
    /// `.as(alias)`: the key the edge answers under, when one query asks for it twice.
    pub alias: Option<String>,
}

impl FieldSet {
    /// An empty set.
    pub fn new() -> FieldSet {
        FieldSet::default()
    }

    /// Whether nothing was asked for.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Whether an answer key (a field name, or an edge's alias) is part of the set.
    pub fn contains(&self, key: &str) -> bool {
        self.fields.iter().any(|f| f.key() == key)
    }

    /// Asks for a plain field.
    pub fn scalar(&mut self, name: &str) {
        self.entry(name, Vec::new(), None, false);
    }

    fn children(&mut self, index: usize) -> &mut FieldSet {
        self.fields[index]
            .children
            .get_or_insert_with(FieldSet::new)
    }

    /// Asks for an object field (`primary_page{...}`); returns its sub-selection to fill.
    pub fn object(&mut self, name: &str) -> &mut FieldSet {
        let index = self.entry(name, Vec::new(), None, true);
        self.children(index)
    }

    /// Asks for an edge with its paging modifiers; returns its sub-selection to fill.
    pub fn edge(&mut self, name: &str, args: &EdgeArgs) -> &mut FieldSet {
        let mut modifiers = args.filters.clone();
        if let Some(limit) = args.limit {
            modifiers.push(("limit".to_owned(), limit.to_string()));
        }
        if let Some(after) = &args.after {
            modifiers.push(("after".to_owned(), after.clone()));
        }
        if args.total_count {
            modifiers.push(("summary".to_owned(), "total_count".to_owned()));
        }
        let index = self.entry(name, modifiers, args.alias.clone(), true);
        self.children(index)
    }

    /// The same set without the fields named `names` (and their aliases), at any depth: in
    /// the set itself and in every expansion below it.
    pub fn without_anywhere(&self, names: &[&str]) -> FieldSet {
        FieldSet {
            fields: self
                .fields
                .iter()
                .filter(|f| !names.contains(&f.name.as_str()))
                .map(|f| Field {
                    children: f.children.as_ref().map(|c| c.without_anywhere(names)),
                    ..f.clone()
                })
                .collect(),
        }
    }

    /// Whether a field named one of `names` is asked for at any depth.
    pub fn asks_anywhere_for_any(&self, names: &[&str]) -> bool {
        self.fields.iter().any(|f| {
            names.contains(&f.name.as_str())
                || f.children
                    .as_ref()
                    .is_some_and(|c| c.asks_anywhere_for_any(names))
        })
    }

    /// The sub-selection of the object or edge that answers under `key`, if it expands one.
    pub fn child(&self, key: &str) -> Option<&FieldSet> {
        self.fields
            .iter()
            .find(|f| f.key() == key)
            .and_then(|f| f.children.as_ref())
    }

    /// Adds every field of `other` to this set.
    pub fn merge(&mut self, other: &FieldSet) {
        for field in &other.fields {
            let index = self.entry(
                &field.name,
                field.modifiers.clone(),
                field.alias.clone(),
                field.children.is_some(),
            );
            if let Some(theirs) = &field.children {
                self.children(index).merge(theirs);
            }
        }
    }

    fn entry(
        &mut self,
        name: &str,
        modifiers: Vec<(String, String)>,
        alias: Option<String>,
        expands: bool,
    ) -> usize {
        let key = alias.as_deref().unwrap_or(name);
        let index = match self.fields.iter().position(|f| f.key() == key) {
            Some(index) => index,
            None => {
                self.fields.push(Field {
                    name: name.to_owned(),
                    modifiers,
                    alias,
                    children: None,
                });
                self.fields.len() - 1
            }
        };
        if expands {
            self.children(index);
        }
        index
    }
}

impl fmt::Display for FieldSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, field) in self.fields.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(&field.name)?;
            for (name, value) in &field.modifiers {
                write!(f, ".{name}({value})")?;
            }
            if let Some(alias) = &field.alias {
                write!(f, ".as({alias})")?;
            }
            if let Some(children) = &field.children
                && !children.is_empty()
            {
                write!(f, "{{{children}}}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_expansions_render_in_graph_syntax() {
        let mut set = FieldSet::new();
        set.scalar("id");
        set.scalar("name");
        set.object("primary_page").scalar("name");
        let pages = set.edge(
            "owned_pages",
            &EdgeArgs {
                limit: Some(10),
                total_count: true,
                ..EdgeArgs::default()
            },
        );
        pages.scalar("id");
        pages.scalar("name");
        assert_eq!(
            set.to_string(),
            "id,name,primary_page{name},owned_pages.limit(10).summary(total_count){id,name}"
        );
    }

    #[test]
    fn an_edges_own_parameters_come_before_its_paging() {
        let mut set = FieldSet::new();
        set.edge(
            "business_invoices",
            &EdgeArgs {
                filters: vec![
                    ("start_date".to_owned(), "2026-01-01".to_owned()),
                    ("end_date".to_owned(), "2026-03-31".to_owned()),
                ],
                limit: Some(5),
                ..EdgeArgs::default()
            },
        )
        .scalar("id");
        assert_eq!(
            set.to_string(),
            "business_invoices.start_date(2026-01-01).end_date(2026-03-31).limit(5){id}"
        );
    }

    #[test]
    fn asking_twice_merges_and_aliases_stay_apart() {
        let mut set = FieldSet::new();
        set.scalar("name");
        set.scalar("name");
        set.object("created_by").scalar("id");
        set.object("created_by").scalar("name");
        set.edge(
            "owned_pages",
            &EdgeArgs {
                limit: Some(1),
                alias: Some("owned_pages_first".to_owned()),
                ..EdgeArgs::default()
            },
        )
        .scalar("id");
        set.edge("owned_pages", &EdgeArgs::default()).scalar("id");
        assert_eq!(
            set.to_string(),
            "name,created_by{id,name},owned_pages.limit(1).as(owned_pages_first){id},owned_pages{id}"
        );
        assert!(set.contains("owned_pages_first"));
        assert!(!set.contains("primary_page"));
    }

    #[test]
    fn fields_are_left_out_at_any_depth() {
        let mut set = FieldSet::new();
        set.scalar("id");
        set.edge("business_invoices", &EdgeArgs::default())
            .scalar("id");
        let businesses = set.edge("businesses", &EdgeArgs::default());
        businesses.scalar("name");
        businesses
            .edge(
                "creditcards",
                &EdgeArgs {
                    alias: Some("cards".to_owned()),
                    ..EdgeArgs::default()
                },
            )
            .scalar("last4");
        let guarded = ["business_invoices", "creditcards"];
        assert!(set.asks_anywhere_for_any(&guarded));
        assert!(set.asks_anywhere_for_any(&["creditcards"]));
        let narrowed = set.without_anywhere(&guarded);
        assert_eq!(narrowed.to_string(), "id,businesses{name}");
        assert!(!narrowed.asks_anywhere_for_any(&guarded));
        assert_eq!(
            set.child("businesses").map(ToString::to_string).as_deref(),
            Some("name,creditcards.as(cards){last4}")
        );
        assert_eq!(set.child("id"), None);
    }
}
