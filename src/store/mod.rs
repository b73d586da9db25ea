//! Storage: the only module that speaks SQL.
//!
//! Owns: the connection pool (SQLite by default, PostgreSQL to scale out), migrations, and one
//! file per aggregate with its queries. It knows nothing of HTTP or OAuth: it stores and loads
//! plain records. Both databases run the same SQL through sqlx's `Any` driver; the schema in
//! `migrations/` uses the subset the two share (TEXT ids, BIGINT Unix seconds, JSON as TEXT).

pub mod account_data;
pub mod accounts;
pub mod attributes;
pub mod audit;
pub mod backchannel;
pub mod checkpoint;
pub mod clients;
pub mod consents;
pub mod credentials;
pub mod grants;
pub mod identities;
pub mod keys;
pub mod ledger;
pub mod outbox;
pub mod policy;
pub mod readiness;
pub mod recovery;
pub mod releases;
pub mod sessions;
pub mod sso_sessions;
pub mod staff;
pub mod throttle;
pub mod types;
pub mod upstreams;
pub mod verifications;

use std::{str::FromStr, time::Duration};

use crate::clock::Clock;

use sqlx::{any::AnyPoolOptions, AnyConnection, AnyPool};

/// What can go wrong in storage: the database itself, or a stored value that does not parse.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// A stored value is not one this version of Pforte writes (a hand-edited row, a broken
    /// migration). Never read as a default: a corrupt level must not become `low`.
    #[error("corrupt value in {table}.{column} (row {key}): `{value}`")]
    Corrupt {
        table: &'static str,
        column: &'static str,
        key: String,
        value: String,
    },
}

impl StoreError {
    /// A stored value that does not parse; logged here so every occurrence leaves a trace
    /// with its row, whatever the caller then shows.
    pub fn corrupt(
        table: &'static str,
        column: &'static str,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> StoreError {
        let (key, value) = (key.into(), value.into());
        tracing::error!(table, column, key, value, "corrupt stored value");
        StoreError::Corrupt {
            table,
            column,
            key,
            value,
        }
    }
}

impl StoreError {
    /// Whether the database could not be reached or is refusing work for now (connection
    /// refused or lost, pool exhausted, server shutting down or starting, too many
    /// connections): the request may succeed when retried, so callers answer 503 with
    /// `Retry-After` instead of 500.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Db(e) => db_unavailable(e),
            StoreError::Corrupt { .. } => false,
        }
    }
}

/// [`StoreError::is_unavailable`] for a bare sqlx error.
pub fn db_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // SQLSTATE class 08 (connection exception), 57P01..57P03 (admin/crash shutdown,
        // cannot connect now), 53300 (too many connections); SQLite: busy or locked.
        sqlx::Error::Database(d) => d.code().is_some_and(|c| {
            c.starts_with("08")
                || matches!(
                    c.as_ref(),
                    "57P01" | "57P02" | "57P03" | "53300" | "5" | "6"
                )
        }),
        _ => false,
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// How long a query waits for a connection (pool exhausted, or the database unreachable).
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The URL of an in-memory SQLite database (one per connection: unit tests use one).
const MEMORY: &str = "sqlite::memory:";

/// How long a pooled connection may have been idle and still be handed out unpinged.
const ALIVE_BYPASS: Duration = Duration::from_secs(1);

/// Sets up a fresh connection: for SQLite the journal, sync, busy-timeout, foreign-key and
/// checkpoint settings every connection (pooled or [`OwnConnection`]) must have.
async fn prepare(conn: &mut AnyConnection, backend: Backend) -> sqlx::Result<()> {
    if backend == Backend::Sqlite {
        for pragma in [
            "PRAGMA journal_mode = WAL",
            "PRAGMA synchronous = NORMAL",
            "PRAGMA busy_timeout = 10000",
            "PRAGMA foreign_keys = ON",
        ] {
            sqlx::Executor::execute(&mut *conn, pragma).await?;
        }
        // Checkpoints run in the background (`checkpoint`), not in commits.
        let net = format!(
            "PRAGMA wal_autocheckpoint = {}",
            checkpoint::SAFETY_NET_PAGES
        );
        sqlx::Executor::execute(&mut *conn, net.as_str()).await?;
    }
    Ok(())
}

/// A database connection of its own, outside the pool, for a task that queries all the time
/// (the access-token ledger's writer and reader, `ledger`): a pooled query costs a ping before
/// and after it (a round trip to the connection's thread each with SQLite, to the server with
/// PostgreSQL), a connection of one's own only the query. Connects on first use and again
/// after the database was unavailable, each attempt bounded by [`ACQUIRE_TIMEOUT`]; like the
/// pool, it pings a connection idle for [`ALIVE_BYPASS`] or longer before using it. An
/// in-memory database (unit tests) lives in its pool's one connection, so there each use
/// borrows that connection from the pool instead.
pub struct OwnConnection {
    url: String,
    backend: Backend,
    /// The pool to borrow from, for an in-memory database.
    shared: Option<AnyPool>,
    conn: Option<Held>,
    /// When the connection last answered.
    answered: std::time::Instant,
}

enum Held {
    Own(AnyConnection),
    Borrowed(sqlx::pool::PoolConnection<sqlx::Any>),
}

impl OwnConnection {
    /// The connection, connecting (or borrowing) first if there is none.
    pub(crate) async fn get(&mut self) -> Result<&mut AnyConnection> {
        if let Some(Held::Own(c)) = &mut self.conn {
            if self.answered.elapsed() >= ALIVE_BYPASS && sqlx::Connection::ping(c).await.is_err() {
                self.conn = None;
            }
        }
        if self.conn.is_none() {
            let held = match &self.shared {
                Some(pool) => Held::Borrowed(pool.acquire().await?),
                None => {
                    let connect = async {
                        let mut conn =
                            <AnyConnection as sqlx::Connection>::connect(&self.url).await?;
                        prepare(&mut conn, self.backend).await?;
                        Ok::<_, sqlx::Error>(conn)
                    };
                    let conn = tokio::time::timeout(ACQUIRE_TIMEOUT, connect)
                        .await
                        .map_err(|_| sqlx::Error::PoolTimedOut)??;
                    Held::Own(conn)
                }
            };
            self.conn = Some(held);
        }
        Ok(match self.conn.as_mut().expect("connected above") {
            Held::Own(c) => c,
            Held::Borrowed(c) => c,
        })
    }

    /// Whether a connection is held (a failure on it may just mean it died with a database
    /// restart, so a read can be tried again on a fresh one).
    pub(crate) fn is_connected(&self) -> bool {
        self.conn.is_some()
    }

    /// Passes `r` on; after an error that says the database was unavailable the connection is
    /// dropped, so the next use connects afresh. A borrowed connection goes back after each use.
    pub(crate) fn check<T>(&mut self, r: Result<T>) -> Result<T> {
        if self.shared.is_some() || r.as_ref().is_err_and(StoreError::is_unavailable) {
            self.conn = None;
        } else {
            self.answered = std::time::Instant::now();
        }
        r
    }
}

/// Which database is behind the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The database: a pool plus which backend it is.
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    url: String,
    /// The time source for expiry checks and timestamps written here.
    clock: Clock,
}

impl Db {
    /// Connects to `url` (`sqlite://PATH` or `postgres://…`). For SQLite the file and its
    /// folder are created when missing; WAL mode and a busy timeout let several connections
    /// (and several processes, such as the CLI next to `serve`) share it.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Db> {
        sqlx::any::install_default_drivers();
        let (url, backend) = normalise_url(url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            // Short: while the database is unreachable a request waits at most this long
            // before it is answered 503 (web::resilience), instead of piling up.
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // sqlx pings every connection before handing it out; a connection used within the
            // last second is known to work, so only an idle one is pinged (HikariCP's
            // "alive bypass window"): one database round trip fewer per query under load. A
            // broken connection is still found by the ping after each release.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= ALIVE_BYPASS {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .after_connect(move |conn, _meta| Box::pin(prepare(conn, backend)))
            .connect(&url)
            .await?;
        Ok(Db {
            pool,
            backend,
            url,
            clock: Clock::system(),
        })
    }

    /// The same database, reading time from `clock` (a manual clock in tests).
    pub fn with_clock(mut self, clock: Clock) -> Db {
        self.clock = clock;
        self
    }

    /// Now, in Unix seconds, from this database's clock.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Applies pending migrations (idempotent; safe when several instances start together on
    /// PostgreSQL because sqlx takes an advisory lock).
    pub async fn migrate(&self) -> std::result::Result<(), sqlx::migrate::MigrateError> {
        MIGRATOR.run(&self.pool).await
    }

    /// A connection of its own to this database, outside the pool (see [`OwnConnection`]).
    pub fn own_connection(&self) -> OwnConnection {
        OwnConnection {
            url: self.url.clone(),
            backend: self.backend,
            shared: (self.url == MEMORY).then(|| self.pool.clone()),
            conn: None,
            answered: std::time::Instant::now(),
        }
    }

    /// The normalised connection URL (for the session store's own pool).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Deletes expired codes, tokens, assertion ids and e-mail verification links (used or
    /// not), and registration mail throttle entries whose window has passed (they no longer
    /// throttle anything). Run periodically.
    pub async fn purge_expired(&self, now: i64) -> Result<u64> {
        let mail_window_start = now - verifications::MAIL_WINDOW;
        let mut n = 0;
        for (sql, before) in [
            (
                "DELETE FROM authorization_codes WHERE expires_at < $1",
                now - 60,
            ),
            ("DELETE FROM refresh_tokens WHERE expires_at < $1", now - 60),
            ("DELETE FROM access_tokens WHERE expires_at < $1", now - 60),
            (
                "DELETE FROM client_assertion_jtis WHERE expires_at < $1",
                now - 60,
            ),
            ("DELETE FROM email_verifications WHERE expires_at < $1", now),
            (
                "DELETE FROM registration_notices WHERE sent_at < $1",
                mail_window_start,
            ),
            (
                "DELETE FROM verification_resends WHERE sent_at < $1",
                mail_window_start,
            ),
            // Throttle counters forget within a day and lock for at most a day.
            (
                "DELETE FROM throttles WHERE last_at < $1",
                now - crate::throttle::MAX_MEMORY,
            ),
        ] {
            n += sqlx::query(sql)
                .bind(before)
                .execute(&self.pool)
                .await?
                .rows_affected();
        }
        Ok(n)
    }
}

/// Adds `mode=rwc` to SQLite URLs and creates the database folder.
fn normalise_url(url: &str) -> Result<(String, Backend)> {
    if let Some(rest) = url.strip_prefix("sqlite:") {
        let path = rest.trim_start_matches("//");
        let file = path.split('?').next().unwrap_or_default();
        if file.is_empty() {
            return Err(sqlx::Error::Configuration(
                "database.url: sqlite URL without a path".into(),
            )
            .into());
        }
        if file == ":memory:" {
            // A database in memory (tests); each connection has its own, so open one.
            return Ok((MEMORY.into(), Backend::Sqlite));
        }
        {
            if let Some(dir) = std::path::Path::new(file).parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        sqlx::Error::Configuration(
                            format!("cannot create {}: {e}", dir.display()).into(),
                        )
                    })?;
                }
            }
        }
        let url = if path.contains("mode=") {
            format!("sqlite://{path}")
        } else if path.contains('?') {
            format!("sqlite://{path}&mode=rwc")
        } else {
            format!("sqlite://{path}?mode=rwc")
        };
        Ok((url, Backend::Sqlite))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        // Validate early so a typo names itself rather than failing at first query.
        sqlx::postgres::PgConnectOptions::from_str(url)?;
        Ok((url.to_string(), Backend::Postgres))
    } else {
        Err(sqlx::Error::Configuration(
            format!(
                "database.url: expected sqlite:// or postgres://, got `{}`",
                crate::config::redact_url(url)
            )
            .into(),
        )
        .into())
    }
}

/// Encodes a list as the JSON text stored in list columns.
pub fn json_list<T: serde::Serialize>(items: &[T]) -> String {
    serde_json::to_string(items).expect("a list of strings always serialises")
}

/// Where a stored value came from, for [`StoreError::Corrupt`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cell<'a> {
    pub table: &'static str,
    pub column: &'static str,
    pub key: &'a str,
}

impl Cell<'_> {
    /// The error for `value` found in this cell.
    pub fn corrupt(&self, value: &str) -> StoreError {
        StoreError::corrupt(self.table, self.column, self.key, value)
    }

    /// Parses `text` with `parse`; a value it refuses is [`StoreError::Corrupt`].
    pub fn parse<T>(&self, text: &str, parse: impl Fn(&str) -> Option<T>) -> Result<T> {
        parse(text).ok_or_else(|| self.corrupt(text))
    }

    /// Decodes the JSON text of this cell (lists, maps, audit details).
    pub fn json<T: serde::de::DeserializeOwned>(&self, text: &str) -> Result<T> {
        serde_json::from_str(text).map_err(|_| self.corrupt(text))
    }

    /// Decodes a JSON list of names, each parsed with `parse`.
    pub fn list<T>(&self, text: &str, parse: impl Fn(&str) -> Option<T>) -> Result<Vec<T>> {
        let names: Vec<String> = self.json(text)?;
        names
            .iter()
            .map(|n| parse(n).ok_or_else(|| self.corrupt(text)))
            .collect()
    }
}

/// Whether an error is a unique-constraint violation (a duplicate id).
pub fn is_unique_violation(err: &StoreError) -> bool {
    match err {
        StoreError::Db(e) => e
            .as_database_error()
            .is_some_and(|e| e.is_unique_violation()),
        StoreError::Corrupt { .. } => false,
    }
}

#[cfg(test)]
pub(crate) mod tests;
