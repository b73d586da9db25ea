-- Second factors: TOTP secrets and WebAuthn passkeys (secret data encrypted with the KEK),
-- and single-use recovery codes (stored as hashes only).
CREATE TABLE credentials (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,                                -- totp | passkey
    label TEXT NOT NULL,
    secret TEXT NOT NULL,                              -- KEK-encrypted: TOTP seed, or the passkey JSON
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    last_step BIGINT                                   -- TOTP: last accepted time step (replay guard)
);
CREATE INDEX credentials_account ON credentials(account_id);

CREATE TABLE recovery_codes (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (account_id, code_hash)
);
