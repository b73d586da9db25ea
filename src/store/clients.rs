//! Relying parties (OpenID Connect clients) as stored.

use serde::Serialize;
use sqlx::{any::AnyRow, Row};

use super::{json_list, list_col, Db, Result};

/// A registered client. `secret_hash` is `None` for public clients (PKCE, no secret).
#[derive(Clone, Debug, Serialize)]
pub struct Client {
    pub id: String,
    pub name: String,
    #[serde(skip)]
    pub secret_hash: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub token_endpoint_auth_method: String,
    pub jwks: Option<String>,
    pub jwks_uri: Option<String>,
    pub id_token_signed_response_alg: String,
    pub acr_vocabulary: String,
    pub first_party: bool,
    pub min_level: Option<String>,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
    /// Local login methods this client may offer (`password`, `totp`, `passkey`); `None`: all.
    pub login_methods: Option<Vec<String>>,
    /// Upstream identity sources this client may offer; `None`: all.
    pub upstreams: Option<Vec<String>>,
}

impl Client {
    pub fn is_public(&self) -> bool {
        self.token_endpoint_auth_method == "none"
    }
    pub fn allows_grant(&self, grant: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant)
    }
    pub fn is_enabled(&self) -> bool {
        self.disabled_at.is_none()
    }
    /// Whether this client may offer a local login method (`password`, `totp`, `passkey`).
    pub fn offers_method(&self, method: &str) -> bool {
        self.login_methods
            .as_ref()
            .is_none_or(|m| m.iter().any(|x| x == method))
    }
}

const COLUMNS: &str = "id, name, secret_hash, redirect_uris, post_logout_redirect_uris, grant_types, scopes, \
    token_endpoint_auth_method, jwks, jwks_uri, id_token_signed_response_alg, acr_vocabulary, first_party, \
    min_level, created_at, disabled_at, login_methods, upstreams";

fn from_row(row: &AnyRow) -> Result<Client> {
    Ok(Client {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        secret_hash: row.try_get("secret_hash")?,
        redirect_uris: list_col(row, "redirect_uris")?,
        post_logout_redirect_uris: list_col(row, "post_logout_redirect_uris")?,
        grant_types: list_col(row, "grant_types")?,
        scopes: list_col(row, "scopes")?,
        token_endpoint_auth_method: row.try_get("token_endpoint_auth_method")?,
        jwks: row.try_get("jwks")?,
        jwks_uri: row.try_get("jwks_uri")?,
        id_token_signed_response_alg: row.try_get("id_token_signed_response_alg")?,
        acr_vocabulary: row.try_get("acr_vocabulary")?,
        first_party: row.try_get::<i64, _>("first_party")? != 0,
        min_level: row.try_get("min_level")?,
        created_at: row.try_get("created_at")?,
        disabled_at: row.try_get("disabled_at")?,
        login_methods: opt_list(row, "login_methods")?,
        upstreams: opt_list(row, "upstreams")?,
    })
}

fn opt_list(row: &AnyRow, col: &str) -> Result<Option<Vec<String>>> {
    let text: Option<String> = row.try_get(col)?;
    Ok(text.map(|t| super::parse_list(&t)))
}

impl Db {
    pub async fn client_insert(&self, c: &Client) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO clients ({COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18)"
        ))
        .bind(&c.id)
        .bind(&c.name)
        .bind(&c.secret_hash)
        .bind(json_list(&c.redirect_uris))
        .bind(json_list(&c.post_logout_redirect_uris))
        .bind(json_list(&c.grant_types))
        .bind(json_list(&c.scopes))
        .bind(&c.token_endpoint_auth_method)
        .bind(&c.jwks)
        .bind(&c.jwks_uri)
        .bind(&c.id_token_signed_response_alg)
        .bind(&c.acr_vocabulary)
        .bind(c.first_party as i64)
        .bind(&c.min_level)
        .bind(c.created_at)
        .bind(c.disabled_at)
        .bind(c.login_methods.as_deref().map(json_list))
        .bind(c.upstreams.as_deref().map(json_list))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn client_get(&self, id: &str) -> Result<Option<Client>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM clients WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn client_list(&self) -> Result<Vec<Client>> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM clients ORDER BY id"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// Removes a client and everything issued to it. Returns whether it existed.
    pub async fn client_delete(&self, id: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        for sql in [
            "DELETE FROM authorization_codes WHERE client_id = $1",
            "DELETE FROM refresh_tokens WHERE client_id = $1",
            "DELETE FROM access_tokens WHERE client_id = $1",
            "DELETE FROM grants WHERE client_id = $1",
            "DELETE FROM consents WHERE client_id = $1",
            "DELETE FROM client_assertion_jtis WHERE client_id = $1",
        ] {
            sqlx::query(sql).bind(id).execute(&mut *tx).await?;
        }
        let n = sqlx::query("DELETE FROM clients WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Sets which login methods and upstreams the client may offer (`None`: all).
    pub async fn client_set_methods(
        &self,
        id: &str,
        methods: Option<&[String]>,
        upstreams: Option<&[String]>,
    ) -> Result<bool> {
        let n = sqlx::query("UPDATE clients SET login_methods = $1, upstreams = $2 WHERE id = $3")
            .bind(methods.map(json_list))
            .bind(upstreams.map(json_list))
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    pub async fn client_set_min_level(&self, id: &str, level: Option<&str>) -> Result<bool> {
        let n = sqlx::query("UPDATE clients SET min_level = $1 WHERE id = $2")
            .bind(level)
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    /// Records a private_key_jwt assertion id; `false` if it was seen before (a replay).
    pub async fn client_assertion_jti_record(
        &self,
        client_id: &str,
        jti: &str,
        expires_at: i64,
    ) -> Result<bool> {
        let res = sqlx::query(
            "INSERT INTO client_assertion_jtis (client_id, jti, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (client_id, jti) DO NOTHING",
        )
        .bind(client_id)
        .bind(jti)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(res.rows_affected() == 1)
    }
}
