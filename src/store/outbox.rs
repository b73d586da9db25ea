//! The durable mail outbox: mails waiting for delivery, claimed by one instance at a time.
//!
//! A row is due when it is neither sent nor given up, its `next_attempt_at` has come and no
//! instance holds a lease on it (`claimed_until <= now`). [`Db::outbox_claim`] takes a lease
//! with a conditional UPDATE, so of several instances (or workers) racing for a row exactly one
//! changes it; the lease runs out by itself if that instance dies mid-delivery. The body is
//! stored as the caller gives it (sealed under the KEK by `mail::outbox`).

use sqlx::{Any, Row, Transaction};

use super::{Db, Result};

/// A mail in the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: String,
    pub message_id: String,
    pub recipient: String,
    pub subject: String,
    /// Sealed body (empty once sent or given up).
    pub body: String,
    pub created_at: i64,
    pub attempts: i64,
    pub next_attempt_at: i64,
}

/// How many mails are in which state (for `/metrics` and operators).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    /// Not sent yet and not given up.
    pub pending: i64,
    /// Given up.
    pub failed: i64,
}

const INSERT: &str =
    "INSERT INTO mail_outbox (id, message_id, recipient, subject, body, created_at, \
     attempts, next_attempt_at, claimed_until, sent_at, failed_at, last_error) \
     VALUES ($1,$2,$3,$4,$5,$6,0,$7,0,NULL,NULL,NULL)";

impl Db {
    /// Queues a mail (due at once).
    pub async fn outbox_insert(&self, row: &OutboxRow) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        outbox_insert_tx(&mut tx, row).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The ids of up to `limit` due mails, oldest first (not yet claimed: see [`Db::outbox_claim`]).
    pub async fn outbox_due(&self, now: i64, limit: i64) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT id FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL \
             AND next_attempt_at <= $1 AND claimed_until <= $1 \
             ORDER BY next_attempt_at, created_at LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| r.try_get::<String, _>("id").map_err(Into::into))
            .collect()
    }

    /// Takes a lease on the mail until `until`, if it is still due and unclaimed; `None` when
    /// another instance got it first (or it is no longer due).
    pub async fn outbox_claim(&self, id: &str, now: i64, until: i64) -> Result<Option<OutboxRow>> {
        let mut tx = self.pool.begin().await?;
        let claimed = sqlx::query(
            "UPDATE mail_outbox SET claimed_until = $1 WHERE id = $2 AND sent_at IS NULL \
             AND failed_at IS NULL AND next_attempt_at <= $3 AND claimed_until <= $3",
        )
        .bind(until)
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed != 1 {
            tx.rollback().await?;
            return Ok(None);
        }
        let r = sqlx::query(
            "SELECT id, message_id, recipient, subject, body, created_at, attempts, next_attempt_at \
             FROM mail_outbox WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(OutboxRow {
            id: r.try_get("id")?,
            message_id: r.try_get("message_id")?,
            recipient: r.try_get("recipient")?,
            subject: r.try_get("subject")?,
            body: r.try_get("body")?,
            created_at: r.try_get("created_at")?,
            attempts: r.try_get("attempts")?,
            next_attempt_at: r.try_get("next_attempt_at")?,
        }))
    }

    /// Marks a claimed mail sent and forgets its body (it carried single-use links).
    pub async fn outbox_sent(&self, id: &str, now: i64) -> Result<()> {
        sqlx::query(
            "UPDATE mail_outbox SET sent_at = $1, body = '', attempts = attempts + 1, \
             claimed_until = 0, last_error = NULL WHERE id = $2",
        )
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records a failed attempt: another one at `next_attempt_at`, or (with `None`) given up,
    /// its body forgotten. `error` must not contain secrets.
    pub async fn outbox_failed(
        &self,
        id: &str,
        now: i64,
        next_attempt_at: Option<i64>,
        error: &str,
    ) -> Result<()> {
        let error: String = error.chars().take(500).collect();
        match next_attempt_at {
            Some(next) => sqlx::query(
                "UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = $1, \
                 claimed_until = 0, last_error = $2 WHERE id = $3",
            )
            .bind(next)
            .bind(&error)
            .bind(id),
            None => sqlx::query(
                "UPDATE mail_outbox SET attempts = attempts + 1, failed_at = $1, body = '', \
                 claimed_until = 0, last_error = $2 WHERE id = $3",
            )
            .bind(now)
            .bind(&error)
            .bind(id),
        }
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Pending and given-up mails.
    pub async fn outbox_counts(&self) -> Result<OutboxCounts> {
        let r = sqlx::query(
            "SELECT \
             COALESCE(SUM(CASE WHEN sent_at IS NULL AND failed_at IS NULL THEN 1 ELSE 0 END), 0) AS pending, \
             COALESCE(SUM(CASE WHEN failed_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS failed \
             FROM mail_outbox",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(OutboxCounts {
            pending: r.try_get("pending")?,
            failed: r.try_get("failed")?,
        })
    }

    /// Removes sent mails older than `before` (their bodies are gone already; the rows only
    /// show that a mail went out).
    pub async fn outbox_purge_sent(&self, before: i64) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM mail_outbox WHERE sent_at IS NOT NULL AND sent_at < $1")
                .bind(before)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }
}

/// Queues a mail inside a caller's transaction: the mail exists if and only if the action
/// that causes it committed.
pub async fn outbox_insert_tx(tx: &mut Transaction<'static, Any>, row: &OutboxRow) -> Result<()> {
    sqlx::query(INSERT)
        .bind(&row.id)
        .bind(&row.message_id)
        .bind(&row.recipient)
        .bind(&row.subject)
        .bind(&row.body)
        .bind(row.created_at)
        .bind(row.next_attempt_at)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
