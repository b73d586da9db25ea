//! Signing keys as stored: private parts encrypted (see `tokens::keys`), states next → current → retired.

use sqlx::{any::AnyRow, Row};

use super::{Db, Result};

#[derive(Clone, Debug)]
pub struct KeyRecord {
    pub kid: String,
    pub alg: String,
    /// `next` (published, not yet signing), `current` (signing), `retired` (published only).
    pub state: String,
    pub private_key: String,
    pub public_jwk: String,
    pub created_at: i64,
    pub activated_at: Option<i64>,
    pub retired_at: Option<i64>,
    pub remove_after: Option<i64>,
}

const COLUMNS: &str =
    "kid, alg, state, private_key, public_jwk, created_at, activated_at, retired_at, remove_after";

fn from_row(r: &AnyRow) -> Result<KeyRecord> {
    Ok(KeyRecord {
        kid: r.try_get("kid")?,
        alg: r.try_get("alg")?,
        state: r.try_get("state")?,
        private_key: r.try_get("private_key")?,
        public_jwk: r.try_get("public_jwk")?,
        created_at: r.try_get("created_at")?,
        activated_at: r.try_get("activated_at")?,
        retired_at: r.try_get("retired_at")?,
        remove_after: r.try_get("remove_after")?,
    })
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds the nine columns of a key record, in `COLUMNS` order, to `q`.
fn bind_record<'q>(q: AnyQuery<'q>, k: &'q KeyRecord) -> AnyQuery<'q> {
    q.bind(&k.kid)
        .bind(&k.alg)
        .bind(&k.state)
        .bind(&k.private_key)
        .bind(&k.public_jwk)
        .bind(k.created_at)
        .bind(k.activated_at)
        .bind(k.retired_at)
        .bind(k.remove_after)
}

/// Retires every key of `alg` in `state` (`current` or `next`), published until
/// `remove_after`.
async fn retire_all(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    alg: &str,
    state: &str,
    now: i64,
    remove_after: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE signing_keys SET state = 'retired', retired_at = $1, remove_after = $2 \
         WHERE alg = $3 AND state = $4",
    )
    .bind(now)
    .bind(remove_after)
    .bind(alg)
    .bind(state)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn insert_sql() -> String {
    format!("INSERT INTO signing_keys ({COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)")
}

impl Db {
    /// Keys still published (not past `remove_after`).
    pub async fn keys_published(&self, now: i64) -> Result<Vec<KeyRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM signing_keys WHERE remove_after IS NULL OR remove_after > $1 ORDER BY created_at, kid"
        ))
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    pub async fn key_insert(&self, k: &KeyRecord) -> Result<()> {
        bind_record(sqlx::query(&insert_sql()), k)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Inserts `k` unless a key of the same algorithm and state exists already, serialised
    /// against other instances doing the same (first start of several instances at once):
    /// without this each would add its own `current` and `next` key. Returns whether it inserted.
    pub async fn key_insert_if_missing(&self, k: &KeyRecord) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        if self.backend == super::Backend::Postgres {
            // Conflicts with itself and with the row locks of inserts and rotations, so the
            // check below sees every committed key. (SQLite: the single INSERT … SELECT below
            // runs under the database write lock, which serialises it already.)
            sqlx::query("LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await?;
        }
        let sql = format!(
            "INSERT INTO signing_keys ({COLUMNS}) SELECT $1,$2,$3,$4,$5,$6,$7,$8,$9 \
             WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE alg = $2 AND state = $3)"
        );
        let n = bind_record(sqlx::query(&sql), k)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n == 1)
    }

    /// One rotation step for `alg`, atomically: the current key retires (kept published until
    /// `remove_after`), the pre-published `next` key becomes current, and `new_next` is published.
    /// Returns false (and changes nothing) when `expected_current` is no longer current, i.e.
    /// another instance rotated first.
    pub async fn keys_rotate(
        &self,
        alg: &str,
        expected_current: Option<&str>,
        new_next: &KeyRecord,
        now: i64,
        remove_after: i64,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        if let Some(cur) = expected_current {
            let n = sqlx::query(
                "UPDATE signing_keys SET state = 'retired', retired_at = $1, remove_after = $2 \
                 WHERE kid = $3 AND state = 'current'",
            )
            .bind(now)
            .bind(remove_after)
            .bind(cur)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n != 1 {
                tx.rollback().await?;
                return Ok(false);
            }
        }
        // A ring left with several current or next keys for `alg` (instances that started
        // together before inserts were serialised) is repaired here: every other current key
        // retires too, exactly one next key is promoted and the surplus ones retire.
        retire_all(&mut tx, alg, "current", now, remove_after).await?;
        let promote: Option<String> = sqlx::query_scalar(
            "SELECT kid FROM signing_keys WHERE alg = $1 AND state = 'next' ORDER BY created_at, kid LIMIT 1",
        )
        .bind(alg)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(kid) = &promote {
            sqlx::query(
                "UPDATE signing_keys SET state = 'current', activated_at = $1 WHERE kid = $2",
            )
            .bind(now)
            .bind(kid)
            .execute(&mut *tx)
            .await?;
            retire_all(&mut tx, alg, "next", now, remove_after).await?;
        }
        bind_record(sqlx::query(&insert_sql()), new_next)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn keys_delete_removed(&self, now: i64) -> Result<u64> {
        Ok(sqlx::query(
            "DELETE FROM signing_keys WHERE remove_after IS NOT NULL AND remove_after <= $1",
        )
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }
}
