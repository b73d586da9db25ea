//! The login page: the form, its field and credential errors.

use askama::Template;

use super::{fill, finish, Chrome, FieldView, Lang, SiteConfig, SummaryItem};

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
    /// Throttled (`crate::throttle`): no password was checked; the next attempt is possible
    /// at `time` (`HH:MM`, German local time). The same for known and unknown addresses.
    TooManyAttempts { time: String },
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
    pub lang_switch: String,
    /// Upstream sources the client allows ("Mit Servicekonto.NRW anmelden").
    pub sources: super::SourceForms,
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
    f: &'static super::i18n::FederationTexts,
    forms: &'a super::SourceForms,
    sources: Vec<super::federation::SourceView>,
    /// "Passwort vergessen?" (`web::recovery`), in the page's language.
    forgot_url: String,
    forgot_label: &'static str,
}

impl LoginPage {
    pub fn render(&self, site: &SiteConfig) -> String {
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
            Some(LoginError::TooManyAttempts { time }) => summary.push(SummaryItem {
                href: None,
                message: fill(lang.catalog().throttle.login_locked, "time", time),
            }),
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
            chrome: Chrome::new(site, lang, t.login_title, !summary.is_empty())
                .with_switch(lang, &self.lang_switch),
            p: self,
            intro,
            summary,
            form_error,
            forgot_url: format!("/password/forgot?ui_locales={}", lang.code()),
            forgot_label: lang.catalog().recovery.forgot_link,
            fields,
            f: super::i18n::federation_texts(lang),
            forms: &self.sources,
            sources: self
                .sources
                .views(lang, super::i18n::federation_texts(lang).login_with),
        };
        finish(&view, lang)
    }
}
