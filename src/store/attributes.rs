//! Profile attributes per source (issue 8, point 5): one row per (account, name, source), and
//! the account's proofing level changed in the same transaction as the attributes that prove it.

use super::{accounts::Attribute, Db, Result};
use crate::assurance::Level;

/// A change of the account's proofing level that goes with recorded attributes.
#[derive(Clone, Debug)]
pub struct ProofingUpdate<'a> {
    pub level: Level,
    pub evidence: &'a str,
    pub at: i64,
    /// `true`: only ever raise (an upstream login); `false`: set, also lower (the operator's
    /// `pforte account proof`).
    pub only_raise: bool,
}

impl Db {
    /// Stores one attribute for its source: inserts it, or replaces the value, level and
    /// verification time the same source held for that name.
    pub async fn attribute_put(&self, account_id: &str, a: &Attribute) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        put(&mut tx, account_id, a).await?;
        Ok(tx.commit().await?)
    }

    /// Removes everything one source holds for the account (e.g. an unlinked upstream).
    /// Returns how many attributes went.
    pub async fn attributes_remove_source(&self, account_id: &str, source: &str) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM account_attributes WHERE account_id = $1 AND source = $2")
                .bind(account_id)
                .bind(source)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    /// Replaces what `source` holds for the account by `attributes` (names the source no
    /// longer delivers go), and applies `proofing`, all in one transaction. Returns the
    /// proofing level before the change when the level changed, `None` when it did not (or
    /// no change was asked for).
    pub async fn attributes_replace_source(
        &self,
        account_id: &str,
        source: &str,
        attributes: &[Attribute],
        proofing: Option<ProofingUpdate<'_>>,
    ) -> Result<Option<Level>> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM account_attributes WHERE account_id = $1 AND source = $2")
            .bind(account_id)
            .bind(source)
            .execute(&mut *tx)
            .await?;
        for a in attributes {
            debug_assert_eq!(a.source, source);
            put(&mut tx, account_id, a).await?;
        }
        let mut before = None;
        if let Some(p) = proofing {
            let current: Option<String> =
                sqlx::query_scalar("SELECT proofing_level FROM accounts WHERE id = $1")
                    .bind(account_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let current = current
                .map(|c| {
                    super::Cell {
                        table: "accounts",
                        column: "proofing_level",
                        key: account_id,
                    }
                    .parse(&c, Level::parse_name)
                })
                .transpose()?;
            if let Some(current) = current {
                if current != p.level && (!p.only_raise || p.level > current) {
                    // The level in the WHERE clause keeps a concurrent change from being
                    // overwritten by a decision taken on a stale read.
                    let n = sqlx::query(
                        "UPDATE accounts SET proofing_level = $1, proofing_evidence = $2, proofed_at = $3 \
                         WHERE id = $4 AND proofing_level = $5",
                    )
                    .bind(p.level.as_str())
                    .bind(p.evidence)
                    .bind(p.at)
                    .bind(account_id)
                    .bind(current.as_str())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if n > 0 {
                        before = Some(current);
                    }
                }
            }
        }
        tx.commit().await?;
        Ok(before)
    }
}

async fn put(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    account_id: &str,
    a: &Attribute,
) -> Result<()> {
    // Delete + insert instead of an upsert: the same SQL on SQLite and PostgreSQL, and the
    // caller's transaction makes it one change.
    sqlx::query(
        "DELETE FROM account_attributes WHERE account_id = $1 AND name = $2 AND source = $3",
    )
    .bind(account_id)
    .bind(&a.name)
    .bind(&a.source)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO account_attributes (account_id, name, value, source, level, verified_at) \
         VALUES ($1,$2,$3,$4,$5,$6)",
    )
    .bind(account_id)
    .bind(&a.name)
    .bind(&a.value)
    .bind(&a.source)
    .bind(a.level.as_str())
    .bind(a.verified_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
