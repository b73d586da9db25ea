-- Issue 8, point 5: which clients may receive OpenID Connect for Identity Assurance
-- `verified_claims` (claims proofed by the eID or in person). Off for every existing client.
ALTER TABLE clients ADD COLUMN verified_claims BIGINT NOT NULL DEFAULT 0;
