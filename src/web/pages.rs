//! Pforte's HTML pages.
//!
//! One plain data struct per page (all fields owned, so handlers can build them directly)
//! with `render(&self) -> String`. Rendering goes through private askama view structs that
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

use askama::Template;

use super::i18n::{self, fill, Lang, Texts};

/// The default minimum password length (`login.min_password_length`); the registration page
/// announces and enforces the configured value it is given in [`RegisterPage::min_password_len`].
pub const MIN_PASSWORD_LEN: u32 = 12;

// ---------------------------------------------------------------------------------------
// Public page data
// ---------------------------------------------------------------------------------------

/// Which login field a [`LoginError::MissingField`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginField {
    Email,
    Password,
}

/// Why the login form is shown again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoginError {
    /// Unknown account or wrong password: one wording, "E-Mail-Adresse oder Passwort ist
    /// falsch.", so the page never reveals whether an account exists.
    InvalidCredentials,
    /// Shown with exactly the same wording as `InvalidCredentials` (does not reveal).
    AccountDisabled,
    /// The CSRF token or pending request expired: "Die Sitzung ist abgelaufen, bitte erneut
    /// versuchen."
    CsrfExpired,
    /// A required field was empty.
    MissingField { field: LoginField },
}

/// The login form (`POST action` with `email`, `password`, `csrf`, `req`).
#[derive(Clone, Debug, Default)]
pub struct LoginPage {
    pub lang: Lang,
    /// Display name of the relying party, if the login belongs to an authorization request.
    pub client_name: Option<String>,
    /// Form POST URL.
    pub action: String,
    pub csrf: String,
    /// Pending authorization request id (hidden field `req`).
    pub req: String,
    /// Prefill of the e-mail field.
    pub email: String,
    pub error: Option<LoginError>,
    pub register_url: String,
    /// Links to this page in German and English: `(de_url, en_url)`.
    pub lang_urls: (String, String),
}

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
}

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

/// Self-registration (`POST action` with `email`, `given_name`, `family_name`, `password`,
/// `csrf`, `req`). E-mail and password are required (`required`); the names are optional
/// and say so in their labels.
#[derive(Clone, Debug)]
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
    /// `(field, message)`: field is `email`, `given_name`, `family_name`, `password` (or
    /// anything else for a form-level error); message is a key known to
    /// [`i18n::field_error_text`] (`required`, `email_invalid`, `password_too_short`, …)
    /// or else a text shown as-is.
    pub errors: Vec<(String, String)>,
    pub login_url: String,
    /// The configured minimum password length: the hint, `minlength` and the
    /// `password_too_short` message use it.
    pub min_password_len: u32,
}

impl Default for RegisterPage {
    fn default() -> Self {
        RegisterPage {
            lang: Lang::default(),
            action: String::new(),
            csrf: String::new(),
            req: String::new(),
            email: String::new(),
            given_name: String::new(),
            family_name: String::new(),
            errors: Vec::new(),
            login_url: String::new(),
            min_password_len: MIN_PASSWORD_LEN,
        }
    }
}

/// "Wir haben Ihnen eine E-Mail geschickt…", a button to have the link sent again
/// (`POST resend_action` with `email`, `csrf`), and, when the registration started from a
/// service's login, the way back to that login.
#[derive(Clone, Debug, Default)]
pub struct RegisterDonePage {
    pub lang: Lang,
    pub email: String,
    pub csrf: String,
    pub resend_action: String,
    /// The pending login to continue (`/login?req=…`), if it is still open.
    pub continue_url: Option<String>,
    /// The service of that login, if known.
    pub client_name: Option<String>,
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

// ---------------------------------------------------------------------------------------
// View models (what the templates see)
// ---------------------------------------------------------------------------------------

/// Shared layout data for `base.html`.
struct Chrome<'a> {
    t: &'static Texts,
    lang: &'static str,
    /// Full `<title>` text.
    title: String,
    switch: Option<LangLink<'a>>,
    /// The operator's legal pages (configured; a link is shown only when set).
    site: &'static SiteLinks,
}

/// The operator's imprint, privacy notice and accessibility statement (`[site]` in the
/// configuration). German public bodies must publish all three; Pforte links to them.
#[derive(Clone, Debug, Default)]
pub struct SiteLinks {
    pub imprint: Option<String>,
    pub privacy: Option<String>,
    pub accessibility: Option<String>,
}

static SITE: std::sync::OnceLock<SiteLinks> = std::sync::OnceLock::new();

/// Sets the footer links once per process (at start-up, from the configuration).
pub fn set_site_links(links: SiteLinks) {
    let _ = SITE.set(links);
}

fn site_links() -> &'static SiteLinks {
    SITE.get_or_init(SiteLinks::default)
}

struct LangLink<'a> {
    href: &'a str,
    label: &'static str,
    code: &'static str,
}

impl<'a> Chrome<'a> {
    fn new(lang: Lang, title: &str, has_errors: bool) -> Self {
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
            switch: None,
            site: site_links(),
        }
    }

    fn with_switch(mut self, lang: Lang, urls: &'a (String, String)) -> Self {
        let other = lang.other();
        let href = match other {
            Lang::De => urls.0.as_str(),
            Lang::En => urls.1.as_str(),
        };
        if !href.is_empty() {
            self.switch = Some(LangLink {
                href,
                label: other.native_name(),
                code: other.code(),
            });
        }
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

#[derive(Template)]
#[template(path = "login.html")]
struct LoginView<'a> {
    chrome: Chrome<'a>,
    p: &'a LoginPage,
    intro: String,
    summary: Vec<SummaryItem>,
    /// An error about the field combination (credentials), shown above the fields.
    form_error: Option<&'static str>,
    fields: Vec<FieldView>,
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

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorView<'a> {
    chrome: Chrome<'a>,
    p: &'a ErrorPage,
    heading: String,
    body: &'static str,
}

#[derive(Template)]
#[template(path = "form_post.html")]
struct FormPostView<'a> {
    chrome: Chrome<'a>,
    p: &'a FormPostPage,
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
    continue_text: String,
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

impl LoginPage {
    pub fn render(&self) -> String {
        let lang = self.lang;
        let t = lang.texts();
        let mut email =
            FieldView::new("email", t.email_label, "email", "username").value(&self.email);
        let mut password =
            FieldView::new("password", t.password_label, "password", "current-password");
        let mut summary = Vec::new();
        let mut form_error = None;
        match &self.error {
            None => {}
            Some(LoginError::InvalidCredentials | LoginError::AccountDisabled) => {
                // One message about the combination, tied to both fields.
                form_error = Some(t.login_failed);
                summary.push(SummaryItem {
                    href: Some("#email".into()),
                    message: t.login_failed.into(),
                });
            }
            Some(LoginError::CsrfExpired) => summary.push(SummaryItem {
                href: None,
                message: t.session_expired.into(),
            }),
            Some(LoginError::MissingField {
                field: LoginField::Email,
            }) => {
                email = email.error(Some(t.missing_email.into()));
                summary.push(SummaryItem {
                    href: Some("#email".into()),
                    message: t.missing_email.into(),
                });
            }
            Some(LoginError::MissingField {
                field: LoginField::Password,
            }) => {
                password = password.error(Some(t.missing_password.into()));
                summary.push(SummaryItem {
                    href: Some("#password".into()),
                    message: t.missing_password.into(),
                });
            }
        }
        let mut fields = vec![email.done(), password.done()];
        if form_error.is_some() {
            for f in &mut fields {
                f.invalid = true;
                f.describedby = "credentials-error".into();
            }
        }
        let intro = match &self.client_name {
            Some(name) if !name.trim().is_empty() => fill(t.login_intro_client, "client", name),
            _ => t.login_intro.to_string(),
        };
        let view = LoginView {
            chrome: Chrome::new(lang, t.login_title, !summary.is_empty())
                .with_switch(lang, &self.lang_urls),
            p: self,
            intro,
            summary,
            form_error,
            fields,
        };
        finish(&view, lang)
    }
}

impl ConsentPage {
    pub fn render(&self) -> String {
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
            chrome: Chrome::new(lang, t.consent_title, false),
            p: self,
            lead: fill(t.consent_lead, "client", &self.client_name),
            scopes,
        };
        finish(&view, lang)
    }
}

impl ErrorPage {
    pub fn render(&self) -> String {
        let lang = self.lang;
        let text = i18n::error_text(lang, &self.error, self.status);
        let heading = match &self.title {
            Some(title) if !title.trim().is_empty() => title.clone(),
            _ => text.title.to_string(),
        };
        let view = ErrorView {
            chrome: Chrome::new(lang, &heading, false),
            p: self,
            heading: heading.clone(),
            body: text.body,
        };
        finish(&view, lang)
    }
}

/// Whether a form_post target may be rendered as a form action at all.
fn is_http_url(s: &str) -> bool {
    let s = s.trim_start();
    let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

impl FormPostPage {
    pub fn render(&self) -> String {
        let lang = self.lang;
        if !is_http_url(&self.action) {
            return fallback_page(lang);
        }
        let view = FormPostView {
            chrome: Chrome::new(lang, lang.texts().formpost_title, false),
            p: self,
        };
        finish(&view, lang)
    }
}

impl LogoutPage {
    pub fn render(&self) -> String {
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
            chrome: Chrome::new(lang, t.logout_title, false),
            p: self,
            client_line,
            hidden,
        };
        finish(&view, lang)
    }
}

impl LoggedOutPage {
    pub fn render(&self) -> String {
        let view = LoggedOutView {
            chrome: Chrome::new(self.lang, self.lang.texts().logged_out_title, false),
        };
        finish(&view, self.lang)
    }
}

impl AccountPage {
    pub fn render(&self) -> String {
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
            chrome: Chrome::new(lang, t.account_title, false),
            s: i18n::security_texts(lang),
            p: self,
            consents,
        };
        finish(&view, lang)
    }
}

const REGISTER_FIELDS: [&str; 4] = ["email", "given_name", "family_name", "password"];

/// A field error's text: a known key in the page language (with `{min}` filled), else the
/// message as-is.
fn field_message(lang: Lang, min_password_len: u32, field: &str, msg: &str) -> String {
    match i18n::field_error_text(lang, field, msg) {
        Some(text) => fill(text, "min", &min_password_len.to_string()),
        None => msg.to_string(),
    }
}

/// The error summary: form-level errors first, then field errors in `fields` order.
fn error_summary(
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
    fn min_password_len(&self) -> u32 {
        self.min_password_len.max(1)
    }

    fn message(&self, field: &str, msg: &str) -> String {
        field_message(self.lang, self.min_password_len(), field, msg)
    }

    fn field_error(&self, field: &str) -> Option<String> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(f, m)| self.message(f, m))
    }

    pub fn render(&self) -> String {
        let lang = self.lang;
        let t = lang.texts();
        let min = self.min_password_len();
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
            FieldView::new("password", t.new_password_label, "password", "new-password")
                .hint(fill(t.password_hint, "min", &min.to_string()))
                .minlength(min)
                .error(self.field_error("password"))
                .done(),
        ];
        let view = RegisterView {
            chrome: Chrome::new(lang, t.register_title, !summary.is_empty()),
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
    pub fn render(&self) -> String {
        let t = self.lang.texts();
        let view = RegisterDoneView {
            chrome: Chrome::new(self.lang, t.register_done_title, false),
            p: self,
            text: fill(t.register_done_text, "email", &self.email),
            continue_text: continue_text(
                self.client_name.as_deref(),
                t.register_continue_client,
                t.register_continue_generic,
            ),
        };
        finish(&view, self.lang)
    }
}

impl RegisterVerifiedPage {
    pub fn render(&self) -> String {
        let t = self.lang.texts();
        let view = RegisterVerifiedView {
            chrome: Chrome::new(self.lang, t.register_verified_title, false),
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
    pub fn render(&self) -> String {
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
            chrome: Chrome::new(lang, title, !summary.is_empty()),
            p: self,
            invalid,
            summary,
            fields,
        };
        finish(&view, lang)
    }
}

impl RegisterResentPage {
    pub fn render(&self) -> String {
        let t = self.lang.texts();
        let view = RegisterResentView {
            chrome: Chrome::new(self.lang, t.register_resent_title, false),
            p: self,
            text: fill(t.register_resent_text, "email", &self.email),
        };
        finish(&view, self.lang)
    }
}

// ---------------------------------------------------------------------------------------
// Account security (second factors, recovery codes) and step-up
//
// Form fields: every form posts `csrf`; the step-up forms also `req` (empty when confirming
// for the account pages); the TOTP set-up and both step-up code forms post `code`.
// ---------------------------------------------------------------------------------------

/// Why a code was not accepted (TOTP or recovery code).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeError {
    Missing,
    /// Not six digits (TOTP) / not ten characters of the alphabet (recovery code).
    Malformed,
    Wrong,
    /// A right TOTP code that was already used.
    Replayed,
}

/// One second factor on the security page.
#[derive(Clone, Debug, Default)]
pub struct CredentialRow {
    /// `totp`, `passkey` (anything else is shown as-is).
    pub kind: String,
    pub label: String,
    /// Already formatted dates.
    pub created: String,
    pub last_used: Option<String>,
    /// POST URL removing this credential (form posts `csrf`).
    pub remove_action: String,
}

/// A confirmation shown at the top of the security page after a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecurityNotice {
    TotpAdded,
    Removed,
}

/// `GET /account/security`.
#[derive(Clone, Debug, Default)]
pub struct SecurityPage {
    pub lang: Lang,
    pub csrf: String,
    pub credentials: Vec<CredentialRow>,
    pub recovery_left: i64,
    /// Set when changes need a confirmation with the second factor first: the link to it.
    /// Management forms are then not shown.
    pub confirm_url: Option<String>,
    pub notice: Option<SecurityNotice>,
    pub totp_url: String,
    /// POST URL creating a new set of recovery codes.
    pub recovery_action: String,
    pub account_url: String,
}

/// `GET /account/security/totp`: a fresh secret as QR code and text, and the first code.
#[derive(Clone, Debug, Default)]
pub struct TotpSetupPage {
    pub lang: Lang,
    pub csrf: String,
    pub action: String,
    pub email: String,
    /// The secret for manual entry (base32 in groups).
    pub secret: String,
    /// QR code as SVG path data and its width in modules ([`crate::accounts::totp::qr_path`]).
    pub qr: Option<(String, usize)>,
    pub error: Option<CodeError>,
    pub cancel_url: String,
}

/// New recovery codes, shown once.
#[derive(Clone, Debug, Default)]
pub struct RecoveryCodesPage {
    pub lang: Lang,
    pub codes: Vec<String>,
    /// The codes come with a just-confirmed authenticator app.
    pub totp_added: bool,
    pub continue_url: String,
}

/// Which step-up form an error belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepUpError {
    Totp(CodeError),
    Recovery(CodeError),
}

/// `GET /stepup`: why a higher level is needed and the means the account has to reach it.
#[derive(Clone, Debug, Default)]
pub struct StepUpPage {
    pub lang: Lang,
    pub client_name: Option<String>,
    /// Pforte's name of the level needed (`substantial`) and of the session's level.
    pub level: String,
    pub current_level: String,
    /// Pending authorization request; empty when confirming for the account pages.
    pub req: String,
    pub csrf: String,
    pub totp: bool,
    pub recovery_left: i64,
    pub passkey: bool,
    pub error: Option<StepUpError>,
    /// Wrong attempts left for this request, shown with an error.
    pub attempts_left: Option<u32>,
    /// Where "cancel" leads when there is no request (account pages).
    pub cancel_url: String,
}

struct CredentialRowView<'a> {
    row: &'a CredentialRow,
    kind: String,
    remove_for: String,
}

#[derive(Template)]
#[template(path = "security.html")]
struct SecurityView<'a> {
    chrome: Chrome<'a>,
    s: &'static i18n::SecurityTexts,
    p: &'a SecurityPage,
    notice: Option<&'static str>,
    credentials: Vec<CredentialRowView<'a>>,
    recovery_line: String,
}

#[derive(Template)]
#[template(path = "totp_setup.html")]
struct TotpSetupView<'a> {
    chrome: Chrome<'a>,
    s: &'static i18n::SecurityTexts,
    p: &'a TotpSetupPage,
    summary: Vec<SummaryItem>,
    field: Option<FieldView>,
    manual_details: String,
    /// viewBox with a quiet zone of four modules.
    qr_box: String,
}

#[derive(Template)]
#[template(path = "recovery_codes.html")]
struct RecoveryCodesView<'a> {
    chrome: Chrome<'a>,
    s: &'static i18n::SecurityTexts,
    p: &'a RecoveryCodesPage,
}

#[derive(Template)]
#[template(path = "stepup.html")]
struct StepUpView<'a> {
    chrome: Chrome<'a>,
    s: &'static i18n::SecurityTexts,
    p: &'a StepUpPage,
    needed: String,
    current: String,
    decline_text: String,
    summary: Vec<SummaryItem>,
    totp_field: Option<FieldView>,
    recovery_field: Option<FieldView>,
    recovery_open: bool,
}

fn code_error_text(lang: Lang, e: CodeError, recovery: bool) -> &'static str {
    let s = i18n::security_texts(lang);
    match (e, recovery) {
        (CodeError::Missing, false) => s.code_missing,
        (CodeError::Malformed, false) => s.code_malformed,
        (CodeError::Wrong, false) => s.code_wrong,
        (CodeError::Replayed, false) => s.code_replayed,
        (CodeError::Missing, true) => s.recovery_missing,
        (_, true) => s.recovery_wrong,
    }
}

/// A one-time code input: `id` unique on the page, posted as `code`.
fn code_field(
    id: &'static str,
    label: &'static str,
    hint: &'static str,
    numeric: bool,
    error: Option<String>,
) -> FieldView {
    let mut f = FieldView::new(id, label, "text", "one-time-code")
        .hint(hint)
        .error(error);
    f.name = "code";
    f.plain = true;
    f.maxlength = 32;
    if numeric {
        f.inputmode = Some("numeric");
    }
    f.done()
}

impl SecurityPage {
    pub fn render(&self) -> String {
        let lang = self.lang;
        let s = i18n::security_texts(lang);
        let credentials = self
            .credentials
            .iter()
            .map(|row| {
                let kind = match row.kind.as_str() {
                    "totp" => s.kind_totp.to_string(),
                    "passkey" => s.kind_passkey.to_string(),
                    other => other.to_string(),
                };
                let label = if row.label.trim().is_empty() {
                    format!("{kind}, {}", row.created)
                } else {
                    row.label.clone()
                };
                CredentialRowView {
                    row,
                    kind,
                    remove_for: fill(s.remove_for, "label", &label),
                }
            })
            .collect();
        let recovery_line = if self.recovery_left > 0 {
            fill(s.recovery_left, "count", &self.recovery_left.to_string())
        } else {
            s.recovery_none.to_string()
        };
        let view = SecurityView {
            chrome: Chrome::new(lang, s.security_title, false),
            s,
            p: self,
            notice: self.notice.map(|n| match n {
                SecurityNotice::TotpAdded => s.notice_totp_added,
                SecurityNotice::Removed => s.notice_removed,
            }),
            credentials,
            recovery_line,
        };
        finish(&view, lang)
    }
}

impl TotpSetupPage {
    pub fn render(&self) -> String {
        let lang = self.lang;
        let s = i18n::security_texts(lang);
        let error = self
            .error
            .map(|e| code_error_text(lang, e, false).to_string());
        let summary = error
            .iter()
            .map(|m| SummaryItem {
                href: Some("#totp-code".into()),
                message: m.clone(),
            })
            .collect::<Vec<_>>();
        let field = code_field("totp-code", s.code_label, s.code_hint, true, error);
        let qr_box = self
            .qr
            .as_ref()
            .map(|(_, w)| format!("-4 -4 {} {}", w + 8, w + 8))
            .unwrap_or_default();
        let view = TotpSetupView {
            chrome: Chrome::new(lang, s.totp_setup_title, !summary.is_empty()),
            s,
            p: self,
            summary,
            field: Some(field),
            manual_details: fill(s.totp_manual_details, "email", &self.email),
            qr_box,
        };
        finish(&view, lang)
    }
}

impl RecoveryCodesPage {
    pub fn render(&self) -> String {
        let s = i18n::security_texts(self.lang);
        let view = RecoveryCodesView {
            chrome: Chrome::new(self.lang, s.recovery_title, false),
            s,
            p: self,
        };
        finish(&view, self.lang)
    }
}

impl StepUpPage {
    pub fn render(&self) -> String {
        let lang = self.lang;
        let s = i18n::security_texts(lang);
        let level = i18n::level_name(lang, &self.level);
        let needed = match &self.client_name {
            _ if self.req.is_empty() => s.stepup_account.to_string(),
            Some(c) if !c.trim().is_empty() => {
                fill(&fill(s.stepup_needed_client, "client", c), "level", level)
            }
            _ => fill(s.stepup_needed, "level", level),
        };
        let current_name = i18n::level_name(lang, &self.current_level);
        let mut summary = Vec::new();
        let (mut totp_error, mut recovery_error) = (None, None);
        let attempts = self
            .attempts_left
            .map(|n| fill(s.attempts_left, "count", &n.to_string()));
        let with_attempts = |m: &str| match &attempts {
            Some(a) => format!("{m} {a}"),
            None => m.to_string(),
        };
        match self.error {
            Some(StepUpError::Totp(e)) => {
                let m = with_attempts(code_error_text(lang, e, false));
                summary.push(SummaryItem {
                    href: Some("#totp-code".into()),
                    message: m.clone(),
                });
                totp_error = Some(m);
            }
            Some(StepUpError::Recovery(e)) => {
                let m = with_attempts(code_error_text(lang, e, true));
                summary.push(SummaryItem {
                    href: Some("#recovery-code".into()),
                    message: m.clone(),
                });
                recovery_error = Some(m);
            }
            None => {}
        }
        let recovery_open = recovery_error.is_some();
        let view = StepUpView {
            chrome: Chrome::new(lang, s.stepup_title, !summary.is_empty()),
            s,
            p: self,
            needed,
            current: fill(s.stepup_current, "level", current_name),
            decline_text: fill(s.stepup_decline_text, "level", current_name),
            summary,
            totp_field: self
                .totp
                .then(|| code_field("totp-code", s.code_label, s.code_hint, true, totp_error)),
            recovery_field: (self.recovery_left > 0).then(|| {
                code_field(
                    "recovery-code",
                    s.recovery_label,
                    s.recovery_hint,
                    false,
                    recovery_error,
                )
            }),
            recovery_open,
        };
        finish(&view, lang)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const XSS: &str = "<script>alert(1)</script>\"'&";

    /// Values of attribute `attr` on all tags named `tag` (naive scan; fine for our markup).
    fn attr_values(html: &str, tag: &str, attr: &str) -> Vec<String> {
        let mut out = Vec::new();
        let open = format!("<{tag} ");
        for (start, _) in html.match_indices(&open) {
            let end = html[start..]
                .find('>')
                .map(|e| start + e)
                .unwrap_or(html.len());
            let el = &html[start..end];
            let key = format!(" {attr}=\"");
            if let Some(i) = el.find(&key) {
                let rest = &el[i + key.len()..];
                out.push(rest[..rest.find('"').unwrap_or(rest.len())].to_string());
            }
        }
        out
    }

    /// Whole opening tags `<input …>`.
    fn tags<'h>(html: &'h str, tag: &str) -> Vec<&'h str> {
        let open = format!("<{tag} ");
        html.match_indices(&open)
            .map(|(start, _)| {
                let end = html[start..]
                    .find('>')
                    .map(|e| start + e + 1)
                    .unwrap_or(html.len());
                &html[start..end]
            })
            .collect()
    }

    fn has_id(html: &str, id: &str) -> bool {
        html.contains(&format!(" id=\"{id}\""))
    }

    /// Checks shared by every page.
    fn check_common(html: &str, lang: Lang) {
        assert!(html.starts_with("<!DOCTYPE html>"), "doctype");
        assert!(
            html.contains(&format!("<html lang=\"{}\">", lang.code())),
            "lang attr"
        );
        assert!(html.contains("<main id=\"main\""), "main landmark");
        assert!(html.contains("href=\"#main\""), "skip link");
        assert!(html.contains("/static/pforte.css"));
        assert!(!html.contains("<script>alert"), "unescaped script:\n{html}");
        assert!(!html.contains("\"'&\""), "unescaped quote");
        // Every visible input has a <label for=…>.
        for input in tags(html, "input") {
            if input.contains("type=\"hidden\"") {
                continue;
            }
            let id = attr_values(input, "input", "id");
            assert_eq!(id.len(), 1, "input without id: {input}");
            assert!(
                html.contains(&format!("<label class=\"field__label\" for=\"{}\">", id[0])),
                "no label for {}",
                id[0]
            );
        }
        // aria-describedby / aria-labelledby refer to existing ids.
        for attr in ["aria-describedby", "aria-labelledby"] {
            for tag in ["input", "div", "section"] {
                for ids in attr_values(html, tag, attr) {
                    for id in ids.split_whitespace() {
                        assert!(has_id(html, id), "{attr} -> missing id {id}");
                    }
                }
            }
        }
        // No element id twice.
        let ids: Vec<_> = html
            .match_indices(" id=\"")
            .map(|(i, m)| {
                let rest = &html[i + m.len()..];
                &rest[..rest.find('"').unwrap()]
            })
            .collect();
        for id in &ids {
            assert_eq!(
                ids.iter().filter(|x| *x == id).count(),
                1,
                "duplicate id {id}"
            );
        }
    }

    fn login(lang: Lang, error: Option<LoginError>) -> LoginPage {
        LoginPage {
            lang,
            client_name: Some(format!("Bürgerservice {XSS}")),
            action: format!("/login?x={XSS}"),
            csrf: XSS.into(),
            req: XSS.into(),
            email: format!("a@b.de{XSS}"),
            error,
            register_url: format!("/register?{XSS}"),
            lang_urls: (
                format!("/login?ui_locales=de&{XSS}"),
                format!("/login?ui_locales=en&{XSS}"),
            ),
        }
    }

    #[test]
    fn login_renders_both_languages() {
        for lang in Lang::ALL {
            let html = login(lang, None).render();
            check_common(&html, lang);
            let t = lang.texts();
            assert!(html.contains(&format!("<h1>{}</h1>", t.login_title)));
            assert!(html.contains("type=\"email\""));
            assert!(html.contains("autocomplete=\"username\""));
            assert!(html.contains("type=\"password\""));
            assert!(html.contains("autocomplete=\"current-password\""));
            assert!(html.contains(
                "name=\"csrf\" value=\"&#60;script&#62;alert(1)&#60;/script&#62;&#34;&#39;&#38;\""
            ));
            assert!(html.contains("name=\"req\""));
            assert!(
                !html.contains("role=\"alert\""),
                "no error summary without error"
            );
            assert!(!html.contains("aria-invalid"));
            // Language switch points to the other language.
            let other = lang.other();
            assert!(html.contains(&format!("hreflang=\"{}\"", other.code())));
            assert!(html.contains(other.native_name()));
            assert!(html.contains(t.login_register_link));
        }
        let de = login(Lang::De, None).render();
        assert!(de.contains("E-Mail-Adresse"));
        assert!(de.contains(">Anmelden</button>"));
        assert!(de.contains("Noch kein Konto?"));
        assert!(de.contains("Servicekonto Ihrer Kommune"));
        assert!(de.contains("href=\"/login?ui_locales=en&#38;"));
        let en = login(Lang::En, None).render();
        assert!(en.contains("Your municipality’s citizen account"));
        // password is never echoed back
        assert_eq!(
            tags(&de, "input")
                .iter()
                .filter(|t| t.contains("type=\"password\"") && t.contains("value="))
                .count(),
            0
        );
    }

    #[test]
    fn login_errors_do_not_reveal_account_state() {
        for lang in Lang::ALL {
            let invalid = login(lang, Some(LoginError::InvalidCredentials)).render();
            let disabled = login(lang, Some(LoginError::AccountDisabled)).render();
            assert_eq!(invalid, disabled);
            check_common(&invalid, lang);
            assert!(invalid.contains(lang.texts().login_failed));
            assert!(invalid.contains("role=\"alert\""));
            assert!(invalid.contains("tabindex=\"-1\""));
            assert!(invalid.contains(&format!("<title>{} ", lang.texts().error_prefix)));
            for input in tags(&invalid, "input")
                .iter()
                .filter(|t| !t.contains("hidden"))
            {
                assert!(input.contains("aria-invalid=\"true\""), "{input}");
                assert!(
                    input.contains("aria-describedby=\"credentials-error\""),
                    "{input}"
                );
            }
        }
        let de = login(Lang::De, Some(LoginError::InvalidCredentials)).render();
        assert!(de.contains("E-Mail-Adresse oder Passwort ist falsch."));
    }

    #[test]
    fn login_missing_field_and_csrf() {
        let html = login(
            Lang::De,
            Some(LoginError::MissingField {
                field: LoginField::Password,
            }),
        )
        .render();
        check_common(&html, Lang::De);
        let pw = tags(&html, "input")
            .into_iter()
            .find(|t| t.contains("id=\"password\""))
            .unwrap();
        assert!(
            pw.contains("aria-invalid=\"true\"")
                && pw.contains("aria-describedby=\"password-error\"")
        );
        let email = tags(&html, "input")
            .into_iter()
            .find(|t| t.contains("id=\"email\""))
            .unwrap();
        assert!(!email.contains("aria-invalid"));
        assert!(html.contains("href=\"#password\""));

        let html = login(
            Lang::De,
            Some(LoginError::MissingField {
                field: LoginField::Email,
            }),
        )
        .render();
        check_common(&html, Lang::De);
        assert!(html.contains("id=\"email-error\""));

        let html = login(Lang::En, Some(LoginError::CsrfExpired)).render();
        check_common(&html, Lang::En);
        assert!(html.contains("role=\"alert\""));
        assert!(html.contains(Lang::En.texts().session_expired));
        let de = login(Lang::De, Some(LoginError::CsrfExpired)).render();
        assert!(de.contains("Die Sitzung ist abgelaufen, bitte erneut versuchen"));
    }

    #[test]
    fn consent_page() {
        for lang in Lang::ALL {
            let page = ConsentPage {
                lang,
                client_name: format!("Stadt {XSS}"),
                scopes: vec![
                    "openid".into(),
                    "profile email".into(),
                    "address".into(),
                    "phone".into(),
                    "offline_access".into(),
                    XSS.into(),
                    "email".into(),
                ],
                action: XSS.into(),
                csrf: XSS.into(),
                req: XSS.into(),
            };
            let html = page.render();
            check_common(&html, lang);
            for s in [
                "openid",
                "profile",
                "email",
                "address",
                "phone",
                "offline_access",
            ] {
                let (label, _) = i18n::scope_text(lang, s).unwrap();
                assert!(html.contains(label), "{s}");
                assert_eq!(
                    html.matches(&format!("data-scope=\"{s}\"")).count(),
                    1,
                    "{s} once"
                );
            }
            assert!(html.contains("name=\"decision\" value=\"allow\""));
            assert!(html.contains("name=\"decision\" value=\"deny\""));
            assert!(html.contains(lang.texts().consent_remember));
        }
        let de = ConsentPage {
            client_name: "Bibliothek".into(),
            scopes: vec!["email".into()],
            ..Default::default()
        }
        .render();
        assert!(de.contains(">Zulassen</button>") && de.contains(">Ablehnen</button>"));
        assert!(de.contains("„Bibliothek“"));
    }

    #[test]
    fn error_page() {
        for lang in Lang::ALL {
            let page = ErrorPage {
                lang,
                status: 400,
                title: None,
                error: format!("invalid_request{XSS}"),
                description: format!("redirect_uri https://evil.example/{XSS} not registered"),
            };
            let html = page.render();
            check_common(&html, lang);
            // Only the skip link and footer links, never the (untrusted) client.
            for href in attr_values(&html, "a", "href") {
                assert!(
                    href.starts_with('#') || href.starts_with('/'),
                    "link {href}"
                );
            }
            assert!(html.contains("<code>400</code>"));
        }
        let html = ErrorPage {
            error: "invalid_request".into(),
            status: 400,
            ..Default::default()
        }
        .render();
        assert!(html.contains("Die Anmeldung konnte nicht gestartet werden"));
        assert!(html.contains("<code>invalid_request</code>"));
        let html = ErrorPage {
            title: Some(XSS.into()),
            ..Default::default()
        }
        .render();
        check_common(&html, Lang::De);
        let html = ErrorPage {
            lang: Lang::En,
            status: 404,
            error: "not_found".into(),
            ..Default::default()
        }
        .render();
        assert!(html.contains("<h1>Page not found</h1>"));
    }

    #[test]
    fn form_post_page() {
        for lang in Lang::ALL {
            let page = FormPostPage {
                action: format!("https://rp.example/cb?a=1&{XSS}"),
                fields: vec![
                    ("code".into(), XSS.into()),
                    ("state".into(), "abc".into()),
                    ("submit".into(), "x".into()),
                    (XSS.into(), "v".into()),
                ],
                lang,
                nonce: format!("n0nce{XSS}"),
            };
            let html = page.render();
            check_common(&html, lang);
            assert!(html.contains("action=\"https://rp.example/cb?a=1&#38;"));
            assert!(html.contains("<script nonce=\"n0nce&"));
            assert_eq!(html.matches("<script").count(), 1);
            assert!(html.contains("HTMLFormElement.prototype.submit.call"));
            let noscript =
                &html[html.find("<noscript>").unwrap()..html.find("</noscript>").unwrap()];
            assert!(noscript.contains(&format!(">{}</button>", lang.texts().formpost_button)));
            assert!(html.contains("type=\"hidden\" name=\"state\" value=\"abc\""));
            assert_eq!(tags(&html, "input").len(), 4);
        }
        // Without a nonce the button is visible and no (blocked) script is emitted.
        let html = FormPostPage {
            action: "https://rp.example/cb".into(),
            ..Default::default()
        }
        .render();
        assert!(!html.contains("<script") && !html.contains("<noscript>"));
        assert!(html.contains(">Weiter</button>"));
        // Dangerous schemes are never rendered as form actions.
        for bad in [
            "javascript:alert(1)",
            " JavaScript:alert(1)",
            "data:text/html,x",
            "//evil",
            "",
        ] {
            let html = FormPostPage {
                action: bad.into(),
                nonce: "n".into(),
                ..Default::default()
            }
            .render();
            assert!(!html.contains("<form"), "{bad}");
            assert_eq!(html, fallback_page(Lang::De));
        }
        assert!(FormPostPage {
            action: "HTTPS://rp.example/".into(),
            ..Default::default()
        }
        .render()
        .contains("<form"));
    }

    #[test]
    fn logout_pages() {
        for lang in Lang::ALL {
            let page = LogoutPage {
                lang,
                action: "/logout".into(),
                csrf: XSS.into(),
                client_name: Some(XSS.into()),
                post_logout_redirect_uri: Some(format!("https://rp.example/{XSS}")),
                state: Some(XSS.into()),
                id_token_hint: None,
                client_id: Some("rp".into()),
            };
            let html = page.render();
            check_common(&html, lang);
            assert!(html.contains("name=\"post_logout_redirect_uri\""));
            assert!(html.contains("name=\"state\""));
            assert!(html.contains("name=\"client_id\" value=\"rp\""));
            assert!(!html.contains("id_token_hint"));
            assert!(html.contains(lang.texts().logout_heading));
            let html = LoggedOutPage { lang }.render();
            check_common(&html, lang);
            assert!(html.contains(lang.texts().logged_out_title));
        }
        let html = LogoutPage::default().render();
        assert!(html.contains("Möchten Sie sich abmelden?") && html.contains(">Abmelden</button>"));
        assert!(LoggedOutPage::default()
            .render()
            .contains("Sie sind abgemeldet"));
    }

    #[test]
    fn account_page() {
        for lang in Lang::ALL {
            let page = AccountPage {
                lang,
                display_name: XSS.into(),
                email: XSS.into(),
                level_label: i18n::level_label(lang, "low").unwrap().into(),
                csrf: XSS.into(),
                logout_action: "/logout".into(),
                consents: vec![
                    ConsentRow {
                        client_name: XSS.into(),
                        scopes: vec!["openid".into(), "email".into(), XSS.into()],
                        granted_at: "1. März 2025".into(),
                        revoke_action: format!("/account/consents/1/revoke?{XSS}"),
                    },
                    ConsentRow {
                        client_name: "Hundesteuer".into(),
                        scopes: vec!["openid profile".into()],
                        granted_at: "2. März 2025".into(),
                        revoke_action: "/account/consents/2/revoke".into(),
                    },
                ],
            };
            let html = page.render();
            check_common(&html, lang);
            assert_eq!(
                html.matches(&format!(
                    "{}<span class=\"visually-hidden\">",
                    lang.texts().account_revoke
                ))
                .count(),
                2
            );
            assert_eq!(html.matches("<form method=\"post\"").count(), 3);
            let empty = AccountPage {
                lang,
                ..Default::default()
            }
            .render();
            assert!(empty.contains(lang.texts().account_consents_none));
        }
        let html = AccountPage {
            consents: vec![ConsentRow::default()],
            ..Default::default()
        }
        .render();
        assert!(html.contains("Zugriff entziehen"));
    }

    #[test]
    fn register_pages() {
        for lang in Lang::ALL {
            let t = lang.texts();
            let page = RegisterPage {
                lang,
                action: "/register".into(),
                csrf: XSS.into(),
                req: XSS.into(),
                email: XSS.into(),
                given_name: XSS.into(),
                family_name: XSS.into(),
                errors: vec![],
                login_url: "/login".into(),
                min_password_len: 12,
            };
            let html = page.render();
            check_common(&html, lang);
            assert!(html.contains("autocomplete=\"new-password\""));
            assert!(html.contains("minlength=\"12\""));
            assert!(html.contains("autocomplete=\"given-name\""));
            assert!(html.contains("autocomplete=\"family-name\""));
            assert!(html.contains("aria-describedby=\"password-hint\""));
            assert!(html.contains(&fill(t.password_hint, "min", "12")));
            assert!(html.contains("name=\"req\" value=\"&#60;script"));
            assert!(!html.contains("role=\"alert\""));
            // Only e-mail and password are required; the names say "(optional)".
            assert!(
                !t.register_intro.contains("Alle Felder")
                    && !t.register_intro.contains("All fields")
            );
            let inputs = tags(&html, "input");
            let required: Vec<String> = inputs
                .iter()
                .filter(|i| i.contains(" required "))
                .flat_map(|i| attr_values(i, "input", "name"))
                .collect();
            assert_eq!(required, ["email", "password"]);
            for (id, label) in [
                ("given_name", t.given_name_label),
                ("family_name", t.family_name_label),
            ] {
                assert!(html.contains(&format!(
                    "<label class=\"field__label\" for=\"{id}\">{label} {}</label>",
                    t.optional_marker
                )));
            }
            assert!(html.contains(&format!(
                "<label class=\"field__label\" for=\"email\">{}</label>",
                t.email_label
            )));

            let page = RegisterPage {
                errors: vec![
                    ("password".into(), "password_too_short".into()),
                    ("email".into(), "email_invalid".into()),
                    ("form".into(), format!("Freitext {XSS}")),
                ],
                ..page
            };
            let html = page.render();
            check_common(&html, lang);
            assert!(html.contains("role=\"alert\""));
            assert!(html.contains(
                "aria-describedby=\"password-hint password-error\" aria-invalid=\"true\""
            ));
            assert!(
                html.contains("aria-describedby=\"email-hint email-error\" aria-invalid=\"true\"")
            );
            // summary in form order: email before password
            assert!(
                html.find("href=\"#email\"").unwrap() < html.find("href=\"#password\"").unwrap()
            );
            assert!(html.contains("Freitext &"));

            let done = RegisterDonePage {
                lang,
                email: XSS.into(),
                csrf: XSS.into(),
                resend_action: "/register/resend".into(),
                continue_url: None,
                client_name: None,
            }
            .render();
            check_common(&done, lang);
            assert!(done.contains("action=\"/register/resend\""));
            assert!(done.contains("name=\"email\" value=\"&#60;script"));
            assert!(done.contains(t.register_resend_submit));
            assert!(!done.contains(t.register_continue_link));
            let back = RegisterDonePage {
                lang,
                continue_url: Some("/login?req=abc".into()),
                client_name: Some(XSS.into()),
                ..Default::default()
            }
            .render();
            check_common(&back, lang);
            assert!(back.contains("href=\"/login?req=abc\""));
            assert!(back.contains(t.register_continue_link));

            let verified = RegisterVerifiedPage {
                lang,
                account_url: "/account".into(),
                continue_url: Some("/login?req=abc".into()),
                client_name: Some("Hundesteuer".into()),
            }
            .render();
            check_common(&verified, lang);
            assert!(verified.contains(&fill(
                t.register_verified_continue_client,
                "client",
                "Hundesteuer"
            )));
            assert!(
                verified.contains("href=\"/login?req=abc\"")
                    && verified.contains("href=\"/account\"")
            );

            let resend = RegisterResendPage {
                lang,
                action: "/register/resend".into(),
                csrf: XSS.into(),
                email: XSS.into(),
                errors: vec![("email".into(), "email_invalid".into())],
                invalid_link: true,
                login_url: "/login".into(),
            }
            .render();
            check_common(&resend, lang);
            let invalid = i18n::error_text(lang, "invalid_verification_link", 400);
            assert!(resend.contains(&format!("<h1>{}</h1>", invalid.title)));
            assert!(resend.contains(t.register_resend_title));
            assert!(resend.contains("aria-describedby=\"email-error\" aria-invalid=\"true\""));
            let form = RegisterResendPage {
                lang,
                ..Default::default()
            }
            .render();
            check_common(&form, lang);
            assert!(form.contains(&format!("<h1>{}</h1>", t.register_resend_title)));
            let resent = RegisterResentPage {
                lang,
                email: XSS.into(),
                login_url: "/login".into(),
            }
            .render();
            check_common(&resent, lang);
            assert!(resent.contains(t.register_resent_title));
        }
        let de = RegisterPage {
            errors: vec![("password".into(), "password_too_short".into())],
            ..Default::default()
        }
        .render();
        assert!(de.contains("mindestens 12 Zeichen lang"));
        // Another configured minimum: hint, minlength and message all name it.
        let de16 = RegisterPage {
            errors: vec![("password".into(), "password_too_short".into())],
            min_password_len: 16,
            ..Default::default()
        }
        .render();
        assert!(de16.contains("minlength=\"16\""));
        assert!(de16.contains("Mindestens 16 Zeichen."));
        assert!(de16.contains("mindestens 16 Zeichen lang"));
        assert!(!de16.contains("minlength=\"12\"") && !de16.contains(" 12 Zeichen"));
        let done = RegisterDonePage {
            lang: Lang::De,
            email: "a@b.de".into(),
            ..Default::default()
        }
        .render();
        assert!(done.contains("Wir haben Ihnen eine E-Mail an a@b.de geschickt"));
        let back = RegisterDonePage {
            continue_url: Some("/login?req=r".into()),
            client_name: Some("Hundesteuer".into()),
            ..Default::default()
        }
        .render();
        assert!(back.contains("Sie können die Anmeldung bei „Hundesteuer“ jetzt fortsetzen."));
        assert!(back.contains(">Zurück zur Anmeldung</a>"));
        let resent = RegisterResentPage {
            email: "a@b.de".into(),
            ..Default::default()
        }
        .render();
        assert!(resent.contains("Wenn es für a@b.de ein Servicekonto gibt"));
    }

    #[test]
    fn totp_security_and_stepup_pages() {
        for lang in Lang::ALL {
            let s = i18n::security_texts(lang);
            let page = SecurityPage {
                lang,
                csrf: XSS.into(),
                credentials: vec![
                    CredentialRow {
                        kind: "totp".into(),
                        label: String::new(),
                        created: "2026-01-02".into(),
                        last_used: None,
                        remove_action: format!("/account/security/credentials/1/remove?{XSS}"),
                    },
                    CredentialRow {
                        kind: "passkey".into(),
                        label: XSS.into(),
                        created: "2026-01-03".into(),
                        last_used: Some("2026-01-04".into()),
                        remove_action: "/account/security/credentials/2/remove".into(),
                    },
                ],
                recovery_left: 7,
                confirm_url: None,
                notice: Some(SecurityNotice::Removed),
                totp_url: "/account/security/totp".into(),
                recovery_action: "/account/security/recovery-codes".into(),
                account_url: "/account".into(),
            };
            let html = page.render();
            check_common(&html, lang);
            assert!(html.contains(s.totp_setup_link));
            assert!(html.contains(s.notice_removed) && html.contains("role=\"status\""));
            assert_eq!(html.matches("/remove").count(), 2);
            assert!(html.contains(&fill(s.recovery_left, "count", "7")));
            assert!(html.contains("id=\"passkey-register\" data-csrf=\"&#60;script"));
            assert!(html.contains("<script src=\"/static/passkey.js\" defer></script>"));
            assert!(html.contains(s.cred_never));
            // Until the second factor is confirmed: a link to confirm, no forms to change things.
            let locked = SecurityPage {
                confirm_url: Some("/stepup?level=substantial".into()),
                ..page.clone()
            }
            .render();
            check_common(&locked, lang);
            assert!(locked.contains("href=\"/stepup?level=substantial\""));
            assert!(!locked.contains("<form") && !locked.contains("passkey-register"));

            let setup = TotpSetupPage {
                lang,
                csrf: XSS.into(),
                action: "/account/security/totp".into(),
                email: XSS.into(),
                secret: "ABCD EFGH".into(),
                qr: crate::accounts::totp::qr_path("otpauth://totp/x"),
                error: None,
                cancel_url: "/account/security".into(),
            };
            let html = setup.render();
            check_common(&html, lang);
            assert!(html.contains("<svg class=\"qr\" viewBox=\"-4 -4 "));
            assert!(html.contains("aria-labelledby=\"qr-title\""));
            assert!(html.contains("id=\"totp-secret\""));
            assert!(html.contains("autocomplete=\"one-time-code\""));
            assert!(html.contains("inputmode=\"numeric\""));
            let html = TotpSetupPage {
                error: Some(CodeError::Wrong),
                ..setup
            }
            .render();
            check_common(&html, lang);
            assert!(html.contains(s.code_wrong));
            assert!(html.contains(
                "aria-describedby=\"totp-code-hint totp-code-error\" aria-invalid=\"true\""
            ));
            assert!(html.contains("href=\"#totp-code\""));

            let codes = RecoveryCodesPage {
                lang,
                codes: vec!["abcde-fghjk".into(), XSS.into()],
                totp_added: true,
                continue_url: "/account/security".into(),
            }
            .render();
            check_common(&codes, lang);
            assert!(codes.contains("<li><code>abcde-fghjk</code></li>"));

            let stepup = StepUpPage {
                lang,
                client_name: Some(XSS.into()),
                level: "substantial".into(),
                current_level: "low".into(),
                req: XSS.into(),
                csrf: XSS.into(),
                totp: true,
                recovery_left: 3,
                passkey: true,
                error: None,
                attempts_left: None,
                cancel_url: "/account/security".into(),
            };
            let html = stepup.render();
            check_common(&html, lang);
            assert!(html.contains(s.level_substantial) && html.contains(s.level_low));
            assert!(html.contains("action=\"/stepup/totp\""));
            assert!(html.contains("action=\"/stepup/recovery\""));
            assert!(html.contains("action=\"/stepup/decline\""));
            assert!(html.contains(&format!(">{}</button>", s.stepup_decline)));
            assert!(html.contains("id=\"passkey-stepup\" data-req=\"&#60;script"));
            assert!(!html.contains("<details class=\"more\" open>"));
            let html = StepUpPage {
                error: Some(StepUpError::Recovery(CodeError::Wrong)),
                attempts_left: Some(2),
                ..stepup.clone()
            }
            .render();
            check_common(&html, lang);
            assert!(html.contains("<details class=\"more\" open>"));
            assert!(html.contains(&fill(s.attempts_left, "count", "2")));
            assert!(html.contains(
                "aria-describedby=\"recovery-code-hint recovery-code-error\" aria-invalid=\"true\""
            ));
            // Nothing to offer, no request: only the way back.
            let html = StepUpPage {
                req: String::new(),
                totp: false,
                recovery_left: 0,
                passkey: false,
                ..stepup
            }
            .render();
            check_common(&html, lang);
            assert!(html.contains(s.stepup_none) && html.contains(s.stepup_account));
            assert!(!html.contains("<form"));
        }
        let de = StepUpPage {
            level: "substantial".into(),
            req: "r".into(),
            ..Default::default()
        }
        .render();
        assert!(de.contains("Für diesen Dienst ist das Vertrauensniveau „substanziell“ nötig."));
    }

    #[test]
    fn fallback_is_static_and_localised() {
        assert!(fallback_page(Lang::De).contains("<html lang=\"de\">"));
        assert!(fallback_page(Lang::En).contains("<html lang=\"en\">"));
    }
}
