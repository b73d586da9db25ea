//! The audit trail's vocabulary: one enum of events and one JSON shape for all of them.
//!
//! Owns: [`Event`] (every security-relevant event Pforte records, with its stored name and
//! whether it is a *security event*), [`Actor`], [`Entry`] (one record: actor, subject,
//! client, address, before, after, plus event-specific fields), and the two ways to write one:
//! [`record`] returns the failure to the caller, which for a security event (login, credential
//! change, policy change, proofing, …) must fail the action with it; [`record_or_log`] is for
//! the other events and logs a failed write at error level instead of dropping it silently.
//! Storage is `store::audit`; secrets never enter an entry.

use serde_json::{Map, Value};

use crate::store::{Db, StoreError};

/// Every event in the audit trail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    LoginSucceeded,
    LoginFailed,
    LoginThrottled,
    LoginStepUp,
    LoginStepUpFailed,
    LoginStepUpBlocked,
    LoginStepUpDeclined,
    Logout,
    ConsentGranted,
    ConsentRevoked,
    CredentialAdded,
    CredentialRemoved,
    RecoveryCodesRegenerated,
    AccountCreated,
    AccountRegistered,
    AccountRegistrationRepeated,
    AccountVerificationResent,
    AccountEmailVerified,
    AccountDisabled,
    AccountProofed,
    AccountDataExported,
    AccountDeleted,
    ProfileChanged,
    AccountProofingRaised,
    ClientCreated,
    ClientRemoved,
    ClientAuthFailed,
    ClientAuthThrottled,
    ClientAssertionReplay,
    TokenCodeReplay,
    TokenRefreshReuse,
    TokenRevoked,
    KeysRotated,
    PolicyClientMinLevel,
    PolicyScopeMinLevel,
    PolicyLevelMaxAge,
    PolicyUpstreamTrust,
    PolicyClientMethods,
    PolicyClientVerifiedClaims,
    UpstreamAdded,
    UpstreamRemoved,
    UpstreamUpdated,
    AdminDenied,
    StaffRoleGranted,
    StaffRoleRevoked,
    AccountEnabled,
    AccountSessionsEnded,
    ClientUpdated,
    ClientSecretRotated,
    ClientDisabled,
    ClientEnabled,
    ClientsImported,
    AdminConsoleLogin,
    /// A login at an upstream source failed (timeout, error answer, invalid ID token, …).
    UpstreamLoginFailed,
    /// An account was created by a first login through an upstream source.
    UpstreamAccountCreated,
    /// An upstream identity was linked to an account.
    IdentityLinked,
    /// An upstream identity was unlinked from an account.
    IdentityUnlinked,
    /// Linking or logging in was refused: the identity is linked to another account, or it
    /// is the account's last way to log in.
    IdentityRefused,
    PasswordResetRequested,
    PasswordReset,
    PasswordChanged,
    EmailChangeRequested,
    EmailChanged,
    MailFailed,
}

/// `(event, stored name, security event)`: the one table every name and rule derives from.
/// A security event's write failing fails the action (issue 7, point 6).
const EVENTS: &[(Event, &str, bool)] = &[
    (Event::LoginSucceeded, "login.succeeded", true),
    (Event::LoginFailed, "login.failed", false),
    // A login refused by brute-force throttling (no password checked).
    (Event::LoginThrottled, "login.throttled", false),
    (Event::LoginStepUp, "login.step_up", true),
    (Event::LoginStepUpFailed, "login.step_up_failed", true),
    (Event::LoginStepUpBlocked, "login.step_up_blocked", false),
    (Event::LoginStepUpDeclined, "login.step_up_declined", false),
    (Event::Logout, "logout", false),
    (Event::ConsentGranted, "consent.granted", true),
    (Event::ConsentRevoked, "consent.revoked", true),
    (Event::CredentialAdded, "credential.added", true),
    (Event::CredentialRemoved, "credential.removed", true),
    (
        Event::RecoveryCodesRegenerated,
        "recovery_codes.regenerated",
        true,
    ),
    (Event::AccountCreated, "account.created", true),
    (Event::AccountRegistered, "account.registered", true),
    (
        Event::AccountRegistrationRepeated,
        "account.registration_repeated",
        false,
    ),
    (
        Event::AccountVerificationResent,
        "account.verification_resent",
        false,
    ),
    (Event::AccountEmailVerified, "account.email_verified", true),
    (Event::AccountDisabled, "account.disabled", true),
    (Event::AccountProofed, "account.proofed", true),
    (Event::AccountDataExported, "account.data_exported", true),
    (Event::AccountDeleted, "account.deleted", true),
    (Event::ProfileChanged, "account.profile_changed", false),
    (
        Event::AccountProofingRaised,
        "account.proofing_raised",
        true,
    ),
    (Event::ClientCreated, "client.created", true),
    (Event::ClientRemoved, "client.removed", true),
    (Event::ClientAuthFailed, "client.auth_failed", false),
    (Event::ClientAuthThrottled, "client.auth_throttled", false),
    (
        Event::ClientAssertionReplay,
        "client.assertion_replay",
        false,
    ),
    (Event::TokenCodeReplay, "token.code_replay", false),
    (Event::TokenRefreshReuse, "token.refresh_reuse", false),
    (Event::TokenRevoked, "token.revoked", false),
    (Event::KeysRotated, "keys.rotated", true),
    (Event::PolicyClientMinLevel, "policy.client_min_level", true),
    (Event::PolicyScopeMinLevel, "policy.scope_min_level", true),
    (Event::PolicyLevelMaxAge, "policy.level_max_age", true),
    (Event::PolicyUpstreamTrust, "policy.upstream_trust", true),
    (Event::PolicyClientMethods, "policy.client_methods", true),
    (
        Event::PolicyClientVerifiedClaims,
        "policy.client_verified_claims",
        true,
    ),
    (Event::UpstreamAdded, "upstream.added", true),
    (Event::UpstreamRemoved, "upstream.removed", true),
    (Event::UpstreamUpdated, "upstream.updated", true),
    (Event::AdminDenied, "admin.denied", false),
    (Event::StaffRoleGranted, "staff.role_granted", true),
    (Event::StaffRoleRevoked, "staff.role_revoked", true),
    (Event::AccountEnabled, "account.enabled", true),
    (Event::AccountSessionsEnded, "account.sessions_ended", true),
    (Event::ClientUpdated, "client.updated", true),
    (Event::ClientSecretRotated, "client.secret_rotated", true),
    (Event::ClientDisabled, "client.disabled", true),
    (Event::ClientEnabled, "client.enabled", true),
    (Event::ClientsImported, "client.imported", true),
    (Event::AdminConsoleLogin, "admin.console_login", true),
    (Event::UpstreamLoginFailed, "upstream.login_failed", false),
    (
        Event::UpstreamAccountCreated,
        "upstream.account_created",
        true,
    ),
    (Event::IdentityLinked, "identity.linked", true),
    (Event::IdentityUnlinked, "identity.unlinked", true),
    (Event::IdentityRefused, "identity.refused", false),
    (
        Event::PasswordResetRequested,
        "account.password_reset_requested",
        false,
    ),
    (Event::PasswordReset, "account.password_reset", true),
    (Event::PasswordChanged, "account.password_changed", true),
    (
        Event::EmailChangeRequested,
        "account.email_change_requested",
        true,
    ),
    (Event::EmailChanged, "account.email_changed", true),
    (Event::MailFailed, "mail.failed", false),
];

impl Event {
    fn row(self) -> &'static (Event, &'static str, bool) {
        EVENTS
            .iter()
            .find(|(e, _, _)| *e == self)
            .expect("every event is in EVENTS (unit-tested)")
    }

    /// The stored name, e.g. `login.step_up`.
    pub fn name(self) -> &'static str {
        self.row().1
    }

    /// Whether a failed write must fail the action that caused it.
    pub fn is_security(self) -> bool {
        self.row().2
    }

    /// The event with the stored name `name`.
    pub fn parse(name: &str) -> Option<Event> {
        EVENTS
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|(e, _, _)| *e)
    }
}

/// Who caused an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// Pforte itself (scheduled duties).
    System,
    /// An operator at the command line.
    Cli,
    /// Nobody identified (a failed login).
    Anonymous,
    /// A citizen.
    Account(String),
    /// A relying party, authenticated or claimed.
    Client(String),
    /// An administrator through the admin API (a client id) or the console.
    Admin(String),
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::System => f.write_str("system"),
            Actor::Cli => f.write_str("cli"),
            Actor::Anonymous => f.write_str("anonymous"),
            Actor::Account(id) => write!(f, "account:{id}"),
            Actor::Client(id) => write!(f, "client:{id}"),
            Actor::Admin(id) => write!(f, "admin:{id}"),
        }
    }
}

/// One audit record.
#[derive(Clone, Debug)]
pub struct Entry {
    pub event: Event,
    pub actor: Actor,
    /// What the event is about: an account, client, upstream, scope or level id.
    pub subject: Option<String>,
    /// The relying party involved, if any.
    pub client: Option<String>,
    /// The client address the request came from, if known.
    pub address: Option<String>,
    pub before: Value,
    pub after: Value,
    /// Event-specific fields (never secrets).
    pub fields: Map<String, Value>,
}

impl Entry {
    pub fn new(event: Event, actor: Actor) -> Entry {
        Entry {
            event,
            actor,
            subject: None,
            client: None,
            address: None,
            before: Value::Null,
            after: Value::Null,
            fields: Map::new(),
        }
    }

    pub fn subject(mut self, s: impl Into<String>) -> Entry {
        self.subject = Some(s.into());
        self
    }

    pub fn client(mut self, c: impl Into<String>) -> Entry {
        self.client = Some(c.into());
        self
    }

    pub fn address(mut self, a: impl Into<String>) -> Entry {
        self.address = Some(a.into());
        self
    }

    /// The state before a change.
    pub fn before(mut self, v: impl serde::Serialize) -> Entry {
        self.before = serde_json::to_value(v).unwrap_or(Value::Null);
        self
    }

    /// The state after a change.
    pub fn after(mut self, v: impl serde::Serialize) -> Entry {
        self.after = serde_json::to_value(v).unwrap_or(Value::Null);
        self
    }

    /// An event-specific field. The names of the shape's own keys are reserved.
    pub fn with(mut self, key: &str, v: impl serde::Serialize) -> Entry {
        debug_assert!(!RESERVED.contains(&key), "reserved audit key {key}");
        self.fields.insert(
            key.to_string(),
            serde_json::to_value(v).unwrap_or(Value::Null),
        );
        self
    }

    /// The subject, if there is one.
    pub fn subject_opt(mut self, s: Option<&str>) -> Entry {
        self.subject = s.map(str::to_string);
        self
    }

    /// Fields from a JSON object: its `before` and `after` become the entry's, the other
    /// keys event-specific fields (a reserved key other than those two is dropped).
    pub fn fields(mut self, v: Value) -> Entry {
        if let Value::Object(m) = v {
            for (k, v) in m {
                match k.as_str() {
                    "before" => self.before = v,
                    "after" => self.after = v,
                    k if RESERVED.contains(&k) => {}
                    _ => {
                        self.fields.insert(k, v);
                    }
                }
            }
        }
        self
    }

    /// The one JSON shape: `actor`, `subject`, `client`, `address`, `before`, `after` always
    /// present (null when not applicable), then the event's own fields.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("actor".into(), self.actor.to_string().into());
        m.insert("subject".into(), self.subject.clone().into());
        m.insert("client".into(), self.client.clone().into());
        m.insert("address".into(), self.address.clone().into());
        m.insert("before".into(), self.before.clone());
        m.insert("after".into(), self.after.clone());
        for (k, v) in &self.fields {
            if !RESERVED.contains(&k.as_str()) {
                m.insert(k.clone(), v.clone());
            }
        }
        Value::Object(m)
    }
}

const RESERVED: [&str; 6] = ["actor", "subject", "client", "address", "before", "after"];

/// Writes `e`. The caller decides what a failure means; for a security event
/// ([`Event::is_security`]) the action must fail with it.
#[must_use = "a failed audit write must not be dropped: fail the action or use record_or_log"]
pub async fn record(db: &Db, e: Entry) -> Result<(), StoreError> {
    db.audit(
        &e.actor.to_string(),
        e.event.name(),
        e.subject.as_deref(),
        e.to_json(),
    )
    .await
}

/// Writes `e`, logging a failure at error level (never silently). For events that are not
/// security events; a security event written this way is logged as such, too.
pub async fn record_or_log(db: &Db, e: Entry) {
    let event = e.event;
    if let Err(err) = record(db, e).await {
        tracing::error!(
            event = event.name(),
            security = event.is_security(),
            error = %err,
            "audit write failed"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Event; 64] = [
        Event::LoginSucceeded,
        Event::LoginFailed,
        Event::LoginThrottled,
        Event::ClientAuthThrottled,
        Event::LoginStepUp,
        Event::LoginStepUpFailed,
        Event::LoginStepUpBlocked,
        Event::LoginStepUpDeclined,
        Event::Logout,
        Event::ConsentGranted,
        Event::ConsentRevoked,
        Event::CredentialAdded,
        Event::CredentialRemoved,
        Event::RecoveryCodesRegenerated,
        Event::AccountCreated,
        Event::AccountRegistered,
        Event::AccountRegistrationRepeated,
        Event::AccountVerificationResent,
        Event::AccountEmailVerified,
        Event::AccountDisabled,
        Event::AccountProofed,
        Event::AccountDataExported,
        Event::AccountDeleted,
        Event::ProfileChanged,
        Event::AccountProofingRaised,
        Event::ClientCreated,
        Event::ClientRemoved,
        Event::ClientAuthFailed,
        Event::ClientAssertionReplay,
        Event::TokenCodeReplay,
        Event::TokenRefreshReuse,
        Event::TokenRevoked,
        Event::KeysRotated,
        Event::PolicyClientMinLevel,
        Event::PolicyScopeMinLevel,
        Event::PolicyLevelMaxAge,
        Event::PolicyUpstreamTrust,
        Event::PolicyClientMethods,
        Event::PolicyClientVerifiedClaims,
        Event::UpstreamAdded,
        Event::UpstreamRemoved,
        Event::UpstreamUpdated,
        Event::AdminDenied,
        Event::StaffRoleGranted,
        Event::StaffRoleRevoked,
        Event::AccountEnabled,
        Event::AccountSessionsEnded,
        Event::ClientUpdated,
        Event::ClientSecretRotated,
        Event::ClientDisabled,
        Event::ClientEnabled,
        Event::ClientsImported,
        Event::AdminConsoleLogin,
        Event::UpstreamLoginFailed,
        Event::UpstreamAccountCreated,
        Event::IdentityLinked,
        Event::IdentityUnlinked,
        Event::IdentityRefused,
        Event::PasswordResetRequested,
        Event::PasswordReset,
        Event::PasswordChanged,
        Event::EmailChangeRequested,
        Event::EmailChanged,
        Event::MailFailed,
    ];

    #[test]
    fn every_event_has_one_unique_name_that_parses_back() {
        assert_eq!(EVENTS.len(), ALL.len());
        let mut names = std::collections::HashSet::new();
        for e in ALL {
            assert!(names.insert(e.name()), "duplicate name {}", e.name());
            assert_eq!(Event::parse(e.name()), Some(e));
        }
        assert_eq!(Event::parse("nonsense"), None);
    }

    #[test]
    fn logins_credentials_policy_and_proofing_are_security_events() {
        for e in [
            Event::LoginSucceeded,
            Event::LoginStepUp,
            Event::CredentialAdded,
            Event::CredentialRemoved,
            Event::PolicyClientMinLevel,
            Event::PolicyUpstreamTrust,
            Event::AccountProofed,
            Event::AccountProofingRaised,
        ] {
            assert!(e.is_security(), "{}", e.name());
        }
    }

    #[test]
    fn every_entry_has_the_same_shape() {
        let j = Entry::new(Event::PolicyScopeMinLevel, Actor::Admin("ops".into()))
            .subject("address")
            .before("low")
            .after("substantial")
            .to_json();
        assert_eq!(j["actor"], "admin:ops");
        assert_eq!(j["subject"], "address");
        assert_eq!(
            (j["before"].as_str(), j["after"].as_str()),
            (Some("low"), Some("substantial"))
        );
        assert!(j["client"].is_null() && j["address"].is_null());
        let j = Entry::new(Event::LoginFailed, Actor::Anonymous)
            .with("method", "pwd")
            .to_json();
        for k in RESERVED {
            assert!(j.get(k).is_some(), "{k} present");
        }
        assert_eq!(j["method"], "pwd");
        assert_eq!(j["actor"], "anonymous");
    }
}
