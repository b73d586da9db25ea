//! The two pages every footer links (BITV 2.0): the accessibility statement with the feedback
//! contact from `[site]`, and the explanation of Pforte in Leichte Sprache (German) or plain
//! English.

use askama::Template;

use super::{finish, i18n, Chrome, Lang, SiteConfig};

/// `GET /barrierefreiheit`.
#[derive(Clone, Debug, Default)]
pub struct AccessibilityPage {
    pub lang: Lang,
}

/// `GET /leichte-sprache`.
#[derive(Clone, Debug, Default)]
pub struct EasyLanguagePage {
    pub lang: Lang,
}

/// How the configured contact is linked: `mailto:` for an address, the URL otherwise.
struct Contact {
    href: String,
    text: String,
}

#[derive(Template)]
#[template(path = "accessibility.html")]
struct AccessibilityView<'a> {
    chrome: Chrome<'a>,
    i: &'static i18n::InfoTexts,
    contact: Option<Contact>,
    enforcement: Option<String>,
}

#[derive(Template)]
#[template(path = "easy.html")]
struct EasyView<'a> {
    chrome: Chrome<'a>,
    i: &'static i18n::InfoTexts,
}

impl AccessibilityPage {
    pub fn render(&self, site: &SiteConfig) -> String {
        let i = i18n::info_texts(self.lang);
        let contact = site.accessibility_contact.as_ref().map(|c| Contact {
            href: if c.contains("://") {
                c.clone()
            } else {
                format!("mailto:{c}")
            },
            text: c.clone(),
        });
        let view = AccessibilityView {
            chrome: Chrome::new(site, self.lang, i.a11y_title, false)
                .with_switch(self.lang, "/barrierefreiheit?"),
            i,
            contact,
            enforcement: site.accessibility_enforcement_url.clone(),
        };
        finish(&view, self.lang)
    }
}

impl EasyLanguagePage {
    pub fn render(&self, site: &SiteConfig) -> String {
        let i = i18n::info_texts(self.lang);
        let view = EasyView {
            chrome: Chrome::new(site, self.lang, i.easy_title, false)
                .with_switch(self.lang, "/leichte-sprache?"),
            i,
        };
        finish(&view, self.lang)
    }
}
