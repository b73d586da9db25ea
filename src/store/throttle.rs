//! The `throttles` table: attempt counters shared by every instance (see `crate::throttle`
//! for what they mean). Changes are compare-and-set, so concurrent attempts on several
//! instances each take their own count.

use super::{Db, Result};

/// One key's stored counter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ThrottleRow {
    pub attempts: i64,
    pub last_at: i64,
    pub locked_until: i64,
}

impl Db {
    pub async fn throttle_get(&self, key: &str) -> Result<Option<ThrottleRow>> {
        let row: Option<(i64, i64, i64)> =
            sqlx::query_as("SELECT attempts, last_at, locked_until FROM throttles WHERE key = $1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(attempts, last_at, locked_until)| ThrottleRow {
            attempts,
            last_at,
            locked_until,
        }))
    }

    /// Replaces `old` (the row as read; `None`: no row) with `new`, only if the row is still
    /// `old`. `false`: someone else changed it first (read again and retry).
    pub async fn throttle_swap(
        &self,
        key: &str,
        old: Option<ThrottleRow>,
        new: ThrottleRow,
    ) -> Result<bool> {
        let n = match old {
            None => sqlx::query(
                "INSERT INTO throttles (key, attempts, last_at, locked_until) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING",
            )
            .bind(key)
            .bind(new.attempts)
            .bind(new.last_at)
            .bind(new.locked_until)
            .execute(&self.pool)
            .await?
            .rows_affected(),
            Some(old) => sqlx::query(
                "UPDATE throttles SET attempts = $1, last_at = $2, locked_until = $3 \
                 WHERE key = $4 AND attempts = $5 AND last_at = $6 AND locked_until = $7",
            )
            .bind(new.attempts)
            .bind(new.last_at)
            .bind(new.locked_until)
            .bind(key)
            .bind(old.attempts)
            .bind(old.last_at)
            .bind(old.locked_until)
            .execute(&self.pool)
            .await?
            .rows_affected(),
        };
        Ok(n == 1)
    }

    /// Forgets a key (a successful login resets its account's counter).
    pub async fn throttle_reset(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM throttles WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Gives one attempt back (it succeeded), without touching a lock already set.
    pub async fn throttle_refund(&self, key: &str) -> Result<()> {
        sqlx::query("UPDATE throttles SET attempts = attempts - 1 WHERE key = $1 AND attempts > 0")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
