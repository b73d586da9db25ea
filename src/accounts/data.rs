//! A citizen's data as a whole: the services that received it (the data cockpit's list),
//! the export (GDPR Art. 15 and 20) and erasure (Art. 17) with the audit trail kept under a
//! pseudonym.
//!
//! Owns: [`services`] (consents and releases merged per client, pure), [`export`] (every
//! stored fact about the account as one JSON document; secrets never: second factors appear
//! by kind and label only), [`pseudonym`] (the keyed hash that replaces the account id in the
//! audit trail) and [`erase`]. Ending the account's sessions is the caller's part (the session
//! registry), before [`erase`].

use serde_json::{json, Value};

use crate::{
    assurance::Level,
    store::{accounts::Account, consents::Consent, releases::Release, Db, StoreError},
    tokens::keys::Kek,
};

/// What one service has from the citizen: its consent (none for a first-party service), the
/// claims it received (each once, in order of first appearance over the newest releases
/// first), when last and at which level.
#[derive(Clone, Debug)]
pub struct Service {
    pub client_id: String,
    pub consent: Option<Consent>,
    pub received: Vec<String>,
    pub last_at: Option<i64>,
    pub level: Option<Level>,
}

/// Every service that has a consent or received something, most recently used first (then
/// those only consented to, by client id).
pub fn services(consents: &[Consent], releases: &[Release]) -> Vec<Service> {
    let mut out: Vec<Service> = Vec::new();
    let mut by_recent: Vec<&Release> = releases.iter().collect();
    by_recent.sort_by_key(|r| std::cmp::Reverse(r.last_at));
    for r in by_recent {
        let i = match out.iter().position(|s| s.client_id == r.client_id) {
            Some(i) => i,
            None => {
                out.push(Service {
                    client_id: r.client_id.clone(),
                    consent: None,
                    received: Vec::new(),
                    last_at: Some(r.last_at),
                    level: Some(r.level),
                });
                out.len() - 1
            }
        };
        for c in &r.claims {
            if !out[i].received.contains(c) {
                out[i].received.push(c.clone());
            }
        }
    }
    let mut consented_only = Vec::new();
    for c in consents {
        match out.iter_mut().find(|s| s.client_id == c.client_id) {
            Some(s) => s.consent = Some(c.clone()),
            None => consented_only.push(Service {
                client_id: c.client_id.clone(),
                consent: Some(c.clone()),
                received: Vec::new(),
                last_at: None,
                level: None,
            }),
        }
    }
    consented_only.sort_by(|a, b| a.client_id.cmp(&b.client_id));
    out.extend(consented_only);
    out
}

/// The pseudonym that replaces an account id in the audit trail when the account is erased:
/// HMAC-SHA-256 of the id under a key derived from the KEK, so the same account always maps
/// to the same pseudonym (events stay linkable) but nobody without the KEK can test a guess.
pub fn pseudonym(kek: &Kek, account_id: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut m = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&kek.derive("audit-pseudonym"))
        .expect("HMAC takes any key length");
    m.update(account_id.as_bytes());
    let digest = m.finalize().into_bytes();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("erased-{hex}")
}

/// Erases the account (see [`Db::account_erase`]); its sessions must have been ended first.
pub async fn erase(db: &Db, kek: &Kek, account: &Account) -> Result<bool, StoreError> {
    let p = pseudonym(kek, &account.id);
    db.account_erase(&account.id, &account.email, &p, db.now())
        .await
}

/// Audit events a citizen sees as their activity (and finds in the export).
pub const ACTIVITY_EVENTS: [&str; 11] = [
    "login.succeeded",
    "login.step_up",
    "login.step_up_failed",
    "logout",
    "consent.granted",
    "consent.revoked",
    "credential.added",
    "credential.removed",
    "recovery_codes.regenerated",
    "account.data_exported",
    "account.profile_changed",
];

/// Everything Pforte stores about the account as one JSON document (format
/// `pforte-account-export/1`). `sessions` is the session registry's list, passed in by the
/// caller.
pub async fn export(db: &Db, account: &Account, sessions: Value) -> Result<Value, StoreError> {
    let attributes = db.account_attributes(&account.id).await?;
    let identities = db.linked_identities(&account.id).await?;
    let credentials = db.credentials_of(&account.id).await?;
    let recovery_left = db.recovery_codes_left(&account.id).await?;
    let consents = db.consent_list(&account.id).await?;
    let releases = db.releases_of(&account.id).await?;
    let activity = db
        .audit_of_account(&account.id, &ACTIVITY_EVENTS, 1000)
        .await?;
    let mut names = std::collections::BTreeMap::new();
    for id in consents
        .iter()
        .map(|c| &c.client_id)
        .chain(releases.iter().map(|r| &r.client_id))
    {
        if !names.contains_key(id) {
            let name = db.client_get(id).await?.map(|c| c.name);
            names.insert(id.clone(), name);
        }
    }
    Ok(json!({
        "format": "pforte-account-export/1",
        "exported_at": db.now(),
        "account": {
            "id": account.id,
            "email": account.email,
            "email_verified": account.email_verified,
            "created_at": account.created_at,
            "proofing_level": account.proofing_level,
            "proofing_evidence": account.proofing_evidence,
            "proofed_at": account.proofed_at,
            "has_password": account.password_hash.is_some(),
        },
        "profile": attributes.iter().map(|a| json!({
            "name": a.name,
            "value": a.value,
            "source": a.source,
            "level": a.level,
            "verified_at": a.verified_at,
        })).collect::<Vec<_>>(),
        "linked_identities": identities,
        "second_factors": credentials.iter().map(|c| json!({
            "kind": c.kind.to_string(),
            "label": c.label,
            "created_at": c.created_at,
            "last_used_at": c.last_used_at,
        })).collect::<Vec<_>>(),
        "recovery_codes_left": recovery_left,
        "consents": consents.iter().map(|c| json!({
            "client_id": c.client_id,
            "client_name": names.get(&c.client_id).cloned().flatten(),
            "scopes": c.scopes,
            "granted_at": c.granted_at,
        })).collect::<Vec<_>>(),
        "releases": releases.iter().map(|r| json!({
            "client_id": r.client_id,
            "client_name": names.get(&r.client_id).cloned().flatten(),
            "claims": r.claims,
            "level": r.level,
            "first_at": r.first_at,
            "last_at": r.last_at,
            "count": r.count,
        })).collect::<Vec<_>>(),
        "activity": activity.iter().map(|e| json!({
            "at": e.at,
            "event": e.action,
            "detail": e.detail,
        })).collect::<Vec<_>>(),
        "sessions": sessions,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(client: &str, claims: &[&str], at: i64) -> Release {
        Release {
            client_id: client.into(),
            claims: claims.iter().map(|s| s.to_string()).collect(),
            level: Level::Low,
            first_at: at,
            last_at: at,
            count: 1,
        }
    }

    fn consent(client: &str) -> Consent {
        Consent {
            client_id: client.into(),
            scopes: vec!["openid".into()],
            granted_at: 1,
        }
    }

    #[test]
    fn services_merge_consents_and_releases_newest_first() {
        let s = services(
            &[consent("b"), consent("z"), consent("a")],
            &[
                release("a", &["sub"], 10),
                release("b", &["email", "sub"], 30),
                release("a", &["address", "sub"], 20),
                release("first-party", &["sub"], 5),
            ],
        );
        let ids: Vec<&str> = s.iter().map(|s| s.client_id.as_str()).collect();
        assert_eq!(ids, ["b", "a", "first-party", "z"]);
        assert_eq!(s[1].received, ["address", "sub"]);
        assert_eq!(s[1].last_at, Some(20));
        assert!(s[2].consent.is_none());
        assert!(s[3].received.is_empty() && s[3].last_at.is_none());
    }

    #[test]
    fn pseudonyms_are_stable_keyed_and_not_the_id() {
        let k1 = Kek::from_base64(&Kek::generate_base64()).unwrap();
        let k2 = Kek::from_base64(&Kek::generate_base64()).unwrap();
        assert_eq!(pseudonym(&k1, "abc"), pseudonym(&k1, "abc"));
        assert_ne!(pseudonym(&k1, "abc"), pseudonym(&k1, "abd"));
        assert_ne!(pseudonym(&k1, "abc"), pseudonym(&k2, "abc"));
        assert!(!pseudonym(&k1, "abc").contains("abc"));
    }
}
