//! Answers when Pforte cannot serve a request right now: overload and an unreachable database.
//!
//! Owns:
//! - the concurrency bound per endpoint class ([`limit`]: tower's `GlobalConcurrencyLimit`
//!   behind `LoadShed`): a request beyond the bound is answered at once with 503 and
//!   `Retry-After` (a readable page on the citizen pages, `temporarily_unavailable` JSON on
//!   the machine endpoints) instead of waiting in an unbounded queue. The operations
//!   endpoints (`/healthz`, `/readyz`, `/metrics`) are not bounded, so probes still answer.
//! - the safety net [`settle`] (run on every answer by `web::operations::track`): an answer that would be a 500 while the database does not
//!   answer becomes a 503 with `Retry-After` (errors that already know they are
//!   "unavailable" are mapped where they arise: `From<StoreError>` for `PageError` and
//!   `OAuthError`); every 503 carries `Retry-After`.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use axum::{
    error_handling::HandleErrorLayer,
    http::{header, HeaderValue, StatusCode},
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
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    if let Some(refused) = REFUSALS.count(now) {
        tracing::warn!(
            refused,
            "requests refused: too many requests in flight for their endpoint class"
        );
    }
    let mut res = match answer {
        Answer::Page => PageError::unavailable("overloaded").into_response(),
        Answer::Json => json_unavailable("too many requests in flight; please retry"),
    };
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    res.extensions_mut().insert(ErrorKind("overloaded"));
    res
}

/// Refusals counted for the log: under overload a warning per refused request would add a
/// log write to every refusal (and flood the log); instead one line a second says how many
/// were refused since the last line. Every refusal is still in the access log line and in
/// `pforte_http_errors_total{kind="overloaded"}`.
static REFUSALS: RefusalLog = RefusalLog::new();

struct RefusalLog {
    /// The second of the last warning, and the refusals since then.
    second: AtomicU64,
    since: AtomicU64,
}

impl RefusalLog {
    const fn new() -> RefusalLog {
        RefusalLog {
            second: AtomicU64::new(0),
            since: AtomicU64::new(0),
        }
    }

    /// Counts one refusal at Unix second `now`; returns how many to report when a line is
    /// due (the first refusal in a new second), `None` otherwise.
    fn count(&self, now: u64) -> Option<u64> {
        self.since.fetch_add(1, Ordering::Relaxed);
        let last = self.second.load(Ordering::Relaxed);
        (now > last
            && self
                .second
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok())
        .then(|| self.since.swap(0, Ordering::Relaxed))
    }
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

/// The safety net for every answer: a 500 while the database does not answer becomes a 503
/// (page or JSON, after the answer's content type); every 503 gets `Retry-After`.
pub async fn settle(app: &App, mut res: Response) -> Response {
    if res.status() == StatusCode::INTERNAL_SERVER_ERROR && !database_answers(app).await {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_logged_once_a_second_with_their_count() {
        let log = RefusalLog::new();
        assert_eq!(log.count(100), Some(1));
        assert_eq!(log.count(100), None);
        assert_eq!(log.count(100), None);
        // The first refusal of a later second reports the two held back and itself.
        assert_eq!(log.count(101), Some(3));
        assert_eq!(log.count(101), None);
        assert_eq!(log.count(105), Some(2));
    }
}
