//! The `sub` a client sees (OIDC Core §8): the account id for a public client; for a pairwise
//! client (§8.1) a keyed hash of its sector and the account, so that services of different
//! sectors cannot correlate a citizen by `sub`.
//!
//! Owns: [`pairwise`] (pure) and [`for_client`], the one function every place that writes or
//! compares a `sub` uses (ID token, access token, userinfo, introspection, `id_token_hint` at
//! the authorization and logout endpoints). The key is derived from the KEK
//! (`Kek::derive("pairwise-subject")`), like the recovery-code key: the subjects are stable as
//! long as the KEK is (docs/configuration.md says what a KEK change means).

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};

use crate::{
    core::Core,
    store::{clients::Client, types::SubjectType},
};

/// The KEK-derived key's purpose label.
pub const KEY_PURPOSE: &str = "pairwise-subject";

/// The pairwise subject of `account_id` in `sector`: base64url(HMAC-SHA-256(key, sector ‖ 0 ‖
/// account id)), 43 characters. Stable for the same inputs; without the key nobody can link
/// two sectors' subjects or find the account id.
pub fn pairwise(key: &[u8; 32], sector: &str, account_id: &str) -> String {
    let mut m =
        <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(sector.as_bytes());
    m.update(&[0]);
    m.update(account_id.as_bytes());
    URL_SAFE_NO_PAD.encode(m.finalize().into_bytes())
}

/// The `sub` `client` sees for `account_id`.
pub fn for_client(core: &Core, client: &Client, account_id: &str) -> String {
    match (client.subject_type, &client.sector_identifier) {
        (SubjectType::Pairwise, Some(sector)) => {
            pairwise(&core.kek.derive(KEY_PURPOSE), sector, account_id)
        }
        // A pairwise client always has a sector (admin::register_client); public otherwise.
        _ => account_id.to_string(),
    }
}

/// The `sub` the client `client_id` sees for `account_id`; the account id when the client is
/// unknown (removed).
pub async fn for_client_id(
    core: &Core,
    client_id: &str,
    account_id: &str,
) -> Result<String, crate::store::StoreError> {
    Ok(match core.clients.get(&core.db, client_id).await? {
        Some(c) => for_client(core, &c, account_id),
        None => account_id.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_subjects_are_stable_per_sector_and_differ_across() {
        let k = [7u8; 32];
        let a = pairwise(&k, "rp1.example.de", "acc-1");
        assert_eq!(a, pairwise(&k, "rp1.example.de", "acc-1"));
        assert_eq!(a.len(), 43);
        assert_ne!(a, pairwise(&k, "rp2.example.de", "acc-1"));
        assert_ne!(a, pairwise(&k, "rp1.example.de", "acc-2"));
        assert_ne!(a, pairwise(&[8u8; 32], "rp1.example.de", "acc-1"));
        // The separator keeps (sector, account) pairs apart.
        assert_ne!(pairwise(&k, "ab", "c"), pairwise(&k, "a", "bc"));
        assert!(!a.contains("acc-1"));
    }
}
