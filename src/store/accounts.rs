//! Citizen accounts, their attributes (with provenance) and linked upstream identities.

use serde::Serialize;
use sqlx::{any::AnyRow, Row};

use super::{Cell, Db, Result};
use crate::assurance::Level;

#[derive(Clone, Debug, Serialize)]
pub struct Account {
    pub id: String,
    pub email: String,
    pub email_verified: bool,
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub proofing_level: Level,
    pub proofing_evidence: Option<String>,
    pub proofed_at: Option<i64>,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
}

/// One profile attribute and where it came from.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Attribute {
    pub name: String,
    pub value: String,
    /// `self`, `office`, `upstream:<id>` (`accounts::profile::Source`).
    pub source: String,
    pub level: Level,
    pub verified_at: Option<i64>,
}

const COLUMNS: &str =
    "id, email, email_verified, password_hash, proofing_level, proofing_evidence, proofed_at, created_at, disabled_at";

fn from_row(row: &AnyRow) -> Result<Account> {
    let id: String = row.try_get("id")?;
    let proofing_level = Cell {
        table: "accounts",
        column: "proofing_level",
        key: &id,
    }
    .parse(
        &row.try_get::<String, _>("proofing_level")?,
        Level::parse_name,
    )?;
    Ok(Account {
        id,
        email: row.try_get("email")?,
        email_verified: row.try_get::<i64, _>("email_verified")? != 0,
        password_hash: row.try_get("password_hash")?,
        proofing_level,
        proofing_evidence: row.try_get("proofing_evidence")?,
        proofed_at: row.try_get("proofed_at")?,
        created_at: row.try_get("created_at")?,
        disabled_at: row.try_get("disabled_at")?,
    })
}

impl Db {
    /// Creates an account with its initial attributes in one transaction.
    pub async fn account_insert(&self, a: &Account, attributes: &[Attribute]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(&format!(
            "INSERT INTO accounts ({COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)"
        ))
        .bind(&a.id)
        .bind(&a.email)
        .bind(a.email_verified as i64)
        .bind(&a.password_hash)
        .bind(a.proofing_level.as_str())
        .bind(&a.proofing_evidence)
        .bind(a.proofed_at)
        .bind(a.created_at)
        .bind(a.disabled_at)
        .execute(&mut *tx)
        .await?;
        for attr in attributes {
            sqlx::query(
                "INSERT INTO account_attributes (account_id, name, value, source, level, verified_at) \
                 VALUES ($1,$2,$3,$4,$5,$6)",
            )
            .bind(&a.id)
            .bind(&attr.name)
            .bind(&attr.value)
            .bind(&attr.source)
            .bind(attr.level.as_str())
            .bind(attr.verified_at)
            .execute(&mut *tx)
            .await?;
        }
        Ok(tx.commit().await?)
    }

    pub async fn account_by_email(&self, email: &str) -> Result<Option<Account>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM accounts WHERE email = $1"))
            .bind(email.to_lowercase())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn account_get(&self, id: &str) -> Result<Option<Account>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM accounts WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn account_list(&self) -> Result<Vec<Account>> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM accounts ORDER BY email"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// Disables an account and revokes every grant it holds, atomically.
    pub async fn account_disable(&self, id: &str, now: i64) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let n = sqlx::query(
            "UPDATE accounts SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query(
            "UPDATE grants SET revoked_at = $1, revoked_reason = 'account_disabled' \
             WHERE account_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE access_tokens SET revoked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Records identity proofing up to `level` (e.g. in person at the citizen office).
    pub async fn account_set_proofing(
        &self,
        id: &str,
        level: Level,
        evidence: &str,
        now: i64,
    ) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE accounts SET proofing_level = $1, proofing_evidence = $2, proofed_at = $3 WHERE id = $4",
        )
        .bind(level.as_str())
        .bind(evidence)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    /// Every attribute of the account, from all sources (`accounts::profile::effective`
    /// chooses which value a service gets).
    pub async fn account_attributes(&self, id: &str) -> Result<Vec<Attribute>> {
        let rows = sqlx::query(
            "SELECT name, value, source, level, verified_at FROM account_attributes WHERE account_id = $1 ORDER BY name, source",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let name: String = r.try_get("name")?;
                let level = Cell {
                    table: "account_attributes",
                    column: "level",
                    key: &format!("{id}/{name}"),
                }
                .parse(&r.try_get::<String, _>("level")?, Level::parse_name)?;
                Ok(Attribute {
                    name,
                    value: r.try_get("value")?,
                    source: r.try_get("source")?,
                    level,
                    verified_at: r.try_get("verified_at")?,
                })
            })
            .collect()
    }
}
