//! The issuer's signing keys: discovery, fetching, parsing and an in-memory cache.
//!
//! Hot path: a read lock and a lookup by `kid`; no network. The keys are fetched again
//! - when a token names a `kid` the cache does not have (key rotation), at most once per
//!   `min_refresh_interval`, so tokens with made-up `kid`s cannot make the guard hammer the
//!   issuer;
//! - in the background once the cache is older than `max_cache_age`, while requests go on
//!   being served from the old set.
//!
//! Keys are only ever taken from the configured JWKS; `jku`, `x5u` and `jwk` in a token
//! header are ignored (RFC 8725 §3.10).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey};
use reqwest::Url;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::validate::TokenError;

/// Responses larger than this (discovery document or JWKS) are refused.
const MAX_BODY: usize = 256 * 1024;

/// Why the issuer's keys could not be (re)loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JwksError {
    /// The HTTP request failed (connection, TLS, timeout).
    #[error("request to {url} failed: {source}")]
    Http {
        /// The URL that was requested.
        url: String,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with a non-success status.
    #[error("{url} answered HTTP {status}")]
    Status {
        /// The URL that was requested.
        url: String,
        /// The HTTP status code.
        status: u16,
    },
    /// The response body exceeded the size limit.
    #[error("{url} sent more than {MAX_BODY} bytes")]
    TooLarge {
        /// The URL that was requested.
        url: String,
    },
    /// The response was not the expected JSON.
    #[error("{url} sent invalid JSON: {source}")]
    Json {
        /// The URL that was requested.
        url: String,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// The discovery document names another issuer (OpenID Connect Discovery §4.3).
    #[error("discovery document names issuer {found:?}, expected {expected:?}")]
    IssuerMismatch {
        /// The configured issuer.
        expected: String,
        /// The `issuer` in the document.
        found: String,
    },
    /// `jwks_uri` is missing, not a URL, or not `https` (loopback `http` aside).
    #[error("unacceptable jwks_uri {0:?}")]
    BadJwksUri(String),
    /// The JWKS holds no key usable for RS256, ES256 or EdDSA signatures.
    #[error("the JWKS has no usable signature key")]
    NoUsableKeys,
    /// A refresh was skipped because the last attempt was too recent.
    #[error("key refresh skipped: last attempt less than the minimum interval ago")]
    RateLimited,
}

/// One verification key with the single algorithm it may be used with.
#[derive(Debug)]
pub(crate) struct CachedKey {
    pub(crate) kid: Option<String>,
    pub(crate) alg: Algorithm,
    pub(crate) key: DecodingKey,
}

/// An immutable snapshot of the issuer's keys.
#[derive(Debug, Default)]
pub(crate) struct KeySet {
    by_kid: HashMap<String, Vec<Arc<CachedKey>>>,
    all: Vec<Arc<CachedKey>>,
    /// `None` until a JWKS was loaded.
    loaded_at: Option<Instant>,
    generation: u64,
}

impl KeySet {
    /// Parses a JWKS document, keeping only keys this guard may verify with.
    pub(crate) fn parse(json: &[u8]) -> Result<KeySet, serde_json::Error> {
        #[derive(Deserialize)]
        struct RawSet {
            keys: Vec<serde_json::Value>,
        }
        let raw: RawSet = serde_json::from_slice(json)?;
        let mut set = KeySet::default();
        for value in raw.keys {
            // A key this library cannot parse (another kty, a private member we do not model…)
            // must not make the whole set unusable: skip it.
            let Ok(jwk) = serde_json::from_value::<Jwk>(value) else {
                continue;
            };
            let Some(key) = usable_key(&jwk) else {
                continue;
            };
            let key = Arc::new(key);
            if let Some(kid) = &key.kid {
                set.by_kid.entry(kid.clone()).or_default().push(key.clone());
            }
            set.all.push(key);
        }
        Ok(set)
    }

    /// The key for a token's `kid` and `alg`. Without a `kid`, the only key for `alg`, if
    /// there is exactly one (OpenID Connect Core §10.1).
    fn find(&self, kid: Option<&str>, alg: Algorithm) -> Option<Arc<CachedKey>> {
        match kid {
            Some(kid) => self.by_kid.get(kid)?.iter().find(|k| k.alg == alg).cloned(),
            None => {
                let mut candidates = self.all.iter().filter(|k| k.alg == alg);
                match (candidates.next(), candidates.next()) {
                    (Some(only), None) => Some(only.clone()),
                    _ => None,
                }
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.all.len()
    }
}

/// The one algorithm a JWK may verify, if it is a public signature key we accept.
fn usable_key(jwk: &Jwk) -> Option<CachedKey> {
    let common = &jwk.common;
    if common
        .public_key_use
        .as_ref()
        .is_some_and(|u| *u != PublicKeyUse::Signature)
    {
        return None;
    }
    if common
        .key_operations
        .as_ref()
        .is_some_and(|ops| !ops.contains(&KeyOperations::Verify))
    {
        return None;
    }
    // Bind each key type to one algorithm; symmetric (`oct`) keys are never accepted.
    let (alg, key_alg, point_len) = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => (Algorithm::RS256, KeyAlgorithm::RS256, None),
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => {
            (Algorithm::ES256, KeyAlgorithm::ES256, Some(65))
        }
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            (Algorithm::EdDSA, KeyAlgorithm::EdDSA, Some(32))
        }
        _ => return None,
    };
    if common.key_algorithm.is_some_and(|a| a != key_alg) {
        return None;
    }
    let key = DecodingKey::from_jwk(jwk).ok()?;
    // EC and OKP keys are raw points; check the length now rather than fail every verify.
    // (`as_bytes` is only defined for these key kinds, not for RSA.)
    if point_len.is_some_and(|len| key.as_bytes().len() != len) {
        return None;
    }
    Some(CachedKey {
        kid: common.key_id.clone(),
        alg,
        key,
    })
}

/// Where the keys come from.
#[derive(Debug)]
pub(crate) enum Source {
    /// `{issuer}/.well-known/openid-configuration` → `jwks_uri`.
    Discovery { issuer: String },
    /// A configured `jwks_uri`.
    JwksUri(Url),
    /// Keys given at build time; never refreshed.
    Static,
}

/// The cache and its refresh policy.
#[derive(Debug)]
pub(crate) struct KeyStore {
    source: Source,
    http: reqwest::Client,
    allow_http: bool,
    min_refresh_interval: Duration,
    max_cache_age: Duration,
    current: RwLock<Arc<KeySet>>,
    /// Serialises refreshes, and remembers the discovered `jwks_uri`.
    refreshing: tokio::sync::Mutex<Option<Url>>,
    last_attempt: Mutex<Option<Instant>>,
    background_running: AtomicBool,
}

impl KeyStore {
    pub(crate) fn new(
        source: Source,
        initial: Option<KeySet>,
        http: reqwest::Client,
        allow_http: bool,
        min_refresh_interval: Duration,
        max_cache_age: Duration,
    ) -> Self {
        let initial = initial.map_or_else(KeySet::default, |mut set| {
            set.loaded_at = Some(Instant::now());
            set.generation = 1;
            set
        });
        KeyStore {
            source,
            http,
            allow_http,
            min_refresh_interval,
            max_cache_age,
            current: RwLock::new(Arc::new(initial)),
            refreshing: tokio::sync::Mutex::new(None),
            last_attempt: Mutex::new(None),
            background_running: AtomicBool::new(false),
        }
    }

    fn snapshot(&self) -> Arc<KeySet> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The key for a token header, refreshing the cache if the `kid` is unknown.
    pub(crate) async fn key_for(
        self: &Arc<Self>,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<Arc<CachedKey>, TokenError> {
        let set = self.snapshot();
        self.refresh_if_old(&set);
        if let Some(key) = set.find(kid, alg) {
            return Ok(key);
        }
        match self.refresh(set.generation).await {
            Ok(fresh) => fresh.find(kid, alg).ok_or(TokenError::UnknownKey),
            // Never loaded: the guard cannot judge any token; that is not the client's fault.
            Err(e) if set.loaded_at.is_none() => Err(TokenError::KeysUnavailable(Arc::new(e))),
            // Loaded before, and the refresh failed or was rate limited: the kid stays unknown.
            Err(_) => Err(TokenError::UnknownKey),
        }
    }

    /// Loads the keys now (subject to the rate limit).
    pub(crate) async fn prefetch(&self) -> Result<usize, JwksError> {
        let generation = self.snapshot().generation;
        self.refresh(generation).await.map(|set| set.len())
    }

    /// Starts a background refresh if the set is older than `max_cache_age`.
    fn refresh_if_old(self: &Arc<Self>, set: &KeySet) {
        let old = set
            .loaded_at
            .is_some_and(|at| at.elapsed() >= self.max_cache_age);
        if !old || matches!(self.source, Source::Static) || !self.may_attempt() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.background_running.swap(true, Ordering::AcqRel) {
            return;
        }
        let store = Arc::clone(self);
        let generation = set.generation;
        runtime.spawn(async move {
            if let Err(e) = store.refresh(generation).await {
                tracing::warn!(error = %e, "pforte-guard: background key refresh failed; keeping the cached keys");
            }
            store.background_running.store(false, Ordering::Release);
        });
    }

    fn may_attempt(&self) -> bool {
        let last = *self
            .last_attempt
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        last.is_none_or(|at| at.elapsed() >= self.min_refresh_interval)
    }

    /// Fetches the keys unless another task did since `seen_generation` or the last attempt
    /// was too recent.
    async fn refresh(&self, seen_generation: u64) -> Result<Arc<KeySet>, JwksError> {
        let mut jwks_uri = self.refreshing.lock().await;
        let current = self.snapshot();
        if current.generation != seen_generation || matches!(self.source, Source::Static) {
            return Ok(current);
        }
        {
            let mut last = self
                .last_attempt
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if last.is_some_and(|at| at.elapsed() < self.min_refresh_interval) {
                return Err(JwksError::RateLimited);
            }
            *last = Some(Instant::now());
        }
        let mut set = match self.fetch(&mut jwks_uri).await {
            Ok(set) => set,
            Err(e) => {
                tracing::warn!(error = %e, "pforte-guard: loading the issuer's keys failed");
                return Err(e);
            }
        };
        set.loaded_at = Some(Instant::now());
        set.generation = current.generation + 1;
        tracing::debug!(keys = set.len(), "pforte-guard: issuer keys loaded");
        let set = Arc::new(set);
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = set.clone();
        Ok(set)
    }

    async fn fetch(&self, jwks_uri: &mut Option<Url>) -> Result<KeySet, JwksError> {
        let uri = match (&self.source, jwks_uri.as_ref()) {
            (Source::JwksUri(uri), _) | (Source::Discovery { .. }, Some(uri)) => uri.clone(),
            (Source::Discovery { issuer }, None) => {
                let discovered = self.discover(issuer).await?;
                *jwks_uri = Some(discovered.clone());
                discovered
            }
            (Source::Static, _) => return Err(JwksError::NoUsableKeys),
        };
        let body = get(&self.http, &uri).await?;
        let set = KeySet::parse(&body).map_err(|source| JwksError::Json {
            url: uri.to_string(),
            source,
        })?;
        if set.len() == 0 {
            return Err(JwksError::NoUsableKeys);
        }
        Ok(set)
    }

    async fn discover(&self, issuer: &str) -> Result<Url, JwksError> {
        #[derive(Deserialize)]
        struct Discovery {
            issuer: String,
            jwks_uri: Option<String>,
        }
        let url = discovery_url(issuer);
        let doc: Discovery = get_json(&self.http, &url).await?;
        // OpenID Connect Discovery §4.3: the issuer in the document MUST be identical.
        if doc.issuer != issuer {
            return Err(JwksError::IssuerMismatch {
                expected: issuer.to_owned(),
                found: doc.issuer,
            });
        }
        let raw = doc.jwks_uri.unwrap_or_default();
        Url::parse(&raw)
            .ok()
            .filter(|u| url_allowed(u, self.allow_http))
            .ok_or(JwksError::BadJwksUri(raw))
    }
}

/// OpenID Connect Discovery §4: remove a terminating `/` from the issuer, then append
/// `/.well-known/openid-configuration`.
pub(crate) fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

/// `https`, or `http` to a loopback host (local development and tests), or any `http` when
/// explicitly allowed.
pub(crate) fn url_allowed(url: &Url, allow_http: bool) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => {
            allow_http
                || match url.host() {
                    Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                    Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                    Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                    None => false,
                }
        }
        _ => false,
    }
}

async fn get_json<T: DeserializeOwned>(http: &reqwest::Client, url: &str) -> Result<T, JwksError> {
    let url = Url::parse(url).map_err(|_| JwksError::BadJwksUri(url.to_owned()))?;
    let body = get(http, &url).await?;
    serde_json::from_slice(&body).map_err(|source| JwksError::Json {
        url: url.to_string(),
        source,
    })
}

/// GET with a body size limit.
async fn get(http: &reqwest::Client, url: &Url) -> Result<Vec<u8>, JwksError> {
    let http_err = |source| JwksError::Http {
        url: url.to_string(),
        source,
    };
    let mut response = http
        .get(url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(http_err)?;
    let status = response.status();
    if !status.is_success() {
        return Err(JwksError::Status {
            url: url.to_string(),
            status: status.as_u16(),
        });
    }
    let too_large = || JwksError::TooLarge {
        url: url.to_string(),
    };
    if response
        .content_length()
        .is_some_and(|len| len > MAX_BODY as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(http_err)? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_signature_keys_for_accepted_algorithms() {
        let x = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
        let y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
        let ed = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let json = format!(
            r#"{{"keys":[
            {{"kty":"EC","crv":"P-256","x":"{x}","y":"{y}","kid":"ec","use":"sig","alg":"ES256"}},
            {{"kty":"EC","crv":"P-256","x":"{x}","y":"{y}","kid":"enc","use":"enc"}},
            {{"kty":"EC","crv":"P-256","x":"{x}","y":"{y}","kid":"wrong-alg","alg":"ES384"}},
            {{"kty":"EC","crv":"P-256","x":"{x}","y":"","kid":"short"}},
            {{"kty":"EC","crv":"P-384","x":"{x}","y":"{y}","kid":"p384"}},
            {{"kty":"OKP","crv":"Ed25519","x":"{ed}","kid":"ed","key_ops":["verify"]}},
            {{"kty":"OKP","crv":"Ed25519","x":"{ed}","kid":"ed-sign","key_ops":["sign"]}},
            {{"kty":"RSA","n":"{n}","e":"AQAB","kid":"rsa"}},
            {{"kty":"RSA","n":"{n}","e":"AQAB","kid":"pss","alg":"PS256"}},
            {{"kty":"oct","k":"c2VjcmV0","kid":"hmac"}},
            {{"kty":"weird","kid":"weird"}},
            "not even an object"
        ]}}"#
        );
        let set = KeySet::parse(json.as_bytes()).unwrap();
        let mut kids: Vec<_> = set.all.iter().filter_map(|k| k.kid.as_deref()).collect();
        kids.sort_unstable();
        assert_eq!(kids, ["ec", "ed", "rsa"]);
        assert!(set.find(Some("ec"), Algorithm::ES256).is_some());
        assert!(set.find(Some("ec"), Algorithm::RS256).is_none());
        assert!(set.find(Some("hmac"), Algorithm::HS256).is_none());
        assert!(set.find(None, Algorithm::EdDSA).is_some());
    }

    #[test]
    fn kidless_lookup_needs_a_unique_key() {
        let x = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
        let y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
        let json = format!(
            r#"{{"keys":[{{"kty":"EC","crv":"P-256","x":"{x}","y":"{y}","kid":"a"}},
                          {{"kty":"EC","crv":"P-256","x":"{x}","y":"{y}","kid":"b"}}]}}"#
        );
        let set = KeySet::parse(json.as_bytes()).unwrap();
        assert!(set.find(None, Algorithm::ES256).is_none());
        assert!(set.find(Some("b"), Algorithm::ES256).is_some());
    }

    #[test]
    fn discovery_url_and_scheme_policy() {
        assert_eq!(
            discovery_url("https://id.example/realm/"),
            "https://id.example/realm/.well-known/openid-configuration"
        );
        let ok = |u: &str, allow| url_allowed(&Url::parse(u).unwrap(), allow);
        assert!(ok("https://id.example/jwks", false));
        assert!(ok("http://127.0.0.1:8080/jwks", false));
        assert!(ok("http://[::1]/jwks", false));
        assert!(ok("http://localhost/jwks", false));
        assert!(!ok("http://id.example/jwks", false));
        assert!(ok("http://id.example/jwks", true));
        assert!(!ok("ftp://id.example/jwks", true));
    }
}
