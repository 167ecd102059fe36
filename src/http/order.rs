//! Response fields in the order the query asked for them.
//!
//! The GraphQL specification serializes an object's fields "in the order in
//! which they appear in the query" (§7.2.2, Serialized Map Ordering), as
//! `CollectFields` lists them. async-graphql resolves an object's fields
//! concurrently and builds the object in the order they *finish* (a
//! `FuturesUnordered` in `resolver_utils::container`), so two identical
//! requests could answer different bytes, which breaks clients and caches
//! that compare them.
//!
//! Fixing it in async-graphql would mean carrying a fork; instead the
//! executed response is put back in order here, before it is serialized:
//! each object's keys are re-inserted in `CollectFields` order, worked out
//! from the document, the variables (`@skip`/`@include`) and the schema's
//! shape (field types, and which concrete types an interface or union can
//! be, for type conditions). It costs one walk over the response, next to
//! nothing beside serializing it.
//!
//! Under an interface or union the object's concrete type decides which
//! fragments apply; it is read from `__typename` when the query asks for
//! it, else it is the first possible type whose fields are exactly the
//! object's keys (types whose fragments select the same keys in different
//! orders are the only case this cannot tell apart).

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use async_graphql::{
    indexmap::IndexMap,
    parser::{
        parse_schema,
        types::{
            BaseType, Directive, ExecutableDocument, Selection, SelectionSet, TypeKind,
            TypeSystemDefinition,
        },
        Error as ParseError,
    },
    Name, Positioned, Value, Variables,
};

/// What ordering needs to know of the schema.
pub struct Shape {
    /// Object or interface type → field → the field's named type.
    fields: HashMap<String, HashMap<String, String>>,
    /// Interface or union → the object types it can be, in SDL order.
    possible: HashMap<String, Vec<String>>,
    /// Query, mutation and subscription root types.
    roots: [Option<String>; 3],
}

impl Shape {
    pub fn from_sdl(sdl: &str) -> Result<Self, ParseError> {
        let document = parse_schema(sdl)?;
        let mut fields = HashMap::new();
        let mut possible: HashMap<String, Vec<String>> = HashMap::new();
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
                    let name = |n: Option<Positioned<Name>>| n.map(|n| n.node.to_string());
                    roots = [
                        name(schema.query),
                        name(schema.mutation),
                        name(schema.subscription),
                    ];
                    continue;
                }
                TypeSystemDefinition::Directive(_) => continue,
            };
            let name = definition.name.node.to_string();
            let definitions = match definition.kind {
                TypeKind::Object(object) => {
                    for interface in object.implements {
                        possible
                            .entry(interface.node.to_string())
                            .or_default()
                            .push(name.clone());
                    }
                    object.fields
                }
                TypeKind::Interface(interface) => {
                    possible.entry(name.clone()).or_default();
                    interface.fields
                }
                TypeKind::Union(union) => {
                    possible
                        .entry(name.clone())
                        .or_default()
                        .extend(union.members.into_iter().map(|m| m.node.to_string()));
                    continue;
                }
                _ => continue,
            };
            let of_type = definitions
                .into_iter()
                .map(|f| {
                    let f = f.node;
                    (
                        f.name.node.to_string(),
                        named_type(&f.ty.node.base).to_owned(),
                    )
                })
                .collect();
            fields.insert(name, of_type);
        }
        Ok(Self {
            fields,
            possible,
            roots,
        })
    }

    /// Puts `data`, the answer to the operation `operation_name` selects in
    /// `doc`, in request order.
    pub fn order(
        &self,
        doc: &ExecutableDocument,
        operation_name: Option<&str>,
        variables: &Variables,
        data: &mut Value,
    ) {
        let Some(operation) = crate::graphql::document::selected_operation(doc, operation_name)
        else {
            return;
        };
        let root = match operation.ty {
            async_graphql::parser::types::OperationType::Query => &self.roots[0],
            async_graphql::parser::types::OperationType::Mutation => &self.roots[1],
            async_graphql::parser::types::OperationType::Subscription => &self.roots[2],
        };
        let mut values: HashMap<&str, bool> = HashMap::new();
        for definition in &operation.variable_definitions {
            let definition = &definition.node;
            let name = definition.name.node.as_str();
            let given = variables
                .get(name)
                .cloned()
                .or_else(|| definition.default_value.as_ref().map(|d| d.node.clone()));
            if let Some(Value::Boolean(b)) = given {
                values.insert(name, b);
            }
        }
        let walk = Walk {
            shape: self,
            doc,
            booleans: &values,
        };
        walk.value(data, root.as_deref(), &[&operation.selection_set.node]);
    }
}

/// What it takes to put the answers to one request in order.
#[derive(Clone)]
pub struct Order {
    shape: Arc<Shape>,
    doc: Arc<ExecutableDocument>,
    operation_name: Option<String>,
    variables: Variables,
}

impl Order {
    pub fn new(
        shape: Arc<Shape>,
        doc: Arc<ExecutableDocument>,
        operation_name: Option<String>,
        variables: Variables,
    ) -> Self {
        Self {
            shape,
            doc,
            operation_name,
            variables,
        }
    }

    /// Puts `response.data` in request order.
    pub fn apply(&self, response: &mut async_graphql::Response) {
        self.shape.order(
            &self.doc,
            self.operation_name.as_deref(),
            &self.variables,
            &mut response.data,
        );
    }
}

/// Puts a response in order when there is an [`Order`] (a document that
/// did not parse has no data to order).
pub fn apply(order: Option<&Order>, response: &mut async_graphql::Response) {
    if let Some(order) = order {
        order.apply(response);
    }
}

fn named_type(base: &BaseType) -> &str {
    match base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => named_type(&inner.base),
    }
}

/// Fields sharing one response key, as `CollectFields` groups them.
struct Group<'a> {
    key: &'a str,
    name: &'a str,
    sets: Vec<&'a SelectionSet>,
}

struct Walk<'a> {
    shape: &'a Shape,
    doc: &'a ExecutableDocument,
    /// Boolean variables, for `@skip(if: $v)` and `@include(if: $v)`.
    booleans: &'a HashMap<&'a str, bool>,
}

impl<'a> Walk<'a> {
    fn value(&self, value: &mut Value, ty: Option<&str>, sets: &[&'a SelectionSet]) {
        match value {
            Value::List(items) => {
                for item in items {
                    self.value(item, ty, sets);
                }
            }
            Value::Object(map) => self.object(map, ty, sets),
            _ => {}
        }
    }

    fn object(&self, map: &mut IndexMap<Name, Value>, ty: Option<&str>, sets: &[&'a SelectionSet]) {
        let concrete = self.concrete(map, ty, sets);
        let groups = self.collect(sets, concrete.as_deref());
        let mut unordered = std::mem::take(map);
        for group in groups {
            let Some((key, mut value)) = unordered.swap_remove_entry(group.key) else {
                continue;
            };
            if group.sets.iter().any(|s| !s.items.is_empty()) {
                let child = concrete
                    .as_deref()
                    .and_then(|t| self.shape.fields.get(t))
                    .and_then(|fields| fields.get(group.name))
                    .map(String::as_str);
                self.value(&mut value, child, &group.sets);
            }
            map.insert(key, value);
        }
        // Nothing should be left; if anything is, it is kept, at the end.
        map.extend(unordered);
    }

    /// The object's own type: `ty` itself unless it is an interface or a
    /// union (or unknown, as introspection's types are: then every type
    /// condition is taken to apply).
    fn concrete(
        &self,
        map: &IndexMap<Name, Value>,
        ty: Option<&str>,
        sets: &[&'a SelectionSet],
    ) -> Option<String> {
        let ty = ty?;
        let Some(candidates) = self.shape.possible.get(ty) else {
            return Some(ty.to_owned());
        };
        let all = self.collect(sets, None);
        let typename =
            all.iter()
                .filter(|g| g.name == "__typename")
                .find_map(|g| match map.get(g.key) {
                    Some(Value::String(name)) => Some(name.clone()),
                    _ => None,
                });
        if typename.is_some() {
            return typename;
        }
        let keys: HashSet<&str> = map.keys().map(Name::as_str).collect();
        candidates
            .iter()
            .find(|candidate| {
                let collected = self.collect(sets, Some(candidate.as_str()));
                collected.len() == keys.len() && collected.iter().all(|g| keys.contains(g.key))
            })
            .cloned()
    }

    /// `CollectFields` of the spec: the selected fields grouped by response
    /// key, in the order they first appear, for an object of type
    /// `concrete` (every fragment applies when it is unknown).
    fn collect(&self, sets: &[&'a SelectionSet], concrete: Option<&str>) -> Vec<Group<'a>> {
        let mut groups = Vec::new();
        let mut visited = HashSet::new();
        for set in sets {
            self.collect_into(set, concrete, &mut groups, &mut visited);
        }
        groups
    }

    fn collect_into(
        &self,
        set: &'a SelectionSet,
        concrete: Option<&str>,
        groups: &mut Vec<Group<'a>>,
        visited: &mut HashSet<&'a str>,
    ) {
        for item in &set.items {
            if !self.included(item.node.directives()) {
                continue;
            }
            match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let key = field.response_key().node.as_str();
                    match groups.iter_mut().find(|g| g.key == key) {
                        Some(group) => group.sets.push(&field.selection_set.node),
                        None => groups.push(Group {
                            key,
                            name: field.name.node.as_str(),
                            sets: vec![&field.selection_set.node],
                        }),
                    }
                }
                Selection::InlineFragment(fragment) => {
                    let fragment = &fragment.node;
                    let on = fragment
                        .type_condition
                        .as_ref()
                        .map(|c| c.node.on.node.as_str());
                    if on.is_none_or(|on| self.applies(on, concrete)) {
                        self.collect_into(&fragment.selection_set.node, concrete, groups, visited);
                    }
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    let Some(fragment) = self.doc.fragments.get(name) else {
                        continue;
                    };
                    let on = fragment.node.type_condition.node.on.node.as_str();
                    if self.applies(on, concrete) && visited.insert(name) {
                        self.collect_into(
                            &fragment.node.selection_set.node,
                            concrete,
                            groups,
                            visited,
                        );
                    }
                }
            }
        }
    }

    fn applies(&self, condition: &str, concrete: Option<&str>) -> bool {
        let Some(concrete) = concrete else {
            return true;
        };
        condition == concrete
            || self
                .shape
                .possible
                .get(condition)
                .is_some_and(|types| types.iter().any(|t| t == concrete))
    }

    /// `@skip` and `@include`, as execution reads them.
    fn included(&self, directives: &[Positioned<Directive>]) -> bool {
        directives.iter().all(|directive| {
            let directive = &directive.node;
            let wanted = match directive.name.node.as_str() {
                "skip" => false,
                "include" => true,
                _ => return true,
            };
            let condition = directive
                .get_argument("if")
                .and_then(|v| {
                    v.node
                        .clone()
                        .into_const_with(|variable| {
                            self.booleans
                                .get(variable.as_str())
                                .map(|b| Value::Boolean(*b))
                                .ok_or(())
                        })
                        .ok()
                })
                .is_some_and(|v| v == Value::Boolean(true));
            condition == wanted
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    const SDL: &str = r#"
        type Query { viewer: Viewer! node(id: ID!): Node things: [Thing!]! }
        type Viewer { kind: String! role: String! scopes: [String!]! }
        interface Node { id: ID! }
        union Thing = A | B
        type A implements Node { id: ID! a: Int! x: Int! }
        type B implements Node { id: ID! b: Int! x: Int! }
    "#;

    fn ordered(query: &str, variables: serde_json::Value, data: serde_json::Value) -> String {
        let shape = Shape::from_sdl(SDL).unwrap();
        let doc = parse_query(query).unwrap();
        let mut value = Value::from_json(data).unwrap();
        shape.order(&doc, None, &Variables::from_json(variables), &mut value);
        value.into_json().unwrap().to_string()
    }

    // serde_json keeps keys sorted here; `into_json` of an IndexMap goes
    // through a Map, so the order is checked on async-graphql's Value.
    fn keys(query: &str, variables: serde_json::Value, data: Value) -> Vec<String> {
        let shape = Shape::from_sdl(SDL).unwrap();
        let doc = parse_query(query).unwrap();
        let mut value = data;
        shape.order(&doc, None, &Variables::from_json(variables), &mut value);
        fn walk(value: &Value, out: &mut Vec<String>) {
            match value {
                Value::Object(map) => {
                    for (k, v) in map {
                        out.push(k.to_string());
                        walk(v, out);
                    }
                }
                Value::List(items) => items.iter().for_each(|i| walk(i, out)),
                _ => {}
            }
        }
        let mut out = Vec::new();
        walk(&value, &mut out);
        out
    }

    fn object(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (Name::new(k), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn objects_follow_the_query() {
        let data = object(&[(
            "viewer",
            object(&[
                ("scopes", Value::List(vec![])),
                ("kind", Value::from("STAFF")),
                ("r", Value::from("ADMIN")),
            ]),
        )]);
        assert_eq!(
            keys(
                "{ viewer { kind r: role scopes } }",
                serde_json::json!({}),
                data
            ),
            ["viewer", "kind", "r", "scopes"]
        );
        // Unchanged values, only their order.
        assert_eq!(
            ordered(
                "{ viewer { kind } }",
                serde_json::json!({}),
                serde_json::json!({ "viewer": { "kind": "STAFF" } })
            ),
            r#"{"viewer":{"kind":"STAFF"}}"#
        );
    }

    #[test]
    fn fragments_directives_and_abstract_types() {
        let a = object(&[
            ("x", Value::from(1)),
            ("id", Value::from("1")),
            ("a", Value::from(2)),
        ]);
        let b = object(&[
            ("b", Value::from(3)),
            ("x", Value::from(4)),
            ("id", Value::from("2")),
        ]);
        let data = object(&[("things", Value::List(vec![a, b]))]);
        let query =
            "{ things { ... on A { a x } ...B ... on Node { id } } } fragment B on B { x b }";
        assert_eq!(
            keys(query, serde_json::json!({}), data.clone()),
            ["things", "a", "x", "id", "x", "b", "id"]
        );
        // `__typename` decides the type when asked for.
        let typed = object(&[(
            "things",
            Value::List(vec![object(&[
                ("x", Value::from(1)),
                ("t", Value::from("B")),
                ("id", Value::from("1")),
            ])]),
        )]);
        let query = "{ things { t: __typename ... on A { id x } ... on B { x id } } }";
        assert_eq!(
            keys(query, serde_json::json!({}), typed),
            ["things", "t", "x", "id"]
        );
        // A skipped field does not hold its place.
        let data = object(&[(
            "viewer",
            object(&[("role", Value::from("A")), ("kind", Value::from("S"))]),
        )]);
        let query = "query($s: Boolean = true) { viewer { kind @skip(if: $s) role kind } }";
        assert_eq!(
            keys(query, serde_json::json!({}), data.clone()),
            ["viewer", "role", "kind"]
        );
        assert_eq!(
            keys(query, serde_json::json!({ "s": false }), data),
            ["viewer", "kind", "role"]
        );
    }
}
