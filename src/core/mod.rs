//! The narrow core that protocol, account and admin code run on.
//!
//! Owns: [`Core`], the state every decision beyond a single request may need: configuration,
//! database (with its clock), the signing key ring, the key-encryption key, the password
//! hasher, the outgoing HTTP client, the access-token ledger, and the per-instance caches
//! ([`caches`]). It knows nothing of HTTP requests, sessions or pages: the web layer's
//! `App` wraps a `Core` and adds those, so `oidc` depends on this module and never on `web`.
//!
//! Dependencies point one way: `config`, `clock`, `secrets`, `assurance` → `store`, `tokens`,
//! `accounts` → `core` → `oidc`, `upstream`, `admin` → `web`, `cli`, `server`.

pub mod caches;

use std::{sync::Arc, time::Duration};

use crate::{
    accounts::Hasher,
    clock::Clock,
    config::Config,
    store::{ledger::Ledger, Db},
    tokens::{keys::Kek, KeyRing},
};

use caches::{ClientCache, ClientJwksCache, SecretCache, UnlockedAddresses, UpstreamCache};

/// Everything protocol code needs. Cheap to clone.
#[derive(Clone)]
pub struct Core {
    pub config: Arc<Config>,
    pub db: Db,
    /// The time source; the same clock the database stamps and compares with.
    pub clock: Clock,
    pub keys: KeyRing,
    /// Key-encryption key: signing keys and second-factor secrets are encrypted with it.
    pub kek: Kek,
    pub hasher: Hasher,
    /// Client-secret checks have their own small argon2 budget ([`CLIENT_HASH_SLOTS`]), so
    /// a flood of bad client secrets queues here and cannot starve citizen logins.
    pub client_hasher: Hasher,
    pub secrets: Arc<SecretCache>,
    pub clients: Arc<ClientCache>,
    pub unlocked: Arc<UnlockedAddresses>,
    pub client_jwks: Arc<ClientJwksCache>,
    /// Upstream identity sources: their HTTP client and cached discovery documents.
    pub upstreams: Arc<UpstreamCache>,
    pub http: reqwest::Client,
    pub ledger: Ledger,
    /// The Prometheus registry (`/metrics`).
    pub metrics: crate::metrics::Metrics,
    /// Outgoing mail: the durable outbox and the configured mailer (`mail`).
    pub outbox: crate::mail::outbox::Outbox,
}

/// Client-secret hashes computed at once (one core's worth: legitimate clients hit the
/// verified-secret cache and rarely hash).
pub const CLIENT_HASH_SLOTS: usize = 1;
/// Client-secret hashes allowed to wait; more are answered `temporarily_unavailable`.
pub const CLIENT_HASH_QUEUE: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(String),
    #[error("database: {0}")]
    Db(#[from] crate::store::StoreError),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("signing keys: {0}")]
    Keys(#[from] crate::tokens::KeyError),
}

impl Core {
    /// Connects, migrates and loads keys: everything `serve`, the CLI and tests share.
    pub async fn open(config: Config, clock: Clock) -> Result<Core, StartError> {
        let db = Db::connect(&config.database.url, config.database.max_connections)
            .await?
            .with_clock(clock.clone());
        db.migrate().await?;
        let kek = crate::tokens::keys::load_kek(&config).map_err(StartError::Config)?;
        let keys = KeyRing::open(db.clone(), kek.clone()).await?;
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| StartError::Config(format!("HTTP client: {e}")))?;
        let upstreams = Arc::new(UpstreamCache::new(&config.upstream).map_err(StartError::Config)?);
        let ledger = Ledger::start(db.clone());
        let metrics = crate::metrics::Metrics::new();
        let mailer = crate::mail::Mailer::from_config(&config)
            .map_err(|e| StartError::Config(e.to_string()))?;
        let outbox = crate::mail::outbox::Outbox::new(
            mailer,
            db.clone(),
            kek.clone(),
            clock.clone(),
            &config.mail,
            metrics.mail(),
        );
        Ok(Core {
            outbox,
            hasher: Hasher::new(
                config.login.max_concurrent_hashes as usize,
                config.login.max_queued_hashes as usize,
            )
            .with_metrics(metrics.argon2()),
            client_hasher: Hasher::new(CLIENT_HASH_SLOTS, CLIENT_HASH_QUEUE),
            metrics,
            config: Arc::new(config),
            db,
            clock,
            keys,
            kek,
            secrets: Arc::new(SecretCache::default()),
            clients: Arc::new(ClientCache::default()),
            unlocked: Arc::default(),
            client_jwks: Arc::new(ClientJwksCache::default()),
            upstreams,
            http,
            ledger,
        })
    }

    /// Now, in Unix seconds.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The longest any token signed now may stay valid: how long a retired key stays published.
    pub fn max_token_lifetime(&self) -> i64 {
        let t = &self.config.tokens;
        // Plus one reload period: other instances may sign with the old key until they reload.
        t.access_token_ttl.max(t.id_token_ttl) as i64 + self.config.keys.reload_secs as i64 + 300
    }
}

/// A core on a private in-memory SQLite database with a manual clock: for unit tests of
/// protocol and account code without a server.
#[cfg(test)]
pub mod testing {
    use super::*;

    /// Opens a fresh core; `issuer` is its issuer URL.
    pub async fn memory_core(issuer: &str) -> Core {
        let env = vec![
            ("PFORTE_ISSUER".to_string(), issuer.to_string()),
            // An in-memory SQLite database lives in its one connection.
            (
                "PFORTE_DATABASE_URL".to_string(),
                "sqlite::memory:".to_string(),
            ),
            (
                "PFORTE_DATABASE_MAX_CONNECTIONS".to_string(),
                "1".to_string(),
            ),
            (
                "PFORTE_KEYS_ENCRYPTION_KEY".to_string(),
                crate::tokens::keys::Kek::generate_base64(),
            ),
        ];
        let config = Config::load_from(None, env).expect("test configuration");
        Core::open(config, Clock::manual(1_800_000_000))
            .await
            .expect("in-memory core")
    }
}
