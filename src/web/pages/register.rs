//! The self-registration pages: the form, "check your mail", choosing the password on the
//! confirmation link, the verified address, and the form for a new verification link.

use askama::Template;

use super::{
    fill, finish, i18n, Chrome, FieldView, Lang, SiteConfig, SummaryItem, MIN_PASSWORD_LEN,
};

/// Self-registration (`POST action` with `email`, `given_name`, `family_name`, `csrf`,
/// `req`). The e-mail is required (`required`); the names are optional and say so in their
/// labels. The password is chosen on the confirmation link ([`RegisterConfirmPage`]).
#[derive(Clone, Debug, Default)]
pub struct RegisterPage {
    pub lang: Lang,
    pub action: String,
    pub csrf: String,
    /// The pending authorization request the registration belongs to (hidden field `req`;
    /// empty for none).
    pub req: String,
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    /// `(field, message)`: field is `email`, `given_name`, `family_name` (or anything else
    /// for a form-level error); message is a key known to [`i18n::field_error_text`]
    /// (`required`, `email_invalid`, …) or else a text shown as-is.
    pub errors: Vec<(String, String)>,
    pub login_url: String,
}

/// "Wir haben Ihnen eine E-Mail geschickt…" and a button to have the link sent again
/// (`POST resend_action` with `email`, `csrf`). Nobody can sign in before the link is used,
/// so there is no way back to a service's login here (the confirmation page offers it).
#[derive(Clone, Debug, Default)]
pub struct RegisterDonePage {
    pub lang: Lang,
    pub email: String,
    pub csrf: String,
    pub resend_action: String,
}

/// The page a confirmation link opens: "Confirm {email}: choose your password"
/// (`POST action` with `token`, `password`, `csrf`). Using it confirms the address and makes
/// the password the account's.
#[derive(Clone, Debug)]
pub struct RegisterConfirmPage {
    pub lang: Lang,
    pub action: String,
    pub csrf: String,
    /// The link's token (hidden field).
    pub token: String,
    /// The address the link confirms.
    pub email: String,
    /// `(field, message)` as in [`RegisterPage::errors`]; field `password` or form-level.
    pub errors: Vec<(String, String)>,
    /// The configured minimum password length: the hint, `minlength` and the
    /// `password_too_short` message use it.
    pub min_password_len: u32,
}

impl Default for RegisterConfirmPage {
    fn default() -> Self {
        RegisterConfirmPage {
            lang: Lang::default(),
            action: String::new(),
            csrf: String::new(),
            token: String::new(),
            email: String::new(),
            errors: Vec::new(),
            min_password_len: MIN_PASSWORD_LEN,
        }
    }
}

/// "E-Mail-Adresse bestätigt", with a link to the account, and when this browser still has
/// the service login the registration started from, a button to continue it.
#[derive(Clone, Debug, Default)]
pub struct RegisterVerifiedPage {
    pub lang: Lang,
    /// Where the citizen continues (the account page, which asks for a login when needed).
    pub account_url: String,
    /// The pending login to continue (`/login?req=…`), if it is still open.
    pub continue_url: Option<String>,
    /// The service of that login, if known.
    pub client_name: Option<String>,
}

/// The form to request a new verification link (`POST action` with `email`, `csrf`). With
/// `invalid_link` it is the answer to an unusable verification link (heading and explanation
/// of the `invalid_verification_link` error first).
#[derive(Clone, Debug, Default)]
pub struct RegisterResendPage {
    pub lang: Lang,
    pub action: String,
    pub csrf: String,
    pub email: String,
    /// `(field, message)` as in [`RegisterPage::errors`]; field `email` or form-level.
    pub errors: Vec<(String, String)>,
    pub invalid_link: bool,
    pub login_url: String,
}

/// The answer to a request for a new verification link: the same whether or not an
/// unverified account exists for the address (and whether a link was sent).
#[derive(Clone, Debug, Default)]
pub struct RegisterResentPage {
    pub lang: Lang,
    pub email: String,
    pub login_url: String,
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterView<'a> {
    chrome: Chrome<'a>,
    p: &'a RegisterPage,
    summary: Vec<SummaryItem>,
    fields: Vec<FieldView>,
}

#[derive(Template)]
#[template(path = "register_done.html")]
struct RegisterDoneView<'a> {
    chrome: Chrome<'a>,
    p: &'a RegisterDonePage,
    text: String,
}

#[derive(Template)]
#[template(path = "register_confirm.html")]
struct RegisterConfirmView<'a> {
    chrome: Chrome<'a>,
    p: &'a RegisterConfirmPage,
    intro: String,
    summary: Vec<SummaryItem>,
    fields: Vec<FieldView>,
}

#[derive(Template)]
#[template(path = "register_verified.html")]
struct RegisterVerifiedView<'a> {
    chrome: Chrome<'a>,
    p: &'a RegisterVerifiedPage,
    continue_label: String,
}

#[derive(Template)]
#[template(path = "register_resend.html")]
struct RegisterResendView<'a> {
    chrome: Chrome<'a>,
    p: &'a RegisterResendPage,
    /// The unusable link's heading and explanation, when `p.invalid_link`.
    invalid: Option<i18n::ErrorText>,
    summary: Vec<SummaryItem>,
    fields: Vec<FieldView>,
}

#[derive(Template)]
#[template(path = "register_resent.html")]
struct RegisterResentView<'a> {
    chrome: Chrome<'a>,
    p: &'a RegisterResentPage,
    text: String,
}

const REGISTER_FIELDS: [&str; 3] = ["email", "given_name", "family_name"];

/// A field error's text: a known key in the page language (with `{min}` filled), else the
/// message as-is.
pub(super) fn field_message(lang: Lang, min_password_len: u32, field: &str, msg: &str) -> String {
    match i18n::field_error_text(lang, field, msg) {
        Some(text) => fill(text, "min", &min_password_len.to_string()),
        None => msg.to_string(),
    }
}

/// The error summary: form-level errors first, then field errors in `fields` order.
pub(super) fn error_summary(
    errors: &[(String, String)],
    fields: &[&str],
    message: impl Fn(&str, &str) -> String,
) -> Vec<SummaryItem> {
    let mut summary: Vec<SummaryItem> = errors
        .iter()
        .filter(|(f, _)| !fields.contains(&f.as_str()))
        .map(|(f, m)| SummaryItem {
            href: None,
            message: message(f, m),
        })
        .collect();
    for field in fields {
        if let Some((f, m)) = errors.iter().find(|(f, _)| f == field) {
            summary.push(SummaryItem {
                href: Some(format!("#{field}")),
                message: message(f, m),
            });
        }
    }
    summary
}

impl RegisterPage {
    fn message(&self, field: &str, msg: &str) -> String {
        field_message(self.lang, MIN_PASSWORD_LEN, field, msg)
    }

    fn field_error(&self, field: &str) -> Option<String> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(f, m)| self.message(f, m))
    }

    pub fn render(&self, site: &SiteConfig) -> String {
        let lang = self.lang;
        let t = lang.texts();
        let summary = error_summary(&self.errors, &REGISTER_FIELDS, |f, m| self.message(f, m));
        let fields = vec![
            FieldView::new("email", t.email_label, "email", "username")
                .value(&self.email)
                .hint(t.register_email_hint)
                .error(self.field_error("email"))
                .done(),
            FieldView::new("given_name", t.given_name_label, "text", "given-name")
                .value(&self.given_name)
                .optional()
                .error(self.field_error("given_name"))
                .done(),
            FieldView::new("family_name", t.family_name_label, "text", "family-name")
                .value(&self.family_name)
                .optional()
                .error(self.field_error("family_name"))
                .done(),
        ];
        let view = RegisterView {
            chrome: Chrome::new(site, lang, t.register_title, !summary.is_empty()),
            p: self,
            summary,
            fields,
        };
        finish(&view, lang)
    }
}

/// "Continue signing in to „{client}“" or the generic wording.
fn continue_text(client_name: Option<&str>, with_client: &str, generic: &str) -> String {
    match client_name.filter(|n| !n.trim().is_empty()) {
        Some(name) => fill(with_client, "client", name),
        None => generic.to_string(),
    }
}

impl RegisterDonePage {
    pub fn render(&self, site: &SiteConfig) -> String {
        let t = self.lang.texts();
        let view = RegisterDoneView {
            chrome: Chrome::new(site, self.lang, t.register_done_title, false),
            p: self,
            text: fill(t.register_done_text, "email", &self.email),
        };
        finish(&view, self.lang)
    }
}

impl RegisterConfirmPage {
    pub fn render(&self, site: &SiteConfig) -> String {
        let lang = self.lang;
        let t = lang.texts();
        let min = self.min_password_len.max(1);
        let message = |f: &str, m: &str| field_message(lang, min, f, m);
        let summary = error_summary(&self.errors, &["password"], message);
        let password_error = self
            .errors
            .iter()
            .find(|(f, _)| f == "password")
            .map(|(f, m)| message(f, m));
        let fields =
            vec![
                FieldView::new("password", t.new_password_label, "password", "new-password")
                    .hint(fill(t.password_hint, "min", &min.to_string()))
                    .minlength(min)
                    .error(password_error)
                    .done(),
            ];
        let view = RegisterConfirmView {
            chrome: Chrome::new(site, lang, t.register_confirm_title, !summary.is_empty()),
            p: self,
            intro: fill(t.register_confirm_intro, "email", &self.email),
            summary,
            fields,
        };
        finish(&view, lang)
    }
}

impl RegisterVerifiedPage {
    pub fn render(&self, site: &SiteConfig) -> String {
        let t = self.lang.texts();
        let view = RegisterVerifiedView {
            chrome: Chrome::new(site, self.lang, t.register_verified_title, false),
            p: self,
            continue_label: continue_text(
                self.client_name.as_deref(),
                t.register_verified_continue_client,
                t.register_verified_continue_generic,
            ),
        };
        finish(&view, self.lang)
    }
}

impl RegisterResendPage {
    pub fn render(&self, site: &SiteConfig) -> String {
        let lang = self.lang;
        let t = lang.texts();
        let message = |f: &str, m: &str| field_message(lang, MIN_PASSWORD_LEN, f, m);
        let summary = error_summary(&self.errors, &["email"], message);
        let email_error = self
            .errors
            .iter()
            .find(|(f, _)| f == "email")
            .map(|(f, m)| message(f, m));
        let fields = vec![FieldView::new("email", t.email_label, "email", "username")
            .value(&self.email)
            .error(email_error)
            .done()];
        let invalid = self
            .invalid_link
            .then(|| i18n::error_text(lang, "invalid_verification_link", 400));
        let title = match &invalid {
            Some(e) => e.title,
            None => t.register_resend_title,
        };
        let view = RegisterResendView {
            chrome: Chrome::new(site, lang, title, !summary.is_empty()),
            p: self,
            invalid,
            summary,
            fields,
        };
        finish(&view, lang)
    }
}

impl RegisterResentPage {
    pub fn render(&self, site: &SiteConfig) -> String {
        let t = self.lang.texts();
        let view = RegisterResentView {
            chrome: Chrome::new(site, self.lang, t.register_resent_title, false),
            p: self,
            text: fill(t.register_resent_text, "email", &self.email),
        };
        finish(&view, self.lang)
    }
}
