//! The running provider's shared state, its background duties, and start-up.

use std::{sync::Arc, time::Duration};

use crate::{
    accounts::Hasher,
    config::Config,
    oidc::client_auth::{ClientCache, ClientJwksCache, SecretCache},
    store::{sessions::SsoStore, Db},
    tokens::{keys::Kek, KeyRing},
};

/// Everything a request handler may need. Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub config: Arc<Config>,
    pub db: Db,
    pub keys: KeyRing,
    /// Key-encryption key: signing keys and second-factor secrets are encrypted with it.
    pub kek: Kek,
    pub hasher: Hasher,
    pub sessions: SsoStore,
    pub secrets: Arc<SecretCache>,
    pub clients: Arc<ClientCache>,
    pub client_jwks: Arc<ClientJwksCache>,
    pub http: reqwest::Client,
    pub ledger: crate::oidc::ledger::Ledger,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("signing keys: {0}")]
    Keys(#[from] crate::tokens::KeyError),
}

impl App {
    /// Connects, migrates and loads keys: everything `serve` and the CLI share.
    pub async fn open(config: Config) -> Result<App, StartError> {
        let db = Db::connect(&config.database.url, config.database.max_connections).await?;
        db.migrate().await?;
        let kek = load_kek(&config)?;
        let keys = KeyRing::open(db.clone(), kek.clone()).await?;
        let sessions = SsoStore::open(&db).await?;
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| StartError::Config(format!("HTTP client: {e}")))?;
        let ledger = crate::oidc::ledger::Ledger::start(db.clone());
        Ok(App {
            hasher: Hasher::new(
                config.login.max_concurrent_hashes as usize,
                config.login.max_queued_hashes as usize,
            ),
            config: Arc::new(config),
            db,
            keys,
            kek,
            sessions,
            secrets: Arc::new(SecretCache::default()),
            clients: Arc::new(ClientCache::default()),
            client_jwks: Arc::new(ClientJwksCache::default()),
            http,
            ledger,
        })
    }

    /// The longest any token signed now may stay valid: how long a retired key stays published.
    pub fn max_token_lifetime(&self) -> i64 {
        let t = &self.config.tokens;
        // Plus one reload period: other instances may sign with the old key until they reload.
        t.access_token_ttl.max(t.id_token_ttl) as i64 + self.config.keys.reload_secs as i64 + 300
    }

    /// Periodic duties: reload keys (rotations by other instances), rotate when due, purge
    /// expired rows and sessions.
    pub fn spawn_background(&self) {
        let app = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(app.config.keys.reload_secs));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = app.keys.reload().await {
                    tracing::error!(error = %e, "reloading signing keys failed");
                }
                let now = crate::store::now();
                let ring = app.keys.snapshot().await;
                if ring
                    .oldest_current_activation
                    .is_some_and(|t| now - t >= app.config.keys.rotate_after_secs as i64)
                {
                    match app.keys.rotate(app.max_token_lifetime()).await {
                        Ok(kids) => {
                            tracing::info!(?kids, "signing keys rotated (scheduled)");
                            let _ = app
                                .db
                                .audit(
                                    "system",
                                    "keys.rotated",
                                    None,
                                    serde_json::json!({ "now_signing": kids }),
                                )
                                .await;
                        }
                        Err(e) => tracing::error!(error = %e, "scheduled key rotation failed"),
                    }
                }
                if let Err(e) = app.db.purge_expired(now).await {
                    tracing::warn!(error = %e, "purging expired tokens failed");
                }
                if let Err(e) = app.sessions.delete_expired().await {
                    tracing::warn!(error = %e, "purging expired sessions failed");
                }
            }
        });
    }
}

/// The key-encryption key from config, environment or file. A loopback development issuer
/// without one gets a generated key file next to the database; anything else must configure it.
fn load_kek(config: &Config) -> Result<Kek, StartError> {
    if let Some(k) = &config.keys.encryption_key {
        return Kek::from_base64(k)
            .map_err(|e| StartError::Config(format!("key `keys.encryption_key`: {e}")));
    }
    let file = match &config.keys.encryption_key_file {
        Some(f) => f.clone(),
        None if config.is_development() => dev_kek_path(config),
        None => {
            return Err(StartError::Config(
                "key `keys.encryption_key` (PFORTE_KEYS_ENCRYPTION_KEY) or `keys.encryption_key_file` is required \
                 for a non-development issuer: 32 random bytes in base64, e.g. from `pforte keys kek`"
                    .into(),
            ))
        }
    };
    if !file.exists() && config.keys.encryption_key_file.is_none() {
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| StartError::Config(format!("{}: {e}", dir.display())))?;
        }
        write_private(&file, &Kek::generate_base64())
            .map_err(|e| StartError::Config(format!("cannot write {}: {e}", file.display())))?;
        tracing::warn!(path = %file.display(), "generated a development key-encryption key; configure keys.encryption_key in production");
    }
    let text = std::fs::read_to_string(&file).map_err(|e| {
        StartError::Config(format!(
            "key `keys.encryption_key_file` ({}): {e}",
            file.display()
        ))
    })?;
    Kek::from_base64(&text).map_err(|e| {
        StartError::Config(format!(
            "key `keys.encryption_key_file` ({}): {e}",
            file.display()
        ))
    })
}

fn dev_kek_path(config: &Config) -> std::path::PathBuf {
    let db_file = config
        .database
        .url
        .strip_prefix("sqlite:")
        .map(|p| p.trim_start_matches("//").split('?').next().unwrap_or(""));
    match db_file.and_then(|f| std::path::Path::new(f).parent().map(|p| p.to_path_buf())) {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join("pforte.kek"),
        _ => std::path::PathBuf::from("data/pforte.kek"),
    }
}

fn write_private(path: &std::path::Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)?.write_all(content.as_bytes())
}
