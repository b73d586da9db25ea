//! Federation pages: the source buttons on the login and step-up pages, the linked sources,
//! the link confirmation, and the failure page of an upstream login.

use askama::Template;

use super::{fill, finish, i18n, Chrome, Lang, SiteConfig};

/// An upstream source the page offers (a form posting to `/upstream/{id}/start`).
#[derive(Clone, Debug, Default)]
pub struct SourceOption {
    pub id: String,
    /// Display name ("Servicekonto.NRW").
    pub name: String,
    /// Pforte's name of the level a login through it reaches (its trust cap).
    pub level: String,
}

/// What the source buttons of a page post (besides `csrf`).
#[derive(Clone, Debug, Default)]
pub struct SourceForms {
    pub csrf: String,
    pub req: String,
    /// `login`, `step_up` or `link`.
    pub purpose: String,
    /// The level the step-up needs (empty: none).
    pub level: String,
    pub sources: Vec<SourceOption>,
}

/// One button as the templates see it.
pub(super) struct SourceView {
    pub action: String,
    pub label: String,
    pub reaches: String,
    pub high: bool,
}

impl SourceForms {
    pub(super) fn views(&self, lang: Lang, button: &'static str) -> Vec<SourceView> {
        let f = i18n::federation_texts(lang);
        self.sources
            .iter()
            .map(|s| SourceView {
                action: format!("/upstream/{}/start", s.id),
                label: fill(button, "name", &s.name),
                reaches: fill(f.reaches, "level", i18n::level_name(lang, &s.level)),
                high: s.level == "high",
            })
            .collect()
    }
}

/// Why an upstream login failed, as the citizen reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpstreamFailure {
    Unreachable,
    Cancelled,
    Invalid,
    TooLow,
    State,
    LinkedElsewhere,
    LastWay,
    NotOffered,
}

/// The failure page: what happened, nothing was changed, the way back.
#[derive(Clone, Debug)]
pub struct UpstreamErrorPage {
    pub lang: Lang,
    pub failure: UpstreamFailure,
    /// The source's display name.
    pub name: String,
    /// The level that was asked for (for `TooLow`).
    pub level: String,
    /// A short code for support (the audit's failure kind).
    pub code: String,
    pub back_url: String,
    /// Whether the way back leads to the account (else to the login).
    pub back_to_account: bool,
}

#[derive(Template)]
#[template(path = "upstream_error.html")]
struct UpstreamErrorView<'a> {
    chrome: Chrome<'a>,
    f: &'static i18n::FederationTexts,
    p: &'a UpstreamErrorPage,
    heading: &'static str,
    body: String,
}

impl UpstreamErrorPage {
    pub fn render(&self, site: &SiteConfig) -> String {
        let lang = self.lang;
        let f = i18n::federation_texts(lang);
        let (heading, body) = match self.failure {
            UpstreamFailure::Unreachable => (f.error_unreachable_title, f.error_unreachable_body),
            UpstreamFailure::Cancelled => (f.error_cancelled_title, f.error_cancelled_body),
            UpstreamFailure::Invalid => (f.error_invalid_title, f.error_invalid_body),
            UpstreamFailure::TooLow => (f.error_too_low_title, f.error_too_low_body),
            UpstreamFailure::State => (f.error_state_title, f.error_state_body),
            UpstreamFailure::LinkedElsewhere => (
                f.error_linked_elsewhere_title,
                f.error_linked_elsewhere_body,
            ),
            UpstreamFailure::LastWay => (f.error_last_way_title, f.error_last_way_body),
            UpstreamFailure::NotOffered => (f.error_not_offered_title, f.error_not_offered_body),
        };
        let body = fill(
            &fill(body, "name", &self.name),
            "level",
            i18n::level_name(lang, &self.level),
        );
        let view = UpstreamErrorView {
            chrome: Chrome::new(site, lang, heading, false),
            f,
            p: self,
            heading,
            body,
        };
        finish(&view, lang)
    }
}

/// One linked identity on the linked-sources page.
#[derive(Clone, Debug, Default)]
pub struct LinkRow {
    pub name: String,
    /// Already formatted for `lang`.
    pub since: String,
    /// POST URL removing the link (form posts `csrf`).
    pub unlink_action: String,
    /// False for the last way to log in (the button is not offered).
    pub can_unlink: bool,
}

/// `GET /account/links`: the linked sources and the sources that can still be linked.
#[derive(Clone, Debug, Default)]
pub struct LinksPage {
    pub lang: Lang,
    pub csrf: String,
    pub links: Vec<LinkRow>,
    /// Sources not yet linked: `(id, name)`; each links to its confirmation page.
    pub available: Vec<(String, String)>,
    pub notice: Option<String>,
}

struct AvailableView {
    href: String,
    label: String,
}

#[derive(Template)]
#[template(path = "account_links.html")]
struct LinksView<'a> {
    chrome: Chrome<'a>,
    f: &'static i18n::FederationTexts,
    p: &'a LinksPage,
    available: Vec<AvailableView>,
    links: Vec<(&'a LinkRow, String)>,
}

impl LinksPage {
    pub fn render(&self, site: &SiteConfig) -> String {
        let lang = self.lang;
        let f = i18n::federation_texts(lang);
        let view = LinksView {
            chrome: Chrome::new(site, lang, f.links_title, false)
                .with_switch(lang, "/account/links?"),
            f,
            p: self,
            available: self
                .available
                .iter()
                .map(|(id, name)| AvailableView {
                    href: format!("/upstream/{id}/link"),
                    label: fill(f.link_with, "name", name),
                })
                .collect(),
            links: self
                .links
                .iter()
                .map(|l| (l, fill(f.linked_since, "date", &l.since)))
                .collect(),
        };
        finish(&view, lang)
    }
}

/// `GET /upstream/{id}/link`: confirm linking a source to the logged-in account.
#[derive(Clone, Debug, Default)]
pub struct LinkConfirmPage {
    pub lang: Lang,
    pub csrf: String,
    pub id: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "link_confirm.html")]
struct LinkConfirmView<'a> {
    chrome: Chrome<'a>,
    f: &'static i18n::FederationTexts,
    p: &'a LinkConfirmPage,
    text: String,
    action: String,
}

impl LinkConfirmPage {
    pub fn render(&self, site: &SiteConfig) -> String {
        let lang = self.lang;
        let f = i18n::federation_texts(lang);
        let view = LinkConfirmView {
            chrome: Chrome::new(site, lang, f.link_confirm_title, false),
            f,
            p: self,
            text: fill(f.link_confirm_text, "name", &self.name),
            action: format!("/upstream/{}/start", self.id),
        };
        finish(&view, lang)
    }
}
