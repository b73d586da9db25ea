//! Grants and what hangs off them: authorization codes, refresh-token families, access tokens.
//!
//! Secrets (codes, refresh tokens) are stored only as SHA-256 hashes. Single use is enforced by
//! conditional updates, so two concurrent redemptions cannot both succeed, on either database.

use sqlx::{any::AnyRow, Row};
use std::collections::HashMap;

use super::{json_list, Cell, Db, OwnConnection, Result};

/// What a code or refresh token carries from the login it stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthContext {
    pub account_id: String,
    pub scope: String,
    pub claims: Option<String>,
    pub auth_time: i64,
    pub acr: String,
    /// RFC 8176 values (stored as a JSON array).
    pub amr: Vec<String>,
    pub sid: String,
}

#[derive(Clone, Debug)]
pub struct CodeRecord {
    pub code_hash: String,
    pub grant_id: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub ctx: AuthContext,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Clone, Debug)]
pub struct RefreshRecord {
    pub token_hash: String,
    pub grant_id: String,
    pub client_id: String,
    pub ctx: AuthContext,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Clone, Debug)]
pub struct AccessRecord {
    pub jti: String,
    pub grant_id: Option<String>,
    pub client_id: String,
    pub account_id: Option<String>,
    pub expires_at: i64,
}

/// Outcome of redeeming a single-use secret.
#[derive(Debug)]
pub enum Redeem<T> {
    /// First use: here is the record.
    Ok(T),
    /// Already used: the grant it belongs to (now revoked by the caller's policy).
    Replayed { grant_id: String, client_id: String },
    /// Unknown (or purged).
    NotFound,
}

/// State of an access token in the ledger, for introspection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccessState {
    /// Live; with the `claims` request parameter of its grant, if any.
    Active {
        claims: Option<String>,
        /// The citizen it was issued for (`None`: client_credentials). The token's `sub` is
        /// what its client sees, which for a pairwise client is not the account id.
        account_id: Option<String>,
    },
    Revoked,
    Unknown,
}

/// The login context of a code or refresh token row (`table`), keyed by its grant in errors.
fn ctx_from_row(row: &AnyRow, table: &'static str) -> Result<AuthContext> {
    let grant_id: String = row.try_get("grant_id")?;
    let amr = Cell {
        table,
        column: "amr",
        key: &grant_id,
    }
    .json(&row.try_get::<String, _>("amr")?)?;
    Ok(AuthContext {
        account_id: row.try_get("account_id")?,
        scope: row.try_get("scope")?,
        claims: row.try_get("claims")?,
        auth_time: row.try_get("auth_time")?,
        acr: row.try_get("acr")?,
        amr,
        sid: row.try_get("sid")?,
    })
}

fn refresh_from_row(r: &AnyRow) -> Result<RefreshRecord> {
    Ok(RefreshRecord {
        token_hash: r.try_get("token_hash")?,
        grant_id: r.try_get("grant_id")?,
        client_id: r.try_get("client_id")?,
        ctx: ctx_from_row(r, "refresh_tokens")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
    })
}

impl Db {
    /// Stores a new grant with its first code.
    pub async fn code_insert(&self, c: &CodeRecord) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO grants (id, client_id, account_id, scope, claims, created_at) VALUES ($1,$2,$3,$4,$5,$6)")
            .bind(&c.grant_id)
            .bind(&c.client_id)
            .bind(&c.ctx.account_id)
            .bind(&c.ctx.scope)
            .bind(&c.ctx.claims)
            .bind(c.created_at)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO authorization_codes (code_hash, grant_id, client_id, account_id, redirect_uri, scope, nonce, \
             code_challenge, code_challenge_method, claims, auth_time, acr, amr, sid, created_at, expires_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)",
        )
        .bind(&c.code_hash)
        .bind(&c.grant_id)
        .bind(&c.client_id)
        .bind(&c.ctx.account_id)
        .bind(&c.redirect_uri)
        .bind(&c.ctx.scope)
        .bind(&c.nonce)
        .bind(&c.code_challenge)
        .bind(&c.code_challenge_method)
        .bind(&c.ctx.claims)
        .bind(c.ctx.auth_time)
        .bind(&c.ctx.acr)
        .bind(json_list(&c.ctx.amr))
        .bind(&c.ctx.sid)
        .bind(c.created_at)
        .bind(c.expires_at)
        .execute(&mut *tx)
        .await?;
        Ok(tx.commit().await?)
    }

    /// Marks a code of `client_id` used and returns it, exactly once (RFC 6749 §4.1.2: single
    /// use). A code issued to another client is `NotFound` and stays unused, so whoever holds a
    /// leaked code cannot burn it for its client.
    pub async fn code_redeem(
        &self,
        code_hash: &str,
        client_id: &str,
        now: i64,
    ) -> Result<Redeem<CodeRecord>> {
        let row = sqlx::query(
            "UPDATE authorization_codes SET used_at = $1 \
             WHERE code_hash = $2 AND client_id = $3 AND used_at IS NULL \
             RETURNING code_hash, grant_id, client_id, account_id, redirect_uri, scope, nonce, code_challenge, \
             code_challenge_method, claims, auth_time, acr, amr, sid, created_at, expires_at",
        )
        .bind(now)
        .bind(code_hash)
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(r) = row {
            return Ok(Redeem::Ok(CodeRecord {
                code_hash: r.try_get("code_hash")?,
                grant_id: r.try_get("grant_id")?,
                client_id: r.try_get("client_id")?,
                redirect_uri: r.try_get("redirect_uri")?,
                nonce: r.try_get("nonce")?,
                code_challenge: r.try_get("code_challenge")?,
                code_challenge_method: r.try_get("code_challenge_method")?,
                ctx: ctx_from_row(&r, "authorization_codes")?,
                created_at: r.try_get("created_at")?,
                expires_at: r.try_get("expires_at")?,
            }));
        }
        self.replay_lookup(
            "SELECT grant_id, client_id FROM authorization_codes WHERE code_hash = $1 AND client_id = $2",
            code_hash,
            Some(client_id),
        )
        .await
    }

    /// A used secret found by `sql` (binding `hash`, then `client_id` if given) is a replay.
    async fn replay_lookup<T>(
        &self,
        sql: &str,
        hash: &str,
        client_id: Option<&str>,
    ) -> Result<Redeem<T>> {
        let mut q = sqlx::query(sql).bind(hash);
        if let Some(c) = client_id {
            q = q.bind(c);
        }
        let row = q.fetch_optional(&self.pool).await?;
        Ok(match row {
            Some(r) => Redeem::Replayed {
                grant_id: r.try_get("grant_id")?,
                client_id: r.try_get("client_id")?,
            },
            None => Redeem::NotFound,
        })
    }

    /// Whether a grant is still live (not revoked).
    pub async fn grant_active(&self, grant_id: &str) -> Result<bool> {
        let row = sqlx::query("SELECT revoked_at FROM grants WHERE id = $1")
            .bind(grant_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => r.try_get::<Option<i64>, _>("revoked_at")?.is_none(),
            None => false,
        })
    }

    /// When a grant was created (the login it stands for), if it exists.
    pub async fn grant_created_at(&self, grant_id: &str) -> Result<Option<i64>> {
        let row = sqlx::query("SELECT created_at FROM grants WHERE id = $1")
            .bind(grant_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get::<i64, _>("created_at")?),
            None => None,
        })
    }

    /// Revokes a grant with all its refresh tokens and access tokens.
    pub async fn grant_revoke(&self, grant_id: &str, reason: &str, now: i64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE grants SET revoked_at = $1, revoked_reason = $2 WHERE id = $3 AND revoked_at IS NULL")
            .bind(now)
            .bind(reason)
            .bind(grant_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE access_tokens SET revoked_at = $1 WHERE grant_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(grant_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM refresh_tokens WHERE grant_id = $1")
            .bind(grant_id)
            .execute(&mut *tx)
            .await?;
        Ok(tx.commit().await?)
    }

    /// Revokes every grant one client holds for one account (consent withdrawn).
    pub async fn grants_revoke_for(
        &self,
        account_id: &str,
        client_id: &str,
        now: i64,
    ) -> Result<()> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM grants WHERE account_id = $1 AND client_id = $2 AND revoked_at IS NULL",
        )
        .bind(account_id)
        .bind(client_id)
        .fetch_all(&self.pool)
        .await?;
        for id in ids {
            self.grant_revoke(&id, "consent_revoked", now).await?;
        }
        Ok(())
    }

    /// A citizen withdraws a service (the account page): in one transaction its consent is
    /// removed, every grant it holds for the account revoked (one statement), its refresh
    /// tokens deleted and its access tokens marked revoked, so userinfo and introspection
    /// refuse them at once. Returns whether there was anything to withdraw.
    pub async fn service_revoke(
        &self,
        account_id: &str,
        client_id: &str,
        now: i64,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let consents = sqlx::query("DELETE FROM consents WHERE account_id = $1 AND client_id = $2")
            .bind(account_id)
            .bind(client_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let grants = sqlx::query(
            "UPDATE grants SET revoked_at = $1, revoked_reason = 'consent_revoked' \
             WHERE account_id = $2 AND client_id = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(account_id)
        .bind(client_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query(
            "UPDATE access_tokens SET revoked_at = $1 \
             WHERE account_id = $2 AND client_id = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(account_id)
        .bind(client_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM refresh_tokens WHERE account_id = $1 AND client_id = $2")
            .bind(account_id)
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(consents + grants > 0)
    }

    pub async fn refresh_insert(&self, r: &RefreshRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, grant_id, client_id, account_id, scope, claims, auth_time, acr, amr, \
             sid, created_at, expires_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)",
        )
        .bind(&r.token_hash)
        .bind(&r.grant_id)
        .bind(&r.client_id)
        .bind(&r.ctx.account_id)
        .bind(&r.ctx.scope)
        .bind(&r.ctx.claims)
        .bind(r.ctx.auth_time)
        .bind(&r.ctx.acr)
        .bind(json_list(&r.ctx.amr))
        .bind(&r.ctx.sid)
        .bind(r.created_at)
        .bind(r.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Marks a refresh token used (rotated) and returns it, exactly once.
    pub async fn refresh_redeem(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Redeem<RefreshRecord>> {
        let row = sqlx::query(
            "UPDATE refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL \
             RETURNING token_hash, grant_id, client_id, account_id, scope, claims, auth_time, acr, amr, sid, \
             created_at, expires_at",
        )
        .bind(now)
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(r) = row {
            return Ok(Redeem::Ok(refresh_from_row(&r)?));
        }
        self.replay_lookup(
            "SELECT grant_id, client_id FROM refresh_tokens WHERE token_hash = $1",
            token_hash,
            None,
        )
        .await
    }

    /// Looks a refresh token up without using it (introspection, revocation).
    pub async fn refresh_peek(&self, token_hash: &str) -> Result<Option<(RefreshRecord, bool)>> {
        let row = sqlx::query(
            "SELECT token_hash, grant_id, client_id, account_id, scope, claims, auth_time, acr, amr, sid, created_at, \
             expires_at, used_at FROM refresh_tokens WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            let used: Option<i64> = r.try_get("used_at")?;
            Ok((refresh_from_row(&r)?, used.is_none()))
        })
        .transpose()
    }

    /// Revokes one access token (RFC 7009). Returns whether it was known.
    pub async fn access_revoke(&self, jti: &str, client_id: &str, now: i64) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE access_tokens SET revoked_at = $1 WHERE jti = $2 AND client_id = $3",
        )
        .bind(now)
        .bind(jti)
        .bind(client_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n > 0)
    }
}

/// The access-token ledger's statements (`store::ledger`), on its connections of their own.
impl OwnConnection {
    /// Records issued access tokens in one statement (the issuance hot path batches them).
    pub async fn access_insert_many(&mut self, records: &[AccessRecord]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        // Keep well under SQLite's 32766 bound-parameter limit.
        for chunk in records.chunks(1000) {
            let mut sql = String::from(
                "INSERT INTO access_tokens (jti, grant_id, client_id, account_id, expires_at) VALUES ",
            );
            for i in 0..chunk.len() {
                let b = i * 5;
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "(${},${},${},${},${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5
                ));
            }
            let mut q = sqlx::query(&sql);
            for r in chunk {
                q = q
                    .bind(&r.jti)
                    .bind(&r.grant_id)
                    .bind(&r.client_id)
                    .bind(&r.account_id)
                    .bind(r.expires_at);
            }
            let r = q.execute(&mut *self.get().await?).await;
            self.check(r.map_err(Into::into))?;
        }
        Ok(())
    }

    /// The ledger's view of each access token in `jtis` (its own and its grant's revocation),
    /// in one query: the ledger reader (`store::ledger`) answers the introspection and
    /// userinfo requests that arrive together with one read. A `jti` not in the answer is
    /// [`AccessState::Unknown`].
    pub async fn access_states(&mut self, jtis: &[String]) -> Result<HashMap<String, AccessState>> {
        let mut states = HashMap::with_capacity(jtis.len());
        // Well under SQLite's 32766 bound-parameter limit.
        for chunk in jtis.chunks(1000) {
            let list = (1..=chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(",");
            let sql = format!(
                "SELECT a.jti AS jti, a.revoked_at AS revoked_at, g.revoked_at AS grant_revoked_at, \
                 g.claims AS claims, a.account_id AS account_id FROM access_tokens a \
                 LEFT JOIN grants g ON g.id = a.grant_id WHERE a.jti IN ({list})"
            );
            let mut q = sqlx::query(&sql);
            for jti in chunk {
                q = q.bind(jti);
            }
            let rows = q.fetch_all(&mut *self.get().await?).await;
            for r in self.check(rows.map_err(Into::into))? {
                let revoked: Option<i64> = r.try_get("revoked_at")?;
                let grant_revoked: Option<i64> = r.try_get("grant_revoked_at")?;
                let state = if revoked.is_some() || grant_revoked.is_some() {
                    AccessState::Revoked
                } else {
                    AccessState::Active {
                        claims: r.try_get("claims")?,
                        account_id: r.try_get("account_id")?,
                    }
                };
                states.insert(r.try_get("jti")?, state);
            }
        }
        Ok(states)
    }
}
