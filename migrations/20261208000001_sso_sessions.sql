-- The registry of single sign-on sessions: one row per login (its `sid`), so that all sessions
-- of an account can be listed and ended (log out everywhere, password reset, deletion, an
-- admin disabling the account) and so that logout knows which services a session reached
-- (back-channel logout). The browser's session record (tower-sessions) holds the login; a
-- login whose row here is ended or missing counts as logged out.
CREATE TABLE sso_sessions (
    sid TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    auth_time BIGINT NOT NULL,
    methods TEXT NOT NULL,                             -- JSON array of method names, in order
    level TEXT NOT NULL,                               -- the level the login reached
    user_agent TEXT,                                   -- truncated, for "which device" lists
    address TEXT,                                      -- client address at login
    ended_at BIGINT,
    end_reason TEXT
);
CREATE INDEX sso_sessions_account ON sso_sessions(account_id);

-- The services (clients) a session reached: an authorization code was issued in it.
CREATE TABLE session_clients (
    sid TEXT NOT NULL,
    client_id TEXT NOT NULL,
    first_at BIGINT NOT NULL,
    last_at BIGINT NOT NULL,
    PRIMARY KEY (sid, client_id)
);
