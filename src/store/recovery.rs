//! Account recovery and e-mail change links: password reset links and the confirmation links
//! of a new address, and the throttle for reset mails.
//!
//! As for verification links (`verifications`), a token is never stored, only its
//! [`crate::secrets::hash_secret`]; each purpose has its own table, so a token of one purpose
//! is unknown to the others. Using a link is one transaction: the conditional UPDATE that marks
//! it used is the single-use check, and the change it carries, the voiding of the account's
//! other links of the purpose and the notice mail (queued in the outbox) commit together.

use sqlx::Row;

use super::{
    outbox::{outbox_insert_tx, OutboxRow},
    Db, Result, StoreError,
};

/// A link waiting to be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingReset {
    pub token_hash: String,
    pub account_id: String,
    /// The address the link was sent to; if the account's address changed since, it is void.
    pub email: String,
    pub expires_at: i64,
}

/// An e-mail change waiting for its confirmation at the new address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingEmailChange {
    pub token_hash: String,
    pub account_id: String,
    pub old_email: String,
    pub new_email: String,
    pub expires_at: i64,
}

/// What confirming an e-mail change did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EmailChangeOutcome {
    Changed(PendingEmailChange),
    /// Another account has the new address by now; nothing changed (the link is used up).
    Taken(PendingEmailChange),
    /// Unknown, expired, used, or the account's address is no longer the old one.
    Invalid,
}

impl Db {
    /// Stores a new reset link.
    pub async fn reset_insert(&self, r: &PendingReset, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO password_resets (token_hash, account_id, email, created_at, expires_at, used_at) \
             VALUES ($1,$2,$3,$4,$5,NULL)",
        )
        .bind(&r.token_hash)
        .bind(&r.account_id)
        .bind(&r.email)
        .bind(now)
        .bind(r.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The unused, unexpired reset link with this hash whose account still has the address it
    /// went to and is enabled; it stays unused.
    pub async fn reset_pending(&self, token_hash: &str, now: i64) -> Result<Option<PendingReset>> {
        let row = sqlx::query(
            "SELECT r.token_hash, r.account_id, r.email, r.expires_at FROM password_resets r \
             JOIN accounts a ON a.id = r.account_id \
             WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > $2 \
             AND a.email = r.email AND a.disabled_at IS NULL",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(PendingReset {
                token_hash: r.try_get("token_hash")?,
                account_id: r.try_get("account_id")?,
                email: r.try_get("email")?,
                expires_at: r.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    /// Uses the reset link: sets `password_hash`, marks the address verified (the link proved
    /// it), voids the account's other reset links and queues `notice`, all or nothing. `None`
    /// when the link is unknown, expired, used, or its account changed address or is disabled.
    pub async fn reset_consume(
        &self,
        token_hash: &str,
        now: i64,
        password_hash: &str,
        notice: &OutboxRow,
    ) -> Result<Option<PendingReset>> {
        let mut tx = self.pool.begin().await?;
        if claim(
            &mut tx,
            "UPDATE password_resets SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $3",
            token_hash,
            now,
        )
        .await?
        .is_none()
        {
            return Ok(None);
        }
        let r = sqlx::query(
            "SELECT token_hash, account_id, email, expires_at FROM password_resets WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_one(&mut *tx)
        .await?;
        let reset = PendingReset {
            token_hash: r.try_get("token_hash")?,
            account_id: r.try_get("account_id")?,
            email: r.try_get("email")?,
            expires_at: r.try_get("expires_at")?,
        };
        let updated = sqlx::query(
            "UPDATE accounts SET password_hash = $1, email_verified = 1 \
             WHERE id = $2 AND email = $3 AND disabled_at IS NULL",
        )
        .bind(password_hash)
        .bind(&reset.account_id)
        .bind(&reset.email)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated != 1 {
            // The link is spent all the same: commit only its use.
            tx.commit().await?;
            return Ok(None);
        }
        sqlx::query("DELETE FROM password_resets WHERE account_id = $1 AND token_hash <> $2")
            .bind(&reset.account_id)
            .bind(token_hash)
            .execute(&mut *tx)
            .await?;
        // A registration link still open would set a password too: void it.
        sqlx::query("DELETE FROM email_verifications WHERE account_id = $1")
            .bind(&reset.account_id)
            .execute(&mut *tx)
            .await?;
        outbox_insert_tx(&mut tx, notice).await?;
        tx.commit().await?;
        Ok(Some(reset))
    }

    /// Records that a reset link goes to this account now, unless one went within `window`
    /// seconds. `true`: send it.
    pub async fn reset_mail_claim(&self, account_id: &str, now: i64, window: i64) -> Result<bool> {
        self.throttle_claim("password_reset_mails", account_id, now, window)
            .await
    }

    /// Changes the password of a logged-in citizen (who proved the current one or logged in
    /// freshly), voids outstanding reset links and queues `notice`, all or nothing. `false`
    /// when the account is gone or disabled.
    pub async fn password_change(
        &self,
        account_id: &str,
        password_hash: &str,
        notice: &OutboxRow,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE accounts SET password_hash = $1 WHERE id = $2 AND disabled_at IS NULL",
        )
        .bind(password_hash)
        .bind(account_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query("DELETE FROM password_resets WHERE account_id = $1")
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        outbox_insert_tx(&mut tx, notice).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Stores a requested e-mail change and queues the confirmation mail to the new address,
    /// replacing any change still waiting for this account.
    pub async fn email_change_insert(
        &self,
        c: &PendingEmailChange,
        now: i64,
        mail: &OutboxRow,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM email_changes WHERE account_id = $1")
            .bind(&c.account_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO email_changes (token_hash, account_id, old_email, new_email, created_at, expires_at, used_at) \
             VALUES ($1,$2,$3,$4,$5,$6,NULL)",
        )
        .bind(&c.token_hash)
        .bind(&c.account_id)
        .bind(&c.old_email)
        .bind(&c.new_email)
        .bind(now)
        .bind(c.expires_at)
        .execute(&mut *tx)
        .await?;
        outbox_insert_tx(&mut tx, mail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The unused, unexpired e-mail change with this hash; it stays unused.
    pub async fn email_change_pending(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<PendingEmailChange>> {
        let row = sqlx::query(
            "SELECT token_hash, account_id, old_email, new_email, expires_at FROM email_changes \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| change_from_row(&r)).transpose()
    }

    /// Confirms an e-mail change: the account's address becomes the new one (verified) if it
    /// is still the old one; `notice` (to the old address, built by the caller from
    /// [`Db::email_change_pending`]) is queued in the same transaction.
    pub async fn email_change_consume(
        &self,
        token_hash: &str,
        now: i64,
        notice: &OutboxRow,
    ) -> Result<EmailChangeOutcome> {
        let mut tx = self.pool.begin().await?;
        if claim(
            &mut tx,
            "UPDATE email_changes SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $3",
            token_hash,
            now,
        )
        .await?
        .is_none()
        {
            return Ok(EmailChangeOutcome::Invalid);
        }
        let r = sqlx::query(
            "SELECT token_hash, account_id, old_email, new_email, expires_at FROM email_changes WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_one(&mut *tx)
        .await?;
        let change = change_from_row(&r)?;
        let taken = sqlx::query("SELECT id FROM accounts WHERE email = $1")
            .bind(&change.new_email)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if taken {
            tx.commit().await?;
            return Ok(EmailChangeOutcome::Taken(change));
        }
        let updated = sqlx::query(
            "UPDATE accounts SET email = $1, email_verified = 1 \
             WHERE id = $2 AND email = $3 AND disabled_at IS NULL",
        )
        .bind(&change.new_email)
        .bind(&change.account_id)
        .bind(&change.old_email)
        .execute(&mut *tx)
        .await;
        let updated = match updated {
            Ok(r) => r.rows_affected(),
            // The unique index on accounts.email: taken concurrently.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                drop(tx);
                return Ok(EmailChangeOutcome::Taken(change));
            }
            Err(e) => return Err(StoreError::Db(e)),
        };
        if updated != 1 {
            tx.commit().await?;
            return Ok(EmailChangeOutcome::Invalid);
        }
        // Links sent to the old address are void now.
        for sql in [
            "DELETE FROM password_resets WHERE account_id = $1",
            "DELETE FROM email_verifications WHERE account_id = $1",
        ] {
            sqlx::query(sql)
                .bind(&change.account_id)
                .execute(&mut *tx)
                .await?;
        }
        outbox_insert_tx(&mut tx, notice).await?;
        tx.commit().await?;
        Ok(EmailChangeOutcome::Changed(change))
    }

    /// Removes expired reset and e-mail change links and old reset-mail throttles.
    pub async fn purge_recovery(&self, now: i64, mail_window: i64) -> Result<u64> {
        let mut n = 0;
        for (sql, before) in [
            ("DELETE FROM password_resets WHERE expires_at < $1", now),
            ("DELETE FROM email_changes WHERE expires_at < $1", now),
            (
                "DELETE FROM password_reset_mails WHERE sent_at < $1",
                now - mail_window,
            ),
        ] {
            n += sqlx::query(sql)
                .bind(before)
                .execute(&self.pool)
                .await?
                .rows_affected();
        }
        Ok(n)
    }
}

/// Runs the conditional "mark used" UPDATE; `Some(())` when this call used the link, else the
/// transaction is rolled back.
async fn claim(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    sql: &str,
    token_hash: &str,
    now: i64,
) -> Result<Option<()>> {
    let n = sqlx::query(sql)
        .bind(now)
        .bind(token_hash)
        .bind(now)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    Ok((n == 1).then_some(()))
}

fn change_from_row(r: &sqlx::any::AnyRow) -> Result<PendingEmailChange> {
    Ok(PendingEmailChange {
        token_hash: r.try_get("token_hash")?,
        account_id: r.try_get("account_id")?,
        old_email: r.try_get("old_email")?,
        new_email: r.try_get("new_email")?,
        expires_at: r.try_get("expires_at")?,
    })
}
