//! The single sign-on session store: tower-sessions' sqlx stores for SQLite and PostgreSQL
//! behind one type, so the web layer does not care which database runs.

use async_trait::async_trait;
use tower_sessions::{
    session::{Id, Record},
    session_store::{self, ExpiredDeletion},
    SessionStore,
};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use super::{Backend, Db, Result};

#[derive(Clone, Debug)]
pub enum SsoStore {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl SsoStore {
    /// Opens the store on its own pool to the same database and creates its table.
    pub async fn open(db: &Db) -> Result<SsoStore> {
        let store = match db.backend {
            Backend::Sqlite => {
                let opts: sqlx::sqlite::SqliteConnectOptions = db.url().parse()?;
                let opts = opts
                    .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                    .busy_timeout(std::time::Duration::from_secs(10));
                let pool = sqlx::sqlite::SqlitePoolOptions::new()
                    .max_connections(4)
                    .acquire_timeout(super::ACQUIRE_TIMEOUT)
                    .connect_with(opts)
                    .await?;
                let s = SqliteStore::new(pool);
                s.migrate().await?;
                SsoStore::Sqlite(s)
            }
            Backend::Postgres => {
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(super::ACQUIRE_TIMEOUT)
                    .connect(db.url())
                    .await?;
                let s = PostgresStore::new(pool);
                s.migrate().await?;
                SsoStore::Postgres(s)
            }
        };
        Ok(store)
    }

    pub async fn delete_expired(&self) -> session_store::Result<()> {
        match self {
            SsoStore::Sqlite(s) => s.delete_expired().await,
            SsoStore::Postgres(s) => s.delete_expired().await,
        }
    }
}

#[async_trait]
impl SessionStore for SsoStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            SsoStore::Sqlite(s) => s.create(record).await,
            SsoStore::Postgres(s) => s.create(record).await,
        }
    }
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            SsoStore::Sqlite(s) => s.save(record).await,
            SsoStore::Postgres(s) => s.save(record).await,
        }
    }
    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            SsoStore::Sqlite(s) => s.load(id).await,
            SsoStore::Postgres(s) => s.load(id).await,
        }
    }
    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            SsoStore::Sqlite(s) => s.delete(id).await,
            SsoStore::Postgres(s) => s.delete(id).await,
        }
    }
}
