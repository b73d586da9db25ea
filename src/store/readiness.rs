//! The database facts behind `/readyz`: does the database answer, and which migrations has it
//! applied compared with the ones compiled into this binary.

use sqlx::Row;

use super::{Db, Result, StoreError, MIGRATOR};

impl Db {
    /// One round trip (`SELECT 1`) through the main pool.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Versions recorded as successfully applied in sqlx's `_sqlx_migrations`, ascending.
    pub async fn applied_migrations(&self) -> Result<Vec<i64>> {
        let rows =
            sqlx::query("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| r.try_get::<i64, _>(0).map_err(StoreError::from))
            .collect()
    }
}

/// Versions of the migrations compiled into this binary (`migrations/`), ascending.
pub fn embedded_migrations() -> Vec<i64> {
    let mut v: Vec<i64> = MIGRATOR
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|m| m.version)
        .collect();
    v.sort_unstable();
    v
}
