//! The real server on port 0 with a fresh migrated database and a clock the
//! test moves, and the few ways a test talks to it.

use std::{net::SocketAddr, sync::Arc};

use chrono::{TimeZone, Utc};
use partnergraph::{clock::ManualClock, config::ServerConfig, domain::Role, AppState};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{json, Value};
use tokio::sync::oneshot;

use super::{Backend, TestDatabase};

pub struct TestApp {
    pub address: SocketAddr,
    pub db: DatabaseConnection,
    pub clock: ManualClock,
    pub client: reqwest::Client,
    /// An ADMIN token with every scope.
    pub admin: String,
    shutdown: Option<oneshot::Sender<()>>,
    // Declared last: dropped after the server stops.
    _database: TestDatabase,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, ServerConfig::default()).await
    }

    pub async fn spawn_with(backend: Backend, config: ServerConfig) -> Option<Self> {
        let database = TestDatabase::create(backend).await?;
        let db = database.migrated().await;
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let state = AppState::new(db.clone(), Arc::new(clock.clone()), config).unwrap();
        let (shutdown, stopped) = oneshot::channel::<()>();
        tokio::spawn(partnergraph::serve(listener, state, async {
            let _ = stopped.await;
        }));
        let mut app = TestApp {
            address,
            db,
            clock,
            client: reqwest::Client::new(),
            admin: String::new(),
            shutdown: Some(shutdown),
            _database: database,
        };
        // Long-lived, so tests can move the clock by months.
        app.admin = app
            .token_for(
                Role::Admin,
                "admin@example.com",
                None,
                chrono::Duration::days(3650),
            )
            .await;
        Some(app)
    }

    /// The URL of this test's database, for a second connection.
    pub fn database_url(&self) -> String {
        self._database.url().to_owned()
    }

    /// The server's count of successful SQL statements, from `/metrics`.
    pub async fn sql_statements(&self) -> i64 {
        let text = self
            .client
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find(|l| l.starts_with("partnergraph_sql_statements_total{outcome=\"ok\"}"))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    /// POSTs a GraphQL request as `token`; returns the status and the body.
    pub async fn post(&self, token: &str, query: &str, variables: Value) -> (StatusCode, Value) {
        self.post_json(token, json!({ "query": query, "variables": variables }))
            .await
    }

    /// POSTs any JSON `body` to `/graphql` as `token`: a persisted query, odd
    /// extensions; returns the status and the body.
    pub async fn post_json(&self, token: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(self.url("/graphql"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    /// Runs `query` as the admin and returns `data`, failing on any error.
    pub async fn admin_data(&self, query: &str, variables: Value) -> Value {
        let (status, body) = self.post(&self.admin, query, variables).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// The rows of `table`, read straight from the database.
    pub async fn count(&self, table: &str) -> i64 {
        self.count_where(table, "TRUE").await
    }

    /// The rows of `table` that meet the SQL `condition`.
    pub async fn count_where(&self, table: &str, condition: &str) -> i64 {
        let backend = self.db.get_database_backend();
        let row = self
            .db
            .query_one_raw(Statement::from_string(
                backend,
                format!("SELECT COUNT(*) AS n FROM {table} WHERE {condition}"),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// The `code` of the first top-level error.
pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}
