-- Self-registration: the throttle for re-sent verification links (`POST /register/resend`).

-- When a fresh verification link was last sent to an account on request (at most one per
-- window, so the resend form cannot be used to flood a mailbox). The link sent at
-- registration does not count; rows older than the window are purged periodically.
CREATE TABLE verification_resends (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    sent_at BIGINT NOT NULL
);
