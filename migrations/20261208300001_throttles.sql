-- Brute-force throttling shared by every instance (src/throttle.rs): one row per key
-- (`login-account:<sha256 of the normalised address>`, `login-address:<client address>`,
-- `client-auth:<client address>`, `register:<client address>`, …).
--
-- `attempts` counts the attempts since the row was last forgotten (the last attempt older
-- than the policy's forget time) or reset (a successful login); `locked_until` is when the
-- next attempt is allowed again. Rows are updated by compare-and-set on (`attempts`,
-- `last_at`), so two instances never both take the same attempt. Purged periodically.
CREATE TABLE throttles (
    key TEXT PRIMARY KEY,
    attempts BIGINT NOT NULL,
    last_at BIGINT NOT NULL,
    locked_until BIGINT NOT NULL
);
CREATE INDEX throttles_last_at ON throttles (last_at);
