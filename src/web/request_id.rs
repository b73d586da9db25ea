//! Request ids: one per request, in every log line of it, in the `X-Request-Id` response
//! header and as the reference of error pages and `server_error` answers.
//!
//! Owns: where the id comes from ([`trust_incoming`]: an incoming `X-Request-Id` is taken only
//! from a trusted proxy, otherwise replaced by a fresh random id), the `request` span every
//! request is served in (method, route path without the query, id), and the one log line per
//! answered request (status and latency). Built from tower-http's `SetRequestIdLayer`,
//! `PropagateRequestIdLayer` and `TraceLayer`.

use std::time::Duration;

use axum::{
    extract::Request,
    http::{HeaderName, HeaderValue},
    middleware::Next,
    response::Response,
    Router,
};
use tower_http::{
    request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    trace::TraceLayer,
};

/// `X-Request-Id`.
pub static HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Whether an incoming `X-Request-Id` may be kept: only when the TCP peer is a trusted reverse
/// proxy (`trusted_proxies`, `PFORTE_TRUSTED_PROXIES`; the one rule of `web::client_addr`).
pub fn trust_incoming(req: &Request, trusted: &[ipnet::IpNet]) -> bool {
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|axum::extract::ConnectInfo(a)| a.ip());
    super::client_addr::believes_headers(peer, trusted)
}

/// Whether a value is acceptable as a request id from a trusted proxy: 1 to 128 characters of
/// `[A-Za-z0-9._:-]` (UUIDs, trace ids), so a log line cannot be forged through it.
pub fn well_formed(v: &HeaderValue) -> bool {
    let b = v.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b':'))
}

/// A fresh random id (16 URL-safe characters, 96 bits).
#[derive(Clone, Copy, Default)]
struct NewId;

impl MakeRequestId for NewId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&crate::secrets::random_token(12))
            .ok()
            .map(RequestId::new)
    }
}

/// Drops an incoming `X-Request-Id` unless [`trust_incoming`] and [`well_formed`] accept it,
/// so that `SetRequestIdLayer` (which keeps a present header) makes a fresh one.
async fn strip_untrusted(
    trusted: std::sync::Arc<Vec<ipnet::IpNet>>,
    mut req: Request,
    next: Next,
) -> Response {
    let keep = req
        .headers()
        .get(&HEADER)
        .is_some_and(|v| well_formed(v) && trust_incoming(&req, &trusted));
    if !keep {
        req.headers_mut().remove(&HEADER);
    }
    next.run(req).await
}

/// Makes the id the task's current request id (`crate::logging::request_id`), for error
/// references.
async fn scope(req: Request, next: Next) -> Response {
    let id = req
        .extensions()
        .get::<RequestId>()
        .and_then(|r| r.header_value().to_str().ok())
        .unwrap_or_default()
        .to_owned();
    crate::logging::with_request_id(id, next.run(req)).await
}

fn span(req: &Request) -> tracing::Span {
    let id = req
        .extensions()
        .get::<RequestId>()
        .and_then(|r| r.header_value().to_str().ok())
        .unwrap_or_default();
    // The path only: the query carries codes, tokens and states.
    tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %req.uri().path(),
    )
}

/// Wraps the whole router (outermost but for the security headers).
pub fn layer<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    trusted: Vec<ipnet::IpNet>,
) -> Router<S> {
    let trusted = std::sync::Arc::new(trusted);
    router
        .layer(PropagateRequestIdLayer::new(HEADER.clone()))
        .layer(axum::middleware::from_fn(scope))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(span)
                .on_request(())
                .on_response(|res: &Response, latency: Duration, _span: &tracing::Span| {
                    tracing::info!(
                        status = res.status().as_u16(),
                        latency_ms = latency.as_secs_f64() * 1000.0,
                        "answered"
                    );
                })
                .on_failure(()),
        )
        .layer(SetRequestIdLayer::new(HEADER.clone(), NewId))
        .layer(axum::middleware::from_fn(move |req, next| {
            strip_untrusted(trusted.clone(), req, next)
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_ids_are_well_formed() {
        for ok in ["abc", "0f8e2b4c-1d2e-4f00-9a1b-2c3d4e5f6a7b", "trace:1.2_3"] {
            assert!(well_formed(&HeaderValue::from_static(ok)), "{ok}");
        }
        for bad in ["", "a b", "x\"y", "line\tfeed", &"a".repeat(129)] {
            assert!(!well_formed(&HeaderValue::from_str(bad).unwrap()), "{bad}");
        }
    }
}
