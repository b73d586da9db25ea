//! The one way a login finishes, whatever the method: password, TOTP, recovery code, passkey,
//! and (with federation) an upstream identity source.
//!
//! Owns: [`finish`], which carries out what [`accounts::login::apply`] decided: writes the audit
//! event (a failed write fails the login: it is a security event), stores the login under a
//! new session id (no session fixation), and marks the pending authorization request so the
//! decision runs again with the new login. Handlers verify the credential, then call this.

use std::{convert::Infallible, net::SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{header::USER_AGENT, request::Parts},
};
use tower_sessions::Session;

use super::session;
use crate::{
    accounts::login::{self, Authenticated, LoginKind, LoginRefused, SsoLogin},
    app::App,
    assurance::Level,
    audit::{self, Actor, Entry, Event},
    metrics::LoginOutcome,
    secrets, sessions,
    store::sso_sessions::NewSession,
};

/// The browser a login happens in, as the session registry keeps it for the citizen's list of
/// sessions: its `User-Agent` and the client address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Device {
    pub user_agent: Option<String>,
    pub address: Option<String>,
}

impl FromRequestParts<App> for Device {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let user_agent = parts
            .headers
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        // The client address under the one rule for forwarding headers (`web::client_addr`);
        // none when the server runs without connect info.
        let address = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|_| super::client_addr::of_parts(parts, &app.config.trusted_proxies).to_string());
        Ok(Device {
            user_agent,
            address,
        })
    }
}

/// Where the citizen goes after the login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Continue {
    /// Back into the pending authorization request `req`.
    Request(String),
    /// No request was pending: to the account pages.
    Account,
}

impl Continue {
    /// The address to redirect to (`/authorize/continue?req=…` or `fallback`).
    pub fn url(&self, fallback: &str) -> String {
        match self {
            Continue::Request(id) => format!(
                "/authorize/continue?req={}",
                url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>()
            ),
            Continue::Account => fallback.to_string(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FinishError {
    #[error(transparent)]
    Refused(#[from] LoginRefused),
    #[error(transparent)]
    Session(#[from] session::SessionError),
    #[error("storage: {0}")]
    Store(#[from] crate::store::StoreError),
}

/// The result of a finished login.
#[derive(Debug, Clone)]
pub struct Finished {
    pub login: SsoLogin,
    pub kind: LoginKind,
    pub next: Continue,
}

/// Finishes a login: the citizen of `account_id`, proofed at `proofing`, just proved `what`;
/// `req` is the pending authorization request the login was for, if any.
pub async fn finish(
    app: &App,
    s: &Session,
    account_id: &str,
    proofing: Level,
    what: Authenticated,
    req: Option<&str>,
    device: &Device,
) -> Result<Finished, FinishError> {
    let previous = session::login(&app.db, s).await?;
    let now = app.clock.now();
    let (login, kind) = login::apply(previous.as_ref(), account_id, proofing, &what, now, || {
        secrets::random_token(16)
    })?;
    let (event, before) = match kind {
        LoginKind::Started => (Event::LoginSucceeded, None),
        LoginKind::SteppedUp { before } => (Event::LoginStepUp, Some(before)),
    };
    let mut entry = Entry::new(event, Actor::Account(account_id.to_string()))
        .subject(account_id)
        .before(before)
        .after(login.level)
        .with("method", amr_name(&what));
    if let Some(c) = what.credential_id() {
        entry = entry.with("credential_id", c);
    }
    if let Authenticated::Upstream(u) = &what {
        entry = entry
            .with("upstream", &u.source)
            .with("asserted", u.asserted);
    }
    // A security event: if it cannot be recorded, the login does not happen.
    audit::record(&app.db, entry).await?;
    // A login of another account in this browser replaces the previous one: end it.
    if let Some(p) = previous.as_ref().filter(|p| p.sid != login.sid) {
        sessions::end(
            &app.db,
            sessions::Scope::One(&p.sid),
            sessions::Reason::Replaced,
        )
        .await?;
    }
    app.db
        .sso_session_put(&NewSession {
            sid: &login.sid,
            account_id: &login.account_id,
            auth_time: login.auth_time,
            methods: &login.methods,
            level: login.level,
            user_agent: device.user_agent.as_deref(),
            address: device.address.as_deref(),
        })
        .await?;
    session::set_login(s, &login).await?;
    // A new login that did not come from an upstream has no upstream session to end at logout.
    if kind == LoginKind::Started && !matches!(what, Authenticated::Upstream(_)) {
        session::keys::UPSTREAM_SESSION.remove(s).await?;
    }
    app.metrics.login(
        what.method().into(),
        Some(login.level),
        LoginOutcome::Success,
    );
    let next = match req.filter(|r| !r.is_empty()) {
        Some(id) => {
            session::update_pending(s, id, |i| i.logged_in = true).await?;
            Continue::Request(id.to_string())
        }
        None => Continue::Account,
    };
    Ok(Finished { login, kind, next })
}

/// The method's name in the audit trail (as before: `pwd`, `otp`, `recovery_code`, `passkey`,
/// `upstream`).
fn amr_name(what: &Authenticated) -> &'static str {
    match what {
        Authenticated::Password => "pwd",
        Authenticated::Totp { .. } => "otp",
        Authenticated::RecoveryCode => "recovery_code",
        Authenticated::Passkey { .. } => "passkey",
        Authenticated::Upstream(_) => "upstream",
    }
}
