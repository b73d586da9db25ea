//! The citizen's account overview.

use askama::Template;

use super::{fill, finish, i18n, Chrome, Lang, SiteConfig};

/// One service the citizen has given consent to.
#[derive(Clone, Debug, Default)]
pub struct ConsentRow {
    pub client_name: String,
    pub scopes: Vec<String>,
    /// Already formatted for `lang` (e.g. "3. März 2025").
    pub granted_at: String,
    /// POST URL revoking this consent (form posts `csrf`).
    pub revoke_action: String,
}

/// The citizen's account overview.
#[derive(Clone, Debug, Default)]
pub struct AccountPage {
    pub lang: Lang,
    pub display_name: String,
    pub email: String,
    /// The assurance level in words (see [`i18n::level_label`]).
    pub level_label: String,
    pub csrf: String,
    pub logout_action: String,
    pub consents: Vec<ConsentRow>,
}

struct ConsentRowView<'a> {
    row: &'a ConsentRow,
    data: String,
    revoke_for: String,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountView<'a> {
    chrome: Chrome<'a>,
    s: &'static i18n::SecurityTexts,
    p: &'a AccountPage,
    consents: Vec<ConsentRowView<'a>>,
    f: &'static i18n::FederationTexts,
}

impl AccountPage {
    pub fn render(&self, site: &SiteConfig) -> String {
        let lang = self.lang;
        let t = lang.texts();
        let consents = self
            .consents
            .iter()
            .map(|row| ConsentRowView {
                row,
                data: row
                    .scopes
                    .iter()
                    .flat_map(|s| s.split_whitespace())
                    .map(|s| i18n::scope_label(lang, s))
                    .collect::<Vec<_>>()
                    .join(", "),
                revoke_for: fill(t.account_revoke_for, "client", &row.client_name),
            })
            .collect();
        let view = AccountView {
            chrome: Chrome::new(site, lang, t.account_title, false),
            s: i18n::security_texts(lang),
            p: self,
            consents,
            f: i18n::federation_texts(lang),
        };
        finish(&view, lang)
    }
}
