//! Per-instance caches in front of the database and the network, for client authentication:
//! verified client secrets, client rows, addresses not locked out, and clients' fetched JWKS.
//!
//! Owns: what may be cached, for how long, and how an entry is invalidated. Every entry can be
//! rebuilt from the database (or the client's `jwks_uri`), so several instances each keep their
//! own without coordination; a change reaches every instance within the TTLs below.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{
    secrets::ct_eq,
    store::clients::{is_valid_client_id, Client},
};

/// Remembers secrets already verified with argon2, as an HMAC under a per-process key, so the
/// token endpoint does not pay a memory-hard hash on every request. An entry is bound to the
/// stored hash it was checked against: a changed secret invalidates it.
pub struct SecretCache {
    key: [u8; 32],
    verified: Mutex<HashMap<String, (String, [u8; 32])>>,
}

impl Default for SecretCache {
    fn default() -> Self {
        let mut key = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
        SecretCache {
            key,
            verified: Mutex::new(HashMap::new()),
        }
    }
}

impl SecretCache {
    fn mac(&self, client_id: &str, secret: &str) -> [u8; 32] {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("any key length");
        m.update(client_id.as_bytes());
        m.update(&[0]);
        m.update(secret.as_bytes());
        m.finalize().into_bytes().into()
    }

    pub(crate) fn check(&self, client: &Client, secret: &str) -> bool {
        let Some(hash) = &client.secret_hash else {
            return false;
        };
        let mac = self.mac(&client.id, secret);
        let map = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&client.id)
            .is_some_and(|(h, m)| h == hash && ct_eq(m, &mac))
    }

    pub(crate) fn remember(&self, client: &Client, secret: &str) {
        let Some(hash) = &client.secret_hash else {
            return;
        };
        let mut map = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 10_000 {
            map.clear();
        }
        map.insert(
            client.id.clone(),
            (hash.clone(), self.mac(&client.id, secret)),
        );
    }
}

/// Registered clients as the token endpoint sees them, cached for a few seconds: reading the
/// client row was the largest cost of a client_credentials grant after signing. A change
/// (new secret, removal, disabling) reaches every instance within [`CLIENT_TTL`].
///
/// Only registered clients are cached: a malformed id is refused before the database is asked,
/// and an unknown one is not remembered, so presented ids cannot fill the cache.
#[derive(Default)]
pub struct ClientCache {
    entries: Mutex<HashMap<String, (Instant, Client)>>,
}

pub const CLIENT_TTL: Duration = Duration::from_secs(5);

impl ClientCache {
    pub async fn get(
        &self,
        db: &crate::store::Db,
        id: &str,
    ) -> crate::store::Result<Option<Client>> {
        if !is_valid_client_id(id) {
            return Ok(None);
        }
        if let Some((at, c)) = self.lock().get(id) {
            if at.elapsed() < CLIENT_TTL {
                return Ok(Some(c.clone()));
            }
        }
        let c = db.client_get(id).await?;
        let mut map = self.lock();
        match &c {
            Some(c) => {
                if map.len() > 10_000 {
                    map.clear();
                }
                map.insert(id.to_string(), (Instant::now(), c.clone()));
            }
            None => {
                map.remove(id);
            }
        }
        Ok(c)
    }

    /// Forgets a client after an admin change, so this instance sees it at once; other
    /// instances see it within [`CLIENT_TTL`].
    pub fn invalidate(&self, id: &str) {
        self.lock().remove(id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Client)>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Client addresses found not locked out of client authentication
/// ([`crate::throttle::CLIENT_AUTH_ADDRESS`]) in the last [`UNLOCKED_TTL`], so the token,
/// introspection and revocation endpoints do not read the address's throttle row on every
/// request (that read was a third of a client_credentials grant's database work).
///
/// Only "not locked" is remembered, never a lockout. A failed client authentication on this
/// instance forgets the address at once, so its next request reads the row again and a lockout
/// counted here applies to the very next request. A lockout counted on another instance applies
/// here within [`UNLOCKED_TTL`]; until then a failure here is counted in the same row and
/// answered `invalid_client` as before, so the budget of guesses does not grow.
#[derive(Default)]
pub struct UnlockedAddresses {
    seen: Mutex<HashMap<String, Instant>>,
}

pub const UNLOCKED_TTL: Duration = Duration::from_secs(1);

impl UnlockedAddresses {
    /// Whether `key` was found not locked within [`UNLOCKED_TTL`].
    pub fn fresh(&self, key: &str) -> bool {
        self.lock()
            .get(key)
            .is_some_and(|at| at.elapsed() < UNLOCKED_TTL)
    }

    /// `key` was read and is not locked.
    pub fn remember(&self, key: &str) {
        let mut map = self.lock();
        if map.len() > 10_000 {
            map.clear();
        }
        map.insert(key.to_string(), Instant::now());
    }

    /// A failure was counted for `key`: read it again next time.
    pub fn forget(&self, key: &str) {
        self.lock().remove(key);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instant>> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Upstream identity sources: the HTTP client Pforte calls them with (connect and total
/// timeouts, no redirects), the response size cap, and each source's discovery document with
/// its keys (`upstream::oidc`), stamped with the core's clock (Unix seconds) when fetched and
/// when the keys were last refreshed.
pub struct UpstreamCache {
    pub http: reqwest::Client,
    pub max_response_bytes: usize,
    pub ttl: i64,
    pub(crate) metadata: Mutex<HashMap<String, UpstreamMetadata>>,
}

/// One upstream's discovery document (its `jwks` filled in) and when it and the keys were read.
#[derive(Clone)]
pub struct UpstreamMetadata {
    /// The issuer the document was fetched for (the registration may change).
    pub issuer: String,
    pub provider: std::sync::Arc<openidconnect::ProviderMetadataWithLogout>,
    pub fetched_at: i64,
    pub keys_fetched_at: i64,
}

impl UpstreamCache {
    pub fn new(cfg: &crate::config::UpstreamConfig) -> Result<UpstreamCache, String> {
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(Duration::from_secs(cfg.connect_timeout_secs))
            .timeout(Duration::from_secs(cfg.timeout_secs))
            // Never follow a redirect: an upstream's endpoints are where its metadata says.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("upstream HTTP client: {e}"))?;
        Ok(UpstreamCache {
            http,
            max_response_bytes: cfg.max_response_bytes as usize,
            ttl: cfg.metadata_ttl_secs as i64,
            metadata: Mutex::new(HashMap::new()),
        })
    }

    pub fn get(&self, id: &str) -> Option<UpstreamMetadata> {
        self.metadata
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    pub fn put(&self, id: &str, m: UpstreamMetadata) {
        self.metadata
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.to_string(), m);
    }
}

/// Client JWKS fetched from `jwks_uri`, cached for a few minutes and refreshed on an unknown kid.
/// Each set is stamped with the core's clock (Unix seconds), so a test moves past the refresh
/// interval with a manual clock instead of sleeping.
#[derive(Default)]
pub struct ClientJwksCache {
    pub(crate) sets: Mutex<HashMap<String, (i64, jsonwebtoken::jwk::JwkSet)>>,
    /// When a client's last fetch failed, and why (negative caching: no new fetch for
    /// [`JWKS_FAILURE_BACKOFF`] seconds, so a client server that is down is not hammered with
    /// one request per assertion).
    pub(crate) failures: Mutex<HashMap<String, (i64, String)>>,
    /// One fetch at a time per client (single flight): concurrent assertions wait for the
    /// fetch in progress and use its result.
    flights: Mutex<HashMap<String, std::sync::Arc<tokio::sync::Mutex<()>>>>,
}

impl ClientJwksCache {
    /// The lock that serialises fetches for `client_id`.
    pub(crate) fn flight(&self, client_id: &str) -> std::sync::Arc<tokio::sync::Mutex<()>> {
        let mut map = self.flights.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, m| std::sync::Arc::strong_count(m) > 1);
        }
        map.entry(client_id.to_string()).or_default().clone()
    }
}

/// How long a failed fetch is remembered, in seconds.
pub(crate) const JWKS_FAILURE_BACKOFF: i64 = 30;
/// The largest JWKS accepted, in bytes (the body is read in chunks and dropped at this size).
pub(crate) const JWKS_MAX_BYTES: usize = 256 * 1024;

/// How long a fetched set is used, in seconds.
pub(crate) const JWKS_TTL: i64 = 300;
/// The shortest time between two fetches for one client, in seconds (an unknown kid refetches
/// only after it, so a flood of bogus kids cannot hammer the client's server).
pub(crate) const JWKS_MIN_REFRESH: i64 = 10;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::{client, db};

    fn cached(cache: &ClientCache, id: &str) -> bool {
        cache.lock().contains_key(id)
    }

    #[tokio::test]
    async fn client_cache_keeps_registered_clients_only() {
        let db = db().await;
        db.client_insert(&client()).await.unwrap();
        let cache = ClientCache::default();
        assert_eq!(cache.get(&db, "rp").await.unwrap().unwrap().id, "rp");
        assert!(cached(&cache, "rp"));
        assert!(cache.get(&db, "unknown").await.unwrap().is_none());
        assert!(!cached(&cache, "unknown"));
    }

    #[tokio::test]
    async fn client_cache_refuses_malformed_ids_before_the_database() {
        let db = db().await;
        let cache = ClientCache::default();
        for id in ["", &"a".repeat(129), "a b", "rp\"", "rp/x", "ä"] {
            assert!(cache.get(&db, id).await.unwrap().is_none(), "{id}");
            assert!(!cached(&cache, id), "{id}");
        }
        assert!(is_valid_client_id(&"a".repeat(128)));
        assert!(is_valid_client_id("urn:rp.example-1_x"));
    }
}
