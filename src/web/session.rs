//! The single sign-on session as the web layer keeps it in tower-sessions: the login, pending
//! authorization requests, and the CSRF token.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::{
    oidc::{
        authorize::{AuthRequest, Interaction},
        SsoLogin,
    },
    secrets,
};

const LOGIN: &str = "login";
const PENDING: &str = "pending";
const CSRF: &str = "csrf";
/// At most this many authorization requests wait in one session (several tabs).
const MAX_PENDING: usize = 8;
/// A pending request older than this is dropped (the citizen starts again at the service).
const PENDING_TTL: i64 = 30 * 60;

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

impl From<tower_sessions::session::Error> for SessionError {
    fn from(e: tower_sessions::session::Error) -> Self {
        SessionError(e.to_string())
    }
}

pub async fn login(s: &Session) -> Result<Option<SsoLogin>, SessionError> {
    Ok(s.get::<SsoLogin>(LOGIN).await?)
}

/// Stores a fresh login. The session id changes (no session fixation).
pub async fn set_login(s: &Session, login: &SsoLogin) -> Result<(), SessionError> {
    s.cycle_id().await?;
    s.insert(LOGIN, login).await?;
    Ok(())
}

/// Ends the session entirely (logout).
pub async fn clear(s: &Session) -> Result<(), SessionError> {
    s.flush().await?;
    Ok(())
}

async fn pending_map(s: &Session) -> Result<BTreeMap<String, Pending>, SessionError> {
    Ok(s.get::<BTreeMap<String, Pending>>(PENDING)
        .await?
        .unwrap_or_default())
}

/// Parks a validated request; returns its id.
pub async fn park(s: &Session, req: AuthRequest, now: i64) -> Result<String, SessionError> {
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
    s.insert(PENDING, map).await?;
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
        s.insert(PENDING, map).await?;
    }
    Ok(())
}

pub async fn finish_pending(s: &Session, id: &str) -> Result<(), SessionError> {
    let mut map = pending_map(s).await?;
    if map.remove(id).is_some() {
        s.insert(PENDING, map).await?;
    }
    Ok(())
}

/// The session's CSRF token, created on first use.
pub async fn csrf_token(s: &Session) -> Result<String, SessionError> {
    if let Some(t) = s.get::<String>(CSRF).await? {
        return Ok(t);
    }
    let t = secrets::new_secret();
    s.insert(CSRF, &t).await?;
    Ok(t)
}

/// Checks a submitted CSRF token in constant time.
pub async fn csrf_ok(s: &Session, submitted: &str) -> Result<bool, SessionError> {
    Ok(match s.get::<String>(CSRF).await? {
        Some(t) => secrets::ct_eq(t.as_bytes(), submitted.as_bytes()),
        None => false,
    })
}
