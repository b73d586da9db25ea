-- Issue 8: logging in through upstream OpenID Connect sources. What the login flow needs to
-- know about each source beyond its trust (NULL: the profile's default, upstream::Profile).
ALTER TABLE upstreams ADD COLUMN scopes TEXT;          -- JSON array of scopes to ask for
ALTER TABLE upstreams ADD COLUMN claim_map TEXT;       -- JSON object: upstream claim -> Pforte claim
ALTER TABLE upstreams ADD COLUMN auth_method TEXT;     -- client_secret_basic | client_secret_post | private_key_jwt
ALTER TABLE upstreams ADD COLUMN userinfo BIGINT;      -- 1: also read the userinfo endpoint
ALTER TABLE upstreams ADD COLUMN end_session BIGINT;   -- 1: RP-initiated logout ends the upstream session too
-- When a linked identity was last used to log in (shown on the account page).
ALTER TABLE account_identities ADD COLUMN last_login_at BIGINT;
CREATE INDEX account_identities_account ON account_identities (account_id);
