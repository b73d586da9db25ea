//! axum integration: the [`AccessToken`] extractor, the [`RequireLevel`] layer and the
//! [`Rejection`] they answer with.

use std::convert::Infallible;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use axum::extract::{FromRequestParts, OptionalFromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tower_layer::Layer;
use tower_service::Service;

use crate::challenge::{insufficient_scope, StepUp};
use crate::guard::Guard;
use crate::level::{check_level, Level};
use crate::validate::{Claims, TokenError, MAX_TOKEN_LEN};

/// A validated access token, extracted from `Authorization: Bearer …` (RFC 6750 §2.1).
///
/// Derefs to [`Claims`]. Needs a [`Guard`] in the request extensions
/// (`.layer(axum::Extension(guard))`). A token already validated by [`RequireLevel`] (or an
/// earlier extractor) on the same request is reused, not validated again.
///
/// As `Option<AccessToken>` it yields `None` for a request without a bearer token and still
/// refuses an invalid one.
#[derive(Clone, Debug)]
pub struct AccessToken {
    claims: Arc<Claims>,
    guard: Guard,
}

impl AccessToken {
    /// The token's claims.
    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    /// Demands at least `level`; on failure the RFC 9470 step-up challenge, ready to return
    /// from the handler.
    pub fn require(&self, level: Level) -> Result<(), Rejection> {
        self.check(level, None)
    }

    /// Demands at least `level` reached within the last `max_age`.
    pub fn require_fresh(&self, level: Level, max_age: Duration) -> Result<(), Rejection> {
        self.check(level, Some(max_age))
    }

    /// Demands a granted scope; on failure `403 insufficient_scope` (RFC 6750 §3.1).
    pub fn require_scope(&self, scope: &str) -> Result<(), Rejection> {
        if self.claims.has_scope(scope) {
            Ok(())
        } else {
            Err(Rejection::new(
                self.guard.realm_arc(),
                Reason::InsufficientScope(scope.to_owned()),
            ))
        }
    }

    fn check(&self, level: Level, max_age: Option<Duration>) -> Result<(), Rejection> {
        check_level(&self.claims, level, max_age, SystemTime::now()).map_err(|step_up| {
            let step_up = step_up.with_vocabulary(self.guard.vocabulary());
            Rejection::new(self.guard.realm_arc(), Reason::StepUp(step_up))
        })
    }
}

impl Deref for AccessToken {
    type Target = Claims;
    fn deref(&self) -> &Claims {
        &self.claims
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AccessToken {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Rejection> {
        authenticate(parts).await
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for AccessToken {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Rejection> {
        match authenticate(parts).await {
            Ok(token) => Ok(Some(token)),
            Err(Rejection {
                reason: Reason::Token(TokenError::Missing),
                ..
            }) => Ok(None),
            Err(rejection) => Err(rejection),
        }
    }
}

/// Validates the request's bearer token once and caches the result in the extensions.
async fn authenticate(parts: &mut Parts) -> Result<AccessToken, Rejection> {
    if let Some(token) = parts.extensions.get::<AccessToken>() {
        return Ok(token.clone());
    }
    let Some(guard) = parts.extensions.get::<Guard>().cloned() else {
        return Err(Rejection::new(None, Reason::NoGuard));
    };
    let refuse = |e: TokenError| {
        // Never log the token itself; the reason is enough.
        tracing::debug!(reason = %e, "pforte-guard: access token refused");
        Rejection::new(guard.realm_arc(), Reason::Token(e))
    };
    let token = bearer_token(&parts.headers).map_err(refuse)?;
    let claims = guard.validate(token).await.map_err(refuse)?;
    let token = AccessToken {
        claims: Arc::new(claims),
        guard,
    };
    parts.extensions.insert(token.clone());
    Ok(token)
}

/// The credentials of the single `Authorization: Bearer` header (RFC 6750 §2.1; the scheme
/// is case-insensitive, RFC 9110 §11.1). Another scheme counts as no token.
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, TokenError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(if headers.contains_key(AUTHORIZATION) {
            TokenError::InvalidRequest
        } else {
            TokenError::Missing
        });
    };
    let value = value.to_str().map_err(|_| TokenError::InvalidRequest)?;
    let (scheme, credentials) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(TokenError::Missing);
    }
    let credentials = credentials.trim_matches(' ');
    // RFC 6750 §2.1 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
    let b64token = !credentials.is_empty()
        && credentials.len() <= MAX_TOKEN_LEN
        && credentials
            .trim_end_matches('=')
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b));
    if b64token {
        Ok(credentials)
    } else {
        Err(TokenError::InvalidRequest)
    }
}

/// A refused request, rendered as the matching status and `WWW-Authenticate` challenge.
#[derive(Debug, thiserror::Error)]
#[error("{reason}")]
pub struct Rejection {
    realm: Option<Arc<str>>,
    reason: Reason,
}

/// Why a [`Rejection`] was made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Reason {
    /// Missing or invalid token: `401` (or `400 invalid_request`, `503` when keys are
    /// unavailable).
    #[error(transparent)]
    Token(TokenError),
    /// Valid token, insufficient authentication: `401` RFC 9470 challenge.
    #[error(transparent)]
    StepUp(StepUp),
    /// Valid token without a needed scope: `403 insufficient_scope`.
    #[error("scope {0} required")]
    InsufficientScope(String),
    /// No [`Guard`] in the request extensions: a wiring mistake, answered `500`.
    #[error("no pforte_guard::Guard in the request extensions; add .layer(Extension(guard))")]
    NoGuard,
}

impl Rejection {
    fn new(realm: Option<Arc<str>>, reason: Reason) -> Self {
        Rejection { realm, reason }
    }

    /// Why the request was refused.
    pub fn reason(&self) -> &Reason {
        &self.reason
    }

    /// The HTTP status this rejection answers with.
    pub fn status(&self) -> StatusCode {
        match &self.reason {
            Reason::Token(TokenError::InvalidRequest) => StatusCode::BAD_REQUEST,
            Reason::Token(TokenError::KeysUnavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
            Reason::Token(_) | Reason::StepUp(_) => StatusCode::UNAUTHORIZED,
            Reason::InsufficientScope(_) => StatusCode::FORBIDDEN,
            Reason::NoGuard => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `WWW-Authenticate` value, if this rejection carries a challenge.
    pub fn www_authenticate(&self) -> Option<String> {
        let realm = self.realm.as_deref();
        match &self.reason {
            Reason::Token(TokenError::KeysUnavailable(_)) | Reason::NoGuard => None,
            Reason::Token(e) => Some(e.www_authenticate(realm)),
            Reason::StepUp(s) => Some(s.www_authenticate(realm)),
            Reason::InsufficientScope(scope) => Some(insufficient_scope(realm, scope)),
        }
    }
}

impl From<StepUp> for Rejection {
    fn from(step_up: StepUp) -> Self {
        Rejection::new(None, Reason::StepUp(step_up))
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        match &self.reason {
            Reason::NoGuard => tracing::error!("pforte-guard: {}", self.reason),
            Reason::Token(e @ TokenError::KeysUnavailable(_)) => {
                tracing::warn!(error = %e, "pforte-guard: cannot validate tokens");
            }
            _ => {}
        }
        let mut response = self.status().into_response();
        if let Some(challenge) = self.www_authenticate() {
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                response.headers_mut().insert(WWW_AUTHENTICATE, value);
            }
        }
        let error = match &self.reason {
            Reason::Token(e) => e.error_code(),
            Reason::StepUp(_) => Some("insufficient_user_authentication"),
            Reason::InsufficientScope(_) => Some("insufficient_scope"),
            Reason::NoGuard => None,
        };
        if let Some(error) = error {
            let body = serde_json::json!({
                "error": error,
                "error_description": self.reason.to_string(),
            });
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            *response.body_mut() = body.to_string().into();
        }
        response
    }
}

impl IntoResponse for StepUp {
    fn into_response(self) -> Response {
        Rejection::from(self).into_response()
    }
}

/// A tower layer that lets a request through only with a valid token of at least `level`
/// (and, optionally, an authentication no older than `max_age`); otherwise it answers with
/// the [`Rejection`] (RFC 9470 step-up challenge for a valid but insufficient token).
///
/// ```no_run
/// # use axum::{routing::post, Router, Extension};
/// # use pforte_guard::{Guard, Level, RequireLevel};
/// # use std::time::Duration;
/// # async fn pay() {}
/// # fn app(guard: Guard) -> Router {
/// Router::new()
///     .route(
///         "/payment",
///         post(pay).route_layer(
///             RequireLevel::new(Level::Substantial).max_age(Duration::from_secs(30 * 60)),
///         ),
///     )
///     .layer(Extension(guard))
/// # }
/// ```
#[derive(Clone, Copy, Debug)]
#[must_use]
pub struct RequireLevel {
    level: Level,
    max_age: Option<Duration>,
}

impl RequireLevel {
    /// Demands at least `level`.
    pub fn new(level: Level) -> Self {
        RequireLevel {
            level,
            max_age: None,
        }
    }

    /// Also demands that the authentication is at most `max_age` old.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }
}

impl<S> Layer<S> for RequireLevel {
    type Service = RequireLevelService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RequireLevelService {
            inner,
            policy: *self,
        }
    }
}

/// The service [`RequireLevel`] wraps around a route.
#[derive(Clone, Debug)]
pub struct RequireLevelService<S> {
    inner: S,
    policy: RequireLevel,
}

impl<S> Service<Request> for RequireLevelService<S>
where
    S: Service<Request, Error = Infallible> + Clone + Send + 'static,
    S::Response: IntoResponse,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        // The clone is not ready; swap so the service polled ready is the one called.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let policy = self.policy;
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            let checked = match authenticate(&mut parts).await {
                Ok(token) => token.check(policy.level, policy.max_age),
                Err(rejection) => Err(rejection),
            };
            if let Err(rejection) = checked {
                return Ok(rejection.into_response());
            }
            let response = inner.call(Request::from_parts(parts, body)).await?;
            Ok(response.into_response())
        })
    }
}
