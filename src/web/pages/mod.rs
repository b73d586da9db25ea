//! Pforte's HTML pages.
//!
//! One plain data struct per page (all fields owned, so handlers can build them directly)
//! with `render(&self, site) -> String`; `site` is the operator's `[site]` configuration
//! (the footer links), passed by the handler. Rendering goes through private askama view structs that
//! hold the computed, localised strings; templates live in `templates/` and share
//! `templates/base.html`. Everything printed is HTML-escaped by askama; no template uses
//! `|safe`. A render error (which askama only reports for failing `Display` impls) yields a
//! minimal static fallback page instead of a panic.
//!
//! The pages link `/static/pforte.css` and `/favicon.ico` (an SVG); they need no JavaScript
//! except the auto-submit of [`FormPostPage`], which carries the CSP nonce.
//!
//! Form field names the handlers receive:
//! - login: `email`, `password`, `csrf`, `req`
//! - consent: `decision` = `allow` | `deny`, `csrf`, `req`
//! - logout confirm: `csrf`, and when given `post_logout_redirect_uri`, `state`,
//!   `id_token_hint`, `client_id`
//! - account: logout and each revoke form post `csrf`
//! - register: `email`, `given_name`, `family_name`, `password`, `csrf`, `req` (the pending
//!   authorization request the registration started from, or empty)
//! - request a new verification link (`/register/resend`): `email`, `csrf`

mod account;
mod consent;
mod data;
mod error;
mod form_post;
mod info;
mod login;
mod logout;
mod profile;
mod register;
mod security;
mod stepup;

pub use account::*;
pub use consent::*;
pub use data::*;
pub use error::*;
pub use form_post::*;
pub use info::*;
pub use login::*;
pub use logout::*;
pub use profile::*;
pub use register::*;
pub use security::*;
pub use stepup::*;

use askama::Template;

use super::i18n::{self, fill, Lang, Texts};
pub use crate::config::SiteConfig;

/// The default minimum password length (`login.min_password_length`); the registration page
/// announces and enforces the configured value it is given in
/// [`RegisterConfirmPage::min_password_len`].
pub const MIN_PASSWORD_LEN: u32 = 12;

// ---------------------------------------------------------------------------------------
// View models (what the templates see)
// ---------------------------------------------------------------------------------------

/// Shared layout data for `base.html`.
struct Chrome<'a> {
    t: &'static Texts,
    lang: &'static str,
    /// Full `<title>` text.
    title: String,
    /// Links to the page in every other language.
    switch: Vec<LangLink>,
    /// The operator's imprint, privacy notice and accessibility statement (`[site]` in the
    /// configuration; a link is shown only when set). German public bodies must publish all
    /// three; every page links to them.
    site: &'a SiteConfig,
    /// The footer's accessibility statement and Leichte Sprache links (BITV 2.0).
    info: &'static i18n::InfoTexts,
    /// The operator's accessibility statement, else Pforte's own (`/barrierefreiheit`).
    statement_href: String,
}

struct LangLink {
    href: String,
    label: &'static str,
    code: &'static str,
}

impl<'a> Chrome<'a> {
    fn new(site: &'a SiteConfig, lang: Lang, title: &str, has_errors: bool) -> Self {
        let t = lang.texts();
        let title = if has_errors {
            format!("{} {} – {}", t.error_prefix, title, t.product)
        } else {
            format!("{} – {}", title, t.product)
        };
        Chrome {
            t,
            lang: lang.code(),
            title,
            switch: Vec::new(),
            site,
            info: i18n::info_texts(lang),
            statement_href: site
                .accessibility_url
                .clone()
                .unwrap_or_else(|| format!("/barrierefreiheit?ui_locales={}", lang.code())),
        }
    }

    /// Links to the page in every other language of [`Lang::ALL`]: `base` (ending in `?` or
    /// `&`) followed by `ui_locales=<code>`. No links when `base` is empty.
    fn with_switch(mut self, lang: Lang, base: &str) -> Self {
        if base.is_empty() {
            return self;
        }
        self.switch = Lang::ALL
            .into_iter()
            .filter(|l| *l != lang)
            .map(|l| LangLink {
                href: format!("{base}ui_locales={}", l.code()),
                label: l.native_name(),
                code: l.code(),
            })
            .collect();
        self
    }
}

/// One entry in an error summary; `href` links to the field (`#id`).
struct SummaryItem {
    href: Option<String>,
    message: String,
}

/// A labelled text input with optional hint and error.
struct FieldView {
    id: &'static str,
    name: &'static str,
    label: &'static str,
    input_type: &'static str,
    autocomplete: &'static str,
    value: String,
    hint: Option<String>,
    error: Option<String>,
    /// `aria-invalid="true"`
    invalid: bool,
    /// Space-separated ids of hint and error.
    describedby: String,
    /// e-mail style: no spellcheck, no autocapitalize
    plain: bool,
    minlength: Option<u32>,
    maxlength: u32,
    /// `inputmode` (e.g. `numeric` for one-time codes).
    inputmode: Option<&'static str>,
    /// `required`; an optional field says "(optional)" in its label instead.
    required: bool,
}

impl FieldView {
    fn new(
        id: &'static str,
        label: &'static str,
        input_type: &'static str,
        autocomplete: &'static str,
    ) -> Self {
        FieldView {
            id,
            name: id,
            label,
            input_type,
            autocomplete,
            value: String::new(),
            hint: None,
            error: None,
            invalid: false,
            describedby: String::new(),
            plain: input_type == "email",
            minlength: None,
            maxlength: if input_type == "password" { 1024 } else { 254 },
            inputmode: None,
            required: true,
        }
    }
    fn value(mut self, v: &str) -> Self {
        self.value = v.to_string();
        self
    }
    fn hint(mut self, h: impl Into<String>) -> Self {
        self.hint = Some(h.into());
        self
    }
    /// Not `required`; the label says "(optional)".
    fn optional(mut self) -> Self {
        self.required = false;
        self
    }
    fn error(mut self, e: Option<String>) -> Self {
        self.error = e;
        self
    }
    fn minlength(mut self, n: u32) -> Self {
        self.minlength = Some(n);
        self
    }
    /// Computes `describedby` from hint and error; call last.
    fn done(mut self) -> Self {
        let mut ids = Vec::new();
        if self.hint.is_some() {
            ids.push(format!("{}-hint", self.id));
        }
        if self.error.is_some() {
            ids.push(format!("{}-error", self.id));
            self.invalid = true;
        }
        self.describedby = ids.join(" ");
        self
    }
}

// ---------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------

fn finish<T: Template>(view: &T, lang: Lang) -> String {
    view.render().unwrap_or_else(|_| fallback_page(lang))
}

/// A minimal, fully static page for when rendering fails.
pub fn fallback_page(lang: Lang) -> String {
    let t = lang.texts();
    // Only static, trusted strings are interpolated here (no '<', '&' or quotes in them
    // that could break the markup).
    format!(
        "<!DOCTYPE html><html lang=\"{code}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} – {product}</title></head><body><main><h1>{title}</h1><p>{text}</p>\
         </main></body></html>",
        code = lang.code(),
        title = t.fallback_title,
        product = t.product,
        text = t.fallback_text,
    )
}

#[cfg(test)]
mod tests;
