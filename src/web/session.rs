//! The single sign-on session as the web layer keeps it in tower-sessions: the login, pending
//! authorization requests, and the CSRF token; and every other value kept in the session, each
//! under a typed [`Key`] listed in [`keys`], so a key and the type stored under it cannot
//! disagree and no two features share a name by accident.

use std::{collections::BTreeMap, marker::PhantomData};

use serde::{de::DeserializeOwned, Deserialize, Serialize};
use tower_sessions::Session;

use crate::{
    oidc::{
        authorize::{AuthRequest, Interaction},
        SsoLogin,
    },
    secrets,
    store::Db,
};

/// A session key together with the type of the value stored under it.
pub struct Key<T> {
    name: &'static str,
    value: PhantomData<fn() -> T>,
}

impl<T> Key<T> {
    const fn new(name: &'static str) -> Self {
        Key {
            name,
            value: PhantomData,
        }
    }

    /// The name the value is stored under.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

impl<T: Serialize + DeserializeOwned> Key<T> {
    /// The stored value, if any. A value that does not decode as `T` is an error.
    pub async fn get(&self, s: &Session) -> Result<Option<T>, SessionError> {
        Ok(s.get::<T>(self.name).await?)
    }

    pub async fn insert(&self, s: &Session, value: &T) -> Result<(), SessionError> {
        Ok(s.insert(self.name, value).await?)
    }

    /// Removes and returns the stored value. A value that does not decode as `T` is removed
    /// and reported as absent (it cannot be used anyway, and the caller starts afresh).
    pub async fn take(&self, s: &Session) -> Result<Option<T>, SessionError> {
        Ok(s.remove_value(self.name)
            .await?
            .and_then(|v| serde_json::from_value(v).ok()))
    }

    pub async fn remove(&self, s: &Session) -> Result<(), SessionError> {
        s.remove_value(self.name).await?;
        Ok(())
    }
}

/// Every key Pforte keeps in the session, with the type of its value.
pub mod keys {
    use std::collections::BTreeMap;

    use super::{Key, Pending};
    use crate::oidc::SsoLogin;

    /// The login of this browser.
    pub const LOGIN: Key<SsoLogin> = Key::new("login");
    /// Authorization requests waiting for login, step-up or consent, by id.
    pub const PENDING: Key<BTreeMap<String, Pending>> = Key::new("pending");
    /// The CSRF token of this session's forms.
    pub const CSRF: Key<String> = Key::new("csrf");
    /// Wrong step-up codes per pending request (`web::stepup`).
    pub const STEPUP_FAILURES: Key<BTreeMap<String, u32>> = Key::new("stepup_failures");
    /// A passkey registration ceremony in progress (`web::passkey`).
    pub const PASSKEY_REGISTRATION: Key<crate::web::passkey::RegistrationCeremony> =
        Key::new("passkey.registration");
    /// A passkey step-up ceremony in progress (`web::passkey`).
    pub const PASSKEY_AUTHENTICATION: Key<crate::web::passkey::AuthenticationCeremony> =
        Key::new("passkey.authentication");
    /// A TOTP secret shown for set-up, waiting for its first code (`web::security`).
    pub const TOTP_SETUP: Key<crate::web::security::PendingTotp> = Key::new("totp_setup");
    /// The address registered in this browser (the done page, the login form's prefill).
    pub const REGISTERED_EMAIL: Key<String> = Key::new("register_done");
    /// The pending authorization request the last registration started from.
    pub const REGISTRATION_REQUEST: Key<String> = Key::new("register_req");
    /// The admin console's sign-in in progress (state, nonce, PKCE verifier), in the
    /// console's own session (`web::admin`).
    pub const ADMIN_SIGNIN: Key<crate::web::admin::SignIn> = Key::new("admin.signin");
    /// The staff member signed in to the admin console (`web::admin`).
    pub const ADMIN_LOGIN: Key<crate::web::admin::StaffLogin> = Key::new("admin.login");
    /// The admin console's language (`de`, `en`).
    pub const ADMIN_LANG: Key<String> = Key::new("admin.lang");
    /// A secret shown once after rotation (`web::admin`), taken when shown.
    pub const ADMIN_SHOW_ONCE: Key<crate::web::admin::ShowOnce> = Key::new("admin.show_once");

    /// Upstream logins started in this browser, by `state` (`web::upstream`).
    pub const UPSTREAM_FLIGHTS: Key<BTreeMap<String, crate::web::upstream::WebFlight>> =
        Key::new("upstream.flights");
    /// The upstream session behind the current login, for logout there (`web::upstream`).
    pub const UPSTREAM_SESSION: Key<crate::web::upstream::UpstreamSession> =
        Key::new("upstream.session");
    /// Where to go after the upstream's logout (`web::upstream::logout_done`).
    pub const UPSTREAM_LOGOUT_RETURN: Key<crate::web::upstream::LogoutReturn> =
        Key::new("upstream.logout_return");

    /// Every key's name, for the uniqueness test.
    #[cfg(test)]
    pub(super) const NAMES: [&str; 16] = [
        LOGIN.name,
        PENDING.name,
        CSRF.name,
        STEPUP_FAILURES.name,
        PASSKEY_REGISTRATION.name,
        PASSKEY_AUTHENTICATION.name,
        TOTP_SETUP.name,
        REGISTERED_EMAIL.name,
        REGISTRATION_REQUEST.name,
        ADMIN_SIGNIN.name,
        ADMIN_LOGIN.name,
        ADMIN_LANG.name,
        ADMIN_SHOW_ONCE.name,
        UPSTREAM_FLIGHTS.name,
        UPSTREAM_SESSION.name,
        UPSTREAM_LOGOUT_RETURN.name,
    ];
}
/// At most this many authorization requests wait in one session (several tabs).
const MAX_PENDING: usize = 8;
/// A pending request older than this is dropped (the citizen starts again at the service).
pub const PENDING_TTL: i64 = 30 * 60;

/// An authorization request waiting for login, step-up or consent.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Pending {
    pub req: AuthRequest,
    pub interaction: Interaction,
    pub created: i64,
}

#[derive(Debug, thiserror::Error)]
#[error("session storage failed: {0}")]
pub struct SessionError(String);

impl SessionError {
    /// The session layer is missing from the route (a programming error).
    pub fn missing_layer(detail: &str) -> SessionError {
        SessionError(format!("no session on this route: {detail}"))
    }
}

impl From<tower_sessions::session::Error> for SessionError {
    fn from(e: tower_sessions::session::Error) -> Self {
        SessionError(e.to_string())
    }
}

/// `last_seen_at` of a registered session is refreshed at most this often.
const TOUCH_AFTER: i64 = 60;

/// The browser's login, if it is still live in the session registry (`crate::sessions`): a
/// session ended elsewhere (another device's "log out everywhere else", a password reset, an
/// admin) or never registered counts as logged out, and its login is dropped here.
pub async fn login(db: &Db, s: &Session) -> Result<Option<SsoLogin>, SessionError> {
    let Some(login) = keys::LOGIN.get(s).await? else {
        return Ok(None);
    };
    let live = db
        .sso_session_live(&login.sid, &login.account_id, TOUCH_AFTER)
        .await
        .map_err(|e| SessionError(format!("session registry: {e}")))?;
    if live {
        Ok(Some(login))
    } else {
        keys::LOGIN.remove(s).await?;
        Ok(None)
    }
}

/// Stores a fresh login. The session id changes (no session fixation); it is saved with the
/// configured idle time (the layer's expiry applies to every request, so the short life an
/// anonymous session got in [`park`] ends here).
pub async fn set_login(s: &Session, login: &SsoLogin) -> Result<(), SessionError> {
    s.cycle_id().await?;
    keys::LOGIN.insert(s, login).await
}

/// Ends the session entirely (logout).
pub async fn clear(s: &Session) -> Result<(), SessionError> {
    s.flush().await?;
    Ok(())
}

async fn pending_map(s: &Session) -> Result<BTreeMap<String, Pending>, SessionError> {
    Ok(keys::PENDING.get(s).await?.unwrap_or_default())
}

/// Parks a validated request; returns its id.
pub async fn park(s: &Session, req: AuthRequest, now: i64) -> Result<String, SessionError> {
    // Nobody is logged in: the session holds nothing but pending requests, so it lives only as
    // long as they do (not the idle time of a login), and a flood of anonymous requests
    // leaves rows that expire within [`PENDING_TTL`].
    if keys::LOGIN.get(s).await?.is_none() {
        s.set_expiry(Some(tower_sessions::Expiry::OnInactivity(
            time::Duration::seconds(PENDING_TTL),
        )));
    }
    let mut map = pending_map(s).await?;
    map.retain(|_, p| now - p.created < PENDING_TTL);
    while map.len() >= MAX_PENDING {
        let oldest = map
            .iter()
            .min_by_key(|(_, p)| p.created)
            .map(|(k, _)| k.clone());
        match oldest {
            Some(k) => map.remove(&k),
            None => break,
        };
    }
    let id = secrets::random_token(16);
    map.insert(
        id.clone(),
        Pending {
            req,
            interaction: Interaction::default(),
            created: now,
        },
    );
    keys::PENDING.insert(s, &map).await?;
    Ok(id)
}

pub async fn pending(s: &Session, id: &str, now: i64) -> Result<Option<Pending>, SessionError> {
    Ok(pending_map(s)
        .await?
        .remove(id)
        .filter(|p| now - p.created < PENDING_TTL))
}

pub async fn update_pending(
    s: &Session,
    id: &str,
    f: impl FnOnce(&mut Interaction),
) -> Result<(), SessionError> {
    let mut map = pending_map(s).await?;
    if let Some(p) = map.get_mut(id) {
        f(&mut p.interaction);
        keys::PENDING.insert(s, &map).await?;
    }
    Ok(())
}

pub async fn finish_pending(s: &Session, id: &str) -> Result<(), SessionError> {
    let mut map = pending_map(s).await?;
    if map.remove(id).is_some() {
        keys::PENDING.insert(s, &map).await?;
    }
    Ok(())
}

/// The session's CSRF token, created on first use.
pub async fn csrf_token(s: &Session) -> Result<String, SessionError> {
    if let Some(t) = keys::CSRF.get(s).await? {
        return Ok(t);
    }
    let t = secrets::new_secret();
    keys::CSRF.insert(s, &t).await?;
    Ok(t)
}

/// Checks a submitted CSRF token in constant time.
pub async fn csrf_ok(s: &Session, submitted: &str) -> Result<bool, SessionError> {
    Ok(match keys::CSRF.get(s).await? {
        Some(t) => secrets::ct_eq(t.as_bytes(), submitted.as_bytes()),
        None => false,
    })
}

#[cfg(test)]
mod tests {
    use super::keys::NAMES;

    #[test]
    fn session_keys_are_distinct() {
        for (i, a) in NAMES.iter().enumerate() {
            assert!(!NAMES[i + 1..].contains(a), "session key {a} used twice");
        }
    }
}
