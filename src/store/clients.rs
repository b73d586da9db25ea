//! Relying parties (OpenID Connect clients) as stored.

use serde::Serialize;
use sqlx::{any::AnyRow, Row};

use super::{
    json_list,
    types::{Alg, AuthMethod, GrantType, LoginMethod, SubjectType},
    Cell, Db, Result,
};
use crate::assurance::{AcrVocabulary, Level};

/// Whether `id` is a well-formed client id: 1–128 letters, digits, `-`, `_`, `.` or `:`. The
/// one syntax rule for registration and for every `client_id` a request presents.
pub fn is_valid_client_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// A registered client. `secret_hash` is `None` for public clients (PKCE, no secret).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Client {
    pub id: String,
    pub name: String,
    #[serde(skip)]
    pub secret_hash: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<GrantType>,
    pub scopes: Vec<String>,
    pub token_endpoint_auth_method: AuthMethod,
    pub jwks: Option<String>,
    pub jwks_uri: Option<String>,
    pub id_token_signed_response_alg: Alg,
    #[schema(value_type = super::types::AcrVocabularyName)]
    pub acr_vocabulary: AcrVocabulary,
    pub first_party: bool,
    #[schema(value_type = Option<super::types::LevelName>)]
    pub min_level: Option<Level>,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
    /// Local login methods this client may offer; `None`: all.
    pub login_methods: Option<Vec<LoginMethod>>,
    /// Upstream identity sources this client may offer; `None`: all.
    pub upstreams: Option<Vec<String>>,
    /// A resource server named by the admin: may introspect every client's tokens.
    pub may_introspect: bool,
    /// A legacy confidential client allowed to omit PKCE (RFC 9700 §2.1.1 requires it of all
    /// others).
    pub pkce_optional: bool,
    /// May receive OpenID Connect for Identity Assurance `verified_claims` (the admin's
    /// choice; `oidc::verified_claims`).
    pub verified_claims: bool,
    /// Public or pairwise `sub` (OIDC Core §8).
    pub subject_type: SubjectType,
    /// For pairwise subjects: the sector (a host name) whose clients see the same `sub`.
    pub sector_identifier: Option<String>,
}

impl Client {
    pub fn is_public(&self) -> bool {
        self.token_endpoint_auth_method == AuthMethod::None
    }
    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }
    pub fn is_enabled(&self) -> bool {
        self.disabled_at.is_none()
    }
    /// Whether this client may offer a local login method (`password`, `totp`, `passkey`).
    pub fn offers_method(&self, method: &str) -> bool {
        self.login_methods
            .as_ref()
            .is_none_or(|m| m.iter().any(|x| x.as_str() == method))
    }

    /// Whether this client may offer the upstream source `id`: its login-method policy allows
    /// `upstream` and its upstream allow-list (if any) names `id`.
    pub fn offers_upstream(&self, id: &str) -> bool {
        self.offers_method("upstream")
            && self
                .upstreams
                .as_ref()
                .is_none_or(|l| l.iter().any(|x| x == id))
    }
}

const COLUMNS: &str = "id, name, secret_hash, redirect_uris, post_logout_redirect_uris, grant_types, scopes, \
    token_endpoint_auth_method, jwks, jwks_uri, id_token_signed_response_alg, acr_vocabulary, first_party, \
    min_level, created_at, disabled_at, login_methods, upstreams, may_introspect, pkce_optional, \
    verified_claims, subject_type, sector_identifier";

fn from_row(row: &AnyRow) -> Result<Client> {
    let id: String = row.try_get("id")?;
    let cell = |column| Cell {
        table: "clients",
        column,
        key: &id,
    };
    let text = |column| row.try_get::<String, _>(column);
    let opt_text = |column| row.try_get::<Option<String>, _>(column);
    Ok(Client {
        name: row.try_get("name")?,
        secret_hash: row.try_get("secret_hash")?,
        redirect_uris: cell("redirect_uris").json(&text("redirect_uris")?)?,
        post_logout_redirect_uris: cell("post_logout_redirect_uris")
            .json(&text("post_logout_redirect_uris")?)?,
        grant_types: cell("grant_types").list(&text("grant_types")?, GrantType::parse)?,
        scopes: cell("scopes").json(&text("scopes")?)?,
        token_endpoint_auth_method: cell("token_endpoint_auth_method")
            .parse(&text("token_endpoint_auth_method")?, AuthMethod::parse)?,
        jwks: row.try_get("jwks")?,
        jwks_uri: row.try_get("jwks_uri")?,
        id_token_signed_response_alg: cell("id_token_signed_response_alg")
            .parse(&text("id_token_signed_response_alg")?, Alg::parse)?,
        acr_vocabulary: cell("acr_vocabulary")
            .parse(&text("acr_vocabulary")?, AcrVocabulary::parse)?,
        first_party: row.try_get::<i64, _>("first_party")? != 0,
        min_level: opt_text("min_level")?
            .map(|l| cell("min_level").parse(&l, Level::parse_name))
            .transpose()?,
        created_at: row.try_get("created_at")?,
        disabled_at: row.try_get("disabled_at")?,
        login_methods: opt_text("login_methods")?
            .map(|t| cell("login_methods").list(&t, LoginMethod::parse))
            .transpose()?,
        upstreams: opt_text("upstreams")?
            .map(|t| cell("upstreams").json(&t))
            .transpose()?,
        may_introspect: row.try_get::<i64, _>("may_introspect")? != 0,
        pkce_optional: row.try_get::<i64, _>("pkce_optional")? != 0,
        verified_claims: row.try_get::<i64, _>("verified_claims")? != 0,
        subject_type: cell("subject_type").parse(&text("subject_type")?, SubjectType::parse)?,
        sector_identifier: row.try_get("sector_identifier")?,
        id,
    })
}

/// The placeholders of one row in [`COLUMNS`] order.
const VALUES: &str =
    "($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23)";

/// Binds a client's columns in [`COLUMNS`] order: the one list for insert and bulk upsert.
fn bind_client<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    c: &'q Client,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    q.bind(&c.id)
        .bind(&c.name)
        .bind(&c.secret_hash)
        .bind(json_list(&c.redirect_uris))
        .bind(json_list(&c.post_logout_redirect_uris))
        .bind(json_list(&c.grant_types))
        .bind(json_list(&c.scopes))
        .bind(c.token_endpoint_auth_method.as_str())
        .bind(&c.jwks)
        .bind(&c.jwks_uri)
        .bind(c.id_token_signed_response_alg.as_str())
        .bind(c.acr_vocabulary.as_str())
        .bind(c.first_party as i64)
        .bind(c.min_level.map(Level::as_str))
        .bind(c.created_at)
        .bind(c.disabled_at)
        .bind(c.login_methods.as_deref().map(json_list))
        .bind(c.upstreams.as_deref().map(json_list))
        .bind(c.may_introspect as i64)
        .bind(c.pkce_optional as i64)
        .bind(c.verified_claims as i64)
        .bind(c.subject_type.as_str())
        .bind(&c.sector_identifier)
}

impl Db {
    pub async fn client_insert(&self, c: &Client) -> Result<()> {
        bind_client(
            sqlx::query(&format!("INSERT INTO clients ({COLUMNS}) VALUES {VALUES}")),
            c,
        )
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
        methods: Option<&[LoginMethod]>,
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

    /// Allows or stops `verified_claims` for a client.
    pub async fn client_set_verified_claims(&self, id: &str, allowed: bool) -> Result<bool> {
        let n = sqlx::query("UPDATE clients SET verified_claims = $1 WHERE id = $2")
            .bind(allowed as i64)
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    pub async fn client_set_min_level(&self, id: &str, level: Option<Level>) -> Result<bool> {
        let n = sqlx::query("UPDATE clients SET min_level = $1 WHERE id = $2")
            .bind(level.map(Level::as_str))
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

impl Db {
    /// Inserts or replaces clients, all in one transaction (an import applies whole or not at
    /// all). An existing row keeps its creation time, disabled state, login methods and
    /// upstreams; everything else is replaced.
    pub async fn client_upsert_all(&self, clients: &[Client]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for c in clients {
            let sql = format!(
                "INSERT INTO clients ({COLUMNS}) VALUES {VALUES} \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, secret_hash = excluded.secret_hash, \
                 redirect_uris = excluded.redirect_uris, post_logout_redirect_uris = excluded.post_logout_redirect_uris, \
                 grant_types = excluded.grant_types, scopes = excluded.scopes, \
                 token_endpoint_auth_method = excluded.token_endpoint_auth_method, jwks = excluded.jwks, \
                 jwks_uri = excluded.jwks_uri, id_token_signed_response_alg = excluded.id_token_signed_response_alg, \
                 acr_vocabulary = excluded.acr_vocabulary, first_party = excluded.first_party, \
                 min_level = excluded.min_level, may_introspect = excluded.may_introspect, \
                 pkce_optional = excluded.pkce_optional, verified_claims = excluded.verified_claims, \
                 subject_type = excluded.subject_type, sector_identifier = excluded.sector_identifier"
            );
            bind_client(sqlx::query(&sql), c).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Disables (`Some(time)`) or enables (`None`) a client.
    pub async fn client_set_disabled(&self, id: &str, at: Option<i64>) -> Result<bool> {
        let n = sqlx::query("UPDATE clients SET disabled_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n > 0)
    }
}
