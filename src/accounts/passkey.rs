//! WebAuthn passkeys (webauthn-rs 0.5): registration and authentication ceremonies, and the
//! stored credentials.
//!
//! A passkey is a possession factor with user verification (RFC 8176 `hwk` + `user`): it lifts
//! a login to substantial strength, capped as always by the identity proofing
//! (`assurance::level`). Stored as one `credentials` row of kind `passkey` whose id is the
//! WebAuthn credential ID (base64url) — so the primary key also guarantees that a credential ID
//! is registered to one account only, as webauthn-rs requires — and whose `secret` is the
//! serialised [`Passkey`] sealed with the KEK, bound to `passkey|{id}`.
//!
//! The ceremony states ([`PasskeyRegistration`], [`PasskeyAuthentication`]) are kept by the
//! caller in the server-side session; this module is free of HTTP types.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock},
};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use sha2::{Digest, Sha256};
use url::Url;
pub use webauthn_rs::prelude::{
    CreationChallengeResponse, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse,
};
use webauthn_rs::prelude::{CredentialID, Uuid, Webauthn, WebauthnBuilder};

use crate::{
    store::{self, accounts::Account, credentials::Credential, types::CredentialKind, Db},
    tokens::keys::Kek,
};

/// `credentials.kind` of a passkey.
pub const KIND: CredentialKind = CredentialKind::Passkey;
/// Longest label a citizen may give a passkey (characters).
pub const MAX_LABEL: usize = 100;
/// Longest credential ID accepted (bytes; WebAuthn Level 3 caps it at 1023).
const MAX_CREDENTIAL_ID: usize = 1023;

#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    /// WebAuthn needs a domain name as relying-party id (no IP address) and a secure origin.
    #[error("passkeys need an issuer with a domain name (https://…, or http://localhost for development), not `{0}`")]
    Unavailable(String),
    #[error("this account has no passkey")]
    NoPasskey,
    #[error("this passkey is already registered")]
    AlreadyRegistered,
    #[error("the passkey was not accepted: {0}")]
    Rejected(String),
    #[error("stored passkey {0} cannot be read")]
    Corrupt(String),
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

/// The relying party for an issuer: rp_id = the issuer's host, origin = the issuer's origin.
/// Built once per issuer and reused (a process may serve several issuers, e.g. in tests).
pub fn webauthn(issuer: &str) -> Result<Arc<Webauthn>, PasskeyError> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Webauthn>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(w) = cache.lock().ok().and_then(|c| c.get(issuer).cloned()) {
        return Ok(w);
    }
    let unavailable = || PasskeyError::Unavailable(issuer.to_string());
    let url = Url::parse(issuer).map_err(|_| unavailable())?;
    // An IP address is not a valid relying-party id (WebAuthn §5.1.3): browsers refuse it.
    let host = url.domain().ok_or_else(unavailable)?.to_string();
    // The origin alone (scheme, host, port): an issuer path is not part of the WebAuthn origin.
    let origin = Url::parse(&url.origin().ascii_serialization()).map_err(|_| unavailable())?;
    let built = WebauthnBuilder::new(&host, &origin)
        .and_then(|b| b.build())
        .map(Arc::new)
        .map_err(|_| unavailable())?;
    if let Ok(mut c) = cache.lock() {
        c.insert(issuer.to_string(), built.clone());
    }
    Ok(built)
}

/// The WebAuthn user handle of an account: stable, derived from the account id (no extra
/// column), and revealing nothing about it.
pub fn user_handle(account_id: &str) -> Uuid {
    let digest = Sha256::digest(format!("pforte passkey user handle|{account_id}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    // RFC 9562 version 8 (custom), variant 10.
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    Uuid::from_bytes(b)
}

/// base64url of a credential ID: the `credentials.id` of a passkey.
pub fn credential_key(id: &CredentialID) -> String {
    URL_SAFE_NO_PAD.encode(id.as_ref())
}

fn aad(id: &str) -> String {
    format!("passkey|{id}")
}

/// A stored passkey, decrypted.
pub struct StoredPasskey {
    pub credential: Credential,
    pub passkey: Passkey,
}

/// Passkey operations for one issuer, on one database, with one KEK.
pub struct Passkeys<'a> {
    db: &'a Db,
    kek: &'a Kek,
    webauthn: Arc<Webauthn>,
}

impl<'a> Passkeys<'a> {
    pub fn new(db: &'a Db, kek: &'a Kek, issuer: &str) -> Result<Self, PasskeyError> {
        Ok(Passkeys {
            db,
            kek,
            webauthn: webauthn(issuer)?,
        })
    }

    /// The account's passkeys, decrypted. A row that does not decrypt (another KEK, damaged
    /// data) is left out with a warning: it can never be used, and must not block the others.
    pub async fn of(&self, account_id: &str) -> Result<Vec<StoredPasskey>, PasskeyError> {
        let mut out = Vec::new();
        for c in self.db.credentials_of(account_id).await? {
            if c.kind != KIND {
                continue;
            }
            match self.open(&c) {
                Ok(passkey) => out.push(StoredPasskey {
                    credential: c,
                    passkey,
                }),
                Err(e) => {
                    tracing::warn!(credential = %c.id, error = %e, "skipping unreadable passkey")
                }
            }
        }
        Ok(out)
    }

    fn open(&self, c: &Credential) -> Result<Passkey, PasskeyError> {
        let corrupt = || PasskeyError::Corrupt(c.id.clone());
        let plain = self
            .kek
            .open(&c.id, &aad(&c.id), &c.secret)
            .map_err(|_| corrupt())?;
        let pk: Passkey = serde_json::from_slice(&plain).map_err(|_| corrupt())?;
        // The row id and the sealed credential must agree (the AAD already binds them).
        if credential_key(pk.cred_id()) != c.id {
            return Err(corrupt());
        }
        Ok(pk)
    }

    fn seal(&self, id: &str, pk: &Passkey) -> Result<String, PasskeyError> {
        let json = serde_json::to_vec(pk).map_err(|e| PasskeyError::Rejected(e.to_string()))?;
        self.kek
            .seal(&aad(id), &json)
            .map_err(|_| PasskeyError::Corrupt(id.to_string()))
    }

    /// Starts registering a new passkey for `account` (user verification required; the
    /// account's existing passkeys are excluded so one authenticator is not enrolled twice).
    pub async fn start_registration(
        &self,
        account: &Account,
        display_name: &str,
    ) -> Result<(CreationChallengeResponse, PasskeyRegistration), PasskeyError> {
        let exclude: Vec<CredentialID> = self
            .of(&account.id)
            .await?
            .iter()
            .map(|s| s.passkey.cred_id().clone())
            .collect();
        self.webauthn
            .start_passkey_registration(
                user_handle(&account.id),
                &account.email,
                display_name,
                (!exclude.is_empty()).then_some(exclude),
            )
            .map_err(|e| PasskeyError::Rejected(e.to_string()))
    }

    /// Verifies the authenticator's answer and stores the new passkey.
    pub async fn finish_registration(
        &self,
        account_id: &str,
        state: &PasskeyRegistration,
        response: &RegisterPublicKeyCredential,
        label: &str,
        now: i64,
    ) -> Result<Credential, PasskeyError> {
        let pk = self
            .webauthn
            .finish_passkey_registration(response, state)
            .map_err(|e| PasskeyError::Rejected(e.to_string()))?;
        if pk.cred_id().as_ref().len() > MAX_CREDENTIAL_ID {
            return Err(PasskeyError::Rejected("credential ID is too long".into()));
        }
        let id = credential_key(pk.cred_id());
        let credential = Credential {
            id: id.clone(),
            account_id: account_id.to_string(),
            kind: KIND,
            label: label.to_string(),
            secret: self.seal(&id, &pk)?,
            created_at: now,
            last_used_at: None,
            last_step: None,
        };
        match self.db.credential_insert(&credential).await {
            Ok(()) => Ok(credential),
            // The credential ID is the primary key: registered already (here or elsewhere).
            Err(e) if store::is_unique_violation(&e) => Err(PasskeyError::AlreadyRegistered),
            Err(e) => Err(e.into()),
        }
    }

    /// Starts an authentication against the account's passkeys (user verification required).
    pub async fn start_authentication(
        &self,
        account_id: &str,
    ) -> Result<(RequestChallengeResponse, PasskeyAuthentication), PasskeyError> {
        let keys: Vec<Passkey> = self
            .of(account_id)
            .await?
            .into_iter()
            .map(|s| s.passkey)
            .collect();
        if keys.is_empty() {
            return Err(PasskeyError::NoPasskey);
        }
        self.webauthn
            .start_passkey_authentication(&keys)
            .map_err(|e| PasskeyError::Rejected(e.to_string()))
    }

    /// Verifies an assertion against the ceremony state (challenge, allowed credentials, user
    /// verification, signature counter) and records the use: the stored credential is
    /// updated (counter, backup state) and its `last_used_at` set. Returns the credential id.
    pub async fn finish_authentication(
        &self,
        account_id: &str,
        state: &PasskeyAuthentication,
        response: &PublicKeyCredential,
        now: i64,
    ) -> Result<String, PasskeyError> {
        let result = self
            .webauthn
            .finish_passkey_authentication(response, state)
            .map_err(|e| PasskeyError::Rejected(e.to_string()))?;
        if !result.user_verified() {
            // webauthn-rs enforces UV for passkeys already; the level depends on it.
            return Err(PasskeyError::Rejected(
                "user verification is required".into(),
            ));
        }
        let id = credential_key(result.cred_id());
        let mut stored = self
            .of(account_id)
            .await?
            .into_iter()
            .find(|s| s.credential.id == id)
            .ok_or_else(|| PasskeyError::Rejected("unknown credential".into()))?;
        stored.passkey.update_credential(&result);
        let sealed = self.seal(&id, &stored.passkey)?;
        self.db.credential_update_secret(&id, &sealed, now).await?;
        Ok(id)
    }
}

/// A citizen's label for a passkey: trimmed, at most [`MAX_LABEL`] characters, no control
/// characters; empty gives a default.
pub fn clean_label(raw: Option<&str>) -> Result<String, PasskeyError> {
    let l = raw.unwrap_or("").trim();
    if l.chars().count() > MAX_LABEL || l.chars().any(char::is_control) {
        return Err(PasskeyError::Rejected(format!(
            "the label must have at most {MAX_LABEL} characters and no control characters"
        )));
    }
    Ok(if l.is_empty() {
        "Passkey".into()
    } else {
        l.to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relying_party_from_issuer() {
        assert!(webauthn("https://login.example.de").is_ok());
        assert!(webauthn("https://login.example.de/pforte").is_ok());
        assert!(webauthn("http://localhost:8080").is_ok());
        // An IP address cannot be a relying-party id.
        assert!(matches!(
            webauthn("http://127.0.0.1:8080"),
            Err(PasskeyError::Unavailable(_))
        ));
    }

    #[test]
    fn user_handle_is_stable_and_distinct() {
        assert_eq!(user_handle("a"), user_handle("a"));
        assert_ne!(user_handle("a"), user_handle("b"));
        assert_eq!(user_handle("a").get_version_num(), 8);
    }

    #[test]
    fn labels() {
        assert_eq!(clean_label(None).unwrap(), "Passkey");
        assert_eq!(clean_label(Some("  Laptop ")).unwrap(), "Laptop");
        assert!(clean_label(Some("a\nb")).is_err());
        assert!(clean_label(Some(&"x".repeat(101))).is_err());
    }
}
