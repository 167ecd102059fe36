//! GraphQL over HTTP, as its specification describes it: JSON bodies by POST,
//! queries (never mutations) by GET, `application/graphql-response+json` or
//! `application/json` answers with the status codes each implies, no
//! batching. GraphiQL for browsers.

use async_graphql::{
    parser::types::OperationType, Response as GraphQLResponse, ServerError, Variables,
};
use axum::{
    body::Bytes,
    extract::{RawQuery, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::Value;

use super::{
    order::{self, Order},
    persisted::{self, PersistedQuery},
    response::{self, bad_request, Rejection, APPLICATION_JSON, GRAPHQL_RESPONSE_JSON},
    AppState, REQUEST_ID,
};
use crate::{
    error::ApiError,
    graphql::{
        context::RequestContext, cost::Charge, document, documents::PartnerRequest, loaders,
    },
    service::idempotency::{self, Claim},
};

/// The header that makes a mutation safe to retry (SPEC §5).
const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// The answer format the client accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MediaType {
    GraphQLResponseJson,
    Json,
}

impl MediaType {
    fn content_type(self) -> &'static str {
        match self {
            MediaType::GraphQLResponseJson => GRAPHQL_RESPONSE_JSON,
            MediaType::Json => APPLICATION_JSON,
        }
    }
}

fn accepts(headers: &HeaderMap, media: &str) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(',')
                .map(|part| part.split(';').next().unwrap_or_default().trim())
                .any(|m| m.eq_ignore_ascii_case(media))
        })
}

/// Content negotiation; an Accept header that allows neither JSON type gets 406.
fn negotiate(headers: &HeaderMap) -> Result<MediaType, Rejection> {
    if headers.get(header::ACCEPT).is_none() {
        return Ok(MediaType::Json);
    }
    if accepts(headers, "application/graphql-response+json") {
        Ok(MediaType::GraphQLResponseJson)
    } else if ["application/json", "application/*", "*/*"]
        .iter()
        .any(|m| accepts(headers, m))
    {
        Ok(MediaType::Json)
    } else {
        Err(response::error(
            StatusCode::NOT_ACCEPTABLE,
            "BAD_USER_INPUT",
            "accept application/graphql-response+json or application/json",
        ))
    }
}

/// The parameters of one GraphQL request.
#[derive(Debug)]
pub struct Params {
    pub query: String,
    pub operation_name: Option<String>,
    pub variables: Option<Value>,
    /// The request's `extensions` (a JSON object; anything else is a 400).
    pub extensions: serde_json::Map<String, Value>,
}

/// `extensions` must be a map when present (GraphQL over HTTP §"Request
/// Parameters"); `null` counts as absent.
fn extensions_of(value: Option<Value>) -> Result<serde_json::Map<String, Value>, Rejection> {
    match value {
        None | Some(Value::Null) => Ok(serde_json::Map::new()),
        Some(Value::Object(map)) => Ok(map),
        Some(_) => Err(bad_request("`extensions` must be a JSON object")),
    }
}

pub(crate) fn params_from_json(body: &[u8]) -> Result<Params, Rejection> {
    let text = std::str::from_utf8(body)
        .map_err(|_| bad_request("the request body is not valid UTF-8"))?;
    let value: Value = serde_json::from_str(text)
        .map_err(|e| bad_request(format!("the request body is not valid JSON: {e}")))?;
    let Value::Object(mut fields) = value else {
        let message = if value.is_array() {
            "batched requests are not supported: send one operation per request"
        } else {
            "the request body must be a JSON object with a `query`"
        };
        return Err(bad_request(message));
    };
    let extensions = extensions_of(fields.remove("extensions"))?;
    let query = match fields.remove("query") {
        Some(Value::String(query)) => query,
        // A persisted query may come by hash alone.
        None | Some(Value::Null) if extensions.contains_key("persistedQuery") => String::new(),
        _ => {
            return Err(bad_request(
                "`query` must be a string holding the GraphQL document",
            ))
        }
    };
    let operation_name = match fields.remove("operationName") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => Some(name),
        Some(_) => return Err(bad_request("`operationName` must be a string")),
    };
    Ok(Params {
        query,
        operation_name,
        variables: fields.remove("variables"),
        extensions,
    })
}

fn params_from_query_string(raw: &str) -> Result<Option<Params>, Rejection> {
    let mut query = None;
    let mut operation_name = None;
    let mut variables = None;
    let mut extensions = None;
    for (key, value) in url::form_urlencoded::parse(raw.as_bytes()) {
        match key.as_ref() {
            "query" => query = Some(value.into_owned()),
            "operationName" if !value.is_empty() => operation_name = Some(value.into_owned()),
            "variables" if !value.is_empty() => {
                variables = Some(
                    serde_json::from_str(&value)
                        .map_err(|_| bad_request("`variables` must be a JSON object"))?,
                )
            }
            "extensions" if !value.is_empty() => {
                extensions = Some(
                    serde_json::from_str(&value)
                        .map_err(|_| bad_request("`extensions` must be a JSON object"))?,
                )
            }
            _ => {}
        }
    }
    let extensions = extensions_of(extensions)?;
    let query = query.or_else(|| extensions.contains_key("persistedQuery").then(String::new));
    Ok(query.map(|query| Params {
        query,
        operation_name,
        variables,
        extensions,
    }))
}

/// `GET /graphql` (when not a WebSocket upgrade), in an admission slot.
pub async fn get(state: State<AppState>, headers: HeaderMap, raw: RawQuery) -> Response {
    let admission = state.admission.clone();
    admission.run(get_admitted(state, headers, raw)).await
}

/// `POST /graphql`, in an admission slot (`admission`): the body has been
/// read whole by then (`body_limit`), so a slow sender holds no slot.
pub async fn post(state: State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let admission = state.admission.clone();
    admission.run(post_admitted(state, headers, body)).await
}

async fn get_admitted(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let params = match params_from_query_string(raw.as_deref().unwrap_or_default()) {
        Ok(params) => params,
        Err(rejection) => return rejection.into_response(),
    };
    let Some(params) = params else {
        if accepts(&headers, "text/html") {
            return super::graphiql::page();
        }
        return bad_request("send a `query` parameter, or POST a JSON body").into_response();
    };
    execute(state, &headers, params, true).await
}

async fn post_admitted(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return response::error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "BAD_USER_INPUT",
            "send the request as Content-Type: application/json",
        )
        .into_response();
    }
    match params_from_json(&body) {
        Ok(params) => execute(state, &headers, params, false).await,
        Err(rejection) => rejection.into_response(),
    }
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    bearer_value(headers.get(header::AUTHORIZATION)?.to_str().ok()?)
}

/// The token of an `Authorization` value, `Bearer <token>`.
pub(crate) fn bearer_value(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

pub(crate) fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// What the metrics record of a request: set on the response by `run`.
#[derive(Clone, Copy)]
pub(crate) struct OperationKind(pub &'static str);

/// Whether an executed request answered errors.
#[derive(Clone, Copy)]
struct HadErrors(bool);

async fn execute(state: AppState, headers: &HeaderMap, params: Params, by_get: bool) -> Response {
    use tracing::Instrument;
    let started = std::time::Instant::now();
    let metrics = state.metrics.clone();
    // `prepare` records the operation's name on it.
    let span = tracing::info_span!(
        "graphql",
        operation = tracing::field::Empty,
        operation_type = tracing::field::Empty,
    );
    let response = run(state, headers, params, by_get)
        .instrument(span.clone())
        .await;
    let kind = response
        .extensions()
        .get::<OperationKind>()
        .map_or("unknown", |k| k.0);
    span.record("operation_type", kind);
    let outcome = match (response.status(), response.extensions().get::<HadErrors>()) {
        (StatusCode::UNAUTHORIZED, _) => "unauthenticated",
        (status, _) if status.is_server_error() => "internal_error",
        (status, _) if status.is_client_error() => "rejected",
        (_, Some(HadErrors(true))) => "error",
        _ => "ok",
    };
    metrics.record_request(kind, outcome, started.elapsed());
    response
}

async fn run(state: AppState, headers: &HeaderMap, params: Params, by_get: bool) -> Response {
    let media = match negotiate(headers) {
        Ok(media) => media,
        Err(rejection) => return rejection.into_response(),
    };
    let request_id = request_id(headers);
    let now = state.clock.now();

    let principal = match bearer(headers) {
        Some(bearer) => match state.principals.authenticate(&state.db, bearer, now).await {
            Ok(principal) => principal,
            Err(error) => return internal_error(media, &request_id, ApiError::from(error)),
        },
        None => None,
    };
    let Some(principal) = principal else {
        let message = ApiError::Unauthenticated.message();
        return response::error(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", message)
            .into_response();
    };

    // Only the key is checked here; whether the operation is a mutation is
    // known once the document is parsed.
    let replay = match headers.get(IDEMPOTENCY_KEY) {
        None => None,
        Some(value) => match value.to_str().ok().filter(|k| idempotency::valid_key(k)) {
            Some(key) => {
                let variables = params.variables.clone().unwrap_or(Value::Null);
                // A persisted query sent by hash alone is known by its hash.
                let query = match params.extensions.get("persistedQuery") {
                    Some(persisted) if params.query.is_empty() => persisted.to_string(),
                    _ => params.query.clone(),
                };
                let hash =
                    idempotency::fingerprint(&query, params.operation_name.as_deref(), &variables);
                Some((key.to_owned(), hash))
            }
            None => {
                return bad_request("`Idempotency-Key` must be 1 to 255 visible ASCII characters")
                    .into_response()
            }
        },
    };
    let prepared = match prepare(&state, principal.clone(), &request_id, now, params, by_get).await
    {
        Ok(prepared) => prepared,
        Err(Refused::BadRequest(message)) => return bad_request(message).into_response(),
        Err(Refused::MethodNotAllowed(kind)) => {
            let mut rejection = response::error(
                StatusCode::METHOD_NOT_ALLOWED,
                "BAD_USER_INPUT",
                "mutations and subscriptions cannot be sent by GET; use POST",
            );
            rejection.allow = Some("POST");
            let mut response = rejection.into_response();
            response.extensions_mut().insert(kind);
            return response;
        }
        Err(Refused::Answer(kind, answer)) => {
            let mut response = finish(media, &request_id, *answer);
            response.extensions_mut().insert(kind);
            return response;
        }
        Err(Refused::RateLimited(kind, answer)) => {
            let mut encoded = encode(media, &request_id, *answer);
            encoded.status = StatusCode::TOO_MANY_REQUESTS;
            let mut response = encoded.into_response();
            response.extensions_mut().insert(kind);
            return response;
        }
    };
    let kind = prepared.kind;
    let claimed = match replay {
        Some((key, hash)) if kind.0 == "mutation" => {
            let owner = principal.budget_key();
            match idempotency::claim(&state.db, &owner, &key, &hash, now).await {
                Ok(Claim::Fresh) => Some((owner, key)),
                Ok(Claim::Replay {
                    status,
                    content_type,
                    body,
                }) => return replayed(status, &content_type, body),
                Ok(Claim::InProgress) => {
                    let message =
                        "a request with this Idempotency-Key is still running; retry shortly";
                    return response::error(StatusCode::CONFLICT, "BAD_USER_INPUT", message)
                        .into_response();
                }
                Ok(Claim::Mismatch) => {
                    let message = "this Idempotency-Key was used with a different request";
                    return response::error(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "BAD_USER_INPUT",
                        message,
                    )
                    .into_response();
                }
                Err(error) => return internal_error(media, &request_id, ApiError::from(error)),
            }
        }
        _ => None,
    };
    let mut response = state.schema.execute(prepared.request).await;
    order::apply(prepared.order.as_ref(), &mut response);
    if let Some(charge) = prepared.cost {
        response = response.extension("cost", charge.report());
    }
    let encoded = encode(media, &request_id, response);
    if let Some((owner, key)) = claimed {
        // Our own failures are not kept: a retry with the key runs again.
        let kept = if encoded.status.is_server_error() {
            idempotency::release(&state.db, &owner, &key).await
        } else {
            let body = String::from_utf8_lossy(&encoded.body);
            idempotency::complete(
                &state.db,
                &owner,
                &key,
                encoded.status.as_u16(),
                media.content_type(),
                &body,
            )
            .await
        };
        if let Err(error) = kept {
            tracing::error!(%error, "could not keep the Idempotency-Key response");
        }
    }
    let mut response = encoded.into_response();
    response.extensions_mut().insert(kind);
    response
}

/// A request ready to execute, with what the caller needs to know of it.
pub(crate) struct Prepared {
    pub request: async_graphql::Request,
    pub kind: OperationKind,
    pub operation: Option<OperationType>,
    /// What the request was charged, to report in `extensions.cost`.
    pub cost: Option<Charge>,
    /// Puts its answers in request order (`None` when the document does not
    /// parse: its answer is an error).
    pub order: Option<Order>,
}

/// Why a request is answered without running.
pub(crate) enum Refused {
    /// Malformed parameters: HTTP 400.
    BadRequest(String),
    /// A mutation or subscription sent by GET.
    MethodNotAllowed(OperationKind),
    /// A GraphQL answer to give instead (limits, the partner view, partner
    /// introspection).
    Answer(OperationKind, Box<GraphQLResponse>),
    /// The principal's query-cost budget cannot pay: HTTP 429, this answer.
    RateLimited(OperationKind, Box<GraphQLResponse>),
}

/// Everything HTTP and WebSocket requests share before execution: the
/// variables, the operation type, the alias and depth limits, the partner view at the
/// door, the query's cost (limit and charge), and the request's context and
/// loaders.
pub(crate) async fn prepare(
    state: &AppState,
    principal: crate::auth::Principal,
    request_id: &str,
    now: chrono::DateTime<chrono::Utc>,
    params: Params,
    by_get: bool,
) -> Result<Prepared, Refused> {
    let mut params = params;
    params.query = persisted_document(state, &principal, &params).await?;
    let raw_variables = params.variables.clone().unwrap_or(Value::Null);
    let variables = match params.variables {
        None | Some(Value::Null) => Variables::default(),
        Some(value @ Value::Object(_)) => Variables::from_json(value),
        Some(_) => {
            return Err(Refused::BadRequest(
                "`variables` must be a JSON object".into(),
            ))
        }
    };
    let mut request = async_graphql::Request::new(params.query).variables(variables);
    if let Some(name) = &params.operation_name {
        tracing::Span::current().record("operation", name.as_str());
        request = request.operation_name(name.clone());
    }
    // Parse once here, to refuse mutations by GET and too many aliases before
    // anything runs; a parse error is left for execution to report.
    let mut kind = OperationKind("unknown");
    let mut operation = None;
    let mut cost = None;
    let mut order = None;
    if let Some(doc) = state.documents.parse(&request.query) {
        if document::holds_nul(&doc, &raw_variables) {
            return Err(Refused::BadRequest(
                "strings must not contain the NUL character (U+0000)".into(),
            ));
        }
        if params.operation_name.is_none() {
            // A document's only operation, by its name, for logs and traces.
            if let Some((Some(name), _)) = doc.operations.iter().next() {
                tracing::Span::current().record("operation", name.as_str());
            }
        }
        operation = document::operation_type(&doc, params.operation_name.as_deref());
        kind = OperationKind(match operation {
            Some(OperationType::Query) => "query",
            Some(OperationType::Mutation) => "mutation",
            Some(OperationType::Subscription) => "subscription",
            None => "unknown",
        });
        if by_get && operation.is_some_and(|t| t != OperationType::Query) {
            return Err(Refused::MethodNotAllowed(kind));
        }
        let aliases = document::alias_count(&doc);
        if aliases > state.config.limits.max_aliases {
            let message = format!(
                "the query uses {aliases} aliases; the limit is {}",
                state.config.limits.max_aliases
            );
            let answer = GraphQLResponse::from_errors(vec![too_complex(message)]);
            return Err(Refused::Answer(kind, Box::new(answer)));
        }
        // Our own depth rule rather than async-graphql's `limit_depth`: it
        // bounds introspection by its own measure (`document::depth`).
        let max_depth = state.config.limits.max_depth;
        if let Err(document::TooDeep(message)) =
            document::depth(&doc, params.operation_name.as_deref(), max_depth)
        {
            let answer = GraphQLResponse::from_errors(vec![too_complex(message)]);
            return Err(Refused::Answer(kind, Box::new(answer)));
        }
        let ordering = Order::new(
            state.shape.clone(),
            doc.clone(),
            params.operation_name.clone(),
            request.variables.clone(),
        );
        if !principal.is_staff() {
            let partner_request = PartnerRequest::new(
                &request.query,
                params.operation_name.as_deref(),
                &request.variables,
            );
            if !state.documents.partner_valid(&partner_request) {
                if let Some(answer) =
                    partner_gate(&state.partner_schema, &doc, &request, &ordering).await
                {
                    return Err(Refused::Answer(kind, Box::new(answer)));
                }
                state.documents.remember_partner_valid(partner_request);
            }
            // Belt and braces: partner introspection is answered above only.
            request = request.disable_introspection();
        }
        let points = state
            .pricing
            .cost(&doc, params.operation_name.as_deref(), &request.variables);
        let limit = state.config.limits.max_complexity;
        if points > limit {
            let message = format!("the query costs {points} points; the limit is {limit}");
            let answer = GraphQLResponse::from_errors(vec![too_complex(message)]);
            return Err(Refused::Answer(kind, Box::new(answer)));
        }
        if let Some(limiter) = &state.cost_limiter {
            match limiter.charge(&principal.budget_key(), points) {
                Ok(charged) => cost = Some(charged),
                Err(error) => {
                    state.metrics.throttled(kind.0);
                    let answer = GraphQLResponse::from_errors(vec![error]);
                    return Err(Refused::RateLimited(kind, Box::new(answer)));
                }
            }
        }
        request.set_parsed_query(async_graphql::parser::types::ExecutableDocument::clone(
            &doc,
        ));
        order = Some(ordering);
    }
    let request = request
        .data(RequestContext {
            principal,
            request_id: request_id.to_owned(),
            now,
        })
        .data(loaders::for_request(state.db.clone()));
    Ok(Prepared {
        request,
        kind,
        operation,
        cost,
        order,
    })
}

/// The document a request runs: its own text, or the persisted document
/// its hash names (`persisted`). With trusted documents on, a partner's
/// request is refused here, from its hash, unless the operator registered
/// the document.
async fn persisted_document(
    state: &AppState,
    principal: &crate::auth::Principal,
    params: &Params,
) -> Result<String, Refused> {
    let persisted = PersistedQuery::from_extensions(&params.extensions)
        .map_err(|message| Refused::BadRequest(message.into()))?;
    let trusted_only = state.config.trusted_documents && !principal.is_staff();
    let store = &state.persisted;
    let trusted = |hash: String| async move {
        store.trusted(&state.db, &hash).await.map_err(|error| {
            let error: async_graphql::Error = ApiError::from(error).into();
            refusal(error.into_server_error(Default::default()))
        })
    };
    let not_registered = || {
        let mut error = ServerError::new(
            "with trusted documents on, partner tokens run only registered operations (`partnergraph documents add`)",
            None,
        );
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", "FORBIDDEN");
        refusal(error)
    };
    let Some(PersistedQuery { sha256_hash: hash }) = persisted else {
        if trusted_only
            && trusted(persisted::sha256_hex(&params.query))
                .await?
                .is_none()
        {
            return Err(not_registered());
        }
        return Ok(params.query.clone());
    };
    if params.query.is_empty() {
        let remembered = if trusted_only {
            None
        } else {
            store.automatic(&hash)
        };
        let known = match remembered {
            Some(text) => Some(text),
            None => trusted(hash).await?,
        };
        return match known {
            Some(text) => Ok(text.to_string()),
            None => {
                // The message and code Apollo's persisted-query link looks for.
                let mut error = ServerError::new("PersistedQueryNotFound", None);
                error
                    .extensions
                    .get_or_insert_with(Default::default)
                    .set("code", "PERSISTED_QUERY_NOT_FOUND");
                Err(refusal(error))
            }
        };
    }
    if persisted::sha256_hex(&params.query) != hash {
        return Err(Refused::BadRequest(
            "provided sha256Hash does not match the query".into(),
        ));
    }
    if trusted_only {
        if trusted(hash).await?.is_none() {
            return Err(not_registered());
        }
    } else {
        store.remember(&hash, &params.query);
    }
    Ok(params.query.clone())
}

fn refusal(error: ServerError) -> Refused {
    Refused::Answer(
        OperationKind("unknown"),
        Box::new(GraphQLResponse::from_errors(vec![error])),
    )
}

/// The kept answer to a repeated `Idempotency-Key` request.
fn replayed(status: u16, content_type: &str, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut response = (status, body).into_response();
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

/// The partner view at the door (SPEC §3). A partner's introspection is
/// answered from the partner schema; any other partner request must validate
/// against it before the real schema runs it, so an internal field, type,
/// argument, input field or enum value fails exactly like one that does not
/// exist. `Some` is the answer to give instead of running the request.
async fn partner_gate(
    partner_schema: &async_graphql::dynamic::Schema,
    doc: &async_graphql::parser::types::ExecutableDocument,
    request: &async_graphql::Request,
    order: &Order,
) -> Option<GraphQLResponse> {
    let roots = document::root_fields(doc, request.operation_name.as_deref()).unwrap_or_default();
    let mut probe =
        async_graphql::Request::new(request.query.clone()).variables(request.variables.clone());
    if let Some(name) = &request.operation_name {
        probe = probe.operation_name(name.clone());
    }
    probe.set_parsed_query(doc.clone());
    if roots.iter().any(|f| *f == "__schema" || *f == "__type") {
        if roots.iter().all(|f| f.starts_with("__")) {
            let mut answer = partner_schema.execute(probe).await;
            order.apply(&mut answer);
            return Some(answer);
        }
        let mut error = ServerError::new(
            "ask for `__schema` and `__type` in a request of their own",
            None,
        );
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", "BAD_USER_INPUT");
        return Some(GraphQLResponse::from_errors(vec![error]));
    }
    // Its resolvers return nothing, so this only validates; errors without a
    // path are the validation errors. (A subscription that validates yields
    // an empty stream; `execute` would refuse it for the transport.)
    let answer = match document::operation_type(doc, request.operation_name.as_deref()) {
        Some(OperationType::Subscription) => {
            use futures_util::StreamExt;
            partner_schema.execute_stream(probe).next().await
        }
        _ => Some(partner_schema.execute(probe).await),
    };
    let refused: Vec<ServerError> = answer
        .map(|a| a.errors)
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e.path.is_empty())
        .collect();
    (!refused.is_empty()).then(|| GraphQLResponse::from_errors(refused))
}

pub(crate) fn too_complex(message: String) -> ServerError {
    ApiError::QueryTooComplex(message).into_server_error()
}

fn internal_error(media: MediaType, request_id: &str, error: ApiError) -> Response {
    let error: async_graphql::Error = error.into();
    finish(
        media,
        request_id,
        GraphQLResponse::from_errors(vec![error.into_server_error(Default::default())]),
    )
}

fn finish(media: MediaType, request_id: &str, response: GraphQLResponse) -> Response {
    encode(media, request_id, response).into_response()
}

/// A GraphQL answer ready to send (and to keep for `Idempotency-Key` replays).
struct Encoded {
    status: StatusCode,
    media: MediaType,
    body: Vec<u8>,
    had_errors: bool,
}

impl IntoResponse for Encoded {
    fn into_response(self) -> Response {
        let mut http = (self.status, self.body).into_response();
        http.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.media.content_type()),
        );
        http.extensions_mut().insert(HadErrors(self.had_errors));
        http
    }
}

/// Gives every error a code, puts the request id on internal ones, and picks
/// the status: with `application/graphql-response+json` a request that did
/// not execute (parse or validation error) is a 400; a spent budget is a 429.
fn encode(media: MediaType, request_id: &str, response: GraphQLResponse) -> Encoded {
    let had_errors = !response.errors.is_empty();
    let body = Body::of(response, request_id);
    let executed = body.data.is_some();
    let status = if media == MediaType::GraphQLResponseJson && !executed {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Encoded {
        status,
        media,
        body: serde_json::to_vec(&body).unwrap_or_default(),
        had_errors,
    }
}

/// A GraphQL response body: `data` only when the request executed.
#[derive(serde::Serialize)]
pub(crate) struct Body {
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<async_graphql::Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<Value>,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    extensions: std::collections::BTreeMap<String, async_graphql::Value>,
}

impl Body {
    /// Every error gets its code (and internal ones the request id).
    /// Serialized straight from async-graphql's values: no intermediate tree.
    pub(crate) fn of(response: GraphQLResponse, request_id: &str) -> Self {
        let executed = response.data != async_graphql::Value::Null
            || response.errors.iter().any(|e| !e.path.is_empty());
        Body {
            data: executed.then_some(response.data),
            errors: response
                .errors
                .into_iter()
                .map(|e| error_json(e, request_id))
                .collect(),
            extensions: response.extensions,
        }
    }

    /// Whether the request ran (it has `data`), as opposed to being refused
    /// by parsing, validation or a limit.
    pub(crate) fn executed(&self) -> bool {
        self.data.is_some()
    }

    pub(crate) fn into_errors(self) -> Vec<Value> {
        self.errors
    }
}

fn error_json(mut error: ServerError, request_id: &str) -> Value {
    let code = error
        .extensions
        .as_ref()
        .and_then(|e| e.get("code"))
        .and_then(|c| match c {
            async_graphql::Value::String(s) => Some(s.clone()),
            _ => None,
        });
    // Errors async-graphql raises itself (parse, validation, input coercion)
    // carry no code; they are the client's to fix. Our own refusals (limits,
    // budgets) carry theirs from `ApiError`.
    let code = code.unwrap_or_else(|| ApiError::BadUserInput(String::new()).code().to_owned());
    let extensions = error.extensions.get_or_insert_with(Default::default);
    extensions.set("code", code.as_str());
    if code == ApiError::INTERNAL_CODE {
        extensions.set("requestId", request_id);
        error.message = format!("internal server error (request id {request_id})");
    }
    serde_json::to_value(&error).unwrap_or(Value::Null)
}
