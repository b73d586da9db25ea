//! Self-registration: the form, the "check your mail" page, the e-mail verification link,
//! and a way to have a new link sent.
//!
//! - `GET /register` shows the form; `POST /register` checks it (CSRF, e-mail syntax, password
//!   length from `login.min_password_length`, names without control characters) and shows it
//!   again with field errors (400). E-mail and password are required, the names optional.
//! - A valid submission for a new address creates the account (`email_verified = false`,
//!   proofing level low), mails a single-use verification link valid for 24 hours, and
//!   redirects (303) to `GET /register/done`.
//! - For an address that already has an account the citizen sees exactly the same: the same
//!   redirect and page, after the same password-hashing work. Instead of a link, the address
//!   gets a mail saying that someone tried to register with it (at most one per
//!   [`NOTICE_WINDOW`]), so the form reveals nothing about which addresses have accounts.
//! - Registering from a service's login: the login page links to `/register?req=ID`; the form
//!   carries `req` (hidden field), and the done page, while this browser's pending request is
//!   still open, offers "Zurück zur Anmeldung" (`/login?req=ID`), so the citizen finishes the
//!   service's login without starting over (the account can sign in before the address is
//!   verified; the service sees `email_verified: false` until then). A verification link
//!   opened in the same browser offers the same way back.
//! - `GET /register/verify?token=…` uses the link: the address is verified (audited
//!   `account.email_verified`) and a confirmation page links to the account. An unknown,
//!   expired or used link gives a readable 400 page with the form for a new link.
//! - `GET|POST /register/resend` (CSRF, `email`): always the same neutral answer; if an
//!   unverified, enabled account has that address, a fresh link is mailed (at most one per
//!   [`RESEND_WINDOW`] per account; audited `account.verification_resent`). The lookup and
//!   the mail run after the answer, so its timing does not tell either.
//! - Valid submissions of both forms are limited per client address ([`SubmitLimiter`]: 10
//!   per 10 minutes, in memory per instance); beyond that a readable 429 page.
//!
//! Neither the password nor a link's token is written to the audit log or the logs; the
//! token is stored only as its SHA-256 ([`secrets::hash_secret`]).

mod limiter;
mod mails;

pub use limiter::{client_key, SubmitLimiter, MAX_TRACKED, SUBMIT_BURST, SUBMIT_PERIOD};
pub use mails::{existing_account_mail, verification_mail};

use std::{net::SocketAddr, time::Duration};

use axum::{
    extract::{ConnectInfo, Query, State},
    http::{HeaderMap, StatusCode},
    response::{Html, IntoResponse, Redirect, Response},
    Extension,
};
use serde::Deserialize;
use serde_json::json;
use tower_sessions::Session;

use super::{
    authorize::lang,
    csrf::{CsrfForm, CsrfRejection, HasCsrf},
    error::internal,
    error::PageError,
    i18n::Lang,
    pages,
    session::{self, keys, Pending},
};
use crate::{
    accounts::{self, AccountError, HashError, NewAccount},
    app::App,
    mail::{self, Mail, Mailer},
    oidc::error::OAuthError,
    secrets,
    store::{accounts::Account, verifications::Verification},
};

/// How long a verification link stays valid.
pub const VERIFICATION_TTL: i64 = 24 * 3600;
/// At most one "someone tried to register with your address" mail per address in this time.
pub const NOTICE_WINDOW: i64 = crate::store::verifications::MAIL_WINDOW;
/// At most one re-sent verification link per address in this time (the link sent at
/// registration does not count).
pub const RESEND_WINDOW: i64 = crate::store::verifications::MAIL_WINDOW;
/// Longest password accepted, in bytes (argon2 input stays bounded).
const MAX_PASSWORD_BYTES: usize = 1024;
/// Longest name accepted, in characters.
const MAX_NAME_CHARS: usize = 200;

/// The address registered in this browser session, if any (to prefill the login form).
pub async fn registered_email(s: &Session) -> Option<String> {
    keys::REGISTERED_EMAIL.get(s).await.ok().flatten()
}

#[derive(Deserialize, Default)]
pub struct LangQuery {
    pub ui_locales: Option<String>,
    /// The pending authorization request (from the login page's link).
    pub req: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct RegisterForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub req: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub given_name: String,
    #[serde(default)]
    pub family_name: String,
    #[serde(default)]
    pub password: String,
}

impl HasCsrf for RegisterForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

#[derive(Deserialize, Default)]
pub struct ResendForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub email: String,
}

impl HasCsrf for ResendForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

#[derive(Deserialize, Default)]
pub struct VerifyQuery {
    pub token: Option<String>,
    pub ui_locales: Option<String>,
}

/// The page language, and the query that keeps an explicit `ui_locales` choice across the
/// form post and the redirect (built from the chosen language, never echoing the input).
/// Without an explicit choice, the pending authorization request's `ui_locales` counts
/// before `Accept-Language`, as on the login page.
fn page_lang(
    headers: &HeaderMap,
    ui_locales: Option<&str>,
    pending: Option<&Pending>,
) -> (Lang, String) {
    let explicit = ui_locales.filter(|u| u.split_whitespace().any(|t| Lang::parse(t).is_some()));
    let from_request = pending.and_then(|p| p.req.ui_locales.as_deref());
    let lang = lang(headers, explicit.or(from_request));
    let query = if explicit.is_some() {
        format!("?ui_locales={}", lang.code())
    } else {
        String::new()
    };
    (lang, query)
}

/// The pending authorization request `id` names, if this session still has it open.
async fn open_request(
    s: &Session,
    id: Option<&str>,
    now: i64,
) -> Result<Option<(String, Pending)>, session::SessionError> {
    let Some(id) = id.filter(|i| !i.is_empty() && i.len() <= 128) else {
        return Ok(None);
    };
    Ok(session::pending(s, id, now)
        .await?
        .map(|p| (id.to_string(), p)))
}

/// The open request the last registration in this session started from.
async fn registration_request(
    s: &Session,
    now: i64,
) -> Result<Option<(String, Pending)>, session::SessionError> {
    let id = keys::REGISTRATION_REQUEST.get(s).await?;
    open_request(s, id.as_deref(), now).await
}

/// `(continue_url, client_name)` for a pending request: back to its login page.
async fn continue_to(
    app: &App,
    pending: Option<&(String, Pending)>,
) -> (Option<String>, Option<String>) {
    let Some((id, p)) = pending else {
        return (None, None);
    };
    let client_name = app
        .db
        .client_get(&p.req.client_id)
        .await
        .ok()
        .flatten()
        .map(|c| c.name);
    (Some(format!("/login?req={id}")), client_name)
}

fn busy(lang: Lang) -> Response {
    PageError::oauth(&OAuthError::temporarily_unavailable(
        "too many registrations at once; please try again in a moment",
    ))
    .in_lang(lang)
    .into_response()
}

/// Renders the form; `errors` as in [`pages::RegisterPage::errors`].
async fn render_form(
    app: &App,
    s: &Session,
    lang: Lang,
    query: &str,
    req: Option<&str>,
    form: &RegisterForm,
    errors: Vec<(String, String)>,
) -> Response {
    let csrf = match session::csrf_token(s).await {
        Ok(t) => t,
        Err(e) => return internal(lang, e),
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let login_url = match req {
        Some(id) => format!("/login?req={id}"),
        None => format!("/login{query}"),
    };
    let page = pages::RegisterPage {
        lang,
        action: format!("/register{query}"),
        csrf,
        req: req.unwrap_or_default().to_string(),
        email: form.email.trim().to_string(),
        given_name: form.given_name.clone(),
        family_name: form.family_name.clone(),
        errors,
        login_url,
        min_password_len: app.config.login.min_password_length,
    };
    (status, Html(page.render(&app.config.site))).into_response()
}

/// `GET /register[?req=ID]`
pub async fn register_page(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let pending = match open_request(&s, q.req.as_deref(), app.clock.now()).await {
        Ok(p) => p,
        Err(e) => return internal(lang(&headers, None), e),
    };
    let (lang, query) = page_lang(
        &headers,
        q.ui_locales.as_deref(),
        pending.as_ref().map(|p| &p.1),
    );
    let req = pending.as_ref().map(|p| p.0.as_str());
    render_form(
        &app,
        &s,
        lang,
        &query,
        req,
        &RegisterForm::default(),
        Vec::new(),
    )
    .await
}

/// Characters a name must not contain: control characters and the Unicode bidirectional
/// overrides and isolates (they can make a name display as something else).
fn forbidden_in_name(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The normalised address, or the field error key (`required`, `email_invalid`).
fn check_email(raw: &str) -> Result<String, &'static str> {
    if raw.trim().is_empty() {
        return Err("required");
    }
    match accounts::normalise_email(raw) {
        Ok(e) if mail::is_valid_address(&e) => Ok(e),
        _ => Err("email_invalid"),
    }
}

/// Checks the form. `Ok(normalised e-mail)` or the field errors in form order. A too short
/// password gets the key `password_too_short`; the page names the configured minimum.
fn validate(f: &RegisterForm, min_password: usize) -> Result<String, Vec<(String, String)>> {
    let mut errors: Vec<(String, String)> = Vec::new();
    let mut err = |field: &str, key: &str| errors.push((field.to_string(), key.to_string()));
    let email = match check_email(&f.email) {
        Ok(e) => Some(e),
        Err(key) => {
            err("email", key);
            None
        }
    };
    for (field, value) in [
        ("given_name", &f.given_name),
        ("family_name", &f.family_name),
    ] {
        if value.chars().any(forbidden_in_name) {
            err(field, "invalid_characters");
        } else if value.trim().chars().count() > MAX_NAME_CHARS {
            err(field, "too_long");
        }
    }
    if f.password.is_empty() {
        err("password", "required");
    } else if f.password.len() > MAX_PASSWORD_BYTES {
        err("password", "password_too_long");
    } else if f.password.chars().count() < min_password {
        err("password", "password_too_short");
    }
    match email {
        Some(e) if errors.is_empty() => Ok(e),
        _ => Err(errors),
    }
}

/// `POST /register`
pub async fn register_submit(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    Extension(limiter): Extension<SubmitLimiter>,
    Query(q): Query<LangQuery>,
    form: Result<CsrfForm<RegisterForm>, CsrfRejection<RegisterForm>>,
) -> Response {
    let (f, csrf_ok) = match form {
        Ok(CsrfForm(f)) => (Some(f), true),
        Err(CsrfRejection::Expired(f)) => (Some(f), false),
        Err(CsrfRejection::Unreadable(_)) => (None, false),
        Err(CsrfRejection::Session(e)) => return internal(lang(&headers, None), e),
    };
    let req = f
        .as_ref()
        .map(|f| f.req.as_str())
        .filter(|r| !r.is_empty())
        .or(q.req.as_deref());
    let pending = match open_request(&s, req, app.clock.now()).await {
        Ok(p) => p,
        Err(e) => return internal(lang(&headers, None), e),
    };
    let (lang, query) = page_lang(
        &headers,
        q.ui_locales.as_deref(),
        pending.as_ref().map(|p| &p.1),
    );
    let req = pending.as_ref().map(|p| p.0.clone());
    let Some(f) = f else {
        let errors = vec![("form".to_string(), "session_expired".to_string())];
        return render_form(
            &app,
            &s,
            lang,
            &query,
            req.as_deref(),
            &RegisterForm::default(),
            errors,
        )
        .await;
    };
    let min_password = app.config.login.min_password_length as usize;
    let email = match (csrf_ok, validate(&f, min_password)) {
        (true, Ok(email)) => email,
        (ok, result) => {
            let mut errors = result.err().unwrap_or_default();
            if !ok {
                errors.insert(0, ("form".into(), "session_expired".into()));
            }
            return render_form(&app, &s, lang, &query, req.as_deref(), &f, errors).await;
        }
    };
    // Only submissions that get this far cost anything (a password hash, a mail).
    if let Err(wait) = limiter.take(client_key(peer.map(|Extension(ConnectInfo(a))| a))) {
        return too_many(lang, wait);
    }

    let existing = match app.db.account_by_email(&email).await {
        Ok(a) => a,
        Err(e) => return internal(lang, e),
    };
    let outcome = match existing {
        Some(account) => already_registered(&app, &account, f.password).await,
        None => {
            let new = NewAccount {
                email: email.clone(),
                password: f.password,
                given_name: Some(f.given_name),
                family_name: Some(f.family_name),
                email_verified: false,
            };
            match accounts::create(&app.db, &app.hasher, new, min_password).await {
                Ok(account) => registered(&app, &account).await,
                // Registered in the meantime by a concurrent request: the same as above, but
                // the password was hashed already.
                Err(AccountError::EmailTaken) => match app.db.account_by_email(&email).await {
                    Ok(Some(account)) => notify_existing(&app, &account).await,
                    Ok(None) => Err(Failure::Internal("account vanished".into())),
                    Err(e) => Err(Failure::Internal(e.to_string())),
                },
                Err(AccountError::Hash(HashError::Busy)) => Err(Failure::Busy),
                Err(
                    e @ (AccountError::InvalidEmail
                    | AccountError::PasswordTooShort(_)
                    | AccountError::PasswordTooLong
                    | AccountError::InvalidName(_)),
                ) => {
                    // `validate` is at least as strict; this is a safety net.
                    Err(Failure::Internal(format!(
                        "registration input rejected: {e}"
                    )))
                }
                Err(e) => Err(Failure::Internal(e.to_string())),
            }
        }
    };
    match outcome {
        Ok(()) => {}
        Err(Failure::Busy) => return busy(lang),
        Err(Failure::Internal(e)) => return internal(lang, e),
    }
    if let Err(e) = keys::REGISTERED_EMAIL.insert(&s, &email).await {
        return internal(lang, e);
    }
    let kept = match &req {
        Some(id) => keys::REGISTRATION_REQUEST.insert(&s, id).await,
        None => keys::REGISTRATION_REQUEST.remove(&s).await,
    };
    if let Err(e) = kept {
        return internal(lang, e);
    }
    Redirect::to(&format!("/register/done{query}")).into_response()
}

enum Failure {
    Busy,
    Internal(String),
}

/// A new account: store and mail a verification link, audit.
async fn registered(app: &App, account: &Account) -> Result<(), Failure> {
    send_link(app, account)
        .await
        .map_err(|e| Failure::Internal(e.to_string()))?;
    let _ = app
        .db
        .audit(
            &format!("account:{}", account.id),
            "account.registered",
            Some(&account.id),
            json!({
                "email": account.email,
                "method": "self",
                "proofing_level": account.proofing_level,
                "email_verified": false,
            }),
        )
        .await;
    tracing::info!(account = %account.id, "account registered; verification mail sent");
    Ok(())
}

/// Stores a new verification link for the account's current address and mails it.
async fn send_link(app: &App, account: &Account) -> Result<(), crate::store::StoreError> {
    let t = app.clock.now();
    let token = secrets::new_secret();
    app.db
        .verification_insert(&Verification {
            token_hash: secrets::hash_secret(&token),
            account_id: account.id.clone(),
            email: account.email.clone(),
            created_at: t,
            expires_at: t + VERIFICATION_TTL,
        })
        .await?;
    let link = format!("{}/register/verify?token={token}", app.config.issuer);
    deliver(
        app,
        verification_mail(&app.config.issuer, &account.email, &link),
    )
    .await;
    Ok(())
}

/// The address has an account: spend the same hashing work as a registration would (so the
/// answer time does not tell), then notify the holder.
async fn already_registered(app: &App, account: &Account, password: String) -> Result<(), Failure> {
    match app.hasher.hash(password).await {
        Ok(_) => {}
        Err(HashError::Busy) => return Err(Failure::Busy),
        Err(e) => return Err(Failure::Internal(e.to_string())),
    }
    notify_existing(app, account).await
}

async fn notify_existing(app: &App, account: &Account) -> Result<(), Failure> {
    let send = account.disabled_at.is_none()
        && app
            .db
            .registration_notice_claim(&account.id, app.clock.now(), NOTICE_WINDOW)
            .await
            .map_err(|e| Failure::Internal(e.to_string()))?;
    let _ = app
        .db
        .audit(
            "anonymous",
            "account.registration_repeated",
            Some(&account.id),
            json!({ "notice_sent": send }),
        )
        .await;
    if send {
        let url = format!("{}/account", app.config.issuer);
        deliver(
            app,
            existing_account_mail(&app.config.issuer, &account.email, &url),
        )
        .await;
    } else {
        tracing::info!(account = %account.id, "registration with a registered address; notice throttled");
    }
    Ok(())
}

/// Sends a mail; failures are logged, never shown (the page must not differ between a new
/// and a registered address, and the account exists either way).
async fn deliver(app: &App, mail: Mail) {
    let mailer = match Mailer::from_config(&app.config) {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(error = %e, "cannot send mail");
            return;
        }
    };
    if let Err(e) = mailer.send(&mail).await {
        tracing::error!(error = %e, subject = %mail.subject, "sending mail failed");
    }
}

/// `GET /register/done`: "we have sent you an e-mail", a button to send the link again, and
/// the way back to a service's login the registration started from.
pub async fn register_done(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let email = match keys::REGISTERED_EMAIL.get(&s).await {
        Ok(e) => e,
        Err(e) => return internal(lang(&headers, None), e),
    };
    let pending = match registration_request(&s, app.clock.now()).await {
        Ok(p) => p,
        Err(e) => return internal(lang(&headers, None), e),
    };
    let (lang, query) = page_lang(
        &headers,
        q.ui_locales.as_deref(),
        pending.as_ref().map(|p| &p.1),
    );
    let Some(email) = email else {
        return Redirect::to(&format!("/register{query}")).into_response();
    };
    let csrf = match session::csrf_token(&s).await {
        Ok(t) => t,
        Err(e) => return internal(lang, e),
    };
    let (continue_url, client_name) = continue_to(&app, pending.as_ref()).await;
    let page = pages::RegisterDonePage {
        lang,
        email,
        csrf,
        resend_action: format!("/register/resend{query}"),
        continue_url,
        client_name,
    };
    Html(page.render(&app.config.site)).into_response()
}

/// `GET /register/verify?token=…`
pub async fn verify(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    q: Result<Query<VerifyQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let (lang, query) = page_lang(&headers, q.ui_locales.as_deref(), None);
    let token = q.token.unwrap_or_default();
    // Tokens are 43 characters of base64url; anything else cannot match.
    let plausible = !token.is_empty()
        && token.len() <= 128
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let verified = if plausible {
        match app
            .db
            .verification_consume(&secrets::hash_secret(&token), app.clock.now())
            .await
        {
            Ok(v) => v,
            Err(e) => return internal(lang, e),
        }
    } else {
        None
    };
    let Some(v) = verified else {
        tracing::info!("e-mail verification link rejected (unknown, expired or used)");
        // The explanation, and right below it the form for a new link.
        return render_resend(&app, &s, lang, &query, "", Vec::new(), true).await;
    };
    let _ = app
        .db
        .audit(
            &format!("account:{}", v.account_id),
            "account.email_verified",
            Some(&v.account_id),
            json!({ "email": v.email, "method": "link" }),
        )
        .await;
    tracing::info!(account = %v.account_id, "e-mail address verified");
    // Opened in the browser that registered from a service's login: offer to continue it.
    let pending = registration_request(&s, app.clock.now())
        .await
        .unwrap_or_default();
    let (continue_url, client_name) = continue_to(&app, pending.as_ref()).await;
    let page = pages::RegisterVerifiedPage {
        lang,
        account_url: "/account".into(),
        continue_url,
        client_name,
    };
    Html(page.render(&app.config.site)).into_response()
}

/// The form for a new verification link: 200, 400 with `errors`, or 400 as the answer to an
/// unusable link (`invalid_link`).
async fn render_resend(
    app: &App,
    s: &Session,
    lang: Lang,
    query: &str,
    email: &str,
    errors: Vec<(String, String)>,
    invalid_link: bool,
) -> Response {
    let csrf = match session::csrf_token(s).await {
        Ok(t) => t,
        Err(e) => return internal(lang, e),
    };
    let status = if errors.is_empty() && !invalid_link {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let login_url = match registration_request(s, app.clock.now()).await {
        Ok(Some((id, _))) => format!("/login?req={id}"),
        _ => format!("/login{query}"),
    };
    let page = pages::RegisterResendPage {
        lang,
        action: format!("/register/resend{query}"),
        csrf,
        email: email.trim().to_string(),
        errors,
        invalid_link,
        login_url,
    };
    (status, Html(page.render(&app.config.site))).into_response()
}

/// `GET /register/resend`
pub async fn resend_page(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let (lang, query) = page_lang(&headers, q.ui_locales.as_deref(), None);
    render_resend(&app, &s, lang, &query, "", Vec::new(), false).await
}

/// `POST /register/resend`: the same answer for every syntactically valid address.
pub async fn resend_submit(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    Extension(limiter): Extension<SubmitLimiter>,
    Query(q): Query<LangQuery>,
    form: Result<CsrfForm<ResendForm>, CsrfRejection<ResendForm>>,
) -> Response {
    let (lang, query) = page_lang(&headers, q.ui_locales.as_deref(), None);
    let (f, csrf_ok) = match form {
        Ok(CsrfForm(f)) => (f, true),
        Err(CsrfRejection::Expired(f)) => (f, false),
        Err(CsrfRejection::Unreadable(_)) => {
            let errors = vec![("form".to_string(), "session_expired".to_string())];
            return render_resend(&app, &s, lang, &query, "", errors, false).await;
        }
        Err(CsrfRejection::Session(e)) => return internal(lang, e),
    };
    let email = match (csrf_ok, check_email(&f.email)) {
        (true, Ok(email)) => email,
        (ok, result) => {
            let mut errors = Vec::new();
            if !ok {
                errors.push(("form".to_string(), "session_expired".to_string()));
            }
            if let Err(key) = result {
                errors.push(("email".to_string(), key.to_string()));
            }
            return render_resend(&app, &s, lang, &query, &f.email, errors, false).await;
        }
    };
    if let Err(wait) = limiter.take(client_key(peer.map(|Extension(ConnectInfo(a))| a))) {
        return too_many(lang, wait);
    }
    // Whether an account exists must not show in the answer time either: look up and mail
    // after answering.
    tokio::spawn(resend_link(app.clone(), email.clone()));
    let login_url = match registration_request(&s, app.clock.now()).await {
        Ok(Some((id, _))) => format!("/login?req={id}"),
        _ => format!("/login{query}"),
    };
    let page = pages::RegisterResentPage {
        lang,
        email,
        login_url,
    };
    Html(page.render(&app.config.site)).into_response()
}

/// Mails a fresh verification link if an enabled account with this address is unverified
/// and none was re-sent within [`RESEND_WINDOW`].
async fn resend_link(app: App, email: String) {
    let account = match app.db.account_by_email(&email).await {
        Ok(Some(a)) if a.disabled_at.is_none() && !a.email_verified => a,
        Ok(_) => return,
        Err(e) => {
            tracing::error!(error = %e, "looking up an account for a new verification link failed");
            return;
        }
    };
    let send = match app
        .db
        .verification_resend_claim(&account.id, app.clock.now(), RESEND_WINDOW)
        .await
    {
        Ok(send) => send,
        Err(e) => {
            tracing::error!(error = %e, "claiming a verification link resend failed");
            return;
        }
    };
    if send {
        if let Err(e) = send_link(&app, &account).await {
            tracing::error!(error = %e, account = %account.id, "storing a new verification link failed");
            return;
        }
        tracing::info!(account = %account.id, "new verification link sent");
    } else {
        tracing::info!(account = %account.id, "new verification link requested; throttled");
    }
    let _ = app
        .db
        .audit(
            "anonymous",
            "account.verification_resent",
            Some(&account.id),
            json!({ "sent": send }),
        )
        .await;
}

/// 429 with a readable page and `Retry-After`.
fn too_many(lang: Lang, wait: Duration) -> Response {
    PageError::too_many(
        "too many registration requests from this network; please wait a few minutes",
        wait,
    )
    .in_lang(lang)
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(email: &str, password: &str, given: &str) -> RegisterForm {
        RegisterForm {
            csrf: String::new(),
            req: String::new(),
            email: email.into(),
            given_name: given.into(),
            family_name: String::new(),
            password: password.into(),
        }
    }

    fn keys(r: Result<String, Vec<(String, String)>>) -> Vec<(String, String)> {
        r.err().unwrap_or_default()
    }

    #[test]
    fn validation() {
        let ok = "correct horse battery staple";
        assert_eq!(
            validate(&form(" Anna@Example.DE ", ok, "Anna"), 12).unwrap(),
            "anna@example.de"
        );
        assert_eq!(validate(&form("a@b.de", ok, ""), 12).unwrap(), "a@b.de");
        let e = |f: &RegisterForm| keys(validate(f, 12));
        assert_eq!(e(&form("", ok, "")), [("email".into(), "required".into())]);
        assert_eq!(
            e(&form("a,b@c.de", ok, "")),
            [("email".into(), "email_invalid".into())]
        );
        assert_eq!(
            e(&form("a@b.de", "kurz", "")),
            [("password".into(), "password_too_short".into())]
        );
        assert_eq!(
            e(&form("a@b.de", &"x".repeat(1025), "")),
            [("password".into(), "password_too_long".into())]
        );
        assert_eq!(
            e(&form("a@b.de", ok, "An\u{7}na")),
            [("given_name".into(), "invalid_characters".into())]
        );
        assert_eq!(
            e(&form("a@b.de", ok, "Anna\u{202E}")),
            [("given_name".into(), "invalid_characters".into())]
        );
        assert_eq!(
            e(&form("a@b.de", ok, &"a".repeat(201))),
            [("given_name".into(), "too_long".into())]
        );
        // Several problems at once, in form order.
        assert_eq!(e(&form("x", "", "A\nB")).len(), 3);
        // The configured minimum applies (the page names it).
        assert_eq!(
            keys(validate(&form("a@b.de", "fifteen chars..", ""), 16)),
            [("password".into(), "password_too_short".into())]
        );
        assert!(validate(&form("a@b.de", "sixteen chars...", ""), 16).is_ok());
        assert!(validate(&form("a@b.de", "eight ch", ""), 8).is_ok());
    }
}
