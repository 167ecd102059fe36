//! Persisted operations (SPEC §7): Apollo's automatic persisted queries, and
//! trusted documents.
//!
//! **Automatic persisted queries** (APQ, the protocol of Apollo Client's
//! persisted-query link): a client sends only
//! `extensions.persistedQuery.sha256Hash`; when the server does not know the
//! hash it answers `PERSISTED_QUERY_NOT_FOUND` and the client sends the text
//! with the hash once, which the server checks and remembers. Queries may
//! then go by GET, so HTTP caches can keep them. The memory is per process
//! and bounded (16 MiB of text; it starts over when full): a miss only costs
//! the client one resend, exactly as the protocol expects.
//!
//! **Trusted documents**: operations an operator registered by their
//! SHA-256 hash (`partnergraph documents add FILE…`, kept in the
//! `trusted_document` table, so every replica knows them). With
//! `--trusted-documents` on, a partner token runs only those: by hash alone,
//! or with a text whose hash is registered; anything else is refused from
//! its hash, before it is parsed. Staff tokens are not limited (they run
//! GraphiQL and ad-hoc tooling), and anyone may use a registered document by
//! its hash.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use sea_orm::{
    sea_query::{Alias, Expr, OnConflict, Query},
    ConnectionTrait, DbErr, ExprTrait,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Bytes of document text the APQ memory holds before it starts over.
const APQ_CAPACITY_BYTES: usize = 16 * 1024 * 1024;

/// The hex SHA-256 of a document's text, as clients compute it.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// `extensions.persistedQuery` of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersistedQuery {
    pub sha256_hash: String,
}

impl PersistedQuery {
    /// `None` without `persistedQuery`; an error message when it is malformed.
    pub fn from_extensions(
        extensions: &serde_json::Map<String, Value>,
    ) -> Result<Option<Self>, &'static str> {
        let Some(value) = extensions.get("persistedQuery") else {
            return Ok(None);
        };
        let problem = "`extensions.persistedQuery` must be { \"version\": 1, \"sha256Hash\": \"<64 hex digits>\" }";
        let Value::Object(fields) = value else {
            return Err(problem);
        };
        if fields.get("version").and_then(Value::as_i64) != Some(1) {
            return Err(problem);
        }
        match fields.get("sha256Hash").and_then(Value::as_str) {
            Some(hash) if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Ok(Some(Self {
                    sha256_hash: hash.to_ascii_lowercase(),
                }))
            }
            _ => Err(problem),
        }
    }
}

/// Documents known by hash: the APQ memory, and the trusted documents read
/// from the database so far (they never change once registered).
#[derive(Default)]
pub struct Store {
    automatic: Mutex<Automatic>,
    trusted: Mutex<HashMap<String, Arc<str>>>,
}

/// The APQ memory and the bytes of text it holds.
#[derive(Default)]
struct Automatic {
    documents: HashMap<String, Arc<str>>,
    bytes: usize,
}

impl Store {
    /// A document sent with its hash (APQ's second step), remembered.
    pub fn remember(&self, hash: &str, text: &str) {
        let mut automatic = lock(&self.automatic);
        if automatic.documents.contains_key(hash) {
            return;
        }
        if automatic.bytes + text.len() > APQ_CAPACITY_BYTES {
            *automatic = Automatic::default();
        }
        automatic.bytes += text.len();
        automatic.documents.insert(hash.to_owned(), text.into());
    }

    /// A document APQ remembers.
    pub fn automatic(&self, hash: &str) -> Option<Arc<str>> {
        lock(&self.automatic).documents.get(hash).cloned()
    }

    /// A registered trusted document.
    pub async fn trusted(
        &self,
        db: &impl ConnectionTrait,
        hash: &str,
    ) -> Result<Option<Arc<str>>, DbErr> {
        if let Some(text) = lock(&self.trusted).get(hash) {
            return Ok(Some(text.clone()));
        }
        let select = Query::select()
            .column(Alias::new("document"))
            .from(Alias::new("trusted_document"))
            .and_where(Expr::col(Alias::new("hash")).eq(hash))
            .to_owned();
        let row = db.query_one(&select).await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let text: Arc<str> = row.try_get::<String>("", "document")?.into();
        lock(&self.trusted).insert(hash.to_owned(), text.clone());
        Ok(Some(text))
    }
}

/// Registers `document` as trusted; its hash. Registering it again changes
/// nothing.
#[expect(
    clippy::disallowed_methods,
    reason = "trusted documents, registered by the CLI: configuration, not a domain change"
)]
pub async fn register(
    db: &impl ConnectionTrait,
    document: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<String, DbErr> {
    let hash = sha256_hex(document);
    let mut insert = Query::insert();
    insert
        .into_table(Alias::new("trusted_document"))
        .columns([
            Alias::new("hash"),
            Alias::new("document"),
            Alias::new("created_at"),
        ])
        .values([hash.clone().into(), document.into(), now.into()])
        .map_err(|e| DbErr::Custom(e.to_string()))?;
    insert.on_conflict(
        OnConflict::column(Alias::new("hash"))
            .do_nothing()
            .to_owned(),
    );
    db.execute(&insert).await?;
    Ok(hash)
}

/// The documents a file holds, each to register under its SHA-256 hash:
/// - a JSON manifest: graphql-codegen's `persisted-documents.json`
///   (`{ "<hash>": "<document>" }`) or Apollo's persisted query manifest
///   (`{ "operations": [{ "id", "body" }] }`); each given hash must be the
///   SHA-256 of its document;
/// - anything else: the file's text is one document, exactly as clients
///   will send it.
pub fn documents_in(text: &str) -> Result<Vec<String>, String> {
    let Ok(Value::Object(manifest)) = serde_json::from_str::<Value>(text) else {
        return Ok(vec![text.to_owned()]);
    };
    let pairs: Vec<(String, String)> = match manifest.get("operations") {
        Some(Value::Array(operations)) => operations
            .iter()
            .map(|operation| {
                let id = operation.get("id").and_then(Value::as_str);
                let body = operation.get("body").and_then(Value::as_str);
                match (id, body) {
                    (Some(id), Some(body)) => Ok((id.to_owned(), body.to_owned())),
                    _ => Err("each of `operations` needs an `id` and a `body`".to_owned()),
                }
            })
            .collect::<Result<_, _>>()?,
        _ => manifest
            .iter()
            .map(|(hash, body)| match body {
                Value::String(body) => Ok((hash.clone(), body.clone())),
                _ => Err(format!("the document for {hash} is not a string")),
            })
            .collect::<Result<_, _>>()?,
    };
    pairs
        .into_iter()
        .map(|(hash, body)| {
            let actual = sha256_hex(&body);
            if hash.eq_ignore_ascii_case(&actual) || hash.strip_prefix("sha256:") == Some(&actual) {
                Ok(body)
            } else {
                Err(format!(
                    "{hash} is not the SHA-256 of its document ({actual}); generate the manifest with SHA-256 hashes"
                ))
            }
        })
        .collect()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn extensions(value: Value) -> serde_json::Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    #[test]
    fn reads_the_persisted_query_extension() {
        let hash = sha256_hex("{ viewer { kind } }");
        assert_eq!(hash.len(), 64);
        let found = PersistedQuery::from_extensions(&extensions(
            json!({ "persistedQuery": { "version": 1, "sha256Hash": hash.to_uppercase() } }),
        ));
        assert_eq!(found, Ok(Some(PersistedQuery { sha256_hash: hash })));
        assert_eq!(
            PersistedQuery::from_extensions(&extensions(json!({}))),
            Ok(None)
        );
        for bad in [
            json!({ "persistedQuery": true }),
            json!({ "persistedQuery": { "version": 2, "sha256Hash": "ab" } }),
            json!({ "persistedQuery": { "version": 1, "sha256Hash": "xyz" } }),
        ] {
            assert!(PersistedQuery::from_extensions(&extensions(bad)).is_err());
        }
    }

    #[test]
    fn the_apq_memory_is_bounded() {
        let store = Store::default();
        let big = "x".repeat(APQ_CAPACITY_BYTES / 2);
        store.remember("a", &big);
        store.remember("a", &big);
        store.remember("b", &big);
        assert!(store.automatic("a").is_some() && store.automatic("b").is_some());
        store.remember("c", "{ viewer { kind } }");
        assert!(store.automatic("a").is_none() && store.automatic("c").is_some());
    }

    #[test]
    fn reads_manifests_and_plain_documents() {
        let body = "query Q { viewer { kind } }";
        let hash = sha256_hex(body);
        let codegen = json!({ hash.clone(): body }).to_string();
        assert_eq!(documents_in(&codegen), Ok(vec![body.to_owned()]));
        let apollo = json!({ "format": "apollo-persisted-query-manifest", "version": 1,
            "operations": [{ "id": hash, "name": "Q", "type": "query", "body": body }] })
        .to_string();
        assert_eq!(documents_in(&apollo), Ok(vec![body.to_owned()]));
        assert_eq!(documents_in(body), Ok(vec![body.to_owned()]));
        let wrong = json!({ "0000": body }).to_string();
        assert!(documents_in(&wrong).is_err());
    }
}
