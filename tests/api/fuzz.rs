//! The fuzzer (SPEC §7, issue 18): generated requests against the real
//! server, as staff and as a partner. A finding is a 5xx, an answer slower
//! than 5 s, a partner answer naming an internal type or field the request
//! did not name, a WebSocket closed as an internal error, or a server that
//! stops answering. (Names are told apart by their text, so only those
//! with a capital count: `internalNotes`, `AuditEntry`, `CONFLICT_DETECTED`.)
//!
//! Cases, from one seeded random generator:
//! - GraphQL documents built from the schema (`partnergraph::graphql::sdl()`):
//!   queries and mutations over every root field, with arguments of every
//!   input type, nested selections, aliases, fragments, directives; half of
//!   them mutated (truncated, wrong literals, unknown or internal fields,
//!   deep nesting, many aliases, odd unicode, null bytes, huge lists);
//! - variables declared from argument types, sent with fitting or random JSON;
//! - malformed HTTP: bodies (bytes, invalid UTF-8, deeply nested JSON, wrong
//!   shapes), content types, methods, `Accept` and `Authorization` headers;
//! - malformed WebSocket frames, before and after `connection_init`.
//!
//! `FUZZ_CASES` sets the number of cases (default 3000 per backend),
//! `FUZZ_SEED` replays a run; both are printed with the number of cases run.

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use async_graphql::parser::types::{BaseType, Type, TypeKind, TypeSystemDefinition};
use futures_util::{SinkExt, StreamExt};
use partnergraph::{config::ServerConfig, domain::Role};
use rand::{rngs::StdRng, Rng, SeedableRng};
use reqwest::Method;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};

use crate::helpers::TestApp;

const LIMIT: Duration = Duration::from_secs(5);

#[derive(Debug)]
struct Field {
    name: String,
    args: Vec<(String, Type)>,
    ty: Type,
}

#[derive(Debug)]
enum Kind {
    Object(Vec<Field>),
    Union(Vec<String>),
    Enum(Vec<String>),
    Input(Vec<(String, Type)>),
    Scalar,
}

/// The types of an SDL, and every name it holds.
struct Schema {
    types: HashMap<String, Kind>,
    names: HashSet<String>,
}

impl Schema {
    fn parse(sdl: &str) -> Self {
        let document = async_graphql::parser::parse_schema(sdl).unwrap();
        let mut types = HashMap::new();
        let mut names = HashSet::new();
        let fields = |list: &[async_graphql::Positioned<
            async_graphql::parser::types::FieldDefinition,
        >],
                      names: &mut HashSet<String>| {
            list.iter()
                .map(|f| {
                    names.insert(f.node.name.node.to_string());
                    let args = f
                        .node
                        .arguments
                        .iter()
                        .map(|a| {
                            names.insert(a.node.name.node.to_string());
                            (a.node.name.node.to_string(), a.node.ty.node.clone())
                        })
                        .collect();
                    Field {
                        name: f.node.name.node.to_string(),
                        args,
                        ty: f.node.ty.node.clone(),
                    }
                })
                .collect::<Vec<_>>()
        };
        for definition in document.definitions {
            let TypeSystemDefinition::Type(definition) = definition else {
                continue;
            };
            let name = definition.node.name.node.to_string();
            names.insert(name.clone());
            let kind = match &definition.node.kind {
                TypeKind::Scalar => Kind::Scalar,
                TypeKind::Object(o) => Kind::Object(fields(&o.fields, &mut names)),
                TypeKind::Interface(i) => Kind::Object(fields(&i.fields, &mut names)),
                TypeKind::Union(u) => {
                    Kind::Union(u.members.iter().map(|m| m.node.to_string()).collect())
                }
                TypeKind::Enum(e) => {
                    let values: Vec<String> = e
                        .values
                        .iter()
                        .map(|v| v.node.value.node.to_string())
                        .collect();
                    names.extend(values.iter().cloned());
                    Kind::Enum(values)
                }
                TypeKind::InputObject(i) => Kind::Input(
                    i.fields
                        .iter()
                        .map(|f| {
                            names.insert(f.node.name.node.to_string());
                            (f.node.name.node.to_string(), f.node.ty.node.clone())
                        })
                        .collect(),
                ),
            };
            types.insert(name, kind);
        }
        Schema { types, names }
    }
}

fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => named(inner),
    }
}

const STRINGS: &[&str] = &[
    "",
    "Acme",
    "ü日本語🎉",
    "\u{0}",
    "a\u{0}b",
    "\u{202e}reversed",
    "' OR 1=1 --",
    "https://example.com/hook",
    "http://127.0.0.1:1/x",
    "acme.example",
    "a@b.c",
    "-1",
    "99999999999999999999999",
    "1e400",
    "NaN",
    "2026-02-30",
    "2026-11-21T09:00:00Z",
    "EUR",
    "12.345",
    "\\u0000",
    "\u{fffe}\u{feff}",
];

/// Builds documents and values from a schema, at random.
struct Generator<'a> {
    schema: &'a Schema,
    rng: StdRng,
    /// Real global ids, so some arguments find rows.
    ids: Vec<String>,
    /// Names only the internal schema has (tried on partners).
    internal: Vec<String>,
}

impl Generator<'_> {
    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    fn pick<'s, T>(&mut self, list: &'s [T]) -> &'s T {
        &list[self.rng.random_range(0..list.len())]
    }

    fn string(&mut self) -> String {
        match self.rng.random_range(0..10) {
            0 => "x".repeat(self.rng.random_range(100..20_000)),
            1 => (0..self.rng.random_range(1..40))
                .map(|_| char::from_u32(self.rng.random_range(0..0x2FFFF)).unwrap_or('?'))
                .collect(),
            2 if !self.ids.is_empty() => self.pick(&self.ids.clone()).clone(),
            _ => (*self.pick(STRINGS)).to_owned(),
        }
    }

    /// A GraphQL literal for `ty`: usually fitting, sometimes not.
    fn literal(&mut self, ty: &Type, depth: usize) -> String {
        if ty.nullable && self.chance(0.1) {
            return "null".into();
        }
        if self.chance(0.03) {
            // Wrong on purpose.
            return self
                .pick(&[
                    "1",
                    "\"x\"",
                    "true",
                    "[1, 2]",
                    "{ a: 1 }",
                    "HAPPY",
                    "-0.5",
                    "$undeclared",
                ])
                .to_string();
        }
        match &ty.base {
            BaseType::List(inner) => {
                let n = if self.chance(0.02) {
                    2000
                } else {
                    self.rng.random_range(0..3)
                };
                let items: Vec<String> = (0..n).map(|_| self.literal(inner, depth + 1)).collect();
                format!("[{}]", items.join(", "))
            }
            BaseType::Named(name) => {
                let name = name.to_string();
                match (name.as_str(), self.schema.types.get(&name)) {
                    ("Int", _) => self
                        .pick(&[
                            "0",
                            "1",
                            "-1",
                            "5",
                            "100",
                            "101",
                            "2147483647",
                            "-2147483649",
                            "99999999999",
                        ])
                        .to_string(),
                    ("Float", _) => self.pick(&["0.5", "1e308", "-1.0", "3"]).to_string(),
                    ("Boolean", _) => self.pick(&["true", "false"]).to_string(),
                    (_, Some(Kind::Enum(values))) => {
                        let values = values.clone();
                        self.pick(&values).clone()
                    }
                    (_, Some(Kind::Input(fields))) if depth < 4 => {
                        let mut parts = Vec::new();
                        for (field, field_ty) in fields {
                            if !field_ty.nullable || self.chance(0.4) {
                                parts.push(format!(
                                    "{field}: {}",
                                    self.literal(field_ty, depth + 1)
                                ));
                            }
                        }
                        format!("{{ {} }}", parts.join(", "))
                    }
                    (_, Some(Kind::Input(_))) => "{}".into(),
                    ("JSON", _) => self
                        .pick(&["{ a: 1 }", "[1, \"x\"]", "\"s\"", "null"])
                        .to_string(),
                    _ => serde_json::to_string(&self.string()).unwrap_or_default(),
                }
            }
        }
    }

    /// A JSON value for a variable of `ty`: usually fitting, sometimes not.
    fn json(&mut self, ty: &Type, depth: usize) -> Value {
        if self.chance(0.15) || depth > 4 {
            return self
                .pick(&[
                    json!(null),
                    json!(1),
                    json!("x"),
                    json!([]),
                    json!({}),
                    json!(true),
                    json!(1.5e300),
                    json!([[[[1]]]]),
                ])
                .clone();
        }
        match &ty.base {
            BaseType::List(inner) => (0..self.rng.random_range(0..3))
                .map(|_| self.json(inner, depth + 1))
                .collect(),
            BaseType::Named(name) => {
                let name = name.to_string();
                match (name.as_str(), self.schema.types.get(&name)) {
                    ("Int", _) => json!(self.pick(&[0i64, 1, -1, 100, 1 << 40])),
                    ("Float", _) => json!(0.5),
                    ("Boolean", _) => json!(true),
                    (_, Some(Kind::Enum(values))) => {
                        let values = values.clone();
                        json!(self.pick(&values))
                    }
                    (_, Some(Kind::Input(fields))) => {
                        let mut object = serde_json::Map::new();
                        for (field, field_ty) in fields {
                            if !field_ty.nullable || self.chance(0.4) {
                                object.insert(field.clone(), self.json(field_ty, depth + 1));
                            }
                        }
                        Value::Object(object)
                    }
                    _ => json!(self.string()),
                }
            }
        }
    }

    /// A selection set on `type_name`.
    fn selection(&mut self, type_name: &str, depth: usize) -> String {
        let schema = self.schema;
        match schema.types.get(type_name) {
            Some(Kind::Object(fields)) if !fields.is_empty() => {
                let n = self.rng.random_range(1..=3);
                let mut parts = Vec::new();
                for _ in 0..n {
                    let field = &fields[self.rng.random_range(0..fields.len())];
                    parts.push(self.field(field, depth));
                }
                if self.chance(0.1) {
                    parts.push("__typename".into());
                }
                format!("{{ {} }}", parts.join(" "))
            }
            Some(Kind::Union(members)) => {
                let member = members[self.rng.random_range(0..members.len())].clone();
                format!(
                    "{{ __typename ... on {member} {} }}",
                    self.selection(&member, depth)
                )
            }
            _ => String::new(),
        }
    }

    fn field(&mut self, field: &Field, depth: usize) -> String {
        let mut text = String::new();
        if self.chance(0.1) {
            text.push_str(&format!("a{}: ", self.rng.random_range(0..1000)));
        }
        text.push_str(&field.name);
        let mut args = Vec::new();
        for (name, ty) in &field.args {
            if !ty.nullable || self.chance(0.3) {
                args.push(format!("{name}: {}", self.literal(ty, 0)));
            }
        }
        if !args.is_empty() {
            text.push_str(&format!("({})", args.join(", ")));
        }
        if self.chance(0.03) {
            let directive = *self.pick(&[
                " @skip(if: true)",
                " @include(if: false)",
                " @nope",
                " @skip(if: \"x\")",
            ]);
            text.push_str(directive);
        }
        let inner = named(&field.ty).to_owned();
        match self.schema.types.get(&inner) {
            Some(Kind::Object(_) | Kind::Union(_)) if depth == 0 => {
                text.push_str(" { __typename }")
            }
            Some(Kind::Object(_) | Kind::Union(_)) => {
                let selection = self.selection(&inner, depth - 1);
                text.push(' ');
                text.push_str(&selection);
            }
            _ => {}
        }
        text
    }

    /// An operation over `root` (`Query` or `Mutation`), maybe with variables.
    fn document(&mut self, root: &str) -> (String, Value) {
        let schema = self.schema;
        let Some(Kind::Object(fields)) = schema.types.get(root) else {
            return ("{ __typename }".into(), json!({}));
        };
        let keyword = if root == "Mutation" {
            "mutation"
        } else {
            "query"
        };
        let field = &fields[self.rng.random_range(0..fields.len())];
        let with_argument = field.args.iter().find(|_| self.chance(0.5)).cloned();
        if let (true, Some((arg, ty))) = (self.chance(0.3), with_argument) {
            // One argument by variable.
            let bare = Field {
                name: field.name.clone(),
                args: Vec::new(),
                ty: field.ty.clone(),
            };
            let mut selection = self.field(&bare, 2);
            let at = selection.find(&field.name).unwrap_or(0) + field.name.len();
            selection.insert_str(at, &format!("({arg}: $v)"));
            let variables = json!({ "v": self.json(&ty, 0) });
            return (
                format!("{keyword} Fuzz($v: {ty}) {{ {selection} }}"),
                variables,
            );
        }
        let depth = self.rng.random_range(0..4);
        let selection = self.field(field, depth);
        let text = if keyword == "query" && self.chance(0.5) {
            format!("{{ {selection} }}")
        } else {
            format!("{keyword} {{ {selection} }}")
        };
        (text, json!({}))
    }

    /// Breaks a document in one of many ways.
    fn mutate(&mut self, document: String) -> String {
        let boundary = |text: &str, at: usize| {
            let mut at = at.min(text.len());
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            at
        };
        match self.rng.random_range(0..12) {
            0 => {
                let at = boundary(&document, self.rng.random_range(0..=document.len()));
                document[..at].to_owned()
            }
            1 => {
                let at = boundary(&document, self.rng.random_range(0..=document.len()));
                let token = *self.pick(&["{", "}", "(", ")", "$", "...", "\u{0}", "é", "#", "\"", "@", ":", "[", "!", "\u{1F600}", "\\"]);
                format!("{}{token}{}", &document[..at], &document[at..])
            }
            2 if !self.internal.is_empty() => {
                let name = self.pick(&self.internal.clone()).clone();
                document.replacen("__typename", &name, 1).replacen("{ ", &format!("{{ {name} "), 1)
            }
            3 => format!("{{ {}{} }}", "partners { edges { node { ".repeat(60), "}".repeat(180)),
            4 => {
                let aliases: Vec<String> = (0..self.rng.random_range(31..400)).map(|i| format!("a{i}: __typename")).collect();
                format!("{{ {} }}", aliases.join(" "))
            }
            5 => "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }".into(),
            6 => "{ partners(first: 100000) { edges { node { id } } } }".into(),
            7 => format!("{{ {}__typename{} }}", "a: ".repeat(3), " b".repeat(3)),
            8 => "{ __schema { types { name fields(includeDeprecated: true) { name args { name } } enumValues { name } inputFields { name } } } }".into(),
            9 if !self.internal.is_empty() => {
                let name = self.pick(&self.internal.clone()).clone();
                format!("{{ __type(name: \"{name}\") {{ name fields {{ name }} }} }}")
            }
            10 => format!("{document} {document}"),
            _ => document.replace(' ', "\u{a0}"),
        }
    }
}

/// One case's outcome: `Err` is a finding.
type Checked = Result<(), String>;

/// Identifiers in `text`.
fn identifiers(text: &str) -> HashSet<&str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect()
}

/// A partner's answer names no internal-only name that its request did not.
fn leaks(internal: &HashSet<String>, request: &str, answer: &str) -> Checked {
    let asked = identifiers(request);
    let named: Vec<&str> = identifiers(answer)
        .into_iter()
        .filter(|w| internal.contains(*w) && !asked.contains(w))
        .collect();
    if named.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "a partner answer names internal {named:?}: {answer:.600}"
        ))
    }
}

struct Run<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    internal: HashSet<String>,
    /// Answers that carried data: the generated documents mostly execute.
    executed: std::sync::atomic::AtomicUsize,
}

impl Run<'_> {
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        partner: bool,
        described: &str,
    ) -> Checked {
        let started = Instant::now();
        let response = request
            .timeout(LIMIT)
            .send()
            .await
            .map_err(|e| format!("no answer within {LIMIT:?} ({e}) to {described:.600}"))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| format!("the body did not arrive ({e}) for {described:.600}"))?;
        if started.elapsed() > LIMIT {
            return Err(format!(
                "answered after {:?}: {described:.600}",
                started.elapsed()
            ));
        }
        if status.is_server_error() || body.contains("INTERNAL_SERVER_ERROR") {
            return Err(format!("{status} {body:.300} for {described:.2000}"));
        }
        if partner {
            leaks(&self.internal, described, &body)?;
        }
        if body.starts_with("{\"data\":{") {
            self.executed
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(())
    }

    async fn graphql(&self, token: &str, partner: bool, body: &Value) -> Checked {
        let request = self
            .client
            .post(self.app.url("/graphql"))
            .bearer_auth(token)
            .json(body);
        self.send(request, partner, &body.to_string()).await
    }

    async fn malformed_http(
        &self,
        generator: &mut Generator<'_>,
        token: &str,
        partner: bool,
    ) -> Checked {
        let bodies: Vec<Vec<u8>> = vec![
            (0..generator.rng.random_range(0..300)).map(|_| generator.rng.random()).collect(),
            vec![0xff, 0xfe, b'{', 0x80],
            br#"{"query": 1}"#.to_vec(),
            br#"{"query":"{ viewer { kind } }","variables":"x"}"#.to_vec(),
            br#"{"query":"{ viewer { kind } }","operationName":5}"#.to_vec(),
            br#"{"query":"{ __typename }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"zz"}}}"#.to_vec(),
            br#"{"extensions":{"persistedQuery":{"version":2}}}"#.to_vec(),
            b"[]".to_vec(),
            b"null".to_vec(),
            b"\"{ viewer { kind } }\"".to_vec(),
            format!("{}1{}", "[".repeat(5000), "]".repeat(5000)).into_bytes(),
            format!("{{\"query\":\"{{ __typename }}\",\"variables\":{}1{}}}", "{\"a\":".repeat(3000), "}".repeat(3000)).into_bytes(),
            b"{\"query\":\"{ viewer { kind } }\"\x00}".to_vec(),
            br#"{"query":"{ viewer { kind } }","query":"{ __typename }"}"#.to_vec(),
        ];
        let body = generator.pick(&bodies).clone();
        let content_type = *generator.pick(&[
            "application/json",
            "application/json; charset=latin1",
            "text/plain",
            "application/graphql",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "",
        ]);
        let accept = *generator.pick(&[
            "application/graphql-response+json",
            "application/json",
            "text/html",
            "application/xml",
            "*/*;q=0",
            "",
        ]);
        let authorization = match generator.rng.random_range(0..6) {
            0 => "Bearer".to_owned(),
            1 => "Basic YWxhZGRpbjpvcGVuc2VzYW1l".to_owned(),
            2 => format!("Bearer {}", "x".repeat(5000)),
            3 => "Bearer pgat_nothing".to_owned(),
            _ => format!("Bearer {token}"),
        };
        let method = generator
            .pick(&[
                Method::POST,
                Method::POST,
                Method::GET,
                Method::PUT,
                Method::DELETE,
                Method::PATCH,
            ])
            .clone();
        let path = *generator.pick(&[
            "/graphql",
            "/graphql",
            "/oauth/token",
            "/oauth/revoke",
            "/graphql?query=%FF%FE",
            "/graphql?query={viewer{kind}}&variables=[",
            "/graphql?query=mutation{revokeToken}",
        ]);
        let mut request = self
            .client
            .request(method.clone(), self.app.url(path))
            .header("authorization", authorization.as_str())
            .body(body.clone());
        if !content_type.is_empty() {
            request = request.header("content-type", content_type);
        }
        if !accept.is_empty() {
            request = request.header("accept", accept);
        }
        if generator.chance(0.1) {
            request = request.header(
                "idempotency-key",
                generator
                    .string()
                    .chars()
                    .filter(char::is_ascii_graphic)
                    .take(300)
                    .collect::<String>(),
            );
        }
        if generator.chance(0.1) {
            request = request.header(
                "x-request-id",
                "r".repeat(generator.rng.random_range(1..9000)),
            );
        }
        let described = format!(
            "{method} {path} {content_type} {accept} {}",
            String::from_utf8_lossy(&body)
        );
        self.send(request, partner, &described).await
    }

    async fn websocket(
        &self,
        generator: &mut Generator<'_>,
        token: &str,
        partner: bool,
    ) -> Checked {
        let protocol = *generator.pick(&[
            "graphql-transport-ws",
            "graphql-transport-ws",
            "graphql-ws",
            "bogus",
        ]);
        let mut request = format!("ws://{}/graphql", self.app.address)
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert("sec-websocket-protocol", protocol.parse().unwrap());
        let Ok(Ok((mut socket, _))) =
            tokio::time::timeout(LIMIT, tokio_tungstenite::connect_async(request)).await
        else {
            // A refused upgrade (a bogus subprotocol) is a 4xx, checked by connect; a hang is not.
            return if protocol == "bogus" {
                Ok(())
            } else {
                Err(format!("no WebSocket upgrade ({protocol})"))
            };
        };
        let (document, variables) = generator.document("Subscription");
        let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } });
        let mut frames: Vec<Message> = Vec::new();
        if generator.chance(0.7) {
            frames.push(Message::Text(init.to_string().into()));
        }
        let mut sent = String::new();
        for _ in 0..generator.rng.random_range(1..4) {
            let frame = match generator.rng.random_range(0..12) {
                0 => Message::Text("{not json".into()),
                1 => Message::Binary(vec![0, 1, 2].into()),
                2 => Message::Text(json!({ "type": "subscribe", "id": 1 }).to_string().into()),
                3 => Message::Text(json!({ "type": "subscribe" }).to_string().into()),
                4 => Message::Text(json!({ "type": "connection_init", "payload": "x" }).to_string().into()),
                5 => Message::Text(json!({ "type": "ping", "payload": [1] }).to_string().into()),
                6 => Message::Text(json!({ "type": "complete", "id": "nope" }).to_string().into()),
                7 => Message::Text(json!({ "type": "start", "id": "1", "payload": { "query": document } }).to_string().into()),
                8 => Message::Text(format!("{{\"type\":\"subscribe\",\"id\":\"{}\",\"payload\":{{\"query\":\"{{ __typename }}\"}}}}", "i".repeat(10_000)).into()),
                _ => Message::Text(
                    json!({ "type": "subscribe", "id": format!("s{}", generator.rng.random_range(0..3)), "payload": { "query": document, "variables": variables } })
                        .to_string()
                        .into(),
                ),
            };
            if let Message::Text(text) = &frame {
                sent.push_str(text.as_str());
            }
            frames.push(frame);
        }
        for frame in frames {
            if socket.send(frame).await.is_err() {
                break;
            }
        }
        let described = format!("WebSocket {protocol}: {sent:.600}");
        let deadline = tokio::time::Instant::now() + Duration::from_millis(300);
        loop {
            match tokio::time::timeout_at(deadline, socket.next()).await {
                Err(_) | Ok(None) | Ok(Some(Err(_))) => break,
                Ok(Some(Ok(Message::Close(frame)))) => {
                    if let Some(frame) = frame {
                        if u16::from(frame.code) == 1011 {
                            return Err(format!("closed as an internal error: {described}"));
                        }
                    }
                    break;
                }
                Ok(Some(Ok(Message::Text(text)))) => {
                    if text.contains("INTERNAL_SERVER_ERROR") {
                        return Err(format!("internal error {text:.300} for {described}"));
                    }
                    if partner {
                        leaks(&self.internal, &described, text.as_str())?;
                    }
                }
                Ok(Some(Ok(_))) => {}
            }
        }
        let _ = socket.close(None).await;
        Ok(())
    }

    async fn alive(&self) -> Checked {
        let answer = self
            .client
            .get(self.app.url("/healthz"))
            .timeout(LIMIT)
            .send()
            .await
            .map_err(|e| format!("the server stopped answering: {e}"))?;
        if answer.status().is_success() {
            Ok(())
        } else {
            Err(format!("/healthz answered {}", answer.status()))
        }
    }
}

fn no_cost_limit() -> ServerConfig {
    let mut config = ServerConfig::default();
    // Throttling would turn most cases into the same 429.
    config.limits.query_cost_budget = 0;
    config
}

backend_test!(the_fuzzer_finds_nothing, no_cost_limit(), |app| {
    let cases: usize = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3000);
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(rand::random);
    let internal_schema = Schema::parse(&partnergraph::graphql::sdl());
    let partner_schema = Schema::parse(&partnergraph::graphql::partner_sdl().unwrap());
    // Names with a capital (types, camelCase fields, enum values): plain
    // lowercase words ("operation", "pipeline") also occur in messages and
    // data, so they cannot be told from a leak by their text.
    let mut internal: Vec<String> = internal_schema
        .names
        .difference(&partner_schema.names)
        .filter(|name| name.len() >= 4 && name.chars().any(|c| c.is_ascii_uppercase()))
        .cloned()
        .collect();
    internal.sort();

    // Rows to find: two partners, a deal, a webhook endpoint.
    let acme = app.partner("Acme").signed().await;
    let globex = app.partner("Globex").await;
    let partner_token = app.partner_token(&acme, Role::PartnerAdmin).await;
    let mut ids = vec![acme, globex];
    let endpoint = app
        .admin_data(
            "mutation { createWebhookEndpoint(input: { url: \"https://hooks.example.com/x\", eventTypes: [\"partner.created\"] }) { webhookEndpoint { id } } }",
            json!({}),
        )
        .await;
    if let Some(id) = endpoint["createWebhookEndpoint"]["webhookEndpoint"]["id"].as_str() {
        ids.push(id.to_owned());
    }

    let run = Run {
        app: &app,
        client: reqwest::Client::new(),
        internal: internal.iter().cloned().collect(),
        executed: Default::default(),
    };
    let mut findings = Vec::new();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    let started = Instant::now();
    for case in 0..cases {
        // One generator per case, so a finding replays from its seed and number.
        let mut generator = Generator {
            schema: if case % 2 == 0 {
                &internal_schema
            } else {
                &partner_schema
            },
            rng: StdRng::seed_from_u64(seed ^ (case as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            ids: ids.clone(),
            internal: internal.clone(),
        };
        let partner = generator.chance(0.5);
        let token = if partner {
            partner_token.as_str()
        } else {
            app.admin.as_str()
        };
        let kind = match generator.rng.random_range(0..100) {
            0..=59 => "query",
            60..=79 => "mutation",
            80..=91 => "http",
            _ => "websocket",
        };
        *counts.entry(kind).or_default() += 1;
        let checked = match kind {
            "http" => run.malformed_http(&mut generator, token, partner).await,
            "websocket" => run.websocket(&mut generator, token, partner).await,
            _ => {
                let root = if kind == "query" { "Query" } else { "Mutation" };
                let (mut document, variables) = generator.document(root);
                if generator.chance(0.5) {
                    document = generator.mutate(document);
                }
                let body = if generator.chance(0.1) {
                    json!({ "query": document, "variables": variables, "operationName": "Fuzz" })
                } else {
                    json!({ "query": document, "variables": variables })
                };
                run.graphql(token, partner, &body).await
            }
        };
        if let Err(finding) = checked {
            findings.push(format!(
                "case {case} ({kind}, {}): {finding}",
                if partner { "partner" } else { "staff" }
            ));
        }
        if case % 100 == 99 {
            if let Err(finding) = run.alive().await {
                findings.push(format!("after case {case}: {finding}"));
                break;
            }
        }
        if findings.len() >= 10 {
            break;
        }
    }
    run.alive().await.unwrap();
    eprintln!(
        "fuzz: {cases} cases ({counts:?}, {} answered with data) in {:?}, seed {seed} (FUZZ_SEED={seed} FUZZ_CASES={cases} replays), {} findings",
        run.executed.load(std::sync::atomic::Ordering::Relaxed),
        started.elapsed(),
        findings.len()
    );
    assert!(findings.is_empty(), "seed {seed}:\n{}", findings.join("\n"));
});

// Found by the fuzzer on PostgreSQL (whose text cannot hold NUL): a NUL in
// any string, literal or variable, was an internal error; it is refused up
// front on every backend.
backend_test!(nul_characters_in_strings_are_refused_up_front, |app| {
    let search = "query($v: PartnerFilterInput) { partners(filter: $v) { totalCount } }";
    let (status, body) = app
        .post(&app.admin, search, json!({ "v": { "search": "a\u{0}b" } }))
        .await;
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("U+0000"),
        "{body}"
    );
    let (status, body) = app
        .post(
            &app.admin,
            r#"{ partners(filter: { search: "\u0000" }) { totalCount } }"#,
            json!({}),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST, "{body}");
    // An escaped backslash is not a NUL.
    let (status, body) = app
        .post(
            &app.admin,
            r#"{ partners(filter: { search: "\\u0000" }) { totalCount } }"#,
            json!({}),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    assert_eq!(body["data"]["partners"]["totalCount"], 0);
});
