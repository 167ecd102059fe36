//! The black-box test harness: the real server on port 0, a fresh database
//! built by the real migrations for every test (a new SQLite file, or a new
//! PostgreSQL database when `TEST_POSTGRES_URL` is set), talked to over HTTP.

pub mod ws;

use std::{net::SocketAddr, sync::Arc};

use chrono::{TimeZone, Utc};
use partnergraph::{
    auth::{token, ScopeSet},
    clock::ManualClock,
    config::ServerConfig,
    db,
    domain::Role,
    AppState,
};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{json, Value};
use tokio::sync::oneshot;

/// Which database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Declares a test that runs once on SQLite and once on PostgreSQL (the
/// PostgreSQL run is skipped, saying so, when `TEST_POSTGRES_URL` is unset),
/// on a server with the default configuration or the one given.
macro_rules! backend_test {
    ($name:ident, |$app:ident| $body:block) => {
        backend_test!(
            $name,
            partnergraph::config::ServerConfig::default(),
            |$app| $body
        );
    };
    ($name:ident, $config:expr, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($app: $crate::helpers::TestApp) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::helpers::TestApp::spawn_with($crate::helpers::Backend::Sqlite, $config);
                run(app.await.unwrap()).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                match $crate::helpers::TestApp::spawn_with($crate::helpers::Backend::Postgres, $config).await {
                    Some(app) => run(app).await,
                    None => eprintln!("skipped: TEST_POSTGRES_URL is not set"),
                }
            }
        }
    };
}

/// A database that exists for one test and is removed after it.
pub enum TestDatabase {
    Sqlite {
        _dir: tempfile::TempDir,
        url: String,
    },
    Postgres {
        admin_url: String,
        name: String,
        url: String,
    },
}

impl TestDatabase {
    pub async fn create(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
                Some(TestDatabase::Sqlite { _dir: dir, url })
            }
            Backend::Postgres => {
                let admin_url = std::env::var("TEST_POSTGRES_URL")
                    .ok()
                    .filter(|u| !u.is_empty())?;
                let name = format!("pg_test_{}", uuid::Uuid::new_v4().simple());
                let admin = sea_orm::Database::connect(&admin_url).await.unwrap();
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .unwrap();
                admin.close().await.unwrap();
                let url = with_database(&admin_url, &name);
                Some(TestDatabase::Postgres {
                    admin_url,
                    name,
                    url,
                })
            }
        }
    }

    pub fn url(&self) -> &str {
        match self {
            TestDatabase::Sqlite { url, .. } | TestDatabase::Postgres { url, .. } => url,
        }
    }
}

/// `postgres://u@h:p/db?x` with its database replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(url).unwrap();
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let TestDatabase::Postgres {
            admin_url, name, ..
        } = self
        {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs outside async; a scoped runtime removes the database.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    if let Ok(admin) = sea_orm::Database::connect(&admin_url).await {
                        let _ = admin
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .await;
                    }
                });
            })
            .join();
        }
    }
}

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
        let db = db::connect(database.url()).await.unwrap();
        db::migrate(&db).await.unwrap();
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

    /// A token for a staff user with `role` (and `scopes`, or all of them),
    /// valid for a day of the test clock.
    pub async fn token(&self, role: Role, email: &str, scopes: Option<&str>) -> String {
        self.token_for(role, email, scopes, chrono::Duration::days(1))
            .await
    }

    pub async fn token_for(
        &self,
        role: Role,
        email: &str,
        scopes: Option<&str>,
        ttl: chrono::Duration,
    ) -> String {
        use partnergraph::clock::Clock;
        let now = self.clock.now();
        let user = token::staff_user_for(&self.db, email, role, now)
            .await
            .unwrap();
        let scopes = scopes
            .map(|s| ScopeSet::parse(s).unwrap())
            .unwrap_or_else(ScopeSet::all);
        let new = token::NewToken {
            role,
            staff_user_id: Some(user.id),
            partner_id: None,
            scopes,
            ttl,
            api_client_id: None,
        };
        token::issue(&self.db, new, now)
            .await
            .unwrap()
            .1
            .expose()
            .to_owned()
    }

    /// A token for a partner user of the partner with global id `partner`.
    pub async fn partner_token(&self, partner: &str, role: Role) -> String {
        use partnergraph::clock::Clock;
        let partner_id =
            partnergraph::ids::decode_as(partnergraph::ids::NodeType::Partner, partner).unwrap();
        let new = token::NewToken {
            role,
            staff_user_id: None,
            partner_id: Some(partner_id),
            scopes: ScopeSet::all(),
            ttl: chrono::Duration::days(1),
            api_client_id: None,
        };
        token::issue(&self.db, new, self.clock.now())
            .await
            .unwrap()
            .1
            .expose()
            .to_owned()
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
        let response = self
            .client
            .post(self.url("/graphql"))
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
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

    /// Creates a partner as the admin and returns its id.
    pub async fn create_partner(&self, name: &str) -> String {
        let data = self
            .admin_data(
                "mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id } userErrors { code } } }",
                json!({ "input": { "name": name, "type": "RESELLER" } }),
            )
            .await;
        data["createPartner"]["partner"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn count(&self, table: &str) -> i64 {
        let backend = self.db.get_database_backend();
        let row = self
            .db
            .query_one_raw(Statement::from_string(
                backend,
                format!("SELECT COUNT(*) AS n FROM {table}"),
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
