//! The citizen's second factors: the security page, setting up an authenticator app (TOTP),
//! recovery codes, and removing a credential.
//!
//! - `GET /account/security` lists the credentials (kind, label, created, last used) with a
//!   remove button each, the recovery codes left, and the passkey button (`passkey.js` and its
//!   endpoints belong to the passkey module).
//! - `GET /account/security/totp` shows a fresh secret as QR code and as text; the secret waits
//!   in the session, sealed with the KEK, until the first code confirms it (`POST`). The
//!   credential is stored then (`credential.added`), and if the account has no recovery codes
//!   a set is created and shown once (`recovery_codes.regenerated`).
//! - `POST /account/security/recovery-codes` replaces the codes and shows the new ones once.
//! - `POST /account/security/credentials/{id}/remove` removes one (`credential.removed`); with
//!   the last second factor the recovery codes go too (they stand in for a second factor).
//!
//! Changing credentials of an account that already has a second factor needs that factor in
//! this session ([`may_change_credentials`]): a stolen password alone must not replace or
//! remove the second factor. Until then the page links to the step-up page (without `req`).
//! Every change, the first second factor included, also needs a fresh login
//! ([`FRESH_LOGIN_SECS`], the same rule for TOTP and passkeys: [`credential_change_gate`]).
//! Secrets and codes never reach the audit log or the logs.

use axum::{
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tower_sessions::Session;

use super::{
    account::{citizen, format_date},
    authorize::lang,
    csrf::{CsrfForm, CsrfOnly, HasCsrf},
    error::internal,
    i18n::Lang,
    pages,
    session::{self, keys},
};
use crate::{
    accounts::{passkey, totp},
    app::App,
    assurance::{level::Method, Level},
    audit::{self, Actor, Entry, Event},
    oidc::SsoLogin,
    store::{accounts::Account, credentials::Credential},
};

/// How long a shown secret may wait for its first code.
const SETUP_TTL: i64 = 15 * 60;
pub const SECURITY_URL: &str = "/account/security";
/// The step-up page confirming the second factor for the account pages (no request).
pub const CONFIRM_URL: &str = "/stepup?level=substantial";

/// A TOTP secret waiting in the session for its first code ([`session::keys::TOTP_SETUP`]).
#[derive(Serialize, Deserialize)]
pub struct PendingTotp {
    /// The seed sealed with the KEK, bound to the account.
    sealed: String,
    created: i64,
}

fn setup_aad(account_id: &str) -> String {
    format!("totp-setup|{account_id}")
}

/// Whether an account with these credentials counts as having a second factor.
pub fn has_second_factor(creds: &[Credential]) -> bool {
    creds
        .iter()
        .any(|c| c.kind == totp::KIND || c.kind == passkey::KIND)
}

/// The longest a login may be old for any change of credentials (adding TOTP or a passkey,
/// new recovery codes, removing one): a session left open on a shared computer must not
/// enrol the finder's authenticator.
pub const FRESH_LOGIN_SECS: i64 = 15 * 60;
/// Where a stale login goes to log in again.
pub const LOGIN_AGAIN_URL: &str = "/login";

/// The one rule for changing credentials: `None` when this session may add, remove or
/// replace the account's credentials now; otherwise where it must go first. Every change
/// needs a login no older than [`FRESH_LOGIN_SECS`] ([`LOGIN_AGAIN_URL`]); an account that
/// already has a second factor also needs that factor used in this session, no longer ago
/// than the maximum age of substantial ([`CONFIRM_URL`]).
pub fn credential_change_gate(
    login: &SsoLogin,
    creds: &[Credential],
    max_age: u64,
    now: i64,
) -> Option<&'static str> {
    if now.saturating_sub(login.auth_time) > FRESH_LOGIN_SECS {
        return Some(LOGIN_AGAIN_URL);
    }
    if !has_second_factor(creds) {
        return None;
    }
    let used = login
        .methods
        .iter()
        .any(|m| matches!(m, Method::Totp | Method::RecoveryCode | Method::Passkey));
    (!(used && now.saturating_sub(login.auth_time) <= max_age as i64)).then_some(CONFIRM_URL)
}

/// Whether this session may change the account's credentials now ([`credential_change_gate`]).
pub fn may_change_credentials(
    login: &SsoLogin,
    creds: &[Credential],
    max_age: u64,
    now: i64,
) -> bool {
    credential_change_gate(login, creds, max_age, now).is_none()
}

/// The credentials and, when this session may not change them now, where it must go first.
async fn credentials(
    app: &App,
    login: &SsoLogin,
    lang: Lang,
) -> Result<(Vec<Credential>, Option<&'static str>), Response> {
    let creds = app
        .db
        .credentials_of(&login.account_id)
        .await
        .map_err(|e| internal(lang, e))?;
    let policy = app.db.policy_load().await.map_err(|e| internal(lang, e))?;
    let gate = credential_change_gate(
        login,
        &creds,
        policy.max_age_of(Level::Substantial),
        app.clock.now(),
    );
    Ok((creds, gate))
}

/// Common start of every POST (after the CSRF check of [`CsrfForm`]): login, credentials,
/// permission to change.
async fn start_change(
    app: &App,
    s: &Session,
    lang: Lang,
) -> Result<(SsoLogin, Account, Vec<Credential>), Response> {
    let (login, account) = citizen(app, s, lang).await?;
    let (creds, gate) = credentials(app, &login, lang).await?;
    if let Some(url) = gate {
        return Err(Redirect::to(url).into_response());
    }
    Ok((login, account, creds))
}

#[derive(Deserialize)]
pub struct SecurityQuery {
    pub done: Option<String>,
}

/// `GET /account/security`.
pub async fn security_page(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    Query(q): Query<SecurityQuery>,
) -> Response {
    let lang = lang(&headers, None);
    let (login, account) = match citizen(&app, &s, lang).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (creds, gate) = match credentials(&app, &login, lang).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let recovery_left = match app.db.recovery_codes_left(&account.id).await {
        Ok(n) => n,
        Err(e) => return internal(lang, e),
    };
    let csrf = match session::csrf_token(&s).await {
        Ok(t) => t,
        Err(e) => return internal(lang, e),
    };
    let page = pages::SecurityPage {
        lang,
        csrf,
        credentials: creds
            .iter()
            .map(|c| pages::CredentialRow {
                kind: c.kind.to_string(),
                label: c.label.clone(),
                created: format_date(lang, c.created_at),
                last_used: c.last_used_at.map(|t| format_date(lang, t)),
                remove_action: format!("{SECURITY_URL}/credentials/{}/remove", c.id),
            })
            .collect(),
        recovery_left,
        confirm_url: gate.map(String::from),
        notice: match q.done.as_deref() {
            Some("totp") => Some(pages::SecurityNotice::TotpAdded),
            Some("removed") => Some(pages::SecurityNotice::Removed),
            _ => None,
        },
        totp_url: format!("{SECURITY_URL}/totp"),
        recovery_action: format!("{SECURITY_URL}/recovery-codes"),
        account_url: "/account".into(),
    };
    Html(page.render(&app.config.site)).into_response()
}

/// The secret waiting in the session for its first code, or a new one (kept there).
pub(super) async fn setup_seed(
    app: &App,
    s: &Session,
    account_id: &str,
) -> anyhow::Result<Vec<u8>> {
    let t = app.clock.now();
    if let Some(p) = keys::TOTP_SETUP.get(s).await? {
        if t - p.created < SETUP_TTL {
            if let Ok(seed) = app
                .kek
                .open("totp-setup", &setup_aad(account_id), &p.sealed)
            {
                return Ok(seed);
            }
        }
    }
    let seed = totp::new_seed();
    let sealed = app.kek.seal(&setup_aad(account_id), &seed)?;
    keys::TOTP_SETUP
        .insert(s, &PendingTotp { sealed, created: t })
        .await?;
    Ok(seed)
}

async fn render_setup(
    app: &App,
    s: &Session,
    lang: Lang,
    account: &Account,
    error: Option<pages::CodeError>,
) -> Response {
    let seed = match setup_seed(app, s, &account.id).await {
        Ok(seed) => seed,
        Err(e) => return internal(lang, e),
    };
    let csrf = match session::csrf_token(s).await {
        Ok(t) => t,
        Err(e) => return internal(lang, e),
    };
    let page = pages::TotpSetupPage {
        lang,
        csrf,
        action: format!("{SECURITY_URL}/totp"),
        email: account.email.clone(),
        secret: totp::display_secret(&seed),
        qr: totp::qr_path(&totp::otpauth_uri(&seed, &account.email)),
        error,
        cancel_url: SECURITY_URL.into(),
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    (status, Html(page.render(&app.config.site))).into_response()
}

/// `GET /account/security/totp`.
pub async fn totp_page(State(app): State<App>, s: Session, headers: HeaderMap) -> Response {
    let lang = lang(&headers, None);
    let (login, account) = match citizen(&app, &s, lang).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match credentials(&app, &login, lang).await {
        Ok((_, None)) => render_setup(&app, &s, lang, &account, None).await,
        Ok((_, Some(url))) => Redirect::to(url).into_response(),
        Err(r) => r,
    }
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub code: String,
}

impl HasCsrf for CodeForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /account/security/totp`: the first code confirms the app.
pub async fn totp_submit(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    CsrfForm(f): CsrfForm<CodeForm>,
) -> Response {
    let lang = lang(&headers, None);
    let (_login, account, _) = match start_change(&app, &s, lang).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let t = app.clock.now();
    match confirm_setup(&app, &s, &account, &f.code).await {
        Ok(SetupCheck::Added(_)) => {}
        Ok(SetupCheck::Expired) => {
            // The shown secret expired: show a new one.
            return Redirect::to(&format!("{SECURITY_URL}/totp")).into_response();
        }
        Ok(SetupCheck::Refused(e)) => return render_setup(&app, &s, lang, &account, Some(e)).await,
        Err(e) => return internal(lang, e),
    }
    match app.db.recovery_codes_left(&account.id).await {
        Ok(0) => {}
        Ok(_) => return Redirect::to(&format!("{SECURITY_URL}?done=totp")).into_response(),
        Err(e) => return internal(lang, e),
    }
    new_recovery_codes(&app, lang, &account.id, t, "first_second_factor", None).await
}

/// What the first code did to a set-up waiting in the session.
pub(super) enum SetupCheck {
    /// Right: the authenticator app is stored (audited `credential.added`).
    Added(Credential),
    /// No secret waits (never shown, or older than [`SETUP_TTL`]).
    Expired,
    Refused(pages::CodeError),
}

/// Checks `code` against the secret waiting in the session (the security page's set-up, and
/// the step-up page's) and, when it is right, stores the app. The caller has checked that this
/// session may add a credential.
pub(super) async fn confirm_setup(
    app: &App,
    s: &Session,
    account: &Account,
    code: &str,
) -> anyhow::Result<SetupCheck> {
    let pending = keys::TOTP_SETUP
        .get(s)
        .await?
        .filter(|p| app.clock.now() - p.created < SETUP_TTL);
    let Some(pending) = pending else {
        return Ok(SetupCheck::Expired);
    };
    let Ok(seed) = app
        .kek
        .open("totp-setup", &setup_aad(&account.id), &pending.sealed)
    else {
        return Ok(SetupCheck::Expired);
    };
    let t = app.clock.now();
    let step = if code.trim().is_empty() {
        Err(pages::CodeError::Missing)
    } else if totp::normalise_code(code).is_none() {
        Err(pages::CodeError::Malformed)
    } else {
        totp::matching_step(&seed, code, t).ok_or(pages::CodeError::Wrong)
    };
    let step = match step {
        Ok(step) => step,
        Err(e) => return Ok(SetupCheck::Refused(e)),
    };
    let cred = totp::enrol(&app.db, &app.kek, &account.id, "", &seed, step, t).await?;
    let _ = keys::TOTP_SETUP.remove(s).await;
    audit::record(
        &app.db,
        Entry::new(Event::CredentialAdded, Actor::Account(account.id.clone()))
            .subject(&account.id)
            .fields(json!({ "kind": totp::KIND, "credential_id": cred.id })),
    )
    .await?;
    Ok(SetupCheck::Added(cred))
}

/// `POST /account/security/recovery-codes`: a new set, shown once.
pub async fn recovery_regenerate(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Response {
    let lang = lang(&headers, None);
    let (_login, account, creds) = match start_change(&app, &s, lang).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !has_second_factor(&creds) {
        // Recovery codes stand in for a second factor; without one they are meaningless.
        return Redirect::to(SECURITY_URL).into_response();
    }
    new_recovery_codes(&app, lang, &account.id, app.clock.now(), "requested", None).await
}

/// Replaces the account's recovery codes, audits it (`reason`) and shows the new set once.
/// After a first second factor (`first_second_factor`) the page says the app was added.
/// `continue_url` replaces the way back to the security page (the step-up page's set-up
/// continues the service's request).
pub(super) async fn new_recovery_codes(
    app: &App,
    lang: Lang,
    account_id: &str,
    t: i64,
    reason: &str,
    continue_url: Option<String>,
) -> Response {
    let codes = match totp::regenerate_recovery_codes(&app.db, &app.kek, account_id, t).await {
        Ok(c) => c,
        Err(e) => return internal(lang, e),
    };
    if let Err(e) = audit::record(
        &app.db,
        Entry::new(
            Event::RecoveryCodesRegenerated,
            Actor::Account(account_id.to_string()),
        )
        .subject(account_id)
        .fields(json!({ "count": codes.len(), "reason": reason })),
    )
    .await
    {
        return internal(lang, e);
    }
    let totp_added = reason == "first_second_factor";
    let page = pages::RecoveryCodesPage {
        lang,
        codes,
        totp_added,
        continue_url: continue_url.unwrap_or_else(|| {
            if totp_added {
                format!("{SECURITY_URL}?done=totp")
            } else {
                SECURITY_URL.into()
            }
        }),
    };
    Html(page.render(&app.config.site)).into_response()
}

/// `POST /account/security/credentials/{id}/remove`.
pub async fn credential_remove(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Response {
    let lang = lang(&headers, None);
    let (_login, account, creds) = match start_change(&app, &s, lang).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Some(cred) = creds.iter().find(|c| c.id == id) else {
        return Redirect::to(SECURITY_URL).into_response();
    };
    let t = app.clock.now();
    match app.db.credential_delete(&account.id, &id).await {
        Ok(true) => {}
        Ok(false) => return Redirect::to(SECURITY_URL).into_response(),
        Err(e) => return internal(lang, e),
    }
    let rest: Vec<Credential> = creds.iter().filter(|c| c.id != id).cloned().collect();
    let clear_codes = !has_second_factor(&rest);
    if clear_codes {
        if let Err(e) = app.db.recovery_codes_replace(&account.id, &[], t).await {
            return internal(lang, e);
        }
    }
    if let Err(e) = audit::record(&app.db, Entry::new(Event::CredentialRemoved, Actor::Account(account.id.clone())).subject(&account.id).fields(json!({ "kind": cred.kind, "credential_id": cred.id, "recovery_codes_cleared": clear_codes }))).await {
        return internal(lang, e);
    }
    Redirect::to(&format!("{SECURITY_URL}?done=removed")).into_response()
}
