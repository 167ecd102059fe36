//! The real binary in processes of its own: the CLI, and servers a test
//! starts, kills and starts again.

use std::{
    ffi::OsStr,
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

pub const BIN: &str = env!("CARGO_BIN_EXE_partnergraph");

/// Runs the CLI with `args`, `DATABASE_URL` set to `database_url`.
pub fn cli<S: AsRef<OsStr>>(database_url: &str, args: impl IntoIterator<Item = S>) -> Output {
    Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", database_url)
        .output()
        .unwrap()
}

/// `127.0.0.1:port`, with a port that was free a moment ago.
pub fn free_address() -> String {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string()
}

/// Waits until the server at `address` answers `/readyz`.
pub async fn wait_ready(client: &reqwest::Client, address: &str) {
    let started = Instant::now();
    loop {
        let ready = client.get(format!("http://{address}/readyz")).send().await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the server at {address} did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The server key the binary's PostgreSQL servers share in tests (SQLite
/// ones make a key file beside their database).
pub const SECRET_KEY: &str = "dGVzdC1zZXJ2ZXIta2V5LW9mLTMyLWJ5dGVzLi4uLi4=";

/// `serve` on `address` and `database_url` with `args` more; the server key
/// [`SECRET_KEY`] on PostgreSQL.
pub fn serve_command(database_url: &str, address: &str, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(["serve", "--listen", address])
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null());
    if database_url.starts_with("postgres") {
        command.env("PARTNERGRAPH_SECRET_KEY", SECRET_KEY);
    }
    command
}

/// `partnergraph serve` on `address` and `database_url` with `args` more,
/// logging warnings only; killed when dropped.
pub struct Server(Child);

impl Server {
    pub fn start(database_url: &str, address: &str, args: &[&str]) -> Self {
        Self::spawn(serve_command(database_url, address, args))
    }

    /// Runs `command` (see [`serve_command`]) as the server.
    pub fn spawn(mut command: Command) -> Self {
        Server(command.spawn().unwrap())
    }

    /// SIGTERM, as an orchestrator stops a replica; then waits for the exit
    /// (at most `within`) and returns how long it took and whether it
    /// exited with success.
    pub fn terminate(mut self, within: Duration) -> (Duration, bool) {
        let started = Instant::now();
        let sent = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return (started.elapsed(), status.success());
            }
            assert!(
                started.elapsed() < within,
                "the server did not exit within {within:?} of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGKILL, and waits until the process is gone.
    pub fn kill(mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// POSTs a GraphQL request to the server at `address` as `token`; the body.
pub async fn graphql(
    client: &reqwest::Client,
    address: &str,
    token: &str,
    query: &str,
    variables: serde_json::Value,
) -> serde_json::Value {
    client
        .post(format!("http://{address}/graphql"))
        .bearer_auth(token)
        .json(&serde_json::json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// A staff token with every scope, made by `partnergraph token create`.
pub fn admin_token(database_url: &str) -> String {
    let output = cli(database_url, ["token", "create", "--role", "ADMIN"]);
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// `SELECT COUNT(*) FROM table WHERE condition` on `db`.
pub async fn count_where(db: &sea_orm::DatabaseConnection, table: &str, condition: &str) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table} WHERE {condition}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}
