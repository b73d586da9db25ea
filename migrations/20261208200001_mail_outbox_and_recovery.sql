-- The durable mail outbox, password reset links and e-mail change links.

-- Every outgoing mail, written in (or right after) the transaction of the action that causes
-- it, and delivered by a worker on any instance. An instance claims a row by moving
-- `claimed_until` into the future with a conditional UPDATE (a lease): of several instances
-- only one sends it, and a crashed instance's claim runs out. The body carries single-use
-- links: it is stored encrypted under the KEK and emptied once the mail is sent or given up.
CREATE TABLE mail_outbox (
    id TEXT PRIMARY KEY,
    message_id TEXT NOT NULL,          -- the same Message-ID on every attempt
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,                -- sealed under the KEK, associated data `mail|{id}`
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    claimed_until BIGINT NOT NULL,
    sent_at BIGINT,
    failed_at BIGINT,                  -- given up (permanent error or too many attempts)
    last_error TEXT
);
CREATE INDEX mail_outbox_due ON mail_outbox(sent_at, failed_at, next_attempt_at);

-- Password reset links: only the SHA-256 of the token; single use; bound to the address the
-- link was sent to (void when the account's address changed since).
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX password_resets_account ON password_resets(account_id);
CREATE INDEX password_resets_expiry ON password_resets(expires_at);

-- When the last reset link went to an account (at most one per window: no mailbox flooding).
CREATE TABLE password_reset_mails (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    sent_at BIGINT NOT NULL
);

-- E-mail changes waiting for the confirmation link sent to the new address.
CREATE TABLE email_changes (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    old_email TEXT NOT NULL,
    new_email TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX email_changes_account ON email_changes(account_id);
CREATE INDEX email_changes_expiry ON email_changes(expires_at);
