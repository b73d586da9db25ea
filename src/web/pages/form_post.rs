//! The OAuth 2.0 Form Post Response Mode page.

use askama::Template;

use super::{fallback_page, finish, Chrome, Lang, SiteConfig};

/// OAuth 2.0 Form Post Response Mode: hidden fields auto-posted to the client.
#[derive(Clone, Debug, Default)]
pub struct FormPostPage {
    /// The client's (already validated) redirect URI. Must be `https:` or `http:`;
    /// anything else renders the fallback page instead.
    pub action: String,
    pub fields: Vec<(String, String)>,
    pub lang: Lang,
    /// CSP nonce for the inline auto-submit script (`script-src 'nonce-…'`). If empty, the
    /// "Weiter" button is shown visibly so the page still works.
    pub nonce: String,
}

#[derive(Template)]
#[template(path = "form_post.html")]
struct FormPostView<'a> {
    chrome: Chrome<'a>,
    p: &'a FormPostPage,
}

/// Whether a form_post target may be rendered as a form action at all.
fn is_http_url(s: &str) -> bool {
    let s = s.trim_start();
    let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

impl FormPostPage {
    pub fn render(&self, site: &SiteConfig) -> String {
        let lang = self.lang;
        if !is_http_url(&self.action) {
            return fallback_page(lang);
        }
        let view = FormPostView {
            chrome: Chrome::new(site, lang, lang.texts().formpost_title, false),
            p: self,
        };
        finish(&view, lang)
    }
}
