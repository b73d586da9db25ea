//! The registry of single sign-on sessions (`sso_sessions`) and the services each reached
//! (`session_clients`).
//!
//! The browser's tower-sessions record carries the login; this registry is what makes a login
//! visible and endable from outside the browser: "log out everywhere else", a password reset,
//! deletion, an admin disabling the account, and logout knowing which services to tell.

use serde::Serialize;
use sqlx::{any::AnyRow, Row};

use super::{Cell, Db, Result};
use crate::assurance::{level::Method, Level};

/// A registered session, as lists and the account pages show it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct SsoSession {
    pub sid: String,
    pub account_id: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub auth_time: i64,
    pub methods: Vec<Method>,
    pub level: Level,
    pub user_agent: Option<String>,
    pub address: Option<String>,
    pub ended_at: Option<i64>,
    pub end_reason: Option<String>,
}

/// What to register for a new login.
#[derive(Clone, Debug)]
pub struct NewSession<'a> {
    pub sid: &'a str,
    pub account_id: &'a str,
    pub auth_time: i64,
    pub methods: &'a [Method],
    pub level: Level,
    pub user_agent: Option<&'a str>,
    pub address: Option<&'a str>,
}

/// Which sessions to end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndWhich<'a> {
    One(&'a str),
    /// Every live session of the account, except `except` (the one the citizen is using).
    Account {
        account_id: &'a str,
        except: Option<&'a str>,
    },
}

/// A session that was live and has just been ended, with the services it reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndedSession {
    pub sid: String,
    pub account_id: String,
    pub clients: Vec<String>,
}

/// A user agent is kept only as far as a device list needs it.
const USER_AGENT_MAX: usize = 256;

const COLUMNS: &str = "sid, account_id, created_at, last_seen_at, auth_time, methods, level, \
                       user_agent, address, ended_at, end_reason";

fn from_row(r: &AnyRow) -> Result<SsoSession> {
    let sid: String = r.try_get("sid")?;
    let cell = |column| Cell {
        table: "sso_sessions",
        column,
        key: &sid,
    };
    let methods = cell("methods").json(&r.try_get::<String, _>("methods")?)?;
    let level = cell("level").parse(&r.try_get::<String, _>("level")?, Level::parse_name)?;
    Ok(SsoSession {
        account_id: r.try_get("account_id")?,
        created_at: r.try_get("created_at")?,
        last_seen_at: r.try_get("last_seen_at")?,
        auth_time: r.try_get("auth_time")?,
        methods,
        level,
        user_agent: r.try_get("user_agent")?,
        address: r.try_get("address")?,
        ended_at: r.try_get("ended_at")?,
        end_reason: r.try_get("end_reason")?,
        sid,
    })
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

impl Db {
    /// Registers a new login, or (a step-up keeps the `sid`) updates its level, methods and
    /// `auth_time`. A session that was ended stays ended.
    pub async fn sso_session_put(&self, s: &NewSession<'_>) -> Result<()> {
        let now = self.now();
        let methods = serde_json::to_string(s.methods).expect("methods always serialise");
        sqlx::query(
            "INSERT INTO sso_sessions (sid, account_id, created_at, last_seen_at, auth_time, \
             methods, level, user_agent, address) VALUES ($1,$2,$3,$3,$4,$5,$6,$7,$8) \
             ON CONFLICT (sid) DO UPDATE SET last_seen_at = $3, auth_time = $4, methods = $5, \
             level = $6 WHERE sso_sessions.account_id = $2",
        )
        .bind(s.sid)
        .bind(s.account_id)
        .bind(now)
        .bind(s.auth_time)
        .bind(methods)
        .bind(s.level.as_str())
        .bind(s.user_agent.map(|u| truncate(u, USER_AGENT_MAX)))
        .bind(s.address)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Whether the session `sid` of `account_id` is registered and not ended. Refreshes
    /// `last_seen_at` when it is older than `touch_after` seconds (one write per interval, not
    /// per request).
    pub async fn sso_session_live(
        &self,
        sid: &str,
        account_id: &str,
        touch_after: i64,
    ) -> Result<bool> {
        let now = self.now();
        let row = sqlx::query(
            "SELECT last_seen_at FROM sso_sessions \
             WHERE sid = $1 AND account_id = $2 AND ended_at IS NULL",
        )
        .bind(sid)
        .bind(account_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(false);
        };
        let last_seen: i64 = row.try_get("last_seen_at")?;
        if now - last_seen >= touch_after {
            sqlx::query(
                "UPDATE sso_sessions SET last_seen_at = $1 WHERE sid = $2 AND ended_at IS NULL",
            )
            .bind(now)
            .bind(sid)
            .execute(&self.pool)
            .await?;
        }
        Ok(true)
    }

    /// The account's sessions that are not ended and were seen within `idle` seconds, newest
    /// first.
    pub async fn sso_sessions_of(&self, account_id: &str, idle: i64) -> Result<Vec<SsoSession>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM sso_sessions WHERE account_id = $1 AND ended_at IS NULL \
             AND last_seen_at >= $2 ORDER BY last_seen_at DESC, sid"
        ))
        .bind(account_id)
        .bind(self.now() - idle)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    pub async fn sso_session_get(&self, sid: &str) -> Result<Option<SsoSession>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM sso_sessions WHERE sid = $1"
        ))
        .bind(sid)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Records that the session reached `client_id` (an authorization code was issued in it).
    pub async fn sso_session_client(&self, sid: &str, client_id: &str) -> Result<()> {
        let now = self.now();
        sqlx::query(
            "INSERT INTO session_clients (sid, client_id, first_at, last_at) VALUES ($1,$2,$3,$3) \
             ON CONFLICT (sid, client_id) DO UPDATE SET last_at = $3",
        )
        .bind(sid)
        .bind(client_id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The services the session reached, by client id.
    pub async fn sso_session_clients(&self, sid: &str) -> Result<Vec<String>> {
        let rows =
            sqlx::query("SELECT client_id FROM session_clients WHERE sid = $1 ORDER BY client_id")
                .bind(sid)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(|r| Ok(r.try_get("client_id")?)).collect()
    }

    /// Ends the chosen live sessions in one transaction and returns each with the services it
    /// reached. A session already ended is not returned again (ending is idempotent, so a
    /// logout token is never queued twice for one session).
    pub async fn sso_sessions_end(
        &self,
        which: EndWhich<'_>,
        reason: &str,
    ) -> Result<Vec<EndedSession>> {
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        let rows = match which {
            EndWhich::One(sid) => {
                sqlx::query(
                    "UPDATE sso_sessions SET ended_at = $1, end_reason = $2 \
                     WHERE sid = $3 AND ended_at IS NULL RETURNING sid, account_id",
                )
                .bind(now)
                .bind(reason)
                .bind(sid)
                .fetch_all(&mut *tx)
                .await?
            }
            EndWhich::Account { account_id, except } => {
                sqlx::query(
                    "UPDATE sso_sessions SET ended_at = $1, end_reason = $2 \
                     WHERE account_id = $3 AND ended_at IS NULL AND sid <> $4 \
                     RETURNING sid, account_id",
                )
                .bind(now)
                .bind(reason)
                .bind(account_id)
                .bind(except.unwrap_or(""))
                .fetch_all(&mut *tx)
                .await?
            }
        };
        let mut ended = Vec::with_capacity(rows.len());
        for r in &rows {
            let sid: String = r.try_get("sid")?;
            let clients = sqlx::query(
                "SELECT client_id FROM session_clients WHERE sid = $1 ORDER BY client_id",
            )
            .bind(&sid)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|c| c.try_get("client_id"))
            .collect::<std::result::Result<Vec<String>, _>>()?;
            let account_id: String = r.try_get("account_id")?;
            // Back-channel logout: queued with the end of the session, in its transaction, so
            // a session never ends without its logout tokens (crate::backchannel delivers).
            super::backchannel::queue_in(&mut tx, &sid, &account_id, &clients, now).await?;
            // Back-Channel Logout §2.7: refresh tokens of the session die with it (not
            // offline_access ones).
            super::backchannel::revoke_session_grants_in(&mut tx, &sid, now).await?;
            ended.push(EndedSession {
                account_id,
                sid,
                clients,
            });
        }
        tx.commit().await?;
        ended.sort_by(|a, b| a.sid.cmp(&b.sid));
        Ok(ended)
    }

    /// Drops registry rows of sessions ended, or last seen, before `before`.
    pub async fn sso_sessions_purge(&self, before: i64) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "DELETE FROM session_clients WHERE sid IN (SELECT sid FROM sso_sessions \
             WHERE (ended_at IS NOT NULL AND ended_at < $1) OR last_seen_at < $1)",
        )
        .bind(before)
        .execute(&mut *tx)
        .await?;
        let n = sqlx::query(
            "DELETE FROM sso_sessions WHERE (ended_at IS NOT NULL AND ended_at < $1) \
             OR last_seen_at < $1",
        )
        .bind(before)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n)
    }
}
