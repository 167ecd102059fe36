//! The OAuth2 token endpoint (RFC 6749 §4.4, `client_credentials`; RFC 8693
//! token exchange for portals acting as their partner's contacts) and token
//! revocation (RFC 7009). Answers never reveal whether a client id exists:
//! an unknown id and a wrong secret get the same `invalid_client`.

use std::{
    net::{IpAddr, SocketAddr},
    num::NonZeroU32,
};

use axum::{
    body::Bytes,
    extract::{ConnectInfo, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use base64::{engine::general_purpose::STANDARD, Engine};
use governor::{clock::Clock as _, DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde_json::json;

use super::AppState;
use crate::auth::clients::{self, ExchangeRefusal, Refusal, ACCESS_TOKEN_TTL};

/// RFC 8693's grant type.
const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// RFC 8693 §3: the one token type exchanged and issued here.
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// Token requests allowed per minute, per client id and per IP address.
pub struct TokenEndpointLimits {
    per_client: DefaultKeyedRateLimiter<String>,
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
}

impl TokenEndpointLimits {
    pub fn new(per_client_per_minute: NonZeroU32, per_ip_per_minute: NonZeroU32) -> Self {
        Self {
            per_client: RateLimiter::keyed(Quota::per_minute(per_client_per_minute)),
            per_ip: RateLimiter::keyed(Quota::per_minute(per_ip_per_minute)),
        }
    }

    /// `Err(seconds to wait)` when either budget is spent.
    fn check(&self, ip: IpAddr, client_id: &str) -> Result<(), u64> {
        let now = governor::clock::DefaultClock::default().now();
        let wait =
            |not_until: governor::NotUntil<_>| not_until.wait_time_from(now).as_secs().max(1);
        self.per_ip.check_key(&ip).map_err(wait)?;
        self.per_client
            .check_key(&client_id.to_owned())
            .map_err(wait)?;
        // Forget idle keys now and then so the maps stay small.
        if self.per_ip.len() > 10_000 {
            self.per_ip.retain_recent();
            self.per_client.retain_recent();
        }
        Ok(())
    }
}

/// An RFC 6749 §5.2 error answer.
#[derive(Debug)]
struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
    /// Seconds, for 429.
    retry_after: Option<u64>,
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.error, "error_description": self.description });
        let mut response = (self.status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(seconds) = self
            .retry_after
            .and_then(|s| HeaderValue::from_str(&s.to_string()).ok())
        {
            headers.insert(header::RETRY_AFTER, seconds);
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"partnergraph\""),
            );
        }
        response
    }
}

fn oauth_error(status: StatusCode, error: &'static str, description: &str) -> OAuthError {
    OAuthError {
        status,
        error,
        description: description.to_owned(),
        retry_after: None,
    }
}

fn invalid_request(description: &str) -> OAuthError {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_request", description)
}

fn invalid_client() -> OAuthError {
    oauth_error(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "client authentication failed",
    )
}

/// The form fields of a request, or an `invalid_request` answer.
fn form(headers: &HeaderMap, body: &[u8]) -> Result<Vec<(String, String)>, OAuthError> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Err(invalid_request(
            "send the parameters as application/x-www-form-urlencoded",
        ));
    }
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    // RFC 6749 §3.2: parameters must not be repeated.
    let mut names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return Err(invalid_request("a parameter is repeated"));
    }
    Ok(fields)
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The client's credentials, from HTTP Basic or from the form (not both).
fn credentials(
    headers: &HeaderMap,
    fields: &[(String, String)],
) -> Result<Option<(String, String)>, OAuthError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, encoded)| encoded.trim());
    let in_form = (field(fields, "client_id"), field(fields, "client_secret"));
    match (basic, in_form) {
        (Some(_), (Some(_), _) | (_, Some(_))) => {
            Err(invalid_request("authenticate the client one way only"))
        }
        (Some(encoded), _) => {
            let decoded = STANDARD
                .decode(encoded)
                .ok()
                .and_then(|b| String::from_utf8(b).ok());
            let (id, secret) = decoded
                .as_deref()
                .and_then(|d| d.split_once(':'))
                .ok_or_else(invalid_client)?;
            // RFC 6749 §2.3.1: both parts are form-urlencoded inside Basic.
            let decode = |s: &str| {
                url::form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
            };
            Ok(decode(id).zip(decode(secret)))
        }
        (None, (Some(id), Some(secret))) => Ok(Some((id.to_owned(), secret.to_owned()))),
        (None, _) => Ok(None),
    }
}

/// `POST /oauth/token`.
pub async fn token(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    issue(state, peer, headers, body)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// `POST /oauth/revoke` (RFC 7009): the client revokes one of its tokens;
/// an unknown token is not an error.
pub async fn revoke(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    revoke_token(state, peer, headers, body)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// The form of a request and the client it authenticates, within the rate
/// limits (both endpoints check secrets, so both are limited).
async fn authenticate(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(entity::api_client::Model, Vec<(String, String)>), OAuthError> {
    let fields = form(headers, body)?;
    let (client_id, secret) = credentials(headers, &fields)?.ok_or_else(invalid_client)?;
    if let Err(wait) = state.token_limits.check(peer.ip(), &client_id) {
        let mut refusal = oauth_error(
            StatusCode::TOO_MANY_REQUESTS,
            "temporarily_unavailable",
            "too many requests; retry later",
        );
        refusal.retry_after = Some(wait);
        return Err(refusal);
    }
    let client = clients::verify(&state.db, &client_id, &secret)
        .await
        .map_err(server_error)?
        .ok_or_else(invalid_client)?;
    Ok((client, fields))
}

async fn issue(
    state: AppState,
    peer: SocketAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let (client, fields) = authenticate(&state, peer, &headers, &body).await?;
    match field(&fields, "grant_type") {
        None => return Err(invalid_request("`grant_type` is required")),
        Some("client_credentials") => {}
        Some(TOKEN_EXCHANGE) => return exchange(&state, &client, &fields).await,
        Some(_) => {
            let why = "only client_credentials and token exchange are supported";
            return Err(oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                why,
            ));
        }
    }
    let requested = field(&fields, "scope").filter(|s| !s.trim().is_empty());
    let (token, scopes) = clients::issue_token(&state.db, &client, requested, state.clock.now())
        .await
        .map_err(server_error)?
        .map_err(|Refusal::InvalidScope(why)| {
            oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", &why)
        })?;
    let body = json!({
        "access_token": token.expose(),
        "token_type": "Bearer",
        "expires_in": ACCESS_TOKEN_TTL.num_seconds(),
        "scope": scopes.to_string(),
    });
    Ok(token_response(&body))
}

/// A successful token response (RFC 6749 §5.1): never cached.
fn token_response(body: &serde_json::Value) -> Response {
    let mut response = (StatusCode::OK, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// RFC 8693 token exchange: a portal's backend trades its own access token
/// (`subject_token`) for a short-lived one acting as a contact of its
/// partner (`requested_subject`, the contact's global id).
async fn exchange(
    state: &AppState,
    client: &entity::api_client::Model,
    fields: &[(String, String)],
) -> Result<Response, OAuthError> {
    let required = |name: &'static str| {
        field(fields, name)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| invalid_request(&format!("`{name}` is required")))
    };
    let subject_token = required("subject_token")?;
    if required("subject_token_type")? != ACCESS_TOKEN_TYPE {
        return Err(invalid_request(
            "`subject_token_type` must be urn:ietf:params:oauth:token-type:access_token",
        ));
    }
    if field(fields, "requested_token_type").is_some_and(|t| t != ACCESS_TOKEN_TYPE) {
        return Err(invalid_request(
            "only access tokens (urn:ietf:params:oauth:token-type:access_token) are issued",
        ));
    }
    if field(fields, "actor_token").is_some() {
        return Err(invalid_request(
            "delegation (`actor_token`) is not supported",
        ));
    }
    let subject = required("requested_subject")?;
    let requested = field(fields, "scope").filter(|s| !s.trim().is_empty());
    let now = state.clock.now();
    let exchanged =
        clients::exchange_for_contact(&state.db, client, subject_token, subject, requested, now)
            .await
            .map_err(server_error)?
            .map_err(|refusal| {
                match refusal {
        ExchangeRefusal::NotAPortal => oauth_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            "only a portal client (scope `portal`) may exchange tokens",
        ),
        ExchangeRefusal::InvalidSubjectToken => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the subject token is not a valid portal token of this client",
        ),
        ExchangeRefusal::InvalidTarget => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_target",
            "the requested subject is not a contact with portal access this client may act for",
        ),
        ExchangeRefusal::InvalidScope(why) => {
            oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", &why)
        }
    }
            })?;
    let body = json!({
        "access_token": exchanged.token.expose(),
        "issued_token_type": ACCESS_TOKEN_TYPE,
        "token_type": "Bearer",
        "expires_in": exchanged.expires_in.num_seconds(),
        "scope": exchanged.scopes.to_string(),
    });
    Ok(token_response(&body))
}

async fn revoke_token(
    state: AppState,
    peer: SocketAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let (client, fields) = authenticate(&state, peer, &headers, &body).await?;
    let token = field(&fields, "token").ok_or_else(|| invalid_request("`token` is required"))?;
    clients::revoke_token(&state.db, &client, token, state.clock.now())
        .await
        .map_err(server_error)?;
    crate::auth::cache::tokens_revoked(&state.db).await;
    Ok(StatusCode::OK.into_response())
}

fn server_error(error: sea_orm::DbErr) -> OAuthError {
    tracing::error!(error = %error, "token endpoint failed");
    oauth_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        "internal server error",
    )
}
