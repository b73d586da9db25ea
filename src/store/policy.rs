//! The stored assurance policy: maximum login age per level (`policy_levels`) and minimum
//! level per scope (`policy_scopes`). The decisions made from it are in `assurance::policy`.

use sqlx::Row;

use super::{Cell, Db, Result};
use crate::assurance::{policy::Policy, Level};

impl Db {
    /// Reads the policy; levels or scopes without a row keep the defaults. A row naming an
    /// unknown level is [`super::StoreError::Corrupt`], not skipped.
    pub async fn policy_load(&self) -> Result<Policy> {
        let mut p = Policy::default();
        for r in sqlx::query("SELECT level, max_age FROM policy_levels")
            .fetch_all(&self.pool)
            .await?
        {
            let name: String = r.try_get("level")?;
            let cell = Cell {
                table: "policy_levels",
                column: "level",
                key: &name,
            };
            let level = cell.parse(&name, Level::parse_name)?;
            let max_age: i64 = r.try_get("max_age")?;
            let max_age = u64::try_from(max_age).map_err(|_| {
                Cell {
                    column: "max_age",
                    ..cell
                }
                .corrupt(&max_age.to_string())
            })?;
            p.max_age.insert(level, max_age);
        }
        for r in sqlx::query("SELECT scope, min_level FROM policy_scopes")
            .fetch_all(&self.pool)
            .await?
        {
            let scope: String = r.try_get("scope")?;
            let name: String = r.try_get("min_level")?;
            let cell = Cell {
                table: "policy_scopes",
                column: "min_level",
                key: &scope,
            };
            let level = cell.parse(&name, Level::parse_name)?;
            p.scope_min.insert(scope, level);
        }
        Ok(p)
    }

    pub async fn policy_set_level_max_age(&self, level: Level, secs: u64) -> Result<()> {
        sqlx::query(
            "INSERT INTO policy_levels (level, max_age) VALUES ($1, $2) \
             ON CONFLICT (level) DO UPDATE SET max_age = excluded.max_age",
        )
        .bind(level.as_str())
        .bind(i64::try_from(secs).unwrap_or(i64::MAX))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Sets (or with `None` removes) the minimum level of `scope`.
    pub async fn policy_set_scope_min(&self, scope: &str, level: Option<Level>) -> Result<()> {
        match level {
            Some(l) => {
                sqlx::query(
                    "INSERT INTO policy_scopes (scope, min_level) VALUES ($1, $2) \
                     ON CONFLICT (scope) DO UPDATE SET min_level = excluded.min_level",
                )
                .bind(scope)
                .bind(l.as_str())
                .execute(&self.pool)
                .await?
            }
            None => {
                sqlx::query("DELETE FROM policy_scopes WHERE scope = $1")
                    .bind(scope)
                    .execute(&self.pool)
                    .await?
            }
        };
        Ok(())
    }
}
