//! Consent a citizen gave a client.

use sqlx::{any::AnyRow, Row};

use super::{json_list, Cell, Db, Result};

#[derive(Clone, Debug)]
pub struct Consent {
    pub client_id: String,
    pub scopes: Vec<String>,
    pub granted_at: i64,
}

fn from_row(r: &AnyRow, account_id: &str, client_id: String) -> Result<Consent> {
    let scopes = Cell {
        table: "consents",
        column: "scopes",
        key: &format!("{account_id}/{client_id}"),
    }
    .json(&r.try_get::<String, _>("scopes")?)?;
    Ok(Consent {
        client_id,
        scopes,
        granted_at: r.try_get("granted_at")?,
    })
}

impl Db {
    pub async fn consent_get(&self, account_id: &str, client_id: &str) -> Result<Option<Consent>> {
        let row = sqlx::query(
            "SELECT scopes, granted_at FROM consents WHERE account_id = $1 AND client_id = $2",
        )
        .bind(account_id)
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| from_row(&r, account_id, client_id.to_string()))
            .transpose()
    }

    /// Stores consent for `scopes`, merged with what was granted before.
    pub async fn consent_grant(
        &self,
        account_id: &str,
        client_id: &str,
        scopes: &[String],
        now: i64,
    ) -> Result<()> {
        let mut all = self
            .consent_get(account_id, client_id)
            .await?
            .map(|c| c.scopes)
            .unwrap_or_default();
        for s in scopes {
            if !all.contains(s) {
                all.push(s.clone());
            }
        }
        sqlx::query(
            "INSERT INTO consents (account_id, client_id, scopes, granted_at) VALUES ($1,$2,$3,$4) \
             ON CONFLICT (account_id, client_id) DO UPDATE SET scopes = excluded.scopes, granted_at = excluded.granted_at",
        )
        .bind(account_id)
        .bind(client_id)
        .bind(json_list(&all))
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn consent_list(&self, account_id: &str) -> Result<Vec<Consent>> {
        let rows = sqlx::query("SELECT client_id, scopes, granted_at FROM consents WHERE account_id = $1 ORDER BY client_id")
            .bind(account_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| from_row(r, account_id, r.try_get("client_id")?))
            .collect()
    }

    pub async fn consent_revoke(&self, account_id: &str, client_id: &str) -> Result<bool> {
        let n = sqlx::query("DELETE FROM consents WHERE account_id = $1 AND client_id = $2")
            .bind(account_id)
            .bind(client_id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n > 0)
    }
}
