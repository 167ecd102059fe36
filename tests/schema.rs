//! The API contract: the checked-in SDL matches the code, and every part of
//! the schema is described.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

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
