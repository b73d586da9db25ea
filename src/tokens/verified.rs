//! Access tokens whose signature has already been checked, so that introspection and userinfo
//! do not verify the same ES256 signature on every request (the largest cost of an
//! introspection after the database read; docs/performance.md).
//!
//! Owns: what may be remembered and for how long. Only the outcome of the *signature* check is
//! cached, keyed by the SHA-256 of the whole token (header, payload and signature: another
//! payload under a known signature is a different key and is verified in full). A hit is
//! still checked against the clock (`exp`) and against the key ring (the key that verified it
//! must still be published: a removed key ends its tokens at once). Revocation is never cached:
//! callers read the ledger on every request, so a revocation on any instance takes effect at
//! once everywhere.

use std::{collections::HashMap, sync::Mutex};

use sha2::{Digest, Sha256};

use super::{claims::AccessClaims, verify_with_kid, Expect, KeyRing, VerifyError};

/// The `typ` header values of an access token (RFC 9068 §2.1; the long form per RFC 7515 §4.1.9).
pub const ACCESS_TYPES: &[&str] = &["at+jwt", "application/at+jwt"];

/// Entries kept at most; when full the cache starts again from empty (a resource server that
/// introspects many tokens pays one signature check per token and period, as without cache).
const MAX_ENTRIES: usize = 2048;

/// Verified access tokens of this process: SHA-256 of the token → (kid, claims).
#[derive(Default)]
pub struct VerifiedTokens {
    entries: Mutex<HashMap<[u8; 32], (String, AccessClaims)>>,
}

impl VerifiedTokens {
    fn get(&self, key: &[u8; 32]) -> Option<(String, AccessClaims)> {
        self.lock().get(key).cloned()
    }

    fn insert(&self, key: [u8; 32], kid: String, claims: AccessClaims) {
        let mut map = self.lock();
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key, (kid, claims));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], (String, AccessClaims)>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Verifies one of Pforte's access tokens like [`super::verify`] (kid, algorithm, signature,
/// `iss`, `typ`, `exp`), answering a token verified before from the cache.
pub async fn verify_access(
    ring: &KeyRing,
    token: &str,
    issuer: &str,
) -> Result<AccessClaims, VerifyError> {
    let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    if let Some((kid, claims)) = ring.verified.get(&key) {
        // jsonwebtoken's rule with no leeway: valid up to and including the second `exp`.
        if u64::try_from(claims.exp).unwrap_or(0) < jsonwebtoken::get_current_timestamp() {
            return Err(VerifyError::Invalid("ExpiredSignature".into()));
        }
        if ring.snapshot().await.verifier(&kid).is_some() {
            return Ok(claims);
        }
        return Err(VerifyError::UnknownKey);
    }
    let expect = Expect {
        issuer,
        typ: ACCESS_TYPES,
        check_exp: true,
    };
    let (kid, claims) = verify_with_kid::<AccessClaims>(ring, token, &expect).await?;
    ring.verified.insert(key, kid, claims.clone());
    Ok(claims)
}
