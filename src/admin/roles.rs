//! Staff roles and what each may do: [`allowed`] is the one place for that rule. The console,
//! the admin API and the CLI's listing all ask it; nothing else compares role names.
//!
//! - `admin`: everything.
//! - `policy`: services (relying parties) and the assurance policy, identity sources.
//! - `helpdesk`: find a citizen, lock and unlock, resend verification, end sessions; never
//!   secrets, never policy, never the services' settings.
//! - `auditor`: reads everything but secrets, the audit trail included; changes nothing.

use serde::Serialize;

/// A staff role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Policy,
    Helpdesk,
    Auditor,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Policy, Role::Helpdesk, Role::Auditor];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Policy => "policy",
            Role::Helpdesk => "helpdesk",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something a staff member may or may not do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// See the services (relying parties) and their settings; secrets are never shown.
    ViewServices,
    /// Create, edit, disable, import services; rotate their secrets (the new secret is shown).
    ManageServices,
    /// See the assurance policy and the identity sources.
    ViewPolicy,
    /// Change the assurance policy (levels, scopes, service minimums and methods, sources).
    ManagePolicy,
    /// See the signing keys (public parts, states).
    ViewKeys,
    /// Rotate the signing keys.
    RotateKeys,
    /// Find citizens, see their state and sessions.
    ViewCitizens,
    /// Lock and unlock, resend verification, end sessions.
    HelpCitizens,
    /// Record identity proofing (in person, with evidence).
    ProofCitizens,
    /// Read the audit trail.
    ViewAudit,
    /// Grant and revoke staff roles.
    ManageStaff,
}

impl Action {
    pub const ALL: [Action; 11] = [
        Action::ViewServices,
        Action::ManageServices,
        Action::ViewPolicy,
        Action::ManagePolicy,
        Action::ViewKeys,
        Action::RotateKeys,
        Action::ViewCitizens,
        Action::HelpCitizens,
        Action::ProofCitizens,
        Action::ViewAudit,
        Action::ManageStaff,
    ];

    /// Whether the action changes something (an auditor never may).
    pub fn is_change(self) -> bool {
        matches!(
            self,
            Action::ManageServices
                | Action::ManagePolicy
                | Action::RotateKeys
                | Action::HelpCitizens
                | Action::ProofCitizens
                | Action::ManageStaff
        )
    }
}

/// Whether one role permits the action. The one table of the rule.
pub fn role_allows(role: Role, action: Action) -> bool {
    use Action::*;
    match role {
        Role::Admin => true,
        Role::Policy => matches!(
            action,
            ViewServices | ManageServices | ViewPolicy | ManagePolicy | ViewKeys
        ),
        Role::Helpdesk => matches!(action, ViewCitizens | HelpCitizens),
        Role::Auditor => !action.is_change(),
    }
}

/// Whether any of `roles` permits the action (no roles: nothing).
pub fn allowed(roles: &[Role], action: Action) -> bool {
    roles.iter().any(|r| role_allows(*r, action))
}

/// Parses stored role names; an unknown name is skipped (it grants nothing).
pub fn parse_all(names: &[String]) -> Vec<Role> {
    names.iter().filter_map(|n| Role::parse(n)).collect()
}

#[cfg(test)]
mod tests {
    use super::{Action::*, *};

    #[test]
    fn admin_may_do_everything() {
        for a in Action::ALL {
            assert!(allowed(&[Role::Admin], a), "{a:?}");
        }
    }

    #[test]
    fn nobody_without_a_role_may_do_anything() {
        for a in Action::ALL {
            assert!(!allowed(&[], a), "{a:?}");
        }
    }

    #[test]
    fn helpdesk_helps_citizens_but_never_sees_services_policy_or_audit() {
        let h = [Role::Helpdesk];
        assert!(allowed(&h, ViewCitizens));
        assert!(allowed(&h, HelpCitizens));
        for a in [
            ViewServices,
            ManageServices,
            ViewPolicy,
            ManagePolicy,
            ViewKeys,
            RotateKeys,
            ProofCitizens,
            ViewAudit,
            ManageStaff,
        ] {
            assert!(!allowed(&h, a), "{a:?}");
        }
    }

    #[test]
    fn auditor_reads_everything_and_changes_nothing() {
        for a in Action::ALL {
            assert_eq!(allowed(&[Role::Auditor], a), !a.is_change(), "{a:?}");
        }
        assert!(allowed(&[Role::Auditor], ViewAudit));
    }

    #[test]
    fn policy_runs_services_and_policy_not_citizens_or_staff() {
        let p = [Role::Policy];
        for a in [ViewServices, ManageServices, ViewPolicy, ManagePolicy] {
            assert!(allowed(&p, a), "{a:?}");
        }
        for a in [
            HelpCitizens,
            ViewCitizens,
            ProofCitizens,
            ManageStaff,
            RotateKeys,
            ViewAudit,
        ] {
            assert!(!allowed(&p, a), "{a:?}");
        }
    }

    #[test]
    fn roles_add_up() {
        assert!(allowed(&[Role::Helpdesk, Role::Auditor], ViewAudit));
        assert!(allowed(&[Role::Helpdesk, Role::Auditor], HelpCitizens));
        assert!(!allowed(&[Role::Helpdesk, Role::Auditor], ManagePolicy));
    }

    #[test]
    fn role_names_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
        assert_eq!(
            parse_all(&["auditor".into(), "bogus".into()]),
            vec![Role::Auditor]
        );
    }
}
