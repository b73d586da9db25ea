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

use axum::{
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use tower_sessions::Session;

use super::{
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
    let mut subjects = Vec::new();
    let mut text = String::new();
    for (i, lang) in Lang::ALL.into_iter().enumerate() {
        let t = texts(lang);
        subjects.push(subject(t));
        if i > 0 {
            text.push_str(&format!(
                "\n---------- {} ----------\n\n",
                lang.native_name()
            ));
        }
        text.push_str(&body(t));
        text.push_str("\n\n");
        text.push_str(lang.catalog().mail.signature);
        text.push('\n');
    }
    Mail {
        to: to.into(),
        subject: subjects.join(" / "),
        body: text,
    }
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

// ---------------------------------------------------------------------------------------
// Passwort vergessen?
// ---------------------------------------------------------------------------------------

async fn render_forgot(
    app: &App,
    s: &Session,
    lang: Lang,
    query: &str,
    email: &str,
    errors: Vec<(String, String)>,
) -> Response {
    let csrf = match session::csrf_token(s).await {
        Ok(t) => t,
        Err(e) => return internal(lang, e),
    };
    let t = texts(lang);
    let mut field = FormField::new("email", lang.texts().email_label, "email", "username");
    field.value = email.trim().to_string();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = FormPage {
        lang,
        title: t.forgot_title.into(),
        intro: t.forgot_intro.into(),
        action: format!("{FORGOT_URL}{query}"),
        csrf,
        fields: vec![field],
        submit: t.forgot_submit.into(),
        errors,
        links: vec![(format!("/login{query}"), t.back_to_login.into())],
        ..Default::default()
    };
    html(status, page.render(&app.config.site))
}

/// `GET /password/forgot`
pub async fn forgot_page(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let (lang, query) = page_lang(&headers, q.ui_locales.as_deref());
    render_forgot(&app, &s, lang, &query, "", Vec::new()).await
}

/// `POST /password/forgot`: the same answer for every valid address.
pub async fn forgot_submit(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    ClientAddr(addr): ClientAddr,
    Query(q): Query<LangQuery>,
    form: Result<CsrfForm<EmailForm>, CsrfRejection<EmailForm>>,
) -> Response {
    let (lang, query) = page_lang(&headers, q.ui_locales.as_deref());
    let (f, csrf_ok) = match form {
        Ok(CsrfForm(f)) => (f, true),
        Err(CsrfRejection::Expired(f)) => (f, false),
        Err(CsrfRejection::Unreadable(_)) => (EmailForm::default(), false),
        Err(CsrfRejection::Session(e)) => return internal(lang, e),
    };
    let email = match (csrf_ok, check_email(&f.email)) {
        (true, Ok(e)) => e,
        (ok, result) => {
            let mut errors = Vec::new();
            if !ok {
                errors.push(("form".to_string(), "session_expired".to_string()));
            }
            if let Err(key) = result {
                errors.push(("email".to_string(), key.to_string()));
            }
            return render_forgot(&app, &s, lang, &query, &f.email, errors).await;
        }
    };
    if let Err(resp) = take_submission(&app, addr, lang).await {
        return resp;
    }
    // Whether the address has an account must not show in the answer or its timing: the
    // lookup, the link and the mail happen after the answer.
    tokio::spawn(send_reset_link(app.clone(), email.clone()));
    let t = texts(lang);
    let minutes = app.config.login.password_reset_ttl_secs / 60;
    notice(
        &app,
        StatusCode::OK,
        NoticePage {
            lang,
            title: t.forgot_sent_title.into(),
            text: fill(
                &fill(t.forgot_sent_text, "email", &email),
                "minutes",
                &minutes.to_string(),
            ),
            hint: Some(t.forgot_sent_hint.into()),
            links: vec![(format!("/login{query}"), t.back_to_login.into())],
            mail: true,
            ..Default::default()
        },
    )
}

/// The normalised address, or the field error key.
fn check_email(raw: &str) -> Result<String, &'static str> {
    if raw.trim().is_empty() {
        return Err("required");
    }
    match accounts::normalise_email(raw) {
        Ok(e) if mail::is_valid_address(&e) => Ok(e),
        _ => Err("email_invalid"),
    }
}

/// Stores and mails a reset link if an enabled account has this address and none went to it
/// within [`RESET_MAIL_WINDOW`].
async fn send_reset_link(app: App, email: String) {
    let account = match app.db.account_by_email(&email).await {
        Ok(Some(a)) if a.disabled_at.is_none() => a,
        Ok(_) => {
            tracing::info!("password reset requested for an address without an account");
            return;
        }
        Err(e) => {
            tracing::error!(error = %e, "looking up an account for a password reset failed");
            return;
        }
    };
    let now = app.clock.now();
    let send = match app
        .db
        .reset_mail_claim(&account.id, now, RESET_MAIL_WINDOW)
        .await
    {
        Ok(send) => send,
        Err(e) => {
            tracing::error!(error = %e, "claiming a password reset mail failed");
            return;
        }
    };
    if send {
        let ttl = app.config.login.password_reset_ttl_secs;
        let token = secrets::new_secret();
        let stored = app
            .db
            .reset_insert(
                &PendingReset {
                    token_hash: token_hash("reset", &token),
                    account_id: account.id.clone(),
                    email: account.email.clone(),
                    expires_at: now + ttl as i64,
                },
                now,
            )
            .await;
        if let Err(e) = stored {
            tracing::error!(error = %e, "storing a password reset link failed");
            return;
        }
        let link = format!("{}{RESET_URL}?token={token}", app.config.issuer);
        let mail = reset_mail(&app.config.issuer, &account.email, &link, ttl / 60);
        if let Err(e) = app.outbox.send(&mail).await {
            tracing::error!(error = %e, "queueing a password reset mail failed");
            return;
        }
    }
    audit::record_or_log(
        &app.db,
        Entry::new(Event::PasswordResetRequested, Actor::Anonymous)
            .subject(&account.id)
            .with("sent", send),
    )
    .await;
}

// ---------------------------------------------------------------------------------------
// The reset link
// ---------------------------------------------------------------------------------------

async fn invalid_reset(app: &App, lang: Lang, query: &str) -> Response {
    tracing::info!("password reset link rejected (unknown, expired or used)");
    let t = texts(lang);
    notice(
        app,
        StatusCode::BAD_REQUEST,
        NoticePage {
            lang,
            title: t.reset_invalid_title.into(),
            text: t.reset_invalid_text.into(),
            links: vec![
                (format!("{FORGOT_URL}{query}"), t.reset_request_again.into()),
                (format!("/login{query}"), t.back_to_login.into()),
            ],
            ..Default::default()
        },
    )
}

async fn render_reset(
    app: &App,
    s: &Session,
    lang: Lang,
    query: &str,
    token: &str,
    email: &str,
    errors: Vec<(String, String)>,
) -> Response {
    let csrf = match session::csrf_token(s).await {
        Ok(t) => t,
        Err(e) => return internal(lang, e),
    };
    let t = texts(lang);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = FormPage {
        lang,
        title: t.reset_title.into(),
        intro: fill(t.reset_intro, "email", email),
        action: format!("{RESET_URL}{query}"),
        csrf,
        hidden: vec![("token", token.to_string())],
        fields: vec![new_password_field(app, lang)],
        submit: t.reset_submit.into(),
        errors,
        min_password_len: app.config.login.min_password_length,
        ..Default::default()
    };
    html(status, page.render(&app.config.site))
}

fn new_password_field(app: &App, lang: Lang) -> FormField {
    let p = lang.texts();
    let min = app.config.login.min_password_length;
    let mut f = FormField::new("password", p.new_password_label, "password", "new-password");
    f.hint = Some(fill(p.password_hint, "min", &min.to_string()));
    f.minlength = Some(min);
    f
}

/// `GET /password/reset?token=…`: the form for a usable link; the link stays unused.
pub async fn reset_page(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    q: Result<Query<LangQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let (lang, query) = page_lang(&headers, q.ui_locales.as_deref());
    let token = q.token.unwrap_or_default();
    let pending = if plausible_token(&token) {
        match app
            .db
            .reset_pending(&token_hash("reset", &token), app.clock.now())
            .await
        {
            Ok(p) => p,
            Err(e) => return internal(lang, e),
        }
    } else {
        None
    };
    match pending {
        Some(p) => render_reset(&app, &s, lang, &query, &token, &p.email, Vec::new()).await,
        None => invalid_reset(&app, lang, &query).await,
    }
}

/// `POST /password/reset`: uses the link and sets the new password.
pub async fn reset_submit(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    form: Result<CsrfForm<PasswordForm>, CsrfRejection<PasswordForm>>,
) -> Response {
    let (lang, query) = page_lang(&headers, q.ui_locales.as_deref());
    let (f, csrf_ok) = match form {
        Ok(CsrfForm(f)) => (f, true),
        Err(CsrfRejection::Expired(f)) => (f, false),
        Err(CsrfRejection::Unreadable(_)) => return invalid_reset(&app, lang, &query).await,
        Err(CsrfRejection::Session(e)) => return internal(lang, e),
    };
    let hash = token_hash("reset", &f.token);
    let now = app.clock.now();
    let pending = if plausible_token(&f.token) {
        match app.db.reset_pending(&hash, now).await {
            Ok(p) => p,
            Err(e) => return internal(lang, e),
        }
    } else {
        None
    };
    let Some(pending) = pending else {
        return invalid_reset(&app, lang, &query).await;
    };
    let account = match app.db.account_get(&pending.account_id).await {
        Ok(Some(a)) => a,
        Ok(None) => return invalid_reset(&app, lang, &query).await,
        Err(e) => return internal(lang, e),
    };
    let mut errors = Vec::new();
    if !csrf_ok {
        errors.push(("form".to_string(), "session_expired".to_string()));
    }
    errors.extend(password_problem(
        &f.password,
        &rules_for(&app, &account.id, &account.email).await,
    ));
    if !errors.is_empty() {
        return render_reset(&app, &s, lang, &query, &f.token, &pending.email, errors).await;
    }
    let password_hash = match app.hasher.hash(f.password).await {
        Ok(h) => h,
        Err(HashError::Busy) => return busy(lang),
        Err(e) => return internal(lang, e),
    };
    let notice_row = match app
        .outbox
        .row(&password_changed_mail(&app.config.issuer, &pending.email))
    {
        Ok(r) => r,
        Err(e) => return internal(lang, e),
    };
    let used = match app
        .db
        .reset_consume(&hash, now, &password_hash, &notice_row)
        .await
    {
        Ok(u) => u,
        Err(e) => return internal(lang, e),
    };
    let Some(reset) = used else {
        return invalid_reset(&app, lang, &query).await;
    };
    app.outbox.queued(&notice_row.id).await;
    // Every session of the account ends: whoever knew the old password is out.
    let ended = end_sessions(&app, &reset.account_id, None).await;
    let recorded = audit::record(
        &app.db,
        Entry::new(
            Event::PasswordReset,
            Actor::Account(reset.account_id.clone()),
        )
        .subject(&reset.account_id)
        .with("method", "link")
        .with("sessions_ended", ended),
    )
    .await;
    if let Err(e) = recorded {
        return internal(lang, e);
    }
    tracing::info!(account = %reset.account_id, sessions_ended = ended, "password reset by link");
    let t = texts(lang);
    notice(
        &app,
        StatusCode::OK,
        NoticePage {
            lang,
            title: t.reset_done_title.into(),
            text: t.reset_done_text.into(),
            links: vec![(format!("/account{query}"), t.login_link.into())],
            success: true,
            ..Default::default()
        },
    )
}

// ---------------------------------------------------------------------------------------
// Changes by a logged-in citizen
// ---------------------------------------------------------------------------------------

/// The logged-in citizen, or the login page.
async fn citizen(app: &App, s: &Session, lang: Lang) -> Result<(SsoLogin, Account), Response> {
    let login = match session::login(&app.db, s).await {
        Ok(Some(l)) => l,
        Ok(None) => return Err(Redirect::to("/login").into_response()),
        Err(e) => return Err(internal(lang, e)),
    };
    match app.db.account_get(&login.account_id).await {
        Ok(Some(a)) if a.disabled_at.is_none() => Ok((login, a)),
        Ok(_) => Err(Redirect::to("/login").into_response()),
        Err(e) => Err(internal(lang, e)),
    }
}

/// Whether the change may go ahead: the current password is right, or the account has none
/// and the login is fresh. `Err` carries the field error (or a busy/internal response).
async fn confirm_identity(
    app: &App,
    login: &SsoLogin,
    account: &Account,
    current: &str,
    lang: Lang,
) -> Result<Option<(String, String)>, Response> {
    let t = texts(lang);
    match &account.password_hash {
        Some(stored) => {
            if current.is_empty() {
                return Ok(Some((
                    "current_password".into(),
                    lang.catalog().lookups.fields.required_password.into(),
                )));
            }
            match app
                .hasher
                .verify(current.to_string(), Some(stored.clone()))
                .await
            {
                Ok(true) => Ok(None),
                Ok(false) => Ok(Some((
                    "current_password".into(),
                    t.current_password_wrong.into(),
                ))),
                Err(HashError::Busy) => Err(busy(lang)),
                Err(e) => Err(internal(lang, e)),
            }
        }
        None if app.clock.now().saturating_sub(login.auth_time) <= FRESH_LOGIN_SECS => Ok(None),
        None => Ok(Some(("form".into(), t.fresh_login_needed.into()))),
    }
}

fn current_password_field(lang: Lang, account: &Account) -> Option<FormField> {
    account.password_hash.as_ref().map(|_| {
        FormField::new(
            "current_password",
            texts(lang).current_password_label,
            "password",
            "current-password",
        )
    })
}

async fn render_change_password(
    app: &App,
    s: &Session,
    lang: Lang,
    account: &Account,
    errors: Vec<(String, String)>,
) -> Response {
    let csrf = match session::csrf_token(s).await {
        Ok(t) => t,
        Err(e) => return internal(lang, e),
    };
    let t = texts(lang);
    let mut fields: Vec<FormField> = current_password_field(lang, account).into_iter().collect();
    fields.push(new_password_field(app, lang));
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = FormPage {
        lang,
        title: t.change_password_title.into(),
        intro: t.change_password_intro.into(),
        action: PASSWORD_URL.into(),
        csrf,
        fields,
        submit: t.change_password_submit.into(),
        errors,
        links: vec![(
            super::security::SECURITY_URL.into(),
            t.back_to_security.into(),
        )],
        min_password_len: app.config.login.min_password_length,
        ..Default::default()
    };
    html(status, page.render(&app.config.site))
}

/// `GET /account/security/password`
pub async fn change_password_page(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
) -> Response {
    let lang = lang(&headers, None);
    match citizen(&app, &s, lang).await {
        Ok((_, account)) => render_change_password(&app, &s, lang, &account, Vec::new()).await,
        Err(r) => r,
    }
}

/// `POST /account/security/password`
pub async fn change_password_submit(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    form: Result<CsrfForm<PasswordForm>, CsrfRejection<PasswordForm>>,
) -> Response {
    let lang = lang(&headers, None);
    let (login, account) = match citizen(&app, &s, lang).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (f, csrf_ok) = match form {
        Ok(CsrfForm(f)) => (f, true),
        Err(CsrfRejection::Expired(f)) => (f, false),
        Err(CsrfRejection::Unreadable(_)) => (PasswordForm::default(), false),
        Err(CsrfRejection::Session(e)) => return internal(lang, e),
    };
    if !csrf_ok {
        let errors = vec![("form".to_string(), "session_expired".to_string())];
        return render_change_password(&app, &s, lang, &account, errors).await;
    }
    let mut errors = Vec::new();
    match confirm_identity(&app, &login, &account, &f.current_password, lang).await {
        Ok(Some(e)) => errors.push(e),
        Ok(None) => {}
        Err(r) => return r,
    }
    errors.extend(password_problem(
        &f.password,
        &rules_for(&app, &account.id, &account.email).await,
    ));
    if !errors.is_empty() {
        return render_change_password(&app, &s, lang, &account, errors).await;
    }
    let password_hash = match app.hasher.hash(f.password).await {
        Ok(h) => h,
        Err(HashError::Busy) => return busy(lang),
        Err(e) => return internal(lang, e),
    };
    let notice_row = match app
        .outbox
        .row(&password_changed_mail(&app.config.issuer, &account.email))
    {
        Ok(r) => r,
        Err(e) => return internal(lang, e),
    };
    match app
        .db
        .password_change(&account.id, &password_hash, &notice_row)
        .await
    {
        Ok(true) => {}
        Ok(false) => return Redirect::to("/login").into_response(),
        Err(e) => return internal(lang, e),
    }
    app.outbox.queued(&notice_row.id).await;
    let ended = end_sessions(&app, &account.id, Some(&login.sid)).await;
    let recorded = audit::record(
        &app.db,
        Entry::new(Event::PasswordChanged, Actor::Account(account.id.clone()))
            .subject(&account.id)
            .with("sessions_ended", ended),
    )
    .await;
    if let Err(e) = recorded {
        return internal(lang, e);
    }
    let t = texts(lang);
    notice(
        &app,
        StatusCode::OK,
        NoticePage {
            lang,
            title: t.password_changed_title.into(),
            text: t.password_changed_text.into(),
            links: vec![(
                super::security::SECURITY_URL.into(),
                t.back_to_security.into(),
            )],
            success: true,
            ..Default::default()
        },
    )
}

async fn render_change_email(
    app: &App,
    s: &Session,
    lang: Lang,
    account: &Account,
    email: &str,
    errors: Vec<(String, String)>,
) -> Response {
    let csrf = match session::csrf_token(s).await {
        Ok(t) => t,
        Err(e) => return internal(lang, e),
    };
    let t = texts(lang);
    let mut new_email = FormField::new("email", t.new_email_label, "email", "email");
    new_email.value = email.trim().to_string();
    let mut fields = vec![new_email];
    fields.extend(current_password_field(lang, account));
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = FormPage {
        lang,
        title: t.change_email_title.into(),
        intro: fill(t.change_email_intro, "email", &account.email),
        action: EMAIL_URL.into(),
        csrf,
        fields,
        submit: t.change_email_submit.into(),
        errors,
        links: vec![(
            super::security::SECURITY_URL.into(),
            t.back_to_security.into(),
        )],
        ..Default::default()
    };
    html(status, page.render(&app.config.site))
}

/// `GET /account/security/email`
pub async fn change_email_page(State(app): State<App>, s: Session, headers: HeaderMap) -> Response {
    let lang = lang(&headers, None);
    match citizen(&app, &s, lang).await {
        Ok((_, account)) => render_change_email(&app, &s, lang, &account, "", Vec::new()).await,
        Err(r) => r,
    }
}

/// `POST /account/security/email`: sends the confirmation link to the new address.
pub async fn change_email_submit(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    form: Result<CsrfForm<EmailForm>, CsrfRejection<EmailForm>>,
) -> Response {
    let lang = lang(&headers, None);
    let (login, account) = match citizen(&app, &s, lang).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (f, csrf_ok) = match form {
        Ok(CsrfForm(f)) => (f, true),
        Err(CsrfRejection::Expired(f)) => (f, false),
        Err(CsrfRejection::Unreadable(_)) => (EmailForm::default(), false),
        Err(CsrfRejection::Session(e)) => return internal(lang, e),
    };
    if !csrf_ok {
        let errors = vec![("form".to_string(), "session_expired".to_string())];
        return render_change_email(&app, &s, lang, &account, &f.email, errors).await;
    }
    let t = texts(lang);
    let mut errors = Vec::new();
    let new_email = match check_email(&f.email) {
        Ok(e) if e == account.email => {
            errors.push(("email".to_string(), t.email_same.to_string()));
            None
        }
        Ok(e) => Some(e),
        Err(key) => {
            errors.push(("email".to_string(), key.to_string()));
            None
        }
    };
    match confirm_identity(&app, &login, &account, &f.current_password, lang).await {
        Ok(Some(e)) => errors.push(e),
        Ok(None) => {}
        Err(r) => return r,
    }
    let Some(new_email) = new_email.filter(|_| errors.is_empty()) else {
        return render_change_email(&app, &s, lang, &account, &f.email, errors).await;
    };
    let now = app.clock.now();
    let ttl = app.config.login.email_change_ttl_secs;
    let token = secrets::new_secret();
    let link = format!("{}{EMAIL_CONFIRM_URL}?token={token}", app.config.issuer);
    // Whether another account has the new address is not told here (the confirmation page
    // says so only to whoever holds the new mailbox).
    let mail_row = match app.outbox.row(&email_confirm_mail(
        &app.config.issuer,
        &new_email,
        &link,
        ttl / 3600,
    )) {
        Ok(r) => r,
        Err(e) => return internal(lang, e),
    };
    let change = PendingEmailChange {
        token_hash: token_hash("email-change", &token),
        account_id: account.id.clone(),
        old_email: account.email.clone(),
        new_email: new_email.clone(),
        expires_at: now + ttl as i64,
    };
    if let Err(e) = app.db.email_change_insert(&change, now, &mail_row).await {
        return internal(lang, e);
    }
    app.outbox.queued(&mail_row.id).await;
    let recorded = audit::record(
        &app.db,
        Entry::new(
            Event::EmailChangeRequested,
            Actor::Account(account.id.clone()),
        )
        .subject(&account.id)
        .before(&account.email)
        .after(&new_email),
    )
    .await;
    if let Err(e) = recorded {
        return internal(lang, e);
    }
    notice(
        &app,
        StatusCode::OK,
        NoticePage {
            lang,
            title: t.change_email_sent_title.into(),
            text: fill(
                &fill(
                    &fill(t.change_email_sent_text, "new_email", &new_email),
                    "old_email",
                    &account.email,
                ),
                "hours",
                &(ttl / 3600).to_string(),
            ),
            links: vec![(
                super::security::SECURITY_URL.into(),
                t.back_to_security.into(),
            )],
            mail: true,
            ..Default::default()
        },
    )
}

async fn invalid_email_link(app: &App, lang: Lang) -> Response {
    tracing::info!("e-mail change link rejected (unknown, expired or used)");
    let t = texts(lang);
    notice(
        app,
        StatusCode::BAD_REQUEST,
        NoticePage {
            lang,
            title: t.email_confirm_invalid_title.into(),
            text: t.email_confirm_invalid_text.into(),
            links: vec![(
                "/account".into(),
                lang.texts().register_verified_link.into(),
            )],
            ..Default::default()
        },
    )
}

/// `GET /account/email/confirm?token=…`: a button to confirm (the link stays unused, so a
/// mail scanner fetching it changes nothing).
pub async fn email_confirm_page(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    q: Result<Query<LangQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let (lang, query) = page_lang(&headers, q.ui_locales.as_deref());
    let token = q.token.unwrap_or_default();
    let pending = if plausible_token(&token) {
        match app
            .db
            .email_change_pending(&token_hash("email-change", &token), app.clock.now())
            .await
        {
            Ok(p) => p,
            Err(e) => return internal(lang, e),
        }
    } else {
        None
    };
    let Some(pending) = pending else {
        return invalid_email_link(&app, lang).await;
    };
    let csrf = match session::csrf_token(&s).await {
        Ok(t) => t,
        Err(e) => return internal(lang, e),
    };
    let t = texts(lang);
    let page = FormPage {
        lang,
        title: t.email_confirm_title.into(),
        intro: fill(t.email_confirm_intro, "new_email", &pending.new_email),
        action: format!("{EMAIL_CONFIRM_URL}{query}"),
        csrf,
        hidden: vec![("token", token)],
        submit: t.email_confirm_submit.into(),
        ..Default::default()
    };
    html(StatusCode::OK, page.render(&app.config.site))
}

/// `POST /account/email/confirm`: the address changes now.
pub async fn email_confirm_submit(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    form: Result<CsrfForm<PasswordForm>, CsrfRejection<PasswordForm>>,
) -> Response {
    let (lang, query) = page_lang(&headers, q.ui_locales.as_deref());
    let f = match form {
        Ok(CsrfForm(f)) => f,
        Err(CsrfRejection::Expired(_)) => {
            return PageError::form_expired().in_lang(lang).into_response()
        }
        Err(CsrfRejection::Unreadable(_)) => return invalid_email_link(&app, lang).await,
        Err(CsrfRejection::Session(e)) => return internal(lang, e),
    };
    if !plausible_token(&f.token) {
        return invalid_email_link(&app, lang).await;
    }
    let hash = token_hash("email-change", &f.token);
    let now = app.clock.now();
    let pending = match app.db.email_change_pending(&hash, now).await {
        Ok(Some(p)) => p,
        Ok(None) => return invalid_email_link(&app, lang).await,
        Err(e) => return internal(lang, e),
    };
    let notice_row = match app.outbox.row(&email_changed_mail(
        &app.config.issuer,
        &pending.old_email,
        &pending.new_email,
    )) {
        Ok(r) => r,
        Err(e) => return internal(lang, e),
    };
    let outcome = match app.db.email_change_consume(&hash, now, &notice_row).await {
        Ok(o) => o,
        Err(e) => return internal(lang, e),
    };
    let t = texts(lang);
    match outcome {
        EmailChangeOutcome::Invalid => invalid_email_link(&app, lang).await,
        EmailChangeOutcome::Taken(_) => notice(
            &app,
            StatusCode::CONFLICT,
            NoticePage {
                lang,
                title: t.email_taken_title.into(),
                text: t.email_taken_text.into(),
                links: vec![(format!("/account{query}"), t.login_link.into())],
                ..Default::default()
            },
        ),
        EmailChangeOutcome::Changed(c) => {
            app.outbox.queued(&notice_row.id).await;
            let recorded = audit::record(
                &app.db,
                Entry::new(Event::EmailChanged, Actor::Account(c.account_id.clone()))
                    .subject(&c.account_id)
                    .before(&c.old_email)
                    .after(&c.new_email)
                    .with("method", "link"),
            )
            .await;
            if let Err(e) = recorded {
                return internal(lang, e);
            }
            notice(
                &app,
                StatusCode::OK,
                NoticePage {
                    lang,
                    title: t.email_changed_title.into(),
                    text: fill(t.email_changed_text, "new_email", &c.new_email),
                    links: vec![(format!("/account{query}"), t.login_link.into())],
                    success: true,
                    ..Default::default()
                },
            )
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
