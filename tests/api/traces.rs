//! Traces by OTLP (issue 18): the real binary with `OTEL_EXPORTER_OTLP_ENDPOINT`
//! pointing at a loopback OTLP/HTTP receiver in the test exports, for one
//! mutation, the spans request → graphql → service → sql, linked as parent
//! and child, with the request id as an attribute.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{body::Bytes, extract::State, routing::post, Router};
use opentelemetry_proto::tonic::{
    collector::trace::v1::ExportTraceServiceRequest, common::v1::any_value, trace::v1::Span,
};
use prost::Message;

use crate::helpers::{
    binary::{admin_token, free_address, serve_command, wait_ready, Server},
    TestDatabase,
};

type Received = Arc<Mutex<Vec<Span>>>;

async fn collect(State(spans): State<Received>, body: Bytes) -> &'static str {
    let request = ExportTraceServiceRequest::decode(body).unwrap();
    let mut spans = spans.lock().unwrap();
    for resource in request.resource_spans {
        for scope in resource.scope_spans {
            spans.extend(scope.spans);
        }
    }
    ""
}

fn attribute(span: &Span, key: &str) -> Option<String> {
    span.attributes.iter().find(|a| a.key == key).and_then(|a| {
        match a.value.as_ref()?.value.as_ref()? {
            any_value::Value::StringValue(s) => Some(s.clone()),
            other => Some(format!("{other:?}")),
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mutation_is_traced_from_request_to_sql() {
    let spans: Received = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let collector = listener.local_addr().unwrap();
    let app = Router::new()
        .route("/v1/traces", post(collect))
        .with_state(spans.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let database = TestDatabase::sqlite();
    let url = database.url().to_owned();
    let token = admin_token(&url);
    let address = free_address();
    let mut command = serve_command(&url, &address, &["--jobs-interval", "0"]);
    command.env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{collector}"));
    let server = Server::spawn(command);
    let client = reqwest::Client::new();
    wait_ready(&client, &address).await;
    let answer: serde_json::Value = client
        .post(format!("http://{address}/graphql"))
        .bearer_auth(&token)
        .header("x-request-id", "trace-me-4711")
        .json(&serde_json::json!({
            "query": "mutation Traced { createPartner(input: { name: \"Traced\", type: RESELLER }) { partner { id } } }"
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        answer["data"]["createPartner"]["partner"]["id"].is_string(),
        "{answer}"
    );
    // The exporter flushes at exit.
    let (_, success) =
        tokio::task::spawn_blocking(move || server.terminate(Duration::from_secs(15)))
            .await
            .unwrap();
    assert!(success);

    let spans = spans.lock().unwrap().clone();
    let request = spans
        .iter()
        .find(|s| {
            s.name == "request" && attribute(s, "request_id").as_deref() == Some("trace-me-4711")
        })
        .unwrap_or_else(|| {
            panic!(
                "no request span with the request id: {:?}",
                spans.iter().map(|s| &s.name).collect::<Vec<_>>()
            )
        });
    let by_parent: HashMap<&[u8], Vec<&Span>> =
        spans.iter().fold(HashMap::new(), |mut map, span| {
            map.entry(span.parent_span_id.as_slice())
                .or_default()
                .push(span);
            map
        });
    let child = |parent: &Span, name: &str| -> Span {
        by_parent
            .get(parent.span_id.as_slice())
            .and_then(|children| children.iter().find(|s| s.name == name))
            .map(|s| (*s).clone())
            .unwrap_or_else(|| panic!("no {name} span under {}", parent.name))
    };
    let graphql = child(request, "graphql");
    assert_eq!(attribute(&graphql, "operation").as_deref(), Some("Traced"));
    assert_eq!(
        attribute(&graphql, "operation_type").as_deref(),
        Some("mutation")
    );
    let service = child(&graphql, "service");
    assert_eq!(
        attribute(&service, "mutation").as_deref(),
        Some("createPartner")
    );
    let sql = child(&service, "sql");
    assert!(
        attribute(&sql, "db.statement").is_some_and(|s| s.to_uppercase().contains("INSERT")
            || s.to_uppercase().contains("SELECT")
            || s.to_uppercase().contains("BEGIN"))
    );
    for span in [&graphql, &service, &sql] {
        assert_eq!(span.trace_id, request.trace_id, "one trace");
    }
}
