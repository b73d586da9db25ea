//! A citizen's own view of what Pforte holds about them: linked identities and their part of
//! the audit trail (the activity list and the export), and erasing an account (GDPR Art. 17)
//! with the audit trail kept under a pseudonym.

use serde::Serialize;
use sqlx::Row;

use super::{audit::AuditEvent, Db, Result};

/// An identity at an upstream source linked to the account.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct LinkedIdentity {
    pub provider: String,
    pub subject: String,
    pub linked_at: i64,
}

impl Db {
    /// The upstream identities linked to an account (read-only here; the federation login
    /// writes them).
    pub async fn linked_identities(&self, account_id: &str) -> Result<Vec<LinkedIdentity>> {
        let rows = sqlx::query(
            "SELECT provider, subject, linked_at FROM account_identities WHERE account_id = $1 \
             ORDER BY linked_at, provider",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LinkedIdentity {
                    provider: r.try_get("provider")?,
                    subject: r.try_get("subject")?,
                    linked_at: r.try_get("linked_at")?,
                })
            })
            .collect()
    }

    /// The account's own audit events of the kinds in `actions` (e.g. `login.succeeded`):
    /// those about the account or caused by it, newest first, at most `limit`.
    pub async fn audit_of_account(
        &self,
        account_id: &str,
        actions: &[&str],
        limit: i64,
    ) -> Result<Vec<AuditEvent>> {
        if actions.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (0..actions.len()).map(|i| format!("${}", i + 4)).collect();
        let sql = format!(
            "SELECT id, at, actor, action, target, detail FROM audit_log \
             WHERE (target = $1 OR actor = $3) AND action IN ({}) ORDER BY id DESC LIMIT $2",
            marks.join(",")
        );
        let mut q = sqlx::query(&sql)
            .bind(account_id)
            .bind(limit)
            .bind(format!("account:{account_id}"));
        for a in actions {
            q = q.bind(*a);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(AuditEvent::from_row).collect()
    }

    /// Every registered login of the account, ended ones included, newest first, at most
    /// `limit` (the activity list; the registry purges old rows itself).
    pub async fn sso_sessions_history(
        &self,
        account_id: &str,
        limit: i64,
    ) -> Result<Vec<super::sso_sessions::SsoSession>> {
        let sids: Vec<String> = sqlx::query_scalar(
            "SELECT sid FROM sso_sessions WHERE account_id = $1 ORDER BY created_at DESC, sid LIMIT $2",
        )
        .bind(account_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for sid in sids {
            if let Some(s) = self.sso_session_get(&sid).await? {
                out.push(s);
            }
        }
        Ok(out)
    }

    /// Stores what the citizen entered on the profile page, in one transaction: for each
    /// `(name, value)` the self-entered row (source `self`) is replaced by `value`, or removed
    /// when `value` is `None`. Rows of other sources (verified values) are never touched.
    pub async fn profile_save_self(
        &self,
        account_id: &str,
        changes: &[(&str, Option<String>)],
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for (name, value) in changes {
            sqlx::query(
                "DELETE FROM account_attributes WHERE account_id = $1 AND name = $2 AND source = 'self'",
            )
            .bind(account_id)
            .bind(*name)
            .execute(&mut *tx)
            .await?;
            if let Some(v) = value {
                sqlx::query(
                    "INSERT INTO account_attributes (account_id, name, value, source, level, verified_at) \
                     VALUES ($1, $2, $3, 'self', 'low', NULL)",
                )
                .bind(account_id)
                .bind(*name)
                .bind(v)
                .execute(&mut *tx)
                .await?;
            }
        }
        Ok(tx.commit().await?)
    }

    /// Erases an account in one transaction: every grant revoked (`account_deleted`) with its
    /// access tokens, refresh tokens and unused codes deleted, the account row removed (its
    /// attributes, credentials, recovery codes, consents, identities, releases and links go
    /// with it by `ON DELETE CASCADE`), the session registry's rows deleted, and every trace of the account id and e-mail address in
    /// the audit trail, grants and access-token ledger replaced by `pseudonym`. Returns whether
    /// the account existed.
    pub async fn account_erase(
        &self,
        account_id: &str,
        email: &str,
        pseudonym: &str,
        now: i64,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE grants SET revoked_at = $1, revoked_reason = 'account_deleted' \
             WHERE account_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE grants SET account_id = $1 WHERE account_id = $2")
            .bind(pseudonym)
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE access_tokens SET revoked_at = COALESCE(revoked_at, $1), account_id = $2 \
             WHERE account_id = $3",
        )
        .bind(now)
        .bind(pseudonym)
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
        for table in ["refresh_tokens", "authorization_codes"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE account_id = $1"))
                .bind(account_id)
                .execute(&mut *tx)
                .await?;
        }
        // The session registry's rows (device, address) go too; the sessions were ended
        // before (`sessions::end`), so their browsers count as logged out.
        sqlx::query(
            "DELETE FROM session_clients WHERE sid IN (SELECT sid FROM sso_sessions WHERE account_id = $1)",
        )
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM sso_sessions WHERE account_id = $1")
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        let n = sqlx::query("DELETE FROM accounts WHERE id = $1")
            .bind(account_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        // The audit trail stays (it is evidence), under the pseudonym: the actor, the target
        // and any mention in the details. Ids are random tokens, so a plain text replacement
        // touches nothing else.
        let like_id = format!("%{account_id}%");
        let like_email = format!("%{email}%");
        sqlx::query(
            "UPDATE audit_log SET actor = REPLACE(actor, $1, $2), \
             target = REPLACE(target, $1, $2), \
             detail = REPLACE(REPLACE(detail, $1, $2), $3, $4) \
             WHERE actor LIKE $5 OR target = $1 OR detail LIKE $5 OR detail LIKE $6",
        )
        .bind(account_id)
        .bind(pseudonym)
        .bind(email)
        .bind(format!("{pseudonym}@deleted.invalid"))
        .bind(&like_id)
        .bind(&like_email)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(n > 0)
    }
}
