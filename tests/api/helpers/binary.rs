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

/// `partnergraph serve` on `address` and `database_url` with `args` more,
/// logging warnings only; killed when dropped.
pub struct Server(Child);

impl Server {
    pub fn start(database_url: &str, address: &str, args: &[&str]) -> Self {
        let child = Command::new(BIN)
            .args(["serve", "--listen", address])
            .args(args)
            .env("DATABASE_URL", database_url)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        Server(child)
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
