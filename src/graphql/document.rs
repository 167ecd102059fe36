//! Looks at a parsed document before it runs: which operation it selects,
//! how many aliases it uses (async-graphql has no alias limit of its own),
//! and how deep it nests (`depth`).

use std::collections::{HashMap, HashSet};

use async_graphql::parser::types::{
    ExecutableDocument, OperationDefinition, OperationType, Selection, SelectionSet,
};

/// The operation that `operation_name` selects (or the first one).
pub fn selected_operation<'a>(
    doc: &'a ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<&'a OperationDefinition> {
    let mut operations = doc.operations.iter();
    let selected = match operation_name {
        Some(wanted) => operations.find(|(name, _)| name.is_some_and(|n| n.as_str() == wanted)),
        None => operations.next(),
    };
    selected.map(|(_, op)| &op.node)
}

/// The type of the operation that `operation_name` selects (or the only one).
pub fn operation_type(
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<OperationType> {
    selected_operation(doc, operation_name).map(|op| op.ty)
}

/// Names of the root fields the selected operation asks for, through
/// fragments too (`None` when no operation is selected).
pub fn root_fields<'a>(
    doc: &'a ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<Vec<&'a str>> {
    let operation = selected_operation(doc, operation_name)?;
    let mut names = Vec::new();
    collect_fields(doc, &operation.selection_set.node, &mut names, 0);
    Some(names)
}

fn collect_fields<'a>(
    doc: &'a ExecutableDocument,
    set: &'a SelectionSet,
    names: &mut Vec<&'a str>,
    depth: usize,
) {
    // Fragment cycles are a validation error; the depth bound keeps this walk finite meanwhile.
    if depth > 16 {
        return;
    }
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => names.push(field.node.name.node.as_str()),
            Selection::InlineFragment(fragment) => {
                collect_fields(doc, &fragment.node.selection_set.node, names, depth + 1)
            }
            Selection::FragmentSpread(spread) => {
                if let Some(fragment) = doc.fragments.get(&spread.node.fragment_name.node) {
                    collect_fields(doc, &fragment.node.selection_set.node, names, depth + 1);
                }
            }
        }
    }
}

/// Whether a string in the document or in `variables` holds NUL (U+0000).
/// PostgreSQL text cannot store it (the statement fails), so such input is
/// refused before anything runs, on every backend alike (the fuzzer,
/// `tests/api/fuzz.rs`, found it as an internal error).
pub fn holds_nul(doc: &ExecutableDocument, variables: &serde_json::Value) -> bool {
    use async_graphql::Value;
    fn value(v: &Value) -> bool {
        match v {
            Value::String(s) => s.contains('\0'),
            Value::List(items) => items.iter().any(value),
            Value::Object(fields) => fields.iter().any(|(k, v)| k.contains('\0') || value(v)),
            _ => false,
        }
    }
    fn set(selections: &SelectionSet) -> bool {
        selections.items.iter().any(|item| match &item.node {
            Selection::Field(field) => {
                field
                    .node
                    .arguments
                    .iter()
                    .any(|(_, v)| v.node.clone().into_const().as_ref().is_some_and(value))
                    || field.node.directives.iter().any(|d| {
                        d.node
                            .arguments
                            .iter()
                            .any(|(_, v)| v.node.clone().into_const().as_ref().is_some_and(value))
                    })
                    || set(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => set(&fragment.node.selection_set.node),
            Selection::FragmentSpread(_) => false,
        })
    }
    fn json(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::String(s) => s.contains('\0'),
            serde_json::Value::Array(items) => items.iter().any(json),
            serde_json::Value::Object(fields) => {
                fields.iter().any(|(k, v)| k.contains('\0') || json(v))
            }
            _ => false,
        }
    }
    json(variables)
        || doc.operations.iter().any(|(_, op)| {
            set(&op.node.selection_set.node)
                || op.node.variable_definitions.iter().any(|d| {
                    d.node
                        .default_value
                        .as_ref()
                        .is_some_and(|v| value(&v.node))
                })
        })
        || doc
            .fragments
            .values()
            .any(|fragment| set(&fragment.node.selection_set.node))
}

/// Aliases in every operation and fragment of the document.
pub fn alias_count(doc: &ExecutableDocument) -> usize {
    let operations: usize = doc
        .operations
        .iter()
        .map(|(_, op)| aliases_in(&op.node.selection_set.node))
        .sum();
    let fragments: usize = doc
        .fragments
        .values()
        .map(|f| aliases_in(&f.node.selection_set.node))
        .sum();
    operations + fragments
}

fn aliases_in(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(field) => {
                usize::from(field.node.alias.is_some()) + aliases_in(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => aliases_in(&fragment.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

/// How deeply introspection may nest `__Type`s reached through anything but
/// `ofType` (`__schema.types` is one, its `fields.type` two). graphql-js's
/// `getIntrospectionQuery()`, and so GraphiQL, Apollo, codegen and
/// Postman, need two; a third would list every field of every field's
/// type, and so on, multiplying the answer by the schema's size each time.
pub const MAX_INTROSPECTION_TYPE_NESTING: usize = 2;

/// How long a chain of `ofType` introspection may ask for. graphql-js asks
/// for 9 (older versions and other tools fewer); a type reference in this
/// schema wraps at most three deep (`[X!]!`).
pub const MAX_OF_TYPE: usize = 9;

/// Introspection fields that return a `__Type` (besides `ofType`).
const TYPE_FIELDS: [&str; 8] = [
    "__type",
    "types",
    "queryType",
    "mutationType",
    "subscriptionType",
    "type",
    "interfaces",
    "possibleTypes",
];

/// Longest path walked at all: beyond it the document is too deep whatever
/// it asks (and the walk stays short).
const MAX_PATH: usize = 64;

/// Why a document nests too deep, as the client should read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooDeep(pub String);

/// Checks the nesting of the selected operation (SPEC §7).
///
/// Data fields nest at most `max_depth` deep, counted like async-graphql's
/// `limit_depth` (every field, `__typename` too, is one level). Inside
/// `__schema` and `__type` introspection has its own bound instead, because
/// the introspection query every tool sends nests its `ofType` chain 15
/// levels deep: at most [`MAX_INTROSPECTION_TYPE_NESTING`] nested `__Type`s
/// and [`MAX_OF_TYPE`] `ofType`s on any path. Both bounds hold whatever the
/// limits are set to, so introspection never grows with the schema's size
/// more than the standard query does.
pub fn depth(
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    max_depth: usize,
) -> Result<(), TooDeep> {
    let Some(operation) = selected_operation(doc, operation_name) else {
        return Ok(());
    };
    let mut walk = DepthWalk {
        doc,
        max_depth,
        memo: HashMap::new(),
        entered: HashSet::new(),
    };
    walk.set(&operation.selection_set.node, Place::Data, 0)
        .map(|_| ())
}

/// Where a selection set sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Place {
    /// Among data fields.
    Data,
    /// Inside introspection, below `types` nested `__Type`s and `of_type`
    /// `ofType`s.
    Introspection { types: usize, of_type: usize },
}

struct DepthWalk<'a> {
    doc: &'a ExecutableDocument,
    max_depth: usize,
    /// A fragment's height (data levels below where it is spread) per place:
    /// a fragment spread many times over is walked once per place.
    memo: HashMap<(&'a str, Place), usize>,
    /// Fragments being walked; a cycle (a validation error) adds nothing.
    entered: HashSet<&'a str>,
}

impl<'a> DepthWalk<'a> {
    /// The data levels `set` adds at path length `path`.
    fn set(&mut self, set: &'a SelectionSet, place: Place, path: usize) -> Result<usize, TooDeep> {
        if path > MAX_PATH {
            return Err(TooDeep(format!(
                "Query is nested too deep: more than {MAX_PATH} levels"
            )));
        }
        let mut height = 0;
        for item in &set.items {
            let below = match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let name = field.name.node.as_str();
                    let inner = match place {
                        Place::Data if name == "__schema" || name == "__type" => {
                            Place::Introspection {
                                types: usize::from(name == "__type"),
                                of_type: 0,
                            }
                        }
                        Place::Data => Place::Data,
                        Place::Introspection { types, of_type } if name == "ofType" => {
                            Place::Introspection {
                                types,
                                of_type: of_type + 1,
                            }
                        }
                        Place::Introspection { types, of_type } if TYPE_FIELDS.contains(&name) => {
                            Place::Introspection {
                                types: types + 1,
                                of_type,
                            }
                        }
                        introspection => introspection,
                    };
                    if let Place::Introspection { types, of_type } = inner {
                        if types > MAX_INTROSPECTION_TYPE_NESTING {
                            return Err(TooDeep(format!(
                                "Query is nested too deep: introspection nests `__Type` at most {MAX_INTROSPECTION_TYPE_NESTING} deep (besides `ofType`)"
                            )));
                        }
                        if of_type > MAX_OF_TYPE {
                            return Err(TooDeep(format!(
                                "Query is nested too deep: introspection asks for at most {MAX_OF_TYPE} nested `ofType`"
                            )));
                        }
                    }
                    let below = self.set(&field.selection_set.node, inner, path + 1)?;
                    // Introspection below its root field counts by its own rule.
                    if place == Place::Data {
                        below + 1
                    } else {
                        0
                    }
                }
                Selection::InlineFragment(fragment) => {
                    self.set(&fragment.node.selection_set.node, place, path + 1)?
                }
                Selection::FragmentSpread(spread) => {
                    self.fragment(spread.node.fragment_name.node.as_str(), place, path)?
                }
            };
            height = height.max(below);
        }
        // Refused as soon as any data path passes the limit.
        if place == Place::Data && height > self.max_depth {
            return Err(TooDeep(format!(
                "Query is nested too deep: the limit is {} levels",
                self.max_depth
            )));
        }
        Ok(height)
    }

    fn fragment(&mut self, name: &'a str, place: Place, path: usize) -> Result<usize, TooDeep> {
        if let Some(height) = self.memo.get(&(name, place)) {
            return Ok(*height);
        }
        let Some(fragment) = self.doc.fragments.get(name) else {
            return Ok(0);
        };
        if !self.entered.insert(name) {
            return Ok(0);
        }
        let height = self.set(&fragment.node.selection_set.node, place, path + 1);
        self.entered.remove(name);
        let height = height?;
        self.memo.insert((name, place), height);
        Ok(height)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    #[test]
    fn finds_the_selected_operation_and_counts_aliases() {
        let doc = parse_query(
            "query A { a: viewer { b: kind } } mutation B { x } fragment F on Q { c: y }",
        );
        let doc = doc.expect("the test document parses");
        assert_eq!(
            operation_type(&doc, Some("B")),
            Some(OperationType::Mutation)
        );
        assert_eq!(operation_type(&doc, Some("A")), Some(OperationType::Query));
        assert_eq!(operation_type(&doc, Some("C")), None);
        assert_eq!(alias_count(&doc), 3);
        assert_eq!(root_fields(&doc, Some("A")), Some(vec!["viewer"]));
        let doc = parse_query("{ __schema { types { name } } ...F } fragment F on Query { __type(name: \"X\") { name } }")
            .expect("the test document parses");
        assert_eq!(root_fields(&doc, None), Some(vec!["__schema", "__type"]));
    }
}

#[cfg(test)]
mod depth_tests {
    use super::*;
    use async_graphql::parser::parse_query;

    fn check(query: &str, max_depth: usize) -> Result<(), TooDeep> {
        let doc = parse_query(query).expect("the test document parses");
        depth(&doc, None, max_depth)
    }

    fn nested(field: &str, levels: usize, leaf: &str) -> String {
        let mut query = leaf.to_owned();
        for _ in 0..levels {
            query = format!("{field} {{ {query} }}");
        }
        query
    }

    #[test]
    fn data_depth_counts_every_field_like_async_graphql() {
        assert!(check("{ viewer { kind } }", 2).is_ok());
        assert!(check("{ viewer { kind } }", 1).is_err());
        let through_fragments = "{ a { ...F } } fragment F on T { b { ... on T { c { d } } } }";
        assert!(check(through_fragments, 4).is_ok());
        assert!(check(through_fragments, 3).is_err());
        // Fragment cycles and fan-out end quickly.
        assert!(check(
            "{ a { ...A } } fragment A on T { ...B } fragment B on T { ...A }",
            3
        )
        .is_ok());
        let mut fan = String::from("{ a { ...F0 } }");
        for i in 0..20 {
            fan.push_str(&format!(
                " fragment F{i} on T {{ x {{ ...F{} }} y {{ ...F{} }} }}",
                i + 1,
                i + 1
            ));
        }
        fan.push_str(" fragment F20 on T { z }");
        assert!(check(&fan, 12).is_err());
        assert!(check(&fan, 22).is_ok());
    }

    #[test]
    fn the_graphql_js_introspection_query_passes_at_the_default_limit() {
        for query in [
            include_str!("../../tests/fixtures/introspection-all-options.graphql"),
            include_str!("../../tests/fixtures/introspection-default.graphql"),
        ] {
            assert_eq!(
                check(query, crate::config::Limits::default().max_depth),
                Ok(())
            );
            // Beside data, the data still counts by the limit.
            assert_eq!(check(query, 2), Ok(()));
        }
    }

    #[test]
    fn introspection_stays_bounded() {
        // Recursing through the types of fields of types…
        let two = "{ __schema { types { fields { type { fields { name } } } } } }";
        assert!(check(two, 12).is_ok());
        let three = "{ __schema { types { fields { type { fields { type { name } } } } } } }";
        assert!(check(three, 12).is_err());
        let by_type = "{ __type(name: \"Query\") { fields { type { interfaces { name } } } } }";
        assert!(check(by_type, 12).is_err());
        // … or down an `ofType` chain longer than graphql-js asks for.
        let chain = |n| {
            format!(
                "{{ __type(name: \"Query\") {{ {} }} }}",
                nested("ofType", n, "name")
            )
        };
        assert!(check(&chain(MAX_OF_TYPE), 12).is_ok());
        assert!(check(&chain(MAX_OF_TYPE + 1), 12).is_err());
        // Through fragments too.
        let spread = "{ __schema { types { ...T } } } fragment T on __Type { fields { type { possibleTypes { name } } } }";
        assert!(check(spread, 12).is_err());
        // Nonsense nesting inside introspection is cut off too.
        let mut junk = String::from("{ __schema { ...J0 } }");
        for i in 0..40 {
            junk.push_str(&format!(
                " fragment J{i} on __Schema {{ x {{ ...J{} }} }}",
                i + 1
            ));
        }
        junk.push_str(" fragment J40 on __Schema { y }");
        assert!(check(&junk, 12).is_err());
    }
}
