//! What a finished authentication does to the citizen's login, whatever the method.
//!
//! Owns: [`SsoLogin`] (the login as the single sign-on session keeps it), [`Authenticated`]
//! (what just happened: a password, a second factor, a passkey, an upstream identity source)
//! and [`apply`], the one pure rule that turns "what happened" into the session's new login:
//! which methods count, which level they reach (through `assurance::level::login_level`),
//! when `auth_time` moves, when a new `sid` starts, and that a step-up keeps the upstream
//! part of a federated login. The effects (session, audit, pending request) are carried out
//! in one place on top of this: `web::login::finish`.

use serde::{Deserialize, Serialize};

use crate::assurance::{
    level::{self, LoginFacts, Method, UpstreamAssertion},
    Level,
};

/// A citizen's login as kept in the single sign-on session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoLogin {
    pub account_id: String,
    /// When the citizen last authenticated (OIDC `auth_time`).
    pub auth_time: i64,
    /// The methods used, in order (RFC 8176 `amr` derives from them).
    pub methods: Vec<Method>,
    /// The level the login reached.
    pub level: Level,
    /// Session id shared with relying parties (`sid`), for logout.
    pub sid: String,
    /// Set when the login began at an upstream identity source; kept through step-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<UpstreamLogin>,
}

/// What an upstream identity source asserted for this login.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamLogin {
    /// The source's id (`upstreams.id`).
    pub source: String,
    /// The level the source asserted, after mapping its `acr`; `None` if nothing mapped.
    pub asserted: Option<Level>,
    /// The admin's trust cap for this source at the time of the login.
    pub trust_cap: Level,
}

/// What the citizen just proved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Authenticated {
    /// The account's password: starts a new login.
    Password,
    /// A TOTP code (second factor): adds to the login in the session.
    Totp { credential_id: String },
    /// A single-use recovery code (stands in for the second factor).
    RecoveryCode,
    /// A WebAuthn passkey with user verification: adds to the login in the session, or starts
    /// one on its own (it is two factors in one).
    Passkey { credential_id: String },
    /// An upstream identity source: starts a new login carrying the source's assertion.
    Upstream(UpstreamLogin),
}

impl Authenticated {
    /// The method as the level function and `amr` know it.
    pub fn method(&self) -> Method {
        match self {
            Authenticated::Password => Method::Password,
            Authenticated::Totp { .. } => Method::Totp,
            Authenticated::RecoveryCode => Method::RecoveryCode,
            Authenticated::Passkey { .. } => Method::Passkey,
            Authenticated::Upstream(_) => Method::Upstream,
        }
    }

    /// The credential used, for the audit trail.
    pub fn credential_id(&self) -> Option<&str> {
        match self {
            Authenticated::Totp { credential_id } | Authenticated::Passkey { credential_id } => {
                Some(credential_id)
            }
            _ => None,
        }
    }

    /// Whether this method adds to a login already in the session rather than starting one.
    fn adds_to_existing(&self) -> bool {
        matches!(
            self,
            Authenticated::Totp { .. }
                | Authenticated::RecoveryCode
                | Authenticated::Passkey { .. }
        )
    }
}

/// Whether the login was started or raised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginKind {
    /// A new login (new `sid`).
    Started,
    /// A method added to the login in the session (`sid` kept).
    SteppedUp { before: Level },
}

/// Why an authentication cannot become a login.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginRefused {
    /// A second factor with no login of the same account in the session.
    #[error("a second factor needs a login of the same account in this session")]
    NoFirstFactor,
    /// The methods do not authenticate anyone (never with the variants above; kept total).
    #[error("these methods do not authenticate the citizen")]
    NotAuthenticated,
}

/// The session's login after the citizen of `account_id` (proofed at `proofing`) proved
/// `what` at `now`, given the login already in the session (`previous`).
///
/// A password or an upstream login starts a new login (new `sid` from `new_sid`). A second
/// factor adds its method to a login of the same account, keeps its `sid` and its upstream
/// assertion, and moves `auth_time` to now (the citizen just authenticated). A passkey starts a
/// login when there is none for this account. The level is always recomputed from all methods,
/// the upstream assertion and the proofing by `assurance::level::login_level`.
pub fn apply(
    previous: Option<&SsoLogin>,
    account_id: &str,
    proofing: Level,
    what: &Authenticated,
    now: i64,
    new_sid: impl FnOnce() -> String,
) -> Result<(SsoLogin, LoginKind), LoginRefused> {
    let same_account = previous.filter(|p| p.account_id == account_id);
    let (mut login, kind) = match (same_account, what.adds_to_existing()) {
        (Some(prev), true) => {
            let mut l = prev.clone();
            if !l.methods.contains(&what.method()) {
                l.methods.push(what.method());
            }
            (l, LoginKind::SteppedUp { before: prev.level })
        }
        (None, true) if !matches!(what, Authenticated::Passkey { .. }) => {
            return Err(LoginRefused::NoFirstFactor)
        }
        _ => (
            SsoLogin {
                account_id: account_id.to_string(),
                auth_time: now,
                methods: vec![what.method()],
                level: Level::Low,
                sid: new_sid(),
                upstream: match what {
                    Authenticated::Upstream(u) => Some(u.clone()),
                    _ => None,
                },
            },
            LoginKind::Started,
        ),
    };
    login.auth_time = now;
    login.level = level::login_level(&LoginFacts {
        proofing,
        methods: login.methods.clone(),
        upstream: login.upstream.as_ref().map(|u| UpstreamAssertion {
            asserted: u.asserted,
            trust_cap: u.trust_cap,
        }),
    })
    .ok_or(LoginRefused::NotAuthenticated)?;
    Ok((login, kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sid() -> String {
        "sid-new".into()
    }

    fn totp() -> Authenticated {
        Authenticated::Totp {
            credential_id: "c1".into(),
        }
    }

    fn upstream(asserted: Option<Level>, cap: Level) -> Authenticated {
        Authenticated::Upstream(UpstreamLogin {
            source: "eid".into(),
            asserted,
            trust_cap: cap,
        })
    }

    #[test]
    fn password_starts_a_low_login_with_a_new_sid() {
        let (l, kind) = apply(None, "a", Level::High, &Authenticated::Password, 100, sid).unwrap();
        assert_eq!(kind, LoginKind::Started);
        assert_eq!(l.level, Level::Low);
        assert_eq!(l.methods, vec![Method::Password]);
        assert_eq!((l.auth_time, l.sid.as_str()), (100, "sid-new"));
        assert!(l.upstream.is_none());
    }

    #[test]
    fn totp_after_password_reaches_substantial_keeps_sid_and_moves_auth_time() {
        let (first, _) = apply(
            None,
            "a",
            Level::Substantial,
            &Authenticated::Password,
            100,
            || "s1".into(),
        )
        .unwrap();
        let (l, kind) = apply(Some(&first), "a", Level::Substantial, &totp(), 160, sid).unwrap();
        assert_eq!(kind, LoginKind::SteppedUp { before: Level::Low });
        assert_eq!(l.level, Level::Substantial);
        assert_eq!(l.sid, "s1");
        assert_eq!(l.auth_time, 160);
        assert_eq!(l.methods, vec![Method::Password, Method::Totp]);
    }

    #[test]
    fn recovery_code_counts_like_a_second_factor_but_proofing_caps_it() {
        let (first, _) = apply(None, "a", Level::Low, &Authenticated::Password, 1, sid).unwrap();
        let (l, _) = apply(
            Some(&first),
            "a",
            Level::Low,
            &Authenticated::RecoveryCode,
            2,
            sid,
        )
        .unwrap();
        assert_eq!(
            l.level,
            Level::Low,
            "self-registered: proofing ceiling is low"
        );
        assert_eq!(l.methods, vec![Method::Password, Method::RecoveryCode]);
    }

    #[test]
    fn a_second_factor_without_a_first_is_refused() {
        assert_eq!(
            apply(None, "a", Level::High, &totp(), 1, sid),
            Err(LoginRefused::NoFirstFactor)
        );
        // Nor does another account's login count as the first factor.
        let (other, _) = apply(None, "b", Level::High, &Authenticated::Password, 1, sid).unwrap();
        assert_eq!(
            apply(
                Some(&other),
                "a",
                Level::High,
                &Authenticated::RecoveryCode,
                2,
                sid
            ),
            Err(LoginRefused::NoFirstFactor)
        );
    }

    #[test]
    fn a_passkey_alone_starts_a_substantial_login() {
        let pk = Authenticated::Passkey {
            credential_id: "p".into(),
        };
        let (l, kind) = apply(None, "a", Level::High, &pk, 5, sid).unwrap();
        assert_eq!(kind, LoginKind::Started);
        assert_eq!(l.level, Level::Substantial);
    }

    #[test]
    fn a_passkey_steps_up_a_password_login() {
        let (first, _) = apply(None, "a", Level::High, &Authenticated::Password, 1, sid).unwrap();
        let pk = Authenticated::Passkey {
            credential_id: "p".into(),
        };
        let (l, kind) = apply(Some(&first), "a", Level::High, &pk, 2, sid).unwrap();
        assert_eq!(kind, LoginKind::SteppedUp { before: Level::Low });
        assert_eq!(l.level, Level::Substantial);
    }

    #[test]
    fn an_upstream_login_carries_its_assertion_capped_by_trust_and_proofing() {
        let (l, _) = apply(
            None,
            "a",
            Level::High,
            &upstream(Some(Level::High), Level::Substantial),
            1,
            sid,
        )
        .unwrap();
        assert_eq!(l.level, Level::Substantial, "trust cap");
        assert_eq!(l.methods, vec![Method::Upstream]);
        let (l, _) = apply(
            None,
            "a",
            Level::Low,
            &upstream(Some(Level::High), Level::High),
            1,
            sid,
        )
        .unwrap();
        assert_eq!(l.level, Level::Low, "proofing cap");
    }

    #[test]
    fn a_step_up_keeps_the_upstream_assertion() {
        let (first, _) = apply(
            None,
            "a",
            Level::High,
            &upstream(Some(Level::High), Level::High),
            1,
            sid,
        )
        .unwrap();
        assert_eq!(first.level, Level::High);
        let (l, _) = apply(Some(&first), "a", Level::High, &totp(), 2, sid).unwrap();
        assert_eq!(l.level, Level::High, "never lowered by a step-up");
        assert_eq!(l.upstream, first.upstream);
        assert_eq!(l.methods, vec![Method::Upstream, Method::Totp]);
    }

    #[test]
    fn a_low_upstream_login_plus_a_second_factor_reaches_substantial() {
        let (first, _) = apply(
            None,
            "a",
            Level::Substantial,
            &upstream(Some(Level::Low), Level::High),
            1,
            sid,
        )
        .unwrap();
        assert_eq!(first.level, Level::Low);
        let (l, _) = apply(Some(&first), "a", Level::Substantial, &totp(), 2, sid).unwrap();
        assert_eq!(l.level, Level::Substantial);
    }

    #[test]
    fn a_new_password_login_replaces_another_accounts_login() {
        let (other, _) = apply(None, "b", Level::High, &Authenticated::Password, 1, || {
            "old".into()
        })
        .unwrap();
        let (l, kind) = apply(
            Some(&other),
            "a",
            Level::Low,
            &Authenticated::Password,
            2,
            sid,
        )
        .unwrap();
        assert_eq!(kind, LoginKind::Started);
        assert_eq!((l.account_id.as_str(), l.sid.as_str()), ("a", "sid-new"));
    }

    #[test]
    fn sessions_stored_before_upstream_existed_still_read() {
        let old =
            r#"{"account_id":"a","auth_time":1,"methods":["password"],"level":"low","sid":"s"}"#;
        let l: SsoLogin = serde_json::from_str(old).unwrap();
        assert!(l.upstream.is_none());
    }
}
