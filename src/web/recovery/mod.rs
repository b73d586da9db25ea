//! Account recovery and changing the credentials that recovery depends on: "Passwort
//! vergessen?", the reset link, changing the password, changing the e-mail address.
//!
//! - `GET /password/forgot` shows the form (e-mail, CSRF); `POST /password/forgot` answers
//!   with the same page for every syntactically valid address ("if there is an account, a link
//!   is on its way"). The lookup, the link and the mail happen after the answer, in a task, so
//!   neither the page nor its timing tells whether the address has an account. Valid requests
//!   are limited per client address (the registration limiter) and per account (one mail per
//!   [`RESET_MAIL_WINDOW`]).
//! - The link (`/password/reset?token=…`, single use, `login.password_reset_ttl_secs`, only the
//!   token's SHA-256 stored, in a table of its own so that no other kind of link can stand in
//!   for it) opens the form to choose a new password; `GET` changes nothing (mail scanners).
//!   `POST /password/reset` checks the password rules (`accounts::password_rules`), then in
//!   one transaction uses the link, sets the password, voids the account's other reset and
//!   registration links and queues the notice mail; then every session of the account ends
//!   (`sessions::end`) and `account.password_reset` is audited.
//! - `GET/POST /account/security/password`: a logged-in citizen changes the password with the
//!   current one (or, for an account without one, after a fresh login); other sessions end,
//!   notice mail, `account.password_changed`.
//! - `GET/POST /account/security/email`: a logged-in citizen asks for a new address (with the
//!   current password, or a fresh login); a confirmation link goes to the new address
//!   (`account.email_change_requested`). `GET /account/email/confirm?token=…` shows a button,
//!   `POST` confirms: only then the address changes (verified), the old address is told,
//!   `account.email_changed`. The address is taken only if no other account has it by then.
//!
//! Tokens and passwords never reach the logs or the audit trail.

mod email;
mod forgot;
mod password;
mod reset;

pub use self::{email::*, forgot::*, password::*, reset::*};

use axum::{
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use tower_sessions::Session;

use super::{
    account::citizen,
    authorize::lang,
    client_addr::ClientAddr,
    csrf::{CsrfForm, CsrfRejection, HasCsrf},
    error::{internal, PageError},
    i18n::{fill, Lang, RecoveryTexts},
    pages::{FormField, FormPage, NoticePage},
    register::take_submission,
    session,
};
use crate::{
    accounts::{self, password_rules, HashError},
    app::App,
    audit::{self, Actor, Entry, Event},
    mail::{self, Mail},
    oidc::SsoLogin,
    secrets,
    store::{
        accounts::Account,
        recovery::{EmailChangeOutcome, PendingEmailChange, PendingReset},
    },
};

/// At most one reset link per account in this many seconds.
pub const RESET_MAIL_WINDOW: i64 = 5 * 60;
/// How recent a login must be to change the password or address of an account that has no
/// password to confirm with.
pub const FRESH_LOGIN_SECS: i64 = 10 * 60;
pub const FORGOT_URL: &str = "/password/forgot";
pub const RESET_URL: &str = "/password/reset";
pub const PASSWORD_URL: &str = "/account/security/password";
pub const EMAIL_URL: &str = "/account/security/email";
pub const EMAIL_CONFIRM_URL: &str = "/account/email/confirm";

#[derive(Deserialize, Default)]
pub struct LangQuery {
    pub ui_locales: Option<String>,
    pub token: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct EmailForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub current_password: String,
}

impl HasCsrf for EmailForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

#[derive(Deserialize, Default)]
pub struct PasswordForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub token: String,
    #[serde(default)]
    pub current_password: String,
    #[serde(default)]
    pub password: String,
}

impl HasCsrf for PasswordForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// The page language and the query that keeps an explicit choice (built from the chosen
/// language, never echoing input).
fn page_lang(headers: &HeaderMap, ui_locales: Option<&str>) -> (Lang, String) {
    let explicit = ui_locales.filter(|u| u.split_whitespace().any(|t| Lang::parse(t).is_some()));
    let lang = lang(headers, explicit);
    let query = if explicit.is_some() {
        format!("?ui_locales={}", lang.code())
    } else {
        String::new()
    };
    (lang, query)
}

fn texts(lang: Lang) -> &'static RecoveryTexts {
    lang.catalog().recovery
}

/// A link token that could match (43 characters of base64url are issued).
fn plausible_token(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= 128
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The form of a recovery page and whether its CSRF token held; an unreadable body counts as
/// an empty form whose token did not. `Err` only when the session store failed.
fn read_form<T: Default>(
    form: Result<CsrfForm<T>, CsrfRejection<T>>,
) -> Result<(T, bool), session::SessionError> {
    match form {
        Ok(CsrfForm(f)) => Ok((f, true)),
        Err(CsrfRejection::Expired(f)) => Ok((f, false)),
        Err(CsrfRejection::Unreadable(_)) => Ok((T::default(), false)),
        Err(CsrfRejection::Session(e)) => Err(e),
    }
}

/// The query of a link's page (`?token=…&ui_locales=…`): the page language, the query that
/// keeps an explicit choice, and the token (empty when missing).
fn link_query(
    headers: &HeaderMap,
    q: Result<Query<LangQuery>, axum::extract::rejection::QueryRejection>,
) -> (Lang, String, String) {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let (lang, query) = page_lang(headers, q.ui_locales.as_deref());
    (lang, query, q.token.unwrap_or_default())
}

/// What the link `token` of `purpose` stands for, looked up by its hash with `lookup`; an
/// implausible token is not looked up at all.
async fn pending_link<T, F>(
    token: &str,
    purpose: &str,
    lookup: impl FnOnce(String) -> F,
) -> Result<Option<T>, crate::store::StoreError>
where
    F: std::future::Future<Output = Result<Option<T>, crate::store::StoreError>>,
{
    if !plausible_token(token) {
        return Ok(None);
    }
    lookup(token_hash(purpose, token)).await
}

/// The stored hash of a link token of `purpose`: a token is only ever looked up in its own
/// purpose's table, and the hash is bound to the purpose as well.
fn token_hash(purpose: &str, token: &str) -> String {
    secrets::hash_secret(&format!("{purpose}|{token}"))
}

fn html(status: StatusCode, body: String) -> Response {
    (status, Html(body)).into_response()
}

fn notice(app: &App, status: StatusCode, page: NoticePage) -> Response {
    html(status, page.render(&app.config.site))
}

fn busy(lang: Lang) -> Response {
    PageError::oauth(&crate::oidc::error::OAuthError::temporarily_unavailable(
        "too many password checks at once; please try again in a moment",
    ))
    .in_lang(lang)
    .into_response()
}

/// The password rules' context for an account: its address, names and other own data, and the
/// service's names.
pub(crate) async fn rules_for(app: &App, account_id: &str, email: &str) -> password_rules::Context {
    let mut ctx = password_rules::Context::new(
        app.config.login.min_password_length as usize,
        &app.config.issuer,
        email,
    );
    if let Ok(attrs) = app.db.account_attributes(account_id).await {
        for a in attrs {
            ctx.add(&a.value);
        }
    }
    ctx
}

/// The field error for a new password, if the rules refuse it.
fn password_problem(password: &str, ctx: &password_rules::Context) -> Option<(String, String)> {
    password_rules::check(password, ctx)
        .err()
        .map(|p| ("password".to_string(), p.key().to_string()))
}

/// `a***@example.de`: enough for the holder to recognise, not the whole address.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

/// A bilingual mail (German first) from the recovery texts, as the registration mails are.
fn bilingual(
    to: &str,
    subject: impl Fn(&RecoveryTexts) -> &'static str,
    body: impl Fn(&RecoveryTexts) -> String,
) -> Mail {
    super::register::bilingual(to, texts, subject, body)
}

/// The reset link mail.
pub fn reset_mail(issuer: &str, to: &str, link: &str, minutes: u64) -> Mail {
    bilingual(
        to,
        |t| t.reset_mail_subject,
        |t| {
            let b = fill(t.reset_mail_body, "issuer", issuer);
            fill(&fill(&b, "link", link), "minutes", &minutes.to_string())
        },
    )
}

/// "Your password was changed", to the account's address.
pub fn password_changed_mail(issuer: &str, to: &str) -> Mail {
    let reset_url = format!("{issuer}{FORGOT_URL}");
    bilingual(
        to,
        |t| t.password_changed_mail_subject,
        |t| {
            let b = fill(t.password_changed_mail_body, "issuer", issuer);
            fill(&b, "reset_url", &reset_url)
        },
    )
}

/// The confirmation link for a new address, to the new address.
pub fn email_confirm_mail(issuer: &str, to: &str, link: &str, hours: u64) -> Mail {
    bilingual(
        to,
        |t| t.email_confirm_mail_subject,
        |t| {
            let b = fill(t.email_confirm_mail_body, "issuer", issuer);
            fill(&fill(&b, "link", link), "hours", &hours.to_string())
        },
    )
}

/// "Your address was changed to n***@…", to the old address.
pub fn email_changed_mail(issuer: &str, old: &str, new: &str) -> Mail {
    let reset_url = format!("{issuer}{FORGOT_URL}");
    let masked = mask_email(new);
    bilingual(
        old,
        |t| t.email_changed_mail_subject,
        |t| {
            let b = fill(t.email_changed_mail_body, "issuer", issuer);
            fill(&fill(&b, "new_email", &masked), "reset_url", &reset_url)
        },
    )
}

/// Ends the account's sessions (all but `except`), logging a failure: the password change
/// itself has happened and must be reported as such.
async fn end_sessions(app: &App, account_id: &str, except: Option<&str>) -> usize {
    match crate::sessions::end(
        &app.db,
        crate::sessions::Scope::Account { account_id, except },
        crate::sessions::Reason::PasswordChanged,
    )
    .await
    {
        Ok(ended) => ended.len(),
        Err(e) => {
            tracing::error!(error = %e, account = %account_id, "ending sessions after a password change failed");
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_bound_to_their_purpose() {
        assert_ne!(
            token_hash("reset", "abc"),
            token_hash("email-change", "abc")
        );
        assert_ne!(token_hash("reset", "abc"), secrets::hash_secret("abc"));
        assert!(plausible_token("abc-DEF_123"));
        assert!(!plausible_token("a b"));
        assert!(!plausible_token(""));
    }

    #[test]
    fn masked_addresses() {
        assert_eq!(mask_email("neu@example.de"), "n***@example.de");
        assert_eq!(mask_email("x"), "***");
    }

    #[test]
    fn mails_are_german_first_and_carry_the_link() {
        let m = reset_mail(
            "https://p.example.de",
            "a@b.de",
            "https://p.example.de/password/reset?token=T",
            60,
        );
        assert!(m.body.find("Guten Tag").unwrap() < m.body.find("Hello").unwrap());
        assert_eq!(
            m.body
                .matches("https://p.example.de/password/reset?token=T\n")
                .count(),
            2
        );
        assert!(m.subject.contains(" / "));
        let n = email_changed_mail("https://p.example.de", "old@b.de", "neu@example.de");
        assert_eq!(n.to, "old@b.de");
        assert!(n.body.contains("n***@example.de") && !n.body.contains("neu@example.de"));
    }
}
