//! Back-channel logout as stored: each client's logout endpoint (`client_backchannel`), the
//! durable delivery queue (`backchannel_deliveries`) and the leases that let one instance at a
//! time run a background duty (`leases`).

use sqlx::Row;

use super::{Db, Result};

/// A client's back-channel logout registration (Back-Channel Logout 1.0 §2.2).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Backchannel {
    pub logout_uri: String,
    pub session_required: bool,
}

/// A delivery claimed by this instance.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub id: String,
    pub client_id: String,
    pub sid: String,
    pub account_id: String,
    pub attempts: i64,
}

/// Queues a logout token for every client of `clients` that has a back-channel endpoint,
/// inside the caller's transaction (the one that ends the session).
pub async fn queue_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    sid: &str,
    account_id: &str,
    clients: &[String],
    now: i64,
) -> Result<u64> {
    let mut n = 0;
    for client_id in clients {
        n += sqlx::query(
            "INSERT INTO backchannel_deliveries (id, client_id, sid, account_id, created_at, \
             attempts, next_attempt_at) \
             SELECT $1, client_id, $2, $3, $4, 0, $4 FROM client_backchannel WHERE client_id = $5",
        )
        .bind(crate::secrets::random_token(16))
        .bind(sid)
        .bind(account_id)
        .bind(now)
        .bind(client_id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    }
    Ok(n)
}

/// Revokes, inside the caller's transaction, the grants whose refresh tokens belong to the
/// session `sid` and were issued without `offline_access` (Back-Channel Logout 1.0 §2.7:
/// such refresh tokens SHOULD be revoked with the session; offline ones SHOULD NOT).
pub async fn revoke_session_grants_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    sid: &str,
    now: i64,
) -> Result<u64> {
    let grants: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT grant_id FROM refresh_tokens WHERE sid = $1 \
         AND (' ' || scope || ' ') NOT LIKE '% offline_access %'",
    )
    .bind(sid)
    .fetch_all(&mut **tx)
    .await?;
    for g in &grants {
        sqlx::query(
            "UPDATE grants SET revoked_at = $1, revoked_reason = 'session_ended' \
             WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(g)
        .execute(&mut **tx)
        .await?;
        sqlx::query(
            "UPDATE access_tokens SET revoked_at = $1 WHERE grant_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(g)
        .execute(&mut **tx)
        .await?;
        sqlx::query("DELETE FROM refresh_tokens WHERE grant_id = $1")
            .bind(g)
            .execute(&mut **tx)
            .await?;
    }
    Ok(grants.len() as u64)
}

impl Db {
    /// The client's back-channel registration, if any.
    pub async fn backchannel_get(&self, client_id: &str) -> Result<Option<Backchannel>> {
        let row = sqlx::query(
            "SELECT logout_uri, session_required FROM client_backchannel WHERE client_id = $1",
        )
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(Backchannel {
                logout_uri: r.try_get("logout_uri")?,
                session_required: r.try_get::<i64, _>("session_required")? != 0,
            })
        })
        .transpose()
    }

    /// Sets (or with `None` removes) the client's back-channel registration.
    pub async fn backchannel_set(&self, client_id: &str, b: Option<&Backchannel>) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM client_backchannel WHERE client_id = $1")
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
        if let Some(b) = b {
            sqlx::query(
                "INSERT INTO client_backchannel (client_id, logout_uri, session_required) \
                 VALUES ($1, $2, $3)",
            )
            .bind(client_id)
            .bind(&b.logout_uri)
            .bind(b.session_required as i64)
            .execute(&mut *tx)
            .await?;
        }
        Ok(tx.commit().await?)
    }

    /// Claims up to `limit` due deliveries for `holder` until `until` (no other instance takes
    /// them meanwhile; a claim that runs out, because its instance died, is taken again).
    pub async fn backchannel_claim(
        &self,
        holder: &str,
        now: i64,
        until: i64,
        limit: i64,
    ) -> Result<Vec<Delivery>> {
        // The outer condition is re-checked on the row PostgreSQL locks, so of two instances
        // racing for a row only one updates it.
        let rows = sqlx::query(
            "UPDATE backchannel_deliveries SET claimed_by = $1, claimed_until = $2 \
             WHERE id IN (SELECT id FROM backchannel_deliveries \
                 WHERE delivered_at IS NULL AND abandoned_at IS NULL AND next_attempt_at <= $3 \
                 AND (claimed_until IS NULL OR claimed_until < $3) \
                 ORDER BY next_attempt_at LIMIT $4) \
             AND delivered_at IS NULL AND abandoned_at IS NULL \
             AND (claimed_until IS NULL OR claimed_until < $3) \
             RETURNING id, client_id, sid, account_id, attempts",
        )
        .bind(holder)
        .bind(until)
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Delivery {
                    id: r.try_get("id")?,
                    client_id: r.try_get("client_id")?,
                    sid: r.try_get("sid")?,
                    account_id: r.try_get("account_id")?,
                    attempts: r.try_get("attempts")?,
                })
            })
            .collect()
    }

    /// Records the outcome of one attempt: delivered, another attempt at `retry_at`, or (both
    /// `None`) abandoned.
    pub async fn backchannel_done(
        &self,
        id: &str,
        holder: &str,
        now: i64,
        delivered: bool,
        retry_at: Option<i64>,
        error: Option<&str>,
    ) -> Result<()> {
        let (delivered_at, abandoned_at) = match (delivered, retry_at) {
            (true, _) => (Some(now), None),
            (false, Some(_)) => (None, None),
            (false, None) => (None, Some(now)),
        };
        sqlx::query(
            "UPDATE backchannel_deliveries SET attempts = attempts + 1, claimed_by = NULL, \
             claimed_until = NULL, delivered_at = $1, abandoned_at = $2, \
             next_attempt_at = COALESCE($3, next_attempt_at), last_error = $4 \
             WHERE id = $5 AND claimed_by = $6",
        )
        .bind(delivered_at)
        .bind(abandoned_at)
        .bind(retry_at)
        .bind(error)
        .bind(id)
        .bind(holder)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Deliveries neither delivered nor abandoned (the backlog).
    pub async fn backchannel_backlog(&self) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM backchannel_deliveries \
             WHERE delivered_at IS NULL AND abandoned_at IS NULL",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    /// Drops finished deliveries older than `before`.
    pub async fn backchannel_purge(&self, before: i64) -> Result<u64> {
        Ok(sqlx::query(
            "DELETE FROM backchannel_deliveries WHERE (delivered_at IS NOT NULL OR \
             abandoned_at IS NOT NULL) AND created_at < $1",
        )
        .bind(before)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// Takes or renews the lease `name` for `holder` until `until`: true when `holder` holds
    /// it now (it was free, expired, or already its own).
    pub async fn lease_acquire(
        &self,
        name: &str,
        holder: &str,
        now: i64,
        until: i64,
    ) -> Result<bool> {
        let n = sqlx::query(
            "INSERT INTO leases (name, holder, until_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until_at = excluded.until_at \
             WHERE leases.until_at < $4 OR leases.holder = excluded.holder",
        )
        .bind(name)
        .bind(holder)
        .bind(until)
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }
}
