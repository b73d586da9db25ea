//! Loading and changing the stored assurance policy (the decisions are in `assurance::policy`).

use sqlx::Row;

use crate::{
    assurance::{policy::Policy, Level},
    store::{Db, Result},
};

/// Reads the policy; levels or scopes without a row keep the defaults.
pub async fn load(db: &Db) -> Result<Policy> {
    let mut p = Policy::default();
    for r in sqlx::query("SELECT level, max_age FROM policy_levels")
        .fetch_all(&db.pool)
        .await?
    {
        let level: String = r.try_get("level")?;
        if let Some(l) = Level::parse_name(&level) {
            p.max_age
                .insert(l, r.try_get::<i64, _>("max_age")?.max(0) as u64);
        }
    }
    for r in sqlx::query("SELECT scope, min_level FROM policy_scopes")
        .fetch_all(&db.pool)
        .await?
    {
        let level: String = r.try_get("min_level")?;
        if let Some(l) = Level::parse_name(&level) {
            p.scope_min.insert(r.try_get("scope")?, l);
        }
    }
    Ok(p)
}

pub async fn set_level_max_age(db: &Db, level: Level, secs: u64) -> Result<()> {
    sqlx::query(
        "INSERT INTO policy_levels (level, max_age) VALUES ($1, $2) ON CONFLICT (level) DO UPDATE SET max_age = excluded.max_age",
    )
    .bind(level.as_str())
    .bind(secs as i64)
    .execute(&db.pool)
    .await?;
    Ok(())
}

pub async fn set_scope_min(db: &Db, scope: &str, level: Option<Level>) -> Result<()> {
    match level {
        Some(l) => {
            sqlx::query(
                "INSERT INTO policy_scopes (scope, min_level) VALUES ($1, $2) \
             ON CONFLICT (scope) DO UPDATE SET min_level = excluded.min_level",
            )
            .bind(scope)
            .bind(l.as_str())
            .execute(&db.pool)
            .await?
        }
        None => {
            sqlx::query("DELETE FROM policy_scopes WHERE scope = $1")
                .bind(scope)
                .execute(&db.pool)
                .await?
        }
    };
    Ok(())
}
