//! The admin console as a first-party OpenID client of Pforte itself.
//!
//! Owns: the console's client registration ([`ensure_client`], run when a sign-in starts: created when
//! missing, its redirect URI kept equal to `{issuer}/admin/callback` when the issuer changes)
//! and the rule for an acceptable console login ([`check_login`], pure): at least
//! substantial, and for a change no older than `admin.max_age_secs`.

use crate::{
    accounts::Hasher,
    assurance::Level,
    audit::Actor,
    store::{clients::Client, Db},
};

use super::{AdminError, NewClient};

/// The console's client id.
pub const CLIENT_ID: &str = "pforte-admin-console";
/// The level a console login must reach.
pub const MIN_LEVEL: Level = Level::Substantial;

/// The console's redirect URI for an issuer.
pub fn redirect_uri(issuer: &str) -> String {
    format!("{}/admin/callback", issuer.trim_end_matches('/'))
}

fn registration(issuer: &str) -> NewClient {
    NewClient {
        id: CLIENT_ID.into(),
        name: Some("Pforte Admin-Konsole".into()),
        redirect_uris: vec![redirect_uri(issuer)],
        grant_types: vec!["authorization_code".into()],
        scopes: vec!["openid".into(), "email".into()],
        min_level: Some(MIN_LEVEL),
        first_party: true,
        subject_type: Some("public".into()),
        ..NewClient::default()
    }
}

/// Registers the console's client, or brings its registration up to date (audited as the
/// system). Idempotent: an up-to-date registration is left alone.
pub async fn ensure_client(db: &Db, hasher: &Hasher, issuer: &str) -> Result<(), AdminError> {
    let want = registration(issuer);
    match db.client_get(CLIENT_ID).await? {
        None => {
            super::register_client(db, hasher, &Actor::System, want).await?;
        }
        Some(c) if !up_to_date(&c, &want) => {
            super::update_client(db, hasher, &Actor::System, want).await?;
        }
        Some(_) => {}
    }
    Ok(())
}

fn up_to_date(c: &Client, want: &NewClient) -> bool {
    c.redirect_uris == want.redirect_uris
        && c.min_level == want.min_level
        && c.first_party
        && c.is_public()
        && c.scopes == want.scopes
}

/// Why a console login is not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginProblem {
    /// Below substantial (or no recognisable acr).
    TooWeak,
    /// Older than `admin.max_age_secs`: log in again.
    Stale,
}

/// Whether a login (its level and `auth_time`) may use the console now; `for_change`: the
/// freshness rule applies (reading pages needs only the level).
pub fn check_login(
    level: Option<Level>,
    auth_time: i64,
    now: i64,
    max_age: u64,
    for_change: bool,
) -> Result<(), LoginProblem> {
    if level.is_none_or(|l| l < MIN_LEVEL) {
        return Err(LoginProblem::TooWeak);
    }
    if for_change && now.saturating_sub(auth_time) > max_age as i64 {
        return Err(LoginProblem::Stale);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_login_needs_substantial_and_fresh_for_changes() {
        let s = Some(Level::Substantial);
        assert_eq!(
            check_login(Some(Level::Low), 100, 100, 900, false),
            Err(LoginProblem::TooWeak)
        );
        assert_eq!(
            check_login(None, 100, 100, 900, false),
            Err(LoginProblem::TooWeak)
        );
        assert_eq!(check_login(s, 100, 100, 900, true), Ok(()));
        assert_eq!(check_login(Some(Level::High), 100, 1000, 900, true), Ok(()));
        assert_eq!(
            check_login(s, 100, 1001, 900, true),
            Err(LoginProblem::Stale)
        );
        // Reading needs no fresh login.
        assert_eq!(check_login(s, 100, 100_000, 900, false), Ok(()));
    }

    #[test]
    fn registration_is_a_public_pkce_client_held_to_substantial() {
        let n = registration("https://id.example.de/");
        assert_eq!(n.redirect_uris, ["https://id.example.de/admin/callback"]);
        let c = super::super::check_client(&n, None, 0).unwrap();
        assert!(c.is_public());
        assert!(up_to_date(&c, &n));
        assert!(!up_to_date(&c, &registration("https://other.example.de")));
    }
}
