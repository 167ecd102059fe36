//! A request body over the limit (SPEC §7) is answered `413` in a way every
//! client reads: the server reads the body (up to a bound) before answering,
//! so the client never meets a reset while it is still writing. Tried many
//! times with reqwest, over a raw socket with a chunked body, and with
//! Node's `fetch`, which used to fail with `EPIPE` one run in three.

use std::process::Command;

use crate::helpers::{error_code, Backend, TestApp};
use reqwest::{header, StatusCode};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Twice the default limit of 1 MiB; JSON whitespace, in case it were read.
fn oversized() -> Vec<u8> {
    vec![b' '; 2 * 1024 * 1024]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reqwest_reads_the_413_every_time() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    for attempt in 0..40 {
        let response = app
            .client
            .post(app.url("/graphql"))
            .bearer_auth(&app.admin)
            .header(header::CONTENT_TYPE, "application/json")
            .body(oversized())
            .send()
            .await
            .unwrap_or_else(|error| panic!("attempt {attempt}: {error:?}"));
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let body: Value = response.json().await.unwrap();
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("1048576 bytes"),
            "{body}"
        );
    }
    // The same pooled connections still serve ordinary requests.
    let (status, body) = app
        .post(&app.admin, "{ viewer { kind } }", Value::Null)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_body_over_the_limit_is_read_then_refused_and_the_connection_kept() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let mut socket = tokio::net::TcpStream::connect(app.address).await.unwrap();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer {}\r\nTransfer-Encoding: chunked\r\n\r\n",
        app.admin
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b' '; 64 * 1024];
    for _ in 0..32 {
        // Every chunk is written: no reset while the client writes.
        socket
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .await
            .unwrap();
        socket.write_all(&chunk).await.unwrap();
        socket.write_all(b"\r\n").await.unwrap();
    }
    socket.write_all(b"0\r\n\r\n").await.unwrap();
    let answer = read_response(&mut socket).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        !answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );

    // The connection carries the next request.
    let query = r#"{"query":"{ viewer { kind } }"}"#;
    let next = format!(
        "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer {}\r\nContent-Length: {}\r\n\r\n{query}",
        app.admin,
        query.len()
    );
    socket.write_all(next.as_bytes()).await.unwrap();
    let answer = read_response(&mut socket).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// Reads until one whole response (headers and a `content-length` body) is in.
async fn read_response(socket: &mut tokio::net::TcpStream) -> String {
    let mut read = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(std::time::Duration::from_secs(10), socket.read(&mut buffer))
            .await
            .expect("the server answers")
            .unwrap();
        assert!(
            n > 0,
            "the server closed: {}",
            String::from_utf8_lossy(&read)
        );
        read.extend_from_slice(&buffer[..n]);
        let text = String::from_utf8_lossy(&read).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if read.len() >= end + 4 + length {
                return text;
            }
        }
    }
}

/// Node's `fetch` (undici) sends the whole body before it reads the answer;
/// it must see the 413 every time, not `EPIPE`.
const NODE_FETCH: &str = r#"
(async () => {
  const body = ' '.repeat(2 * 1024 * 1024);
  const outcomes = {};
  for (let i = 0; i < Number(process.env.RUNS); i++) {
    let outcome;
    try {
      const response = await fetch(process.env.URL, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer ' + process.env.TOKEN },
        body,
      });
      const answer = await response.json();
      outcome = response.status + ' ' + answer.errors[0].extensions.code;
    } catch (error) {
      outcome = 'error ' + ((error.cause && error.cause.code) || error.message);
    }
    outcomes[outcome] = (outcomes[outcome] || 0) + 1;
  }
  console.log(JSON.stringify(outcomes));
})();
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_fetch_reads_the_413_every_time() {
    if Command::new("node").arg("--version").output().is_err() {
        eprintln!("skipped: node is not installed (CI has it)");
        return;
    }
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let runs = 30;
    let mut node = Command::new("node");
    node.args(["-e", NODE_FETCH])
        .env("URL", app.url("/graphql"))
        .env("TOKEN", &app.admin)
        .env("RUNS", runs.to_string());
    let output = tokio::task::spawn_blocking(move || node.output())
        .await
        .unwrap()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let outcomes: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        outcomes,
        serde_json::json!({ "413 BAD_USER_INPUT": runs }),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
