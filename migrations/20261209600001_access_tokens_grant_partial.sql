-- The ledger's grant index only for tokens that have a grant (docs/performance.md, finding 3c):
-- client_credentials tokens have none, and indexing their NULLs cost a second B-tree insert
-- per token for an index no query uses for them (revocation looks up `grant_id = $1`, which
-- both SQLite and PostgreSQL answer from a partial index on `grant_id IS NOT NULL`).
DROP INDEX access_tokens_grant;
CREATE INDEX access_tokens_grant ON access_tokens(grant_id) WHERE grant_id IS NOT NULL;
