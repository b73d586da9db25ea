//! Identities at upstream sources linked to accounts (`account_identities`), keyed by
//! (source, stable subject at that source) and never by e-mail; and the writes of an upstream
//! login that must happen together (a new account with its first link).

use serde::Serialize;
use sqlx::{any::AnyRow, Row};

use super::{accounts::Account, Db, Result};

/// One upstream identity linked to an account.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Identity {
    /// The upstream's id (`upstreams.id`).
    pub provider: String,
    /// The stable subject at that upstream (`sub`; for the eID the RestrictedID pseudonym).
    pub subject: String,
    pub account_id: String,
    pub linked_at: i64,
    pub last_login_at: Option<i64>,
}

fn from_row(r: &AnyRow) -> Result<Identity> {
    Ok(Identity {
        provider: r.try_get("provider")?,
        subject: r.try_get("subject")?,
        account_id: r.try_get("account_id")?,
        linked_at: r.try_get("linked_at")?,
        last_login_at: r.try_get("last_login_at")?,
    })
}

const COLUMNS: &str = "provider, subject, account_id, linked_at, last_login_at";

/// What an unlink did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unlinked {
    Removed,
    /// Refused: the account has no password and no other link, so it would be locked out.
    LastWay,
    NotFound,
}

impl Db {
    pub async fn identity_get(&self, provider: &str, subject: &str) -> Result<Option<Identity>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM account_identities WHERE provider = $1 AND subject = $2"
        ))
        .bind(provider)
        .bind(subject)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn identities_of(&self, account_id: &str) -> Result<Vec<Identity>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM account_identities WHERE account_id = $1 ORDER BY provider, linked_at"
        ))
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Creates `account` (no password) together with its first linked identity, in one
    /// transaction: either both exist afterwards or neither. A unique violation means the
    /// identity was linked (or the address taken) concurrently.
    pub async fn account_insert_linked(
        &self,
        account: &Account,
        provider: &str,
        subject: &str,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO accounts (id, email, email_verified, password_hash, proofing_level, \
             proofing_evidence, proofed_at, created_at, disabled_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
        )
        .bind(&account.id)
        .bind(&account.email)
        .bind(account.email_verified as i64)
        .bind(&account.password_hash)
        .bind(account.proofing_level.as_str())
        .bind(&account.proofing_evidence)
        .bind(account.proofed_at)
        .bind(account.created_at)
        .bind(account.disabled_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO account_identities (provider, subject, account_id, linked_at, last_login_at) \
             VALUES ($1,$2,$3,$4,$4)",
        )
        .bind(provider)
        .bind(subject)
        .bind(&account.id)
        .bind(account.created_at)
        .execute(&mut *tx)
        .await?;
        Ok(tx.commit().await?)
    }

    /// Links an identity to an existing account. A unique violation: it is linked already
    /// (to this or another account).
    pub async fn identity_link(
        &self,
        provider: &str,
        subject: &str,
        account_id: &str,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO account_identities (provider, subject, account_id, linked_at, last_login_at) \
             VALUES ($1,$2,$3,$4,$4)",
        )
        .bind(provider)
        .bind(subject)
        .bind(account_id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Notes a login through the identity.
    pub async fn identity_touch(&self, provider: &str, subject: &str, now: i64) -> Result<()> {
        sqlx::query(
            "UPDATE account_identities SET last_login_at = $1 WHERE provider = $2 AND subject = $3",
        )
        .bind(now)
        .bind(provider)
        .bind(subject)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Removes a link unless it is the account's last way to log in (no password and no other
    /// link). The check and the delete are one statement, and on PostgreSQL it runs with the
    /// account row locked (`FOR UPDATE`): two unlinks of its last two links at once would each
    /// see the other link still there under READ COMMITTED and both delete; with the lock the
    /// second waits and then sees one link left. (SQLite: the database write lock serialises
    /// the statement already.)
    pub async fn identity_unlink(
        &self,
        account_id: &str,
        provider: &str,
        subject: &str,
    ) -> Result<Unlinked> {
        let mut tx = self.pool.begin().await?;
        if self.backend == super::Backend::Postgres {
            sqlx::query("SELECT id FROM accounts WHERE id = $1 FOR UPDATE")
                .bind(account_id)
                .fetch_optional(&mut *tx)
                .await?;
        }
        let n = sqlx::query(
            "DELETE FROM account_identities WHERE account_id = $1 AND provider = $2 AND subject = $3 \
             AND (EXISTS (SELECT 1 FROM accounts WHERE id = $1 AND password_hash IS NOT NULL) \
                  OR (SELECT COUNT(*) FROM account_identities WHERE account_id = $1) > 1)",
        )
        .bind(account_id)
        .bind(provider)
        .bind(subject)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        if n > 0 {
            return Ok(Unlinked::Removed);
        }
        Ok(
            match self
                .identity_get(provider, subject)
                .await?
                .filter(|i| i.account_id == account_id)
            {
                Some(_) => Unlinked::LastWay,
                None => Unlinked::NotFound,
            },
        )
    }

    /// How many identities are linked (all accounts), for tests and metrics.
    pub async fn identity_count(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM account_identities")
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?)
    }
}
