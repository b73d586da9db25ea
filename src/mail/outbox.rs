//! The durable outbox: every mail goes into the database first and a worker delivers it.
//!
//! Owns: turning a [`Mail`] into an outbox row (recipient checked, body sealed under the KEK
//! with associated data `mail|{id}`, since it carries single-use links), the worker that
//! delivers due rows with retries, and the retry schedule ([`backoff`], pure).
//!
//! - Features queue a mail in the transaction of the action that causes it (the `store`
//!   functions take an [`OutboxRow`] from [`Outbox::row`]) or right after it ([`Outbox::queue`]);
//!   a mail server outage therefore loses nothing, and a rolled-back action sends nothing.
//! - The worker runs on every instance (`App::spawn_background`). It wakes on new mail and every
//!   `mail.poll_secs`, claims each due row with a lease (`Db::outbox_claim`: a conditional
//!   UPDATE, so one instance sends a row, and a crashed instance's lease runs out after
//!   [`LEASE_SECS`]), and delivers it through the [`Mailer`]. Success marks it sent and forgets
//!   the body; a transient failure schedules the next attempt after [`backoff`]; a permanent one
//!   (5xx, a bad address) or the last of `mail.max_attempts` gives it up, visible in
//!   `pforte_mail_outbox_failed`, the log and the audit trail (`mail.failed`).
//! - With the development folder as transport, [`Outbox::queue`]'s caller may deliver at once
//!   ([`Outbox::deliver_now`]) so that the `.eml` file exists when the page answers.
//!
//! Time comes from the `Clock`, so tests with a manual clock move retries on by advancing it.

use std::{sync::Arc, time::Duration};

use tokio::sync::Notify;

use super::{ascii_address, Delivery, Mail, MailError, Mailer};
use crate::{
    audit::{self, Actor, Entry, Event},
    clock::Clock,
    config::MailConfig,
    metrics::MailMetrics,
    store::{outbox::OutboxRow, Db, StoreError},
    tokens::keys::Kek,
};

/// How long a claimed row stays with the instance that claimed it.
pub const LEASE_SECS: i64 = 300;
/// Rows claimed per round.
const BATCH: i64 = 20;

/// Retry timing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub base_secs: u64,
    pub max_secs: u64,
    pub max_attempts: u32,
}

impl RetryPolicy {
    pub fn of(config: &MailConfig) -> RetryPolicy {
        RetryPolicy {
            base_secs: config.retry_base_secs,
            max_secs: config.retry_max_secs,
            max_attempts: config.max_attempts,
        }
    }
}

/// Seconds to wait after failed attempt number `attempt` (1-based): `base · 2^(attempt-1)`,
/// at most `max`; `None` when that was the last attempt.
pub fn backoff(policy: RetryPolicy, attempt: u32) -> Option<u64> {
    if attempt >= policy.max_attempts {
        return None;
    }
    let factor = 1u64
        .checked_shl(attempt.saturating_sub(1))
        .unwrap_or(u64::MAX);
    Some(policy.base_secs.saturating_mul(factor).min(policy.max_secs))
}

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("sealing a mail: {0}")]
    Seal(String),
}

/// The outbox of one instance: the mailer, what it needs from the core, and the worker's bell.
#[derive(Clone, Debug)]
pub struct Outbox {
    mailer: Mailer,
    db: Db,
    kek: Kek,
    clock: Clock,
    policy: RetryPolicy,
    poll: Duration,
    wake: Arc<Notify>,
    metrics: MailMetrics,
}

impl Outbox {
    pub fn new(
        mailer: Mailer,
        db: Db,
        kek: Kek,
        clock: Clock,
        config: &MailConfig,
        metrics: MailMetrics,
    ) -> Outbox {
        Outbox {
            mailer,
            db,
            kek,
            clock,
            policy: RetryPolicy::of(config),
            poll: Duration::from_secs(config.poll_secs.max(1)),
            wake: Arc::new(Notify::new()),
            metrics,
        }
    }

    pub fn mailer(&self) -> &Mailer {
        &self.mailer
    }

    /// The row for `mail`, due now: recipient checked, body sealed. For `store` functions that
    /// queue the mail inside their own transaction; call [`Outbox::wake`] after they commit.
    pub fn row(&self, mail: &Mail) -> Result<OutboxRow, OutboxError> {
        ascii_address(&mail.to).ok_or(MailError::InvalidRecipient)?;
        if mail.subject.contains(['\r', '\n']) {
            return Err(MailError::InvalidHeader.into());
        }
        let id = crate::secrets::random_token(16);
        let body = self
            .kek
            .seal(&format!("mail|{id}"), mail.body.as_bytes())
            .map_err(|e| OutboxError::Seal(e.to_string()))?;
        let now = self.clock.now();
        Ok(OutboxRow {
            message_id: self.mailer.new_message_id(),
            recipient: mail.to.clone(),
            subject: mail.subject.clone(),
            body,
            created_at: now,
            attempts: 0,
            next_attempt_at: now,
            id,
        })
    }

    /// Queues `mail` on its own and wakes the worker; returns the row id.
    pub async fn queue(&self, mail: &Mail) -> Result<String, OutboxError> {
        let row = self.row(mail)?;
        self.db.outbox_insert(&row).await?;
        self.wake();
        Ok(row.id)
    }

    /// Queues `mail`, and with the development folder delivers it at once (so the file is
    /// there when the page answers); SMTP is left to the worker, so that no page waits for a
    /// mail server. Failures are logged: the mail stays queued.
    pub async fn send(&self, mail: &Mail) -> Result<String, OutboxError> {
        let id = self.queue(mail).await?;
        if self.mailer.is_folder() {
            self.deliver_now(&id).await;
        }
        Ok(id)
    }

    /// After a `store` function queued row `id` in its transaction: with the development
    /// folder, delivers it at once (the file is there when the page is), else wakes the worker.
    pub async fn queued(&self, id: &str) {
        if self.mailer.is_folder() {
            self.deliver_now(id).await;
        } else {
            self.wake();
        }
    }

    /// Tells the worker that mail is waiting.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Delivers the row `id` now if it is due and nobody holds it (else the worker will).
    pub async fn deliver_now(&self, id: &str) {
        let now = self.clock.now();
        match self.db.outbox_claim(id, now, now + LEASE_SECS).await {
            Ok(Some(row)) => self.attempt(row).await,
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "claiming a mail in the outbox failed"),
        }
    }

    /// One round: every due row this instance can claim, delivered in turn.
    pub async fn deliver_due(&self) -> Result<usize, StoreError> {
        let mut delivered = 0;
        loop {
            let now = self.clock.now();
            let ids = self.db.outbox_due(now, BATCH).await?;
            if ids.is_empty() {
                break;
            }
            let mut claimed_any = false;
            for id in &ids {
                let now = self.clock.now();
                if let Some(row) = self.db.outbox_claim(id, now, now + LEASE_SECS).await? {
                    claimed_any = true;
                    self.attempt(row).await;
                    delivered += 1;
                }
            }
            if !claimed_any || (ids.len() as i64) < BATCH {
                break;
            }
        }
        if let Ok(c) = self.db.outbox_counts().await {
            self.metrics.outbox(c.pending, c.failed);
        }
        Ok(delivered)
    }

    /// Delivers a claimed row and records the outcome.
    async fn attempt(&self, row: OutboxRow) {
        let body = self
            .kek
            .open("mail", &format!("mail|{}", row.id), &row.body)
            .map_err(|e| MailError::Build(format!("the sealed body does not open: {e}")))
            .and_then(|b| {
                String::from_utf8(b).map_err(|_| MailError::Build("body is not UTF-8".into()))
            });
        let result = match body {
            Ok(body) => {
                let mail = Mail {
                    to: row.recipient.clone(),
                    subject: row.subject.clone(),
                    body,
                };
                self.mailer.deliver(&mail, &row.message_id).await
            }
            Err(e) => Err(e),
        };
        let now = self.clock.now();
        let attempt = u32::try_from(row.attempts + 1).unwrap_or(u32::MAX);
        let recorded = match result {
            Ok(delivery) => {
                if delivery != Delivery::NotConfigured {
                    tracing::info!(mail = %row.id, transport = self.mailer.transport_name(), attempt, "mail delivered");
                }
                self.metrics.delivery("sent");
                self.db.outbox_sent(&row.id, now).await
            }
            Err(e) => {
                let next = if e.is_transient() {
                    backoff(self.policy, attempt)
                } else {
                    None
                };
                let error = e.to_string();
                match next {
                    Some(wait) => {
                        tracing::warn!(mail = %row.id, attempt, retry_in_secs = wait, error = %error, "mail delivery failed; will retry");
                        self.metrics.delivery("retry");
                    }
                    None => {
                        tracing::error!(mail = %row.id, attempt, error = %error, "mail delivery failed; given up");
                        self.metrics.delivery("failed");
                        audit::record_or_log(
                            &self.db,
                            Entry::new(Event::MailFailed, Actor::System)
                                .with("mail", &row.id)
                                .with("attempts", attempt)
                                .with("error", &error),
                        )
                        .await;
                    }
                }
                self.db
                    .outbox_failed(&row.id, now, next.map(|w| now + w as i64), &error)
                    .await
            }
        };
        if let Err(e) = recorded {
            // The lease runs out and the row is tried again: at worst a second delivery of
            // the same Message-ID.
            tracing::error!(mail = %row.id, error = %e, "recording a mail delivery failed");
        }
    }

    /// The worker: delivers due mail now, on every wake-up and every `mail.poll_secs`.
    pub fn spawn_worker(&self) -> tokio::task::JoinHandle<()> {
        let outbox = self.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = outbox.deliver_due().await {
                    tracing::error!(error = %e, "reading the mail outbox failed");
                }
                tokio::select! {
                    _ = outbox.wake.notified() => {}
                    _ = tokio::time::sleep(outbox.poll) => {}
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_maximum_and_stops() {
        let p = RetryPolicy {
            base_secs: 30,
            max_secs: 3600,
            max_attempts: 10,
        };
        assert_eq!(backoff(p, 1), Some(30));
        assert_eq!(backoff(p, 2), Some(60));
        assert_eq!(backoff(p, 3), Some(120));
        assert_eq!(backoff(p, 8), Some(3600));
        assert_eq!(backoff(p, 9), Some(3600));
        assert_eq!(backoff(p, 10), None);
        assert_eq!(
            backoff(
                RetryPolicy {
                    max_attempts: 200,
                    ..p
                },
                100
            ),
            Some(3600)
        );
    }

    #[tokio::test]
    async fn a_row_is_claimed_once_and_retried_after_backoff() {
        let core = crate::core::testing::memory_core("http://127.0.0.1:9").await;
        let outbox = &core.outbox;
        let mail = Mail {
            to: "anna@example.de".into(),
            subject: "Hallo".into(),
            body: "https://x/reset?token=SECRET".into(),
        };
        let row = outbox.row(&mail).unwrap();
        assert!(!row.body.contains("SECRET"), "the body is sealed");
        core.db.outbox_insert(&row).await.unwrap();
        let now = core.clock.now();
        let first = core
            .db
            .outbox_claim(&row.id, now, now + LEASE_SECS)
            .await
            .unwrap();
        assert!(first.is_some());
        // A second instance finds it claimed.
        assert!(core
            .db
            .outbox_claim(&row.id, now, now + LEASE_SECS)
            .await
            .unwrap()
            .is_none());
        core.db
            .outbox_failed(&row.id, now, Some(now + 30), "down")
            .await
            .unwrap();
        assert!(core.db.outbox_due(now, 10).await.unwrap().is_empty());
        assert_eq!(
            core.db.outbox_due(now + 30, 10).await.unwrap(),
            vec![row.id.clone()]
        );
        // A lease that ran out (crashed instance) frees the row again.
        let claimed = core
            .db
            .outbox_claim(&row.id, now + 30, now + 40)
            .await
            .unwrap();
        assert!(claimed.is_some());
        assert!(core.db.outbox_due(now + 35, 10).await.unwrap().is_empty());
        assert_eq!(core.db.outbox_due(now + 40, 10).await.unwrap().len(), 1);
        core.db.outbox_sent(&row.id, now + 41).await.unwrap();
        assert!(core.db.outbox_due(now + 1000, 10).await.unwrap().is_empty());
        let counts = core.db.outbox_counts().await.unwrap();
        assert_eq!((counts.pending, counts.failed), (0, 0));
    }
}
