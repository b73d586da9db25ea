//! The error page shown instead of a redirect.

use askama::Template;

use super::{finish, i18n, Chrome, Lang, SiteConfig};

/// An error shown to the citizen instead of redirecting (the redirect URI is not trusted).
#[derive(Clone, Debug, Default)]
pub struct ErrorPage {
    pub lang: Lang,
    /// HTTP status (shown for support; the handler sets the response status itself).
    pub status: u16,
    /// Overrides the heading chosen from `error`.
    pub title: Option<String>,
    /// Error code such as `invalid_request`; selects the citizen-readable explanation.
    pub error: String,
    /// Technical description, shown small for support.
    pub description: String,
    /// The reference id under which an internal error was logged, shown for support.
    pub reference: Option<String>,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorView<'a> {
    chrome: Chrome<'a>,
    p: &'a ErrorPage,
    heading: String,
    body: &'static str,
}

impl ErrorPage {
    pub fn render(&self, site: &SiteConfig) -> String {
        let lang = self.lang;
        let text = i18n::error_text(lang, &self.error, self.status);
        let heading = match &self.title {
            Some(title) if !title.trim().is_empty() => title.clone(),
            _ => text.title.to_string(),
        };
        let view = ErrorView {
            chrome: Chrome::new(site, lang, &heading, false),
            p: self,
            heading: heading.clone(),
            body: text.body,
        };
        finish(&view, lang)
    }
}
