//! What a query costs does not grow with its lists: every field of every
//! type a list returns, nested under 2 parents and under 20, costs the
//! same number of SQL statements. The fields come from the schema itself
//! (introspection), so a field added later is checked too; a failure names
//! the field and both counts.

use serde_json::{json, Value};

use crate::helpers::{deal, TestApp};

/// Lists to nest under, each as a query around `SELECTION` with the page
/// size `$n`, and the type of its items.
const LISTS: &[(&str, &str)] = &[
    ("partners(first: $n) { edges { node { SELECTION } } }", "Partner"),
    (
        "partners(first: $n) { edges { node { contacts(first: 1) { edges { node { SELECTION } } } } } }",
        "PartnerContact",
    ),
    ("opportunities(first: $n) { edges { node { SELECTION } } }", "Opportunity"),
    (
        "dealRegistrations(first: $n) { edges { node { SELECTION } } }",
        "DealRegistration",
    ),
    ("certifications(first: $n) { edges { node { SELECTION } } }", "Certification"),
    ("accruals(first: $n) { edges { node { SELECTION } } }", "IncentiveAccrual"),
    ("events(first: $n) { edges { node { SELECTION } } }", "Event"),
    ("auditLog(first: $n) { edges { node { SELECTION } } }", "AuditEntry"),
];

const TYPES: &str = r#"{ __schema { types { name kind enumValues { name }
    fields { name args { name type { ...T } } type { ...T } } } } }
    fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }"#;

// Every request looks its token up (no token cache), so counts are exact.
backend_test!(
    every_field_under_a_list_costs_the_same_for_2_and_20_parents,
    partnergraph::config::ServerConfig {
        token_cache_ttl: std::time::Duration::ZERO,
        ..Default::default()
    },
    |app| {
        seed(&app, 20).await;
        let schema = Schema(app.admin_data(TYPES, json!({})).await);
        let mut failures = Vec::new();
        let mut checked = 0;
        for (list, type_name) in LISTS {
            for field in schema.fields(type_name) {
                let Some(selection) = schema.select(field) else {
                    continue;
                };
                let query = format!(
                    "query($n: Int!) {{ {} }}",
                    list.replace("SELECTION", &selection)
                );
                let mut counts = Vec::new();
                for n in [2, 20] {
                    let before = app.sql_statements().await;
                    let (_, body) = app.post(&app.admin, &query, json!({ "n": n })).await;
                    counts.push(app.sql_statements().await - before);
                    if let Some(errors) = body.get("errors") {
                        failures.push(format!("{type_name}.{}: {}", field["name"], errors[0]));
                    }
                }
                checked += 1;
                if counts[0] != counts[1] {
                    failures.push(format!(
                        "{type_name}.{}: {} statements under 2 parents, {} under 20",
                        field["name"], counts[0], counts[1]
                    ));
                }
            }
        }
        assert!(checked > 60, "only {checked} fields checked");
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
);

/// Two active incentive plans and `count` signed partners, each with a
/// certified contact, an approved registration whose opportunity is won
/// (and accrues), and a second one still submitted, so that every list
/// holds at least `count` items.
async fn seed(app: &TestApp, count: usize) {
    use crate::incentives::{active_plan, commission, fast_start};
    active_plan(app, "Commission", commission()).await;
    active_plan(app, "Fast start", fast_start()).await;
    for i in 0..count {
        let partner = app
            .partner(&format!("Partner {i:02}"))
            .signed()
            .sales_certified()
            .await;
        let rep = app
            .partner_token(&partner, partnergraph::domain::Role::PartnerRep)
            .await;
        app.won_deal(&rep, deal(&format!("Won {i:02}"))).await;
        app.register_deal(&rep, deal(&format!("Open {i:02}"))).await;
    }
}

/// The schema as introspection tells it.
struct Schema(Value);

impl Schema {
    fn type_of(&self, name: &str) -> &Value {
        self.0["__schema"]["types"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("no type {name}"))
    }

    fn fields(&self, type_name: &str) -> Vec<&Value> {
        self.type_of(type_name)["fields"]
            .as_array()
            .unwrap()
            .iter()
            .collect()
    }

    /// The field with arguments for its required parameters and a
    /// selection of what it returns; `None` when the test cannot make up
    /// an argument (an input object).
    fn select(&self, field: &Value) -> Option<String> {
        let mut arguments = Vec::new();
        for arg in field["args"].as_array().unwrap() {
            if arg["type"]["kind"] != "NON_NULL" {
                continue;
            }
            let name = arg["name"].as_str().unwrap();
            arguments.push(format!("{name}: {}", self.value_of(name, &arg["type"])?));
        }
        let arguments = if arguments.is_empty() {
            String::new()
        } else {
            format!("({})", arguments.join(", "))
        };
        Some(format!(
            "{}{arguments} {}",
            field["name"].as_str().unwrap(),
            self.selection(named(&field["type"]))
        ))
    }

    /// A value of an input type, made up.
    fn value_of(&self, name: &str, input: &Value) -> Option<String> {
        let named = named(input);
        Some(match (named["kind"].as_str()?, named["name"].as_str()?) {
            ("ENUM", name) => self.type_of(name)["enumValues"][0]["name"]
                .as_str()?
                .to_owned(),
            (_, "Int") => "10".into(),
            (_, "Boolean") => "true".into(),
            // Periods run from `from` to `to`.
            (_, "DateTime") if name == "to" => "\"2027-01-01T00:00:00Z\"".into(),
            (_, "DateTime") => "\"2026-01-01T00:00:00Z\"".into(),
            (_, "Date") => "\"2026-01-01\"".into(),
            (_, "CurrencyCode") => "\"EUR\"".into(),
            (_, "String") => "\"x\"".into(),
            _ => return None,
        })
    }

    /// What to select of a type: scalars nothing; a connection its count,
    /// page info and item ids; another object its leaf fields.
    fn selection(&self, named: &Value) -> String {
        let name = named["name"].as_str().unwrap();
        match named["kind"].as_str().unwrap() {
            "OBJECT" if name.ends_with("Connection") => {
                "{ totalCount pageInfo { hasNextPage } edges { cursor node { __typename } } }"
                    .into()
            }
            "OBJECT" => {
                let leaves: Vec<&str> = self
                    .fields(name)
                    .into_iter()
                    .filter(|f| {
                        let kind = named_kind(&f["type"]);
                        (kind == "SCALAR" || kind == "ENUM")
                            && f["args"].as_array().is_none_or(|a| a.is_empty())
                    })
                    .map(|f| f["name"].as_str().unwrap())
                    .collect();
                format!("{{ __typename {} }}", leaves.join(" "))
            }
            "INTERFACE" | "UNION" => "{ __typename }".into(),
            _ => String::new(),
        }
    }
}

/// The named type inside `NON_NULL` and `LIST` wrappers.
fn named(mut t: &Value) -> &Value {
    while t["name"].is_null() && !t["ofType"].is_null() {
        t = &t["ofType"];
    }
    t
}

fn named_kind(t: &Value) -> &str {
    named(t)["kind"].as_str().unwrap_or("")
}
