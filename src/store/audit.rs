//! The audit log: every security-relevant event, append-only.

use serde::Serialize;
use sqlx::Row;

use super::{Cell, Db, Result};

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEvent {
    pub id: String,
    pub at: i64,
    /// Who: `cli`, `account:<id>`, `client:<id>`, `admin:<client id>`, `system`.
    pub actor: String,
    /// What, e.g. `login.failed`, `client.created`, `policy.changed`, `token.replay`.
    pub action: String,
    pub target: Option<String>,
    /// Details as JSON (before/after for changes). Never secrets.
    pub detail: serde_json::Value,
}

impl AuditEvent {
    /// An `audit_log` row (`id, at, actor, action, target, detail`) as an event.
    pub(super) fn from_row(r: &sqlx::any::AnyRow) -> Result<AuditEvent> {
        let id: String = r.try_get("id")?;
        let detail = Cell {
            table: "audit_log",
            column: "detail",
            key: &id,
        }
        .json(&r.try_get::<String, _>("detail")?)?;
        Ok(AuditEvent {
            id,
            at: r.try_get("at")?,
            actor: r.try_get("actor")?,
            action: r.try_get("action")?,
            target: r.try_get("target")?,
            detail,
        })
    }
}

impl Db {
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        target: Option<&str>,
        detail: serde_json::Value,
    ) -> Result<()> {
        let at = self.now();
        // Time-ordered id: zero-padded microseconds then randomness, unique across instances.
        let micros = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros())
            .unwrap_or(0);
        let id = format!("{micros:020}-{}", crate::secrets::random_token(9));
        sqlx::query("INSERT INTO audit_log (id, at, actor, action, target, detail) VALUES ($1,$2,$3,$4,$5,$6)")
            .bind(&id)
            .bind(at)
            .bind(actor)
            .bind(action)
            .bind(target)
            .bind(detail.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// How many `action` events about `target` happened at or after `since` (throttles, e.g.
    /// wrong second-factor codes per account across sessions).
    pub async fn audit_count_since(&self, action: &str, target: &str, since: i64) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE at >= $1 AND action = $2 AND target = $3",
        )
        .bind(since)
        .bind(action)
        .bind(target)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Newest first; `action_prefix` filters (`policy.` for policy changes).
    pub async fn audit_list(
        &self,
        action_prefix: Option<&str>,
        limit: i64,
    ) -> Result<Vec<AuditEvent>> {
        let rows = sqlx::query(
            "SELECT id, at, actor, action, target, detail FROM audit_log WHERE action LIKE $1 ESCAPE '\\' ORDER BY id DESC LIMIT $2",
        )
        .bind(like_prefix(action_prefix.unwrap_or("")))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(AuditEvent::from_row).collect()
    }
}

/// What the console's audit page filters by; every part optional.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Exact actor (`admin:…`, `account:…`, `cli`).
    pub actor: Option<String>,
    /// Exact subject (`target`).
    pub subject: Option<String>,
    /// Event name prefix (`client.`, `login.failed`).
    pub event: Option<String>,
    /// From this time (Unix seconds, inclusive).
    pub from: Option<i64>,
    /// Before this time (Unix seconds, exclusive).
    pub to: Option<i64>,
}

impl Db {
    /// Audit events matching `f`, newest first, at most `limit`.
    pub async fn audit_search(&self, f: &AuditFilter, limit: i64) -> Result<Vec<AuditEvent>> {
        let rows = sqlx::query(
            "SELECT id, at, actor, action, target, detail FROM audit_log \
             WHERE ($1 = '' OR actor = $1) AND ($2 = '' OR target = $2) AND action LIKE $3 ESCAPE '\\' \
             AND at >= $4 AND at < $5 ORDER BY id DESC LIMIT $6",
        )
        .bind(f.actor.clone().unwrap_or_default())
        .bind(f.subject.clone().unwrap_or_default())
        .bind(like_prefix(f.event.as_deref().unwrap_or("")))
        .bind(f.from.unwrap_or(i64::MIN))
        .bind(f.to.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(AuditEvent::from_row).collect()
    }
}

/// A `LIKE … ESCAPE '\'` pattern matching names that start with `prefix` literally: event
/// names hold `_` (`token.refresh_reuse`), which LIKE would otherwise read as "any character".
fn like_prefix(prefix: &str) -> String {
    let mut p = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}
