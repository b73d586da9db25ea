-- OpenID Connect Back-Channel Logout 1.0: where a relying party receives logout tokens, and
-- the durable queue of logout tokens still to deliver.

-- Per client (Back-Channel Logout §2.2): the RP's back-channel logout endpoint and whether it
-- needs `sid` in the logout token. A client without a row takes no back-channel logout.
CREATE TABLE client_backchannel (
    client_id TEXT PRIMARY KEY,
    logout_uri TEXT NOT NULL,
    session_required BIGINT NOT NULL                   -- 1: the RP requires `sid`
);

-- One row per (ended session, client with a back-channel endpoint), written in the same
-- transaction that ends the session; delivered by the background worker of one instance at a
-- time (a row is claimed with `claimed_by`/`claimed_until` before it is sent), retried with
-- exponential backoff until delivered or given up.
CREATE TABLE backchannel_deliveries (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    sid TEXT NOT NULL,
    account_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    claimed_by TEXT,
    claimed_until BIGINT,
    delivered_at BIGINT,
    abandoned_at BIGINT,
    last_error TEXT
);
CREATE INDEX backchannel_deliveries_due ON backchannel_deliveries(next_attempt_at);

-- Leases for the duties only one instance should run at a time (key rotation, purges,
-- deliveries): a holder owns a lease until `until_at`, and renews it while it runs.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until_at BIGINT NOT NULL
);
