//! Passkey (WebAuthn) JSON endpoints, called by `static/passkey.js` from the security page
//! (registration) and the step-up page (authentication for a pending authorization request).
//!
//! Every endpoint is a POST with the session's CSRF token in an `X-CSRF-Token` header and needs
//! a login. Errors are JSON `{error, error_description}` with a 4xx status (503 only when the
//! session or database storage itself fails). The ceremony state lives in the server-side
//! session, is single-use (taken out before verification) and expires after five minutes.

use axum::{
    body::Bytes,
    extract::State,
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use tower_sessions::Session;

use super::{
    login,
    session::{self, keys, Key},
};
use crate::{
    accounts::login::Authenticated,
    accounts::passkey::{
        clean_label, PasskeyAuthentication, PasskeyError, PasskeyRegistration, Passkeys,
        PublicKeyCredential, RegisterPublicKeyCredential,
    },
    app::App,
    audit::{self, Actor, Entry, Event},
    metrics::{LoginMethod, LoginOutcome},
    oidc::SsoLogin,
    store::accounts::Account,
};

/// A ceremony must finish within this many seconds (webauthn-rs' authenticator timeout).
const CEREMONY_TTL: i64 = 300;
/// Adding a passkey needs a login (or step-up) at most this old: a session left open, or a
/// stolen session cookie, must not be enough to enrol a new authenticator.
pub const REGISTER_MAX_LOGIN_AGE: i64 = crate::web::security::FRESH_LOGIN_SECS;

/// A JSON error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

fn err(status: StatusCode, error: &'static str, description: impl Into<String>) -> ApiError {
    ApiError {
        status,
        error,
        description: description.into(),
    }
}

impl ApiError {
    fn storage(e: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %e, "passkey endpoint: storage failed");
        err(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "storage is not available; please try again in a moment",
        )
    }
}

impl From<session::SessionError> for ApiError {
    fn from(e: session::SessionError) -> Self {
        ApiError::storage(e)
    }
}

impl From<PasskeyError> for ApiError {
    fn from(e: PasskeyError) -> Self {
        let d = e.to_string();
        match e {
            PasskeyError::Unavailable(_) => err(StatusCode::CONFLICT, "passkeys_unavailable", d),
            PasskeyError::NoPasskey => err(StatusCode::CONFLICT, "no_passkey", d),
            PasskeyError::AlreadyRegistered => err(StatusCode::CONFLICT, "already_registered", d),
            PasskeyError::Rejected(_) | PasskeyError::Corrupt(_) => {
                err(StatusCode::BAD_REQUEST, "passkey_rejected", d)
            }
            PasskeyError::Store(e) => ApiError::storage(e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            [(header::CACHE_CONTROL, "no-store")],
            Json(serde_json::json!({
                "error": self.error,
                "error_description": self.description,
            })),
        )
            .into_response()
    }
}

type ApiResult = Result<Response, ApiError>;

fn ok_json(v: impl Serialize) -> ApiResult {
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(v)).into_response())
}

/// Parses a JSON body ourselves so that every rejection is a JSON error (axum's `Json`
/// extractor answers in plain text). An empty body counts as `{}`.
fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    serde_json::from_slice(bytes).map_err(|e| {
        err(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("the request body is not the expected JSON: {e}"),
        )
    })
}

/// CSRF header, then the login and its (enabled) account.
async fn guard(
    app: &App,
    s: &Session,
    headers: &HeaderMap,
) -> Result<(SsoLogin, Account), ApiError> {
    let token = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if token.is_empty() || !session::csrf_ok(s, token).await? {
        return Err(err(
            StatusCode::FORBIDDEN,
            "invalid_csrf_token",
            "the page has expired; please reload it and try again",
        ));
    }
    let login_required = || {
        err(
            StatusCode::UNAUTHORIZED,
            "login_required",
            "please log in first",
        )
    };
    let login = session::login(&app.db, s)
        .await?
        .ok_or_else(login_required)?;
    let account = app
        .db
        .account_get(&login.account_id)
        .await
        .map_err(ApiError::storage)?
        .filter(|a| a.disabled_at.is_none())
        .ok_or_else(login_required)?;
    Ok((login, account))
}

fn passkeys(app: &App) -> Result<Passkeys<'_>, ApiError> {
    Ok(Passkeys::new(&app.db, &app.kek, &app.config.issuer)?)
}

/// Takes a ceremony out of the session (single use), checking its owner and age.
async fn take_ceremony<T: Serialize + DeserializeOwned>(
    s: &Session,
    key: Key<Ceremony<T>>,
    account_id: &str,
    t: i64,
) -> Result<T, ApiError> {
    let no_ceremony = || {
        err(
            StatusCode::BAD_REQUEST,
            "no_ceremony",
            "no passkey request is in progress, or it has expired; please start again",
        )
    };
    let c = key
        .take(s)
        .await
        .map_err(ApiError::storage)?
        .ok_or_else(no_ceremony)?;
    // A little clock skew between instances is tolerated.
    if c.account_id != account_id || t - c.created > CEREMONY_TTL || c.created - t > 60 {
        return Err(no_ceremony());
    }
    Ok(c.state)
}

/// A ceremony in progress, as the session keeps it ([`session::keys`]).
pub type RegistrationCeremony = Ceremony<PasskeyRegistration>;
/// A step-up ceremony in progress, as the session keeps it ([`session::keys`]).
pub type AuthenticationCeremony = Ceremony<StepUpState>;

#[derive(Serialize, Deserialize)]
pub struct Ceremony<T> {
    account_id: String,
    created: i64,
    state: T,
}

/// The state of a step-up: which pending authorization request it serves.
#[derive(Serialize, Deserialize)]
pub struct StepUpState {
    req: String,
    auth: PasskeyAuthentication,
}

async fn put_ceremony<T: Serialize + DeserializeOwned>(
    s: &Session,
    key: Key<Ceremony<T>>,
    account_id: &str,
    t: i64,
    state: T,
) -> Result<(), ApiError> {
    let ceremony = Ceremony {
        account_id: account_id.to_string(),
        created: t,
        state,
    };
    key.insert(s, &ceremony).await.map_err(ApiError::storage)
}

async fn display_name(app: &App, account: &Account) -> String {
    // Only the name shown by the authenticator: without attributes the e-mail serves.
    let attrs = app
        .db
        .account_attributes(&account.id)
        .await
        .unwrap_or_default();
    crate::accounts::display_name(account, &attrs)
}

// --- Registration (security page) --------------------------------------------------------

/// `POST /account/security/passkey/start` → `CreationChallengeResponse`.
pub async fn register_start(State(app): State<App>, s: Session, headers: HeaderMap) -> ApiResult {
    let (login, account) = guard(&app, &s, &headers).await?;
    let t = app.clock.now();
    // The one rule for every second-factor change (`web::security::credential_change_gate`):
    // a fresh login, and an account that has a second factor must have used it recently, so
    // a stolen password or an abandoned session alone cannot add a passkey.
    let creds = app
        .db
        .credentials_of(&account.id)
        .await
        .map_err(ApiError::storage)?;
    let policy = app.db.policy_load().await.map_err(ApiError::storage)?;
    let max_age = policy.max_age_of(crate::assurance::Level::Substantial);
    match crate::web::security::credential_change_gate(&login, &creds, max_age, t) {
        None => {}
        Some(crate::web::security::LOGIN_AGAIN_URL) => {
            return Err(err(
                StatusCode::FORBIDDEN,
                "fresh_login_required",
                "to add a passkey, please log in again first (your last login is too old)",
            ))
        }
        Some(_) => {
            return Err(err(
                StatusCode::FORBIDDEN,
                "second_factor_required",
                "confirm with your existing second factor first (step-up on the security page)",
            ))
        }
    }
    let pk = passkeys(&app)?;
    let name = display_name(&app, &account).await;
    let (options, state) = pk.start_registration(&account, &name).await?;
    put_ceremony(&s, keys::PASSKEY_REGISTRATION, &account.id, t, state).await?;
    ok_json(options)
}

#[derive(Deserialize)]
struct RegisterFinish {
    credential: RegisterPublicKeyCredential,
    #[serde(default)]
    label: Option<String>,
}

/// `POST /account/security/passkey/finish` (`{credential, label?}`) → `{id, label}`.
pub async fn register_finish(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let (_login, account) = guard(&app, &s, &headers).await?;
    let t = app.clock.now();
    let state: PasskeyRegistration =
        take_ceremony(&s, keys::PASSKEY_REGISTRATION, &account.id, t).await?;
    let f: RegisterFinish = body(&bytes)?;
    let label = clean_label(f.label.as_deref())?;
    let pk = passkeys(&app)?;
    let cred = pk
        .finish_registration(&account.id, &state, &f.credential, &label, t)
        .await?;
    audit::record(
        &app.db,
        Entry::new(
            Event::CredentialAdded,
            Actor::Account(account.id.to_string()),
        )
        .subject(&account.id)
        .fields(
            serde_json::json!({ "kind": "passkey", "credential": cred.id, "label": cred.label }),
        ),
    )
    .await
    .map_err(ApiError::storage)?;
    ok_json(serde_json::json!({ "id": cred.id, "label": cred.label }))
}

// --- Step-up (step-up page) --------------------------------------------------------------

#[derive(Deserialize)]
struct StepUpStart {
    #[serde(default)]
    req: String,
}

fn expired_request() -> ApiError {
    err(
        StatusCode::BAD_REQUEST,
        "request_expired",
        "this login request has expired or was already completed; please start again at the service",
    )
}

/// `POST /stepup/passkey/start` (`{req}`) → `RequestChallengeResponse`.
pub async fn stepup_start(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let (_login, account) = guard(&app, &s, &headers).await?;
    let f: StepUpStart = body(&bytes)?;
    let t = app.clock.now();
    let Some(pending) = session::pending(&s, &f.req, t).await? else {
        return Err(expired_request());
    };
    // The client's policy may not offer passkeys (admin: login methods per client).
    let client = app
        .db
        .client_get(&pending.req.client_id)
        .await
        .map_err(ApiError::storage)?;
    if client.is_some_and(|c| !c.offers_method("passkey")) {
        return Err(err(
            StatusCode::FORBIDDEN,
            "access_denied",
            "this service does not accept passkeys",
        ));
    }
    let pk = passkeys(&app)?;
    let (options, auth) = pk.start_authentication(&account.id).await?;
    put_ceremony(
        &s,
        keys::PASSKEY_AUTHENTICATION,
        &account.id,
        t,
        StepUpState { req: f.req, auth },
    )
    .await?;
    ok_json(options)
}

#[derive(Deserialize)]
struct StepUpFinish {
    #[serde(default)]
    req: String,
    credential: PublicKeyCredential,
}

/// `POST /stepup/passkey/finish` (`{req, credential}`) → `{redirect}` to continue the request.
pub async fn stepup_finish(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    device: super::login::Device,
    bytes: Bytes,
) -> ApiResult {
    let (_, account) = guard(&app, &s, &headers).await?;
    let t = app.clock.now();
    // Taken out first: whatever happens next, this challenge cannot be answered twice.
    let state: StepUpState =
        take_ceremony(&s, keys::PASSKEY_AUTHENTICATION, &account.id, t).await?;
    let f: StepUpFinish = body(&bytes)?;
    if f.req != state.req {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "no_ceremony",
            "the passkey request was started for another login request; please start again",
        ));
    }
    if session::pending(&s, &f.req, t).await?.is_none() {
        return Err(expired_request());
    }
    let pk = passkeys(&app)?;
    let credential_id = match pk
        .finish_authentication(&account.id, &state.auth, &f.credential, t)
        .await
    {
        Ok(id) => id,
        Err(e) => {
            if matches!(e, PasskeyError::Rejected(_)) {
                app.metrics
                    .login(LoginMethod::Passkey, None, LoginOutcome::Failure);
                audit::record_or_log(
                    &app.db,
                    Entry::new(Event::LoginFailed, Actor::Account(account.id.clone()))
                        .subject(&account.id)
                        .with("method", "passkey")
                        .with("step_up", true),
                )
                .await;
            }
            return Err(e.into());
        }
    };
    let proofing = account.proofing_level;
    let what = Authenticated::Passkey { credential_id };
    let done = login::finish(&app, &s, &account.id, proofing, what, Some(&f.req), &device)
        .await
        .map_err(ApiError::storage)?;
    ok_json(serde_json::json!({
        "redirect": done.next.url(super::security::SECURITY_URL),
    }))
}
