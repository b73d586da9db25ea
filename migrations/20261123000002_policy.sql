-- Assurance policy managed by admins (the per-client minimum is clients.min_level).
CREATE TABLE policy_levels (
    level TEXT PRIMARY KEY,                            -- low | substantial | high
    max_age BIGINT NOT NULL                            -- seconds a login counts at this level
);
CREATE TABLE policy_scopes (
    scope TEXT PRIMARY KEY,
    min_level TEXT NOT NULL
);
