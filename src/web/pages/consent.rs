//! The consent page: which service asks for which data.

use askama::Template;

use super::{fill, finish, i18n, Chrome, Lang, SiteConfig};

/// The consent screen (`POST action` with `decision=allow|deny`, `csrf`, `req`).
#[derive(Clone, Debug, Default)]
pub struct ConsentPage {
    pub lang: Lang,
    pub client_name: String,
    /// Requested scopes, e.g. `openid profile email`; unknown ones are shown as-is.
    pub scopes: Vec<String>,
    pub action: String,
    pub csrf: String,
    pub req: String,
}

struct ScopeView {
    label: String,
    description: &'static str,
    code: String,
}

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentView<'a> {
    chrome: Chrome<'a>,
    p: &'a ConsentPage,
    lead: String,
    scopes: Vec<ScopeView>,
}

impl ConsentPage {
    pub fn render(&self, site: &SiteConfig) -> String {
        let lang = self.lang;
        let t = lang.texts();
        let mut seen = Vec::<&str>::new();
        let mut scopes = Vec::new();
        for s in self.scopes.iter().flat_map(|s| s.split_whitespace()) {
            if seen.contains(&s) {
                continue;
            }
            seen.push(s);
            scopes.push(match i18n::scope_text(lang, s) {
                Some((label, description)) => ScopeView {
                    label: label.into(),
                    description,
                    code: s.into(),
                },
                None => ScopeView {
                    label: fill(t.consent_unknown_scope, "scope", s),
                    description: t.consent_unknown_scope_description,
                    code: s.into(),
                },
            });
        }
        let view = ConsentView {
            chrome: Chrome::new(site, lang, t.consent_title, false),
            p: self,
            lead: fill(t.consent_lead, "client", &self.client_name),
            scopes,
        };
        finish(&view, lang)
    }
}
