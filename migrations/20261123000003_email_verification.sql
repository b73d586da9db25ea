-- Self-registration: e-mail verification links and the throttle for "already registered" mails.

-- Single-use verification links. Only the SHA-256 of the link's token is stored (like
-- authorization codes), so a database leak does not yield usable links.
CREATE TABLE email_verifications (
    token_hash TEXT PRIMARY KEY,                       -- base64url(SHA-256(token))
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    email TEXT NOT NULL,                               -- the address the link confirms
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX email_verifications_account ON email_verifications(account_id);
CREATE INDEX email_verifications_expiry ON email_verifications(expires_at);

-- When an account holder was last told that someone tried to register with their address
-- (at most one such mail per window, so the form cannot be used to flood a mailbox).
CREATE TABLE registration_notices (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    sent_at BIGINT NOT NULL
);
