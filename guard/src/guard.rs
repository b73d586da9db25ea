//! [`Guard`]: the configured validator, and its builder.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, Validation};
use reqwest::Url;

use crate::challenge::is_quotable;
use crate::jwks::{url_allowed, JwksError, KeySet, KeyStore, Source};
use crate::level::AcrVocabulary;
use crate::validate::{check_header, validation, verify, Claims, TokenError};

/// Default clock leeway for `exp` and `nbf`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);
/// Default minimum time between two JWKS fetches triggered by unknown `kid`s.
pub const DEFAULT_MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(10);
/// Default age after which the cached JWKS is refreshed in the background.
pub const DEFAULT_MAX_CACHE_AGE: Duration = Duration::from_secs(15 * 60);

/// Validates Pforte access tokens for one resource (audience).
///
/// Cheap to clone (one `Arc`); build one per resource server and share it. Put it into the
/// router with `.layer(axum::Extension(guard))` so that [`crate::AccessToken`] and
/// [`crate::RequireLevel`] find it.
#[derive(Clone, Debug)]
pub struct Guard {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    issuer: String,
    audience: String,
    realm: Option<Arc<str>>,
    vocabulary: AcrVocabulary,
    keys: Arc<KeyStore>,
    rs256: Validation,
    es256: Validation,
    eddsa: Validation,
}

impl Guard {
    /// Starts configuring a guard for tokens from `issuer` (exactly as in the tokens' `iss`,
    /// e.g. `https://pforte.example.de`) meant for `audience` (this resource's identifier in
    /// the tokens' `aud`).
    pub fn builder(issuer: impl Into<String>, audience: impl Into<String>) -> GuardBuilder {
        GuardBuilder {
            issuer: issuer.into(),
            audience: audience.into(),
            jwks_uri: None,
            jwks_json: None,
            leeway: DEFAULT_LEEWAY,
            min_refresh_interval: DEFAULT_MIN_REFRESH_INTERVAL,
            max_cache_age: DEFAULT_MAX_CACHE_AGE,
            realm: None,
            vocabulary: AcrVocabulary::default(),
            http: None,
            allow_http: false,
        }
    }

    /// Validates an access token (the part after `Bearer `) per RFC 9068 §4 and returns its
    /// claims. Needs the network only when the token's key is not cached yet.
    ///
    /// This checks authenticity and validity only; demand a level with
    /// [`crate::check_level`], [`crate::RequireLevel`] or [`crate::AccessToken::require`].
    pub async fn validate(&self, token: &str) -> Result<Claims, TokenError> {
        let header = check_header(token)?;
        let key = self
            .inner
            .keys
            .key_for(header.kid.as_deref(), header.alg)
            .await?;
        let validation = match key.alg {
            Algorithm::RS256 => &self.inner.rs256,
            Algorithm::ES256 => &self.inner.es256,
            Algorithm::EdDSA => &self.inner.eddsa,
            // `check_header` and the key cache admit no other algorithm.
            _ => return Err(TokenError::UnsupportedAlgorithm),
        };
        verify(
            token,
            &key,
            validation,
            &self.inner.issuer,
            &self.inner.audience,
        )
    }

    /// Loads the issuer's keys now instead of on the first request, returning how many usable
    /// keys were found. Useful at start-up to fail early on a misconfigured issuer.
    pub async fn prefetch(&self) -> Result<usize, JwksError> {
        self.inner.keys.prefetch().await
    }

    /// The configured issuer.
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// The configured audience.
    pub fn audience(&self) -> &str {
        &self.inner.audience
    }

    /// The realm sent in challenges, if configured.
    pub fn realm(&self) -> Option<&str> {
        self.inner.realm.as_deref()
    }

    /// The vocabulary step-up challenges use for `acr_values`.
    pub fn vocabulary(&self) -> AcrVocabulary {
        self.inner.vocabulary
    }

    pub(crate) fn realm_arc(&self) -> Option<Arc<str>> {
        self.inner.realm.clone()
    }
}

/// Configuration for a [`Guard`]; see [`Guard::builder`].
#[derive(Debug)]
#[must_use]
pub struct GuardBuilder {
    issuer: String,
    audience: String,
    jwks_uri: Option<String>,
    jwks_json: Option<Vec<u8>>,
    leeway: Duration,
    min_refresh_interval: Duration,
    max_cache_age: Duration,
    realm: Option<String>,
    vocabulary: AcrVocabulary,
    http: Option<reqwest::Client>,
    allow_http: bool,
}

impl GuardBuilder {
    /// Fetch keys from this JWKS URL instead of discovering `jwks_uri` from
    /// `{issuer}/.well-known/openid-configuration`.
    pub fn jwks_uri(mut self, uri: impl Into<String>) -> Self {
        self.jwks_uri = Some(uri.into());
        self
    }

    /// Use this JWKS document and never fetch keys (offline use, tests, benchmarks).
    pub fn jwks_json(mut self, jwks: impl Into<Vec<u8>>) -> Self {
        self.jwks_json = Some(jwks.into());
        self
    }

    /// Clock leeway for `exp` and `nbf` (default 30 s; whole seconds).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Minimum time between two key fetches caused by unknown `kid`s (default 10 s).
    pub fn min_refresh_interval(mut self, interval: Duration) -> Self {
        self.min_refresh_interval = interval;
        self
    }

    /// Age after which cached keys are refreshed in the background (default 15 min).
    pub fn max_cache_age(mut self, age: Duration) -> Self {
        self.max_cache_age = age;
        self
    }

    /// `realm` for challenges (RFC 6750 §3); printable ASCII without `"` and `\`.
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = Some(realm.into());
        self
    }

    /// The vocabulary step-up challenges write `acr_values` in (default eIDAS). Tokens in
    /// every vocabulary are understood regardless.
    pub fn challenge_vocabulary(mut self, vocabulary: AcrVocabulary) -> Self {
        self.vocabulary = vocabulary;
        self
    }

    /// The HTTP client for discovery and JWKS (default: rustls, 5 s connect and 10 s total
    /// timeout, at most 3 redirects).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Allow plain `http` issuer and JWKS URLs on non-loopback hosts. Off by default:
    /// without TLS anyone on the path can substitute the keys.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// Checks the configuration and builds the guard. No network access.
    pub fn build(self) -> Result<Guard, ConfigError> {
        let issuer_url = Url::parse(&self.issuer).map_err(|_| ConfigError::Issuer)?;
        if !url_allowed(&issuer_url, self.allow_http)
            || issuer_url.query().is_some()
            || issuer_url.fragment().is_some()
        {
            return Err(ConfigError::Issuer);
        }
        if self.audience.is_empty() {
            return Err(ConfigError::Audience);
        }
        if let Some(realm) = &self.realm {
            if !is_quotable(realm) {
                return Err(ConfigError::Realm);
            }
        }
        let (source, initial) = match (self.jwks_json, self.jwks_uri) {
            (Some(json), _) => {
                let set = KeySet::parse(&json).map_err(ConfigError::Jwks)?;
                if set.len() == 0 {
                    return Err(ConfigError::NoUsableKeys);
                }
                (Source::Static, Some(set))
            }
            (None, Some(uri)) => {
                let url = Url::parse(&uri)
                    .ok()
                    .filter(|u| url_allowed(u, self.allow_http))
                    .ok_or(ConfigError::JwksUri)?;
                (Source::JwksUri(url), None)
            }
            (None, None) => (
                Source::Discovery {
                    issuer: self.issuer.clone(),
                },
                None,
            ),
        };
        let http = match self.http {
            Some(client) => client,
            None => reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(5))
                .timeout(Duration::from_secs(10))
                .redirect(reqwest::redirect::Policy::limited(3))
                .build()
                .map_err(ConfigError::HttpClient)?,
        };
        let keys = KeyStore::new(
            source,
            initial,
            http,
            self.allow_http,
            self.min_refresh_interval,
            self.max_cache_age,
        );
        let leeway = self.leeway.as_secs();
        let v = |alg| validation(alg, &self.issuer, &self.audience, leeway);
        Ok(Guard {
            inner: Arc::new(Inner {
                rs256: v(Algorithm::RS256),
                es256: v(Algorithm::ES256),
                eddsa: v(Algorithm::EdDSA),
                issuer: self.issuer,
                audience: self.audience,
                realm: self.realm.map(Arc::from),
                vocabulary: self.vocabulary,
                keys: Arc::new(keys),
            }),
        })
    }
}

/// A [`GuardBuilder`] setting that cannot work.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The issuer is not an absolute `https` URL without query and fragment (`http` only for
    /// loopback hosts unless allowed).
    #[error("the issuer must be an https URL without query or fragment")]
    Issuer,
    /// The audience is empty.
    #[error("the audience must not be empty")]
    Audience,
    /// The realm contains characters a challenge cannot carry.
    #[error("the realm must be printable ASCII without '\"' and '\\'")]
    Realm,
    /// The JWKS URL is not an acceptable URL.
    #[error("the JWKS URL must be an https URL")]
    JwksUri,
    /// The given JWKS document is not JSON of the right shape.
    #[error("the JWKS document is invalid: {0}")]
    Jwks(#[source] serde_json::Error),
    /// The given JWKS document has no usable RS256, ES256 or EdDSA key.
    #[error("the JWKS document has no usable signature key")]
    NoUsableKeys,
    /// The HTTP client could not be built.
    #[error("building the HTTP client failed: {0}")]
    HttpClient(#[source] reqwest::Error),
}
