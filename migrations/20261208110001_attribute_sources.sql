-- Issue 8, point 5: several sources may hold the same attribute (self-entered, checked in
-- person at the office, delivered by an upstream such as the eID), each with its level and
-- verification time. The key becomes (account, name, source); which value a service gets is
-- decided in code (accounts::profile::effective). SQLite cannot change a primary key in
-- place, so both databases create the new table, copy, and swap.
CREATE TABLE account_attributes_new (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,                                -- OIDC claim name, e.g. given_name; address.<part>
    value TEXT NOT NULL,
    source TEXT NOT NULL,                              -- self | office | upstream:<id>
    level TEXT NOT NULL,                               -- how well this value was verified
    verified_at BIGINT,                                -- NULL: never verified (self-entered)
    PRIMARY KEY (account_id, name, source)
);
INSERT INTO account_attributes_new (account_id, name, value, source, level, verified_at)
    SELECT account_id, name, value, source, level, verified_at FROM account_attributes;
DROP TABLE account_attributes;
ALTER TABLE account_attributes_new RENAME TO account_attributes;
