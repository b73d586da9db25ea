//! What each service received about a citizen (the account's data cockpit): one row per
//! account, client and set of claim names, with the level of the login at the last release,
//! first and last time and a count. Written by the token and userinfo paths through
//! [`Db::release_record`] (one upsert); read by the account pages and the export.

use serde::Serialize;
use sqlx::Row;

use super::{json_list, Cell, Db, Result};
use crate::assurance::Level;

/// One kind of release: these claims went to this client.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Release {
    pub client_id: String,
    /// Claim names, sorted.
    pub claims: Vec<String>,
    /// The level of the login behind the last release.
    pub level: Level,
    pub first_at: i64,
    pub last_at: i64,
    pub count: i64,
}

impl Db {
    /// Records that `client_id` received `claims` about `account_id` at `level` now. Claim
    /// names are sorted and de-duplicated, so the same set always lands in the same row.
    pub async fn release_record(
        &self,
        account_id: &str,
        client_id: &str,
        claims: &[&str],
        level: Level,
    ) -> Result<()> {
        let mut names: Vec<&str> = claims.to_vec();
        names.sort_unstable();
        names.dedup();
        let now = self.now();
        sqlx::query(
            "INSERT INTO releases (account_id, client_id, claims, level, first_at, last_at, count) \
             VALUES ($1,$2,$3,$4,$5,$5,1) \
             ON CONFLICT (account_id, client_id, claims) DO UPDATE SET \
             level = excluded.level, last_at = excluded.last_at, count = releases.count + 1",
        )
        .bind(account_id)
        .bind(client_id)
        .bind(json_list(&names))
        .bind(level.as_str())
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every release to every client for one account, newest first.
    pub async fn releases_of(&self, account_id: &str) -> Result<Vec<Release>> {
        let rows = sqlx::query(
            "SELECT client_id, claims, level, first_at, last_at, count FROM releases \
             WHERE account_id = $1 ORDER BY last_at DESC, client_id",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let client_id: String = r.try_get("client_id")?;
                let key = format!("{account_id}/{client_id}");
                let claims = Cell {
                    table: "releases",
                    column: "claims",
                    key: &key,
                }
                .json(&r.try_get::<String, _>("claims")?)?;
                let level = Cell {
                    table: "releases",
                    column: "level",
                    key: &key,
                }
                .parse(&r.try_get::<String, _>("level")?, Level::parse_name)?;
                Ok(Release {
                    client_id,
                    claims,
                    level,
                    first_at: r.try_get("first_at")?,
                    last_at: r.try_get("last_at")?,
                    count: r.try_get("count")?,
                })
            })
            .collect()
    }
}
