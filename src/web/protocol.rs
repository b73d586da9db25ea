//! Thin axum handlers for the machine-facing protocol endpoints: extract, call `oidc`, render.

use axum::{
    body::Bytes,
    extract::{FromRequest, Query, Request, State},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Serialize;

use super::client_addr::ClientAddr;
use crate::{
    app::App,
    oidc::{self, error::OAuthError, params::Params},
    throttle,
};

/// Renders an OAuth error as JSON with its status and challenge (RFC 6749 §5.2, RFC 6750 §3).
pub struct ApiError(pub OAuthError);

impl From<OAuthError> for ApiError {
    fn from(e: OAuthError) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::BAD_REQUEST);
        let mut resp = (status, no_store(), Json(&self.0)).into_response();
        // The OAuth error code is the `kind` of `pforte_http_errors_total`.
        resp.extensions_mut()
            .insert(crate::metrics::ErrorKind(self.0.error));
        if let Some(ch) = self
            .0
            .www_authenticate
            .as_deref()
            .and_then(|c| HeaderValue::from_str(c).ok())
        {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, ch);
        }
        resp
    }
}

/// RFC 6749 §5.1: token responses must not be cached.
fn no_store() -> [(header::HeaderName, &'static str); 2] {
    [
        (header::CACHE_CONTROL, "no-store"),
        (header::PRAGMA, "no-cache"),
    ]
}

fn json_no_store<T: Serialize>(v: &T) -> Response {
    (no_store(), Json(v)).into_response()
}

/// Parses an `application/x-www-form-urlencoded` body (RFC 6749 §3.2 requires that type).
pub fn form_params(headers: &HeaderMap, body: &Bytes) -> Result<Params, OAuthError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    {
        return Err(OAuthError::invalid_request(
            "the request body must be application/x-www-form-urlencoded",
        ));
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| OAuthError::invalid_request("the request body is not UTF-8"))?;
    Params::parse(text)
}

/// The parameters of an endpoint that takes them as a query (GET) or a form body (POST), as
/// the authorization endpoint (OIDC Core §3.1.2.1) and end_session do. Never rejects: a bad
/// request is carried as the error, for the handler to render as a page.
pub struct EndpointParams(pub Result<Params, OAuthError>);

impl<S: Send + Sync> FromRequest<S> for EndpointParams {
    type Rejection = std::convert::Infallible;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if req.method() != Method::POST {
            return Ok(EndpointParams(Params::parse(
                req.uri().query().unwrap_or(""),
            )));
        }
        let headers = req.headers().clone();
        Ok(EndpointParams(
            match Bytes::from_request(req, state).await {
                Ok(body) => form_params(&headers, &body),
                Err(_) => Err(OAuthError::invalid_request(
                    "the request body is too large or could not be read",
                )),
            },
        ))
    }
}

fn authorization(headers: &HeaderMap) -> Result<Option<&str>, OAuthError> {
    match headers.get(header::AUTHORIZATION) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .map(Some)
            .map_err(|_| OAuthError::invalid_request("malformed Authorization header")),
    }
}

pub async fn discovery(State(app): State<App>) -> Response {
    (
        [
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        Json(oidc::discovery::metadata(&app.config.issuer)),
    )
        .into_response()
}

pub async fn jwks(State(app): State<App>) -> Response {
    let ring = app.keys.snapshot().await;
    (
        [
            (header::CONTENT_TYPE, "application/jwk-set+json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        ring.jwks_json.to_string(),
    )
        .into_response()
}

/// The client-authenticated back-channel endpoints: each reads the form body, runs its one
/// `oidc` function throttled per client address ([`throttled`]) with the `Authorization`
/// header, and answers with `no-store`.
macro_rules! back_channel {
    ($($(#[$doc:meta])* $name:ident => $call:path, $answer:expr;)*) => {$(
        $(#[$doc])*
        pub async fn $name(
            State(app): State<App>,
            ClientAddr(addr): ClientAddr,
            headers: HeaderMap,
            body: Bytes,
        ) -> Result<Response, Response> {
            let p = form_params(&headers, &body).map_err(api)?;
            let out = throttled(&app, addr, async {
                $call(&app, authorization(&headers)?, &p).await
            })
            .await?;
            Ok($answer(out))
        }
    )*};
}

back_channel! {
    /// `POST /token` (RFC 6749 §3.2).
    token => oidc::token::token, |r| json_no_store(&r);
    /// `POST /introspect` (RFC 7662).
    introspect => oidc::introspect::introspect, |v| json_no_store(&v);
    /// `POST /revoke` (RFC 7009 §2.2: 200 whether or not the token was known).
    revoke => oidc::revoke::revoke, |()| (StatusCode::OK, no_store()).into_response();
}

fn api(e: OAuthError) -> Response {
    ApiError(e).into_response()
}

/// Brute-force throttling of client authentication per client address
/// ([`throttle::CLIENT_AUTH_ADDRESS`]): a locked address gets 429 with `Retry-After` and
/// `temporarily_unavailable` before any secret is hashed; every `invalid_client` answer counts
/// as a failure. Other addresses are not affected.
async fn throttled<T>(
    app: &App,
    addr: std::net::IpAddr,
    run: impl std::future::Future<Output = Result<T, OAuthError>>,
) -> Result<T, Response> {
    let key = throttle::address_key("client-auth", addr);
    let now = app.clock.now();
    let known_unlocked = app.unlocked.fresh(&key);
    match if known_unlocked {
        Ok(None)
    } else {
        throttle::locked_until(&app.db, &key, now).await
    } {
        Ok(Some(until)) => {
            crate::audit::record_or_log(
                &app.db,
                crate::audit::Entry::new(
                    crate::audit::Event::ClientAuthThrottled,
                    crate::audit::Actor::Anonymous,
                )
                .address(addr.to_string())
                .fields(serde_json::json!({ "until": until })),
            )
            .await;
            let mut e = OAuthError::temporarily_unavailable(
                "too many failed client authentications from this address; retry later",
            );
            e.status = 429;
            let mut resp = api(e);
            if let Ok(v) = HeaderValue::from_str(&(until - now).max(1).to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return Err(resp);
        }
        Ok(None) if !known_unlocked => app.unlocked.remember(&key),
        Ok(None) => {}
        Err(e) => return Err(api(OAuthError::from(e))),
    }
    let out = run.await;
    if let Err(e) = &out {
        if e.error == "invalid_client" {
            app.unlocked.forget(&key);
            if let Err(e) =
                throttle::reserve(&app.db, &throttle::CLIENT_AUTH_ADDRESS, &key, now).await
            {
                tracing::error!(error = %e, "counting a failed client authentication");
            }
        }
    }
    out.map_err(api)
}

/// Userinfo accepts the token in the Authorization header (RFC 6750 §2.1) or, for POST, in the
/// form body (§2.2), never both (§2: one method per request).
pub async fn userinfo_get(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    if q.iter().any(|(k, _)| k == "access_token") {
        return Err(OAuthError::invalid_request(
            "send the access token in the Authorization header",
        )
        .into());
    }
    let token = bearer(&headers)?.ok_or_else(OAuthError::no_token)?;
    Ok(json_no_store(&oidc::userinfo::userinfo(&app, token).await?))
}

pub async fn userinfo_post(
    State(app): State<App>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let header_token = bearer(&headers)?;
    let body_params = if body.is_empty() {
        Params::default()
    } else {
        form_params(&headers, &body)?
    };
    let token = match (header_token, body_params.get("access_token")) {
        (Some(_), Some(_)) => {
            return Err(OAuthError::invalid_request("access token sent twice").into())
        }
        (Some(t), None) | (None, Some(t)) => t.to_string(),
        (None, None) => return Err(OAuthError::no_token().into()),
    };
    Ok(json_no_store(
        &oidc::userinfo::userinfo(&app, &token).await?,
    ))
}

fn bearer(headers: &HeaderMap) -> Result<Option<&str>, OAuthError> {
    match authorization(headers)? {
        None => Ok(None),
        Some(h) => match h.split_once(' ') {
            Some((scheme, token))
                if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
            {
                Ok(Some(token.trim()))
            }
            _ => Err(OAuthError::invalid_token(
                "expected `Authorization: Bearer <token>`",
            )),
        },
    }
}
