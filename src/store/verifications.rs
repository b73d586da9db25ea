//! E-mail verification links of self-registration, and the throttles for "someone tried to
//! register with your address" mails and for re-sent links.
//!
//! A link's token is never stored, only its [`crate::secrets::hash_secret`]. A link is good
//! once: [`Db::verification_consume`] marks it used, the account's address verified and sets
//! the password the link holder chose, in one transaction; a second use (or a concurrent one)
//! finds nothing. Opening the link ([`Db::verification_pending`]) changes nothing, so a mail
//! scanner that fetches it does not use it up (docs/registration.md).

use sqlx::Row;

use super::{Db, Result};

/// At most one "someone tried to register with your address" mail, and at most one re-sent
/// verification link, per account in this many seconds.
pub const MAIL_WINDOW: i64 = 15 * 60;

/// A verification link waiting to be used.
#[derive(Clone, Debug)]
pub struct Verification {
    /// `hash_secret(token)`.
    pub token_hash: String,
    pub account_id: String,
    /// The address the link confirms; if the account's address changed since, the link is void.
    pub email: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// What a used link confirmed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    pub account_id: String,
    pub email: String,
}

impl Db {
    /// Stores a new link. Expired links are removed by [`Db::purge_expired`].
    pub async fn verification_insert(&self, v: &Verification) -> Result<()> {
        sqlx::query(
            "INSERT INTO email_verifications (token_hash, account_id, email, created_at, expires_at, used_at) \
             VALUES ($1,$2,$3,$4,$5,NULL)",
        )
        .bind(&v.token_hash)
        .bind(&v.account_id)
        .bind(&v.email)
        .bind(v.created_at)
        .bind(v.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The unused, unexpired link with this token hash, if any; it stays unused.
    pub async fn verification_pending(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<Verification>> {
        let row = sqlx::query(
            "SELECT token_hash, account_id, email, created_at, expires_at FROM email_verifications \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(Verification {
                token_hash: r.try_get("token_hash")?,
                account_id: r.try_get("account_id")?,
                email: r.try_get("email")?,
                created_at: r.try_get("created_at")?,
                expires_at: r.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    /// Uses the link with this token hash: if it exists, is unused and unexpired, and the
    /// account still has the address it was sent to, marks the address verified, makes
    /// `password_hash` (chosen by whoever holds the link) the account's password, replacing
    /// any set before, and voids the account's other links. `None` for anything else
    /// (unknown, expired, used, address changed), which callers show with one wording.
    pub async fn verification_consume(
        &self,
        token_hash: &str,
        now: i64,
        password_hash: &str,
    ) -> Result<Option<Verified>> {
        let mut tx = self.pool.begin().await?;
        // The conditional update is the single-use check: of two concurrent uses only one
        // changes the row.
        let claimed = sqlx::query(
            "UPDATE email_verifications SET used_at = $1 \
             WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $3",
        )
        .bind(now)
        .bind(token_hash)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed != 1 {
            tx.rollback().await?;
            return Ok(None);
        }
        let row =
            sqlx::query("SELECT account_id, email FROM email_verifications WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_one(&mut *tx)
                .await?;
        let verified = Verified {
            account_id: row.try_get("account_id")?,
            email: row.try_get("email")?,
        };
        let updated = sqlx::query(
            "UPDATE accounts SET email_verified = 1, password_hash = $1 \
             WHERE id = $2 AND email = $3 AND disabled_at IS NULL",
        )
        .bind(password_hash)
        .bind(&verified.account_id)
        .bind(&verified.email)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        // The account's other links are void now (whether or not this one still applied).
        sqlx::query("DELETE FROM email_verifications WHERE account_id = $1 AND token_hash <> $2")
            .bind(&verified.account_id)
            .bind(token_hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((updated == 1).then_some(verified))
    }

    /// Records that an "already registered" mail goes to this account now, unless one went
    /// within the last `window` seconds. `true`: send it; `false`: throttled.
    pub async fn registration_notice_claim(
        &self,
        account_id: &str,
        now: i64,
        window: i64,
    ) -> Result<bool> {
        self.throttle_claim("registration_notices", account_id, now, window)
            .await
    }

    /// Records that a fresh verification link goes to this account now on request, unless one
    /// went within the last `window` seconds. `true`: send it; `false`: throttled.
    pub async fn verification_resend_claim(
        &self,
        account_id: &str,
        now: i64,
        window: i64,
    ) -> Result<bool> {
        self.throttle_claim("verification_resends", account_id, now, window)
            .await
    }

    /// One send per account per `window` in `table` (account_id, sent_at), atomically: the
    /// row is inserted or moved forward only if the last send is old enough.
    pub(super) async fn throttle_claim(
        &self,
        table: &'static str,
        account_id: &str,
        now: i64,
        window: i64,
    ) -> Result<bool> {
        let n = sqlx::query(&format!(
            "INSERT INTO {table} (account_id, sent_at) VALUES ($1, $2) \
             ON CONFLICT (account_id) DO UPDATE SET sent_at = excluded.sent_at \
             WHERE {table}.sent_at <= $3"
        ))
        .bind(account_id)
        .bind(now)
        .bind(now - window)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }
}
