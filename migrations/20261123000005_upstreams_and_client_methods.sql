-- Upstream identity sources (Servicekonto.NRW, eID services, other OpenID providers) and
-- which login methods and sources each client may offer.
CREATE TABLE upstreams (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    profile TEXT NOT NULL,                             -- servicekonto-nrw | eid | oidc
    issuer TEXT NOT NULL,
    client_id TEXT NOT NULL,
    client_secret TEXT NOT NULL,                       -- KEK-encrypted
    max_level TEXT NOT NULL,                           -- the admin's trust: cap on what it asserts
    acr_map TEXT NOT NULL,                             -- JSON object: upstream acr value -> level
    created_at BIGINT NOT NULL,
    disabled_at BIGINT
);

ALTER TABLE clients ADD COLUMN login_methods TEXT;     -- JSON array (password, totp, passkey); NULL: all
ALTER TABLE clients ADD COLUMN upstreams TEXT;         -- JSON array of upstream ids; NULL: all
