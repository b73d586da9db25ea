//! Typed configuration: a TOML file overlaid with `PFORTE_*` environment variables.
//!
//! Owns: the configuration schema, its defaults, the environment mapping described in
//! `docs/contract.md` (`PFORTE_<SECTION>_<KEY>` plus the short forms `PFORTE_ISSUER`,
//! `PFORTE_LISTEN`, `PFORTE_DATABASE_URL`, `PFORTE_MAIL_OUTBOX`) and validation with errors
//! that name the key, where it came from and what was expected.

use std::{net::SocketAddr, path::PathBuf};

use serde::Deserialize;
use url::Url;

/// A configuration problem, phrased for the operator.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config {origin}: {message}")]
    Invalid { origin: String, message: String },
}

/// The whole configuration. Every field has a development default, so `pforte serve` runs on a
/// fresh machine without a file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Issuer URL exactly as it appears in tokens (`iss`) and discovery.
    pub issuer: String,
    /// Address to bind.
    pub listen: String,
    pub database: DatabaseConfig,
    pub mail: MailConfig,
    pub tls: TlsConfig,
    pub keys: KeysConfig,
    pub tokens: TokensConfig,
    pub session: SessionConfig,
    pub login: LoginConfig,
    pub site: SiteConfig,
    pub metrics: MetricsConfig,
    /// Reverse proxies (CIDR ranges or addresses, comma-separated in the environment) whose
    /// `X-Forwarded-For` / `X-Forwarded-Proto` / `X-Request-Id` headers are believed, and only
    /// when the TCP peer is one of them (`web::client_addr`). Empty: no header is believed.
    #[serde(deserialize_with = "de::cidrs")]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub logging: LoggingConfig,
    pub limits: LimitsConfig,
    pub shutdown: ShutdownConfig,
    pub admin: AdminConfig,
    pub upstream: UpstreamConfig,
}

/// Log lines (docs/operations.md "Logs").
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct LoggingConfig {
    /// `text` (default) or `json` (one object per line).
    pub format: crate::logging::LogFormat,
}

/// Requests served at once per endpoint class; the excess is answered 503 with `Retry-After`
/// at once instead of queueing (docs/operations.md "Overload").
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// `/token`, `/introspect`, `/revoke`, `/userinfo`, discovery and JWKS.
    #[serde(deserialize_with = "de::u32")]
    pub protocol_concurrency: u32,
    /// The citizen pages (login, consent, registration, account, logout).
    #[serde(deserialize_with = "de::u32")]
    pub pages_concurrency: u32,
    /// The admin HTTP API.
    #[serde(deserialize_with = "de::u32")]
    pub admin_concurrency: u32,
    /// `Retry-After` (seconds) of an answer refused for overload or an unreachable database.
    #[serde(deserialize_with = "de::u64")]
    pub retry_after_secs: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            protocol_concurrency: 512,
            pages_concurrency: 256,
            admin_concurrency: 32,
            retry_after_secs: 2,
        }
    }
}

/// Graceful shutdown on SIGTERM/SIGINT (docs/operations.md "Graceful shutdown").
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ShutdownConfig {
    /// Seconds between the signal and closing the listener, during which `/readyz` answers 503
    /// (so the load balancer stops sending traffic) while requests are still served.
    #[serde(deserialize_with = "de::u64")]
    pub drain_secs: u64,
    /// Seconds requests in flight get to finish after the listener closed.
    #[serde(deserialize_with = "de::u64")]
    pub grace_secs: u64,
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        ShutdownConfig {
            drain_secs: 5,
            grace_secs: 30,
        }
    }
}

/// The admin console (docs/admin-console.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// How old the staff member's login may be for the console: sign-in asks for a login at
    /// most this old (`max_age`), and a change with an older login sends the staff member to
    /// log in again first.
    #[serde(deserialize_with = "de::u64")]
    pub max_age_secs: u64,
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig { max_age_secs: 900 }
    }
}

/// How Pforte talks to upstream identity sources (docs/federation.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpstreamConfig {
    /// Time to establish a connection to an upstream.
    #[serde(deserialize_with = "de::u64")]
    pub connect_timeout_secs: u64,
    /// Time for a whole request to an upstream (discovery, JWKS, token, userinfo).
    #[serde(deserialize_with = "de::u64")]
    pub timeout_secs: u64,
    /// Largest response body accepted from an upstream.
    #[serde(deserialize_with = "de::u64")]
    pub max_response_bytes: u64,
    /// How long an upstream's discovery document and keys are used before they are fetched
    /// again (an unknown `kid` refetches the keys sooner).
    #[serde(deserialize_with = "de::u64")]
    pub metadata_ttl_secs: u64,
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        UpstreamConfig {
            connect_timeout_secs: 5,
            timeout_secs: 10,
            max_response_bytes: 1024 * 1024,
            metadata_ttl_secs: 3600,
        }
    }
}

/// Who may read `GET /metrics` (docs/operations.md "Metrics, health and readiness").
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// When set, `/metrics` answers only requests with `Authorization: Bearer <this>`.
    pub bearer_token: Option<String>,
}

/// The operator's pages linked from every citizen page's footer.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct SiteConfig {
    /// Impressum (imprint) URL.
    pub imprint_url: Option<String>,
    /// Datenschutzerklärung (privacy notice) URL.
    pub privacy_url: Option<String>,
    /// Erklärung zur Barrierefreiheit (accessibility statement, BITV 2.0) URL. Unset: the
    /// footer links Pforte's own statement (`/barrierefreiheit`).
    pub accessibility_url: Option<String>,
    /// Where citizens report barriers (BITV 2.0 § 7: the statement's feedback contact): an
    /// e-mail address or an http(s) URL, shown on `/barrierefreiheit`.
    pub accessibility_contact: Option<String>,
    /// The enforcement or arbitration body for accessibility responsible for the operator
    /// (e.g. a federal state's Durchsetzungsstelle), an http(s) URL, linked from
    /// `/barrierefreiheit`.
    pub accessibility_enforcement_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` or `postgres://…`.
    pub url: String,
    /// Maximum connections in the pool.
    #[serde(deserialize_with = "de::u32")]
    pub max_connections: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// Development mailer: write each outgoing mail as an `.eml` file into this folder.
    pub outbox: Option<PathBuf>,
    /// Sender address of outgoing mail.
    pub from: Option<String>,
    /// SMTP submission (`PFORTE_SMTP_URL`): `smtp://host[:port]` (STARTTLS required),
    /// `smtps://host[:port]` (implicit TLS), `smtp://127.0.0.1:port?tls=none` (loopback only);
    /// user and password in the URL or in `smtp_user` / `smtp_password`. Wins over `outbox`.
    pub smtp_url: Option<String>,
    /// SMTP AUTH user (when not in the URL).
    pub smtp_user: Option<String>,
    /// SMTP AUTH password (when not in the URL).
    pub smtp_password: Option<String>,
    /// PEM file with CA certificates to trust for the SMTP server, besides the system's trust
    /// store (a municipality's own CA, or a test's throwaway one).
    pub smtp_ca_file: Option<PathBuf>,
    /// Connect and per-command timeout of the SMTP client.
    #[serde(deserialize_with = "de::u64")]
    pub smtp_timeout_secs: u64,
    /// First retry of an undelivered mail after this many seconds, doubling per attempt.
    #[serde(deserialize_with = "de::u64")]
    pub retry_base_secs: u64,
    /// Longest wait between two attempts.
    #[serde(deserialize_with = "de::u64")]
    pub retry_max_secs: u64,
    /// Attempts before a mail is given up (kept in the outbox as failed, audited).
    #[serde(deserialize_with = "de::u32")]
    pub max_attempts: u32,
    /// How often the outbox worker looks for due mails (it is also woken by new mails).
    #[serde(deserialize_with = "de::u64")]
    pub poll_secs: u64,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            outbox: None,
            from: None,
            smtp_url: None,
            smtp_user: None,
            smtp_password: None,
            smtp_ca_file: None,
            smtp_timeout_secs: 30,
            retry_base_secs: 30,
            retry_max_secs: 3600,
            max_attempts: 20,
            poll_secs: 10,
        }
    }
}

/// How the SMTP connection is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// `smtp://`: plain connect, then STARTTLS, which must succeed (RFC 3207).
    StartTls,
    /// `smtps://`: TLS from the first byte (RFC 8314 §3.3).
    Implicit,
    /// `smtp://…?tls=none`: no TLS at all; only for a loopback host (development).
    None,
}

/// `mail.smtp_url` with the credentials, checked.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    /// `(user, password)` for SMTP AUTH.
    pub credentials: Option<(String, String)>,
    /// Extra trusted CA certificates (PEM), `mail.smtp_ca_file`.
    pub ca_file: Option<PathBuf>,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.credentials.as_ref().map(|c| &c.0))
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

impl MailConfig {
    /// The SMTP settings, `None` when `smtp_url` is unset; errors name the key and what was
    /// expected (never the password).
    pub fn smtp(&self) -> Result<Option<SmtpSettings>, String> {
        let Some(raw) = self.smtp_url.as_deref().filter(|u| !u.trim().is_empty()) else {
            if self.smtp_user.is_some()
                || self.smtp_password.is_some()
                || self.smtp_ca_file.is_some()
            {
                return Err("keys `mail.smtp_user` / `mail.smtp_password` / `mail.smtp_ca_file`: set only together with `mail.smtp_url` (PFORTE_SMTP_URL)".into());
            }
            return Ok(None);
        };
        let key = "key `mail.smtp_url` (PFORTE_SMTP_URL)";
        let url = Url::parse(raw.trim()).map_err(|e| {
            format!(
                "{key}: expected `smtp://host:port` or `smtps://host:port`, got `{}` ({e})",
                redact_url(raw)
            )
        })?;
        let mut security = match url.scheme() {
            "smtp" => SmtpSecurity::StartTls,
            "smtps" => SmtpSecurity::Implicit,
            other => {
                return Err(format!(
                "{key}: expected scheme `smtp` (STARTTLS) or `smtps` (implicit TLS), got `{other}`"
            ))
            }
        };
        let host = match url.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_string(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err(format!("{key}: the URL names no host")),
        };
        if !(url.path().is_empty() || url.path() == "/") || url.fragment().is_some() {
            return Err(format!(
                "{key}: expected no path or fragment, got `{}`",
                redact_url(raw)
            ));
        }
        for (name, value) in url.query_pairs() {
            match (name.as_ref(), value.as_ref()) {
                ("tls", "none") if security == SmtpSecurity::StartTls => {
                    // `smtp:` is not a special scheme: its host stays a string here.
                    let loopback = host == "localhost"
                        || host
                            .trim_start_matches('[')
                            .trim_end_matches(']')
                            .parse::<std::net::IpAddr>()
                            .is_ok_and(|ip| ip.is_loopback());
                    if !loopback {
                        return Err(format!(
                            "{key}: `tls=none` (no encryption) is allowed only for a loopback host, not `{host}`"
                        ));
                    }
                    security = SmtpSecurity::None;
                }
                ("tls", "none") => {
                    return Err(format!("{key}: `tls=none` contradicts `smtps://`"))
                }
                (name, _) => {
                    return Err(format!(
                        "{key}: unknown parameter `{name}` (only `tls=none`, for loopback development servers)"
                    ))
                }
            }
        }
        let port = url.port().unwrap_or(match security {
            SmtpSecurity::Implicit => 465,
            _ => 587,
        });
        let decode = |s: &str| {
            percent_decode(s).ok_or_else(|| {
                format!("{key}: user or password is not valid percent-encoded UTF-8")
            })
        };
        let in_url = if url.username().is_empty() {
            if url.password().is_some() {
                return Err(format!("{key}: a password without a user name"));
            }
            None
        } else {
            Some((
                decode(url.username())?,
                decode(url.password().unwrap_or(""))?,
            ))
        };
        let in_keys = match (&self.smtp_user, &self.smtp_password) {
            (None, None) => None,
            (Some(u), Some(p)) if !u.is_empty() => Some((u.clone(), p.clone())),
            _ => return Err("keys `mail.smtp_user` and `mail.smtp_password`: set both (user not empty) or neither".into()),
        };
        let credentials = match (in_url, in_keys) {
            (Some(_), Some(_)) => {
                return Err(format!("{key}: credentials are in the URL and in `mail.smtp_user`/`mail.smtp_password`; set them in one place"))
            }
            (a, b) => a.or(b),
        };
        if credentials.is_some() && security == SmtpSecurity::None {
            return Err(format!(
                "{key}: credentials would be sent without TLS (`tls=none`)"
            ));
        }
        let ca_file = self
            .smtp_ca_file
            .clone()
            .filter(|p| !p.as_os_str().is_empty());
        if ca_file.is_some() && security == SmtpSecurity::None {
            return Err(format!(
                "key `mail.smtp_ca_file`: there is no certificate to check with `tls=none` in {key}"
            ));
        }
        Ok(Some(SmtpSettings {
            host,
            port,
            security,
            credentials,
            ca_file,
        }))
    }
}

/// `%XX` decoding of a URL's user or password.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// PEM certificate chain; with `key`, Pforte serves HTTPS through rustls.
    pub cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeysConfig {
    /// Key-encryption key for signing keys at rest: 32 bytes, base64 (standard or URL-safe).
    pub encryption_key: Option<String>,
    /// File holding the key-encryption key (same format). Used when `encryption_key` is unset.
    pub encryption_key_file: Option<PathBuf>,
    /// Rotate the signing keys automatically when the current one is older than this.
    #[serde(deserialize_with = "de::u64")]
    pub rotate_after_secs: u64,
    /// How often an instance reloads the key ring from the database (keys rotated by another
    /// instance or by `pforte keys rotate` are picked up within this time).
    #[serde(deserialize_with = "de::u64")]
    pub reload_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokensConfig {
    #[serde(deserialize_with = "de::u64")]
    pub access_token_ttl: u64,
    #[serde(deserialize_with = "de::u64")]
    pub id_token_ttl: u64,
    #[serde(deserialize_with = "de::u64")]
    pub refresh_token_ttl: u64,
    /// The longest a grant's refresh tokens work, counted from the login (rotation does not
    /// extend it); then the client must send the citizen through a login again.
    #[serde(deserialize_with = "de::u64")]
    pub refresh_absolute_ttl: u64,
    #[serde(deserialize_with = "de::u64")]
    pub code_ttl: u64,
    /// JWS algorithm for JWT access tokens (RFC 9068): `ES256` (default, fast), `RS256` or `EdDSA`.
    pub access_token_alg: String,
    /// The subject type of new clients that do not name one: `public` (default) or `pairwise`
    /// (OIDC Core §8; `client add --subject-type`).
    pub default_subject_type: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    /// Single sign-on session lifetime without activity.
    #[serde(deserialize_with = "de::u64")]
    pub idle_secs: u64,
    /// Cookie name of the single sign-on session.
    pub cookie_name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoginConfig {
    /// Password hashes computed at once (argon2id is memory-hard: 19 MiB each). Default: cores.
    #[serde(deserialize_with = "de::u32")]
    pub max_concurrent_hashes: u32,
    /// Password hashes allowed to wait for a slot before new logins are answered "busy".
    #[serde(deserialize_with = "de::u32")]
    pub max_queued_hashes: u32,
    /// Minimum password length at registration.
    #[serde(deserialize_with = "de::u32")]
    pub min_password_length: u32,
    /// How long a password reset link stays valid.
    #[serde(deserialize_with = "de::u64")]
    pub password_reset_ttl_secs: u64,
    /// How long the confirmation link of an e-mail change stays valid.
    #[serde(deserialize_with = "de::u64")]
    pub email_change_ttl_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            issuer: "http://127.0.0.1:8080".into(),
            listen: "127.0.0.1:8080".into(),
            database: DatabaseConfig::default(),
            mail: MailConfig::default(),
            tls: TlsConfig::default(),
            keys: KeysConfig::default(),
            tokens: TokensConfig::default(),
            session: SessionConfig::default(),
            login: LoginConfig::default(),
            site: SiteConfig::default(),
            metrics: MetricsConfig::default(),
            trusted_proxies: Vec::new(),
            logging: LoggingConfig::default(),
            limits: LimitsConfig::default(),
            shutdown: ShutdownConfig::default(),
            admin: AdminConfig::default(),
            upstream: UpstreamConfig::default(),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: "sqlite://data/pforte.db".into(),
            max_connections: 16,
        }
    }
}

impl Default for KeysConfig {
    fn default() -> Self {
        KeysConfig {
            encryption_key: None,
            encryption_key_file: None,
            rotate_after_secs: 30 * 24 * 3600,
            reload_secs: 30,
        }
    }
}

impl Default for TokensConfig {
    fn default() -> Self {
        TokensConfig {
            access_token_ttl: 600,
            id_token_ttl: 3600,
            refresh_token_ttl: 30 * 24 * 3600,
            refresh_absolute_ttl: 90 * 24 * 3600,
            code_ttl: 60,
            access_token_alg: "ES256".into(),
            default_subject_type: "public".into(),
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            idle_secs: 8 * 3600,
            cookie_name: "pforte_session".into(),
        }
    }
}

impl Default for LoginConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(2);
        LoginConfig {
            max_concurrent_hashes: cores,
            max_queued_hashes: 256,
            min_password_length: 12,
            password_reset_ttl_secs: 3600,
            email_change_ttl_secs: 24 * 3600,
        }
    }
}

/// Short environment names from the contract, mapped to their `section.key`.
const SHORT_FORMS: &[(&str, &str)] = &[
    ("PFORTE_ISSUER", "issuer"),
    ("PFORTE_LISTEN", "listen"),
    ("PFORTE_DATABASE_URL", "database.url"),
    ("PFORTE_MAIL_OUTBOX", "mail.outbox"),
    ("PFORTE_SMTP_URL", "mail.smtp_url"),
    ("PFORTE_TRUSTED_PROXIES", "trusted_proxies"),
];
const SECTIONS: &[&str] = &[
    "database", "mail", "tls", "keys", "tokens", "session", "login", "site", "metrics", "logging",
    "limits", "shutdown", "admin", "upstream",
];

impl Config {
    /// Loads the file (if any), overlays the environment and validates the result.
    pub fn load(file: Option<&std::path::Path>) -> Result<Config, ConfigError> {
        Self::load_from(file, std::env::vars())
    }

    /// [`Config::load`] with an explicit environment (for tests).
    pub fn load_from(
        file: Option<&std::path::Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let origin = file
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "defaults".into());
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: origin.clone(),
                    source,
                })?;
                text.parse::<toml::Table>()
                    .map_err(|e| ConfigError::Invalid {
                        origin: origin.clone(),
                        message: e.to_string(),
                    })?
            }
            None => toml::Table::new(),
        };
        let mut from_env = Vec::new();
        for (name, value) in env {
            let Some(path) = env_key(&name) else { continue };
            set_path(&mut table, &path, toml::Value::String(value));
            from_env.push(format!("{name} ({path})"));
        }
        let origin = if from_env.is_empty() {
            origin
        } else {
            format!("{origin} + environment {}", from_env.join(", "))
        };
        let config: Config =
            Config::deserialize(toml::Value::Table(table)).map_err(|e| ConfigError::Invalid {
                origin: origin.clone(),
                message: e.to_string(),
            })?;
        config
            .validate()
            .map_err(|message| ConfigError::Invalid { origin, message })?;
        Ok(config)
    }

    /// Semantic checks beyond types.
    fn validate(&self) -> Result<(), String> {
        if !(60..=86_400).contains(&self.admin.max_age_secs) {
            return Err(format!(
                "admin.max_age_secs: expected 60 to 86400 seconds, got {}",
                self.admin.max_age_secs
            ));
        }
        let issuer = self.issuer_url()?;
        self.listen_addr()?;
        if !(self.database.url.starts_with("sqlite:")
            || self.database.url.starts_with("postgres:")
            || self.database.url.starts_with("postgresql:"))
        {
            return Err(format!(
                "key `database.url`: expected `sqlite://PATH` or `postgres://…`, got `{}`",
                redact_url(&self.database.url)
            ));
        }
        if self.tls.cert.is_some() != self.tls.key.is_some() {
            return Err("keys `tls.cert` and `tls.key`: set both or neither".into());
        }
        if !matches!(
            self.tokens.access_token_alg.as_str(),
            "ES256" | "RS256" | "EdDSA"
        ) {
            return Err(format!(
                "key `tokens.access_token_alg`: expected ES256, RS256 or EdDSA, got `{}`",
                self.tokens.access_token_alg
            ));
        }
        if crate::store::types::SubjectType::parse(&self.tokens.default_subject_type).is_none() {
            return Err(format!(
                "key `tokens.default_subject_type`: expected public or pairwise, got `{}`",
                self.tokens.default_subject_type
            ));
        }
        for (key, v) in [
            ("tokens.access_token_ttl", self.tokens.access_token_ttl),
            ("tokens.id_token_ttl", self.tokens.id_token_ttl),
            ("tokens.refresh_token_ttl", self.tokens.refresh_token_ttl),
            (
                "tokens.refresh_absolute_ttl",
                self.tokens.refresh_absolute_ttl,
            ),
            ("tokens.code_ttl", self.tokens.code_ttl),
            ("session.idle_secs", self.session.idle_secs),
            ("keys.reload_secs", self.keys.reload_secs),
        ] {
            if v == 0 {
                return Err(format!(
                    "key `{key}`: expected a positive number of seconds, got 0"
                ));
            }
        }
        if self.tokens.code_ttl > 600 {
            // RFC 6749 §4.1.2: "A maximum authorization code lifetime of 10 minutes is RECOMMENDED."
            return Err("key `tokens.code_ttl`: at most 600 seconds (RFC 6749 §4.1.2)".into());
        }
        for (key, v) in [
            ("site.imprint_url", &self.site.imprint_url),
            ("site.privacy_url", &self.site.privacy_url),
            ("site.accessibility_url", &self.site.accessibility_url),
            (
                "site.accessibility_enforcement_url",
                &self.site.accessibility_enforcement_url,
            ),
        ] {
            if let Some(u) = v {
                if !Url::parse(u).is_ok_and(|u| u.scheme() == "https" || u.scheme() == "http") {
                    return Err(format!("key `{key}`: expected an http(s) URL, got `{u}`"));
                }
            }
        }
        if let Some(c) = &self.site.accessibility_contact {
            let url_ok = Url::parse(c).is_ok_and(|u| u.scheme() == "https" || u.scheme() == "http");
            if !url_ok && crate::accounts::normalise_email(c).is_err() {
                return Err(format!(
                    "key `site.accessibility_contact`: expected an e-mail address or an http(s) URL, got `{c}`"
                ));
            }
        }
        if self.login.max_concurrent_hashes == 0 {
            return Err("key `login.max_concurrent_hashes`: expected at least 1".into());
        }
        for (key, v) in [
            (
                "limits.protocol_concurrency",
                self.limits.protocol_concurrency,
            ),
            ("limits.pages_concurrency", self.limits.pages_concurrency),
            ("limits.admin_concurrency", self.limits.admin_concurrency),
        ] {
            if v == 0 {
                return Err(format!("key `{key}`: expected at least 1"));
            }
        }
        if self.database.max_connections == 0 {
            return Err("key `database.max_connections`: expected at least 1".into());
        }
        if self.session.cookie_name.is_empty()
            || !self
                .session
                .cookie_name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err("key `session.cookie_name`: expected letters, digits, `_` or `-`".into());
        }
        if let Some(t) = &self.metrics.bearer_token {
            if t.len() < 32 || !t.bytes().all(|b| b.is_ascii_graphic()) {
                return Err("key `metrics.bearer_token`: expected at least 32 visible ASCII characters without spaces, e.g. from `openssl rand -hex 32`".into());
            }
        }
        self.mail.smtp()?;
        for (key, v) in [
            ("mail.smtp_timeout_secs", self.mail.smtp_timeout_secs),
            ("mail.retry_base_secs", self.mail.retry_base_secs),
            ("mail.retry_max_secs", self.mail.retry_max_secs),
            ("mail.poll_secs", self.mail.poll_secs),
            (
                "login.password_reset_ttl_secs",
                self.login.password_reset_ttl_secs,
            ),
            (
                "login.email_change_ttl_secs",
                self.login.email_change_ttl_secs,
            ),
        ] {
            if v == 0 {
                return Err(format!(
                    "key `{key}`: expected a positive number of seconds, got 0"
                ));
            }
        }
        if self.mail.retry_max_secs < self.mail.retry_base_secs {
            return Err(
                "key `mail.retry_max_secs`: must be at least `mail.retry_base_secs`".into(),
            );
        }
        if self.mail.max_attempts == 0 {
            return Err("key `mail.max_attempts`: expected at least 1".into());
        }
        if self.login.password_reset_ttl_secs > 24 * 3600 {
            return Err("key `login.password_reset_ttl_secs`: at most 86400 seconds (a reset link is a credential)".into());
        }
        let _ = issuer;
        Ok(())
    }

    /// The issuer as a URL. Plain `http://` is allowed only for loopback hosts.
    pub fn issuer_url(&self) -> Result<Url, String> {
        let url = Url::parse(&self.issuer).map_err(|e| {
            format!(
                "key `issuer`: expected an absolute URL, got `{}` ({e})",
                self.issuer
            )
        })?;
        if url.query().is_some() || url.fragment().is_some() {
            // OIDC Discovery §3: the issuer has no query or fragment components.
            return Err("key `issuer`: must not contain a query or fragment".into());
        }
        if url.path() != "/" && !url.path().is_empty() {
            // Pforte serves its endpoints at the root of its origin.
            return Err(format!("key `issuer`: must not contain a path (got `{}`); serve Pforte at the root of its own host name", url.path()));
        }
        if self.issuer.ends_with('/') {
            return Err("key `issuer`: must not end with `/` (tokens carry it verbatim)".into());
        }
        match url.scheme() {
            "https" => Ok(url),
            "http" if is_loopback(&url) => Ok(url),
            "http" => Err(format!(
                "key `issuer`: plain http is allowed only for loopback addresses; use https for `{}`",
                self.issuer
            )),
            other => Err(format!("key `issuer`: expected an https URL, got scheme `{other}`")),
        }
    }

    pub fn listen_addr(&self) -> Result<SocketAddr, String> {
        self.listen.parse().map_err(|_| {
            format!(
                "key `listen`: expected ADDRESS:PORT like 127.0.0.1:8080, got `{}`",
                self.listen
            )
        })
    }

    /// Whether cookies must carry `Secure` (the issuer is https).
    pub fn secure_cookies(&self) -> bool {
        self.issuer.starts_with("https://")
    }

    /// True for a loopback development issuer (`http://127.0.0.1…`, `http://localhost…`).
    pub fn is_development(&self) -> bool {
        self.issuer_url().map(|u| is_loopback(&u)).unwrap_or(false)
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Hides a password in a database URL for error messages and logs.
pub fn redact_url(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => raw.to_string(),
    }
}

/// Maps an environment variable to a config path (`section.key`), or `None` if it is not ours.
fn env_key(name: &str) -> Option<String> {
    if let Some((_, path)) = SHORT_FORMS.iter().find(|(n, _)| *n == name) {
        return Some(path.to_string());
    }
    let rest = name.strip_prefix("PFORTE_")?.to_ascii_lowercase();
    let (section, key) = rest.split_once('_')?;
    SECTIONS
        .contains(&section)
        .then(|| format!("{section}.{key}"))
}

fn set_path(table: &mut toml::Table, path: &str, value: toml::Value) {
    match path.split_once('.') {
        None => {
            table.insert(path.to_string(), value);
        }
        Some((section, key)) => {
            let entry = table
                .entry(section.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let toml::Value::Table(t) = entry {
                t.insert(key.to_string(), value);
            } else {
                *entry = toml::Value::Table(toml::Table::from_iter([(key.to_string(), value)]));
            }
        }
    }
}

/// Deserializers that accept a number from TOML or a string from the environment.
mod de {
    use serde::{de::Error, Deserialize, Deserializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumOrStr {
        Num(i64),
        Str(String),
    }

    pub fn u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        match NumOrStr::deserialize(d)? {
            NumOrStr::Num(n) => u64::try_from(n)
                .map_err(|_| D::Error::custom(format!("expected a non-negative number, got {n}"))),
            NumOrStr::Str(s) => s.trim().parse().map_err(|_| {
                D::Error::custom(format!("expected a non-negative number, got `{s}`"))
            }),
        }
    }

    /// CIDR ranges or single addresses, as a TOML list or one comma-separated string.
    pub fn cidrs<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ipnet::IpNet>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum ListOrStr {
            List(Vec<String>),
            Str(String),
        }
        let items = match ListOrStr::deserialize(d)? {
            ListOrStr::List(l) => l,
            ListOrStr::Str(s) => s.split(',').map(str::to_string).collect(),
        };
        items
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<ipnet::IpNet>()
                    .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map(|n| n.trunc())
                    .map_err(|_| {
                        D::Error::custom(format!(
                            "expected CIDR ranges like 10.0.0.0/8 or addresses, got `{s}`"
                        ))
                    })
            })
            .collect()
    }

    pub fn u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        let n = u64(d)?;
        u32::try_from(n).map_err(|_| D::Error::custom(format!("number too large: {n}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn defaults_are_valid() {
        let c = Config::load_from(None, env(&[])).unwrap();
        assert_eq!(c.issuer, "http://127.0.0.1:8080");
        assert!(c.is_development());
    }

    #[test]
    fn trusted_proxies_from_the_environment() {
        let c = Config::load_from(
            None,
            env(&[(
                "PFORTE_TRUSTED_PROXIES",
                " 10.0.0.0/8, 192.0.2.7 ,fd00::/8,",
            )]),
        )
        .unwrap();
        let want: Vec<ipnet::IpNet> = ["10.0.0.0/8", "192.0.2.7/32", "fd00::/8"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(c.trusted_proxies, want);
        assert!(Config::load_from(None, env(&[]))
            .unwrap()
            .trusted_proxies
            .is_empty());
        let e = Config::load_from(None, env(&[("PFORTE_TRUSTED_PROXIES", "10.0.0.0/33")]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("PFORTE_TRUSTED_PROXIES") && e.contains("10.0.0.0/33"),
            "{e}"
        );
    }

    #[test]
    fn short_and_long_env_forms() {
        let c = Config::load_from(
            None,
            env(&[
                ("PFORTE_ISSUER", "https://login.example.de"),
                ("PFORTE_DATABASE_URL", "postgres://p@127.0.0.1/test"),
                ("PFORTE_TOKENS_ACCESS_TOKEN_TTL", "120"),
                ("PFORTE_MAIL_OUTBOX", "/tmp/out"),
                ("PFORTE_UNRELATED", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(c.issuer, "https://login.example.de");
        assert_eq!(c.database.url, "postgres://p@127.0.0.1/test");
        assert_eq!(c.tokens.access_token_ttl, 120);
        assert_eq!(
            c.mail.outbox.as_deref(),
            Some(std::path::Path::new("/tmp/out"))
        );
    }

    #[test]
    fn plain_http_only_on_loopback() {
        let err = Config::load_from(None, env(&[("PFORTE_ISSUER", "http://login.example.de")]))
            .unwrap_err();
        assert!(err.to_string().contains("issuer"), "{err}");
        assert!(err.to_string().contains("PFORTE_ISSUER"), "{err}");
        Config::load_from(None, env(&[("PFORTE_ISSUER", "http://localhost:9000")])).unwrap();
        Config::load_from(None, env(&[("PFORTE_ISSUER", "http://[::1]:9000")])).unwrap();
    }

    #[test]
    fn bad_values_name_the_key() {
        let err = Config::load_from(None, env(&[("PFORTE_TOKENS_CODE_TTL", "soon")])).unwrap_err();
        assert!(
            err.to_string().contains("code_ttl") || err.to_string().contains("soon"),
            "{err}"
        );
        let err = Config::load_from(None, env(&[("PFORTE_LISTEN", "everywhere")])).unwrap_err();
        assert!(err.to_string().contains("listen"), "{err}");
        let err =
            Config::load_from(None, env(&[("PFORTE_DATABASE_URL", "mysql://x")])).unwrap_err();
        assert!(err.to_string().contains("database.url"), "{err}");
    }

    #[test]
    fn metrics_token_is_long_and_header_safe() {
        let err =
            Config::load_from(None, env(&[("PFORTE_METRICS_BEARER_TOKEN", "short")])).unwrap_err();
        assert!(err.to_string().contains("metrics.bearer_token"), "{err}");
        let spaced = "a".repeat(20) + " " + &"b".repeat(20);
        assert!(Config::load_from(None, env(&[("PFORTE_METRICS_BEARER_TOKEN", &spaced)])).is_err());
        let token = "0123456789abcdef".repeat(4);
        let c = Config::load_from(None, env(&[("PFORTE_METRICS_BEARER_TOKEN", &token)])).unwrap();
        assert_eq!(c.metrics.bearer_token.as_deref(), Some(token.as_str()));
    }

    #[test]
    fn logging_limits_and_shutdown_from_the_environment() {
        let c = Config::load_from(
            None,
            env(&[
                ("PFORTE_LOGGING_FORMAT", "json"),
                ("PFORTE_LIMITS_PROTOCOL_CONCURRENCY", "7"),
                ("PFORTE_SHUTDOWN_DRAIN_SECS", "0"),
            ]),
        )
        .unwrap();
        assert_eq!(c.logging.format, crate::logging::LogFormat::Json);
        assert_eq!(c.limits.protocol_concurrency, 7);
        assert_eq!(c.shutdown.drain_secs, 0);
        let err = Config::load_from(None, env(&[("PFORTE_LOGGING_FORMAT", "xml")])).unwrap_err();
        assert!(err.to_string().contains("PFORTE_LOGGING_FORMAT"), "{err}");
        let err =
            Config::load_from(None, env(&[("PFORTE_LIMITS_PAGES_CONCURRENCY", "0")])).unwrap_err();
        assert!(
            err.to_string().contains("limits.pages_concurrency"),
            "{err}"
        );
    }

    #[test]
    fn site_links_must_be_urls() {
        let c = Config::load_from(
            None,
            env(&[("PFORTE_SITE_IMPRINT_URL", "https://www.werne.de/impressum")]),
        )
        .unwrap();
        assert_eq!(
            c.site.imprint_url.as_deref(),
            Some("https://www.werne.de/impressum")
        );
        let err = Config::load_from(
            None,
            env(&[("PFORTE_SITE_PRIVACY_URL", "javascript:alert(1)")]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("site.privacy_url"), "{err}");
    }

    #[test]
    fn file_errors_name_the_file_and_unknown_keys() {
        let dir = std::env::temp_dir().join(format!("pforte-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("bad.toml");
        std::fs::write(
            &f,
            "issuer = \"https://a.example\"\n[tokens]\nacess_token_ttl = 5\n",
        )
        .unwrap();
        let err = Config::load_from(Some(&f), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("bad.toml") && err.contains("acess_token_ttl"),
            "{err}"
        );
        let missing = Config::load_from(Some(&dir.join("nope.toml")), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("nope.toml"), "{missing}");
    }
}
