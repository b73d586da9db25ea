-- What each service received about a citizen (the account's "Datencockpit"): one row per
-- account, client and set of claim names, updated in place on every further release, so a
-- refresh every few minutes does not grow the table.
CREATE TABLE releases (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    claims TEXT NOT NULL,                              -- JSON array of claim names, sorted
    level TEXT NOT NULL,                               -- low | substantial | high, at the last release
    first_at BIGINT NOT NULL,
    last_at BIGINT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (account_id, client_id, claims)
);
CREATE INDEX releases_account ON releases(account_id, last_at);
