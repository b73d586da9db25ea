//! One error type for the citizen pages: [`PageError`].
//!
//! Owns: what a page handler answers when it cannot show its page. Handlers return
//! `Result<Response, PageError>` and use `?` on storage and session errors. The citizen sees a
//! readable error page in their language ([`pages::ErrorPage`]); an internal error is logged
//! at error level with a random reference id, and the page shows only that id (never the
//! internal message), so support can find the log line.
//!
//! A `PageError` becomes a response with its status and a minimal static body, and carries
//! itself as a response extension; [`render_error_pages`], a layer on the page routes, renders
//! the full page with the operator's footer links from the configuration. That way an error
//! raised deep in a handler (`?` on a store error) needs neither the configuration nor global
//! state. The language is the one the handler chose ([`PageError::in_lang`]) or else the
//! request's `Accept-Language`.

use std::time::Duration;

use axum::{
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{Html, IntoResponse, Response},
};

use super::{i18n::Lang, pages, session::SessionError};
use crate::{app::App, oidc::error::OAuthError, store::StoreError};

/// `Retry-After` of a 503 page (the database is back within seconds, or the request is
/// better sent to another instance).
const RETRY_AFTER_SECS: u64 = 2;

/// An internal error as a page in `lang`: logged with a reference id (see [`PageError::internal`]).
pub fn internal(lang: Lang, e: impl std::fmt::Display) -> Response {
    PageError::internal(e).in_lang(lang).into_response()
}

/// Why a page could not be shown; see the module documentation.
#[derive(Clone, Debug)]
pub struct PageError {
    status: StatusCode,
    /// Error code selecting the citizen-readable explanation (`server_error`, an OAuth code,
    /// or one of Pforte's own codes known to [`super::i18n::error_text`]).
    code: &'static str,
    /// Technical description for support; empty for internal errors.
    description: String,
    /// The reference id of a logged internal error.
    reference: Option<String>,
    lang: Option<Lang>,
    /// `Retry-After` in seconds.
    retry_after: Option<u64>,
}

impl PageError {
    /// An internal error: logged with a new reference id at error level; the page shows the id.
    pub fn internal(e: impl std::fmt::Display) -> PageError {
        let reference = crate::logging::error_reference();
        tracing::error!(reference = %reference, error = %e, "page failed with an internal error");
        PageError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "server_error",
            description: String::new(),
            reference: Some(reference),
            lang: None,
            retry_after: None,
        }
    }

    /// A protocol or request error shown as it is (its status, code and description).
    pub fn oauth(e: &OAuthError) -> PageError {
        PageError {
            status: StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
            code: e.error,
            description: e.error_description.clone(),
            reference: None,
            lang: None,
            retry_after: None,
        }
    }

    /// A form whose CSRF token does not match this session (expired session, other tab).
    pub fn form_expired() -> PageError {
        PageError::oauth(&OAuthError::invalid_request(
            "the form has expired; please try again",
        ))
    }

    /// The database (or another dependency) cannot be reached for now: 503 with
    /// `Retry-After` and the "please try again shortly" page; logged at warn level.
    pub fn unavailable(e: impl std::fmt::Display) -> PageError {
        let reference = crate::logging::error_reference();
        tracing::warn!(reference = %reference, error = %e, "page unavailable: database unreachable");
        PageError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "temporarily_unavailable",
            description: String::new(),
            reference: Some(reference),
            lang: None,
            retry_after: Some(RETRY_AFTER_SECS),
        }
    }

    /// Too many requests: 429 with `Retry-After`.
    pub fn too_many(description: &str, wait: Duration) -> PageError {
        PageError {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "too_many_requests",
            description: description.into(),
            reference: None,
            lang: None,
            retry_after: Some(wait.as_secs().max(1)),
        }
    }

    /// The page in this language (otherwise the request's `Accept-Language` decides).
    pub fn in_lang(mut self, lang: Lang) -> PageError {
        self.lang = Some(lang);
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The reference id of an internal error.
    pub fn reference(&self) -> Option<&str> {
        self.reference.as_deref()
    }

    /// The error page's data.
    pub fn page(&self, lang: Lang) -> pages::ErrorPage {
        pages::ErrorPage {
            lang,
            status: self.status.as_u16(),
            title: None,
            error: self.code.into(),
            description: self.description.clone(),
            reference: self.reference.clone(),
        }
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            PageError::unavailable(e)
        } else {
            PageError::internal(e)
        }
    }
}

impl From<SessionError> for PageError {
    fn from(e: SessionError) -> Self {
        PageError::internal(e)
    }
}

impl From<tower_sessions::session::Error> for PageError {
    fn from(e: tower_sessions::session::Error) -> Self {
        PageError::internal(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let lang = self.lang.unwrap_or_default();
        let mut res = (self.status, Html(pages::fallback_page(lang))).into_response();
        if let Some(secs) = self.retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res.extensions_mut().insert(self);
        res
    }
}

/// Layer on the page routes: renders the page of a [`PageError`] answer with the configured
/// footer links, in the error's language or the request's `Accept-Language`.
pub async fn render_error_pages(State(app): State<App>, req: Request, next: Next) -> Response {
    let accept = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut res = next.run(req).await;
    if let Some(e) = res.extensions_mut().remove::<PageError>() {
        let lang = e
            .lang
            .unwrap_or_else(|| Lang::negotiate(None, accept.as_deref()));
        let html = e.page(lang).render(&app.config.site);
        res.headers_mut().remove(header::CONTENT_LENGTH);
        *res.body_mut() = axum::body::Body::from(html);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_show_a_reference_not_the_message() {
        let e = PageError::internal("database password is hunter2");
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let reference = e.reference().expect("a reference id").to_string();
        let html = e
            .page(Lang::En)
            .render(&crate::config::SiteConfig::default());
        assert!(html.contains(&reference), "{html}");
        assert!(!html.contains("hunter2"));
        assert_ne!(
            PageError::internal("x").reference(),
            PageError::internal("x").reference()
        );
    }

    #[test]
    fn too_many_carries_retry_after() {
        let res = PageError::too_many("slow down", Duration::from_millis(10)).into_response();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(res.headers()[header::RETRY_AFTER], "1");
        assert!(res.extensions().get::<PageError>().is_some());
    }
}
