//! The logout confirmation and the "you are logged out" page.

use askama::Template;

use super::{fill, finish, Chrome, Lang, SiteConfig};

/// Confirmation of RP-initiated logout without a valid `id_token_hint`.
#[derive(Clone, Debug, Default)]
pub struct LogoutPage {
    pub lang: Lang,
    pub action: String,
    pub csrf: String,
    pub client_name: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub id_token_hint: Option<String>,
    pub client_id: Option<String>,
}

/// "Sie sind abgemeldet".
#[derive(Clone, Debug, Default)]
pub struct LoggedOutPage {
    pub lang: Lang,
}

struct HiddenField {
    name: &'static str,
    value: String,
}

#[derive(Template)]
#[template(path = "logout.html")]
struct LogoutView<'a> {
    chrome: Chrome<'a>,
    p: &'a LogoutPage,
    client_line: Option<String>,
    hidden: Vec<HiddenField>,
}

#[derive(Template)]
#[template(path = "logged_out.html")]
struct LoggedOutView<'a> {
    chrome: Chrome<'a>,
}

impl LogoutPage {
    pub fn render(&self, site: &SiteConfig) -> String {
        let lang = self.lang;
        let t = lang.texts();
        let mut hidden = Vec::new();
        for (name, value) in [
            ("post_logout_redirect_uri", &self.post_logout_redirect_uri),
            ("state", &self.state),
            ("id_token_hint", &self.id_token_hint),
            ("client_id", &self.client_id),
        ] {
            if let Some(v) = value {
                hidden.push(HiddenField {
                    name,
                    value: v.clone(),
                });
            }
        }
        let client_line = self
            .client_name
            .as_deref()
            .filter(|n| !n.trim().is_empty())
            .map(|n| fill(t.logout_client, "client", n));
        let view = LogoutView {
            chrome: Chrome::new(site, lang, t.logout_title, false),
            p: self,
            client_line,
            hidden,
        };
        finish(&view, lang)
    }
}

impl LoggedOutPage {
    pub fn render(&self, site: &SiteConfig) -> String {
        let view = LoggedOutView {
            chrome: Chrome::new(site, self.lang, self.lang.texts().logged_out_title, false),
        };
        finish(&view, self.lang)
    }
}
