-- Pforte core schema. Written in the SQL subset that SQLite and PostgreSQL share:
-- TEXT identifiers, BIGINT Unix seconds for times, BIGINT 0/1 for flags, JSON as TEXT.

-- Relying parties (OpenID Connect clients).
CREATE TABLE clients (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_hash TEXT,                                  -- argon2id PHC string; NULL: public client
    redirect_uris TEXT NOT NULL,                       -- JSON array of exact URIs
    post_logout_redirect_uris TEXT NOT NULL,           -- JSON array of exact URIs
    grant_types TEXT NOT NULL,                         -- JSON array
    scopes TEXT NOT NULL,                              -- JSON array: what the client may ask for
    token_endpoint_auth_method TEXT NOT NULL,
    jwks TEXT,                                         -- JSON Web Key Set for private_key_jwt
    jwks_uri TEXT,
    id_token_signed_response_alg TEXT NOT NULL,
    acr_vocabulary TEXT NOT NULL,                      -- eidas | bsi | stork
    first_party BIGINT NOT NULL,                       -- 1: consent is implied
    min_level TEXT,                                    -- assurance policy: minimum level
    created_at BIGINT NOT NULL,
    disabled_at BIGINT
);

-- Citizens. Profile claims live in account_attributes with their provenance.
CREATE TABLE accounts (
    id TEXT PRIMARY KEY,                               -- the public `sub`
    email TEXT NOT NULL UNIQUE,                        -- lower-cased
    email_verified BIGINT NOT NULL,
    password_hash TEXT,                                -- argon2id PHC; NULL: no local password
    proofing_level TEXT NOT NULL,                      -- how well the identity was verified
    proofing_evidence TEXT,
    proofed_at BIGINT,
    created_at BIGINT NOT NULL,
    disabled_at BIGINT
);

-- Every profile attribute with where it came from, at what level, and when it was verified.
CREATE TABLE account_attributes (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,                                -- OIDC claim name, e.g. given_name
    value TEXT NOT NULL,
    source TEXT NOT NULL,                              -- self | eid | upstream:<id> | office
    level TEXT NOT NULL,
    verified_at BIGINT,
    PRIMARY KEY (account_id, name)
);

-- Identities at upstream sources linked to an account (Servicekonto.NRW, eID, BundID, ...).
CREATE TABLE account_identities (
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    linked_at BIGINT NOT NULL,
    PRIMARY KEY (provider, subject)
);

-- Consent a citizen gave a client, per scope set.
CREATE TABLE consents (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    client_id TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    scopes TEXT NOT NULL,                              -- JSON array
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, client_id)
);

-- A grant: one authorization (code exchange or client_credentials issuance). Refresh-token
-- families and the access tokens issued from them hang off it; revoking it revokes them all.
CREATE TABLE grants (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    account_id TEXT,
    scope TEXT NOT NULL,
    claims TEXT,                                       -- the `claims` request parameter, JSON
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    revoked_reason TEXT
);
CREATE INDEX grants_account ON grants(account_id);

CREATE TABLE authorization_codes (
    code_hash TEXT PRIMARY KEY,                        -- SHA-256 of the code; the code itself is never stored
    grant_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    nonce TEXT,
    code_challenge TEXT,
    code_challenge_method TEXT,
    claims TEXT,                                       -- the `claims` request parameter, JSON
    auth_time BIGINT NOT NULL,
    acr TEXT NOT NULL,
    amr TEXT NOT NULL,                                 -- JSON array
    sid TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    grant_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    claims TEXT,
    auth_time BIGINT NOT NULL,
    acr TEXT NOT NULL,
    amr TEXT NOT NULL,
    sid TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT                                     -- set when rotated; a second use revokes the grant
);
CREATE INDEX refresh_tokens_grant ON refresh_tokens(grant_id);

-- Issued JWT access tokens (RFC 9068): the ledger introspection and revocation consult.
CREATE TABLE access_tokens (
    jti TEXT PRIMARY KEY,
    grant_id TEXT,
    client_id TEXT NOT NULL,
    account_id TEXT,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX access_tokens_grant ON access_tokens(grant_id);
CREATE INDEX access_tokens_expiry ON access_tokens(expires_at);

-- private_key_jwt assertion identifiers already seen (RFC 7523 §3 item 7: replay protection).
CREATE TABLE client_assertion_jtis (
    client_id TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, jti)
);

-- Signing keys, private parts encrypted with the key-encryption key (AES-256-GCM).
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    state TEXT NOT NULL,                               -- next | current | retired
    private_key TEXT NOT NULL,                         -- base64(nonce || ciphertext || tag)
    public_jwk TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    activated_at BIGINT,
    retired_at BIGINT,
    remove_after BIGINT                                -- retired keys stay in JWKS until then
);

-- Security-relevant events: who did what, when, with before and after where it applies.
CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,                               -- time-ordered
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT NOT NULL                               -- JSON
);
CREATE INDEX audit_log_at ON audit_log(at);
