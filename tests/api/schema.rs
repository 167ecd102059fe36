//! The API contract: the checked-in SDL matches the code, and every part of
//! the schema is described.

use serde_json::{json, Value};

#[test]
fn schema_graphql_matches_the_code() {
    let checked_in =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    let generated = partnergraph::graphql::sdl();
    assert!(
        checked_in == generated,
        "schema.graphql is stale: run `cargo run -- schema > schema.graphql` and commit it"
    );
}

#[test]
fn schema_partner_graphql_matches_the_code() {
    let checked_in = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schema.partner.graphql"
    ))
    .unwrap();
    let generated = partnergraph::graphql::partner_sdl().unwrap();
    assert!(
        checked_in == generated,
        "schema.partner.graphql is stale: run `cargo run -- schema --view partner > schema.partner.graphql` and commit it"
    );
}

#[test]
fn partner_sdl_loads_in_standard_tooling() {
    // No dangling references: every named type is defined in the partner SDL itself.
    let sdl = partnergraph::graphql::partner_sdl().unwrap();
    let document = async_graphql::parser::parse_schema(&sdl).unwrap();
    let builtin = ["String", "Int", "Float", "Boolean", "ID"];
    let defined: Vec<String> = document
        .definitions
        .iter()
        .filter_map(|d| match d {
            async_graphql::parser::types::TypeSystemDefinition::Type(t) => {
                Some(t.node.name.node.to_string())
            }
            _ => None,
        })
        .collect();
    for definition in &document.definitions {
        if let async_graphql::parser::types::TypeSystemDefinition::Type(t) = definition {
            use async_graphql::parser::types::TypeKind;
            let mut types = Vec::new();
            match &t.node.kind {
                TypeKind::Object(o) => {
                    for f in &o.fields {
                        types.push(f.node.ty.node.to_string());
                        types.extend(f.node.arguments.iter().map(|a| a.node.ty.node.to_string()));
                    }
                    types.extend(o.implements.iter().map(|i| i.node.to_string()));
                }
                TypeKind::Interface(i) => {
                    types.extend(i.fields.iter().map(|f| f.node.ty.node.to_string()))
                }
                TypeKind::InputObject(i) => {
                    types.extend(i.fields.iter().map(|f| f.node.ty.node.to_string()))
                }
                _ => {}
            }
            for ty in types {
                let name = ty.trim_matches(|c| c == '[' || c == ']' || c == '!');
                assert!(
                    builtin.contains(&name) || defined.iter().any(|d| d == name),
                    "{} refers to {name}, which the partner SDL does not define",
                    t.node.name.node
                );
            }
        }
    }
}

const INTROSPECTION: &str = "{ __schema { types { name description
    fields(includeDeprecated: true) { name description args { name description } }
    inputFields { name description }
    enumValues(includeDeprecated: true) { name description } } } }";

backend_test!(
    every_type_field_argument_and_enum_value_has_a_description,
    |app| {
        let data = app.admin_data(INTROSPECTION, json!({})).await;
        let builtin = ["String", "Int", "Float", "Boolean", "ID"];
        let mut missing = Vec::new();
        let described = |v: &Value| {
            v["description"]
                .as_str()
                .is_some_and(|d| !d.trim().is_empty())
        };
        for t in data["__schema"]["types"].as_array().unwrap() {
            let name = t["name"].as_str().unwrap();
            if name.starts_with("__") || builtin.contains(&name) {
                continue;
            }
            if !described(t) {
                missing.push(name.to_owned());
            }
            for field in t["fields"]
                .as_array()
                .into_iter()
                .flatten()
                .chain(t["inputFields"].as_array().into_iter().flatten())
            {
                if !described(field) {
                    missing.push(format!("{name}.{}", field["name"]));
                }
                for arg in field["args"].as_array().into_iter().flatten() {
                    if !described(arg) {
                        missing.push(format!("{name}.{}({})", field["name"], arg["name"]));
                    }
                }
            }
            for value in t["enumValues"].as_array().into_iter().flatten() {
                if !described(value) {
                    missing.push(format!("{name}.{}", value["name"]));
                }
            }
        }
        assert!(missing.is_empty(), "undescribed: {missing:?}");
    }
);
