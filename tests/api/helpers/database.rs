//! A database that exists for one test (or one benchmark run) and is removed
//! after it: a new SQLite file, or a new PostgreSQL database, empty until the
//! real migrations run ([`TestDatabase::migrated`]).
//!
//! The benchmarks include this file too (`benches/common` names it with
//! `#[path]`), so it uses nothing but the package and its dependencies.

use sea_orm::{ConnectionTrait, DatabaseConnection};

/// Which database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    #[allow(dead_code)] // the benchmarks print it
    pub fn label(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

pub struct TestDatabase {
    url: String,
    // Whichever is set removes the database when dropped.
    _sqlite_dir: Option<tempfile::TempDir>,
    _postgres: Option<DropDatabase>,
}

impl TestDatabase {
    /// A database on `backend` for one test. PostgreSQL needs
    /// `TEST_POSTGRES_URL` (a database to connect to for `CREATE DATABASE`);
    /// without it there is none.
    pub async fn create(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite()),
            Backend::Postgres => {
                let admin_url = std::env::var("TEST_POSTGRES_URL")
                    .ok()
                    .filter(|u| !u.is_empty())?;
                Some(Self::postgres(&admin_url, "pg_test").await)
            }
        }
    }

    /// A new SQLite file in a directory of its own.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
        TestDatabase {
            url,
            _sqlite_dir: Some(dir),
            _postgres: None,
        }
    }

    /// A new database named `{prefix}_{uuid}` on the server `admin_url`
    /// connects to (CI drops leftovers of interrupted runs by the prefix).
    pub async fn postgres(admin_url: &str, prefix: &str) -> Self {
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let admin = sea_orm::Database::connect(admin_url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to the PostgreSQL server: {e}"));
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        admin.close().await.unwrap();
        let mut url = url::Url::parse(admin_url).unwrap();
        url.set_path(&format!("/{name}"));
        TestDatabase {
            url: url.to_string(),
            _sqlite_dir: None,
            _postgres: Some(DropDatabase {
                admin_url: admin_url.to_owned(),
                name,
            }),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// A connection to this database, migrated by the real migrations.
    pub async fn migrated(&self) -> DatabaseConnection {
        let db = partnergraph::db::connect(&self.url).await.unwrap();
        partnergraph::db::migrate(&db).await.unwrap();
        db
    }
}

struct DropDatabase {
    admin_url: String,
    name: String,
}

impl Drop for DropDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs outside async; a runtime of its own removes the database.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let admin = sea_orm::Database::connect(&admin_url).await?;
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await?;
                admin.close().await?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!(
                "WARNING: could not drop database {}: {dropped:?}",
                self.name
            );
        }
    }
}
