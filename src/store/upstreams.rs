//! Upstream identity sources as stored (the client secret encrypted with the KEK).

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::{any::AnyRow, Row};

use super::{Cell, Db, Result};
use crate::assurance::Level;

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Upstream {
    pub id: String,
    pub name: String,
    /// `servicekonto-nrw`, `eid` or `oidc`.
    pub profile: String,
    pub issuer: String,
    pub client_id: String,
    #[serde(skip)]
    pub client_secret: String,
    /// The admin's trust: the highest level a login through it can count at.
    #[schema(value_type = super::types::LevelName)]
    pub max_level: Level,
    /// Upstream acr value → Pforte level.
    #[schema(value_type = BTreeMap<String, super::types::LevelName>)]
    pub acr_map: BTreeMap<String, Level>,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
    /// Scopes to ask the upstream for; `None`: the profile's.
    pub scopes: Option<Vec<String>>,
    /// Upstream claim name → Pforte claim name; `None`: the profile's.
    pub claim_map: Option<BTreeMap<String, String>>,
    /// How Pforte authenticates at the upstream's token endpoint: `client_secret_basic`
    /// (`None`), `client_secret_post` or `private_key_jwt` (Pforte's own signing key).
    pub auth_method: Option<String>,
    /// Whether the userinfo endpoint is read after the token exchange.
    pub userinfo: bool,
    /// Whether RP-initiated logout at Pforte also ends the session at the upstream.
    pub end_session: bool,
}

const COLUMNS: &str = "id, name, profile, issuer, client_id, client_secret, max_level, acr_map, created_at, disabled_at, scopes, claim_map, auth_method, userinfo, end_session";

fn from_row(r: &AnyRow) -> Result<Upstream> {
    let id: String = r.try_get("id")?;
    let cell = |column| Cell {
        table: "upstreams",
        column,
        key: &id,
    };
    let max_level =
        cell("max_level").parse(&r.try_get::<String, _>("max_level")?, Level::parse_name)?;
    let map: BTreeMap<String, String> =
        cell("acr_map").json(&r.try_get::<String, _>("acr_map")?)?;
    let acr_map = map
        .into_iter()
        .map(|(acr, name)| Ok((acr, cell("acr_map").parse(&name, Level::parse_name)?)))
        .collect::<Result<_>>()?;
    Ok(Upstream {
        name: r.try_get("name")?,
        profile: r.try_get("profile")?,
        issuer: r.try_get("issuer")?,
        client_id: r.try_get("client_id")?,
        client_secret: r.try_get("client_secret")?,
        max_level,
        acr_map,
        created_at: r.try_get("created_at")?,
        disabled_at: r.try_get("disabled_at")?,
        scopes: r
            .try_get::<Option<String>, _>("scopes")?
            .map(|t| cell("scopes").json(&t))
            .transpose()?,
        claim_map: r
            .try_get::<Option<String>, _>("claim_map")?
            .map(|t| cell("claim_map").json(&t))
            .transpose()?,
        auth_method: r.try_get("auth_method")?,
        userinfo: r.try_get::<Option<i64>, _>("userinfo")?.unwrap_or(0) != 0,
        end_session: r.try_get::<Option<i64>, _>("end_session")?.unwrap_or(0) != 0,
        id,
    })
}

/// The stored form of an acr mapping: a JSON object of acr value → level name.
fn acr_map_json(map: &BTreeMap<String, Level>) -> String {
    let names: BTreeMap<&str, &str> = map.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    serde_json::to_string(&names).expect("a map of strings always serialises")
}

/// Binds an upstream's columns as `$1`…`$15` in [`COLUMNS`] order (insert and update).
fn bind_all<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    u: &'q Upstream,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    q.bind(&u.id)
        .bind(&u.name)
        .bind(&u.profile)
        .bind(&u.issuer)
        .bind(&u.client_id)
        .bind(&u.client_secret)
        .bind(u.max_level.as_str())
        .bind(acr_map_json(&u.acr_map))
        .bind(u.created_at)
        .bind(u.disabled_at)
        .bind(
            u.scopes
                .as_ref()
                .map(|v| serde_json::to_string(v).expect("strings serialise")),
        )
        .bind(
            u.claim_map
                .as_ref()
                .map(|m| serde_json::to_string(m).expect("strings serialise")),
        )
        .bind(&u.auth_method)
        .bind(u.userinfo as i64)
        .bind(u.end_session as i64)
}

impl Db {
    pub async fn upstream_insert(&self, u: &Upstream) -> Result<()> {
        let sql = format!(
            "INSERT INTO upstreams ({COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)"
        );
        bind_all(sqlx::query(&sql), u).execute(&self.pool).await?;
        Ok(())
    }

    /// Replaces every setting of a stored upstream but its id and creation time (the
    /// console's edit form). Returns whether it existed.
    pub async fn upstream_update(&self, u: &Upstream) -> Result<bool> {
        let sql = "UPDATE upstreams SET name = $2, profile = $3, issuer = $4, client_id = $5, \
            client_secret = $6, max_level = $7, acr_map = $8, disabled_at = $10, scopes = $11, \
            claim_map = $12, auth_method = $13, userinfo = $14, end_session = $15 \
            WHERE id = $1 AND created_at = $9";
        Ok(bind_all(sqlx::query(sql), u)
            .execute(&self.pool)
            .await?
            .rows_affected()
            > 0)
    }

    pub async fn upstream_get(&self, id: &str) -> Result<Option<Upstream>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM upstreams WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn upstream_list(&self) -> Result<Vec<Upstream>> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM upstreams ORDER BY id"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(from_row).collect()
    }

    pub async fn upstream_delete(&self, id: &str) -> Result<bool> {
        Ok(sqlx::query("DELETE FROM upstreams WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected()
            > 0)
    }

    pub async fn upstream_set_trust(
        &self,
        id: &str,
        max_level: Level,
        acr_map: &BTreeMap<String, Level>,
    ) -> Result<bool> {
        Ok(
            sqlx::query("UPDATE upstreams SET max_level = $1, acr_map = $2 WHERE id = $3")
                .bind(max_level.as_str())
                .bind(acr_map_json(acr_map))
                .bind(id)
                .execute(&self.pool)
                .await?
                .rows_affected()
                > 0,
        )
    }
}
