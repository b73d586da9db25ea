//! The operations endpoints: `/healthz` (alive), `/readyz` (ready for traffic), `/metrics`
//! (Prometheus), and the middleware that counts every request by route template. What they
//! check and export is described in docs/operations.md ("Metrics, health and readiness").

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request, State},
    http::{header, HeaderMap, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Json,
};

use crate::{
    app::App,
    metrics::{ErrorKind, Format, PoolUse},
    readiness,
    web::resilience,
};

/// How long a load balancer should wait before asking `/readyz` again after a 503.
const RETRY_AFTER_SECS: &str = "5";

/// The `endpoint` label of a request that matched no route.
const UNMATCHED: &str = "unmatched";

/// `GET /healthz`: the process runs and answers HTTP; nothing else is checked.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: 200 when every readiness check passes, otherwise 503 with `Retry-After`
/// and the failed checks named in the JSON body.
pub async fn readyz(State(app): State<App>) -> Response {
    let report = readiness::check(&app).await;
    if report.ready {
        (StatusCode::OK, Json(report)).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, RETRY_AFTER_SECS)],
            Json(report),
        )
            .into_response()
    }
}

/// `GET /metrics`: the registry in the Prometheus text format (OpenMetrics if asked for),
/// behind `metrics.bearer_token` when it is configured.
pub async fn metrics(State(app): State<App>, headers: HeaderMap) -> Response {
    if let Some(expected) = &app.config.metrics.bearer_token {
        if !bearer_matches(&headers, expected) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\"")],
                "a bearer token is required for /metrics",
            )
                .into_response();
        }
    }
    let format = Format::from_accept(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()));
    let body = app.metrics.render(PoolUse::of(&app.db.pool), format);
    ([(header::CONTENT_TYPE, format.content_type())], body).into_response()
}

/// Whether the request carries `Authorization: Bearer <expected>` (constant-time comparison).
fn bearer_matches(headers: &HeaderMap, expected: &str) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .is_some_and(|t| crate::secrets::ct_eq(t.trim().as_bytes(), expected.as_bytes()))
}

/// Middleware: passes the answer through the database safety net ([`resilience::settle`]),
/// then counts the request and its latency under its route template (axum's `MatchedPath`,
/// never the raw path, so the label values are bounded by the route table). One middleware
/// for both: each `from_fn` layer costs a clone of the stack below it per request.
pub async fn track(State(app): State<App>, req: Request, next: Next) -> Response {
    let endpoint = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let start = Instant::now();
    let resp = resilience::settle(&app, next.run(req).await).await;
    app.metrics.http_request(
        endpoint.as_deref().unwrap_or(UNMATCHED),
        resp.status().as_u16(),
        resp.extensions().get::<ErrorKind>().copied(),
        start.elapsed(),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_token_must_match_exactly() {
        let mut h = HeaderMap::new();
        assert!(!bearer_matches(&h, "secret-token"));
        h.insert(
            header::AUTHORIZATION,
            "Bearer secret-token".parse().unwrap(),
        );
        assert!(bearer_matches(&h, "secret-token"));
        assert!(!bearer_matches(&h, "secret-token2"));
        h.insert(header::AUTHORIZATION, "Basic secret-token".parse().unwrap());
        assert!(!bearer_matches(&h, "secret-token"));
    }
}
