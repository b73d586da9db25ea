-- Issue 10, item 4: who may introspect other clients' tokens, and the legacy opt-out of PKCE.
--
-- `may_introspect`: a resource server the admin named (`pforte client add --introspect`):
-- it may introspect tokens issued to any client. Every other client learns only about its
-- own tokens (RFC 7662 §2.2: otherwise `{"active": false}`).
-- `pkce_optional`: a legacy confidential client that cannot send PKCE
-- (`--pkce-optional`). PKCE is required of every other client (RFC 9700 §2.1.1), existing
-- ones included: set the flag for a confidential client that breaks after the upgrade.
ALTER TABLE clients ADD COLUMN may_introspect BIGINT NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN pkce_optional BIGINT NOT NULL DEFAULT 0;
