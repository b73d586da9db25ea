//! What a validated upstream login does to accounts: log in the linked account, create an
//! account, link the identity to the logged-in account, or refuse.
//!
//! Owns: the rule ([`decide`], pure): an upstream identity is keyed by (source, stable
//! subject), never by e-mail; a first login creates an account (no password); a logged-in
//! citizen links a new source; an identity linked to another account is refused. And carrying
//! it out ([`complete`]): the new account and its link are written in one transaction, the
//! delivered attributes are stored with their provenance ([`store_attributes`]), and every
//! change is audited. The e-mail an upstream delivers counts only when it says
//! `email_verified: true` and no other account has that address; otherwise the account has no
//! address (the `.invalid` stand-in, see `store::accounts::NO_EMAIL_DOMAIN`), never the other
//! account's.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{oidc::Asserted, Profile};
use crate::{
    assurance::Level,
    audit::{self, Actor, Entry, Event},
    core::Core,
    store::{
        self,
        accounts::{Account, NO_EMAIL_DOMAIN},
        upstreams::Upstream,
        StoreError,
    },
};

/// Why the citizen went to the upstream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Log in (from the login page): the linked account, or a new one.
    Login,
    /// Reach a higher level for the logged-in citizen (from the step-up page).
    StepUp,
    /// Link another way to log in to the logged-in citizen's account (account page).
    Link,
}

/// What to do with a validated upstream identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Log in to this (linked) account.
    LoginAs(String),
    /// Create an account with this identity and log in.
    Create,
    /// Link the identity to this (logged-in) account, then log in.
    LinkTo(String),
    /// The identity belongs to another account than the logged-in one: refused.
    LinkedElsewhere,
}

/// The rule. `owner`: the account the identity is linked to; `current`: the logged-in account.
pub fn decide(owner: Option<&str>, current: Option<&str>, purpose: Purpose) -> Outcome {
    match (purpose, owner, current) {
        (Purpose::Login, Some(o), _) => Outcome::LoginAs(o.to_string()),
        (Purpose::Login, None, _) => Outcome::Create,
        // Step-up or link without a login (it expired meanwhile): a plain login.
        (_, Some(o), None) => Outcome::LoginAs(o.to_string()),
        (_, None, None) => Outcome::Create,
        (_, Some(o), Some(c)) if o == c => Outcome::LoginAs(o.to_string()),
        (_, Some(_), Some(_)) => Outcome::LinkedElsewhere,
        (_, None, Some(c)) => Outcome::LinkTo(c.to_string()),
    }
}

/// A finished upstream login, ready for `web::login::finish`.
#[derive(Debug, Clone)]
pub struct Completed {
    pub account: Account,
    /// The account's proofing after this login (for the level function).
    pub proofing: Level,
    pub created: bool,
    pub linked: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("this identity is linked to another account")]
    LinkedElsewhere,
    #[error("the account is disabled")]
    Disabled,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The level a login through `u` that asserted `asserted` counts at: mapped, capped by trust.
pub fn capped_level(u: &Upstream, asserted: Option<Level>) -> Level {
    asserted.unwrap_or(Level::Low).min(u.max_level)
}

/// The upstream's e-mail, if it vouches for it (`email_verified: true`) and it is well-formed.
fn verified_email(claims: &Map<String, Value>) -> Option<String> {
    let verified = matches!(claims.get("email_verified"), Some(Value::Bool(true)))
        || matches!(claims.get("email_verified"), Some(Value::String(s)) if s == "true");
    let email = claims.get("email")?.as_str()?.trim().to_lowercase();
    (verified && email.len() <= 254 && email.contains('@') && !email.ends_with(NO_EMAIL_DOMAIN))
        .then_some(email)
}

/// Carries out [`decide`] for a validated upstream login.
pub async fn complete(
    core: &Core,
    u: &Upstream,
    asserted: &Asserted,
    purpose: Purpose,
    current: Option<&str>,
) -> Result<Completed, LinkError> {
    let db = &core.db;
    let now = core.now();
    let owner = db.identity_get(&u.id, &asserted.subject).await?;
    let level = capped_level(u, asserted.level);
    let actor = |id: &str| Actor::Account(id.to_string());
    let (account, created, linked) = match decide(
        owner.as_ref().map(|o| o.account_id.as_str()),
        current,
        purpose,
    ) {
        Outcome::LinkedElsewhere => {
            audit::record_or_log(
                db,
                Entry::new(Event::IdentityRefused, actor(current.unwrap_or_default()))
                    .subject(current.unwrap_or_default())
                    .with("upstream", &u.id)
                    .with("reason", "linked_to_another_account"),
            )
            .await;
            return Err(LinkError::LinkedElsewhere);
        }
        Outcome::LoginAs(id) => {
            let a = db
                .account_get(&id)
                .await?
                .ok_or(LinkError::Store(StoreError::Corrupt {
                    table: "account_identities",
                    column: "account_id",
                    key: id.clone(),
                    value: "missing account".into(),
                }))?;
            db.identity_touch(&u.id, &asserted.subject, now).await?;
            (a, false, false)
        }
        Outcome::LinkTo(id) => {
            let a = db.account_get(&id).await?.ok_or(LinkError::Disabled)?;
            match db.identity_link(&u.id, &asserted.subject, &a.id, now).await {
                Ok(()) => {}
                // Linked concurrently: to whom does not matter, it is not this login's.
                Err(e) if store::is_unique_violation(&e) => return Err(LinkError::LinkedElsewhere),
                Err(e) => return Err(e.into()),
            }
            audit::record(
                db,
                Entry::new(Event::IdentityLinked, actor(&a.id))
                    .subject(&a.id)
                    .with("upstream", &u.id)
                    .with("purpose", purpose),
            )
            .await?;
            (a, false, true)
        }
        Outcome::Create => {
            let id = crate::secrets::random_token(16);
            let email = match verified_email(&asserted.claims) {
                Some(e) if db.account_by_email(&e).await?.is_none() => Some(e),
                _ => None,
            };
            let a = Account {
                email_verified: email.is_some(),
                email: email.unwrap_or_else(|| format!("{}@{NO_EMAIL_DOMAIN}", id.to_lowercase())),
                id,
                password_hash: None,
                proofing_level: Level::Low,
                proofing_evidence: None,
                proofed_at: None,
                created_at: now,
                disabled_at: None,
            };
            match db.account_insert_linked(&a, &u.id, &asserted.subject).await {
                Ok(()) => {}
                Err(e) if store::is_unique_violation(&e) => return Err(LinkError::LinkedElsewhere),
                Err(e) => return Err(e.into()),
            }
            audit::record(
                db,
                Entry::new(Event::UpstreamAccountCreated, actor(&a.id))
                    .subject(&a.id)
                    .with("upstream", &u.id)
                    .with("email_verified", a.email_verified),
            )
            .await?;
            (a, true, true)
        }
    };
    if account.disabled_at.is_some() {
        return Err(LinkError::Disabled);
    }
    let proofing = store_attributes(core, &account, u, &asserted.claims, level).await?;
    Ok(Completed {
        account,
        proofing,
        created,
        linked,
    })
}

/// The delivered claims under Pforte's attribute names (the registration's `--claim`
/// mapping, else the profile's); values as delivered (`accounts::profile` turns them into
/// attributes: objects into their parts, arrays into JSON text).
pub fn mapped_claims(u: &Upstream, claims: &Map<String, Value>) -> BTreeMap<String, Value> {
    let profile = Profile::parse(&u.profile).unwrap_or(Profile::Oidc);
    let map: Vec<(String, String)> = match &u.claim_map {
        Some(m) => m.iter().map(|(a, b)| (a.clone(), b.clone())).collect(),
        None => profile
            .default_claim_map()
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
    };
    map.into_iter()
        .filter_map(|(from, to)| {
            claims
                .get(&from)
                .filter(|v| !v.is_null())
                .map(|v| (to, v.clone()))
        })
        .collect()
}

/// Stores what the upstream delivered, with its provenance (source `upstream:<id>`, the
/// login's level, now), and raises the account's proofing to that level: an identity taken
/// over from an upstream is proofed as far as the upstream asserted, capped by trust
/// (docs/domain.md). Both through `accounts::profile::record_upstream` (one transaction,
/// audited). Returns the account's proofing afterwards.
pub async fn store_attributes(
    core: &Core,
    account: &Account,
    u: &Upstream,
    claims: &Map<String, Value>,
    level: Level,
) -> Result<Level, StoreError> {
    crate::accounts::profile::record_upstream(
        &core.db,
        &account.id,
        &u.id,
        level,
        core.now(),
        &mapped_claims(u, claims),
    )
    .await?;
    Ok(account.proofing_level.max(level))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_rule() {
        use Outcome::*;
        use Purpose::*;
        // Keyed by the identity, never by e-mail: an unknown identity creates an account.
        assert_eq!(decide(None, None, Login), Create);
        assert_eq!(decide(Some("a"), None, Login), LoginAs("a".into()));
        // The login page logs in the identity's own account, whoever was logged in before.
        assert_eq!(decide(Some("a"), Some("b"), Login), LoginAs("a".into()));
        assert_eq!(decide(None, Some("b"), Login), Create);
        // Step-up and linking attach a new identity to the logged-in citizen …
        assert_eq!(decide(None, Some("b"), StepUp), LinkTo("b".into()));
        assert_eq!(decide(None, Some("b"), Link), LinkTo("b".into()));
        assert_eq!(decide(Some("b"), Some("b"), StepUp), LoginAs("b".into()));
        // … but never take one that belongs to someone else.
        assert_eq!(decide(Some("a"), Some("b"), StepUp), LinkedElsewhere);
        assert_eq!(decide(Some("a"), Some("b"), Link), LinkedElsewhere);
    }

    #[test]
    fn email_counts_only_when_the_upstream_vouches() {
        let m = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(
            verified_email(&m(
                serde_json::json!({"email": "A@x.de", "email_verified": true})
            )),
            Some("a@x.de".into())
        );
        assert_eq!(
            verified_email(&m(serde_json::json!({"email": "a@x.de"}))),
            None
        );
        assert_eq!(
            verified_email(&m(
                serde_json::json!({"email": "a@x.de", "email_verified": false})
            )),
            None
        );
    }
}
