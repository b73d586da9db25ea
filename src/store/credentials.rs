//! Second-factor credentials (TOTP, passkeys) and recovery codes as stored. The `secret`
//! column holds KEK-encrypted data; this module never sees it in the clear.

use serde::Serialize;
use sqlx::{any::AnyRow, Row};

use super::{types::CredentialKind, Cell, Db, Result};

#[derive(Clone, Debug, Serialize)]
pub struct Credential {
    pub id: String,
    pub account_id: String,
    pub kind: CredentialKind,
    pub label: String,
    #[serde(skip)]
    pub secret: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    #[serde(skip)]
    pub last_step: Option<i64>,
}

const COLUMNS: &str = "id, account_id, kind, label, secret, created_at, last_used_at, last_step";

fn from_row(r: &AnyRow) -> Result<Credential> {
    let id: String = r.try_get("id")?;
    let kind = Cell {
        table: "credentials",
        column: "kind",
        key: &id,
    }
    .parse(&r.try_get::<String, _>("kind")?, CredentialKind::parse)?;
    Ok(Credential {
        id,
        account_id: r.try_get("account_id")?,
        kind,
        label: r.try_get("label")?,
        secret: r.try_get("secret")?,
        created_at: r.try_get("created_at")?,
        last_used_at: r.try_get("last_used_at")?,
        last_step: r.try_get("last_step")?,
    })
}

impl Db {
    pub async fn credential_insert(&self, c: &Credential) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO credentials ({COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)"
        ))
        .bind(&c.id)
        .bind(&c.account_id)
        .bind(c.kind.as_str())
        .bind(&c.label)
        .bind(&c.secret)
        .bind(c.created_at)
        .bind(c.last_used_at)
        .bind(c.last_step)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn credentials_of(&self, account_id: &str) -> Result<Vec<Credential>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM credentials WHERE account_id = $1 ORDER BY created_at, id"
        ))
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Deletes one of the account's credentials. Returns whether it existed.
    pub async fn credential_delete(&self, account_id: &str, id: &str) -> Result<bool> {
        Ok(
            sqlx::query("DELETE FROM credentials WHERE id = $1 AND account_id = $2")
                .bind(id)
                .bind(account_id)
                .execute(&self.pool)
                .await?
                .rows_affected()
                > 0,
        )
    }

    /// Accepts a TOTP time step once: false if this or a later step was already used
    /// (RFC 6238 §5.2: a verifier must not accept the same OTP twice).
    pub async fn credential_use_step(&self, id: &str, step: i64, now: i64) -> Result<bool> {
        Ok(sqlx::query(
            "UPDATE credentials SET last_step = $1, last_used_at = $2 WHERE id = $3 AND (last_step IS NULL OR last_step < $1)",
        )
        .bind(step)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1)
    }

    /// Replaces a credential's (encrypted) data after use, e.g. a passkey's signature counter.
    pub async fn credential_update_secret(&self, id: &str, secret: &str, now: i64) -> Result<()> {
        sqlx::query("UPDATE credentials SET secret = $1, last_used_at = $2 WHERE id = $3")
            .bind(secret)
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Replaces the account's recovery codes with new ones (hashes).
    pub async fn recovery_codes_replace(
        &self,
        account_id: &str,
        hashes: &[String],
        now: i64,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM recovery_codes WHERE account_id = $1")
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        for h in hashes {
            sqlx::query("INSERT INTO recovery_codes (account_id, code_hash, created_at) VALUES ($1, $2, $3)")
                .bind(account_id)
                .bind(h)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx.commit().await?)
    }

    /// Uses a recovery code once. False if unknown or already used.
    pub async fn recovery_code_use(&self, account_id: &str, hash: &str, now: i64) -> Result<bool> {
        Ok(sqlx::query("UPDATE recovery_codes SET used_at = $1 WHERE account_id = $2 AND code_hash = $3 AND used_at IS NULL")
            .bind(now)
            .bind(account_id)
            .bind(hash)
            .execute(&self.pool)
            .await?
            .rows_affected()
            == 1)
    }

    pub async fn recovery_codes_left(&self, account_id: &str) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM recovery_codes WHERE account_id = $1 AND used_at IS NULL",
        )
        .bind(account_id)
        .fetch_one(&self.pool)
        .await?)
    }
}
