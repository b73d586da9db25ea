//! Staff roles (`staff_roles`): which accounts administer, and as what. The roles' meaning
//! is `admin::roles`; this file only stores them (role names as text).

use serde::Serialize;
use sqlx::Row;

use super::{Db, Result};

/// One granted role, with the account's address for listings.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct StaffRole {
    pub account_id: String,
    pub email: String,
    pub role: String,
    pub granted_at: i64,
    pub granted_by: String,
}

impl Db {
    /// Grants `role`; `false` when the account had it already (nothing changes then).
    pub async fn staff_grant(&self, account_id: &str, role: &str, by: &str) -> Result<bool> {
        let n = sqlx::query(
            "INSERT INTO staff_roles (account_id, role, granted_at, granted_by) VALUES ($1,$2,$3,$4) \
             ON CONFLICT (account_id, role) DO NOTHING",
        )
        .bind(account_id)
        .bind(role)
        .bind(self.now())
        .bind(by)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    /// Revokes `role`; `false` when the account did not have it.
    pub async fn staff_revoke(&self, account_id: &str, role: &str) -> Result<bool> {
        let n = sqlx::query("DELETE FROM staff_roles WHERE account_id = $1 AND role = $2")
            .bind(account_id)
            .bind(role)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    /// The role names an account holds, sorted.
    pub async fn staff_roles_of(&self, account_id: &str) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT role FROM staff_roles WHERE account_id = $1 ORDER BY role")
                .bind(account_id)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Every granted role, by address then role.
    pub async fn staff_list(&self) -> Result<Vec<StaffRole>> {
        let rows = sqlx::query(
            "SELECT s.account_id, a.email, s.role, s.granted_at, s.granted_by FROM staff_roles s \
             JOIN accounts a ON a.id = s.account_id ORDER BY a.email, s.role",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StaffRole {
                    account_id: r.try_get("account_id")?,
                    email: r.try_get("email")?,
                    role: r.try_get("role")?,
                    granted_at: r.try_get("granted_at")?,
                    granted_by: r.try_get("granted_by")?,
                })
            })
            .collect()
    }
}
