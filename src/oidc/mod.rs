//! The OpenID Connect / OAuth 2.0 protocol: decisions and token issuance, free of HTTP types.
//!
//! One file per endpoint or grant type; the web layer (`web::protocol`) parses the request,
//! calls in here and renders the result.

pub mod authorize;
pub mod claims;
pub mod client_auth;
pub mod discovery;
pub mod error;
pub mod grants;
pub mod introspect;
pub mod issue;
pub mod ledger;
pub mod logout;
pub mod params;
pub mod revoke;
pub mod token;
pub mod userinfo;

use serde::{Deserialize, Serialize};

use crate::assurance::{level::Method, Level};

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
}

impl SsoLogin {
    /// Adds a method authenticated in this session (step-up): the level is recomputed from all
    /// methods and the proofing, and `auth_time` moves to now (the citizen just authenticated).
    pub fn step_up(&mut self, method: Method, proofing: Level, now: i64) {
        if !self.methods.contains(&method) {
            self.methods.push(method);
        }
        let facts = crate::assurance::level::LoginFacts {
            proofing,
            methods: self.methods.clone(),
            upstream: None,
        };
        if let Some(level) = crate::assurance::level::login_level(&facts) {
            self.level = level;
        }
        self.auth_time = now;
    }

    pub fn view(&self) -> authorize::SessionView {
        authorize::SessionView {
            account_id: self.account_id.clone(),
            auth_time: self.auth_time,
            level: self.level,
        }
    }
}
