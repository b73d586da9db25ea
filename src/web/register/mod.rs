//! Self-registration: the form, "check your mail", the confirmation link that sets the
//! password, and a way to have a new link sent. Why the password comes with the link and not
//! with the form: docs/registration.md.
//!
//! - `GET /register` shows the form; `POST /register` checks it (CSRF, e-mail syntax, names
//!   without control characters) and shows it again with field errors (400). Only the e-mail
//!   is required, the names optional; no password is asked here.
//! - A valid submission for a new address creates the account unconfirmed and without a
//!   password (nothing can log in to it), mails a single-use link valid for 24 hours, and
//!   redirects (303) to `GET /register/done`.
//! - For an address whose account is confirmed (or disabled), the citizen sees exactly the
//!   same, and the address gets a mail saying that someone tried to register with it (at most
//!   one per [`NOTICE_WINDOW`]). For an address whose account is still unconfirmed the address
//!   gets a new link (at most one per [`RESEND_WINDOW`]); the second registrant gets in no
//!   more than the first. Neither branch hashes anything, so the answer time does not tell.
//! - `GET /register/verify?token=…` changes nothing: for a usable link it shows the form to
//!   choose the password (so a mail scanner fetching the link does not use it up).
//!   `POST /register/verify` (CSRF, `token`, `password`) uses the link: the address is
//!   confirmed, the chosen password becomes the account's (replacing anything set before),
//!   audited `account.email_verified`, and a confirmation page links to the account and, in
//!   the browser that registered from a service's login, back to that login. An unknown,
//!   expired or used link gives a readable 400 page with the form for a new link.
//! - `GET|POST /register/resend` (CSRF, `email`): always the same neutral answer; if an
//!   unverified, enabled account has that address, a fresh link is mailed (at most one per
//!   [`RESEND_WINDOW`] per account; audited `account.verification_resent`). The lookup and
//!   the mail run after the answer, so its timing does not tell either.
//! - Valid submissions of both forms are limited per client address
//!   ([`throttle::REGISTER_ADDRESS`]: 10 per 10 minutes, then growing delays; in the database,
//!   shared by every instance; the address as `web::client_addr` decides); beyond that a
//!   readable 429 page.
//!
//! Neither the password nor a link's token is written to the audit log or the logs; the
//! token is stored only as its SHA-256 ([`secrets::hash_secret`]).

mod mails;

pub use mails::{bilingual, existing_account_mail, verification_mail};

use std::time::Duration;

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
    error::internal,
    error::PageError,
    i18n::Lang,
    pages,
    session::{self, keys, Pending},
};
use crate::{
    accounts::{self, AccountError, HashError},
    app::App,
    audit::{self, Actor, Entry, Event},
    mail::{self, Mail},
    oidc::error::OAuthError,
    secrets,
    store::{accounts::Account, verifications::Verification},
    throttle,
};

/// How long a verification link stays valid.
pub const VERIFICATION_TTL: i64 = 24 * 3600;
/// At most one "someone tried to register with your address" mail per address in this time.
pub const NOTICE_WINDOW: i64 = crate::store::verifications::MAIL_WINDOW;
/// At most one re-sent verification link per address in this time (the link sent at
/// registration does not count).
pub const RESEND_WINDOW: i64 = crate::store::verifications::MAIL_WINDOW;
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

/// The confirmation form: the link's token and the password its holder chooses.
#[derive(Deserialize, Default)]
pub struct ConfirmForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub token: String,
    #[serde(default)]
    pub password: String,
}

impl HasCsrf for ConfirmForm {
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

/// 200 for a form shown for filling in, 400 for one shown again with errors.
fn form_status(ok: bool) -> StatusCode {
    if ok {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    }
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
    let status = form_status(errors.is_empty());
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

/// Checks the form. `Ok(normalised e-mail)` or the field errors in form order.
fn validate(f: &RegisterForm) -> Result<String, Vec<(String, String)>> {
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
    ClientAddr(addr): ClientAddr,
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
    let email = match (csrf_ok, validate(&f)) {
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
    if let Err(resp) = take_submission(&app, addr, lang).await {
        return resp;
    }

    let existing = match app.db.account_by_email(&email).await {
        Ok(a) => a,
        Err(e) => return internal(lang, e),
    };
    let outcome = match existing {
        Some(account) => already_registered(&app, &account).await,
        None => {
            match accounts::register_unconfirmed(
                &app.db,
                &email,
                Some(f.given_name),
                Some(f.family_name),
            )
            .await
            {
                Ok(account) => registered(&app, &account).await,
                // Registered in the meantime by a concurrent request: the same as above.
                Err(AccountError::EmailTaken) => match app.db.account_by_email(&email).await {
                    Ok(Some(account)) => already_registered(&app, &account).await,
                    Ok(None) => Err("account vanished".to_string()),
                    Err(e) => Err(e.to_string()),
                },
                // `validate` is at least as strict; this is a safety net.
                Err(e) => Err(format!("registration rejected: {e}")),
            }
        }
    };
    if let Err(e) = outcome {
        return internal(lang, e);
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

/// A new account: store and mail a verification link, audit.
async fn registered(app: &App, account: &Account) -> Result<(), String> {
    send_link(app, account).await.map_err(|e| e.to_string())?;
    audit::record(
        &app.db,
        Entry::new(Event::AccountRegistered, Actor::Account(account.id.clone()))
            .subject(&account.id)
            .with("email", &account.email)
            .with("method", "self")
            .with("proofing_level", account.proofing_level)
            .with("email_verified", false),
    )
    .await
    .map_err(|e| e.to_string())?;
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

/// What a registration for an address that has an account does, with no more work than a
/// new registration (no hashing in either).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repeat {
    /// Confirmed or disabled: the holder gets the "someone tried to register" notice.
    Notice,
    /// Unconfirmed: the address gets a new link; nobody gets in before it is used.
    NewLink,
}

fn repeat_for(account: &Account) -> Repeat {
    if account.email_verified || account.disabled_at.is_some() {
        Repeat::Notice
    } else {
        Repeat::NewLink
    }
}

/// The address has an account: notify the holder, or send a new link (both throttled).
async fn already_registered(app: &App, account: &Account) -> Result<(), String> {
    let repeat = repeat_for(account);
    let now = app.clock.now();
    let claim = match repeat {
        Repeat::Notice if account.disabled_at.is_some() => Ok(false),
        Repeat::Notice => {
            app.db
                .registration_notice_claim(&account.id, now, NOTICE_WINDOW)
                .await
        }
        Repeat::NewLink => {
            app.db
                .verification_resend_claim(&account.id, now, RESEND_WINDOW)
                .await
        }
    };
    let send = claim.map_err(|e| e.to_string())?;
    audit::record_or_log(
        &app.db,
        Entry::new(Event::AccountRegistrationRepeated, Actor::Anonymous)
            .subject(&account.id)
            .with("notice_sent", send && repeat == Repeat::Notice)
            .with("link_sent", send && repeat == Repeat::NewLink),
    )
    .await;
    match (send, repeat) {
        (false, _) => {
            tracing::info!(account = %account.id, "registration with a registered address; mail throttled");
        }
        (true, Repeat::Notice) => {
            let url = format!("{}/account", app.config.issuer);
            deliver(
                app,
                existing_account_mail(&app.config.issuer, &account.email, &url),
            )
            .await;
        }
        (true, Repeat::NewLink) => send_link(app, account).await.map_err(|e| e.to_string())?,
    }
    Ok(())
}

/// Queues a mail in the outbox (delivered at once to the development folder, by the outbox
/// worker over SMTP); failures are logged, never shown (the page must not differ between a new
/// and a registered address, and the account exists either way).
async fn deliver(app: &App, mail: Mail) {
    if let Err(e) = app.outbox.send(&mail).await {
        tracing::error!(error = %e, "queueing a registration mail failed");
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
    let page = pages::RegisterDonePage {
        lang,
        email,
        csrf,
        resend_action: format!("/register/resend{query}"),
    };
    Html(page.render(&app.config.site)).into_response()
}

/// A link token that could match: 43 characters of base64url are issued; anything else
/// cannot.
fn plausible_token(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= 128
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The answer to an unknown, expired or used link: the explanation, and right below it the
/// form for a new link.
async fn invalid_link(app: &App, s: &Session, lang: Lang, query: &str) -> Response {
    tracing::info!("e-mail verification link rejected (unknown, expired or used)");
    render_resend(app, s, lang, query, "", Vec::new(), true).await
}

/// The form to choose the password, for a usable link.
async fn render_confirm(
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
    let status = form_status(errors.is_empty());
    let page = pages::RegisterConfirmPage {
        lang,
        action: format!("/register/verify{query}"),
        csrf,
        token: token.to_string(),
        email: email.to_string(),
        errors,
        min_password_len: app.config.login.min_password_length,
    };
    (status, Html(page.render(&app.config.site))).into_response()
}

/// The password field's error key, if the password does not do (the rules of
/// `accounts::password_rules`, the same at reset and change).
fn password_error(
    password: &str,
    rules: &accounts::password_rules::Context,
) -> Option<&'static str> {
    accounts::password_rules::check(password, rules)
        .err()
        .map(|p| p.key())
}

/// `GET /register/verify?token=…`: for a usable link, the form to choose the password; the
/// link stays unused.
pub async fn verify(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    q: Result<Query<VerifyQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let (lang, query) = page_lang(&headers, q.ui_locales.as_deref(), None);
    let token = q.token.unwrap_or_default();
    let pending = if plausible_token(&token) {
        match app
            .db
            .verification_pending(&secrets::hash_secret(&token), app.clock.now())
            .await
        {
            Ok(v) => v,
            Err(e) => return internal(lang, e),
        }
    } else {
        None
    };
    match pending {
        Some(v) => render_confirm(&app, &s, lang, &query, &token, &v.email, Vec::new()).await,
        None => invalid_link(&app, &s, lang, &query).await,
    }
}

/// `POST /register/verify`: uses the link, confirming the address and setting the password
/// its holder chose.
pub async fn confirm_submit(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    form: Result<CsrfForm<ConfirmForm>, CsrfRejection<ConfirmForm>>,
) -> Response {
    let (lang, query) = page_lang(&headers, q.ui_locales.as_deref(), None);
    let (f, csrf_ok) = match form {
        Ok(CsrfForm(f)) => (f, true),
        Err(CsrfRejection::Expired(f)) => (f, false),
        Err(CsrfRejection::Unreadable(_)) => return invalid_link(&app, &s, lang, &query).await,
        Err(CsrfRejection::Session(e)) => return internal(lang, e),
    };
    let token_hash = secrets::hash_secret(&f.token);
    let now = app.clock.now();
    let pending = if plausible_token(&f.token) {
        match app.db.verification_pending(&token_hash, now).await {
            Ok(v) => v,
            Err(e) => return internal(lang, e),
        }
    } else {
        None
    };
    let Some(pending) = pending else {
        return invalid_link(&app, &s, lang, &query).await;
    };
    let rules = super::recovery::rules_for(&app, &pending.account_id, &pending.email).await;
    let mut errors = Vec::new();
    if !csrf_ok {
        errors.push(("form".to_string(), "session_expired".to_string()));
    }
    if let Some(key) = password_error(&f.password, &rules) {
        errors.push(("password".to_string(), key.to_string()));
    }
    if !errors.is_empty() {
        return render_confirm(&app, &s, lang, &query, &f.token, &pending.email, errors).await;
    }
    let hash = match app.hasher.hash(f.password).await {
        Ok(h) => h,
        Err(HashError::Busy) => return busy(lang),
        Err(e) => return internal(lang, e),
    };
    let verified = match app.db.verification_consume(&token_hash, now, &hash).await {
        Ok(v) => v,
        Err(e) => return internal(lang, e),
    };
    let Some(v) = verified else {
        return invalid_link(&app, &s, lang, &query).await;
    };
    let recorded = audit::record(
        &app.db,
        Entry::new(
            Event::AccountEmailVerified,
            Actor::Account(v.account_id.clone()),
        )
        .subject(&v.account_id)
        .with("email", &v.email)
        .with("method", "link")
        .with("password_set", true),
    )
    .await;
    if let Err(e) = recorded {
        return internal(lang, e);
    }
    tracing::info!(account = %v.account_id, "e-mail address verified; password set");
    // Opened in the browser that registered from a service's login: offer to continue it.
    let pending = registration_request(&s, now).await.unwrap_or_default();
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
    let status = form_status(errors.is_empty() && !invalid_link);
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
    ClientAddr(addr): ClientAddr,
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
    if let Err(resp) = take_submission(&app, addr, lang).await {
        return resp;
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
    audit::record_or_log(
        &app.db,
        Entry::new(Event::AccountVerificationResent, Actor::Anonymous)
            .subject(&account.id)
            .with("sent", send),
    )
    .await;
}

/// 429 with a readable page and `Retry-After`.
/// Takes one valid submission of the registration or resend form for the client address
/// ([`throttle::REGISTER_ADDRESS`], in the database: shared by every instance).
/// Counts one form submission from `addr` against the registration limit (shared by the
/// registration, resend and "Passwort vergessen?" forms); the limit's page when exceeded.
pub(crate) async fn take_submission(
    app: &App,
    addr: std::net::IpAddr,
    lang: Lang,
) -> Result<(), Response> {
    let key = throttle::address_key("register", addr);
    let now = app.clock.now();
    match throttle::reserve(&app.db, &throttle::REGISTER_ADDRESS, &key, now).await {
        Ok(throttle::Verdict::Allowed { .. }) => Ok(()),
        Ok(throttle::Verdict::Locked { until }) => {
            tracing::warn!("registration submissions from one client address exceed the limit");
            Err(too_many(
                lang,
                Duration::from_secs((until - now).max(1) as u64),
            ))
        }
        Err(e) => Err(internal(lang, e)),
    }
}

fn too_many(lang: Lang, wait: Duration) -> Response {
    PageError::too_many(
        "too many registration requests from this network; please wait a few minutes",
        wait,
    )
    .in_lang(lang)
    .into_response()
}

#[cfg(test)]
mod tests;
