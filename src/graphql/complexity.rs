//! What a query costs (SPEC §7), worked out from the parsed document and the
//! schema's SDL before anything runs: every field costs one plus what it
//! selects, and a connection (a field taking `first`/`last` that returns a
//! `…Connection`) costs `first` (or `last`, else 20) times what it selects.
//!
//! The same number is checked against `max_complexity` and charged to the
//! principal's budget. It is computed here rather than by an async-graphql
//! extension because an installed extension wraps the resolution of every
//! field of every response, which cost a large page a tenth of its time.

use std::collections::{HashMap, HashSet};

use async_graphql::{
    parser::{
        parse_schema,
        types::{
            BaseType, ExecutableDocument, Field, OperationType, Selection, SelectionSet, TypeKind,
            TypeSystemDefinition,
        },
        Error as ParseError,
    },
    Value, Variables,
};

/// A connection's page size when the query gives neither `first` nor `last`
/// (`service::pagination::DEFAULT_PAGE_SIZE`).
const DEFAULT_PAGE: usize = crate::service::pagination::DEFAULT_PAGE_SIZE as usize;

/// The schema's shape, as far as cost depends on it.
pub struct Pricing {
    /// Type → field → the field's (named) type and whether it is a connection.
    fields: HashMap<String, HashMap<String, FieldInfo>>,
    roots: [Option<String>; 3],
}

struct FieldInfo {
    ty: String,
    connection: bool,
}

impl Pricing {
    /// Reads the object and interface types of `sdl`.
    pub fn from_sdl(sdl: &str) -> Result<Self, ParseError> {
        let document = parse_schema(sdl)?;
        let mut fields = HashMap::new();
        let mut roots = [
            Some("Query".to_owned()),
            Some("Mutation".to_owned()),
            Some("Subscription".to_owned()),
        ];
        for definition in document.definitions {
            let definition = match definition {
                TypeSystemDefinition::Type(definition) => definition.node,
                TypeSystemDefinition::Schema(schema) => {
                    let schema = schema.node;
                    let name = |n: Option<async_graphql::Positioned<async_graphql::Name>>| {
                        n.map(|n| n.node.to_string())
                    };
                    roots = [
                        name(schema.query),
                        name(schema.mutation),
                        name(schema.subscription),
                    ];
                    continue;
                }
                TypeSystemDefinition::Directive(_) => continue,
            };
            let definitions = match definition.kind {
                TypeKind::Object(object) => object.fields,
                TypeKind::Interface(interface) => interface.fields,
                _ => continue,
            };
            let of_type = definitions
                .into_iter()
                .map(|field| {
                    let field = field.node;
                    let ty = named_type(&field.ty.node.base).to_owned();
                    let paged = field.arguments.iter().any(|a| {
                        let name = a.node.name.node.as_str();
                        name == "first" || name == "last"
                    });
                    let connection = paged && ty.ends_with("Connection");
                    (field.name.node.to_string(), FieldInfo { ty, connection })
                })
                .collect();
            fields.insert(definition.name.node.to_string(), of_type);
        }
        Ok(Self { fields, roots })
    }

    /// The cost of the operation `operation_name` selects (or the only one);
    /// 0 when there is none. Unknown fields cost one plus their selection;
    /// validation refuses them later.
    pub fn cost(
        &self,
        doc: &ExecutableDocument,
        operation_name: Option<&str>,
        variables: &Variables,
    ) -> usize {
        let Some(operation) = super::document::selected_operation(doc, operation_name) else {
            return 0;
        };
        let root = match operation.ty {
            OperationType::Query => &self.roots[0],
            OperationType::Mutation => &self.roots[1],
            OperationType::Subscription => &self.roots[2],
        };
        // A variable's value: as sent, else its declared default.
        let mut values: HashMap<&str, Value> = operation
            .variable_definitions
            .iter()
            .filter_map(|d| {
                let default = d.node.default_value.as_ref()?.node.clone();
                Some((d.node.name.node.as_str(), default))
            })
            .collect();
        for (name, value) in variables.iter() {
            values.insert(name.as_str(), value.clone());
        }
        let mut walk = Walk {
            pricing: self,
            doc,
            variables: &values,
            fragments: HashMap::new(),
            entered: HashSet::new(),
        };
        walk.selection_set(root.as_deref(), &operation.selection_set.node)
    }
}

fn named_type(base: &BaseType) -> &str {
    match base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => named_type(&inner.base),
    }
}

/// One costing of one document.
struct Walk<'a> {
    pricing: &'a Pricing,
    doc: &'a ExecutableDocument,
    variables: &'a HashMap<&'a str, Value>,
    /// Each fragment's cost, worked out once: a fragment spread many times
    /// over must not make this walk exponential.
    fragments: HashMap<&'a str, usize>,
    /// Fragments being costed; a cycle (a validation error) costs nothing.
    entered: HashSet<&'a str>,
}

impl<'a> Walk<'a> {
    fn selection_set(&mut self, parent: Option<&str>, set: &'a SelectionSet) -> usize {
        let mut total = 0usize;
        for item in &set.items {
            let cost = match &item.node {
                Selection::Field(field) => self.field(parent, &field.node),
                Selection::InlineFragment(fragment) => {
                    let fragment = &fragment.node;
                    let on = fragment
                        .type_condition
                        .as_ref()
                        .map(|c| c.node.on.node.as_str())
                        .or(parent);
                    self.selection_set(on, &fragment.selection_set.node)
                }
                Selection::FragmentSpread(spread) => {
                    self.fragment(spread.node.fragment_name.node.as_str())
                }
            };
            total = total.saturating_add(cost);
        }
        total
    }

    fn field(&mut self, parent: Option<&str>, field: &'a Field) -> usize {
        let info = parent
            .and_then(|p| self.pricing.fields.get(p))
            .and_then(|fields| fields.get(field.name.node.as_str()));
        let selected = self.selection_set(info.map(|i| i.ty.as_str()), &field.selection_set.node);
        match info {
            Some(info) if info.connection => self.page_size(field).saturating_mul(selected),
            _ => selected.saturating_add(1),
        }
    }

    fn fragment(&mut self, name: &'a str) -> usize {
        if let Some(cost) = self.fragments.get(name) {
            return *cost;
        }
        let Some(fragment) = self.doc.fragments.get(name) else {
            return 0;
        };
        if !self.entered.insert(name) {
            return 0;
        }
        let fragment = &fragment.node;
        let on = fragment.type_condition.node.on.node.as_str();
        let cost = self.selection_set(Some(on), &fragment.selection_set.node);
        self.entered.remove(name);
        self.fragments.insert(name, cost);
        cost
    }

    /// `first`, else `last`, else the default page; at least 1.
    fn page_size(&self, field: &Field) -> usize {
        let argument = |name: &str| {
            let value = field.get_argument(name)?.node.clone();
            let value = value
                .into_const_with(|variable| {
                    self.variables.get(variable.as_str()).cloned().ok_or(())
                })
                .ok()?;
            match value {
                Value::Number(n) => n.as_i64(),
                _ => None,
            }
        };
        let size = argument("first")
            .or_else(|| argument("last"))
            .map_or(DEFAULT_PAGE, |n| usize::try_from(n).unwrap_or(0));
        size.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    const SDL: &str = r#"
        type Query { viewer: Viewer! partners(first: Int, last: Int): PartnerConnection! node(id: ID!): Node }
        type Viewer { kind: String! }
        interface Node { id: ID! }
        type PartnerConnection { edges: [PartnerEdge!]! totalCount: Int! }
        type PartnerEdge { cursor: String! node: Partner! }
        type Partner implements Node { id: ID! name: String! contacts(first: Int): ContactConnection! }
        type ContactConnection { edges: [ContactEdge!]! }
        type ContactEdge { node: Contact! }
        type Contact { id: ID! }
    "#;

    fn cost(query: &str, variables: serde_json::Value) -> usize {
        let pricing = Pricing::from_sdl(SDL).unwrap();
        let doc = parse_query(query).unwrap();
        pricing.cost(&doc, None, &Variables::from_json(variables))
    }

    #[test]
    fn fields_cost_one_and_connections_their_page() {
        assert_eq!(cost("{ viewer { kind } }", serde_json::json!({})), 2);
        // 100 × (edges 1 + node (1 + contacts 50 × (edges 1 + node (1 + id 1))))
        let nested = "{ partners(first: 100) { edges { node { contacts(first: 50) { edges { node { id } } } } } } }";
        assert_eq!(cost(nested, serde_json::json!({})), 100 * (1 + 1 + 50 * 3));
        // No size: the default page; `last` counts like `first`.
        assert_eq!(
            cost("{ partners { totalCount } }", serde_json::json!({})),
            20
        );
        assert_eq!(
            cost(
                "{ partners(last: 5) { totalCount } }",
                serde_json::json!({})
            ),
            5
        );
        assert_eq!(
            cost(
                "{ partners(first: 0) { totalCount } }",
                serde_json::json!({})
            ),
            1
        );
    }

    #[test]
    fn variables_fragments_and_unknown_fields() {
        let query = "query($n: Int = 7) { partners(first: $n) { ...Edges } } fragment Edges on PartnerConnection { edges { node { ... on Partner { name } } } }";
        assert_eq!(cost(query, serde_json::json!({})), 7 * 3);
        assert_eq!(cost(query, serde_json::json!({ "n": 10 })), 10 * 3);
        assert_eq!(cost("{ nope { deeper } }", serde_json::json!({})), 2);
        assert_eq!(cost("{ node(id: \"x\") { id } }", serde_json::json!({})), 2);
    }

    #[test]
    fn fragment_cycles_and_fan_out_stay_cheap_to_cost() {
        // A cycle is a validation error later; costing it still ends.
        let cyclic =
            "{ viewer { ...A } } fragment A on Viewer { kind ...B } fragment B on Viewer { ...A }";
        assert_eq!(cost(cyclic, serde_json::json!({})), 2);
        // Each fragment spreads the next twice: 2^30 fields, costed in 30 steps.
        let mut query = String::from("{ viewer { ...F0 } }");
        for i in 0..30 {
            query.push_str(&format!(
                " fragment F{i} on Viewer {{ ...F{} ...F{} }}",
                i + 1,
                i + 1
            ));
        }
        query.push_str(" fragment F30 on Viewer { kind }");
        assert_eq!(cost(&query, serde_json::json!({})), 1 + (1 << 30));
    }
}
