//! Single sign-on sessions seen from outside the browser: the registry that lets a citizen,
//! a password reset, a deletion or an admin end sessions, and logout know which services a
//! session reached.
//!
//! Owns: [`end`], the one way to end sessions. Everything that ends sessions calls it (the
//! end-session endpoint, the account page's logout and "log out everywhere else", a password
//! reset, account deletion, an admin disabling an account, a new login replacing another
//! account's login in the same browser). Back-channel logout hooks in here: what [`end`]
//! returns names every ended session and the services it reached.
//!
//! A login is registered by `web::login::finish` (`Db::sso_session_put`); the web layer's
//! `web::session::login` treats a login whose registry row is ended or missing as logged out,
//! so ending a session here logs that browser out on its next request, on every instance.

use crate::store::{
    sso_sessions::{EndWhich, EndedSession},
    Db, StoreError,
};

pub use crate::store::sso_sessions::SsoSession;

/// A session that was just ended, with the client ids of the services it reached.
pub type Ended = EndedSession;

/// Which sessions to end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope<'a> {
    /// The session with this `sid`.
    One(&'a str),
    /// Every live session of the account, except `except` (the citizen's current one).
    Account {
        account_id: &'a str,
        except: Option<&'a str>,
    },
}

/// Why sessions end; stored with each ended session and named in the audit trail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// The citizen logged out (end-session endpoint or the account page).
    Logout,
    /// The citizen ended their other sessions ("log out everywhere else").
    LoggedOutElsewhere,
    /// A login of another account replaced this one in the same browser.
    Replaced,
    /// The password was reset or changed: other sessions end.
    PasswordChanged,
    /// An admin or the help desk disabled the account or ended its sessions.
    Admin,
    /// The account was deleted.
    AccountDeleted,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Logout => "logout",
            Reason::LoggedOutElsewhere => "logged_out_elsewhere",
            Reason::Replaced => "replaced",
            Reason::PasswordChanged => "password_changed",
            Reason::Admin => "admin",
            Reason::AccountDeleted => "account_deleted",
        }
    }
}

/// Ends the sessions `scope` names (in one transaction) and returns those that were live, each
/// with the services it reached. Ending is idempotent: a session already ended is not returned
/// again.
pub async fn end(db: &Db, scope: Scope<'_>, reason: Reason) -> Result<Vec<Ended>, StoreError> {
    let which = match scope {
        Scope::One(sid) => EndWhich::One(sid),
        Scope::Account { account_id, except } => EndWhich::Account { account_id, except },
    };
    let ended = db.sso_sessions_end(which, reason.as_str()).await?;
    if !ended.is_empty() {
        tracing::info!(
            count = ended.len(),
            reason = reason.as_str(),
            "single sign-on sessions ended"
        );
    }
    Ok(ended)
}
