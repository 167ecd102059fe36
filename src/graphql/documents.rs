//! Documents seen before. Clients send the same few queries over and over;
//! parsing each again, and validating a partner's against the partner
//! schema again, cost a pipeline page about a tenth of its server time.
//!
//! Both memories are bounded (entries and text length) and simply start
//! over when full, so unusual traffic costs a parse, never memory.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
};

use async_graphql::{
    parser::{parse_query, types::ExecutableDocument},
    Variables,
};

/// Documents longer than this are parsed every time.
const MAX_TEXT: usize = 8 * 1024;
/// Entries each memory holds before it starts over.
const CAPACITY: usize = 512;

#[derive(Default)]
pub struct Documents {
    parsed: Mutex<HashMap<String, Arc<ExecutableDocument>>>,
    /// Requests (document, operation, variables) the partner schema accepted.
    partner_valid: Mutex<HashSet<RequestKey>>,
}

impl Documents {
    /// `query` parsed, from memory when it was parsed before; `None` when it
    /// does not parse (execution reports why).
    pub fn parse(&self, query: &str) -> Option<Arc<ExecutableDocument>> {
        if let Some(doc) = lock(&self.parsed).get(query) {
            return Some(doc.clone());
        }
        let doc = Arc::new(parse_query(query).ok()?);
        if query.len() <= MAX_TEXT {
            let mut parsed = lock(&self.parsed);
            if parsed.len() >= CAPACITY {
                parsed.clear();
            }
            parsed.insert(query.to_owned(), doc.clone());
        }
        Some(doc)
    }

    /// Whether the partner schema accepted this very request before.
    pub fn partner_valid(&self, request: &PartnerRequest) -> bool {
        request
            .key
            .as_ref()
            .is_some_and(|key| lock(&self.partner_valid).contains(key))
    }

    /// Remembers that the partner schema accepted `request`.
    pub fn remember_partner_valid(&self, request: PartnerRequest) {
        let Some(key) = request.key else {
            return;
        };
        let mut valid = lock(&self.partner_valid);
        if valid.len() >= CAPACITY {
            valid.clear();
        }
        valid.insert(key);
    }
}

/// What makes a partner request's validity: its document, operation and
/// variables (their values are checked against the partner's input types).
pub struct PartnerRequest {
    /// `None` for documents too long to remember.
    key: Option<RequestKey>,
}

#[derive(PartialEq, Eq, Hash)]
struct RequestKey {
    query: String,
    operation_name: Option<String>,
    variables: String,
}

impl PartnerRequest {
    pub fn new(query: &str, operation_name: Option<&str>, variables: &Variables) -> Self {
        let key = (query.len() <= MAX_TEXT).then(|| RequestKey {
            query: query.to_owned(),
            operation_name: operation_name.map(str::to_owned),
            variables: variables.to_string(),
        });
        Self { key }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_once_and_remembers_partner_verdicts_per_variables() {
        let documents = Documents::default();
        let doc = documents.parse("{ viewer { kind } }").expect("parses");
        let again = documents.parse("{ viewer { kind } }").expect("remembered");
        assert_eq!(format!("{again:?}"), format!("{doc:?}"));
        assert!(documents.parse("{ viewer {").is_none());

        let query = "query($s: [Status!]) { things(status: $s) { id } }";
        let variables = |json| Variables::from_json(json);
        let ok = PartnerRequest::new(query, None, &variables(serde_json::json!({ "s": ["A"] })));
        documents.remember_partner_valid(ok);
        let same = PartnerRequest::new(query, None, &variables(serde_json::json!({ "s": ["A"] })));
        assert!(documents.partner_valid(&same));
        let other = PartnerRequest::new(query, None, &variables(serde_json::json!({ "s": ["B"] })));
        assert!(!documents.partner_valid(&other));
        let named = PartnerRequest::new(
            query,
            Some("Q"),
            &variables(serde_json::json!({ "s": ["A"] })),
        );
        assert!(!documents.partner_valid(&named));
    }
}
