//! Answers when Pforte cannot serve a request right now: overload and an unreachable database.
//!
//! Owns:
//! - the concurrency bound per endpoint class ([`limit`]: tower's `GlobalConcurrencyLimit`
//!   behind `LoadShed`): a request beyond the bound is answered at once with 503 and
//!   `Retry-After` (a readable page on the citizen pages, `temporarily_unavailable` JSON on
//!   the machine endpoints) instead of waiting in an unbounded queue. The operations
//!   endpoints (`/healthz`, `/readyz`, `/metrics`) are not bounded, so probes still answer.
//! - the safety net [`unavailable`]: an answer that would be a 500 while the database does not
//!   answer becomes a 503 with `Retry-After` (errors that already know they are
//!   "unavailable" are mapped where they arise: `From<StoreError>` for `PageError` and
//!   `OAuthError`); every 503 carries `Retry-After`.

use std::time::Duration;

use axum::{
    error_handling::HandleErrorLayer,
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Json, Router,
};
use tower::{limit::GlobalConcurrencyLimitLayer, load_shed::LoadShedLayer, ServiceBuilder};

use super::error::PageError;
use crate::{app::App, metrics::ErrorKind, oidc::error::OAuthError};

/// How an endpoint class answers when it refuses a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A citizen page: the "please try again shortly" page.
    Page,
    /// A machine endpoint: OAuth `temporarily_unavailable` JSON.
    Json,
}

/// How long the database may take to answer the safety net's ping.
const PING_TIMEOUT: Duration = Duration::from_secs(1);

/// Bounds `router` to `max` requests at once; the excess is refused at once (see module doc).
pub fn limit<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    max: u32,
    retry_after_secs: u64,
    answer: Answer,
) -> Router<S> {
    router.layer(
        ServiceBuilder::new()
            .layer(HandleErrorLayer::new(
                move |_: tower::BoxError| async move { overloaded(answer, retry_after_secs) },
            ))
            .layer(LoadShedLayer::new())
            .layer(GlobalConcurrencyLimitLayer::new(max as usize)),
    )
}

/// The answer to a request refused for overload.
pub fn overloaded(answer: Answer, retry_after_secs: u64) -> Response {
    tracing::warn!("request refused: too many requests in flight for its endpoint class");
    let mut res = match answer {
        Answer::Page => PageError::unavailable("overloaded").into_response(),
        Answer::Json => json_unavailable("too many requests in flight; please retry"),
    };
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    res.extensions_mut().insert(ErrorKind("overloaded"));
    res
}

fn json_unavailable(description: &str) -> Response {
    let e = OAuthError::temporarily_unavailable(description);
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::CACHE_CONTROL, "no-store")],
        Json(&e),
    )
        .into_response()
}

/// Middleware on the whole router: a 500 while the database does not answer becomes a 503
/// (page or JSON, after the answer's content type); every 503 gets `Retry-After`.
pub async fn unavailable(State(app): State<App>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    if res.status() == StatusCode::INTERNAL_SERVER_ERROR && !database_answers(&app).await {
        let html = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"));
        res = if html {
            let page = PageError::unavailable("a 500 while the database does not answer");
            let lang = super::i18n::Lang::default();
            let body = page.page(lang).render(&app.config.site);
            let mut r =
                (StatusCode::SERVICE_UNAVAILABLE, axum::response::Html(body)).into_response();
            r.extensions_mut()
                .insert(ErrorKind("temporarily_unavailable"));
            r
        } else {
            json_unavailable("the service is briefly unavailable; please retry")
        };
    }
    if res.status() == StatusCode::SERVICE_UNAVAILABLE
        && !res.headers().contains_key(header::RETRY_AFTER)
    {
        res.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(app.config.limits.retry_after_secs),
        );
    }
    res
}

async fn database_answers(app: &App) -> bool {
    matches!(
        tokio::time::timeout(PING_TIMEOUT, app.db.ping()).await,
        Ok(Ok(()))
    )
}
